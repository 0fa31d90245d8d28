package storefake

import (
	"encoding/json"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestAuthorization(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.seedBasic()
	path := f.s.URL() + "/v1.0/my/applications/" + appID
	f.s.AcceptToken("external", t0.Add(10*time.Minute))
	minted := f.mint()
	tests := []struct {
		name    string
		auth    string
		advance time.Duration
		want    int
	}{
		{"minted token", "Bearer " + minted, 0, http.StatusOK},
		{"registered token", "Bearer external", 0, http.StatusOK},
		{"no header", "", 0, http.StatusUnauthorized},
		{"unknown token", "Bearer nope", 0, http.StatusUnauthorized},
		{"basic auth", "Basic " + minted, 0, http.StatusUnauthorized},
		{"registered token expired", "Bearer external", 10 * time.Minute, http.StatusUnauthorized},
		{"minted token just alive", "Bearer " + minted, 50*time.Minute - time.Nanosecond, http.StatusOK},
		{"minted token expired", "Bearer " + minted, time.Nanosecond, http.StatusUnauthorized},
	}
	for _, tc := range tests { // sequential: the clock only moves forward
		f.clk.Advance(tc.advance)
		h := map[string]string{}
		if tc.auth != "" {
			h["Authorization"] = tc.auth
		}
		r := f.doURL("GET", path, nil, h)
		if r.status != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, r.status, tc.want)
			continue
		}
		if tc.want == http.StatusUnauthorized {
			f.wantError(r, 401, "Unauthorized")
			if m := str(r.json(t)["message"]); !strings.HasPrefix(m, "Identity cannot be authorized") {
				t.Errorf("%s: message %q", tc.name, m)
			}
			if strings.Contains(string(r.body), minted) {
				t.Errorf("%s: the answer repeats the token", tc.name)
			}
		}
	}
}

func TestCorrelationID(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.seedBasic()
	u := f.s.URL() + "/v1.0/my/applications/" + appID
	r := f.doURL("GET", u, nil, map[string]string{"Authorization": "Bearer " + f.token, "MS-CorrelationId": "corr-1"})
	if got := r.header.Get("MS-CorrelationId"); got != "corr-1" {
		t.Errorf("echoed correlation id %q", got)
	}
	r1, r2 := f.do("GET", "applications/"+appID, nil), f.doURL("GET", u, nil, nil)
	c1, c2 := r1.header.Get("MS-CorrelationId"), r2.header.Get("MS-CorrelationId")
	if c1 == "" || c2 == "" || c1 == c2 {
		t.Errorf("generated correlation ids %q, %q", c1, c2)
	}
	if !strings.Contains(string(r2.body), c2) {
		t.Errorf("401 message %s does not name the correlation id", r2.body)
	}
}

func TestGetApplication(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.seedBasic()
	m := f.do("GET", "applications/"+appID, nil).json(t)
	want := map[string]any{"id": "1152921504621243000", "resourceLocation": "applications/" + appID + "/submissions/1152921504621243000"}
	if diff := cmp.Diff(want, m["lastPublishedApplicationSubmission"]); diff != "" {
		t.Errorf("lastPublishedApplicationSubmission (-want +got):\n%s", diff)
	}
	if _, ok := m["pendingApplicationSubmission"]; ok {
		t.Error("pendingApplicationSubmission present with no pending submission")
	}
	f.wantError(f.do("GET", "applications/NOPE", nil), 404, "ResourceNotFound")
	list := f.do("GET", "applications", nil).json(t)
	if list["totalCount"] != json.Number("1") {
		t.Errorf("applications list %v", list)
	}
	f.wantError(f.do("GET", "nothing/here", nil), 404, "ResourceNotFound")
}

