package steps

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/storeflight/storeflight/internal/ci"
	"github.com/storeflight/storeflight/internal/config"
	"github.com/storeflight/storeflight/internal/health"
	"github.com/storeflight/storeflight/internal/storeapi"
	"github.com/storeflight/storeflight/internal/storefake"
)

// The gate tests release app.msix 1.1.0.0 to flight Beta, whose last
// published submission ships 1.0.0.0, at the first of rollout-steps; it is
// published at about 09:20 UTC on 2 March (start). With the simulator's
// analytics lag (24h) and the default health-data-lag (48h), the first
// whole day of the rollout (3 March) is read from 6 March on, and each
// later step's first whole day three days after the advance.
const (
	newVersion = "1.1.0.0"
	oldVersion = "1.0.0.0"
)

var gateSteps = []float64{5, 20, 50, 100}

// march returns 10:00 UTC on that day of March 2026.
func march(day int) time.Time { return time.Date(2026, 3, day, 10, 0, 0, 0, time.UTC) }

// released returns an env whose flight has the new version published at
// the first of steps, with the new version's crash rate set (0: the
// simulator's default, the old version's).
func released(t *testing.T, crash float64, steps []float64) *env {
	t.Helper()
	e := newEnvWith(t, storefake.Options{Stages: quickStages()}, flightSeed(nil, nil))
	if crash > 0 {
		e.fake.SetFailureRates(newVersion, storefake.FailureRates{Crash: crash, Hang: storefake.DefaultFailureRates.Hang})
	}
	cfg := baseConfig()
	cfg.Packages = []config.Package{e.pkg("app.msix", newVersion)}
	cfg.RolloutSteps = steps
	cfg.WaitFor = config.WaitPublished
	s, err := e.run(t.Context(), cfg)
	if err != nil {
		t.Fatalf("release: %v", err)
	}
	r := e.sub(flightID, s.SubmissionID).Rollout
	if want := (storefake.RolloutState{Enabled: true, Percentage: steps[0], Status: string(storeapi.RolloutInProgress), Fallback: publishedID}); r != want {
		t.Fatalf("released rollout %+v, want %+v: an update with rollout-steps starts at the first step", r, want)
	}
	if s.Gate.decision() != "none" || !strings.Contains(e.rep.text(), "rollout-steps start the rollout of") {
		t.Errorf("release run: decision %q; want none and a skip line saying where the rollout starts:\n%s", s.Gate.decision(), e.rep.text())
	}
	return e
}

// gateConfig is a scheduled run with rollout-steps and the gate's defaults.
func gateConfig(steps []float64) *config.Config {
	c := baseConfig()
	c.RolloutSteps = steps
	c.HealthGate = config.HealthGateFailures
	c.HealthMaxRatio, c.HealthMinFailures, c.HealthDataLag = 1.5, 15, 48*time.Hour
	c.OnUnhealthy = config.OnUnhealthyHalt
	return c
}

// runAt runs cfg at time at (moving the clock there) with a fresh
// recorder.
func (e *env) runAt(at time.Time, cfg *config.Config) (*State, error) {
	e.t.Helper()
	if d := at.Sub(e.clk.Now()); d > 0 {
		e.clk.Advance(d)
	}
	e.rep = &recorder{}
	return e.run(e.t.Context(), cfg)
}

// applied counts the requests with method whose path ends with suffix
// that the simulator handled (an injected fault's answer does not count,
// a lost answer does).
func (e *env) applied(method, suffix string) int {
	n := 0
	for _, r := range e.fake.Requests() {
		if r.Method == method && strings.HasSuffix(r.Path, suffix) && r.Status >= 200 && r.Status < 300 && (!r.Injected || r.Lost) {
			n++
		}
	}
	return n
}

// rolloutPOSTs are the rollout changes sent so far.
func (e *env) rolloutPOSTs() []string {
	var out []string
	for _, r := range e.fake.Requests() {
		if r.Method == http.MethodPost && (strings.HasSuffix(r.Path, "packagerollout") || strings.HasSuffix(r.Path, "/updatepackagerolloutpercentage")) {
			out = append(out, r.Path[strings.LastIndex(r.Path, "/")+1:])
		}
	}
	return out
}

