package storeapi

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/storeflight/storeflight/internal/clock"
)

var (
	errDial  = &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	errReset = &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
)

func TestRetries(t *testing.T) {
	t.Parallel()
	ok := step{status: 200, body: `{"status":"CommitStarted"}`}
	get := func(ctx context.Context, c *Client) error { _, err := c.SubmissionStatus(ctx, flightKey); return err }
	put := func(ctx context.Context, c *Client) error {
		_, err := c.UpdateFlightSubmission(ctx, appID, flightID, &FlightSubmission{ID: subID})
		return err
	}
	del := func(ctx context.Context, c *Client) error {
		return c.DeleteFlightSubmission(ctx, appID, flightID, subID)
	}
	commit := func(ctx context.Context, c *Client) error { _, err := c.CommitSubmission(ctx, flightKey); return err }
	tests := []struct {
		name         string
		call         func(context.Context, *Client) error
		steps        []step
		deadline     time.Duration // 0: none
		wantAttempts int
		wantWait     time.Duration // exact time waited, -1 to skip
		wantIs       []error
		wantNotIs    []error
		wantStatus   int
	}{
		{name: "GET 429 Retry-After seconds", call: get,
			steps:        []step{{status: 429, header: map[string]string{"Retry-After": "7"}}, ok},
			wantAttempts: 2, wantWait: 7 * time.Second},
		{name: "GET 503 Retry-After HTTP date", call: get,
			steps:        []step{{status: 503, header: map[string]string{"Retry-After": "DATE+10s"}}, ok},
			wantAttempts: 2, wantWait: 10 * time.Second},
		{name: "Retry-After capped at MaxRetryAfter", call: get,
			steps:        []step{{status: 429, header: map[string]string{"Retry-After": "3600"}}, ok},
			wantAttempts: 2, wantWait: 2 * time.Minute},
		{name: "Retry-After date capped", call: get,
			steps:        []step{{status: 429, header: map[string]string{"Retry-After": "DATE+3h"}}, ok},
			wantAttempts: 2, wantWait: 2 * time.Minute},
		{name: "Retry-After beyond the deadline stops at once", call: get, deadline: 30 * time.Second,
			steps:        []step{{status: 429, header: map[string]string{"Retry-After": "60"}}, ok},
			wantAttempts: 1, wantWait: 0, wantIs: []error{ErrThrottled}, wantNotIs: []error{ErrOutcomeUnknown}, wantStatus: 429},
		{name: "Retry-After within the deadline, the next one past it", call: get, deadline: 3 * time.Second,
			steps:        []step{{status: 503, header: map[string]string{"Retry-After": "2"}}},
			wantAttempts: 2, wantWait: 2 * time.Second, wantStatus: 503},
		{name: "a backoff that cannot end before the deadline is not started", call: get, deadline: 400 * time.Millisecond,
			steps:        []step{{status: 500}, ok},
			wantAttempts: 1, wantWait: 0, wantStatus: 500},
		{name: "GET 500 retried with backoff", call: get,
			steps:        []step{{status: 500}, {status: 502}, ok},
			wantAttempts: 3, wantWait: -1},
		{name: "GET 501 not retried", call: get,
			steps:        []step{{status: 501}, ok},
			wantAttempts: 1, wantWait: 0, wantStatus: 501},
		{name: "GET connection reset retried", call: get,
			steps:        []step{{err: errReset}, ok},
			wantAttempts: 2, wantWait: -1},
		{name: "GET 500 until retries run out", call: get,
			steps:        []step{{status: 500, body: `{"code":"ServiceError","message":"boom"}`}},
			wantAttempts: 4, wantWait: -1, wantStatus: 500, wantNotIs: []error{ErrOutcomeUnknown}},
		{name: "PUT 503 retried", call: put,
			steps:        []step{{status: 503}, {status: 200, body: `{}`}},
			wantAttempts: 2, wantWait: -1},
		{name: "DELETE connection error retried", call: del,
			steps:        []step{{err: errReset}, {status: 204}},
			wantAttempts: 2, wantWait: -1},
		{name: "POST 500 not re-sent, outcome unknown", call: commit,
			steps:        []step{{status: 500, body: `{"code":"ServiceError","message":"timeout"}`}, ok},
			wantAttempts: 1, wantWait: 0, wantIs: []error{ErrOutcomeUnknown}, wantStatus: 500},
		{name: "POST 503 not re-sent, outcome unknown", call: commit,
			steps:        []step{{status: 503, header: map[string]string{"Retry-After": "1"}}, ok},
			wantAttempts: 1, wantWait: 0, wantIs: []error{ErrOutcomeUnknown}, wantStatus: 503},
		{name: "POST 429 then 200 re-sent", call: commit,
			steps:        []step{{status: 429, header: map[string]string{"Retry-After": "5"}}, ok},
			wantAttempts: 2, wantWait: 5 * time.Second},
		{name: "POST dial error re-sent", call: commit,
			steps:        []step{{err: errDial}, ok},
			wantAttempts: 2, wantWait: -1},
		{name: "POST connection reset not re-sent", call: commit,
			steps:        []step{{err: errReset}, ok},
			wantAttempts: 1, wantWait: 0, wantIs: []error{ErrOutcomeUnknown}},
		{name: "POST 429 until retries run out", call: commit,
			steps:        []step{{status: 429, header: map[string]string{"Retry-After": "1"}}},
			wantAttempts: 4, wantWait: 3 * time.Second, wantIs: []error{ErrThrottled}, wantNotIs: []error{ErrOutcomeUnknown}, wantStatus: 429},
		{name: "POST dial errors only: nothing happened", call: commit,
			steps:        []step{{err: errDial}},
			wantAttempts: 4, wantWait: -1, wantNotIs: []error{ErrOutcomeUnknown}},
		{name: "POST 409 not re-sent, not unknown", call: commit,
			steps:        []step{{status: 409, body: `{"code":"InvalidState","message":"no"}`}, ok},
			wantAttempts: 1, wantWait: 0, wantIs: []error{ErrConflict}, wantNotIs: []error{ErrOutcomeUnknown}, wantStatus: 409},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				steps := make([]step, len(tc.steps))
				for i, s := range tc.steps {
					if v, ok := s.header["Retry-After"]; ok && strings.HasPrefix(v, "DATE+") {
						d, _ := time.ParseDuration(strings.TrimPrefix(v, "DATE+"))
						s.header = map[string]string{"Retry-After": time.Now().Add(d).UTC().Format(http.TimeFormat)}
					}
					steps[i] = s
				}
				m := &memStore{steps: steps}
				c, cred := newMemClient(t, m, func(o *Options) { o.RetryMax = 3 })
				ctx := t.Context()
				if tc.deadline > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tc.deadline)
					defer cancel()
				}
				start := time.Now()
				err := tc.call(ctx, c)
				waited := time.Since(start)
				if got := m.attempts(); got != tc.wantAttempts {
					t.Errorf("attempts = %d, want %d", got, tc.wantAttempts)
				}
				if got := cred.count(); got != m.attempts() {
					t.Errorf("GetToken called %d times for %d attempts", got, m.attempts())
				}
				if tc.wantWait >= 0 && waited != tc.wantWait {
					t.Errorf("waited %v, want %v", waited, tc.wantWait)
				}
				if tc.wantWait < 0 && waited > time.Duration(tc.wantAttempts)*DefaultRetryWaitMax {
					t.Errorf("waited %v, too long", waited)
				}
				wantErr := tc.wantStatus != 0 || len(tc.wantIs) > 0 || len(tc.wantNotIs) > 0
				if (err != nil) != wantErr {
					t.Fatalf("err = %v, want error: %v", err, wantErr)
				}
				if err == nil {
					return
				}
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("%T is not *Error: %v", err, err)
				}
				if e.StatusCode != tc.wantStatus {
					t.Errorf("status = %d, want %d (%v)", e.StatusCode, tc.wantStatus, err)
				}
				for _, s := range tc.wantIs {
					if !errors.Is(err, s) {
						t.Errorf("errors.Is(%v, %v) = false", err, s)
					}
				}
				for _, s := range tc.wantNotIs {
					if errors.Is(err, s) {
						t.Errorf("errors.Is(%v, %v) = true", err, s)
					}
				}
			})
		})
	}
}

