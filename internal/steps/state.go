package steps

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/storeflight/storeflight/internal/ci"
	"github.com/storeflight/storeflight/internal/clock"
	"github.com/storeflight/storeflight/internal/config"
	"github.com/storeflight/storeflight/internal/storeapi"
)

// State is everything a run learns, step by step. The exported fields are
// read by the caller (outputs, summary) and by tests.
type State struct {
	ApplicationID string
	FlightID      string // empty for an app's own submission
	FlightName    string
	SubmissionID  string // empty in a dry run that would create one
	// AppSubmission is true when the target is the app's own submission.
	AppSubmission bool
	// Created is true when this run created the submission (or, in a dry
	// run, would create it).
	Created bool
	// Continued is true when the target is this pipeline's own earlier run
	// with the same inputs (the re-run rule), so the update is not redone.
	Continued bool
	// Deleted is the pending submission deleted by pending-submission: replace.
	Deleted string
	// PreviousRollout says what was done to the last published submission's
	// rollout before creating ("finalized" or "halted"), with its ID.
	PreviousRollout   string
	PreviousRolloutID string

	// Submission is the flight submission as last read or written; nil for
	// app submissions (see App).
	Submission *storeapi.FlightSubmission
	App        *storeapi.AppSubmission

	Status        storeapi.Status
	Timeline      []StatusSpan
	Errors        []storeapi.StatusDetail
	Warnings      []storeapi.StatusDetail
	Reports       []storeapi.CertificationReport
	RolloutBefore *storeapi.PackageRollout
	RolloutAfter  *storeapi.PackageRollout
	// rollout is the target's rollout as the rollout endpoint last reported
	// it in this run (a read or a rollout call's answer); nil when unknown.
	// The rollout steps start from it instead of reading it again, which
	// saves one request in each rollout-only run.
	rollout *storeapi.PackageRollout

	Updated     []FieldChange // the update's field-by-field changes
	Uploaded    []UploadedFile
	Committed   bool // this run committed the submission
	Finalized   bool
	Halted      bool
	TimedOut    bool // the wait ran out (with on-timeout: pass, the run still succeeds)
	Interrupted bool
	Notices     []string
	// Plan lists what a dry run would do, one action a line.
	Plan  []string
	Steps []StepRecord

	cfg   *config.Config
	store *storeapi.Client
	rep   ci.Reporter
	clock clock.Clock
	rand  func() float64
	deps  Deps
	// localVersions maps a package's ZIP name to its manifest version
	// ("" when unreadable).
	localVersions map[string]string
}

// StatusSpan is one status in the timeline: when the run first saw it and
// how long it stayed (up to the next status, or to the last read).
type StatusSpan struct {
	Status    storeapi.Status
	FirstSeen time.Time
	Duration  time.Duration
}

// FieldChange is one field the update changed (or, in a dry run, would).
type FieldChange struct {
	Field, Before, After string
}

// UploadedFile is one package file sent (or, in a dry run, to be sent).
type UploadedFile struct {
	Name string
	Size int64
}

// StepRecord is how a step went.
type StepRecord struct {
	Name     string
	Skipped  string // why, when skipped
	Duration time.Duration
	Err      string // redacted
}

func newState(d Deps) *State {
	s := &State{cfg: d.Config, store: d.Store, rep: d.Reporter, clock: d.Clock, rand: d.Rand, deps: d}
	if s.rand == nil {
		s.rand = rand.Float64
	}
	if s.clock == nil {
		s.clock = clock.Real{}
	}
	if d.Config != nil {
		s.ApplicationID = d.Config.ApplicationID
	}
	return s
}

func (s *State) key() storeapi.SubmissionKey {
	return storeapi.SubmissionKey{ApplicationID: s.ApplicationID, FlightID: s.FlightID, SubmissionID: s.SubmissionID}
}

func (s *State) dryRun() bool { return s.cfg.DryRun }

// observe records a status read from the Store: the timeline, and the
// details that go with it.
func (s *State) observe(st storeapi.Status, details *storeapi.StatusDetails) {
	now := s.clock.Now()
	if n := len(s.Timeline); n > 0 {
		last := &s.Timeline[n-1]
		last.Duration = now.Sub(last.FirstSeen)
		if last.Status != st {
			s.Timeline = append(s.Timeline, StatusSpan{Status: st, FirstSeen: now})
		}
	} else if st != "" {
		s.Timeline = append(s.Timeline, StatusSpan{Status: st, FirstSeen: now})
	}
	s.Status = st
	if details != nil {
		s.Errors = details.Errors
		s.Warnings = details.Warnings
		s.Reports = details.CertificationReports
	}
	switch {
	case s.Submission != nil:
		s.Submission.Status = st
	case s.App != nil:
		s.App.Status = st
	}
}

// setFlightSubmission records a flight submission read or written.
func (s *State) setFlightSubmission(sub *storeapi.FlightSubmission) {
	s.Submission = sub
	s.SubmissionID = sub.ID
	s.observe(sub.Status, &sub.StatusDetails)
}

func (s *State) setAppSubmission(sub *storeapi.AppSubmission) {
	s.App = sub
	s.SubmissionID = sub.ID
	s.AppSubmission = true
	s.observe(sub.Status, &sub.StatusDetails)
}

func (s *State) publishMode() string {
	switch {
	case s.Submission != nil:
		return s.Submission.TargetPublishMode
	case s.App != nil:
		return s.App.TargetPublishMode
	}
	return ""
}

