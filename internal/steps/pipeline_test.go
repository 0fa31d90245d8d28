package steps

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/google/go-cmp/cmp"

	"github.com/storeflight/storeflight/internal/config"
	"github.com/storeflight/storeflight/internal/storeapi"
	"github.com/storeflight/storeflight/internal/storefake"
)

func TestNewSubmissionThroughFinalize(t *testing.T) {
	t.Parallel()
	e := newEnv(t, quickStages(), flightSeed(nil, nil))
	cfg := baseConfig()
	cfg.Packages = []config.Package{e.pkg("app.msix", "1.1.0.0"), e.pkg("app.arm64.msix", "1.1.0.0")}
	cfg.RolloutPercentage = ptr(10.0)
	cfg.NotesForCertification = ptr("no changes to test")
	cfg.WaitFor = config.WaitPublished
	cfg.FinalizeRollout = true

	s, err := e.run(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !s.Created || s.Status != storeapi.StatusPublished || !s.Finalized {
		t.Errorf("state: created %v, status %s, finalized %v; want true, Published, true", s.Created, s.Status, s.Finalized)
	}
	got := e.sub(flightID, s.SubmissionID)
	var pkgs []storefake.PackageState
	for _, p := range got.Packages {
		p.ID = ""
		pkgs = append(pkgs, p)
	}
	wantPkgs := []storefake.PackageState{
		{FileName: "app.msix", FileStatus: "Uploaded", Version: "1.1.0.0"},
		{FileName: "app.arm64.msix", FileStatus: "Uploaded", Version: "1.1.0.0"},
	}
	if diff := cmp.Diff(wantPkgs, pkgs); diff != "" {
		t.Errorf("packages (-want +got):\n%s", diff)
	}
	if got.Rollout.Status != string(storeapi.RolloutComplete) || !got.Rollout.Enabled {
		t.Errorf("rollout %+v, want enabled and complete", got.Rollout)
	}
	if got.Notes != "no changes to test" || got.Commits != 1 {
		t.Errorf("notes %q, commits %d", got.Notes, got.Commits)
	}
	if f := e.flight(); f.PublishedID != s.SubmissionID || f.PendingID != "" {
		t.Errorf("flight %+v: want published %s and no pending", f, s.SubmissionID)
	}
	for _, c := range []struct {
		method, suffix string
		want           int
	}{{"POST", "/submissions", 1}, {"PUT", s.SubmissionID, 1}, {"POST", "/commit", 1}, {"POST", "/finalizepackagerollout", 1}} {
		if n := e.calls(c.method, c.suffix); n != c.want {
			t.Errorf("%s ...%s: %d calls, want %d", c.method, c.suffix, n, c.want)
		}
	}
	// The SAS signature was masked and never logged.
	checkSASSecret(t, e.rep, s.sub.uploadURL(), map[string]string{"log": e.rep.text(), "summary": s.SummaryMarkdown()})
	outs := s.Outputs()
	wantOuts := map[string]string{
		"flight-id": flightID, "submission-id": s.SubmissionID, "submission-status": "Published",
		"rollout-status": "PackageRolloutComplete", "rollout-percentage": "100",
		"fallback-submission-id": publishedID, "finalized": "true", "rollout-decision": "none", "health": "",
	}
	res := outs["result"]
	delete(outs, "result")
	if diff := cmp.Diff(wantOuts, outs); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
	if !strings.Contains(res, `"submission-status":"Published"`) || !strings.Contains(res, `"application-id":"`+appID+`"`) {
		t.Errorf("result %s", res)
	}
	golden(t, "new-submission.golden.md", s.SummaryMarkdown())
}

// publishedWithRollout seeds the flight's last published submission with a
// rollout in the given state.
func publishedWithRollout(pct float64, status string) storefake.Seed {
	return flightSeed(&storefake.SeedRollout{Percentage: pct, Status: status, Fallback: "1152921504606846900"}, nil)
}

func TestRolloutOnly(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		seed       storefake.Seed
		set        func(*config.Config)
		wantErr    string // substring; "" for success
		wantPOST   []string
		wantStatus string
		wantPct    float64
		wantNotice bool
		wantLog    string
		// wantWarning is in the one warning expected; "" for none.
		wantWarning string
	}{
		{
			name:       "raise",
			seed:       publishedWithRollout(10, ""),
			set:        func(c *config.Config) { c.RolloutPercentage = ptr(25.5) },
			wantPOST:   []string{"/updatepackagerolloutpercentage"},
			wantStatus: "PackageRolloutInProgress", wantPct: 25.5,
		},
		{
			name:       "same percentage makes no call",
			seed:       publishedWithRollout(25, ""),
			set:        func(c *config.Config) { c.RolloutPercentage = ptr(25.0) },
			wantStatus: "PackageRolloutInProgress", wantPct: 25,
			wantLog: "already at 25%",
		},
		{
			name:       "raise to 100 is not finalize",
			seed:       publishedWithRollout(50, ""),
			set:        func(c *config.Config) { c.RolloutPercentage = ptr(100.0) },
			wantPOST:   []string{"/updatepackagerolloutpercentage"},
			wantStatus: "PackageRolloutInProgress", wantPct: 100,
			wantLog: "is not finalized",
		},
		{
			name:       "lower percentage counts as applied, with a warning",
			seed:       publishedWithRollout(25, ""),
			set:        func(c *config.Config) { c.RolloutPercentage = ptr(10.0) },
			wantStatus: "PackageRolloutInProgress", wantPct: 25,
			wantWarning: "already at 25%, above rollout-percentage 10%",
		},
		{
			name:       "raise of a complete rollout counts as applied, with a warning",
			seed:       publishedWithRollout(100, "PackageRolloutComplete"),
			set:        func(c *config.Config) { c.RolloutPercentage = ptr(50.0) },
			wantStatus: "PackageRolloutComplete", wantPct: 100,
			wantWarning: "counts as applied",
		},
		{
			name:       "halt",
			seed:       publishedWithRollout(25, ""),
			set:        func(c *config.Config) { c.HaltRollout = true },
			wantPOST:   []string{"/haltpackagerollout"},
			wantStatus: "PackageRolloutStopped", wantPct: 0,
		},
		{
			name:       "halt when already halted makes no call",
			seed:       publishedWithRollout(0, "PackageRolloutStopped"),
			set:        func(c *config.Config) { c.HaltRollout = true },
			wantStatus: "PackageRolloutStopped", wantPct: 0, wantNotice: true,
		},
		{
			name:       "finalize",
			seed:       publishedWithRollout(40, ""),
			set:        func(c *config.Config) { c.FinalizeRollout = true },
			wantPOST:   []string{"/finalizepackagerollout"},
			wantStatus: "PackageRolloutComplete", wantPct: 100,
		},
		{
			name:       "finalize when complete makes no call",
			seed:       publishedWithRollout(100, "PackageRolloutComplete"),
			set:        func(c *config.Config) { c.FinalizeRollout = true },
			wantStatus: "PackageRolloutComplete", wantPct: 100, wantNotice: true,
		},
		{
			name:       "finalize without gradual rollout makes no call",
			seed:       flightSeed(nil, nil),
			set:        func(c *config.Config) { c.FinalizeRollout = true },
			wantStatus: "PackageRolloutNotStarted", wantPct: 0, wantNotice: true,
		},
		{
			name:       "raise a halted rollout refused",
			seed:       publishedWithRollout(0, "PackageRolloutStopped"),
			set:        func(c *config.Config) { c.RolloutPercentage = ptr(50.0) },
			wantErr:    "rollout-percentage cannot be applied: the rollout of submission " + publishedID + " is halted (PackageRolloutStopped)",
			wantStatus: "PackageRolloutStopped", wantPct: 0,
		},
		{
			name:       "raise and finalize",
			seed:       publishedWithRollout(10, ""),
			set:        func(c *config.Config) { c.RolloutPercentage = ptr(50.0); c.FinalizeRollout = true },
			wantPOST:   []string{"/updatepackagerolloutpercentage", "/finalizepackagerollout"},
			wantStatus: "PackageRolloutComplete", wantPct: 100,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, quickStages(), tt.seed)
			cfg := baseConfig()
			cfg.FlightName, cfg.FlightID = "", flightID
			tt.set(cfg)
			s, err := e.run(t.Context(), cfg)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("Run: %v", err)
			}
			var se *StepError
			if tt.wantErr != "" && (!errors.As(err, &se) || !strings.Contains(se.Err.Error(), tt.wantErr)) {
				t.Fatalf("Run error %v, want a step's error containing %q", err, tt.wantErr)
			}
			var posts []string
			for _, c := range e.changes() {
				posts = append(posts, c[strings.LastIndex(c, "/"):])
			}
			if diff := cmp.Diff(tt.wantPOST, posts); diff != "" {
				t.Errorf("changes (-want +got):\n%s", diff)
			}
			got := e.sub(flightID, publishedID).Rollout
			if got.Status != tt.wantStatus || got.Percentage != tt.wantPct {
				t.Errorf("rollout %+v, want %s at %v", got, tt.wantStatus, tt.wantPct)
			}
			if n := len(e.rep.of("notice")); (n > 0) != tt.wantNotice {
				t.Errorf("%d notices, want some: %v", n, tt.wantNotice)
			}
			if tt.wantLog != "" && !e.rep.contains(tt.wantLog) {
				t.Errorf("log lacks %q:\n%s", tt.wantLog, e.rep.text())
			}
			if w := e.rep.of("warning"); tt.wantWarning == "" && len(w) != 0 || tt.wantWarning != "" && (len(w) != 1 || !strings.Contains(w[0].Msg, tt.wantWarning)) {
				t.Errorf("warnings %+v, want one containing %q: %v", w, tt.wantWarning, tt.wantWarning != "")
			}
			if s.SubmissionID != publishedID {
				t.Errorf("acted on %s, want %s", s.SubmissionID, publishedID)
			}
		})
	}
}