// wantHold checks that the run held for rule (the gate's verdict when
// the hold is the run's own), said what it waits for in a notice holding
// notice, and sent no rollout change.
func (e *env) wantHold(s *State, rule, notice string) {
	e.t.Helper()
	if s.Gate.Decision != DecisionHold || gateRule(s) != rule || s.Outputs()[OutRolloutDecision] != "hold" {
		e.t.Errorf("decision %q, health %+v; want a hold by rule %q", s.Gate.Decision, s.Gate.Health, rule)
	}
	notices := e.rep.of("notice")
	if len(notices) != 1 || !strings.Contains(notices[0].Msg, "waiting for") || !strings.Contains(notices[0].Msg, notice) {
		e.t.Errorf("notices %v; want one saying what the hold waits for, with %q", notices, notice)
	}
	if got := e.rolloutPOSTs(); len(got) != 0 {
		e.t.Errorf("rollout calls %v, want none", got)
	}
}

// gateRule is the rule that decided, "" when the gate did not compare.
func gateRule(s *State) string {
	if s.Gate.Health == nil {
		return ""
	}
	return s.Gate.Health.Rule
}

// healthOutput decodes the health output.
func healthOutput(t *testing.T, s *State) map[string]any {
	t.Helper()
	raw := s.Outputs()[OutHealth]
	var h map[string]any
	if err := json.Unmarshal([]byte(raw), &h); err != nil {
		t.Fatalf("health output %q is not JSON: %v", raw, err)
	}
	return h
}

func TestGateAdvanceThenHoldForADayAtTheStep(t *testing.T) {
	t.Parallel()
	e := released(t, 0, gateSteps)
	s, err := e.runAt(march(6), gateConfig(gateSteps))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := e.rolloutPOSTs(); !slices.Equal(got, []string{"updatepackagerolloutpercentage"}) {
		t.Errorf("rollout calls %v, want one raise", got)
	}
	r := e.sub(flightID, s.SubmissionID).Rollout
	if r.Percentage != 20 || r.Status != string(storeapi.RolloutInProgress) {
		t.Errorf("rollout %+v, want 20%% in progress", r)
	}
	outs := s.Outputs()
	if outs[OutRolloutDecision] != "advance" || outs[OutRolloutPercentage] != "20" {
		t.Errorf("outputs: rollout-decision %q, rollout-percentage %q; want advance, 20", outs[OutRolloutDecision], outs[OutRolloutPercentage])
	}
	h := healthOutput(t, s)
	if h["decision"] != "advance" || h["rule"] != health.RuleHealthy || len(h["kinds"].([]any)) != 2 {
		t.Errorf("health output: %v", h)
	}
	sum := s.SummaryMarkdown()
	for _, want := range []string{"### Health gate", "**advance** from 5% to 20%", "| crash |", "| hang |"} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary lacks %q:\n%s", want, sum)
		}
	}
	if !strings.ContainsAny(sum, "▁▂▃▄▅▆▇█") {
		t.Errorf("summary has no sparkline:\n%s", sum)
	}

	// The same day again, and the next: no whole day at 20% is readable
	// yet, so the scheduled job holds and says what it waits for.
	for _, at := range []time.Time{march(6).Add(2 * time.Hour), march(7)} {
		s, err = e.runAt(at, gateConfig(gateSteps))
		if err != nil {
			t.Fatalf("Run at %s: %v", at, err)
		}
		if s.Gate.Decision != DecisionHold || gateRule(s) != health.RuleNoDayAtStep {
			t.Errorf("at %s: decision %q, health %+v; want a no-day-at-step hold", at, s.Gate.Decision, s.Gate.Health)
		}
		if n := len(e.rep.of("notice")); n != 1 || !strings.Contains(e.rep.of("notice")[0].Msg, "waiting for a whole day at 20%") {
			t.Errorf("at %s: notices %v; want one saying it waits for a whole day at 20%%", at, e.rep.of("notice"))
		}
	}
	if got := e.rolloutPOSTs(); len(got) != 1 {
		t.Errorf("rollout calls %v after the holds, want still the one raise", got)
	}
}

