package upload

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// block returns block k's body. It re-reads from the files on every
// attempt (it is seekable, so the SDK's retries rewind it) and CRCs the
// data it hands out, for sent or verify.
func (a *archive) block(k int64) *blockBody {
	start, end := k*a.blockSize, min((k+1)*a.blockSize, a.size)
	b := &blockBody{a: a, off: start, n: end - start}
	lo, hi := a.piecesIn(k)
	for j := lo; j < hi; j++ {
		p := a.pieces[j]
		b.checks = append(b.checks, check{start: p.off - start, end: p.off - start + p.n, want: p.crc, idx: p.idx, piece: j})
	}
	return b
}

type check struct {
	start, end int64 // in the block
	want, got  uint32
	idx, piece int
}

type blockBody struct {
	a      *archive
	off, n int64
	pos    int64
	// covered is how far the block has been read in one run from its
	// start since the last rewind; got sums cover exactly that.
	covered int64
	checks  []check
}

func (b *blockBody) Read(p []byte) (int, error) {
	if b.pos >= b.n {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), b.n-b.pos)]
	if err := b.a.readAt(p, b.off+b.pos); err != nil {
		return 0, err
	}
	if b.pos == b.covered {
		lo, hi := b.pos, b.pos+int64(len(p))
		for i := range b.checks {
			c := &b.checks[i]
			s, e := max(c.start, lo), min(c.end, hi)
			if s < e {
				c.got = crc32.Update(c.got, crc32.IEEETable, p[s-lo:e-lo])
			}
		}
		b.covered = hi
	}
	b.pos += int64(len(p))
	return len(p), nil
}

func (b *blockBody) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += b.pos
	case io.SeekEnd:
		offset += b.n
	default:
		return 0, errors.New("blockBody.Seek: invalid whence")
	}
	if offset < 0 {
		return 0, errors.New("blockBody.Seek: negative position")
	}
	if offset == 0 {
		b.covered = 0
		for i := range b.checks {
			b.checks[i].got = 0
		}
	}
	b.pos = offset
	return offset, nil
}

func (b *blockBody) Close() error { return nil }

// sums completes the CRCs of the data sent, once the block has been
// accepted. A server that answered before reading it all leaves them
// short; then the block is read again for them.
func (b *blockBody) sums() error {
	if b.covered == b.n {
		return nil
	}
	if _, err := b.Seek(0, io.SeekStart); err != nil {
		return err
	}
	_, err := io.CopyBuffer(io.Discard, onlyReader{b}, make([]byte, 256<<10))
	return err
}

// verify checks, once the block has been accepted, that the data it sent
// is what the first read found.
func (b *blockBody) verify() error {
	if err := b.sums(); err != nil {
		return err
	}
	for _, c := range b.checks {
		if c.got != c.want {
			e := b.a.entries[c.idx]
			return fmt.Errorf("%s: %w between reads", e.Path, ErrChanged)
		}
	}
	return nil
}