func TestFinalizeTwice(t *testing.T) {
	t.Parallel()
	e := newEnv(t, quickStages(), publishedWithRollout(30, ""))
	cfg := baseConfig()
	cfg.FinalizeRollout = true
	for i := range 2 {
		s, err := e.run(t.Context(), cfg)
		if err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
		if !s.Finalized || s.Outputs()["finalized"] != "true" {
			t.Errorf("run %d: not finalized", i+1)
		}
	}
	if n := e.calls("POST", "/finalizepackagerollout"); n != 1 {
		t.Errorf("%d finalize calls, want 1", n)
	}
	if n := len(e.rep.of("notice")); n != 1 {
		t.Errorf("%d notices, want 1 (the second run's)", n)
	}
}

func TestRolloutOnUnpublished(t *testing.T) {
	t.Parallel()
	e := newEnv(t, quickStages(), flightSeed(nil, &storefake.SeedSubmission{ID: pendingID, Status: "Certification",
		Packages: []storefake.SeedPackage{{FileName: "app.msix", Version: "1.2.0.0"}}, Rollout: &storefake.SeedRollout{Percentage: 10}}))
	cfg := baseConfig()
	cfg.SubmissionID = pendingID
	cfg.RolloutPercentage = ptr(20.0)
	_, err := e.run(t.Context(), cfg)
	if err == nil || !strings.Contains(err.Error(), "wait-for: published") {
		t.Fatalf("error %v, want one suggesting wait-for: published", err)
	}
	// With wait-for: published the same run gets there first.
	e.rep = &recorder{}
	cfg.WaitFor = config.WaitPublished
	s, err := e.run(t.Context(), cfg)
	if err != nil {
		t.Fatalf("with wait-for published: %v", err)
	}
	if r := e.sub(flightID, pendingID).Rollout; r.Percentage != 20 || s.Status != storeapi.StatusPublished {
		t.Errorf("rollout %+v, status %s", r, s.Status)
	}
}

