package steps

import (
	"fmt"
	"strings"
	"time"

	"github.com/storeflight/storeflight/internal/redact"
	"github.com/storeflight/storeflight/internal/storeapi"
)

// SummaryMarkdown returns the job summary. It leads with the outcome
// (succeeded, failed, timed out, interrupted, held) and, when the run did
// not simply succeed, what stopped it and what to do next; then the
// submission and its flight, the rollout before and after, the status
// timeline with the time spent in each status, the changes, the errors,
// warnings and certification reports, the notices and, in a dry run, the
// plan. It is written on failure too.
func (s *Record) SummaryMarkdown() string {
	var b strings.Builder
	for _, section := range s.summarySections() {
		section(&b)
	}
	return b.String()
}

// summarySections are the summary's sections in order; each writes
// nothing when it has nothing to say.
func (s *Record) summarySections() []func(*strings.Builder) {
	return []func(*strings.Builder){
		s.writeOutcome,
		s.writeOverview,
		s.gateSection,
		s.writeTimeline,
		s.writeChanges,
		s.writeDetails,
		s.writeReports,
		s.writeNotices,
		s.writePlan,
	}
}

// writeOutcome writes the heading, which says how the run ended, and for
// a run that did not simply succeed the step, what happened, the
// service's answer and what to do next.
func (s *Record) writeOutcome(b *strings.Builder) {
	title := "storeflight"
	if s.DryRun {
		title += " (dry run)"
	}
	if s.Outcome != "" {
		title += ": " + string(s.Outcome)
	}
	fmt.Fprintf(b, "## %s\n\n", title)
	e := s.Ending
	if e == nil {
		return
	}
	what := e.What
	if e.Answer != nil {
		what += ": " + e.Answer.headline()
	}
	if e.Step != "" {
		fmt.Fprintf(b, "**%s %s**: %s\n\n", e.Step, s.Outcome, line(what))
	} else {
		fmt.Fprintf(b, "**%s**: %s\n\n", s.Outcome, line(what))
	}
	if a := e.Answer; a != nil {
		item := func(k, v string) {
			if v != "" {
				fmt.Fprintf(b, "- %s: %s\n", k, line(v))
			}
		}
		if a.Code != "" {
			item("Error code", code(a.Code))
		}
		item("Message", a.Message)
		item("Error", a.Err)
		item("Operation", a.Operation)
		if a.CorrelationID != "" {
			item("Correlation ID", code(a.CorrelationID)+" (quote it to Microsoft support)")
		}
	}
	if e.Next != "" {
		fmt.Fprintf(b, "- **Next**: %s\n", line(e.Next))
	}
	if e.Answer != nil || e.Next != "" {
		b.WriteString("\n")
	}
}

// writeOverview writes the table of the app, the flight, the submission,
// its status and rollout, and the packages sent.
func (s *Record) writeOverview(b *strings.Builder) {
	b.WriteString("| | |\n|---|---|\n")
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(b, "| %s | %s |\n", k, cell(v))
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
	if s.SubmissionID != "" || s.Created {
		kind := "Submission"
		if s.AppSubmission {
			kind = "App submission"
		}
		row(kind, s.submissionText())
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
	if len(s.Uploaded) > 0 {
		var parts []string
		for _, f := range s.Uploaded {
			parts = append(parts, fmt.Sprintf("%s (%s)", code(f.Name), sizeText(f.Size)))
		}
		row("Packages", strings.Join(parts, ", "))
	}
}

// submissionText is the submission's ID and how this run came to it.
func (s *Record) submissionText() string {
	sub := code(s.SubmissionID)
	switch {
	case s.SubmissionID == "" && s.Created:
		return "a new submission (not created: dry run)"
	case s.Created:
		return sub + " (created by this run)"
	case s.Continued:
		return sub + " (continued from an earlier run)"
	case s.TakenOver:
		return sub + " (taken over: an untouched copy of the last published submission)"
	}
	return sub
}

func (s *Record) writeTimeline(b *strings.Builder) {
	if len(s.Timeline) == 0 {
		return
	}
	b.WriteString("\n### Status timeline\n\n| Status | First seen (UTC) | Time in status |\n|---|---|---|\n")
	for _, t := range s.Timeline {
		fmt.Fprintf(b, "| %s | %s | %s |\n", t.Status, t.FirstSeen.UTC().Format(time.DateTime), durationText(t.Duration))
	}
}

func (s *Record) writeChanges(b *strings.Builder) {
	if len(s.Updated) == 0 {
		return
	}
	b.WriteString("\n### Changes\n\n| Field | Before | After |\n|---|---|---|\n")
	for _, c := range s.Updated {
		fmt.Fprintf(b, "| %s | %s | %s |\n", c.Field, cell(c.Before), cell(c.After))
	}
}

// writeDetails writes the submission's statusDetails errors and warnings.
func (s *Record) writeDetails(b *strings.Builder) {
	details := func(head string, ds []storeapi.StatusDetail) {
		if len(ds) == 0 {
			return
		}
		fmt.Fprintf(b, "\n### %s\n\n", head)
		for _, d := range ds {
			fmt.Fprintf(b, "- **%s**: %s\n", line(d.Code), line(d.Details))
		}
	}
	details("Errors", s.Errors)
	details("Warnings", s.Warnings)
}

func (s *Record) writeReports(b *strings.Builder) {
	if len(s.Reports) == 0 {
		return
	}
	b.WriteString("\n### Certification reports\n\n")
	for _, r := range s.Reports {
		fmt.Fprintf(b, "- [%s](%s)\n", line(r.Date), strings.ReplaceAll(r.ReportURL, ")", "%29"))
	}
}

func (s *Record) writeNotices(b *strings.Builder) {
	if len(s.Notices) == 0 {
		return
	}
	b.WriteString("\n### Notices\n\n")
	for _, n := range s.Notices {
		fmt.Fprintf(b, "- %s\n", line(n))
	}
}

func (s *Record) writePlan(b *strings.Builder) {
	if len(s.Plan) == 0 {
		return
	}
	b.WriteString("\n### Plan (dry run: nothing was changed)\n\n```\n")
	for _, p := range s.Plan {
		b.WriteString(redact.String(p))
		b.WriteByte('\n')
	}
	b.WriteString("```\n")
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
