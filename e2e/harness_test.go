package e2e

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storeflight/storeflight/internal/auth/authtest"
	"github.com/storeflight/storeflight/internal/ci/citest"
	"github.com/storeflight/storeflight/internal/clock"
	"github.com/storeflight/storeflight/internal/fakecert"
	"github.com/storeflight/storeflight/internal/msix"
	"github.com/storeflight/storeflight/internal/storefake"
)

// Identities of the seeded world. The tenant and client exist in the fake
// Entra; any other is refused there, as real Entra would.
const (
	tenantID    = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	clientID    = "0a1b2c3d-4e5f-4061-8273-94a5b6c7d8e9"
	appID       = "9NBLGGH4R315"
	flightA     = "7bfc11d0-5b6e-4f3a-9d1c-2a9e3c4b5d6e"
	flightB     = "3e2d1c0b-aaaa-4bbb-8ccc-0d1e2f3a4b5c"
	publishedA  = "1152921504621243649"
	publishedB  = "1152921504621243777"
	oldPackage  = "Contoso.Notes_1.0.0.0_x64.msix"
	newPackage  = "Contoso.Notes_1.1.0.0_x64.msix"
	newVersion  = "1.1.0.0"
	storeScope  = "https://manage.devcenter.microsoft.com/.default"
	jwtBearer   = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	inspectMark = "e2e-inspect=1"
)

var (
	// binary is the storeflight executable TestMain builds.
	binary string
	// simTLS serves the simulator with a certificate signed by simCAPEM,
	// which the binary trusts only through the extra-root-certs input (or,
	// in one scenario, SSL_CERT_FILE).
	simTLS   *tls.Config
	simCAPEM []byte
)

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "storeflight-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if binary, err = buildBinary(dir); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	simTLS, simCAPEM, err = newSimTLS()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	return m.Run()
}

// buildBinary builds storeflight into dir, or returns the prebuilt binary
// named by $STOREFLIGHT_E2E_BINARY (a release build, or a Windows binary
// for a suite cross-compiled to run under Wine, where no go command is).
func buildBinary(dir string) (string, error) {
	if prebuilt := os.Getenv("STOREFLIGHT_E2E_BINARY"); prebuilt != "" {
		return filepath.Abs(prebuilt)
	}
	bin := filepath.Join(dir, "storeflight"+exeSuffix)
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("the go command is needed to build the binary: %w", err)
	}
	args := []string{"build", "-o", bin}
	if raceEnabled {
		// A race in the product under real network timing is a fault
		// this suite should find, so the binary gets the detector too.
		args = append(args, "-race")
	}
	build := exec.Command(goTool, append(args, "github.com/storeflight/storeflight")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("building storeflight: %w", err)
	}
	return bin, nil
}

// newSimTLS makes a CA and a server certificate for localhost, 127.0.0.1
// and ::1 signed by it, as a private-cloud Store endpoint would present.
func newSimTLS() (*tls.Config, []byte, error) {
	ca, err := fakecert.NewCA("storeflight e2e CA")
	if err != nil {
		return nil, nil, err
	}
	cfg, err := ca.ServerConfig()
	if err != nil {
		return nil, nil, err
	}
	return cfg, ca.PEM(), nil
}

// worldOptions configures a scenario's simulator and fake Entra.
type worldOptions struct {
	// FakeClock runs the simulator on a clock.Fake that only the test
	// moves, so statuses advance only on reads (zero Stages) or when the
	// test says so.
	FakeClock bool
	// FakeStart is where the fake clock starts; zero means now.
	FakeStart time.Time
	Stages    storefake.Stages
	SASTTL    time.Duration
	Entra     authtest.EntraOptions
	// TokenMargin makes the simulator refuse each access token this long
	// before it expires (MSAL's refresh margin, for the token-expiry test).
	TokenMargin time.Duration
	Seed        storefake.Seed

	// CloneWithoutRollout: see storefake.Options.
	CloneWithoutRollout bool
}

// world is one scenario's simulator, fake Entra and working directory.
type world struct {
	t      *testing.T
	sim    *storefake.Server
	clk    clock.Clock
	fake   *clock.Fake
	entra  *authtest.Entra
	apiURL string
	dir    string
	certs  string

	mu      sync.Mutex
	runs    int
	secrets []string        // secrets the test knows besides the fakes'
	sigs    map[string]bool // SAS signatures of every upload URL seen
}

func newWorld(t *testing.T, o worldOptions) *world {
	t.Helper()
	w := &world{t: t, dir: t.TempDir(), sigs: map[string]bool{}}
	w.clk = clock.Real{}
	if o.FakeClock {
		start := o.FakeStart
		if start.IsZero() {
			start = time.Now()
		}
		w.fake = clock.NewFake(start)
		w.clk = w.fake
	}
	sim, err := storefake.New(&storefake.Options{
		Clock:   w.clk,
		Stages:  o.Stages,
		SASTTL:  o.SASTTL,
		BlobDir: filepath.Join(w.dir, "blobs"),

		CloneWithoutRollout: o.CloneWithoutRollout,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	w.sim = sim
	if w.apiURL, err = sim.Listen("127.0.0.1:0", "127.0.0.1:0", simTLS); err != nil {
		t.Fatal(err)
	}
	// Listen first: seeded submissions get upload URLs on the listener.
	if err := sim.Seed(o.Seed); err != nil {
		t.Fatal(err)
	}
	eo := o.Entra
	if eo.Tenant == "" {
		eo.Tenant = tenantID
	}
	if eo.ClientID == "" {
		eo.ClientID = clientID
	}
	eo.OnIssue = func(tok string, exp time.Time) {
		// Entra's expiry is on the wall clock; the simulator checks it on
		// its own clock, which a test may have moved.
		sim.AcceptToken(tok, w.clk.Now().Add(time.Until(exp)-o.TokenMargin))
	}
	w.entra = authtest.NewEntra(t, eo)
	w.certs = filepath.Join(w.dir, "trust.pem")
	trust := append(append([]byte{}, w.entra.CertPEM()...), simCAPEM...)
	if err := os.WriteFile(w.certs, trust, 0o600); err != nil {
		t.Fatal(err)
	}
	sim.AcceptToken(inspectorToken, w.clk.Now().Add(1000*time.Hour))
	return w
}

// inspectorToken lets the test read submissions the way the binary does,
// to learn the SAS signatures it must never print.
const inspectorToken = "e2e-inspector-token-not-a-secret"

// seedFlight is flight A or B with a published submission carrying the
// old package, and an optional rollout in progress.
func seedFlight(id, name, published string, rollout *storefake.SeedRollout) storefake.SeedFlight {
	return storefake.SeedFlight{
		ID: id, Name: name,
		Published: &storefake.SeedSubmission{
			ID:       published,
			Packages: []storefake.SeedPackage{{FileName: oldPackage, Version: "1.0.0.0"}},
			Rollout:  rollout,
		},
	}
}

func seedApp(flights ...storefake.SeedFlight) storefake.Seed {
	return storefake.Seed{Apps: []storefake.SeedApp{{
		ID: appID, Name: "Contoso Notes",
		Published: &storefake.SeedSubmission{ID: "1152921504621240001",
			Packages: []storefake.SeedPackage{{FileName: oldPackage, Version: "1.0.0.0"}}},
		Flights: flights,
	}}}
}

// writePackage writes a demo MSIX of the given version into the world's
// directory and returns its base name.
func (w *world) writePackage(name, version string) string {
	return w.writeBigPackage(name, version, 0)
}

// writeBigPackage writes a demo MSIX with an extra stored entry of pad
// random bytes, so that its upload takes several blocks.
func (w *world) writeBigPackage(name, version string, pad int) string {
	w.t.Helper()
	var demo bytes.Buffer
	if err := msix.WriteDemoPackage(&demo, "Contoso.Notes", version); err != nil {
		w.t.Fatal(err)
	}
	data := demo.Bytes()
	if pad > 0 {
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			w.t.Fatal(err)
		}
		var out bytes.Buffer
		zw := zip.NewWriter(&out)
		for _, f := range zr.File {
			if err := zw.Copy(f); err != nil {
				w.t.Fatal(err)
			}
		}
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: "Assets/padding.bin", Method: zip.Store})
		if err != nil {
			w.t.Fatal(err)
		}
		if _, err := io.CopyN(fw, rand.Reader, int64(pad)); err != nil {
			w.t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			w.t.Fatal(err)
		}
		data = out.Bytes()
	}
	if err := os.WriteFile(filepath.Join(w.dir, name), data, 0o600); err != nil {
		w.t.Fatal(err)
	}
	return name
}

