package upload

import (
	"archive/zip"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"time"
	"unicode/utf8"
)

// File is one file to put in the archive.
type File struct {
	// Path is where the file is read from.
	Path string
	// Name is the entry name in the ZIP. The Store matches it against the
	// fileName of each package in the submission, so it is normally the
	// file's base name.
	Name string
}

// ErrChanged reports that a file changed (size or content) while it was
// being archived; the archive written so far must not be used.
var ErrChanged = errors.New("file changed while it was being archived")

const (
	uint32max = 1<<32 - 1
	// zip64ExtraID is the ZIP64 extended information extra field (APPNOTE 4.5.3).
	zip64ExtraID = 0x0001
	// creatorUnix says "made by Unix" in the high byte of the creator version,
	// which makes readers honour ExternalAttrs as Unix permissions (0644).
	creatorUnix  = 3 << 8
	zipVersion20 = 20
	zipVersion45 = 45 // needed to extract entries that use ZIP64
)

// entry is a File plus what was learnt about it from stat.
type entry struct {
	File
	size    int64
	modTime time.Time
}

func stat(files []File) ([]entry, error) {
	entries := make([]entry, 0, len(files))
	seen := make(map[string]bool, len(files))
	for _, f := range files {
		if f.Name == "" {
			return nil, fmt.Errorf("%s: empty entry name", f.Path)
		}
		if seen[f.Name] {
			// Two entries with one name would make the Store pick one of them.
			return nil, fmt.Errorf("duplicate entry name %q", f.Name)
		}
		seen[f.Name] = true
		fi, err := os.Stat(f.Path)
		if err != nil {
			return nil, err
		}
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("%s: not a regular file", f.Path)
		}
		entries = append(entries, entry{File: f, size: fi.Size(), modTime: fi.ModTime()})
	}
	return entries, nil
}

// header builds the stored entry's header. The CRC-32 and sizes are known
// before the entry is written, so the local header carries them and no data
// descriptor follows (some strict readers reject descriptors on stored
// entries).
func header(e entry, crc uint32) *zip.FileHeader {
	fh := &zip.FileHeader{
		Name:               e.Name,
		Method:             zip.Store,
		CRC32:              crc,
		CompressedSize64:   uint64(e.size),
		UncompressedSize64: uint64(e.size),
		CreatorVersion:     creatorUnix | zipVersion20,
		ReaderVersion:      zipVersion20,
		ExternalAttrs:      0o100644 << 16,
	}
	//lint:ignore SA1019 CreateRaw ignores Modified; only these fields reach the header.
	fh.ModifiedDate, fh.ModifiedTime = msDosTime(e.modTime)
	if !isASCII(e.Name) && utf8.ValidString(e.Name) {
		fh.Flags |= 0x800 // names are UTF-8
	}
	if e.size >= uint32max {
		fh.CreatorVersion = creatorUnix | zipVersion45
		fh.ReaderVersion = zipVersion45
	}
	return fh
}

// createRaw starts the entry. For an entry of 4 GiB or more, the local
// header needs a ZIP64 extra field holding the real sizes (CreateRaw writes
// 0xFFFFFFFF there and nothing else); the writer appends its own ZIP64 field
// to the central directory record at Close, so the local one is removed
// again once the local header is out.
func createRaw(zw *zip.Writer, fh *zip.FileHeader) (io.Writer, error) {
	if fh.UncompressedSize64 < uint32max {
		return zw.CreateRaw(fh)
	}
	saved := fh.Extra
	var buf [20]byte
	binary.LittleEndian.PutUint16(buf[0:], zip64ExtraID)
	binary.LittleEndian.PutUint16(buf[2:], 16)
	binary.LittleEndian.PutUint64(buf[4:], fh.UncompressedSize64)
	binary.LittleEndian.PutUint64(buf[12:], fh.CompressedSize64)
	fh.Extra = append(append([]byte(nil), saved...), buf[:]...)
	w, err := zw.CreateRaw(fh)
	fh.Extra = saved
	return w, err
}

// WriteZIP writes the archive of files to w: one stored (uncompressed)
// entry per file, in the given order. Each file is read twice, once for its
// CRC-32 and once for its bytes, so memory use does not depend on file size.
// It returns the number of bytes written. A file that changes between the
// two reads makes it fail with an error wrapping ErrChanged.
func WriteZIP(w io.Writer, files []File) (int64, error) {
	entries, err := stat(files)
	if err != nil {
		return 0, err
	}
	return writeZIP(w, entries)
}

