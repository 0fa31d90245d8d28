package storeapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/storeflight/storeflight/internal/clock"
	"github.com/storeflight/storeflight/internal/storefake"
)

var (
	march1 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	march3 = time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)
)

const (
	failurehitsPath = "/v1.0/my/analytics/failurehits"
	usagedailyPath  = "/v1.0/my/analytics/usagedaily"
)

func TestFailureHitsReadsEveryPage(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	var queries []string
	f.mux.HandleFunc("GET "+failurehitsPath, func(w http.ResponseWriter, r *http.Request) {
		queries = append(queries, r.URL.RawQuery)
		switch r.URL.Query().Get("skip") {
		case "0":
			// The documented @nextLink: relative, yyyy/mm/dd, raw spaces.
			fmt.Fprint(w, `{"Value":[
				{"date":"2026-03-01","applicationId":"`+appID+`","packageVersion":"2.0.0.0","eventType":"crash","deviceCount":7.14285714285714,"eventCount":8.94736842105263,"market":"US"},
				{"date":"2026-03-02 00:00:00","packageVersion":"1.0.0.0","eventType":"hang","deviceCount":6.0,"eventCount":1.05263157894737}],
				"@nextLink":"failurehits?applicationId=`+appID+`&aggregationLevel=day&startDate=2026/03/01&endDate=2026/03/03&top=2&skip=2&filter=packageVersion eq '2.0.0.0'",
				"TotalCount":3}`)
		case "2":
			fmt.Fprint(w, `{"Value":[{"date":"2026-03-04","packageVersion":"2.0.0.0","eventType":"memory","deviceCount":1,"eventCount":null}],"@nextLink":null,"TotalCount":3}`)
		default:
			t.Errorf("unexpected page %q", r.URL.RawQuery)
		}
	})

	got, err := f.client.FailureHits(t.Context(), AnalyticsQuery{ApplicationID: appID, From: march1.Add(23 * time.Hour), To: march3, PackageVersions: []string{"2.0.0.0", "1.0.0.0"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []FailureHit{
		{Date: march1, PackageVersion: "2.0.0.0", EventType: FailureCrash, DeviceCount: 7.14285714285714, EventCount: 8.94736842105263},
		{Date: march1.AddDate(0, 0, 1), PackageVersion: "1.0.0.0", EventType: FailureHang, DeviceCount: 6, EventCount: 1.05263157894737},
		{Date: march1.AddDate(0, 0, 3), PackageVersion: "2.0.0.0", EventType: FailureMemory, DeviceCount: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	// Dates as mm/dd/yyyy, the filter's spaces as %20, pages by skip.
	query := "aggregationLevel=day&applicationId=" + appID + "&endDate=03%2F03%2F2026" +
		"&filter=packageVersion%20eq%20%272.0.0.0%27%20or%20packageVersion%20eq%20%271.0.0.0%27" +
		"&groupby=packageVersion%2CeventType&orderby=packageVersion&skip=%d&startDate=03%2F01%2F2026&top=10000"
	wantQueries := []string{strings.Replace(query, "%d", "0", 1), strings.Replace(query, "%d", "2", 1)}
	if diff := cmp.Diff(wantQueries, queries); diff != "" {
		t.Errorf("queries (-want +got):\n%s", diff)
	}
}

func TestUsageDailyReadsRows(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	var query string
	f.mux.HandleFunc("GET "+usagedailyPath, func(w http.ResponseWriter, r *http.Request) {
		query = r.URL.RawQuery
		fmt.Fprint(w, `{"Value":[
			{"date":"2026-03-01","packageVersion":"2.0.0.0","deviceType":"All","market":"All","dailyActiveDevices":1234.5,"dailyActiveUsers":1200},
			{"date":"03/02/2026","packageVersion":"1.0.0.0","dailyActiveDevices":98000}],"TotalCount":2}`)
	})
	got, err := f.client.UsageDaily(t.Context(), AnalyticsQuery{ApplicationID: appID, From: march1, To: march3})
	if err != nil {
		t.Fatal(err)
	}
	want := []UsageDay{
		{Date: march1, PackageVersion: "2.0.0.0", DailyActiveDevices: 1234.5},
		{Date: march1.AddDate(0, 0, 1), PackageVersion: "1.0.0.0", DailyActiveDevices: 98000},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	wantQuery := "applicationId=" + appID + "&endDate=03%2F03%2F2026&groupby=packageVersion%2Cdate&orderby=date&skip=0&startDate=03%2F01%2F2026&top=10000"
	if query != wantQuery {
		t.Errorf("query %s, want %s", query, wantQuery)
	}
}

// The Store's refusals are told apart from failures a later run may get
// past; each refusal names what to check.
func TestAnalyticsErrors(t *testing.T) {
	t.Parallel()
	badTop := `{"code":"BadRequest","data":[],"details":[],"innererror":{"code":"InvalidQueryParameters","data":["top parameter cannot be more than 10000"],"details":[],"message":"One or More Query Parameters has invalid values.","source":"AnalyticsAPI"},"message":"The calling client sent a bad request to the service.","source":"AnalyticsAPI"}`
	tests := []struct {
		name          string
		status        int
		body          string
		wantRefused   bool
		wantRetryable bool
		wantInError   []string
	}{
		{name: "400 with the analytics error body", status: 400, body: badTop, wantRefused: true,
			wantInError: []string{"400 BadRequest: The calling client sent a bad request to the service. (InvalidQueryParameters: One or More Query Parameters has invalid values. top parameter cannot be more than 10000)", analyticsBadQueryHint, "(correlation ID c-9)"}},
		{name: "401", status: 401, body: `{"code":"Unauthorized","message":"Identity cannot be authorized."}`, wantRefused: true, wantInError: []string{"Manager role"}},
		{name: "403", status: 403, body: `{"code":"Forbidden","message":"Access denied"}`, wantRefused: true, wantInError: []string{analyticsRightsHint}},
		{name: "404", status: 404, body: `{"code":"NotFound","message":"Not found"}`, wantRefused: true, wantInError: []string{analyticsNotFoundHint}},
		{name: "429", status: 429, body: `{"code":"TooManyRequests","message":"slow down"}`, wantRetryable: true},
		{name: "500", status: 500, body: `{"code":"InternalServerError","message":"oops"}`, wantRetryable: true},
		{name: "503 HTML", status: 503, body: `<html>down</html>`, wantRetryable: true},
		{name: "a row without a date", status: 200, body: `{"Value":[{"date":"yesterday","packageVersion":"1.0.0.0","dailyActiveDevices":3}],"TotalCount":1}`,
			wantInError: []string{`row date "yesterday" is not a date`}},
		{name: "not JSON", status: 200, body: `{"Value":[`, wantInError: []string{"decode response"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, func(o *Options) { o.RetryMax = -1 })
			f.mux.HandleFunc("GET "+usagedailyPath, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("MS-CorrelationId", "c-9")
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			})
			_, err := f.client.UsageDaily(t.Context(), AnalyticsQuery{ApplicationID: appID, From: march1, To: march3})
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v (%T), want *Error", err, err)
			}
			if got := AnalyticsRefused(err); got != tc.wantRefused {
				t.Errorf("AnalyticsRefused = %v, want %v", got, tc.wantRefused)
			}
			if got := e.Retryable(); got != tc.wantRetryable {
				t.Errorf("Retryable = %v, want %v", got, tc.wantRetryable)
			}
			for _, s := range tc.wantInError {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
			if e.Op != "read daily usage" || e.Path != usagedailyPath {
				t.Errorf("Op %q Path %q", e.Op, e.Path)
			}
		})
	}
	if AnalyticsRefused(errors.New("plain")) || AnalyticsRefused(nil) {
		t.Error("AnalyticsRefused is true for an error that is not an *Error")
	}
}

// A retryable failure is retried like every other read, and every page and
// retry waits for the request budget.
func TestAnalyticsRetriesAndBudget(t *testing.T) {
	t.Parallel()
	fake := clock.NewFake(time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC))
	page := func(skip int, more bool) step {
		link := "null"
		if more {
			link = `"failurehits?skip=` + fmt.Sprint(skip+1) + `"`
		}
		return step{status: 200, body: `{"Value":[{"date":"2026-03-01","packageVersion":"2.0.0.0","eventType":"crash","deviceCount":1}],"@nextLink":` + link + `,"TotalCount":3}`}
	}
	m := &memStore{steps: []step{page(0, true), {status: 503, header: map[string]string{"Retry-After": "0"}}, page(1, true), page(2, false)}}
	c, _ := newMemClient(t, m, func(o *Options) { o.Clock, o.RequestBudget = fake, 2 })
	rows, err := c.FailureHits(t.Context(), AnalyticsQuery{ApplicationID: appID, From: march1, To: march3})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || m.attempts() != 4 {
		t.Errorf("%d rows in %d attempts, want 3 in 4", len(rows), m.attempts())
	}
	var skips []string
	for _, r := range m.requests {
		skips = append(skips, r.URL.Query().Get("skip"))
	}
	if diff := cmp.Diff([]string{"0", "1", "1", "2"}, skips); diff != "" {
		t.Errorf("skips (-want +got):\n%s", diff)
	}
	if slept, _ := fake.Slept(); slept != time.Minute {
		t.Errorf("slept %v for 4 attempts with a budget of 2 a minute, want 1m", slept)
	}
}

// A server that ignores skip and always links to more is read only up to
// the TotalCount it announces.
func TestAnalyticsStopsAtTotalCount(t *testing.T) {
	t.Parallel()
	m := &memStore{steps: []step{{status: 200, body: `{"Value":[{"date":"2026-03-01","packageVersion":"1","dailyActiveDevices":1},{"date":"2026-03-02","packageVersion":"1","dailyActiveDevices":1}],"@nextLink":"usagedaily?skip=2","TotalCount":4}`}}}
	c, _ := newMemClient(t, m, nil)
	rows, err := c.UsageDaily(t.Context(), AnalyticsQuery{ApplicationID: appID, From: march1, To: march3})
	if err != nil || len(rows) != 4 || m.attempts() != 2 {
		t.Errorf("%d rows in %d requests, err %v; want 4 in 2", len(rows), m.attempts(), err)
	}
}

func TestAnalyticsBadQuerySendsNothing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		q    AnalyticsQuery
		want string
	}{
		{"no app", AnalyticsQuery{From: march1, To: march3}, "empty ID"},
		{"no days", AnalyticsQuery{ApplicationID: appID}, "not a range"},
		{"end before start", AnalyticsQuery{ApplicationID: appID, From: march3, To: march1}, "2026-03-03 to 2026-03-01 are not a range"},
		{"quote in a version", AnalyticsQuery{ApplicationID: appID, From: march1, To: march3, PackageVersions: []string{"1.0' or '1'='1"}}, "cannot be put in a filter"},
		{"empty version", AnalyticsQuery{ApplicationID: appID, From: march1, To: march3, PackageVersions: []string{""}}, "cannot be put in a filter"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := &memStore{steps: []step{{status: 200, body: `{"Value":[]}`}}}
			c, _ := newMemClient(t, m, nil)
			_, err1 := c.FailureHits(t.Context(), tc.q)
			_, err2 := c.UsageDaily(t.Context(), tc.q)
			for _, err := range []error{err1, err2} {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("err = %v, want one saying %q", err, tc.want)
				}
			}
			if m.attempts() != 0 {
				t.Errorf("%d requests sent", m.attempts())
			}
		})
	}
}

