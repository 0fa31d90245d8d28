package storeapi

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/hashicorp/go-cleanhttp"
	"github.com/hashicorp/go-retryablehttp"

	"github.com/storeflight/storeflight/internal/clock"
	"github.com/storeflight/storeflight/internal/redact"
)

// Scope is the OAuth scope of the Store submission API.
const Scope = "https://manage.devcenter.microsoft.com/.default"

// DefaultBaseURL is the Store submission API's host.
const DefaultBaseURL = "https://manage.devcenter.microsoft.com"

// apiPath is where the API lives under the base URL; @nextLink and every
// path in this package are relative to it.
const apiPath = "/v1.0/my/"

// Defaults of Options.
const (
	DefaultRequestBudget  = 20
	DefaultRetryMax       = 8
	DefaultRetryWaitMin   = time.Second
	DefaultRetryWaitMax   = 60 * time.Second
	DefaultMaxRetryAfter  = 2 * time.Minute
	DefaultAttemptTimeout = 100 * time.Second
)

const (
	headerCorrelationID = "MS-CorrelationId"
	headerRequestID     = "MS-RequestId"
	// maxSuccessBody bounds a success answer; the largest documented body,
	// an app submission with listings, is far smaller.
	maxSuccessBody = 64 << 20
)

// Options configures a Client. The zero value of every field means its
// default.
type Options struct {
	// BaseURL is the scheme and host of the API (tests, proxies); the client
	// appends /v1.0/my/. Default DefaultBaseURL. The bearer token is sent
	// only to this scheme and host.
	BaseURL string
	// HTTPClient sends each attempt, under the retries. Default: a
	// cleanhttp pooled client (HTTPS_PROXY and the system CA pool honoured)
	// whose Timeout, DefaultAttemptTimeout, bounds each attempt.
	HTTPClient *http.Client
	// Clock is what the request budget waits on. Default clock.Real{}.
	// Retry waits use the real timers of go-retryablehttp.
	Clock clock.Clock
	// RequestBudget is the most requests (every attempt, retries included)
	// sent in any rolling minute. 0 means DefaultRequestBudget (the Store's
	// documented 20 per tenant); negative means no limit.
	RequestBudget int
	// RetryMax is the most retries after the first attempt. 0 means
	// DefaultRetryMax; negative means no retries.
	RetryMax int
	// RetryWaitMin and RetryWaitMax bound the jittered exponential backoff
	// between attempts. 0 means DefaultRetryWaitMin and DefaultRetryWaitMax.
	RetryWaitMin, RetryWaitMax time.Duration
	// MaxRetryAfter is the longest Retry-After honoured; a longer one is
	// waited for only this long. 0 means DefaultMaxRetryAfter. A wait that
	// would pass the context's deadline is not started: the call returns
	// the throttled error instead.
	MaxRetryAfter time.Duration
	// Logger receives one debug line per attempt: method, path (never the
	// query), status, MS-CorrelationId and duration. Nil discards.
	Logger *slog.Logger
	// UserAgent is sent as User-Agent when not empty.
	UserAgent string
}

// Client calls the Store submission API. It is safe for concurrent use.
type Client struct {
	base      *url.URL // scheme and host of the API, path apiPath
	cred      azcore.TokenCredential
	rc        *retryablehttp.Client
	clock     clock.Clock
	logger    *slog.Logger
	userAgent string
	maxRA     time.Duration
}

