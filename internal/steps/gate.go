package steps

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/storeflight/storeflight/internal/config"
	"github.com/storeflight/storeflight/internal/health"
	"github.com/storeflight/storeflight/internal/storeapi"
)

// RolloutDecision is the rollout-decision output: the one move a run with
// rollout-steps made (DESIGN.md "Health-gated rollout").
type RolloutDecision string

// The rollout decisions.
const (
	DecisionNone      RolloutDecision = "none"      // nothing to gate, or no rollout-steps
	DecisionAdvance   RolloutDecision = "advance"   // raised to the next step
	DecisionHold      RolloutDecision = "hold"      // nothing changed; a notice says what it waits for
	DecisionHalt      RolloutDecision = "halt"      // halted (exit 4)
	DecisionUnhealthy RolloutDecision = "unhealthy" // on-unhealthy: fail: nothing changed (exit 1)
	DecisionFinalize  RolloutDecision = "finalize"  // past the last step, finalized
)

// ruleNoFallback names the hold made when the rollout's fallback
// submission, whose packages are the old side, cannot be read.
const ruleNoFallback = "no-fallback"

// GateRecord is what the rollout step decided with rollout-steps.
type GateRecord struct {
	// Decision is "" when no gate ran; the output then says none.
	Decision RolloutDecision
	// Why says why, in one sentence, for every decision but an advance.
	Why string
	// WaitsFor says what a hold waits for.
	WaitsFor string
	// From is the percentage the gate found; To the step an advance went
	// to (or, in a dry run, would go to).
	From, To float64
	// Steps are the rollout-steps.
	Steps []float64
	// Off is true with health-gate: off.
	Off bool
	// Health is the gate's result once it compared (or could not read)
	// the data; nil with health-gate: off or with nothing to gate.
	Health *health.Result
}

// decision is the rollout-decision output.
func (g GateRecord) decision() string {
	if g.Decision == "" {
		return string(DecisionNone)
	}
	return string(g.Decision)
}

// healthJSON is the health output: empty when the gate did not compare.
func (g GateRecord) healthJSON() string {
	if g.Health == nil {
		return ""
	}
	return g.Health.JSON()
}

// UnhealthyError is a rollout whose new packages the health gate found
// clearly failing more than the old: halted (exit 4) with on-unhealthy:
// halt, left as it was (exit 1) with on-unhealthy: fail.
type UnhealthyError struct {
	Target     string
	Percentage float64
	Halted     bool
	Result     health.Result
}

func (e *UnhealthyError) Error() string {
	if e.Halted {
		return fmt.Sprintf("the health gate halted the rollout of %s at %s%%\n%s\n%s",
			e.Target, formatPct(e.Percentage), indent(e.Result.Reason), indent(e.Result.Figures()))
	}
	return fmt.Sprintf("the health gate found the new packages of %s unhealthy at %s%% and changed nothing (on-unhealthy: fail)\n%s\n%s\n"+
		"  decide in Partner Center, or run with halt-rollout: true to halt it",
		e.Target, formatPct(e.Percentage), indent(e.Result.Reason), indent(e.Result.Figures()))
}

// headline is the decision and its reason on one line, without the
// figures.
func (e *UnhealthyError) headline() string {
	what := "the health gate halted the rollout"
	if !e.Halted {
		what = "the health gate found the new packages unhealthy"
	}
	return fmt.Sprintf("%s at %s%%: %s", what, formatPct(e.Percentage), e.Result.Reason)
}

// indent indents every line of text by two spaces, as the continuation
// lines of a failure are.
func indent(text string) string {
	return "  " + strings.ReplaceAll(text, "\n", "\n  ")
}

// gateSkip says why the rollout step leaves a run with rollout-steps
// alone: with an update, the steps only set where the new submission's
// rollout starts.
func gateSkip(s *State) string {
	if !s.cfg.WantsUpdate() {
		return ""
	}
	return fmt.Sprintf("rollout-steps start the rollout of %s at its first step, %s%%; scheduled runs without update inputs move it on, one step a run",
		s.target(), formatPct(s.cfg.RolloutSteps[0]))
}

// runGate makes the one move of a run with rollout-steps: advance to the
// next step, hold, halt, or finalize past the last step, as the health
// gate decides (or, with health-gate: off, one step a run).
func runGate(ctx context.Context, s *State) error {
	r, err := gatedRollout(ctx, s)
	if err != nil || r == nil {
		return err
	}
	s.Gate.From, s.Gate.Steps = r.PackageRolloutPercentage, s.cfg.RolloutSteps
	if s.cfg.HealthGate == config.HealthGateOff {
		s.Gate.Off = true
		s.rep.Infof("health-gate: off: no analytics read, the rollout moves one step a run")
		return move(ctx, s, r)
	}
	res, err := evaluate(ctx, s, r)
	if err != nil {
		return err
	}
	s.Gate.Health = &res
	switch res.Decision {
	case health.Advance:
		s.rep.Infof("health gate: healthy: %s", res.Reason)
		return move(ctx, s, r)
	case health.Halt:
		return unhealthy(ctx, s, r, res)
	}
	hold(s, res.Reason, res.WaitsFor)
	return nil
}

