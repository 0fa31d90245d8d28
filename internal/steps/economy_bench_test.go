package steps

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/storeflight/storeflight/internal/config"
	"github.com/storeflight/storeflight/internal/storeapi"
	"github.com/storeflight/storeflight/internal/storefake"
)

// API economy (BENCHMARKS.md §2): every pipeline path is run against the
// simulator, which records each Store request, and the requests are
// compared with the least the API allows for that path. A new request in
// any path fails here until it is justified and the list updated.

var (
	reSubmission = regexp.MustCompile(`/submissions/[0-9]+`)
	reFlight     = regexp.MustCompile(`/flights/[0-9a-f-]{36}`)
	reApp        = regexp.MustCompile(`/applications/[0-9A-Z]{12}`)
)

// apiCalls lists the Store API requests as "METHOD path" with IDs replaced
// by placeholders, consecutive repeats folded into " ×N".
func apiCalls(reqs []storefake.Request) []string {
	var out []string
	last, n := "", 0
	flush := func() {
		switch {
		case n == 1:
			out = append(out, last)
		case n > 1:
			out = append(out, fmt.Sprintf("%s ×%d", last, n))
		}
	}
	for _, r := range reqs {
		if !strings.HasPrefix(r.Path, "/v1.0/my/") {
			continue // the blob host is Azure Storage, outside the Store's budget
		}
		p := strings.TrimPrefix(r.Path, "/v1.0/my")
		p = reSubmission.ReplaceAllString(p, "/submissions/{sub}")
		p = reFlight.ReplaceAllString(p, "/flights/{flight}")
		p = reApp.ReplaceAllString(p, "/applications/{app}")
		c := r.Method + " " + p
		if c == last {
			n++
			continue
		}
		flush()
		last, n = c, 1
	}
	flush()
	return out
}

func countAPI(reqs []storefake.Request) int {
	n := 0
	for _, r := range reqs {
		if strings.HasPrefix(r.Path, "/v1.0/my/") {
			n++
		}
	}
	return n
}