// New returns a Client that signs its requests with tokens from cred for
// Scope. A nil opts means all defaults.
func New(cred azcore.TokenCredential, opts *Options) (*Client, error) {
	if cred == nil {
		return nil, errors.New("storeapi: no token credential")
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.BaseURL == "" {
		o.BaseURL = DefaultBaseURL
	}
	base, err := url.Parse(o.BaseURL)
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" || base.User != nil || base.RawQuery != "" {
		return nil, fmt.Errorf("storeapi: base URL %q must be an absolute http(s) URL with a host and no user or query", redact.URL(o.BaseURL))
	}
	base.Path = strings.TrimSuffix(base.Path, "/") + apiPath
	base.RawPath = ""
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case o.RequestBudget == 0:
		o.RequestBudget = DefaultRequestBudget
	case o.RequestBudget < 0:
		o.RequestBudget = 0
	}
	switch {
	case o.RetryMax == 0:
		o.RetryMax = DefaultRetryMax
	case o.RetryMax < 0:
		o.RetryMax = 0
	}
	if o.RetryWaitMin <= 0 {
		o.RetryWaitMin = DefaultRetryWaitMin
	}
	if o.RetryWaitMax <= 0 {
		o.RetryWaitMax = DefaultRetryWaitMax
	}
	if o.RetryWaitMax < o.RetryWaitMin {
		o.RetryWaitMax = o.RetryWaitMin
	}
	if o.MaxRetryAfter <= 0 {
		o.MaxRetryAfter = DefaultMaxRetryAfter
	}
	var hc http.Client
	if o.HTTPClient != nil {
		hc = *o.HTTPClient
	} else {
		hc = *cleanhttp.DefaultPooledClient()
		hc.Timeout = DefaultAttemptTimeout
	}
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c := &Client{
		base:      base,
		cred:      cred,
		clock:     o.Clock,
		logger:    o.Logger,
		userAgent: o.UserAgent,
		maxRA:     o.MaxRetryAfter,
	}
	hc.Transport = &transport{c: c, next: next, budget: newBudget(o.Clock, o.RequestBudget)}
	c.rc = &retryablehttp.Client{
		HTTPClient:   &hc,
		Logger:       nil, // it would print URLs with their SAS queries; transport logs instead
		RetryWaitMin: o.RetryWaitMin,
		RetryWaitMax: o.RetryWaitMax,
		RetryMax:     o.RetryMax,
		CheckRetry:   c.checkRetry,
		Backoff:      c.backoff,
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
	return c, nil
}

// transport sits under the retries, so that every attempt waits for the
// budget, gets a fresh token and is logged.
type transport struct {
	c      *Client
	next   http.RoundTripper
	budget *budget
}

// notSentError marks a failure before the request left (budget wait, token):
// a POST that failed this way certainly did nothing.
type notSentError struct{ err error }

func (e *notSentError) Error() string { return e.err.Error() }
func (e *notSentError) Unwrap() error { return e.err }

// tokenError is a failed GetToken. azidentity retries itself, so the retry
// layer must not multiply its attempts.
type tokenError struct{ err error }

func (e *tokenError) Error() string { return "get token: " + redact.String(e.err.Error()) }
func (e *tokenError) Unwrap() error { return e.err }

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	r := req.Clone(ctx)
	r.Header.Set(headerRequestID, newGUID())
	r.Header.Del("Authorization")
	if t.c.isStoreHost(r.URL) {
		tok, err := t.c.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{Scope}})
		if err != nil {
			return nil, &notSentError{&tokenError{err}}
		}
		r.Header.Set("Authorization", "Bearer "+tok.Token)
	}
	// The budget's slot is taken last, right before the request leaves: a
	// slot taken before a slow sign-in would date the request too early,
	// and the Store would count more of them in its minute than the budget.
	if err := t.budget.wait(ctx); err != nil {
		return nil, &notSentError{err}
	}
	start := time.Now()
	resp, err := t.next.RoundTrip(r)
	if st, ok := ctx.Value(callStateKey).(*callState); ok {
		st.record(resp, err)
	}
	attrs := []any{"method", r.Method, "path", r.URL.EscapedPath(), "duration", time.Since(start)}
	if err != nil {
		attrs = append(attrs, "correlation_id", r.Header.Get(headerCorrelationID), "error", redact.String(err.Error()))
	} else {
		id := resp.Header.Get(headerCorrelationID)
		if id == "" {
			id = r.Header.Get(headerCorrelationID)
		}
		attrs = append(attrs, "status", resp.StatusCode, "correlation_id", sanitize(id, 100))
	}
	t.c.logger.DebugContext(ctx, "store request", attrs...)
	return resp, err
}

func (c *Client) isStoreHost(u *url.URL) bool {
	return strings.EqualFold(u.Scheme, c.base.Scheme) && strings.EqualFold(u.Host, c.base.Host)
}

// budget is a sliding window: at most n request starts in any minute.
type budget struct {
	clock clock.Clock
	n     int
	mu    sync.Mutex
	sent  []time.Time
}

func newBudget(c clock.Clock, n int) *budget { return &budget{clock: c, n: n} }

