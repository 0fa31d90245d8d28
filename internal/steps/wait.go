package steps

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/storeflight/storeflight/internal/auth"
	"github.com/storeflight/storeflight/internal/config"
	"github.com/storeflight/storeflight/internal/storeapi"
)

// waitStep polls the submission's status until wait-for is reached, a
// failure status ends it, or the timeout runs out. The timeout is a hard
// deadline on everything in the wait, every read and retry included: a
// read that fails for a while (throttling, an outage) is read again until
// the deadline rather than ending the run, and at the deadline the run
// times out (exit 3) naming the last failure.
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
	var failing readFailures
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
		if err := s.checkProcessedPackages(ctx); err != nil {
			return err
		}
		if ok, held := reached(cfg.WaitFor, status, s.publishMode()); ok {
			return s.waitReached(ctx, held)
		}
		now := s.clock.Now()
		remaining := deadline.Sub(now)
		if remaining <= 0 {
			return s.timedOut(now.Sub(start), failing.last)
		}
		d := min(s.jitter(interval), remaining)
		if err := s.clock.Sleep(ctx, d); err != nil {
			return err
		}
		if now := s.clock.Now(); !now.Before(deadline) {
			// A read now would have no time at all: it could only fail
			// on the deadline itself, which is no news about the Store.
			return s.timedOut(now.Sub(start), failing.last)
		}
		st, err := s.readStatusBy(ctx, deadline)
		if err != nil {
			if ctx.Err() != nil || !retryableRead(err) {
				return fmt.Errorf("read status of %s: %w", s.target(), err)
			}
			failing.add(s, err, deadline)
			interval = s.grow(interval)
			continue
		}
		failing.recovered(s)
		if st.Status != status {
			s.rep.Infof("status: %s → %s after %s", status, st.Status, s.timeInStatus())
			interval = cfg.PollInterval
		} else {
			interval = s.grow(interval)
		}
		s.observe(st.Status, &st.StatusDetails)
	}
}

// readStatusBy reads the submission's status with every attempt and retry
// wait of the read bounded by deadline, on the step's clock.
func (s *State) readStatusBy(ctx context.Context, deadline time.Time) (*storeapi.SubmissionStatus, error) {
	rctx, cancel := context.WithTimeout(ctx, deadline.Sub(s.clock.Now()))
	defer cancel()
	return s.store.SubmissionStatus(rctx, s.key())
}

// retryableRead reports whether a failed status read is worth repeating
// later in the wait: the Store throttling or out of service, a broken
// connection, the deadline of the read itself, or a sign-in that got no
// answer (a refusal by Entra is for good).
func retryableRead(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || storeapi.Transient(err) {
		return true
	}
	var se *auth.SignInError
	return errors.As(err, &se) && se.Code == "" &&
		(se.StatusCode == 0 || se.StatusCode == http.StatusTooManyRequests || se.StatusCode >= 500)
}

// readFailures follows status reads that fail in a row, so that an outage
// is reported once when it starts and once when it ends, not on every read.
type readFailures struct {
	count int
	last  error // the last failure, named if the wait times out
}

func (f *readFailures) add(s *State, err error, deadline time.Time) {
	f.count++
	if f.count == 1 || !errors.Is(err, context.DeadlineExceeded) {
		f.last = err
	}
	if f.count == 1 {
		s.rep.Infof("reading the status of %s failed; reading it again until the timeout (%s left):\n  %v",
			s.target(), deadline.Sub(s.clock.Now()).Round(time.Second), err)
	}
}

func (f *readFailures) recovered(s *State) {
	if f.count > 0 {
		s.rep.Infof("read the status of %s again after %d failed reads", s.target(), f.count)
	}
	*f = readFailures{}
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
	s.notePackagesUnchecked()
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
// leads with the timeout. lastErr is the failure of the reads just before
// it, if they failed.
func (s *State) timedOut(waited time.Duration, lastErr error) error {
	s.TimedOut = true
	msg := fmt.Sprintf("%s is still %s after waiting %s; wait-for: %s not reached", s.target(), s.Status, waited.Round(time.Second), s.cfg.WaitFor)
	if lastErr != nil {
		msg += fmt.Sprintf("; the last status read failed: %v", lastErr)
	}
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
