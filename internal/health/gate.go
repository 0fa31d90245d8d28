package health

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/storeflight/storeflight/internal/storeapi"
)

// Decision is what the gate says a run should do with the rollout.
type Decision string

// The gate's decisions. Finalizing past the last step, and what "halt"
// turns into with on-unhealthy: fail, are the caller's to map.
const (
	Advance Decision = "advance"
	Hold    Decision = "hold"
	Halt    Decision = "halt"
)

// The fixed parts of the rule (DESIGN.md "Health-gated rollout").
const (
	// HaltPValue, HaltExcess and Thresholds.MaxRatio make a clear
	// regression, which halts when both the window and the window ending a
	// day earlier show it.
	HaltPValue = 0.005
	HaltExcess = 10
	// BlatantPValue and BlatantRatio make a regression that halts on the
	// window alone.
	BlatantPValue = 1e-6
	BlatantRatio  = 3
	// WorsePValue, and WorseRatio with WorseExcess, make "worse but not
	// clearly", which holds.
	WorsePValue = 0.05
	WorseRatio  = 1.2
	WorseExcess = 1
	// MaxWindowDays is how far back failurehits keeps data.
	MaxWindowDays = 30
)

// Rules: which part of the rule decided, in the order they are tried.
const (
	RuleRegression  = "regression"     // halt: a clear regression on both windows
	RuleBlatant     = "blatant"        // halt: a blatant regression on the window
	RuleUnreadable  = "unreadable"     // hold: the data could not be read (Held)
	RuleNoVersions  = "no-versions"    // hold: a side has no versions of its own
	RuleNoUsage     = "no-usage"       // hold: no usage rows for the new versions
	RuleNoWholeDay  = "no-whole-day"   // hold: no whole day of the rollout is readable yet
	RuleMissingDays = "missing-days"   // hold: a day of the window lacks usage rows
	RuleThinData    = "thin-data"      // hold: too few failures expected to decide
	RuleNoDayAtStep = "no-day-at-step" // hold: no day at the current step yet
	RuleWorse       = "worse"          // hold: worse, but not clearly
	RuleHealthy     = "healthy"        // advance
)

// kinds are the failure kinds compared, in the order they are reported.
var kinds = []string{storeapi.FailureCrash, storeapi.FailureHang}

// Thresholds are the rule's settings, named as the inputs that set them.
// The zero value of each field means its default.
type Thresholds struct {
	// MaxRatio is health-max-ratio: a regression halts only when the new
	// failure rate is at least this many times the old. Default 1.5.
	MaxRatio float64
	// MinFailures is health-min-failures: fewer crash and hang failures
	// than this expected on the new side at the old rates cannot decide,
	// and hold. Default 15.
	MinFailures float64
	// DataLag is health-data-lag: a day is used once it ended this long
	// ago. Default 48h.
	DataLag time.Duration
}

// DefaultThresholds returns the defaults of DESIGN.md.
func DefaultThresholds() Thresholds {
	return Thresholds{MaxRatio: 1.5, MinFailures: 15, DataLag: 48 * time.Hour}
}

func (t Thresholds) withDefaults() Thresholds {
	d := DefaultThresholds()
	if t.MaxRatio <= 0 {
		t.MaxRatio = d.MaxRatio
	}
	if t.MinFailures <= 0 {
		t.MinFailures = d.MinFailures
	}
	if t.DataLag <= 0 {
		t.DataLag = d.DataLag
	}
	return t
}

// Input is what one run of the gate knows.
type Input struct {
	// Now is the run's time.
	Now time.Time
	// Percentage is the rollout's current percentage, 0 to 100.
	Percentage float64
	// NewVersions are the package versions of the submission rolling out;
	// OldVersions those of its fallback submission.
	NewVersions, OldVersions []string
	// Usage and Failures are the rows of usagedaily and failurehits, read
	// for ReadRange's days. Rows of other days, versions and failure kinds
	// are left out.
	Usage    []storeapi.UsageDay
	Failures []storeapi.FailureHit
}

// Window is a span of whole UTC days, both ends included. Last before
// First, or the zero Window, is empty.
type Window struct {
	First time.Time
	Last  time.Time
}

// Days returns the number of days in w.
func (w Window) Days() int {
	if w.First.IsZero() || w.Last.Before(w.First) {
		return 0
	}
	return int(w.Last.Sub(w.First)/(24*time.Hour)) + 1
}

// String returns "2026-03-03 to 2026-03-09", or "no day" for an empty window.
func (w Window) String() string {
	if w.Days() == 0 {
		return "no day"
	}
	return w.First.Format(time.DateOnly) + " to " + w.Last.Format(time.DateOnly)
}

