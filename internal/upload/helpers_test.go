package upload

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// writeFiles creates files in a temp dir with deterministic pseudo-random
// contents of the given sizes (incompressible, like real packages) and
// returns them with their contents keyed by entry name.
func writeFiles(t testing.TB, sizes map[string]int) ([]File, map[string][]byte) {
	t.Helper()
	dir := t.TempDir()
	rng := rand.NewChaCha8([32]byte{1, 2, 3})
	var files []File
	want := map[string][]byte{}
	// A fixed order keeps the archive (and test failures) reproducible.
	for _, name := range slices.Sorted(maps.Keys(sizes)) {
		b := make([]byte, sizes[name])
		_, _ = rng.Read(b)
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, File{Path: p, Name: name})
		want[name] = b
	}
	return files, want
}

// checkArchive verifies that data is a ZIP whose entries are exactly want,
// in order, each stored, and that every local header carries its CRC-32 and
// sizes with no data descriptor (walked byte by byte, as a strict streaming
// reader would, not through the central directory).
func checkArchive(t testing.TB, data []byte, order []string, want map[string][]byte) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("not a ZIP: %v", err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
		if f.Method != zip.Store {
			t.Errorf("%s: method %d, want stored", f.Name, f.Method)
		}
		if f.Flags&0x8 != 0 {
			t.Errorf("%s: central directory says data descriptor", f.Name)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc) // checks the CRC-32 too
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		if !bytes.Equal(got, want[f.Name]) {
			t.Errorf("%s: contents differ (%d bytes, want %d)", f.Name, len(got), len(want[f.Name]))
		}
	}
	if diff := cmp.Diff(order, names); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}

	rest := data
	for i := 0; ; i++ {
		if len(rest) < 4 {
			t.Fatalf("local header %d: truncated", i)
		}
		if sig := binary.LittleEndian.Uint32(rest); sig != 0x04034b50 {
			if i != len(order) {
				t.Fatalf("found %d local headers, want %d", i, len(order))
			}
			// The central directory, or for an empty archive its end record.
			if sig != 0x02014b50 && (i != 0 || sig != 0x06054b50) {
				t.Fatalf("after the entries: signature %#x, want the central directory", sig)
			}
			return
		}
		if len(rest) < 30 {
			t.Fatalf("local header %d: truncated", i)
		}
		flags := binary.LittleEndian.Uint16(rest[6:])
		crc := binary.LittleEndian.Uint32(rest[14:])
		csize := binary.LittleEndian.Uint32(rest[18:])
		usize := binary.LittleEndian.Uint32(rest[22:])
		nameLen := int(binary.LittleEndian.Uint16(rest[26:]))
		extraLen := int(binary.LittleEndian.Uint16(rest[28:]))
		name := string(rest[30 : 30+nameLen])
		body := want[name]
		if flags&0x8 != 0 {
			t.Errorf("local header %s: data descriptor flag set", name)
		}
		if crc != crc32.ChecksumIEEE(body) || int(csize) != len(body) || int(usize) != len(body) {
			t.Errorf("local header %s: crc %#x sizes %d/%d, want %#x %d", name, crc, csize, usize, crc32.ChecksumIEEE(body), len(body))
		}
		rest = rest[30+nameLen+extraLen+len(body):]
	}
}
