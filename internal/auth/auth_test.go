package auth_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/google/go-cmp/cmp"
	gha "github.com/sethvargo/go-githubactions"

	"github.com/storeflight/storeflight/internal/auth"
	"github.com/storeflight/storeflight/internal/auth/authtest"
	"github.com/storeflight/storeflight/internal/config"
	"github.com/storeflight/storeflight/internal/storeapi"
)

const (
	tenant    = "11111111-2222-3333-4444-555555555555"
	clientID  = "66666666-7777-8888-9999-000000000000"
	secret    = "cs~Sup3r-S3cret.Value_1234567890"
	connID    = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
	jwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
)

// shortTTL is under MSAL's 5-minute refresh margin, so every GetToken
// reaches the token endpoint without the test sleeping.
const shortTTL = 60 * time.Second

// captured collects what OnSecret receives.
type captured struct {
	mu  sync.Mutex
	got []string
}

func (c *captured) add(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, s)
}

func (c *captured) count(s string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, g := range c.got {
		if g == s {
			n++
		}
	}
	return n
}

func (c *captured) has(s string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Contains(c.got, s)
}

func newEntra(t *testing.T, o authtest.EntraOptions) *authtest.Entra {
	t.Helper()
	if o.Tenant == "" {
		o.Tenant = tenant
	}
	if o.ClientID == "" {
		o.ClientID = clientID
	}
	return authtest.NewEntra(t, o)
}

func baseConfig(t *testing.T, e *authtest.Entra) *config.Config {
	t.Helper()
	u, err := url.Parse(e.URL())
	if err != nil {
		t.Fatal(err)
	}
	return &config.Config{TenantID: tenant, ClientID: clientID, Auth: config.AuthAuto, AuthorityHost: u}
}

func githubConfig(t *testing.T, e *authtest.Entra) *config.Config {
	cfg := baseConfig(t, e)
	cfg.GitHub = config.GitHubOIDC{RequestURL: e.IDTokenURL(), RequestToken: config.Secret(e.IDTokenRequestToken())}
	return cfg
}

func newCred(t *testing.T, e *authtest.Entra, cfg *config.Config) (azcore.TokenCredential, auth.Mode, *captured) {
	t.Helper()
	c := &captured{}
	cred, mode, err := auth.NewCredential(cfg, &auth.Options{Transport: e.Client(), OnSecret: c.add})
	if err != nil {
		t.Fatalf("NewCredential: %v", err)
	}
	return cred, mode, c
}

func getToken(ctx context.Context, cred azcore.TokenCredential) (azcore.AccessToken, error) {
	return cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{storeapi.Scope}})
}

func distinct(s []string) int { return len(slices.Compact(slices.Sorted(slices.Values(s)))) }

// checkSeen checks that OnSecret saw the request token and every ID and
// access token the fake issued.
func checkSeen(t *testing.T, caught *captured, e *authtest.Entra, requestToken string) {
	t.Helper()
	for _, s := range append(append([]string{requestToken}, e.IDTokensIssued()...), e.AccessTokensIssued()...) {
		if !caught.has(s) {
			t.Errorf("OnSecret never saw %.12q…", s)
		}
	}
}

// noLeak fails when text holds any of the secrets.
func noLeak(t *testing.T, what, text string, secrets []string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("%s leaks a secret %.12q…:\n%s", what, s, text)
		}
	}
}

// checkAssertionRequests checks that every token request carried the
// matching ID token as a jwt-bearer assertion for the Store scope.
func checkAssertionRequests(t *testing.T, reqs []authtest.TokenRequest, assertions []string) {
	t.Helper()
	if len(reqs) != len(assertions) {
		t.Fatalf("got %d token requests for %d assertions", len(reqs), len(assertions))
	}
	for i, r := range reqs {
		if r.ClientAssertion != assertions[i] {
			t.Errorf("request %d: client_assertion is not ID token %d", i, i)
		}
		if r.ClientAssertionType != jwtBearer || r.GrantType != "client_credentials" || r.ClientSecret != "" {
			t.Errorf("request %d: type %q grant %q secret set %v", i, r.ClientAssertionType, r.GrantType, r.ClientSecret != "")
		}
		if !slices.Contains(strings.Fields(r.Scope), storeapi.Scope) {
			t.Errorf("request %d: scope %q lacks %s", i, r.Scope, storeapi.Scope)
		}
		if r.Tenant != tenant || r.ClientID != clientID {
			t.Errorf("request %d: tenant %q client %q", i, r.Tenant, r.ClientID)
		}
	}
}

