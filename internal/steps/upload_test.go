package steps

import (
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/storeflight/storeflight/internal/clock"
	"github.com/storeflight/storeflight/internal/config"
)

// slowLink advances the fake clock by perBlock for each Put Block before
// passing it on, as a slow link would take that long to carry it.
type slowLink struct {
	next     canonicalHeaders
	clk      *clock.Fake
	perBlock time.Duration
}

func (l slowLink) Do(req *http.Request) (*http.Response, error) {
	if req.URL.Query().Get("comp") == "block" {
		l.clk.Advance(l.perBlock)
	}
	return l.next.Do(req)
}

// bigPackage writes a demo package behind pad bytes of padding, which a
// ZIP reader skips (it reads from the end), so that its upload takes
// several blocks.
func (e *env) bigPackage(name, version string, pad int) config.Package {
	e.t.Helper()
	p := e.pkg(name, version)
	demo, err := os.ReadFile(p.Path)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(p.Path, append(make([]byte, pad), demo...), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// uploadOverLink runs the pipeline up to the commit with one package of about
// 10 MiB over a link that takes perBlock for each 1 MiB block, one at a
// time, and returns the log lines about the upload and the run's error.
func uploadOverLink(t *testing.T, perBlock time.Duration) ([]string, error) {
	e := newEnv(t, quickStages(), flightSeed(nil, nil))
	e.upOpts.Concurrency = 1
	cfg := baseConfig()
	cfg.Packages = []config.Package{e.bigPackage("app.msix", "1.0.1.0", 10<<20)}
	cfg.WaitFor = config.WaitNone
	_, err := Run(t.Context(), Deps{
		Config: cfg, Store: e.client, Reporter: e.rep, Clock: e.clk,
		Rand:            func() float64 { return 0.5 },
		UploadTransport: slowLink{next: canonicalHeaders{e.fake.HTTPClient()}, clk: e.clk, perBlock: perBlock},
		UploadOptions:   &e.upOpts,
	})
	var lines []string
	for _, l := range strings.Split(e.rep.text(), "\n") {
		if strings.HasPrefix(l, "info  upload") {
			lines = append(lines, l)
		}
	}
	return lines, err
}

// A long upload reports every few seconds (of the injected clock) how far
// it is, at what rate, and how long is left; every line stays under 120
// characters.
func TestUploadProgress(t *testing.T) {
	t.Parallel()
	lines, err := uploadOverLink(t, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"info  uploading 1 file, 10.0 MiB",
		"info  uploading: 29%, 3.0 MiB of 10.0 MiB, 0.5 MiB/s, about 14s left",
		"info  uploading: 59%, 6.0 MiB of 10.0 MiB, 0.5 MiB/s, about 8s left",
		"info  uploading: 89%, 9.0 MiB of 10.0 MiB, 0.5 MiB/s, about 2s left",
		"info  uploaded 1 file, 10.0 MiB in 22s (0.5 MiB/s)",
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("upload lines (-want +got):\n%s", diff)
	}
	for _, l := range lines {
		if len(l) >= 120 {
			t.Errorf("line of %d characters: %s", len(l), l)
		}
	}
}

// An upload URL whose SAS expires during the upload (the simulator's blob
// endpoint refuses it, as Azure does) fails the run with one line that
// names the request and the service's answer, says what a re-run does,
// and shows nothing of the signature.
func TestUploadExpiredURL(t *testing.T) {
	t.Parallel()
	_, err := uploadOverLink(t, 40*time.Minute)
	if err == nil {
		t.Fatal("upload with an expired URL succeeded")
	}
	msg := err.Error()
	t.Logf("error: %s", msg)
	for _, want := range []string{"Put Block: HTTP 403 AuthenticationFailed: ", "the SAS has expired", "a re-run reads the submission again"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q", want)
		}
	}
	// The step's failure is a headline with indented lines (DESIGN "HTTP
	// behaviour"); the blob host's answer is one of them, whole.
	if !regexp.MustCompile(`(?m)^  Put Block: HTTP 403 AuthenticationFailed: [^\n]*the SAS has expired$`).MatchString(msg) {
		t.Errorf("the blob host's answer is not one line of its own: %q", msg)
	}
	if strings.Contains(msg, "sig=") || strings.Contains(msg, "se=") {
		t.Errorf("error shows the SAS: %q", msg)
	}
}
