package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/storeflight/storeflight/internal/auth/authtest"
	"github.com/storeflight/storeflight/internal/storefake"
)

// MSAL serves a token from its cache while more than msalMargin of its
// life is left, and asks Entra for a new one after that.
const msalMargin = 5 * time.Minute

// tokenTTL is the access tokens' life in the token-expiry scenario: MSAL
// caches each for cacheLife, a fraction of the release's wait. (A token of
// under 5 minutes is never cached at all, so it would not exercise a
// cached token expiring.)
const (
	tokenTTL  = msalMargin + 4*time.Second
	cacheLife = tokenTTL - msalMargin
)

// idTokenTTL is the life of GitHub's ID tokens, each fetched for one
// Entra token request.
const idTokenTTL = 3 * time.Second

// testTokenExpiry gives access tokens a life that MSAL caches for a few
// seconds, during a release that waits several times longer for
// publication, and makes the simulator refuse each token once MSAL should
// have stopped serving it from its cache. Cached tokens must be reused
// while they are good and replaced when they expire: the Store never sees
// a stale token, every Entra token request carries a fresh GitHub ID
// token, and the run completes.
func testTokenExpiry(t *testing.T) {
	w := newWorld(t, worldOptions{
		// The wall clock: token expiry is real time for both the binary and
		// the simulator.
		Stages: storefake.Stages{
			CommitStarted:      time.Second,
			PreProcessing:      time.Second,
			Certification:      6 * time.Second,
			Release:            time.Second,
			PendingPublication: 500 * time.Millisecond,
			Publishing:         500 * time.Millisecond,
		},
		Entra:       authtest.EntraOptions{TokenTTL: tokenTTL, IDTokenTTL: idTokenTTL},
		TokenMargin: msalMargin,
		Seed:        seedApp(seedFlight(flightA, "Beta testers", publishedA, nil)),
	})
	w.writePackage(newPackage, newVersion)
	res := w.run(t.Context(), invocation{Inputs: releaseInputs(flightA)})
	if res.Code != 0 {
		t.Fatalf("release: exit code %d, want 0\n%s", res.Code, res.log())
	}
	took := res.Ended.Sub(res.Started)
	if took < 2*cacheLife {
		t.Errorf("the run took %s: not long enough to outlive cached tokens of %s", took, cacheLife)
	}
	checkReleased(t, w, flightA, publishedA, res.Requests, 10)
	checkNo401(t, res.Requests)
	api := apiRequests(res.Requests, "", "")
	for _, r := range api {
		if !r.Authorized {
			t.Errorf("%s %s carried no token", r.Method, r.Path)
		}
	}

	// Tokens were served from the cache (far fewer token requests than
	// Store requests) and replaced as they expired (one per cacheLife).
	trs := w.entra.TokenRequests()
	if 3*len(trs) > len(api) {
		t.Errorf("%d token requests for %d Store requests: tokens were not cached", len(trs), len(api))
	}
	if want := int(took / cacheLife); len(trs) < want {
		t.Errorf("%d token requests in %s with tokens cached for %s, want at least %d: expired tokens were not replaced",
			len(trs), took.Round(time.Millisecond), cacheLife, want)
	}
	// Every token request used a GitHub ID token fetched for it, and
	// still valid when sent.
	idReqs := w.entra.IDTokenRequests()
	ids := w.entra.IDTokensIssued()
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
		case tr.At.Sub(at) >= idTokenTTL:
			t.Errorf("token request %d: GitHub ID token %s old, past its life of %s", i, tr.At.Sub(at), idTokenTTL)
		}
		used[tr.ClientAssertion] = true
	}
	t.Logf("%d API requests, %d Entra token requests, %d GitHub ID tokens in %s",
		len(api), len(trs), len(ids), took.Round(time.Millisecond))

	// The simulator does refuse a token past the point where MSAL stops
	// serving it, so the absence of 401s above means something.
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
