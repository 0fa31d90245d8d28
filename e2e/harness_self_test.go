package e2e

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/storeflight/storeflight/internal/storefake"
)

// The suite's own checks must be able to fail, or the scenarios prove
// nothing.
func TestSecretScanFindsLeaks(t *testing.T) {
	t.Parallel()
	sig := "abcdefg+hijklmnopqrstuvwxyz0123456789ABCDEFG="
	w := &world{sigs: map[string]bool{sig: true}}
	needles := map[string]string{}
	for k, v := range w.needlesFrom([]string{"client-secret-value-123"}) {
		needles[k] = v
	}
	tests := []struct {
		name, text string
		leaks      int
	}{
		{"clean", "all fine\nsig=REDACTED\n", 0},
		{"masked", "::add-mask::client-secret-value-123\n", 0},
		{"secret", "error: bad secret client-secret-value-123\n", 1},
		{"raw sig", "PUT https://x/ingestion/b?sig=" + sig + "\n", 1},
		{"escaped sig", "sig=abcdefg%2Bhijklmnopqrstuvwxyz0123456789ABCDEFG%3D\n", 1},
		{"sig with space", "sig=abcdefg hijklmnopqrstuvwxyz0123456789ABCDEFG=\n", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := findSecrets(needles, map[string]string{"stdout": tt.text})
			if len(got) < tt.leaks || (tt.leaks == 0 && len(got) > 0) {
				t.Errorf("findSecrets found %d leaks, want %d: %v", len(got), tt.leaks, got)
			}
		})
	}
}

func TestParseGitHubOutput(t *testing.T) {
	t.Parallel()
	in := "a=1\nresult<<ghadelimiter_x\n{\"a\":\n1}\nghadelimiter_x\nb=two=2\n"
	want := map[string]string{"a": "1", "result": "{\"a\":\n1}", "b": "two=2"}
	if diff := cmp.Diff(want, parseGitHubOutput(t, in)); diff != "" {
		t.Errorf("parseGitHubOutput (-want +got):\n%s", diff)
	}
}

func TestMaxInWindow(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(secs ...float64) []storefake.Request {
		var out []storefake.Request
		for _, s := range secs {
			out = append(out, storefake.Request{At: t0.Add(time.Duration(s * float64(time.Second)))})
		}
		return out
	}
	tests := []struct {
		name string
		reqs []storefake.Request
		want int
	}{
		{"none", nil, 0},
		{"spread", at(0, 60, 120), 1},
		{"burst at the end", at(0, 30, 59, 59.2, 59.4), 5},
		{"sliding", at(0, 1, 2, 61, 61.5), 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := maxInWindow(tt.reqs, budgetWindow); got != tt.want {
				t.Errorf("maxInWindow = %d, want %d", got, tt.want)
			}
		})
	}
}
