package steps

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storeflight/storeflight/internal/ci/citest"
	"github.com/storeflight/storeflight/internal/clock"
	"github.com/storeflight/storeflight/internal/config"
	"github.com/storeflight/storeflight/internal/msix"
	"github.com/storeflight/storeflight/internal/storeapi"
	"github.com/storeflight/storeflight/internal/storefake"
	"github.com/storeflight/storeflight/internal/upload"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const (
	appID       = "9NBLGGH4R315"
	flightID    = "4b2f0c39-5d0e-4a3c-9f61-2d1c6a0e7b11"
	flightName  = "Beta"
	publishedID = "1152921504606846977"
	pendingID   = "1152921504606846984"
)

var start = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// event is one thing reported.
type event struct{ Kind, Title, Msg string }

// recorder is a ci.Reporter that keeps every event.
type recorder struct {
	mu      sync.Mutex
	events  []event
	masks   []string
	outputs map[string]string
	summary string
	onInfo  func(msg string)
}

func (r *recorder) add(kind, title, msg string) {
	r.mu.Lock()
	r.events = append(r.events, event{kind, title, msg})
	hook := r.onInfo
	r.mu.Unlock()
	if hook != nil && kind == "info" {
		hook(msg)
	}
}

func (r *recorder) Group(name string) func() {
	r.add("group", name, "")
	return func() { r.add("endgroup", name, "") }
}
func (r *recorder) Mask(v string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.masks = append(r.masks, v)
}
func (r *recorder) Infof(f string, a ...any)  { r.add("info", "", fmt.Sprintf(f, a...)) }
func (r *recorder) Debugf(f string, a ...any) { r.add("debug", "", fmt.Sprintf(f, a...)) }
func (r *recorder) Notice(t, m string)        { r.add("notice", t, m) }
func (r *recorder) Warning(t, m string)       { r.add("warning", t, m) }
func (r *recorder) Error(t, m string)         { r.add("error", t, m) }
func (r *recorder) SetOutput(n, v string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.outputs == nil {
		r.outputs = map[string]string{}
	}
	r.outputs[n] = v
	return nil
}
func (r *recorder) Summary(md string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.summary += md
	return nil
}
func (r *recorder) Close() error { return nil }

func (r *recorder) of(kind string) []event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []event
	for _, e := range r.events {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// text is every event as one string, for searching.
func (r *recorder) text() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, e := range r.events {
		fmt.Fprintf(&b, "%s %s %s\n", e.Kind, e.Title, e.Msg)
	}
	return b.String()
}

func (r *recorder) contains(s string) bool { return strings.Contains(r.text(), s) }

// env is a simulator, a client and a reporter sharing one fake clock.
type env struct {
	t      *testing.T
	clk    *clock.Fake
	fake   *storefake.Server
	client *storeapi.Client
	rep    *recorder
	dir    string
	upOpts upload.Options
}

func newEnv(t *testing.T, stages storefake.Stages, seed storefake.Seed) *env {
	t.Helper()
	return newEnvWith(t, storefake.Options{Stages: stages}, seed)
}

// newEnvWith is newEnv with more simulator options (the clock and blob
// directory are the env's).
func newEnvWith(t *testing.T, opts storefake.Options, seed storefake.Seed) *env {
	t.Helper()
	clk := clock.NewFake(start)
	opts.Clock, opts.BlobDir = clk, t.TempDir()
	fake, err := storefake.New(&opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fake.Close() })
	if err := fake.Seed(seed); err != nil {
		t.Fatal(err)
	}
	client, err := storeapi.New(fake.Credential(), &storeapi.Options{
		BaseURL:       fake.URL(),
		HTTPClient:    fake.HTTPClient(),
		Clock:         clk,
		RequestBudget: -1,
		RetryMax:      2,
		RetryWaitMin:  time.Millisecond,
		RetryWaitMax:  2 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, clk: clk, fake: fake, client: client, rep: &recorder{}, dir: t.TempDir(),
		upOpts: upload.Options{BlockSize: 1 << 20, Concurrency: 2}}
}

