package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/storeflight/storeflight/internal/ci"
	"github.com/storeflight/storeflight/internal/clock"
	"github.com/storeflight/storeflight/internal/config"
	"github.com/storeflight/storeflight/internal/health"
	"github.com/storeflight/storeflight/internal/steps"
	"github.com/storeflight/storeflight/internal/storefake"
)

// The demo's health-gated rollout (DESIGN.md "Health-gated rollout"): a
// healthy build walks the rollout-steps to finalize, one scheduled run a
// simulated day, and a build that crashes twice as often is halted at the
// first step. Each run's own log is left out; one line a day says what
// the gate decided and why.

// healthDemoStart is the morning the demo's health-gated rollout starts.
// The simulator draws each day's failure counts from the day's date, so a
// fixed calendar gives the same figures and decisions on every run.
var healthDemoStart = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// healthDemoSteps are the demo's rollout-steps when the inputs give none.
var healthDemoSteps = []float64{5, 20, 50, 100}

const (
	healthyVersion = "1.1.0.0"
	badVersion     = "1.2.0.0"
	// healthDemoRetailVersion is the app's own packages' version in a
	// gated world: another than the flight's old one, since analytics count
	// a version's devices across the whole app (DemoWorld.RetailVersion).
	healthDemoRetailVersion = "0.9.0.0"
	// healthDemoDays is how many daily runs a build gets before the demo
	// stops waiting for the gate to finish with it.
	healthDemoDays = 40
)

// playHealthDemo plays the health-gated rollout in a simulator of its own
// and returns the state of its last run, the halt: that halt is the point
// of the demo, so it is no error. A dry run skips it and returns last.
func playHealthDemo(ctx context.Context, base *config.Config, rep ci.Reporter, dir string, last *steps.State) (*steps.State, error) {
	stepList := base.RolloutSteps
	if len(stepList) == 0 {
		stepList = healthDemoSteps
	}
	rep.Infof("")
	rep.Infof("=== demo: health-gated rollout with rollout-steps %s, a scheduled run each simulated day from %s", pcts(stepList), healthDemoStart.Format(time.DateOnly))
	rep.Infof("each release job is followed by the scheduled job, once a simulated day (health-data-lag %s):",
		healthDemoConfig(base, stepList, nil).HealthDataLag)
	if base.DryRun {
		rep.Infof("skipped in a dry run: the gate needs published releases to judge")
		return last, nil
	}
	clk := clock.NewFake(healthDemoStart)
	sim, deps, err := startSimulator(clk, base, rep, storefake.DemoSeed(storefake.DemoWorld{RetailVersion: healthDemoRetailVersion}))
	if err != nil {
		return nil, err
	}
	defer sim.Close()
	old := storefake.DefaultFailureRates
	sim.SetFailureRates(badVersion, storefake.FailureRates{Crash: 2 * old.Crash, Hang: old.Hang})
	deps.Reporter = quietReporter{rep}

	builds := []struct{ version, what string }{
		{healthyVersion, "as healthy as the old"},
		{badVersion, "crashing twice as often as the old"},
	}
	var st *steps.State
	for _, b := range builds {
		pkg, err := writePackageVersion(dir, "ContosoNotes_"+b.version+"_x64.msix", b.version)
		if err != nil {
			return nil, err
		}
		if err := demoRelease(ctx, deps, healthDemoConfig(base, stepList, []config.Package{pkg}), clk, rep, b.what); err != nil {
			return nil, err
		}
		if st, err = scheduledRuns(ctx, deps, healthDemoConfig(base, stepList, nil), clk, rep); err != nil {
			return st, err
		}
	}
	// The bad build's last run shows the gate's table in the job summary.
	if err := rep.Summary(st.SummaryMarkdown()); err != nil {
		rep.Warning("summary", err.Error())
	}
	return st, nil
}

// healthDemoConfig is a run of the demo flight with rollout-steps: a
// release job with pkgs, else the scheduled job, which finalizes past the
// last step.
func healthDemoConfig(base *config.Config, stepList []float64, pkgs []config.Package) *config.Config {
	c := *base
	c.ApplicationID, c.FlightName = demoAppID, demoFlightName
	c.Packages, c.RolloutSteps, c.RolloutPercentage = pkgs, stepList, nil
	c.WaitFor, c.FinalizeRollout = config.WaitNone, len(pkgs) == 0
	if len(pkgs) > 0 {
		c.WaitFor = config.WaitPublished
	}
	return &c
}

// demoRelease runs a release job, quietly, and says in one line what it
// published.
func demoRelease(ctx context.Context, deps steps.Deps, cfg *config.Config, clk *clock.Fake, rep ci.Reporter, what string) error {
	deps.Config = cfg
	if _, err := steps.Run(ctx, deps); err != nil {
		return fmt.Errorf("the demo's release of %s: %w", cfg.Packages[0].ZIPName, err)
	}
	rep.Infof("release job: %s, %s, published at %s%% on %s",
		cfg.Packages[0].ZIPName, what, pcts(cfg.RolloutSteps[:1]), clk.Now().Format("2006-01-02 15:04"))
	return nil
}

