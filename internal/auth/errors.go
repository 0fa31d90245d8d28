package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/storeflight/storeflight/internal/config"
	"github.com/storeflight/storeflight/internal/redact"
)

// SignInError is a failed sign-in: Entra ID refused, or the federated
// token could not be had. Its message is one line (plus a hint), already
// redacted; Unwrap reaches azidentity's error or the callback's.
type SignInError struct {
	Mode          Mode
	StatusCode    int    // HTTP status of the refusing endpoint, 0 if none answered
	Code          string // Entra's code, e.g. "AADSTS70021", or ""
	Description   string // Entra's error_description up to its trace details, redacted
	CorrelationID string // Entra's correlation_id, for a support request
	Hint          string // what to do about it, when known

	msg  string
	errs []error
}

func (e *SignInError) Error() string { return e.msg }

// Unwrap returns the underlying errors: azidentity's, or the assertion
// callback's, and the context's when it ended. Their messages are not
// redacted: print the SignInError, not what it wraps.
func (e *SignInError) Unwrap() []error { return e.errs }

var aadstsRE = regexp.MustCompile(`AADSTS(\d+)`)

// newSignInError describes err, which GetToken returned; cbErr is what the
// assertion callback failed with, if it did.
func newSignInError(mode Mode, err, cbErr error) *SignInError {
	e := &SignInError{Mode: mode, errs: []error{err}}
	var head string
	var details []string
	var afe *azidentity.AuthenticationFailedError
	switch {
	case cbErr != nil:
		e.errs = []error{cbErr}
		head = "could not get the federated token"
		details = []string{redact.String(cbErr.Error())}
		e.Hint = callbackHint(mode, cbErr)
		if f, ok := findTLSFailure(cbErr); ok {
			e.Hint = f.hint()
		}
	case errors.As(err, &afe) && afe.RawResponse != nil:
		head, details = e.fromResponse(afe.RawResponse)
	case isTLS(err):
		f, _ := findTLSFailure(err)
		head, e.Hint = f.detail(), f.hint()
	default:
		// No response: a network failure, a cancelled context, or an error
		// of azidentity's own. Its first line says which.
		head = redact.String(firstLine(err.Error()))
		if m := aadstsRE.FindString(err.Error()); m != "" {
			e.Code = m
		}
	}
	if e.Hint == "" {
		e.Hint = hint(mode, e.Code)
	}
	if e.CorrelationID != "" {
		details = append(details, "correlation ID "+e.CorrelationID)
	}
	// Only what came from elsewhere is redacted, piece by piece: redacting
	// the whole message would also blank our own words, such as the
	// "id-token: write" of a hint.
	e.msg = message(fmt.Sprintf("sign-in to Entra ID (%s) failed: %s", mode, head), details, e.Hint)
	return e
}

// maxLine is the longest line of a message: a CI log shows longer ones
// cut or scrolled.
const maxLine = 118

// message lays out a failure as DESIGN.md's "HTTP behaviour" asks: a
// headline, then indented continuation lines (the details, then the hint,
// whose own line breaks are kept), none longer than maxLine.
func message(headline string, details []string, hint string) string {
	var b strings.Builder
	b.WriteString(wrapText(headline, "", "  "))
	for _, d := range details {
		b.WriteString("\n" + wrapText(d, "  ", "  "))
	}
	for i, line := range strings.Split(hint, "\n") {
		if hint == "" {
			break
		}
		if i == 0 {
			b.WriteString("\n" + wrapText("hint: "+line, "  ", "    "))
		} else {
			b.WriteString("\n" + wrapText(line, "    ", "    "))
		}
	}
	return b.String()
}

// wrapText breaks text into lines of at most maxLine characters, the first
// starting with first and the others with rest, both after the text's own
// indentation; it breaks after a sentence where it can, else between
// words.
func wrapText(text, first, rest string) string {
	own := text[:len(text)-len(strings.TrimLeft(text, " "))]
	first, rest = first+own, rest+own
	var lines []string
	line := first
	for _, word := range strings.Fields(text) {
		if line != first && line != rest && (len(line)+1+len(word) > maxLine || endsSentence(line) && len(line) > maxLine*2/3) {
			lines = append(lines, line)
			line = rest
		}
		if line != first && line != rest {
			line += " "
		}
		line += word
	}
	return strings.Join(append(lines, line), "\n")
}

func endsSentence(line string) bool { return strings.HasSuffix(line, ".") }

