package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/storeflight/storeflight/internal/ci"
	"github.com/storeflight/storeflight/internal/clock"
	"github.com/storeflight/storeflight/internal/config"
	"github.com/storeflight/storeflight/internal/msix"
	"github.com/storeflight/storeflight/internal/steps"
	"github.com/storeflight/storeflight/internal/storeapi"
	"github.com/storeflight/storeflight/internal/storefake"
)

// The package the demo's release job ships to the demo flight.
const (
	demoPackage = "ContosoNotes_1.1.0.0_x64.msix"
	demoVersion = "1.1.0.0"
)

// Short names for the demo world, which storefake.DemoSeed defines.
const (
	demoAppID       = storefake.DemoAppID
	demoFlightID    = storefake.DemoFlightID
	demoFlightName  = storefake.DemoFlightName
	demoPublishedID = storefake.DemoPublishedID
)

// simulatedStages are plausible Store durations. Simulated time is virtual,
// so they cost nothing, and the default polling (30s backing off to 5m)
// sees every status and ends well within the default 60m timeout.
var simulatedStages = storefake.Stages{
	CommitStarted:      time.Minute,
	PreProcessing:      4 * time.Minute,
	Certification:      25 * time.Minute,
	Release:            6 * time.Minute,
	PendingPublication: 3 * time.Minute,
	Publishing:         5 * time.Minute,
}

// simulate runs the pipeline against the built-in Store simulator. Time in
// the simulator is virtual: every wait passes at once, so a run that waits
// for certification shows realistic durations in its timeline and still
// ends in a moment. Given nothing to act on, it plays the demo: a release
// run to a 10% rollout, then a rollout run raising it to 50%, then one
// finalizing it, a retail release and a health-gated rollout
// (demo_retail.go, demo_health.go). Otherwise it rehearses the given
// configuration against a simulator seeded with the named app (else the
// demo app) and flight (else the demo flight, or with target: app, the
// app's own submission).
func simulate(ctx context.Context, cfg *config.Config, rep ci.Reporter) (*steps.State, error) {
	clk := clock.NewFake(clock.Real{}.Now())
	demo := playsDemo(cfg)
	if !demo {
		cfg = rehearsalConfig(cfg)
	}
	sim, deps, err := startSimulator(clk, cfg, rep, simulatorSeed(cfg, demo))
	if err != nil {
		return nil, err
	}
	defer sim.Close()
	rep.Notice("simulator", "running against the built-in Store simulator: no account, no network; simulated time passes at once")

	if !demo {
		deps.Config = cfg
		if err := prepareGateRehearsal(ctx, deps, clk); err != nil {
			return nil, err
		}
		return steps.Run(ctx, deps)
	}

	dir, err := os.MkdirTemp("", "storeflight-demo-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	pkg, err := writeDemoPackage(dir)
	if err != nil {
		return nil, err
	}
	runs := demoRuns(cfg, pkg)
	var st *steps.State
	for i, r := range runs {
		rep.Infof("")
		rep.Infof("=== demo %d of %d: %s", i+1, len(runs), r.title)
		deps.Config = r.cfg
		st, err = steps.Run(ctx, deps)
		if err != nil {
			return st, err
		}
		if i < len(runs)-1 {
			if err := rep.Summary(st.SummaryMarkdown()); err != nil {
				rep.Warning("summary", err.Error())
			}
		}
	}
	// More scenarios follow the flight's, each printing its own summary;
	// the flight's last job gives the demo's outputs and last summary.
	for _, play := range []demoScenario{playRetailDemo} {
		if other, err := play(ctx, deps, cfg, dir); err != nil {
			return other, err
		}
	}
	if other, err := playHealthDemo(ctx, cfg, rep, dir, st); err != nil {
		return other, err
	}
	rep.Infof("")
	rep.Infof("=== the outputs and the job summary below are those of demo %d of %d: %s", len(runs), len(runs), runs[len(runs)-1].title)
	return st, nil
}

// startSimulator starts a simulator on clk seeded with seed, and returns
// it with the Deps of a run against it (no Config yet).
func startSimulator(clk *clock.Fake, cfg *config.Config, rep ci.Reporter, seed storefake.Seed) (*storefake.Server, steps.Deps, error) {
	sim, err := storefake.New(&storefake.Options{
		Clock:         clk,
		Stages:        simulatedStages,
		RequestBudget: storeapi.DefaultRequestBudget,
	})
	if err != nil {
		return nil, steps.Deps{}, err
	}
	if err := sim.Seed(seed); err != nil {
		sim.Close()
		return nil, steps.Deps{}, fmt.Errorf("seed the simulator: %w", err)
	}
	store, err := storeapi.New(sim.Credential(), &storeapi.Options{
		BaseURL:       sim.URL(),
		HTTPClient:    sim.HTTPClient(),
		Clock:         clk,
		RequestBudget: budget(cfg.RequestBudget),
		Logger:        debugLogger(rep),
	})
	if err != nil {
		sim.Close()
		return nil, steps.Deps{}, err
	}
	// Polling jitter spreads real clients' requests; against the simulator
	// it only made the timeline differ from run to run, and with a poll gap
	// of up to 6m it sometimes skipped a short status. A fixed midpoint keeps
	// the demo showing every status, the same way each time.
	return sim, steps.Deps{Store: store, Reporter: rep, Clock: clk, UploadTransport: sim.HTTPClient(),
		Rand: func() float64 { return 0.5 }}, nil
}

// demoScenario plays one more scenario of the demo in dir, on the
// simulator deps reach, and returns its last run's state.
type demoScenario func(ctx context.Context, deps steps.Deps, base *config.Config, dir string) (*steps.State, error)

type demoRun struct {
	title string
	cfg   *config.Config
}

// demoRuns is the demo's three jobs: what a release workflow and two later
// rollout workflows would run, each with its own inputs.
func demoRuns(base *config.Config, pkg config.Package) []demoRun {
	with := func(edit func(c *config.Config)) *config.Config {
		c := *base
		c.ApplicationID, c.FlightName = demoAppID, demoFlightName
		c.Packages, c.RolloutPercentage, c.WaitFor, c.FinalizeRollout = nil, nil, config.WaitNone, false
		c.RolloutSteps = nil // the health demo's, not these jobs'
		edit(&c)
		return &c
	}
	ten, fifty := 10.0, 50.0
	return []demoRun{
		{"release job: ship " + pkg.ZIPName + " at a 10% rollout, wait until published",
			with(func(c *config.Config) {
				c.Packages = []config.Package{pkg}
				c.RolloutPercentage = &ten
				c.WaitFor = config.WaitPublished
			})},
		{"rollout job: raise the rollout to 50%",
			with(func(c *config.Config) { c.RolloutPercentage = &fifty })},
		{"rollout job: finalize the rollout",
			with(func(c *config.Config) { c.FinalizeRollout = true })},
	}
}

func writeDemoPackage(dir string) (config.Package, error) {
	return writePackageVersion(dir, demoPackage, demoVersion)
}

// writePackageVersion writes a demo package of the given version as dir/name.
func writePackageVersion(dir, name, version string) (config.Package, error) {
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		return config.Package{}, err
	}
	if err := msix.WriteDemoPackage(f, "Contoso.Notes", version); err != nil {
		f.Close()
		return config.Package{}, err
	}
	if err := f.Close(); err != nil {
		return config.Package{}, err
	}
	return config.Package{Path: path, ZIPName: name}, nil
}