func (e *env) run(ctx context.Context, cfg *config.Config) (*State, error) {
	return Run(ctx, Deps{
		Config:          cfg,
		Store:           e.client,
		Reporter:        e.rep,
		Clock:           e.clk,
		Rand:            func() float64 { return 0.5 },
		UploadTransport: canonicalHeaders{e.fake.HTTPClient()},
		UploadOptions:   &e.upOpts,
	})
}

// canonicalHeaders works around storefake's in-process transport, which
// hands the request's header map to the handler as it is: azblob sets
// "x-ms-blob-type" under a non-canonical key, which a real server (and
// storefake over a socket) reads fine but Header.Get in process does not.
type canonicalHeaders struct{ c *http.Client }

func (t canonicalHeaders) Do(req *http.Request) (*http.Response, error) {
	h := make(http.Header, len(req.Header))
	for k, vs := range req.Header {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	req.Header = h
	return t.c.Do(req)
}

// pkg writes a demo package and returns it as the config names it.
func (e *env) pkg(name, version string) config.Package {
	e.t.Helper()
	p := filepath.Join(e.dir, name)
	f, err := os.Create(p)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := msix.WriteDemoPackage(f, strings.TrimSuffix(name, filepath.Ext(name)), version); err != nil {
		e.t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		e.t.Fatal(err)
	}
	return config.Package{Path: p, ZIPName: name}
}

// calls counts the API requests with method whose path ends with suffix.
func (e *env) calls(method, suffix string) int {
	n := 0
	for _, r := range e.fake.Requests() {
		if r.Method == method && strings.HasSuffix(r.Path, suffix) && strings.HasPrefix(r.Path, "/v1.0/") {
			n++
		}
	}
	return n
}

// changes lists every request that is not a GET.
func (e *env) changes() []string {
	var out []string
	for _, r := range e.fake.Requests() {
		if r.Method != "GET" && r.Method != "HEAD" {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}

func (e *env) flight() storefake.FlightState {
	e.t.Helper()
	f, ok := e.fake.Flight(appID, flightID)
	if !ok {
		e.t.Fatal("flight not found")
	}
	return f
}

func (e *env) sub(flight, id string) storefake.SubmissionState {
	e.t.Helper()
	s, ok := e.fake.Submission(appID, flight, id)
	if !ok {
		e.t.Fatalf("submission %s not found", id)
	}
	return s
}

// baseConfig is a config as config.Load gives it by default, for the flight.
func baseConfig() *config.Config {
	return &config.Config{
		ApplicationID:     appID,
		FlightName:        flightName,
		PendingSubmission: config.PendingFail,
		PreviousRollout:   config.PreviousFail,
		PackageMode:       config.PackageReplace,
		Commit:            true,
		WaitFor:           config.WaitNone,
		PollInterval:      30 * time.Second,
		MaxPollInterval:   5 * time.Minute,
		Timeout:           time.Hour,
		OnTimeout:         config.OnTimeoutFail,
		RequestBudget:     20,
	}
}

func ptr[T any](v T) *T { return &v }

// quickStages makes a committed submission publish in 20 minutes.
func quickStages() storefake.Stages {
	return storefake.Stages{
		CommitStarted:      2 * time.Minute,
		PreProcessing:      3 * time.Minute,
		Certification:      10 * time.Minute,
		Release:            2 * time.Minute,
		PendingPublication: time.Minute,
		Publishing:         2 * time.Minute,
	}
}

// flightSeed is an app with flight Beta whose last published submission
// ships app.msix 1.0.0.0, with the given rollout (nil: none) and pending
// submission (nil: none).
func flightSeed(rollout *storefake.SeedRollout, pending *storefake.SeedSubmission) storefake.Seed {
	return storefake.Seed{Apps: []storefake.SeedApp{{
		ID: appID, Name: "Contoso",
		Published: &storefake.SeedSubmission{ID: "1152921504606846900", Packages: []storefake.SeedPackage{{FileName: "app.msix", Version: "0.9.0.0"}}},
		Flights: []storefake.SeedFlight{{
			ID: flightID, Name: flightName, GroupIDs: []string{"1"},
			Published: &storefake.SeedSubmission{
				ID:       publishedID,
				Packages: []storefake.SeedPackage{{FileName: "app.msix", Version: "1.0.0.0"}},
				Rollout:  rollout,
			},
			Pending: pending,
		}},
	}}}
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	citest.GoldenSummary(t, name, got, *update)
}
