package e2e

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storeflight/storeflight/internal/storefake"
)

// budget is the request-budget input of the throttling scenario: small,
// so that the release run needs more attempts than one minute allows.
const budget = 10

// budgetWindow is the minute of the budget, less a margin for the time a
// request takes from the client's limiter to the simulator's log (a TLS
// handshake on a new connection).
const budgetWindow = 60*time.Second - 500*time.Millisecond

// maxInWindow returns the most requests that arrived within any window.
func maxInWindow(reqs []storefake.Request, window time.Duration) int {
	most := 0
	for i, first := range reqs {
		n := 0
		for _, r := range reqs[i:] {
			if r.At.Sub(first.At) < window {
				n++
			}
		}
		most = max(most, n)
	}
	return most
}

// onFlight keeps the API requests about one flight.
func onFlight(reqs []storefake.Request, flight string) []storefake.Request {
	var out []storefake.Request
	for _, r := range apiRequests(reqs, "", "") {
		if strings.Contains(r.Path, "/flights/"+flight) {
			out = append(out, r)
		}
	}
	return out
}

// testThrottling answers half or more of all Store requests with 429 and
// a Retry-After in seconds or as an HTTP date, for two runs at once (a
// release to one flight, a rollout raise on another): both complete, every
// change is applied once, and neither sends more than request-budget
// requests in any minute.
func testThrottling(t *testing.T) {
	w := newWorld(t, worldOptions{
		Seed: seedApp(
			seedFlight(flightA, "Beta testers", publishedA, nil),
			seedFlight(flightB, "Insiders", publishedB, &storefake.SeedRollout{Percentage: 30, Fallback: "1152921504621240001"}),
		),
	})
	w.writePackage(newPackage, newVersion)
	// The dates are set now and meet the runs' first requests, so they
	// ask for a wait of one to two seconds.
	date := time.Now().Add(2 * time.Second).UTC().Format(http.TimeFormat)
	for _, f := range []storefake.Fault{
		{Method: http.MethodGet, Path: "/flights/" + flightA, Times: 2, RetryAfter: date},
		{Method: http.MethodGet, Path: "/submissions/" + publishedA, RetryAfter: date},
		{Method: http.MethodGet, Path: "/submissions/" + publishedA + "/packagerollout", RetryAfter: "1"},
		{Method: http.MethodPost, Path: createPath(flightA), Times: 2, RetryAfter: "1"},
		{Method: http.MethodPut, Times: 2, RetryAfter: "2"},
		{Method: http.MethodPost, Path: "/commit", Times: 2, RetryAfter: "1"},
		{Method: http.MethodGet, Path: "/status", Times: 2, RetryAfter: "1"},
		{Method: http.MethodGet, Path: "/flights/" + flightB, RetryAfter: date},
		{Method: http.MethodGet, Path: "/submissions/" + publishedB, RetryAfter: "1"},
		{Method: http.MethodGet, Path: "/submissions/" + publishedB + "/packagerollout", Times: 2, RetryAfter: "1"},
		{Method: http.MethodPost, Path: "/updatepackagerolloutpercentage", Times: 2, RetryAfter: "2"},
	} {
		f.Host, f.Status = "api", http.StatusTooManyRequests
		w.sim.Inject(f)
	}

	ctx := t.Context()
	var release, raise result
	var wg sync.WaitGroup
	wg.Go(func() {
		in := releaseInputs(flightA)
		in["wait-for"], in["request-budget"] = "committed", "10"
		release = w.run(ctx, invocation{Inputs: in})
	})
	wg.Go(func() {
		raise = w.run(ctx, invocation{Inputs: map[string]string{
			"flight-id": flightB, "rollout-percentage": "50", "request-budget": "10",
		}})
	})
	wg.Wait()
	if release.Code != 0 {
		t.Errorf("release: exit code %d, want 0\n%s", release.Code, release.log())
	}
	if raise.Code != 0 {
		t.Errorf("raise: exit code %d, want 0\n%s", raise.Code, raise.log())
	}

	all := ownRequests(w.sim.Requests())
	for _, run := range []struct {
		name, flight string
		reqs         []storefake.Request
	}{{"release", flightA, onFlight(all, flightA)}, {"raise", flightB, onFlight(all, flightB)}} {
		throttled := 0
		for _, r := range run.reqs {
			if r.Status == http.StatusTooManyRequests && r.Injected {
				throttled++
			}
			if r.Status == http.StatusTooManyRequests && !r.Injected {
				t.Errorf("%s: the simulator's own budget refused %s %s", run.name, r.Method, r.Path)
			}
		}
		if 2*throttled < len(run.reqs) {
			t.Errorf("%s: %d of %d requests throttled, want half or more", run.name, throttled, len(run.reqs))
		}
		if n := maxInWindow(run.reqs, budgetWindow); n > budget {
			t.Errorf("%s: %d requests within a minute, budget %d\n%s", run.name, n, budget, describeRequests(run.reqs))
		}
		t.Logf("%s: %d API requests, %d answered 429, most in a minute %d, took %s",
			run.name, len(run.reqs), throttled, maxInWindow(run.reqs, budgetWindow), map[string]time.Duration{
				"release": release.Ended.Sub(release.Started), "raise": raise.Ended.Sub(raise.Started)}[run.name].Round(time.Millisecond))
	}
	if n := len(onFlight(all, flightA)); n <= budget {
		t.Errorf("the release made %d requests: too few to prove the budget of %d", n, budget)
	}

	// Each change exactly once, and the end states.
	if n := applied(all, http.MethodPost, createPath(flightA)); n != 1 {
		t.Errorf("%d creates applied, want 1", n)
	}
	if n := applied(all, http.MethodPost, "/commit"); n != 1 {
		t.Errorf("%d commits applied, want 1", n)
	}
	id := release.Outputs["submission-id"]
	if sub, ok := w.sim.Submission(appID, flightA, id); !ok || sub.Commits != 1 || sub.Status == "PendingCommit" ||
		len(sub.UploadedFiles) != 1 || sub.UploadedFiles[0] != newPackage {
		t.Errorf("release submission %q: %+v, want the new package committed once", id, sub)
	}
	checkRolloutChange(t, w, flightB, publishedB, "updatepackagerolloutpercentage", all,
		storefake.RolloutState{Enabled: true, Percentage: 50, Status: "PackageRolloutInProgress", Fallback: "1152921504621240001"})
}
