package steps

import (
	"context"
	"fmt"

	"github.com/storeflight/storeflight/internal/storeapi"
)

// finalizeStep finalizes the gradual rollout: everyone gets the new
// packages, devices that do not support rollout included, and the next
// submission can be created.
type finalizeStep struct{}

func (finalizeStep) Name() string { return "finalize" }

func (finalizeStep) Skip(s *State) string {
	if !s.cfg.FinalizeRollout {
		return "finalize-rollout not asked for"
	}
	return ""
}

func (finalizeStep) Run(ctx context.Context, s *State) error {
	r, err := publishedRollout(ctx, s, "finalize the rollout of")
	if err != nil || r == nil {
		return err
	}
	switch {
	case !r.IsPackageRollout:
		s.notice("%s was published without gradual rollout: every user already gets its packages, nothing to finalize", s.target())
		s.Finalized = true
		return nil
	case r.PackageRolloutStatus == storeapi.RolloutComplete:
		s.notice("the rollout of %s is already finalized: nothing to do", s.target())
		s.Finalized = true
		return nil
	case r.PackageRolloutStatus == storeapi.RolloutStopped:
		return fmt.Errorf("the rollout of %s is halted: a halted rollout cannot be finalized; publish a new submission with fixed packages instead", s.target())
	case r.PackageRolloutStatus != storeapi.RolloutInProgress:
		return fmt.Errorf("the rollout of %s is %s, not in progress: the Store finalizes only a rollout in progress", s.target(), r.PackageRolloutStatus)
	}
	got, err := changeRollout(ctx, s, fmt.Sprintf("finalize the rollout of %s (now at %s%%)", s.target(), formatPct(r.PackageRolloutPercentage)),
		storeapi.RolloutComplete, -1, s.store.FinalizePackageRollout)
	if err != nil || got == nil {
		return err
	}
	s.Finalized = true
	s.rep.Infof("finalized the rollout of %s (it was at %s%%): every user now gets its packages", s.target(), formatPct(r.PackageRolloutPercentage))
	return nil
}
