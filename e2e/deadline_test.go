package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/storeflight/storeflight/internal/storefake"
)

// statusReads returns the status reads of a run, in order.
func statusReads(reqs []storefake.Request) []storefake.Request {
	return apiRequests(reqs, http.MethodGet, "/status")
}

// testWaitDeadline is issue 10's item 6 on the binary. With timeout: 3s
// and the Store answering every status read 503 with Retry-After: 2, the
// run ends at the wait's deadline with exit 3 naming the 503, not after
// the client's retries with exit 1. Then an outage longer than one read's
// retries (twelve 503s with Retry-After: 1) during a release: the wait
// reads again until the Store answers and the release completes.
func testWaitDeadline(t *testing.T) {
	t.Run("deadline", func(t *testing.T) {
		t.Parallel()
		// The wall clock: the simulator's request times are compared with
		// the run's.
		w := newWorld(t, worldOptions{
			Stages: storefake.Stages{Certification: time.Hour},
			Seed:   seedApp(seedFlight(flightA, "Beta testers", publishedA, nil)),
		})
		w.writePackage(newPackage, newVersion)
		w.sim.Inject(storefake.Fault{Host: "api", Method: http.MethodGet, Path: "/status", Times: -1,
			Status: http.StatusServiceUnavailable, RetryAfter: "2"})
		in := releaseInputs(flightA)
		in["timeout"] = "3s"
		res := w.runT(t, t.Context(), invocation{Inputs: in})
		if res.Code != 3 {
			t.Errorf("exit code %d, want 3 (timed out)\n%s", res.Code, res.log())
		}
		reads := statusReads(res.Requests)
		if len(reads) == 0 {
			t.Fatalf("no status read\n%s", res.log())
		}
		// The wait starts one poll interval (200ms) before its first read.
		if took := res.Ended.Sub(reads[0].At); took > 3*time.Second+time.Second {
			t.Errorf("the run ended %s after the wait's first read: its 3s timeout did not bound the retries", took.Round(time.Millisecond))
		}
		if last := reads[len(reads)-1].At.Sub(reads[0].At); last > 3*time.Second {
			t.Errorf("a status read %s after the first, past the 3s timeout", last.Round(time.Millisecond))
		}
		if !strings.Contains(res.Stdout, "::error title=timed out::") || !strings.Contains(res.Stdout, "the last status read failed") ||
			!strings.Contains(res.Stdout, "503") {
			t.Errorf("the timeout does not name the last failure (503)\n%s", res.log())
		}
		// No read got through, so the outputs hold the state the commit left.
		if res.Outputs["submission-status"] != "CommitStarted" || res.Outputs["submission-id"] == "" {
			t.Errorf("outputs %v, want the committed submission in CommitStarted", res.Outputs)
		}
	})
	t.Run("outage", func(t *testing.T) {
		t.Parallel()
		w := newWorld(t, worldOptions{
			FakeClock: true,
			Seed:      seedApp(seedFlight(flightA, "Beta testers", publishedA, nil)),
		})
		w.writePackage(newPackage, newVersion)
		// One read retries eight times, a second apart: twelve 503s outlast it.
		w.sim.Inject(storefake.Fault{Host: "api", Method: http.MethodGet, Path: "/status", Times: 12,
			Status: http.StatusServiceUnavailable, RetryAfter: "1"})
		res := w.runT(t, t.Context(), invocation{Inputs: releaseInputs(flightA)})
		if res.Code != 0 {
			t.Fatalf("exit code %d, want 0: an outage of 12 s during a wait of up to 90 s must not end the run\n%s", res.Code, res.log())
		}
		checkReleased(t, w, flightA, publishedA, res.Requests, 10)
		if !strings.Contains(res.Stdout, "failed reads") {
			t.Errorf("the log does not say the reads failed for a while\n%s", res.log())
		}
	})
}