// playsDemo reports whether a simulated run plays the demo: its inputs
// name no app and nothing to act on or do (rollout-steps alone plays it,
// with those steps in its health-gated rollout).
func playsDemo(cfg *config.Config) bool {
	return cfg.ApplicationID == "" && cfg.Target == "" && cfg.FlightID == "" && cfg.FlightName == "" && cfg.SubmissionID == "" &&
		!cfg.WantsUpdate() && cfg.RolloutPercentage == nil && !cfg.HaltRollout && !cfg.FinalizeRollout
}

// rehearsalConfig is cfg acting on the demo app when it names none, and
// on the demo flight when it names no flight and not target: app.
func rehearsalConfig(cfg *config.Config) *config.Config {
	c := *cfg
	if c.ApplicationID == "" {
		c.ApplicationID = demoAppID
	}
	if c.Target != config.TargetApp && c.FlightID == "" && c.FlightName == "" {
		c.FlightName = demoFlightName
	}
	return &c
}

// simulatorSeed gives the simulator the demo world: for the demo as it
// is; for a rehearsal with the IDs the inputs name and, for a rollout-only
// run, a rollout still in progress (on the app's own submission when no
// flight is named), so that raise, halt and finalize have something to act
// on.
func simulatorSeed(cfg *config.Config, demo bool) storefake.Seed {
	if demo {
		return storefake.DemoSeed(storefake.DemoWorld{})
	}
	w := storefake.DemoWorld{
		AppID: cfg.ApplicationID, FlightID: cfg.FlightID, FlightName: cfg.FlightName, PublishedID: cfg.SubmissionID,
		ForApp:  cfg.FlightID == "" && cfg.FlightName == "",
		Rolling: !cfg.WantsUpdate() && !rehearsesGate(cfg),
	}
	if rehearsesGate(cfg) {
		w.RetailVersion = healthDemoRetailVersion
	}
	return storefake.DemoSeed(w)
}