func TestGitHubOIDCFetchesAFreshIDTokenForEveryEntraToken(t *testing.T) {
	t.Parallel()
	e := newEntra(t, authtest.EntraOptions{TokenTTL: shortTTL})
	cred, mode, caught := newCred(t, e, githubConfig(t, e))
	if mode != config.AuthGitHubOIDC {
		t.Errorf("auto resolved to %q, want github-oidc", mode)
	}

	const calls = 3
	var got []string
	for i := range calls {
		tk, err := getToken(t.Context(), cred)
		if err != nil {
			t.Fatalf("GetToken %d: %v", i, err)
		}
		if !tk.ExpiresOn.After(time.Now()) {
			t.Errorf("GetToken %d: token expired at %v", i, tk.ExpiresOn)
		}
		got = append(got, tk.Token)
	}
	if diff := cmp.Diff(e.AccessTokensIssued(), got); diff != "" {
		t.Errorf("tokens returned differ from those issued (-issued +got):\n%s", diff)
	}
	if distinct(got) != calls {
		t.Errorf("access tokens are not all distinct")
	}
	ids := e.IDTokensIssued()
	if distinct(ids) != calls {
		t.Fatalf("issued %d distinct ID tokens, want %d", len(ids), calls)
	}
	checkAssertionRequests(t, e.TokenRequests(), ids)
	for _, r := range e.IDTokenRequests() {
		if r.Audience != auth.DefaultAudience {
			t.Errorf("ID token audience %q, want %q", r.Audience, auth.DefaultAudience)
		}
	}
	checkSeen(t, caught, e, e.IDTokenRequestToken())
}

func TestGitHubOIDCCachesLongLivedTokens(t *testing.T) {
	t.Parallel()
	// The other side of the refresh rule: an hour-long token is reused, so
	// a wait does not call Entra at every Store request.
	e := newEntra(t, authtest.EntraOptions{TokenTTL: time.Hour})
	cred, _, caught := newCred(t, e, githubConfig(t, e))
	a, err := getToken(t.Context(), cred)
	if err != nil {
		t.Fatal(err)
	}
	b, err := getToken(t.Context(), cred)
	if err != nil {
		t.Fatal(err)
	}
	if n := caught.count(a.Token); n != 1 {
		t.Errorf("OnSecret saw the cached token %d times, want once", n)
	}
	if a.Token != b.Token || len(e.TokenRequests()) != 1 || len(e.IDTokensIssued()) != 1 {
		t.Errorf("same token %v, %d token requests, %d ID tokens; want a cached token and 1 of each",
			a.Token == b.Token, len(e.TokenRequests()), len(e.IDTokensIssued()))
	}
}

func TestGitHubOIDCCustomAudience(t *testing.T) {
	t.Parallel()
	e := newEntra(t, authtest.EntraOptions{Audience: "api://storeflight-custom"})
	cfg := githubConfig(t, e)
	cfg.Auth = config.AuthGitHubOIDC
	cfg.OIDCAudience = "api://storeflight-custom"
	cred, _, _ := newCred(t, e, cfg)
	if _, err := getToken(t.Context(), cred); err != nil {
		t.Fatal(err)
	}
	if got := e.IDTokenRequests()[0].Audience; got != "api://storeflight-custom" {
		t.Errorf("audience %q", got)
	}
}