// TestGateWalksToFinalize is the scheduled job run every day from the
// release on: 5, 20, 50 and 100%, each once a whole day at the step is
// healthy, then finalize, then nothing to gate.
func TestGateWalksToFinalize(t *testing.T) {
	t.Parallel()
	e := released(t, 0, gateSteps)
	cfg := gateConfig(gateSteps)
	cfg.FinalizeRollout = true
	var got []string
	for day := 3; day <= 16; day++ {
		s, err := e.runAt(march(day), cfg)
		if err != nil {
			t.Fatalf("2026-03-%02d: %v", day, err)
		}
		got = append(got, s.Outputs()[OutRolloutDecision]+" "+s.Outputs()[OutRolloutPercentage])
	}
	want := []string{
		"hold 5", "hold 5", "hold 5", "advance 20",
		"hold 20", "hold 20", "advance 50",
		"hold 50", "hold 50", "advance 100",
		"hold 100", "hold 100", "finalize 100",
		"none 100",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("daily decisions from 3 March (-want +got):\n%s", diff)
	}
	wantCalls := []string{"updatepackagerolloutpercentage", "updatepackagerolloutpercentage", "updatepackagerolloutpercentage", "finalizepackagerollout"}
	if diff := cmp.Diff(wantCalls, e.rolloutPOSTs()); diff != "" {
		t.Errorf("rollout calls (-want +got):\n%s", diff)
	}
	if r := e.sub(flightID, e.flight().PublishedID).Rollout; r.Status != string(storeapi.RolloutComplete) {
		t.Errorf("rollout %+v, want complete", r)
	}
}

func TestGateHoldsPastTheLastStepWithoutFinalize(t *testing.T) {
	t.Parallel()
	e := released(t, 0, []float64{5})
	s, err := e.runAt(march(6), gateConfig([]float64{5}))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	e.wantHold(s, health.RuleHealthy, "past the last of rollout-steps (5), and finalize-rollout is not set")
}

func TestGateHoldsOnThinData(t *testing.T) {
	t.Parallel()
	e := released(t, 0, gateSteps)
	// 2,000 devices a day: about 98 on the new version at 5%, where 0.6
	// crash and hang failures a day are expected.
	e.fake.SetAnalyticsDevices(2000)
	s, err := e.runAt(march(6), gateConfig(gateSteps))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	e.wantHold(s, health.RuleThinData, "more expected failures on the new versions")
}

