// Package authtest is a fake of everything storeflight talks to when it
// signs in: Entra ID's v2 endpoints (OpenID discovery and the token
// endpoint), GitHub Actions' OIDC ID-token endpoint and the Azure Pipelines
// OIDC endpoint. It serves real TLS on 127.0.0.1, with a certificate also
// valid for localhost signed by a CA of its own (internal/fakecert), so
// azidentity and MSAL run unmodified against it (they refuse plain http),
// and a process that does not trust the CA meets the error a TLS-inspecting
// proxy causes. It checks what real
// Entra checks: the client assertion must be a token this fake issued, for
// the right audience, not expired; the secret must match.
//
// It is an ordinary package, not a _test file, so that the auth tests, the
// end-to-end tests and a standalone fake process can share it.
package authtest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storeflight/storeflight/internal/fakecert"
)

// Defaults of EntraOptions.
const (
	DefaultAudience          = "api://AzureADTokenExchange"
	DefaultSubject           = "repo:storeflight/storeflight:ref:refs/heads/main"
	DefaultPipelinesSubject  = "sc://storeflight/storeflight/store-connection"
	GitHubIssuer             = "https://token.actions.githubusercontent.com"
	PipelinesIssuer          = "https://vstoken.dev.azure.com/00000000-0000-0000-0000-000000000000"
	jwtBearer                = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	defaultTokenTTL          = time.Hour
	defaultIDTokenTTL        = 5 * time.Minute
	kindGitHub               = "github"
	kindPipelines            = "azure-pipelines"
	kindMinted               = "minted"
	pipelinesOIDCAPIVersion  = "7.1"
	githubDefaultAudiencePfx = "https://github.com/"
)

// EntraOptions configures the fake. The zero value accepts any tenant and
// client ID, accepts no client secret, and issues hour-long access tokens.
type EntraOptions struct {
	// TokenTTL is the access tokens' expires_in. MSAL treats a token with
	// less than 5 minutes left as expired, so a TTL under 5 minutes makes
	// every GetToken call reach the token endpoint. Default 1h.
	TokenTTL time.Duration
	// RefreshIn, when positive, is sent as refresh_in.
	RefreshIn time.Duration
	// IDTokenTTL is the lifetime of the ID tokens the GitHub and Azure
	// Pipelines endpoints issue. Default 5m.
	IDTokenTTL time.Duration
	// Tenant and ClientID, when set, are the only ones that exist; others
	// get AADSTS90002 and AADSTS700016 as from real Entra.
	Tenant   string
	ClientID string
	// ClientSecret is the application's secret; empty means the app has
	// none, so every client_secret is refused (AADSTS7000215).
	ClientSecret string
	// Audience is the audience of the app's federated credentials.
	// Default api://AzureADTokenExchange.
	Audience string
	// Subjects, when set, are the subjects of the app's federated
	// credentials; an assertion with another subject gets AADSTS70021.
	Subjects []string
	// Subject is the sub claim of GitHub ID tokens. Default
	// DefaultSubject.
	Subject string
	// ServiceConnectionID, when set, is the only Azure Pipelines service
	// connection the OIDC endpoint knows.
	ServiceConnectionID string
	// OnIssue is called with every access token issued, outside the fake's
	// lock, so that a Store simulator can accept it.
	OnIssue func(accessToken string, expiresOn time.Time)
}

// TokenRequest is one request to the token endpoint, as received.
type TokenRequest struct {
	Tenant              string
	ClientID            string
	GrantType           string
	Scope               string
	ClientAssertion     string
	ClientAssertionType string
	ClientSecret        string
	At                  time.Time
}

// IDTokenRequest is one request to the GitHub or Azure Pipelines OIDC
// endpoint that issued a token.
type IDTokenRequest struct {
	Kind                string // "github" or "azure-pipelines"
	Audience            string // GitHub only
	ServiceConnectionID string // Azure Pipelines only
	At                  time.Time
}