func TestClientSecret(t *testing.T) {
	t.Parallel()
	e := newEntra(t, authtest.EntraOptions{ClientSecret: secret})
	cfg := githubConfig(t, e) // GitHub variables too: a given secret wins in auto
	cfg.ClientSecret = secret
	cred, mode, caught := newCred(t, e, cfg)
	if mode != config.AuthClientSecret {
		t.Errorf("auto resolved to %q, want client-secret", mode)
	}
	tk, err := getToken(t.Context(), cred)
	if err != nil {
		t.Fatal(err)
	}
	reqs := e.TokenRequests()
	if len(reqs) != 1 {
		t.Fatalf("%d token requests", len(reqs))
	}
	r := reqs[0]
	if r.ClientSecret != secret || r.ClientAssertion != "" || r.ClientAssertionType != "" || r.GrantType != "client_credentials" {
		t.Errorf("request: secret sent %v, assertion %q, type %q, grant %q", r.ClientSecret == secret, r.ClientAssertion, r.ClientAssertionType, r.GrantType)
	}
	if len(e.IDTokensIssued()) != 0 {
		t.Error("the secret path asked for an ID token")
	}
	if !caught.has(secret) || !caught.has(tk.Token) {
		t.Error("OnSecret missed the client secret or the access token")
	}
}