func TestListFlights(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	var flights []SeedFlight
	for _, n := range []string{"f1", "f2", "f3", "f4", "f5"} {
		flights = append(flights, SeedFlight{Name: n})
	}
	if err := f.s.Seed(Seed{Apps: []SeedApp{{ID: appID, Flights: flights}, {ID: "9NEMPTY00000"}}}); err != nil {
		t.Fatal(err)
	}
	var names []string
	path := "applications/" + appID + "/listflights?top=2"
	var links []string
	for path != "" {
		m := f.do("GET", path, nil).json(t)
		if m["totalCount"] != json.Number("5") {
			t.Fatalf("totalCount %v", m["totalCount"])
		}
		for _, v := range m["value"].([]any) {
			names = append(names, str(v.(map[string]any)["friendlyName"]))
		}
		path = str(m["@nextLink"])
		if path != "" {
			links = append(links, path)
		}
	}
	if diff := cmp.Diff([]string{"f1", "f2", "f3", "f4", "f5"}, names); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	wantLinks := []string{"applications/" + appID + "/listflights/?skip=2&top=2", "applications/" + appID + "/listflights/?skip=4&top=2"}
	if diff := cmp.Diff(wantLinks, links); diff != "" {
		t.Errorf("@nextLink (-want +got):\n%s", diff)
	}
	f.wantError(f.do("GET", "applications/9NEMPTY00000/listflights", nil), 404, "ResourceNotFound")
	f.wantError(f.do("GET", "applications/"+appID+"/listflights?top=x", nil), 400, "InvalidParameterValue")
}

func TestFlightResource(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	pub := f.seedBasic()
	m := f.do("GET", "applications/"+appID+"/flights/"+flightID, nil).json(t)
	want := map[string]any{
		"flightId": flightID, "friendlyName": "Beta", "groupIds": []any{"100"}, "rankHigherThan": "Non-flighted submission",
		"lastPublishedFlightSubmission": map[string]any{"id": pub, "resourceLocation": "flights/" + flightID + "/submissions/" + pub},
	}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("flight (-want +got):\n%s", diff)
	}
	sub := f.createFlightSub(flightID)
	m = f.do("GET", "applications/"+appID+"/flights/"+flightID, nil).json(t)
	wantPending := map[string]any{"id": sub["id"], "resourceLocation": "flights/" + flightID + "/submissions/" + str(sub["id"])}
	if diff := cmp.Diff(wantPending, m["pendingFlightSubmission"]); diff != "" {
		t.Errorf("pendingFlightSubmission (-want +got):\n%s", diff)
	}
	f.wantError(f.do("GET", "applications/"+appID+"/flights/nope", nil), 404, "ResourceNotFound")
}

func TestCreateAndDeleteFlight(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.seedBasic()
	r := f.do("POST", "applications/"+appID+"/flights", map[string]any{"friendlyName": "Gamma", "groupIds": []string{"7"}})
	f.mustStatus(r, 200)
	m := r.json(t)
	id := str(m["flightId"])
	if id == "" || m["rankHigherThan"] != "Alpha" {
		t.Fatalf("created flight %v", m)
	}
	if st, ok := f.s.Flight(appID, id); !ok || st.Name != "Gamma" {
		t.Fatalf("Flight() = %+v, %v", st, ok)
	}
	f.wantError(f.do("POST", "applications/"+appID+"/flights", map[string]any{"friendlyName": "Gamma"}), 409, "InvalidState")
	f.wantError(f.do("POST", "applications/"+appID+"/flights", "{"), 400, "InvalidParameterValue")
	f.mustStatus(f.do("DELETE", "applications/"+appID+"/flights/"+id, nil), http.StatusNoContent)
	if _, ok := f.s.Flight(appID, id); ok {
		t.Error("flight still there after delete")
	}
	// A flight whose submission is being processed cannot be deleted.
	sub := f.createFlightSub(flightID)
	f.mustStatus(f.do("POST", "applications/"+appID+"/flights/"+flightID+"/submissions/"+str(sub["id"])+"/commit", nil), 200)
	f.wantError(f.do("DELETE", "applications/"+appID+"/flights/"+flightID, nil), 409, "InvalidState")
}