// Entra is a running fake. Its methods are safe for concurrent use.
type Entra struct {
	srv  *httptest.Server
	ca   *fakecert.CA
	opts EntraOptions

	requestToken string // ACTIONS_ID_TOKEN_REQUEST_TOKEN
	systemToken  string // SYSTEM_ACCESSTOKEN

	mu           sync.Mutex
	tokenReqs    []TokenRequest
	idTokenReqs  []IDTokenRequest
	idTokens     map[string]idToken
	idIssued     []string
	accessIssued []string
	failures     []failure
	idFailures   []int
}

type idToken struct {
	kind, aud, sub string
	exp            time.Time
}

type failure struct {
	status      int
	code        string // digits only
	description string
}

// NewEntra starts a fake for a test and stops it when the test ends.
func NewEntra(t testing.TB, opts EntraOptions) *Entra {
	t.Helper()
	e := Start(opts)
	t.Cleanup(e.Close)
	return e
}

// Start starts a fake outside a test (a standalone process, a benchmark
// harness); call Close when done.
func Start(opts EntraOptions) *Entra {
	if opts.TokenTTL == 0 {
		opts.TokenTTL = defaultTokenTTL
	}
	if opts.IDTokenTTL == 0 {
		opts.IDTokenTTL = defaultIDTokenTTL
	}
	if opts.Audience == "" {
		opts.Audience = DefaultAudience
	}
	if opts.Subject == "" {
		opts.Subject = DefaultSubject
	}
	e := &Entra{
		opts:         opts,
		requestToken: "ghreq-" + randomHex(16),
		systemToken:  "azpsys-" + randomHex(16),
		idTokens:     map[string]idToken{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", e.discovery)
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", e.token)
	mux.HandleFunc("GET /idtoken", e.githubIDToken)
	mux.HandleFunc("POST /oidc", e.pipelinesIDToken)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		// Anything else is a client bug worth seeing in the test output.
		http.Error(w, "authtest: no such endpoint: "+r.Method+" "+r.URL.Path, http.StatusNotFound)
	})
	ca, err := fakecert.NewCA("authtest Entra ID CA")
	if err != nil {
		panic(err) // only when the system has no randomness
	}
	tlsConfig, err := ca.ServerConfig()
	if err != nil {
		panic(err)
	}
	e.ca = ca
	e.srv = httptest.NewUnstartedServer(mux)
	e.srv.TLS = tlsConfig
	e.srv.StartTLS()
	return e
}

// Close stops the server.
func (e *Entra) Close() { e.srv.Close() }

// URL is the authority host: https://127.0.0.1:PORT, no trailing slash.
func (e *Entra) URL() string { return e.srv.URL }

// Client returns an HTTP client that trusts the fake's certificate.
func (e *Entra) Client() *http.Client { return e.srv.Client() }

// CertPEM returns the certificate of the CA that signed the fake's, in PEM
// form, for the extra-root-certs input or SSL_CERT_FILE when a separate
// process must trust the fake.
func (e *Entra) CertPEM() []byte { return e.ca.PEM() }

// IDTokenURL is the value for ACTIONS_ID_TOKEN_REQUEST_URL. Like the real
// one it already carries a query, which the client must keep.
func (e *Entra) IDTokenURL() string { return e.srv.URL + "/idtoken?api-version=2.0" }

// IDTokenRequestToken is the value for ACTIONS_ID_TOKEN_REQUEST_TOKEN.
func (e *Entra) IDTokenRequestToken() string { return e.requestToken }

// PipelinesOIDCURL is the value for SYSTEM_OIDCREQUESTURI.
func (e *Entra) PipelinesOIDCURL() string { return e.srv.URL + "/oidc" }

// SystemAccessToken is the value for SYSTEM_ACCESSTOKEN.
func (e *Entra) SystemAccessToken() string { return e.systemToken }

// TokenRequests returns every request the token endpoint received, in order.
func (e *Entra) TokenRequests() []TokenRequest {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.tokenReqs)
}

// IDTokenRequests returns every ID token the OIDC endpoints issued, in order.
func (e *Entra) IDTokenRequests() []IDTokenRequest {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.idTokenReqs)
}

