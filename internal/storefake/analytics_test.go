package storefake

import (
	"encoding/json"
	"math"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// page is an analytics answer.
type page struct {
	Value      []map[string]any `json:"Value"`
	NextLink   *string          `json:"@nextLink"`
	TotalCount int              `json:"TotalCount"`
}

// analytics reads one page of an analytics endpoint; query is raw.
func (f *fixture) analytics(endpoint, query string) page {
	f.t.Helper()
	r := f.do("GET", "analytics/"+endpoint+"?"+query, nil)
	f.mustStatus(r, 200)
	var p page
	if err := json.Unmarshal(r.body, &p); err != nil {
		f.t.Fatalf("%v in %s", err, r.body)
	}
	return p
}

// usage returns usagedaily's active devices by day and version.
func (f *fixture) usage(from, to string) map[string]map[string]float64 {
	f.t.Helper()
	return f.sums("usagedaily", "applicationId="+appID+"&startDate="+from+"&endDate="+to+"&groupby=packageVersion,date", "dailyActiveDevices",
		func(row map[string]any) string { return row["packageVersion"].(string) })
}

// failures returns failurehits' failing devices by day, version and kind.
func (f *fixture) failures(from, to string) map[string]map[string]float64 {
	f.t.Helper()
	return f.sums("failurehits", "applicationId="+appID+"&startDate="+from+"&endDate="+to+"&aggregationLevel=day&groupby=packageVersion,eventType", "deviceCount",
		func(row map[string]any) string {
			return row["packageVersion"].(string) + " " + row["eventType"].(string)
		})
}

// sums reads one page and sums each row's field by day and key.
func (f *fixture) sums(endpoint, query, field string, key func(map[string]any) string) map[string]map[string]float64 {
	f.t.Helper()
	out := map[string]map[string]float64{}
	for _, row := range f.analytics(endpoint, query).Value {
		d := row["date"].(string)
		if out[d] == nil {
			out[d] = map[string]float64{}
		}
		out[d][key(row)] += row[field].(float64)
	}
	return out
}

// seedFlightOnly seeds an app whose only audience is one flight, with 1.0.0.0
// published at t0 (10:00 on March 2) and no rollout.
func (f *fixture) seedFlightOnly() {
	f.t.Helper()
	if err := f.s.Seed(Seed{Apps: []SeedApp{{ID: appID, Name: "Contoso", Flights: []SeedFlight{{
		ID: flightID, Name: "Beta", Published: &SeedSubmission{ID: "1152921504621243100", Packages: []SeedPackage{{FileName: "a.msix", Version: "1.0.0.0"}}},
	}}}}}); err != nil {
		f.t.Fatal(err)
	}
}

// publishGradual publishes 2.0.0.0 on the flight at pct; with one-minute
// stages it is published six minutes after the call.
func (f *fixture) publishGradual(pct float64) string {
	f.t.Helper()
	path, _ := f.prepare(map[string]any{"packageDeliveryOptions": map[string]any{"packageRollout": map[string]any{"isPackageRollout": true, "packageRolloutPercentage": pct}}})
	f.mustStatus(f.do("POST", path+"/commit", nil), 200)
	f.clk.Advance(6 * time.Minute)
	if st := f.status(path); st != "Published" {
		f.t.Fatalf("status %s", st)
	}
	return path
}

// The active devices of each version follow the rollout, change by
// change, weighted by the part of the day each state lasted.
func TestUsageFollowsTheRollout(t *testing.T) {
	t.Parallel()
	f := newFixture(t, &Options{Stages: minuteStages, Analytics: AnalyticsOptions{Unreachable: -1}})
	f.seedFlightOnly()
	path := f.publishGradual(5) // published 10:06 on March 2
	at := func(day, hour int) time.Time { return time.Date(2026, 3, day, hour, 0, 0, 0, time.UTC) }
	f.clk.Advance(at(4, 12).Sub(f.clk.Now()))
	f.mustStatus(f.do("POST", path+"/updatepackagerolloutpercentage?percentage=20", nil), 200)
	f.clk.Advance(12 * time.Hour) // March 5, 00:00
	f.mustStatus(f.do("POST", path+"/haltpackagerollout", nil), 200)
	f.clk.Advance(at(7, 0).Sub(f.clk.Now()))

	// March 2: 1.0.0.0 alone from 10:00 to 10:06, then 95%; 2.0.0.0 5%
	// for the 13.9 hours left. March 4: 5% until noon, 20% after.
	// March 5: halted, the devices that had 2.0.0.0 keep it.
	want := map[string]map[string]float64{
		"2026-03-02": {"1.0.0.0": math.Round(100000 * (0.1 + 13.9*0.95) / 24), "2.0.0.0": math.Round(100000 * 13.9 * 0.05 / 24)},
		"2026-03-03": {"1.0.0.0": 95000, "2.0.0.0": 5000},
		"2026-03-04": {"1.0.0.0": 87500, "2.0.0.0": 12500},
		"2026-03-05": {"1.0.0.0": 80000, "2.0.0.0": 20000},
	}
	if diff := cmp.Diff(want, f.usage("03/01/2026", "03/07/2026")); diff != "" {
		t.Errorf("active devices (-want +got):\n%s", diff)
	}
}

// The devices a gradual rollout cannot reach keep the old packages at
// 100%, until the rollout is finalized.
func TestUnreachableDevicesWaitForFinalize(t *testing.T) {
	t.Parallel()
	f := newFixture(t, &Options{Stages: minuteStages, Analytics: AnalyticsOptions{Unreachable: 0.1, Lag: -1}})
	f.seedFlightOnly()
	path := f.publishGradual(5)
	f.clk.Advance(time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC).Sub(f.clk.Now()))
	f.mustStatus(f.do("POST", path+"/updatepackagerolloutpercentage?percentage=100", nil), 200)
	f.clk.Advance(24 * time.Hour)
	f.mustStatus(f.do("POST", path+"/finalizepackagerollout", nil), 200)
	f.clk.Advance(24 * time.Hour)
	want := map[string]map[string]float64{
		"2026-03-03": {"1.0.0.0": 10000, "2.0.0.0": 90000},
		"2026-03-04": {"2.0.0.0": 100000},
	}
	if diff := cmp.Diff(want, f.usage("03/03/2026", "03/04/2026")); diff != "" {
		t.Errorf("active devices (-want +got):\n%s", diff)
	}
}