func TestCreateSubmissionClonesPublished(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	pub := f.seedBasic()
	before, _ := f.s.Submission(appID, flightID, pub)
	m := f.createFlightSub(flightID)
	id := str(m["id"])
	n, ok := new(big.Int).SetString(id, 10)
	if !ok || n.Cmp(new(big.Int).Lsh(big.NewInt(1), 53)) <= 0 || id == pub {
		t.Errorf("id %q is not a fresh string above 2^53", id)
	}
	if m["status"] != "PendingCommit" || m["flightId"] != flightID || m["notesForCertification"] != "old notes" || m["targetPublishMode"] != "Immediate" {
		t.Errorf("submission %v", m)
	}
	pkgs := m["flightPackages"].([]any)
	if len(pkgs) != 2 {
		t.Fatalf("packages %v", pkgs)
	}
	for i, p := range pkgs {
		p := p.(map[string]any)
		if p["fileStatus"] != "Uploaded" || p["id"] != before.Packages[i].ID || p["fileName"] != before.Packages[i].FileName || p["architecture"] != "X64" {
			t.Errorf("package %d: %v", i, p)
		}
	}
	wantRollout := map[string]any{"isPackageRollout": false, "packageRolloutPercentage": json.Number("0"), "packageRolloutStatus": "PackageRolloutNotStarted", "fallbackSubmissionId": "0"}
	if diff := cmp.Diff(wantRollout, m["packageDeliveryOptions"].(map[string]any)["packageRollout"]); diff != "" {
		t.Errorf("rollout (-want +got):\n%s", diff)
	}
	raw := str(m["fileUploadUrl"])
	u, err := url.Parse(raw)
	if err != nil || u.Host != inProcessBlobHost || !strings.HasPrefix(u.Path, "/ingestion/") {
		t.Fatalf("fileUploadUrl %q", raw)
	}
	rawSig := raw[strings.Index(raw, "sig=")+4:]
	if !strings.Contains(rawSig, "+") {
		t.Error("sig has no raw '+'")
	}
	se, err := time.Parse(time.RFC3339, u.Query().Get("se"))
	if err != nil || !se.Equal(t0.Add(time.Hour)) {
		t.Errorf("se %q, want now+1h", u.Query().Get("se"))
	}
	if st, _ := f.s.Flight(appID, flightID); st.PendingID != id || st.PublishedID != pub {
		t.Errorf("flight state %+v", st)
	}

	// One pending submission per flight.
	r := f.do("POST", "applications/"+appID+"/flights/"+flightID+"/submissions", nil)
	f.wantError(r, 409, "InvalidState")
	if !strings.Contains(string(r.body), id) {
		t.Errorf("409 %s does not name the pending submission", r.body)
	}

	// A flight never published starts from nothing; the minimal response
	// leaves the packages out.
	r = f.do("POST", "applications/"+appID+"/flights/"+otherFID+"/submissions?isMinimalResponse=true", nil)
	f.mustStatus(r, 200)
	if m := r.json(t); m["flightPackages"] != nil || m["fileUploadUrl"] == nil {
		t.Errorf("minimal response %v", m)
	}
	f.wantError(f.do("POST", "applications/"+appID+"/flights/nope/submissions", nil), 404, "ResourceNotFound")
}

func TestSubmissionParentChecks(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	pub := f.seedBasic()
	for _, path := range []string{"", "/status", "/packagerollout"} {
		f.mustStatus(f.do("GET", "applications/"+appID+"/flights/"+flightID+"/submissions/"+pub+path, nil), 200)
		f.wantError(f.do("GET", "applications/"+appID+"/flights/"+otherFID+"/submissions/"+pub+path, nil), 409, "InvalidState")
		f.wantError(f.do("GET", "applications/"+appID+"/submissions/"+pub+path, nil), 409, "InvalidState")
		f.wantError(f.do("GET", "applications/"+appID+"/flights/"+flightID+"/submissions/1152921504600000000"+path, nil), 404, "ResourceNotFound")
	}
	f.wantError(f.do("POST", "applications/"+appID+"/flights/"+otherFID+"/submissions/"+pub+"/finalizepackagerollout", nil), 409, "InvalidState")
	f.wantError(f.do("POST", "applications/"+appID+"/flights/"+flightID+"/submissions/1152921504600000000/haltpackagerollout", nil), 404, "ResourceNotFound")
}

