package health

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/storeflight/storeflight/internal/storeapi"
)

// date returns 2026-03-d at midnight UTC.
func date(d int) time.Time { return time.Date(2026, 3, d, 0, 0, 0, 0, time.UTC) }

// dayData is one day of synthetic analytics for one new and one old
// version: active devices, and failing devices per kind.
type dayData struct {
	newN, oldN                           float64
	newCrash, oldCrash, newHang, oldHang float64
	noNewUsage, noOldUsage               bool
}

// healthy is a day at 5%: 5,000 new and 95,000 old devices, both failing
// at 0.4% (crash) and 0.2% (hang).
func healthy() dayData {
	return dayData{newN: 5000, oldN: 95000, newCrash: 20, oldCrash: 380, newHang: 10, oldHang: 190}
}

func days(n int, d dayData) []dayData { return slices.Repeat([]dayData{d}, n) }

// rows turns days starting on start into analytics rows of versions
// 2.0.0.0 (new) and 1.0.0.0 (old). A zero failure count has no row, as in
// the API.
func rows(start time.Time, data []dayData) ([]storeapi.UsageDay, []storeapi.FailureHit) {
	var usage []storeapi.UsageDay
	var failures []storeapi.FailureHit
	fail := func(d time.Time, v, kind string, n float64) {
		if n > 0 {
			failures = append(failures, storeapi.FailureHit{Date: d, PackageVersion: v, EventType: kind, DeviceCount: n})
		}
	}
	for i, dd := range data {
		d := start.AddDate(0, 0, i)
		if !dd.noNewUsage {
			usage = append(usage, storeapi.UsageDay{Date: d, PackageVersion: "2.0.0.0", DailyActiveDevices: dd.newN})
		}
		if !dd.noOldUsage {
			usage = append(usage, storeapi.UsageDay{Date: d, PackageVersion: "1.0.0.0", DailyActiveDevices: dd.oldN})
		}
		fail(d, "2.0.0.0", storeapi.FailureCrash, dd.newCrash)
		fail(d, "1.0.0.0", storeapi.FailureCrash, dd.oldCrash)
		fail(d, "2.0.0.0", storeapi.FailureHang, dd.newHang)
		fail(d, "1.0.0.0", storeapi.FailureHang, dd.oldHang)
	}
	return usage, failures
}

// inputFrom makes an Input whose new versions were released on March 2
// (the first usage row) at pct, run at now.
func inputFrom(now time.Time, pct float64, data []dayData) Input {
	usage, failures := rows(date(2), data)
	return Input{Now: now, Percentage: pct, NewVersions: []string{"2.0.0.0"}, OldVersions: []string{"1.0.0.0"}, Usage: usage, Failures: failures}
}

// runAt is March 12 06:00: with the default lag of 48h the last day read
// is March 9, so the window is March 3 to 9 for a release on March 2.
var runAt = time.Date(2026, 3, 12, 6, 0, 0, 0, time.UTC)

func with(d dayData, f func(*dayData)) dayData { f(&d); return d }

