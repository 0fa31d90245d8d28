package upload

import (
	"context"
	"math"
	"testing"
	"time"
)

// link is a model of a network path for the flight to adapt to: each
// connection carries at most perConn bytes a second, all of them together
// at most total, and every block waits rtt for its answer.
type link struct {
	perConn, total float64
	rtt            time.Duration
}

// simulate sends blocks of 8 MiB over l, as many at once as f allows, in
// steps of 5 ms of simulated time, and returns the most blocks that were
// ever in flight and the time the upload took.
func simulate(t *testing.T, f *flight, l link, blocks int) (most int, took time.Duration) {
	t.Helper()
	const size, step = 8 << 20, 5 * time.Millisecond
	type inFlight struct {
		left    float64
		started time.Duration
		waiting time.Duration // the answer's round trip, once the data is sent
	}
	var active []*inFlight
	var now time.Duration
	for sent := 0; sent < blocks || len(active) > 0; now += step {
		for sent < blocks && len(f.slots) > 0 {
			if !f.acquire(context.Background()) {
				t.Fatal("acquire failed with a token waiting")
			}
			active = append(active, &inFlight{left: size, started: now, waiting: l.rtt})
			sent++
		}
		most = max(most, len(active))
		rate := min(l.perConn, l.total/float64(len(active)))
		kept := active[:0]
		for _, b := range active {
			if b.left > 0 {
				b.left -= rate * step.Seconds()
			} else if b.waiting -= step; b.waiting <= 0 {
				f.release(size, now+step-b.started)
				continue
			}
			kept = append(kept, b)
		}
		active = kept
		if now > time.Hour {
			t.Fatal("simulated upload never ended")
		}
	}
	return most, now
}

// The blocks in flight grow where more connections carry more (a limit
// per connection, a long round trip) and stay few where the connections
// share one bottleneck that a few already fill.
func TestFlightAdaptsToTheLink(t *testing.T) {
	t.Parallel()
	const mb = 1e6
	tests := []struct {
		name         string
		link         link
		blocks       int
		least, most  int // bounds on the most blocks in flight at any time
		wantSettled  bool
		settledUnder int
	}{
		{"10 MB/s a connection, 60 ms, 2 GiB", link{10 * mb, math.Inf(1), 60 * time.Millisecond}, 256, maxInFlight, maxInFlight, false, 0},
		{"40 MB/s a connection, 30 ms, 256 MiB", link{40 * mb, math.Inf(1), 30 * time.Millisecond}, 32, 16, maxInFlight, false, 0},
		{"loopback: one 1500 MB/s bottleneck", link{math.Inf(1), 1500 * mb, 0}, 256, startInFlight, 12, true, 8},
		{"10 MB/s a connection, 200 MB/s in all", link{10 * mb, 200 * mb, 20 * time.Millisecond}, 256, 20, 40, true, 33},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFlight(startInFlight, maxInFlight, true, 8<<20)
			most, took := simulate(t, f, tt.link, tt.blocks)
			t.Logf("most in flight %d, limit at the end %d, took %v", most, f.current(), took)
			if most < tt.least || most > tt.most {
				t.Errorf("most blocks in flight %d, want %d to %d", most, tt.least, tt.most)
			}
			if f.growing == tt.wantSettled {
				t.Errorf("still growing at the end: %v, want %v", f.growing, !tt.wantSettled)
			}
			if tt.wantSettled && f.current() > tt.settledUnder {
				t.Errorf("settled at %d blocks in flight, want at most %d", f.current(), tt.settledUnder)
			}
			if got := len(f.slots) + f.debt; got != f.current() {
				t.Errorf("%d tokens and debts for a limit of %d", got, f.current())
			}
		})
	}
}

// With a fixed count, or for a block too small to say anything about the
// bandwidth, the limit does not move.
func TestFlightFixedAndSmallBlocks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fixed := newFlight(3, 3, false, 8<<20)
	fixed.acquire(ctx)
	fixed.release(8<<20, time.Second)
	if got := fixed.current(); got != 3 {
		t.Errorf("fixed flight moved to %d", got)
	}
	f := newFlight(startInFlight, maxInFlight, true, 8<<20)
	f.acquire(ctx)
	f.release(8<<20, time.Second) // 8 MiB/s: the best so far; grows by 2
	f.acquire(ctx)
	f.release(1000, time.Second) // the archive's last few bytes: no signal
	if got := f.current(); got != startInFlight+2 {
		t.Errorf("limit %d after one full block and one tiny one, want %d", got, startInFlight+2)
	}
}

// One block slowed by something else on the machine does not end the
// growth; blocks that stay slow settle the count.
func TestFlightIgnoresOneSlowBlock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFlight(startInFlight, maxInFlight, true, 8<<20)
	send := func(took time.Duration) {
		f.acquire(ctx)
		f.release(8<<20, took)
	}
	for range 4 {
		send(time.Second)
	}
	send(4 * time.Second) // a quarter of the speed, once
	send(time.Second)
	if !f.growing || f.current() != startInFlight+12 {
		t.Fatalf("after one slow block: growing %v at %d, want growing at %d", f.growing, f.current(), startInFlight+12)
	}
	send(4 * time.Second)
	send(4 * time.Second)
	if f.growing {
		t.Fatalf("still growing at %d after blocks that stay slow", f.current())
	}
	// The count settles at what fills the bottleneck at the fastest
	// speed, a quarter more: 16 blocks at a quarter speed, times 1.25.
	if got := f.current(); got != 5 {
		t.Errorf("settled at %d blocks in flight, want 5", got)
	}
}