// TestGateHaltsOnceTheEvidenceIsThere: twice the old crash rate is worse
// but not yet clear on the first day (hold), clear on the window and the
// window a day shorter on the second (halt, exit 4), and a halted rollout
// has nothing left to gate.
func TestGateHaltsOnceTheEvidenceIsThere(t *testing.T) {
	t.Parallel()
	e := released(t, 0.008, gateSteps)
	s, err := e.runAt(march(6), gateConfig(gateSteps))
	if err != nil || s.Gate.Decision != DecisionHold || gateRule(s) != health.RuleWorse {
		t.Fatalf("6 March: decision %q, rule %q, err %v; want a worse-but-not-clearly hold", s.Gate.Decision, gateRule(s), err)
	}
	// The halt's answer is lost once: the rollout is read, the halt found
	// in effect, and not sent again.
	e.fake.Inject(storefake.Fault{Path: "/haltpackagerollout", LoseResponse: true})
	s, err = e.runAt(march(7), gateConfig(gateSteps))
	var unhealthy *UnhealthyError
	if !errors.As(err, &unhealthy) || !unhealthy.Halted {
		t.Fatalf("7 March: err %v; want an UnhealthyError that halted", err)
	}
	if n := e.applied(http.MethodPost, "/haltpackagerollout"); n != 1 {
		t.Errorf("halts applied: %d, want 1", n)
	}
	for _, want := range []string{"halted the rollout", "crash: new 70 of 9,800", "ratio 1.76"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	outs := s.Outputs()
	if outs[OutRolloutDecision] != "halt" || outs[OutRolloutStatus] != string(storeapi.RolloutStopped) || !s.Halted {
		t.Errorf("rollout-decision %q, rollout-status %q, halted %v", outs[OutRolloutDecision], outs[OutRolloutStatus], s.Halted)
	}
	// The summary leads with the halt, which succeeded, not with a failure.
	if sum := s.SummaryMarkdown(); !strings.HasPrefix(sum, "## storeflight: halted\n") || !strings.Contains(sum, nextHalted) {
		t.Errorf("the summary of a halt does not lead with it and what to do next:\n%s", sum)
	}
	if h := healthOutput(t, s); h["decision"] != "halt" || h["rule"] != health.RuleRegression {
		t.Errorf("health output: %v", h)
	}

	s, err = e.runAt(march(8), gateConfig(gateSteps))
	if err != nil || s.Gate.Decision != DecisionNone || !strings.Contains(s.Gate.Why, "halted") {
		t.Errorf("8 March: decision %q (%s), err %v; want none: the rollout is halted", s.Gate.Decision, s.Gate.Why, err)
	}
	if n := e.calls(http.MethodPost, "/haltpackagerollout"); n != 1 {
		t.Errorf("halt requests: %d, want the one", n)
	}
}

func TestGateUnhealthyFailChangesNothing(t *testing.T) {
	t.Parallel()
	e := released(t, 0.012, gateSteps)
	cfg := gateConfig(gateSteps)
	cfg.OnUnhealthy = config.OnUnhealthyFail
	s, err := e.runAt(march(6), cfg)
	var unhealthy *UnhealthyError
	if !errors.As(err, &unhealthy) || unhealthy.Halted {
		t.Fatalf("err %v; want an UnhealthyError that did not halt", err)
	}
	if !strings.Contains(err.Error(), "on-unhealthy: fail") || !strings.Contains(err.Error(), "a blatant regression") {
		t.Errorf("error: %v", err)
	}
	if got := e.rolloutPOSTs(); len(got) != 0 {
		t.Errorf("rollout calls %v, want none", got)
	}
	if r := e.sub(flightID, s.SubmissionID).Rollout; r.Status != string(storeapi.RolloutInProgress) || r.Percentage != 5 {
		t.Errorf("rollout %+v, want still 5%% in progress", r)
	}
	if s.Outputs()[OutRolloutDecision] != "unhealthy" {
		t.Errorf("rollout-decision %q, want unhealthy", s.Outputs()[OutRolloutDecision])
	}
}

func TestGateDryRun(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		crash    float64
		decision RolloutDecision
		plan     string
	}{
		{"healthy", 0, DecisionAdvance, "raise the rollout of submission"},
		{"three times the crash rate", 0.012, DecisionHalt, "halt the rollout of submission"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := released(t, tt.crash, gateSteps)
			cfg := gateConfig(gateSteps)
			cfg.DryRun = true
			s, err := e.runAt(march(6), cfg)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if s.Gate.Decision != tt.decision || s.Outputs()[OutRolloutDecision] != string(tt.decision) {
				t.Errorf("decision %q, want %q", s.Gate.Decision, tt.decision)
			}
			if len(s.Plan) != 1 || !strings.HasPrefix(s.Plan[0], tt.plan) {
				t.Errorf("plan %q, want one line starting %q", s.Plan, tt.plan)
			}
			if got := e.rolloutPOSTs(); len(got) != 0 {
				t.Errorf("rollout calls %v in a dry run", got)
			}
			if !strings.Contains(s.SummaryMarkdown(), "(dry run: nothing was changed)") {
				t.Errorf("summary does not say nothing was changed:\n%s", s.SummaryMarkdown())
			}
		})
	}
}

func TestGateAnalyticsReads(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		// refused: the run fails with the Store's refusal; otherwise it
		// holds.
		refused bool
		hint    string
	}{
		{"refused for good fails the run", http.StatusForbidden, true, "Manager role"},
		{"app unknown to analytics fails the run", http.StatusNotFound, true, "MSIX apps of this Partner Center account"},
		{"outage holds", http.StatusServiceUnavailable, false, ""},
		{"throttling holds", http.StatusTooManyRequests, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := released(t, 0.012, gateSteps)
			e.fake.Inject(storefake.Fault{Path: "/analytics/failurehits", Status: tt.status, Times: -1})
			s, err := e.runAt(march(6), gateConfig(gateSteps))
			if tt.refused {
				if err == nil || !storeapi.AnalyticsRefused(err) || !strings.Contains(err.Error(), tt.hint) {
					t.Fatalf("err %v; want the refusal with a hint about %q", err, tt.hint)
				}
			} else {
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				e.wantHold(s, health.RuleUnreadable, "a later run, once the analytics API answers")
			}
			if got := e.rolloutPOSTs(); len(got) != 0 {
				t.Errorf("rollout calls %v, want none (the data says halt, but it was not read)", got)
			}
		})
	}
}

