package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/storeflight/storeflight/internal/storefake"
)

// testOutputsUnwritable is issue 15's item 5 on the binary: a raise that
// the Store applies, by a run whose outputs cannot be written (output-file
// in a folder that does not exist, $GITHUB_OUTPUT that is not a file),
// exits 1 with an error saying so, so that the next job does not run on
// missing values.
func testOutputsUnwritable(t *testing.T) {
	tests := []struct {
		name string
		inv  func(w *world) invocation
		says string
	}{
		{"output-file in a missing folder", func(w *world) invocation {
			return invocation{Inputs: map[string]string{"flight-id": flightB, "rollout-percentage": "50",
				"output-file": filepath.Join(w.dir, "missing", "outputs.json")}}
		}, "missing"},
		{"GITHUB_OUTPUT is a folder", func(w *world) invocation {
			return invocation{Inputs: map[string]string{"flight-id": flightB, "rollout-percentage": "50"},
				Env: map[string]string{"GITHUB_OUTPUT": w.dir}}
		}, "set output"},
		{"GitLab dotenv in a missing folder", func(w *world) invocation {
			inv := w.gitlabJob(map[string]string{"flight-id": flightB, "rollout-percentage": "50"}, nil)
			inv.Inputs["output-file"] = filepath.Join(w.dir, "missing", "storeflight.env")
			return inv
		}, "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, worldOptions{
				FakeClock: true,
				Seed:      seedApp(seedFlight(flightB, "Insiders", publishedB, &storefake.SeedRollout{Percentage: 30, Fallback: "1152921504621240001"})),
			})
			res := w.runT(t, t.Context(), tt.inv(w))
			if res.Code != 1 {
				t.Errorf("exit code %d, want 1\n%s", res.Code, res.log())
			}
			out := res.Stdout + res.Stderr
			if !strings.Contains(out, "outputs not written") || !strings.Contains(out, tt.says) {
				t.Errorf("no error saying the outputs were not written (%q)\n%s", tt.says, res.log())
			}
			// The run's own work was done, once.
			checkRolloutChange(t, w, flightB, publishedB, "updatepackagerolloutpercentage", res.Requests,
				storefake.RolloutState{Enabled: true, Percentage: 50, Status: "PackageRolloutInProgress", Fallback: "1152921504621240001"})
		})
	}
}