func TestPendingSubmissionPolicies(t *testing.T) {
	t.Parallel()
	draft := func(status string) *storefake.SeedSubmission {
		return &storefake.SeedSubmission{ID: pendingID, Status: status, Notes: "someone's draft",
			Packages: []storefake.SeedPackage{{FileName: "other.msix", FileStatus: "PendingUpload"}}}
	}
	tests := []struct {
		name     string
		pending  *storefake.SeedSubmission
		policy   config.PendingPolicy
		wantErr  []string
		wantSub  string // "new" for a created one
		wantDel  int
		wantPOST int
	}{
		{name: "fail names the pending submission", pending: draft("PendingCommit"), policy: config.PendingFail,
			wantErr: []string{pendingID, "pending-submission: reuse", "pending-submission: replace", "Partner Center"}},
		{name: "reuse updates it", pending: draft("PendingCommit"), policy: config.PendingReuse, wantSub: pendingID},
		{name: "reuse refuses a committed one", pending: draft("Certification"), policy: config.PendingReuse,
			wantErr: []string{pendingID, "Certification"}},
		{name: "replace deletes then creates", pending: draft("PendingCommit"), policy: config.PendingReplace, wantSub: "new", wantDel: 1, wantPOST: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, quickStages(), flightSeed(nil, tt.pending))
			cfg := baseConfig()
			cfg.PendingSubmission = tt.policy
			cfg.Packages = []config.Package{e.pkg("app.msix", "1.1.0.0")}
			s, err := e.run(t.Context(), cfg)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatal("Run succeeded, want an error")
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				if c := e.changes(); len(c) != 0 {
					t.Errorf("changes made: %v", c)
				}
				return
			}
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if tt.wantSub == "new" && (s.SubmissionID == pendingID || !s.Created) || tt.wantSub != "new" && s.SubmissionID != tt.wantSub {
				t.Errorf("submission %s (created %v), want %s", s.SubmissionID, s.Created, tt.wantSub)
			}
			if n := e.calls("DELETE", pendingID); n != tt.wantDel {
				t.Errorf("%d deletes, want %d", n, tt.wantDel)
			}
			if n := e.calls("POST", "/submissions"); n != tt.wantPOST {
				t.Errorf("%d creates, want %d", n, tt.wantPOST)
			}
			got := e.sub(flightID, s.SubmissionID)
			blobPuts := 0
			for _, r := range e.fake.Requests() {
				if r.Method == "PUT" && strings.HasPrefix(r.Path, "/ingestion/") {
					blobPuts++
				}
			}
			if got.Commits != 1 || blobPuts == 0 {
				t.Errorf("commits %d, blob PUTs %d", got.Commits, blobPuts)
			}
			if tt.wantDel > 0 {
				reqs := e.fake.Requests()
				del := slices.IndexFunc(reqs, func(r storefake.Request) bool { return r.Method == "DELETE" })
				create := slices.IndexFunc(reqs, func(r storefake.Request) bool {
					return r.Method == "POST" && strings.HasSuffix(r.Path, "/submissions")
				})
				if del < 0 || create < del {
					t.Errorf("delete at %d, create at %d: want delete first", del, create)
				}
			}
		})
	}
}

func TestPreviousRolloutPolicies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		policy      config.PreviousRolloutPolicy
		wantErr     string
		wantRollout string
	}{
		{name: "fail explains", policy: config.PreviousFail, wantErr: "previous-rollout: finalize", wantRollout: "PackageRolloutInProgress"},
		{name: "finalize", policy: config.PreviousFinalize, wantRollout: "PackageRolloutComplete"},
		{name: "halt", policy: config.PreviousHalt, wantRollout: "PackageRolloutStopped"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, quickStages(), publishedWithRollout(30, ""))
			cfg := baseConfig()
			cfg.PreviousRollout = tt.policy
			cfg.Packages = []config.Package{e.pkg("app.msix", "1.1.0.0")}
			cfg.Commit = false
			s, err := e.run(t.Context(), cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), publishedID) {
					t.Fatalf("error %v, want one naming %s and %q", err, publishedID, tt.wantErr)
				}
				if c := e.changes(); len(c) != 0 {
					t.Errorf("changes made: %v", c)
				}
			} else {
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				if !s.Created || e.flight().PendingID != s.SubmissionID {
					t.Errorf("no new pending submission: %+v", e.flight())
				}
				if len(e.rep.of("notice")) != 1 {
					t.Errorf("want one notice about the previous rollout:\n%s", e.rep.text())
				}
			}
			if got := e.sub(flightID, publishedID).Rollout.Status; got != tt.wantRollout {
				t.Errorf("previous rollout %s, want %s", got, tt.wantRollout)
			}
		})
	}
}

