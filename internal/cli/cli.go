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
	"syscall"

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
	ExitInterrupted = 130 // SIGINT
	ExitTerminated  = 143 // SIGTERM
)

// SignalError is the cause of a context cancelled by SIGINT or SIGTERM.
type SignalError struct{ Signal os.Signal }

func (e *SignalError) Error() string { return "received " + e.Name() }

// Name is the signal's conventional name, as a runner's cancel log shows it.
func (e *SignalError) Name() string {
	switch e.Signal {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return e.Signal.String()
}

// SignalContext returns a context cancelled, with a *SignalError cause, at
// the first SIGINT or SIGTERM (the runner's cancel). A second signal is left
// to the default handler only after stop is called.
func SignalContext(parent context.Context) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case s := <-ch:
			cancel(&SignalError{Signal: s})
		case <-ctx.Done():
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
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
	cfg, cfgErr := config.Load(args, getenv)
	if cfg != nil && cfg.ShowHelp {
		if err := config.Usage(stdout, "storeflight"); err != nil {
			return ExitFailed
		}
		return ExitOK
	}
	if cfg != nil && cfg.ShowVersion {
		fmt.Fprintln(stdout, "storeflight", version.String())
		return ExitOK
	}
	opts := ci.Options{}
	if cfg != nil {
		opts.Debug, opts.OutputFile = cfg.Debug, cfg.OutputFile
	}
	rep := ci.Detect(getenv, stdout, opts)
	defer func() {
		if err := rep.Close(); err != nil {
			fmt.Fprintln(stderr, "storeflight: writing outputs:", err)
		}
	}()
	if cfgErr != nil {
		reportInputErrors(rep, cfgErr)
		return ExitInvalid
	}
	rep.Infof("storeflight %s", version.String())

	var (
		st  *steps.State
		err error
	)
	if cfg.Simulate {
		st, err = simulate(ctx, cfg, rep)
	} else {
		st, err = runStore(ctx, cfg, rep, sm)
	}
	if st != nil {
		if rerr := st.Report(rep); rerr != nil {
			rep.Warning("outputs", rerr.Error())
		}
	}
	return finish(ctx, rep, err)
}

// runStore runs the pipeline against the real Store (or api-url).
func runStore(ctx context.Context, cfg *config.Config, rep ci.Reporter, sm seams) (*steps.State, error) {
	clients := newTrustingClients(cfg)
	if sm.authTransport != nil {
		clients.auth = sm.authTransport
	}
	cred, mode, err := auth.NewCredential(cfg, &auth.Options{OnSecret: rep.Mask, Transport: clients.auth})
	if err != nil {
		return nil, err
	}
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
	var sig *SignalError
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
	default:
		rep.Error("storeflight failed", err.Error())
		return ExitFailed
	}
}

// reportInputErrors gives each input problem its own annotation, so that a
// run with three bad inputs shows three clear lines.
func reportInputErrors(rep ci.Reporter, err error) {
	var ie *config.InputError
	for _, e := range flatten(err) {
		if errors.As(e, &ie) {
			// The title names the input; the message need not repeat it.
			rep.Error("invalid input: "+ie.Input, ie.Problem)
			continue
		}
		rep.Error("invalid input", e.Error())
	}
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
