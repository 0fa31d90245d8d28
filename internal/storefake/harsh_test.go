package storefake

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// A create clones the last published submission's rollout (the harsher
// reading), or, with CloneWithoutRollout, leaves the packageRollout object
// out until a PUT sends one.
func TestCreateClonesRollout(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		withoutRoll bool
		published   *SeedRollout
		want        any // the clone's packageRollout; nil: absent
	}{
		{name: "finalized rollout", published: &SeedRollout{Percentage: 100, Status: rolloutComplete},
			want: map[string]any{"isPackageRollout": true, "packageRolloutPercentage": json.Number("100"), "packageRolloutStatus": rolloutNotStarted, "fallbackSubmissionId": "0"}},
		{name: "halted rollout", published: &SeedRollout{Percentage: 0, Status: rolloutStopped},
			want: map[string]any{"isPackageRollout": true, "packageRolloutPercentage": json.Number("0"), "packageRolloutStatus": rolloutNotStarted, "fallbackSubmissionId": "0"}},
		{name: "no rollout", published: nil,
			want: map[string]any{"isPackageRollout": false, "packageRolloutPercentage": json.Number("0"), "packageRolloutStatus": rolloutNotStarted, "fallbackSubmissionId": "0"}},
		{name: "without the object", withoutRoll: true, published: &SeedRollout{Percentage: 100, Status: rolloutComplete}, want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, &Options{Stages: minuteStages, CloneWithoutRollout: tc.withoutRoll})
			err := f.s.Seed(Seed{Apps: []SeedApp{{ID: appID, Flights: []SeedFlight{{ID: flightID, Name: "Beta",
				Published: &SeedSubmission{Packages: []SeedPackage{{FileName: "a.msix", Version: "1.0.0.0"}}, Rollout: tc.published}}}}}})
			if err != nil {
				t.Fatal(err)
			}
			sub := f.createFlightSub(flightID)
			path := "applications/" + appID + "/flights/" + flightID + "/submissions/" + str(sub["id"])
			for _, m := range []map[string]any{sub, f.do("GET", path, nil).json(t)} {
				pdo := m["packageDeliveryOptions"].(map[string]any)
				if diff := cmp.Diff(tc.want, pdo["packageRollout"]); diff != "" {
					t.Errorf("clone's packageRollout (-want +got):\n%s", diff)
				}
				if _, ok := pdo["isMandatoryUpdate"]; !ok {
					t.Errorf("the clone lost isMandatoryUpdate: %v", pdo)
				}
			}
			// A PUT that sends the object creates it.
			put := map[string]any{"packageDeliveryOptions": map[string]any{
				"packageRollout": map[string]any{"isPackageRollout": false, "packageRolloutPercentage": 0}}}
			f.mustStatus(f.do("PUT", path, put), http.StatusOK)
			got := f.do("GET", path, nil).json(t)["packageDeliveryOptions"].(map[string]any)["packageRollout"]
			want := map[string]any{"isPackageRollout": false, "packageRolloutPercentage": json.Number("0"), "packageRolloutStatus": rolloutNotStarted, "fallbackSubmissionId": "0"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("packageRollout after the PUT (-want +got):\n%s", diff)
			}
		})
	}
}

// A GET does not refresh an expired upload URL, and the blob endpoint
// refuses the expired SAS as Azure does: 403 AuthenticationFailed.
func TestExpiredUploadURL(t *testing.T) {
	t.Parallel()
	f := newFixture(t, &Options{Stages: minuteStages, SASTTL: 10 * time.Minute})
	f.seedBasic()
	sub := f.createFlightSub(flightID)
	path := "applications/" + appID + "/flights/" + flightID + "/submissions/" + str(sub["id"])
	first := str(sub["fileUploadUrl"])
	f.clk.Advance(10 * time.Minute)
	if again := str(f.do("GET", path, nil).json(t)["fileUploadUrl"]); again != first {
		t.Errorf("a GET after expiry handed out %q, want the expired %q", again, first)
	}
	r := f.upload(first, zipOf(t, false, map[string][]byte{"new.msix": packageFile(t, "2.0.0.0", false)}))
	if r.status != http.StatusForbidden || r.header.Get("x-ms-error-code") != "AuthenticationFailed" {
		t.Errorf("upload with an expired SAS: %d %q, want 403 AuthenticationFailed; %s", r.status, r.header.Get("x-ms-error-code"), r.body)
	}
	// A new submission gets a fresh one.
	f.mustStatus(f.do("DELETE", path, nil), http.StatusNoContent)
	fresh := str(f.createFlightSub(flightID)["fileUploadUrl"])
	if r := f.upload(fresh, zipOf(t, false, map[string][]byte{"new.msix": packageFile(t, "2.0.0.0", false)})); r.status != http.StatusCreated {
		t.Errorf("upload with a fresh SAS: %d; %s", r.status, r.body)
	}
}

// The version of an upload file is the version of the package inside it,
// whether that one is stored or compressed.
func TestUploadFileVersion(t *testing.T) {
	t.Parallel()
	for _, deflate := range []bool{false, true} {
		f := newFixture(t, &Options{})
		f.seedBasic()
		sub := f.createFlightSub(flightID)
		path := "applications/" + appID + "/flights/" + flightID + "/submissions/" + str(sub["id"])
		f.mustStatus(f.do("PUT", path, map[string]any{"flightPackages": []any{pkgEntry("", "MyApp.msixupload", "PendingUpload")}}), 200)
		upload := zipOf(t, deflate, map[string][]byte{"MyApp_4.2.0.0_x64.msix": packageFile(t, "4.2.0.0", false), "MyApp.appxsym": []byte("symbols")})
		f.mustStatus(f.upload(str(sub["fileUploadUrl"]), zipOf(t, false, map[string][]byte{"MyApp.msixupload": upload})), http.StatusCreated)
		f.mustStatus(f.do("POST", path+"/commit", nil), 200)
		st, _ := f.s.Submission(appID, flightID, str(sub["id"]))
		if len(st.Packages) != 1 || st.Packages[0].Version != "4.2.0.0" {
			t.Errorf("inner package compressed %v: packages %+v, want MyApp.msixupload at 4.2.0.0", deflate, st.Packages)
		}
	}
}
