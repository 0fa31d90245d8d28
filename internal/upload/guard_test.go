package upload

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// earlyAnswer is a blob host that refuses the first Put Block attempts
// before reading their body, then closes the connection, as a busy Azure
// front end may: net/http then still copies the block while azcore's retry
// rewinds it (golang/go#51907). Run under -race, this test fails without
// guardTransport.
type earlyAnswer struct {
	mu       sync.Mutex
	attempts int
	refuse   int
	inner    *sink
}

func (e *earlyAnswer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("comp") == "block" {
		e.mu.Lock()
		e.attempts++
		refuse := e.attempts <= e.refuse
		e.mu.Unlock()
		if refuse {
			w.Header().Set("Connection", "close")
			w.Header().Set("x-ms-error-code", "ServerBusy")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
	}
	e.inner.ServeHTTP(w, r)
}

func TestZIPRetriesBlocksAnsweredBeforeRead(t *testing.T) {
	t.Parallel()
	s := &sink{blocks: map[string][]byte{}, started: make(chan struct{})}
	e := &earlyAnswer{refuse: 6, inner: s}
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	files, want := writeFiles(t, map[string]int{"App_x64.msix": 6 << 20})
	// Enough retries that all six refusals may fall on one block.
	retry := fastRetry()
	retry.MaxRetries = int32(e.refuse)
	_, err := ZIP(t.Context(), srv.URL+"/ingestion/guid"+sinkQuery, files, &Options{
		BlockSize:   2 << 20,
		Concurrency: 3,
		Transport:   srv.Client(),
		Retry:       retry,
	})
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.committed {
		t.Fatal("the block list was not committed")
	}
	checkArchive(t, s.blob, []string{"App_x64.msix"}, want)
}
