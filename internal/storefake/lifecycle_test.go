package storefake

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// prepare creates a flight submission replacing both packages with
// new.msix (version 2.0.0.0) and uploads the ZIP; it returns the
// submission's path and ID.
func (f *fixture) prepare(put map[string]any) (string, string) {
	f.t.Helper()
	sub := f.createFlightSub(flightID)
	id := str(sub["id"])
	path := "applications/" + appID + "/flights/" + flightID + "/submissions/" + id
	pkgs := sub["flightPackages"].([]any)
	for _, p := range pkgs {
		p.(map[string]any)["fileStatus"] = "PendingDelete"
	}
	body := map[string]any{"flightPackages": append(pkgs, pkgEntry("", "new.msix", "PendingUpload"))}
	for k, v := range put {
		body[k] = v
	}
	f.mustStatus(f.do("PUT", path, body), 200)
	f.mustStatus(f.upload(str(sub["fileUploadUrl"]), zipOf(f.t, false, map[string][]byte{"new.msix": packageFile(f.t, "2.0.0.0", false)})), http.StatusCreated)
	return path, id
}

func (f *fixture) status(path string) string {
	f.t.Helper()
	return str(f.do("GET", path+"/status", nil).json(f.t)["status"])
}

func TestStatusProgression(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	prev := f.seedBasic()
	path, id := f.prepare(map[string]any{"packageDeliveryOptions": map[string]any{"packageRollout": map[string]any{"isPackageRollout": true, "packageRolloutPercentage": 10}}})
	r := f.do("POST", path+"/commit", nil)
	f.mustStatus(r, 200)
	if diff := cmp.Diff(map[string]any{"status": "CommitStarted"}, r.json(t)); diff != "" {
		t.Errorf("commit answer (-want +got):\n%s", diff)
	}
	f.wantError(f.do("POST", path+"/commit", nil), 409, "InvalidState")
	want := []string{"CommitStarted", "PreProcessing", "Certification", "Release", "PendingPublication", "Publishing", "Published"}
	for i, w := range want {
		if i > 0 {
			f.clk.Advance(30 * time.Second)
			if got := f.status(path); got != want[i-1] {
				t.Fatalf("half way through %s: %s", want[i-1], got)
			}
			f.clk.Advance(30 * time.Second)
		}
		if got := f.status(path); got != w {
			t.Fatalf("step %d: status %s, want %s", i, got, w)
		}
	}
	st, _ := f.s.Submission(appID, flightID, id)
	var hist []string
	for i, h := range st.History {
		hist = append(hist, h.Status)
		if i > 0 && !h.At.Equal(t0.Add(time.Duration(i-1)*time.Minute)) {
			t.Errorf("history %d at %v", i, h.At)
		}
	}
	if diff := cmp.Diff(append([]string{"PendingCommit"}, want...), hist); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]PackageState{{FileName: "new.msix", FileStatus: "Uploaded", Version: "2.0.0.0", ID: st.Packages[0].ID}}, st.Packages); diff != "" {
		t.Errorf("packages (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"new.msix"}, st.UploadedFiles); diff != "" {
		t.Errorf("uploaded files (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(RolloutState{Enabled: true, Percentage: 10, Status: "PackageRolloutInProgress", Fallback: prev}, st.Rollout); diff != "" {
		t.Errorf("rollout (-want +got):\n%s", diff)
	}
	if fs, _ := f.s.Flight(appID, flightID); fs.PublishedID != id || fs.PendingID != "" {
		t.Errorf("flight %+v", fs)
	}
	if st.Commits != 1 {
		t.Errorf("commits %d", st.Commits)
	}
}

func TestZeroStagesPassAtNextRead(t *testing.T) {
	t.Parallel()
	f := newFixture(t, &Options{})
	f.seedBasic()
	path, _ := f.prepare(nil)
	f.mustStatus(f.do("POST", path+"/commit", nil), 200)
	if got := f.status(path); got != "Published" {
		t.Errorf("status %s, want Published", got)
	}
	// Without gradual rollout the published submission has none.
	r := f.do("GET", path+"/packagerollout", nil).json(t)
	if r["packageRolloutStatus"] != "PackageRolloutNotStarted" || r["fallbackSubmissionId"] != "0" {
		t.Errorf("rollout %v", r)
	}
	f.wantError(f.do("POST", path+"/finalizepackagerollout", nil), 409, "InvalidState")
}

func TestBundleVersionAndDeflatedZip(t *testing.T) {
	t.Parallel()
	f := newFixture(t, &Options{})
	f.seedBasic()
	sub := f.createFlightSub(flightID)
	path := "applications/" + appID + "/flights/" + flightID + "/submissions/" + str(sub["id"])
	f.mustStatus(f.do("PUT", path, map[string]any{"flightPackages": []any{pkgEntry("", "app.msixbundle", "PendingUpload"), pkgEntry("", "plain.appxsym", "PendingUpload")}}), 200)
	f.upload(str(sub["fileUploadUrl"]), zipOf(t, true, map[string][]byte{"app.msixbundle": packageFile(t, "3.1.0.0", true), "plain.appxsym": []byte("not a zip")}))
	f.mustStatus(f.do("POST", path+"/commit", nil), 200)
	st, _ := f.s.Submission(appID, flightID, str(sub["id"]))
	versions := map[string]string{}
	for _, p := range st.Packages {
		versions[p.FileName] = p.Version
	}
	if diff := cmp.Diff(map[string]string{"app.msixbundle": "3.1.0.0", "plain.appxsym": ""}, versions); diff != "" {
		t.Errorf("versions (-want +got):\n%s", diff)
	}
}

func TestCommitChecksUpload(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		upload  []byte // nil: nothing uploaded
		code    string
		details string
	}{
		{"nothing uploaded", nil, "InvalidArchive", ""},
		{"not a zip", []byte("<html>hello</html>"), "InvalidArchive", ""},
		{"file missing", []byte("zip"), "MissingFiles", "new.msix"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, nil)
			f.seedBasic()
			sub := f.createFlightSub(flightID)
			path := "applications/" + appID + "/flights/" + flightID + "/submissions/" + str(sub["id"])
			f.mustStatus(f.do("PUT", path, map[string]any{"flightPackages": []any{pkgEntry("", "new.msix", "PendingUpload")}}), 200)
			body := tc.upload
			if string(body) == "zip" {
				body = zipOf(t, false, map[string][]byte{"other.msix": packageFile(t, "1.0.0.0", false)})
			}
			if body != nil {
				f.mustStatus(f.upload(str(sub["fileUploadUrl"]), body), 201)
			}
			f.mustStatus(f.do("POST", path+"/commit", nil), 200)
			f.clk.Advance(time.Minute)
			m := f.do("GET", path+"/status", nil).json(t)
			errs := m["statusDetails"].(map[string]any)["errors"].([]any)
			if m["status"] != "CommitFailed" || len(errs) != 1 {
				t.Fatalf("status %v", m)
			}
			e := errs[0].(map[string]any)
			if e["code"] != tc.code || !strings.Contains(str(e["details"]), tc.details) {
				t.Errorf("error %v, want code %s naming %q", e, tc.code, tc.details)
			}
			// A failed submission stays the pending one, and can be deleted.
			if fs, _ := f.s.Flight(appID, flightID); fs.PendingID != str(sub["id"]) {
				t.Errorf("flight %+v", fs)
			}
			f.mustStatus(f.do("DELETE", path, nil), http.StatusNoContent)
			if fs, _ := f.s.Flight(appID, flightID); fs.PendingID != "" {
				t.Errorf("after delete: %+v", fs)
			}
		})
	}
}

func TestScriptedFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		at      string
		after   time.Duration // from commit, with one-minute stages
		visible string        // the status just before
	}{
		{"CommitFailed", time.Minute, "CommitStarted"},
		{"PendingCommit", time.Minute, "CommitStarted"},
		{"PreProcessingFailed", 2 * time.Minute, "PreProcessing"},
		{"CertificationFailed", 3 * time.Minute, "Certification"},
		{"Canceled", 3 * time.Minute, "Certification"},
		{"ReleaseFailed", 4 * time.Minute, "Release"},
		{"PublishFailed", 6 * time.Minute, "Publishing"},
	}
	for _, tc := range tests {
		t.Run(tc.at, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, nil)
			f.seedBasic()
			path, id := f.prepare(nil)
			fail := Failure{
				At:       tc.at,
				Errors:   []Detail{{Code: "PackageValidationFailed", Details: "bad manifest"}},
				Warnings: []Detail{{Code: "PackageValidationWarning", Details: "careful"}},
				Reports:  []Report{{Date: "2026-03-02T10:00:00Z", ReportURL: "https://example.test/report"}},
			}
			f.s.ScriptFailure(fail)
			f.mustStatus(f.do("POST", path+"/commit", nil), 200)
			f.clk.Advance(tc.after - time.Second)
			if got := f.status(path); got != tc.visible {
				t.Fatalf("before failing: %s, want %s", got, tc.visible)
			}
			f.clk.Advance(time.Second)
			m := f.do("GET", path+"/status", nil).json(t)
			wantDetails := map[string]any{
				"errors":               []any{map[string]any{"code": "PackageValidationFailed", "details": "bad manifest"}},
				"warnings":             []any{map[string]any{"code": "PackageValidationWarning", "details": "careful"}},
				"certificationReports": []any{map[string]any{"date": "2026-03-02T10:00:00Z", "reportUrl": "https://example.test/report"}},
			}
			if diff := cmp.Diff(map[string]any{"status": tc.at, "statusDetails": wantDetails}, m); diff != "" {
				t.Errorf("status (-want +got):\n%s", diff)
			}
			f.clk.Advance(time.Hour)
			if got := f.status(path); got != tc.at {
				t.Errorf("an hour later: %s", got)
			}
			if fs, _ := f.s.Flight(appID, flightID); fs.PendingID != id {
				t.Errorf("flight %+v: the failed submission is no longer pending", fs)
			}
			if tc.at == "PendingCommit" {
				// It can be edited and committed again, and then succeeds.
				f.mustStatus(f.do("PUT", path, map[string]any{"notesForCertification": "again"}), 200)
				f.mustStatus(f.do("POST", path+"/commit", nil), 200)
				f.clk.Advance(6 * time.Minute)
				if got := f.status(path); got != "Published" {
					t.Errorf("second commit: %s", got)
				}
				if st, _ := f.s.Submission(appID, flightID, id); st.Commits != 2 {
					t.Errorf("commits %d", st.Commits)
				}
			}
		})
	}
}

