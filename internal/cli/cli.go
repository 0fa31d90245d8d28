// Package cli wires one storeflight run: it reads the inputs, picks the CI
// reporter, signs in, builds the Store client (or the simulator), runs the
// pipeline, writes the outputs and the summary, and turns the outcome into
// the exit code of DESIGN.md. main.go only adds the process around it.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"unicode"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/storeflight/storeflight/internal/auth"
	"github.com/storeflight/storeflight/internal/ci"
	"github.com/storeflight/storeflight/internal/config"
	"github.com/storeflight/storeflight/internal/steps"
	"github.com/storeflight/storeflight/internal/storeapi"
	"github.com/storeflight/storeflight/internal/version"
)

// Exit codes (DESIGN.md, "Exit codes").
const (
	ExitOK          = 0
	ExitFailed      = 1
	ExitInvalid     = 2
	ExitTimedOut    = 3
	ExitHalted      = 4   // the health gate halted the rollout
	ExitInterrupted = 130 // SIGINT
	ExitTerminated  = 143 // SIGTERM
)

// SignalError is the cause of a context cancelled by SIGINT or SIGTERM.
type SignalError struct{ Signal os.Signal }

func (e *SignalError) Error() string { return "received " + e.Name() }

// Name is the signal's conventional name, as a runner's cancel log shows it.
func (e *SignalError) Name() string { return signalName(e.Signal) }

func signalName(sig os.Signal) string {
	switch sig {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return sig.String()
}

// SignalContext returns a context cancelled, with a *SignalError cause, at
// the first SIGINT or SIGTERM (the runner's cancel), so that the run stops
// sending and reports where it is. A second SIGINT (Ctrl-C again, on a run
// that is still shutting down) quits at once with 130, saying so on
// stderr. Signals go back to their default handling when stop is called.
func SignalContext(parent context.Context, stderr io.Writer) (ctx context.Context, stop func()) {
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	ctx, cancel := signalContext(parent, ch, func(sig os.Signal) {
		fmt.Fprintf(stderr, "storeflight: second %s: quitting now, without waiting for the run to stop; "+
			"a change in flight may have reached the Store: re-run with the same inputs to continue\n", signalName(sig))
		os.Exit(ExitInterrupted)
	})
	return ctx, func() {
		signal.Stop(ch)
		cancel()
	}
}

// signalContext cancels ctx at the first signal from ch and calls quit at
// a second SIGINT.
func signalContext(parent context.Context, ch <-chan os.Signal, quit func(os.Signal)) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-ch:
			cancel(&SignalError{Signal: s})
		case <-done:
			return
		}
		for {
			select {
			case s := <-ch:
				if s == os.Interrupt {
					quit(s)
					return
				}
			case <-done:
				return
			}
		}
	}()
	var once sync.Once
	return ctx, func() {
		once.Do(func() { close(done) })
		cancel(context.Canceled)
	}
}

// Run runs storeflight with the given arguments and environment and
// returns the process exit code.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	return run(ctx, args, getenv, stdout, stderr, seams{})
}

// seams holds what tests replace to reach fakes that a real run cannot
// be pointed at by inputs alone; the zero value is a production run.
type seams struct {
	// authTransport carries sign-in requests; nil means azcore's default,
	// which trusts only the system's CAs and so not a test's Entra fake.
	authTransport policy.Transporter
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, sm seams) int {
	cfg, inputErr := config.Load(args, getenv)
	switch {
	case cfg.ShowHelp:
		if err := config.Usage(stdout, "storeflight"); err != nil {
			return ExitFailed
		}
		return ExitOK
	case cfg.ShowVersion:
		fmt.Fprintln(stdout, "storeflight", version.String())
		return ExitOK
	case cfg.NoInputs:
		_ = config.ShortUsage(stderr, "storeflight")
		return ExitInvalid
	}
	rep := ci.Detect(getenv, stdout, ci.Options{Debug: cfg.Debug, OutputFile: cfg.OutputFile})
	var (
		cred    azcore.TokenCredential
		mode    auth.Mode
		clients trustingClients
	)
	if !cfg.Simulate {
		clients = newTrustingClients(cfg)
		if sm.authTransport != nil {
			clients.auth = sm.authTransport
		}
		// Sign-in is checked in the same round as every other input, so
		// that a user fixing their inputs meets no second list.
		var signInErr error
		cred, mode, signInErr = auth.NewCredential(cfg, &auth.Options{OnSecret: rep.Mask, Transport: clients.auth})
		inputErr = joinInputErrors(inputErr, signInErr)
	}
	if inputErr != nil {
		reportInputErrors(rep, inputErr)
		if err := rep.Summary(inputSummary(inputErr)); err != nil {
			rep.Warning("job summary", err.Error())
		}
		return closeReporter(rep, stderr, ExitInvalid)
	}
	rep.Infof("storeflight %s", version.String())

	var (
		st  *steps.State
		err error
	)
	if cfg.Simulate {
		st, err = simulate(ctx, cfg, rep)
	} else {
		st, err = runStore(ctx, cfg, rep, cred, mode, clients)
	}
	if st != nil {
		if rerr := st.Report(rep); rerr != nil && !errors.Is(rerr, ci.ErrOutputs) {
			rep.Warning("job summary", rerr.Error())
		}
	}
	return closeReporter(rep, stderr, finish(ctx, rep, err))
}

// closeReporter writes what the reporter keeps for the end (output-file,
// the dotenv file, the plain name=value lines) and returns the exit code:
// code, or 1 when the outputs could not be written, since the next job
// would run on missing values even though this run did its work.
func closeReporter(rep ci.Reporter, stderr io.Writer, code int) int {
	err := rep.Close()
	if err == nil {
		return code
	}
	if !errors.Is(err, ci.ErrOutputs) {
		fmt.Fprintln(stderr, "storeflight:", err)
		return code
	}
	rep.Error("outputs not written", err.Error()+"\nthe run's own result stands; later steps and jobs that read its outputs would get nothing")
	if code == ExitOK {
		return ExitFailed
	}
	return code
}

