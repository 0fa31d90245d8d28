package steps

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/storeflight/storeflight/internal/ci"
	"github.com/storeflight/storeflight/internal/config"
	"github.com/storeflight/storeflight/internal/storefake"
)

// correlationRE finds a correlation ID, which the client makes up afresh
// for each request.
var correlationRE = regexp.MustCompile("(?i)(correlation ID:? `?)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

func withoutCorrelationIDs(s string) string {
	return correlationRE.ReplaceAllString(s, "${1}<correlation-id>")
}

// uploadLineRE finds the upload's own lines (sizes, rates), which
// upload.go's tests cover.
var uploadLineRE = regexp.MustCompile(`(?m)^(uploading|uploaded) .*$`)

// plainRun runs cfg with the plain reporter, the log a person reads in a
// terminal or on GitLab, and ends it with the failure as the CLI reports
// it.
func (e *env) plainRun(ctx context.Context, cfg *config.Config) (*State, string, error) {
	var log bytes.Buffer
	rep := ci.Detect(nil, &log, ci.Options{})
	s, err := Run(ctx, Deps{Config: cfg, Store: e.client, Reporter: rep, Clock: e.clk, Rand: func() float64 { return 0.5 },
		UploadTransport: canonicalHeaders{e.fake.HTTPClient()}, UploadOptions: &e.upOpts})
	switch {
	case errors.Is(err, ErrTimedOut):
		rep.Error("timed out", err.Error())
	case err != nil:
		rep.Error("storeflight failed", err.Error())
	}
	return s, log.String(), err
}

// longLines returns the lines of log longer than a progress line may be.
func longLines(log string) []string {
	var out []string
	for l := range strings.SplitSeq(log, "\n") {
		if len([]rune(l)) > maxLogLine {
			out = append(out, l)
		}
	}
	return out
}

// A failed run's log gives the failure as a headline naming the step and
// indented lines with the Store's answer, its correlation ID and what to
// do next; the job summary leads with the same.
func TestStoreRefusalReadsWell(t *testing.T) {
	t.Parallel()
	e := newEnv(t, quickStages(), flightSeed(nil, nil))
	e.fake.Inject(storefake.Fault{Method: "POST", Path: "/commit", Status: 409})
	cfg := baseConfig()
	cfg.Packages = []config.Package{e.pkg("app.msix", "1.1.0.0")}
	cfg.WaitFor = config.WaitPublished

	s, log, err := e.plainRun(t.Context(), cfg)
	var se *StepError
	if !errors.As(err, &se) {
		t.Fatalf("error %v, want a *StepError", err)
	}
	if s.Outcome != OutcomeFailed || s.Ending == nil || s.Ending.Step != "commit" {
		t.Fatalf("outcome %q, ending %+v; want failed in commit", s.Outcome, s.Ending)
	}
	a := s.Ending.Answer
	if a == nil || a.HTTPStatus != 409 || a.Code != "InvalidState" || a.Message == "" || a.CorrelationID == "" {
		t.Errorf("answer %+v, want the Store's 409, code, message and correlation ID", a)
	}
	headline, _, _ := strings.Cut(err.Error(), "\n")
	if want := "commit: commit submission " + s.SubmissionID + ": the Store answered 409 InvalidState"; headline != want {
		t.Errorf("headline %q, want %q", headline, want)
	}
	md := s.SummaryMarkdown()
	for _, want := range []string{"## storeflight: failed\n", "**commit failed**", "`InvalidState`", a.Message, a.CorrelationID, "**Next**"} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q", want)
		}
	}
	if long := longLines(log); len(long) > 0 {
		t.Errorf("lines of %d characters or more:\n%s", maxLogLine+1, strings.Join(long, "\n"))
	}
	golden(t, "store-refusal.golden.log", uploadLineRE.ReplaceAllString(withoutCorrelationIDs(log), "${1} <upload line>"))
	golden(t, "store-refusal.golden.md", withoutCorrelationIDs(md))
}

// The health gate's hold is a success whose summary leads with what the
// rollout waits for.
func TestHoldSummary(t *testing.T) {
	t.Parallel()
	e := newEnv(t, quickStages(), publishedWithRollout(10, ""))
	s, err := e.run(t.Context(), baseConfig())
	if err != nil {
		t.Fatal(err)
	}
	s.hold("rollout", "the health gate holds the rollout at 10%: 2 of 3 health checks have data", "the next scheduled run checks again")
	golden(t, "held.golden.md", s.SummaryMarkdown())
}