func TestRequestEconomy(t *testing.T) {
	t.Parallel()
	const (
		listFlights = "GET /applications/{app}/listflights"
		getSub      = "GET /applications/{app}/flights/{flight}/submissions/{sub}"
		create      = "POST /applications/{app}/flights/{flight}/submissions"
		put         = "PUT /applications/{app}/flights/{flight}/submissions/{sub}"
		commit      = "POST /applications/{app}/flights/{flight}/submissions/{sub}/commit"
		raise       = "POST /applications/{app}/flights/{flight}/submissions/{sub}/updatepackagerolloutpercentage"
		halt        = "POST /applications/{app}/flights/{flight}/submissions/{sub}/haltpackagerollout"
		finalize    = "POST /applications/{app}/flights/{flight}/submissions/{sub}/finalizepackagerollout"
		status      = "GET /applications/{app}/flights/{flight}/submissions/{sub}/status"
		rollout     = "GET /applications/{app}/flights/{flight}/submissions/{sub}/packagerollout"
	)
	tests := []struct {
		name  string
		seed  storefake.Seed
		set   func(e *env, c *config.Config)
		first func(e *env, c *config.Config) // an earlier run, not counted
		want  []string
	}{
		{
			name: "new submission with packages through published",
			seed: flightSeed(nil, nil),
			set: func(e *env, c *config.Config) {
				c.Packages = []config.Package{e.pkg("app.msix", "1.1.0.0")}
				c.RolloutPercentage = ptr(10.0)
				c.WaitFor = config.WaitPublished
			},
			// 17 reads cover 20 simulated minutes of processing; once past
			// pre-processing the submission is read to check its packages.
			want: []string{listFlights, getSub, rollout, create, put, commit, status + " ×6", getSub, status + " ×11", rollout},
		},
		{
			name: "rollout raise",
			seed: flightSeed(&storefake.SeedRollout{Percentage: 10, Status: "PackageRolloutInProgress"}, nil),
			set:  func(e *env, c *config.Config) { c.RolloutPercentage = ptr(50.0) },
			want: []string{listFlights, getSub, rollout, raise},
		},
		{
			name: "halt",
			seed: flightSeed(&storefake.SeedRollout{Percentage: 10, Status: "PackageRolloutInProgress"}, nil),
			set:  func(e *env, c *config.Config) { c.HaltRollout = true },
			want: []string{listFlights, getSub, rollout, halt},
		},
		{
			name: "finalize",
			seed: flightSeed(&storefake.SeedRollout{Percentage: 10, Status: "PackageRolloutInProgress"}, nil),
			set:  func(e *env, c *config.Config) { c.FinalizeRollout = true },
			want: []string{listFlights, getSub, rollout, finalize},
		},
		{
			name: "rollout raise and finalize",
			seed: flightSeed(&storefake.SeedRollout{Percentage: 10, Status: "PackageRolloutInProgress"}, nil),
			set:  func(e *env, c *config.Config) { c.RolloutPercentage = ptr(50.0); c.FinalizeRollout = true },
			want: []string{listFlights, getSub, rollout, raise, finalize},
		},
		{
			name: "re-run continuing a wait that timed out",
			seed: flightSeed(nil, nil),
			set: func(e *env, c *config.Config) {
				c.Packages = []config.Package{e.pkg("app.msix", "1.1.0.0")}
				c.WaitFor = config.WaitPublished
			},
			first: func(e *env, c *config.Config) {
				c.Timeout = 10 * time.Minute
				if _, err := e.run(e.t.Context(), c); !errors.Is(err, ErrTimedOut) {
					e.t.Fatalf("first run: %v, want a timeout", err)
				}
			},
			// The pending submission is recognised as this run's own and
			// waited for: no create, update, upload or commit.
			want: []string{listFlights, getSub, status + " ×10", rollout},
		},
		{
			name: "dry-run of a new submission",
			seed: flightSeed(nil, nil),
			set: func(e *env, c *config.Config) {
				c.Packages = []config.Package{e.pkg("app.msix", "1.1.0.0")}
				c.RolloutPercentage = ptr(10.0)
				c.WaitFor = config.WaitPublished
				c.DryRun = true
			},
			want: []string{listFlights, getSub, rollout},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, quickStages(), tt.seed)
			cfg := baseConfig()
			tt.set(e, cfg)
			if tt.first != nil {
				c := *cfg
				tt.first(e, &c)
				e.fake.ResetRequests()
			}
			if _, err := e.run(t.Context(), cfg); err != nil {
				t.Fatalf("Run: %v", err)
			}
			reqs := e.fake.Requests()
			got := apiCalls(reqs)
			t.Logf("%d requests:\n%s", countAPI(reqs), strings.Join(got, "\n"))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}

// TestThreeDayCertification polls a submission through a certification of
// almost three days with the default poll-interval, max-poll-interval and a
// 4320m timeout, on a fake clock shared by simulator, client and steps, and
// checks the polling targets of BENCHMARKS.md: fewer than 1,000 status
// reads, every status change seen within max-poll-interval, and fewer than
// 20 requests in any minute. Jitter is drawn from a few fixed sources, the
// slowest (always the top of the range) included.
func TestThreeDayCertification(t *testing.T) {
	t.Parallel()
	stages := storefake.Stages{
		CommitStarted:      2 * time.Minute,
		PreProcessing:      15 * time.Minute,
		Certification:      71 * time.Hour,
		Release:            10 * time.Minute,
		PendingPublication: 5 * time.Minute,
		Publishing:         20 * time.Minute,
	}
	sources := []struct {
		name string
		rand func() float64
	}{
		{"middle", func() float64 { return 0.5 }},
		{"slowest", func() float64 { return 0.999999 }},
		{"fastest", func() float64 { return 0 }},
		{"seeded", rand.New(rand.NewPCG(1, 2)).Float64},
	}
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, stages, flightSeed(nil, nil))
			cfg := baseConfig()
			cfg.Packages = []config.Package{e.pkg("app.msix", "1.1.0.0")}
			cfg.WaitFor = config.WaitPublished
			cfg.Timeout = 4320 * time.Minute
			s, err := Run(t.Context(), Deps{
				Config: cfg, Store: e.client, Reporter: e.rep, Clock: e.clk, Rand: src.rand,
				UploadTransport: canonicalHeaders{e.fake.HTTPClient()}, UploadOptions: &e.upOpts,
			})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if s.Status != storeapi.StatusPublished {
				t.Fatalf("status %s, want Published", s.Status)
			}
			m := pollMetrics(t, e.fake.Requests(), stages)
			t.Logf("%d status reads, longest detection delay %s, at most %d requests in a minute, %d requests in all",
				m.reads, m.maxDelay, m.maxPerMinute, m.total)
			if m.reads >= 1000 {
				t.Errorf("%d status reads, want fewer than 1000", m.reads)
			}
			if m.maxDelay > cfg.MaxPollInterval {
				t.Errorf("a status change was seen %s after it happened, want at most %s", m.maxDelay, cfg.MaxPollInterval)
			}
			if m.maxPerMinute >= 20 {
				t.Errorf("%d requests in one minute, want fewer than 20", m.maxPerMinute)
			}
		})
	}
}

type metrics struct {
	reads, total, maxPerMinute int
	maxDelay                   time.Duration
}

// pollMetrics derives the polling figures from the recorded requests: the
// status changes happen at the commit time plus the stage durations, and
// each is detected by the first status read at or after it.
func pollMetrics(t *testing.T, reqs []storefake.Request, st storefake.Stages) metrics {
	t.Helper()
	var m metrics
	var commitAt time.Time
	var reads, all []time.Time
	for _, r := range reqs {
		if !strings.HasPrefix(r.Path, "/v1.0/my/") {
			continue
		}
		all = append(all, r.At)
		switch {
		case r.Method == "POST" && strings.HasSuffix(r.Path, "/commit"):
			commitAt = r.At
		case r.Method == "GET" && strings.HasSuffix(r.Path, "/status"):
			reads = append(reads, r.At)
		}
	}
	if commitAt.IsZero() {
		t.Fatal("no commit recorded")
	}
	m.reads, m.total = len(reads), len(all)
	change := commitAt
	for _, d := range []time.Duration{st.CommitStarted, st.PreProcessing, st.Certification, st.Release, st.PendingPublication, st.Publishing} {
		change = change.Add(d)
		i, _ := slices.BinarySearchFunc(reads, change, func(a, b time.Time) int { return a.Compare(b) })
		if i == len(reads) {
			t.Fatalf("the change at %s was never read", change)
		}
		m.maxDelay = max(m.maxDelay, reads[i].Sub(change))
	}
	for i := range all {
		j := i
		for j < len(all) && all[j].Sub(all[i]) < time.Minute {
			j++
		}
		m.maxPerMinute = max(m.maxPerMinute, j-i)
	}
	return m
}
