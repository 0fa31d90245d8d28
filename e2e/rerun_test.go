package e2e

import (
	"archive/zip"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/storeflight/storeflight/internal/storefake"
)

// The re-run scenarios: a release re-run with the same (or changed)
// inputs, and the follow-up job after a release job, as DESIGN.md's re-run
// rules describe them.

// cloneReadings are the simulator's two readings of what a create clones.
var cloneReadings = []struct {
	name    string
	without bool
}{{"clone-with-rollout", false}, {"clone-without-rollout", true}}

// finishedFlight is flight A whose published submission finished a
// rollout at 100% and is mandatory, as a rolled-out release is left.
func finishedFlight() storefake.Seed {
	f := seedFlight(flightA, "Beta testers", publishedA, &storefake.SeedRollout{Percentage: 100, Status: "PackageRolloutComplete", Fallback: "1152921504621240001"})
	f.Published.MandatoryUpdate = true
	return seedApp(f)
}

func mustExit(t *testing.T, what string, res result, code int) {
	t.Helper()
	if res.Code != code {
		t.Fatalf("%s: exit code %d, want %d\n%s", what, res.Code, code, res.log())
	}
}

// testUnreadableVersion releases MyApp.msixupload, a fixed file name,
// whose inner package is compressed and has no manifest storeflight can
// read, over a published MyApp.msixupload: the release must ship, not be
// taken for the published one. The simulator reads packages as storeflight
// does, so it would fail this one in pre-processing: the run stops at the
// commit (wait-for: none), which is as far as the re-run rule decides.
func testUnreadableVersion(t *testing.T) {
	f := seedFlight(flightA, "Beta testers", publishedA, nil)
	f.Published.Packages = []storefake.SeedPackage{{FileName: "MyApp.msixupload", Version: "1.0.0.0"}}
	w := newWorld(t, worldOptions{FakeClock: true, Seed: seedApp(f)})
	w.writeUploadFile("MyApp.msixupload")
	res := w.run(t.Context(), invocation{Inputs: map[string]string{"flight-id": flightA, "packages": "MyApp.msixupload", "wait-for": "none"}})
	mustExit(t, "release", res, 0)
	fs, _ := w.sim.Flight(appID, flightA)
	if fs.PendingID == "" || fs.PendingID == publishedA || res.Outputs["submission-id"] != fs.PendingID {
		t.Fatalf("pending submission %q, output submission-id %q: want a new one, not %s\nrequests:\n%s", fs.PendingID, res.Outputs["submission-id"], publishedA, describeRequests(res.Requests))
	}
	if sub, _ := w.sim.Submission(appID, flightA, fs.PendingID); sub.Commits != 1 || !cmp.Equal(sub.UploadedFiles, []string{"MyApp.msixupload"}) {
		t.Errorf("new submission: %d commits, uploaded %v", sub.Commits, sub.UploadedFiles)
	}
	if !strings.Contains(res.Stdout, "::warning") || !strings.Contains(res.Stdout, "version of MyApp.msixupload cannot be read") {
		t.Errorf("no warning about the unreadable version\n%s", res.log())
	}
}

