package storeapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const (
	appID    = "9NBLGGH4R315"
	flightID = "0f8bc8a0-41b4-4a1b-94c3-5b1a3c3b2e55"
	subID    = "1152921504621243649" // above 2^53
	fallback = "1152921504621243587"
)

var (
	flightKey = SubmissionKey{ApplicationID: appID, FlightID: flightID, SubmissionID: subID}
	appKey    = SubmissionKey{ApplicationID: appID, SubmissionID: subID}
	fsPath    = "/v1.0/my/applications/" + appID + "/flights/" + flightID + "/submissions/" + subID
	asPath    = "/v1.0/my/applications/" + appID + "/submissions/" + subID
)

const rolloutJSON = `{"isPackageRollout":true,"packageRolloutPercentage":12.5,"packageRolloutStatus":"PackageRolloutInProgress","fallbackSubmissionId":"` + fallback + `"}`

var wantRollout = &PackageRollout{IsPackageRollout: true, PackageRolloutPercentage: 12.5, PackageRolloutStatus: RolloutInProgress, FallbackSubmissionID: fallback}

const submissionJSON = `{"id":"` + subID + `","flightId":"` + flightID + `","status":"PendingCommit",
 "statusDetails":{"errors":[],"warnings":[],"certificationReports":[]},
 "flightPackages":[{"id":"1152921504606962205","fileName":"app.msix","fileStatus":"Uploaded","minimumDirectXVersion":"None","minimumSystemRam":"None"}],
 "packageDeliveryOptions":{"packageRollout":{"isPackageRollout":false,"packageRolloutPercentage":0,"packageRolloutStatus":"PackageRolloutNotStarted","fallbackSubmissionId":"0"},"isMandatoryUpdate":false,"mandatoryUpdateEffectiveDate":"1601-01-01T00:00:00.0000000Z"},
 "fileUploadUrl":"https://blob.test/ingestion/x?sv=2014-02-14&sig=SASSECRET","targetPublishMode":"Immediate","targetPublishDate":"","notesForCertification":""}`

// appSubmissionJSON is an app submission with a field this client does
// not model; an update must send it back exactly.
const appSubmissionJSON = `{"id":"` + subID + `","status":"PendingCommit","listings":{"en-us":{"baseListing":{"title":"App","images":[]}}},` +
	`"pricing":{"priceId":"Tier2"},"applicationPackages":[],"someFutureField":[1.50,{"a":null}]}`

func wantSubmission() *FlightSubmission {
	return &FlightSubmission{
		ID: subID, FlightID: flightID, Status: StatusPendingCommit,
		StatusDetails:  StatusDetails{Errors: []StatusDetail{}, Warnings: []StatusDetail{}, CertificationReports: []CertificationReport{}},
		FlightPackages: []Package{{ID: "1152921504606962205", FileName: "app.msix", FileStatus: FileStatusUploaded, MinimumDirectXVersion: "None", MinimumSystemRAM: "None"}},
		PackageDeliveryOptions: PackageDeliveryOptions{
			PackageRollout:               PackageRollout{PackageRolloutStatus: RolloutNotStarted, FallbackSubmissionID: "0"},
			MandatoryUpdateEffectiveDate: "1601-01-01T00:00:00.0000000Z",
		},
		FileUploadURL:     "https://blob.test/ingestion/x?sv=2014-02-14&sig=SASSECRET",
		TargetPublishMode: "Immediate",
	}
}

type methodCase struct {
	name      string
	call      func(context.Context, *Client) (any, error)
	method    string
	path      string
	query     string
	wantBody  string // JSON the request must carry; "" means no body
	respond   string // success body
	want      any
	wantNoOut bool
}

