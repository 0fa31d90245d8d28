package cli

import (
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/hashicorp/go-cleanhttp"

	"github.com/storeflight/storeflight/internal/config"
	"github.com/storeflight/storeflight/internal/storeapi"
)

// trustingClients are the HTTP clients of a real run when extra-root-certs
// is given: one pooled transport trusting the system's roots and the extra
// ones carries sign-in, the Store API and the blob upload alike, so that a
// TLS-inspecting proxy (or a local simulator) is trusted on every
// connection. Every field is nil without extra roots: each client then
// keeps its defaults.
type trustingClients struct {
	auth   policy.Transporter
	store  *http.Client
	upload policy.Transporter
}

func newTrustingClients(cfg *config.Config) trustingClients {
	tc := cfg.TLSClientConfig()
	if tc == nil {
		return trustingClients{}
	}
	t := cleanhttp.DefaultPooledTransport() // HTTPS_PROXY honoured, as by the defaults
	t.TLSClientConfig = tc
	return trustingClients{
		auth:   &http.Client{Transport: t},
		store:  &http.Client{Transport: t, Timeout: storeapi.DefaultAttemptTimeout},
		upload: &http.Client{Transport: t},
	}
}
