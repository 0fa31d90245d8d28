// Package auth turns storeflight's sign-in inputs into an
// azcore.TokenCredential for the Store submission API. azidentity (and MSAL
// under it) does all token work: caching, refresh, the client-credentials
// exchange. This package only chooses the credential, feeds it federated
// tokens fresh at every sign-in, reports every secret it meets so that the
// CI log can mask it, and turns Entra's refusals into one readable line
// with a hint.
package auth

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/storeflight/storeflight/internal/config"
	"github.com/storeflight/storeflight/internal/redact"
)

// DefaultAudience is the audience of federated tokens when oidc-audience is
// empty: the one Entra suggests for federated credentials.
const DefaultAudience = "api://AzureADTokenExchange"

// DefaultAuthorityHost is the public cloud's Entra authority.
const DefaultAuthorityHost = "https://login.microsoftonline.com/"

// systemOIDCRequestURI is the variable azidentity's Azure Pipelines
// credential reads from the process environment itself.
const systemOIDCRequestURI = "SYSTEM_OIDCREQUESTURI"

// Mode is a sign-in mode; NewCredential returns the one it resolved auto to.
type Mode = config.AuthMode

// Options holds what NewCredential needs besides the configuration. The
// zero value, like nil, means the defaults.
type Options struct {
	// Transport carries every request to Entra ID and to the OIDC token
	// endpoints. nil means azcore's default transport, which honours
	// HTTPS_PROXY and SSL_CERT_FILE. Tests pass a client trusting their TLS.
	Transport policy.Transporter
	// OnSecret, when set, is called with every secret met at run time: the
	// client secret, the GitHub request token, the Azure Pipelines system
	// access token, each federated token, and each access token issued, so
	// that the reporter can mask it before anything could print it. It may
	// be called from several goroutines at once.
	OnSecret func(string)
}

// publicAuthorities are the Microsoft clouds' own authority hosts, for
// which instance discovery is safe and useful.
var publicAuthorities = map[string]bool{
	"login.microsoftonline.com":        true,
	"login.microsoftonline.us":         true,
	"login.chinacloudapi.cn":           true,
	"login.partner.microsoftonline.cn": true,
}

// NewCredential checks the sign-in inputs and builds the credential for
// cfg.Auth, resolving auto from what the environment provides. Missing or
// inconsistent inputs are reported together, as *config.InputError values
// joined (errors.Is(err, config.ErrInvalidInput) holds). The credential's
// errors are *SignInError. It makes no network request.
func NewCredential(cfg *config.Config, opts *Options) (azcore.TokenCredential, Mode, error) {
	if opts == nil {
		opts = &Options{}
	}
	onSecret := opts.OnSecret
	if onSecret == nil {
		onSecret = func(string) {}
	}
	mode, problems := resolve(cfg)
	problems = append(problems, checkIDs(cfg)...)
	if len(problems) > 0 {
		return nil, mode, errors.Join(problems...)
	}

	co, err := clientOptions(cfg, opts)
	if err != nil {
		return nil, mode, err
	}
	disableDiscovery := !publicAuthorities[strings.ToLower(hostOf(co.Cloud.ActiveDirectoryAuthorityHost))]
	audience := cfg.OIDCAudience
	if audience == "" {
		audience = DefaultAudience
	}

	var cred azcore.TokenCredential
	switch mode {
	case config.AuthClientSecret:
		onSecret(cfg.ClientSecret.Reveal())
		cred, err = azidentity.NewClientSecretCredential(cfg.TenantID, cfg.ClientID, cfg.ClientSecret.Reveal(),
			&azidentity.ClientSecretCredentialOptions{ClientOptions: co, DisableInstanceDiscovery: disableDiscovery})
	case config.AuthGitHubOIDC:
		onSecret(cfg.GitHub.RequestToken.Reveal())
		cred, err = azidentity.NewClientAssertionCredential(cfg.TenantID, cfg.ClientID,
			githubAssertion(cfg.GitHub, audience, httpClient(opts.Transport), onSecret),
			&azidentity.ClientAssertionCredentialOptions{ClientOptions: co, DisableInstanceDiscovery: disableDiscovery})
	case config.AuthFederatedTokenFile:
		if cfg.FederatedTokenFile == "" {
			onSecret(cfg.FederatedToken.Reveal())
		}
		cred, err = azidentity.NewClientAssertionCredential(cfg.TenantID, cfg.ClientID,
			fileAssertion(cfg.FederatedTokenFile, cfg.FederatedToken, onSecret),
			&azidentity.ClientAssertionCredentialOptions{ClientOptions: co, DisableInstanceDiscovery: disableDiscovery})
	case config.AuthAzurePipelines:
		onSecret(cfg.AzurePipelines.SystemAccessToken.Reveal())
		// The OIDC token comes back inside azidentity; a per-call policy is
		// the only place that sees it.
		co.PerCallPolicies = append(co.PerCallPolicies, &pipelinesTokenSpy{uri: cfg.AzurePipelines.OIDCRequestURI, onSecret: onSecret})
		cred, err = azidentity.NewAzurePipelinesCredential(cfg.TenantID, cfg.ClientID, cfg.ServiceConnectionID,
			cfg.AzurePipelines.SystemAccessToken.Reveal(),
			&azidentity.AzurePipelinesCredentialOptions{ClientOptions: co, DisableInstanceDiscovery: disableDiscovery})
	}
	if err != nil {
		// Inputs were checked above, so this is azidentity disagreeing
		// with a value we let through: still an input problem.
		return nil, mode, &config.InputError{Input: "auth", Problem: fmt.Sprintf("cannot set up %s sign-in: %s", mode, redact.String(err.Error()))}
	}
	return &credential{inner: cred, mode: mode, onSecret: onSecret}, mode, nil
}

