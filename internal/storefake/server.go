package storefake

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/storeflight/storeflight/internal/clock"
	"github.com/storeflight/storeflight/internal/redact"
)

// The hosts the in-process transport answers for before Listen is called.
const (
	inProcessAPIHost  = "store.storefake.test"
	inProcessBlobHost = "blob.storefake.test"
	apiPrefix         = "/v1.0/my/"
	blobContainer     = "/ingestion/"
)

// Stages says how long a committed submission stays in each status. A zero
// duration passes at the next read.
type Stages struct {
	CommitStarted, PreProcessing, Certification, Release, PendingPublication, Publishing time.Duration
}

// DefaultStages returns short but visible stages for --simulate: a run that
// waits for publication sees every status within about half a minute.
func DefaultStages() Stages {
	return Stages{
		CommitStarted:      3 * time.Second,
		PreProcessing:      4 * time.Second,
		Certification:      8 * time.Second,
		Release:            3 * time.Second,
		PendingPublication: 3 * time.Second,
		Publishing:         4 * time.Second,
	}
}

// Options configures a Server. The zero value is usable.
type Options struct {
	// Clock drives status progress, token expiry, SAS expiry and the request
	// budget. Default clock.Real{}.
	Clock clock.Clock
	// Stages are the durations of the processing statuses.
	Stages Stages
	// RequestBudget is the number of API requests allowed per minute across
	// the tenant; beyond it the answer is 429 with Retry-After. 0 = no limit.
	RequestBudget int
	// TokenTTL is the life of tokens minted by Credential. Default 1h.
	TokenTTL time.Duration
	// SASTTL is the life of a fileUploadUrl's signature (its se=). Default 1h.
	SASTTL time.Duration
	// BlobDir keeps uploaded blobs and blocks. "" = a temporary directory
	// removed by Close.
	BlobDir string
	// CloneWithoutRollout makes a create clone the last published
	// submission's delivery options without their packageRollout object,
	// which then stays absent until a PUT sends one. By default a create
	// clones the rollout too (enabled and percentage).
	CloneWithoutRollout bool
	// Analytics shapes the data of the analytics endpoints.
	Analytics AnalyticsOptions
}

// Server is the simulated Store API and blob endpoint. It is safe for
// concurrent use.
type Server struct {
	clock    clock.Clock
	stages   Stages
	budget   int
	tokenTTL time.Duration
	sasTTL   time.Duration
	blobDir  string
	tempDir  bool
	// cloneWithoutRollout: see Options.CloneWithoutRollout.
	cloneWithoutRollout bool

	mu          sync.Mutex
	apps        map[string]*app
	appOrder    []string
	subs        map[string]*submission
	nextID      uint64
	nextAssetID uint64
	tokens      map[string]time.Time
	faults      []*faultState
	failures    []Failure
	drops       []*PackageDrop
	requests    []*Request
	windowStart time.Time
	windowCount int
	blobs       map[string]*blobGrant
	apiURL      string
	blobBase    string
	hosts       map[string]bool
	servers     []*http.Server
	closed      bool

	api       *http.ServeMux
	transport *transport
	analytics *analyticsState
}

// New returns a Server configured by opts (nil for defaults).
func New(opts *Options) (*Server, error) {
	if opts == nil {
		opts = &Options{}
	}
	s := &Server{
		clock:               opts.Clock,
		stages:              opts.Stages,
		budget:              opts.RequestBudget,
		tokenTTL:            opts.TokenTTL,
		sasTTL:              opts.SASTTL,
		blobDir:             opts.BlobDir,
		cloneWithoutRollout: opts.CloneWithoutRollout,
		apps:                map[string]*app{},
		subs:                map[string]*submission{},
		nextID:              1152921504621243649,
		tokens:              map[string]time.Time{},
		blobs:               map[string]*blobGrant{},
		apiURL:              "https://" + inProcessAPIHost,
		blobBase:            "https://" + inProcessBlobHost,
		hosts:               map[string]bool{inProcessAPIHost: true, inProcessBlobHost: true},
	}
	if s.clock == nil {
		s.clock = clock.Real{}
	}
	if s.tokenTTL <= 0 {
		s.tokenTTL = time.Hour
	}
	if s.sasTTL <= 0 {
		s.sasTTL = time.Hour
	}
	if s.budget < 0 {
		return nil, fmt.Errorf("storefake: RequestBudget %d is negative", s.budget)
	}
	if s.blobDir == "" {
		dir, err := os.MkdirTemp("", "storefake-blobs-")
		if err != nil {
			return nil, fmt.Errorf("storefake: blob directory: %w", err)
		}
		s.blobDir, s.tempDir = dir, true
	} else if err := os.MkdirAll(s.blobDir, 0o755); err != nil {
		return nil, fmt.Errorf("storefake: blob directory: %w", err)
	}
	s.api = s.routes()
	s.transport = &transport{s: s}
	s.analytics = newAnalyticsState(opts.Analytics)
	return s, nil
}

