package auth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	gha "github.com/sethvargo/go-githubactions"

	"github.com/storeflight/storeflight/internal/config"
)

const (
	// idTokenTimeout bounds one request for a GitHub ID token, as
	// go-githubactions' own default client does.
	idTokenTimeout = 10 * time.Second
	// idTokenAttempts: the runtime's token service has brief 5xx spells,
	// and go-githubactions does not retry; a lost sign-in costs the run.
	idTokenAttempts = 3
	// idTokenBackoff is the first pause between attempts; the second is
	// twice as long. The service's hiccups pass within a second or two.
	idTokenBackoff = 500 * time.Millisecond
)

// assertionFunc is the callback shape azidentity's client assertion
// credential calls each time it needs a new Entra token.
type assertionFunc = func(context.Context) (string, error)

// githubAssertion asks GitHub for a new ID token at every call, so that a
// wait longer than the ID token's few minutes of life still signs in.
func githubAssertion(g config.GitHubOIDC, audience string, client *http.Client, onSecret func(string)) assertionFunc {
	env := map[string]string{
		"ACTIONS_ID_TOKEN_REQUEST_URL":   g.RequestURL,
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": g.RequestToken.Reveal(),
	}
	action := gha.New(gha.WithGetenv(func(k string) string { return env[k] }), gha.WithHTTPClient(client))
	return withErrorSlot(func(ctx context.Context) (string, error) {
		var err error
		for attempt := 1; ; attempt++ {
			var tok string
			tok, err = action.GetIDToken(ctx, audience)
			if err == nil && tok != "" {
				onSecret(tok)
				return tok, nil
			}
			if err == nil {
				err = errors.New("the answer held no token")
			}
			if attempt == idTokenAttempts || !transient(err) {
				break
			}
			select {
			case <-ctx.Done():
				return "", ctx.Err()
			case <-time.After(time.Duration(attempt) * idTokenBackoff):
			}
		}
		return "", fmt.Errorf("GitHub ID token request failed: %w", err)
	})
}

// transient reports whether a failed ID-token request is worth repeating.
func transient(err error) bool {
	var rf *gha.RequestFailedError
	if errors.As(err, &rf) {
		return rf.StatusCode == http.StatusTooManyRequests || rf.StatusCode >= 500
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, net.ErrClosed)
}

// fileAssertion reads the federated token file at every call, since
// whoever writes it (Kubernetes, a CI step) replaces it before the old
// token expires; azidentity's WorkloadIdentityCredential would keep a copy
// for 10 minutes. With no file it returns the fixed token.
func fileAssertion(path string, token config.Secret, onSecret func(string)) assertionFunc {
	return withErrorSlot(func(context.Context) (string, error) {
		if path == "" {
			return token.Reveal(), nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("federated token file unreadable: %w", err)
		}
		tok := string(bytes.TrimSpace(b))
		if tok == "" {
			return "", fmt.Errorf("the federated token file %s is empty", path)
		}
		onSecret(tok)
		return tok, nil
	})
}

// errorSlot carries a callback's error past MSAL, which keeps only its
// message, back to credential.GetToken, so that errors.Is and errors.As
// still reach it (context.Canceled, fs.ErrNotExist, GitHub's status).
type errorSlot struct{ err error }

type slotKey struct{}

func withErrorSlot(f assertionFunc) assertionFunc {
	return func(ctx context.Context) (string, error) {
		tok, err := f(ctx)
		if err != nil {
			if s, ok := ctx.Value(slotKey{}).(*errorSlot); ok {
				s.err = err
			}
		}
		return tok, err
	}
}

// pipelinesTokenSpy hands the Azure Pipelines OIDC token, which azidentity
// fetches and uses internally, to OnSecret.
type pipelinesTokenSpy struct {
	uri      string
	onSecret func(string)
}

func (p *pipelinesTokenSpy) Do(req *policy.Request) (*http.Response, error) {
	resp, err := req.Next()
	raw := req.Raw()
	if err != nil || resp.StatusCode != http.StatusOK || p.uri == "" ||
		!strings.HasPrefix(raw.URL.Scheme+"://"+raw.URL.Host+raw.URL.Path, strings.SplitN(p.uri, "?", 2)[0]) {
		return resp, err
	}
	var body struct {
		OIDCToken string `json:"oidcToken"`
	}
	// UnmarshalAsJSON reads through runtime.Payload, which keeps the body
	// for azidentity to read again.
	if runtime.UnmarshalAsJSON(resp, &body) == nil && body.OIDCToken != "" {
		p.onSecret(body.OIDCToken)
	}
	return resp, nil
}
