package e2e

import (
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/storeflight/storeflight/internal/storefake"
)

// terminator cancels the run once the simulator's log satisfies ready, the
// way a runner cancels a job (SIGTERM; on Windows, a console interrupt),
// and remembers when.
type terminator struct {
	w     *world
	ready func([]storefake.Request) bool
	sent  time.Time
	seen  int // requests in the log when the signal went
	fired bool
}

func (tm *terminator) during(p *os.Process, exited <-chan struct{}) {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-exited:
			return
		case <-tick.C:
		}
		reqs := ownRequests(tm.w.sim.Requests())
		if !tm.ready(reqs) {
			continue
		}
		tm.seen, tm.sent, tm.fired = len(reqs), time.Now(), true
		if err := cancelProcess(p); err != nil {
			tm.w.t.Errorf("cancelling with %s: %v", cancelSignal, err)
			_ = p.Kill() // rather than wait for the run to end by itself
		}
		return
	}
}

// checkTerminated checks a cancelled run: exit 143 (130 for Windows'
// interrupt) within two seconds, no request after the one in flight, and a
// log that says where the submission is and how to continue.
func (tm *terminator) checkTerminated(t *testing.T, res result, wantState ...string) {
	t.Helper()
	if !tm.fired {
		t.Fatalf("the run ended before it reached the point to cancel at (exit %d)\n%s", res.Code, res.log())
	}
	if res.Code != cancelExitCode {
		t.Errorf("exit code %d after %s, want %d\n%s", res.Code, cancelSignal, cancelExitCode, res.log())
	}
	if took := res.Ended.Sub(tm.sent); took > 2*time.Second {
		t.Errorf("exited %s after %s, want within 2s", took, cancelSignal)
	}
	if after := len(ownRequests(tm.w.sim.Requests())) - tm.seen; after > 1 {
		t.Errorf("%d requests after %s, want at most the one in flight", after, cancelSignal)
	}
	out := res.Stdout + res.Stderr
	for _, want := range append([]string{"cancelled by " + cancelSignal, "last known state", "re-run with the same inputs"}, wantState...) {
		if !strings.Contains(strings.ToLower(out), strings.ToLower(want)) {
			t.Errorf("the log does not say %q\n%s", want, res.log())
		}
	}
}

func countPath(reqs []storefake.Request, method, suffix string) int {
	return len(apiRequests(reqs, method, suffix))
}

// testCancelWait cancels a release while it waits for certification, then
// re-runs it with the same inputs once certification is over.
func testCancelWait(t *testing.T) {
	if why := cancelUnsupported(); why != "" {
		t.Skip(why)
	}
	w := newWorld(t, worldOptions{
		FakeClock: true,
		Stages:    storefake.Stages{Certification: time.Hour},
		Seed:      seedApp(seedFlight(flightA, "Beta testers", publishedA, nil)),
	})
	w.writePackage(newPackage, newVersion)
	ctx := t.Context()
	tm := &terminator{w: w, ready: func(reqs []storefake.Request) bool {
		return countPath(reqs, http.MethodGet, "/status") >= 3
	}}
	first := w.run(ctx, invocation{Inputs: releaseInputs(flightA), During: tm.during})
	f, _ := w.sim.Flight(appID, flightA)
	tm.checkTerminated(t, first, f.PendingID, "Certification")
	if sub, _ := w.sim.Submission(appID, flightA, f.PendingID); sub.Status != "Certification" {
		t.Errorf("submission %s is %s after the cancel, want Certification", f.PendingID, sub.Status)
	}
	if first.Outputs["submission-id"] != f.PendingID {
		t.Errorf("submission-id output %q after the cancel, want %s", first.Outputs["submission-id"], f.PendingID)
	}

	w.fake.Advance(2 * time.Hour)
	second := w.run(ctx, invocation{Inputs: releaseInputs(flightA)})
	if second.Code != 0 {
		t.Fatalf("re-run: exit code %d, want 0\n%s", second.Code, second.log())
	}
	checkReleased(t, w, flightA, publishedA, append(first.Requests, second.Requests...), 10)
}

// testCancelUpload cancels a release while its upload waits out a 503
// from the blob host, then re-runs it: the re-run recognises its own
// pending submission, uploads again and commits once.
func testCancelUpload(t *testing.T) {
	if why := cancelUnsupported(); why != "" {
		t.Skip(why)
	}
	w := newWorld(t, worldOptions{
		FakeClock: true,
		Seed:      seedApp(seedFlight(flightA, "Beta testers", publishedA, nil)),
	})
	w.writeBigPackage(newPackage, newVersion, 3<<20)
	ctx := t.Context()
	// The blob host asks for a wait far longer than the test's patience.
	w.sim.Inject(storefake.Fault{Host: "blob", Method: http.MethodPut, Status: http.StatusServiceUnavailable, RetryAfter: "30"})
	tm := &terminator{w: w, ready: func(reqs []storefake.Request) bool {
		for _, r := range reqs {
			if r.Injected && strings.HasPrefix(r.Path, "/ingestion/") {
				return true
			}
		}
		return false
	}}
	first := w.run(ctx, invocation{Inputs: releaseInputs(flightA), During: tm.during})
	f, _ := w.sim.Flight(appID, flightA)
	tm.checkTerminated(t, first, f.PendingID, "PendingCommit")
	if sub, _ := w.sim.Submission(appID, flightA, f.PendingID); sub.Status != "PendingCommit" || sub.Commits != 0 {
		t.Errorf("submission %s is %s with %d commits after the cancel, want PendingCommit, 0", f.PendingID, sub.Status, sub.Commits)
	}

	second := w.run(ctx, invocation{Inputs: releaseInputs(flightA)})
	if second.Code != 0 {
		t.Fatalf("re-run: exit code %d, want 0\n%s", second.Code, second.log())
	}
	id := checkReleased(t, w, flightA, publishedA, append(first.Requests, second.Requests...), 10)
	if id != f.PendingID {
		t.Errorf("the re-run published %s, not the cancelled run's submission %s", id, f.PendingID)
	}
}