// baseInputs are the inputs every run against this world shares: where
// to sign in, where the Store is, and short polling.
func (w *world) baseInputs() map[string]string {
	return map[string]string{
		"tenant-id":         tenantID,
		"client-id":         clientID,
		"authority-host":    w.entra.URL(),
		"api-url":           w.apiURL,
		"application-id":    appID,
		"poll-interval":     "200ms",
		"max-poll-interval": "1s",
		"timeout":           "90s",
		// Polling every 200ms passes the default budget of 20 a minute,
		// and the limiter's wait would cost a minute per run; the
		// throttling scenario sets a budget and checks it.
		"request-budget": "0",
		// The one way to trust the fakes that works on every OS.
		"extra-root-certs": w.certs,
	}
}

// invocation is one run of the binary.
type invocation struct {
	// Inputs are passed as STOREFLIGHT_* variables, as the composite action
	// does; a value of "" leaves the base input out.
	Inputs map[string]string
	// NoBaseInputs starts from no inputs at all.
	NoBaseInputs bool
	Args         []string
	// Env adds or replaces variables of the runner environment; Unset
	// removes some.
	Env   map[string]string
	Unset []string
	// During, when set, runs while the process runs; it gets the process
	// and a channel closed when the process has exited.
	During func(p *os.Process, exited <-chan struct{})
}

// result is what a run left behind.
type result struct {
	Code           int
	Stdout, Stderr string
	Outputs        map[string]string // $GITHUB_OUTPUT
	Summary        string            // $GITHUB_STEP_SUMMARY
	OutputFile     string            // output-file, raw
	Started, Ended time.Time         // wall clock
	// Requests are the simulator's API and blob requests made during the
	// run (the test's own reads excluded).
	Requests []storefake.Request
}

// log is everything the run printed, for failure messages.
func (r result) log() string {
	return "--- stdout:\n" + r.Stdout + "\n--- stderr:\n" + r.Stderr
}

// run runs the binary the way a GitHub runner does and checks what every
// run must satisfy: no panic, and no secret anywhere it wrote.
func (w *world) run(ctx context.Context, inv invocation) result {
	w.t.Helper()
	return w.runT(w.t, ctx, inv)
}

