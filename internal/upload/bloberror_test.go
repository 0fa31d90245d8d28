package upload

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// refusingHost answers every request op makes with status and an error
// body shaped as Azure's: a message whose later lines are a request ID and
// a time, and an authentication detail.
func refusingHost(t *testing.T, op string, status int, code string) *httptest.Server {
	t.Helper()
	s, _ := newSink(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		comp := r.URL.Query().Get("comp")
		if (op == opPutBlob && comp == "") || (op == opPutBlock && comp == "block") || (op == opPutBlockList && comp == "blocklist") {
			w.Header().Set("x-ms-error-code", code)
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(`<?xml version="1.0" encoding="utf-8"?><Error><Code>` + code + `</Code>` +
				`<Message>Server failed to authenticate the request.` + "\n" +
				`RequestId:0f3c5f8e-0000-0000-0000-000000000000` + "\n" + `Time:2026-01-02T03:04:05.0000000Z</Message>` +
				`<AuthenticationErrorDetail>Signed expiry time [Thu, 01 Jan 2026 00:00:00 GMT] must be after signed start time [Fri, 02 Jan 2026 00:00:00 GMT]</AuthenticationErrorDetail></Error>`))
			return
		}
		s.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// A refusal from the blob host is one line: the request, the status, the
// service's code and the first line of its message with the reason; no
// part of the SAS.
func TestZIPBlobErrorIsOneLine(t *testing.T) {
	t.Parallel()
	const detail = ": Server failed to authenticate the request (Signed expiry time [Thu, 01 Jan 2026 00:00:00 GMT]" +
		" must be after signed start time [Fri, 02 Jan 2026 00:00:00 GMT])"
	tests := []struct {
		name    string
		op      string
		size    int
		status  int
		code    string
		want    string
		refused bool
	}{
		{"Put Blob refused", opPutBlob, 1000, 403, "AuthenticationFailed", "Put Blob: HTTP 403 AuthenticationFailed" + detail, true},
		{"Put Block refused", opPutBlock, 3 << 20, 403, "AuthorizationFailure", "Put Block: HTTP 403 AuthorizationFailure" + detail, true},
		{"Put Block List refused", opPutBlockList, 3 << 20, 403, "AuthenticationFailed", "Put Block List: HTTP 403 AuthenticationFailed" + detail, true},
		{"not a refusal", opPutBlock, 3 << 20, 409, "BlobArchived", "Put Block: HTTP 409 BlobArchived" + detail, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := refusingHost(t, tt.op, tt.status, tt.code)
			files, _ := writeFiles(t, map[string]int{"a.msix": tt.size})
			_, err := ZIP(t.Context(), srv.URL+"/c/b"+sinkQuery, files,
				&Options{BlockSize: 1 << 20, Concurrency: 2, Transport: srv.Client(), Retry: fastRetry()})
			if err == nil {
				t.Fatal("upload succeeded")
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error\n got %q\nwant %q", got, tt.want)
			}
			var be *BlobError
			if !errors.As(err, &be) {
				t.Fatalf("%T is not a *BlobError", err)
			}
			if be.Refused() != tt.refused {
				t.Errorf("Refused() = %v, want %v", be.Refused(), tt.refused)
			}
			for _, secret := range []string{"sig=", sinkSig, "AbC", "dEf%2Fgh"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error leaks %q: %s", secret, err)
				}
			}
		})
	}
}
