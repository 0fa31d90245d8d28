package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/storeflight/storeflight/internal/storefake"
)

// The health-gate scenarios release a build to flight A at the first of
// rollout-steps, then run the scheduled job once a simulated day, as a
// cron workflow would. The simulator's clock starts 20 days ago and moves
// a day between runs; the binary runs on the wall clock, so each run's
// health-data-lag is the default 48h plus how far the simulator is behind:
// the gate then reads exactly the days it would if the simulated day were
// today. A million active devices a day keep chance out of the decisions.

// gateSteps are the scenarios' rollout-steps.
const gateSteps = "5,20,50,100"

// gateWorld is flight A with 1.0.0.0 published (crash 0.4%, hang 0.2% of
// devices a day) and the new version's failure rates set.
func gateWorld(t *testing.T, newRates storefake.FailureRates) *world {
	t.Helper()
	start := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -20).Add(9 * time.Hour)
	w := newWorld(t, worldOptions{
		FakeClock: true,
		FakeStart: start,
		// Upload URLs expire on the simulator's clock, which the binary
		// compares with its own: they must outlive the 20 days between.
		SASTTL: 60 * 24 * time.Hour,
		Seed:   gateSeed(),
	})
	w.sim.SetAnalyticsDevices(1_000_000)
	w.sim.SetFailureRates(newVersion, newRates)
	return w
}

// gateSeed is seedApp with the app's own submission on 0.9.0.0. The
// analytics count devices per version across the app and its flights, so
// retail devices on the flight's old version would count on the old side
// and keep the new versions' share below half the step's percentage.
func gateSeed() storefake.Seed {
	seed := seedApp(seedFlight(flightA, "Beta testers", publishedA, nil))
	seed.Apps[0].Published.Packages = []storefake.SeedPackage{{FileName: "Contoso.Notes_0.9.0.0_x64.msix", Version: "0.9.0.0"}}
	return seed
}

// releaseAtFirstStep runs the release job and checks that the new
// submission is published at the first step, with nothing gated yet.
func (w *world) releaseAtFirstStep(ctx context.Context) {
	w.t.Helper()
	pkg := w.writePackage(newPackage, newVersion)
	res := w.run(ctx, invocation{Inputs: map[string]string{
		"flight-id": flightA, "packages": pkg, "rollout-steps": gateSteps, "wait-for": "published",
	}})
	if res.Code != 0 {
		w.t.Fatalf("release: exit code %d\n%s", res.Code, res.log())
	}
	want := map[string]string{"submission-status": "Published", "rollout-status": "PackageRolloutInProgress", "rollout-percentage": "5",
		"fallback-submission-id": publishedA, "rollout-decision": "none", "health": ""}
	for k, v := range want {
		if res.Outputs[k] != v {
			w.t.Errorf("release: output %s = %q, want %q", k, res.Outputs[k], v)
		}
	}
}

// scheduledRun moves the simulator a day on and runs the scheduled job.
func (w *world) scheduledRun(ctx context.Context, extra map[string]string) result {
	w.t.Helper()
	w.fake.Advance(24 * time.Hour)
	lag := (48*time.Hour + time.Since(w.fake.Now())).Round(time.Second)
	in := map[string]string{"flight-id": flightA, "rollout-steps": gateSteps, "health-data-lag": lag.String()}
	for k, v := range extra {
		in[k] = v
	}
	return w.run(ctx, invocation{Inputs: in})
}

// gateDay is what one scheduled run did, as its outputs and requests tell.
type gateDay struct {
	Code       int
	Decision   string
	Percentage string
	// Health is the health output's decision ("" when empty).
	Health string
	// Changes are the rollout calls the simulator handled.
	Changes []string
}

func dayOf(t *testing.T, res result) gateDay {
	t.Helper()
	d := gateDay{Code: res.Code, Decision: res.Outputs["rollout-decision"], Percentage: res.Outputs["rollout-percentage"]}
	if h := res.Outputs["health"]; h != "" {
		var v struct{ Decision string }
		if err := json.Unmarshal([]byte(h), &v); err != nil {
			t.Errorf("health output %q: %v", h, err)
		}
		d.Health = v.Decision
	}
	for _, r := range apiRequests(res.Requests, http.MethodPost, "") {
		if r.Status >= 200 && r.Status < 300 && strings.Contains(r.Path, "packagerollout") {
			d.Changes = append(d.Changes, r.Path[strings.LastIndex(r.Path, "/")+1:])
		}
	}
	return d
}

