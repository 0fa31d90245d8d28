package e2e

import (
	"maps"
	"path/filepath"
	"testing"
)

// testConflicts is issue 10's item 10 and DESIGN's list of conflicts on
// the binary: each is an input error before anything is sent (exit 2,
// naming the input), where the code before it created, committed and then
// failed, or acted on the wrong target.
func testConflicts(t *testing.T) {
	w := newWorld(t, worldOptions{
		FakeClock: true,
		Seed:      seedApp(seedFlight(flightA, "Beta testers", publishedA, nil)),
	})
	w.writePackage(newPackage, newVersion)
	mustWrite(t, filepath.Join(w.dir, "notes", "en-us.txt"), "Faster sync.")
	release := map[string]string{"flight-id": flightA, "packages": newPackage}
	with := withInputs
	tests := []struct {
		name   string
		inputs map[string]string
		names  []string          // the inputs the error may name
		env    map[string]string // variables of the job itself
	}{
		{"halt with an update", with(release, "halt-rollout", "true"), []string{"halt-rollout"}, nil},
		{"finalize with an update committed only", with(release, "finalize-rollout", "true", "wait-for", "committed"), []string{"finalize-rollout"}, nil},
		{"finalize with an update not waiting", with(release, "finalize-rollout", "true"), []string{"finalize-rollout"}, nil},
		{"halt with rollout-steps", with(nil, "flight-id", flightA, "halt-rollout", "true", "rollout-steps", "5,50"), []string{"halt-rollout"}, nil},
		{"rollout-steps with rollout-percentage", with(nil, "flight-id", flightA, "rollout-steps", "5,50", "rollout-percentage", "20"), []string{"rollout-steps"}, nil},
		{"wait with commit false", with(release, "commit", "false", "wait-for", "committed"), []string{"commit"}, nil},
		{"no flight and no target", with(nil, "rollout-percentage", "20"), []string{"target"}, nil},
		{"empty flight-name", with(nil, "halt-rollout", "true"), []string{"target"}, map[string]string{"STOREFLIGHT_FLIGHT_NAME": ""}},
		{"target flight without a flight", with(nil, "target", "flight", "finalize-rollout", "true"), []string{"target"}, nil},
		{"target app with a flight", with(nil, "target", "app", "flight-id", flightA, "rollout-percentage", "20"), []string{"target"}, nil},
		{"release notes with a flight", with(release, "release-notes", "Faster sync."), []string{"release-notes"}, nil},
		{"release notes folder with a flight", with(nil, "flight-name", "Beta testers", "release-notes-dir", "notes"), []string{"release-notes-dir"}, nil},
		{"percentage zero", with(nil, "flight-id", flightA, "rollout-percentage", "0"), []string{"rollout-percentage"}, nil},
	}
	ctx := t.Context()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, tokBefore := len(ownRequests(w.sim.Requests())), len(w.entra.TokenRequests())
			res := w.runT(t, ctx, invocation{Inputs: tt.inputs, Env: tt.env})
			if res.Code != 2 {
				t.Errorf("exit code %d, want 2\n%s", res.Code, res.log())
			}
			if !namesAny(res.Stdout, tt.names) {
				t.Errorf("no error names %v\n%s", tt.names, res.log())
			}
			if reqs := ownRequests(w.sim.Requests())[before:]; len(reqs) != 0 {
				t.Errorf("the Store saw %d requests\n%s", len(reqs), describeRequests(reqs))
			}
			if n := len(w.entra.TokenRequests()) - tokBefore; n != 0 {
				t.Errorf("Entra saw %d token requests", n)
			}
		})
	}
}

// withInputs returns base with the pairs of kv added, base untouched.
func withInputs(base map[string]string, kv ...string) map[string]string {
	m := maps.Clone(base)
	if m == nil {
		m = map[string]string{}
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}
