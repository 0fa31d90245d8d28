package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/storeflight/storeflight/internal/msix"
	"github.com/storeflight/storeflight/internal/storefake"
)

// The retail scenarios: releases to the app's own submission (target:
// app), whose product page every byte of which must survive, and the
// refusals and faults particular to it.

// The app's own submission in the retail scenarios is the demo world's: a
// Desktop x64 package and an Xbox bundle, listings in en-us and de-de.
const (
	appPublished  = storefake.DemoAppPublishedID
	desktopOld    = storefake.DemoPublishedPackage
	xboxOld       = storefake.DemoXboxPackage
	desktopNew    = "ContosoNotes_1.1.0.0_x64.msix"
	desktopNewVer = "1.1.0.0"
)

// retailSeed is the demo world with the app's price set to priceID.
func retailSeed(priceID string) storefake.Seed {
	return storefake.DemoSeed(storefake.DemoWorld{Page: storefake.SeedProductPage{PriceID: priceID}})
}

// retailFiles writes the new Desktop x64 package and a notes folder with
// en-us.txt and de-de.txt.
func (w *world) retailFiles() {
	w.t.Helper()
	f, err := os.Create(filepath.Join(w.dir, desktopNew))
	if err != nil {
		w.t.Fatal(err)
	}
	id := msix.Identity{Name: "Contoso.Notes", Version: desktopNewVer, Architectures: []string{"x64"}, DeviceFamilies: []string{"Windows.Desktop"}}
	if err := msix.WriteDemo(f, id); err != nil {
		w.t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		w.t.Fatal(err)
	}
	dir := filepath.Join(w.dir, "whats-new")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		w.t.Fatal(err)
	}
	for name, text := range retailNotes {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text+"\n"), 0o600); err != nil {
			w.t.Fatal(err)
		}
	}
}

var retailNotes = map[string]string{"en-us.txt": "Ink sync is faster.", "de-de.txt": "Tinte wird schneller synchronisiert."}

// retailInputs is the release: the new Desktop package superseding the
// old one, "What's new" from the notes folder, 10%, waiting until
// published.
func retailInputs() map[string]string {
	return map[string]string{"target": "app", "packages": desktopNew, "package-mode": "supersede",
		"release-notes-dir": "whats-new", "rollout-percentage": "10", "wait-for": "published"}
}

// submissionMembers reads an app submission's JSON as the simulator
// serves it, member by member.
func (w *world) submissionMembers(id string) map[string]json.RawMessage {
	w.t.Helper()
	b, ok := w.sim.SubmissionJSON(appID, "", id)
	if !ok {
		w.t.Fatalf("no app submission %s", id)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		w.t.Fatal(err)
	}
	return m
}

// listingMembers flattens listings to "lang.baseListing.member" → JSON,
// every member but releaseNotes, whose values it returns apart.
func listingMembers(t *testing.T, listings json.RawMessage) (rest, notes map[string]string) {
	t.Helper()
	var ls map[string]map[string]json.RawMessage
	if err := json.Unmarshal(listings, &ls); err != nil {
		t.Fatal(err)
	}
	rest, notes = map[string]string{}, map[string]string{}
	for lang, l := range ls {
		for k, v := range l {
			if k != "baseListing" {
				rest[lang+"."+k] = string(v)
			}
		}
		var base map[string]json.RawMessage
		if err := json.Unmarshal(l["baseListing"], &base); err != nil {
			t.Fatal(err)
		}
		for k, v := range base {
			if k == "releaseNotes" {
				var s string
				_ = json.Unmarshal(v, &s)
				notes[lang] = s
				continue
			}
			rest[lang+".baseListing."+k] = string(v)
		}
	}
	return rest, notes
}

// serverOwned are the members the Store sets on every submission, and
// those the release's inputs name (packages, the rollout).
var serverOwned = map[string]bool{"id": true, "status": true, "statusDetails": true, "fileUploadUrl": true, "friendlyName": true,
	"applicationPackages": true, "packageDeliveryOptions": true, "listings": true}