// testGateWalkToFinalize: a healthy build, run once a day from its
// release, holds until a whole day at each step has ended 48 hours ago,
// advances 5 → 20 → 50 → 100, finalizes past the last step, and then has
// nothing left to gate.
func testGateWalkToFinalize(t *testing.T) {
	// Failing a quarter less often than 1.0.0.0: healthy beyond what
	// chance could make look worse (p < 0.05 would take five standard
	// deviations).
	w := gateWorld(t, storefake.FailureRates{Crash: 0.003, Hang: 0.0015})
	ctx := t.Context()
	w.releaseAtFirstStep(ctx)
	var got []gateDay
	for range 14 {
		res := w.scheduledRun(ctx, map[string]string{"finalize-rollout": "true"})
		got = append(got, dayOf(t, res))
		if res.Code != 0 {
			t.Fatalf("scheduled run %d: exit code %d\n%s", len(got), res.Code, res.log())
		}
	}
	hold := func(pct, health string) gateDay {
		return gateDay{Decision: "hold", Percentage: pct, Health: health}
	}
	raise := []string{"updatepackagerolloutpercentage"}
	want := []gateDay{
		hold("5", "hold"), hold("5", "hold"), hold("5", "hold"),
		{Decision: "advance", Percentage: "20", Health: "advance", Changes: raise},
		hold("20", "hold"), hold("20", "hold"),
		{Decision: "advance", Percentage: "50", Health: "advance", Changes: raise},
		hold("50", "hold"), hold("50", "hold"),
		{Decision: "advance", Percentage: "100", Health: "advance", Changes: raise},
		hold("100", "hold"), hold("100", "hold"),
		{Decision: "finalize", Percentage: "100", Health: "advance", Changes: []string{"finalizepackagerollout"}},
		{Decision: "none", Percentage: "100"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("daily runs (-want +got):\n%s", diff)
	}
	f, _ := w.sim.Flight(appID, flightA)
	if sub, _ := w.sim.Submission(appID, flightA, f.PublishedID); sub.Rollout.Status != "PackageRolloutComplete" {
		t.Errorf("rollout %+v, want complete", sub.Rollout)
	}
}

// testGateHalt: a build with twice the old crash rate holds on its first
// day of data (worse, but one window is not enough), is halted on the
// second (exit 4, one halt call, an error annotation with the rates), and
// the next run finds nothing to gate.
func testGateHalt(t *testing.T) {
	w := gateWorld(t, storefake.FailureRates{Crash: 0.008, Hang: 0.002})
	ctx := t.Context()
	w.releaseAtFirstStep(ctx)
	var got []gateDay
	var halted result
	for range 6 {
		res := w.scheduledRun(ctx, nil)
		got = append(got, dayOf(t, res))
		if res.Code == 4 {
			halted = res
		}
	}
	hold := gateDay{Decision: "hold", Percentage: "5", Health: "hold"}
	want := []gateDay{hold, hold, hold, hold,
		{Code: 4, Decision: "halt", Percentage: "0", Health: "halt", Changes: []string{"haltpackagerollout"}},
		{Decision: "none", Percentage: "0"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("daily runs (-want +got):\n%s", diff)
	}
	var ann string
	for _, l := range strings.Split(halted.Stdout, "\n") {
		if strings.HasPrefix(l, "::error title=health gate%3A rollout halted::") {
			ann = l
		}
	}
	for _, want := range []string{"the health gate halted the rollout of submission", "crash: new ", ", ratio ", "on both windows"} {
		if !strings.Contains(ann, want) {
			t.Errorf("halt annotation lacks %q: %q\n%s", want, ann, halted.log())
		}
	}
	if !strings.Contains(halted.Summary, "### Health gate") || !strings.Contains(halted.Summary, "| crash |") {
		t.Errorf("job summary of the halt lacks the gate's table:\n%s", halted.Summary)
	}
	var h struct {
		Rule  string
		Kinds []struct {
			Kind    string
			Ratio   float64
			Earlier *struct{ Ratio float64 }
		}
	}
	if err := json.Unmarshal([]byte(halted.Outputs["health"]), &h); err != nil || h.Rule != "regression" || len(h.Kinds) != 2 ||
		h.Kinds[0].Ratio < 1.5 || h.Kinds[0].Earlier == nil || h.Kinds[0].Earlier.Ratio < 1.5 {
		t.Errorf("health of the halt (%v): %s", err, halted.Outputs["health"])
	}
	f, _ := w.sim.Flight(appID, flightA)
	sub, _ := w.sim.Submission(appID, flightA, f.PublishedID)
	if sub.Rollout.Status != "PackageRolloutStopped" {
		t.Errorf("rollout %+v, want halted", sub.Rollout)
	}
	if n := applied(w.sim.Requests(), http.MethodPost, "/haltpackagerollout"); n != 1 {
		t.Errorf("%d halts applied, want 1", n)
	}
}
