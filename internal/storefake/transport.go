package storefake

import (
	"bytes"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"syscall"
)

// transport serves requests for the simulator's hosts straight into its
// handler. A handler that aborts (a lost response or a reset) becomes a
// connection-reset error, which is what a client sees from a dropped
// connection.
type transport struct{ s *Server }

func (t *transport) RoundTrip(req *http.Request) (resp *http.Response, err error) {
	closeBody := func() {
		if req.Body != nil {
			req.Body.Close()
		}
	}
	t.s.mu.Lock()
	known := t.s.hosts[req.URL.Host]
	t.s.mu.Unlock()
	if !known {
		closeBody()
		return nil, fmt.Errorf("storefake: no such host %q", req.URL.Host)
	}
	if err := req.Context().Err(); err != nil {
		closeBody()
		return nil, err
	}
	sreq := req.Clone(req.Context())
	// Clients such as azblob set lower-case header keys directly in the
	// map; a server sees them canonicalized, as net/http parses them.
	sreq.Header = make(http.Header, len(req.Header))
	for k, v := range req.Header {
		ck := http.CanonicalHeaderKey(k)
		sreq.Header[ck] = append(sreq.Header[ck], v...)
	}
	sreq.URL = &url.URL{Path: req.URL.Path, RawPath: req.URL.RawPath, RawQuery: req.URL.RawQuery}
	sreq.RequestURI = req.URL.RequestURI()
	sreq.Host = req.URL.Host
	sreq.RemoteAddr = "127.0.0.1:1"
	sreq.Proto, sreq.ProtoMajor, sreq.ProtoMinor = "HTTP/1.1", 1, 1
	if req.URL.Scheme == "https" {
		sreq.TLS = &tls.ConnectionState{HandshakeComplete: true, ServerName: req.URL.Hostname()}
	}
	if req.Body == nil {
		sreq.Body = http.NoBody
	} else if req.Body != http.NoBody && req.ContentLength == 0 {
		sreq.ContentLength = -1
	}
	rec := &recorder{header: http.Header{}}
	aborted := serveRecovering(t.s, rec, sreq)
	closeBody()
	if aborted {
		return nil, &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
	}
	return rec.response(req), nil
}

// serveRecovering runs the handler and reports whether it aborted with
// http.ErrAbortHandler; other panics propagate.
func serveRecovering(h http.Handler, w http.ResponseWriter, r *http.Request) (aborted bool) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler { //nolint:errorlint // sentinel panic value
				aborted = true
				return
			}
			panic(v)
		}
	}()
	h.ServeHTTP(w, r)
	return false
}

// recorder is a minimal in-memory ResponseWriter. Answers are small, except
// Get Blob, which only tests use.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

func (r *recorder) response(req *http.Request) *http.Response {
	status := r.status
	if status == 0 {
		status = http.StatusOK
	}
	body := r.body.Bytes()
	if req.Method == http.MethodHead {
		body = nil
	}
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", status, http.StatusText(status)),
		StatusCode:    status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        r.header,
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}