// testRetailRelease releases to the app's own submission of a paid app:
// notes in two languages from a folder, the Desktop package superseded and
// the Xbox one kept, 10%. Every other byte of the product page is the
// published submission's; the re-run is recognised as its own.
func testRetailRelease(t *testing.T) {
	w := newWorld(t, worldOptions{FakeClock: true, Seed: retailSeed("Tier5")})
	w.retailFiles()
	before := w.submissionMembers(appPublished)
	res := w.run(t.Context(), invocation{Inputs: retailInputs()})
	mustExit(t, "release", res, 0)
	app, _ := w.sim.App(appID)
	if app.PublishedID == appPublished || res.Outputs["submission-id"] != app.PublishedID {
		t.Fatalf("published %s, output submission-id %q: want a new submission", app.PublishedID, res.Outputs["submission-id"])
	}
	if got, ok := res.Outputs["flight-id"]; !ok || got != "" {
		t.Errorf("flight-id output %q (set %v), want it set and empty", got, ok)
	}
	if res.Outputs["rollout-percentage"] != "10" || res.Outputs["submission-status"] != "Published" {
		t.Errorf("outputs %v, want Published at 10%%", res.Outputs)
	}
	sub, _ := w.sim.Submission(appID, "", app.PublishedID)
	var pkgs []string
	for _, p := range sub.Packages {
		pkgs = append(pkgs, p.FileName+" "+p.Version+" "+p.FileStatus)
	}
	if diff := cmp.Diff([]string{xboxOld + " 1.0.0.0 Uploaded", desktopNew + " " + desktopNewVer + " Uploaded"}, pkgs); diff != "" {
		t.Errorf("packages (-want +got):\n%s", diff)
	}

	after := w.submissionMembers(app.PublishedID)
	restBefore, _ := listingMembers(t, before["listings"])
	restAfter, notes := listingMembers(t, after["listings"])
	if diff := cmp.Diff(map[string]string{"en-us": retailNotes["en-us.txt"], "de-de": retailNotes["de-de.txt"]}, notes); diff != "" {
		t.Errorf("release notes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(restBefore, restAfter); diff != "" {
		t.Errorf("listings changed beyond releaseNotes (-before +after):\n%s", diff)
	}
	for k, v := range before {
		if !serverOwned[k] && string(after[k]) != string(v) {
			t.Errorf("%s changed:\n before %s\n after  %s", k, v, after[k])
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok && !serverOwned[k] {
			t.Errorf("%s appeared: %s", k, after[k])
		}
	}
	if !strings.Contains(res.Stdout, "package "+xboxOld+" stays") {
		t.Errorf("the log does not say the Xbox package stays\n%s", res.log())
	}
}

// testRetailRerun re-runs a finished retail release with the same inputs:
// it is recognised as its own and nothing changes.
func testRetailRerun(t *testing.T) {
	w := newWorld(t, worldOptions{FakeClock: true, Seed: retailSeed("Free")})
	w.retailFiles()
	first := w.run(t.Context(), invocation{Inputs: retailInputs()})
	mustExit(t, "release", first, 0)
	again := w.run(t.Context(), invocation{Inputs: retailInputs()})
	mustExit(t, "re-run", again, 0)
	if again.Outputs["submission-id"] != first.Outputs["submission-id"] {
		t.Errorf("re-run acted on %q, want the release %q", again.Outputs["submission-id"], first.Outputs["submission-id"])
	}
	for _, r := range apiRequests(again.Requests, "", "") {
		if r.Method != http.MethodGet {
			t.Errorf("the re-run changed something: %s %s", r.Method, r.Path)
		}
	}
	if !strings.Contains(again.Stdout, "an earlier run of these inputs left it") {
		t.Errorf("the re-run does not say it recognised its release\n%s", again.log())
	}
}

// testRetailBasePrice releases to an app priced Base (per-market pricing
// the API cannot send back) whose last release is still rolling out, with
// previous-rollout: finalize: refused before any change, exit 1.
func testRetailBasePrice(t *testing.T) {
	seed := retailSeed("Base")
	seed.Apps[0].Published.Rollout = &storefake.SeedRollout{Percentage: 50, Fallback: "1152921504621243400"}
	w := newWorld(t, worldOptions{FakeClock: true, Seed: seed})
	w.retailFiles()
	in := retailInputs()
	in["previous-rollout"] = "finalize"
	res := w.run(t.Context(), invocation{Inputs: in})
	mustExit(t, "release", res, 1)
	for _, r := range apiRequests(res.Requests, "", "") {
		if r.Method != http.MethodGet {
			t.Errorf("a change reached the Store: %s %s", r.Method, r.Path)
		}
	}
	for _, want := range []string{"pricing.priceId", `"Base"`, "Pricing and availability", "Nothing was changed"} {
		if !strings.Contains(res.Stdout, want) {
			t.Errorf("the error does not say %q\n%s", want, res.log())
		}
	}
	if sub, _ := w.sim.Submission(appID, "", appPublished); sub.Rollout.Status != "PackageRolloutInProgress" {
		t.Errorf("the previous rollout is %s, want it untouched", sub.Rollout.Status)
	}
}

// testRetailPartnerCenterDraft meets a pending submission made in Partner
// Center under each pending-submission value: fail and reuse explain it
// with no change; replace tries the DELETE and, refused, explains it.
func testRetailPartnerCenterDraft(t *testing.T) {
	for _, policy := range []string{"fail", "reuse", "replace"} {
		t.Run(policy, func(t *testing.T) {
			seed := storefake.DemoSeed(storefake.DemoWorld{PartnerCenterDraft: true})
			w := newWorld(t, worldOptions{FakeClock: true, Seed: seed})
			w.retailFiles()
			app, _ := w.sim.App(appID)
			in := retailInputs()
			in["pending-submission"] = policy
			res := w.runT(t, t.Context(), invocation{Inputs: in})
			mustExit(t, policy, res, 1)
			if !strings.Contains(res.Stdout, "pending submission "+app.PendingID+", made in Partner Center") ||
				!strings.Contains(res.Stdout, "submit that submission or delete it") {
				t.Errorf("no Partner Center explanation\n%s", res.log())
			}
			var changes []string
			for _, r := range apiRequests(res.Requests, "", "") {
				if r.Method != http.MethodGet {
					changes = append(changes, r.Method+" "+r.Path)
				}
			}
			var want []string
			if policy == "replace" {
				want = []string{http.MethodDelete + " /v1.0/my/applications/" + appID + "/submissions/" + app.PendingID}
				if !strings.Contains(res.Stdout, "InvalidOperation") {
					t.Errorf("the Store's refusal is not quoted\n%s", res.log())
				}
			}
			if diff := cmp.Diff(want, changes); diff != "" {
				t.Errorf("changes (-want +got):\n%s", diff)
			}
		})
	}
}

// testRetailDroppedPackage has pre-processing drop the release's package
// while the submission goes on: the run fails, naming the file.
func testRetailDroppedPackage(t *testing.T) {
	w := newWorld(t, worldOptions{FakeClock: true, Seed: retailSeed("Free")})
	w.retailFiles()
	w.sim.ScriptPackageDrop(storefake.PackageDrop{})
	res := w.run(t.Context(), invocation{Inputs: retailInputs()})
	mustExit(t, "release", res, 1)
	if !strings.Contains(res.Stdout, "::error") || !strings.Contains(res.Stdout, "lacks "+desktopNew) || !strings.Contains(res.Stdout, "dropped") {
		t.Errorf("no error naming the dropped %s\n%s", desktopNew, res.log())
	}
	// What the run reported: the Store went on without the package.
	sub, _ := w.sim.Submission(appID, "", res.Outputs["submission-id"])
	for _, p := range sub.Packages {
		if p.FileName == desktopNew {
			t.Errorf("the simulator kept %s; the scenario drops it", desktopNew)
		}
	}
}
