// Package steps is storeflight's pipeline: resolve the target submission,
// update it, upload its packages, commit it, wait for it, then steer its
// gradual rollout and finalize it (DESIGN.md, "The pipeline").
//
// Each step is a small type in a file of its own. The runner opens a CI log
// group per step, times it, says in one line why a step was skipped, wraps
// errors with the step's name and stops at the first failure. A step gets a
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
// The error is one of: ErrTimedOut (exit 3), *SubmissionFailedError,
// a *config.InputError (exit 2), the context's error when interrupted, or
// any other failure, Store errors included (exit 1). Each is wrapped with
// the name of the step that failed.
func Run(ctx context.Context, d Deps) (*State, error) {
	if d.Clock == nil {
		d.Clock = clock.Real{}
	}
	if d.Rand == nil {
		d.Rand = rand.Float64
	}
	s := newState(d)
	if d.Config == nil || d.Store == nil || d.Reporter == nil {
		return s, errors.New("steps: Config, Store and Reporter are required")
	}
	for _, st := range Pipeline() {
		if err := runStep(ctx, s, st); err != nil {
			return s, err
		}
		checkInFlightPackages(ctx, s)
	}
	return s, nil
}

func runStep(ctx context.Context, s *State, st Step) error {
	name := st.Name()
	if err := ctx.Err(); err != nil {
		return s.interrupted(name, err, nil)
	}
	if why := st.Skip(s); why != "" {
		s.rep.Infof("%s: skipped: %s", name, why)
		s.Steps = append(s.Steps, StepRecord{Name: name, Skipped: why})
		return nil
	}
	end := s.rep.Group(name)
	defer end()
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
	return fmt.Errorf("%s: %w", name, redact.Error(err))
}

// interrupted logs the last known state and how to continue, and returns
// an error that matches the context's error (and the step's, if any).
func (s *State) interrupted(step string, ctxErr, stepErr error) error {
	where := s.describe()
	s.Interrupted = true
	s.rep.Infof("interrupted during %s; last known state: %s; re-run with the same inputs to continue", step, where)
	err := ctxErr
	if stepErr != nil && !errors.Is(stepErr, ctxErr) {
		err = errors.Join(ctxErr, redact.Error(stepErr))
	}
	return fmt.Errorf("%s: interrupted; last known state: %s; re-run with the same inputs to continue: %w", step, where, err)
}
