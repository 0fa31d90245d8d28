package storeapi

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A submission as the Store might send it, with fields this client does not
// know at every level that has an Extra map, and IDs above 2^53.
const unknownFieldsJSON = `{
 "id":"11529215046212436491234","flightId":"f","status":"PendingCommit",
 "statusDetails":{"errors":[],"warnings":[],"certificationReports":[]},
 "flightPackages":[
  {"id":"11529215046069622051234","fileName":"old.msix","fileStatus":"Uploaded","minimumDirectXVersion":"None","minimumSystemRam":"None",
   "version":"1.0.0.0","architecture":"x64","languages":["en-us"],"capabilities":["runFullTrust"],
   "targetDeviceFamilies":["Windows.Desktop min version 10.0.17763.0"],"packageSize":12345678901234567890}
 ],
 "packageDeliveryOptions":{"packageRollout":{"isPackageRollout":true,"packageRolloutPercentage":12.5,"packageRolloutStatus":"PackageRolloutInProgress","fallbackSubmissionId":"11529215046212435871234"},
  "isMandatoryUpdate":false,"mandatoryUpdateEffectiveDate":"1601-01-01T00:00:00.0000000Z","isSeekEnabled":true},
 "fileUploadUrl":"https://blob.test/x?sig=SASSECRET",
 "targetPublishMode":"Manual","targetPublishDate":"","notesForCertification":"n",
 "friendlyName":"Submission 7","trailers":[{"id":"9007199254740993"}],"newThing":{"nested":[1,2.50,"x"]}
}`

func TestFlightSubmissionRoundTrip(t *testing.T) {
	t.Parallel()
	var s FlightSubmission
	if err := json.Unmarshal([]byte(unknownFieldsJSON), &s); err != nil {
		t.Fatal(err)
	}
	if s.ID != "11529215046212436491234" || s.FlightPackages[0].ID != "11529215046069622051234" ||
		s.PackageDeliveryOptions.PackageRollout.FallbackSubmissionID != "11529215046212435871234" {
		t.Errorf("IDs changed on decode: %q %q %q", s.ID, s.FlightPackages[0].ID, s.PackageDeliveryOptions.PackageRollout.FallbackSubmissionID)
	}
	wantExtra := map[string]string{"friendlyName": `"Submission 7"`, "trailers": `[{"id":"9007199254740993"}]`, "newThing": `{"nested":[1,2.50,"x"]}`}
	gotExtra := map[string]string{}
	for k, v := range s.Extra {
		gotExtra[k] = string(v)
	}
	if diff := cmp.Diff(wantExtra, gotExtra); diff != "" {
		t.Errorf("submission Extra (-want +got):\n%s", diff)
	}
	if got := string(s.FlightPackages[0].Extra["packageSize"]); got != "12345678901234567890" {
		t.Errorf("package Extra packageSize = %s", got)
	}
	if got := string(s.PackageDeliveryOptions.Extra["isSeekEnabled"]); got != "true" {
		t.Errorf("delivery options Extra isSeekEnabled = %s", got)
	}

	// Marshalling the value and the pointer both give back the same JSON.
	for name, v := range map[string]any{"value": s, "pointer": &s} {
		out, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		jsonEqual(t, string(out), unknownFieldsJSON)
		if !strings.Contains(string(out), "12345678901234567890") {
			t.Errorf("%s: large number lost: %s", name, out)
		}
	}
}

func TestRoundTripKeepsExtraOnlyOnce(t *testing.T) {
	t.Parallel()
	// An Extra entry that collides with a named field must not produce a
	// duplicate key; the named field wins.
	p := Package{FileName: "a.msix", FileStatus: "PendingUpload", Extra: map[string]json.RawMessage{"fileName": json.RawMessage(`"other"`), "FILESTATUS": json.RawMessage(`"x"`)}}
	out, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	jsonEqual(t, string(out), `{"fileName":"a.msix","fileStatus":"PendingUpload","minimumDirectXVersion":"","minimumSystemRam":""}`)

	// Mixed-case keys decode into the named field and are not kept again.
	var q Package
	if err := json.Unmarshal([]byte(`{"FileName":"b.msix"}`), &q); err != nil {
		t.Fatal(err)
	}
	if q.FileName != "b.msix" || len(q.Extra) != 0 {
		t.Errorf("got %+v", q)
	}

	if err := json.Unmarshal([]byte(`[1]`), &q); err == nil {
		t.Error("decoding an array into a Package succeeded")
	}
	var o PackageDeliveryOptions
	if err := json.Unmarshal([]byte(`"x"`), &o); err == nil {
		t.Error("decoding a string into PackageDeliveryOptions succeeded")
	}
	var s FlightSubmission
	if err := json.Unmarshal([]byte(`{"flightPackages":{}}`), &s); err == nil {
		t.Error("decoding a bad submission succeeded")
	}
	bad := Package{Extra: map[string]json.RawMessage{"x": json.RawMessage(`{not json`)}}
	if _, err := json.Marshal(bad); err == nil {
		t.Error("marshalling invalid Extra JSON succeeded")
	}
}

func TestUpdateSendsReadSubmissionWithoutServerFields(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	var sent string
	f.mux.HandleFunc("GET /v1.0/my/applications/{app}/flights/{flight}/submissions/{id}", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, unknownFieldsJSON)
	})
	f.mux.HandleFunc("PUT /v1.0/my/applications/{app}/flights/{flight}/submissions/{id}", func(w http.ResponseWriter, r *http.Request) {
		if got := r.PathValue("id"); got != "11529215046212436491234" {
			t.Errorf("PUT to submission %q", got)
		}
		b, _ := io.ReadAll(r.Body)
		sent = string(b)
		io.WriteString(w, unknownFieldsJSON)
	})
	ctx := t.Context()
	sub, err := f.client.GetFlightSubmission(ctx, appID, flightID, "11529215046212436491234")
	if err != nil {
		t.Fatal(err)
	}
	sub.FlightPackages[0].FileStatus = FileStatusPendingDelete
	sub.FlightPackages = append(sub.FlightPackages, Package{FileName: "new.msix", FileStatus: FileStatusPendingUpload, MinimumDirectXVersion: "None", MinimumSystemRAM: "None"})
	if _, err := f.client.UpdateFlightSubmission(ctx, appID, flightID, sub); err != nil {
		t.Fatal(err)
	}
	jsonEqual(t, sent, `{
 "id":"11529215046212436491234","flightId":"f",
 "flightPackages":[
  {"id":"11529215046069622051234","fileName":"old.msix","fileStatus":"PendingDelete","minimumDirectXVersion":"None","minimumSystemRam":"None",
   "version":"1.0.0.0","architecture":"x64","languages":["en-us"],"capabilities":["runFullTrust"],
   "targetDeviceFamilies":["Windows.Desktop min version 10.0.17763.0"],"packageSize":12345678901234567890},
  {"fileName":"new.msix","fileStatus":"PendingUpload","minimumDirectXVersion":"None","minimumSystemRam":"None"}
 ],
 "packageDeliveryOptions":{"packageRollout":{"isPackageRollout":true,"packageRolloutPercentage":12.5},
  "isMandatoryUpdate":false,"mandatoryUpdateEffectiveDate":"1601-01-01T00:00:00.0000000Z","isSeekEnabled":true},
 "targetPublishMode":"Manual","targetPublishDate":"","notesForCertification":"n",
 "friendlyName":"Submission 7","trailers":[{"id":"9007199254740993"}],"newThing":{"nested":[1,2.50,"x"]}
}`)
	mustNotContainSecrets(t, "PUT body", sent)
}
