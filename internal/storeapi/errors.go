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
	// ErrPartnerCenterSubmission: the Store refused to update, commit or
	// delete a submission made in Partner Center (code InvalidOperation):
	// the API may change only submissions made through the API.
	ErrPartnerCenterSubmission = errors.New("storeapi: submission made in Partner Center")
	// ErrUnsupportedFeature: the Store refused a change (409 InvalidState)
	// because the app uses features the submission API does not support;
	// reads still work, and retrying does not help.
	ErrUnsupportedFeature = errors.New("storeapi: app uses features the API does not support")
)

// maxErrorBody is the most of an error response read; the rest is dropped.
const maxErrorBody = 1 << 20

// unauthorizedHint is added to the Store's "Identity cannot be authorized":
// Entra issues tokens to any app of the tenant, and only Partner Center
// knows whether that app may use the Store account (STOREAPI.md §1).
const unauthorizedHint = "the Entra application must be added in Partner Center (Account settings, Users) with the Manager role"

// Hints for the two refusals that only Partner Center can get past
// (reference/APP-SUBMISSIONS.md §2, STOREAPI.md §7).
const (
	partnerCenterHint = "this submission was made in Partner Center, and the API can neither update, commit nor delete it: finish or delete it in Partner Center"
	unsupportedHint   = "the Store does not let the API change this app because it uses features the submission API does not support; make this change in Partner Center"
)

// Error is a failed Store API call: an error answer, a transport failure or
// an answer that could not be decoded. Its message is redacted and never
// contains a URL query or a token. Match it with errors.Is against the
// sentinels (ErrNotFound, ErrConflict, ErrThrottled, ErrUnauthorized,
// ErrOutcomeUnknown, ErrPartnerCenterSubmission, ErrUnsupportedFeature) or
// errors.As; the message text is not a contract.
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
	case ErrPartnerCenterSubmission:
		return e.isPartnerCenter()
	case ErrUnsupportedFeature:
		return e.isUnsupportedFeature()
	}
	return false
}

func (e *Error) isPartnerCenter() bool {
	return e.StatusCode >= 400 && e.StatusCode < 500 && strings.EqualFold(e.Code, "InvalidOperation")
}

// isUnsupportedFeature tells the unsupported-feature 409 from the other
// InvalidState conflicts (wrong state, wrong parent) by its message, the
// only place the Store says which it is.
func (e *Error) isUnsupportedFeature() bool {
	return e.StatusCode == http.StatusConflict && strings.EqualFold(e.Code, "InvalidState") &&
		strings.Contains(strings.ToLower(e.Message), "not supported")
}

// Retryable reports whether the same call may succeed later: throttling, a
// server error or a transport failure. It says nothing about whether
// re-sending a POST is safe; see ErrOutcomeUnknown for that.
func (e *Error) Retryable() bool {
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500 || (e.StatusCode == 0 && e.Err != nil)
}

// storeErrorBody is the Store's error JSON ({code, message, details, ...});
// some gateways nest it under "error". The analytics API puts what was
// wrong in innererror ({code, message, data: ["top parameter cannot be
// more than 10000"]}).
type storeErrorBody struct {
	Code       string          `json:"code"`
	Message    string          `json:"message"`
	Error      *storeErrorBody `json:"error"`
	InnerError *struct {
		Code    string   `json:"code"`
		Message string   `json:"message"`
		Data    []string `json:"data"`
	} `json:"innererror"`
}

// message is Message with the inner error's code, message and data.
func (b *storeErrorBody) message() string {
	in := b.InnerError
	if in == nil || in.Code == "" && in.Message == "" && len(in.Data) == 0 {
		return b.Message
	}
	inner := strings.TrimSpace(strings.Join(append([]string{in.Message}, in.Data...), " "))
	if in.Code != "" {
		inner = in.Code + ": " + inner
	}
	return strings.TrimSpace(b.Message + " (" + inner + ")")
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
		e.Message = sanitize(se.message(), 1000)
	} else {
		e.Message = excerpt(body)
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized && strings.Contains(strings.ToLower(e.Message), "identity cannot be authorized"):
		e.hint = unauthorizedHint
	case e.isPartnerCenter():
		e.hint = partnerCenterHint
	case e.isUnsupportedFeature():
		e.hint = unsupportedHint
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
