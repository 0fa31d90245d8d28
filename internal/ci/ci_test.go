package ci

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/storeflight/storeflight/internal/ci/citest"
	"github.com/storeflight/storeflight/internal/clock"
)

// env is a test environment for one platform, with its files in a temp dir.
type env struct {
	vars    map[string]string
	dir     string
	out     bytes.Buffer
	opts    Options
	gh, sum string
}

func newEnv(t *testing.T, platform string) *env {
	t.Helper()
	e := &env{vars: map[string]string{}, dir: t.TempDir()}
	e.opts = Options{Debug: true, Clock: clock.NewFake(time.Unix(1700000000, 0)), TempDir: e.dir,
		OutputFile: filepath.Join(e.dir, "outputs.json")}
	switch platform {
	case PlatformGitHub:
		e.gh, e.sum = filepath.Join(e.dir, "github_output"), filepath.Join(e.dir, "step_summary")
		e.vars["GITHUB_ACTIONS"], e.vars["GITHUB_OUTPUT"], e.vars["GITHUB_STEP_SUMMARY"] = "true", e.gh, e.sum
	case PlatformAzurePipelines:
		e.vars["TF_BUILD"] = "True"
	case PlatformGitLab:
		e.vars["GITLAB_CI"] = "true"
		e.opts.OutputFile = filepath.Join(e.dir, "storeflight.env")
	}
	return e
}

func (e *env) getenv(k string) string { return e.vars[k] }

func (e *env) detect() Reporter { return Detect(e.getenv, &e.out, e.opts) }

// everything returns the log and every file the reporter wrote.
func (e *env) everything(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(e.out.String())
	entries, err := os.ReadDir(e.dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range entries {
		data, err := os.ReadFile(filepath.Join(e.dir, de.Name()))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "\n--- %s\n%s", de.Name(), data)
	}
	return b.String()
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestDetect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		vars map[string]string
		want string
	}{
		{"github", map[string]string{"GITHUB_ACTIONS": "true"}, PlatformGitHub},
		{"azure", map[string]string{"TF_BUILD": "True"}, PlatformAzurePipelines},
		{"gitlab", map[string]string{"GITLAB_CI": "true"}, PlatformGitLab},
		{"plain", map[string]string{"CI": "true"}, PlatformPlain},
		{"github wins over a GitLab-looking env", map[string]string{"GITHUB_ACTIONS": "true", "GITLAB_CI": "true"}, PlatformGitHub},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := Detect(func(k string) string { return tt.vars[k] }, &bytes.Buffer{}, Options{})
			if got := PlatformOf(r); got != tt.want {
				t.Errorf("PlatformOf = %q, want %q", got, tt.want)
			}
		})
	}
	r := Detect(func(k string) string { return map[string]string{"GITLAB_CI": "true"}[k] }, &bytes.Buffer{}, Options{})
	if got := r.(*reporter).outputFile; got != DefaultGitLabOutputFile {
		t.Errorf("GitLab output file = %q, want %q", got, DefaultGitLabOutputFile)
	}
}

func TestGitHubOutputs(t *testing.T) {
	t.Parallel()
	e := newEnv(t, PlatformGitHub)
	r := e.detect()
	want := map[string]string{
		"submission-id":  "1152921505699999999",
		"result":         "{\"a\": 1,\n \"b\": \"two\"}\n",
		"sneaky":         "x\nghadelimiter_x\ninjected<<EOF\npwned\nEOF",
		"empty":          "",
		"finalized":      "false",
		"crlf-is-joined": "a\nb",
	}
	for _, name := range []string{"submission-id", "result", "sneaky", "empty", "finalized"} {
		if err := r.SetOutput(name, want[name]); err != nil {
			t.Fatalf("SetOutput(%s): %v", name, err)
		}
	}
	want["cr-is-a-break"] = "a\nb"
	if err := r.SetOutput("cr-is-a-break", "a\rb"); err != nil {
		t.Fatal(err)
	}
	if err := r.SetOutput("crlf-is-joined", "a\r\nb"); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "1st", "-x", "a b", "a=b", "a<<b", "ünï"} {
		if err := r.SetOutput(bad, "v"); !errors.Is(err, ErrOutputName) {
			t.Errorf("SetOutput(%q) = %v, want ErrOutputName", bad, err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	got, _, err := citest.ParseGitHubFile(readFile(t, e.gh))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("outputs read back (-want +got):\n%s", diff)
	}
	var js map[string]string
	if err := json.Unmarshal([]byte(readFile(t, e.opts.OutputFile)), &js); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, js); diff != "" {
		t.Errorf("output-file (-want +got):\n%s", diff)
	}
}

