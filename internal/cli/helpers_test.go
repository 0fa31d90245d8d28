package cli

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/storeflight/storeflight/internal/ci/citest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// outputNames are the outputs of DESIGN.md, "Outputs".
var outputNames = []string{"flight-id", "submission-id", "submission-status", "rollout-status",
	"rollout-percentage", "fallback-submission-id", "finalized", "rollout-decision", "health", "result"}

// runEnv is one run of Run with an injected environment and buffers.
type runEnv struct {
	vars           map[string]string
	dir            string
	stdout, stderr bytes.Buffer
	sm             seams
}

func newRunEnv(t *testing.T, vars map[string]string) *runEnv {
	t.Helper()
	e := &runEnv{vars: map[string]string{}, dir: t.TempDir()}
	for k, v := range vars {
		e.vars[k] = v
	}
	return e
}

// github sets up a GitHub Actions job environment with its files in e.dir.
func (e *runEnv) github() *runEnv {
	e.vars["GITHUB_ACTIONS"] = "true"
	e.vars["GITHUB_OUTPUT"] = e.path("github_output")
	e.vars["GITHUB_STEP_SUMMARY"] = e.path("step_summary")
	return e
}

func (e *runEnv) path(name string) string { return filepath.Join(e.dir, name) }

func (e *runEnv) getenv(k string) string { return e.vars[k] }

func (e *runEnv) run(t *testing.T, args ...string) int {
	t.Helper()
	code := run(t.Context(), args, e.getenv, &e.stdout, &e.stderr, e.sm)
	if t.Failed() || testing.Verbose() {
		t.Logf("exit %d\nstdout:\n%s\nstderr:\n%s", code, e.stdout.String(), e.stderr.String())
	}
	return code
}

// everything is the log and every file the run wrote, for secret scans.
func (e *runEnv) everything(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(e.stdout.String())
	b.WriteString(e.stderr.String())
	entries, err := os.ReadDir(e.dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, de := range entries {
		if de.IsDir() {
			continue
		}
		fmt.Fprintf(&b, "\n--- %s\n%s", de.Name(), readFile(t, e.path(de.Name())))
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

// parseDotenv reads KEY=value lines, blank lines and # comments skipped;
// values are raw, as the reporter writes them.
func parseDotenv(t *testing.T, content string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for i, line := range strings.Split(content, "\n") {
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("dotenv line %d has no '=': %q", i+1, line)
		}
		out[k] = v
	}
	return out
}

// checkDemoOutputs checks the outputs of the finished demo: every output,
// the values its last run, the health gate's halt of a bad build, must
// reach, and result equal to the rest.
func checkDemoOutputs(t *testing.T, got map[string]string) {
	t.Helper()
	for _, name := range outputNames {
		if _, ok := got[name]; !ok {
			t.Errorf("output %s missing", name)
		}
	}
	want := map[string]string{
		"flight-id":          demoFlightID,
		"submission-status":  "Published",
		"rollout-status":     "PackageRolloutStopped",
		"rollout-percentage": "0",
		"finalized":          "false",
		"rollout-decision":   "halt",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("output %s = %q, want %q", k, got[k], v)
		}
	}
	for _, k := range []string{"submission-id", "fallback-submission-id"} {
		if !isDigits(got[k]) {
			t.Errorf("output %s = %q, want a numeric submission ID", k, got[k])
		}
	}
	if got["submission-id"] == demoPublishedID || got["fallback-submission-id"] == demoPublishedID || got["submission-id"] == got["fallback-submission-id"] {
		t.Errorf("submission-id %s, fallback-submission-id %s: want the bad build's and the healthy build's, both made by the demo",
			got["submission-id"], got["fallback-submission-id"])
	}
	var h struct {
		Decision string
		Kinds    []struct{ Kind string }
	}
	if err := json.Unmarshal([]byte(got["health"]), &h); err != nil || h.Decision != "halt" || len(h.Kinds) != 2 {
		t.Errorf("health %q (%v): want the halt with both failure kinds' figures", got["health"], err)
	}
	checkResult(t, got, map[string]string{"application-id": demoAppID})
}

// checkResult checks that the result output is a JSON object holding
// every other output, plus extra.
func checkResult(t *testing.T, got map[string]string, extra map[string]string) {
	t.Helper()
	var result map[string]string
	if err := json.Unmarshal([]byte(got["result"]), &result); err != nil {
		t.Fatalf("result %q is not a JSON object of strings: %v", got["result"], err)
	}
	want := map[string]string{}
	for k, v := range got {
		if k != "result" {
			want[k] = v
		}
	}
	for k, v := range extra {
		want[k] = v
	}
	if diff := cmp.Diff(want, result); diff != "" {
		t.Errorf("result differs from the other outputs (-want +got):\n%s", diff)
	}
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// logLines returns the lines of a log that start with prefix.
func logLines(log, prefix string) []string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	citest.GoldenSummary(t, name, got, *update)
}