func TestUpdateSubmissionValidation(t *testing.T) {
	t.Parallel()
	valid := func() map[string]any {
		return map[string]any{"flightPackages": []any{pkgEntry("", "new.msix", "PendingUpload")}}
	}
	tests := []struct {
		name   string
		change func(m map[string]any)
		body   string
	}{
		{name: "missing minimumSystemRam", change: func(m map[string]any) {
			delete(m["flightPackages"].([]any)[0].(map[string]any), "minimumSystemRam")
		}},
		{name: "missing minimumDirectXVersion", change: func(m map[string]any) {
			delete(m["flightPackages"].([]any)[0].(map[string]any), "minimumDirectXVersion")
		}},
		{name: "bad fileStatus", change: func(m map[string]any) {
			m["flightPackages"].([]any)[0].(map[string]any)["fileStatus"] = "Uploading"
		}},
		{name: "bad minimumSystemRam", change: func(m map[string]any) {
			m["flightPackages"].([]any)[0].(map[string]any)["minimumSystemRam"] = "Memory4GB"
		}},
		{name: "missing fileName", change: func(m map[string]any) {
			delete(m["flightPackages"].([]any)[0].(map[string]any), "fileName")
		}},
		{name: "numeric fileName", change: func(m map[string]any) {
			m["flightPackages"].([]any)[0].(map[string]any)["fileName"] = 3
		}},
		{name: "unknown package id", change: func(m map[string]any) {
			m["flightPackages"].([]any)[0].(map[string]any)["id"] = "42"
		}},
		{name: "bad targetPublishMode", change: func(m map[string]any) { m["targetPublishMode"] = "Later" }},
		{name: "bad targetPublishDate", change: func(m map[string]any) { m["targetPublishDate"] = "tomorrow" }},
		{name: "percentage above 100", change: func(m map[string]any) {
			m["packageDeliveryOptions"] = map[string]any{"packageRollout": map[string]any{"isPackageRollout": true, "packageRolloutPercentage": 100.5}}
		}},
		{name: "negative percentage", change: func(m map[string]any) {
			m["packageDeliveryOptions"] = map[string]any{"packageRollout": map[string]any{"packageRolloutPercentage": -1}}
		}},
		{name: "mandatory not bool", change: func(m map[string]any) {
			m["packageDeliveryOptions"] = map[string]any{"isMandatoryUpdate": "yes"}
		}},
		{name: "packages not an array", change: func(m map[string]any) { m["flightPackages"] = "x" }},
		{name: "not json", body: "{nope"},
		{name: "json array", body: "[]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, nil)
			f.seedBasic()
			sub := f.createFlightSub(flightID)
			var body any = tc.body
			if tc.change != nil {
				m := valid()
				tc.change(m)
				body = m
			}
			path := "applications/" + appID + "/flights/" + flightID + "/submissions/" + str(sub["id"])
			f.wantError(f.do("PUT", path, body), 400, "InvalidParameterValue")
			// Nothing changed.
			if st, _ := f.s.Submission(appID, flightID, str(sub["id"])); len(st.Packages) != 2 {
				t.Errorf("packages changed by a rejected PUT: %+v", st.Packages)
			}
		})
	}
}

