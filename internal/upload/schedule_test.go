package upload

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// drain plays one worker over the schedule without a network: a first
// visit of a data block counts its CRCs as known, a first visit of a held
// block reads it for them, and a ready block is checked to have every
// header it holds filled in. It returns the tasks in the order taken.
func drain(t *testing.T, a *archive, s *schedule) []task {
	t.Helper()
	var got []task
	buf := make([]byte, readBufSize)
	for {
		tk, ok := s.take(t.Context())
		if !ok {
			return got
		}
		got = append(got, tk)
		lo, hi := a.piecesIn(tk.k)
		switch {
		case tk.ready:
			start, end := tk.k*a.blockSize, min((tk.k+1)*a.blockSize, a.size)
			for _, seg := range a.segs {
				if !seg.data && seg.off < end && seg.off+seg.n > start && seg.hdr == nil {
					t.Fatalf("block %d handed out with the header at %d not yet known", tk.k, seg.off)
				}
			}
			s.sentHeld.Add(1)
		case a.hasHdr[tk.k]:
			if err := a.preread(tk.k, buf); err != nil {
				t.Fatal(err)
			}
			if err := s.crcsKnown(lo, hi); err != nil {
				t.Fatal(err)
			}
			s.done(tk.k)
		default:
			if err := s.crcsKnown(lo, hi); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func newTestSchedule(t *testing.T, sizes map[string]int) (*archive, *schedule) {
	t.Helper()
	files, _ := writeFiles(t, sizes)
	a := newTestArchive(t, files, openSource)
	s, err := newSchedule(a)
	if err != nil {
		t.Fatal(err)
	}
	return a, s
}

// Blocks are taken in archive order; a block holding headers is first read
// and handed out again, to be sent, once the headers it holds are known,
// ahead of the next block in order.
func TestScheduleOrder(t *testing.T) {
	t.Parallel()
	const mib = 1 << 20
	visit := func(k int64) task { return task{k: k} }
	send := func(k int64) task { return task{k: k, ready: true} }
	tests := []struct {
		name  string
		sizes map[string]int
		want  []task
	}{
		// Block 0: a's header; block 3: a's last bytes and the central
		// directory. Both wait for a's last piece, read in block 3.
		{"one entry", map[string]int{"a.msix": 3 * mib},
			[]task{visit(0), visit(1), visit(2), visit(3), send(0), send(3)}},
		// a ends in block 2, which also holds b's header: once block 2 is
		// read, a's CRC is known and block 0 goes before block 3.
		{"first entry known early", map[string]int{"a.msix": 2 * mib, "b.msix": 3 * mib},
			[]task{visit(0), visit(1), visit(2), send(0), visit(3), visit(4), visit(5), send(2), send(5)}},
		// b's local header straddles blocks 0 and 1: both wait for b.
		{"header across a boundary", map[string]int{"a.msix": mib - 40, "b.msix": 2*mib + 5},
			[]task{visit(0), visit(1), visit(2), visit(3), send(0), send(1), send(3)}},
		{"no data at all", map[string]int{"a.txt": 0},
			[]task{visit(0), send(0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, s := newTestSchedule(t, tt.sizes)
			got := drain(t, a, s)
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(task{})); diff != "" {
				t.Errorf("tasks (-want +got):\n%s", diff)
			}
			if !s.allSent() {
				t.Errorf("%d of %d held blocks sent", s.sentHeld.Load(), s.held)
			}
		})
	}
}

// A worker waiting for a held block that cannot become ready (its CRC
// read failed elsewhere) leaves when the upload is cancelled.
func TestScheduleTakeStopsOnCancel(t *testing.T) {
	t.Parallel()
	_, s := newTestSchedule(t, map[string]int{"a.msix": 3 << 20})
	for range 4 {
		if _, ok := s.take(t.Context()); !ok {
			t.Fatal("take ended before every block was visited")
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if tk, ok := s.take(ctx); ok {
		t.Errorf("take after cancel = %+v, want none", tk)
	}
}
