package upload

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// zeroFile is a synthetic file of zeros, so a 4 GiB entry costs no disk.
type zeroFile struct{ *io.SectionReader }

func (zeroFile) Close() error { return nil }

type zeros struct{}

func (zeros) ReadAt(p []byte, _ int64) (int, error) { clear(p); return len(p), nil }

// sparseWriter writes to a file but seeks over all-zero chunks, keeping the
// multi-gigabyte archive sparse on disk.
type sparseWriter struct {
	f   *os.File
	off int64
}

// zeroChunk is compared with memequal (assembly), which keeps the test fast
// under the race detector, unlike a byte loop.
var zeroChunk = make([]byte, 1<<20)

func (s *sparseWriter) Write(p []byte) (int, error) {
	if len(p) <= len(zeroChunk) && bytes.Equal(p, zeroChunk[:len(p)]) {
		s.off += int64(len(p))
		return len(p), nil
	}
	n, err := s.f.WriteAt(p, s.off)
	s.off += int64(n)
	return n, err
}

// An entry of 4 GiB or more needs ZIP64 records: sizes in the local header's
// extra field (Go's CreateRaw alone leaves 0xFFFFFFFF there with no extra),
// and in the central directory; an entry after it needs a ZIP64 offset.
func TestZIP64(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and CRCs 4 GiB of zeros (a few seconds)")
	}
	t.Parallel()
	const big = 4<<30 + 5
	small := []byte("after the big one")
	entries := []entry{
		{File: File{Path: "a", Name: "a.msix"}, size: 3, modTime: time.Unix(0, 0)},
		{File: File{Path: "big", Name: "big.msix"}, size: big, modTime: time.Unix(0, 0)},
		{File: File{Path: "c", Name: "c.msix"}, size: int64(len(small)), modTime: time.Unix(0, 0)},
	}
	open := func(path string) (io.ReadSeekCloser, error) {
		switch path {
		case "a":
			return zeroFile{io.NewSectionReader(bytes.NewReader([]byte("abc")), 0, 3)}, nil
		case "big":
			return zeroFile{io.NewSectionReader(zeros{}, 0, big)}, nil
		case "c":
			return zeroFile{io.NewSectionReader(bytes.NewReader(small), 0, int64(len(small)))}, nil
		}
		return nil, fmt.Errorf("no %s", path)
	}

	out, err := os.Create(filepath.Join(t.TempDir(), "big.zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	sw := &sparseWriter{f: out}
	n, err := writeZIPFrom(sw, entries, open)
	if err != nil {
		t.Fatal(err)
	}
	if err := out.Truncate(n); err != nil {
		t.Fatal(err)
	}
	size, err := zipSize(entries)
	if err != nil {
		t.Fatal(err)
	}
	if size != n {
		t.Errorf("zipSize = %d, wrote %d", size, n)
	}

	// The segmented archive that ZIP uploads holds the same headers at the
	// same offsets, and its first block is the file's first 8 MiB.
	a, err := newArchive(entries, DefaultBlockSize, func(p string) (source, error) {
		rc, err := open(p)
		if err != nil {
			return nil, err
		}
		return rc.(source), nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	if err := prereadAll(a); err != nil {
		t.Fatal(err)
	}
	if a.size != n {
		t.Errorf("segmented archive is %d bytes, WriteZIP wrote %d", a.size, n)
	}
	for _, s := range a.segs {
		if s.data {
			continue
		}
		want := make([]byte, s.n)
		if _, err := out.ReadAt(want, s.off); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(s.hdr, want) {
			t.Errorf("header segment at %d: %x, WriteZIP wrote %x", s.off, s.hdr, want)
		}
	}
	first, err := io.ReadAll(a.block(0))
	if err != nil {
		t.Fatal(err)
	}
	want := make([]byte, len(first))
	if _, err := out.ReadAt(want, 0); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, want) {
		t.Error("the segmented archive's first block differs from WriteZIP's")
	}

	zr, err := zip.NewReader(out, n)
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != 3 || zr.File[1].UncompressedSize64 != big || zr.File[1].Method != zip.Store {
		t.Fatalf("entries: %+v", zr.File)
	}
	rc, err := zr.File[2].Open()
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, small) {
		t.Errorf("entry after the big one = %q, %v", got, err)
	}

	// The big entry's local header, read as a streaming reader would.
	var lh [30 + len("big.msix") + 20]byte
	if _, err := out.ReadAt(lh[:], 30+int64(len("a.msix"))+3); err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	if le.Uint32(lh[0:]) != 0x04034b50 || le.Uint16(lh[6:])&0x8 != 0 {
		t.Fatalf("local header: signature %#x flags %#x", le.Uint32(lh[0:]), le.Uint16(lh[6:]))
	}
	if le.Uint16(lh[4:]) < 45 {
		t.Errorf("version needed %d, want 45 for ZIP64", le.Uint16(lh[4:]))
	}
	extra := lh[30+len("big.msix"):]
	if le.Uint16(lh[28:]) != 20 || le.Uint16(extra[0:]) != 1 || le.Uint16(extra[2:]) != 16 ||
		le.Uint64(extra[4:]) != big || le.Uint64(extra[12:]) != big {
		t.Errorf("local ZIP64 extra = %x, want id 1, length 16, both sizes %d", extra, uint64(big))
	}
}
