package e2e

import (
	"strings"
	"testing"
)

// testFlagValues is issue 10's item 8 on the binary: a release whose notes
// come from an empty unquoted $NOTES (`--notes-for-certification --dry-run`)
// must not take --dry-run as the notes and make a real release; and an
// unquoted glob that the shell expanded gets a hint to quote it. Both exit
// 2 with nothing sent.
func testFlagValues(t *testing.T) {
	w := newWorld(t, worldOptions{
		FakeClock: true,
		Seed:      seedApp(seedFlight(flightA, "Beta testers", publishedA, nil)),
	})
	w.writePackage(newPackage, newVersion)
	w.writePackage("Contoso.Notes_1.1.0.0_arm64.msix", newVersion)
	tests := []struct {
		name   string
		inputs map[string]string
		args   []string
		input  string // the input the error names
		says   string
	}{
		{"empty unquoted notes", map[string]string{"flight-id": flightA, "packages": newPackage},
			[]string{"--notes-for-certification", "--dry-run"}, "notes-for-certification", "is a flag, not a value"},
		{"expanded glob", map[string]string{"flight-id": flightA},
			[]string{"--packages", newPackage, "Contoso.Notes_1.1.0.0_arm64.msix"}, "packages", "quote it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, tokens := len(ownRequests(w.sim.Requests())), len(w.entra.TokenRequests())
			res := w.runT(t, t.Context(), invocation{Inputs: tt.inputs, Args: tt.args})
			if res.Code != 2 {
				t.Errorf("exit code %d, want 2\n%s", res.Code, res.log())
			}
			if !strings.Contains(res.Stdout, "::error title=invalid input%3A "+tt.input+"::") || !strings.Contains(res.Stdout, tt.says) {
				t.Errorf("no error naming %s that says %q\n%s", tt.input, tt.says, res.log())
			}
			if reqs := ownRequests(w.sim.Requests())[before:]; len(reqs) != 0 {
				t.Errorf("the Store saw %d requests\n%s", len(reqs), describeRequests(reqs))
			}
			if n := len(w.entra.TokenRequests()) - tokens; n != 0 {
				t.Errorf("Entra saw %d token requests", n)
			}
		})
	}
	if f, _ := w.sim.Flight(appID, flightA); f.PendingID != "" || f.PublishedID != publishedA {
		t.Errorf("the flight changed: pending %q, published %q", f.PendingID, f.PublishedID)
	}
}