// writeUploadFile writes an upload file holding a compressed package
// without a manifest.
func (w *world) writeUploadFile(name string) {
	w.t.Helper()
	f, err := os.Create(filepath.Join(w.dir, name))
	if err != nil {
		w.t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	fw, err := zw.CreateHeader(&zip.FileHeader{Name: "MyApp_2.0.0.0_x64.msix", Method: zip.Deflate})
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := fw.Write([]byte(strings.Repeat("payload ", 512))); err != nil {
		w.t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		w.t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		w.t.Fatal(err)
	}
}

// testUntouchedClone stops a release between create and update (the Store
// refuses the PUT once): the re-run with the same inputs takes the clone
// over and publishes it, whatever pending-submission says.
func testUntouchedClone(t *testing.T) {
	for _, rd := range cloneReadings {
		t.Run(rd.name, func(t *testing.T) {
			w := newWorld(t, worldOptions{FakeClock: true, CloneWithoutRollout: rd.without, Seed: finishedFlight()})
			w.writePackage(newPackage, newVersion)
			w.sim.Inject(storefake.Fault{Host: "api", Method: http.MethodPut, Status: http.StatusBadRequest})
			first := w.runT(t, t.Context(), invocation{Inputs: releaseInputs(flightA)})
			mustExit(t, "first run", first, 1)
			fs, _ := w.sim.Flight(appID, flightA)
			clone := fs.PendingID
			if clone == "" {
				t.Fatalf("the first run left no pending submission\n%s", first.log())
			}
			second := w.runT(t, t.Context(), invocation{Inputs: releaseInputs(flightA)})
			mustExit(t, "re-run", second, 0)
			if second.Outputs["submission-id"] != clone {
				t.Errorf("re-run released %q, want the clone %s", second.Outputs["submission-id"], clone)
			}
			if n := applied(second.Requests, http.MethodPost, createPath(flightA)) + applied(second.Requests, http.MethodDelete, clone); n != 0 {
				t.Errorf("the re-run created or deleted %d submissions, want none\n%s", n, describeRequests(second.Requests))
			}
			sub, _ := w.sim.Submission(appID, flightA, clone)
			if sub.Status != "Published" || sub.Commits != 1 || sub.Rollout.Percentage != 10 || sub.MandatoryUpdate {
				t.Errorf("clone %s: %s, %d commits, rollout %+v, mandatory %v; want Published at 10%%, not mandatory", clone, sub.Status, sub.Commits, sub.Rollout, sub.MandatoryUpdate)
			}
		})
	}
}

// testInputsApplied re-runs a release published at 10% with
// rollout-percentage 20: the run raises it (and says nothing went into an
// update it did not make); re-run at 10% it counts as applied, with a
// warning.
func testInputsApplied(t *testing.T) {
	w := newWorld(t, worldOptions{FakeClock: true, Seed: seedApp(seedFlight(flightA, "Beta testers", publishedA, nil))})
	w.writePackage(newPackage, newVersion)
	ctx := t.Context()
	res := w.run(ctx, invocation{Inputs: releaseInputs(flightA)})
	mustExit(t, "release", res, 0)
	sub := checkReleased(t, w, flightA, publishedA, res.Requests, 10)

	in := releaseInputs(flightA)
	in["rollout-percentage"] = "20"
	res = w.run(ctx, invocation{Inputs: in})
	mustExit(t, "re-run at 20%", res, 0)
	if strings.Contains(res.Stdout, "went into the update") {
		t.Errorf("the re-run says the percentage went into an update it did not make\n%s", res.log())
	}
	if n := applied(res.Requests, http.MethodPost, createPath(flightA)) + applied(res.Requests, http.MethodPost, "/commit"); n != 0 {
		t.Errorf("the re-run created or committed again\n%s", describeRequests(res.Requests))
	}
	checkRolloutChange(t, w, flightA, sub, "updatepackagerolloutpercentage", res.Requests,
		storefake.RolloutState{Enabled: true, Percentage: 20, Status: "PackageRolloutInProgress", Fallback: publishedA})
	if res.Outputs["rollout-percentage"] != "20" {
		t.Errorf("output rollout-percentage %q, want 20", res.Outputs["rollout-percentage"])
	}

	res = w.run(ctx, invocation{Inputs: releaseInputs(flightA)})
	mustExit(t, "re-run at 10%", res, 0)
	if !strings.Contains(res.Stdout, "::warning") || !strings.Contains(res.Stdout, "above rollout-percentage 10%") {
		t.Errorf("no warning that the rollout is already above 10%%\n%s", res.log())
	}
	if n := len(apiRequests(res.Requests, http.MethodPost, "")); n != 0 {
		t.Errorf("%d changes, want none\n%s", n, describeRequests(res.Requests))
	}
}

// testExpiredUploadURL leaves a release uncommitted (commit: false) until
// its upload URL has expired: the re-run reads it again, gets no fresh
// one, deletes its own submission, creates it again and ships.
func testExpiredUploadURL(t *testing.T) {
	w := newWorld(t, worldOptions{FakeClock: true, SASTTL: time.Minute, Seed: seedApp(seedFlight(flightA, "Beta testers", publishedA, nil))})
	w.writePackage(newPackage, newVersion)
	ctx := t.Context()
	first := w.run(ctx, invocation{Inputs: map[string]string{"flight-id": flightA, "packages": newPackage, "commit": "false"}})
	mustExit(t, "uncommitted release", first, 0)
	fs, _ := w.sim.Flight(appID, flightA)
	old := fs.PendingID
	w.fake.Advance(2 * time.Minute)
	res := w.run(ctx, invocation{Inputs: releaseInputs(flightA)})
	mustExit(t, "re-run", res, 0)
	if n := applied(res.Requests, http.MethodDelete, old); n != 1 {
		t.Errorf("%d deletes of %s, want 1\n%s", n, old, describeRequests(res.Requests))
	}
	if !strings.Contains(res.Stdout, "to create it again: its upload URL expired") {
		t.Errorf("the log does not say why the submission was created again\n%s", res.log())
	}
	checkReleased(t, w, flightA, publishedA, res.Requests, 10)
}

// testFollowUpInFlight is the README's pattern: a release job with
// wait-for: committed, then a follow-up job with wait-for: published and
// no update input, which must wait for the release in flight (and raise
// its rollout), not stop at the earlier published submission.
func testFollowUpInFlight(t *testing.T) {
	w := newWorld(t, worldOptions{FakeClock: true, Stages: storefake.Stages{Certification: 30 * time.Minute},
		Seed: seedApp(seedFlight(flightA, "Beta testers", publishedA, nil))})
	w.writePackage(newPackage, newVersion)
	ctx := t.Context()
	in := releaseInputs(flightA)
	in["wait-for"] = "committed"
	release := w.run(ctx, invocation{Inputs: in})
	mustExit(t, "release job", release, 0)
	id := release.Outputs["submission-id"]

	// Certification ends once the follow-up has read the release's status
	// (within the life of the run's access token on the simulator's clock).
	statusReads := func() int { return countPath(ownRequests(w.sim.Requests()), http.MethodGet, id+"/status") }
	seen := statusReads()
	advance := func(p *os.Process, exited <-chan struct{}) {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-exited:
				return
			case <-tick.C:
			}
			if statusReads() > seen {
				w.fake.Advance(40 * time.Minute)
				return
			}
		}
	}
	follow := w.run(ctx, invocation{Inputs: map[string]string{"flight-id": flightA, "wait-for": "published", "rollout-percentage": "50"}, During: advance})
	mustExit(t, "follow-up job", follow, 0)
	if follow.Outputs["submission-id"] != id || follow.Outputs["submission-status"] != "Published" {
		t.Errorf("follow-up outputs submission-id %q, status %q; want %s Published\n%s", follow.Outputs["submission-id"], follow.Outputs["submission-status"], id, follow.log())
	}
	if sub, _ := w.sim.Submission(appID, flightA, id); sub.Status != "Published" || sub.Rollout.Percentage != 50 {
		t.Errorf("the release: %s at %+v, want Published at 50%%", sub.Status, sub.Rollout)
	}
	if sub, _ := w.sim.Submission(appID, flightA, publishedA); sub.Rollout.Status != "PackageRolloutNotStarted" {
		t.Errorf("the earlier published submission's rollout changed: %+v", sub.Rollout)
	}
}