// ReadRange returns the days a run at now reads from both endpoints: from
// the oldest day failurehits keeps to the last day that ended lag ago (0
// meaning the default lag). It is empty when no such day has ended.
func ReadRange(now time.Time, lag time.Duration) Window {
	if lag <= 0 {
		lag = DefaultThresholds().DataLag
	}
	return Window{First: day(now).AddDate(0, 0, -(MaxWindowDays - 1)), Last: day(now.Add(-lag)).AddDate(0, 0, -1)}
}

// day returns t's UTC day at midnight.
func day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// KindResult is the test of one failure kind.
type KindResult struct {
	Kind string `json:"kind"`
	// The window's figures.
	Comparison
	// Earlier has the figures of the window ending a day earlier; nil when
	// that window has no day.
	Earlier *Comparison `json:"earlier,omitempty"`
}

// Day is one day of the window.
type Day struct {
	Date time.Time
	// Counted: usagedaily has rows for both sides that day, so the day is
	// in the sums.
	Counted bool
	New     DaySide
	Old     DaySide
	// Share is the new versions' share of the day's active devices.
	Share float64
}

// DaySide is one side's counts on one day, as the API gave them.
type DaySide struct {
	Devices  float64            `json:"devices"`
	Failures map[string]float64 `json:"failures"` // by failure kind
}

// Rate returns the side's failure rate of kind that day, 0 without devices.
func (s DaySide) Rate(kind string) float64 {
	if s.Devices <= 0 {
		return 0
	}
	return s.Failures[kind] / s.Devices
}

// Result is the gate's decision with everything that led to it. JSON,
// ShortJSON, Figures and Markdown render it.
type Result struct {
	Decision Decision
	// Rule names the part of the rule that decided (RuleRegression, ...).
	Rule string
	// Reason says why, with the figures that decided, in one sentence.
	Reason string
	// WaitsFor says, for a hold, what a later run needs.
	WaitsFor string
	Window   Window
	// MissingDays are the window's days without usage rows for a side.
	MissingDays []time.Time
	Percentage  float64
	// DaysAtStep counts the window's days on which the new versions had at
	// least half the current percentage of the active devices.
	DaysAtStep int
	// ExpectedFailures is the crash and hang failures the new side would
	// have shown at the old side's rates.
	ExpectedFailures float64
	// NewVersions and OldVersions are the sides compared; SharedVersions,
	// found on both, are left out of both.
	NewVersions    []string
	OldVersions    []string
	SharedVersions []string
	Kinds          []KindResult
	Days           []Day
}

// Held returns a hold decided before any data could be used (an analytics
// read that failed after its retries, a fallback submission that cannot be
// read), with its rule (RuleUnreadable, or the caller's own), reason and
// what it waits for.
func Held(rule, reason, waitsFor string) Result {
	return Result{Decision: Hold, Rule: rule, Reason: reason, WaitsFor: waitsFor}
}

// Evaluate applies the rule of DESIGN.md "Health-gated rollout" to in,
// first match winning:
//
//  1. halt when, for a failure kind, ratio >= MaxRatio, p < HaltPValue
//     and excess >= HaltExcess on the window and on the window ending a
//     day earlier; or on the window alone p < BlatantPValue and ratio >=
//     BlatantRatio;
//  2. hold when the data cannot decide: a day of the window lacks usage
//     rows for a side; fewer than MinFailures crash and hang failures are
//     expected on the new side at the old rates; no day of the window had
//     the new versions on at least half the current percentage of devices;
//  3. hold when a kind is worse but not clearly: p < WorsePValue, or ratio
//     > WorseRatio with excess >= WorseExcess;
//  4. advance.
//
// The window runs from the day after the new versions' first usage row (at
// most MaxWindowDays back) to the last day that ended DataLag ago.
func Evaluate(in Input, th Thresholds) Result {
	th = th.withDefaults()
	newV, oldV, shared := splitVersions(in.NewVersions, in.OldVersions)
	r := Result{Percentage: in.Percentage, NewVersions: newV, OldVersions: oldV, SharedVersions: shared}
	if len(newV) == 0 {
		return r.hold(RuleNoVersions, "every new version is also an old one, so there is nothing to compare", "a submission whose packages differ from the fallback's")
	}
	if len(oldV) == 0 {
		return r.hold(RuleNoVersions, "the fallback submission has no package versions to compare with", "a rollout whose fallback submission has packages")
	}
	first, ok := firstUsage(in.Usage, newV)
	if !ok {
		return r.hold(RuleNoUsage, "usagedaily has no rows for the new versions yet", "the first usage rows of the new versions")
	}
	rr := ReadRange(in.Now, th.DataLag)
	r.Window = Window{First: later(first.AddDate(0, 0, 1), rr.First), Last: rr.Last}
	if r.Window.Days() == 0 {
		return r.hold(RuleNoWholeDay, fmt.Sprintf("no whole day since the new versions' first usage day (%s) ended health-data-lag (%s) ago", first.Format(time.DateOnly), th.DataLag),
			"the first whole day of the rollout to end health-data-lag ago")
	}
	r.Days = gather(r.Window, in, newV, oldV)
	earlier := Window{First: r.Window.First, Last: r.Window.Last.AddDate(0, 0, -1)}
	for _, k := range kinds {
		kr := KindResult{Kind: k, Comparison: compareDays(r.Days, r.Window, k)}
		if earlier.Days() > 0 {
			c := compareDays(r.Days, earlier, k)
			kr.Earlier = &c
		}
		r.Kinds = append(r.Kinds, kr)
	}
	r.MissingDays, r.DaysAtStep = r.dayCounts()
	r.ExpectedFailures = r.expected()
	return r.decide(th)
}

