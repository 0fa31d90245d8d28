package config

import (
	"fmt"
	"strconv"
)

// Format makes every fmt verb print the redaction marker: without it, %#v
// and %x would reach the underlying string, and %+v of a Config would show
// GitHubOIDC.RequestToken and the other secrets in it.
func (s Secret) Format(f fmt.State, verb rune) {
	switch verb {
	case 'q':
		_, _ = f.Write([]byte(strconv.Quote(s.String())))
	default:
		_, _ = f.Write([]byte(s.String()))
	}
}

// GoString returns the redaction marker, quoted as Go syntax.
func (s Secret) GoString() string { return strconv.Quote(s.String()) }

// MarshalText keeps secrets out of JSON, YAML and similar encodings.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
