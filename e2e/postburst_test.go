package e2e

import (
	"net/http"
	"testing"

	"github.com/storeflight/storeflight/internal/storefake"
)

// testPostBurst meets two ambiguous failures in a row (a 5xx, then a
// connection reset after the request was sent) on each change: create,
// commit and a rollout raise. The Store applied none of them, so the run
// should read the state, send the change again, and complete. (It once
// gave up after the second, exit 1.)
func testPostBurst(t *testing.T) {
	w := newWorld(t, worldOptions{
		FakeClock: true,
		Seed:      seedApp(seedFlight(flightA, "Beta testers", publishedA, nil)),
	})
	w.writePackage(newPackage, newVersion)
	ctx := t.Context()
	for _, f := range []storefake.Fault{
		{Method: http.MethodPost, Path: createPath(flightA), Status: http.StatusServiceUnavailable},
		{Method: http.MethodPost, Path: createPath(flightA), Reset: true},
		{Method: http.MethodPost, Path: "/commit", Reset: true},
		{Method: http.MethodPost, Path: "/commit", Status: http.StatusInternalServerError},
	} {
		f.Host = "api"
		w.sim.Inject(f)
	}
	res := w.run(ctx, invocation{Inputs: releaseInputs(flightA)})
	if res.Code != 0 {
		t.Fatalf("release: exit code %d, want 0\n%s", res.Code, res.log())
	}
	sub := checkReleased(t, w, flightA, publishedA, res.Requests, 10)

	for _, f := range []storefake.Fault{
		{Method: http.MethodPost, Path: "/updatepackagerolloutpercentage", Status: http.StatusBadGateway},
		{Method: http.MethodPost, Path: "/updatepackagerolloutpercentage", Reset: true},
	} {
		f.Host = "api"
		w.sim.Inject(f)
	}
	res = w.run(ctx, invocation{Inputs: map[string]string{"flight-id": flightA, "rollout-percentage": "50"}})
	if res.Code != 0 {
		t.Fatalf("raise: exit code %d, want 0\n%s", res.Code, res.log())
	}
	checkRolloutChange(t, w, flightA, sub, "updatepackagerolloutpercentage", res.Requests,
		storefake.RolloutState{Enabled: true, Percentage: 50, Status: "PackageRolloutInProgress", Fallback: publishedA})
}
