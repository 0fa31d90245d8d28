package storefake

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/storeflight/storeflight/internal/msix"
)

const (
	appPublishedID = "1152921504621243000"
	appPendingID   = "1152921504621243300"
	appBase        = "applications/" + appID + "/submissions"
)

// seedRetail seeds the app with a published submission holding a Desktop
// package and an Xbox bundle, and its product page; pending, when not nil,
// is its pending submission.
func (f *fixture) seedRetail(page *SeedProductPage, pending *SeedSubmission, edit func(*SeedApp)) {
	f.t.Helper()
	a := SeedApp{ID: appID, Name: "Contoso Notes", Page: page,
		Published: &SeedSubmission{ID: appPublishedID, Packages: []SeedPackage{
			{FileName: "Notes_1.0.0.0_x64.msix", Version: "1.0.0.0"},
			{FileName: "Notes_1.0.0.0_Xbox.msixbundle", Version: "1.0.0.0", Architecture: "x64", DeviceFamilies: []string{"Windows.Xbox"}},
		}},
		Pending: pending,
	}
	if edit != nil {
		edit(&a)
	}
	if err := f.s.Seed(Seed{Apps: []SeedApp{a}}); err != nil {
		f.t.Fatal(err)
	}
}

// createApp creates the app's pending submission and returns its path and
// its JSON as a GET answers it.
func (f *fixture) createApp() (string, map[string]any) {
	f.t.Helper()
	r := f.do("POST", appBase, nil)
	f.mustStatus(r, http.StatusOK)
	path := appBase + "/" + str(r.json(f.t)["id"])
	return path, f.do("GET", path, nil).json(f.t)
}

// get reads a resource as a generic tree.
func (f *fixture) get(path string) map[string]any {
	f.t.Helper()
	r := f.do("GET", path, nil)
	f.mustStatus(r, http.StatusOK)
	return r.json(f.t)
}

func listing(m map[string]any, lang string) map[string]any {
	return m["listings"].(map[string]any)[lang].(map[string]any)["baseListing"].(map[string]any)
}

func images(m map[string]any, lang string) []any { return listing(m, lang)["images"].([]any) }

func TestAppSubmissionIsTheWholeProductPage(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.seedRetail(&SeedProductPage{Languages: []string{"en-us", "fr-fr", "ja-jp"}, PriceID: "Tier5", Images: 3, Trailers: 2}, nil, nil)
	r := f.do("GET", appBase+"/"+appPublishedID, nil)
	f.mustStatus(r, http.StatusOK)
	m := r.json(t)
	if got := slices.Sorted(func(yield func(string) bool) {
		for k := range m["listings"].(map[string]any) {
			yield(k)
		}
	}); !slices.Equal(got, []string{"en-us", "fr-fr", "ja-jp"}) {
		t.Errorf("listing keys %v", got)
	}
	for _, lang := range []string{"en-us", "fr-fr", "ja-jp"} {
		if im := images(m, lang); len(im) != 3 || str(im[0].(map[string]any)["description"]) == "" || im[0].(map[string]any)["fileStatus"] != "Uploaded" {
			t.Errorf("%s images %v", lang, im)
		}
	}
	if p := m["pricing"].(map[string]any); p["priceId"] != "Tier5" {
		t.Errorf("pricing %v", p)
	}
	if tr := m["trailers"].([]any); len(tr) != 2 {
		t.Errorf("trailers %v", tr)
	}
	if g := m["gamingOptions"].([]any); len(g) != 1 {
		t.Errorf("gamingOptions %v", g)
	}
	for _, prop := range []string{"applicationCategory", "visibility", "hardwarePreferences", "allowTargetFutureDeviceFamilies", "isSeekEnabled", "enterpriseLicensing", "friendlyName"} {
		if _, ok := m[prop]; !ok {
			t.Errorf("no %s", prop)
		}
	}
	// The unmodelled field keeps numbers a float64 would change.
	if !bytes.Contains(r.body, []byte(`"count":12345678901234567890`)) || !bytes.Contains(r.body, []byte(`"ratio":1.50`)) {
		t.Errorf("unmodelled field not as seeded: %s", r.body)
	}
	pkgs := m["applicationPackages"].([]any)
	xb := pkgs[1].(map[string]any)
	if xb["architecture"] != "X64" || fmt.Sprint(xb["targetDeviceFamilies"]) != "[Windows.Xbox min version 10.0.17763.0]" {
		t.Errorf("Xbox package %v", xb)
	}
	if st := f.do("GET", appBase+"/"+appPublishedID+"/status", nil).json(t); st["status"] != "Published" {
		t.Errorf("status %v", st)
	}
}

func TestAppCreateClonesTheProductPage(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.seedRetail(&SeedProductPage{PriceID: "Tier2"}, nil, nil)
	pub := f.get(appBase + "/" + appPublishedID)

	r := f.do("POST", appBase+"?isMinimalResponse=true", nil)
	f.mustStatus(r, http.StatusOK)
	minimal := r.json(t)
	for _, k := range []string{"listings", "pricing", "applicationPackages", "trailers"} {
		if _, ok := minimal[k]; ok {
			t.Errorf("minimal response carries %s", k)
		}
	}
	if minimal["id"] == "" || minimal["fileUploadUrl"] == "" || minimal["status"] != "PendingCommit" {
		t.Errorf("minimal response %v", minimal)
	}
	clone := f.get(appBase + "/" + str(minimal["id"]))
	// Equal but for what the server owns.
	for _, m := range []map[string]any{pub, clone} {
		for _, k := range []string{"id", "status", "statusDetails", "fileUploadUrl", "friendlyName", "packageDeliveryOptions"} {
			delete(m, k)
		}
	}
	if diff := cmp.Diff(pub, clone); diff != "" {
		t.Errorf("clone differs from the published submission (-published +clone):\n%s", diff)
	}
}

func TestAppPutOfWhatWasReadChangesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.seedRetail(nil, nil, nil)
	path, before := f.createApp()
	f.mustStatus(f.do("PUT", path, before), http.StatusOK)
	after := f.get(path)
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("a PUT of the submission as read changed it (-before +after):\n%s", diff)
	}
}

func TestAppPutRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		pending *SeedSubmission
		edit    func(m map[string]any)
		status  int
		code    string
		message string
	}{
		{name: "no listings", edit: func(m map[string]any) { delete(m, "listings") },
			status: 400, code: "InvalidParameterValue", message: "The size of AppListings must be 1 or more."},
		{name: "empty listings", edit: func(m map[string]any) { m["listings"] = map[string]any{} },
			status: 400, code: "InvalidParameterValue", message: "The size of AppListings must be 1 or more."},
		{name: "listings null", edit: func(m map[string]any) { m["listings"] = nil },
			status: 400, code: "InvalidParameterValue", message: "The size of AppListings must be 1 or more."},
		{name: "no pricing", edit: func(m map[string]any) { delete(m, "pricing") },
			status: 400, code: "InvalidParameterValue", message: "Pricing data was not provided in the request."},
		{name: "pricing null", edit: func(m map[string]any) { m["pricing"] = nil },
			status: 400, code: "InvalidParameterValue", message: "Pricing data was not provided in the request."},
		{name: "priceId Base", edit: func(m map[string]any) { m["pricing"].(map[string]any)["priceId"] = "Base" },
			status: 400, code: "InvalidParameterValue", message: "'Base' is not a valid PriceId for base price."},
		{name: "upper-case language key", edit: func(m map[string]any) {
			ls := m["listings"].(map[string]any)
			ls["en-US"] = ls["en-us"]
			delete(ls, "en-us")
		}, status: 400, code: "InvalidParameterValue", message: "Language codes: en-US not supported"},
		{name: "listing without baseListing", edit: func(m map[string]any) {
			m["listings"].(map[string]any)["de-de"] = map[string]any{"platformOverrides": map[string]any{}}
		}, status: 400, code: "InvalidParameterValue", message: "The listing for de-de has no baseListing."},
		{name: "release notes over 1500 characters", edit: func(m map[string]any) {
			listing(m, "en-us")["releaseNotes"] = strings.Repeat("ü", 1501)
		}, status: 400, code: "InvalidParameterValue", message: "have 1501 characters; at most 1500"},
		{name: "PendingUpload package made PendingDelete",
			pending: &SeedSubmission{ID: appPendingID, Packages: []SeedPackage{{FileName: "Notes_1.0.0.0_x64.msix", Version: "1.0.0.0"}, {FileName: "new.msix", FileStatus: "PendingUpload"}}},
			edit: func(m map[string]any) {
				m["applicationPackages"].([]any)[1].(map[string]any)["fileStatus"] = "PendingDelete"
			}, status: 400, code: "InvalidParameterValue", message: "Existing Package new.msix is PendingUpload and cannot be made PendingDelete"},
		{name: "31 packages", edit: func(m map[string]any) {
			for i := range 29 {
				m["applicationPackages"] = append(m["applicationPackages"].([]any), pkgEntry("", fmt.Sprintf("p%d.msix", i), "PendingUpload"))
			}
		}, status: 400, code: "InvalidParameterValue", message: "at most 30 packages that are not PendingDelete; this one would hold 31"},
		{name: "16 trailers", edit: func(m map[string]any) {
			tr := m["trailers"].([]any)
			for len(tr) < 16 {
				tr = append(tr, tr[0])
			}
			m["trailers"] = tr
		}, status: 400, code: "InvalidParameterValue", message: "at most 15 trailers"},
		{name: "gamingOptions not an array", edit: func(m map[string]any) { m["gamingOptions"] = map[string]any{} },
			status: 400, code: "InvalidParameterValue", message: "gamingOptions must be an array"},
		{name: "image of another listing", edit: func(m map[string]any) {
			im := images(m, "en-us")
			listing(m, "en-us")["images"] = append(im, images(m, "de-de")[0])
		}, status: 400, code: "InvalidParameterValue", message: "is not an image of this listing"},
		{name: "image without id that is not PendingUpload", edit: func(m map[string]any) {
			listing(m, "en-us")["images"] = []any{map[string]any{"fileName": "x.png", "fileStatus": "Uploaded", "imageType": "Screenshot"}}
		}, status: 400, code: "InvalidParameterValue", message: "an image without an id must be PendingUpload"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, nil)
			f.seedRetail(nil, tt.pending, nil)
			path := appBase + "/" + appPendingID
			if tt.pending == nil {
				path, _ = f.createApp()
			}
			before := f.get(path)
			body := f.get(path)
			tt.edit(body)
			r := f.do("PUT", path, body)
			f.wantError(r, tt.status, tt.code)
			if msg := str(r.json(t)["message"]); !strings.Contains(msg, tt.message) {
				t.Errorf("message %q, want one saying %q", msg, tt.message)
			}
			if diff := cmp.Diff(before, f.get(path)); diff != "" {
				t.Errorf("a refused PUT changed the submission (-before +after):\n%s", diff)
			}
		})
	}
}

// A PendingDelete entry sent without an id is refused only when it can
// only mean a PendingUpload entry; two entries sharing a name, the
// Uploaded one PendingDelete, is how a new file replaces an old one.
func TestAppPutPendingDeleteByName(t *testing.T) {
	t.Parallel()
	pending := &SeedSubmission{ID: appPendingID, Packages: []SeedPackage{
		{FileName: "a.msix", Version: "1.0.0.0"}, {FileName: "a.msix", FileStatus: "PendingUpload"}, {FileName: "b.msix", FileStatus: "PendingUpload"}}}
	tests := []struct {
		name   string
		sent   []any
		status int
	}{
		{"the Uploaded one of a shared name", []any{pkgEntry("", "a.msix", "PendingDelete"), pkgEntry("", "a.msix", "PendingUpload")}, 200},
		{"a name only a PendingUpload entry has", []any{pkgEntry("", "b.msix", "PendingDelete")}, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, nil)
			f.seedRetail(nil, pending, nil)
			path := appBase + "/" + appPendingID
			body := f.get(path)
			body["applicationPackages"] = tt.sent
			f.mustStatus(f.do("PUT", path, body), tt.status)
		})
	}
}

func TestAppPutIsAFullReplace(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.seedRetail(&SeedProductPage{PriceID: "Tier7", AdvancedPricing: true}, nil, nil)
	path, before := f.createApp()
	if before["pricing"].(map[string]any)["isAdvancedPricingModel"] != true {
		t.Fatalf("seeded pricing %v", before["pricing"])
	}
	body := f.get(path)
	delete(body["pricing"].(map[string]any), "priceId")
	delete(body, unmodelledField)
	delete(body, "isSeekEnabled")
	delete(body, "trailers")
	body["friendlyName"] = "Mine now"
	// An image left out stays; one marked PendingDelete goes at commit.
	en := images(body, "en-us")
	kept, deleted := en[0].(map[string]any), en[1].(map[string]any)
	deleted["fileStatus"] = "PendingDelete"
	listing(body, "en-us")["images"] = []any{deleted}
	listing(body, "de-de")["images"] = []any{}
	// A package left out stays too; only PendingDelete deletes it.
	body["applicationPackages"] = []any{}
	f.mustStatus(f.do("PUT", path, body), http.StatusOK)

	got := f.get(path)
	p := got["pricing"].(map[string]any)
	if p["priceId"] != "Free" || p["isAdvancedPricingModel"] != false {
		t.Errorf("pricing after a PUT without priceId: %v (a missing priceId makes the app free)", p)
	}
	if _, ok := got[unmodelledField]; ok {
		t.Error("a field the PUT left out is still there")
	}
	if got["isSeekEnabled"] != false || len(got["trailers"].([]any)) != 0 {
		t.Errorf("left-out properties not back to their defaults: isSeekEnabled %v, trailers %v", got["isSeekEnabled"], got["trailers"])
	}
	if got["friendlyName"] != before["friendlyName"] {
		t.Errorf("friendlyName %v, want the Store's %v", got["friendlyName"], before["friendlyName"])
	}
	if ims := images(got, "en-us"); len(ims) != 2 || str(ims[1].(map[string]any)["id"]) != str(kept["id"]) {
		t.Errorf("en-us images %v, want the PendingDelete one and the one left out", ims)
	}
	if ims := images(got, "de-de"); len(ims) != 2 {
		t.Errorf("de-de images %v, want both left-out images kept", ims)
	}
	if pk := got["applicationPackages"].([]any); len(pk) != 2 {
		t.Errorf("packages %v, want the two left out kept", pk)
	}
	f.mustStatus(f.do("POST", path+"/commit", nil), http.StatusOK)
	f.clk.Advance(time.Minute)
	if ims := images(f.get(path), "en-us"); len(ims) != 1 || str(ims[0].(map[string]any)["id"]) != str(kept["id"]) {
		t.Errorf("en-us images after commit %v, want only the one left out", ims)
	}
}

// xboxUpload is an .msixupload whose bundle (x64 and arm64 for Xbox) is
// compressed inside it, as Visual Studio writes them.
func xboxUpload(t *testing.T, version string) []byte {
	t.Helper()
	var bundle, upload bytes.Buffer
	if err := msix.WriteDemoBundle(&bundle, "Contoso.Notes", version, []msix.Identity{
		{Architectures: []string{"x64"}, DeviceFamilies: []string{"Windows.Xbox"}},
		{Architectures: []string{"arm64"}, DeviceFamilies: []string{"Windows.Xbox"}},
	}); err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(&upload)
	w, _ := zw.CreateHeader(&zip.FileHeader{Name: "Notes.msixbundle", Method: zip.Deflate})
	w.Write(bundle.Bytes())
	w, _ = zw.CreateHeader(&zip.FileHeader{Name: "Notes.appxsym", Method: zip.Deflate})
	w.Write([]byte("symbols"))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return upload.Bytes()
}

func TestAppCommitReadsPackagesAndImages(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.seedRetail(nil, nil, nil)
	path, body := f.createApp()
	pk := body["applicationPackages"].([]any)
	pk[1].(map[string]any)["fileStatus"] = "PendingDelete" // the old Xbox bundle
	body["applicationPackages"] = append(pk, pkgEntry("", "Notes_2.0.0.0_Xbox.msixupload", "PendingUpload"))
	listing(body, "de-de")["images"] = append(images(body, "de-de"), map[string]any{
		"fileName": "images/de-de/new.png", "fileStatus": "PendingUpload", "description": "Neu", "imageType": "Screenshot"})
	f.mustStatus(f.do("PUT", path, body), http.StatusOK)
	f.mustStatus(f.upload(str(body["fileUploadUrl"]), zipOf(t, false, map[string][]byte{
		"Notes_2.0.0.0_Xbox.msixupload": xboxUpload(t, "2.0.0.0"),
		"images/de-de/new.png":          []byte("\x89PNG"),
	})), http.StatusCreated)
	f.mustStatus(f.do("POST", path+"/commit", nil), http.StatusOK)
	f.clk.Advance(time.Minute)
	st, _ := f.s.Submission(appID, "", str(body["id"]))
	if st.Status != "PreProcessing" {
		t.Fatalf("status %s, errors %v", st.Status, st.Errors)
	}
	want := []PackageState{
		{FileName: "Notes_1.0.0.0_x64.msix", FileStatus: "Uploaded", Version: "1.0.0.0"},
		{FileName: "Notes_2.0.0.0_Xbox.msixupload", FileStatus: "Uploaded", Version: "2.0.0.0"},
	}
	if diff := cmp.Diff(want, st.Packages, cmpIgnoreIDs); diff != "" {
		t.Errorf("packages after commit (-want +got):\n%s", diff)
	}
	wantDetails := []PackageDetail{
		{FileName: "Notes_1.0.0.0_x64.msix", Architecture: "X64", TargetDeviceFamilies: []string{"Windows.Desktop min version 10.0.17763.0"}},
		{FileName: "Notes_2.0.0.0_Xbox.msixupload", Architecture: "X64, Arm64", TargetDeviceFamilies: []string{"Windows.Xbox min version 10.0.17763.0"}},
	}
	if diff := cmp.Diff(wantDetails, st.PackageDetails); diff != "" {
		t.Errorf("what the Store read from the packages (-want +got):\n%s", diff)
	}
	ims := images(f.get(path), "de-de")
	if last := ims[len(ims)-1].(map[string]any); last["fileStatus"] != "Uploaded" || last["description"] != "Neu" || str(last["id"]) == "" {
		t.Errorf("new image after commit %v", last)
	}
}

var cmpIgnoreIDs = cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".ID" }, cmp.Ignore())

func TestAppCommitFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		edit   func(m map[string]any)
		files  map[string][]byte
		status string
		code   string
		detail string
	}{
		{name: "image missing from the ZIP",
			edit: func(m map[string]any) {
				listing(m, "en-us")["images"] = append(images(m, "en-us"), map[string]any{"fileName": "images/en-us/new.png", "fileStatus": "PendingUpload", "imageType": "Screenshot"})
			},
			files:  map[string][]byte{"other.png": []byte("x")},
			status: "CommitFailed", code: "MissingFiles", detail: "images/en-us/new.png"},
		{name: "two gamingOptions",
			edit: func(m map[string]any) {
				g := m["gamingOptions"].([]any)
				m["gamingOptions"] = append(g, g[0])
			},
			status: "CommitFailed", code: "InvalidParameterValue", detail: "MultipleInstancesOfGamingOptions"},
		{name: "no gamingOptions element",
			edit:   func(m map[string]any) { m["gamingOptions"] = []any{} },
			status: "CommitFailed", code: "InvalidParameterValue", detail: "MultipleInstancesOfGamingOptions"},
		{name: "a package that is not one",
			edit: func(m map[string]any) {
				m["applicationPackages"] = append(m["applicationPackages"].([]any), pkgEntry("", "broken.msix", "PendingUpload"))
			},
			files:  map[string][]byte{"broken.msix": []byte("MZ not a zip")},
			status: "PreProcessingFailed", code: "PackageValidationFailed", detail: "broken.msix could not be read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, nil)
			f.seedRetail(nil, nil, nil)
			path, body := f.createApp()
			tt.edit(body)
			f.mustStatus(f.do("PUT", path, body), http.StatusOK)
			if tt.files != nil {
				f.mustStatus(f.upload(str(body["fileUploadUrl"]), zipOf(t, false, tt.files)), http.StatusCreated)
			}
			f.mustStatus(f.do("POST", path+"/commit", nil), http.StatusOK)
			f.clk.Advance(3 * time.Minute)
			st := f.get(path + "/status")
			errs := st["statusDetails"].(map[string]any)["errors"].([]any)
			if st["status"] != tt.status || len(errs) != 1 {
				t.Fatalf("status %v", st)
			}
			e := errs[0].(map[string]any)
			if e["code"] != tt.code || !strings.Contains(str(e["details"]), tt.detail) {
				t.Errorf("error %v, want %s saying %q", e, tt.code, tt.detail)
			}
		})
	}
}

func TestPartnerCenterAppDraft(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"seeded", "made while running"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, nil)
			var pending *SeedSubmission
			if how == "seeded" {
				pending = &SeedSubmission{ID: appPendingID, NoUploadURL: true, Packages: []SeedPackage{{FileName: "Notes_1.0.0.0_x64.msix", Version: "1.0.0.0"}}}
			}
			f.seedRetail(nil, pending, nil)
			id := appPendingID
			if pending == nil {
				var err error
				if id, err = f.s.CreateInPartnerCenter(appID, ""); err != nil {
					t.Fatal(err)
				}
				if _, err := f.s.CreateInPartnerCenter(appID, ""); err == nil {
					t.Error("a second pending submission was made")
				}
			}
			path := appBase + "/" + id
			app := f.get("applications/" + appID)
			if ref := app["pendingApplicationSubmission"].(map[string]any); ref["id"] != id {
				t.Errorf("app data %v", app)
			}
			m := f.get(path)
			if _, ok := m["fileUploadUrl"]; ok || m["status"] != "PendingCommit" || m["listings"] == nil {
				t.Errorf("Partner Center draft %v", m)
			}
			for _, r := range []resp{f.do("PUT", path, m), f.do("POST", path+"/commit", nil), f.do("DELETE", path, nil)} {
				f.wantError(r, 400, "InvalidOperation")
				if msg := str(r.json(t)["message"]); !strings.Contains(msg, "created through the API") {
					t.Errorf("message %q", msg)
				}
			}
			f.wantError(f.do("POST", appBase, nil), 409, "InvalidState")
			f.mustStatus(f.do("GET", path+"/status", nil), http.StatusOK)
		})
	}
}

func TestUnsupportedFeaturesRefuseChangesOnly(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.seedRetail(nil, nil, func(a *SeedApp) {
		a.UnsupportedFeatures = true
		a.Published.Rollout = &SeedRollout{Percentage: 20}
		a.Flights = []SeedFlight{{ID: flightID, Name: "Beta", Published: &SeedSubmission{Packages: []SeedPackage{{FileName: "a.msix", Version: "1.0.0.0"}}}}}
	})
	pub := appBase + "/" + appPublishedID
	for _, p := range []string{"applications/" + appID, pub, pub + "/status", pub + "/packagerollout", "applications/" + appID + "/listflights", "applications/" + appID + "/flights/" + flightID} {
		f.mustStatus(f.do("GET", p, nil), http.StatusOK)
	}
	body := f.get(pub)
	changes := []struct{ method, path string }{
		{"POST", appBase},
		{"POST", "applications/" + appID + "/flights/" + flightID + "/submissions"},
		{"PUT", pub},
		{"POST", pub + "/commit"},
		{"DELETE", pub},
		{"POST", pub + "/updatepackagerolloutpercentage?percentage=50"},
		{"POST", pub + "/haltpackagerollout"},
		{"POST", pub + "/finalizepackagerollout"},
	}
	for _, c := range changes {
		var b any
		if c.method == "PUT" {
			b = body
		}
		r := f.do(c.method, c.path, b)
		f.wantError(r, 409, "InvalidState")
		if msg := str(r.json(t)["message"]); !strings.Contains(msg, "not supported by the submission API") {
			t.Errorf("%s %s: message %q", c.method, c.path, msg)
		}
	}
	if a, _ := f.s.App(appID); a.PendingID != "" {
		t.Errorf("a change went through: %+v", a)
	}
}

func TestPackageDroppedInPreProcessing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		drop PackageDrop
		want []string // packages once published
	}{
		{"every uploaded package", PackageDrop{}, []string{"Notes_1.0.0.0_Xbox.msixbundle", "Notes_1.0.0.0_x64.msix"}},
		{"the named one", PackageDrop{FileNames: []string{"Notes_2.0.0.0_x64.msix"}}, []string{"Notes_1.0.0.0_Xbox.msixbundle", "Notes_1.0.0.0_x64.msix", "Notes_2.0.0.0_arm64.msix"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, nil)
			f.seedRetail(nil, nil, nil)
			f.s.ScriptPackageDrop(tt.drop)
			path, body := f.createApp()
			pk := body["applicationPackages"].([]any)
			pk[0].(map[string]any)["fileStatus"] = "PendingDelete"
			body["applicationPackages"] = append(pk, pkgEntry("", "Notes_2.0.0.0_x64.msix", "PendingUpload"), pkgEntry("", "Notes_2.0.0.0_arm64.msix", "PendingUpload"))
			f.mustStatus(f.do("PUT", path, body), http.StatusOK)
			var x64, arm bytes.Buffer
			msix.WriteDemo(&x64, msix.Identity{Name: "Contoso.Notes", Version: "2.0.0.0", Architectures: []string{"x64"}})
			msix.WriteDemo(&arm, msix.Identity{Name: "Contoso.Notes", Version: "2.0.0.0", Architectures: []string{"arm64"}})
			f.mustStatus(f.upload(str(body["fileUploadUrl"]), zipOf(t, false, map[string][]byte{
				"Notes_2.0.0.0_x64.msix": x64.Bytes(), "Notes_2.0.0.0_arm64.msix": arm.Bytes()})), http.StatusCreated)
			f.mustStatus(f.do("POST", path+"/commit", nil), http.StatusOK)
			f.clk.Advance(time.Minute)
			if st, _ := f.s.Submission(appID, "", str(body["id"])); st.Status != "PreProcessing" || len(st.Packages) != 3 {
				t.Fatalf("after the commit: %+v", st)
			}
			f.clk.Advance(10 * time.Minute)
			st, _ := f.s.Submission(appID, "", str(body["id"]))
			var got []string
			for _, p := range st.Packages {
				got = append(got, p.FileName)
				if p.FileStatus != "Uploaded" {
					t.Errorf("package %+v", p)
				}
			}
			slices.Sort(got)
			if st.Status != "Published" || len(st.Errors)+len(st.Warnings) != 0 {
				t.Errorf("the submission did not go on silently: %s, %v %v", st.Status, st.Errors, st.Warnings)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("packages once published (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAppRolloutEndpoints(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.seedRetail(nil, nil, func(a *SeedApp) { a.Published.Rollout = &SeedRollout{Percentage: 10, Fallback: "1152921504621242000"} })
	pub := appBase + "/" + appPublishedID
	f.wantError(f.do("POST", appBase, nil), 409, "InvalidState") // rollout in progress
	r := f.do("POST", pub+"/updatepackagerolloutpercentage?percentage=25.5", nil)
	f.mustStatus(r, http.StatusOK)
	var got struct {
		Percentage float64 `json:"packageRolloutPercentage"`
		Status     string  `json:"packageRolloutStatus"`
		Fallback   string  `json:"fallbackSubmissionId"`
	}
	json.Unmarshal(r.body, &got)
	if got.Percentage != 25.5 || got.Status != "PackageRolloutInProgress" || got.Fallback != "1152921504621242000" {
		t.Errorf("rollout %+v", got)
	}
	f.mustStatus(f.do("POST", pub+"/finalizepackagerollout", nil), http.StatusOK)
	f.wantError(f.do("POST", pub+"/haltpackagerollout", nil), 409, "InvalidState")
	f.createApp()
}
