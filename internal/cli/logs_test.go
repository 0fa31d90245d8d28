package cli

import (
	"regexp"
	"strings"
	"testing"
)

// maxProgressLine is the longest a progress line may be: under the 120
// characters of DESIGN.md ("HTTP behaviour").
const maxProgressLine = 119

var (
	versionLineRE = regexp.MustCompile(`(?m)\Astoreflight \S+$`)
	statusLineRE  = regexp.MustCompile(`(?m)^(status: \w+ → \w+ after )\S+$`)
	// The upload's own lines are upload.go's (sizes, rates, progress), and
	// are tested there.
	uploadLineRE = regexp.MustCompile(`(?m)^(uploading|uploaded) .*$`)
)

// normaliseLog takes out of a plain log what differs from run to run (the
// version, the simulator's start time) or belongs to other code's tests:
// the timeline's durations, which follow the polling schedule, and the
// upload's lines.
func normaliseLog(log string) string {
	log = versionLineRE.ReplaceAllString(log, "storeflight <version>")
	log = normaliseSummary(log)
	log = statusLineRE.ReplaceAllString(log, "${1}<duration>")
	return uploadLineRE.ReplaceAllString(log, "${1} <upload line>")
}

// progressLines returns the lines of a plain log that a run prints as it
// goes: without the job summaries it prints (Markdown, from a "##
// storeflight" heading up to the next log line) and the outputs at the
// end. It also returns how many summaries it left out.
func progressLines(log string) (lines []string, summaries int) {
	log, _, _ = strings.Cut(log, "== outputs ==\n")
	log = strings.TrimSuffix(log, "\n")
	inSummary, inFence := false, false
	for l := range strings.SplitSeq(log, "\n") {
		switch {
		case strings.HasPrefix(l, "## storeflight"):
			inSummary = true
			summaries++
			continue
		case inSummary && strings.HasPrefix(l, "```"):
			inFence = !inFence
			continue
		case inSummary && (inFence || l == "" || strings.ContainsAny(l[:1], "|#-*")):
			continue
		}
		inSummary = false
		lines = append(lines, l)
	}
	return lines, summaries
}

func TestProgressLines(t *testing.T) {
	t.Parallel()
	log := "storeflight dev\n== wait: x ==\nwaiting\n## storeflight: failed\n\n**wait failed**: y\n\n- **Next**: z\n\n| | |\n|---|---|\n" +
		"\n### Plan (dry run: nothing was changed)\n\n```\nplan line\n```\n\nerror: storeflight failed: wait: y\n== outputs ==\nresult={}\n"
	lines, n := progressLines(log)
	want := []string{"storeflight dev", "== wait: x ==", "waiting", "error: storeflight failed: wait: y"}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") || n != 1 {
		t.Errorf("progressLines = %q, %d summaries; want %q, 1", lines, n, want)
	}
}

// The logs a person reads: the demo, a rollout-only run, a run that times
// out and a run the pipeline refuses keep every progress line (the failure's
// too) under 120 characters, and read as the reviewed golden files show.
func TestLogsReadWell(t *testing.T) {
	t.Parallel()
	rehearsal := []string{"--simulate", "--application-id=9NBLGGH4R315", "--flight-name=Beta testers"}
	tests := []struct {
		name      string
		args      []string
		pkg       bool // add a package to ship
		wantCode  int
		summaries int
	}{
		{name: "demo", args: []string{"--simulate"}, wantCode: ExitOK, summaries: 5},
		{name: "rollout-only", args: append(rehearsal, "--rollout-percentage=50"), wantCode: ExitOK, summaries: 1},
		{name: "timed-out", args: append(rehearsal, "--wait-for=published", "--timeout=10m"), pkg: true, wantCode: ExitTimedOut, summaries: 1},
		{name: "refused", args: append(rehearsal, "--submission-id="+demoPublishedID, "--notes-for-certification=x"), wantCode: ExitFailed, summaries: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newRunEnv(t, nil)
			args := tt.args
			if tt.pkg {
				args = append(args[:len(args):len(args)], "--packages="+writePackage(t, e.dir, "ContosoNotes_1.2.0.0_x64.msix"))
			}
			if code := e.run(t, args...); code != tt.wantCode {
				t.Fatalf("exit code %d, want %d", code, tt.wantCode)
			}
			log := e.stdout.String()
			lines, summaries := progressLines(log)
			if summaries != tt.summaries {
				t.Errorf("%d job summaries in the log, want %d", summaries, tt.summaries)
			}
			for _, l := range lines {
				if n := len([]rune(l)); n > maxProgressLine {
					t.Errorf("a progress line of %d characters, not under %d:\n%s", n, maxProgressLine+1, l)
				}
			}
			golden(t, tt.name+".golden.log", normaliseLog(log))
		})
	}
}
