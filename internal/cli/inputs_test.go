package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/storeflight/storeflight/internal/ci"
	"github.com/storeflight/storeflight/internal/ci/citest"
	"github.com/storeflight/storeflight/internal/config"
	"github.com/storeflight/storeflight/internal/steps"
	"github.com/storeflight/storeflight/internal/storeapi"
)

// refuseRequests returns a Store API URL and an Entra authority URL whose
// servers fail the test on any request, and a counter of requests.
func refuseRequests(t *testing.T) (apiURL, authorityURL string, hits *atomic.Int64) {
	t.Helper()
	hits = new(atomic.Int64)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		t.Errorf("request made despite invalid inputs: %s %s", r.Method, r.URL)
		http.Error(w, "no", http.StatusTeapot)
	})
	api := httptest.NewServer(h)
	t.Cleanup(api.Close)
	entra := httptest.NewTLSServer(h)
	t.Cleanup(entra.Close)
	return api.URL, entra.URL + "/", hits
}

func TestRunBadInputs(t *testing.T) {
	t.Parallel()
	const (
		tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
		client = "11111111-2222-3333-4444-555555555555"
	)
	tests := []struct {
		name     string
		simulate bool
		args     []string
		env      map[string]string
		drop     []string // base inputs to leave out
		want     []string // inputs named in error annotations, in order
	}{
		{name: "tenant-id not a GUID", args: []string{"--tenant-id=contoso"}, want: []string{"tenant-id"}},
		{name: "percentage above 100", args: []string{"--rollout-percentage=150"}, want: []string{"rollout-percentage"}},
		{name: "percentage with a comma", args: []string{"--rollout-percentage=12,5"}, want: []string{"rollout-percentage"}},
		{name: "wait-for unknown", args: []string{"--wait-for=forever"}, want: []string{"wait-for"}},
		{name: "negative timeout", args: []string{"--timeout=-1m"}, want: []string{"timeout"}},
		{name: "halt with finalize", args: []string{"--halt-rollout", "--finalize-rollout"}, want: []string{"halt-rollout"}},
		{name: "flight-id with flight-name", args: []string{"--flight-id=7bfc11d0-5b6e-4f3a-9d1c-2a9e3c4b5d6e", "--flight-name=Beta"}, want: []string{"flight-id"}},
		{name: "update without a flight", args: []string{"--update"}, drop: []string{"target"}, want: []string{"target"}},
		{name: "empty flight-name", args: []string{"--halt-rollout"}, env: map[string]string{"STOREFLIGHT_FLIGHT_NAME": ""}, drop: []string{"target"}, want: []string{"target"}},
		{name: "package not found", args: []string{"--flight-name=Beta", "--packages=does-not-exist/*.msix"}, want: []string{"packages"}},
		{name: "unknown flag", args: []string{"--colour=blue"}, want: []string{"colour"}},
		{name: "lower-case application-id", args: []string{"--application-id=9nblggh4r315"}, drop: []string{"application-id"}, want: []string{"application-id"}},
		{name: "application-id missing", drop: []string{"application-id"}, want: []string{"application-id"}},
		{name: "SpecificDate without a date", args: []string{"--flight-name=Beta", "--target-publish-mode=SpecificDate"}, want: []string{"target-publish-date"}},
		{name: "bad value from INPUT_ variable", env: map[string]string{"INPUT_ROLLOUT-PERCENTAGE": "ten"}, want: []string{"rollout-percentage"}},
		{name: "bad value from STOREFLIGHT_ variable", env: map[string]string{"STOREFLIGHT_WAIT_FOR": "soon"}, want: []string{"wait-for"}},
		{name: "three problems at once", args: []string{"--rollout-percentage=-1", "--wait-for=x", "--commit=maybe"},
			want: []string{"commit", "rollout-percentage", "wait-for"}},
		// Found by the sign-in setup, after the inputs were read.
		{name: "tenant-id missing", drop: []string{"tenant-id"}, want: []string{"tenant-id"}},
		{name: "client-secret mode without a secret", args: []string{"--auth=client-secret"}, drop: []string{"client-secret"}, want: []string{"client-secret"}},
		{name: "github-oidc without the token variables", args: []string{"--auth=github-oidc"}, drop: []string{"client-secret"}, want: []string{"auth"}},
		{name: "simulate with api-url", simulate: true, args: []string{"--api-url=http://127.0.0.1:1"}, want: []string{"api-url"}},
		{name: "simulate with a bad percentage", simulate: true, args: []string{"--rollout-percentage=101"}, want: []string{"rollout-percentage"}},
		{name: "simulate with a bad application-id", simulate: true, args: []string{"--application-id=APP"}, want: []string{"application-id"}},
		{name: "simulate not a boolean", simulate: true, env: map[string]string{"STOREFLIGHT_SIMULATE": "yes"},
			// Not simulating, so a real run's inputs are missing too, sign-in
			// included, all in one round.
			want: []string{"application-id", "auth", "client-id", "simulate", "target", "tenant-id"}},
		{name: "sign-in and other inputs in one round", args: []string{"--wait-for=soon", "--auth=github-oidc"},
			drop: []string{"client-id", "client-secret"}, want: []string{"auth", "client-id", "wait-for"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newRunEnv(t, tt.env).github()
			var args []string
			if tt.simulate {
				if tt.env["STOREFLIGHT_SIMULATE"] == "" {
					args = append(args, "--simulate")
				}
			} else {
				apiURL, authority, hits := refuseRequests(t)
				t.Cleanup(func() {
					if n := hits.Load(); n != 0 {
						t.Errorf("%d request(s) sent", n)
					}
				})
				base := map[string]string{"tenant-id": tenant, "client-id": client, "client-secret": "s3cret-value",
					"application-id": "9NBLGGH4R315", "api-url": apiURL, "authority-host": authority, "target": "app"}
				if slices.ContainsFunc(tt.args, func(a string) bool { return strings.HasPrefix(a, "--flight-") }) {
					tt.drop = append(tt.drop, "target")
				}
				for _, k := range []string{"tenant-id", "client-id", "client-secret", "application-id", "api-url", "authority-host", "target"} {
					if !slices.Contains(tt.drop, k) {
						args = append(args, "--"+k+"="+base[k])
					}
				}
			}
			args = append(args, tt.args...)
			if code := e.run(t, args...); code != ExitInvalid {
				t.Errorf("exit code %d, want %d", code, ExitInvalid)
			}
			var named []string
			for _, l := range logLines(e.stdout.String(), "::error title=invalid input%3A ") {
				name, _, _ := strings.Cut(strings.TrimPrefix(l, "::error title=invalid input%3A "), "::")
				named = append(named, name)
			}
			slices.Sort(named)
			if diff := cmp.Diff(tt.want, named); diff != "" {
				t.Errorf("inputs named in ::error annotations (-want +got):\n%s", diff)
			}
			if data, err := os.ReadFile(e.path("github_output")); err == nil && len(data) > 0 {
				t.Errorf("outputs written for a run that never started:\n%s", data)
			}
			// The runner consumes ::add-mask:: lines, which must carry it.
			for line := range strings.Lines(e.stdout.String()) {
				if strings.Contains(line, "s3cret-value") && !strings.HasPrefix(line, "::add-mask::") {
					t.Errorf("the client secret is in the log: %q", line)
				}
			}
		})
	}
}

