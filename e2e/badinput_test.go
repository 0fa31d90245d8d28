package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testBadInput runs a table of bad configurations: each must exit 2
// before anything is sent, naming the input at fault, and neither the
// Store nor Entra nor GitHub's ID-token endpoint may see a request.
func testBadInput(t *testing.T) {
	w := newWorld(t, worldOptions{
		FakeClock: true,
		Seed:      seedApp(seedFlight(flightA, "Beta testers", publishedA, nil)),
	})
	w.writePackage(newPackage, newVersion)
	mustWrite(t, filepath.Join(w.dir, "notes.txt"), "release notes")
	mustWrite(t, filepath.Join(w.dir, "fake.msix"), "this is not a ZIP archive")
	mustWrite(t, filepath.Join(w.dir, "a", newPackage), "")
	mustWrite(t, filepath.Join(w.dir, "b", newPackage), "")

	release := map[string]string{"flight-id": flightA, "packages": newPackage}
	with := withInputs
	in := func(kv ...string) map[string]string { return with(nil, kv...) }
	noOIDC := []string{"ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"}

	tests := []struct {
		name   string
		inputs map[string]string
		unset  []string
		env    map[string]string
		// names are the inputs the error must name (any one of them).
		names []string
	}{
		{"percentage above 100", in("flight-id", flightA, "rollout-percentage", "101"), nil, nil, []string{"rollout-percentage"}},
		{"negative percentage", in("flight-id", flightA, "rollout-percentage", "-5"), nil, nil, []string{"rollout-percentage"}},
		{"percentage not a number", in("flight-id", flightA, "rollout-percentage", "ten"), nil, nil, []string{"rollout-percentage"}},
		{"percentage with a decimal comma", in("flight-id", flightA, "rollout-percentage", "12,5"), nil, nil, []string{"rollout-percentage"}},
		{"percentage NaN", in("flight-id", flightA, "rollout-percentage", "NaN"), nil, nil, []string{"rollout-percentage"}},
		{"percentage with a sign", in("flight-id", flightA, "rollout-percentage", "50%"), nil, nil, []string{"rollout-percentage"}},
		{"tenant not a GUID", in("tenant-id", "contoso.onmicrosoft.com"), nil, nil, []string{"tenant-id"}},
		{"client not a GUID", in("client-id", "1234"), nil, nil, []string{"client-id"}},
		{"application ID too short", in("application-id", "9NBLGGH4R31"), nil, nil, []string{"application-id"}},
		{"flight ID not a GUID", in("flight-id", "beta-testers"), nil, nil, []string{"flight-id"}},
		{"submission ID not numeric", in("flight-id", flightA, "submission-id", "12ab"), nil, nil, []string{"submission-id"}},
		{"unknown auth", in("auth", "magic"), nil, nil, []string{"auth"}},
		{"unknown wait-for", with(release, "wait-for", "forever"), nil, nil, []string{"wait-for"}},
		{"unknown pending-submission", with(release, "pending-submission", "keep"), nil, nil, []string{"pending-submission"}},
		{"unknown previous-rollout", with(release, "previous-rollout", "ignore"), nil, nil, []string{"previous-rollout"}},
		{"unknown package-mode", with(release, "package-mode", "merge"), nil, nil, []string{"package-mode"}},
		{"unknown on-timeout", with(release, "on-timeout", "retry"), nil, nil, []string{"on-timeout"}},
		{"unknown publish mode", with(release, "target-publish-mode", "Tomorrow"), nil, nil, []string{"target-publish-mode"}},
		{"SpecificDate with no date", with(release, "target-publish-mode", "SpecificDate"), nil, nil, []string{"target-publish-date"}},
		{"publish date not ISO 8601", with(release, "target-publish-mode", "SpecificDate", "target-publish-date", "next tuesday"), nil, nil, []string{"target-publish-date"}},
		{"effective date month 13", with(release, "mandatory-update", "true", "mandatory-update-effective-date", "2025-13-01T00:00:00Z"), nil, nil, []string{"mandatory-update-effective-date"}},
		{"boolean yes", with(release, "mandatory-update", "yes"), nil, nil, []string{"mandatory-update"}},
		{"halt-rollout maybe", in("flight-id", flightA, "halt-rollout", "maybe"), nil, nil, []string{"halt-rollout"}},
		{"poll interval without unit", with(release, "poll-interval", "5"), nil, nil, []string{"poll-interval"}},
		{"negative timeout", with(release, "timeout", "-1m"), nil, nil, []string{"timeout"}},
		{"max poll interval words", with(release, "max-poll-interval", "forever"), nil, nil, []string{"max-poll-interval"}},
		{"negative request budget", with(release, "request-budget", "-3"), nil, nil, []string{"request-budget"}},
		{"request budget words", with(release, "request-budget", "ten"), nil, nil, []string{"request-budget"}},
		{"glob matching nothing", with(release, "packages", "dist/**/*.msix"), nil, nil, []string{"packages"}},
		{"file of the wrong type", with(release, "packages", "notes.txt"), nil, nil, []string{"packages"}},
		{"package missing", with(release, "packages", "Contoso.Notes_9.9.9.9_x64.msix"), nil, nil, []string{"packages"}},
		{"duplicate ZIP names", with(release, "packages", "a/"+newPackage+",b/"+newPackage), nil, nil, []string{"packages"}},
		{"halt with finalize", in("flight-id", flightA, "halt-rollout", "true", "finalize-rollout", "true"), nil, nil, []string{"halt-rollout", "finalize-rollout"}},
		{"halt with percentage", in("flight-id", flightA, "halt-rollout", "true", "rollout-percentage", "50"), nil, nil, []string{"halt-rollout", "rollout-percentage"}},
		{"flight ID and name", in("flight-id", flightA, "flight-name", "Beta testers"), nil, nil, []string{"flight-id", "flight-name"}},
		{"simulate with api-url", in("flight-id", flightA, "simulate", "true"), nil, nil, []string{"simulate", "api-url"}},
		{"wait with commit false", with(release, "commit", "false", "wait-for", "published"), nil, nil, []string{"commit", "wait-for"}},
		{"previous halt with package add", with(release, "previous-rollout", "halt", "package-mode", "add"), nil, nil, []string{"previous-rollout", "package-mode"}},
		{"update without a flight", in("packages", newPackage), nil, nil, []string{"flight-id", "flight-name"}},
		{"authority over http", in("flight-id", flightA, "authority-host", "http://login.example.test"), nil, nil, []string{"authority-host"}},
		{"api-url not a URL", in("flight-id", flightA, "api-url", "::not a url"), nil, nil, []string{"api-url"}},
		{"no tenant", in("flight-id", flightA, "tenant-id", ""), nil, nil, []string{"tenant-id"}},
		{"github-oidc without its variables", in("flight-id", flightA, "auth", "github-oidc"), noOIDC, nil, []string{"id-token: write"}},
		{"auto with nothing to sign in with", in("flight-id", flightA), noOIDC, nil, []string{"auth"}},
		{"client-secret without a secret", in("flight-id", flightA, "auth", "client-secret"), nil, nil, []string{"client-secret"}},
		{"token file missing", in("flight-id", flightA, "auth", "federated-token-file", "federated-token-file", "/nonexistent/token"), nil, nil, []string{"federated-token-file"}},
		{"azure-pipelines without a service connection", in("flight-id", flightA, "auth", "azure-pipelines"), nil,
			map[string]string{"SYSTEM_ACCESSTOKEN": "e2e-system-access-token-value", "SYSTEM_OIDCREQUESTURI": "https://127.0.0.1:1/oidc"}, []string{"service-connection-id"}},
		{"not an MSIX inside", with(release, "packages", "fake.msix"), nil, nil, []string{"packages"}},
	}
	if len(tests) < 30 {
		t.Fatalf("%d bad configurations, want at least 30", len(tests))
	}
	w.addSecret("e2e-system-access-token-value")
	ctx := t.Context()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, tokBefore, idBefore := len(ownRequests(w.sim.Requests())), len(w.entra.TokenRequests()), len(w.entra.IDTokenRequests())
			res := w.runT(t, ctx, invocation{Inputs: tt.inputs, Unset: tt.unset, Env: tt.env})
			if res.Code != 2 {
				t.Errorf("exit code %d, want 2\n%s", res.Code, res.log())
			}
			if !namesAny(res.Stdout+res.Stderr, tt.names) {
				t.Errorf("no error names %v\n%s", tt.names, res.log())
			}
			if reqs := ownRequests(w.sim.Requests())[before:]; len(reqs) != 0 {
				t.Errorf("the Store saw %d requests\n%s", len(reqs), describeRequests(reqs))
			}
			if n := len(w.entra.TokenRequests()) - tokBefore; n != 0 {
				t.Errorf("Entra saw %d token requests", n)
			}
			if n := len(w.entra.IDTokenRequests()) - idBefore; n != 0 {
				t.Errorf("GitHub's ID-token endpoint saw %d requests", n)
			}
		})
	}
}

// namesAny reports whether an error or annotation line of out names one
// of names.
func namesAny(out string, names []string) bool {
	for line := range strings.Lines(out) {
		if !strings.Contains(strings.ToLower(line), "error") && !strings.Contains(line, "invalid") {
			continue
		}
		for _, n := range names {
			if strings.Contains(line, n) {
				return true
			}
		}
	}
	return false
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