// An undocumented status is not progress: the wait must stop with an
// error naming it, not poll until the timeout and call it in progress.
func TestUnknownStatusEndsTheWait(t *testing.T) {
	t.Parallel()
	e := newEnv(t, quickStages(), flightSeed(nil, nil))
	e.fake.Inject(storefake.Fault{Method: "GET", Path: "/status", Times: -1, ContentType: "application/json",
		Body: `{"status":"Weird","statusDetails":{"errors":[],"warnings":[],"certificationReports":[]}}`})
	cfg := baseConfig()
	cfg.Packages = []config.Package{e.pkg("app.msix", "1.1.0.0")}
	cfg.WaitFor = config.WaitPublished
	_, err := e.run(t.Context(), cfg)
	if err == nil || errors.Is(err, ErrTimedOut) || !strings.Contains(err.Error(), `"Weird"`) {
		t.Fatalf("error %v, want one naming the unknown status, not a timeout", err)
	}
	if n := e.calls("GET", "/status"); n != 1 {
		t.Errorf("%d status reads, want 1: the first unknown status ends the wait", n)
	}
}

func TestFailureStatuses(t *testing.T) {
	t.Parallel()
	for _, at := range []string{"CommitFailed", "PreProcessingFailed", "CertificationFailed", "ReleaseFailed", "PublishFailed", "Canceled", "PendingCommit"} {
		t.Run(at, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, quickStages(), flightSeed(nil, nil))
			f := storefake.Failure{
				At:       at,
				Errors:   []storefake.Detail{{Code: "PackageValidationFailed", Details: "app.msix: bad manifest"}, {Code: "InvalidParameterValue", Details: "notes too long"}},
				Warnings: []storefake.Detail{{Code: "ListingOptOutWarning", Details: "a listing was removed"}},
				Reports:  []storefake.Report{{Date: "2026-03-02T09:10:00Z", ReportURL: "https://partner.microsoft.com/reports/1"}},
			}
			e.fake.ScriptFailure(f)
			cfg := baseConfig()
			cfg.Packages = []config.Package{e.pkg("app.msix", "1.1.0.0")}
			cfg.WaitFor = config.WaitPublished
			s, err := e.run(t.Context(), cfg)
			var sf *SubmissionFailedError
			if !errors.As(err, &sf) {
				t.Fatalf("error %v, want a *SubmissionFailedError", err)
			}
			if errors.Is(err, ErrTimedOut) {
				t.Error("a failure is not a timeout")
			}
			wantStatus := storeapi.Status(at)
			if sf.Status != wantStatus || sf.FellBack != (at == "PendingCommit") {
				t.Errorf("status %s fellBack %v, want %s", sf.Status, sf.FellBack, wantStatus)
			}
			if at == "PendingCommit" {
				// A fall back may carry no details; the error says what happened.
				if !strings.Contains(err.Error(), "fell back") {
					t.Errorf("error %q", err)
				}
				return
			}
			errs := e.rep.of("error")
			var codes []string
			for _, ev := range errs {
				codes = append(codes, ev.Title)
			}
			if diff := cmp.Diff([]string{"PackageValidationFailed", "InvalidParameterValue"}, codes); diff != "" {
				t.Errorf("error annotations (-want +got):\n%s", diff)
			}
			if w := e.rep.of("warning"); len(w) != 1 || w[0].Title != "ListingOptOutWarning" {
				t.Errorf("warnings %+v", w)
			}
			md := s.SummaryMarkdown()
			for _, want := range []string{"https://partner.microsoft.com/reports/1", "app.msix: bad manifest", "ListingOptOutWarning", at} {
				if !strings.Contains(md, want) {
					t.Errorf("summary lacks %q", want)
				}
			}
			if s.Outputs()["submission-status"] != at {
				t.Errorf("outputs %v", s.Outputs())
			}
			if at == "CertificationFailed" {
				golden(t, "certification-failed.golden.md", md)
			}
		})
	}
}

func TestTimeoutThenRerun(t *testing.T) {
	t.Parallel()
	e := newEnv(t, quickStages(), flightSeed(nil, nil))
	cfg := baseConfig()
	cfg.Packages = []config.Package{e.pkg("app.msix", "1.1.0.0")}
	cfg.RolloutPercentage = ptr(10.0)
	cfg.WaitFor = config.WaitPublished
	cfg.Timeout = 8 * time.Minute

	begin := e.clk.Now()
	s, err := e.run(t.Context(), cfg)
	if !errors.Is(err, ErrTimedOut) {
		t.Fatalf("first run: %v, want ErrTimedOut", err)
	}
	if !strings.Contains(err.Error(), "re-run with the same inputs") {
		t.Errorf("error %q does not say how to continue", err)
	}
	if waited := e.clk.Now().Sub(begin); waited > cfg.Timeout {
		t.Errorf("waited %s, more than the timeout %s", waited, cfg.Timeout)
	}
	first := s.SubmissionID
	if s.Outputs()["submission-id"] != first || s.Outputs()["submission-status"] == "" {
		t.Errorf("outputs on timeout: %v", s.Outputs())
	}
	// The summary leads with the timeout and what the next run does.
	if s.Outcome != OutcomeTimedOut || s.Ending == nil || s.Ending.Next != nextTimedOut {
		t.Errorf("outcome %q, ending %+v; want timed out, and what the next run does", s.Outcome, s.Ending)
	}
	golden(t, "timed-out.golden.md", s.SummaryMarkdown())

	// A re-run with the same inputs continues the same submission.
	s, err = e.run(t.Context(), cfg)
	if errors.Is(err, ErrTimedOut) {
		s, err = e.run(t.Context(), cfg) // certification is longer than one timeout
	}
	if err != nil {
		t.Fatalf("re-run: %v", err)
	}
	if s.SubmissionID != first || !s.Continued || s.Status != storeapi.StatusPublished {
		t.Errorf("re-run acted on %s (continued %v, status %s), want %s", s.SubmissionID, s.Continued, s.Status, first)
	}
	if n := e.calls("POST", "/submissions"); n != 1 {
		t.Errorf("%d creates, want 1", n)
	}
	if n := e.calls("POST", "/commit"); n != 1 {
		t.Errorf("%d commits, want 1", n)
	}
	if n := e.calls("PUT", first); n != 1 {
		t.Errorf("%d updates, want 1", n)
	}
}

