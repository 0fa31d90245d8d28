package upload

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"
)

// TestSHA256Option checks that the hash is computed only when asked for,
// and then over exactly the bytes the blob received.
func TestSHA256Option(t *testing.T) {
	t.Parallel()
	files, _ := writeFiles(t, map[string]int{"a.msix": 3<<20 + 17, "b.msix": 1000})
	tests := []struct {
		name string
		hash bool
	}{
		{"off by default", false},
		{"on when asked", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, srv := newSink(t)
			res, err := ZIP(t.Context(), srv.URL+"/c/b"+sinkQuery, files,
				&Options{BlockSize: 1 << 20, Concurrency: 2, Transport: srv.Client(), SHA256: tt.hash})
			if err != nil {
				t.Fatal(err)
			}
			s.mu.Lock()
			sum := sha256.Sum256(s.blob)
			s.mu.Unlock()
			want := ""
			if tt.hash {
				want = hex.EncodeToString(sum[:])
			}
			if res.SHA256 != want {
				t.Errorf("SHA256 = %q, want %q", res.SHA256, want)
			}
		})
	}
}

// BenchmarkZIPUploadShape shows how block size, concurrency and hashing
// move throughput against an in-process discarding sink on loopback. The
// figures that BENCHMARKS.md reports come from bench/run.sh, which also
// measures peak RSS per process; this one is for quick comparisons:
//
//	go test -run '^$' -bench ZIPUploadShape -benchtime 3x ./internal/upload
func BenchmarkZIPUploadShape(b *testing.B) {
	files, _ := writeFiles(b, map[string]int{"App_x64.msix": 48 << 20, "App_arm64.msix": 16 << 20})
	total, err := ZIPSize(files)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		block int64
		conc  int
		hash  bool
	}{
		{1 << 20, 4, false},
		{4 << 20, 4, false},
		{DefaultBlockSize, 0, false},
		{DefaultBlockSize, 0, true},
		{8 << 20, 2, false},
		{16 << 20, 4, false},
	} {
		name := fmt.Sprintf("block=%dMiB/conc=%d/sha256=%t", c.block>>20, c.conc, c.hash) // conc=0: adaptive
		b.Run(name, func(b *testing.B) {
			s, srv := newSink(b)
			s.discard = true
			b.SetBytes(total)
			for b.Loop() {
				if _, err := ZIP(b.Context(), srv.URL+"/c/b"+sinkQuery, files,
					&Options{BlockSize: c.block, Concurrency: c.conc, SHA256: c.hash, Transport: srv.Client()}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