// gatedRollout returns the target's rollout when it is one to gate: a
// published submission's rollout in progress. Otherwise the decision is
// none, with a notice saying why, and the rollout nil.
func gatedRollout(ctx context.Context, s *State) (*storeapi.PackageRollout, error) {
	none := func(format string, args ...any) (*storeapi.PackageRollout, error) {
		s.Gate.Decision, s.Gate.Why = DecisionNone, fmt.Sprintf(format, args...)
		s.notice("rollout-steps: nothing to gate: %s", s.Gate.Why)
		return nil, nil
	}
	if s.Status != storeapi.StatusPublished {
		return none("%s is %s, not published yet; the gate starts on the first run after it is", s.target(), s.Status)
	}
	r := s.Rollout.liveRollout()
	if r == nil {
		got, err := s.store.GetPackageRollout(ctx, s.key())
		if err != nil {
			return nil, fmt.Errorf("read rollout of %s: %w", s.target(), err)
		}
		s.Rollout.record(got, true)
		r = got
	}
	switch phaseOf(r) {
	case phaseInProgress:
		return r, nil
	case phaseOff:
		return none("%s was published without gradual rollout: every user already gets its packages", s.target())
	case phaseComplete:
		return none("the rollout of %s is complete (finalized)", s.target())
	case phaseHalted:
		return none("the rollout of %s is halted; a halted rollout does not resume, the next release is a new submission", s.target())
	}
	return none("the rollout of %s is %s, not in progress", s.target(), r.PackageRolloutStatus)
}

// move advances the rollout to the next step above its percentage, or
// past the last step finalizes it (finalize-rollout: true) or holds.
func move(ctx context.Context, s *State, r *storeapi.PackageRollout) error {
	cur := r.PackageRolloutPercentage
	next, ok := health.NextStep(s.cfg.RolloutSteps, cur)
	if ok {
		s.Gate.Decision, s.Gate.To = DecisionAdvance, next
		return raise(ctx, s, r, next)
	}
	if !s.cfg.FinalizeRollout {
		hold(s, fmt.Sprintf("the rollout is at %s%%, past the last of rollout-steps (%s), and finalize-rollout is not set", formatPct(cur), stepList(s.cfg.RolloutSteps)),
			"finalize-rollout: true, or a person finalizing it in Partner Center")
		return nil
	}
	s.Gate.Decision = DecisionFinalize
	return finalizeRollout(ctx, s, r)
}

// hold records a hold and says in a notice what it waits for.
func hold(s *State, why, waitsFor string) {
	s.Gate.Decision, s.Gate.Why, s.Gate.WaitsFor = DecisionHold, why, waitsFor
	s.notice("holding the rollout of %s at %s%%: %s; waiting for %s", s.target(), formatPct(s.Gate.From), why, waitsFor)
}

// unhealthy acts on a gate that found the new packages clearly worse:
// on-unhealthy: halt halts the rollout, on-unhealthy: fail changes
// nothing; either way the run fails, except in a dry run, which only
// reports what it would do.
func unhealthy(ctx context.Context, s *State, r *storeapi.PackageRollout, res health.Result) error {
	e := &UnhealthyError{Target: s.target(), Percentage: r.PackageRolloutPercentage, Result: res}
	s.Gate.Why = res.Reason
	if s.cfg.OnUnhealthy == config.OnUnhealthyFail {
		s.Gate.Decision = DecisionUnhealthy
		if s.dryRun() {
			s.plan("fail the run, changing nothing (on-unhealthy: fail): %s", res.Reason)
			return nil
		}
		return e
	}
	s.Gate.Decision = DecisionHalt
	if err := halt(ctx, s, r); err != nil || s.dryRun() {
		return err
	}
	e.Halted = true
	return e
}

// evaluate reads both sides' analytics and applies the gate's rule. A read
// that failed after its retries holds; one the Store refused for good
// (storeapi.AnalyticsRefused) fails the run, since waiting cannot mend it.
func evaluate(ctx context.Context, s *State, r *storeapi.PackageRollout) (health.Result, error) {
	pct := r.PackageRolloutPercentage
	held := func(rule, reason, waitsFor string) health.Result {
		res := health.Held(rule, reason, waitsFor)
		res.Percentage = pct
		return res
	}
	oldV, err := fallbackVersions(ctx, s, r)
	if err != nil {
		if ctx.Err() != nil {
			return health.Result{}, err
		}
		return held(ruleNoFallback, err.Error(), "a fallback submission storeflight can read (fallback-submission-id), to compare with"), nil
	}
	th := thresholds(s.cfg)
	in := health.Input{Now: s.clock.Now(), Percentage: pct, NewVersions: packageVersions(s.sub.packages()), OldVersions: oldV}
	span := health.ReadRange(in.Now, th.DataLag)
	if len(in.NewVersions) > 0 && len(in.OldVersions) > 0 && span.Days() > 0 {
		q := storeapi.AnalyticsQuery{ApplicationID: s.ApplicationID, From: span.First, To: span.Last,
			PackageVersions: append(slices.Clone(in.NewVersions), in.OldVersions...)}
		s.rep.Infof("health gate: reading failures and usage of versions %s (new) and %s (old), %s", strings.Join(in.NewVersions, ", "), strings.Join(in.OldVersions, ", "), span)
		in.Usage, err = s.store.UsageDaily(ctx, q)
		if err == nil {
			in.Failures, err = s.store.FailureHits(ctx, q)
		}
		switch {
		case err != nil && (ctx.Err() != nil || storeapi.AnalyticsRefused(err)):
			return health.Result{}, fmt.Errorf("health gate: %w", err)
		case err != nil:
			return held(health.RuleUnreadable, fmt.Sprintf("the analytics read failed after its retries: %v", err), "a later run, once the analytics API answers"), nil
		}
	}
	return health.Evaluate(in, th), nil
}

