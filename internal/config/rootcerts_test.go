package config

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storeflight/storeflight/internal/fakecert"
)

func TestExtraRootCerts(t *testing.T) {
	t.Parallel()
	proxy, err := fakecert.NewCA("proxy root")
	if err != nil {
		t.Fatal(err)
	}
	other, err := fakecert.NewCA("simulator root")
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	files := map[string]string{
		"two.pem":     string(proxy.PEM()) + "\n# a comment line between blocks\n" + string(other.PEM()),
		"key.pem":     string(proxy.PEM()) + "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
		"empty.pem":   "",
		"der.cer":     "0\x82\x01\x0a binary, not PEM",
		"corrupt.pem": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name      string
		value     string
		wantCerts int
		wantErr   []string // parts of the error; nil: no error
	}{
		{"unset", "", 0, nil},
		{"two certificates, relative path", "two.pem", 2, nil},
		{"absolute path", filepath.Join(root, "two.pem"), 2, nil},
		{"missing file", "nowhere.pem", 0, []string{`cannot read "nowhere.pem"`, "PEM certificates"}},
		{"a private key in the file", "key.pem", 0, []string{"PRIVATE KEY block (number 2)"}},
		{"empty file", "empty.pem", 0, []string{`"empty.pem" holds no PEM certificate`}},
		{"DER, not PEM", "der.cer", 0, []string{"holds no PEM certificate", "Base-64"}},
		{"corrupt certificate", "corrupt.pem", 0, []string{"certificate 1 in \"corrupt.pem\" cannot be read"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := load([]string{"--flight-name=beta", "--extra-root-certs=" + tt.value}, envOf(nil), root)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("load: %v", err)
				}
				if len(c.ExtraRootCerts) != tt.wantCerts {
					t.Errorf("%d certificates, want %d", len(c.ExtraRootCerts), tt.wantCerts)
				}
				return
			}
			wantInputErrors(t, err, "extra-root-certs")
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

// TestTLSClientConfigTrustsTheExtraRoots checks that a server certificate
// signed by an extra root verifies against the pool handed to the
// clients, and that without extra roots the clients keep their defaults.
func TestTLSClientConfigTrustsTheExtraRoots(t *testing.T) {
	t.Parallel()
	if (&Config{}).TLSClientConfig() != nil {
		t.Error("TLSClientConfig() without extra roots is not nil")
	}
	ca, err := fakecert.NewCA("proxy root")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "proxy.pem")
	if err := os.WriteFile(path, ca.PEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	c := mustLoad(t, []string{"--flight-name=beta", "--extra-root-certs", path}, nil)
	tc := c.TLSClientConfig()
	if tc == nil || tc.RootCAs == nil {
		t.Fatalf("TLSClientConfig() = %+v, want RootCAs", tc)
	}
	srv, err := ca.ServerConfig()
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(srv.Certificates[0].Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: tc.RootCAs, DNSName: "localhost"}); err != nil {
		t.Errorf("a certificate from the extra root does not verify: %v", err)
	}
}
