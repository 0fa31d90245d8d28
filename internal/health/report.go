package health

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// NextStep returns the smallest of steps above current, the percentage an
// advance goes to; ok is false past the last step, where a healthy gate
// finalizes (finalize-rollout: true) or holds. A step within 1e-9 of
// current counts as reached, since the Store returns percentages as
// floats.
func NextStep(steps []float64, current float64) (next float64, ok bool) {
	for _, s := range steps {
		if s > current+1e-9 && (!ok || s < next) {
			next, ok = s, true
		}
	}
	return next, ok
}

// jsonResult is the `health` output's form of a Result.
type jsonResult struct {
	Decision         Decision     `json:"decision"`
	Rule             string       `json:"rule"`
	Reason           string       `json:"reason"`
	WaitsFor         string       `json:"waitsFor,omitempty"`
	Window           *jsonWindow  `json:"window,omitempty"`
	MissingDays      []string     `json:"missingDays,omitempty"`
	Percentage       float64      `json:"percentage"`
	DaysAtStep       int          `json:"daysAtStep"`
	ExpectedFailures float64      `json:"expectedFailures"`
	NewVersions      []string     `json:"newVersions,omitempty"`
	OldVersions      []string     `json:"oldVersions,omitempty"`
	SharedVersions   []string     `json:"sharedVersions,omitempty"`
	Kinds            []KindResult `json:"kinds,omitempty"`
	Days             []jsonDay    `json:"days,omitempty"`
}

type jsonWindow struct {
	First string `json:"first"`
	Last  string `json:"last"`
	Days  int    `json:"days"`
}

type jsonDay struct {
	Date    string  `json:"date"`
	Counted bool    `json:"counted"`
	Share   float64 `json:"share"`
	New     DaySide `json:"new"`
	Old     DaySide `json:"old"`
}

func (r Result) wire() jsonResult {
	j := jsonResult{
		Decision: r.Decision, Rule: r.Rule, Reason: r.Reason, WaitsFor: r.WaitsFor,
		Percentage: r.Percentage, DaysAtStep: r.DaysAtStep, ExpectedFailures: round6(r.ExpectedFailures),
		NewVersions: r.NewVersions, OldVersions: r.OldVersions, SharedVersions: r.SharedVersions,
		Kinds: r.Kinds,
	}
	if n := r.Window.Days(); n > 0 {
		j.Window = &jsonWindow{First: r.Window.First.Format(time.DateOnly), Last: r.Window.Last.Format(time.DateOnly), Days: n}
	}
	for _, d := range r.MissingDays {
		j.MissingDays = append(j.MissingDays, d.Format(time.DateOnly))
	}
	for _, d := range r.Days {
		j.Days = append(j.Days, jsonDay{Date: d.Date.Format(time.DateOnly), Counted: d.Counted, Share: round6(d.Share), New: d.New, Old: d.Old})
	}
	return j
}

// round6 keeps six decimals: enough for shares and expected counts, and
// short in the output.
func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }

// JSON returns the `health` output: the decision, its rule, reason and
// what a hold waits for, the window, per failure kind both sides' F, N and
// rates with the ratio, p-value and excess (and the same for the window
// ending a day earlier), and the daily counts, on a single line.
func (r Result) JSON() string {
	b, err := json.Marshal(r.wire())
	if err != nil {
		// Only a NaN or Inf could fail, and Compare makes none.
		return fmt.Sprintf(`{"decision":%q,"rule":%q,"reason":"unencodable figures"}`, r.Decision, r.Rule)
	}
	return string(b)
}

// ShortJSONLimit bounds ShortJSON, so that it fits beside the other
// outputs within GitLab's 5 KB dotenv report.
const ShortJSONLimit = 2048

// ShortJSON returns the key figures of JSON (no daily counts, no earlier
// window, texts and version lists shortened) in at most ShortJSONLimit
// bytes, for where outputs are small.
func (r Result) ShortJSON() string {
	j := r.wire()
	j.Days = nil
	j.Reason, j.WaitsFor = clip(j.Reason, 400), clip(j.WaitsFor, 200)
	j.NewVersions, j.OldVersions, j.SharedVersions = clipList(j.NewVersions, 3), clipList(j.OldVersions, 3), clipList(j.SharedVersions, 3)
	j.MissingDays = clipList(j.MissingDays, 3)
	kinds := make([]KindResult, len(j.Kinds))
	for i, k := range j.Kinds {
		k.Earlier = nil
		kinds[i] = k
	}
	j.Kinds = kinds
	b, err := json.Marshal(j)
	if err != nil || len(b) > ShortJSONLimit {
		b, _ = json.Marshal(jsonResult{Decision: j.Decision, Rule: j.Rule, Reason: clip(j.Reason, 200), Percentage: j.Percentage})
	}
	return string(b)
}