func TestOnTimeoutPass(t *testing.T) {
	t.Parallel()
	e := newEnv(t, quickStages(), flightSeed(nil, nil))
	cfg := baseConfig()
	cfg.Packages = []config.Package{e.pkg("app.msix", "1.1.0.0")}
	cfg.WaitFor = config.WaitCertified
	cfg.Timeout = 4 * time.Minute
	cfg.OnTimeout = config.OnTimeoutPass
	s, err := e.run(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !s.TimedOut || len(e.rep.of("notice")) != 1 {
		t.Errorf("timed out %v, notices %v", s.TimedOut, e.rep.of("notice"))
	}
	// The job passes, and its summary still leads with the timeout.
	if md := s.SummaryMarkdown(); !strings.HasPrefix(md, "## storeflight: timed out\n\n**wait timed out**: submission "+s.SubmissionID+" is still PreProcessing") ||
		!strings.Contains(md, "on-timeout: pass lets the job pass") || !strings.Contains(md, "the next run continues the wait") {
		t.Errorf("summary does not lead with the timeout and what the next run does:\n%s", md)
	}
	if st := s.Outputs()["submission-status"]; st != "PreProcessing" {
		t.Errorf("submission-status %q, want PreProcessing", st)
	}
}

func TestRerunAfterLostCommit(t *testing.T) {
	t.Parallel()
	t.Run("lost response: the status shows the commit took effect", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, quickStages(), flightSeed(nil, nil))
		e.fake.Inject(storefake.Fault{Method: "POST", Path: "/commit", LoseResponse: true})
		cfg := baseConfig()
		cfg.Packages = []config.Package{e.pkg("app.msix", "1.1.0.0")}
		cfg.WaitFor = config.WaitCommitted
		s, err := e.run(t.Context(), cfg)
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		if got := e.sub(flightID, s.SubmissionID).Commits; got != 1 {
			t.Errorf("%d commits reached the Store, want 1", got)
		}
	})
	t.Run("a burst of unanswered commits is survived", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, quickStages(), flightSeed(nil, nil))
		e.fake.Inject(storefake.Fault{Method: "POST", Path: "/commit", Status: 500, Times: maxChangeAttempts - 1})
		cfg := baseConfig()
		cfg.Packages = []config.Package{e.pkg("app.msix", "1.1.0.0")}
		cfg.WaitFor = config.WaitCommitted
		s, err := e.run(t.Context(), cfg)
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		if got := e.sub(flightID, s.SubmissionID).Commits; got != 1 {
			t.Errorf("%d commits took effect, want 1", got)
		}
		if n := e.calls("POST", "/commit"); n != maxChangeAttempts {
			t.Errorf("%d commit requests, want %d", n, maxChangeAttempts)
		}
	})
	t.Run("commit keeps failing: a re-run continues", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, quickStages(), flightSeed(nil, nil))
		e.fake.Inject(storefake.Fault{Method: "POST", Path: "/commit", Status: 500, Times: maxChangeAttempts})
		cfg := baseConfig()
		cfg.Packages = []config.Package{e.pkg("app.msix", "1.1.0.0")}
		cfg.WaitFor = config.WaitCommitted
		s, err := e.run(t.Context(), cfg)
		if err == nil {
			t.Fatal("first run succeeded")
		}
		if !e.rep.contains("sending it again") || !strings.Contains(err.Error(), "attempts in a row") {
			t.Errorf("the first run did not re-send the commit after reading PendingCommit, or did not say it gave up (%v):\n%s", err, e.rep.text())
		}
		first := s.SubmissionID
		s, err = e.run(t.Context(), cfg)
		if err != nil {
			t.Fatalf("re-run: %v", err)
		}
		if s.SubmissionID != first || !s.Continued {
			t.Errorf("re-run acted on %s, continued %v; want %s", s.SubmissionID, s.Continued, first)
		}
		if n := e.calls("POST", "/submissions"); n != 1 {
			t.Errorf("%d creates, want 1", n)
		}
		if got := e.sub(flightID, first).Commits; got != 1 {
			t.Errorf("%d commits took effect, want 1", got)
		}
	})
	t.Run("lost create response", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, quickStages(), flightSeed(nil, nil))
		e.fake.Inject(storefake.Fault{Method: "POST", Path: "/submissions", LoseResponse: true})
		cfg := baseConfig()
		cfg.Packages = []config.Package{e.pkg("app.msix", "1.1.0.0")}
		s, err := e.run(t.Context(), cfg)
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		if f := e.flight(); f.PendingID != s.SubmissionID {
			t.Errorf("flight pending %s, run used %s", f.PendingID, s.SubmissionID)
		}
		if n := e.calls("POST", "/submissions"); n != 1 {
			t.Errorf("%d creates, want 1", n)
		}
	})
}