// actionInputs reads the input names and defaults of action.yml with a
// line-based reader: the file's layout (two-space input keys under
// inputs:, four-space properties) is regular, and the module has no YAML
// parser of its own to lean on.
func actionInputs(t *testing.T, section string) (names []string, defaults map[string]string) {
	t.Helper()
	f, err := os.Open("../../action.yml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	keyRE := regexp.MustCompile(`^  ([a-z][a-z0-9-]*):\s*$`)
	defRE := regexp.MustCompile(`^    default:\s*(.*?)\s*$`)
	defaults = map[string]string{}
	in, cur := false, ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == section+":":
			in = true
			continue
		case line != "" && !strings.HasPrefix(line, " ") && !strings.HasPrefix(line, "#"):
			in = false
		}
		if !in {
			continue
		}
		if m := keyRE.FindStringSubmatch(line); m != nil {
			cur = m[1]
			names = append(names, cur)
		} else if m := defRE.FindStringSubmatch(line); m != nil && cur != "" {
			v := m[1]
			if len(v) >= 2 && (v[0] == '\'' || v[0] == '"') && v[len(v)-1] == v[0] {
				v = v[1 : len(v)-1]
			}
			defaults[cur] = v
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Fatalf("no %s found in action.yml", section)
	}
	return names, defaults
}

