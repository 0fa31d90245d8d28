package storeapi

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestNew(t *testing.T) {
	t.Parallel()
	c, err := New(&fakeCred{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.base.String(), DefaultBaseURL+"/v1.0/my/"; got != want {
		t.Errorf("base = %q, want %q", got, want)
	}
	if c.rc.RetryMax != DefaultRetryMax || c.rc.RetryWaitMin != DefaultRetryWaitMin || c.rc.RetryWaitMax != DefaultRetryWaitMax || c.maxRA != DefaultMaxRetryAfter {
		t.Errorf("defaults not applied: %+v", c.rc)
	}
	if c.rc.HTTPClient.Timeout != DefaultAttemptTimeout || c.rc.Logger != nil {
		t.Errorf("attempt timeout %v, logger %v", c.rc.HTTPClient.Timeout, c.rc.Logger)
	}
	tr := c.rc.HTTPClient.Transport.(*transport)
	if tr.budget.n != DefaultRequestBudget {
		t.Errorf("budget = %d", tr.budget.n)
	}
	if ht, ok := tr.next.(*http.Transport); !ok || ht.Proxy == nil {
		t.Errorf("default transport %T does not honour HTTPS_PROXY", tr.next)
	}

	c, err = New(&fakeCred{}, &Options{BaseURL: "http://127.0.0.1:8080/prefix/", RetryMax: -1, RequestBudget: -5, RetryWaitMin: time.Minute, RetryWaitMax: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.base.String(); got != "http://127.0.0.1:8080/prefix/v1.0/my/" {
		t.Errorf("base = %q", got)
	}
	if c.rc.RetryMax != 0 || c.rc.HTTPClient.Transport.(*transport).budget.n != 0 || c.rc.RetryWaitMax != time.Minute {
		t.Errorf("negative values or wait order not applied")
	}

	for _, bad := range []string{"ftp://x", "manage.devcenter.microsoft.com", "https://u:p@h", "https://h/?sig=SASSECRET", "://"} {
		if _, err := New(&fakeCred{}, &Options{BaseURL: bad}); err == nil {
			t.Errorf("New accepted base URL %q", bad)
		} else {
			mustNotContainSecrets(t, "New error", err.Error())
		}
	}
	if _, err := New(nil, nil); err == nil {
		t.Error("New accepted a nil credential")
	}
}

func TestListFlightsFollowsNextLink(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	var queries []string
	// The first page is asked for as documented; later ones as @nextLink
	// says (with its trailing slash).
	f.mux.HandleFunc("GET /v1.0/my/applications/"+appID+"/listflights", func(w http.ResponseWriter, r *http.Request) {
		queries = append(queries, r.URL.RawQuery)
		fmt.Fprint(w, `{"value":[{"flightId":"a"},{"flightId":"b"}],"totalCount":3,"@nextLink":"applications/`+appID+`/listflights/?skip=2&top=2"}`)
	})
	f.mux.HandleFunc("GET /v1.0/my/applications/"+appID+"/listflights/{$}", func(w http.ResponseWriter, r *http.Request) {
		queries = append(queries, r.URL.RawQuery)
		switch r.URL.Query().Get("skip") {
		case "2":
			fmt.Fprint(w, `{"value":[{"flightId":"c"}],"totalCount":3,"@nextLink":"applications/`+appID+`/listflights/?skip=3&top=2"}`)
		case "3":
			fmt.Fprint(w, `{"value":[],"totalCount":3}`)
		default:
			t.Errorf("unexpected page %q", r.URL.RawQuery)
		}
	})

	flights, err := f.client.ListFlights(t.Context(), appID)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, fl := range flights {
		ids = append(ids, fl.FlightID)
	}
	if diff := cmp.Diff([]string{"a", "b", "c"}, ids); diff != "" {
		t.Errorf("flights (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"", "skip=2&top=2", "skip=3&top=2"}, queries); diff != "" {
		t.Errorf("queries (-want +got):\n%s", diff)
	}
}

func TestListFlightsRefusesBadNextLink(t *testing.T) {
	t.Parallel()
	for name, link := range map[string]string{
		"other host": "https://evil.test/v1.0/my/applications/x/listflights",
		"same page":  "applications/" + appID + "/listflights",
		"invalid":    "%zz",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, nil)
			n := 0
			f.mux.HandleFunc("GET /v1.0/my/applications/"+appID+"/listflights", func(w http.ResponseWriter, r *http.Request) {
				n++
				fmt.Fprintf(w, `{"value":[{"flightId":"a"}],"@nextLink":%q}`, link)
			})
			if _, err := f.client.ListFlights(t.Context(), appID); err == nil || !strings.HasPrefix(err.Error(), "list flights: ") {
				t.Errorf("err = %v", err)
			}
			if n != 1 {
				t.Errorf("%d requests", n)
			}
		})
	}
}

func TestErrorBodies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int
		header     map[string]string
		body       string
		wantCode   string
		wantMsg    string
		wantString string // exact Error(); "" to skip
		wantIs     error
	}{
		{name: "commit 409 exact message", status: 409, header: map[string]string{"MS-CorrelationId": "c-1"},
			body:     `{"code":"InvalidState","message":"This application uses features that are not supported","details":[]}`,
			wantCode: "InvalidState", wantMsg: "This application uses features that are not supported", wantIs: ErrConflict,
			wantString: "commit flight submission: POST " + fsPath + "/commit: 409 InvalidState: This application uses features that are not supported (correlation ID c-1); hint: " + unsupportedHint},
		{name: "HTML page", status: 502, body: "<html><head><title>502</title><style>p{}</style></head><body><h1>Bad   Gateway</h1>\n<p>nginx</p></body></html>",
			wantMsg: "502 Bad Gateway nginx", wantIs: ErrOutcomeUnknown},
		{name: "empty body", status: 404, wantMsg: "Not Found", wantIs: ErrNotFound},
		{name: "nested error", status: 400, body: `{"error":{"code":"BadRequest","message":"nope"}}`, wantCode: "BadRequest", wantMsg: "nope"},
		{name: "401 Identity cannot be authorized gets the hint", status: 401,
			body:     `{"code":"Unauthorized","message":"Identity cannot be authorized. CorrelationId: 42"}`,
			wantCode: "Unauthorized", wantMsg: "Identity cannot be authorized. CorrelationId: 42", wantIs: ErrUnauthorized},
		{name: "403", status: 403, body: `{"code":"Forbidden","message":"no"}`, wantCode: "Forbidden", wantMsg: "no", wantIs: ErrUnauthorized},
		{name: "echoed SAS URL and token are redacted", status: 400,
			body:     `{"code":"InvalidParameterValue","message":"bad url https://blob.test/x?sv=1&sig=SASSECRET with Bearer ` + testToken + `"}`,
			wantCode: "InvalidParameterValue", wantMsg: "bad url https://blob.test/x?sv=1&sig=SASSECRET with Bearer " + testToken},
		{name: "huge body is cut", status: 500, body: strings.Repeat("x", 3<<20), wantMsg: strings.Repeat("x", 200) + "…", wantIs: ErrOutcomeUnknown},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, nil)
			f.mux.HandleFunc("POST "+fsPath+"/commit", func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.body)
			})
			_, err := f.client.CommitSubmission(t.Context(), flightKey)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err %v is not *Error", err)
			}
			if e.Code != tc.wantCode || e.Message != tc.wantMsg {
				t.Errorf("code %q message %.300q, want %q %.300q", e.Code, e.Message, tc.wantCode, tc.wantMsg)
			}
			if tc.wantString != "" && err.Error() != tc.wantString {
				t.Errorf("Error() =\n%s\nwant\n%s", err, tc.wantString)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false", err, tc.wantIs)
			}
			if len(e.CorrelationID) == 0 {
				t.Error("no correlation ID: the one sent should be kept")
			}
			hint := strings.Contains(err.Error(), "Partner Center")
			if want := strings.Contains(tc.body, "Identity cannot be authorized") || strings.Contains(tc.body, "not supported"); hint != want {
				t.Errorf("hint present = %v, want %v: %v", hint, want, err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("multi-line error: %q", err)
			}
			mustNotContainSecrets(t, "error", err.Error())
		})
	}
}