// testDryRunPlan runs the same release as a dry run and for real against
// one simulator: the two change lists agree field for field, and the new
// submission is what the inputs say (not mandatory, the rollout asked
// for), whichever way the create clones.
func testDryRunPlan(t *testing.T) {
	for _, rd := range cloneReadings {
		t.Run(rd.name, func(t *testing.T) {
			w := newWorld(t, worldOptions{FakeClock: true, CloneWithoutRollout: rd.without, Seed: finishedFlight()})
			w.writePackage(newPackage, newVersion)
			in := map[string]string{"flight-id": flightA, "packages": newPackage, "rollout-percentage": "30", "notes-for-certification": "fixes", "dry-run": "true"}
			dry := w.runT(t, t.Context(), invocation{Inputs: in})
			mustExit(t, "dry run", dry, 0)
			if n := len(apiRequests(dry.Requests, http.MethodPost, "")) + len(apiRequests(dry.Requests, http.MethodPut, "")); n != 0 {
				t.Fatalf("the dry run changed things\n%s", describeRequests(dry.Requests))
			}
			delete(in, "dry-run")
			real := w.runT(t, t.Context(), invocation{Inputs: in})
			mustExit(t, "run", real, 0)
			planned, done := changeRows(dry.Summary), changeRows(real.Summary)
			if len(done) == 0 {
				t.Fatalf("the run's summary lists no changes\n%s", real.Summary)
			}
			if diff := cmp.Diff(done, planned); diff != "" {
				t.Errorf("dry-run changes differ from the run's (-run +dry run):\n%s", diff)
			}
			sub, _ := w.sim.Submission(appID, flightA, real.Outputs["submission-id"])
			if sub.MandatoryUpdate || !sub.Rollout.Enabled || sub.Rollout.Percentage != 30 {
				t.Errorf("created submission: mandatory %v, rollout %+v; want not mandatory, 30%%", sub.MandatoryUpdate, sub.Rollout)
			}
		})
	}
}

// changeRows returns the rows of a job summary's Changes table.
func changeRows(summary string) []string {
	var rows []string
	in := false
	for line := range strings.Lines(summary) {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "### "):
			in = line == "### Changes"
		case in && strings.HasPrefix(line, "| ") && !strings.HasPrefix(line, "| Field "):
			rows = append(rows, line)
		}
	}
	return rows
}
