package e2e

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/storeflight/storeflight/internal/storefake"
)

// testGitHubRunnerReadsRollout is issue 3's end-to-end check of keyless
// sign-in: the compiled binary, in a GitHub runner's environment, trusts
// the fake Entra ID and the Store only through SSL_CERT_FILE (where Go
// reads it; elsewhere through extra-root-certs, as every other scenario),
// trades a GitHub ID token for an access token, and reads a rollout it need
// not change.
func testGitHubRunnerReadsRollout(t *testing.T) {
	w := newWorld(t, worldOptions{
		FakeClock: true,
		Seed: seedApp(seedFlight(flightA, "Beta testers", publishedA,
			&storefake.SeedRollout{Percentage: 25, Status: "PackageRolloutInProgress", Fallback: "1152921504621240001"})),
	})
	inv := invocation{Inputs: map[string]string{
		"auth":               "github-oidc",
		"flight-id":          flightA,
		"rollout-percentage": "25",
	}}
	if sslCertFileWorks {
		inv.Inputs["extra-root-certs"] = "" // leaves the base input out
		inv.Env = map[string]string{"SSL_CERT_FILE": w.certs}
	}
	res := w.run(t.Context(), inv)
	if res.Code != 0 {
		t.Fatalf("exit code %d, want 0\n%s", res.Code, res.log())
	}
	for k, want := range map[string]string{
		"flight-id":          flightA,
		"submission-id":      publishedA,
		"submission-status":  "Published",
		"rollout-status":     "PackageRolloutInProgress",
		"rollout-percentage": "25",
		"finalized":          "false",
	} {
		if got := res.Outputs[k]; got != want {
			t.Errorf("output %s = %q, want %q", k, got, want)
		}
	}

	var file map[string]any
	if err := json.Unmarshal([]byte(res.OutputFile), &file); err != nil {
		t.Errorf("output-file is not JSON: %v\n%s", err, res.OutputFile)
	} else if file["submission-id"] != publishedA || file["rollout-percentage"] != "25" {
		t.Errorf("output-file %v, want submission %s at 25", file, publishedA)
	}

	// Sign-in: one GitHub ID token, sent as the client assertion of one
	// Entra token request for the Store scope.
	ids := w.entra.IDTokensIssued()
	trs := w.entra.TokenRequests()
	if len(ids) != 1 || len(trs) != 1 {
		t.Fatalf("%d ID tokens and %d token requests, want 1 and 1", len(ids), len(trs))
	}
	tr := trs[0]
	if tr.ClientAssertion != ids[0] {
		t.Error("the token request's client_assertion is not the GitHub ID token")
	}
	if tr.ClientAssertionType != jwtBearer || tr.ClientSecret != "" || tr.GrantType != "client_credentials" {
		t.Errorf("token request: assertion type %q, grant %q, secret sent %t", tr.ClientAssertionType, tr.GrantType, tr.ClientSecret != "")
	}
	if !slices.Contains(strings.Fields(tr.Scope), storeScope) {
		t.Errorf("token request scope %q lacks %s", tr.Scope, storeScope)
	}
	if tr.Tenant != tenantID || tr.ClientID != clientID {
		t.Errorf("token request for tenant %s client %s", tr.Tenant, tr.ClientID)
	}
	if reqs := w.entra.IDTokenRequests(); len(reqs) != 1 || reqs[0].Audience != "api://AzureADTokenExchange" {
		t.Errorf("ID token requests %+v, want one for api://AzureADTokenExchange", reqs)
	}

	// The Store saw only that access token (the simulator accepts no
	// other: AcceptToken is called only for what Entra issued), only
	// reads, and no change.
	if n := len(w.entra.AccessTokensIssued()); n != 1 {
		t.Errorf("%d access tokens issued, want 1", n)
	}
	if len(res.Requests) == 0 {
		t.Fatal("the Store saw no request")
	}
	for _, r := range res.Requests {
		if !r.Authorized || r.Status != http.StatusOK || r.Method != http.MethodGet {
			t.Errorf("request %s %s: authorized %t, status %d; want an authorized GET answered 200", r.Method, r.Path, r.Authorized, r.Status)
		}
	}
	sub, _ := w.sim.Submission(appID, flightA, publishedA)
	if sub.Rollout.Percentage != 25 || sub.Rollout.Status != "PackageRolloutInProgress" {
		t.Errorf("rollout now %+v, want 25%% in progress", sub.Rollout)
	}
}