// actionOnly are action.yml inputs the binary does not take: version picks
// the release the composite action downloads, before the binary runs.
var actionOnly = []string{"version"}

func TestHelpMatchesActionYML(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	if code := Run(t.Context(), []string{"--help"}, func(string) string { return "" }, &stdout, &stderr); code != ExitOK {
		t.Fatalf("--help exit code %d, want 0", code)
	}
	help := stdout.String()
	// Each input is a "  --name=VALUE" or "  --name[=true|false]" line
	// followed by its description, wrapped on lines indented further.
	flagRE := regexp.MustCompile(`(?m)^  --([a-z][a-z0-9-]*)(?:=VALUE|\[=true\|false\])\n((?:      .*\n)+)`)
	var inHelp []string
	described := map[string]string{}
	for _, m := range flagRE.FindAllStringSubmatch(help, -1) {
		inHelp = append(inHelp, m[1])
		described[m[1]] = strings.Join(strings.Fields(m[2]), " ")
	}
	names, actionDefaults := actionInputs(t, "inputs")
	var declared []string
	for _, n := range names {
		if !slices.Contains(actionOnly, n) {
			declared = append(declared, n)
		}
	}
	slices.Sort(inHelp)
	slices.Sort(declared)
	if diff := cmp.Diff(declared, inHelp); diff != "" {
		t.Errorf("inputs in action.yml (-) and in --help (+) differ:\n%s", diff)
	}
	for _, in := range config.Inputs {
		if in.Default != "" && !strings.Contains(described[in.Name], "(default "+in.Default+")") {
			t.Errorf("--help does not show the default of %s, %q, in %q", in.Name, in.Default, described[in.Name])
		}
		// action.yml may leave a default empty (the binary's applies), but
		// a default it does give must be the binary's.
		if d := actionDefaults[in.Name]; d != "" && d != in.Default {
			t.Errorf("action.yml default of %s is %q, the binary's %q", in.Name, d, in.Default)
		}
	}
	if stderr.Len() != 0 {
		t.Errorf("--help wrote to stderr: %q", stderr.String())
	}
}

func TestActionOutputsMatchRun(t *testing.T) {
	t.Parallel()
	names, _ := actionInputs(t, "outputs")
	got := slices.Clone(names)
	want := slices.Clone(outputNames)
	slices.Sort(got)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("outputs declared in action.yml (+) and written by a run (-) differ:\n%s", diff)
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	e := newRunEnv(t, nil).github()
	if code := e.run(t, "--version"); code != ExitOK {
		t.Fatalf("exit code %d, want 0", code)
	}
	if !regexp.MustCompile(`^storeflight \S+\n$`).MatchString(e.stdout.String()) {
		t.Errorf("--version printed %q, want \"storeflight VERSION\\n\"", e.stdout.String())
	}
	// --version wins over bad inputs: it is asked for, not a run.
	e = newRunEnv(t, map[string]string{"STOREFLIGHT_WAIT_FOR": "bad"})
	if code := e.run(t, "--version", "--rollout-percentage=500"); code != ExitOK {
		t.Errorf("--version with bad inputs: exit code %d, want 0", code)
	}
}