// IDTokensIssued returns every ID token issued (by the GitHub and Azure
// Pipelines endpoints and by MintIDToken), in order.
func (e *Entra) IDTokensIssued() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.idIssued)
}

// AccessTokensIssued returns every access token issued, in order.
func (e *Entra) AccessTokensIssued() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.accessIssued)
}

// Secrets returns every credential the fake knows or issued: the request
// tokens, the client secret, ID tokens and access tokens. Tests scan
// output and errors for them.
func (e *Entra) Secrets() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := []string{e.requestToken, e.systemToken}
	if e.opts.ClientSecret != "" {
		s = append(s, e.opts.ClientSecret)
	}
	s = append(s, e.idIssued...)
	return append(s, e.accessIssued...)
}

// MintIDToken issues an ID token as a federated identity provider would
// (GitLab, Kubernetes), for a federated token file. A negative ttl gives a
// token that has already expired.
func (e *Entra) MintIDToken(audience, subject string, ttl time.Duration) string {
	return e.issueIDToken(kindMinted, "https://gitlab.example.test", audience, subject, ttl)
}

// FailNext makes the next token request fail with status and an Entra
// error body carrying aadstsCode ("AADSTS70021" or "70021") and
// description. Calls queue up.
func (e *Entra) FailNext(status int, aadstsCode, description string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.failures = append(e.failures, failure{status, strings.TrimPrefix(aadstsCode, "AADSTS"), description})
}

// FailNextIDToken makes the next request to the GitHub or Azure Pipelines
// OIDC endpoint fail with status. Calls queue up.
func (e *Entra) FailNextIDToken(status int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.idFailures = append(e.idFailures, status)
}

// idFailure pops the next scripted OIDC endpoint failure, or returns 0.
func (e *Entra) idFailure() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.idFailures) == 0 {
		return 0
	}
	st := e.idFailures[0]
	e.idFailures = e.idFailures[1:]
	return st
}

func (e *Entra) discovery(w http.ResponseWriter, r *http.Request) {
	tenant := r.PathValue("tenant")
	if e.opts.Tenant != "" && tenant != e.opts.Tenant {
		writeEntraError(w, http.StatusBadRequest, "90002",
			fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", tenant))
		return
	}
	// MSAL insists that the issuer has the authority's scheme and host.
	base := e.srv.URL + "/" + tenant
	writeJSON(w, http.StatusOK, map[string]any{
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"issuer":                                base + "/v2.0",
		"jwks_uri":                              base + "/discovery/v2.0/keys",
		"response_types_supported":              []string{"code", "id_token", "token"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
	})
}

func (e *Entra) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeEntraError(w, http.StatusBadRequest, "900144", "The request body must contain the following parameter: 'grant_type'.")
		return
	}
	now := time.Now()
	req := TokenRequest{
		Tenant:              r.PathValue("tenant"),
		ClientID:            r.PostForm.Get("client_id"),
		GrantType:           r.PostForm.Get("grant_type"),
		Scope:               r.PostForm.Get("scope"),
		ClientAssertion:     r.PostForm.Get("client_assertion"),
		ClientAssertionType: r.PostForm.Get("client_assertion_type"),
		ClientSecret:        r.PostForm.Get("client_secret"),
		At:                  now,
	}
	e.mu.Lock()
	e.tokenReqs = append(e.tokenReqs, req)
	var f *failure
	if len(e.failures) > 0 {
		f = &e.failures[0]
		e.failures = e.failures[1:]
	}
	e.mu.Unlock()
	if f != nil {
		writeEntraError(w, f.status, f.code, f.description)
		return
	}
	if status, code, desc := e.check(req, now); code != "" {
		writeEntraError(w, status, code, desc)
		return
	}

	access := jwtShaped(map[string]any{
		"aud":   "https://manage.devcenter.microsoft.com",
		"iss":   "https://sts.windows.net/" + req.Tenant + "/",
		"appid": req.ClientID, "tid": req.Tenant,
		"iat": now.Unix(), "exp": now.Add(e.opts.TokenTTL).Unix(),
	})
	expiresOn := now.Add(e.opts.TokenTTL)
	e.mu.Lock()
	e.accessIssued = append(e.accessIssued, access)
	e.mu.Unlock()
	if e.opts.OnIssue != nil {
		e.opts.OnIssue(access, expiresOn)
	}
	secs := int(e.opts.TokenTTL / time.Second)
	body := map[string]any{
		"token_type":     "Bearer",
		"expires_in":     secs,
		"ext_expires_in": secs,
		"access_token":   access,
	}
	if e.opts.RefreshIn > 0 {
		body["refresh_in"] = int(e.opts.RefreshIn / time.Second)
	}
	writeJSON(w, http.StatusOK, body)
}

