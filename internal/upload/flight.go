package upload

import (
	"context"
	"math"
	"sync"
	"time"
)

// How many blocks are in flight adapts to the link, with nothing to tune.
//
// A block blob upload is many Put Block requests, each on its own
// connection. What one connection carries is bounded by its path: its
// round trip and window on a long path, a per-flow limit on some networks,
// the blob front end. Loopback or a fast, near path is bounded by the
// machine instead, and a few blocks fill it. So the upload starts with
// startInFlight blocks and, like TCP's slow start, lets two more start for
// each block that finishes (the blocks in flight triple every round trip
// of a block) while the blocks keep their speed: blocks going at least
// keepRate of the fastest seen show that the connections are not yet
// taking bandwidth from each other, and more of them add to the total.
// Once they go slower than that, the blocks share a bottleneck that is
// full: the count settles at what fills it at the fastest speed (the
// blocks in flight times the speed ratio), with a quarter more to cover
// the gap between one block's end and the next one's start, and stays
// there. A block's speed is taken as the median of the last three, so
// that one block slowed by something else on the machine (or sped up by
// luck) neither ends the growth nor sets the bar. Growing takes one or two
// rounds: about 2 s on a path where a block takes 0.9 s.
//
// The cost of a block in flight is a connection's buffers and a
// goroutine (tens of KiB: the data is read from the files as it is sent),
// so maxInFlight bounds the memory to a few MiB, not the link: at 8 MiB
// blocks it fills 64 connections of any speed, 640 MB/s at 10 MB/s each.
// Azure's limit of 2000 requests a second per blob is far off.
//
// A header block waits for the CRCs of the data it heads, which the data
// blocks learn as they are sent; so the header block of an entry that
// ends near the end of the archive would go only once the entry's last
// data block has arrived: one more block time at the end of the upload.
// On a link where a block takes slowBlock or more, the blocks of the last
// two rounds (twice the blocks in flight, from the end) are therefore read
// for their CRCs when they are taken, ahead of sending them (and checked
// against that read as they go), which lets the header blocks go with
// them. On a fast link that second read would cost more than the block
// time it saves.
const (
	slowBlock     = 100 * time.Millisecond
	startInFlight = 4
	maxInFlight   = 64
	keepRate      = 0.6
	headroom      = 1.25
)

// flight hands out the right to send a block: at most limit at once.
// Blocks smaller than half a block (the archive's last one) say more about
// the round trip than the bandwidth and do not count.
type flight struct {
	slots     chan struct{} // one token for each block that may start
	blockSize int64

	mu      sync.Mutex
	limit   int
	max     int
	debt    int // tokens to keep back as blocks end, after the limit fell
	growing bool
	recent  [3]float64 // the speeds of the last blocks, in bytes a second
	seen    int        // blocks counted in recent
	best    float64    // the highest median speed seen
}

// newFlight starts with start blocks in flight; when grow is set it adapts
// up to max, otherwise it stays at start.
func newFlight(start, max int, grow bool, blockSize int64) *flight {
	f := &flight{slots: make(chan struct{}, max), blockSize: blockSize, limit: start, max: max, growing: grow}
	for range start {
		f.slots <- struct{}{}
	}
	return f
}

// acquire waits for the right to send a block. It reports false when ctx
// ends first.
func (f *flight) acquire(ctx context.Context) bool {
	select {
	case <-f.slots:
		return true
	case <-ctx.Done():
		return false
	}
}

// release gives back the right taken by acquire, for a block of n bytes
// that took took to send (zero for one that was not sent), and adapts the
// limit to what the block showed.
func (f *flight) release(n int64, took time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	tokens := 1 + f.adapt(n, took)
	for ; tokens > 0 && f.debt > 0; tokens-- {
		f.debt--
	}
	for range tokens {
		f.slots <- struct{}{}
	}
}

// adapt changes the limit after a block of n bytes that took took, and
// returns by how much it grew; a fall is kept back as debt.
func (f *flight) adapt(n int64, took time.Duration) int {
	if !f.growing || took <= 0 || 2*n < f.blockSize {
		return 0
	}
	f.recent[f.seen%len(f.recent)] = float64(n) / took.Seconds()
	f.seen++
	rate := f.recent[0] // the first block's
	if f.seen >= len(f.recent) {
		a, b, c := f.recent[0], f.recent[1], f.recent[2]
		rate = max(min(a, b), min(max(a, b), c)) // the median
	}
	f.best = max(f.best, rate)
	if f.seen < len(f.recent) || rate >= keepRate*f.best {
		grow := min(2, f.max-f.limit)
		f.limit += grow
		return grow
	}
	f.growing = false
	settle := int(math.Ceil(float64(f.limit) * rate / f.best * headroom))
	settle = min(max(settle, startInFlight), f.limit)
	f.debt += f.limit - settle
	f.limit = settle
	return 0
}

// readAhead says whether a data block left blocks from the end of the
// archive is to be read for its CRCs first.
func (f *flight) readAhead(left int64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	slow := f.best > 0 && f.best*slowBlock.Seconds() < float64(f.blockSize)
	return slow && left <= 2*int64(f.limit)
}

// current is the limit now, for tests and benchmarks.
func (f *flight) current() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.limit
}
