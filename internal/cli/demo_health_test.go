package cli

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/storeflight/storeflight/internal/ci/citest"
)

// dayLineRE is one line of the health demo's scheduled runs: the date,
// the percentage and the decision.
var dayLineRE = regexp.MustCompile(`(?m)^  (\d{4}-\d\d-\d\d) +(\d+)%  (\w+) `)

// demoDays returns the health demo's daily decisions as "percentage
// decision".
func demoDays(log string) []string {
	var out []string
	for _, m := range dayLineRE.FindAllStringSubmatch(log, -1) {
		out = append(out, m[2]+" "+m[3])
	}
	return out
}

// TestRunDemoHealthGate: the demo walks a healthy build through its
// rollout-steps to finalize and halts a build that crashes twice as often
// at the first step, once a day's evidence is confirmed by a second; on
// its fixed calendar the decisions are the same on every run.
func TestRunDemoHealthGate(t *testing.T) {
	t.Parallel()
	e := newRunEnv(t, nil)
	if code := e.run(t, "--simulate"); code != ExitOK {
		t.Fatalf("exit code %d, want 0 (the halt is the point of the demo)\n%s", code, e.everything(t))
	}
	log := e.stdout.String()
	_, demo, ok := strings.Cut(log, "=== demo: health-gated rollout with rollout-steps 5,20,50,100")
	if !ok {
		t.Fatalf("no health-gated rollout in the demo:\n%s", log)
	}
	want := []string{
		// 1.1.0.0, healthy: a step every three days, then finalize.
		"5 hold", "5 hold", "5 hold", "5 advance",
		"20 hold", "20 hold", "20 advance",
		"50 hold", "50 hold", "50 advance",
		"100 hold", "100 hold", "100 finalize",
		// 1.2.0.0, twice the crash rate: worse on the first day of data,
		// halted when the next confirms it.
		"5 hold", "5 hold", "5 hold", "5 hold", "5 halt",
	}
	if diff := cmp.Diff(want, demoDays(demo)); diff != "" {
		t.Errorf("daily decisions (-want +got):\n%s", diff)
	}
	for _, want := range []string{
		"worse, not yet clear enough to halt: crash x2.34 (p 5.4e-07)",
		"notice: health gate: the health gate halted the rollout of submission",
		"crash: new 79 of 9,800 (0.806%), old 786 of 190,200 (0.413%), ratio 1.95, p = 1.4e-07, excess 38.5",
	} {
		if !strings.Contains(demo, want) {
			t.Errorf("the health demo lacks %q:\n%s", want, demo)
		}
	}
	if lines := strings.Count(strings.TrimSpace(strings.Split(demo, "## storeflight")[0]), "\n") + 1; lines > 30 {
		t.Errorf("the health demo's log takes %d lines, more than a screen", lines)
	}
}

// TestRunDemoHealthGateOwnSteps: --simulate without an app plays the
// health demo with the inputs' own rollout-steps.
func TestRunDemoHealthGateOwnSteps(t *testing.T) {
	t.Parallel()
	e := newRunEnv(t, nil)
	if code := e.run(t, "--simulate", "--rollout-steps=10,100"); code != ExitOK {
		t.Fatalf("exit code %d, want 0\n%s", code, e.everything(t))
	}
	_, demo, ok := strings.Cut(e.stdout.String(), "=== demo: health-gated rollout with rollout-steps 10,100")
	if !ok {
		t.Fatalf("the demo does not use rollout-steps 10,100:\n%s", e.stdout.String())
	}
	days := demoDays(demo)
	if !strings.Contains(strings.Join(days, ","), "10 advance,100 hold,100 hold,100 finalize") || days[len(days)-1] != "10 halt" {
		t.Errorf("daily decisions %q: want the healthy build to 100%% and finalized, the bad one halted at 10%%", days)
	}
}

// TestRunRehearsalHealthGate: a rehearsal of a scheduled job with
// rollout-steps gets a rollout at the first step with a whole day of data,
// so that the gate judges it instead of holding for want of data.
func TestRunRehearsalHealthGate(t *testing.T) {
	t.Parallel()
	e := newRunEnv(t, nil).github()
	code := e.run(t, "--simulate", "--application-id=9NBLGGH4R315", "--flight-name=Beta testers", "--rollout-steps=5,20,50,100")
	log := e.stdout.String()
	if !strings.Contains(log, "rehearsal: the simulator released ContosoNotes_1.1.0.0_x64.msix to flight Beta testers at 5%") {
		t.Errorf("no line saying what the rehearsal prepared:\n%s", log)
	}
	outs, _, err := citest.ParseGitHubFile(readFile(t, e.path("github_output")))
	if err != nil {
		t.Fatal(err)
	}
	var h struct{ Decision, Rule string }
	if err := json.Unmarshal([]byte(outs["health"]), &h); err != nil {
		t.Fatalf("health %q: %v\n%s", outs["health"], err, log)
	}
	// The simulated build fails as often as the old one, so the gate
	// advances, or, when chance makes it look worse on the one day, holds
	// (exit 0) or halts (exit 4); it never lacks the data to judge.
	if h.Rule != "healthy" && h.Rule != "worse" && h.Rule != "regression" && h.Rule != "blatant" {
		t.Errorf("the gate decided %s by rule %s: want a judgement of the data", h.Decision, h.Rule)
	}
	if (code == ExitOK) != (h.Decision != "halt") || outs["rollout-decision"] != h.Decision {
		t.Errorf("exit code %d, rollout-decision %q, health's decision %q", code, outs["rollout-decision"], h.Decision)
	}
}
