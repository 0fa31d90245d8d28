package steps

import (
	"context"
	"fmt"
)

// finalizeStep finalizes the gradual rollout: everyone gets the new
// packages, devices that do not support rollout included, and the next
// submission can be created.
type finalizeStep struct{}

func (finalizeStep) Name() string { return "finalize" }

func (finalizeStep) Skip(s *State) string {
	if !s.cfg.FinalizeRollout {
		return skipNotAskedFor
	}
	return ""
}

func (finalizeStep) Run(ctx context.Context, s *State) error {
	r, err := publishedRollout(ctx, s, "finalize the rollout of")
	if err != nil || r == nil {
		return err
	}
	if send, err := s.checkRolloutChange(finalizeChange, r); !send {
		return err
	}
	got, err := changeRollout(ctx, s, fmt.Sprintf("finalize the rollout of %s (now at %s%%)", s.target(), formatPct(r.PackageRolloutPercentage)),
		finalizeChange, -1, s.store.FinalizePackageRollout)
	if err != nil || got == nil {
		return err
	}
	s.inEffect(finalizeChange)
	s.rep.Infof("finalized the rollout (it was at %s%%): every user now gets its packages", formatPct(r.PackageRolloutPercentage))
	return nil
}
