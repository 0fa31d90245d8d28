package upload

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sort"
	"sync"
	"time"
)

// source is an open package file. Tests swap in synthetic ones larger than
// 4 GiB that cost neither disk nor minutes of reading.
type source interface {
	io.ReaderAt
	io.Closer
}

type sourceOpener func(path string) (source, error)

func openSource(path string) (source, error) { return os.Open(path) }

// segment is a contiguous range of the archive: either bytes that
// archive/zip writes (a local header, or the central directory and end
// records) or the data of one entry, read from its file.
type segment struct {
	off, n int64
	data   bool
	// idx is the entry whose local header or data this is; for the
	// central directory it is len(entries).
	idx int
	// hdr holds a header segment's bytes once they are known.
	hdr []byte
}

// piece is the part of an entry's data that falls in one block, with the
// CRC-32 of its bytes: of the bytes sent, for a block of data alone; of a
// first read, for a block that also holds header bytes (that read is
// checked against the one sent).
type piece struct {
	off, n int64 // in the archive
	idx    int
	crc    uint32
}

// archive is the ZIP that WriteZIP would write, laid out in segments
// whose offsets are known from stat alone: header lengths do not depend on
// the CRC values that fill them. It is cut into blocks of blockSize. A
// block of entry data alone can be sent at once, and the CRC of what it
// sent counts towards its entry's: those bytes are read once. A block
// that holds header bytes (a local header or the central directory) must
// wait for the CRCs they carry, so its data is read ahead for its CRC and
// again when it is sent, last.
type archive struct {
	entries   []entry
	files     []source
	segs      []segment
	size      int64
	blockSize int64
	pieces    []piece // in archive order
	// first[i] is the index of entry i's first piece; first[len(entries)]
	// is len(pieces).
	first []int
	// hasHdr[k] says block k holds header bytes.
	hasHdr []bool
	// hdrSeg[i] is the segment index of entry i's local header;
	// hdrSeg[len(entries)] that of the central directory.
	hdrSeg []int

	errOnce sync.Once
	err     error // the first error that makes the archive unusable
	onErr   func(error)
}

// newArchive lays out the archive of entries, cut into blocks of blockSize,
// and opens every file. onErr is called once, with the first error that
// spoils the archive (a file unreadable or changed).
func newArchive(entries []entry, blockSize int64, open sourceOpener, onErr func(error)) (*archive, error) {
	a := &archive{entries: entries, blockSize: blockSize, onErr: onErr}
	segs, size, err := layout(entries, nil)
	if err != nil {
		return nil, err
	}
	a.segs, a.size = segs, size
	a.hasHdr = make([]bool, a.numBlocks())
	a.first = make([]int, len(entries)+1)
	a.hdrSeg = make([]int, len(entries)+1)
	for j := range segs {
		s := &segs[j]
		if !s.data {
			// Filled in once the CRCs it carries are known.
			s.hdr = nil
			for k := s.off / blockSize; k <= (s.off+s.n-1)/blockSize; k++ {
				a.hasHdr[k] = true
			}
			a.hdrSeg[s.idx] = j
			if s.idx < len(entries) {
				a.first[s.idx] = len(a.pieces)
			}
			continue
		}
		for off := s.off; off < s.off+s.n; {
			end := min((off/blockSize+1)*blockSize, s.off+s.n)
			a.pieces = append(a.pieces, piece{off: off, n: end - off, idx: s.idx})
			off = end
		}
	}
	a.first[len(entries)] = len(a.pieces)
	a.files = make([]source, len(entries))
	for i, e := range entries {
		f, err := open(e.Path)
		if err != nil {
			a.close()
			return nil, err
		}
		a.files[i] = f
	}
	return a, nil
}

func (a *archive) close() {
	for _, f := range a.files {
		if f != nil {
			f.Close()
		}
	}
}

// fail records err as the archive's error, if it is the first, and
// returns it.
func (a *archive) fail(err error) error {
	a.errOnce.Do(func() {
		a.err = err
		if a.onErr != nil {
			a.onErr(err)
		}
	})
	return err
}

