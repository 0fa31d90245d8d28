package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/storeflight/storeflight/internal/auth/authtest"
	"github.com/storeflight/storeflight/internal/storefake"
)

// tokenTTL is the life of access tokens and GitHub ID tokens in the
// token-expiry scenario: shorter than its wait.
const tokenTTL = 3 * time.Second

// testTokenExpiry gives access tokens and GitHub ID tokens a life of a few
// seconds, during a release that waits several times longer for
// publication: the Store never sees an expired token, every Entra token
// request carries a fresh GitHub ID token, and the run completes.
func testTokenExpiry(t *testing.T) {
	w := newWorld(t, worldOptions{
		// The wall clock: token expiry is real time for both the binary and
		// the simulator.
		Stages: storefake.Stages{
			CommitStarted:      time.Second,
			PreProcessing:      time.Second,
			Certification:      3 * time.Second,
			Release:            time.Second,
			PendingPublication: 500 * time.Millisecond,
			Publishing:         500 * time.Millisecond,
		},
		Entra: authtest.EntraOptions{TokenTTL: tokenTTL, IDTokenTTL: tokenTTL},
		Seed:  seedApp(seedFlight(flightA, "Beta testers", publishedA, nil)),
	})
	w.writePackage(newPackage, newVersion)
	res := w.run(t.Context(), invocation{Inputs: releaseInputs(flightA)})
	if res.Code != 0 {
		t.Fatalf("release: exit code %d, want 0\n%s", res.Code, res.log())
	}
	if took := res.Ended.Sub(res.Started); took < 2*tokenTTL {
		t.Errorf("the run took %s: not long enough to outlive tokens of %s", took, tokenTTL)
	}
	checkReleased(t, w, flightA, publishedA, res.Requests, 10)
	checkNo401(t, res.Requests)
	for _, r := range apiRequests(res.Requests, "", "") {
		if !r.Authorized {
			t.Errorf("%s %s carried no token", r.Method, r.Path)
		}
	}

	// Every token request used a GitHub ID token fetched for it, and
	// still valid when sent.
	trs := w.entra.TokenRequests()
	idReqs := w.entra.IDTokenRequests()
	ids := w.entra.IDTokensIssued()
	if len(trs) < 3 {
		t.Errorf("%d token requests in a run of %s with tokens of %s: tokens were reused past their life", len(trs), res.Ended.Sub(res.Started), tokenTTL)
	}
	issuedAt := map[string]time.Time{}
	for i, id := range ids {
		if i < len(idReqs) {
			issuedAt[id] = idReqs[i].At
		}
	}
	used := map[string]bool{}
	for i, tr := range trs {
		at, ok := issuedAt[tr.ClientAssertion]
		switch {
		case !ok:
			t.Errorf("token request %d: client_assertion is not a GitHub ID token the fake issued", i)
		case used[tr.ClientAssertion]:
			t.Errorf("token request %d: reused a GitHub ID token", i)
		case tr.At.Sub(at) >= tokenTTL:
			t.Errorf("token request %d: GitHub ID token %s old, past its life of %s", i, tr.At.Sub(at), tokenTTL)
		}
		used[tr.ClientAssertion] = true
	}
	t.Logf("%d API requests, %d Entra token requests, %d GitHub ID tokens in %s",
		len(apiRequests(res.Requests, "", "")), len(trs), len(ids), res.Ended.Sub(res.Started).Round(time.Millisecond))

	// The simulator does refuse an expired token, so the absence of 401s
	// above means something.
	first := w.entra.AccessTokensIssued()[0]
	req, err := http.NewRequest(http.MethodGet, w.apiURL+"/v1.0/my/applications/"+appID+"/flights/"+flightA+"?"+inspectMark, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+first)
	resp, err := w.sim.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the simulator answered %d to an expired token, want 401", resp.StatusCode)
	}
}
