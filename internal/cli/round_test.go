package cli

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
)

// TestNoArguments: a first try with no input at all gets a short usage
// pointing to --help and --simulate, not a list of missing inputs.
func TestNoArguments(t *testing.T) {
	t.Parallel()
	// A developer's shell may carry Azure variables; they are no input.
	e := newRunEnv(t, map[string]string{"AZURE_TENANT_ID": "72f988bf-86f1-41af-91ab-2d7cd011db47", "HOME": "/home/dev"})
	if code := e.run(t); code != ExitInvalid {
		t.Errorf("exit code %d, want %d", code, ExitInvalid)
	}
	for _, want := range []string{"--help", "--simulate"} {
		if !strings.Contains(e.stderr.String(), want) {
			t.Errorf("the usage does not point to %s:\n%s", want, e.stderr.String())
		}
	}
	if n := strings.Count(e.stderr.String(), "\n"); n > 5 {
		t.Errorf("the usage is %d lines, want a short one", n)
	}
	if e.stdout.Len() != 0 || strings.Contains(e.stderr.String(), "application-id") {
		t.Errorf("a run with no input reported input problems:\nstdout %q\nstderr %q", e.stdout.String(), e.stderr.String())
	}
}

func TestClauseLines(t *testing.T) {
	t.Parallel()
	short := "cannot be combined with rollout-percentage: a halted rollout cannot be raised; drop one of them"
	if got := clauseLines(short); got != short {
		t.Errorf("a short problem was laid out: %q", got)
	}
	long := "found no way to sign in to Entra ID. On GitHub Actions, give the job `permissions: id-token: write`; " +
		"on Azure Pipelines, set service-connection-id and map SYSTEM_ACCESSTOKEN into the step; elsewhere, set client-secret (v1.2. not a break)"
	want := "found no way to sign in to Entra ID.\n  On GitHub Actions, give the job `permissions: id-token: write`;\n" +
		"  on Azure Pipelines, set service-connection-id and map SYSTEM_ACCESSTOKEN into the step;\n  elsewhere, set client-secret (v1.2. not a break)"
	if got := clauseLines(long); got != want {
		t.Errorf("clauseLines =\n%s\nwant\n%s", got, want)
	}
}

// TestOutputsNotWritten is issue 15's item 5: a run that did its work but
// could not write its outputs exits 1 with an error saying so, because the
// next job would run on missing values.
func TestOutputsNotWritten(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(e *runEnv) []string // returns extra arguments
		says  string
	}{
		{"output-file in a missing folder", func(e *runEnv) []string {
			e.github()
			return []string{"--output-file=" + e.path("no-such-dir/outputs.json")}
		}, "no-such-dir"},
		{"GITHUB_OUTPUT unwritable", func(e *runEnv) []string {
			e.github()
			e.vars["GITHUB_OUTPUT"] = e.dir // a folder, not a file
			return nil
		}, "set output"},
		{"GitLab dotenv in a missing folder", func(e *runEnv) []string {
			e.vars["GITLAB_CI"] = "true"
			return []string{"--output-file=" + e.path("gone/storeflight.env")}
		}, "gone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newRunEnv(t, nil)
			args := append([]string{"--simulate"}, tt.setup(e)...)
			if code := e.run(t, args...); code != ExitFailed {
				t.Errorf("exit code %d, want %d", code, ExitFailed)
			}
			out := e.stdout.String()
			if !strings.Contains(out, "outputs not written") || !strings.Contains(out, tt.says) {
				t.Errorf("the log does not say the outputs were not written (%q):\n%s", tt.says, out)
			}
			// The run itself went through: the demo finalized its rollout.
			if !strings.Contains(out, "finaliz") {
				t.Errorf("the demo did not run to its end:\n%s", out)
			}
		})
	}

	// A run that failed for its own reason keeps its exit code.
	e := newRunEnv(t, nil).github()
	dir := filepath.Join(e.dir, "missing")
	if code := e.run(t, "--simulate", "--rollout-percentage=500", "--output-file="+dir+"/o.json"); code != ExitInvalid {
		t.Errorf("invalid inputs and unwritable outputs: exit code %d, want %d", code, ExitInvalid)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Error("the missing folder was created")
	}
}

// TestSecondInterruptQuits: the first signal cancels the run; a second
// SIGINT quits at once, whatever the first was; a second SIGTERM does not.
func TestSecondInterruptQuits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		signals  []os.Signal
		wantQuit bool
	}{
		{"one SIGINT", []os.Signal{os.Interrupt}, false},
		{"two SIGINTs", []os.Signal{os.Interrupt, os.Interrupt}, true},
		{"SIGTERM then SIGINT", []os.Signal{syscall.SIGTERM, os.Interrupt}, true},
		{"two SIGTERMs", []os.Signal{syscall.SIGTERM, syscall.SIGTERM}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				ch := make(chan os.Signal, len(tt.signals))
				var quit []os.Signal
				ctx, stop := signalContext(t.Context(), ch, func(s os.Signal) { quit = append(quit, s) })
				defer stop()
				for _, s := range tt.signals {
					ch <- s
				}
				synctest.Wait()
				var se *SignalError
				if !errors.As(context.Cause(ctx), &se) || se.Signal != tt.signals[0] {
					t.Errorf("cause %v, want the first signal", context.Cause(ctx))
				}
				if got := len(quit) > 0; got != tt.wantQuit {
					t.Errorf("quit called: %v, want %v", got, tt.wantQuit)
				}
			})
		})
	}
}

func TestSignalContextStop(t *testing.T) {
	t.Parallel()
	ctx, stop := SignalContext(t.Context(), io.Discard)
	stop()
	stop() // twice is harmless
	if ctx.Err() == nil {
		t.Error("the context is still live after stop")
	}
}

// TestInvalidInputsSummary: a run refused for its inputs still writes a job
// summary that leads with the outcome and names every problem.
func TestInvalidInputsSummary(t *testing.T) {
	t.Parallel()
	e := newRunEnv(t, nil).github()
	if code := e.run(t, "--application-id=9NBLGGH4R315", "--flight-name=Beta", "--rollout-percentage=500", "--wait-for=soon"); code != ExitInvalid {
		t.Fatalf("exit code %d, want %d", code, ExitInvalid)
	}
	sum := readFile(t, e.path("step_summary"))
	if !strings.HasPrefix(sum, "## storeflight: invalid inputs\n") {
		t.Errorf("the summary does not lead with the outcome:\n%s", sum)
	}
	for _, want := range []string{"- `rollout-percentage`: ", "- `wait-for`: ", "Nothing was sent to the Store", "**Next**"} {
		if !strings.Contains(sum, want) {
			t.Errorf("the summary lacks %q:\n%s", want, sum)
		}
	}
}