func TestUpdateSubmissionRoundTrip(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.seedBasic()
	sub := f.createFlightSub(flightID)
	id := str(sub["id"])
	path := "applications/" + appID + "/flights/" + flightID + "/submissions/" + id

	// Change the GET result as a client would: unknown fields stay.
	sub["someFutureField"] = map[string]any{"nested": []any{1.0, "x"}}
	pkgs := sub["flightPackages"].([]any)
	first := pkgs[0].(map[string]any)
	first["fileStatus"] = "PendingDelete"
	first["futurePackageField"] = true
	pkgs = append(pkgs, pkgEntry("", "c.msix", "PendingUpload"))
	sub["flightPackages"] = pkgs
	pdo := sub["packageDeliveryOptions"].(map[string]any)
	pdo["packageRollout"] = map[string]any{"isPackageRollout": true, "packageRolloutPercentage": 12.5,
		"packageRolloutStatus": "PackageRolloutComplete", "fallbackSubmissionId": "99"}
	pdo["isMandatoryUpdate"] = true
	pdo["futureDeliveryField"] = "kept"
	sub["targetPublishMode"] = "Manual"
	sub["notesForCertification"] = "new notes"
	sub["status"] = "Published" // ignored: the server owns it

	r := f.do("PUT", path, sub)
	f.mustStatus(r, 200)
	got := f.do("GET", path, nil).json(t)
	if diff := cmp.Diff(r.json(t), got); diff != "" {
		t.Errorf("PUT answer and GET differ (-put +get):\n%s", diff)
	}
	if got["status"] != "PendingCommit" || got["targetPublishMode"] != "Manual" || got["notesForCertification"] != "new notes" {
		t.Errorf("submission %v", got)
	}
	if diff := cmp.Diff(map[string]any{"nested": []any{json.Number("1"), "x"}}, got["someFutureField"]); diff != "" {
		t.Errorf("unknown top-level field (-want +got):\n%s", diff)
	}
	gp := got["flightPackages"].([]any)
	if len(gp) != 3 {
		t.Fatalf("packages %v", gp)
	}
	g0, g2 := gp[0].(map[string]any), gp[2].(map[string]any)
	if g0["id"] != first["id"] || g0["fileStatus"] != "PendingDelete" || g0["futurePackageField"] != true || g0["version"] != "1.0.0.0" {
		t.Errorf("existing package %v", g0)
	}
	if str(g2["id"]) == "" || g2["fileStatus"] != "PendingUpload" {
		t.Errorf("new package %v", g2)
	}
	gpdo := got["packageDeliveryOptions"].(map[string]any)
	wantRollout := map[string]any{"isPackageRollout": true, "packageRolloutPercentage": json.Number("12.5"), "packageRolloutStatus": "PackageRolloutNotStarted", "fallbackSubmissionId": "0"}
	if diff := cmp.Diff(wantRollout, gpdo["packageRollout"]); diff != "" {
		t.Errorf("rollout (-want +got):\n%s", diff)
	}
	if gpdo["futureDeliveryField"] != "kept" || gpdo["isMandatoryUpdate"] != true {
		t.Errorf("packageDeliveryOptions %v", gpdo)
	}
	if st, _ := f.s.Submission(appID, flightID, id); !st.MandatoryUpdate || !st.Rollout.Enabled || st.Rollout.Percentage != 12.5 {
		t.Errorf("state %+v", st)
	}

	// A package sent without its id keeps the id of the same fileName.
	noID := pkgEntry("", "b.msix", "Uploaded")
	r = f.do("PUT", path, map[string]any{"flightPackages": []any{noID}})
	f.mustStatus(r, 200)
	if p := r.json(t)["flightPackages"].([]any)[0].(map[string]any); p["id"] != pkgs[1].(map[string]any)["id"] {
		t.Errorf("package without id: %v", p)
	}

	// PUT only while PendingCommit.
	f.mustStatus(f.do("POST", path+"/commit", nil), 200)
	f.wantError(f.do("PUT", path, map[string]any{}), 409, "InvalidState")
	f.wantError(f.do("PUT", "applications/"+appID+"/flights/"+flightID+"/submissions/1", map[string]any{}), 404, "ResourceNotFound")
}