func TestInvalidSuccessBody(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	f.mux.HandleFunc("GET "+fsPath, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "<html>maintenance</html>")
	})
	_, err := f.client.GetFlightSubmission(t.Context(), appID, flightID, subID)
	var e *Error
	if !errors.As(err, &e) || e.Op != "get flight submission" || e.StatusCode != 200 || e.Err == nil {
		t.Fatalf("err = %#v", err)
	}
	if !strings.HasPrefix(err.Error(), "get flight submission: GET "+fsPath+": 200 OK: decode response") {
		t.Errorf("message %q", err)
	}
	if e.Retryable() {
		t.Error("a decode error is not retryable")
	}
}

// The token is fetched for every attempt and sent only to the Store host,
// not to a host a redirect leads to.
func TestTokenOnlyToStoreHost(t *testing.T) {
	t.Parallel()
	var otherAuth []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		otherAuth = append(otherAuth, r.Header.Get("Authorization"))
		io.WriteString(w, `{"id":"`+appID+`"}`)
	}))
	t.Cleanup(other.Close)
	f := setup(t, nil)
	var storeAuth []string
	f.mux.HandleFunc("GET /v1.0/my/applications/"+appID, func(w http.ResponseWriter, r *http.Request) {
		storeAuth = append(storeAuth, r.Header.Get("Authorization"))
		if len(storeAuth) == 1 {
			w.WriteHeader(503)
			return
		}
		http.Redirect(w, r, other.URL+"/elsewhere?sig=SASSECRET", http.StatusTemporaryRedirect)
	})
	app, err := f.client.GetApplication(t.Context(), appID)
	if err != nil || app.ID != appID {
		t.Fatalf("GetApplication = %v, %v", app, err)
	}
	if diff := cmp.Diff([]string{"Bearer " + testToken, "Bearer " + testToken}, storeAuth); diff != "" {
		t.Errorf("Store saw (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{""}, otherAuth); diff != "" {
		t.Errorf("other host saw Authorization (-want +got):\n%s", diff)
	}
	if n := f.cred.count(); n != 2 {
		t.Errorf("GetToken called %d times, want 2 (one per Store attempt)", n)
	}
	for _, s := range f.cred.scopes {
		if diff := cmp.Diff([]string{Scope}, s); diff != "" {
			t.Errorf("scopes (-want +got):\n%s", diff)
		}
	}
}

