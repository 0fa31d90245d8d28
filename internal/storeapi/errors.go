package storeapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/storeflight/storeflight/internal/redact"
)

// Sentinels for errors.Is on an [*Error].
var (
	// ErrNotFound: the Store answered 404.
	ErrNotFound = errors.New("storeapi: not found")
	// ErrConflict: the Store answered 409 (wrong state, wrong parent, or a
	// feature the API does not support; the Error's Code and Message say
	// which).
	ErrConflict = errors.New("storeapi: conflict")
	// ErrThrottled: the Store answered 429 and retrying could not (or was
	// not allowed to) wait long enough.
	ErrThrottled = errors.New("storeapi: throttled")
	// ErrUnauthorized: the Store answered 401 or 403.
	ErrUnauthorized = errors.New("storeapi: unauthorized")
	// ErrOutcomeUnknown: a POST (create, commit, rollout change) may or may
	// not have taken effect: the Store answered 5xx, or the request timed
	// out or its connection broke after it was written. Read the state
	// before deciding to send it again.
	ErrOutcomeUnknown = errors.New("storeapi: outcome unknown")
)

// maxErrorBody is the most of an error response read; the rest is dropped.
const maxErrorBody = 1 << 20

// unauthorizedHint is added to the Store's "Identity cannot be authorized":
// Entra issues tokens to any app of the tenant, and only Partner Center
// knows whether that app may use the Store account (STOREAPI.md §1).
const unauthorizedHint = "the Entra application must be added in Partner Center (Account settings, Users) with the Manager role"

// Error is a failed Store API call: an error answer, a transport failure or
// an answer that could not be decoded. Its message is redacted and never
// contains a URL query or a token. Match it with errors.Is against the
// sentinels (ErrNotFound, ErrConflict, ErrThrottled, ErrUnauthorized,
// ErrOutcomeUnknown) or errors.As; the message text is not a contract.
type Error struct {
	Op         string // the operation, e.g. "commit flight submission"
	Method     string // HTTP method
	Path       string // URL path, never the query
	StatusCode int    // HTTP status; 0 when no answer came
	// Code and Message are the Store's, from its JSON error body; for a body
	// that is not JSON, Message is a short sanitized excerpt or the status
	// text.
	Code, Message string
	// CorrelationID is the MS-CorrelationId response header, else the one
	// the request sent: quote it to Microsoft support.
	CorrelationID string
	// Err is the underlying transport or decode error, redacted.
	Err error

	outcomeUnknown bool
	hint           string
}

// Error returns the redacted one-line description of the failure.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "%s %s: ", e.Method, e.Path)
	switch {
	case e.StatusCode != 0 && e.Err != nil:
		fmt.Fprintf(&b, "%d %s: %v", e.StatusCode, http.StatusText(e.StatusCode), e.Err)
	case e.StatusCode != 0:
		fmt.Fprintf(&b, "%d", e.StatusCode)
		if e.Code != "" {
			b.WriteString(" " + e.Code)
		}
		if e.Message != "" {
			b.WriteString(": " + e.Message)
		}
	case e.Err != nil:
		b.WriteString(e.Err.Error())
	default:
		b.WriteString("failed")
	}
	if e.CorrelationID != "" {
		fmt.Fprintf(&b, " (correlation ID %s)", e.CorrelationID)
	}
	if e.outcomeUnknown {
		b.WriteString("; outcome unknown: read the state before sending it again")
	}
	if e.hint != "" {
		b.WriteString("; hint: " + e.hint)
	}
	return redact.String(b.String())
}

// Hint says what to do about the failure, when the answer tells (an
// Entra application Partner Center does not know); "" otherwise.
func (e *Error) Hint() string { return e.hint }

// Unwrap returns the underlying transport or decode error, if any.
func (e *Error) Unwrap() error { return e.Err }

// Is matches the package's sentinels by status code (and, for
// ErrOutcomeUnknown, by what is known of the request's fate).
func (e *Error) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrConflict:
		return e.StatusCode == http.StatusConflict
	case ErrThrottled:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden
	case ErrOutcomeUnknown:
		return e.outcomeUnknown
	}
	return false
}

// Retryable reports whether the same call may succeed later: throttling, a
// server error or a transport failure. It says nothing about whether
// re-sending a POST is safe; see ErrOutcomeUnknown for that.
func (e *Error) Retryable() bool {
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500 || (e.StatusCode == 0 && e.Err != nil)
}

// storeErrorBody is the Store's error JSON ({code, message, details, ...});
// some gateways nest it under "error".
type storeErrorBody struct {
	Code    string          `json:"code"`
	Message string          `json:"message"`
	Error   *storeErrorBody `json:"error"`
}

// checkResponse turns a non-2xx answer into an *Error, reading at most
// maxErrorBody of its body. It returns nil for a 2xx answer and leaves its
// body unread.
func checkResponse(op string, req *http.Request, resp *http.Response, sentCorrelationID string) *Error {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	e := newError(op, req, resp, sentCorrelationID)
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if err != nil && len(body) == 0 {
		e.Message = http.StatusText(resp.StatusCode)
		return e
	}
	var se storeErrorBody
	if json.Unmarshal(body, &se) == nil && (se.Code != "" || se.Message != "" || se.Error != nil) {
		if se.Code == "" && se.Message == "" && se.Error != nil {
			se = *se.Error
		}
		e.Code = sanitize(se.Code, 100)
		e.Message = sanitize(se.Message, 1000)
	} else {
		e.Message = excerpt(body)
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	if resp.StatusCode == http.StatusUnauthorized && strings.Contains(strings.ToLower(e.Message), "identity cannot be authorized") {
		e.hint = unauthorizedHint
	}
	return e
}

func newError(op string, req *http.Request, resp *http.Response, sentCorrelationID string) *Error {
	e := &Error{Op: op, Method: req.Method, Path: req.URL.EscapedPath(), CorrelationID: sentCorrelationID}
	if resp != nil {
		e.StatusCode = resp.StatusCode
		if id := resp.Header.Get(headerCorrelationID); id != "" {
			e.CorrelationID = sanitize(id, 100)
		}
	}
	return e
}

var (
	tags       = regexp.MustCompile(`(?s)<(script|style)\b.*?</(script|style)>|<[^>]*>`)
	whitespace = regexp.MustCompile(`\s+`)
)

// excerpt makes a short, single-line, printable excerpt of a body that is
// not the Store's JSON (a proxy's HTML page, plain text).
func excerpt(body []byte) string {
	s := string(body)
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "")
	}
	s = tags.ReplaceAllString(s, " ")
	return sanitize(s, 200)
}

// sanitize makes s a single printable line of at most n runes.
func sanitize(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, ""))
	s = strings.TrimSpace(whitespace.ReplaceAllString(s, " "))
	if utf8.RuneCountInString(s) > n {
		r := []rune(s)
		s = string(r[:n]) + "…"
	}
	return s
}