func TestFederatedTokenFileIsReadAtEverySignIn(t *testing.T) {
	t.Parallel()
	e := newEntra(t, authtest.EntraOptions{TokenTTL: shortTTL})
	path := filepath.Join(t.TempDir(), "token")
	first := e.MintIDToken(auth.DefaultAudience, "system:serviceaccount:ci:storeflight", time.Minute)
	if err := os.WriteFile(path, []byte("  "+first+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := baseConfig(t, e)
	cfg.FederatedTokenFile = path
	cred, mode, caught := newCred(t, e, cfg)
	if mode != config.AuthFederatedTokenFile {
		t.Errorf("auto resolved to %q", mode)
	}
	if _, err := getToken(t.Context(), cred); err != nil {
		t.Fatal(err)
	}
	second := e.MintIDToken(auth.DefaultAudience, "system:serviceaccount:ci:storeflight", time.Minute)
	if err := os.WriteFile(path, []byte(second), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := getToken(t.Context(), cred); err != nil {
		t.Fatal(err)
	}
	checkAssertionRequests(t, e.TokenRequests(), []string{first, second})
	if !caught.has(first) || !caught.has(second) {
		t.Error("OnSecret missed a federated token")
	}
}

func TestFederatedTokenFromVariable(t *testing.T) {
	t.Parallel()
	e := newEntra(t, authtest.EntraOptions{})
	tok := e.MintIDToken(auth.DefaultAudience, "project_path:group/app:ref_type:branch:ref:main", time.Minute)
	cfg := baseConfig(t, e)
	cfg.Auth = config.AuthFederatedTokenFile
	cfg.FederatedToken = config.Secret(tok)
	cred, _, caught := newCred(t, e, cfg)
	if _, err := getToken(t.Context(), cred); err != nil {
		t.Fatal(err)
	}
	checkAssertionRequests(t, e.TokenRequests(), []string{tok})
	if !caught.has(tok) {
		t.Error("OnSecret missed the federated token")
	}
}

// TestAzurePipelines is not parallel: azidentity reads SYSTEM_OIDCREQUESTURI
// from the process environment.
func TestAzurePipelines(t *testing.T) {
	e := newEntra(t, authtest.EntraOptions{ServiceConnectionID: connID, TokenTTL: shortTTL})
	t.Setenv("SYSTEM_OIDCREQUESTURI", e.PipelinesOIDCURL())
	cfg := baseConfig(t, e)
	cfg.ServiceConnectionID = connID
	cfg.AzurePipelines = config.AzurePipelines{SystemAccessToken: config.Secret(e.SystemAccessToken()), OIDCRequestURI: e.PipelinesOIDCURL()}

	t.Run("signs in through the OIDC endpoint", func(t *testing.T) {
		cred, mode, caught := newCred(t, e, cfg)
		if mode != config.AuthAzurePipelines {
			t.Errorf("auto resolved to %q", mode)
		}
		for range 2 {
			if _, err := getToken(t.Context(), cred); err != nil {
				t.Fatal(err)
			}
		}
		var conns []string
		for _, r := range e.IDTokenRequests() {
			conns = append(conns, r.Kind+" "+r.ServiceConnectionID)
		}
		if diff := cmp.Diff([]string{"azure-pipelines " + connID, "azure-pipelines " + connID}, conns); diff != "" {
			t.Errorf("OIDC requests (-want +got):\n%s", diff)
		}
		checkAssertionRequests(t, e.TokenRequests(), e.IDTokensIssued())
		checkSeen(t, caught, e, e.SystemAccessToken())
	})

	t.Run("wrong service connection", func(t *testing.T) {
		bad := *cfg
		bad.ServiceConnectionID = "ffffffff-0000-0000-0000-000000000000"
		cred, _, _ := newCred(t, e, &bad)
		_, err := getToken(t.Context(), cred)
		var se *auth.SignInError
		if !errors.As(err, &se) || se.StatusCode != http.StatusNotFound || !strings.Contains(se.Hint, "service-connection-id") {
			t.Fatalf("err = %v", err)
		}
		noLeak(t, "error", err.Error(), e.Secrets())
	})

	t.Run("missing system access token", func(t *testing.T) {
		bad := *cfg
		bad.AzurePipelines.SystemAccessToken = ""
		_, _, err := auth.NewCredential(&bad, nil)
		wantInputErrors(t, err, []wantProblem{{"auth", "env: SYSTEM_ACCESSTOKEN: $(System.AccessToken)"}})
	})

	t.Run("process environment disagrees", func(t *testing.T) {
		bad := *cfg
		bad.AzurePipelines.OIDCRequestURI = e.URL() + "/elsewhere"
		_, _, err := auth.NewCredential(&bad, nil)
		wantInputErrors(t, err, []wantProblem{{"auth", "process environment"}})
	})
}

type wantProblem struct{ input, contains string }

// wantInputErrors checks that err joins exactly the wanted input errors.
func wantInputErrors(t *testing.T, err error, want []wantProblem) {
	t.Helper()
	if !errors.Is(err, config.ErrInvalidInput) {
		t.Fatalf("err = %v, want an input error", err)
	}
	var got []*config.InputError
	var walk func(error)
	walk = func(err error) {
		if ie, ok := err.(*config.InputError); ok {
			got = append(got, ie)
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
		}
	}
	walk(err)
	if len(got) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(got), len(want), err)
	}
	for i, w := range want {
		if got[i].Input != w.input || !strings.Contains(got[i].Problem, w.contains) {
			t.Errorf("problem %d = %q: %q, want %q containing %q", i, got[i].Input, got[i].Problem, w.input, w.contains)
		}
	}
}

func TestMissingInputs(t *testing.T) {
	t.Parallel()
	host, _ := url.Parse("https://login.microsoftonline.com/")
	tests := []struct {
		name string
		cfg  config.Config
		want []wantProblem
	}{
		{"nothing at all", config.Config{Auth: config.AuthAuto}, []wantProblem{
			{"auth", "permissions: id-token: write"}, {"tenant-id", "AZURE_TENANT_ID"}, {"client-id", "AZURE_CLIENT_ID"}}},
		{"auto lists every CI system", config.Config{TenantID: tenant, ClientID: clientID}, []wantProblem{
			{"auth", "id_tokens: AZURE_FEDERATED_TOKEN"}}},
		{"github-oidc without id-token permission", config.Config{TenantID: tenant, ClientID: clientID, Auth: config.AuthGitHubOIDC}, []wantProblem{
			{"auth", "ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN, which GitHub sets only for jobs allowed to request an ID token: add `permissions: id-token: write`"}}},
		{"github-oidc without request token", config.Config{TenantID: tenant, ClientID: clientID, Auth: config.AuthGitHubOIDC,
			GitHub: config.GitHubOIDC{RequestURL: "https://example.test/idtoken"}}, []wantProblem{
			{"auth", "needs ACTIONS_ID_TOKEN_REQUEST_TOKEN, which"}}},
		{"federated-token-file with nothing", config.Config{TenantID: tenant, ClientID: clientID, Auth: config.AuthFederatedTokenFile}, []wantProblem{
			{"federated-token-file", "AZURE_FEDERATED_TOKEN_FILE"}}},
		{"federated-token-file that does not exist", config.Config{TenantID: tenant, ClientID: clientID, Auth: config.AuthFederatedTokenFile,
			FederatedTokenFile: filepath.Join(t.TempDir(), "absent")}, []wantProblem{
			{"federated-token-file", "cannot read"}}},
		{"azure-pipelines with nothing", config.Config{TenantID: tenant, ClientID: clientID, Auth: config.AuthAzurePipelines}, []wantProblem{
			{"service-connection-id", "service connection"},
			{"auth", "env: SYSTEM_ACCESSTOKEN: $(System.AccessToken)"},
			{"auth", "SYSTEM_OIDCREQUESTURI"}}},
		{"client-secret without secret", config.Config{TenantID: tenant, ClientID: clientID, Auth: config.AuthClientSecret}, []wantProblem{
			{"client-secret", "Certificates & secrets"}}},
		{"unknown mode", config.Config{TenantID: tenant, ClientID: clientID, Auth: "kerberos"}, []wantProblem{
			{"auth", "github-oidc"}}},
		{"bad tenant", config.Config{TenantID: "not a tenant/../x", ClientID: clientID, ClientSecret: secret}, []wantProblem{
			{"tenant-id", "GUID"}}},
		{"plain http authority", config.Config{TenantID: tenant, ClientID: clientID, ClientSecret: secret,
			AuthorityHost: &url.URL{Scheme: "http", Host: "127.0.0.1:1"}}, []wantProblem{
			{"authority-host", "https"}}},
		{"ids missing with a mode that is otherwise complete", config.Config{Auth: config.AuthClientSecret, ClientSecret: secret, AuthorityHost: host}, []wantProblem{
			{"tenant-id", "required"}, {"client-id", "required"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cred, _, err := auth.NewCredential(&tt.cfg, nil)
			if cred != nil {
				t.Error("got a credential with an error")
			}
			wantInputErrors(t, err, tt.want)
			noLeak(t, "error", err.Error(), []string{secret})
		})
	}
}

func TestSignInErrorsCarryCodeAndHint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		code     string
		wantHint string
	}{
		{"no matching federated credential", "AADSTS70021", "repo:OWNER/REPO:ref:refs/heads/main"},
		{"no matching subject", "AADSTS700213", "repo:OWNER/REPO:environment:NAME"},
		{"audience", "AADSTS700212", "oidc-audience"},
		{"issuer", "AADSTS700211", "https://token.actions.githubusercontent.com"},
		{"expired assertion", "AADSTS700024", "expired"},
		{"bad secret", "AADSTS7000215", "Value, not its Secret ID"},
		{"expired secret", "AADSTS7000222", "expired"},
		{"app not in tenant", "AADSTS700016", "client-id"},
		{"no tenant", "AADSTS90002", "tenant-id"},
		{"unknown code", "AADSTS50000", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEntra(t, authtest.EntraOptions{})
			e.FailNext(http.StatusBadRequest, tt.code, "Scripted failure.")
			cred, _, caught := newCred(t, e, githubConfig(t, e))
			_, err := getToken(t.Context(), cred)
			var se *auth.SignInError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v (%T), want *SignInError", err, err)
			}
			if se.Code != tt.code || se.StatusCode != http.StatusBadRequest || se.CorrelationID == "" {
				t.Errorf("Code %q Status %d CorrelationID %q", se.Code, se.StatusCode, se.CorrelationID)
			}
			if !strings.Contains(se.Hint, tt.wantHint) || (tt.wantHint == "") != (se.Hint == "") {
				t.Errorf("Hint = %q, want it to contain %q", se.Hint, tt.wantHint)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.code+": Scripted failure.") || strings.Contains(msg, "Trace ID") {
				t.Errorf("message lacks the code and description or keeps the trace:\n%s", msg)
			}
			// A headline, then indented continuation lines a CI log shows whole.
			for i, line := range strings.Split(msg, "\n") {
				if len(line) > 120 || (i > 0) != strings.HasPrefix(line, "  ") {
					t.Errorf("line %d of the message is %d characters or not laid out as a headline and continuations:\n%s", i+1, len(line), msg)
				}
			}
			noLeak(t, "error", msg, e.Secrets())
			if !caught.has(e.IDTokensIssued()[0]) {
				t.Error("OnSecret missed the ID token")
			}
		})
	}
}

func TestEntraRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		opts     authtest.EntraOptions
		setup    func(t *testing.T, e *authtest.Entra, cfg *config.Config)
		wantCode string
		wantHint string
	}{
		{"wrong secret", authtest.EntraOptions{ClientSecret: "the-real-one"},
			func(_ *testing.T, _ *authtest.Entra, cfg *config.Config) { cfg.ClientSecret = secret },
			"AADSTS7000215", "Secret ID"},
		{"subject matches no federated credential", authtest.EntraOptions{Subjects: []string{"repo:o/r:environment:store"}},
			func(_ *testing.T, e *authtest.Entra, cfg *config.Config) {
				cfg.GitHub = config.GitHubOIDC{RequestURL: e.IDTokenURL(), RequestToken: config.Secret(e.IDTokenRequestToken())}
			},
			"AADSTS70021", "repo:OWNER/REPO:ref:refs/tags/v1"},
		{"audience differs", authtest.EntraOptions{},
			func(_ *testing.T, e *authtest.Entra, cfg *config.Config) {
				cfg.GitHub = config.GitHubOIDC{RequestURL: e.IDTokenURL(), RequestToken: config.Secret(e.IDTokenRequestToken())}
				cfg.OIDCAudience = "api://elsewhere"
			},
			"AADSTS700212", "oidc-audience"},
		{"expired federated token", authtest.EntraOptions{},
			func(t *testing.T, e *authtest.Entra, cfg *config.Config) {
				p := filepath.Join(t.TempDir(), "tok")
				if err := os.WriteFile(p, []byte(e.MintIDToken(auth.DefaultAudience, "s", -time.Minute)), 0o600); err != nil {
					t.Fatal(err)
				}
				cfg.FederatedTokenFile = p
			},
			"AADSTS700024", "renew"},
		{"unknown client", authtest.EntraOptions{ClientSecret: secret},
			func(_ *testing.T, _ *authtest.Entra, cfg *config.Config) {
				cfg.ClientSecret = secret
				cfg.ClientID = "00000000-0000-0000-0000-000000000001"
			},
			"AADSTS700016", "client-id"},
		{"unknown tenant", authtest.EntraOptions{ClientSecret: secret},
			func(_ *testing.T, _ *authtest.Entra, cfg *config.Config) {
				cfg.ClientSecret = secret
				cfg.TenantID = "00000000-0000-0000-0000-000000000002"
			},
			"AADSTS90002", "tenant-id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEntra(t, tt.opts)
			cfg := baseConfig(t, e)
			tt.setup(t, e, cfg)
			cred, _, _ := newCred(t, e, cfg)
			_, err := getToken(t.Context(), cred)
			var se *auth.SignInError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want *SignInError", err)
			}
			if se.Code != tt.wantCode || !strings.Contains(err.Error(), tt.wantHint) {
				t.Errorf("code %q, message:\n%s\nwant %s and %q", se.Code, err, tt.wantCode, tt.wantHint)
			}
			noLeak(t, "error", err.Error(), append(e.Secrets(), secret))
			noLeak(t, "description", se.Description, append(e.Secrets(), secret))
		})
	}
}

