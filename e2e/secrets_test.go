package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/storeflight/storeflight/internal/auth/authtest"
	"github.com/storeflight/storeflight/internal/storefake"
)

const (
	clientSecret = "e2e~Client.Secret_0123456789abcdefghij"
	wrongSecret  = "e2e~Wrong.Secret_9876543210zyxwvutsrqp"
)

// testClientSecret signs in with a client secret, the fallback mode:
// a wrong secret, then an upload the blob host refuses, then the release
// that completes. Every run's output is scanned (as in every scenario) for
// the secret, the wrong secret, the tokens and the SAS signatures.
func testClientSecret(t *testing.T) {
	w := newWorld(t, worldOptions{
		FakeClock: true,
		Entra:     authtest.EntraOptions{ClientSecret: clientSecret},
		Seed:      seedApp(seedFlight(flightA, "Beta testers", publishedA, nil)),
	})
	w.addSecret(wrongSecret)
	w.writePackage(newPackage, newVersion)
	ctx := t.Context()
	withSecret := func(secret string) map[string]string {
		in := releaseInputs(flightA)
		in["auth"], in["client-secret"] = "client-secret", secret
		return in
	}

	res := w.run(ctx, invocation{Inputs: withSecret(wrongSecret), Args: []string{"--debug"}})
	if res.Code != 1 || !strings.Contains(res.Stdout, "AADSTS7000215") {
		t.Errorf("wrong secret: exit %d, want 1 with Entra's AADSTS7000215\n%s", res.Code, res.log())
	}
	if len(res.Requests) != 0 {
		t.Errorf("the Store saw %d requests without a token", len(res.Requests))
	}

	// Azure answers 403 to a SAS it does not accept; not retried.
	w.sim.Inject(storefake.Fault{Host: "blob", Status: http.StatusForbidden})
	res = w.run(ctx, invocation{Inputs: withSecret(clientSecret)})
	if res.Code != 1 || !strings.Contains(res.Stdout, "403") {
		t.Errorf("refused upload: exit %d, want 1 with the blob host's 403\n%s", res.Code, res.log())
	}

	res = w.run(ctx, invocation{Inputs: withSecret(clientSecret)})
	if res.Code != 0 {
		t.Fatalf("release: exit %d, want 0\n%s", res.Code, res.log())
	}
	checkReleased(t, w, flightA, publishedA, ownRequests(w.sim.Requests()), 10)
	trs := w.entra.TokenRequests()
	if len(trs) < 3 {
		t.Fatalf("%d token requests, want one per run at least", len(trs))
	}
	for i, tr := range trs {
		if tr.ClientAssertion != "" || tr.ClientAssertionType != "" || tr.ClientSecret == "" {
			t.Errorf("token request %d: assertion sent %t, secret sent %t; want the secret only", i, tr.ClientAssertion != "", tr.ClientSecret != "")
		}
	}
	if n := len(w.entra.IDTokenRequests()); n != 0 {
		t.Errorf("%d GitHub ID tokens fetched in client-secret mode", n)
	}
	w.mu.Lock()
	sigs := len(w.sigs)
	w.mu.Unlock()
	if sigs == 0 {
		t.Error("no SAS signature was collected, so the scans could not look for one")
	}
	if !strings.Contains(res.Stdout, "::add-mask::"+clientSecret) {
		t.Error("the client secret was not masked for the runner's log")
	}
}
