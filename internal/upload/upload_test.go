package upload

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// sink is a minimal block blob endpoint: Put Block, Put Block List and Put
// Blob on any path, recording what reached it.
type sink struct {
	mu        sync.Mutex
	blocks    map[string][]byte
	blob      []byte
	committed bool
	queries   []string
	auth      []string
	putBlocks int // Put Block attempts, failed ones included

	// fail, if set, makes the n-th Put Block attempt (from 1) answer 503.
	fail func(n int) bool
	// hold, if set, makes every Put Block wait until its request ends.
	hold bool
	// discard keeps no data (for benchmarks: only the uploader is measured).
	discard bool
	// stored, if set, is called after the n-th Put Block (from 1) is kept.
	stored func(n int)
	// started is closed at the first Put Block.
	started     chan struct{}
	startedOnce sync.Once
}

func newSink(t testing.TB) (*sink, *httptest.Server) {
	s := &sink{blocks: map[string][]byte{}, started: make(chan struct{})}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var body []byte
	var err error
	if s.discard && q.Get("comp") == "block" {
		_, err = io.Copy(io.Discard, r.Body)
	} else {
		body, err = io.ReadAll(r.Body)
	}
	if err != nil {
		return
	}
	s.mu.Lock()
	s.queries = append(s.queries, r.URL.RawQuery)
	if a, ok := r.Header["Authorization"]; ok {
		s.auth = append(s.auth, a...)
	}
	s.mu.Unlock()
	if r.Method != http.MethodPut {
		http.Error(w, "method", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("ETag", `"0x1"`)
	w.Header().Set("Last-Modified", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).Format(http.TimeFormat))
	switch q.Get("comp") {
	case "block":
		s.startedOnce.Do(func() { close(s.started) })
		s.mu.Lock()
		s.putBlocks++
		n := s.putBlocks
		s.mu.Unlock()
		if s.hold {
			<-r.Context().Done()
			return
		}
		if s.fail != nil && s.fail(n) {
			w.Header().Set("x-ms-error-code", "ServerBusy")
			http.Error(w, "<Error><Code>ServerBusy</Code></Error>", http.StatusServiceUnavailable)
			return
		}
		s.mu.Lock()
		s.blocks[q.Get("blockid")] = body
		s.mu.Unlock()
		if s.stored != nil {
			s.stored(n)
		}
	case "blocklist":
		var list struct {
			IDs []string `xml:",any"`
		}
		if err := xml.Unmarshal(body, &list); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		size := 0
		for _, id := range list.IDs {
			size += len(s.blocks[id])
		}
		s.blob = make([]byte, 0, size)
		for _, id := range list.IDs {
			b, ok := s.blocks[id]
			if !ok {
				s.mu.Unlock()
				http.Error(w, "InvalidBlockList", http.StatusBadRequest)
				return
			}
			s.blob = append(s.blob, b...)
		}
		s.committed = true
		clear(s.blocks) // committed blocks are no longer uncommitted ones
		s.mu.Unlock()
	case "":
		if r.Header.Get("x-ms-blob-type") != "BlockBlob" {
			http.Error(w, "blob type", http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.blob, s.committed = body, true
		s.mu.Unlock()
	default:
		http.Error(w, "comp", http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusCreated)
}

// The Store hands out SAS URLs whose signature may hold a raw '+'.
const (
	sinkSig   = "AbC+dEf/gh+IJ="
	sinkQuery = "?sv=2014-02-14&sr=b&sig=AbC+dEf%2Fgh+IJ%3D&se=2030-01-01T00%3A00%3A00Z&sp=rwl"
)

func fastRetry() policy.RetryOptions {
	return policy.RetryOptions{RetryDelay: time.Millisecond, MaxRetryDelay: 5 * time.Millisecond}
}

func TestZIPToSink(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		sizes  map[string]int
		fail   func(n int) bool
		blocks bool // expect Put Block + Put Block List rather than one Put Blob
		conc   int  // 0 adapts
	}{
		{"several blocks", map[string]int{"App_x64.msix": 3<<20 + 12345, "App_arm64.msix": 700_000, "empty.txt": 0}, nil, true, 3},
		{"blocks in flight adapting", map[string]int{"App_x64.msix": 20<<20 + 5, "App_arm64.msix": 9 << 20}, nil, true, 0},
		{"one small blob", map[string]int{"App.msixbundle": 1000}, nil, false, 3},
		{"no files", map[string]int{}, nil, false, 3},
		{"some blocks fail with 503", map[string]int{"App_x64.msix": 5 << 20}, func(n int) bool { return n == 2 || n == 3 || n == 5 }, true, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, srv := newSink(t)
			s.fail = tt.fail
			files, want := writeFiles(t, tt.sizes)
			total, err := ZIPSize(files)
			if err != nil {
				t.Fatal(err)
			}
			var calls [][2]int64
			res, err := ZIP(t.Context(), srv.URL+"/ingestion/guid"+sinkQuery, files, &Options{
				BlockSize:   1 << 20,
				Concurrency: tt.conc,
				Transport:   srv.Client(),
				Retry:       fastRetry(),
				Progress:    func(sent, total int64) { calls = append(calls, [2]int64{sent, total}) },
			})
			if err != nil {
				t.Fatal(err)
			}

			s.mu.Lock()
			defer s.mu.Unlock()
			if !s.committed {
				t.Fatal("blob never committed")
			}
			checkArchive(t, s.blob, slices.Sorted(maps.Keys(tt.sizes)), want)
			if res.Bytes != int64(len(s.blob)) || res.Bytes != total {
				t.Errorf("Result.Bytes = %d, blob has %d, ZIPSize said %d", res.Bytes, len(s.blob), total)
			}
			if diff := slices.Compare(res.Entries, slices.Sorted(maps.Keys(tt.sizes))); diff != 0 {
				t.Errorf("Entries = %v", res.Entries)
			}
			if len(s.auth) != 0 {
				t.Errorf("Authorization sent to the blob host: %d times", len(s.auth))
			}
			for _, q := range s.queries {
				if !strings.Contains(q, "sig=AbC%2BdEf%2Fgh%2BIJ%3D") {
					t.Errorf("query %q: the signature's '+' did not arrive as %%2B", q)
				}
			}
			if got := s.putBlocks > 0; got != tt.blocks {
				t.Errorf("%d Put Block calls; block upload expected: %v", s.putBlocks, tt.blocks)
			}
			if tt.fail != nil && s.putBlocks <= 5 {
				t.Errorf("only %d Put Block attempts; injected failures were not retried", s.putBlocks)
			}
			if len(calls) == 0 || calls[len(calls)-1] != [2]int64{total, total} {
				t.Fatalf("progress calls %v, want the last to be {%d %d}", calls, total, total)
			}
			if limit := total/(1<<20) + 2; int64(len(calls)) > limit {
				t.Errorf("%d progress calls, want at most %d (one per block and the end)", len(calls), limit)
			}
			for i := 1; i < len(calls); i++ {
				if calls[i][0] < calls[i-1][0] {
					t.Errorf("progress went backwards: %v", calls)
				}
			}
		})
	}
}

func TestZIPCancel(t *testing.T) {
	t.Parallel()
	s, srv := newSink(t)
	s.hold = true // every block hangs until its request is cancelled
	files, _ := writeFiles(t, map[string]int{"big.msix": 20 << 20})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	errc := make(chan error, 1)
	go func() {
		_, err := ZIP(ctx, srv.URL+"/c/b"+sinkQuery, files, &Options{BlockSize: 1 << 20, Concurrency: 2, Transport: srv.Client()})
		errc <- err
	}()
	<-s.started
	cancel()
	start := time.Now()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
		t.Logf("returned %v after cancel", time.Since(start))
	case <-time.After(10 * time.Second):
		t.Fatal("ZIP still running 10 s after cancel")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.committed {
		t.Error("a cancelled upload committed the blob")
	}
}

func TestZIPErrorsAreRedacted(t *testing.T) {
	t.Parallel()
	// A closed port gives a transport error, whose text quotes the URL.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	files, _ := writeFiles(t, map[string]int{"a.msix": 10})

	retry := fastRetry()
	retry.MaxRetries = -1
	_, err = ZIP(t.Context(), "http://"+addr+"/c/b"+sinkQuery, files, &Options{Retry: retry})
	if err == nil {
		t.Fatal("upload to a closed port succeeded")
	}
	msg := err.Error()
	for _, secret := range []string{sinkSig, "AbC", "dEf%2Fgh", "IJ%3D"} {
		if strings.Contains(msg, secret) {
			t.Errorf("error leaks %q: %s", secret, msg)
		}
	}
	if !strings.HasPrefix(msg, "Put Blob: ") || !strings.Contains(msg, addr) {
		t.Errorf("error should name the operation and the host: %s", msg)
	}
}

func TestZIPRejectsBadInputBeforeSending(t *testing.T) {
	t.Parallel()
	s, srv := newSink(t)
	files, _ := writeFiles(t, map[string]int{"a.msix": 10})
	_, err := ZIP(t.Context(), srv.URL+"/c/b"+sinkQuery, append(files, files[0]), &Options{Transport: srv.Client()})
	if err == nil || !strings.Contains(err.Error(), "duplicate entry name") {
		t.Fatalf("err = %v, want a duplicate-name error", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queries) != 0 {
		t.Errorf("%d requests sent for invalid input", len(s.queries))
	}
}

func BenchmarkZIPUpload(b *testing.B) {
	s, srv := newSink(b)
	s.discard = true
	files, _ := writeFiles(b, map[string]int{"App_x64.msix": 48 << 20, "App_arm64.msix": 16 << 20})
	total, err := ZIPSize(files)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(total)
	for b.Loop() {
		if _, err := ZIP(b.Context(), srv.URL+"/c/b"+sinkQuery, files, &Options{Transport: srv.Client()}); err != nil {
			b.Fatal(err)
		}
	}
}