func TestEndingLines(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		e    Ending
		want []string
	}{
		{
			name: "clauses and next",
			e:    Ending{Step: "resolve", What: "no flight named \"beta\" in app 9N; did you mean \"Beta\"? (names are case-sensitive)"},
			want: []string{`resolve: no flight named "beta" in app 9N`, `did you mean "Beta"? (names are case-sensitive)`},
		},
		{
			name: "store answer",
			e: Ending{Step: "commit", What: "commit submission 1", Next: "one; two",
				Answer: &Answer{Service: "the Store", Operation: "commit flight submission", Method: "POST", HTTPStatus: 409, Code: "InvalidState", Message: "not now", CorrelationID: "c-1"}},
			want: []string{"commit: commit submission 1: the Store answered 409 InvalidState", "message: not now",
				"operation: commit flight submission (POST)", "correlation ID: c-1", "next: one", "      two"},
		},
		{
			name: "long headline",
			e:    Ending{Step: "resolve", What: "submission 1152921504621243649 is Published: only a PendingCommit submission can be updated"},
			want: []string{"resolve: submission 1152921504621243649 is Published:", "only a PendingCommit submission can be updated"},
		},
		{
			name: "unreadable answer",
			e: Ending{Step: "resolve", What: "get flight", Answer: &Answer{Service: "the Store", Operation: "get flight", Method: "GET",
				HTTPStatus: 200, Err: "decode response: unexpected end of JSON input", CorrelationID: "c-2"}},
			want: []string{"resolve: get flight: the Store answered 200, but the answer could not be read",
				"error: decode response: unexpected end of JSON input", "operation: get flight (GET)", "correlation ID: c-2"},
		},
		{
			name: "no answer",
			e:    Ending{Step: "update", What: "update submission 1", Answer: &Answer{Service: "the Store", Operation: "update flight submission", Err: "EOF"}},
			want: []string{"update: update submission 1: no answer from the Store", "error: EOF", "operation: update flight submission"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, tt.e.lines()); diff != "" {
				t.Errorf("lines (-want +got):\n%s", diff)
			}
		})
	}
}

func TestChangeLines(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 200)
	tests := []struct {
		name string
		c    FieldChange
		want []string
	}{
		{name: "fits", c: FieldChange{"packageRollout.packageRolloutPercentage", "100", "10"},
			want: []string{"packageRollout.packageRolloutPercentage: 100 → 10"}},
		{name: "package list", c: FieldChange{"flightPackages", "ContosoNotes_1.0.0.0_x64.msix 1.0.0.0 [Uploaded]",
			"ContosoNotes_1.0.0.0_x64.msix 1.0.0.0 [PendingDelete], ContosoNotes_1.1.0.0_x64.msix [PendingUpload]"},
			want: []string{"flightPackages:", "  before: ContosoNotes_1.0.0.0_x64.msix 1.0.0.0 [Uploaded]",
				"  after:  ContosoNotes_1.0.0.0_x64.msix 1.0.0.0 [PendingDelete]", "          ContosoNotes_1.1.0.0_x64.msix [PendingUpload]"}},
		{name: "long value", c: FieldChange{"notesForCertification", `""`, long},
			want: []string{"notesForCertification:", `  before: ""`, "  after:  " + long[:maxLogValue-1] + "…"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, changeLines(tt.c)); diff != "" {
				t.Errorf("changeLines (-want +got):\n%s", diff)
			}
		})
	}
}

