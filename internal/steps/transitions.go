package steps

import (
	"fmt"

	"github.com/storeflight/storeflight/internal/storeapi"
)

// rolloutPhase is where a published submission's gradual rollout stands,
// as the transition table reads it.
type rolloutPhase int

const (
	// phaseOther is a rollout not started, or in a status the Store does
	// not document.
	phaseOther rolloutPhase = iota
	// phaseOff is a submission published without gradual rollout.
	phaseOff
	phaseInProgress
	phaseComplete
	phaseHalted
)

func phaseOf(r *storeapi.PackageRollout) rolloutPhase {
	if !r.IsPackageRollout {
		return phaseOff
	}
	switch r.PackageRolloutStatus {
	case storeapi.RolloutInProgress:
		return phaseInProgress
	case storeapi.RolloutComplete:
		return phaseComplete
	case storeapi.RolloutStopped:
		return phaseHalted
	}
	return phaseOther
}

// rolloutRule is what a rollout change does in one phase: send the call
// (the zero rule), find it already in effect (no call; a notice, or a
// warning with warn), or refuse it. Both texts take the target's name; a
// line break in them starts a continuation line.
type rolloutRule struct {
	already string
	warn    bool
	refuse  string
}

// rolloutChange is one of the changes a run makes to a published
// submission's rollout, with its transition table: the rule for each
// phase. A phase the table does not name is refused as "not in progress".
type rolloutChange struct {
	verb      string                 // "raise", "halt", "finalize"
	done      string                 // what the log and summary say once done
	storeVerb string                 // what the Store does only to a rollout in progress
	leaves    storeapi.RolloutStatus // the rollout status once it took effect
	rules     map[rolloutPhase]rolloutRule
	// inEffect records in the run that the change is in effect (nil: no
	// record of it beyond the rollout).
	inEffect func(*Record)
}

var (
	raiseChange = rolloutChange{
		verb: "raise", done: "raised", storeVerb: "changes", leaves: storeapi.RolloutInProgress,
		rules: map[rolloutPhase]rolloutRule{
			phaseOff:        {refuse: "rollout-percentage cannot be applied: %s was published without gradual rollout, so there is no rollout percentage to change; set rollout-percentage with an update to start one"},
			phaseInProgress: {},
			phaseComplete:   {already: "the rollout of %s is already complete (finalized): every user gets it\nso rollout-percentage counts as applied", warn: true},
			phaseHalted:     {refuse: "rollout-percentage cannot be applied: the rollout of %s is halted (PackageRolloutStopped), and a halted rollout cannot be raised; publish a new submission instead"},
		},
	}
	haltChange = rolloutChange{
		verb: "halt", done: "halted", storeVerb: "halts", leaves: storeapi.RolloutStopped,
		rules: map[rolloutPhase]rolloutRule{
			phaseOff:        {refuse: "%s was published without gradual rollout: there is no rollout to halt"},
			phaseInProgress: {},
			phaseComplete:   {refuse: "the rollout of %s is already finalized: it cannot be halted"},
			phaseHalted:     {already: "the rollout of %s is already halted: nothing to do"},
		},
		inEffect: func(r *Record) { r.Halted = true },
	}
	finalizeChange = rolloutChange{
		verb: "finalize", done: "finalized", storeVerb: "finalizes", leaves: storeapi.RolloutComplete,
		rules: map[rolloutPhase]rolloutRule{
			phaseOff:        {already: "%s was published without gradual rollout:\nevery user already gets its packages, nothing to finalize"},
			phaseInProgress: {},
			phaseComplete:   {already: "the rollout of %s is already finalized: nothing to do"},
			phaseHalted:     {refuse: "the rollout of %s is halted: a halted rollout cannot be finalized; publish a new submission with fixed packages instead"},
		},
		inEffect: func(r *Record) { r.Finalized = true },
	}
)

// checkRolloutChange applies change's transition table to the rollout r:
// send is true when the call is to be made; otherwise err says why not, or
// is nil when the change is already in effect (with a notice).
func (s *State) checkRolloutChange(change rolloutChange, r *storeapi.PackageRollout) (send bool, err error) {
	rule, known := change.rules[phaseOf(r)]
	switch {
	case !known:
		return false, fmt.Errorf("the rollout of %s is %s, not in progress: the Store %s only a rollout in progress", s.target(), r.PackageRolloutStatus, change.storeVerb)
	case rule.refuse != "":
		return false, fmt.Errorf(rule.refuse, s.target())
	case rule.already != "" && rule.warn:
		s.rep.Warning("rollout", fmt.Sprintf(rule.already, s.target()))
		s.inEffect(change)
		return false, nil
	case rule.already != "":
		s.notice(rule.already, s.target())
		s.inEffect(change)
		return false, nil
	}
	return true, nil
}

func (s *State) inEffect(change rolloutChange) {
	if change.inEffect != nil {
		change.inEffect(&s.Record)
	}
}