// The client against the simulator, which pages as the API does: the
// same rows whether a page holds three rows or all of them.
func TestAnalyticsAgainstStorefake(t *testing.T) {
	t.Parallel()
	read := func(pageRows int) ([]FailureHit, []UsageDay, int) {
		clk := clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
		srv, err := storefake.New(&storefake.Options{Clock: clk, BlobDir: t.TempDir(), Analytics: storefake.AnalyticsOptions{Lag: -1, PageRows: pageRows, Seed: 9}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv.Close() })
		if err := srv.Seed(storefake.Seed{Apps: []storefake.SeedApp{{
			ID: appID, Name: "App", Published: &storefake.SeedSubmission{Packages: []storefake.SeedPackage{{FileName: "a.msix", Version: "1.0.0.0"}}},
			Flights: []storefake.SeedFlight{{Name: "Insiders", Published: &storefake.SeedSubmission{Packages: []storefake.SeedPackage{{FileName: "b.msix", Version: "2.0.0.0"}}}}},
		}}}); err != nil {
			t.Fatal(err)
		}
		clk.Advance(6 * 24 * time.Hour)
		c, err := New(srv.Credential(), &Options{BaseURL: srv.URL(), HTTPClient: srv.HTTPClient(), Clock: clk, RequestBudget: -1})
		if err != nil {
			t.Fatal(err)
		}
		q := AnalyticsQuery{ApplicationID: appID, From: march1, To: march1.AddDate(0, 0, 5)}
		hits, err := c.FailureHits(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		usage, err := c.UsageDaily(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		return hits, usage, len(srv.Requests())
	}
	hits, usage, requests := read(3)
	allHits, allUsage, fewer := read(0)
	if diff := cmp.Diff(allHits, hits); diff != "" {
		t.Errorf("failure hits by pages of 3 (-one page +pages):\n%s", diff)
	}
	if diff := cmp.Diff(allUsage, usage); diff != "" {
		t.Errorf("usage by pages of 3 (-one page +pages):\n%s", diff)
	}
	// Six days (March 1 to 6) of two versions, each with crashes and hangs.
	if len(usage) != 12 || len(hits) < 20 || fewer != 2 || requests != (len(hits)+2)/3+(len(usage)+2)/3 {
		t.Errorf("%d usage rows, %d failure rows, %d requests in pages of 3, %d in one", len(usage), len(hits), requests, fewer)
	}
}