// Close stops the listeners started by Listen and removes the temporary
// blob directory, if the server made one.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	servers := s.servers
	s.servers = nil
	s.mu.Unlock()
	var errs []error
	for _, srv := range servers {
		if err := srv.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if s.tempDir {
		if err := os.RemoveAll(s.blobDir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// URL returns the Store API base URL without /v1.0/my, e.g.
// "https://store.storefake.test" in process, or the listener's URL after
// Listen.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.apiURL
}

// HTTPClient returns a client whose transport serves the API host and the
// blob host (and, after Listen, the listeners' addresses) straight into the
// handler, with no socket.
func (s *Server) HTTPClient() *http.Client {
	return &http.Client{Transport: s.transport}
}

// Handler returns the handler that serves both the API (/v1.0/my/...) and
// the blob endpoint (/ingestion/...).
func (s *Server) Handler() http.Handler { return s }

// Listen serves the API on apiAddr and the blob endpoint on blobAddr ("" =
// the same listener), with TLS when tlsConfig is not nil. Submissions created
// afterwards get a fileUploadUrl on the blob listener. It returns the API's
// base URL, which URL also returns from then on. Close stops the listeners.
func (s *Server) Listen(apiAddr, blobAddr string, tlsConfig *tls.Config) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return "", errors.New("storefake: Listen after Close")
	}
	if len(s.servers) > 0 {
		return "", errors.New("storefake: already listening")
	}
	apiLn, apiURL, err := listen(apiAddr, tlsConfig)
	if err != nil {
		return "", err
	}
	lns := []net.Listener{apiLn}
	blobURL := apiURL
	if blobAddr != "" {
		blobLn, u, err := listen(blobAddr, tlsConfig)
		if err != nil {
			apiLn.Close()
			return "", err
		}
		lns = append(lns, blobLn)
		blobURL = u
	}
	for _, ln := range lns {
		srv := &http.Server{
			Handler:           s,
			ReadHeaderTimeout: 30 * time.Second,
			ErrorLog:          log.New(io.Discard, "", 0),
			// HTTP/1.1 only: a lost response closes the connection the way
			// a dropped TCP connection does.
			TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
		}
		s.servers = append(s.servers, srv)
		go srv.Serve(ln) //nolint:errcheck // ends with ErrServerClosed on Close
	}
	s.apiURL, s.blobBase = apiURL, blobURL
	for _, u := range []string{apiURL, blobURL} {
		pu, _ := url.Parse(u)
		s.hosts[pu.Host] = true
	}
	return apiURL, nil
}

func listen(addr string, tlsConfig *tls.Config) (net.Listener, string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("storefake: listen: %w", err)
	}
	scheme := "http"
	if tlsConfig != nil {
		cfg := tlsConfig.Clone()
		cfg.NextProtos = []string{"http/1.1"}
		ln = tls.NewListener(ln, cfg)
		scheme = "https"
	}
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return ln, scheme + "://" + net.JoinHostPort(host, port), nil
}

// Credential returns a credential that mints tokens this server accepts,
// each living Options.TokenTTL on the server's clock. (azcore compares
// ExpiresOn with the wall clock: a fake clock far from it makes azcore
// refresh on every request or never.)
func (s *Server) Credential() azcore.TokenCredential { return credential{s: s} }

type credential struct{ s *Server }

func (c credential) GetToken(ctx context.Context, _ policy.TokenRequestOptions) (azcore.AccessToken, error) {
	if err := ctx.Err(); err != nil {
		return azcore.AccessToken{}, err
	}
	tok := "storefake." + randomHex(24)
	exp := c.s.clock.Now().Add(c.s.tokenTTL)
	c.s.AcceptToken(tok, exp)
	return azcore.AccessToken{Token: tok, ExpiresOn: exp}, nil
}

// AcceptToken registers a bearer token issued elsewhere (a fake Entra ID in
// end-to-end tests), valid until expiresOn on the server's clock.
func (s *Server) AcceptToken(token string, expiresOn time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[token] = expiresOn
}