func TestWriteGitHubOutputRejects(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	for _, v := range []string{"a\r\nb", "a\r", "a\rb"} {
		if err := writeGitHubOutput(&b, "x", v); !errors.Is(err, ErrOutputValue) {
			t.Errorf("writeGitHubOutput(%q) = %v, want ErrOutputValue", v, err)
		}
	}
	if b.Len() != 0 {
		t.Errorf("rejected values were written: %q", b.String())
	}
	// Each write has its own delimiter.
	_ = writeGitHubOutput(&b, "a", "1")
	_ = writeGitHubOutput(&b, "b", "2")
	lines := strings.Split(b.String(), "\n")
	if lines[0][len("a<<"):] == lines[3][len("b<<"):] {
		t.Errorf("two writes share delimiter %s", lines[0])
	}
}

func TestGitHubCommands(t *testing.T) {
	t.Parallel()
	e := newEnv(t, PlatformGitHub)
	r := e.detect()
	end := r.Group("Upload")
	r.Infof("uploading %d files", 2)
	r.Debugf("PUT %s -> %d", "/v1.0/my/x", 200)
	end()
	end() // a second end does nothing
	r.Error("Commit failed", "InvalidArchive: the ZIP is bad\nsecond line 100%")
	r.Warning("", "plain warning")
	r.Notice("Release", "waiting: a, b")
	r.Infof("::add-mask::not-a-command")
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"::group::Upload",
		"uploading 2 files",
		"::debug::PUT /v1.0/my/x -> 200",
		"::endgroup::",
		"::error title=Commit failed::InvalidArchive: the ZIP is bad%0Asecond line 100%25",
		"::warning::plain warning",
		"::notice title=Release::waiting: a, b",
		":\u200b:add-mask::not-a-command",
		"",
	}, "\n")
	if diff := cmp.Diff(want, e.out.String()); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
}

func TestDebugOff(t *testing.T) {
	t.Parallel()
	for _, p := range []string{PlatformGitHub, PlatformAzurePipelines, PlatformGitLab, PlatformPlain} {
		e := newEnv(t, p)
		e.opts.Debug = false
		r := e.detect()
		r.Debugf("hidden %s", "detail")
		_ = r.Close()
		if strings.Contains(e.out.String(), "hidden") {
			t.Errorf("%s: Debugf printed with debug off: %q", p, e.out.String())
		}
	}
}

func TestGitHubWithoutOutputFileDoesNotPanic(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	r := Detect(func(k string) string { return map[string]string{"GITHUB_ACTIONS": "true"}[k] }, &out, Options{})
	if err := r.SetOutput("submission-id", "42"); err != nil {
		t.Fatal(err)
	}
	if err := r.Summary("# Summary"); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"submission-id=42", "# Summary"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("log lacks %q:\n%s", w, out.String())
		}
	}
}

func TestGitHubSummaryLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, PlatformGitHub)
	if err := os.WriteFile(e.sum, bytes.Repeat([]byte("x"), summaryLimit-1000), 0o644); err != nil {
		t.Fatal(err)
	}
	r := e.detect()
	if err := r.Summary("## small"); err != nil {
		t.Fatal(err)
	}
	if err := r.Summary(strings.Repeat("| row | é |\n", 500)); err != nil {
		t.Fatal(err)
	}
	if err := r.Summary("## after the cut"); err != nil {
		t.Fatal(err)
	}
	_ = r.Close()
	got := readFile(t, e.sum)
	if len(got) > summaryLimit {
		t.Errorf("summary is %d bytes, over %d", len(got), summaryLimit)
	}
	if !strings.Contains(got, "## small") || !strings.HasSuffix(got, summaryTruncated) || strings.Contains(got, "after the cut") {
		t.Errorf("summary not cut as expected; ends %q", got[len(got)-300:])
	}
	if !strings.Contains(e.out.String(), "::warning title=Job summary::") {
		t.Errorf("no warning about the cut in the log:\n%s", e.out.String())
	}
}

