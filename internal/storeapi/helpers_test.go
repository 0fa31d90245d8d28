package storeapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

const testToken = "eyJ0eXAi.SECRET-TOKEN-VALUE.sig"

// fakeCred is a TokenCredential that counts its calls.
type fakeCred struct {
	mu     sync.Mutex
	calls  int
	scopes [][]string
	err    error
	// onCall, when set, runs at each call (a slow sign-in, say).
	onCall func(call int)
}

func (f *fakeCred) GetToken(_ context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.scopes = append(f.scopes, o.Scopes)
	if f.onCall != nil {
		f.onCall(f.calls)
	}
	if f.err != nil {
		return azcore.AccessToken{}, f.err
	}
	return azcore.AccessToken{Token: testToken, ExpiresOn: time.Now().Add(time.Hour)}, nil
}

func (f *fakeCred) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// syncBuffer collects log output from concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type fixture struct {
	client *Client
	mux    *http.ServeMux
	server *httptest.Server
	cred   *fakeCred
	log    *syncBuffer
}

// setup starts a loopback Store whose mux serves /v1.0/my/...; any request
// no test registered fails the test. mod may adjust the options.
func setup(t *testing.T, mod func(*Options)) *fixture {
	t.Helper()
	f := &fixture{mux: http.NewServeMux(), cred: &fakeCred{}, log: &syncBuffer{}}
	f.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("unexpected request %s %s", r.Method, r.URL)
		http.Error(w, "unexpected", http.StatusTeapot)
	})
	f.server = httptest.NewServer(f.mux)
	t.Cleanup(f.server.Close)
	opts := &Options{
		BaseURL:       f.server.URL,
		HTTPClient:    f.server.Client(),
		RequestBudget: -1,
		RetryWaitMin:  time.Millisecond,
		RetryWaitMax:  2 * time.Millisecond,
		Logger:        slog.New(slog.NewTextHandler(f.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		UserAgent:     "storeflight-test",
	}
	if mod != nil {
		mod(opts)
	}
	c, err := New(f.cred, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	f.client = c
	return f
}

// step is one scripted answer of memStore: a status with headers and body,
// or a transport error.
type step struct {
	status int
	header map[string]string
	body   string
	err    error
}

// memStore answers attempts in order from a script, in memory (no socket),
// so that it works inside a synctest bubble. The last step repeats.
type memStore struct {
	mu       sync.Mutex
	steps    []step
	requests []*http.Request
	bodies   []string
}

func (m *memStore) RoundTrip(r *http.Request) (*http.Response, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		r.Body.Close()
	}
	m.requests = append(m.requests, r)
	m.bodies = append(m.bodies, string(body))
	s := m.steps[min(len(m.requests)-1, len(m.steps)-1)]
	if s.err != nil {
		return nil, s.err
	}
	rec := httptest.NewRecorder()
	for k, v := range s.header {
		rec.Header().Set(k, v)
	}
	rec.WriteHeader(s.status)
	io.WriteString(rec, s.body)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

func (m *memStore) attempts() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.requests)
}

func newMemClient(t *testing.T, m *memStore, mod func(*Options)) (*Client, *fakeCred) {
	t.Helper()
	cred := &fakeCred{}
	opts := &Options{
		BaseURL:       "https://store.test",
		HTTPClient:    &http.Client{Transport: m},
		RequestBudget: -1,
	}
	if mod != nil {
		mod(opts)
	}
	c, err := New(cred, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, cred
}

// storeError writes the Store's JSON error body.
func storeError(w http.ResponseWriter, status int, code, msg, correlationID string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("MS-CorrelationId", correlationID)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"code": code, "message": msg, "details": []any{}})
}

// mustNotContainSecrets fails when s holds the token or a SAS signature.
func mustNotContainSecrets(t *testing.T, what, s string) {
	t.Helper()
	for _, secret := range []string{testToken, "SECRET-TOKEN-VALUE", "SASSECRET", "sig=abc"} {
		if strings.Contains(s, secret) {
			t.Errorf("%s contains the secret %q:\n%s", what, secret, s)
		}
	}
}