// resolve picks the mode and lists what that mode lacks.
func resolve(cfg *config.Config) (Mode, []error) {
	gh := cfg.GitHub.RequestURL != "" && cfg.GitHub.RequestToken != ""
	mode := cfg.Auth
	switch mode {
	case "", config.AuthAuto:
		switch {
		case cfg.ClientSecret != "":
			mode = config.AuthClientSecret
		case gh:
			mode = config.AuthGitHubOIDC
		case cfg.ServiceConnectionID != "" && cfg.AzurePipelines.OIDCRequestURI != "":
			mode = config.AuthAzurePipelines
		case cfg.FederatedTokenFile != "" || cfg.FederatedToken != "":
			mode = config.AuthFederatedTokenFile
		default:
			return config.AuthAuto, []error{&config.InputError{Input: "auth", Problem: "found no way to sign in to Entra ID. " +
				"On GitHub Actions, give the job `permissions: id-token: write` (and `contents: read`); " +
				"on Azure Pipelines, set service-connection-id and map `env: SYSTEM_ACCESSTOKEN: $(System.AccessToken)` into the step; " +
				"on GitLab CI, add `id_tokens: AZURE_FEDERATED_TOKEN: aud: " + DefaultAudience + "` to the job; " +
				"elsewhere, set federated-token-file (AZURE_FEDERATED_TOKEN_FILE) or client-secret"}}
		}
	case config.AuthClientSecret, config.AuthGitHubOIDC, config.AuthFederatedTokenFile, config.AuthAzurePipelines:
	default:
		return mode, []error{&config.InputError{Input: "auth", Problem: fmt.Sprintf("%q is not a sign-in mode; use auto, github-oidc, federated-token-file, azure-pipelines or client-secret", string(mode))}}
	}

	var p []error
	switch mode {
	case config.AuthClientSecret:
		if cfg.ClientSecret == "" {
			p = append(p, &config.InputError{Input: "client-secret", Problem: "auth client-secret needs the application's secret: its Value from Entra ID > App registrations > Certificates & secrets"})
		}
	case config.AuthGitHubOIDC:
		var missing []string
		if cfg.GitHub.RequestURL == "" {
			missing = append(missing, "ACTIONS_ID_TOKEN_REQUEST_URL")
		}
		if cfg.GitHub.RequestToken == "" {
			missing = append(missing, "ACTIONS_ID_TOKEN_REQUEST_TOKEN")
		}
		if len(missing) > 0 {
			p = append(p, &config.InputError{Input: "auth", Problem: "github-oidc sign-in needs " + strings.Join(missing, " and ") +
				", which GitHub sets only for jobs allowed to request an ID token: add `permissions: id-token: write` to the job (or the workflow)"})
		}
	case config.AuthFederatedTokenFile:
		switch {
		case cfg.FederatedTokenFile != "":
			if _, err := os.Stat(cfg.FederatedTokenFile); err != nil {
				p = append(p, &config.InputError{Input: "federated-token-file", Problem: fmt.Sprintf("cannot read the federated token file: %v", err)})
			}
		case cfg.FederatedToken == "":
			p = append(p, &config.InputError{Input: "federated-token-file", Problem: "federated-token-file sign-in needs a token: " +
				"set federated-token-file (or AZURE_FEDERATED_TOKEN_FILE) to a file holding it, or on GitLab CI, " +
				"add `id_tokens: AZURE_FEDERATED_TOKEN: aud: " + DefaultAudience + "` to the job"})
		}
	case config.AuthAzurePipelines:
		if cfg.ServiceConnectionID == "" {
			p = append(p, &config.InputError{Input: "service-connection-id", Problem: "azure-pipelines sign-in needs the ID of the Azure Resource Manager service connection (workload identity federation) to sign in with"})
		}
		if cfg.AzurePipelines.SystemAccessToken == "" {
			p = append(p, &config.InputError{Input: "auth", Problem: "azure-pipelines sign-in needs SYSTEM_ACCESSTOKEN, which Azure Pipelines does not give to scripts unless the step maps it: add `env: SYSTEM_ACCESSTOKEN: $(System.AccessToken)` to the step"})
		}
		switch uri := cfg.AzurePipelines.OIDCRequestURI; {
		case uri == "":
			p = append(p, &config.InputError{Input: "auth", Problem: "azure-pipelines sign-in needs " + systemOIDCRequestURI + ", which Azure Pipelines sets in every job; this does not look like an Azure Pipelines job"})
		case strings.TrimSpace(os.Getenv(systemOIDCRequestURI)) != uri:
			// azidentity v1.15.0 reads this variable from the process
			// environment and nowhere else (NewAzurePipelinesCredential), so
			// a value that reached the config another way would be ignored.
			p = append(p, &config.InputError{Input: "auth", Problem: "azure-pipelines sign-in reads " + systemOIDCRequestURI + " from the process environment, where it is missing or differs from the configured value"})
		}
	}
	return mode, p
}