// TestGateOff advances one step a run with no analytics read, where the
// gate would hold: the release is not a day old.
func TestGateOff(t *testing.T) {
	t.Parallel()
	e := released(t, 0.012, gateSteps)
	gated, err := e.runAt(march(2).Add(time.Hour), gateConfig(gateSteps))
	if err != nil || gated.Gate.Decision != DecisionHold {
		t.Fatalf("gated run: decision %q, err %v; want a hold", gated.Gate.Decision, err)
	}
	reads := e.calls(http.MethodGet, "/analytics/usagedaily") + e.calls(http.MethodGet, "/analytics/failurehits")
	cfg := gateConfig(gateSteps)
	cfg.HealthGate = config.HealthGateOff
	var got []string
	for range 5 {
		s, err := e.runAt(e.clk.Now(), cfg)
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		got = append(got, s.Outputs()[OutRolloutDecision]+" "+s.Outputs()[OutRolloutPercentage]+" "+s.Outputs()[OutHealth])
		cfg.FinalizeRollout = s.Gate.Decision == DecisionHold
	}
	want := []string{"advance 20 ", "advance 50 ", "advance 100 ", "hold 100 ", "finalize 100 "}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("runs with health-gate: off (-want +got):\n%s", diff)
	}
	if n := e.calls(http.MethodGet, "/analytics/usagedaily") + e.calls(http.MethodGet, "/analytics/failurehits"); n != reads {
		t.Errorf("health-gate: off read analytics %d times", n-reads)
	}
}

func TestGateNothingToGate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		seed storefake.Seed
		why  string
	}{
		{"complete", publishedWithRollout(100, string(storeapi.RolloutComplete)), "is complete"},
		{"halted", publishedWithRollout(5, string(storeapi.RolloutStopped)), "is halted"},
		{"not gradual", flightSeed(nil, nil), "published without gradual rollout"},
		{"not published yet", flightSeed(nil, &storefake.SeedSubmission{ID: pendingID, Status: string(storeapi.StatusCertification),
			Packages: []storefake.SeedPackage{{FileName: "app.msix", Version: newVersion}}, Rollout: &storefake.SeedRollout{Percentage: 5}}),
			"is Certification, not published yet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnvWith(t, storefake.Options{Stages: quickStages()}, tt.seed)
			s, err := e.runAt(start, gateConfig(gateSteps))
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			notices := e.rep.of("notice")
			if s.Outputs()[OutRolloutDecision] != "none" || s.Outputs()[OutHealth] != "" || len(notices) != 1 || !strings.Contains(notices[0].Msg, tt.why) {
				t.Errorf("rollout-decision %q, health %q, notices %v; want none, no health, a notice saying %q",
					s.Outputs()[OutRolloutDecision], s.Outputs()[OutHealth], notices, tt.why)
			}
			if n := e.calls(http.MethodGet, "/analytics/usagedaily"); n != 0 || len(e.rolloutPOSTs()) != 0 {
				t.Errorf("%d analytics reads, rollout calls %v; want none", n, e.rolloutPOSTs())
			}
		})
	}
}

// TestGateSides checks where the old versions come from: the rollout's
// fallback submission, in the flight or else the app; one that cannot be
// read holds.
func TestGateSides(t *testing.T) {
	t.Parallel()
	t.Run("fallback in the flight", func(t *testing.T) {
		t.Parallel()
		e := released(t, 0, gateSteps)
		s, err := e.runAt(march(6), gateConfig(gateSteps))
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		h := s.Gate.Health
		if h == nil {
			t.Fatalf("decision %q without a health result", s.Gate.Decision)
		}
		if !slices.Equal(h.NewVersions, []string{newVersion}) || !slices.Equal(h.OldVersions, []string{oldVersion}) || h.Kinds[0].Old.Devices < 90_000 {
			t.Errorf("new %v, old %v, old devices %d; want %s against %s's 95,000 a day", h.NewVersions, h.OldVersions, h.Kinds[0].Old.Devices, newVersion, oldVersion)
		}
	})
	t.Run("fallback of the app", func(t *testing.T) {
		t.Parallel()
		// publishedWithRollout's fallback is the app's own submission,
		// which ships 0.9.0.0.
		e := newEnvWith(t, storefake.Options{}, publishedWithRollout(5, ""))
		s, err := e.runAt(march(6), gateConfig(gateSteps))
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		if h := s.Gate.Health; h == nil || !slices.Equal(h.OldVersions, []string{"0.9.0.0"}) || !slices.Equal(h.NewVersions, []string{oldVersion}) {
			t.Errorf("health %+v; want 1.0.0.0 against the app's 0.9.0.0", h)
		}
	})
	t.Run("fallback unreadable", func(t *testing.T) {
		t.Parallel()
		seed := flightSeed(&storefake.SeedRollout{Percentage: 5, Fallback: "1152921504606846999"}, nil)
		e := newEnvWith(t, storefake.Options{}, seed)
		s, err := e.runAt(march(6), gateConfig(gateSteps))
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		e.wantHold(s, ruleNoFallback, "fallback submission 1152921504606846999 cannot be read, neither as a submission of the flight (404 ResourceNotFound) nor as one of the app (404 ResourceNotFound)")
		if n := e.calls(http.MethodGet, "/analytics/usagedaily"); n != 0 {
			t.Errorf("%d analytics reads without old versions", n)
		}
	})
}