// fromResponse reads Entra's error body (or another endpoint's, such as
// the Azure Pipelines OIDC endpoint) and returns the headline's part and
// the details.
func (e *SignInError) fromResponse(resp *http.Response) (head string, details []string) {
	e.StatusCode = resp.StatusCode
	where := ""
	if resp.Request != nil {
		where = "from " + resp.Request.Method + " " + resp.Request.URL.Host + resp.Request.URL.Path
	}
	body, _ := runtime.Payload(resp)
	var b struct {
		Error         string `json:"error"`
		Description   string `json:"error_description"`
		Codes         []int  `json:"error_codes"`
		CorrelationID string `json:"correlation_id"`
		Message       string `json:"message"`
	}
	if json.Unmarshal(body, &b) == nil && (b.Error != "" || b.Description != "") {
		e.Description = redact.String(trimTrace(b.Description))
		e.CorrelationID = redact.String(b.CorrelationID)
		if m := aadstsRE.FindString(b.Description); m != "" {
			e.Code = m
		} else if len(b.Codes) > 0 {
			e.Code = fmt.Sprintf("AADSTS%d", b.Codes[0])
		}
		d := e.Description
		if d == "" {
			d = "no description"
		}
		return fmt.Sprintf("%d %s", resp.StatusCode, redact.String(b.Error)), nonEmpty(d, where)
	}
	// Not Entra's format: show the status and the start of the body.
	text := strings.TrimSpace(b.Message)
	if text == "" {
		text = strings.TrimSpace(string(body))
	}
	if e.Mode == config.AuthAzurePipelines {
		e.Hint = "the Azure Pipelines OIDC endpoint refused: check service-connection-id (a workload identity federation\n" +
			"connection this pipeline may use) and that SYSTEM_ACCESSTOKEN is mapped from $(System.AccessToken)"
	}
	if len(text) > 300 {
		text = text[:300] + "…"
	}
	if text != "" {
		text = redact.String(firstLine(text))
	}
	return resp.Status, nonEmpty(text, where)
}

func nonEmpty(texts ...string) []string {
	var out []string
	for _, t := range texts {
		if t != "" {
			out = append(out, t)
		}
	}
	return out
}

// trimTrace cuts Entra's description before its Trace ID, Correlation ID
// and Timestamp, which are noise in a CI log (the correlation ID is kept
// apart).
func trimTrace(d string) string {
	if i := strings.Index(d, "Trace ID:"); i >= 0 {
		d = d[:i]
	}
	return strings.TrimSpace(firstLine(d))
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		return strings.TrimSpace(s[:i])
	}
	return s
}

// hint says what to do about the Entra errors a release engineer meets
// when setting up federated sign-in. Its lines are kept as written.
func hint(mode Mode, code string) string {
	switch code {
	case "AADSTS70021", "AADSTS700213":
		return "no federated credential on the app matches this token's issuer and subject; add one under\n" +
			"Entra ID > App registrations > the app > Certificates & secrets > Federated credentials,\n" +
			"with the subject exactly as " + subjectFormat(mode)
	case "AADSTS700212":
		return "the token's audience matches no federated credential: the credential's audience\n" +
			"(usually " + DefaultAudience + ") and oidc-audience must be equal"
	case "AADSTS700211":
		return "the token's issuer matches no federated credential: " + issuerFormat(mode)
	case "AADSTS700024":
		return "the federated token has expired or is not yet valid: it must be fresh at every sign-in\n" +
			"(for federated-token-file, whoever writes the file must renew it), and the runner's clock must be right"
	case "AADSTS7000215":
		return "the client secret is wrong: use the secret's Value, not its Secret ID, from\n" +
			"Entra ID > App registrations > the app > Certificates & secrets"
	case "AADSTS7000222":
		return "the client secret has expired: create a new one under Certificates & secrets and update client-secret\n" +
			"(or switch to federated sign-in and have no secret to renew)"
	case "AADSTS700016":
		return "no application with this client-id exists in tenant-id's directory: check both IDs on the app's\n" +
			"Overview page, and that the app is registered in the tenant linked to Partner Center"
	case "AADSTS90002":
		return "no tenant with this tenant-id exists in this cloud: check tenant-id (the Directory (tenant) ID)\n" +
			"and authority-host"
	}
	return ""
}

func subjectFormat(mode Mode) string {
	switch mode {
	case config.AuthGitHubOIDC:
		return "GitHub sends it:\n" +
			"  repo:OWNER/REPO:ref:refs/heads/main for a branch\n" +
			"  repo:OWNER/REPO:environment:NAME for a job with an environment\n" +
			"  repo:OWNER/REPO:ref:refs/tags/v1 for a tag\n" +
			"  repo:OWNER/REPO:pull_request for a pull request"
	case config.AuthAzurePipelines:
		return "Azure DevOps sends it:\n" +
			"  sc://ORGANIZATION/PROJECT/SERVICE-CONNECTION-NAME (the service connection's page shows it)"
	case config.AuthFederatedTokenFile:
		return "the token's issuer sends it:\n" +
			"  GitLab: project_path:GROUP/PROJECT:ref_type:branch:ref:main\n" +
			"  Kubernetes: system:serviceaccount:NAMESPACE:NAME"
	}
	return "the token's sub claim"
}

func issuerFormat(mode Mode) string {
	switch mode {
	case config.AuthGitHubOIDC:
		return "GitHub's is\nhttps://token.actions.githubusercontent.com (or with /ENTERPRISE appended when the enterprise customised it)"
	case config.AuthAzurePipelines:
		return "Azure DevOps' is\nhttps://vstoken.dev.azure.com/ORGANIZATION-ID (the service connection's page shows it)"
	}
	return "it must equal the token's iss claim\n(GitLab: https://gitlab.com or your instance's URL)"
}

// callbackHint says what to do when the federated token could not be had.
func callbackHint(mode Mode, err error) string {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return ""
	}
	switch mode {
	case config.AuthGitHubOIDC:
		return "GitHub refused or failed to issue an ID token; the job needs `permissions: id-token: write`,\n" +
			"and a pull request from a fork gets no token"
	case config.AuthFederatedTokenFile:
		return "federated-token-file must name a readable file holding the token"
	}
	return ""
}
