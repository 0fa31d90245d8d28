package steps

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/storeflight/storeflight/internal/ci"
	"github.com/storeflight/storeflight/internal/clock"
	"github.com/storeflight/storeflight/internal/config"
	"github.com/storeflight/storeflight/internal/msix"
	"github.com/storeflight/storeflight/internal/storeapi"
	"github.com/storeflight/storeflight/internal/upload"
)

// State is one run of the pipeline: what its steps need (stepDeps) and what it
// records (Record). Run returns it, and its outputs and job summary come
// from the Record alone.
type State struct {
	Record
	stepDeps
}

// Record is what a run learns, step by step: what the outputs and the job
// summary say, on failure too. Tests read it as well.
type Record struct {
	ApplicationID string
	FlightID      string // empty for an app's own submission
	FlightName    string
	SubmissionID  string // empty in a dry run that would create one
	// AppSubmission is true when the target is the app's own submission.
	AppSubmission bool
	// DryRun is true when the run only planned its changes.
	DryRun bool
	// Created is true when this run created the submission (or, in a dry
	// run, would create it).
	Created bool
	// Continued is true when the target is this pipeline's own earlier run
	// with the same inputs (the re-run rule).
	Continued bool
	// TakenOver is true when the target is an untouched clone of the last
	// published submission that this run took over.
	TakenOver bool
	// Deleted is the pending submission deleted by pending-submission: replace.
	Deleted string
	// PreviousRollout says what was done to the last published submission's
	// rollout before creating ("finalized" or "halted"), with its ID.
	PreviousRollout   string
	PreviousRolloutID string

	Status   storeapi.Status
	Timeline []StatusSpan
	Errors   []storeapi.StatusDetail
	Warnings []storeapi.StatusDetail
	Reports  []storeapi.CertificationReport
	Rollout  RolloutRecord
	// Gate is what the health gate of rollout-steps decided.
	Gate GateRecord

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

	// Outcome is how the run ended; "" until Run returns.
	Outcome Outcome
	// Ending says why a run that did not simply succeed stopped where it
	// did and what to do next (a failure, a timeout, an interruption, a
	// hold); nil for a plain success.
	Ending *Ending
}

// RolloutRecord is the target submission's gradual rollout as this run saw
// it: at the start and, when anything was read or changed later in the
// run, after. Each is a copy, never changed once recorded.
type RolloutRecord struct {
	Before *storeapi.PackageRollout
	After  *storeapi.PackageRollout
	// live is true when the latest rollout came from the rollout endpoint
	// (a read or a rollout call's answer) in this run: the rollout steps
	// then start from it instead of reading it again, which saves one
	// request in each rollout-only run.
	live bool
}

// Latest is the latest rollout known: after this run's changes if any,
// else as read at the start; nil when unknown.
func (r *RolloutRecord) Latest() *storeapi.PackageRollout {
	if r.After != nil {
		return r.After
	}
	return r.Before
}

// start records the rollout at the start; fromEndpoint says whether the
// rollout endpoint reported it (else it is the submission resource's).
func (r *RolloutRecord) start(got *storeapi.PackageRollout, fromEndpoint bool) {
	r.Before, r.live = rolloutCopy(got), fromEndpoint && got != nil
}

// record records the rollout as read or changed later in the run.
func (r *RolloutRecord) record(got *storeapi.PackageRollout, fromEndpoint bool) {
	r.After, r.live = rolloutCopy(got), fromEndpoint && got != nil
}

// liveRollout is the rollout the endpoint last reported in this run, or nil.
func (r *RolloutRecord) liveRollout() *storeapi.PackageRollout {
	if !r.live {
		return nil
	}
	return r.Latest()
}

// stepDeps is what a step needs: the inputs, the Store, the reporter, time and
// chance, and once resolve has found them the target and its submission.
type stepDeps struct {
	cfg    *config.Config
	store  *storeapi.Client
	rep    ci.Reporter
	clock  clock.Clock
	rand   func() float64
	upload uploadDeps
	// owner is the flight or app acted on; nil until resolve finds it.
	owner owner
	// sub is the target submission as last read or written; nil until
	// resolve finds it (and in a dry run that plans a create with nothing
	// to clone).
	sub submission
	// clonedFrom is, for a submission this run creates, the last published
	// one it is a clone of (an empty one when there is none); nil otherwise.
	clonedFrom submission
	// updateRan is true once the update step has sent (or, in a dry run,
	// planned) this run's update.
	updateRan bool
	// followUpBase is the last published submission a follow-up run
	// compares the submission in flight with, once it is processed; nil
	// when there is nothing (more) to check (see checkInFlightPackages).
	followUpBase submission
	// localVersions maps a package's ZIP name to its manifest version
	// ("" when unreadable).
	localVersions map[string]string
	// localIdentities maps a package's ZIP name to its identity, for those
	// whose manifest could be read.
	localIdentities map[string]msix.Identity
	// notesFiles are release-notes-dir's files, read at resolve.
	notesFiles []notesFile
	// packagesChecked is true once the packages this run uploaded were
	// checked after pre-processing (see checkProcessedPackages).
	packagesChecked bool
	// step is the step running; it titles the step's notices.
	step string
}