func TestAzure(t *testing.T) {
	t.Parallel()
	e := newEnv(t, PlatformAzurePipelines)
	r := e.detect()
	end := r.Group("Commit")
	r.Debugf("two\nlines")
	end()
	if err := r.SetOutput("submission-id", "100%;a]b\r\nc"); err != nil {
		t.Fatal(err)
	}
	r.Error("Store", "CommitFailed; see ]details[\nnext")
	r.Warning("", "slow")
	r.Notice("", "waiting")
	r.Infof("text with ##vso[task.setvariable variable=X]y inside")
	if err := r.Summary("# Published"); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	log := e.out.String()
	i := strings.Index(log, "##vso[task.uploadsummary]")
	if i < 0 {
		t.Fatalf("no uploadsummary in:\n%s", log)
	}
	path := strings.TrimSuffix(log[i+len("##vso[task.uploadsummary]"):], "\n")
	if got := readFile(t, path); got != "# Published\n" {
		t.Errorf("summary file = %q", got)
	}
	want := strings.Join([]string{
		"##[group]Commit",
		"##[debug]two",
		"##[debug]lines",
		"##[endgroup]",
		"##vso[task.setvariable variable=STOREFLIGHT_OUT_SUBMISSION_ID;isoutput=true]100%AZP25%3Ba%5Db%0Ac",
		"##vso[task.logissue type=error]Store: CommitFailed%3B see %5Ddetails[%0Anext",
		"##vso[task.logissue type=warning]slow",
		"Notice: waiting",
		"text with ##\u200bvso[task.setvariable variable=X]y inside",
		"##vso[task.uploadsummary]" + path,
		"",
	}, "\n")
	if diff := cmp.Diff(want, log); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
}

