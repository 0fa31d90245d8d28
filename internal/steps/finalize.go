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
	switch {
	case !s.cfg.FinalizeRollout:
		return skipNotAskedFor
	case len(s.cfg.RolloutSteps) > 0:
		return "rollout-steps: the health gate finalizes past the last step (rollout step)"
	}
	return ""
}

func (finalizeStep) Run(ctx context.Context, s *State) error {
	r, err := publishedRollout(ctx, s, "finalize the rollout of")
	if err != nil || r == nil {
		return err
	}
	return finalizeRollout(ctx, s, r)
}

// finalizeRollout finalizes the published target's rollout r, as its
// transition table allows (in a dry run, plans it).
func finalizeRollout(ctx context.Context, s *State, r *storeapi.PackageRollout) error {
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