func TestBackoffIsJitteredAndCapped(t *testing.T) {
	t.Parallel()
	c, _ := newMemClient(t, &memStore{steps: []step{{status: 200}}}, nil)
	for attempt := range 40 {
		d := c.backoff(time.Second, 60*time.Second, attempt, &http.Response{StatusCode: 500, Header: http.Header{}})
		ceil := min(time.Second<<min(attempt, 30), 60*time.Second)
		if d < ceil/2 || d > ceil {
			t.Errorf("attempt %d: backoff %v outside [%v, %v]", attempt, d, ceil/2, ceil)
		}
	}
	for _, v := range []string{"-3", "soon", ""} {
		resp := &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {v}}}
		if _, ok := c.retryAfter(resp); ok {
			t.Errorf("Retry-After %q was honoured", v)
		}
	}
}

// A POST whose connection breaks after the Store applied it: the Store saw
// it once, the client does not re-send it, and says the outcome is unknown.
func TestPOSTConnectionResetAfterApplied(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	var seen atomic.Int32
	f.mux.HandleFunc("POST "+fsPath+"/commit", func(w http.ResponseWriter, r *http.Request) {
		seen.Add(1)
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			tc.SetLinger(0) // RST, not FIN
		}
		conn.Close()
	})
	_, err := f.client.CommitSubmission(t.Context(), flightKey)
	if !errors.Is(err, ErrOutcomeUnknown) {
		t.Errorf("err = %v, want ErrOutcomeUnknown", err)
	}
	if n := seen.Load(); n != 1 {
		t.Errorf("server saw %d commits, want 1", n)
	}
}