// A day's rows appear the lag after it ends; missing days have none.
func TestAnalyticsLagAndMissingDays(t *testing.T) {
	t.Parallel()
	f := newFixture(t, &Options{Stages: minuteStages, Analytics: AnalyticsOptions{Lag: 36 * time.Hour}})
	f.seedFlightOnly()
	f.publishGradual(5)
	days := func() []string {
		var ds []string
		for d := range f.usage("03/01/2026", "03/09/2026") {
			ds = append(ds, d)
		}
		for d := range f.failures("03/01/2026", "03/09/2026") {
			ds = append(ds, "failures "+d)
		}
		return ds
	}
	sorted := cmpSorted()
	// March 3 ends at March 4 00:00: its rows come at 12:00 on March 5.
	f.clk.Advance(time.Date(2026, 3, 5, 11, 59, 59, 0, time.UTC).Sub(f.clk.Now()))
	if diff := cmp.Diff([]string{"2026-03-02", "failures 2026-03-02"}, days(), sorted); diff != "" {
		t.Errorf("a second before March 3's rows (-want +got):\n%s", diff)
	}
	f.clk.Advance(time.Second)
	if diff := cmp.Diff([]string{"2026-03-02", "2026-03-03", "failures 2026-03-02", "failures 2026-03-03"}, days(), sorted); diff != "" {
		t.Errorf("at 12:00 (-want +got):\n%s", diff)
	}
	f.s.SetMissingDays(time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC))
	f.s.SetAnalyticsLag(-1)
	if diff := cmp.Diff([]string{"2026-03-02", "2026-03-04", "failures 2026-03-02", "failures 2026-03-04"}, days(), sorted); diff != "" {
		t.Errorf("no lag, March 3 missing (-want +got):\n%s", diff)
	}
}

func cmpSorted() cmp.Option {
	return cmp.Transformer("sort", func(in []string) []string {
		out := append([]string(nil), in...)
		for i := range out {
			for j := i + 1; j < len(out); j++ {
				if out[j] < out[i] {
					out[i], out[j] = out[j], out[i]
				}
			}
		}
		return out
	})
}