// runT is run reporting to t, for subtests that share a world.
func (w *world) runT(t *testing.T, ctx context.Context, inv invocation) result {
	t.Helper()
	w.mu.Lock()
	w.runs++
	n := w.runs
	w.mu.Unlock()
	files := map[string]string{
		"GITHUB_OUTPUT":       filepath.Join(w.dir, fmt.Sprintf("github-output-%d", n)),
		"GITHUB_STEP_SUMMARY": filepath.Join(w.dir, fmt.Sprintf("github-summary-%d.md", n)),
	}
	for _, f := range files {
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	outFile := filepath.Join(w.dir, fmt.Sprintf("outputs-%d.json", n))

	env := map[string]string{
		"GITHUB_ACTIONS":                 "true",
		"CI":                             "true",
		"RUNNER_DEBUG":                   "1",
		"RUNNER_OS":                      runnerOS,
		"RUNNER_TEMP":                    w.dir,
		"GITHUB_WORKSPACE":               w.dir,
		"GITHUB_OUTPUT":                  files["GITHUB_OUTPUT"],
		"GITHUB_STEP_SUMMARY":            files["GITHUB_STEP_SUMMARY"],
		"ACTIONS_ID_TOKEN_REQUEST_URL":   w.entra.IDTokenURL(),
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": w.entra.IDTokenRequestToken(),
	}
	for _, k := range systemVariables {
		if v, ok := os.LookupEnv(k); ok && v != "" {
			env[k] = v
		}
	}
	inputs := map[string]string{}
	if !inv.NoBaseInputs {
		inputs = w.baseInputs()
		inputs["output-file"] = outFile
	}
	for k, v := range inv.Inputs {
		if v == "" {
			delete(inputs, k)
			continue
		}
		inputs[k] = v
	}
	for k, v := range inputs {
		env["STOREFLIGHT_"+strings.ToUpper(strings.ReplaceAll(k, "-", "_"))] = v
	}
	for k, v := range inv.Env {
		env[k] = v
	}
	for _, k := range inv.Unset {
		delete(env, k)
	}

	cmd := exec.CommandContext(ctx, binary, inv.Args...)
	prepareCommand(cmd)
	cmd.Dir = w.dir
	cmd.Env = nil
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	slices.Sort(cmd.Env)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second

	before := len(w.sim.Requests())
	res := result{Started: time.Now()}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var during sync.WaitGroup
	if inv.During != nil {
		during.Go(func() { inv.During(cmd.Process, exited) })
	}
	err := cmd.Wait()
	res.Ended = time.Now()
	close(exited)
	during.Wait()
	res.Code = cmd.ProcessState.ExitCode()
	if err != nil && res.Code < 0 {
		t.Fatalf("storeflight did not exit normally: %v\n%s", err, stdout.String()+stderr.String())
	}
	res.Stdout, res.Stderr = stdout.String(), stderr.String()
	res.Requests = ownRequests(w.sim.Requests()[before:])
	res.Summary = readFile(t, files["GITHUB_STEP_SUMMARY"])
	rawOutputs := readFile(t, files["GITHUB_OUTPUT"])
	res.Outputs = parseGitHubOutput(t, rawOutputs)
	res.OutputFile = readFile(t, outFile)

	w.collectSignatures()
	w.checkNoPanic(t, res)
	w.checkNoSecrets(t, map[string]string{
		"stdout":              res.Stdout,
		"stderr":              res.Stderr,
		"GITHUB_OUTPUT":       rawOutputs,
		"GITHUB_STEP_SUMMARY": res.Summary,
		"output-file":         res.OutputFile,
	})
	return res
}

// ownRequests drops the test's own inspection reads.
func ownRequests(reqs []storefake.Request) []storefake.Request {
	return slices.DeleteFunc(slices.Clone(reqs), func(r storefake.Request) bool {
		return strings.Contains(r.RawQuery, inspectMark)
	})
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// parseGitHubOutput reads a $GITHUB_OUTPUT file as the runner does:
// name=value lines and name<<DELIMITER heredocs.
func parseGitHubOutput(t *testing.T, s string) map[string]string {
	t.Helper()
	out, _, err := citest.ParseGitHubFile(s)
	if err != nil {
		t.Errorf("GITHUB_OUTPUT: %v", err)
	}
	return out
}

// collectSignatures reads every submission of the seeded flights and
// app the way the binary does and remembers the SAS signature of its
// fileUploadUrl. (Requests() redacts sig, so the test must ask.)
func (w *world) collectSignatures() {
	app, ok := w.sim.App(appID)
	if !ok {
		return
	}
	type target struct{ flight, id string }
	var targets []target
	for _, id := range []string{app.PendingID, app.PublishedID} {
		targets = append(targets, target{"", id})
	}
	for _, f := range []string{flightA, flightB} {
		if fs, ok := w.sim.Flight(appID, f); ok {
			targets = append(targets, target{f, fs.PendingID}, target{f, fs.PublishedID})
		}
	}
	client := w.sim.HTTPClient()
	for _, tg := range targets {
		if tg.id == "" {
			continue
		}
		p := "/v1.0/my/applications/" + appID + "/submissions/" + tg.id
		if tg.flight != "" {
			p = "/v1.0/my/applications/" + appID + "/flights/" + tg.flight + "/submissions/" + tg.id
		}
		req, err := http.NewRequest(http.MethodGet, w.apiURL+p+"?"+inspectMark, nil)
		if err != nil {
			w.t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+inspectorToken)
		resp, err := client.Do(req)
		if err != nil {
			continue // an injected fault may answer the test too
		}
		var sub struct {
			FileUploadURL string `json:"fileUploadUrl"`
		}
		err = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&sub)
		resp.Body.Close()
		if err != nil || sub.FileUploadURL == "" {
			continue
		}
		if sig := sasSignature(sub.FileUploadURL); sig != "" {
			w.mu.Lock()
			w.sigs[sig] = true
			w.mu.Unlock()
		}
	}
}

// sasSignature returns the decoded sig of a SAS URL, keeping a raw '+'
// (a query decoder would turn it into a space).
func sasSignature(u string) string {
	_, q, _ := strings.Cut(u, "?")
	for kv := range strings.SplitSeq(q, "&") {
		if v, ok := strings.CutPrefix(kv, "sig="); ok {
			s, err := url.PathUnescape(v)
			if err != nil {
				return v
			}
			return s
		}
	}
	return ""
}

// addSecret makes the scan look for s too (a client secret, a wrong one).
func (w *world) addSecret(s string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.secrets = append(w.secrets, s)
}

// needles returns every form in which a secret could show: the value, and
// for a JWT its signature, and for a SAS signature its encodings and the
// part after the '+' that every simulator signature carries (so that %2B,
// a space or a raw '+' all match).
func (w *world) needles() map[string]string {
	return w.needlesFrom(append(w.entra.Secrets(), w.knownSecrets()...))
}

func (w *world) knownSecrets() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.secrets)
}

