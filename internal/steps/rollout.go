package steps

import (
	"context"
	"fmt"

	"github.com/storeflight/storeflight/internal/storeapi"
)

// rolloutStep raises or halts the gradual rollout of a published
// submission; with rollout-steps, the health gate decides (gate.go).
type rolloutStep struct{}

func (rolloutStep) Name() string { return "rollout" }

func (rolloutStep) Skip(s *State) string {
	cfg := s.cfg
	switch {
	case cfg.HaltRollout:
		return ""
	case len(cfg.RolloutSteps) > 0:
		return gateSkip(s)
	case cfg.RolloutPercentage == nil:
		return skipNotAskedFor
	case cfg.WantsUpdate() && s.updateRan:
		return fmt.Sprintf("rollout-percentage %s%% went into the update", formatPct(*cfg.RolloutPercentage))
	case cfg.WantsUpdate() && s.Status != storeapi.StatusPublished:
		return fmt.Sprintf("rollout-percentage %s%% was set by the earlier run's update", formatPct(*cfg.RolloutPercentage))
	}
	return ""
}

func (rolloutStep) Run(ctx context.Context, s *State) error {
	if len(s.cfg.RolloutSteps) > 0 {
		return runGate(ctx, s)
	}
	r, err := publishedRollout(ctx, s, "change the rollout of")
	if err != nil || r == nil {
		return err
	}
	if s.cfg.HaltRollout {
		return halt(ctx, s, r)
	}
	return raise(ctx, s, r, *s.cfg.RolloutPercentage)
}

// publishedRollout reads the rollout of a published target, or explains
// why the target has none to change. In a dry run of a submission still to
// be created it returns nil, nil after planning.
func publishedRollout(ctx context.Context, s *State, what string) (*storeapi.PackageRollout, error) {
	if s.SubmissionID == "" && s.dryRun() {
		s.plan("%s the new submission once it is published (after this run)", what)
		return nil, nil
	}
	if s.Status != storeapi.StatusPublished {
		return nil, fmt.Errorf("cannot %s %s: it is %s, and the Store changes a rollout only once the submission is Published; "+
			"use wait-for: published to wait for it first, or run again once it is published", what, s.target(), s.Status)
	}
	if r := s.Rollout.liveRollout(); r != nil {
		// Read (or changed) earlier in this run; a change made meanwhile by
		// someone else meets a 409, which rolloutCall resolves by reading.
		return r, nil
	}
	r, err := s.store.GetPackageRollout(ctx, s.key())
	if err != nil {
		return nil, fmt.Errorf("read rollout of %s: %w", s.target(), err)
	}
	s.Rollout.record(r, true)
	return r, nil
}

func raise(ctx context.Context, s *State, r *storeapi.PackageRollout, pct float64) error {
	if send, err := s.checkRolloutChange(raiseChange, r); !send {
		return err
	}
	cur := r.PackageRolloutPercentage
	switch {
	case pct == cur:
		s.rep.Infof("the rollout is already at %s%%: nothing to change", formatPct(pct))
		note100(s, pct)
		return nil
	case pct < cur:
		s.rep.Warning("rollout", fmt.Sprintf("the rollout of %s is already at %s%%, above rollout-percentage %s%%: nothing to change\n"+
			"the API documents no decrease; halt-rollout: true stops a rollout", s.target(), formatPct(cur), formatPct(pct)))
		return nil
	}
	got, err := changeRollout(ctx, s, fmt.Sprintf("raise the rollout of %s from %s%% to %s%%", s.target(), formatPct(cur), formatPct(pct)),
		raiseChange, pct, func(ctx context.Context, key storeapi.SubmissionKey) (*storeapi.PackageRollout, error) {
			return s.store.UpdatePackageRolloutPercentage(ctx, key, pct)
		})
	if err != nil || got == nil {
		return err
	}
	s.rep.Infof("raised the rollout from %s%% to %s%%", formatPct(cur), formatPct(got.PackageRolloutPercentage))
	note100(s, pct)
	return nil
}

// note100 says that 100% is not finalize, when it matters.
func note100(s *State, pct float64) {
	if pct >= 100 && !s.cfg.FinalizeRollout {
		s.rep.Infof("note: a rollout at 100%% is not finalized (finalize-rollout: true finalizes it):")
		s.rep.Infof("  devices without gradual rollout keep the old packages, and no next submission can be created until then")
	}
}

func halt(ctx context.Context, s *State, r *storeapi.PackageRollout) error {
	if send, err := s.checkRolloutChange(haltChange, r); !send {
		return err
	}
	got, err := changeRollout(ctx, s, fmt.Sprintf("halt the rollout of %s (now at %s%%)", s.target(), formatPct(r.PackageRolloutPercentage)),
		haltChange, -1, s.store.HaltPackageRollout)
	if err != nil || got == nil {
		return err
	}
	s.inEffect(haltChange)
	s.rep.Infof("halted the rollout at %s%%: new and updating users get fallback submission %s", formatPct(r.PackageRolloutPercentage), orNone(got.FallbackSubmissionID))
	return nil
}

// changeRollout makes one rollout change (raise, halt, finalize) of the
// target, described by what: a dry run only plans it; otherwise it is sent
// with rolloutCall and the rollout it led to is recorded. The rollout is
// nil, with no error, in a dry run.
func changeRollout(ctx context.Context, s *State, what string, change rolloutChange, wantPct float64,
	call func(context.Context, storeapi.SubmissionKey) (*storeapi.PackageRollout, error)) (*storeapi.PackageRollout, error) {
	if s.dryRun() {
		s.plan("%s", what)
		return nil, nil
	}
	key := s.key()
	got, err := rolloutCall(ctx, s, key, what, change, wantPct, func() (*storeapi.PackageRollout, error) { return call(ctx, key) })
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	s.Rollout.record(got, true)
	return got, nil
}

// rolloutCall sends one rollout change at most once in effect (see
// changeAtMostOnce): when its outcome is unclear the rollout is read, and a
// rollout already as the change leaves it means the change took effect.
// wantPct < 0 matches any percentage.
func rolloutCall(ctx context.Context, s *State, key storeapi.SubmissionKey, what string, change rolloutChange, wantPct float64,
	call func() (*storeapi.PackageRollout, error)) (*storeapi.PackageRollout, error) {
	return changeAtMostOnce(ctx, s, what, true, call,
		func() (*storeapi.PackageRollout, bool, error) {
			cur, err := s.store.GetPackageRollout(ctx, key)
			if err != nil {
				return nil, false, err
			}
			return cur, cur.PackageRolloutStatus == change.leaves && (wantPct < 0 || cur.PackageRolloutPercentage == wantPct), nil
		})
}
