package action

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// actionYML reads ../action.yml as lines. The file is plain enough that a
// line scan finds its keys without a YAML library (the module has none).
func actionYML(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../action.yml")
	if err != nil {
		t.Fatal(err)
	}
	// A Windows checkout may have turned the line ends into CRLF.
	return strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
}

// section returns the two-space-indented keys under a top-level key.
func section(lines []string, top string) []string {
	var keys []string
	in := false
	key := regexp.MustCompile(`^  ([a-z0-9-]+):\s*$`)
	for _, l := range lines {
		if !strings.HasPrefix(l, " ") && strings.TrimSpace(l) != "" && !strings.HasPrefix(l, "#") {
			in = l == top+":"
			continue
		}
		if m := key.FindStringSubmatch(l); in && m != nil {
			keys = append(keys, m[1])
		}
	}
	return keys
}

// TestEveryInputReachesTheBinary checks that each input of action.yml,
// except the action-only version, is passed as STOREFLIGHT_<NAME> from
// ${{ inputs.<name> }}: composite actions get no INPUT_* variables, so an
// input without its line would be silently ignored.
func TestEveryInputReachesTheBinary(t *testing.T) {
	t.Parallel()
	lines := actionYML(t)
	inputs := section(lines, "inputs")
	if len(inputs) < 30 {
		t.Fatalf("found only %d inputs in action.yml: %q", len(inputs), inputs)
	}
	envLine := regexp.MustCompile(`^\s+(STOREFLIGHT_[A-Z0-9_]+): \$\{\{ inputs\.([a-z0-9-]+) \}\}\s*$`)
	passed := map[string]string{} // input -> variable
	for _, l := range lines {
		if m := envLine.FindStringSubmatch(l); m != nil {
			passed[m[2]] = m[1]
		}
	}
	want := map[string]string{}
	for _, in := range inputs {
		if in == "version" {
			want[in] = "STOREFLIGHT_ACTION_VERSION"
			continue
		}
		want[in] = "STOREFLIGHT_" + strings.ToUpper(strings.ReplaceAll(in, "-", "_"))
	}
	if diff := cmp.Diff(want, passed); diff != "" {
		t.Errorf("inputs passed to the step (-want +got):\n%s", diff)
	}
}

// TestOutputsComeFromTheRunStep checks the documented outputs, in order, each
// mapped from the step with id run, which is where the binary writes
// $GITHUB_OUTPUT.
func TestOutputsComeFromTheRunStep(t *testing.T) {
	t.Parallel()
	lines := actionYML(t)
	want := []string{"flight-id", "submission-id", "submission-status", "rollout-status", "rollout-percentage", "fallback-submission-id", "finalized", "rollout-decision", "health", "result"}
	if diff := cmp.Diff(want, section(lines, "outputs")); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
	text := strings.Join(lines, "\n")
	for _, o := range want {
		if !strings.Contains(text, "value: ${{ steps.run.outputs."+o+" }}") {
			t.Errorf("output %s is not mapped from steps.run.outputs.%s", o, o)
		}
	}
	if !strings.Contains(text, "    - id: run\n") {
		t.Error("no step with id: run")
	}
}
