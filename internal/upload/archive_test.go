package upload

import (
	"bytes"
	"errors"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
)

func TestCRC32Combine(t *testing.T) {
	t.Parallel()
	rng := rand.NewChaCha8([32]byte{9})
	data := make([]byte, 70_000)
	_, _ = rng.Read(data)
	for _, cut := range []int{0, 1, 7, 4096, 65_536, 69_999, 70_000} {
		a, b := data[:cut], data[cut:]
		got := crc32Combine(crc32.ChecksumIEEE(a), crc32.ChecksumIEEE(b), int64(len(b)))
		if want := crc32.ChecksumIEEE(data); got != want {
			t.Errorf("cut at %d: combined %#x, want %#x", cut, got, want)
		}
	}
}

// The uploaded blob must be byte for byte what WriteZIP writes, however
// block boundaries fall: across local headers, inside the central
// directory, between entries, with many entries in one block.
func TestZIPBlobEqualsWriteZIP(t *testing.T) {
	t.Parallel()
	const mib = 1 << 20
	many := map[string]int{}
	for i := range 40 {
		many[string(rune('a'+i%26))+string(rune('A'+i/26))+".msix"] = i * 20_000
	}
	tests := []struct {
		name  string
		sizes map[string]int
		conc  int
	}{
		// 30 + len("a.msix") + 1 MiB - 40 puts b.msix's header across the first boundary.
		{"header across a block boundary", map[string]int{"a.msix": mib - 40, "b.msix": 2*mib + 5}, 3},
		{"data ends on a block boundary", map[string]int{"a.msix": mib - 36, "b.msix": 100}, 2},
		{"central directory across a boundary", map[string]int{"a.msix": 2*mib - 80}, 4},
		{"many entries per block", many, 4},
		{"empty entries between", map[string]int{"a.msix": 3 * mib, "b.txt": 0, "c.txt": 0, "d.msix": mib + 1}, 1},
		{"exactly one block", map[string]int{"a.msix": mib - 30 - 6 - 46 - 6 - 22}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, srv := newSink(t)
			files, _ := writeFiles(t, tt.sizes)
			var want bytes.Buffer
			if _, err := WriteZIP(&want, files); err != nil {
				t.Fatal(err)
			}
			res, err := ZIP(t.Context(), srv.URL+"/c/b"+sinkQuery, files,
				&Options{BlockSize: mib, Concurrency: tt.conc, Transport: srv.Client(), Retry: fastRetry(), SHA256: true})
			if err != nil {
				t.Fatal(err)
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			if !bytes.Equal(s.blob, want.Bytes()) {
				t.Fatalf("blob (%d bytes) differs from WriteZIP's archive (%d bytes) at byte %d",
					len(s.blob), want.Len(), firstDiff(s.blob, want.Bytes()))
			}
			if res.Bytes != int64(want.Len()) {
				t.Errorf("Result.Bytes = %d, want %d", res.Bytes, want.Len())
			}
		})
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// A file that changes while its blocks are sent must fail the upload with
// ErrChanged and leave the block list uncommitted: its size or
// modification time differs from stat's. The sink changes the file once
// the first block is stored; one block at a time, so later blocks are read
// after that.
func TestZIPFileChangedDuringUpload(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(path string) error
	}{
		{"rewritten, same size", func(p string) error {
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = f.WriteAt([]byte("changed"), 3<<20)
			return err
		}},
		{"grown", func(p string) error {
			f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = f.Write([]byte("more"))
			return err
		}},
		{"shrunk", func(p string) error { return os.Truncate(p, 2<<20) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, srv := newSink(t)
			files, _ := writeFiles(t, map[string]int{"a.msix": 4<<20 + 10})
			// Back-date the file, so that the change moves its modification
			// time whatever the file system's timestamp granularity.
			if err := os.Chtimes(files[0].Path, time.Time{}, time.Now().Add(-time.Hour)); err != nil {
				t.Fatal(err)
			}
			changeErr := make(chan error, 1)
			s.stored = func(n int) {
				if n == 1 {
					changeErr <- tt.change(files[0].Path)
				}
			}
			_, err := ZIP(t.Context(), srv.URL+"/c/b"+sinkQuery, files,
				&Options{BlockSize: 1 << 20, Concurrency: 1, Transport: srv.Client(), Retry: fastRetry()})
			if cerr := <-changeErr; cerr != nil {
				t.Fatal(cerr)
			}
			if !errors.Is(err, ErrChanged) {
				t.Errorf("err = %v, want ErrChanged", err)
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.committed {
				t.Error("the block list of a changed file was committed")
			}
		})
	}
}

// newTestArchive lays out files in blocks of 1 MiB, opened with open.
func newTestArchive(t *testing.T, files []File, open sourceOpener) *archive {
	t.Helper()
	entries, err := stat(files)
	if err != nil {
		t.Fatal(err)
	}
	a, err := newArchive(entries, 1<<20, open, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.close)
	return a
}

// prereadAll reads every block for its CRCs, as if each held header bytes,
// and fills in the headers.
func prereadAll(a *archive) error {
	buf := make([]byte, 256<<10)
	for k := range a.numBlocks() {
		if err := a.preread(k, buf); err != nil {
			return err
		}
	}
	return a.finish()
}

// A block body read only in part (a server that answered early) is read
// again for its check; one rewound and re-read checks only the last run.
func TestBlockBodyVerify(t *testing.T) {
	t.Parallel()
	files, want := writeFiles(t, map[string]int{"a.msix": 3<<20 + 5})
	a := newTestArchive(t, files, openSource)
	if err := prereadAll(a); err != nil {
		t.Fatal(err)
	}

	b := a.block(1)
	if _, err := io.ReadFull(b, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Seek(0, io.SeekEnd); err != nil {
		t.Fatal(err)
	}
	if err := b.verify(); err != nil {
		t.Errorf("partly read block: %v", err)
	}

	b = a.block(2)
	got, err := io.ReadAll(b)
	if err != nil {
		t.Fatal(err)
	}
	off := 2<<20 - int(a.segs[1].off) // block 2 in a.msix's data
	if !bytes.Equal(want["a.msix"][off:off+1<<20], got) {
		t.Errorf("block 2 is not a.msix's bytes at %d", off)
	}
	b.checks[0].got ^= 1 // as if the first run had read something else
	if _, err := b.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(b); err != nil {
		t.Fatal(err)
	}
	if err := b.verify(); err != nil {
		t.Errorf("rewound and re-read block: %v", err)
	}
	b.checks[0].got ^= 1
	if err := b.verify(); !errors.Is(err, ErrChanged) {
		t.Errorf("block whose sum differs: err = %v, want ErrChanged", err)
	}
}

// The data blocks are read once, so a rewrite that keeps both size and
// modification time goes unseen (the documented limit); but each entry's
// CRC is that of the bytes sent, so the blob is still a valid archive, of
// the new contents. The rewrite falls in block 3, entry data alone, not
// yet read when the first block (block 1) is stored.
func TestZIPUnseenRewriteStillValid(t *testing.T) {
	t.Parallel()
	s, srv := newSink(t)
	files, want := writeFiles(t, map[string]int{"a.msix": 4<<20 + 10})
	p := files[0].Path
	mtime := time.Now().Add(-time.Hour)
	if err := os.Chtimes(p, time.Time{}, mtime); err != nil {
		t.Fatal(err)
	}
	changed := []byte("changed")
	copy(want["a.msix"][3<<20:], changed)
	changeErr := make(chan error, 1)
	s.stored = func(n int) {
		if n != 1 {
			return
		}
		changeErr <- func() error {
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			if _, err := f.WriteAt(changed, 3<<20); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			return os.Chtimes(p, time.Time{}, mtime)
		}()
	}
	_, err := ZIP(t.Context(), srv.URL+"/c/b"+sinkQuery, files,
		&Options{BlockSize: 1 << 20, Concurrency: 1, Transport: srv.Client(), Retry: fastRetry()})
	if cerr := <-changeErr; cerr != nil {
		t.Fatal(cerr)
	}
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	checkArchive(t, s.blob, []string{"a.msix"}, want)
}

// countingSource counts the bytes read from a file.
type countingSource struct {
	source
	n *atomic.Int64
}

func (c countingSource) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.source.ReadAt(p, off)
	c.n.Add(int64(n))
	return n, err
}

// readCount is what uploadCounting saw: the bytes read from the files,
// the entries' data bytes, and those of them in blocks with headers.
type readCount struct{ read, data, withHeaders int64 }

// uploadCounting uploads files in blocks of 1 MiB with opts, counting the
// bytes read from the files, and checks that the blob is WriteZIP's
// archive.
func uploadCounting(t *testing.T, sizes map[string]int, opts *Options) readCount {
	t.Helper()
	const mib = 1 << 20
	s, srv := newSink(t)
	files, _ := writeFiles(t, sizes)
	var wantZIP bytes.Buffer
	if _, err := WriteZIP(&wantZIP, files); err != nil {
		t.Fatal(err)
	}
	var read atomic.Int64
	a := newTestArchive(t, files, func(p string) (source, error) {
		f, err := openSource(p)
		return countingSource{f, &read}, err
	})
	var c readCount
	for _, p := range a.pieces {
		c.data += p.n
		if a.hasHdr[p.off/mib] {
			c.withHeaders += p.n
		}
	}
	client, err := blockblob.NewClientWithNoCredential(srv.URL+"/c/b"+sinkQuery, &blockblob.ClientOptions{
		ClientOptions: azcore.ClientOptions{Transport: guardTransport{next: srv.Client()}, Retry: fastRetry()},
	})
	if err != nil {
		t.Fatal(err)
	}
	opts.BlockSize = mib
	if _, err := upload(t.Context(), client, a, opts); err != nil {
		t.Fatal(err)
	}
	c.read = read.Load()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !bytes.Equal(s.blob, wantZIP.Bytes()) {
		t.Errorf("blob differs from WriteZIP's archive at byte %d", firstDiff(s.blob, wantZIP.Bytes()))
	}
	return c
}

// Entry data in blocks of data alone is read from disk once; only the data
// that shares a block with header bytes is read twice (for its CRC, then
// to send it), and the blob is still WriteZIP's archive.
func TestZIPReadsDataBlocksOnce(t *testing.T) {
	t.Parallel()
	c := uploadCounting(t, map[string]int{"a.msix": 5<<20 + 10, "b.msix": 3 << 20}, &Options{Concurrency: 3})
	if want := c.data + c.withHeaders; c.read != want {
		t.Errorf("read %d bytes from the files, want %d (%d of data, %d of it in blocks with headers)", c.read, want, c.data, c.withHeaders)
	}
	if c.withHeaders >= c.data/2 {
		t.Errorf("%d of %d data bytes share a block with headers: the test no longer tells one read from two", c.withHeaders, c.data)
	}
}

// On a slow link the last blocks are read for their CRCs before they are
// sent, so that the header blocks waiting for them can go at once: more
// data is read than once, and the blob is still WriteZIP's archive. The
// injected clock makes every block take a quarter second or more.
func TestZIPReadsAheadOnASlowLink(t *testing.T) {
	t.Parallel()
	var ticks atomic.Int64
	slowClock := func() time.Time { return time.Unix(0, 0).Add(time.Duration(ticks.Add(1)) * 250 * time.Millisecond) }
	c := uploadCounting(t, map[string]int{"a.msix": 5<<20 + 10, "b.msix": 7 << 20}, &Options{now: slowClock})
	if least := c.data + c.withHeaders + 1<<20; c.read < least {
		t.Errorf("read %d bytes from the files, want more than %d: no block was read ahead", c.read, least)
	}
}
