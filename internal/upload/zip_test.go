package upload

import (
	"bytes"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestWriteZIPAndSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		sizes map[string]int
	}{
		{"no files", map[string]int{}},
		{"one empty file", map[string]int{"empty.msix": 0}},
		{"mixed", map[string]int{"App_1.0.0.0_x64.msix": 300_000, "empty.txt": 0, "b.appxbundle": 1}},
		{"non-ASCII name", map[string]int{"Äpp_1.0.0.0_arm64.msix": 4096}},
		{"many", func() map[string]int {
			m := map[string]int{}
			for i := range 50 {
				m[string(rune('a'+i%26))+string(rune('A'+i/26))+".msix"] = i * 37
			}
			return m
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			files, want := writeFiles(t, tt.sizes)
			size, err := ZIPSize(files)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			n, err := WriteZIP(&buf, files)
			if err != nil {
				t.Fatal(err)
			}
			if n != int64(buf.Len()) || size != n {
				t.Errorf("ZIPSize = %d, WriteZIP returned %d, wrote %d; all should be equal", size, n, buf.Len())
			}
			checkArchive(t, buf.Bytes(), slices.Sorted(maps.Keys(tt.sizes)), want)
		})
	}
}

func TestWriteZIPDeterministic(t *testing.T) {
	t.Parallel()
	files, _ := writeFiles(t, map[string]int{"a.msix": 1000, "b.msix": 10})
	var a, b bytes.Buffer
	if _, err := WriteZIP(&a, files); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteZIP(&b, files); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two archives of the same files differ")
	}
}

func TestWriteZIPRejects(t *testing.T) {
	t.Parallel()
	files, _ := writeFiles(t, map[string]int{"a.msix": 10})
	dir := t.TempDir()
	tests := []struct {
		name  string
		files []File
	}{
		{"duplicate name", []File{files[0], {Path: files[0].Path, Name: files[0].Name}}},
		{"empty name", []File{{Path: files[0].Path}}},
		{"missing file", []File{{Path: filepath.Join(dir, "nope.msix"), Name: "nope.msix"}}},
		{"directory", []File{{Path: dir, Name: "dir"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := ZIPSize(tt.files); err == nil {
				t.Error("ZIPSize: no error")
			}
			var buf bytes.Buffer
			if _, err := WriteZIP(&buf, tt.files); err == nil {
				t.Error("WriteZIP: no error")
			}
			if buf.Len() != 0 {
				t.Errorf("WriteZIP wrote %d bytes before failing validation", buf.Len())
			}
		})
	}
}

// A file whose size changed after it was measured must fail the archive,
// not produce one whose headers disagree with its data.
func TestWriteZIPChangedFile(t *testing.T) {
	t.Parallel()
	files, _ := writeFiles(t, map[string]int{"a.msix": 100})
	entries, err := stat(files)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(files[0].Path, make([]byte, 150), 0o644); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := writeZIP(&buf, entries); !errors.Is(err, ErrChanged) {
		t.Errorf("err = %v, want ErrChanged", err)
	}
}

func TestEscapePlus(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"raw plus in sig", "https://a.blob.core.windows.net/c/b+x?sv=1&sig=ab+c%2F=", "https://a.blob.core.windows.net/c/b+x?sv=1&sig=ab%2Bc%2F="},
		{"already escaped", "https://h/c/b?sig=ab%2Bc", "https://h/c/b?sig=ab%2Bc"},
		{"no query", "https://h/c/b+x", "https://h/c/b+x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := EscapePlus(tt.in); got != tt.want {
				t.Errorf("EscapePlus(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