// check validates a token request the way Entra would and returns the
// AADSTS code and description of the first problem, or code "".
func (e *Entra) check(req TokenRequest, now time.Time) (status int, code, desc string) {
	if e.opts.Tenant != "" && req.Tenant != e.opts.Tenant {
		return http.StatusBadRequest, "90002", fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.", req.Tenant)
	}
	if req.GrantType != "client_credentials" {
		return http.StatusBadRequest, "70003", "The app requested an unsupported grant type '" + req.GrantType + "'."
	}
	if e.opts.ClientID != "" && req.ClientID != e.opts.ClientID {
		return http.StatusBadRequest, "700016", fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'.", req.ClientID, req.Tenant)
	}
	if !strings.Contains(" "+req.Scope+" ", "/.default ") {
		return http.StatusBadRequest, "1002012", "The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier."
	}
	switch {
	case req.ClientSecret != "" && req.ClientAssertion != "":
		return http.StatusBadRequest, "7000218", "The request body must contain only one of 'client_assertion' or 'client_secret'."
	case req.ClientSecret != "":
		if e.opts.ClientSecret == "" || req.ClientSecret != e.opts.ClientSecret {
			return http.StatusUnauthorized, "7000215", "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '" + req.ClientID + "'."
		}
		return 0, "", ""
	case req.ClientAssertion != "":
		if req.ClientAssertionType != jwtBearer {
			return http.StatusBadRequest, "700025", "Client assertion type is not supported: '" + req.ClientAssertionType + "'."
		}
		e.mu.Lock()
		tok, ok := e.idTokens[req.ClientAssertion]
		e.mu.Unlock()
		switch {
		case !ok:
			return http.StatusBadRequest, "50027", "JWT token is invalid or malformed."
		case !now.Before(tok.exp):
			return http.StatusBadRequest, "700024", "Client assertion is not within its valid time range."
		case tok.aud != e.opts.Audience:
			return http.StatusBadRequest, "700212", "No matching federated identity record found for presented assertion audience '" + tok.aud + "'."
		case len(e.opts.Subjects) > 0 && !slices.Contains(e.opts.Subjects, tok.sub):
			return http.StatusBadRequest, "70021", "No matching federated identity record found for presented assertion. Assertion Subject: '" + tok.sub + "'. Assertion Audience: '" + tok.aud + "'."
		}
		return 0, "", ""
	default:
		return http.StatusUnauthorized, "7000218", "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."
	}
}

func (e *Entra) githubIDToken(w http.ResponseWriter, r *http.Request) {
	if st := e.idFailure(); st != 0 {
		writeJSON(w, st, map[string]string{"message": "scripted failure"})
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+e.requestToken {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Unauthorized: bad or missing request token"})
		return
	}
	aud := r.URL.Query().Get("audience")
	if aud == "" {
		// GitHub's default audience is the URL of the repository owner.
		aud = githubDefaultAudiencePfx + strings.SplitN(strings.TrimPrefix(e.opts.Subject, "repo:"), "/", 2)[0]
	}
	tok := e.issueIDToken(kindGitHub, GitHubIssuer, aud, e.opts.Subject, e.opts.IDTokenTTL)
	e.mu.Lock()
	e.idTokenReqs = append(e.idTokenReqs, IDTokenRequest{Kind: kindGitHub, Audience: aud, At: time.Now()})
	e.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"count": 1, "value": tok})
}