// thresholds are the gate's settings from the inputs. health-data-lag: 0s
// means no lag, while the zero Thresholds.DataLag means the default, so it
// goes in as the shortest lag there is.
func thresholds(cfg *config.Config) health.Thresholds {
	th := health.Thresholds{MaxRatio: cfg.HealthMaxRatio, MinFailures: cfg.HealthMinFailures, DataLag: cfg.HealthDataLag}
	if th.DataLag <= 0 {
		th.DataLag = time.Nanosecond
	}
	return th
}

// fallbackVersions returns the package versions of the rollout's fallback
// submission, the one users outside the rollout get: read as a submission
// of the same flight, else of the app.
func fallbackVersions(ctx context.Context, s *State, r *storeapi.PackageRollout) ([]string, error) {
	if !r.HasFallback() {
		return nil, fmt.Errorf("the rollout of %s names no fallback submission (fallbackSubmissionId %q), so there are no old versions to compare with", s.target(), r.FallbackSubmissionID)
	}
	id := r.FallbackSubmissionID
	sub, err := s.owner.get(ctx, id)
	if err == nil {
		return packageVersions(sub.packages()), nil
	}
	if s.FlightID == "" || ctx.Err() != nil {
		return nil, fmt.Errorf("fallback submission %s cannot be read (%s)", id, briefError(err))
	}
	app, appErr := s.store.GetAppSubmission(ctx, s.ApplicationID, id)
	if appErr != nil {
		s.rep.Debugf("health gate: fallback submission %s: %v; %v", id, err, appErr)
		return nil, fmt.Errorf("fallback submission %s cannot be read, neither as a submission of the flight (%s) nor as one of the app (%s)", id, briefError(err), briefError(appErr))
	}
	s.rep.Infof("health gate: fallback submission %s is the app's own submission", id)
	return packageVersions(app.ApplicationPackages), nil
}

// briefError is a Store error's status and code, or the error itself.
func briefError(err error) string {
	var e *storeapi.Error
	if errors.As(err, &e) && e.StatusCode != 0 {
		return strings.TrimSpace(fmt.Sprintf("%d %s", e.StatusCode, e.Code))
	}
	return err.Error()
}

// packageVersions returns the distinct versions of the packages that are
// not on their way out.
func packageVersions(ps []storeapi.Package) []string {
	var vs []string
	for _, p := range ps {
		if p.Version != "" && p.FileStatus != storeapi.FileStatusPendingDelete && !slices.Contains(vs, p.Version) {
			vs = append(vs, p.Version)
		}
	}
	return vs
}

func stepList(steps []float64) string {
	parts := make([]string, len(steps))
	for i, p := range steps {
		parts[i] = formatPct(p)
	}
	return strings.Join(parts, ", ")
}

// gateSection writes the job summary's section on the health gate: the
// move made, and the gate's figures as a table with the daily rates of
// both sides as sparklines.
func (s *Record) gateSection(b *strings.Builder) {
	g := s.Gate
	if g.Decision == "" {
		return
	}
	b.WriteString("\n### Health gate\n\n")
	would := ""
	if s.DryRun && g.Decision != DecisionHold && g.Decision != DecisionNone {
		would = " (dry run: nothing was changed)"
	}
	if g.Decision == DecisionNone {
		fmt.Fprintf(b, "- `rollout-decision`: **none**: %s.\n", line(g.Why))
		return
	}
	if g.Decision == DecisionAdvance {
		fmt.Fprintf(b, "- `rollout-decision`: **advance** from %s%% to %s%%", formatPct(g.From), formatPct(g.To))
	} else {
		fmt.Fprintf(b, "- `rollout-decision`: **%s** at %s%%", g.Decision, formatPct(g.From))
	}
	fmt.Fprintf(b, " of rollout-steps %s%s.", stepList(g.Steps), would)
	if g.Off {
		b.WriteString(" health-gate: off, so no analytics were read.")
	}
	if g.Why != "" && (g.Health == nil || g.Health.Decision == health.Advance) {
		fmt.Fprintf(b, " %s.", line(g.Why))
		if g.WaitsFor != "" {
			fmt.Fprintf(b, " Waits for %s.", line(g.WaitsFor))
		}
	}
	b.WriteString("\n")
	if g.Health != nil {
		b.WriteString(g.Health.Markdown())
	}
}
