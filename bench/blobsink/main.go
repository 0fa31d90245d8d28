// Command blobsink is the smallest blob endpoint that the benchmarks can
// upload to as fast as loopback allows: it accepts Put Block, Put Block List
// and Put Blob (which needs a Content-Length, as Azure's does), reads every
// body to the end and throws it away. It keeps no data, so it measures the
// client, not a store. It answers Get Blob Properties (HEAD) with the size
// of the blob last committed at that path, which AzCopy reads after its
// block list to check the upload's length.
//
// It prints its base URL on stdout once it listens and runs until killed.
// After each Put Blob or Put Block List it appends a line "bytes=N
// requests=M" to -log (if set), which run.sh uses to check that every byte
// arrived.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	logPath := flag.String("log", "", "append a line per committed blob to this file")
	flag.Parse()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	s := &sink{logPath: *logPath, sizes: map[string]int64{}}
	fmt.Printf("http://%s\n", ln.Addr())
	os.Stdout.Sync()
	log.Fatal(http.Serve(ln, s))
}

type sink struct {
	logPath  string
	bytes    atomic.Int64 // body bytes received since the last commit
	requests atomic.Int64
	mu       sync.Mutex
	sizes    map[string]int64 // committed blob sizes by path
}

var bufs = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	if r.Method == http.MethodHead && r.URL.Query().Get("comp") == "" {
		s.properties(w, r.URL.Path)
		return
	}
	if r.Method != http.MethodPut {
		http.Error(w, "only PUT and HEAD", http.StatusMethodNotAllowed)
		return
	}
	comp := r.URL.Query().Get("comp")
	if comp != "blocklist" && r.ContentLength < 0 {
		w.Header().Set("x-ms-error-code", "MissingContentLengthHeader")
		w.WriteHeader(http.StatusLengthRequired)
		return
	}
	bp := bufs.Get().(*[]byte)
	n, err := io.CopyBuffer(io.Discard, onlyReader{r.Body}, *bp)
	bufs.Put(bp)
	if err != nil || (r.ContentLength >= 0 && n != r.ContentLength) {
		http.Error(w, "short body", http.StatusBadRequest)
		return
	}
	if comp != "blocklist" {
		s.bytes.Add(n)
	}
	w.Header().Set("x-ms-request-id", "00000000-0000-0000-0000-000000000000")
	w.Header().Set("x-ms-version", "2019-12-12")
	if comp == "" || comp == "blocklist" {
		w.Header().Set("ETag", `"0x1"`)
		s.commit(r.URL.Path)
	}
	w.WriteHeader(http.StatusCreated)
}

// properties answers Get Blob Properties for the blob committed at path.
func (s *sink) properties(w http.ResponseWriter, path string) {
	s.mu.Lock()
	n, ok := s.sizes[path]
	s.mu.Unlock()
	if !ok {
		w.Header().Set("x-ms-error-code", "BlobNotFound")
		w.WriteHeader(http.StatusNotFound)
		return
	}
	h := w.Header()
	h.Set("Content-Length", fmt.Sprint(n))
	h.Set("x-ms-blob-type", "BlockBlob")
	h.Set("ETag", `"0x1"`)
	h.Set("Last-Modified", "Mon, 01 Jun 2026 00:00:00 GMT")
	h.Set("x-ms-version", "2019-12-12")
	w.WriteHeader(http.StatusOK)
}

// commit records one finished blob at path.
func (s *sink) commit(path string) {
	n := s.bytes.Swap(0)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sizes[path] = n
	if s.logPath == "" {
		return
	}
	f, err := os.OpenFile(s.logPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		log.Print(err)
		return
	}
	fmt.Fprintf(f, "bytes=%d requests=%d\n", n, s.requests.Swap(0))
	f.Close()
}

// onlyReader hides WriterTo so that CopyBuffer uses the pooled buffer.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }
