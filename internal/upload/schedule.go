package upload

import (
	"context"
	"sync/atomic"
)

// schedule decides which block a worker takes next. Blocks are taken in
// archive order, so that reads move forwards through the files. A block
// of entry data alone is sent at once; a block that holds header bytes
// ("held") is first only read for the CRCs of its data, and sent once
// everything it waits for is known: that read, and each header it holds
// (a local header once its entry's pieces all have CRCs, the central
// directory once every entry's do). A held block that has become ready
// goes before the next block in order, because it is the one holding the
// others' place in the block list.
type schedule struct {
	a        *archive
	pending  []atomic.Int64 // per entry: pieces without a CRC yet
	deps     []atomic.Int32 // per block: what a held block still waits for
	left     atomic.Int64   // entries without a CRC yet
	next     atomic.Int64   // the next block in archive order not yet taken
	ready    chan int64     // each held block once, when it may be sent
	held     int64
	pushed   atomic.Int64
	sentHeld atomic.Int64
}

// task is a block for a worker: a first visit in archive order (send it,
// or for a held block read it for its CRCs) or, when ready is set, a held
// block to send now.
type task struct {
	k     int64
	ready bool
}

// take returns the next task: a held block that is ready, else the next
// block in archive order, else (every block taken) the next held block to
// become ready. ok is false once nothing is left or ctx has ended.
func (s *schedule) take(ctx context.Context) (t task, ok bool) {
	select {
	case k, open := <-s.ready:
		if open {
			return task{k: k, ready: true}, true
		}
	default:
	}
	if k := s.next.Add(1) - 1; k < s.a.numBlocks() {
		return task{k: k}, true
	}
	select {
	case k, open := <-s.ready:
		return task{k: k, ready: true}, open
	case <-ctx.Done():
		return task{}, false
	}
}

// allSent says whether every held block has been sent.
func (s *schedule) allSent() bool { return s.sentHeld.Load() == s.held }

func newSchedule(a *archive) (*schedule, error) {
	s := &schedule{
		a:       a,
		pending: make([]atomic.Int64, len(a.entries)),
		deps:    make([]atomic.Int32, a.numBlocks()),
	}
	for k, h := range a.hasHdr {
		if h {
			s.held++
			s.deps[k].Add(1) // its own CRC read
		}
	}
	for _, j := range a.hdrSeg {
		for k := range s.blocksOf(j) {
			s.deps[k].Add(1)
		}
	}
	s.ready = make(chan int64, s.held)
	s.left.Store(int64(len(a.entries)))
	for i := range a.entries {
		s.pending[i].Store(int64(a.first[i+1] - a.first[i]))
	}
	// Entries without data have their CRC (zero) already; with no
	// entries, so has the central directory.
	if len(a.entries) == 0 {
		if err := s.allKnown(); err != nil {
			return nil, err
		}
	}
	for i := range a.entries {
		if a.first[i+1] == a.first[i] {
			if err := s.entryKnown(i); err != nil {
				return nil, err
			}
		}
	}
	return s, nil
}

// blocksOf yields the blocks that segment j falls in.
func (s *schedule) blocksOf(j int) func(yield func(int64) bool) {
	seg := s.a.segs[j]
	return func(yield func(int64) bool) {
		for k := seg.off / s.a.blockSize; k <= (seg.off+seg.n-1)/s.a.blockSize; k++ {
			if !yield(k) {
				return
			}
		}
	}
}

// crcsKnown records that pieces lo to hi-1 have their CRCs.
func (s *schedule) crcsKnown(lo, hi int) error {
	for j := lo; j < hi; j++ {
		i := s.a.pieces[j].idx
		if s.pending[i].Add(-1) == 0 {
			if err := s.entryKnown(i); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *schedule) entryKnown(i int) error {
	if err := s.a.fillLocal(i); err != nil {
		return err
	}
	s.segKnown(s.a.hdrSeg[i])
	if s.left.Add(-1) == 0 {
		return s.allKnown()
	}
	return nil
}

func (s *schedule) allKnown() error {
	if err := s.a.finish(); err != nil {
		return err
	}
	s.segKnown(s.a.hdrSeg[len(s.a.entries)])
	return nil
}

func (s *schedule) segKnown(j int) {
	for k := range s.blocksOf(j) {
		s.done(k)
	}
}

// done counts one thing held block k waited for; the last makes it ready.
func (s *schedule) done(k int64) {
	if s.deps[k].Add(-1) == 0 {
		s.ready <- k
		if s.pushed.Add(1) == s.held {
			close(s.ready)
		}
	}
}
