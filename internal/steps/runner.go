// Package steps is storeflight's pipeline: resolve the target submission,
// update it, upload its packages, commit it, wait for it, then steer its
// gradual rollout and finalize it (DESIGN.md, "The pipeline").
//
// Each step is a small type in a file of its own. The runner opens a CI log
// group per step, headed by the step and its target, times it, says in one
// line which steps were skipped and why, turns a failure into a
// *StepError (a headline naming the step, the Store's answer and what to
// do next) and stops at the first. A step gets a
// State: what it needs (the inputs, the Store, the reporter, the clock, and
// the owner of the target submission, a flight or the app: owner.go) and
// the run's Record, where everything it learns goes and which alone gives
// the run's outputs and its job summary, on failure too. The rollout
// changes (raise, halt, finalize) follow one transition table
// (transitions.go).
//
// Every run is safe to re-run with the same inputs: resolve recognises the
// submission an earlier run of the same inputs left behind (see resolve.go)
// and the later steps continue from the state the Store reports, so nothing
// is created, committed or rolled out twice.
package steps

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/storeflight/storeflight/internal/ci"
	"github.com/storeflight/storeflight/internal/clock"
	"github.com/storeflight/storeflight/internal/config"
	"github.com/storeflight/storeflight/internal/redact"
	"github.com/storeflight/storeflight/internal/storeapi"
	"github.com/storeflight/storeflight/internal/upload"
)

// Deps is what a run needs. Config, Store and Reporter are required.
type Deps struct {
	Config   *config.Config
	Store    *storeapi.Client
	Reporter ci.Reporter
	// Clock is used for every wait and timestamp; nil means the wall clock.
	// Tests share one clock.Fake between the simulator, the client and
	// the steps, so that days of polling run in microseconds.
	Clock clock.Clock
	// Rand returns a number in [0, 1) for polling jitter; nil means
	// math/rand/v2.
	Rand func() float64
	// UploadTransport carries the blob upload; nil means azblob's default.
	UploadTransport policy.Transporter
	// UploadOptions tunes the upload (block size, concurrency); nil means
	// upload's defaults. Its Transport and Progress are set by the step.
	UploadOptions *upload.Options
}

// Step is one stage of the pipeline.
type Step interface {
	// Name is the step's name in logs and errors.
	Name() string
	// Skip returns why the step is not needed in this run, or "" to run it.
	Skip(s *State) string
	// Run does the step's work, recording what it learns in s.
	Run(ctx context.Context, s *State) error
}

// Pipeline returns the steps in the order they run.
func Pipeline() []Step {
	return []Step{resolveStep{}, updateStep{}, uploadStep{}, commitStep{}, waitStep{}, rolloutStep{}, finalizeStep{}}
}

// Run runs the pipeline and returns the state it reached, which is never
// nil, also with an error. Run does not write outputs or the summary: the
// caller does, from the returned state, whether or not Run failed (see
// State.Report).
//
// The error is a *StepError naming the step that failed, whose message is
// the failure as the log shows it. Through it errors.Is and errors.As see
// one of: ErrTimedOut (exit 3), *SubmissionFailedError, a
// *config.InputError (exit 2), the context's error when interrupted, or
// any other failure, Store errors included (exit 1).
func Run(ctx context.Context, d Deps) (*State, error) {
	if d.Clock == nil {
		d.Clock = clock.Real{}
	}
	if d.Rand == nil {
		d.Rand = rand.Float64
	}
	s := newState(d)
	if d.Config == nil || d.Store == nil || d.Reporter == nil {
		s.Outcome = OutcomeFailed
		return s, errors.New("steps: Config, Store and Reporter are required")
	}
	defer s.reportSkipped()
	for _, st := range Pipeline() {
		if err := runStep(ctx, s, st); err != nil {
			return s, err
		}
		checkInFlightPackages(ctx, s)
	}
	if s.Outcome == "" {
		s.Outcome = OutcomeSucceeded
	}
	return s, nil
}

func runStep(ctx context.Context, s *State, st Step) error {
	name := st.Name()
	if err := ctx.Err(); err != nil {
		return s.interrupted(name, err, nil)
	}
	if why := st.Skip(s); why != "" {
		s.Steps = append(s.Steps, StepRecord{Name: name, Skipped: why})
		return nil
	}
	end := s.rep.Group(s.groupTitle(name))
	defer end()
	s.step = name
	start := s.clock.Now()
	err := st.Run(ctx, s)
	rec := StepRecord{Name: name, Duration: s.clock.Now().Sub(start)}
	if err != nil {
		rec.Err = redact.String(err.Error())
	}
	s.Steps = append(s.Steps, rec)
	if err == nil {
		s.rep.Debugf("%s: done in %s", name, rec.Duration.Round(time.Millisecond))
		return nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return s.interrupted(name, ctxErr, err)
	}
	return s.stop(name, err)
}

// stop records how the run ends with step's error err, and returns it as
// a *StepError.
func (s *State) stop(step string, err error) *StepError {
	s.Outcome = OutcomeFailed
	var unhealthy *UnhealthyError
	switch {
	case errors.Is(err, ErrTimedOut):
		s.Outcome = OutcomeTimedOut
	case errors.As(err, &unhealthy) && unhealthy.Halted:
		s.Outcome = OutcomeHalted
	}
	e := &StepError{Ending: endingOf(step, err), Err: err}
	s.Ending = &e.Ending
	return e
}

// interrupted records the last known state and how to continue, and
// returns an error that matches the context's error (and the step's, if
// any). The caller logs it.
func (s *State) interrupted(step string, ctxErr, stepErr error) error {
	s.Interrupted = true
	s.Outcome = OutcomeInterrupted
	err := ctxErr
	if stepErr != nil && !errors.Is(stepErr, ctxErr) {
		err = errors.Join(ctxErr, redact.Error(stepErr))
	}
	e := &StepError{Ending: Ending{Step: step, What: "last known state: " + s.describe(), Next: nextRerun}, Err: err}
	s.Ending = &e.Ending
	return e
}

// reportSkipped says in one line which steps the run skipped and why,
// those skipped for the same reason together: "skipped: update, upload,
// commit (no update input); wait (wait-for: none)".
func (s *State) reportSkipped() {
	var reasons []string
	steps := map[string][]string{}
	for _, r := range s.Steps {
		if r.Skipped == "" {
			continue
		}
		if _, seen := steps[r.Skipped]; !seen {
			reasons = append(reasons, r.Skipped)
		}
		steps[r.Skipped] = append(steps[r.Skipped], r.Name)
	}
	if len(reasons) == 0 {
		return
	}
	parts := make([]string, len(reasons))
	for i, why := range reasons {
		parts[i] = fmt.Sprintf("%s (%s)", strings.Join(steps[why], ", "), why)
	}
	s.rep.Infof("skipped: %s", strings.Join(parts, "; "))
}