// decide walks the rule in order over the computed figures.
func (r Result) decide(th Thresholds) Result {
	clearRegression := func(c Comparison) bool {
		return c.Ratio >= th.MaxRatio && c.PValue < HaltPValue && c.Excess >= HaltExcess
	}
	for _, k := range r.Kinds {
		if clearRegression(k.Comparison) && k.Earlier != nil && clearRegression(*k.Earlier) {
			return r.decided(Halt, RuleRegression, fmt.Sprintf("%s: %s, on both windows", k.Kind, describe(k.Comparison)), "")
		}
	}
	for _, k := range r.Kinds {
		if k.PValue < BlatantPValue && k.Ratio >= BlatantRatio {
			return r.decided(Halt, RuleBlatant, fmt.Sprintf("%s: %s, a blatant regression", k.Kind, describe(k.Comparison)), "")
		}
	}
	if len(r.MissingDays) > 0 {
		return r.hold(RuleMissingDays, fmt.Sprintf("usagedaily has no rows for a side on %s", joinDays(r.MissingDays)), "usage rows for both sides on every day of the window")
	}
	if r.ExpectedFailures < th.MinFailures {
		return r.hold(RuleThinData, fmt.Sprintf("only %.1f crash and hang failures were expected on the new versions at the old rates, fewer than health-min-failures (%g)", r.ExpectedFailures, th.MinFailures),
			r.moreTraffic(th.MinFailures))
	}
	if r.DaysAtStep == 0 {
		last := r.Days[len(r.Days)-1]
		return r.hold(RuleNoDayAtStep, fmt.Sprintf("no day of the window was spent at %g%%: on %s the new versions had %.1f%% of the active devices", r.Percentage, last.Date.Format(time.DateOnly), 100*last.Share),
			fmt.Sprintf("a whole day at %g%%, read health-data-lag (%s) after it ends", r.Percentage, th.DataLag))
	}
	for _, k := range r.Kinds {
		if k.PValue < WorsePValue || (k.Ratio > WorseRatio && k.Excess >= WorseExcess) {
			return r.hold(RuleWorse, fmt.Sprintf("%s: %s, worse but not clearly", k.Kind, describe(k.Comparison)), "more days of data to tell whether the new versions fail more")
		}
	}
	parts := make([]string, len(r.Kinds))
	for i, k := range r.Kinds {
		parts[i] = fmt.Sprintf("%s ratio %.2f (p = %.2g)", k.Kind, k.Ratio, k.PValue)
	}
	return r.decided(Advance, RuleHealthy, "the new versions fail no more than the old: "+strings.Join(parts, ", "), "")
}

func (r Result) decided(d Decision, rule, reason, waitsFor string) Result {
	r.Decision, r.Rule, r.Reason, r.WaitsFor = d, rule, reason, waitsFor
	return r
}

func (r Result) hold(rule, reason, waitsFor string) Result {
	return r.decided(Hold, rule, reason, waitsFor)
}

// describe states a comparison in words.
func describe(c Comparison) string {
	return fmt.Sprintf("%.2f times the old rate (%s against %s), p = %.2g, excess %.1f",
		c.Ratio, percent(c.New.Rate), percent(c.Old.Rate), c.PValue, c.Excess)
}

// percent formats a rate as a percentage with three significant digits.
func percent(rate float64) string { return fmt.Sprintf("%.3g%%", 100*rate) }