func TestManualAndSpecificDate(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.seedBasic()
	path, id := f.prepare(map[string]any{"targetPublishMode": "Manual"})
	if err := f.s.ReleaseSubmission(appID, flightID, id); err == nil {
		t.Error("release of a PendingCommit submission succeeded")
	}
	f.mustStatus(f.do("POST", path+"/commit", nil), 200)
	f.clk.Advance(24 * time.Hour)
	if got := f.status(path); got != "Release" {
		t.Fatalf("manual after a day: %s", got)
	}
	if err := f.s.ReleaseSubmission(appID, "", id); err == nil {
		t.Error("release with the wrong flight succeeded")
	}
	if err := f.s.ReleaseSubmission(appID, flightID, id); err != nil {
		t.Fatal(err)
	}
	if got := f.status(path); got != "PendingPublication" {
		t.Fatalf("right after release: %s", got)
	}
	f.clk.Advance(2 * time.Minute)
	if got := f.status(path); got != "Published" {
		t.Fatalf("after release: %s", got)
	}

	date := f.clk.Now().Add(2 * time.Hour).Format(time.RFC3339)
	path, _ = f.prepare(map[string]any{"targetPublishMode": "SpecificDate", "targetPublishDate": date})
	f.mustStatus(f.do("POST", path+"/commit", nil), 200)
	f.clk.Advance(2*time.Hour - time.Second)
	if got := f.status(path); got != "Release" {
		t.Fatalf("before the date: %s", got)
	}
	f.clk.Advance(time.Second)
	if got := f.status(path); got != "PendingPublication" {
		t.Fatalf("at the date: %s", got)
	}
}