func methodCases() []methodCase {
	return []methodCase{
		{
			name:    "GetFlight",
			call:    func(ctx context.Context, c *Client) (any, error) { return c.GetFlight(ctx, appID, flightID) },
			method:  "GET",
			path:    "/v1.0/my/applications/" + appID + "/flights/" + flightID,
			respond: `{"flightId":"` + flightID + `","friendlyName":"Insiders","groupIds":["1"],"rankHigherThan":"Non-flighted submission","pendingFlightSubmission":{"id":"` + subID + `","resourceLocation":"flights/x/submissions/` + subID + `"}}`,
			want: &Flight{FlightID: flightID, FriendlyName: "Insiders", GroupIDs: []string{"1"}, RankHigherThan: "Non-flighted submission",
				PendingFlightSubmission: &SubmissionRef{ID: subID, ResourceLocation: "flights/x/submissions/" + subID}},
		},
		{
			name:    "ListFlights",
			call:    func(ctx context.Context, c *Client) (any, error) { return c.ListFlights(ctx, appID) },
			method:  "GET",
			path:    "/v1.0/my/applications/" + appID + "/listflights",
			respond: `{"value":[{"flightId":"` + flightID + `","friendlyName":"Insiders"}],"totalCount":1}`,
			want:    []Flight{{FlightID: flightID, FriendlyName: "Insiders"}},
		},
		{
			name:    "GetApplication",
			call:    func(ctx context.Context, c *Client) (any, error) { return c.GetApplication(ctx, appID) },
			method:  "GET",
			path:    "/v1.0/my/applications/" + appID,
			respond: `{"id":"` + appID + `","primaryName":"App","lastPublishedApplicationSubmission":{"id":"` + fallback + `"}}`,
			want:    &Application{ID: appID, PrimaryName: "App", LastPublishedApplicationSubmission: &SubmissionRef{ID: fallback}},
		},
		{
			name: "CreateFlightSubmission",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.CreateFlightSubmission(ctx, appID, flightID)
			},
			method:  "POST",
			path:    "/v1.0/my/applications/" + appID + "/flights/" + flightID + "/submissions",
			respond: submissionJSON,
			want:    wantSubmission(),
		},
		{
			name: "GetFlightSubmission",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.GetFlightSubmission(ctx, appID, flightID, subID)
			},
			method:  "GET",
			path:    fsPath,
			respond: submissionJSON,
			want:    wantSubmission(),
		},
		{
			name: "UpdateFlightSubmission",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.UpdateFlightSubmission(ctx, appID, flightID, wantSubmission())
			},
			method: "PUT",
			path:   fsPath,
			wantBody: `{"id":"` + subID + `","flightId":"` + flightID + `",
			 "flightPackages":[{"id":"1152921504606962205","fileName":"app.msix","fileStatus":"Uploaded","minimumDirectXVersion":"None","minimumSystemRam":"None"}],
			 "packageDeliveryOptions":{"packageRollout":{"isPackageRollout":false,"packageRolloutPercentage":0},"isMandatoryUpdate":false,"mandatoryUpdateEffectiveDate":"1601-01-01T00:00:00.0000000Z"},
			 "targetPublishMode":"Immediate","targetPublishDate":"","notesForCertification":""}`,
			respond: submissionJSON,
			want:    wantSubmission(),
		},
		{
			name: "DeleteFlightSubmission",
			call: func(ctx context.Context, c *Client) (any, error) {
				return nil, c.DeleteFlightSubmission(ctx, appID, flightID, subID)
			},
			method:    "DELETE",
			path:      fsPath,
			wantNoOut: true,
		},
		{
			name:    "GetAppSubmission",
			call:    func(ctx context.Context, c *Client) (any, error) { return c.GetAppSubmission(ctx, appID, subID) },
			method:  "GET",
			path:    asPath,
			respond: `{"id":"` + subID + `","status":"Published"}`,
			want:    &AppSubmission{ID: subID, Status: StatusPublished},
		},
		{
			name: "UpdateAppSubmission",
			call: func(ctx context.Context, c *Client) (any, error) {
				var sub AppSubmission
				if err := json.Unmarshal([]byte(appSubmissionJSON), &sub); err != nil {
					return nil, err
				}
				return c.UpdateAppSubmission(ctx, appID, &sub)
			},
			method:   "PUT",
			path:     asPath,
			wantBody: appSubmissionJSON,
			respond:  `{"id":"` + subID + `","status":"PendingCommit","fileUploadUrl":"https://blob.test/x?sig=SASSECRET"}`,
			want:     &AppSubmission{ID: subID, Status: StatusPendingCommit, FileUploadURL: "https://blob.test/x?sig=SASSECRET"},
		},
		{
			name: "DeleteAppSubmission",
			call: func(ctx context.Context, c *Client) (any, error) {
				return nil, c.DeleteAppSubmission(ctx, appID, subID)
			},
			method:    "DELETE",
			path:      asPath,
			wantNoOut: true,
		},
		{
			name:    "CommitSubmission/flight",
			call:    func(ctx context.Context, c *Client) (any, error) { return c.CommitSubmission(ctx, flightKey) },
			method:  "POST",
			path:    fsPath + "/commit",
			respond: `{"status":"CommitStarted"}`,
			want:    &SubmissionStatus{Status: StatusCommitStarted},
		},
		{
			name:    "CommitSubmission/app",
			call:    func(ctx context.Context, c *Client) (any, error) { return c.CommitSubmission(ctx, appKey) },
			method:  "POST",
			path:    asPath + "/commit",
			respond: `{"status":"CommitStarted"}`,
			want:    &SubmissionStatus{Status: StatusCommitStarted},
		},
		{
			name:    "SubmissionStatus/flight",
			call:    func(ctx context.Context, c *Client) (any, error) { return c.SubmissionStatus(ctx, flightKey) },
			method:  "GET",
			path:    fsPath + "/status",
			respond: `{"status":"CommitFailed","statusDetails":{"errors":[{"code":"MissingFiles","details":"app.msix"}],"warnings":[],"certificationReports":[{"date":"2024-01-01T00:00:00Z","reportUrl":"https://r.test/1"}]}}`,
			want: &SubmissionStatus{Status: StatusCommitFailed, StatusDetails: StatusDetails{
				Errors: []StatusDetail{{Code: "MissingFiles", Details: "app.msix"}}, Warnings: []StatusDetail{},
				CertificationReports: []CertificationReport{{Date: "2024-01-01T00:00:00Z", ReportURL: "https://r.test/1"}}}},
		},
		{
			name:    "SubmissionStatus/app, unknown status kept",
			call:    func(ctx context.Context, c *Client) (any, error) { return c.SubmissionStatus(ctx, appKey) },
			method:  "GET",
			path:    asPath + "/status",
			respond: `{"status":"SomethingNew"}`,
			want:    &SubmissionStatus{Status: "SomethingNew"},
		},
		{
			name:    "GetPackageRollout/flight",
			call:    func(ctx context.Context, c *Client) (any, error) { return c.GetPackageRollout(ctx, flightKey) },
			method:  "GET",
			path:    fsPath + "/packagerollout",
			respond: rolloutJSON,
			want:    wantRollout,
		},
		{
			name:    "GetPackageRollout/app",
			call:    func(ctx context.Context, c *Client) (any, error) { return c.GetPackageRollout(ctx, appKey) },
			method:  "GET",
			path:    asPath + "/packagerollout",
			respond: rolloutJSON,
			want:    wantRollout,
		},
		{
			name: "UpdatePackageRolloutPercentage",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.UpdatePackageRolloutPercentage(ctx, flightKey, 12.5)
			},
			method:  "POST",
			path:    fsPath + "/updatepackagerolloutpercentage",
			query:   "percentage=12.5",
			respond: rolloutJSON,
			want:    wantRollout,
		},
		{
			name: "UpdatePackageRolloutPercentage/app whole number",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.UpdatePackageRolloutPercentage(ctx, appKey, 25)
			},
			method:  "POST",
			path:    asPath + "/updatepackagerolloutpercentage",
			query:   "percentage=25",
			respond: rolloutJSON,
			want:    wantRollout,
		},
		{
			name:    "HaltPackageRollout",
			call:    func(ctx context.Context, c *Client) (any, error) { return c.HaltPackageRollout(ctx, flightKey) },
			method:  "POST",
			path:    fsPath + "/haltpackagerollout",
			respond: `{"isPackageRollout":true,"packageRolloutPercentage":0.0,"packageRolloutStatus":"PackageRolloutStopped","fallbackSubmissionId":"` + fallback + `"}`,
			want:    &PackageRollout{IsPackageRollout: true, PackageRolloutStatus: RolloutStopped, FallbackSubmissionID: fallback},
		},
		{
			name:    "FinalizePackageRollout",
			call:    func(ctx context.Context, c *Client) (any, error) { return c.FinalizePackageRollout(ctx, appKey) },
			method:  "POST",
			path:    asPath + "/finalizepackagerollout",
			respond: `{"isPackageRollout":true,"packageRolloutPercentage":100.0,"packageRolloutStatus":"PackageRolloutComplete","fallbackSubmissionId":"` + fallback + `"}`,
			want:    &PackageRollout{IsPackageRollout: true, PackageRolloutPercentage: 100, PackageRolloutStatus: RolloutComplete, FallbackSubmissionID: fallback},
		},
	}
}

