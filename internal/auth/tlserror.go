package auth

import (
	"crypto/tls"
	"errors"
	"net/http"
	"regexp"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

// tlsFailure is a sign-in that failed because a certificate could not be
// trusted: on a self-hosted runner, most often a TLS-inspecting proxy whose
// root the machine does not trust.
type tlsFailure struct {
	host    string // host:port whose certificate failed, "" if unknown
	problem string // Go's words, like "x509: certificate signed by unknown authority"
}

// quotedURLHost finds the host in the quoted URL net/http puts in its
// errors: Get "https://host:port/path": ...
var quotedURLHost = regexp.MustCompile(`"https?://([^/"?]+)`)

// findTLSFailure looks for a certificate problem behind err. MSAL turns
// the errors under it into text, so the text is searched for Go's words
// when the error chain has no *tls.CertificateVerificationError.
func findTLSFailure(err error) (tlsFailure, bool) {
	msg := err.Error()
	var f tlsFailure
	if m := quotedURLHost.FindStringSubmatch(msg); m != nil {
		f.host = m[1]
	}
	var cve *tls.CertificateVerificationError
	switch i := strings.Index(msg, "x509: "); {
	case errors.As(err, &cve):
		f.problem = cve.Err.Error()
	case i >= 0:
		f.problem = firstLine(msg[i:])
	case strings.Contains(msg, "tls: failed to verify certificate"):
		f.problem = firstLine(msg[strings.Index(msg, "tls: failed to verify certificate"):])
	default:
		return tlsFailure{}, false
	}
	return f, true
}

func (f tlsFailure) detail() string {
	where := "the server's certificate"
	if f.host != "" {
		where = "the certificate of " + f.host
	}
	return "cannot trust " + where + ": " + f.problem
}

// hint says what to do: a root to add, a host to fix, or a clock.
func (f tlsFailure) hint() string {
	switch {
	case strings.Contains(f.problem, "unknown authority"), strings.Contains(f.problem, "not standards compliant"):
		return "this machine does not trust the root that signed it; behind a TLS-inspecting proxy (self-hosted runners), give the proxy's root certificate in PEM form as extra-root-certs (on Linux, SSL_CERT_FILE works too)"
	case strings.Contains(f.problem, "valid for"):
		return "the certificate is for another host: check authority-host, and that no proxy answers for it with a certificate of its own"
	case strings.Contains(f.problem, "expired"):
		return "the certificate has expired or is not yet valid: check the runner's clock, and the proxy's certificate if one inspects TLS"
	}
	return "check the proxy between this runner and Entra ID, and extra-root-certs"
}

func isTLS(err error) bool {
	_, ok := findTLSFailure(err)
	return ok
}

// retryUnlessUntrusted is azcore's retry rule (connection errors and its
// default status codes), except that a certificate that failed
// verification is not tried again: it fails the same way every time, and
// azcore's four attempts made the error wait 8 seconds.
func retryUnlessUntrusted(resp *http.Response, err error) bool {
	if err != nil {
		var cve *tls.CertificateVerificationError
		return !errors.As(err, &cve)
	}
	return runtime.HasStatusCode(resp,
		http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout)
}