func (b *budget) wait(ctx context.Context) error {
	if b.n <= 0 {
		return ctx.Err()
	}
	for {
		b.mu.Lock()
		now := b.clock.Now()
		cut := 0
		for cut < len(b.sent) && !b.sent[cut].After(now.Add(-time.Minute)) {
			cut++
		}
		b.sent = b.sent[cut:]
		if len(b.sent) < b.n {
			b.sent = append(b.sent, now)
			b.mu.Unlock()
			return ctx.Err()
		}
		d := b.sent[0].Add(time.Minute).Sub(now)
		b.mu.Unlock()
		if err := b.clock.Sleep(ctx, d); err != nil {
			return err
		}
	}
}

type ctxKey int

const (
	nonIdempotentKey ctxKey = iota
	callStateKey
)

// callState follows one call across its attempts: how many were made,
// how the last one ended, and whether any may have reached the Store and
// been acted on. Only a dial error (nothing was sent) and a 429 (the Store
// refused it) are known to have done nothing.
type callState struct {
	mu           sync.Mutex
	attempts     int
	lastStatus   int   // the last attempt's HTTP status; 0 when it got no answer
	lastErr      error // the last attempt's transport error
	maybeApplied bool
}

func (s *callState) record(resp *http.Response, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts++
	s.lastStatus, s.lastErr = 0, err
	if err == nil {
		s.lastStatus = resp.StatusCode
	}
	if (err != nil && !isDialError(err)) || (err == nil && resp.StatusCode != http.StatusTooManyRequests) {
		s.maybeApplied = true
	}
}

func (s *callState) applied() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maybeApplied
}

func (s *callState) last() (attempts, status int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts, s.lastStatus, s.lastErr
}

// checkRetry retries GET, PUT and DELETE as go-retryablehttp's default
// policy does (429, 5xx but 501, connection errors), and a POST only when
// the Store certainly did nothing: a 429 or a dial error. Under a deadline
// (the wait's timeout, the run's) it does not start a wait that would end
// past it, whether Retry-After asks for it or the backoff's shortest draw
// is that long, so the caller gets the last answer instead of a bare
// "deadline exceeded".
func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	var ns *notSentError
	if errors.As(err, &ns) {
		return false, err
	}
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	var retry bool
	if ctx.Value(nonIdempotentKey) == true {
		if err != nil {
			retry = isDialError(err)
		} else {
			retry = resp.StatusCode == http.StatusTooManyRequests
		}
	} else {
		var rerr error
		retry, rerr = retryablehttp.DefaultRetryPolicy(ctx, resp, err)
		if rerr != nil {
			return false, rerr
		}
	}
	if dl, has := ctx.Deadline(); retry && has && time.Now().Add(c.shortestWait(ctx, resp)).After(dl) {
		return false, nil
	}
	return retry, nil
}

// shortestWait is the least the retry layer will wait before the next
// attempt: Retry-After when the answer has one, else the backoff's lowest
// draw for the attempt just made.
func (c *Client) shortestWait(ctx context.Context, resp *http.Response) time.Duration {
	if resp != nil {
		if d, ok := c.retryAfter(resp); ok {
			return d
		}
	}
	attempt := 0
	if st, ok := ctx.Value(callStateKey).(*callState); ok {
		n, _, _ := st.last()
		attempt = max(n-1, 0)
	}
	return backoffCeiling(c.rc.RetryWaitMin, c.rc.RetryWaitMax, attempt) / 2
}

// Transient reports whether err is a failure that a later attempt may not
// meet: throttling (429), a request timeout (408), a server error (5xx but
// 501), or a connection that failed, broke or timed out. The Store's
// refusals (other 4xx), an answer that could not be read, a failed
// sign-in and a cancelled call are not.
func Transient(err error) bool {
	var e *Error
	if !errors.As(err, &e) || errors.Is(err, context.Canceled) {
		return false
	}
	if e.StatusCode != 0 {
		code := e.StatusCode
		return code == http.StatusTooManyRequests || code == http.StatusRequestTimeout ||
			code >= 500 && code != http.StatusNotImplemented
	}
	var te *tokenError
	return e.Err != nil && !errors.As(err, &te)
}