// scheduledRuns runs the scheduled job once a simulated day until the gate
// is done with the rollout (finalize, halt, unhealthy, none), saying in
// one line a day what it decided.
func scheduledRuns(ctx context.Context, deps steps.Deps, cfg *config.Config, clk *clock.Fake, rep ci.Reporter) (*steps.State, error) {
	deps.Config = cfg
	var st *steps.State
	for range healthDemoDays {
		clk.Advance(24 * time.Hour)
		var err error
		st, err = steps.Run(ctx, deps)
		var unhealthy *steps.UnhealthyError
		if err != nil && !errors.As(err, &unhealthy) {
			return st, err
		}
		g := st.Gate
		rep.Infof("  %s  %4s%%  %-9s %s", clk.Now().Format(time.DateOnly), pcts([]float64{g.From}), g.Decision, dayDetail(g))
		if unhealthy != nil {
			rep.Notice("health gate", unhealthy.Error()+"\n(in a real run this halt is exit code 4; the demo goes on)")
		}
		if g.Decision != steps.DecisionHold && g.Decision != steps.DecisionAdvance {
			return st, nil
		}
	}
	rep.Infof("  the gate still holds after %d days; a real scheduled job would go on", healthDemoDays)
	return st, nil
}

// dayDetail says in a few words why the gate decided as it did.
func dayDetail(g steps.GateRecord) string {
	res := g.Health
	figures := ""
	if res != nil {
		figures = kindFigures(*res)
	}
	switch {
	case g.Decision == steps.DecisionAdvance:
		return strings.TrimSuffix(fmt.Sprintf("to %s%%: %s", pcts([]float64{g.To}), figures), ": ")
	case g.Decision == steps.DecisionFinalize:
		return strings.TrimSuffix("past the last step: "+figures, ": ")
	case res == nil || res.Decision == health.Advance:
		return g.Why
	case res.Decision == health.Halt:
		return figures
	}
	if brief, ok := holdBriefs[res.Rule]; ok {
		return brief
	}
	if res.Rule == health.RuleWorse {
		return "worse, not yet clear enough to halt: " + figures
	}
	return res.Rule + ": " + figures
}

// holdBriefs say shortly why the gate held.
var holdBriefs = map[string]string{
	health.RuleNoUsage:     "no usage rows for the new version yet",
	health.RuleNoWholeDay:  "no whole day of the rollout has ended health-data-lag ago",
	health.RuleNoDayAtStep: "no whole day at this step has ended health-data-lag ago",
	health.RuleThinData:    "too few failures expected yet to judge",
	health.RuleMissingDays: "a day of the window lacks usage rows",
	health.RuleUnreadable:  "the analytics could not be read",
}

// kindFigures gives each failure kind's ratio and p-value.
func kindFigures(res health.Result) string {
	parts := make([]string, len(res.Kinds))
	for i, k := range res.Kinds {
		parts[i] = fmt.Sprintf("%s x%.2f (p %.2g)", k.Kind, k.Ratio, k.PValue)
	}
	return strings.Join(parts, ", ")
}

func pcts(ps []float64) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = fmt.Sprint(p)
	}
	return strings.Join(parts, ",")
}

// quietReporter leaves out a run's log lines, groups and notices, which the
// demo sums up itself; warnings and errors still show.
type quietReporter struct{ ci.Reporter }

func (quietReporter) Group(string) func()            { return func() {} }
func (quietReporter) Infof(string, ...any)           {}
func (quietReporter) Debugf(string, ...any)          {}
func (quietReporter) Notice(string, string)          {}
func (quietReporter) Summary(string) error           { return nil }
func (quietReporter) SetOutput(string, string) error { return nil }

// rehearsesGate reports whether a rehearsal runs the health gate on a
// flight's rollout that the simulator must first make: rollout-steps
// without an update or a submission named.
func rehearsesGate(cfg *config.Config) bool {
	return len(cfg.RolloutSteps) > 0 && !cfg.WantsUpdate() && cfg.SubmissionID == "" && cfg.Target != config.TargetApp &&
		(cfg.FlightID != "" || cfg.FlightName != "")
}

// prepareGateRehearsal gives a rehearsal of rollout-steps a rollout to
// gate: a release of the demo package to the flight at the first step,
// then the simulated days until one whole day of it can be read.
func prepareGateRehearsal(ctx context.Context, deps steps.Deps, clk *clock.Fake) error {
	cfg := deps.Config
	if !rehearsesGate(cfg) {
		return nil
	}
	dir, err := os.MkdirTemp("", "storeflight-rehearsal-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	pkg, err := writeDemoPackage(dir)
	if err != nil {
		return err
	}
	release := *cfg
	release.Packages, release.WaitFor, release.FinalizeRollout, release.DryRun = []config.Package{pkg}, config.WaitPublished, false, false
	rep := deps.Reporter
	deps.Config, deps.Reporter = &release, quietReporter{rep}
	st, err := steps.Run(ctx, deps)
	if err != nil {
		return fmt.Errorf("prepare the rehearsal (a release of %s at the first of rollout-steps): %w", pkg.ZIPName, err)
	}
	published := clk.Now()
	// The first whole day of the rollout is the day after its release; its
	// rows appear a day after it ends (the simulator's lag), and the gate
	// reads it health-data-lag after it ends.
	firstDay := published.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	readable := firstDay.Add(24*time.Hour + max(cfg.HealthDataLag, storefake.DefaultAnalyticsLag) + 9*time.Hour)
	clk.Advance(readable.Sub(clk.Now()))
	rep.Infof("rehearsal: the simulator released %s to flight %s at %s%% (the first of your rollout-steps) on %s; it is now %s, with one whole day of the rollout to read",
		pkg.ZIPName, or(st.FlightName, st.FlightID), pcts(cfg.RolloutSteps[:1]), published.Format("2006-01-02 15:04"), clk.Now().Format("2006-01-02 15:04"))
	return nil
}

func or(v, def string) string {
	if v != "" {
		return v
	}
	return def
}
