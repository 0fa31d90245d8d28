package storeapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// A deadline that comes while the client waits to retry a broken
// connection ends the call with that failure named, not with a bare
// "context deadline exceeded".
func TestDeadlineDuringBackoffNamesTheLastFailure(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		m := &memStore{steps: []step{{err: errReset}}}
		c, _ := newMemClient(t, m, func(o *Options) { o.RetryMax = 3 })
		// The first backoff is 0.5 to 1 s: it is started, and the deadline
		// may come during it or during the next.
		ctx, cancel := context.WithTimeout(t.Context(), 700*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := c.SubmissionStatus(ctx, flightKey)
		if took := time.Since(start); took > 700*time.Millisecond {
			t.Errorf("the call took %s, past its deadline", took)
		}
		if err == nil || !strings.Contains(err.Error(), "connection reset") {
			t.Errorf("err = %v, want the connection reset named", err)
		}
		if !Transient(err) {
			t.Errorf("Transient(%v) = false", err)
		}
	})
}

func TestTransient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"429", &Error{StatusCode: http.StatusTooManyRequests}, true},
		{"408", &Error{StatusCode: http.StatusRequestTimeout}, true},
		{"500", &Error{StatusCode: http.StatusInternalServerError}, true},
		{"503 wrapped", fmt.Errorf("read: %w", &Error{StatusCode: http.StatusServiceUnavailable}), true},
		{"501", &Error{StatusCode: http.StatusNotImplemented}, false},
		{"403", &Error{StatusCode: http.StatusForbidden}, false},
		{"404", &Error{StatusCode: http.StatusNotFound}, false},
		{"undecodable 200", &Error{StatusCode: http.StatusOK, Err: errors.New("decode response: unexpected EOF")}, false},
		{"connection reset", &Error{Err: errReset}, true},
		{"deadline", &Error{Err: context.DeadlineExceeded}, true},
		{"cancelled", &Error{Err: context.Canceled}, false},
		{"sign-in failed", &Error{Err: &notSentError{&tokenError{errors.New("AADSTS70021")}}}, false},
		{"not a Store error", errors.New("boom"), false},
	}
	for _, tt := range tests {
		if got := Transient(tt.err); got != tt.want {
			t.Errorf("%s: Transient = %v, want %v", tt.name, got, tt.want)
		}
	}
}