// jsonEqual compares two JSON texts by meaning, numbers as written.
func jsonEqual(t *testing.T, got, want string) {
	t.Helper()
	decode := func(s string) any {
		d := json.NewDecoder(strings.NewReader(s))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			t.Fatalf("invalid JSON %q: %v", s, err)
		}
		return v
	}
	if diff := cmp.Diff(decode(want), decode(got)); diff != "" {
		t.Errorf("JSON mismatch (-want +got):\n%s", diff)
	}
}

func TestMethods(t *testing.T) {
	t.Parallel()
	for _, tc := range methodCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, nil)
			f.mux.HandleFunc(tc.path, func(w http.ResponseWriter, r *http.Request) {
				if r.Method != tc.method {
					t.Errorf("method = %s, want %s", r.Method, tc.method)
				}
				if r.URL.RawQuery != tc.query {
					t.Errorf("query = %q, want %q", r.URL.RawQuery, tc.query)
				}
				if got := r.Header.Get("Authorization"); got != "Bearer "+testToken {
					t.Errorf("Authorization = %q", got)
				}
				for _, h := range []string{"MS-CorrelationId", "MS-RequestId"} {
					if len(r.Header.Get(h)) != 36 {
						t.Errorf("%s = %q, want a GUID", h, r.Header.Get(h))
					}
				}
				if got := r.Header.Get("User-Agent"); got != "storeflight-test" {
					t.Errorf("User-Agent = %q", got)
				}
				body, _ := io.ReadAll(r.Body)
				if tc.wantBody == "" {
					if len(body) != 0 {
						t.Errorf("unexpected body %s", body)
					}
				} else {
					if ct := r.Header.Get("Content-Type"); ct != "application/json" {
						t.Errorf("Content-Type = %q", ct)
					}
					jsonEqual(t, string(body), tc.wantBody)
				}
				if tc.wantNoOut {
					w.WriteHeader(http.StatusNoContent)
					return
				}
				w.Header().Set("MS-CorrelationId", "corr-ok")
				io.WriteString(w, tc.respond)
			})
			got, err := tc.call(t.Context(), f.client)
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			if tc.wantNoOut {
				return
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty(), cmpopts.IgnoreUnexported(AppSubmission{})); diff != "" {
				t.Errorf("result mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMethodErrors(t *testing.T) {
	t.Parallel()
	statuses := []struct {
		status int
		code   string
		is     error
	}{
		{400, "InvalidParameterValue", nil},
		{404, "ResourceNotFound", ErrNotFound},
		{409, "InvalidState", ErrConflict},
	}
	sentinels := []error{ErrNotFound, ErrConflict, ErrThrottled, ErrUnauthorized, ErrOutcomeUnknown}
	for _, tc := range methodCases() {
		for _, st := range statuses {
			t.Run(fmt.Sprintf("%s/%d", tc.name, st.status), func(t *testing.T) {
				t.Parallel()
				f := setup(t, nil)
				calls := 0
				f.mux.HandleFunc(tc.path, func(w http.ResponseWriter, r *http.Request) {
					calls++
					storeError(w, st.status, st.code, "the Store says no", "corr-123")
				})
				_, err := tc.call(t.Context(), f.client)
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("error %v (%T) is not an *Error", err, err)
				}
				if calls != 1 {
					t.Errorf("server saw %d requests, want 1 (4xx is not retried)", calls)
				}
				want := &Error{Method: tc.method, Path: tc.path, StatusCode: st.status, Code: st.code, Message: "the Store says no", CorrelationID: "corr-123"}
				if diff := cmp.Diff(want, e, cmpopts.IgnoreUnexported(Error{}), cmpopts.IgnoreFields(Error{}, "Op")); diff != "" {
					t.Errorf("error mismatch (-want +got):\n%s", diff)
				}
				if e.Op == "" || !strings.HasPrefix(err.Error(), e.Op+": "+tc.method+" "+tc.path+": ") {
					t.Errorf("message %q does not start with op, method and path", err)
				}
				if !strings.Contains(err.Error(), fmt.Sprintf("%d %s: the Store says no (correlation ID corr-123)", st.status, st.code)) {
					t.Errorf("message %q lacks status, code, message or correlation ID", err)
				}
				for _, s := range sentinels {
					if got, want := errors.Is(err, s), s == st.is; got != want {
						t.Errorf("errors.Is(err, %v) = %v, want %v", s, got, want)
					}
				}
			})
		}
	}
}