// layout runs archive/zip over a recorder, writing each entry's length
// without its bytes, so that every header detail (ZIP64 records included)
// is exactly what WriteZIP writes. crcs may be nil (all zero): only the
// header bytes depend on them, not the offsets.
func layout(entries []entry, crcs []uint32) ([]segment, int64, error) {
	rec := &recorder{}
	zw := zip.NewWriter(rec)
	zero := make([]byte, 1<<20)
	for i, e := range entries {
		var crc uint32
		if crcs != nil {
			crc = crcs[i]
		}
		rec.data, rec.idx = false, i
		ew, err := createRaw(zw, header(e, crc))
		if err != nil {
			return nil, 0, fmt.Errorf("add %s: %w", e.Name, err)
		}
		// archive/zip buffers its output: flush at each boundary so that
		// the recorder sees exactly which bytes are header and which data.
		if err := zw.Flush(); err != nil {
			return nil, 0, err
		}
		rec.data = true
		for left := e.size; left > 0; {
			n := min(left, int64(len(zero)))
			if _, err := ew.Write(zero[:n]); err != nil {
				return nil, 0, err
			}
			left -= n
		}
		if err := zw.Flush(); err != nil {
			return nil, 0, err
		}
	}
	rec.data, rec.idx = false, len(entries)
	if err := zw.Close(); err != nil {
		return nil, 0, err
	}
	return rec.segs, rec.off, nil
}

// recorder keeps header bytes and only counts data bytes.
type recorder struct {
	segs []segment
	off  int64
	data bool
	idx  int
}

func (r *recorder) Write(p []byte) (int, error) {
	n := int64(len(p))
	if n == 0 {
		return 0, nil
	}
	if k := len(r.segs) - 1; k >= 0 && r.segs[k].data == r.data && r.segs[k].idx == r.idx {
		r.segs[k].n += n
		if !r.data {
			r.segs[k].hdr = append(r.segs[k].hdr, p...)
		}
	} else {
		s := segment{off: r.off, n: n, data: r.data, idx: r.idx}
		if !r.data {
			s.hdr = append([]byte(nil), p...)
		}
		r.segs = append(r.segs, s)
	}
	r.off += n
	return len(p), nil
}

// piecesIn is the range of a.pieces that fall in block k.
func (a *archive) piecesIn(k int64) (lo, hi int) {
	start, end := k*a.blockSize, min((k+1)*a.blockSize, a.size)
	lo = sort.Search(len(a.pieces), func(i int) bool { return a.pieces[i].off >= start })
	hi = lo
	for hi < len(a.pieces) && a.pieces[hi].off < end {
		hi++
	}
	return lo, hi
}

// preread records the CRC of each piece of block k, read from the files:
// the first read of a block that holds header bytes.
func (a *archive) preread(k int64, buf []byte) error {
	lo, hi := a.piecesIn(k)
	for j := lo; j < hi; j++ {
		p := &a.pieces[j]
		crc, err := a.crcRange(p.idx, p.off-a.pieces[a.first[p.idx]].off, p.n, buf)
		if err != nil {
			return err
		}
		p.crc = crc
	}
	return nil
}

// sent records the CRCs of what block k's body sent as its pieces' CRCs.
func (a *archive) sent(b *blockBody) {
	for _, c := range b.checks {
		a.pieces[c.piece].crc = c.got
	}
}

// finish fills in every header not yet filled in once all pieces' CRCs are
// known: archive/zip writes the whole archive once more, with the entries'
// CRCs combined from their pieces, and its layout, and the local headers
// already filled in, must be the ones served.
func (a *archive) finish() error {
	crcs := make([]uint32, len(a.entries))
	for i := range a.entries {
		crcs[i] = a.entryCRC(i)
	}
	segs, size, err := layout(a.entries, crcs)
	if err != nil {
		return err
	}
	if size != a.size || len(segs) != len(a.segs) {
		return fmt.Errorf("archive laid out as %d bytes, now %d", a.size, size)
	}
	for i, s := range segs {
		if s.off != a.segs[i].off || s.n != a.segs[i].n || s.data != a.segs[i].data || s.idx != a.segs[i].idx {
			return fmt.Errorf("archive segment %d at %d differs from its layout", i, s.off)
		}
	}
	for i, s := range segs {
		switch {
		case s.data:
		case a.segs[i].hdr == nil:
			a.segs[i].hdr = s.hdr
		case !bytes.Equal(a.segs[i].hdr, s.hdr):
			return fmt.Errorf("archive header at %d differs from the one sent", s.off)
		}
	}
	return nil
}