func writeZIP(w io.Writer, entries []entry) (int64, error) {
	return writeZIPFrom(w, entries, openFile)
}

// opener opens an entry's contents; tests swap in synthetic files larger
// than 4 GiB that cost neither disk nor minutes of reading.
type opener func(path string) (io.ReadSeekCloser, error)

func openFile(path string) (io.ReadSeekCloser, error) { return os.Open(path) }

func writeZIPFrom(w io.Writer, entries []entry, open opener) (int64, error) {
	cw := &countWriter{w: w}
	zw := zip.NewWriter(cw)
	buf := make([]byte, 256<<10)
	for _, e := range entries {
		if err := writeEntry(zw, e, open, buf); err != nil {
			return cw.n, err
		}
	}
	if err := zw.Close(); err != nil {
		return cw.n, err
	}
	return cw.n, nil
}

func writeEntry(zw *zip.Writer, e entry, open opener, buf []byte) error {
	f, err := open(e.Path)
	if err != nil {
		return err
	}
	defer f.Close()

	crc := crc32.NewIEEE()
	n, err := io.CopyBuffer(crc, onlyReader{f}, buf)
	if err != nil {
		return fmt.Errorf("read %s: %w", e.Path, err)
	}
	if n != e.size {
		return fmt.Errorf("%s: %w: size %d, then %d", e.Path, ErrChanged, e.size, n)
	}
	sum := crc.Sum32()
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("read %s: %w", e.Path, err)
	}

	ew, err := createRaw(zw, header(e, sum))
	if err != nil {
		return fmt.Errorf("add %s: %w", e.Name, err)
	}
	// The second read is checked too: the header is already out, and an
	// entry whose bytes disagree with it is a corrupt archive.
	crc.Reset()
	n, err = io.CopyBuffer(io.MultiWriter(ew, crc), io.LimitReader(onlyReader{f}, e.size+1), buf)
	if err != nil {
		return fmt.Errorf("add %s: %w", e.Name, err)
	}
	if n != e.size || crc.Sum32() != sum {
		return fmt.Errorf("%s: %w between reads", e.Path, ErrChanged)
	}
	return nil
}

// ZIPSize returns the exact size of the archive WriteZIP (and ZIP) would
// produce for files as they are now, without reading their contents.
func ZIPSize(files []File) (int64, error) {
	entries, err := stat(files)
	if err != nil {
		return 0, err
	}
	return zipSize(entries)
}

// zipSize runs the real ZIP writer over a byte counter, writing each entry's
// length from a zero buffer the counter never reads, so that every header
// detail (ZIP64 records included) is counted exactly as it will be written.
func zipSize(entries []entry) (int64, error) {
	cw := &countWriter{w: io.Discard}
	zw := zip.NewWriter(cw)
	zero := make([]byte, 1<<20)
	for _, e := range entries {
		ew, err := createRaw(zw, header(e, 0))
		if err != nil {
			return 0, fmt.Errorf("add %s: %w", e.Name, err)
		}
		for left := e.size; left > 0; {
			n := min(left, int64(len(zero)))
			if _, err := ew.Write(zero[:n]); err != nil {
				return 0, err
			}
			left -= n
		}
	}
	if err := zw.Close(); err != nil {
		return 0, err
	}
	return cw.n, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// onlyReader hides *os.File's WriteTo/ReadFrom so that io.CopyBuffer uses
// the given buffer instead of allocating or splicing.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// msDosTime encodes t the way ZIP headers store it (two second
// resolution, years 1980 to 2107).
func msDosTime(t time.Time) (date, tm uint16) {
	t = t.UTC() // the same archive whatever the machine's time zone
	if t.Year() < 1980 {
		t = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	} else if t.Year() > 2107 {
		t = time.Date(2107, 12, 31, 23, 59, 58, 0, time.UTC)
	}
	date = uint16(t.Day() + int(t.Month())<<5 + (t.Year()-1980)<<9)
	tm = uint16(t.Second()/2 + t.Minute()<<5 + t.Hour()<<11)
	return date, tm
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
