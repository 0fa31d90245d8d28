package cli

import (
	"strings"
	"testing"

	"github.com/storeflight/storeflight/internal/ci/citest"
	"github.com/storeflight/storeflight/internal/storefake"
)

// --simulate with target: app rehearses a retail release on the demo app's
// own submission, with no application-id needed.
func TestRehearseRetailRelease(t *testing.T) {
	t.Parallel()
	e := newRunEnv(t, nil).github()
	pkg := writePackage(t, e.dir, "ContosoNotes_1.2.0.0_x64.msix")
	code := e.run(t, "--simulate", "--target=app", "--packages="+pkg, "--package-mode=supersede",
		"--release-notes=Faster sync.", "--rollout-percentage=10", "--wait-for=published")
	if code != ExitOK {
		t.Fatalf("exit code %d, want %d:\n%s", code, ExitOK, e.stdout.String())
	}
	outs, _, err := citest.ParseGitHubFile(readFile(t, e.path("github_output")))
	if err != nil {
		t.Fatal(err)
	}
	if outs["flight-id"] != "" || outs["submission-status"] != "Published" || outs["rollout-percentage"] != "10" ||
		outs["fallback-submission-id"] != storefake.DemoAppPublishedID {
		t.Errorf("outputs %v, want the app's own submission published at 10%% over %s", outs, storefake.DemoAppPublishedID)
	}
	sum := readFile(t, e.path("step_summary"))
	for _, want := range []string{"| App submission |", `"Faster sync."`, storefake.DemoXboxPackage + " 1.0.0.0 [Uploaded]"} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary lacks %q:\n%s", want, sum)
		}
	}
	if strings.Contains(e.stdout.String(), "=== demo") {
		t.Error("the demo played instead of the rehearsal")
	}
}

// Inputs that name something to do are rehearsed, never dropped for the
// demo: with no target, on the demo flight.
func TestRehearsalWithoutApplicationID(t *testing.T) {
	t.Parallel()
	e := newRunEnv(t, nil).github()
	if code := e.run(t, "--simulate", "--rollout-percentage=20"); code != ExitOK {
		t.Fatalf("exit code %d, want %d:\n%s", code, ExitOK, e.stdout.String())
	}
	outs, _, err := citest.ParseGitHubFile(readFile(t, e.path("github_output")))
	if err != nil {
		t.Fatal(err)
	}
	if outs["flight-id"] != demoFlightID || outs["rollout-percentage"] != "20" {
		t.Errorf("outputs %v, want the demo flight's rollout raised to 20%%", outs)
	}
}