func TestRerunOfPublished(t *testing.T) {
	t.Parallel()
	e := newEnv(t, quickStages(), flightSeed(nil, nil))
	cfg := baseConfig()
	cfg.Packages = []config.Package{e.pkg("app.msix", "1.1.0.0")}
	cfg.RolloutPercentage = ptr(10.0)
	cfg.WaitFor = config.WaitPublished
	s, err := e.run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	first := s.SubmissionID
	// The same inputs again: the published submission is this pipeline's own.
	s, err = e.run(t.Context(), cfg)
	if err != nil {
		t.Fatalf("re-run: %v", err)
	}
	if s.SubmissionID != first || !s.Continued {
		t.Errorf("re-run acted on %s (continued %v), want %s", s.SubmissionID, s.Continued, first)
	}
	var api []string
	for _, c := range e.changes() {
		if strings.Contains(c, " /v1.0/") {
			api = append(api, c)
		}
	}
	if len(api) != 3 {
		t.Errorf("API changes %v, want only the first run's create, update and commit", api)
	}
}

func TestManualPublishMode(t *testing.T) {
	t.Parallel()
	e := newEnv(t, quickStages(), flightSeed(nil, nil))
	cfg := baseConfig()
	cfg.Packages = []config.Package{e.pkg("app.msix", "1.1.0.0")}
	cfg.TargetPublishMode = "Manual"
	cfg.WaitFor = config.WaitPublished
	s, err := e.run(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if s.Status != storeapi.StatusRelease {
		t.Errorf("status %s, want Release", s.Status)
	}
	if n := e.rep.of("notice"); len(n) != 1 || !strings.Contains(n[0].Msg, "Manual") {
		t.Errorf("notices %+v", n)
	}
	if got := e.sub(flightID, s.SubmissionID).TargetPublishMode; got != "Manual" {
		t.Errorf("publish mode %q", got)
	}
}

func TestAppSubmissionRollout(t *testing.T) {
	t.Parallel()
	seed := storefake.Seed{Apps: []storefake.SeedApp{{
		ID: appID, Name: "Contoso",
		Published: &storefake.SeedSubmission{ID: publishedID, Packages: []storefake.SeedPackage{{FileName: "app.msix", Version: "2.0.0.0"}},
			Rollout: &storefake.SeedRollout{Percentage: 20, Fallback: "1152921504606846900"}},
	}}}
	e := newEnv(t, quickStages(), seed)
	cfg := baseConfig()
	cfg.FlightName = ""
	cfg.RolloutPercentage = ptr(50.0)
	s, err := e.run(t.Context(), cfg)
	if err != nil {
		t.Fatalf("raise: %v", err)
	}
	if !s.AppSubmission || s.FlightID != "" {
		t.Errorf("app submission %v, flight %q", s.AppSubmission, s.FlightID)
	}
	if r := e.sub("", publishedID).Rollout; r.Percentage != 50 {
		t.Errorf("rollout %+v", r)
	}
	cfg.RolloutPercentage = nil
	cfg.FinalizeRollout = true
	if _, err := e.run(t.Context(), cfg); err != nil {
		t.Fatalf("finalize: %v", err)
	}
	if r := e.sub("", publishedID).Rollout; r.Status != "PackageRolloutComplete" {
		t.Errorf("rollout %+v", r)
	}
}

func TestDryRun(t *testing.T) {
	t.Parallel()
	pending := &storefake.SeedSubmission{ID: pendingID, Notes: "someone's draft",
		Packages: []storefake.SeedPackage{{FileName: "other.msix", FileStatus: "PendingUpload"}}}
	seed := flightSeed(&storefake.SeedRollout{Percentage: 30, Fallback: "1152921504606846900"}, pending)
	e := newEnv(t, quickStages(), seed)
	cfg := baseConfig()
	cfg.DryRun = true
	cfg.PendingSubmission = config.PendingReplace
	cfg.PreviousRollout = config.PreviousFinalize
	cfg.Packages = []config.Package{e.pkg("app.msix", "1.1.0.0")}
	cfg.RolloutPercentage = ptr(5.0)
	cfg.NotesForCertification = ptr("dry")
	cfg.WaitFor = config.WaitPublished
	cfg.FinalizeRollout = true
	s, err := e.run(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if c := e.changes(); len(c) != 0 {
		t.Errorf("a dry run changed things: %v", c)
	}
	if e.flight().PendingID != pendingID {
		t.Errorf("pending submission gone")
	}
	plan := strings.Join(s.Plan, "\n")
	for _, want := range []string{"delete pending submission " + pendingID, "finalize the rollout of last published submission " + publishedID,
		"create a new submission", "notesForCertification", "app.msix", "commit", "wait until"} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan lacks %q:\n%s", want, plan)
		}
	}
	golden(t, "dry-run.golden.md", s.SummaryMarkdown())
}