func TestGitLab(t *testing.T) {
	t.Parallel()
	e := newEnv(t, PlatformGitLab)
	r := e.detect()
	end := r.Group("Wait for certification")
	r.Infof("status: Certification")
	end()
	r.Error("Store", "CertificationFailed")
	r.Warning("", "two\nlines")
	for name, v := range map[string]string{"submission-id": "1152921505699999999", "multi": "a\nb"} {
		if err := r.SetOutput(name, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.SetOutput("result", `{"big":"`+strings.Repeat("z", dotenvLimit)+`"}`); err != nil {
		t.Fatal(err)
	}
	if err := r.Summary("# Summary"); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	log := e.out.String()
	for _, w := range []string{
		"\x1b[0Ksection_start:1700000000:storeflight_1_wait_for_certification[collapsed=true]\r\x1b[0KWait for certification\nstatus: Certification\n\x1b[0Ksection_end:1700000000:storeflight_1_wait_for_certification\r\x1b[0K\n",
		"error: Store: CertificationFailed\n",
		"warning: two\n         lines\n",
		"# Summary\n",
		"warning: output-file: output multi has several lines",
		"warning: output-file: output result (5130 bytes) would take ",
	} {
		if !strings.Contains(log, w) {
			t.Errorf("log lacks %q:\n%q", w, log)
		}
	}
	if got, want := readFile(t, e.opts.OutputFile), "STOREFLIGHT_OUT_SUBMISSION_ID=1152921505699999999\n"+
		`STOREFLIGHT_OUT_RESULT={"big":"`+strings.Repeat("z", shortText)+`…","shortened":"true"}`+"\n"; got != want {
		t.Errorf("dotenv = %q, want %q", got, want)
	}
}

func TestPlain(t *testing.T) {
	t.Parallel()
	e := newEnv(t, PlatformPlain)
	e.opts.OutputFile = filepath.Join(e.dir, "out.ENV")
	r := e.detect()
	end := r.Group("Resolve")
	end()
	r.Error("", "failed")
	_ = r.SetOutput("flight-id", "f1")
	_ = r.SetOutput("flight-id", "f2") // the last value wins
	_ = r.SetOutput("rollout-status", "InProgress")
	_ = r.SetOutput("notes", "a\nb")
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	want := "== Resolve ==\nerror: failed\n== outputs ==\nflight-id=f2\nrollout-status=InProgress\nnotes=\"a\\nb\"\n" +
		"warning: output-file: output notes has several lines, which a dotenv file cannot hold; it is left out of " + e.opts.OutputFile + "\n"
	if diff := cmp.Diff(want, e.out.String()); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
	if got, want := readFile(t, e.opts.OutputFile), "STOREFLIGHT_OUT_FLIGHT_ID=f2\nSTOREFLIGHT_OUT_ROLLOUT_STATUS=InProgress\n"; got != want {
		t.Errorf("dotenv = %q, want %q", got, want)
	}
}

// TestMaskingEverywhere proves that a masked secret, and each line of a
// multi-line one, appears nowhere but in the platform's own masking
// command, whatever method carries it.
func TestMaskingEverywhere(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t-TOKEN-value"
	const multi = "-----BEGIN KEY-----\nline-one-of-the-key\nline-two-of-the-key\n-----END KEY-----"
	for _, p := range []string{PlatformGitHub, PlatformAzurePipelines, PlatformGitLab, PlatformPlain} {
		t.Run(p, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, p)
			r := e.detect()
			r.Mask(secret)
			r.Mask(multi)
			end := r.Group("group " + secret)
			r.Infof("token is %s", secret)
			r.Infof("key line %s", "line-two-of-the-key")
			r.Debugf("debug %s", secret)
			end()
			r.Error("title "+secret, "error "+secret)
			r.Warning("", "warning line-one-of-the-key")
			r.Notice("", "notice "+secret)
			if err := r.SetOutput("result", `{"token":"`+secret+`"}`); err != nil {
				t.Fatal(err)
			}
			if err := r.Summary("| secret | " + secret + " |"); err != nil {
				t.Fatal(err)
			}
			r.Infof("sas https://acct.blob.core.windows.net/c/b?sv=1&sig=unmaskedSig")
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			all := e.everything(t)
			if strings.Count(all, Mask) < 5 {
				t.Errorf("too few %s markers: secrets may have been dropped rather than masked:\n%s", Mask, all)
			}
			for line := range strings.SplitSeq(all, "\n") {
				if strings.HasPrefix(line, "::add-mask::") || strings.HasPrefix(line, "##vso[task.setsecret]") {
					continue
				}
				for _, s := range []string{secret, "line-one-of-the-key", "line-two-of-the-key", "unmaskedSig"} {
					if strings.Contains(line, s) {
						t.Errorf("%q leaked in line %q", s, line)
					}
				}
			}
			switch p {
			case PlatformGitHub:
				for _, w := range []string{"::add-mask::" + secret, "::add-mask::line-one-of-the-key", "::add-mask::-----BEGIN KEY-----%0Aline-one"} {
					if !strings.Contains(all, w) {
						t.Errorf("log lacks %q", w)
					}
				}
			case PlatformAzurePipelines:
				if !strings.Contains(all, "##vso[task.setsecret]"+secret) || !strings.Contains(all, "##vso[task.setsecret]line-two-of-the-key") {
					t.Errorf("log lacks task.setsecret lines:\n%s", all)
				}
			default:
				if strings.Contains(all, "add-mask") || strings.Contains(all, "setsecret") {
					t.Errorf("%s printed a masking command", p)
				}
			}
		})
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestBrokenLogDoesNotPanic(t *testing.T) {
	t.Parallel()
	for _, p := range []string{PlatformGitHub, PlatformAzurePipelines, PlatformGitLab, PlatformPlain} {
		e := newEnv(t, p)
		r := Detect(e.getenv, failingWriter{}, e.opts)
		r.Mask("secret-value")
		r.Group("g")()
		r.Error("t", "m")
		r.Infof("x")
		r.Debugf("y")
		if err := r.Close(); err == nil || !strings.Contains(err.Error(), "broken pipe") {
			t.Errorf("%s: Close = %v, want the write error", p, err)
		}
		if err := r.Close(); err != nil {
			t.Errorf("%s: second Close = %v", p, err)
		}
	}
}

func TestNestedGroupsAreFlattened(t *testing.T) {
	t.Parallel()
	e := newEnv(t, PlatformGitHub)
	r := e.detect()
	endA := r.Group("A")
	endB := r.Group("B")
	endA() // A was already ended by B
	endB()
	r.Group("C")
	_ = r.Close()
	want := "::group::A\n::endgroup::\n::group::B\n::endgroup::\n::group::C\n::endgroup::\n"
	if diff := cmp.Diff(want, e.out.String()); diff != "" {
		t.Errorf("log (-want +got):\n%s", diff)
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	e := newEnv(t, PlatformGitHub)
	r := e.detect()
	done := make(chan struct{})
	for i := range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			r.Mask(fmt.Sprintf("secret-%d", i))
			r.Infof("line %d secret-%d", i, i)
			_ = r.SetOutput(fmt.Sprintf("o%d", i), "v")
		}()
	}
	for range 8 {
		<-done
	}
	_ = r.Close()
	got, _, err := citest.ParseGitHubFile(readFile(t, e.gh))
	if err != nil || len(got) != 8 {
		t.Errorf("outputs = %v, %v; want 8", got, err)
	}
}

func FuzzGitHubOutputRoundTrip(f *testing.F) {
	f.Add("submission-id", "1152921505699999999")
	f.Add("result", "{\"a\":\n1}\n")
	f.Add("x", "a\nghadelimiter_x\ninjected<<EOF\npwned\nEOF")
	f.Add("<", "")
	f.Add("a", "\r")
	f.Fuzz(func(t *testing.T, name, value string) {
		var b bytes.Buffer
		if err := writeGitHubOutput(&b, name, value); err != nil {
			if b.Len() != 0 {
				t.Fatalf("rejected output wrote %q", b.String())
			}
			return
		}
		got, _, err := citest.ParseGitHubFile(b.String())
		if err != nil {
			t.Fatalf("parse %q: %v", b.String(), err)
		}
		if diff := cmp.Diff(map[string]string{name: value}, got); diff != "" {
			t.Fatalf("round trip of %q=%q (-want +got):\n%s", name, value, diff)
		}
	})
}

// TestDotenvShortensLargeJSON: health and result past GitLab's 5 KB are
// shortened to valid JSON that keeps their figures, with a warning, and
// every other output stays.
func TestDotenvShortensLargeJSON(t *testing.T) {
	t.Parallel()
	series := make([]float64, 120)
	for i := range series {
		series[i] = 0.00123456789 * float64(i)
	}
	side := func(f, n int) map[string]any {
		return map[string]any{"failures": f, "devices": n, "rate": float64(f) / float64(n), "daily": series}
	}
	health, err := json.Marshal(map[string]any{
		"decision": "hold",
		"reason":   strings.Repeat("fewer failures expected on the new side than health-min-failures; ", 3),
		"window":   map[string]any{"from": "2026-03-01", "to": "2026-03-10", "days": 10},
		"crash":    map[string]any{"new": side(12, 3400), "old": side(40, 20000), "ratio": 1.76, "p": 0.0412, "excess": 5.2},
		"hang":     map[string]any{"new": side(3, 3400), "old": side(9, 20000), "ratio": 1.96, "p": 0.21, "excess": 1.5},
	})
	if err != nil {
		t.Fatal(err)
	}
	result, err := json.Marshal(map[string]string{"submission-id": "1152921505699999999", "rollout-decision": "hold", "health": string(health)})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, PlatformGitLab)
	r := e.detect()
	for _, o := range [][2]string{{"submission-id", "1152921505699999999"}, {"rollout-decision", "hold"}, {"health", string(health)}, {"result", string(result)}} {
		if err := r.SetOutput(o[0], o[1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	file := readFile(t, e.opts.OutputFile)
	if len(file) > dotenvLimit {
		t.Errorf("dotenv is %d bytes, over GitLab's %d", len(file), dotenvLimit)
	}
	vars := map[string]string{}
	for line := range strings.Lines(file) {
		k, v, _ := strings.Cut(strings.TrimSuffix(line, "\n"), "=")
		vars[k] = v
	}
	if vars["STOREFLIGHT_OUT_SUBMISSION_ID"] != "1152921505699999999" || vars["STOREFLIGHT_OUT_ROLLOUT_DECISION"] != "hold" {
		t.Errorf("small outputs lost: %v", vars)
	}
	var h struct {
		Shortened string
		Crash     struct {
			New struct{ Failures, Devices int }
			P   float64
		}
		Window struct{ Days int }
	}
	if err := json.Unmarshal([]byte(vars["STOREFLIGHT_OUT_HEALTH"]), &h); err != nil {
		t.Fatalf("shortened health is not JSON: %v\n%s", err, vars["STOREFLIGHT_OUT_HEALTH"])
	}
	if h.Shortened != "true" || h.Crash.New.Failures != 12 || h.Crash.New.Devices != 3400 || h.Crash.P != 0.0412 || h.Window.Days != 10 {
		t.Errorf("shortened health lost its key figures: %s", vars["STOREFLIGHT_OUT_HEALTH"])
	}
	var res map[string]string
	if err := json.Unmarshal([]byte(vars["STOREFLIGHT_OUT_RESULT"]), &res); err != nil {
		t.Fatalf("shortened result is not a JSON object of strings: %v\n%s\n%s", err, file, e.out.String())
	}
	if res["submission-id"] != "1152921505699999999" || !json.Valid([]byte(res["health"])) {
		t.Errorf("shortened result: %v", res)
	}
	log := e.out.String()
	for _, name := range []string{"health", "result"} {
		if !strings.Contains(log, "warning: output-file: output "+name+" (") {
			t.Errorf("no warning that %s was shortened:\n%s", name, log)
		}
	}
}

func TestShortenJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		stage    int
		want     string // "" when it cannot be shortened
	}{
		{"arrays go first", `{"a":[1,2,3],"b":{"c":[4]},"d":"` + strings.Repeat("x", 100) + `"}`, 1, `{"b":{},"d":"` + strings.Repeat("x", 100) + `","shortened":"true"}`},
		{"then long strings", `{"a":"` + strings.Repeat("é", 100) + `","b":{"c":2}}`, 2, `{"a":"` + strings.Repeat("é", shortText/2) + `…","b":{"c":2},"shortened":"true"}`},
		{"then deep objects", `{"a":{"b":{"c":1},"d":2},"e":3}`, 3, `{"a":{"d":2},"e":3,"shortened":"true"}`},
		{"then all nesting", `{"a":{"b":1,"d":2},"e":3}`, 4, `{"e":3,"shortened":"true"}`},
		{"JSON in a string", `{"h":"{\"a\":[1],\"b\":{\"c\":{\"d\":1}},\"e\":2}","f":"1"}`, 3, `{"f":"1","h":"{\"e\":2}","shortened":"true"}`},
		{"JSON in a string goes at stage 4", `{"h":"{\"e\":2}","f":"1"}`, 4, `{"f":"1","shortened":"true"}`},
		{"numbers kept as written", `{"p":1e-7,"q":0.10}`, 1, `{"p":1e-7,"q":0.10,"shortened":"true"}`},
		{"not JSON", `plain text`, 1, ""},
		{"an array", `[1,2]`, 1, ""},
		{"trailing text", `{"a":1} and more`, 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := shortenJSON(tt.in, tt.stage)
			if ok != (tt.want != "") || got != tt.want {
				t.Errorf("shortenJSON(%s, %d) = %s, %v; want %s", tt.in, tt.stage, got, ok, tt.want)
			}
		})
	}
}