func TestGitHubRefusesIDToken(t *testing.T) {
	t.Parallel()
	e := newEntra(t, authtest.EntraOptions{})
	cfg := githubConfig(t, e)
	const wrong = "ghs_wrongRequestToken0123456789"
	cfg.GitHub.RequestToken = wrong
	cred, _, _ := newCred(t, e, cfg)
	_, err := getToken(t.Context(), cred)
	var se *auth.SignInError
	if !errors.As(err, &se) || !strings.Contains(se.Hint, "id-token: write") {
		t.Fatalf("err = %v", err)
	}
	var rf *gha.RequestFailedError
	if !errors.As(err, &rf) || rf.StatusCode != http.StatusUnauthorized {
		t.Errorf("errors.As RequestFailedError: %v", err)
	}
	if len(e.TokenRequests()) != 0 {
		t.Error("asked Entra for a token without an assertion")
	}
	noLeak(t, "error", err.Error(), append(e.Secrets(), wrong))
}

func TestCancelledSignInIsRecognisable(t *testing.T) {
	t.Parallel()
	e := newEntra(t, authtest.EntraOptions{})
	cred, _, _ := newCred(t, e, githubConfig(t, e))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := getToken(ctx, cred)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled in its chain", err)
	}
}

// recorder answers every request with 400 and remembers its URL, to see
// which host sign-in contacts first without any network.
type recorder struct {
	mu   sync.Mutex
	urls []string
}

