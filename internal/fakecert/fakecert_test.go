package fakecert

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestServerIsTrustedByNameAndAddress connects to a server presenting the
// certificate by every host it names, trusting only the CA's PEM, as a
// storeflight process given the PEM does.
func TestServerIsTrustedByNameAndAddress(t *testing.T) {
	t.Parallel()
	ca, err := NewCA("fakecert test CA")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ca.ServerConfig()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	srv.TLS = cfg
	srv.StartTLS()
	t.Cleanup(srv.Close)
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca.PEM()) {
		t.Fatal("the CA's PEM holds no certificate")
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	t.Cleanup(client.CloseIdleConnections)
	// httptest listens on 127.0.0.1 only; localhost may resolve to ::1
	// first, and the client falls back to 127.0.0.1 as a browser would.
	for _, host := range []string{"localhost", "127.0.0.1"} {
		url := "https://" + host + ":" + port + "/"
		resp, err := client.Get(url)
		if err != nil {
			t.Errorf("GET %s: %v", url, err)
			continue
		}
		resp.Body.Close()
	}
}

// TestCAIsAConstrainedRoot checks the CA can sign servers and nothing
// below them, and that the PEM is exactly one certificate.
func TestCAIsAConstrainedRoot(t *testing.T) {
	t.Parallel()
	ca, err := NewCA("fakecert test CA")
	if err != nil {
		t.Fatal(err)
	}
	block, rest := pem.Decode(ca.PEM())
	if block == nil || len(rest) != 0 || block.Type != "CERTIFICATE" {
		t.Fatalf("PEM is not one certificate: %q", ca.PEM())
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !cert.IsCA || !cert.MaxPathLenZero || cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		t.Errorf("CA certificate: IsCA %t, MaxPathLenZero %t, KeyUsage %b", cert.IsCA, cert.MaxPathLenZero, cert.KeyUsage)
	}
	cfg, err := ca.ServerConfig()
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(cfg.Certificates[0].Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if leaf.IsCA {
		t.Error("the server certificate is a CA")
	}
	for host, ok := range map[string]bool{"localhost": true, "127.0.0.1": true, "::1": true, "127.0.0.2": false, "example.com": false} {
		if err := leaf.VerifyHostname(host); (err == nil) != ok {
			t.Errorf("VerifyHostname(%s) = %v, want valid %t", host, err, ok)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), DNSName: "localhost"}); err != nil {
		t.Errorf("server certificate does not verify against Pool(): %v", err)
	}
}