// TestDotenvUsesShortForms: an output whose producer gave a short form is
// shortened to it first, arrays included, and pruned further only when
// that is not enough; an output that fits is never shortened.
func TestDotenvUsesShortForms(t *testing.T) {
	t.Parallel()
	series := `[` + strings.Repeat(`{"date":"2026-03-01","devices":123456.5},`, 200) + `{}]`
	long := `{"decision":"hold","kinds":[{"kind":"crash","failures":12}],"days":` + series + `}`
	tests := []struct {
		name, short string
		want        string
	}{
		{"the short form", `{"decision":"hold","kinds":[{"kind":"crash","failures":12}]}`, `{"decision":"hold","kinds":[{"kind":"crash","failures":12}],"shortened":"true"}`},
		{"the short form pruned when still too long", `{"decision":"hold","days":` + series + `}`, `{"decision":"hold","shortened":"true"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, PlatformGitLab)
			r := e.detect()
			for _, o := range [][2]string{{"health", long}, {"small", `{"a":[1]}`}} {
				if err := r.SetOutput(o[0], o[1]); err != nil {
					t.Fatal(err)
				}
			}
			sf, ok := r.(ShortForms)
			if !ok {
				t.Fatal("the GitLab reporter takes no short forms")
			}
			sf.SetShortForm("health", tt.short)
			sf.SetShortForm("small", `{}`)
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			want := "STOREFLIGHT_OUT_HEALTH=" + tt.want + "\nSTOREFLIGHT_OUT_SMALL={\"a\":[1]}\n"
			if got := readFile(t, e.opts.OutputFile); got != want {
				t.Errorf("dotenv:\n%s\nwant\n%s", got, want)
			}
		})
	}
}