func checkIDs(cfg *config.Config) []error {
	var p []error
	if cfg.TenantID == "" {
		p = append(p, &config.InputError{Input: "tenant-id", Problem: "required: the Directory (tenant) ID of the Entra tenant linked to Partner Center (or set AZURE_TENANT_ID)"})
	} else if !validTenant(cfg.TenantID) {
		p = append(p, &config.InputError{Input: "tenant-id", Problem: "must be a tenant ID (a GUID) or domain name, of letters, digits, '-' and '.'"})
	}
	if cfg.ClientID == "" {
		p = append(p, &config.InputError{Input: "client-id", Problem: "required: the Application (client) ID of the Entra app added to Partner Center (or set AZURE_CLIENT_ID)"})
	}
	return p
}

// validTenant applies azidentity's own rule, so that a bad value is
// reported as an input problem alongside the others.
func validTenant(t string) bool {
	for _, r := range t {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

func clientOptions(cfg *config.Config, opts *Options) (azcore.ClientOptions, error) {
	host := DefaultAuthorityHost
	if u := cfg.AuthorityHost; u != nil {
		if u.Scheme != "https" || u.Host == "" {
			return azcore.ClientOptions{}, &config.InputError{Input: "authority-host", Problem: "must be an https URL such as " + DefaultAuthorityHost}
		}
		host = u.String()
	}
	// Setting Cloud always keeps AZURE_AUTHORITY_HOST in the environment
	// from silently redirecting sign-in: config decides the host.
	return azcore.ClientOptions{
		Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: host},
		Transport: opts.Transport,
		Retry:     policy.RetryOptions{ShouldRetry: retryUnlessUntrusted},
	}, nil
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

// httpClient adapts the azcore transport for go-githubactions, which wants
// an *http.Client.
func httpClient(t policy.Transporter) *http.Client {
	switch t := t.(type) {
	case nil:
		return &http.Client{Timeout: idTokenTimeout}
	case *http.Client:
		return t
	default:
		return &http.Client{Timeout: idTokenTimeout, Transport: transporterFunc(t.Do)}
	}
}

type transporterFunc func(*http.Request) (*http.Response, error)

func (f transporterFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
