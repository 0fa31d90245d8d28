// Package redact removes credentials from text before it reaches a log, an
// error or a summary: SAS query values, bearer tokens and the like. It is
// the second line of defence; the first is never formatting a secret.
package redact

import (
	"errors"
	"regexp"
	"strings"
)

// Marker replaces every redacted value.
const Marker = "REDACTED"

var (
	// A query value in any URL: ?a=b&c=d keeps the names and hides the values,
	// so that a SAS URL shows which parameters it had and nothing of them.
	queryValue = regexp.MustCompile(`([?&][A-Za-z0-9_.\-]+=)[^&\s"'<>#]*`)
	// Authorization headers and the words that introduce a credential.
	bearer = regexp.MustCompile(`(?i)\b(bearer|basic)\s+[A-Za-z0-9\-._~+/=]+`)
	// key=value (forms, queries) and "key":"value" (JSON) pairs whose key
	// names a credential. A bare "token: text" in prose is left alone, so
	// hints like "permissions: id-token: write" stay readable.
	secretKeys = `(?:client_secret|client_assertion|access_token|refresh_token|id_token|assertion|sig|signature|password|token)`
	formSecret = regexp.MustCompile(`(?i)\b(` + secretKeys + `=)[^&\s"',}]+`)
	jsonSecret = regexp.MustCompile(`(?i)("` + secretKeys + `"\s*:\s*")[^"]*`)
)

// String returns s with URL query values, bearer tokens and named
// credentials replaced by Marker.
func String(s string) string {
	if s == "" {
		return s
	}
	s = queryValue.ReplaceAllString(s, "${1}"+Marker)
	s = bearer.ReplaceAllString(s, "${1} "+Marker)
	s = formSecret.ReplaceAllString(s, "${1}"+Marker)
	s = jsonSecret.ReplaceAllString(s, "${1}"+Marker)
	return s
}

// URL returns u with its query values replaced by Marker; the scheme, host
// and path stay readable.
func URL(u string) string {
	i := strings.IndexByte(u, '?')
	if i < 0 {
		return u
	}
	return u[:i] + String(u[i:])
}

// Error wraps err so that its message is redacted while errors.Is and
// errors.As still see the original chain. It returns nil for nil.
func Error(err error) error {
	if err == nil {
		return nil
	}
	var r *redacted
	if errors.As(err, &r) && r.msg == String(err.Error()) {
		return err
	}
	return &redacted{msg: String(err.Error()), err: err}
}

type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }
