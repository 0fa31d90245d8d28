package storeapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func appFixture(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/app-submission.json")
	if err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSpace(b)
}

func readApp(t testing.TB, b []byte) *AppSubmission {
	t.Helper()
	var s AppSubmission
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return &s
}

// tree decodes JSON keeping numbers as written, for comparing documents
// field by field.
func tree(t testing.TB, b []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return m
}

// at walks a decoded tree down path (member names; numbers index arrays).
func at(m map[string]any, path ...string) map[string]any {
	cur := m
	for _, p := range path {
		cur = cur[p].(map[string]any)
	}
	return cur
}

// topLevelBytes returns each top-level member's exact value bytes.
func topLevelBytes(t testing.TB, b []byte) map[string]string {
	t.Helper()
	o, err := parseObject(b)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, m := range o.members {
		out[m.name] = string(b[m.start:m.end])
	}
	return out
}

func TestAppSubmissionRoundTripIsByteIdentical(t *testing.T) {
	t.Parallel()
	fixture := appFixture(t)
	sub := readApp(t, fixture)
	if !bytes.Equal(sub.JSON(), fixture) {
		t.Fatal("JSON() is not the bytes read")
	}
	// encoding/json compacts and HTML-escapes what MarshalJSON returns.
	var compact, escaped bytes.Buffer
	if err := json.Compact(&compact, fixture); err != nil {
		t.Fatal(err)
	}
	json.HTMLEscape(&escaped, compact.Bytes())
	if b, err := json.Marshal(sub); err != nil || !bytes.Equal(b, escaped.Bytes()) {
		t.Errorf("json.Marshal differs from the bytes read, compacted (%v)", err)
	}
	same, err := sub.WithChange(AppSubmissionChange{})
	if err != nil || !bytes.Equal(same.JSON(), fixture) {
		t.Errorf("an empty change altered the JSON (%v)", err)
	}
	// Through the client: what GET served is what PUT sends.
	f := setup(t, nil)
	var put []byte
	f.mux.HandleFunc(asPath, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			put, _ = io.ReadAll(r.Body)
		}
		w.Write(fixture)
	})
	got, err := f.client.GetAppSubmission(t.Context(), appID, subID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.UpdateAppSubmission(t.Context(), appID, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(put, fixture) {
		t.Errorf("PUT body differs from the GET body:\n%s", put)
	}
}

func TestAppSubmissionView(t *testing.T) {
	t.Parallel()
	sub := readApp(t, appFixture(t))
	if sub.ID != subID || sub.Status != StatusPendingCommit || !strings.Contains(sub.FileUploadURL, "sig=SASSECRET") || sub.Pricing.PriceID != "Tier5" {
		t.Errorf("view %+v", sub)
	}
	if diff := cmp.Diff([]string{"en-us", "de-de"}, sub.ListingLanguages()); diff != "" {
		t.Errorf("languages in document order (-want +got):\n%s", diff)
	}
	if sub.Listings["en-us"].BaseListing.ReleaseNotes != "Old notes" || sub.Listings["de-de"].BaseListing.Title != "Contoso Notizen" {
		t.Errorf("listings %+v", sub.Listings)
	}
	if len(sub.StatusDetails.Warnings) != 1 || sub.PackageDeliveryOptions.PackageRollout.PackageRolloutStatus != RolloutNotStarted {
		t.Errorf("status details or rollout %+v %+v", sub.StatusDetails, sub.PackageDeliveryOptions)
	}
	type pkgView struct {
		File, Status, Version string
		Archs, Families       []string
		Raw                   []string
	}
	var got []pkgView
	for _, p := range sub.ApplicationPackages {
		got = append(got, pkgView{p.FileName, p.FileStatus, p.Version, p.Architectures(), p.DeviceFamilies(), p.TargetDeviceFamilies()})
	}
	want := []pkgView{
		{"Notes_1.0.0.0_x64.msix", "Uploaded", "1.0.0.0", []string{"X64"}, []string{"Windows.Desktop"}, []string{"Windows.Desktop min version 10.0.17763.0"}},
		{"Notes_1.0.0.0_Xbox.msixbundle", "Uploaded", "1.0.0.0", []string{"X64", "Arm64"}, []string{"Windows.Xbox"}, []string{"Windows.Xbox min version 10.0.19041.0"}},
		{"Notes_0.9.0.0_x86.appxupload", "PendingUpload", "", nil, nil, nil},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("packages (-want +got):\n%s", diff)
	}
}

func ptr[T any](v T) *T { return &v }

func TestWithChangeTouchesOnlyItsFields(t *testing.T) {
	t.Parallel()
	fixture := appFixture(t)
	withRollout := func(value string) []byte {
		b, err := setPath(fixture, []string{"packageDeliveryOptions", "packageRollout"}, setRaw(value))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	withoutDelivery := func() []byte {
		o, _ := parseObject(fixture)
		m, _, _ := o.find("packageDeliveryOptions")
		// Cut the member and the comma after it.
		end := skipSpace(fixture, m.end) + 1
		start := bytes.LastIndex(fixture[:m.start], []byte(`"packageDeliveryOptions"`))
		return splice(fixture, start, end, nil)
	}
	tests := []struct {
		name    string
		before  []byte
		change  AppSubmissionChange
		touched []string // top-level members that may change
		want    func(m map[string]any)
	}{
		{
			name:    "release notes, language matched ignoring case",
			change:  AppSubmissionChange{ReleaseNotes: map[string]string{"EN-US": "Faster sync.\nNew <ink> & pens."}},
			touched: []string{"listings"},
			want: func(m map[string]any) {
				at(m, "listings", "en-us", "baseListing")["releaseNotes"] = "Faster sync.\nNew <ink> & pens."
			},
		},
		{
			name:    "release notes added to a listing that had none",
			change:  AppSubmissionChange{ReleaseNotes: map[string]string{"de-de": "Schneller.", "en-us": "Faster."}},
			touched: []string{"listings"},
			want: func(m map[string]any) {
				at(m, "listings", "de-de", "baseListing")["releaseNotes"] = "Schneller."
				at(m, "listings", "en-us", "baseListing")["releaseNotes"] = "Faster."
			},
		},
		{
			name: "packages: delete, keep, drop, add",
			change: AppSubmissionChange{
				PackageFates: []PackageFate{DeletePackage, KeepPackage, DropPackage},
				NewPackages:  []string{"Notes_2.0.0.0_x64.msix"},
			},
			touched: []string{"applicationPackages"},
			want: func(m map[string]any) {
				pkgs := m["applicationPackages"].([]any)
				pkgs[0].(map[string]any)["fileStatus"] = "PendingDelete"
				m["applicationPackages"] = []any{pkgs[0], pkgs[1], map[string]any{
					"fileName": "Notes_2.0.0.0_x64.msix", "fileStatus": "PendingUpload", "minimumDirectXVersion": "None", "minimumSystemRam": "None"}}
			},
		},
		{
			name:    "packages: a new one only",
			change:  AppSubmissionChange{NewPackages: []string{"a.msix"}},
			touched: []string{"applicationPackages"},
			want: func(m map[string]any) {
				m["applicationPackages"] = append(m["applicationPackages"].([]any), map[string]any{
					"fileName": "a.msix", "fileStatus": "PendingUpload", "minimumDirectXVersion": "None", "minimumSystemRam": "None"})
			},
		},
		{
			name:    "rollout on at 10%",
			change:  AppSubmissionChange{PackageRollout: &PackageRolloutSetting{IsPackageRollout: true, Percentage: 10}},
			touched: []string{"packageDeliveryOptions"},
			want: func(m map[string]any) {
				r := at(m, "packageDeliveryOptions", "packageRollout")
				r["isPackageRollout"], r["packageRolloutPercentage"] = true, json.Number("10")
			},
		},
		{
			name:    "rollout on a clone whose packageRollout is null",
			before:  withRollout("null"),
			change:  AppSubmissionChange{PackageRollout: &PackageRolloutSetting{IsPackageRollout: true, Percentage: 12.5}},
			touched: []string{"packageDeliveryOptions"},
			want: func(m map[string]any) {
				at(m, "packageDeliveryOptions")["packageRollout"] = map[string]any{"isPackageRollout": true, "packageRolloutPercentage": json.Number("12.5")}
			},
		},
		{
			name:    "rollout off on a clone without packageDeliveryOptions",
			before:  withoutDelivery(),
			change:  AppSubmissionChange{PackageRollout: &PackageRolloutSetting{}},
			touched: []string{"packageDeliveryOptions"},
			want: func(m map[string]any) {
				m["packageDeliveryOptions"] = map[string]any{"packageRollout": map[string]any{"isPackageRollout": false, "packageRolloutPercentage": json.Number("0")}}
			},
		},
		{
			name:    "mandatory update",
			change:  AppSubmissionChange{IsMandatoryUpdate: ptr(true), MandatoryUpdateEffectiveDate: ptr("2026-04-01T00:00:00Z")},
			touched: []string{"packageDeliveryOptions"},
			want: func(m map[string]any) {
				d := at(m, "packageDeliveryOptions")
				d["isMandatoryUpdate"], d["mandatoryUpdateEffectiveDate"] = true, "2026-04-01T00:00:00Z"
			},
		},
		{
			name:    "publish mode, date and notes for certification",
			change:  AppSubmissionChange{TargetPublishMode: ptr("SpecificDate"), TargetPublishDate: ptr("2026-05-01T08:00:00Z"), NotesForCertification: ptr(`Test account: "demo" & <pw>`)},
			touched: []string{"targetPublishMode", "targetPublishDate", "notesForCertification"},
			want: func(m map[string]any) {
				m["targetPublishMode"], m["targetPublishDate"], m["notesForCertification"] = "SpecificDate", "2026-05-01T08:00:00Z", `Test account: "demo" & <pw>`
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			before := tt.before
			if before == nil {
				before = fixture
			}
			sub := readApp(t, before)
			next, err := sub.WithChange(tt.change)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(sub.JSON(), before) {
				t.Error("WithChange altered the original")
			}
			want := tree(t, before)
			tt.want(want)
			if diff := cmp.Diff(want, tree(t, next.JSON())); diff != "" {
				t.Errorf("edited JSON (-want +got):\n%s", diff)
			}
			// Every member the change does not name keeps its exact bytes.
			old, got := topLevelBytes(t, before), topLevelBytes(t, next.JSON())
			for name, b := range old {
				if !contains(tt.touched, name) && got[name] != b {
					t.Errorf("member %s changed:\n%s\n->\n%s", name, b, got[name])
				}
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

// setIn sets the value at path in a decoded tree the way setPath edits
// JSON: each name matched as spelt or in another case, objects made on the
// way where missing or null.
func setIn(m map[string]any, v any, path ...string) {
	key := path[0]
	for k := range m {
		if strings.EqualFold(k, key) {
			key = k
		}
	}
	if len(path) == 1 {
		m[key] = v
		return
	}
	sub, _ := m[key].(map[string]any)
	if sub == nil {
		sub = map[string]any{}
		m[key] = sub
	}
	setIn(sub, v, path[1:]...)
}

// setRaw is an edit that puts raw JSON in place.
func setRaw(raw string) func([]byte) ([]byte, error) {
	return func([]byte) ([]byte, error) { return []byte(raw), nil }
}

func TestWithChangeRefuses(t *testing.T) {
	t.Parallel()
	sub := readApp(t, appFixture(t))
	tests := []struct {
		name   string
		sub    *AppSubmission
		change AppSubmissionChange
		want   string
	}{
		{"a language the submission does not list", sub, AppSubmissionChange{ReleaseNotes: map[string]string{"fr-fr": "x"}},
			`no listing for language "fr-fr" (the submission lists en-us, de-de)`},
		{"notes over 1500 characters", sub, AppSubmissionChange{ReleaseNotes: map[string]string{"en-us": strings.Repeat("é", 1501)}},
			"1501 characters; the Store takes at most 1500"},
		{"notes over 1500 UTF-16 code units", sub, AppSubmissionChange{ReleaseNotes: map[string]string{"en-us": strings.Repeat("😀", 751)}},
			"1502 characters"},
		{"PendingUpload made PendingDelete", sub, AppSubmissionChange{PackageFates: []PackageFate{KeepPackage, KeepPackage, DeletePackage}},
			"Notes_0.9.0.0_x86.appxupload is PendingUpload; the Store refuses"},
		{"an Uploaded entry dropped", sub, AppSubmissionChange{PackageFates: []PackageFate{DropPackage, KeepPackage, KeepPackage}},
			"would not delete it"},
		{"fates that do not fit", sub, AppSubmissionChange{PackageFates: []PackageFate{KeepPackage}}, "1 package fates for 3 packages"},
		{"a submission not read", &AppSubmission{ID: subID}, AppSubmissionChange{}, "not read from the Store"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.sub.WithChange(tt.change)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one saying %q", err, tt.want)
			}
			if got != nil {
				t.Errorf("returned %v with the error", got)
			}
		})
	}
	if _, err := sub.WithChange(AppSubmissionChange{ReleaseNotes: map[string]string{"en-us": strings.Repeat("😀", 750)}}); err != nil {
		t.Errorf("1500 code units refused: %v", err)
	}
}

func TestCreateAppSubmissionReadsBack(t *testing.T) {
	t.Parallel()
	fixture := appFixture(t)
	f := setup(t, nil)
	var seen []string
	f.mux.HandleFunc("/v1.0/my/applications/"+appID+"/submissions", func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Method+" "+r.URL.RawQuery)
		io.WriteString(w, `{"id":"`+subID+`","status":"PendingCommit"}`) // sparse
	})
	f.mux.HandleFunc(asPath, func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Method+" "+r.URL.Path)
		w.Write(fixture)
	})
	sub, err := f.client.CreateAppSubmission(t.Context(), appID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"POST isMinimalResponse=true", "GET " + asPath}, seen); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	if !bytes.Equal(sub.JSON(), fixture) {
		t.Error("the created submission is not the one read back")
	}
}

func TestCreateAppSubmissionFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		post, get   func(w http.ResponseWriter)
		wantUnknown bool
		wantStatus  int
		want        string
	}{
		{
			name: "create refused",
			post: func(w http.ResponseWriter) {
				storeError(w, 409, "InvalidState", "A submission is already pending.", "corr-1")
			},
			wantStatus: 409,
			want:       "409 InvalidState: A submission is already pending. (correlation ID corr-1)",
		},
		{
			name:        "read back fails",
			post:        func(w http.ResponseWriter) { io.WriteString(w, `{"id":"`+subID+`"}`) },
			get:         func(w http.ResponseWriter) { storeError(w, 404, "ResourceNotFound", "not yet", "corr-2") },
			wantUnknown: true,
			wantStatus:  404,
			want:        "created " + subID + ", but reading it back failed",
		},
		{
			name:        "no id in the answer",
			post:        func(w http.ResponseWriter) { io.WriteString(w, `{"status":"PendingCommit"}`) },
			wantUnknown: true,
			want:        "names no submission id",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, nil)
			f.mux.HandleFunc("/v1.0/my/applications/"+appID+"/submissions", func(w http.ResponseWriter, r *http.Request) { tt.post(w) })
			if tt.get != nil {
				f.mux.HandleFunc(asPath, func(w http.ResponseWriter, r *http.Request) { tt.get(w) })
			}
			sub, err := f.client.CreateAppSubmission(t.Context(), appID)
			if sub != nil || err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("CreateAppSubmission = %v, %v; want an error saying %q", sub, err, tt.want)
			}
			if got := errors.Is(err, ErrOutcomeUnknown); got != tt.wantUnknown {
				t.Errorf("errors.Is(ErrOutcomeUnknown) = %v", got)
			}
			var e *Error
			if tt.wantStatus != 0 && (!errors.As(err, &e) || e.StatusCode != tt.wantStatus) {
				t.Errorf("no *Error with status %d in %v", tt.wantStatus, err)
			}
		})
	}
}

func TestPartnerCenterAndUnsupportedErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int
		code, msg  string
		is         error
		wantHint   string
		notHintFor error
	}{
		{"Partner Center draft (400)", 400, "InvalidOperation", "Ingestion API can only update, delete, and commit submissions that are created through the API.",
			ErrPartnerCenterSubmission, "made in Partner Center", ErrUnsupportedFeature},
		{"Partner Center draft (409)", 409, "InvalidOperation", "Ingestion API can only update, delete, and commit submissions that are created through the API.",
			ErrPartnerCenterSubmission, "made in Partner Center", ErrUnsupportedFeature},
		{"unsupported feature", 409, "InvalidState", "This application uses features that are not supported by the submission API.",
			ErrUnsupportedFeature, "make this change in Partner Center", ErrPartnerCenterSubmission},
		{"another conflict", 409, "InvalidState", "Submission 1 is already pending.", nil, "", ErrUnsupportedFeature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, nil)
			calls := 0
			f.mux.HandleFunc(asPath, func(w http.ResponseWriter, r *http.Request) {
				calls++
				storeError(w, tt.status, tt.code, tt.msg, "corr-9")
			})
			err := f.client.DeleteAppSubmission(t.Context(), appID, subID)
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v) is false for %v", tt.is, err)
			}
			if errors.Is(err, tt.notHintFor) {
				t.Errorf("errors.Is(%v) is true for %v", tt.notHintFor, err)
			}
			if tt.wantHint != "" && !strings.Contains(err.Error(), "hint: ") || !strings.Contains(err.Error(), tt.wantHint) {
				t.Errorf("error %q lacks the hint %q", err, tt.wantHint)
			}
			if tt.wantHint == "" && strings.Contains(err.Error(), "hint: ") {
				t.Errorf("error %q has a hint", err)
			}
			if calls != 1 {
				t.Errorf("%d requests, want 1: a refusal is not retried", calls)
			}
		})
	}
}

// FuzzAppSubmissionJSON: any submission survives a round trip with no
// change byte for byte, and a change of one field changes that field only.
func FuzzAppSubmissionJSON(f *testing.F) {
	f.Add(appFixture(f))
	for _, b := range simulatorSubmissions(f) {
		f.Add(b)
	}
	f.Add([]byte(`{"id":"1","listings":{"en-us":{"baseListing":{}}},"applicationPackages":[]}`))
	f.Add([]byte("{ \"id\" : \"2\" ,\n\t\"listings\" : { \"de-de\" : { \"baseListing\" : { \"releaseNotes\" : \"\\u00e9\" } } } }"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var sub AppSubmission
		if !json.Valid(data) || json.Unmarshal(data, &sub) != nil {
			return
		}
		same, err := sub.WithChange(AppSubmissionChange{})
		if err != nil || !bytes.Equal(same.JSON(), bytes.TrimSpace(data)) {
			t.Fatalf("no-change round trip: %v\n%q\n%q", err, data, same.JSON())
		}
		notes := map[string]string{}
		for _, l := range sub.ListingLanguages() {
			notes[l] = "fuzzed notes " + l
		}
		next, err := sub.WithChange(AppSubmissionChange{NotesForCertification: ptr("n"), ReleaseNotes: notes})
		if err != nil {
			// Duplicate or odd members, or a listing that is not an
			// object: refused, never guessed.
			return
		}
		want, got := tree(t, data), tree(t, next.JSON())
		setIn(want, "n", "notesForCertification")
		for lang, text := range notes {
			setIn(want, text, "listings", lang, "baseListing", "releaseNotes")
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("change touched more than its fields (-want +got):\n%s", diff)
		}
	})
}
