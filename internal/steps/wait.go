package steps

import (
	"context"
	"fmt"
	"time"

	"github.com/storeflight/storeflight/internal/config"
	"github.com/storeflight/storeflight/internal/storeapi"
)

// waitStep polls the submission's status until wait-for is reached, a
// failure status ends it, or the timeout runs out.
//
// Polling starts at poll-interval and each wait grows ×1.5 to ×2, with ±20%
// jitter, up to max-poll-interval; it starts again at poll-interval when the
// status changes, since a change means the next may come soon. The last wait
// is cut short to end at the timeout, never past it.
type waitStep struct{}

func (waitStep) Name() string { return "wait" }

func (waitStep) Skip(s *State) string {
	if s.cfg.WaitFor == "" || s.cfg.WaitFor == config.WaitNone {
		return "wait-for: none"
	}
	return ""
}

var failureStatuses = map[storeapi.Status]bool{
	storeapi.StatusCommitFailed:        true,
	storeapi.StatusPreProcessingFailed: true,
	storeapi.StatusCertificationFailed: true,
	storeapi.StatusReleaseFailed:       true,
	storeapi.StatusPublishFailed:       true,
	storeapi.StatusCanceled:            true,
}

// stage orders the statuses of a submission on its way to Published.
var stage = map[storeapi.Status]int{
	storeapi.StatusPendingCommit:      0,
	storeapi.StatusCommitStarted:      1,
	storeapi.StatusPreProcessing:      2,
	storeapi.StatusCertification:      3,
	storeapi.StatusRelease:            4,
	storeapi.StatusPendingPublication: 5,
	storeapi.StatusPublishing:         6,
	storeapi.StatusPublished:          7,
}

// reached reports whether status satisfies wait-for, and whether that is
// only because a Manual or SpecificDate submission waits in Release.
func reached(w config.WaitFor, status storeapi.Status, publishMode string) (ok, held bool) {
	n, known := stage[status]
	if !known {
		return false, false
	}
	switch w {
	case config.WaitCommitted:
		return n > stage[storeapi.StatusCommitStarted], false
	case config.WaitCertified:
		return n >= stage[storeapi.StatusRelease], false
	case config.WaitPublished:
		if status == storeapi.StatusPublished {
			return true, false
		}
		if status == storeapi.StatusRelease && (publishMode == "Manual" || publishMode == "SpecificDate") {
			return true, true
		}
	}
	return false, false
}

func (waitStep) Run(ctx context.Context, s *State) error {
	cfg := s.cfg
	if s.dryRun() {
		s.plan("wait until %s is %s (now %s; polls %s to %s apart, timeout %s)",
			s.target(), cfg.WaitFor, orNone(string(s.Status)), cfg.PollInterval, cfg.MaxPollInterval, cfg.Timeout)
		return nil
	}
	start := s.clock.Now()
	deadline := start.Add(cfg.Timeout)
	interval := cfg.PollInterval
	seenCommitStarted := s.Committed || s.Status == storeapi.StatusCommitStarted
	s.rep.Infof("waiting until it is %s (now %s; timeout %s)", cfg.WaitFor, s.Status, cfg.Timeout)
	for {
		status := s.Status
		if status == storeapi.StatusCommitStarted {
			seenCommitStarted = true
		}
		if failureStatuses[status] {
			return s.failed(false)
		}
		if status == storeapi.StatusPendingCommit {
			if seenCommitStarted {
				return s.failed(true)
			}
			return fmt.Errorf("%s is PendingCommit: nothing moves it until it is committed, so there is nothing to wait for", s.target())
		}
		if _, known := stage[status]; !known && status != storeapi.StatusNone {
			// Polling on would report "still progressing" until the
			// timeout (exit 3) about a status nobody knows to be progress.
			return fmt.Errorf("%s has status %q, which the Store does not document: storeflight cannot tell whether it is progressing or has failed; check it in Partner Center", s.target(), status)
		}
		if ok, held := reached(cfg.WaitFor, status, s.publishMode()); ok {
			return s.waitReached(ctx, held)
		}
		now := s.clock.Now()
		remaining := deadline.Sub(now)
		if remaining <= 0 {
			return s.timedOut(now.Sub(start))
		}
		d := min(s.jitter(interval), remaining)
		if err := s.clock.Sleep(ctx, d); err != nil {
			return err
		}
		st, err := s.store.SubmissionStatus(ctx, s.key())
		if err != nil {
			return fmt.Errorf("read status of %s: %w", s.target(), err)
		}
		if st.Status != status {
			s.rep.Infof("status: %s → %s after %s", status, st.Status, s.timeInStatus())
			interval = cfg.PollInterval
		} else {
			interval = s.grow(interval)
		}
		s.observe(st.Status, &st.StatusDetails)
	}
}

