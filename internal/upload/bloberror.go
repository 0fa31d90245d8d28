package upload

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

// The blob requests an upload makes, as errors name them.
const (
	opPutBlob      = "Put Blob"
	opPutBlock     = "Put Block"
	opPutBlockList = "Put Block List"
)

// BlobError is a request that the blob host answered with an error. The
// SDK's own error is a dump of many lines (the request URL, every header,
// the XML body); a person needs the request, the status and what the
// service said.
type BlobError struct {
	Op      string // "Put Block", "Put Block List" or "Put Blob"
	Status  int    // the HTTP status
	Code    string // the service's x-ms-error-code
	Message string // the first line of the service's message, and its authentication detail
	err     error
}

func (e *BlobError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: HTTP %d", e.Op, e.Status)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	return b.String()
}

func (e *BlobError) Unwrap() error { return e.err }

// Refused says whether the blob host refused the upload URL itself: its
// SAS has expired, was revoked, or does not allow the request.
func (e *BlobError) Refused() bool {
	if e.Status != http.StatusForbidden {
		return false
	}
	switch e.Code {
	case "AuthenticationFailed", "AuthorizationFailure", "AuthorizationPermissionMismatch",
		"AuthorizationProtocolMismatch", "AuthorizationResourceTypeMismatch":
		return true
	}
	return false
}

// maxMessage bounds what is kept of the service's message: enough for
// any message Azure documents, not a page of XML.
const maxMessage = 300

// blobError names op in err: a service error becomes a *BlobError, a
// transport error loses the request URL (which carries the SAS) and keeps
// what went wrong. A cancellation is returned as it is.
func blobError(op string, err error) error {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		e := &BlobError{Op: op, Status: re.StatusCode, Code: re.ErrorCode, err: err}
		if re.RawResponse != nil {
			e.Message = serviceMessage(re.RawResponse)
		}
		return e
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", op, ue.Err)
	}
	return err
}

// serviceMessage is the first line of the <Message> of an error body (the
// lines after it are a request ID and a time), followed by the first line
// of <AuthenticationErrorDetail>, which says why a SAS was refused; without
// their closing full stops, since more may follow on the line.
func serviceMessage(resp *http.Response) string {
	body, err := runtime.Payload(resp)
	if err != nil || len(body) == 0 {
		return ""
	}
	var e struct {
		Message string `xml:"Message"`
		Detail  string `xml:"AuthenticationErrorDetail"`
	}
	if xml.Unmarshal(body, &e) != nil {
		return ""
	}
	msg := strings.TrimSuffix(firstLine(e.Message), ".")
	if d := strings.TrimSuffix(firstLine(e.Detail), "."); d != "" {
		msg += " (" + d + ")"
	}
	if r := []rune(msg); len(r) > maxMessage {
		msg = string(r[:maxMessage]) + "…"
	}
	return msg
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}
