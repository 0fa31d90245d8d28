package e2e

import (
	"net/http"
	"testing"

	"github.com/storeflight/storeflight/internal/storefake"
)

// injectAll injects faults on the API host unless they name a host.
func injectAll(w *world, faults []storefake.Fault) int {
	n := 0
	for _, f := range faults {
		if f.Host == "" {
			f.Host = "api"
		}
		w.sim.Inject(f)
		n += max(f.Times, 1)
	}
	return n
}

// countInjected counts the requests an injected fault answered or broke.
func countInjected(reqs []storefake.Request) int {
	n := 0
	for _, r := range reqs {
		if r.Injected {
			n++
		}
	}
	return n
}

// testFaults meets bursts of 5xx answers and broken connections on every
// kind of request: sign-in (Entra and GitHub's ID-token endpoint), every
// Store read and change, and the blob upload's blocks and block list.
// Every run completes, and every change is applied once.
func testFaults(t *testing.T) {
	w := newWorld(t, worldOptions{
		FakeClock: true,
		Seed: seedApp(
			seedFlight(flightA, "Beta testers", publishedA, nil),
			seedFlight(flightB, "Insiders", publishedB, &storefake.SeedRollout{Percentage: 30, Fallback: "1152921504621240001"}),
		),
	})
	// 17 MiB: three 8 MiB blocks and a block list.
	w.writeBigPackage(newPackage, newVersion, 17<<20)
	ctx := t.Context()

	w.entra.FailNext(http.StatusServiceUnavailable, "", "")
	w.entra.FailNextIDToken(http.StatusInternalServerError)
	want := injectAll(w, []storefake.Fault{
		{Method: http.MethodGet, Path: "/flights/" + flightA, Times: 2, Status: http.StatusServiceUnavailable, RetryAfter: "1"},
		{Method: http.MethodGet, Path: "/submissions/" + publishedA, Status: http.StatusInternalServerError},
		{Method: http.MethodGet, Path: "/packagerollout", Reset: true},
		// One ambiguous failure per change: two in a row is a known fault
		// (see testPostBurst).
		{Method: http.MethodPost, Path: createPath(flightA), Status: http.StatusServiceUnavailable},
		{Method: http.MethodPut, Status: http.StatusBadGateway},
		{Method: http.MethodPut, Reset: true},
		{Method: http.MethodPost, Path: "/commit", Reset: true},
		{Method: http.MethodGet, Path: "/status", Status: http.StatusServiceUnavailable, RetryAfter: "1"},
		{Method: http.MethodGet, Path: "/status", Status: http.StatusGatewayTimeout},
		{Method: http.MethodGet, Path: "/status", Reset: true},
		// Blob: the first two Put Blocks fail (503, 500); then, after the
		// three blocks' remaining attempts, the Put Block List is reset.
		{Host: "blob", Method: http.MethodPut, Status: http.StatusServiceUnavailable, RetryAfter: "1"},
		{Host: "blob", Method: http.MethodPut, Status: http.StatusInternalServerError},
		{Host: "blob", Method: http.MethodPut, Skip: 3, Reset: true},
	})
	res := w.run(ctx, invocation{Inputs: releaseInputs(flightA)})
	if res.Code != 0 {
		t.Fatalf("release: exit code %d, want 0\n%s\n%s", res.Code, res.log(), describeRequests(res.Requests))
	}
	if got := countInjected(res.Requests); got != want {
		t.Errorf("%d requests met an injected fault, want %d\n%s", got, want, describeRequests(res.Requests))
	}
	if n := len(w.entra.TokenRequests()); n < 2 {
		t.Errorf("%d token requests, want the failed one and its retry", n)
	}
	sub := checkReleased(t, w, flightA, publishedA, res.Requests, 10)
	var blocks, lists int
	for _, r := range res.Requests {
		if r.Method == http.MethodPut && r.Status == http.StatusCreated {
			switch queryValue(r.RawQuery, "comp") {
			case "block":
				blocks++
			case "blocklist":
				lists++
			}
		}
	}
	if blocks != 3 || lists != 1 {
		t.Errorf("%d blocks and %d block lists stored, want 3 and 1\n%s", blocks, lists, describeRequests(res.Requests))
	}

	// Raise, finalize and halt, each after a 5xx on a read and an
	// ambiguous failure of the change.
	for _, step := range []struct {
		name, flight, sub, kind string
		inputs                  map[string]string
		fault                   storefake.Fault
		rollout                 storefake.RolloutState
	}{
		{"raise", flightA, sub, "updatepackagerolloutpercentage", map[string]string{"flight-id": flightA, "rollout-percentage": "50"},
			storefake.Fault{Status: http.StatusServiceUnavailable},
			storefake.RolloutState{Enabled: true, Percentage: 50, Status: "PackageRolloutInProgress", Fallback: publishedA}},
		{"finalize", flightA, sub, "finalizepackagerollout", map[string]string{"flight-id": flightA, "finalize-rollout": "true"},
			storefake.Fault{Reset: true},
			storefake.RolloutState{Enabled: true, Percentage: 100, Status: "PackageRolloutComplete", Fallback: publishedA}},
		{"halt", flightB, publishedB, "haltpackagerollout", map[string]string{"flight-id": flightB, "halt-rollout": "true"},
			storefake.Fault{Status: http.StatusInternalServerError},
			storefake.RolloutState{Enabled: true, Percentage: 0, Status: "PackageRolloutStopped", Fallback: "1152921504621240001"}},
	} {
		change := step.fault
		change.Method, change.Path = http.MethodPost, "/"+step.kind
		want := injectAll(w, []storefake.Fault{
			{Method: http.MethodGet, Path: "/flights/" + step.flight, Status: http.StatusBadGateway},
			{Method: http.MethodGet, Path: "/packagerollout", Reset: true},
			change,
		})
		res := w.run(ctx, invocation{Inputs: step.inputs})
		if res.Code != 0 {
			t.Fatalf("%s: exit code %d, want 0\n%s\n%s", step.name, res.Code, res.log(), describeRequests(res.Requests))
		}
		if got := countInjected(res.Requests); got != want {
			t.Errorf("%s: %d requests met an injected fault, want %d\n%s", step.name, got, want, describeRequests(res.Requests))
		}
		checkRolloutChange(t, w, step.flight, step.sub, step.kind, res.Requests, step.rollout)
	}
}