// grow returns the next base interval: ×1.5 to ×2, capped.
func (s *State) grow(d time.Duration) time.Duration {
	next := time.Duration(float64(d) * (1.5 + 0.5*s.rand()))
	if m := s.cfg.MaxPollInterval; m > 0 && next > m {
		next = m
	}
	return next
}

// jitter spreads d by ±20%, within max-poll-interval, so that jobs that
// started together do not poll in step. At max-poll-interval it spreads
// only downwards, by up to 10%: with ±20% capped there, a run of low draws
// polled every 4 minutes and a three-day certification cost 1,101 reads;
// at 4m30s or more it stays under 1,000 whatever the draws (BENCHMARKS.md).
func (s *State) jitter(d time.Duration) time.Duration {
	m := s.cfg.MaxPollInterval
	var j time.Duration
	if m > 0 && d >= m {
		j = time.Duration(float64(m) * (0.9 + 0.1*s.rand()))
	} else {
		j = time.Duration(float64(d) * (0.8 + 0.4*s.rand()))
		if m > 0 && j > m {
			j = m
		}
	}
	if j <= 0 {
		j = time.Second
	}
	return j
}

func (s *State) waitReached(ctx context.Context, held bool) error {
	if held {
		s.notice("the submission waits in Release (publish mode %s) until released in Partner Center or on its date\n"+
			"so wait-for: published counts Release as reached", s.publishMode())
	} else {
		s.rep.Infof("reached %s (wait-for: %s)", s.Status, s.cfg.WaitFor)
	}
	s.reportWarnings()
	if s.Status == storeapi.StatusPublished {
		r, err := s.store.GetPackageRollout(ctx, s.key())
		if err != nil {
			return fmt.Errorf("read rollout of %s: %w", s.target(), err)
		}
		s.Rollout.record(r, true)
	}
	return nil
}

// timedOut ends the wait at the timeout: an ErrTimedOut, or with
// on-timeout: pass a notice, and a run that passes but whose summary
// leads with the timeout.
func (s *State) timedOut(waited time.Duration) error {
	s.TimedOut = true
	msg := fmt.Sprintf("%s is still %s after waiting %s; wait-for: %s not reached", s.target(), s.Status, waited.Round(time.Second), s.cfg.WaitFor)
	if s.cfg.OnTimeout == config.OnTimeoutPass {
		// The summary leads with the timeout; the notice is for the log.
		s.rep.Notice(s.step, msg+"\non-timeout: pass lets the job pass; a re-run with the same inputs continues the wait")
		s.Outcome = OutcomeTimedOut
		s.Ending = &Ending{Step: "wait", What: msg + " (on-timeout: pass lets the job pass)", Next: nextTimedOut}
		return nil
	}
	return fmt.Errorf("%w: %s", ErrTimedOut, msg)
}

// failed turns a failure status into reporter events and the error.
func (s *State) failed(fellBack bool) error {
	for _, e := range s.Errors {
		s.rep.Error(e.Code, fmt.Sprintf("%s: %s", s.target(), detailsOrCode(e)))
	}
	s.reportWarnings()
	if len(s.Reports) > 0 {
		for _, r := range s.Reports {
			s.rep.Infof("certification report (%s): %s", r.Date, r.ReportURL)
		}
	}
	return &SubmissionFailedError{
		SubmissionID: s.SubmissionID,
		Status:       s.Status,
		FellBack:     fellBack,
		Errors:       s.Errors,
		Warnings:     s.Warnings,
	}
}

func (s *State) reportWarnings() {
	for _, w := range s.Warnings {
		s.rep.Warning(w.Code, fmt.Sprintf("%s: %s", s.target(), detailsOrCode(w)))
	}
}
