package e2e

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/storeflight/storeflight/internal/storefake"
)

// releaseInputs ship the new package to a flight at a 10% rollout and
// wait for publication.
func releaseInputs(flight string) map[string]string {
	return map[string]string{
		"flight-id":          flight,
		"packages":           newPackage,
		"rollout-percentage": "10",
		"wait-for":           "published",
	}
}

// checkReleased checks the end state of a release to flight: the new
// submission published at pct with the new package uploaded and committed
// once, nothing pending, and exactly one create and one commit applied.
func checkReleased(t *testing.T, w *world, flight, oldPublished string, reqs []storefake.Request, pct float64) string {
	t.Helper()
	f, _ := w.sim.Flight(appID, flight)
	if f.PendingID != "" {
		t.Errorf("flight still has pending submission %s", f.PendingID)
	}
	if f.PublishedID == oldPublished || f.PublishedID == "" {
		t.Fatalf("flight's published submission is %q, want a new one\nrequests:\n%s", f.PublishedID, describeRequests(reqs))
	}
	sub, _ := w.sim.Submission(appID, flight, f.PublishedID)
	if sub.Status != "Published" || sub.Commits != 1 {
		t.Errorf("new submission %s: status %s, %d commits; want Published, 1", sub.ID, sub.Status, sub.Commits)
	}
	if diff := cmp.Diff([]string{newPackage}, sub.UploadedFiles); diff != "" {
		t.Errorf("uploaded files (-want +got):\n%s", diff)
	}
	want := storefake.RolloutState{Enabled: true, Percentage: pct, Status: "PackageRolloutInProgress", Fallback: oldPublished}
	if diff := cmp.Diff(want, sub.Rollout); diff != "" {
		t.Errorf("rollout (-want +got):\n%s", diff)
	}
	if n := applied(reqs, http.MethodPost, createPath(flight)); n != 1 {
		t.Errorf("%d creates applied, want 1\n%s", n, describeRequests(reqs))
	}
	if n := applied(reqs, http.MethodPost, "/commit"); n != 1 {
		t.Errorf("%d commits applied, want 1\n%s", n, describeRequests(reqs))
	}
	return f.PublishedID
}

// checkRolloutChange checks that exactly one change of kind (the path's
// last segment) was applied and the rollout ended as want.
func checkRolloutChange(t *testing.T, w *world, flight, subID, kind string, reqs []storefake.Request, want storefake.RolloutState) {
	t.Helper()
	if n := applied(reqs, http.MethodPost, "/"+kind); n != 1 {
		t.Errorf("%d %s calls applied, want 1\n%s", n, kind, describeRequests(reqs))
	}
	sub, _ := w.sim.Submission(appID, flight, subID)
	if diff := cmp.Diff(want, sub.Rollout); diff != "" {
		t.Errorf("rollout after %s (-want +got):\n%s", kind, diff)
	}
}

// testLostResponses loses the answer of every change the pipeline makes
// after the simulator applied it: the run must learn what happened from
// the Store, end in the right state, and neither repeat the change nor
// report a failure.
func testLostResponses(t *testing.T) {
	w := newWorld(t, worldOptions{
		FakeClock: true,
		Seed: seedApp(
			seedFlight(flightA, "Beta testers", publishedA, nil),
			seedFlight(flightB, "Insiders", publishedB, &storefake.SeedRollout{Percentage: 30, Fallback: "1152921504621240001"}),
		),
	})
	w.writePackage(newPackage, newVersion)
	ctx := t.Context()

	// The release: create, update, commit, each applied then lost.
	w.sim.Inject(storefake.Fault{Host: "api", Method: http.MethodPost, Path: createPath(flightA), LoseResponse: true})
	w.sim.Inject(storefake.Fault{Host: "api", Method: http.MethodPut, LoseResponse: true})
	w.sim.Inject(storefake.Fault{Host: "api", Method: http.MethodPost, Path: "/commit", LoseResponse: true})
	res := w.run(ctx, invocation{Inputs: releaseInputs(flightA)})
	if res.Code != 0 {
		t.Fatalf("release: exit code %d, want 0\n%s", res.Code, res.log())
	}
	checkLost(t, res.Requests, 3)
	sub := checkReleased(t, w, flightA, publishedA, res.Requests, 10)
	if res.Outputs["submission-id"] != sub || res.Outputs["submission-status"] != "Published" {
		t.Errorf("outputs %v, want submission %s Published", res.Outputs, sub)
	}

	// Raise, then finalize, each answer lost.
	w.sim.Inject(storefake.Fault{Host: "api", Method: http.MethodPost, Path: "/updatepackagerolloutpercentage", LoseResponse: true})
	res = w.run(ctx, invocation{Inputs: map[string]string{"flight-id": flightA, "rollout-percentage": "50"}})
	if res.Code != 0 {
		t.Fatalf("raise: exit code %d, want 0\n%s", res.Code, res.log())
	}
	checkLost(t, res.Requests, 1)
	checkRolloutChange(t, w, flightA, sub, "updatepackagerolloutpercentage", res.Requests,
		storefake.RolloutState{Enabled: true, Percentage: 50, Status: "PackageRolloutInProgress", Fallback: publishedA})
	if res.Outputs["rollout-percentage"] != "50" {
		t.Errorf("rollout-percentage output %q, want 50", res.Outputs["rollout-percentage"])
	}

	w.sim.Inject(storefake.Fault{Host: "api", Method: http.MethodPost, Path: "/finalizepackagerollout", LoseResponse: true})
	res = w.run(ctx, invocation{Inputs: map[string]string{"flight-id": flightA, "finalize-rollout": "true"}})
	if res.Code != 0 {
		t.Fatalf("finalize: exit code %d, want 0\n%s", res.Code, res.log())
	}
	checkLost(t, res.Requests, 1)
	checkRolloutChange(t, w, flightA, sub, "finalizepackagerollout", res.Requests,
		storefake.RolloutState{Enabled: true, Percentage: 100, Status: "PackageRolloutComplete", Fallback: publishedA})
	if res.Outputs["finalized"] != "true" {
		t.Errorf("finalized output %q, want true", res.Outputs["finalized"])
	}

	// Halt on the other flight, answer lost.
	w.sim.Inject(storefake.Fault{Host: "api", Method: http.MethodPost, Path: "/haltpackagerollout", LoseResponse: true})
	res = w.run(ctx, invocation{Inputs: map[string]string{"flight-id": flightB, "halt-rollout": "true"}})
	if res.Code != 0 {
		t.Fatalf("halt: exit code %d, want 0\n%s", res.Code, res.log())
	}
	checkLost(t, res.Requests, 1)
	checkRolloutChange(t, w, flightB, publishedB, "haltpackagerollout", res.Requests,
		storefake.RolloutState{Enabled: true, Percentage: 0, Status: "PackageRolloutStopped", Fallback: "1152921504621240001"})
	if res.Outputs["rollout-status"] != "PackageRolloutStopped" {
		t.Errorf("rollout-status output %q, want PackageRolloutStopped", res.Outputs["rollout-status"])
	}
}

// checkLost checks that the injected lost answers really happened, so a
// scenario whose faults never fired cannot pass.
func checkLost(t *testing.T, reqs []storefake.Request, want int) {
	t.Helper()
	n := 0
	for _, r := range reqs {
		if r.Lost && r.Injected {
			n++
		}
	}
	if n != want {
		t.Errorf("%d answers lost, want %d\n%s", n, want, describeRequests(reqs))
	}
}