// entryCRC combines the CRCs of entry i's pieces.
func (a *archive) entryCRC(i int) uint32 {
	var crc uint32
	for j := a.first[i]; j < a.first[i+1]; j++ {
		crc = crc32Combine(crc, a.pieces[j].crc, a.pieces[j].n)
	}
	return crc
}

// fillLocal fills in entry i's local header once all its pieces' CRCs are
// known, ahead of the rest of the archive.
func (a *archive) fillLocal(i int) error {
	e := a.entries[i]
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	if _, err := createRaw(zw, header(e, a.entryCRC(i))); err != nil {
		return fmt.Errorf("add %s: %w", e.Name, err)
	}
	if err := zw.Flush(); err != nil {
		return err
	}
	s := &a.segs[a.hdrSeg[i]]
	if int64(buf.Len()) != s.n {
		return fmt.Errorf("add %s: local header of %d bytes, laid out as %d", e.Name, buf.Len(), s.n)
	}
	s.hdr = buf.Bytes()
	return nil
}

// unchanged fails if any file's size or modification time differs from
// what stat found before the upload. It is what catches a file rewritten
// in place while its data blocks were sent, since those are read once.
func (a *archive) unchanged() error {
	for _, e := range a.entries {
		fi, err := os.Stat(e.Path)
		if err != nil {
			return err
		}
		if fi.Size() != e.size || !fi.ModTime().Equal(e.modTime) {
			return fmt.Errorf("%s: %w: size %d modified %s, now size %d modified %s", e.Path, ErrChanged,
				e.size, e.modTime.Format(time.RFC3339Nano), fi.Size(), fi.ModTime().Format(time.RFC3339Nano))
		}
	}
	return nil
}

func (a *archive) crcRange(i int, off, n int64, buf []byte) (uint32, error) {
	var crc uint32
	for n > 0 {
		b := buf[:min(n, int64(len(buf)))]
		if err := a.readFile(i, b, off); err != nil {
			return 0, err
		}
		crc = crc32.Update(crc, crc32.IEEETable, b)
		off += int64(len(b))
		n -= int64(len(b))
	}
	return crc, nil
}

// readFile fills b from entry i's file at off; a file shorter than it was
// at stat is a changed file.
func (a *archive) readFile(i int, b []byte, off int64) error {
	n, err := a.files[i].ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	e := a.entries[i]
	if err == io.EOF || err == nil {
		return fmt.Errorf("%s: %w: size %d, now %d", e.Path, ErrChanged, e.size, off+int64(n))
	}
	return fmt.Errorf("read %s: %w", e.Path, err)
}

// readAt fills b from the archive at off. Every header it covers must be
// filled in (finish) first.
func (a *archive) readAt(b []byte, off int64) error {
	i := a.segAt(off)
	for len(b) > 0 {
		if i >= len(a.segs) {
			return io.ErrUnexpectedEOF
		}
		s := &a.segs[i]
		rel := off - s.off
		n := min(int64(len(b)), s.n-rel)
		if s.data {
			if err := a.readFile(s.idx, b[:n], rel); err != nil {
				a.fail(err)
				return err
			}
		} else {
			if s.hdr == nil {
				return errors.New("archive header read before it was ready")
			}
			copy(b[:n], s.hdr[rel:])
		}
		b = b[n:]
		off += n
		i++
	}
	return nil
}

// segAt is the index of the segment holding archive offset off.
func (a *archive) segAt(off int64) int {
	return sort.Search(len(a.segs), func(i int) bool { return a.segs[i].off+a.segs[i].n > off })
}

// numBlocks is how many blocks the archive is cut into (it is never
// empty: even no entries make an end record).
func (a *archive) numBlocks() int64 {
	return (a.size + a.blockSize - 1) / a.blockSize
}
