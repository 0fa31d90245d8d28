package config

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
)

// extraRootCerts reads the extra-root-certs input: a file of PEM
// certificates to trust besides the system's roots, for a TLS-inspecting
// proxy's root on a self-hosted runner or a local simulator's CA. It is
// the one way to add a root that works on every platform: Go reads
// SSL_CERT_FILE on Linux and other Unix systems only, and Windows and macOS
// otherwise trust only their system stores. A relative path starts at root
// ("" for the working directory).
func (p *parser) extraRootCerts(root string) []*x509.Certificate {
	const name = "extra-root-certs"
	v := p.raw[name]
	if v.text == "" {
		return nil
	}
	bad := func(format string, args ...any) []*x509.Certificate {
		p.errs = append(p.errs, &InputError{Input: name, Problem: fmt.Sprintf(format, args...) +
			": give a file of PEM certificates (-----BEGIN CERTIFICATE-----), such as the proxy's root certificate exported in Base-64 form"})
		return nil
	}
	path := v.text
	if root != "" && !filepath.IsAbs(path) {
		path = filepath.Join(root, path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return bad("cannot read %s: %v", quote(v.text), unwrapPathError(err))
	}
	var certs []*x509.Certificate
	for n := 1; ; n++ {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return bad("%s holds a %s block (number %d), not only certificates", quote(v.text), block.Type, n)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return bad("certificate %d in %s cannot be read: %v", n, quote(v.text), err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return bad("%s holds no PEM certificate", quote(v.text))
	}
	return certs
}

// unwrapPathError drops the path an *os.PathError repeats.
func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// TLSClientConfig returns the TLS settings for every connection to Entra
// ID, the Store and the blob host when extra-root-certs is given: the
// system's roots and the extra ones. It returns nil otherwise, meaning each
// client's defaults (which honour SSL_CERT_FILE where Go reads it).
//
// On Windows and macOS a certificate is first checked by the system's
// verifier and, only if that fails, by Go's against the extra roots, so a
// proxy's root works without installing it in the system store.
func (c *Config) TLSClientConfig() *tls.Config {
	if len(c.ExtraRootCerts) == 0 {
		return nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool() // no system roots: trust the given ones
	}
	for _, cert := range c.ExtraRootCerts {
		pool.AddCert(cert)
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}
}