// Failures follow each version's rates, as fractional counts that do not
// change between reads.
func TestFailuresFollowRates(t *testing.T) {
	t.Parallel()
	f := newFixture(t, &Options{Stages: minuteStages, Analytics: AnalyticsOptions{Devices: 200000, Lag: -1, Seed: 42, Unreachable: -1}})
	f.seedFlightOnly()
	f.s.SetFailureRates("2.0.0.0", FailureRates{Crash: 0.03})
	f.publishGradual(10)
	f.clk.Advance(time.Date(2026, 3, 26, 0, 0, 0, 0, time.UTC).Sub(f.clk.Now()))
	got := f.failures("03/03/2026", "03/25/2026")
	if diff := cmp.Diff(got, f.failures("03/03/2026", "03/25/2026")); diff != "" {
		t.Errorf("a second read differs (-first +second):\n%s", diff)
	}
	sums := map[string]float64{}
	fractional := 0
	for _, day := range got {
		for key, n := range day {
			sums[key] += n
			if n != math.Trunc(n) {
				fractional++
			}
			// Each count is a whole number of 1/0.7 devices.
			if k := n * DefaultCountScale; math.Abs(k-math.Round(k)) > 1e-9 {
				t.Errorf("%s: %v is not a multiple of 1/0.7", key, n)
			}
		}
	}
	if fractional == 0 {
		t.Error("no fractional count")
	}
	// 23 days of 20,000 and 180,000 devices; a scaled count's variance is
	// mean/0.7. Each sum must be within five standard deviations.
	for key, mean := range map[string]float64{
		"2.0.0.0 crash": 23 * 20000 * 0.03, "1.0.0.0 crash": 23 * 180000 * 0.004, "1.0.0.0 hang": 23 * 180000 * 0.002,
	} {
		if sd := math.Sqrt(mean / DefaultCountScale); math.Abs(sums[key]-mean) > 5*sd {
			t.Errorf("%s: %.1f failing devices in 23 days, want about %.0f (sd %.1f)", key, sums[key], mean, sd)
		}
	}
	if sums["2.0.0.0 hang"] != 0 {
		t.Errorf("2.0.0.0 hangs with a hang rate of 0: %v", sums["2.0.0.0 hang"])
	}
}

// Pages hold at most top (and PageRows) rows; @nextLink has the
// documented form and, resolved against the analytics path, reads the
// next page.
func TestAnalyticsPaging(t *testing.T) {
	t.Parallel()
	f := newFixture(t, &Options{Stages: minuteStages, Analytics: AnalyticsOptions{Lag: -1, PageRows: 3}})
	f.seedFlightOnly()
	f.publishGradual(5)
	f.clk.Advance(4 * 24 * time.Hour)
	query := "applicationId=" + appID + "&startDate=03/02/2026&endDate=03/05/2026&groupby=packageVersion,date&filter=" + url.QueryEscape("packageVersion eq '1.0.0.0' or packageVersion eq '2.0.0.0'")
	var rows []map[string]any
	p := f.analytics("usagedaily", query)
	if p.TotalCount != 8 || len(p.Value) != 3 || p.NextLink == nil {
		t.Fatalf("first page: %d of %d rows, next %v", len(p.Value), p.TotalCount, p.NextLink)
	}
	want := "usagedaily?applicationId=" + appID + "&startDate=2026/03/02&endDate=2026/03/05&top=10000&skip=3&groupby=packageVersion,date&filter=packageVersion eq '1.0.0.0' or packageVersion eq '2.0.0.0'"
	if *p.NextLink != want {
		t.Errorf("@nextLink\n%s\nwant\n%s", *p.NextLink, want)
	}
	for p.NextLink != nil {
		rows = append(rows, p.Value...)
		link, _ := url.Parse(strings.ReplaceAll(*p.NextLink, " ", "%20"))
		p = f.analytics(link.Path, link.RawQuery)
	}
	rows = append(rows, p.Value...)
	if len(rows) != 8 {
		t.Fatalf("%d rows over the pages, want 8", len(rows))
	}
	for i := 1; i < len(rows); i++ {
		if rows[i]["date"].(string) < rows[i-1]["date"].(string) {
			t.Errorf("rows out of date order at %d: %v", i, rows)
		}
	}
	if p := f.analytics("usagedaily", query+"&top=2&skip=7"); len(p.Value) != 1 || p.NextLink != nil {
		t.Errorf("last page: %d rows, next %v", len(p.Value), p.NextLink)
	}
	r := f.do("GET", "analytics/usagedaily?applicationId="+appID+"&startDate=03/09/2026&endDate=03/09/2026", nil)
	if !strings.Contains(string(r.body), `"Value":[],"@nextLink":null,"TotalCount":0`) {
		t.Errorf("no rows: %s", r.body)
	}
}