// A GET whose connection breaks is retried over a real socket.
func TestGETConnectionErrorRetried(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	var seen atomic.Int32
	f.mux.HandleFunc("GET "+fsPath+"/status", func(w http.ResponseWriter, r *http.Request) {
		if seen.Add(1) == 1 {
			conn, _, _ := http.NewResponseController(w).Hijack()
			conn.Close()
			return
		}
		io.WriteString(w, `{"status":"PreProcessing"}`)
	})
	st, err := f.client.SubmissionStatus(t.Context(), flightKey)
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != StatusPreProcessing || seen.Load() != 2 {
		t.Errorf("status %q after %d requests", st.Status, seen.Load())
	}
}

func TestRequestBudget(t *testing.T) {
	t.Parallel()
	t.Run("21 requests with a budget of 20 wait a minute", func(t *testing.T) {
		t.Parallel()
		fake := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		m := &memStore{steps: []step{{status: 200, body: `{"status":"Published"}`}}}
		c, _ := newMemClient(t, m, func(o *Options) { o.Clock, o.RequestBudget = fake, 0 })
		for i := range 21 {
			if _, err := c.SubmissionStatus(t.Context(), flightKey); err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
			if slept, _ := fake.Slept(); i < 20 && slept != 0 {
				t.Fatalf("request %d waited %v within the budget", i, slept)
			}
		}
		if slept, n := fake.Slept(); slept != time.Minute || n != 1 {
			t.Errorf("slept %v in %d sleeps, want 1m in 1", slept, n)
		}
	})
	t.Run("retries count against the budget", func(t *testing.T) {
		t.Parallel()
		fake := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		m := &memStore{steps: []step{{status: 429, header: map[string]string{"Retry-After": "0"}}, {status: 429, header: map[string]string{"Retry-After": "0"}}, {status: 200, body: `{}`}}}
		c, _ := newMemClient(t, m, func(o *Options) { o.Clock, o.RequestBudget = fake, 2 })
		if _, err := c.SubmissionStatus(t.Context(), flightKey); err != nil {
			t.Fatal(err)
		}
		if slept, _ := fake.Slept(); m.attempts() != 3 || slept != time.Minute {
			t.Errorf("%d attempts, slept %v; want 3 and 1m", m.attempts(), slept)
		}
	})
	t.Run("a slow sign-in does not squeeze the minute", func(t *testing.T) {
		t.Parallel()
		// The first token takes 5s; the budget's minute must run from
		// when a request leaves, or the Store sees 3 requests in 55s.
		fake := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		m := &memStore{steps: []step{{status: 200, body: `{}`}}}
		var arrivals []time.Time
		c, cred := newMemClient(t, m, func(o *Options) {
			o.Clock, o.RequestBudget = fake, 2
			o.HTTPClient = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				arrivals = append(arrivals, fake.Now())
				return m.RoundTrip(r)
			})}
		})
		cred.onCall = func(call int) {
			if call == 1 {
				fake.Advance(5 * time.Second)
			}
		}
		for i := range 3 {
			if _, err := c.SubmissionStatus(t.Context(), flightKey); err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
		}
		if got := arrivals[2].Sub(arrivals[0]); got < time.Minute {
			t.Errorf("3 requests reached the Store within %v with a budget of 2 a minute", got)
		}
	})
	t.Run("negative means no limit", func(t *testing.T) {
		t.Parallel()
		fake := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		m := &memStore{steps: []step{{status: 200, body: `{}`}}}
		c, _ := newMemClient(t, m, func(o *Options) { o.Clock, o.RequestBudget = fake, -1 })
		for range 50 {
			if _, err := c.SubmissionStatus(t.Context(), flightKey); err != nil {
				t.Fatal(err)
			}
		}
		if slept, _ := fake.Slept(); slept != 0 {
			t.Errorf("slept %v", slept)
		}
	})
	t.Run("a cancelled wait sends nothing, and a POST says so", func(t *testing.T) {
		t.Parallel()
		m := &memStore{steps: []step{{status: 200, body: `{}`}}}
		c, _ := newMemClient(t, m, func(o *Options) { o.RequestBudget = 1 })
		if _, err := c.SubmissionStatus(t.Context(), flightKey); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := c.CommitSubmission(ctx, flightKey)
		if !errors.Is(err, context.Canceled) || errors.Is(err, ErrOutcomeUnknown) {
			t.Errorf("err = %v, want context.Canceled and not ErrOutcomeUnknown", err)
		}
		if m.attempts() != 1 {
			t.Errorf("%d attempts, want 1", m.attempts())
		}
	})
}

// roundTripFunc makes a function an http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
