package e2e

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/storeflight/storeflight/internal/storefake"
)

// gitlabJob is a GitLab CI job's run of the binary: GITLAB_CI instead of
// GitHub's variables, a federated token from id_tokens in
// $AZURE_FEDERATED_TOKEN, the dotenv report at the default
// storeflight.env, and env laid over the job's own variables the way
// GitLab lays the dotenv variables of earlier jobs over them.
func (w *world) gitlabJob(inputs, env map[string]string) invocation {
	in := maps.Clone(inputs)
	in["output-file"] = "" // GitLab's default, storeflight.env
	e := map[string]string{"GITLAB_CI": "true", "AZURE_FEDERATED_TOKEN": w.federatedToken()}
	maps.Copy(e, env)
	return invocation{Inputs: in, Env: e, Unset: []string{"GITHUB_ACTIONS", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY",
		"ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"}}
}

// federatedToken mints a GitLab-like ID token the fake Entra accepts.
func (w *world) federatedToken() string {
	tok := w.entra.MintIDToken("api://AzureADTokenExchange", "project_path:contoso/notes:ref_type:tag:ref:v1.1.0", time.Hour)
	w.addSecret(tok)
	return tok
}

// readDotenv reads the dotenv report a GitLab job left.
func (w *world) readDotenv(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(w.dir, "storeflight.env"))
	if err != nil {
		t.Fatalf("the job left no dotenv report: %v", err)
	}
	vars := map[string]string{}
	for line := range strings.Lines(string(data)) {
		k, v, ok := strings.Cut(strings.TrimRight(line, "\r\n"), "=")
		if !ok {
			t.Fatalf("dotenv line %q is not KEY=value", line)
		}
		vars[k] = v
	}
	return vars
}

// testGitLabDotenvChain is issue 10's item 7, the way GitLab runs a
// release job and a later rollout job: the release job's dotenv variables
// are loaded into the later job's environment above the job's own
// variables. The later job must keep its own inputs (its flight-name and
// its rollout-percentage), and a job that wants an output passes it
// explicitly (STOREFLIGHT_SUBMISSION_ID: $STOREFLIGHT_OUT_SUBMISSION_ID).
func testGitLabDotenvChain(t *testing.T) {
	w := newWorld(t, worldOptions{
		FakeClock: true,
		Seed:      seedApp(seedFlight(flightA, "Beta testers", publishedA, nil)),
	})
	w.writePackage(newPackage, newVersion)
	ctx := t.Context()

	release := w.run(ctx, w.gitlabJob(releaseInputs(flightA), nil))
	if release.Code != 0 {
		t.Fatalf("release job: exit code %d, want 0\n%s", release.Code, release.log())
	}
	f, _ := w.sim.Flight(appID, flightA)
	newID := f.PublishedID
	dotenv := w.readDotenv(t)

	// The rollout job names its flight by name and raises to 50%; the
	// release job's variables come in above its own.
	raise := w.run(ctx, w.gitlabJob(map[string]string{"flight-name": "Beta testers", "rollout-percentage": "50"}, dotenv))
	if raise.Code != 0 {
		t.Errorf("rollout job: exit code %d, want 0 (the release job's dotenv must not become its inputs)\n%s", raise.Code, raise.log())
	}
	checkRolloutChange(t, w, flightA, newID, "updatepackagerolloutpercentage", raise.Requests,
		storefake.RolloutState{Enabled: true, Percentage: 50, Status: "PackageRolloutInProgress", Fallback: publishedA})
	for k := range dotenv {
		if !strings.HasPrefix(k, "STOREFLIGHT_OUT_") {
			t.Errorf("dotenv variable %s is not named STOREFLIGHT_OUT_*: a later job takes it for an input", k)
		}
	}
	if dotenv["STOREFLIGHT_OUT_SUBMISSION_ID"] != newID || dotenv["STOREFLIGHT_OUT_ROLLOUT_PERCENTAGE"] != "10" {
		t.Fatalf("dotenv of the release job: %v, want submission %s at 10%%", dotenv, newID)
	}

	// A job that means to act on the release's submission says so.
	finalize := w.run(ctx, w.gitlabJob(map[string]string{
		"flight-id":        dotenv["STOREFLIGHT_OUT_FLIGHT_ID"],
		"submission-id":    dotenv["STOREFLIGHT_OUT_SUBMISSION_ID"],
		"finalize-rollout": "true",
	}, dotenv))
	if finalize.Code != 0 {
		t.Fatalf("finalize job: exit code %d, want 0\n%s", finalize.Code, finalize.log())
	}
	if got := w.readDotenv(t); got["STOREFLIGHT_OUT_FINALIZED"] != "true" || got["STOREFLIGHT_OUT_SUBMISSION_ID"] != newID {
		t.Errorf("dotenv of the finalize job: %v", got)
	}
	checkRolloutChange(t, w, flightA, newID, "finalizepackagerollout", finalize.Requests,
		storefake.RolloutState{Enabled: true, Percentage: 100, Status: "PackageRolloutComplete", Fallback: publishedA})
}