// Request is one request the server received, as recorded for tests.
type Request struct {
	At       time.Time
	Host     string
	Method   string
	Path     string
	RawQuery string // with the SAS sig value redacted
	Status   int    // 0 when no response was sent
	// Authorized: the request carried a bearer token (on the blob host: any
	// Authorization header).
	Authorized bool
	// Lost: the connection was broken, before or after handling.
	Lost bool
	// Injected: an injected Fault answered (or broke) the request.
	Injected bool
}

// Requests returns a copy of every request received, in order of arrival.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		out[i] = *r
	}
	return out
}

// ResetRequests forgets the recorded requests.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

// ServeHTTP records the request, applies injected faults, and dispatches to
// the blob endpoint or the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	isBlob := strings.HasPrefix(r.URL.Path, blobContainer)
	auth := r.Header.Get("Authorization")
	rec := &Request{
		Host:     r.Host,
		Method:   r.Method,
		Path:     r.URL.Path,
		RawQuery: redactSig(r.URL.RawQuery),
	}
	if isBlob {
		rec.Authorized = auth != ""
	} else {
		rec.Authorized = hasBearer(auth)
		corr := r.Header.Get("MS-CorrelationId")
		if corr == "" {
			corr = newGUID()
		}
		w.Header().Set("MS-CorrelationId", corr)
	}
	s.mu.Lock()
	rec.At = s.clock.Now()
	s.requests = append(s.requests, rec)
	f := s.matchFault(r, isBlob)
	s.mu.Unlock()

	cw := &statusWriter{ResponseWriter: w}
	if f != nil {
		s.setRecord(rec, func(rec *Request) { rec.Injected = true })
		switch {
		case f.Reset:
			s.setRecord(rec, func(rec *Request) { rec.Lost = true })
			panic(http.ErrAbortHandler)
		case f.LoseResponse:
			dw := &discardWriter{header: http.Header{}}
			s.dispatch(dw, r, isBlob)
			s.setRecord(rec, func(rec *Request) { rec.Lost = true; rec.Status = dw.status })
			panic(http.ErrAbortHandler)
		default:
			s.writeFault(cw, f, isBlob)
		}
	} else {
		s.dispatch(cw, r, isBlob)
	}
	s.setRecord(rec, func(rec *Request) { rec.Status = cw.code() })
}

func (s *Server) setRecord(rec *Request, f func(*Request)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(rec)
}

func (s *Server) dispatch(w http.ResponseWriter, r *http.Request, isBlob bool) {
	if isBlob {
		s.serveBlob(w, r)
		return
	}
	s.serveAPI(w, r)
}

// serveAPI checks the bearer token and the request budget, then routes.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	now := s.clock.Now()
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	exp, known := s.tokens[tok]
	if !ok || !known || !now.Before(exp) {
		s.mu.Unlock()
		writeJSON(w, http.StatusUnauthorized, apiError{
			Code:    "Unauthorized",
			Message: "Identity cannot be authorized. CorrelationId: " + w.Header().Get("MS-CorrelationId"),
		})
		return
	}
	if s.budget > 0 {
		if s.windowStart.IsZero() || !now.Before(s.windowStart.Add(time.Minute)) {
			s.windowStart, s.windowCount = now, 0
		}
		if s.windowCount >= s.budget {
			wait := s.windowStart.Add(time.Minute).Sub(now)
			secs := int((wait + time.Second - 1) / time.Second)
			s.mu.Unlock()
			w.Header().Set("Retry-After", fmt.Sprint(secs))
			writeJSON(w, http.StatusTooManyRequests, apiError{
				Code:    "TooManyRequests",
				Message: fmt.Sprintf("Rate limit is exceeded. Try again in %d seconds.", secs),
			})
			return
		}
		s.windowCount++
	}
	s.mu.Unlock()
	s.api.ServeHTTP(w, r)
}

func hasBearer(auth string) bool {
	return len(auth) > len("Bearer ") && strings.EqualFold(auth[:len("Bearer ")], "Bearer ")
}

// redactSig hides the SAS signature in a recorded query string.
func redactSig(q string) string {
	if q == "" {
		return q
	}
	parts := strings.Split(q, "&")
	for i, p := range parts {
		if name, _, ok := strings.Cut(p, "="); ok && strings.EqualFold(name, "sig") {
			parts[i] = name + "=" + redact.Marker
		}
	}
	return strings.Join(parts, "&")
}

// statusWriter remembers the status written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// discardWriter takes a response that will be lost.
type discardWriter struct {
	header http.Header
	status int
}

func (w *discardWriter) Header() http.Header { return w.header }
func (w *discardWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
func (w *discardWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return len(b), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func newGUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