func TestTokenErrorNotRetriedNotLeaked(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	f.cred.err = errors.New("AADSTS700016: client_secret=SASSECRET rejected")
	_, err := f.client.CommitSubmission(t.Context(), flightKey) // the catch-all fails if anything is sent
	if err == nil || errors.Is(err, ErrOutcomeUnknown) {
		t.Fatalf("err = %v: want an error that is not ErrOutcomeUnknown", err)
	}
	if f.cred.count() != 1 {
		t.Errorf("GetToken called %d times, want 1", f.cred.count())
	}
	mustNotContainSecrets(t, "error", err.Error())
}

// Every attempt logs one line with method, path, status and correlation ID,
// and neither logs nor errors carry a token or a query.
func TestLogsAndErrorsCarryNoSecrets(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	n := 0
	f.mux.HandleFunc("POST "+fsPath+"/updatepackagerolloutpercentage", func(w http.ResponseWriter, r *http.Request) {
		n++
		if n == 1 {
			w.Header().Set("Retry-After", "0")
			storeError(w, 429, "TooManyRequests", "slow down", "corr-429")
			return
		}
		storeError(w, 409, "InvalidState", "rollout not in progress; upload to https://blob.test/x?sig=SASSECRET", "corr-409")
	})
	_, err := f.client.UpdatePackageRolloutPercentage(t.Context(), flightKey, 33.3)
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "percentage=") {
		t.Errorf("error carries the query: %v", err)
	}
	mustNotContainSecrets(t, "error", err.Error())

	// A transport error whose text carries a URL with a query.
	m := &memStore{steps: []step{{err: errors.New(`dial "https://store.test/x?sig=SASSECRET": Bearer ` + testToken)}}}
	c, _ := newMemClient(t, m, func(o *Options) { o.RetryMax = -1; o.Logger = f.client.logger })
	_, err = c.GetApplication(t.Context(), appID)
	if err == nil {
		t.Fatal("no error")
	}
	mustNotContainSecrets(t, "transport error", err.Error())

	logs := f.log.String()
	lines := strings.Split(strings.TrimSpace(logs), "\n")
	if len(lines) != 3 {
		t.Errorf("%d log lines, want 3 (one per attempt):\n%s", len(lines), logs)
	}
	for _, want := range []string{"method=POST", "path=" + fsPath + "/updatepackagerolloutpercentage", "status=429", "correlation_id=corr-429", "status=409", "correlation_id=corr-409", "duration="} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
	mustNotContainSecrets(t, "logs", logs)
	if strings.Contains(logs, "percentage=") {
		t.Errorf("logs carry a query:\n%s", logs)
	}
}

func TestErrorMethods(t *testing.T) {
	t.Parallel()
	tests := []struct {
		e         *Error
		want      string
		retryable bool
	}{
		{&Error{Op: "x", Method: "GET", Path: "/p", Err: errors.New("dial tcp: refused")}, "x: GET /p: dial tcp: refused", true},
		{&Error{Method: "GET", Path: "/p", StatusCode: 503}, "GET /p: 503", true},
		{&Error{Method: "GET", Path: "/p", StatusCode: 429, Code: "T"}, "GET /p: 429 T", true},
		{&Error{Method: "GET", Path: "/p"}, "GET /p: failed", false},
		{&Error{Method: "POST", Path: "/p", StatusCode: 500, outcomeUnknown: true}, "POST /p: 500; outcome unknown: read the state before sending it again", true},
	}
	for _, tc := range tests {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
		if got := tc.e.Retryable(); got != tc.retryable {
			t.Errorf("%q: Retryable() = %v", tc.want, got)
		}
	}
}