// TestGateOutputsInGitLabDotenv: a month of daily figures makes health
// and result too long for GitLab's 5 KB dotenv report; they are
// shortened to the gate's key figures (each kind's F, N, rates, ratio,
// p-value), not to what a generic shortening of any JSON keeps.
func TestGateOutputsInGitLabDotenv(t *testing.T) {
	t.Parallel()
	e := released(t, 0, gateSteps)
	e.fake.SetAnalyticsDevices(3000) // thin data: a hold every day until the window is long
	s, err := e.runAt(march(31), gateConfig(gateSteps))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if n := len(s.Outputs()[OutHealth]); n < 5*1024 {
		t.Fatalf("health is %d bytes: too short to test shortening", n)
	}
	file := filepath.Join(t.TempDir(), "storeflight.env")
	var log bytes.Buffer
	rep := ci.Detect(func(k string) string { return map[string]string{"GITLAB_CI": "true"}[k] }, &log, ci.Options{OutputFile: file})
	if err := s.Report(rep); err != nil {
		t.Fatal(err)
	}
	if err := rep.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 5*1024 {
		t.Errorf("dotenv is %d bytes, over 5 KB", len(b))
	}
	vars := map[string]string{}
	for line := range strings.Lines(string(b)) {
		k, v, _ := strings.Cut(strings.TrimSuffix(line, "\n"), "=")
		vars[k] = v
	}
	var res map[string]string
	if err := json.Unmarshal([]byte(vars["STOREFLIGHT_OUT_RESULT"]), &res); err != nil {
		t.Fatalf("result: %v", err)
	}
	type kinds struct {
		Decision string
		Kinds    []health.KindResult
	}
	want := kinds{Decision: string(s.Gate.Health.Decision), Kinds: s.Gate.Health.Kinds}
	for i := range want.Kinds {
		want.Kinds[i].Earlier = nil
	}
	for where, raw := range map[string]string{"health": vars["STOREFLIGHT_OUT_HEALTH"], "result's health": res["health"]} {
		var got kinds
		if err := json.Unmarshal([]byte(raw), &got); err != nil {
			t.Fatalf("%s %q: %v", where, raw, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s lost the key figures (-want +got):\n%s", where, diff)
		}
	}
	if !strings.Contains(log.String(), "output health (") {
		t.Errorf("no warning that health was shortened:\n%s", log.String())
	}
}

// TestRolloutStepsOnARerunInCertification: a release re-run whose
// rollout-steps start elsewhere than the submission already committed
// fails naming rollout-steps, not rollout-percentage, which it was not
// given.
func TestRolloutStepsOnARerunInCertification(t *testing.T) {
	t.Parallel()
	e := newEnv(t, quickStages(), flightSeed(nil, nil))
	cfg := e.release()
	cfg.RolloutSteps, cfg.WaitFor = []float64{10, 50}, config.WaitCommitted
	if _, err := e.run(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(10 * time.Minute)
	cfg.RolloutSteps = []float64{5, 50}
	_, err := e.run(t.Context(), cfg)
	if err == nil || !strings.Contains(err.Error(), "rollout-steps 5 cannot be applied") || !strings.Contains(err.Error(), "packageRollout.packageRolloutPercentage = 10") {
		t.Fatalf("error %v, want rollout-steps named with the value the Store holds", err)
	}
}
