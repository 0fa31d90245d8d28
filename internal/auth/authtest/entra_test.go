package authtest

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestCertPEMLetsAnotherClientTrustTheFake(t *testing.T) {
	t.Parallel()
	e := NewEntra(t, EntraOptions{})
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(e.CertPEM()) {
		t.Fatal("CertPEM holds no certificate")
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := c.Get(e.URL() + "/t/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Issuer        string `json:"issuer"`
		TokenEndpoint string `json:"token_endpoint"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	// MSAL requires the issuer on the authority's scheme and host.
	if doc.Issuer != e.URL()+"/t/v2.0" || doc.TokenEndpoint != e.URL()+"/t/oauth2/v2.0/token" {
		t.Errorf("discovery document: %+v", doc)
	}

	// The certificate names localhost too, for verifiers that match no IP
	// address (Windows' own, golang/go#37176).
	local := strings.Replace(e.URL(), "127.0.0.1", "localhost", 1)
	resp2, err := c.Get(local + "/t/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatalf("by the name localhost: %v", err)
	}
	resp2.Body.Close()
}

func TestTokenEndpointChecksTheAssertion(t *testing.T) {
	t.Parallel()
	e := NewEntra(t, EntraOptions{})
	valid := e.MintIDToken(DefaultAudience, "s", time.Minute)
	tests := []struct {
		name      string
		assertion string
		typ       string
		scope     string
		wantCode  string
	}{
		{"valid", valid, jwtBearer, "https://manage.devcenter.microsoft.com/.default openid", ""},
		{"not issued here", valid + "x", jwtBearer, "https://manage.devcenter.microsoft.com/.default", "AADSTS50027"},
		{"expired", e.MintIDToken(DefaultAudience, "s", -time.Second), jwtBearer, "x/.default", "AADSTS700024"},
		{"other audience", e.MintIDToken("api://other", "s", time.Minute), jwtBearer, "x/.default", "AADSTS700212"},
		{"wrong assertion type", valid, "urn:other", "x/.default", "AADSTS700025"},
		{"scope without .default", valid, jwtBearer, "https://manage.devcenter.microsoft.com/user_impersonation", "AADSTS1002012"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			form := url.Values{"grant_type": {"client_credentials"}, "client_id": {"c"}, "scope": {tt.scope},
				"client_assertion": {tt.assertion}, "client_assertion_type": {tt.typ}}
			resp, err := e.Client().PostForm(e.URL()+"/t/oauth2/v2.0/token", form)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct {
				AccessToken string `json:"access_token"`
				Description string `json:"error_description"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			if tt.wantCode == "" {
				if resp.StatusCode != http.StatusOK || body.AccessToken == "" {
					t.Fatalf("status %d, %q", resp.StatusCode, body.Description)
				}
				return
			}
			if resp.StatusCode == http.StatusOK || !strings.HasPrefix(body.Description, tt.wantCode+":") {
				t.Errorf("status %d, description %q, want %s", resp.StatusCode, body.Description, tt.wantCode)
			}
		})
	}
}

func TestGitHubEndpointWantsTheRequestToken(t *testing.T) {
	t.Parallel()
	e := NewEntra(t, EntraOptions{})
	for _, tc := range []struct {
		auth string
		want int
	}{{"", http.StatusUnauthorized}, {"Bearer nope", http.StatusUnauthorized}, {"Bearer " + e.IDTokenRequestToken(), http.StatusOK}} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, e.IDTokenURL()+"&audience=api://AzureADTokenExchange", nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		resp, err := e.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("Authorization %q: status %d, want %d", tc.auth, resp.StatusCode, tc.want)
		}
	}
	if got := len(e.IDTokensIssued()); got != 1 {
		t.Errorf("issued %d ID tokens, want 1", got)
	}
}