func isDialError(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// retryAfter reads Retry-After on a 429 or 503 in both of its forms (delta
// seconds, HTTP date), capped at MaxRetryAfter.
func (c *Client) retryAfter(resp *http.Response) (time.Duration, bool) {
	if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable {
		return 0, false
	}
	v := strings.TrimSpace(resp.Header.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(c.maxRA/time.Second) {
			return c.maxRA, true
		}
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = max(time.Until(t), 0)
	} else {
		return 0, false
	}
	return min(d, c.maxRA), true
}

// backoff honours Retry-After, else waits a jittered exponential time:
// between half and all of min·2^attempt, capped at max.
func (c *Client) backoff(lo, hi time.Duration, attempt int, resp *http.Response) time.Duration {
	if resp != nil {
		if d, ok := c.retryAfter(resp); ok {
			return d
		}
	}
	d := backoffCeiling(lo, hi, attempt)
	half := d / 2
	return half + rand.N(d-half+1)
}

// backoffCeiling is the longest backoff after attempt (0 for the first).
func backoffCeiling(lo, hi time.Duration, attempt int) time.Duration {
	if attempt >= 30 {
		return hi
	}
	return min(lo<<attempt, hi)
}

// newGUID returns a random (version 4) GUID for MS-CorrelationId and
// MS-RequestId.
func newGUID() string {
	var b [16]byte
	_, _ = crand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// endpoint returns the API URL of rel, a path relative to /v1.0/my/ whose
// segments the caller has escaped.
func (c *Client) endpoint(rel string, q url.Values) *url.URL {
	u := *c.base
	u.Path = "" // rebuilt from RawPath below so escapes survive
	raw := c.base.EscapedPath() + rel
	p, err := url.PathUnescape(raw)
	if err != nil {
		p = raw
	}
	u.Path, u.RawPath = p, raw
	u.RawQuery = q.Encode()
	return &u
}

// seg escapes one path segment; "." and ".." are escaped as well so that an
// ID can never step out of its place in the path.
func seg(s string) string {
	switch s {
	case ".":
		return "%2E"
	case "..":
		return "%2E%2E"
	}
	return url.PathEscape(s)
}

// do sends one API call and decodes a success answer into out (when not
// nil). A POST is marked non-idempotent for the retry policy.
func (c *Client) do(ctx context.Context, op, method string, u *url.URL, body any, out any) error {
	var payload []byte
	switch b := body.(type) {
	case nil:
	case []byte:
		payload = b
	default:
		var err error
		if payload, err = json.Marshal(b); err != nil {
			return &Error{Op: op, Method: method, Path: u.EscapedPath(), Err: redact.Error(err)}
		}
	}
	post := method == http.MethodPost
	state := &callState{}
	ctx = context.WithValue(ctx, callStateKey, state)
	if post {
		ctx = context.WithValue(ctx, nonIdempotentKey, true)
	}
	var rb any
	if payload != nil {
		rb = payload
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, method, u.String(), rb)
	if err != nil {
		return &Error{Op: op, Method: method, Path: u.EscapedPath(), Err: redact.Error(err)}
	}
	correlationID := newGUID()
	req.Header.Set(headerCorrelationID, correlationID)
	req.Header.Set("Accept", "application/json")
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	resp, err := c.rc.Do(req)
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		e := &Error{Op: op, Method: method, Path: u.EscapedPath(), CorrelationID: correlationID, Err: redact.Error(unwrapURLError(err))}
		if n, status, lastErr := state.last(); n > 0 && errors.Is(err, context.DeadlineExceeded) && !errors.Is(lastErr, context.DeadlineExceeded) {
			// The deadline came while waiting to try again: what the last
			// attempt met is the news, not the deadline.
			e.StatusCode = status
			if lastErr != nil {
				e.Err = redact.Error(fmt.Errorf("%w, and the deadline came before another attempt (%w)", unwrapURLError(lastErr), err))
			} else {
				e.Err = fmt.Errorf("the deadline came before another attempt: %w", err)
			}
		}
		e.outcomeUnknown = post && state.applied()
		return e
	}
	defer resp.Body.Close()
	if e := checkResponse(op, req.Request, resp, correlationID); e != nil {
		if post && resp.StatusCode >= 500 {
			e.outcomeUnknown = true
		}
		return e
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		return nil
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxSuccessBody))
	if err == nil {
		err = json.Unmarshal(bytes.TrimSpace(data), out)
		if err != nil {
			err = fmt.Errorf("decode response: %w", err)
		}
	} else {
		err = fmt.Errorf("read response: %w", err)
	}
	if err != nil {
		e := newError(op, req.Request, resp, correlationID)
		e.Err = redact.Error(err)
		return e
	}
	return nil
}

// unwrapURLError drops *url.Error's "Get \"https://…?query\"" prefix: the
// Error already names the method and path, and the URL may carry a query.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err
	}
	return err
}