// clip shortens s to at most n bytes of whole runes, ending in "…".
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// clipList keeps the first keep items, each clipped to 40 bytes, and says
// how many more there were.
func clipList(items []string, keep int) []string {
	out := make([]string, 0, min(len(items), keep+1))
	for i, s := range items {
		if i == keep {
			out = append(out, fmt.Sprintf("and %d more", len(items)-keep))
			break
		}
		out = append(out, clip(s, 40))
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// Figures returns the window and each kind's figures, a line each (each
// under 120 characters, as log lines are), for an annotation or a notice:
//
//	2026-03-03 to 2026-03-09 (7 days)
//	crash: new 280 of 35,000 (0.8%), old 2,660 of 665,000 (0.4%), ratio 2.00, p = 1.2e-29, excess 140.0
//	hang: ...
func (r Result) Figures() string {
	if r.Window.Days() == 0 {
		return "no day to compare yet"
	}
	parts := []string{fmt.Sprintf("%s (%d days)", r.Window, r.Window.Days())}
	for _, k := range r.Kinds {
		parts = append(parts, fmt.Sprintf("%s: new %s of %s (%s), old %s of %s (%s), ratio %.2f, p = %s, excess %.1f",
			k.Kind, thousands(k.New.Failures), thousands(k.New.Devices), percent(k.New.Rate),
			thousands(k.Old.Failures), thousands(k.Old.Devices), percent(k.Old.Rate), k.Ratio, pValue(k.PValue), k.Excess))
	}
	return strings.Join(parts, "\n")
}

// Markdown returns the decision and its reason, the window, and a table of
// both sides' figures per failure kind with a sparkline of each side's
// daily rate, drawn to one scale per kind so that the two lines compare.
func (r Result) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "- Verdict: **%s** (%s): %s\n", r.Decision, r.Rule, mdEscape(r.Reason))
	if r.WaitsFor != "" {
		fmt.Fprintf(&b, "- Waits for %s.\n", mdEscape(r.WaitsFor))
	}
	if r.Window.Days() == 0 {
		return b.String()
	}
	fmt.Fprintf(&b, "- Window %s (%d days) at %g%%: new versions %s, old %s.", r.Window, r.Window.Days(), r.Percentage, versionList(r.NewVersions), versionList(r.OldVersions))
	if len(r.SharedVersions) > 0 {
		fmt.Fprintf(&b, " On both sides, so left out: %s.", versionList(r.SharedVersions))
	}
	if len(r.MissingDays) > 0 {
		fmt.Fprintf(&b, " Days without usage rows for a side: %s.", joinDays(r.MissingDays))
	}
	b.WriteString("\n\n| kind | new: failing of active | old: failing of active | ratio | p-value | excess | daily rate, new | daily rate, old |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---|---|\n")
	for _, k := range r.Kinds {
		newRates, oldRates, top := r.dailyRates(k.Kind)
		fmt.Fprintf(&b, "| %s | %s of %s (%s) | %s of %s (%s) | %.2f | %s | %.1f | %s | %s |\n",
			k.Kind, thousands(k.New.Failures), thousands(k.New.Devices), percent(k.New.Rate),
			thousands(k.Old.Failures), thousands(k.Old.Devices), percent(k.Old.Rate),
			k.Ratio, pValue(k.PValue), k.Excess, Sparkline(newRates, top), Sparkline(oldRates, top))
	}
	return b.String()
}

// dailyRates returns both sides' daily rates of kind (NaN for a day that
// is not counted) and the larger of their maxima.
func (r Result) dailyRates(kind string) (newRates, oldRates []float64, top float64) {
	for _, d := range r.Days {
		n, o := math.NaN(), math.NaN()
		if d.Counted {
			n, o = d.New.Rate(kind), d.Old.Rate(kind)
			top = max(top, n, o)
		}
		newRates, oldRates = append(newRates, n), append(oldRates, o)
	}
	return newRates, oldRates, top
}

// sparkBlocks are the eight heights of a sparkline.
var sparkBlocks = []rune("▁▂▃▄▅▆▇█")

// Sparkline draws values as Unicode block characters, top being the
// height of a full block; a NaN (a day without data) is drawn as "·".
func Sparkline(values []float64, top float64) string {
	var b strings.Builder
	for _, v := range values {
		switch {
		case math.IsNaN(v):
			b.WriteRune('·')
		case top <= 0 || v <= 0:
			b.WriteRune(sparkBlocks[0])
		default:
			i := int(math.Round(min(v/top, 1) * float64(len(sparkBlocks)-1)))
			b.WriteRune(sparkBlocks[i])
		}
	}
	return b.String()
}

// pValue formats a p-value; 0 is a value below the smallest float64.
func pValue(p float64) string {
	if p == 0 {
		return "< 1e-308"
	}
	return strconv.FormatFloat(p, 'g', 2, 64)
}

// thousands formats n with comma separators.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// versionList quotes the first ten versions as code.
func versionList(vs []string) string {
	const keep = 10
	items := clipList(vs, keep)
	for i, v := range items {
		if i < keep {
			items[i] = "`" + strings.ReplaceAll(mdEscape(v), "`", "'") + "`"
		}
	}
	if len(items) == 0 {
		return "none"
	}
	return strings.Join(items, ", ")
}

// mdEscape keeps text from breaking a table or turning into markup.
func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ", "<", "&lt;", ">", "&gt;").Replace(s)
}