// joinInputErrors adds the sign-in problems to the other input problems,
// leaving out those about an input already reported (a tenant-id that is
// not a GUID is not also "required").
func joinInputErrors(inputs, signIn error) error {
	if signIn == nil {
		return inputs
	}
	named := map[string]bool{}
	var all []error
	if inputs != nil {
		all = flatten(inputs)
	}
	for _, e := range all {
		var ie *config.InputError
		if errors.As(e, &ie) {
			named[ie.Input] = true
		}
	}
	for _, e := range flatten(signIn) {
		var ie *config.InputError
		if errors.As(e, &ie) && named[ie.Input] {
			continue
		}
		all = append(all, e)
	}
	return errors.Join(all...)
}

// runStore runs the pipeline against the real Store (or api-url).
func runStore(ctx context.Context, cfg *config.Config, rep ci.Reporter, cred azcore.TokenCredential, mode auth.Mode, clients trustingClients) (*steps.State, error) {
	rep.Infof("sign-in: %s, tenant %s, client %s", mode, cfg.TenantID, cfg.ClientID)
	store, err := storeapi.New(cred, &storeapi.Options{
		BaseURL:       cfg.APIURL.String(),
		HTTPClient:    clients.store,
		RequestBudget: budget(cfg.RequestBudget),
		Logger:        debugLogger(rep),
		UserAgent:     "storeflight/" + version.String(),
	})
	if err != nil {
		return nil, err
	}
	return steps.Run(ctx, steps.Deps{Config: cfg, Store: store, Reporter: rep, UploadTransport: clients.upload})
}

// budget maps the request-budget input (0: no limit) onto the client's
// option (0: the default, negative: no limit).
func budget(perMinute int) int {
	if perMinute == 0 {
		return -1
	}
	return perMinute
}

// finish reports the outcome and maps it to an exit code.
func finish(ctx context.Context, rep ci.Reporter, err error) int {
	var (
		sig       *SignalError
		unhealthy *steps.UnhealthyError
	)
	switch {
	case errors.As(context.Cause(ctx), &sig):
		msg := "cancelled by " + sig.Name()
		if err != nil {
			msg += ": " + err.Error()
		}
		rep.Error("cancelled", msg)
		if sig.Signal == os.Interrupt {
			return ExitInterrupted
		}
		return ExitTerminated
	case err == nil:
		return ExitOK
	case errors.Is(err, config.ErrInvalidInput):
		reportInputErrors(rep, err)
		return ExitInvalid
	case errors.Is(err, steps.ErrTimedOut):
		rep.Error("timed out", err.Error())
		return ExitTimedOut
	case errors.As(err, &unhealthy):
		return unhealthyExit(rep, unhealthy)
	default:
		rep.Error("storeflight failed", err.Error())
		return ExitFailed
	}
}

// unhealthyExit reports the health gate's verdict on an unhealthy
// rollout: exit 4 when it halted it, 1 when on-unhealthy: fail left it.
func unhealthyExit(rep ci.Reporter, e *steps.UnhealthyError) int {
	if e.Halted {
		rep.Error("health gate: rollout halted", e.Error())
		return ExitHalted
	}
	rep.Error("health gate: unhealthy", e.Error())
	return ExitFailed
}

// reportInputErrors gives each input problem its own annotation, so that a
// run with three bad inputs shows three clear lines.
func reportInputErrors(rep ci.Reporter, err error) {
	var ie *config.InputError
	for _, e := range flatten(err) {
		if errors.As(e, &ie) {
			// The title names the input; the message need not repeat it.
			rep.Error("invalid input: "+ie.Input, clauseLines(ie.Problem))
			continue
		}
		rep.Error("invalid input", clauseLines(e.Error()))
	}
}

// inputSummary is the job summary of a run refused for its inputs: it
// leads with the outcome, as every summary does, and lists the problems.
func inputSummary(err error) string {
	var b strings.Builder
	b.WriteString("## storeflight: invalid inputs\n\nNothing was sent to the Store.\n\n")
	var ie *config.InputError
	for _, e := range flatten(err) {
		if errors.As(e, &ie) {
			fmt.Fprintf(&b, "- `%s`: %s\n", ie.Input, oneLine(ie.Problem))
			continue
		}
		fmt.Fprintf(&b, "- %s\n", oneLine(e.Error()))
	}
	b.WriteString("- **Next**: correct the inputs named above and run again; `storeflight --help` lists every input\n")
	return b.String()
}

// oneLine joins a problem's lines, for a Markdown list item.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// longLine is the longest line an input problem keeps on one line.
const longLine = 118

// clauseLines lays out a long problem as a headline and indented
// continuation lines, one per clause (after "; " or a sentence's end), so
// that a log shows it whole instead of one 450-character line.
func clauseLines(problem string) string {
	if len(problem) <= longLine || strings.Contains(problem, "\n") {
		return problem
	}
	var b strings.Builder
	for i, r := range problem {
		if r == ' ' && i > 0 && i+1 < len(problem) {
			if prev := problem[i-1]; prev == ';' || prev == '.' && unicode.IsUpper(rune(problem[i+1])) {
				b.WriteString("\n  ")
				continue
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}

// flatten returns the leaves of errors.Join trees.
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// debugLogger turns the client's per-request lines into reporter debug
// lines (RUNNER_DEBUG, SYSTEM_DEBUG, --debug).
func debugLogger(rep ci.Reporter) *slog.Logger {
	return slog.New(&reporterHandler{rep: rep})
}
