//go:build unix

package e2e

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/storeflight/storeflight/internal/storefake"
)

// testSecondInterrupt is issue 10's item 13 on the binary: a run stuck
// while shutting down (here writing its output-file into a FIFO nobody
// reads, as a hung network share would hold it) ignores nothing but
// cannot finish after a first Ctrl-C; a second Ctrl-C quits it at once
// with 130, saying so.
func testSecondInterrupt(t *testing.T) {
	w := newWorld(t, worldOptions{
		FakeClock: true,
		Seed:      seedApp(seedFlight(flightB, "Insiders", publishedB, &storefake.SeedRollout{Percentage: 30, Fallback: "1152921504621240001"})),
	})
	fifo := filepath.Join(w.dir, "outputs.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	var first, second time.Time
	stillRunning := false
	during := func(p *os.Process, exited <-chan struct{}) {
		// The raise is the run's last request; then it writes its outputs.
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for len(apiRequests(w.sim.Requests(), http.MethodPost, "/updatepackagerolloutpercentage")) == 0 {
			select {
			case <-exited:
				return
			case <-tick.C:
			}
		}
		first = time.Now()
		if err := p.Signal(os.Interrupt); err != nil {
			t.Errorf("first SIGINT: %v", err)
		}
		select {
		case <-exited:
			return
		case <-time.After(500 * time.Millisecond):
			stillRunning = true
		}
		second = time.Now()
		if err := p.Signal(os.Interrupt); err != nil {
			t.Errorf("second SIGINT: %v", err)
		}
	}
	// A binary that cannot be quit is killed when this context ends, and
	// the harness then fails the test.
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	res := w.run(ctx, invocation{
		Inputs: map[string]string{"flight-id": flightB, "rollout-percentage": "50", "output-file": fifo},
		During: during,
	})
	if !stillRunning {
		t.Fatalf("the run ended after the first SIGINT (exit %d): the test did not reach a stuck shutdown\n%s", res.Code, res.log())
	}
	if res.Code != 130 {
		t.Errorf("exit code %d, want 130\n%s", res.Code, res.log())
	}
	if took := res.Ended.Sub(second); took > 2*time.Second {
		t.Errorf("exited %s after the second SIGINT, want at once", took)
	}
	if !strings.Contains(res.Stderr, "second SIGINT: quitting now") || !strings.Contains(res.Stderr, "re-run with the same inputs") {
		t.Errorf("stderr does not say why it quit\n%s", res.log())
	}
	t.Logf("first SIGINT %s after start, exit %s after the second", first.Sub(res.Started).Round(time.Millisecond), res.Ended.Sub(second).Round(time.Millisecond))
}
