package steps

import (
	"fmt"
	"strings"
	"time"

	"github.com/storeflight/storeflight/internal/redact"
	"github.com/storeflight/storeflight/internal/storeapi"
)

// SummaryMarkdown returns the job summary: the submission and its flight,
// the status timeline with the time spent in each status, the rollout
// before and after, the errors, warnings and certification reports, the
// notices and, in a dry run, the plan. It is written on failure too.
func (s *Record) SummaryMarkdown() string {
	var b strings.Builder
	title := "storeflight"
	if s.DryRun {
		title += " (dry run)"
	}
	fmt.Fprintf(&b, "## %s\n\n", title)
	b.WriteString("| | |\n|---|---|\n")
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "| %s | %s |\n", k, cell(v))
		}
	}
	row("Application", code(s.ApplicationID))
	if s.FlightID != "" {
		if s.FlightName != "" {
			row("Flight", fmt.Sprintf("%s (%s)", s.FlightName, code(s.FlightID)))
		} else {
			row("Flight", code(s.FlightID))
		}
	}
	sub := code(s.SubmissionID)
	switch {
	case s.SubmissionID == "" && s.Created:
		sub = "a new submission (not created: dry run)"
	case s.Created:
		sub += " (created by this run)"
	case s.Continued:
		sub += " (continued from an earlier run)"
	case s.TakenOver:
		sub += " (taken over: an untouched copy of the last published submission)"
	}
	if s.SubmissionID != "" || s.Created {
		kind := "Submission"
		if s.AppSubmission {
			kind = "App submission"
		}
		row(kind, sub)
	}
	row("Status", string(s.Status))
	if s.Deleted != "" {
		row("Deleted pending submission", code(s.Deleted))
	}
	if s.PreviousRollout != "" {
		row("Previous rollout", fmt.Sprintf("%s %s", s.PreviousRollout, code(s.PreviousRolloutID)))
	}
	row("Rollout before", rolloutText(s.Rollout.Before))
	if s.Rollout.After != nil {
		row("Rollout after", rolloutText(s.Rollout.After))
	}
	if r := s.Rollout.Latest(); r != nil && r.HasFallback() {
		row("Fallback submission", code(r.FallbackSubmissionID))
	}
	if s.Finalized {
		row("Finalized", "yes")
	}
	if s.TimedOut {
		row("Wait", "timed out; re-run with the same inputs to continue")
	}
	if len(s.Uploaded) > 0 {
		var parts []string
		for _, f := range s.Uploaded {
			parts = append(parts, fmt.Sprintf("%s (%s)", code(f.Name), sizeText(f.Size)))
		}
		row("Packages", strings.Join(parts, ", "))
	}

	s.gateSection(&b)
	if len(s.Timeline) > 0 {
		b.WriteString("\n### Status timeline\n\n| Status | First seen (UTC) | Time in status |\n|---|---|---|\n")
		for _, t := range s.Timeline {
			fmt.Fprintf(&b, "| %s | %s | %s |\n", t.Status, t.FirstSeen.UTC().Format(time.DateTime), durationText(t.Duration))
		}
	}
	if len(s.Updated) > 0 {
		b.WriteString("\n### Changes\n\n| Field | Before | After |\n|---|---|---|\n")
		for _, c := range s.Updated {
			fmt.Fprintf(&b, "| %s | %s | %s |\n", c.Field, cell(c.Before), cell(c.After))
		}
	}
	details := func(head string, ds []storeapi.StatusDetail) {
		if len(ds) == 0 {
			return
		}
		fmt.Fprintf(&b, "\n### %s\n\n", head)
		for _, d := range ds {
			fmt.Fprintf(&b, "- **%s**: %s\n", line(d.Code), line(d.Details))
		}
	}
	details("Errors", s.Errors)
	details("Warnings", s.Warnings)
	if len(s.Reports) > 0 {
		b.WriteString("\n### Certification reports\n\n")
		for _, r := range s.Reports {
			fmt.Fprintf(&b, "- [%s](%s)\n", line(r.Date), strings.ReplaceAll(r.ReportURL, ")", "%29"))
		}
	}
	if len(s.Notices) > 0 {
		b.WriteString("\n### Notices\n\n")
		for _, n := range s.Notices {
			fmt.Fprintf(&b, "- %s\n", line(n))
		}
	}
	if len(s.Plan) > 0 {
		b.WriteString("\n### Plan (dry run: nothing was changed)\n\n```\n")
		for _, p := range s.Plan {
			b.WriteString(redact.String(p))
			b.WriteByte('\n')
		}
		b.WriteString("```\n")
	}
	return b.String()
}

func rolloutText(r *storeapi.PackageRollout) string {
	if r == nil {
		return ""
	}
	if !r.IsPackageRollout {
		return "no gradual rollout"
	}
	st := strings.TrimPrefix(string(r.PackageRolloutStatus), "PackageRollout")
	return fmt.Sprintf("%s%% (%s)", formatPct(r.PackageRolloutPercentage), st)
}

func durationText(d time.Duration) string {
	if d <= 0 {
		return "–"
	}
	if d >= 24*time.Hour {
		days := d / (24 * time.Hour)
		return fmt.Sprintf("%dd%s", days, (d % (24 * time.Hour)).Round(time.Second))
	}
	return d.Round(time.Second).String()
}

func code(s string) string {
	if s == "" {
		return ""
	}
	return "`" + s + "`"
}

// line keeps a value on one Markdown line and out of table syntax.
func line(s string) string {
	s = strings.ReplaceAll(s, "\r", " ")
	return strings.ReplaceAll(s, "\n", " ")
}

func cell(s string) string { return strings.ReplaceAll(line(s), "|", `\|`) }
