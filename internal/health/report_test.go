package health

import (
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/storeflight/storeflight/internal/storeapi"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestNextStep(t *testing.T) {
	t.Parallel()
	steps := []float64{5, 20, 50, 100}
	tests := []struct {
		name    string
		steps   []float64
		current float64
		want    float64
		wantOK  bool
	}{
		{"before the first step", steps, 0, 5, true},
		{"at a step", steps, 5, 20, true},
		{"between steps", steps, 12.5, 20, true},
		{"a float a hair below a step counts as it", steps, 19.9999999999, 50, true},
		{"at the last step", steps, 100, 0, false},
		{"past the last step", []float64{5, 20}, 30, 0, false},
		{"unordered steps", []float64{50, 5, 20}, 5, 20, true},
		{"no steps", nil, 5, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := NextStep(tt.steps, tt.current)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("NextStep(%v, %g) = %g, %v; want %g, %v", tt.steps, tt.current, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestSparkline(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		values []float64
		top    float64
		want   string
	}{
		{"a ramp", []float64{0, 1, 2, 3, 4, 5, 6, 7}, 7, "▁▂▃▄▅▆▇█"},
		{"a missing day", []float64{7, math.NaN(), 3.5}, 7, "█·▅"},
		{"nothing to scale", []float64{0, 0}, 0, "▁▁"},
		{"above the top is a full block", []float64{9}, 7, "█"},
		{"empty", nil, 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Sparkline(tt.values, tt.top); got != tt.want {
				t.Errorf("Sparkline = %q, want %q", got, tt.want)
			}
		})
	}
}

// regressionWithGaps is a 2x crash regression on 2.0.0.0 with a day
// missing and a version (1.5.0.0) on both sides.
func regressionWithGaps() Result {
	data := days(8, with(healthy(), func(d *dayData) { d.newCrash = 40 }))
	data[4].noOldUsage = true
	data[6].newCrash = 60
	in := inputFrom(runAt, 5, data)
	in.NewVersions = append(in.NewVersions, "1.5.0.0")
	in.OldVersions = append(in.OldVersions, "1.5.0.0")
	return Evaluate(in, Thresholds{})
}

func TestJSON(t *testing.T) {
	t.Parallel()
	r := regressionWithGaps()
	out := r.JSON()
	if strings.ContainsAny(out, "\r\n") {
		t.Fatalf("JSON is not a single line: %s", out)
	}
	var got struct {
		Decision, Rule, Reason string
		Window                 struct {
			First, Last string
			Days        int
		}
		MissingDays, SharedVersions []string
		ExpectedFailures            float64
		Kinds                       []struct {
			Kind                  string
			New, Old              Side
			Ratio, PValue, Excess float64
			Earlier               *Comparison
		}
		Days []struct {
			Date    string
			Counted bool
			New     struct {
				Devices  float64
				Failures map[string]float64
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	if got.Decision != "halt" || got.Rule != RuleRegression || got.Reason != r.Reason ||
		got.Window.First != "2026-03-03" || got.Window.Last != "2026-03-09" || got.Window.Days != 7 {
		t.Errorf("decision and window: %+v", got)
	}
	if diff := cmp.Diff([]string{"2026-03-06"}, got.MissingDays); diff != "" {
		t.Errorf("missing days (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"1.5.0.0"}, got.SharedVersions); diff != "" {
		t.Errorf("shared versions (-want +got):\n%s", diff)
	}
	if len(got.Kinds) != 2 || got.Kinds[0].Kind != "crash" || got.Kinds[0].New != r.Kinds[0].New || got.Kinds[0].PValue != r.Kinds[0].PValue ||
		got.Kinds[0].Earlier == nil || got.Kinds[1].Kind != "hang" {
		t.Errorf("kinds: %+v", got.Kinds)
	}
	if len(got.Days) != 7 || got.Days[3].Counted || got.Days[4].New.Failures["crash"] != 40 {
		t.Errorf("days: %+v", got.Days)
	}
}

func TestShortJSONStaysSmall(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("1.2.3.4-with-a-very-long-suffix-", 4)
	huge := regressionWithGaps()
	for i := range 300 {
		huge.NewVersions = append(huge.NewVersions, long+string(rune('a'+i%26)))
		huge.SharedVersions = append(huge.SharedVersions, long)
	}
	huge.Reason = strings.Repeat("é", 5000)
	tests := []struct {
		name string
		r    Result
	}{
		{"a regression", regressionWithGaps()},
		{"many long versions and a long reason", huge},
		{"a hold before any data", Held(RuleUnreadable, "read daily usage: GET /v1.0/my/analytics/usagedaily: 503", "the analytics API to answer")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := tt.r.ShortJSON()
			if len(out) > ShortJSONLimit || strings.ContainsAny(out, "\r\n") {
				t.Fatalf("%d bytes (limit %d): %s", len(out), ShortJSONLimit, out)
			}
			var got jsonResult
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("%v in %s", err, out)
			}
			if got.Decision != tt.r.Decision || len(got.Kinds) != len(tt.r.Kinds) || got.Days != nil {
				t.Errorf("short form %s", out)
			}
			for _, k := range got.Kinds {
				if k.Earlier != nil {
					t.Errorf("short form keeps the earlier window: %s", out)
				}
			}
		})
	}
	if out := huge.ShortJSON(); !strings.Contains(out, `"and 298 more"`) {
		t.Errorf("the shared versions are not clipped to three: %s", out)
	}
}

func TestFigures(t *testing.T) {
	t.Parallel()
	r := Evaluate(inputFrom(runAt, 5, days(8, with(healthy(), func(d *dayData) { d.newCrash = 40 }))), Thresholds{})
	want := "2026-03-03 to 2026-03-09 (7 days)\n" +
		"crash: new 280 of 35,000 (0.8%), old 2,660 of 665,000 (0.4%), ratio 2.00, p = " + pValue(r.Kinds[0].PValue) + ", excess 140.0\n" +
		"hang: new 70 of 35,000 (0.2%), old 1,330 of 665,000 (0.2%), ratio 1.00, p = " + pValue(r.Kinds[1].PValue) + ", excess 0.0"
	if got := r.Figures(); got != want {
		t.Errorf("Figures =\n%s\nwant\n%s", got, want)
	}
	if got := Held(RuleUnreadable, "x", "y").Figures(); got != "no day to compare yet" {
		t.Errorf("Figures of a hold without data = %q", got)
	}
}

func TestMarkdownGolden(t *testing.T) {
	t.Parallel()
	r := regressionWithGaps()
	r.OldVersions = append(r.OldVersions, "0.9|beta`1")
	got := r.Markdown() + "\n---\n\n" + Held(RuleUnreadable, "read daily usage: 503 <html>", "the analytics API to answer").Markdown()
	path := filepath.Join("testdata", "markdown.golden.md")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -run TestMarkdownGolden -update writes it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("Markdown (-want +got):\n%s", diff)
	}
}

func TestThousands(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 665000: "665,000", 1234567: "1,234,567", -4500: "-4,500"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

// Rows for a failure kind the gate does not compare do not appear in any
// form of the result.
func TestReportsOnlyComparedKinds(t *testing.T) {
	t.Parallel()
	in := inputFrom(runAt, 5, days(8, healthy()))
	in.Failures = append(in.Failures, storeapi.FailureHit{Date: date(4), PackageVersion: "2.0.0.0", EventType: storeapi.FailureMemory, DeviceCount: 3})
	r := Evaluate(in, Thresholds{})
	if out := r.JSON() + r.Markdown() + r.Figures(); strings.Contains(out, "memory") {
		t.Errorf("memory failures reported:\n%s", out)
	}
}