// Every line a run prints, on the paths a release engineer meets, stays
// under the progress line limit: the failure's too.
func TestLogLinesFit(t *testing.T) {
	t.Parallel()
	type step struct {
		set     func(e *env, c *config.Config)
		wantErr bool
	}
	release := func(e *env, c *config.Config) {
		c.Packages = []config.Package{e.pkg("app.msix", "1.1.0.0")}
		c.RolloutPercentage = ptr(10.0)
	}
	tests := []struct {
		name  string
		seed  storefake.Seed
		setup func(e *env)
		runs  []step
	}{
		{name: "dry run replacing a draft after finalizing the previous rollout",
			seed: flightSeed(&storefake.SeedRollout{Percentage: 30, Fallback: "1152921504606846900"},
				&storefake.SeedSubmission{ID: pendingID, Packages: []storefake.SeedPackage{{FileName: "other.msix", FileStatus: "PendingUpload"}}}),
			runs: []step{{set: func(e *env, c *config.Config) {
				release(e, c)
				c.DryRun, c.PendingSubmission, c.PreviousRollout = true, config.PendingReplace, config.PreviousFinalize
				c.NotesForCertification, c.WaitFor, c.FinalizeRollout = ptr("dry"), config.WaitPublished, true
			}}}},
		{name: "release after finalizing the previous rollout, then halt",
			seed: publishedWithRollout(30, ""),
			runs: []step{
				{set: func(e *env, c *config.Config) {
					release(e, c)
					c.PreviousRollout, c.WaitFor = config.PreviousFinalize, config.WaitPublished
				}},
				{set: func(e *env, c *config.Config) { c.HaltRollout = true }},
			}},
		{name: "timeout, then a re-run that continues, then a rollout at 100%",
			seed: flightSeed(nil, nil),
			runs: []step{
				{set: func(e *env, c *config.Config) {
					release(e, c)
					c.WaitFor, c.Timeout = config.WaitPublished, 8*time.Minute
				}, wantErr: true},
				{set: func(e *env, c *config.Config) { release(e, c); c.WaitFor = config.WaitPublished }},
				{set: func(e *env, c *config.Config) { c.RolloutPercentage = ptr(100.0) }},
			}},
		{name: "follow-up on the release in flight",
			seed: flightSeed(nil, nil),
			runs: []step{
				{set: func(e *env, c *config.Config) { release(e, c); c.WaitFor = config.WaitCommitted }},
				{set: func(e *env, c *config.Config) { c.WaitFor, c.RolloutPercentage = config.WaitPublished, ptr(20.0) }},
			}},
		{name: "certification failure, reported again on a re-run",
			seed: flightSeed(nil, nil),
			setup: func(e *env) {
				e.fake.ScriptFailure(storefake.Failure{At: "CertificationFailed", Errors: []storefake.Detail{{Code: "PackageValidationFailed", Details: "bad manifest"}}})
			},
			runs: []step{
				{set: func(e *env, c *config.Config) { release(e, c); c.WaitFor = config.WaitPublished }, wantErr: true},
				{set: func(e *env, c *config.Config) { release(e, c) }, wantErr: true},
			}},
		{name: "a Manual release waiting in Release, then a raise past a complete rollout",
			seed: publishedWithRollout(100, "PackageRolloutComplete"),
			runs: []step{
				{set: func(e *env, c *config.Config) {
					c.Packages = []config.Package{e.pkg("app.msix", "1.1.0.0")}
					c.TargetPublishMode, c.WaitFor = "Manual", config.WaitPublished
				}},
				{set: func(e *env, c *config.Config) { c.SubmissionID, c.RolloutPercentage = publishedID, ptr(50.0) }},
				{set: func(e *env, c *config.Config) { c.SubmissionID, c.FinalizeRollout = publishedID, true }},
			}},
		{name: "follow-ups past a draft and a release with only the old packages",
			seed: publishedWithRolloutAndPending(&storefake.SeedSubmission{ID: pendingID, Status: "Certification",
				Packages: []storefake.SeedPackage{{FileName: "app.msix", Version: "1.0.0.0"}}}),
			runs: []step{{set: func(e *env, c *config.Config) { c.WaitFor = config.WaitCertified }}}},
		{name: "a follow-up past an uncommitted draft",
			seed: publishedWithRolloutAndPending(&storefake.SeedSubmission{ID: pendingID,
				Packages: []storefake.SeedPackage{{FileName: "other.msix", FileStatus: "PendingUpload"}}}),
			runs: []step{{set: func(e *env, c *config.Config) { c.FinalizeRollout = true }}}},
		{name: "lost commit answers",
			seed:  flightSeed(nil, nil),
			setup: func(e *env) { e.fake.Inject(storefake.Fault{Method: "POST", Path: "/commit", Status: 503, Times: -1}) },
			runs:  []step{{set: func(e *env, c *config.Config) { release(e, c) }, wantErr: true}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, quickStages(), tt.seed)
			if tt.setup != nil {
				tt.setup(e)
			}
			for i, r := range tt.runs {
				cfg := baseConfig()
				r.set(e, cfg)
				_, log, err := e.plainRun(t.Context(), cfg)
				if (err != nil) != r.wantErr {
					t.Fatalf("run %d: error %v, want one: %v\n%s", i+1, err, r.wantErr, log)
				}
				if long := longLines(log); len(long) > 0 {
					t.Errorf("run %d: lines of %d characters or more:\n%s\n\nthe log:\n%s", i+1, maxLogLine+1, strings.Join(long, "\n"), log)
				}
			}
		})
	}
}