func (e *Entra) pipelinesIDToken(w http.ResponseWriter, r *http.Request) {
	if st := e.idFailure(); st != 0 {
		writeJSON(w, st, map[string]string{"message": "scripted failure"})
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+e.systemToken {
		// Azure DevOps answers 401 instead of a sign-in redirect only when
		// asked to with X-TFS-FedAuthRedirect: Suppress.
		if r.Header.Get("X-TFS-FedAuthRedirect") != "Suppress" {
			w.Header().Set("Location", "https://spsprodweu5.vssps.visualstudio.com/_signin")
			w.WriteHeader(http.StatusFound)
			return
		}
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "TF400813: The user is not authorized to access this resource."})
		return
	}
	q := r.URL.Query()
	if q.Get("api-version") != pipelinesOIDCAPIVersion {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": "unsupported api-version " + q.Get("api-version")})
		return
	}
	conn := q.Get("serviceConnectionId")
	if conn == "" || (e.opts.ServiceConnectionID != "" && conn != e.opts.ServiceConnectionID) {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "service connection " + conn + " not found"})
		return
	}
	tok := e.issueIDToken(kindPipelines, PipelinesIssuer, DefaultAudience, DefaultPipelinesSubject, e.opts.IDTokenTTL)
	e.mu.Lock()
	e.idTokenReqs = append(e.idTokenReqs, IDTokenRequest{Kind: kindPipelines, ServiceConnectionID: conn, At: time.Now()})
	e.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"oidcToken": tok})
}

func (e *Entra) issueIDToken(kind, iss, aud, sub string, ttl time.Duration) string {
	now := time.Now()
	exp := now.Add(ttl)
	tok := jwtShaped(map[string]any{"iss": iss, "aud": aud, "sub": sub, "iat": now.Unix(), "nbf": now.Unix(), "exp": exp.Unix()})
	e.mu.Lock()
	defer e.mu.Unlock()
	e.idTokens[tok] = idToken{kind: kind, aud: aud, sub: sub, exp: exp}
	e.idIssued = append(e.idIssued, tok)
	return tok
}

// writeEntraError writes the error body Entra's v2 token endpoint sends.
func writeEntraError(w http.ResponseWriter, status int, code, description string) {
	trace, corr := uuid(), uuid()
	now := time.Now().UTC().Format("2006-01-02 15:04:05Z")
	n, _ := strconv.Atoi(code)
	writeJSON(w, status, map[string]any{
		"error":             errorName(code),
		"error_description": fmt.Sprintf("AADSTS%s: %s Trace ID: %s Correlation ID: %s Timestamp: %s", code, description, trace, corr, now),
		"error_codes":       []int{n},
		"timestamp":         now,
		"trace_id":          trace,
		"correlation_id":    corr,
		"error_uri":         "https://login.microsoftonline.com/error?code=" + code,
	})
}

// errorName is the OAuth error Entra sends with each AADSTS code.
func errorName(code string) string {
	switch code {
	case "7000215", "7000222", "70021", "700211", "700212", "700213", "700024", "50027", "7000218", "700025":
		return "invalid_client"
	case "700016":
		return "unauthorized_client"
	case "70003":
		return "unsupported_grant_type"
	case "1002012":
		return "invalid_scope"
	case "50058", "50076":
		return "interaction_required"
	default:
		if strings.HasPrefix(code, "5") && len(code) == 5 {
			return "temporarily_unavailable"
		}
		return "invalid_request"
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// jwtShaped returns an unsigned-looking JWT with a random jti and
// signature: no client here verifies signatures, but tools that split or
// decode tokens see the shape they expect, and each token is unique.
func jwtShaped(claims map[string]any) string {
	claims["jti"] = randomHex(16)
	enc := base64.RawURLEncoding
	h, _ := json.Marshal(map[string]string{"typ": "JWT", "alg": "RS256", "kid": "authtest"})
	c, _ := json.Marshal(claims)
	return enc.EncodeToString(h) + "." + enc.EncodeToString(c) + "." + enc.EncodeToString([]byte(randomHex(32)))
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func uuid() string {
	h := randomHex(16)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