func TestFinishExitCodes(t *testing.T) {
	t.Parallel()
	signalled := func(sig os.Signal) context.Context {
		ctx, cancel := context.WithCancelCause(context.Background())
		cancel(&SignalError{Signal: sig})
		return ctx
	}
	plainCancelled, cancel := context.WithCancel(context.Background())
	cancel()
	failed := &steps.SubmissionFailedError{SubmissionID: "1152921504621243656", Status: storeapi.StatusCertificationFailed,
		Errors: []storeapi.StatusDetail{{Code: "InvalidPackage", Details: "the package is bad"}}}
	tests := []struct {
		name    string
		ctx     context.Context
		err     error
		want    int
		wantLog []string
	}{
		{"success", context.Background(), nil, ExitOK, nil},
		{"invalid input", context.Background(),
			// As auth.NewCredential returns its problems: joined, one
			// annotation each (a ':' in a title is escaped as %3A).
			errors.Join(&config.InputError{Input: "tenant-id", Problem: "required"}, &config.InputError{Input: "client-id", Problem: "required"}),
			ExitInvalid, []string{"::error title=invalid input%3A tenant-id::", "::error title=invalid input%3A client-id::"}},
		{"timed out", context.Background(), fmt.Errorf("wait: %w", steps.ErrTimedOut), ExitTimedOut, []string{"::error title=timed out::"}},
		{"submission failed", context.Background(), fmt.Errorf("wait: %w", failed), ExitFailed, []string{"::error title=storeflight failed::"}},
		{"store refused", context.Background(), errors.New("update: 409 InvalidState"), ExitFailed, []string{"::error title=storeflight failed::update: 409 InvalidState"}},
		{"health gate halted", context.Background(), fmt.Errorf("rollout: %w", &steps.UnhealthyError{Target: "submission 1 of flight Beta", Percentage: 5, Halted: true}),
			ExitHalted, []string{"::error title=health gate%3A rollout halted::the health gate halted the rollout of submission 1 of flight Beta at 5%25"}},
		{"health gate unhealthy, nothing changed", context.Background(), fmt.Errorf("rollout: %w", &steps.UnhealthyError{Target: "submission 1 of flight Beta", Percentage: 5}),
			ExitFailed, []string{"::error title=health gate%3A unhealthy::the health gate found the new packages of submission 1 of flight Beta unhealthy at 5%25"}},
		{"SIGTERM", signalled(syscall.SIGTERM), context.Canceled, ExitTerminated, []string{"::error title=cancelled::cancelled by SIGTERM"}},
		{"SIGINT", signalled(os.Interrupt), context.Canceled, ExitInterrupted, []string{"::error title=cancelled::cancelled by SIGINT"}},
		{"SIGTERM after a timeout error", signalled(syscall.SIGTERM), steps.ErrTimedOut, ExitTerminated, []string{"::error title=cancelled::"}},
		{"SIGINT with a wrapped signal cause", signalled(syscall.SIGINT), nil, ExitInterrupted, []string{"::error title=cancelled::"}},
		{"cancelled without a signal", plainCancelled, context.Canceled, ExitFailed, []string{"::error title=storeflight failed::"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var log bytes.Buffer
			rep := ci.Detect(func(k string) string { return map[string]string{"GITHUB_ACTIONS": "true"}[k] }, &log, ci.Options{})
			if got := finish(tt.ctx, rep, tt.err); got != tt.want {
				t.Errorf("finish = %d, want %d", got, tt.want)
			}
			for _, w := range tt.wantLog {
				if !strings.Contains(log.String(), w) {
					t.Errorf("log lacks %q:\n%s", w, log.String())
				}
			}
			if tt.want == ExitOK && strings.Contains(log.String(), "::error") {
				t.Errorf("error annotation on success:\n%s", log.String())
			}
		})
	}
}

// A failure reached through Run: a rehearsal that asks to update the
// published submission it names is refused by the pipeline (exit 1),
// reported as an error annotation, with the outputs of the state reached.
func TestRunRehearsalFailure(t *testing.T) {
	t.Parallel()
	e := newRunEnv(t, nil).github()
	code := e.run(t, "--simulate", "--application-id=9NBLGGH4R315", "--flight-name=Beta testers", "--submission-id="+demoPublishedID, "--notes-for-certification=x")
	if code != ExitFailed {
		t.Fatalf("exit code %d, want %d", code, ExitFailed)
	}
	errs := logLines(e.stdout.String(), "::error title=")
	if len(errs) != 1 || !strings.Contains(errs[0], "only a PendingCommit submission can be updated") {
		t.Errorf("error annotations = %q, want one saying only a PendingCommit submission can be updated", errs)
	}
	outs, _, err := citest.ParseGitHubFile(readFile(t, e.path("github_output")))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"submission-id": demoPublishedID, "submission-status": "Published", "finalized": "false"}
	for k, v := range want {
		if outs[k] != v {
			t.Errorf("output %s = %q, want %q (outputs are written on failure too)", k, outs[k], v)
		}
	}
	checkResult(t, outs, map[string]string{"application-id": "9NBLGGH4R315"})
	if !strings.Contains(readFile(t, e.path("step_summary")), "| Status | Published |") {
		t.Errorf("summary on failure lacks the submission's status")
	}
}