// splitVersions leaves the versions found on both sides out of both.
func splitVersions(newV, oldV []string) (onlyNew, onlyOld, shared []string) {
	for _, v := range newV {
		if slices.Contains(oldV, v) {
			if !slices.Contains(shared, v) {
				shared = append(shared, v)
			}
		} else if !slices.Contains(onlyNew, v) {
			onlyNew = append(onlyNew, v)
		}
	}
	for _, v := range oldV {
		if !slices.Contains(newV, v) && !slices.Contains(onlyOld, v) {
			onlyOld = append(onlyOld, v)
		}
	}
	return onlyNew, onlyOld, shared
}

// firstUsage returns the earliest day with a usage row of one of versions.
func firstUsage(rows []storeapi.UsageDay, versions []string) (time.Time, bool) {
	var first time.Time
	found := false
	for _, u := range rows {
		if slices.Contains(versions, u.PackageVersion) && (!found || day(u.Date).Before(first)) {
			first, found = day(u.Date), true
		}
	}
	return first, found
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// gather sums the rows of each day of w by side.
func gather(w Window, in Input, newV, oldV []string) []Day {
	days := make([]Day, w.Days())
	newSeen, oldSeen := make([]bool, len(days)), make([]bool, len(days))
	for i := range days {
		days[i] = Day{Date: w.First.AddDate(0, 0, i), New: DaySide{Failures: map[string]float64{}}, Old: DaySide{Failures: map[string]float64{}}}
	}
	index := func(t time.Time) int {
		d := day(t)
		if d.Before(w.First) || d.After(w.Last) {
			return -1
		}
		return int(d.Sub(w.First) / (24 * time.Hour))
	}
	for _, u := range in.Usage {
		i := index(u.Date)
		switch {
		case i < 0:
		case slices.Contains(newV, u.PackageVersion):
			days[i].New.Devices += u.DailyActiveDevices
			newSeen[i] = true
		case slices.Contains(oldV, u.PackageVersion):
			days[i].Old.Devices += u.DailyActiveDevices
			oldSeen[i] = true
		}
	}
	for _, f := range in.Failures {
		i := index(f.Date)
		switch {
		case i < 0 || !slices.Contains(kinds, f.EventType):
		case slices.Contains(newV, f.PackageVersion):
			days[i].New.Failures[f.EventType] += f.DeviceCount
		case slices.Contains(oldV, f.PackageVersion):
			days[i].Old.Failures[f.EventType] += f.DeviceCount
		}
	}
	for i := range days {
		d := &days[i]
		d.Counted = newSeen[i] && oldSeen[i]
		if total := d.New.Devices + d.Old.Devices; total > 0 {
			d.Share = d.New.Devices / total
		}
	}
	return days
}

// compareDays tests kind over the counted days of w.
func compareDays(days []Day, w Window, kind string) Comparison {
	var fNew, nNew, fOld, nOld float64
	for _, d := range days {
		if d.Counted && !d.Date.Before(w.First) && !d.Date.After(w.Last) {
			fNew += d.New.Failures[kind]
			nNew += d.New.Devices
			fOld += d.Old.Failures[kind]
			nOld += d.Old.Devices
		}
	}
	return Compare(roundCount(fNew), roundCount(nNew), roundCount(fOld), roundCount(nOld))
}

// dayCounts returns the days without rows for a side, and the counted
// days spent at the current step.
func (r Result) dayCounts() (missing []time.Time, atStep int) {
	for _, d := range r.Days {
		switch {
		case !d.Counted:
			missing = append(missing, d.Date)
		case d.Share >= r.Percentage/200:
			atStep++
		}
	}
	return missing, atStep
}

// expected is the crash and hang failures the new side would have shown
// at the old rates.
func (r Result) expected() float64 {
	var e float64
	for _, k := range r.Kinds {
		e += float64(k.New.Devices) * k.Old.Rate
	}
	return e
}

// moreTraffic says how long a thin-data hold may last, at the traffic of
// the window's last counted day.
func (r Result) moreTraffic(minFailures float64) string {
	need := minFailures - r.ExpectedFailures
	var perDay float64
	for i := len(r.Days) - 1; i >= 0; i-- {
		if d := r.Days[i]; d.Counted {
			for _, k := range r.Kinds {
				perDay += d.New.Devices * k.Old.Rate
			}
			break
		}
	}
	if perDay <= 0 {
		return fmt.Sprintf("%.1f more expected failures on the new versions", need)
	}
	return fmt.Sprintf("%.1f more expected failures on the new versions, about %d more days at the last day's traffic", need, int(math.Ceil(need/perDay)))
}

func joinDays(days []time.Time) string {
	s := make([]string, len(days))
	for i, d := range days {
		s[i] = d.Format(time.DateOnly)
	}
	return strings.Join(s, ", ")
}
