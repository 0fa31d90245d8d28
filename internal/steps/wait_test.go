package steps

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/storeflight/storeflight/internal/ci"
	"github.com/storeflight/storeflight/internal/clock"
	"github.com/storeflight/storeflight/internal/config"
	"github.com/storeflight/storeflight/internal/storeapi"
	"github.com/storeflight/storeflight/internal/storefake"
)

// waitWorld runs the wait for a flight submission in Certification against
// the simulator, inside a synctest bubble: the wall clock the client's
// retry waits use, the context deadlines and the simulator's stages are
// all the bubble's, so what the deadline bounds is measured exactly.
type waitWorld struct {
	fake *storefake.Server
	log  bytes.Buffer
	cfg  *config.Config
}

const waitPendingID = "1152921504606846990"

func newWaitWorld(t *testing.T, certification, timeout time.Duration) *waitWorld {
	t.Helper()
	fake, err := storefake.New(&storefake.Options{Clock: clock.Real{}, BlobDir: t.TempDir(),
		Stages: storefake.Stages{Certification: certification, Release: time.Minute, PendingPublication: time.Minute, Publishing: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fake.Close() })
	pkgs := []storefake.SeedPackage{{FileName: "App_1.0.0.0_x64.msix", Version: "1.0.0.0"}}
	if err := fake.Seed(storefake.Seed{Apps: []storefake.SeedApp{{ID: appID, Name: "App", Flights: []storefake.SeedFlight{{
		ID: flightID, Name: flightName,
		Published: &storefake.SeedSubmission{ID: publishedID, Packages: pkgs},
		Pending:   &storefake.SeedSubmission{ID: waitPendingID, Status: "Certification", Packages: pkgs},
	}}}}}); err != nil {
		t.Fatal(err)
	}
	return &waitWorld{fake: fake, cfg: &config.Config{
		ApplicationID: appID, FlightID: flightID, SubmissionID: waitPendingID,
		PendingSubmission: config.PendingFail, PreviousRollout: config.PreviousFail, PackageMode: config.PackageReplace,
		Commit: true, WaitFor: config.WaitPublished, OnTimeout: config.OnTimeoutFail,
		PollInterval: 200 * time.Millisecond, MaxPollInterval: time.Second, Timeout: timeout,
	}}
}

func (w *waitWorld) run(t *testing.T) (*State, error) {
	t.Helper()
	client, err := storeapi.New(w.fake.Credential(), &storeapi.Options{
		BaseURL: w.fake.URL(), HTTPClient: w.fake.HTTPClient(), RequestBudget: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	rep := ci.Detect(nil, &w.log, ci.Options{})
	defer rep.Close()
	return Run(t.Context(), Deps{Config: w.cfg, Store: client, Reporter: rep, Clock: clock.Real{}, Rand: func() float64 { return 0.5 }})
}

// Issue 10, item 6: with timeout 3s and the Store answering every status
// read 503 with Retry-After: 2, the wait ends at its deadline with a
// timeout naming the 503, not after the client's eight retries (17 s) with
// a failure.
func TestWaitDeadlineBoundsRetries(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		w := newWaitWorld(t, time.Hour, 3*time.Second)
		w.fake.Inject(storefake.Fault{Method: http.MethodGet, Path: "/status", Status: http.StatusServiceUnavailable, RetryAfter: "2", Times: -1})
		start := time.Now()
		s, err := w.run(t)
		took := time.Since(start)
		if !errors.Is(err, ErrTimedOut) {
			t.Fatalf("err = %v, want a timeout\n%s", err, w.log.String())
		}
		if took != 3*time.Second {
			t.Errorf("the wait took %s, want its timeout of 3s", took)
		}
		if msg := err.Error(); !strings.Contains(msg, "the last status read failed") || !strings.Contains(msg, "503") {
			t.Errorf("the timeout does not name the last failure: %v", err)
		}
		if !s.TimedOut || s.Status != storeapi.StatusCertification {
			t.Errorf("TimedOut %v, status %s", s.TimedOut, s.Status)
		}
		var last time.Time
		for _, r := range w.fake.Requests() {
			if strings.HasSuffix(r.Path, "/status") {
				last = r.At
			}
		}
		if last.After(start.Add(3 * time.Second)) {
			t.Errorf("a status read at %s, after the deadline", last.Sub(start))
		}
		if n := strings.Count(w.log.String(), "reading the status of"); n != 1 {
			t.Errorf("the failing reads are logged %d times, want once:\n%s", n, w.log.String())
		}
	})
}

// A Store outage during the wait does not end the run: the reads go on
// until the Store answers, and the wait reaches its goal.
func TestWaitOutlivesAnOutage(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		w := newWaitWorld(t, 10*time.Minute, time.Hour)
		// Twenty status reads in a row fail: more than the client's own
		// retries (eight) cover in one read.
		w.fake.Inject(storefake.Fault{Method: http.MethodGet, Path: "/status", Status: http.StatusInternalServerError, Times: 20})
		s, err := w.run(t)
		if err != nil {
			t.Fatalf("err = %v, want the wait to reach Published\n%s", err, w.log.String())
		}
		if s.Status != storeapi.StatusPublished {
			t.Errorf("status %s, want Published", s.Status)
		}
		log := w.log.String()
		if !strings.Contains(log, "failed; reading it again until the timeout") || !strings.Contains(log, "again after 2 failed reads") {
			t.Errorf("the log does not tell the outage's start and end:\n%s", log)
		}
	})
}

// A refusal is not an outage: a 403 on a status read ends the wait at
// once, as a failure.
func TestWaitEndsOnARefusal(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		w := newWaitWorld(t, time.Hour, time.Hour)
		w.fake.Inject(storefake.Fault{Method: http.MethodGet, Path: "/status", Status: http.StatusForbidden, Times: -1})
		start := time.Now()
		_, err := w.run(t)
		var se *storeapi.Error
		if !errors.As(err, &se) || se.StatusCode != http.StatusForbidden || errors.Is(err, ErrTimedOut) {
			t.Errorf("err = %v, want the 403", err)
		}
		if took := time.Since(start); took > time.Second {
			t.Errorf("a refused read ended the wait after %s", took)
		}
	})
}