func TestRolloutLifecycle(t *testing.T) {
	t.Parallel()
	f := newFixture(t, &Options{})
	first := f.seedBasic()
	gradual := map[string]any{"packageDeliveryOptions": map[string]any{"packageRollout": map[string]any{"isPackageRollout": true, "packageRolloutPercentage": 5}}}
	path, id := f.prepare(gradual)

	// Not published yet: every change is 409, reading works.
	for _, op := range []string{"updatepackagerolloutpercentage?percentage=20", "haltpackagerollout", "finalizepackagerollout"} {
		f.wantError(f.do("POST", path+"/"+op, nil), 409, "InvalidState")
	}
	f.mustStatus(f.do("GET", path+"/packagerollout", nil), 200)
	f.mustStatus(f.do("POST", path+"/commit", nil), 200)
	f.status(path)

	rollout := func(r resp) map[string]any { f.mustStatus(r, 200); return r.json(t) }
	want := func(pct, status, fallback string) map[string]any {
		return map[string]any{"isPackageRollout": true, "packageRolloutPercentage": jsonNum(pct), "packageRolloutStatus": status, "fallbackSubmissionId": fallback}
	}
	if diff := cmp.Diff(want("5", "PackageRolloutInProgress", first), rollout(f.do("GET", path+"/packagerollout", nil))); diff != "" {
		t.Errorf("published (-want +got):\n%s", diff)
	}
	// The next create is refused while the rollout is in progress.
	f.wantError(f.do("POST", "applications/"+appID+"/flights/"+flightID+"/submissions", nil), 409, "InvalidState")

	for _, bad := range []string{"", "?percentage=abc", "?percentage=101", "?percentage=-2", "?percentage=NaN"} {
		f.wantError(f.do("POST", path+"/updatepackagerolloutpercentage"+bad, nil), 400, "InvalidParameterValue")
	}
	if diff := cmp.Diff(want("25.5", "PackageRolloutInProgress", first), rollout(f.do("POST", path+"/updatepackagerolloutpercentage?percentage=25.5", nil))); diff != "" {
		t.Errorf("update (-want +got):\n%s", diff)
	}
	// A lower percentage is accepted: the docs do not forbid it.
	if got := rollout(f.do("POST", path+"/updatepackagerolloutpercentage?percentage=10", nil)); got["packageRolloutPercentage"] != jsonNum("10") {
		t.Errorf("lower: %v", got)
	}
	if diff := cmp.Diff(want("0", "PackageRolloutStopped", first), rollout(f.do("POST", path+"/haltpackagerollout", nil))); diff != "" {
		t.Errorf("halt (-want +got):\n%s", diff)
	}
	f.wantError(f.do("POST", path+"/haltpackagerollout", nil), 409, "InvalidState")
	f.wantError(f.do("POST", path+"/finalizepackagerollout", nil), 409, "InvalidState")

	// A halt does not block the next create, which clones the halted
	// packages; its rollout falls back to the last finalized submission.
	next := f.createFlightSub(flightID)
	pk := next["flightPackages"].([]any)
	if len(pk) != 1 || pk[0].(map[string]any)["fileName"] != "new.msix" {
		t.Errorf("clone of the halted submission: %v", pk)
	}
	nextPath := "applications/" + appID + "/flights/" + flightID + "/submissions/" + str(next["id"])
	f.mustStatus(f.do("PUT", nextPath, gradual), 200)
	f.mustStatus(f.do("POST", nextPath+"/commit", nil), 200)
	if diff := cmp.Diff(want("5", "PackageRolloutInProgress", first), rollout(f.do("GET", nextPath+"/packagerollout", nil))); diff != "" {
		t.Errorf("after halt (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want("100", "PackageRolloutComplete", first), rollout(f.do("POST", nextPath+"/finalizepackagerollout", nil))); diff != "" {
		t.Errorf("finalize (-want +got):\n%s", diff)
	}
	f.createFlightSub(flightID) // finalized: create works again
	_ = id
}

func TestAppSubmissions(t *testing.T) {
	t.Parallel()
	f := newFixture(t, &Options{})
	if err := f.s.Seed(Seed{Apps: []SeedApp{{
		ID: appID, Name: "Contoso",
		Published: &SeedSubmission{ID: "1152921504621243000", Packages: []SeedPackage{{FileName: "app.msixbundle", Version: "1.0.0.0"}},
			Rollout: &SeedRollout{Percentage: 50}},
	}}}); err != nil {
		t.Fatal(err)
	}
	base := "applications/" + appID + "/submissions"
	pub := base + "/1152921504621243000"
	f.wantError(f.do("POST", base, nil), 409, "InvalidState")
	f.mustStatus(f.do("POST", pub+"/finalizepackagerollout", nil), 200)
	r := f.do("POST", base, nil)
	f.mustStatus(r, 200)
	m := r.json(t)
	if m["flightId"] != nil || len(m["applicationPackages"].([]any)) != 1 {
		t.Fatalf("app submission %v", m)
	}
	if p := m["applicationPackages"].([]any)[0].(map[string]any); p["targetDeviceFamilies"] == nil {
		t.Errorf("app package %v", p)
	}
	path := base + "/" + str(m["id"])
	if a, _ := f.s.App(appID); a.PendingID != str(m["id"]) {
		t.Errorf("app %+v", a)
	}
	app := f.do("GET", "applications/"+appID, nil).json(t)
	if str(app["pendingApplicationSubmission"].(map[string]any)["resourceLocation"]) != path {
		t.Errorf("application %v", app)
	}
	body := f.do("GET", path, nil).json(t)
	old := body["applicationPackages"].([]any)[0].(map[string]any)
	old["fileStatus"] = "PendingDelete"
	body["applicationPackages"] = []any{old, pkgEntry("", "app2.msixbundle", "PendingUpload")}
	f.mustStatus(f.do("PUT", path, body), 200)
	f.mustStatus(f.upload(str(m["fileUploadUrl"]), zipOf(t, false, map[string][]byte{"app2.msixbundle": packageFile(t, "2.0.0.0", true)})), 201)
	f.mustStatus(f.do("POST", path+"/commit", nil), 200)
	got := f.do("GET", path, nil).json(t)
	if got["status"] != "Published" || got["listings"] == nil {
		t.Errorf("app submission %v", got)
	}
	if a, _ := f.s.App(appID); a.PublishedID != str(m["id"]) || a.PendingID != "" {
		t.Errorf("app %+v", a)
	}
	f.wantError(f.do("DELETE", path, nil), 409, "InvalidState")
	if _, ok := f.s.App("nope"); ok {
		t.Error("App(nope) found")
	}
}

func TestPartnerCenterSubmission(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	if err := f.s.Seed(Seed{Apps: []SeedApp{{ID: appID, Flights: []SeedFlight{{
		ID: flightID, Name: "Beta", Pending: &SeedSubmission{ID: "1152921504621243300", NoUploadURL: true},
	}}}}}); err != nil {
		t.Fatal(err)
	}
	path := "applications/" + appID + "/flights/" + flightID + "/submissions/1152921504621243300"
	m := f.do("GET", path, nil).json(t)
	if _, ok := m["fileUploadUrl"]; ok || m["status"] != "PendingCommit" {
		t.Errorf("portal submission %v", m)
	}
	f.wantError(f.do("PUT", path, map[string]any{}), 400, "InvalidOperation")
	f.wantError(f.do("POST", path+"/commit", nil), 400, "InvalidOperation")
	f.wantError(f.do("DELETE", path, nil), 400, "InvalidOperation")
}

func TestSeed(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.seedBasic()
	tests := []struct {
		name string
		seed Seed
	}{
		{"duplicate app", Seed{Apps: []SeedApp{{ID: appID}}}},
		{"no app id", Seed{Apps: []SeedApp{{Name: "x"}}}},
		{"duplicate flight", Seed{Apps: []SeedApp{{ID: "9N2", Flights: []SeedFlight{{ID: "f"}, {ID: "f"}}}}}},
		{"duplicate submission", Seed{Apps: []SeedApp{{ID: "9N3", Published: &SeedSubmission{ID: "1152921504621243100"}}}}},
	}
	for _, tc := range tests {
		if err := f.s.Seed(tc.seed); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	// A pending submission seeded mid-processing goes on from there.
	if err := f.s.Seed(Seed{Apps: []SeedApp{{ID: "9N4", Flights: []SeedFlight{{ID: flightID, Pending: &SeedSubmission{ID: "77", Status: "Certification"}}}}}}); err != nil {
		t.Fatal(err)
	}
	f.clk.Advance(time.Minute)
	st, ok := f.s.Submission("9N4", flightID, "77")
	if !ok || st.Status != "Release" {
		t.Errorf("seeded Certification after a minute: %+v", st)
	}
	if _, ok := f.s.Submission("9N4", "", "77"); ok {
		t.Error("Submission with the wrong flight found")
	}
	if _, ok := f.s.Flight("9N4", "nope"); ok {
		t.Error("Flight(nope) found")
	}
}

func jsonNum(s string) any { return json.Number(s) }

func TestDeleteSubmissionStates(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	pub := f.seedBasic()
	f.wantError(f.do("DELETE", "applications/"+appID+"/flights/"+flightID+"/submissions/"+pub, nil), 409, "InvalidState")
	path, _ := f.prepare(nil)
	f.mustStatus(f.do("POST", path+"/commit", nil), 200)
	f.wantError(f.do("DELETE", path, nil), 409, "InvalidState")
	got := f.s.Requests()
	methods := slices.Collect(func(yield func(string) bool) {
		for _, r := range got {
			if !yield(r.Method) {
				return
			}
		}
	})
	if !slices.Contains(methods, "DELETE") {
		t.Errorf("requests %v", methods)
	}
}