// uploadDeps tunes the blob upload (see Deps).
type uploadDeps struct {
	transport policy.Transporter
	options   *upload.Options
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
	s := &State{stepDeps: stepDeps{cfg: d.Config, store: d.Store, rep: d.Reporter, clock: d.Clock, rand: d.Rand,
		upload: uploadDeps{transport: d.UploadTransport, options: d.UploadOptions}}}
	if s.rand == nil {
		s.rand = rand.Float64
	}
	if s.clock == nil {
		s.clock = clock.Real{}
	}
	if d.Config != nil {
		s.ApplicationID = d.Config.ApplicationID
		s.DryRun = d.Config.DryRun
	}
	return s
}

func (s *State) key() storeapi.SubmissionKey { return s.owner.key(s.SubmissionID) }

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
}

// setSubmission records the target submission as read or written.
func (s *State) setSubmission(sub submission) {
	s.sub = sub
	s.SubmissionID = sub.id()
	s.observe(sub.status(), sub.details())
}

func (s *State) publishMode() string {
	if s.sub == nil {
		return ""
	}
	return s.sub.publishMode()
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

// notice records a notice for the summary and reports it, titled by the
// step. A line break in it starts a continuation line in the log; the
// summary joins the lines.
func (s *State) notice(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.Notices = append(s.Notices, msg)
	s.rep.Notice(s.step, msg)
}

// plan records one action a dry run would take.
func (s *State) plan(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.Plan = append(s.Plan, msg)
	s.rep.Infof("dry run: would %s", msg)
}

// target names the target submission in log lines and errors, briefly:
// the flight or app was named when resolve found it and heads each step's
// log group (groupTitle).
func (s *State) target() string { return "submission " + orNew(s.SubmissionID) }

// groupTitle heads a step's log group: the step, and once resolve has
// found it, the submission and its flight or app.
func (s *State) groupTitle(step string) string {
	if s.owner == nil {
		return step
	}
	return step + ": " + s.owner.submissionLabel(s.SubmissionID)
}

// hold records that the run leaves the rollout where it is, on purpose
// (the health gate holds it): why, and what the next run does. The run
// succeeds (exit 0); the job summary leads with the hold.
func (s *State) hold(step, why, next string) {
	s.Outcome = OutcomeHeld
	s.Ending = &Ending{Step: step, What: why, Next: next}
}

// timeInStatus is how long the run has seen the current status, up to now.
func (s *State) timeInStatus() time.Duration {
	n := len(s.Timeline)
	if n == 0 {
		return 0
	}
	return s.clock.Now().Sub(s.Timeline[n-1].FirstSeen).Round(time.Second)
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
	if r := s.Rollout.Latest(); r != nil && r.IsPackageRollout {
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
func (s *Record) Outputs() map[string]string {
	out := map[string]string{OutFinalized: strconv.FormatBool(s.Finalized), OutRolloutDecision: s.Gate.decision(), OutHealth: s.Gate.healthJSON()}
	set := func(k, v string) {
		if v != "" {
			out[k] = v
		}
	}
	// flight-id is always there, empty for the app's own submission, so
	// that a later job passing it on gets an empty value, not none.
	out[OutFlightID] = s.FlightID
	set(OutSubmissionID, s.SubmissionID)
	set(OutSubmissionStatus, string(s.Status))
	if r := s.Rollout.Latest(); r != nil {
		set(OutRolloutStatus, string(r.PackageRolloutStatus))
		if r.IsPackageRollout || r.PackageRolloutStatus != "" {
			set(OutRolloutPercentage, formatPct(r.PackageRolloutPercentage))
		}
		if r.HasFallback() {
			set(OutFallbackSubmissionID, r.FallbackSubmissionID)
		}
	}
	out[OutResult] = s.result(out)
	return out
}

// result is the result output: outs (without result) and the run's other
// facts as one JSON object.
func (s *Record) result(outs map[string]string) string {
	result := make(map[string]string, len(outs)+2)
	for k, v := range outs {
		if k != OutResult {
			result[k] = v
		}
	}
	if s.ApplicationID != "" {
		result["application-id"] = s.ApplicationID
	}
	if s.TimedOut {
		result["timed-out"] = "true"
	}
	if s.DryRun {
		result["dry-run"] = "true"
	}
	b, _ := json.Marshal(result) // a map of strings always marshals
	return string(b)
}

// shortOutputs are the short forms of the outputs that can grow long,
// for where outputs must be small (GitLab's dotenv report): health with
// its key figures (health.Result.ShortJSON), and result holding that.
func (s *Record) shortOutputs(outs map[string]string) map[string]string {
	if s.Gate.Health == nil {
		return nil
	}
	short := maps.Clone(outs)
	short[OutHealth] = s.Gate.Health.ShortJSON()
	return map[string]string{OutHealth: short[OutHealth], OutResult: s.result(short)}
}

// Report writes every output and the job summary through r, and returns
// the first error met. Callers use it on failure too.
func (s *Record) Report(r ci.Reporter) error {
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
	if sf, ok := r.(ci.ShortForms); ok {
		for k, v := range s.shortOutputs(outs) {
			sf.SetShortForm(k, v)
		}
	}
	if err := r.Summary(s.SummaryMarkdown()); err != nil && first == nil {
		first = err
	}
	return first
}