func TestAnalyticsFilterAndWindow(t *testing.T) {
	t.Parallel()
	f := newFixture(t, &Options{Stages: minuteStages, Analytics: AnalyticsOptions{Lag: -1}})
	f.seedFlightOnly()
	f.publishGradual(50)
	f.clk.Advance(40 * 24 * time.Hour) // April 11
	versions := func(endpoint, filter string) map[string]int {
		p := f.analytics(endpoint, "applicationId="+appID+"&startDate=01/01/2026&endDate=04/10/2026&filter="+url.QueryEscape(filter))
		n := map[string]int{}
		for _, row := range p.Value {
			n[row["packageVersion"].(string)+" "+str(row["eventType"])]++
		}
		return n
	}
	// failurehits keeps 30 days (March 13 to April 10); usagedaily 90.
	if diff := cmp.Diff(map[string]int{"2.0.0.0 crash": 29}, versions("failurehits", "packageVersion eq '2.0.0.0' and eventType eq 'crash'")); diff != "" {
		t.Errorf("failurehits 2.0.0.0 crash (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"1.0.0.0 hang": 29, "2.0.0.0 hang": 29}, versions("failurehits", "eventType ne 'crash'")); diff != "" {
		t.Errorf("failurehits without crashes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"1.0.0.0 ": 40}, versions("usagedaily", "packageVersion eq '1.0.0.0'")); diff != "" {
		t.Errorf("usagedaily 1.0.0.0 (-want +got):\n%s", diff)
	}
	// failurehits answers the day after endDate too, as the documented
	// sample does.
	p := f.analytics("failurehits", "applicationId="+appID+"&startDate=04/01/2026&endDate=04/01/2026&filter="+url.QueryEscape("packageVersion eq '1.0.0.0' and eventType eq 'crash'"))
	var dates []string
	for _, row := range p.Value {
		dates = append(dates, row["date"].(string))
	}
	if diff := cmp.Diff([]string{"2026-04-01", "2026-04-02"}, dates); diff != "" {
		t.Errorf("dates (-want +got):\n%s", diff)
	}
}

func TestAnalyticsRefusals(t *testing.T) {
	t.Parallel()
	f := newFixture(t, &Options{Stages: minuteStages})
	f.seedFlightOnly()
	good := "applicationId=" + appID + "&startDate=03/01/2026&endDate=03/02/2026"
	tests := []struct {
		name, endpoint, query string
		status                int
		want                  string
	}{
		{"top above 10000", "failurehits", good + "&top=10001", 400, "top parameter cannot be more than 10000"},
		{"no app", "usagedaily", "startDate=03/01/2026", 400, "applicationId is required"},
		{"unknown app", "usagedaily", "applicationId=9NOTMINE0000", 404, "No analytics data for application 9NOTMINE0000"},
		{"bad date", "usagedaily", "applicationId=" + appID + "&endDate=2026.03.02", 400, `endDate "2026.03.02" is not a date`},
		{"groupby twice", "failurehits", good + "&groupby=packageVersion,packageVersion", 400, "given twice"},
		{"groupby not documented", "usagedaily", good + "&groupby=eventType", 400, `groupby field "eventType" is not one of`},
		{"orderby not grouped", "failurehits", good + "&groupby=packageVersion,eventType&orderby=date", 400, "must be a groupby field"},
		{"two orderby fields", "failurehits", good + "&groupby=packageVersion,eventType&orderby=packageVersion,eventType", 400, "one field"},
		{"hourly", "failurehits", good + "&aggregationLevel=hour", 400, `aggregationLevel "hour" is not simulated`},
		{"filter on a field not simulated", "usagedaily", good + "&filter=" + url.QueryEscape("market eq 'US'"), 400, "storefake does not simulate market"},
		{"filter without quotes", "usagedaily", good + "&filter=" + url.QueryEscape("packageVersion eq 1.0"), 400, "single quotes"},
		{"filter cut short", "usagedaily", good + "&filter=" + url.QueryEscape("packageVersion eq '1' or"), 400, "ends before a statement does"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := *f
			f.t = t
			r := f.do("GET", "analytics/"+tt.endpoint+"?"+tt.query, nil)
			f.mustStatus(r, tt.status)
			var e analyticsError
			if err := json.Unmarshal(r.body, &e); err != nil || e.Code == "" || e.Message == "" {
				t.Fatalf("error body %s", r.body)
			}
			text := e.Message
			if e.InnerError != nil {
				text += " " + strings.Join(e.InnerError.Data, " ")
			}
			if !strings.Contains(text, tt.want) {
				t.Errorf("error body %s lacks %q", r.body, tt.want)
			}
			if tt.status == 400 && (e.InnerError == nil || e.InnerError.Code != "InvalidQueryParameters") {
				t.Errorf("no innererror: %s", r.body)
			}
		})
	}
}

// The analytics reads go through the same token check and request budget
// as every other call.
func TestAnalyticsCountsAgainstTheBudget(t *testing.T) {
	t.Parallel()
	f := newFixture(t, &Options{Stages: minuteStages, RequestBudget: 2})
	f.seedFlightOnly()
	q := "analytics/usagedaily?applicationId=" + appID
	f.mustStatus(f.do("GET", q, nil), 200)
	f.mustStatus(f.do("GET", "applications/"+appID, nil), 200)
	f.wantError(f.do("GET", q, nil), 429, "TooManyRequests")
	r := f.doURL("GET", f.s.URL()+"/v1.0/my/"+q, nil, nil)
	f.wantError(r, 401, "Unauthorized")
}