func (r *recorder) Do(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.urls = append(r.urls, req.URL.Scheme+"://"+req.URL.Host+req.URL.Path)
	r.mu.Unlock()
	return &http.Response{StatusCode: http.StatusBadRequest, Status: "400 Bad Request", Header: http.Header{},
		Body: http.NoBody, Request: req}, nil
}

func TestInstanceDiscoveryOnlyForMicrosoftAuthorities(t *testing.T) {
	t.Parallel()
	tests := []struct {
		host      string
		wantFirst string
	}{
		{"", "https://login.microsoftonline.com/common/discovery/instance"},
		{"https://login.microsoftonline.us/", "https://login.microsoftonline.us/common/discovery/instance"},
		{"https://login.partner.microsoftonline.cn", "https://login.partner.microsoftonline.cn/common/discovery/instance"},
		{"https://login.example.test/", "https://login.example.test/" + tenant + "/v2.0/.well-known/openid-configuration"},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			t.Parallel()
			cfg := &config.Config{TenantID: tenant, ClientID: clientID, ClientSecret: secret}
			if tt.host != "" {
				u, err := url.Parse(tt.host)
				if err != nil {
					t.Fatal(err)
				}
				cfg.AuthorityHost = u
			}
			rec := &recorder{}
			cred, _, err := auth.NewCredential(cfg, &auth.Options{Transport: rec})
			if err != nil {
				t.Fatal(err)
			}
			_, err = getToken(t.Context(), cred)
			if err == nil {
				t.Fatal("sign-in succeeded against a transport that refuses everything")
			}
			noLeak(t, "error", err.Error(), []string{secret})
			rec.mu.Lock()
			defer rec.mu.Unlock()
			if len(rec.urls) == 0 || rec.urls[0] != tt.wantFirst {
				t.Errorf("requests %q, want the first to be %s", rec.urls, tt.wantFirst)
			}
		})
	}
}

func TestEchoedSecretsAreRedacted(t *testing.T) {
	t.Parallel()
	// Entra does not echo credentials, but a proxy or a future error format
	// might: whatever comes back is redacted before it reaches a message.
	e := newEntra(t, authtest.EntraOptions{ClientSecret: secret})
	e.FailNext(http.StatusBadRequest, "AADSTS50000", "Rejected client_secret="+secret+" with Authorization: Bearer "+secret+".")
	cfg := baseConfig(t, e)
	cfg.ClientSecret = secret
	cred, _, _ := newCred(t, e, cfg)
	_, err := getToken(t.Context(), cred)
	var se *auth.SignInError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(err.Error(), "client_secret=REDACTED") {
		t.Errorf("the echoed secret was not replaced:\n%s", err)
	}
	noLeak(t, "error", err.Error(), []string{secret})
	noLeak(t, "description", se.Description, []string{secret})
}