func TestEmptyIDsAndBadPercentageSendNothing(t *testing.T) {
	t.Parallel()
	f := setup(t, nil) // the catch-all fails on any request
	ctx := t.Context()
	calls := map[string]func() error{
		"ListFlights":     func() error { _, err := f.client.ListFlights(ctx, ""); return err },
		"GetFlight":       func() error { _, err := f.client.GetFlight(ctx, appID, ""); return err },
		"GetApplication":  func() error { _, err := f.client.GetApplication(ctx, ""); return err },
		"CreateFlightSub": func() error { _, err := f.client.CreateFlightSubmission(ctx, "", flightID); return err },
		"GetFlightSub":    func() error { _, err := f.client.GetFlightSubmission(ctx, appID, flightID, ""); return err },
		"UpdateNil":       func() error { _, err := f.client.UpdateFlightSubmission(ctx, appID, flightID, nil); return err },
		"UpdateNoID": func() error {
			_, err := f.client.UpdateFlightSubmission(ctx, appID, flightID, &FlightSubmission{})
			return err
		},
		"DeleteFlightSub": func() error { return f.client.DeleteFlightSubmission(ctx, appID, flightID, "") },
		"CreateAppSub":    func() error { _, err := f.client.CreateAppSubmission(ctx, ""); return err },
		"GetAppSub":       func() error { _, err := f.client.GetAppSubmission(ctx, appID, ""); return err },
		"Commit": func() error {
			_, err := f.client.CommitSubmission(ctx, SubmissionKey{ApplicationID: appID})
			return err
		},
		"Status":          func() error { _, err := f.client.SubmissionStatus(ctx, SubmissionKey{SubmissionID: subID}); return err },
		"Rollout":         func() error { _, err := f.client.GetPackageRollout(ctx, SubmissionKey{}); return err },
		"Halt":            func() error { _, err := f.client.HaltPackageRollout(ctx, SubmissionKey{}); return err },
		"Finalize":        func() error { _, err := f.client.FinalizePackageRollout(ctx, SubmissionKey{}); return err },
		"Percentage>100":  func() error { _, err := f.client.UpdatePackageRolloutPercentage(ctx, flightKey, 100.5); return err },
		"Percentage<0":    func() error { _, err := f.client.UpdatePackageRolloutPercentage(ctx, flightKey, -1); return err },
		"PercentageNaN":   func() error { _, err := f.client.UpdatePackageRolloutPercentage(ctx, flightKey, nan()); return err },
		"PercentageNoKey": func() error { _, err := f.client.UpdatePackageRolloutPercentage(ctx, SubmissionKey{}, 5); return err },
	}
	for name, call := range calls {
		if err := call(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func nan() float64 { var z float64; return z / z }

func TestPathSegmentsEscaped(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	var got string
	f.mux.HandleFunc("/v1.0/my/applications/{app}/flights/{flight}", func(w http.ResponseWriter, r *http.Request) {
		got = r.URL.EscapedPath()
		io.WriteString(w, `{}`)
	})
	if _, err := f.client.GetFlight(t.Context(), "a/b?c", ".."); err != nil {
		t.Fatal(err)
	}
	if want := "/v1.0/my/applications/a%2Fb%3Fc/flights/%2E%2E"; got != want {
		t.Errorf("path = %q, want %q", got, want)
	}
}