func TestEvaluate(t *testing.T) {
	t.Parallel()
	week := Window{First: date(3), Last: date(9)}
	regressed := with(healthy(), func(d *dayData) { d.newCrash = 40 }) // 2x the old crash rate
	tests := []struct {
		name        string
		in          Input
		th          Thresholds
		want        Decision
		wantRule    string
		wantWindow  Window
		wantMissing []time.Time
		check       func(t *testing.T, r Result)
	}{
		{
			name: "healthy rollout advances",
			in:   inputFrom(runAt, 5, days(8, healthy())),
			want: Advance, wantRule: RuleHealthy, wantWindow: week,
			check: func(t *testing.T, r Result) {
				want := KindResult{Kind: "crash", Comparison: Comparison{
					New: Side{Failures: 140, Devices: 35000, Rate: 0.004}, Old: Side{Failures: 2660, Devices: 665000, Rate: 0.004},
					Ratio: 1, PValue: BinomialUpperTail(140, 2800, 35000, 665000), Excess: 0,
				}}
				if diff := cmp.Diff(want.Comparison, r.Kinds[0].Comparison, cmpFloat); diff != "" {
					t.Errorf("crash (-want +got):\n%s", diff)
				}
				if r.Kinds[0].Earlier == nil || r.Kinds[0].Earlier.New.Devices != 30000 {
					t.Errorf("the window ending a day earlier: %+v", r.Kinds[0].Earlier)
				}
				if r.DaysAtStep != 7 || !near(r.ExpectedFailures, 210) {
					t.Errorf("days at step %d, expected failures %g; want 7 and 210", r.DaysAtStep, r.ExpectedFailures)
				}
			},
		},
		{
			name: "no failures on the old side: its rate is 0.5/N and a healthy new side advances",
			in:   inputFrom(runAt, 5, days(8, with(healthy(), func(d *dayData) { d.newCrash, d.oldCrash = 0, 0 }))),
			want: Advance, wantRule: RuleHealthy, wantWindow: week,
			check: func(t *testing.T, r Result) {
				if c := r.Kinds[0]; c.Old.Failures != 0 || !near(c.Old.Rate, 0.5/665000) || c.Ratio != 0 || c.PValue != 1 {
					t.Errorf("crash %+v", c.Comparison)
				}
			},
		},
		{
			name: "no failures on the old side and three on the new: worse, not clearly",
			in: inputFrom(runAt, 5, append(days(7, with(healthy(), func(d *dayData) { d.newCrash, d.oldCrash = 0, 0 })),
				with(healthy(), func(d *dayData) { d.newCrash, d.oldCrash = 3, 0 }))),
			want: Hold, wantRule: RuleWorse, wantWindow: week,
			check: func(t *testing.T, r Result) {
				// p = P(X >= 3 | 3 trials, 35000/700000) = 0.05^3.
				if c := r.Kinds[0]; !near(c.PValue, 0.05*0.05*0.05) || !near(c.Ratio, (3.0/35000)/(0.5/665000)) {
					t.Errorf("crash %+v", c.Comparison)
				}
			},
		},
		{
			name: "a day without old usage rows holds and is left out of the sums",
			in:   inputFrom(runAt, 5, append(append(days(4, healthy()), with(healthy(), func(d *dayData) { d.noOldUsage = true })), days(3, healthy())...)),
			want: Hold, wantRule: RuleMissingDays, wantWindow: week, wantMissing: []time.Time{date(6)},
			check: func(t *testing.T, r Result) {
				if r.Kinds[0].New.Devices != 30000 {
					t.Errorf("new devices %d, want 6 days' 30000", r.Kinds[0].New.Devices)
				}
			},
		},
		{
			name: "a day without new usage rows holds",
			in:   inputFrom(runAt, 5, append(days(7, healthy()), with(healthy(), func(d *dayData) { d.noNewUsage = true }))),
			want: Hold, wantRule: RuleMissingDays, wantWindow: week, wantMissing: []time.Time{date(9)},
		},
		{
			name: "a missing day does not hide a clear regression",
			in:   inputFrom(runAt, 5, append(days(4, regressed), append([]dayData{with(regressed, func(d *dayData) { d.noOldUsage = true })}, days(3, regressed)...)...)),
			want: Halt, wantRule: RuleRegression, wantWindow: week, wantMissing: []time.Time{date(6)},
		},
		{
			name: "a tiny flight can only hold, even twice as bad",
			in:   inputFrom(runAt, 5, days(8, dayData{newN: 100, oldN: 1900, newCrash: 0.8, oldCrash: 7.6, newHang: 0.2, oldHang: 3.8})),
			want: Hold, wantRule: RuleThinData, wantWindow: week,
			check: func(t *testing.T, r Result) {
				// 700 new device-days at the old rates, 53 and 27 of 13,300.
				if !near(r.ExpectedFailures, 700.0*80/13300) || !strings.Contains(r.WaitsFor, "about 18 more days") {
					t.Errorf("expected failures %g, waits for %q", r.ExpectedFailures, r.WaitsFor)
				}
			},
		},
		{
			name: "a clear regression on both windows halts",
			in:   inputFrom(runAt, 5, days(8, regressed)),
			want: Halt, wantRule: RuleRegression, wantWindow: week,
			check: func(t *testing.T, r Result) {
				c := r.Kinds[0]
				if c.Ratio != 2 || c.Excess != 140 || c.PValue >= HaltPValue || c.Earlier.Ratio != 2 || c.Earlier.Excess != 120 {
					t.Errorf("crash %+v, earlier %+v", c.Comparison, *c.Earlier)
				}
				if !strings.HasPrefix(r.Reason, "crash: 2.00 times the old rate (0.8% against 0.4%)") {
					t.Errorf("reason %q", r.Reason)
				}
			},
		},
		{
			name: "a regression seen on the last day only holds: the earlier window is clean",
			in:   inputFrom(runAt, 5, append(days(7, healthy()), with(healthy(), func(d *dayData) { d.newCrash = 95 }))),
			want: Hold, wantRule: RuleWorse, wantWindow: week,
			check: func(t *testing.T, r Result) {
				c := r.Kinds[0]
				if c.Ratio < 1.5 || c.PValue >= HaltPValue || c.Excess < 10 || c.Ratio >= BlatantRatio {
					t.Errorf("the window should show a clear, not blatant, regression: %+v", c.Comparison)
				}
				if c.Earlier.Ratio != 1 {
					t.Errorf("earlier window %+v", *c.Earlier)
				}
			},
		},
		{
			name: "a blatant regression on a one-day window halts at once",
			in:   inputFrom(time.Date(2026, 3, 6, 6, 0, 0, 0, time.UTC), 5, days(2, with(healthy(), func(d *dayData) { d.newCrash = 100 }))),
			want: Halt, wantRule: RuleBlatant, wantWindow: Window{First: date(3), Last: date(3)},
			check: func(t *testing.T, r Result) {
				if c := r.Kinds[0]; c.Earlier != nil || c.Ratio != 5 || c.PValue >= BlatantPValue {
					t.Errorf("crash %+v", c)
				}
			},
		},
		{
			name: "a hang regression halts too",
			in:   inputFrom(runAt, 5, days(8, with(healthy(), func(d *dayData) { d.newHang = 60 }))),
			want: Halt, wantRule: RuleRegression, wantWindow: week,
			check: func(t *testing.T, r Result) {
				if !strings.HasPrefix(r.Reason, "hang: ") {
					t.Errorf("reason %q", r.Reason)
				}
			},
		},
		{
			name: "health-max-ratio 3 leaves a 2x regression holding",
			in:   inputFrom(runAt, 5, days(8, regressed)),
			th:   Thresholds{MaxRatio: 3},
			want: Hold, wantRule: RuleWorse, wantWindow: week,
		},
		{
			name: "no day at the current step holds",
			in:   inputFrom(runAt, 20, days(8, healthy())),
			want: Hold, wantRule: RuleNoDayAtStep, wantWindow: week,
			check: func(t *testing.T, r Result) {
				if r.DaysAtStep != 0 || !strings.Contains(r.Reason, "no day of the window was spent at 20%: on 2026-03-09 the new versions had 5.0%") {
					t.Errorf("days at step %d, reason %q", r.DaysAtStep, r.Reason)
				}
			},
		},
		{
			name: "one day at half the step is enough",
			in:   inputFrom(runAt, 20, append(days(7, healthy()), with(healthy(), func(d *dayData) { d.newN, d.oldN, d.newCrash, d.newHang = 10000, 90000, 40, 20 }))),
			want: Advance, wantRule: RuleHealthy, wantWindow: week,
			check: func(t *testing.T, r Result) {
				if r.DaysAtStep != 1 {
					t.Errorf("days at step %d, want 1", r.DaysAtStep)
				}
			},
		},
		{
			name: "thin data is checked before the step",
			in:   inputFrom(runAt, 20, days(8, dayData{newN: 100, oldN: 1900, newCrash: 0.4, oldCrash: 7.6})),
			want: Hold, wantRule: RuleThinData, wantWindow: week,
		},
		{
			name: "no usage rows for the new versions",
			in:   Input{Now: runAt, Percentage: 5, NewVersions: []string{"2.0.0.0"}, OldVersions: []string{"1.0.0.0"}, Usage: []storeapi.UsageDay{{Date: date(3), PackageVersion: "1.0.0.0", DailyActiveDevices: 9}}},
			want: Hold, wantRule: RuleNoUsage,
		},
		{
			name: "every new version is an old one",
			in:   Input{Now: runAt, NewVersions: []string{"1.0.0.0"}, OldVersions: []string{"1.0.0.0", "0.9.0.0"}},
			want: Hold, wantRule: RuleNoVersions,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := Evaluate(tt.in, tt.th)
			if r.Decision != tt.want || r.Rule != tt.wantRule {
				t.Fatalf("decision %s (%s), want %s (%s); reason %q", r.Decision, r.Rule, tt.want, tt.wantRule, r.Reason)
			}
			if r.Window != tt.wantWindow {
				t.Errorf("window %v, want %v", r.Window, tt.wantWindow)
			}
			if diff := cmp.Diff(tt.wantMissing, r.MissingDays); diff != "" {
				t.Errorf("missing days (-want +got):\n%s", diff)
			}
			if r.Reason == "" || (r.Decision == Hold) != (r.WaitsFor != "") {
				t.Errorf("reason %q, waits for %q", r.Reason, r.WaitsFor)
			}
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

// Versions on both sides (packages kept by add or supersede) are left out
// of both: here the shared version crashes a lot on its own, which would
// otherwise count on both sides.
func TestEvaluateLeavesSharedVersionsOut(t *testing.T) {
	t.Parallel()
	in := inputFrom(runAt, 5, days(8, healthy()))
	in.NewVersions = []string{"2.0.0.0", "3.0.0.0-arm64", "1.5.0.0"}
	in.OldVersions = []string{"1.5.0.0", "1.0.0.0"}
	for i := range 8 {
		d := date(2 + i)
		in.Usage = append(in.Usage, storeapi.UsageDay{Date: d, PackageVersion: "1.5.0.0", DailyActiveDevices: 50000})
		in.Failures = append(in.Failures, storeapi.FailureHit{Date: d, PackageVersion: "1.5.0.0", EventType: "crash", DeviceCount: 5000})
	}
	r := Evaluate(in, Thresholds{})
	if r.Decision != Advance {
		t.Fatalf("decision %s (%s)", r.Decision, r.Reason)
	}
	if diff := cmp.Diff([]string{"1.5.0.0"}, r.SharedVersions); diff != "" {
		t.Errorf("shared (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"2.0.0.0", "3.0.0.0-arm64"}, r.NewVersions); diff != "" {
		t.Errorf("new (-want +got):\n%s", diff)
	}
	if c := r.Kinds[0]; c.New.Devices != 35000 || c.Old.Devices != 665000 || c.Old.Failures != 2660 {
		t.Errorf("crash %+v", c.Comparison)
	}
}

// Rows the gate must not count: other days, other versions, other kinds;
// and the API's fractional counts, summed and then rounded.
func TestEvaluateCountsOnlyItsRows(t *testing.T) {
	t.Parallel()
	in := inputFrom(runAt, 5, days(8, with(healthy(), func(d *dayData) { d.newCrash = 0 })))
	for i := range 7 {
		in.Failures = append(in.Failures, storeapi.FailureHit{Date: date(3 + i), PackageVersion: "2.0.0.0", EventType: "crash", DeviceCount: 2.857142857142857})
	}
	in.Failures = append(in.Failures,
		storeapi.FailureHit{Date: date(10), PackageVersion: "2.0.0.0", EventType: "crash", DeviceCount: 900}, // after the window
		storeapi.FailureHit{Date: date(2), PackageVersion: "2.0.0.0", EventType: "crash", DeviceCount: 900},  // the release day
		storeapi.FailureHit{Date: date(5), PackageVersion: "2.0.0.0", EventType: "memory", DeviceCount: 900},
		storeapi.FailureHit{Date: date(5), PackageVersion: "0.1.0.0", EventType: "crash", DeviceCount: 900},
	)
	in.Usage = append(in.Usage, storeapi.UsageDay{Date: date(5), PackageVersion: "0.1.0.0", DailyActiveDevices: 1e6})
	r := Evaluate(in, Thresholds{})
	c := r.Kinds[0]
	// 7 x 2.857142857142857 = 19.9999..., rounded to 20.
	if c.New.Failures != 20 || c.New.Devices != 35000 || c.Old.Devices != 665000 {
		t.Errorf("crash %+v", c.Comparison)
	}
	if r.Decision != Advance {
		t.Errorf("decision %s (%s)", r.Decision, r.Reason)
	}
}

func TestWindowBoundaries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		now       time.Time
		lag       time.Duration
		wantRange Window
	}{
		{"a day that ended exactly the lag ago is read", time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC), 48 * time.Hour, Window{First: date(11).AddDate(0, 0, -29), Last: date(8)}},
		{"a second less and it is not", time.Date(2026, 3, 10, 23, 59, 59, 0, time.UTC), 48 * time.Hour, Window{First: date(10).AddDate(0, 0, -29), Last: date(7)}},
		{"zero lag means the default", time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC), 0, Window{First: date(11).AddDate(0, 0, -29), Last: date(8)}},
		{"a lag of 6h", time.Date(2026, 3, 11, 6, 0, 0, 0, time.UTC), 6 * time.Hour, Window{First: date(11).AddDate(0, 0, -29), Last: date(10)}},
		{"another time zone is read as UTC", time.Date(2026, 3, 11, 1, 0, 0, 0, time.FixedZone("CET", 3600)), 48 * time.Hour, Window{First: date(11).AddDate(0, 0, -29), Last: date(8)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := ReadRange(tt.now, tt.lag); got != tt.wantRange {
				t.Errorf("ReadRange = %v, want %v", got, tt.wantRange)
			}
		})
	}
	t.Run("the first whole day is read once it ended the lag ago", func(t *testing.T) {
		t.Parallel()
		in := inputFrom(time.Date(2026, 3, 5, 23, 59, 59, 0, time.UTC), 5, days(2, healthy()))
		if r := Evaluate(in, Thresholds{}); r.Decision != Hold || r.Rule != RuleNoWholeDay || r.Window.Days() != 0 {
			t.Errorf("%s (%s), window %v", r.Decision, r.Rule, r.Window)
		}
		in.Now = in.Now.Add(time.Second)
		if r := Evaluate(in, Thresholds{}); r.Window != (Window{First: date(3), Last: date(3)}) {
			t.Errorf("a second later: window %v", r.Window)
		}
	})
	t.Run("a rollout older than 30 days starts the window 29 days before today", func(t *testing.T) {
		t.Parallel()
		usage, failures := rows(date(2).AddDate(0, 0, -40), days(50, healthy()))
		now := date(12)
		r := Evaluate(Input{Now: now, Percentage: 5, NewVersions: []string{"2.0.0.0"}, OldVersions: []string{"1.0.0.0"}, Usage: usage, Failures: failures}, Thresholds{})
		if want := (Window{First: now.AddDate(0, 0, -29), Last: date(9)}); r.Window != want || r.Window.Days() != 27 {
			t.Errorf("window %v (%d days), want %v", r.Window, r.Window.Days(), want)
		}
	})
}

func TestHeld(t *testing.T) {
	t.Parallel()
	r := Held(RuleUnreadable, "usagedaily: 503 after 9 attempts", "the analytics API to answer")
	if r.Decision != Hold || r.Rule != RuleUnreadable || r.WaitsFor == "" {
		t.Errorf("%+v", r)
	}
}

var cmpFloat = cmp.Comparer(near)

// near compares floats to 1e-12 relative.
func near(a, b float64) bool {
	if a == b {
		return true
	}
	return closeRel(a, b, 1e-12)
}