func TestGitHubIDTokenRequestIsRetriedOnServerErrors(t *testing.T) {
	t.Parallel()
	e := newEntra(t, authtest.EntraOptions{})
	e.FailNextIDToken(http.StatusServiceUnavailable)
	cred, _, _ := newCred(t, e, githubConfig(t, e))
	if _, err := getToken(t.Context(), cred); err != nil {
		t.Fatalf("one 503 from GitHub failed the sign-in: %v", err)
	}
	if n := len(e.IDTokensIssued()); n != 1 {
		t.Errorf("%d ID tokens issued, want 1", n)
	}
}

func TestGitHubIDTokenRequestGivesUpAfterThreeAttempts(t *testing.T) {
	t.Parallel()
	e := newEntra(t, authtest.EntraOptions{})
	for range 3 {
		e.FailNextIDToken(http.StatusBadGateway)
	}
	e.FailNextIDToken(http.StatusTeapot) // a fourth attempt would meet this
	cred, _, _ := newCred(t, e, githubConfig(t, e))
	_, err := getToken(t.Context(), cred)
	var rf *gha.RequestFailedError
	if !errors.As(err, &rf) || rf.StatusCode != http.StatusBadGateway {
		t.Fatalf("err = %v, want the third 502", err)
	}
}

// TestSignInOverAnUntrustedCertificateNamesIt signs in with the default
// transport, which trusts the system's roots and so not the fake's CA, as
// a runner behind a TLS-inspecting proxy meets a root it does not know:
// the error names the x509 problem and the host, and says to add the
// proxy's root, rather than MSAL's bare "server response error".
func TestSignInOverAnUntrustedCertificateNamesIt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(cfg *config.Config, e *authtest.Entra, t *testing.T)
	}{
		{"Entra's endpoint (federated token file)", func(cfg *config.Config, e *authtest.Entra, t *testing.T) {
			p := filepath.Join(t.TempDir(), "tok")
			if err := os.WriteFile(p, []byte(e.MintIDToken(auth.DefaultAudience, "s", time.Hour)), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg.FederatedTokenFile = p
		}},
		{"GitHub's ID token endpoint", func(cfg *config.Config, e *authtest.Entra, _ *testing.T) {
			cfg.GitHub = config.GitHubOIDC{RequestURL: e.IDTokenURL(), RequestToken: config.Secret(e.IDTokenRequestToken())}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEntra(t, authtest.EntraOptions{})
			cfg := baseConfig(t, e)
			tt.setup(cfg, e, t)
			cred, _, err := auth.NewCredential(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, err = getToken(t.Context(), cred)
			var se *auth.SignInError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v (%T), want *SignInError", err, err)
			}
			// The message wraps its long lines; the words are compared unwrapped.
			msg := strings.Join(strings.Fields(err.Error()), " ")
			host := strings.TrimPrefix(e.URL(), "https://")
			for _, want := range []string{"x509: certificate signed by unknown authority", host, "extra-root-certs", "SSL_CERT_FILE"} {
				if !strings.Contains(msg, want) {
					t.Errorf("message lacks %q:\n%s", want, msg)
				}
			}
			if !strings.Contains(se.Hint, "proxy") {
				t.Errorf("hint %q does not mention the proxy", se.Hint)
			}
			// One handshake is enough to know: the certificate will not
			// become trusted on a second try.
			if took := time.Since(start); took > 3*time.Second {
				t.Errorf("the error took %s, want it at once (no retries of a failed verification)", took)
			}
			noLeak(t, "error", msg, e.Secrets())
		})
	}
}