func (s *State) fileUploadURL() string {
	switch {
	case s.Submission != nil:
		return s.Submission.FileUploadURL
	case s.App != nil:
		return s.App.FileUploadURL
	}
	return ""
}

// deliveryRollout is the rollout as the submission resource carries it.
func (s *State) deliveryRollout() *storeapi.PackageRollout {
	switch {
	case s.Submission != nil:
		r := s.Submission.PackageDeliveryOptions.PackageRollout
		return &r
	case s.App != nil:
		r := s.App.PackageDeliveryOptions.PackageRollout
		return &r
	}
	return nil
}

// Rollout returns the latest rollout known: after this run's changes if
// any, else as read at the start.
func (s *State) Rollout() *storeapi.PackageRollout {
	if s.RolloutAfter != nil {
		return s.RolloutAfter
	}
	return s.RolloutBefore
}

// rolloutCopy keeps a copy, so that later changes to a resource read from
// the Store do not rewrite history.
func rolloutCopy(r *storeapi.PackageRollout) *storeapi.PackageRollout {
	if r == nil {
		return nil
	}
	c := *r
	return &c
}

func (s *State) notice(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.Notices = append(s.Notices, msg)
	s.rep.Notice("storeflight", msg)
}

// plan records one action a dry run would take.
func (s *State) plan(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.Plan = append(s.Plan, msg)
	s.rep.Infof("dry run: would %s", msg)
}

// target names the submission for log lines.
func (s *State) target() string {
	id := s.SubmissionID
	if id == "" {
		id = "(new)"
	}
	if s.FlightID != "" {
		return fmt.Sprintf("submission %s of flight %s", id, s.flightLabel())
	}
	return fmt.Sprintf("app submission %s of %s", id, s.ApplicationID)
}

func (s *State) flightLabel() string {
	if s.FlightName != "" {
		return fmt.Sprintf("%q (%s)", s.FlightName, s.FlightID)
	}
	return s.FlightID
}

// describe is the last known state in one line, for interruptions.
func (s *State) describe() string {
	if s.SubmissionID == "" {
		return "no submission resolved yet"
	}
	parts := []string{s.target()}
	if s.Status != "" {
		parts = append(parts, "status "+string(s.Status))
	}
	if r := s.Rollout(); r != nil && r.IsPackageRollout {
		parts = append(parts, fmt.Sprintf("rollout %s at %s%%", r.PackageRolloutStatus, formatPct(r.PackageRolloutPercentage)))
	}
	return strings.Join(parts, ", ")
}

func formatPct(p float64) string { return strconv.FormatFloat(p, 'f', -1, 64) }

// Output names, as in DESIGN.md "Outputs".
const (
	OutFlightID             = "flight-id"
	OutSubmissionID         = "submission-id"
	OutSubmissionStatus     = "submission-status"
	OutRolloutStatus        = "rollout-status"
	OutRolloutPercentage    = "rollout-percentage"
	OutFallbackSubmissionID = "fallback-submission-id"
	OutFinalized            = "finalized"
	OutRolloutDecision      = "rollout-decision"
	OutHealth               = "health"
	OutResult               = "result"
)

// Outputs returns the run's outputs as far as they are known (DESIGN.md,
// "Outputs"); result holds the others as one JSON object, plus the
// application ID and, when the wait ran out, "timed-out": "true".
func (s *State) Outputs() map[string]string {
	// rollout-decision is none and health empty until the health gate
	// runs.
	out := map[string]string{OutFinalized: strconv.FormatBool(s.Finalized), OutRolloutDecision: "none", OutHealth: ""}
	set := func(k, v string) {
		if v != "" {
			out[k] = v
		}
	}
	set(OutFlightID, s.FlightID)
	set(OutSubmissionID, s.SubmissionID)
	set(OutSubmissionStatus, string(s.Status))
	if r := s.Rollout(); r != nil {
		set(OutRolloutStatus, string(r.PackageRolloutStatus))
		if r.IsPackageRollout || r.PackageRolloutStatus != "" {
			set(OutRolloutPercentage, formatPct(r.PackageRolloutPercentage))
		}
		if r.HasFallback() {
			set(OutFallbackSubmissionID, r.FallbackSubmissionID)
		}
	}
	result := make(map[string]string, len(out)+2)
	for k, v := range out {
		result[k] = v
	}
	if s.ApplicationID != "" {
		result["application-id"] = s.ApplicationID
	}
	if s.TimedOut {
		result["timed-out"] = "true"
	}
	if s.cfg != nil && s.cfg.DryRun {
		result["dry-run"] = "true"
	}
	b, _ := json.Marshal(result) // a map of strings always marshals
	out[OutResult] = string(b)
	return out
}

// Report writes every output and the job summary through r, and returns
// the first error met. Callers use it on failure too.
func (s *State) Report(r ci.Reporter) error {
	outs := s.Outputs()
	var first error
	for _, k := range []string{OutFlightID, OutSubmissionID, OutSubmissionStatus, OutRolloutStatus,
		OutRolloutPercentage, OutFallbackSubmissionID, OutFinalized, OutRolloutDecision, OutHealth, OutResult} {
		v, ok := outs[k]
		if !ok {
			continue
		}
		if err := r.SetOutput(k, v); err != nil && first == nil {
			first = err
		}
	}
	if err := r.Summary(s.SummaryMarkdown()); err != nil && first == nil {
		first = err
	}
	return first
}