func TestGlobbedPackages(t *testing.T) {
	t.Parallel()
	e := newEnv(t, quickStages(), flightSeed(nil, nil))
	e.pkg("app.x64.msix", "1.1.0.0")
	e.pkg("app.arm64.msix", "1.1.0.0")
	cfg, err := config.Load([]string{"--simulate=true", "--application-id=" + appID, "--flight-name=" + flightName,
		"--packages=" + e.dir + "/**/*.msix", "--wait-for=committed"}, nil)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	s, err := e.run(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	got := e.sub(flightID, s.SubmissionID)
	var names []string
	for _, p := range got.Packages {
		if p.FileStatus != "PendingDelete" {
			names = append(names, p.FileName)
		}
	}
	slices.Sort(names)
	files := slices.Clone(got.UploadedFiles)
	slices.Sort(files)
	if diff := cmp.Diff([]string{"app.arm64.msix", "app.x64.msix"}, names); diff != "" {
		t.Errorf("package fileNames (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(names, files); diff != "" {
		t.Errorf("ZIP entries differ from fileNames (-names +entries):\n%s", diff)
	}
}

func TestFlightNameNotFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t, quickStages(), flightSeed(nil, nil))
	cfg := baseConfig()
	cfg.FlightName = "beta"
	cfg.FinalizeRollout = true
	_, err := e.run(t.Context(), cfg)
	if err == nil || !strings.Contains(err.Error(), `"Beta"`) || !strings.HasPrefix(err.Error(), "resolve: ") {
		t.Errorf("error %v, want resolve naming the close match", err)
	}
}

func TestCancelDuringWait(t *testing.T) {
	t.Parallel()
	e := newEnv(t, quickStages(), flightSeed(nil, nil))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	e.rep.onInfo = func(msg string) {
		if strings.HasPrefix(msg, "waiting until") {
			cancel()
		}
	}
	cfg := baseConfig()
	cfg.Packages = []config.Package{e.pkg("app.msix", "1.1.0.0")}
	cfg.WaitFor = config.WaitPublished
	s, err := e.run(ctx, cfg)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	// The caller logs the error: it gives the last state and how to continue.
	if !s.Interrupted || s.Outcome != OutcomeInterrupted || !strings.Contains(err.Error(), "re-run with the same inputs") || !strings.Contains(err.Error(), s.SubmissionID) {
		t.Errorf("interrupted %v, outcome %q; the error does not give the last state and how to continue:\n%s", s.Interrupted, s.Outcome, err)
	}
	// So does the summary, first.
	want := "## storeflight: interrupted\n\n**wait interrupted**: last known state: submission " + s.SubmissionID +
		", status CommitStarted\n\n- **Next**: re-run with the same inputs to continue\n\n"
	if got := s.SummaryMarkdown(); !strings.HasPrefix(got, want) {
		t.Errorf("summary starts\n%s\nwant\n%s", got[:min(len(got), len(want))], want)
	}
	if s.Outputs()["submission-id"] == "" {
		t.Errorf("no outputs on interruption")
	}
}

func TestSkipLines(t *testing.T) {
	t.Parallel()
	e := newEnv(t, quickStages(), publishedWithRollout(10, ""))
	cfg := baseConfig()
	cfg.RolloutPercentage = ptr(20.0)
	s, err := e.run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var skipped []string
	for _, ev := range e.rep.of("info") {
		if strings.HasPrefix(ev.Msg, "skipped") {
			skipped = append(skipped, ev.Msg)
		}
	}
	want := []string{"skipped: update, upload, commit (no update input); wait (wait-for: none); finalize (not asked for)"}
	if diff := cmp.Diff(want, skipped); diff != "" {
		t.Errorf("skip lines (-want +got):\n%s", diff)
	}
	// The record keeps each step for the summary.
	var recorded []string
	for _, r := range s.Steps {
		if r.Skipped != "" {
			recorded = append(recorded, r.Name)
		}
	}
	if diff := cmp.Diff([]string{"update", "upload", "commit", "wait", "finalize"}, recorded); diff != "" {
		t.Errorf("skipped steps recorded (-want +got):\n%s", diff)
	}
}

func TestPartnerCenterPending(t *testing.T) {
	t.Parallel()
	e := newEnv(t, quickStages(), flightSeed(nil, &storefake.SeedSubmission{ID: pendingID, NoUploadURL: true,
		Packages: []storefake.SeedPackage{{FileName: "other.msix", FileStatus: "PendingUpload"}}}))
	cfg := baseConfig()
	cfg.PendingSubmission = config.PendingReuse
	cfg.Packages = []config.Package{e.pkg("app.msix", "1.1.0.0")}
	_, err := e.run(t.Context(), cfg)
	if err == nil || !strings.Contains(err.Error(), "no upload URL") || !strings.Contains(err.Error(), "made in Partner Center") {
		t.Fatalf("error %v, want one about the missing upload URL", err)
	}
	if c := e.changes(); len(c) != 0 {
		t.Errorf("changes made: %v", c)
	}
}