func (w *world) needlesFrom(credentials []string) map[string]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[string]string{}
	add := func(kind, s string) {
		if len(s) >= 12 {
			out[s] = kind
		}
	}
	for _, s := range credentials {
		add("credential", s)
		if parts := strings.Split(s, "."); len(parts) == 3 {
			add("token signature", parts[2])
		}
	}
	for sig := range w.sigs {
		add("SAS signature", sig)
		add("SAS signature", url.QueryEscape(sig))
		if _, tail, ok := strings.Cut(sig, "+"); ok {
			add("SAS signature", strings.TrimRight(tail, "="))
		}
	}
	return out
}

// checkNoSecrets fails the test if any secret shows in any of texts,
// except in the ::add-mask:: commands that hide it in the runner's log.
func (w *world) checkNoSecrets(t *testing.T, texts map[string]string) {
	t.Helper()
	needles := w.needles()
	if len(needles) == 0 {
		t.Error("secret scan: no secrets known, so the scan proves nothing")
	}
	for _, leak := range findSecrets(needles, texts) {
		t.Error("secret scan: " + leak)
	}
}

// findSecrets describes each line of texts that shows one of needles
// (secret to kind), with the secret itself replaced.
func findSecrets(needles, texts map[string]string) []string {
	var leaks []string
	for where, text := range texts {
		for line := range strings.Lines(text) {
			if strings.HasPrefix(line, "::add-mask::") {
				continue
			}
			for needle, kind := range needles {
				if strings.Contains(line, needle) {
					leaks = append(leaks, fmt.Sprintf("a %s shows unmasked in %s: %q", kind, where, redactLine(line, needle)))
				}
			}
		}
	}
	return leaks
}

func redactLine(line, secret string) string {
	return strings.ReplaceAll(strings.TrimSpace(line), secret, "<SECRET>")
}

// checkNoPanic fails on a Go panic or a runtime crash in the output.
func (w *world) checkNoPanic(t *testing.T, r result) {
	t.Helper()
	for _, bad := range []string{"panic:", "goroutine ", "fatal error:", "WARNING: DATA RACE"} {
		if strings.Contains(r.Stderr, bad) || strings.Contains(r.Stdout, bad) {
			t.Errorf("storeflight crashed (%q in its output):\n%s", bad, r.log())
		}
	}
}

// apiRequests keeps the API requests (not blob) whose path contains sub.
func apiRequests(reqs []storefake.Request, method, pathSuffix string) []storefake.Request {
	var out []storefake.Request
	for _, r := range reqs {
		if strings.HasPrefix(r.Path, "/ingestion/") {
			continue
		}
		if method != "" && r.Method != method {
			continue
		}
		if pathSuffix != "" && !strings.HasSuffix(r.Path, pathSuffix) {
			continue
		}
		out = append(out, r)
	}
	return out
}

// applied counts the requests of a kind that the simulator handled (not
// answered by an injected fault), whether or not their answer was lost.
func applied(reqs []storefake.Request, method, pathSuffix string) int {
	n := 0
	for _, r := range apiRequests(reqs, method, pathSuffix) {
		ok := r.Status >= 200 && r.Status < 300
		// An injected fault answers without handling, except a lost
		// answer, which the simulator handled before dropping it.
		if ok && (!r.Injected || r.Lost) {
			n++
		}
	}
	return n
}

// createPath is the suffix of a flight's create request.
func createPath(flight string) string { return "/flights/" + flight + "/submissions" }

// describeRequests prints a request log for failure messages.
func describeRequests(reqs []storefake.Request) string {
	var b strings.Builder
	for _, r := range reqs {
		fmt.Fprintf(&b, "  %s %s %s?%s -> %d", r.At.Format("15:04:05.000"), r.Method, r.Path, r.RawQuery, r.Status)
		if r.Injected {
			b.WriteString(" injected")
		}
		if r.Lost {
			b.WriteString(" lost")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// checkNo401 fails if the simulator refused a token during the run: a
// token the binary sent after it expired, or one Entra never issued.
func checkNo401(t *testing.T, reqs []storefake.Request) {
	t.Helper()
	for _, r := range reqs {
		if r.Status == http.StatusUnauthorized && !r.Injected {
			t.Errorf("the Store refused a token: %s %s -> 401", r.Method, r.Path)
		}
	}
}

// queryValue returns the first value of key in a raw query.
func queryValue(rawQuery, key string) string {
	v, err := url.ParseQuery(rawQuery)
	if err != nil {
		return ""
	}
	return v.Get(key)
}