func TestRerunOfFailedAttempt(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		policy      config.PendingPolicy
		wantFailed  bool
		wantCreates int
	}{
		{name: "reports the failure again", policy: config.PendingFail, wantFailed: true, wantCreates: 1},
		{name: "replace starts over", policy: config.PendingReplace, wantCreates: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, quickStages(), flightSeed(nil, nil))
			e.fake.ScriptFailure(storefake.Failure{At: "PreProcessingFailed", Errors: []storefake.Detail{{Code: "PackageValidationFailed", Details: "bad"}}})
			cfg := baseConfig()
			cfg.Packages = []config.Package{e.pkg("app.msix", "1.1.0.0")}
			cfg.WaitFor = config.WaitCertified
			cfg.PendingSubmission = tt.policy
			if _, err := e.run(t.Context(), cfg); err == nil {
				t.Fatal("first run succeeded")
			}
			_, err := e.run(t.Context(), cfg)
			var sf *SubmissionFailedError
			if got := errors.As(err, &sf); got != tt.wantFailed {
				t.Errorf("re-run error %v; want a failure: %v", err, tt.wantFailed)
			}
			if n := e.calls("POST", "/submissions"); n != tt.wantCreates {
				t.Errorf("%d creates, want %d", n, tt.wantCreates)
			}
		})
	}
}

func TestDryRunRollout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, quickStages(), publishedWithRollout(10, ""))
	cfg := baseConfig()
	cfg.DryRun = true
	cfg.RolloutPercentage = ptr(25.0)
	cfg.FinalizeRollout = true
	s, err := e.run(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if c := e.changes(); len(c) != 0 {
		t.Errorf("a dry run changed things: %v", c)
	}
	want := []string{
		`raise the rollout of submission ` + publishedID + ` from 10% to 25%`,
		`finalize the rollout of submission ` + publishedID + ` (now at 10%)`,
	}
	if diff := cmp.Diff(want, s.Plan); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	if s.Finalized || s.Outputs()["rollout-percentage"] != "10" {
		t.Errorf("a dry run reports a change: finalized %v, outputs %v", s.Finalized, s.Outputs())
	}
}

func TestUploadFailureKeepsSASSecret(t *testing.T) {
	t.Parallel()
	e := newEnv(t, quickStages(), flightSeed(nil, nil))
	e.fake.Inject(storefake.Fault{Host: "blob", Reset: true, Times: -1})
	e.upOpts.Retry = policy.RetryOptions{MaxRetries: 1, RetryDelay: time.Millisecond, MaxRetryDelay: time.Millisecond}
	cfg := baseConfig()
	cfg.Packages = []config.Package{e.pkg("app.msix", "1.1.0.0")}
	s, err := e.run(t.Context(), cfg)
	if err == nil || !strings.HasPrefix(err.Error(), "upload: ") {
		t.Fatalf("error %v, want an upload failure", err)
	}
	checkSASSecret(t, e.rep, s.sub.uploadURL(), map[string]string{"error": err.Error(), "log": e.rep.text(), "summary": s.SummaryMarkdown(), "outputs": s.Outputs()["result"]})
	if !slices.Contains(e.rep.masks, s.sub.uploadURL()) {
		t.Errorf("upload URL not masked: %q", e.rep.masks)
	}
	if n := e.calls("POST", "/commit"); n != 0 {
		t.Errorf("committed after a failed upload")
	}
}

func TestPollBackoff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		r         float64
		in        time.Duration
		grow, jit time.Duration
	}{
		{name: "low", r: 0, in: 30 * time.Second, grow: 45 * time.Second, jit: 24 * time.Second},
		{name: "high", r: 0.999999999, in: 30 * time.Second, grow: 60 * time.Second, jit: 36 * time.Second},
		{name: "capped", r: 0.5, in: 4 * time.Minute, grow: 5 * time.Minute, jit: 4 * time.Minute},
		{name: "jitter capped", r: 0.999999999, in: 5 * time.Minute, grow: 5 * time.Minute, jit: 5 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := &State{stepDeps: stepDeps{cfg: baseConfig(), rand: func() float64 { return tt.r }}}
			if got := s.grow(tt.in); got.Round(time.Second) != tt.grow {
				t.Errorf("grow(%s) = %s, want %s", tt.in, got, tt.grow)
			}
			if got := s.jitter(tt.in); got.Round(time.Second) != tt.jit {
				t.Errorf("jitter(%s) = %s, want %s", tt.in, got, tt.jit)
			}
		})
	}
}

// sasSignatureForms returns the signature of a SAS URL as the URL carries
// it, the signature itself (a '+' kept: a query decoder would make it a
// space, and a check against that would pass while the real one leaks),
// and its URL-escaped form.
func sasSignatureForms(t *testing.T, sas string) (raw, sig, escaped string) {
	t.Helper()
	_, q, _ := strings.Cut(sas, "?")
	for kv := range strings.SplitSeq(q, "&") {
		if v, ok := strings.CutPrefix(kv, "sig="); ok {
			raw = v
		}
	}
	sig, err := url.PathUnescape(raw)
	if raw == "" || err != nil || !strings.Contains(sig, "+") {
		t.Fatalf("no signature with a '+' in the upload URL (sig=%q, %v); the simulator puts one in each", raw, err)
	}
	return raw, sig, url.QueryEscape(sig)
}

// checkSASSecret checks that the upload URL's signature is masked and
// that none of its forms shows in texts.
func checkSASSecret(t *testing.T, rep *recorder, sas string, texts map[string]string) {
	t.Helper()
	raw, sig, escaped := sasSignatureForms(t, sas)
	if !slices.Contains(rep.masks, sig) || !slices.Contains(rep.masks, escaped) {
		t.Errorf("the signature is not masked as it is and URL-escaped (masks: %d values)", len(rep.masks))
	}
	for where, text := range texts {
		for _, form := range []string{raw, sig, escaped} {
			if strings.Contains(text, form) {
				t.Errorf("the SAS signature appears in the %s", where)
			}
		}
	}
}
