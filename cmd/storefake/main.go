// Command storefake runs the Store simulator (internal/storefake) as a
// process of its own, listening on loopback, so that a real run of the
// storeflight binary can be tested and measured against it. Uploaded blobs
// are kept on disk under -blob-dir.
//
// It also starts a fake Entra ID (internal/auth/authtest) whose access
// tokens the simulator accepts, and prints, one per line, the environment a
// storeflight run needs (sign-in by federated token, api-url,
// authority-host, extra-root-certs trusting the fakes' certificates, which
// works on every OS, the app, and the flight or, with -target app, the
// app's own submission), then runs until SIGINT or SIGTERM:
//
//	storefake -env-file /tmp/sf.env &
//	set -a; . /tmp/sf.env; set +a
//	storeflight --packages 'out/*.msix'
//
// The seed is the --simulate demo's app and flight: application
// 9NBLGGH4R315, flight "Beta testers" (7bfc11d0-5b6e-4f3a-9d1c-2a9e3c4b5d6e)
// whose last published submission has a finished rollout, or with
// -rolling, one still rolling out at 5%. The app's own published
// submission carries a product page shaped by the -app-* flags (listing
// languages, price, screenshots, trailers, an Xbox package), and the
// scripted-fault flags make it a Partner Center draft, an app whose
// features the API does not support, or a package dropped in
// pre-processing. The analytics endpoints serve data made from the
// simulated rollouts; -devices, -unreachable, -analytics-lag,
// -failure-rate, -version-failure-rate, -missing-day, -count-scale and
// -analytics-seed shape it:
//
//	storefake -version-failure-rate 2.0.0.0=0.012,0.002 -missing-day 2026-03-04
//
// storefake -help lists every flag by group.
package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/storeflight/storeflight/internal/auth/authtest"
	"github.com/storeflight/storeflight/internal/fakecert"
	"github.com/storeflight/storeflight/internal/storefake"
)

const (
	tenantID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	clientID = "8d3c1a52-3b7e-4e0b-9f51-6c2a1d4e5f60"
)

// errUsage is a bad command line, already reported: exit code 2.
var errUsage = errors.New("usage")

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil:
	case errors.Is(err, errUsage):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "storefake:", err)
		os.Exit(1)
	}
}

// optionalDuration is a duration flag that may be left unset.
type optionalDuration struct {
	d   time.Duration
	set bool
}

func (o *optionalDuration) String() string {
	if o == nil || !o.set {
		return ""
	}
	return o.d.String()
}

func (o *optionalDuration) Set(v string) error {
	d, err := time.ParseDuration(v)
	if err != nil {
		return err
	}
	if d < 0 {
		return errors.New("negative duration")
	}
	o.d, o.set = d, true
	return nil
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("storefake", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors and usage are written below
	listen := fs.String("listen", "127.0.0.1:0", "`address` of the Store API")
	blobListen := fs.String("blob-listen", "", "`address` of the blob endpoint (default: the API's listener)")
	useTLS := fs.Bool("tls", false, "serve HTTPS with a certificate for localhost, 127.0.0.1 and ::1 from a generated CA (trusted through extra-root-certs)")
	stage := fs.Duration("stage", 0, "how long every processing status lasts (default 0: each passes at the next read)")
	var cert optionalDuration
	fs.Var(&cert, "certification", "how long Certification lasts, a `duration` (default: the -stage value)")
	budget := fs.Int("budget", 20, "Store API requests allowed per minute, 0 for no limit")
	blobDir := fs.String("blob-dir", "", "`directory` where uploaded blobs are kept (default: a temporary one, removed at exit)")
	envFile := fs.String("env-file", "", "also write the environment lines to this `file`")
	var sf seedFlags
	sf.register(fs)
	analyticsFlags := addAnalyticsFlags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(stdout, fs)
			return nil
		}
		fmt.Fprintf(stderr, "storefake: %v\nRun storefake -help for the flags.\n", err)
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "storefake: unexpected argument %q: every setting is a flag\nRun storefake -help for the flags.\n", fs.Arg(0))
		return errUsage
	}
	if *stage < 0 {
		fmt.Fprintf(stderr, "storefake: -stage %v: want 0 or more\n", *stage)
		return errUsage
	}
	seed, err := sf.seed()
	if err != nil {
		fmt.Fprintf(stderr, "storefake: %v\n", err)
		return errUsage
	}
	analytics, err := analyticsFlags.options()
	if err != nil {
		fmt.Fprintf(stderr, "storefake: %v\n", err)
		return errUsage
	}
	stages := storefake.Stages{
		CommitStarted: *stage, PreProcessing: *stage, Certification: *stage,
		Release: *stage, PendingPublication: *stage, Publishing: *stage,
	}
	if cert.set {
		stages.Certification = cert.d
	}
	work, err := os.MkdirTemp("", "storefake-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	dir := *blobDir
	if dir == "" {
		dir = filepath.Join(work, "blobs")
	}

	sim, err := storefake.New(&storefake.Options{Stages: stages, RequestBudget: *budget, BlobDir: dir, Analytics: analytics})
	if err != nil {
		return err
	}
	defer sim.Close()
	if err := sim.Seed(seed); err != nil {
		return err
	}
	if sf.dropNext {
		sim.ScriptPackageDrop(storefake.PackageDrop{})
	}
	entra := authtest.Start(authtest.EntraOptions{OnIssue: sim.AcceptToken})
	defer entra.Close()

	certs := [][]byte{entra.CertPEM()}
	var tlsConfig *tls.Config
	if *useTLS {
		ca, err := fakecert.NewCA("storefake CA")
		if err != nil {
			return err
		}
		if tlsConfig, err = ca.ServerConfig(); err != nil {
			return err
		}
		certs = append(certs, ca.PEM())
	}
	apiURL, err := sim.Listen(*listen, *blobListen, tlsConfig)
	if err != nil {
		return err
	}
	caFile := filepath.Join(work, "ca.pem")
	tokenFile := filepath.Join(work, "federated-token")
	if err := os.WriteFile(caFile, joinPEM(certs), 0o644); err != nil {
		return err
	}
	// The assertion outlives any run: the fake re-issues access tokens
	// against it, as Entra does with a federated credential.
	idToken := entra.MintIDToken(authtest.DefaultAudience, authtest.DefaultSubject, 7*24*time.Hour)
	if err := os.WriteFile(tokenFile, []byte(idToken), 0o600); err != nil {
		return err
	}
	env := strings.Join([]string{
		"STOREFLIGHT_API_URL=" + apiURL,
		"STOREFLIGHT_AUTHORITY_HOST=" + entra.URL() + "/",
		"STOREFLIGHT_AUTH=federated-token-file",
		"AZURE_TENANT_ID=" + tenantID,
		"AZURE_CLIENT_ID=" + clientID,
		"AZURE_FEDERATED_TOKEN_FILE=" + tokenFile,
		"STOREFLIGHT_EXTRA_ROOT_CERTS=" + caFile,
		"STOREFLIGHT_APPLICATION_ID=" + seedAppID,
		sf.targetEnv(),
	}, "\n") + "\n"
	if *envFile != "" {
		if err := os.WriteFile(*envFile, []byte(env), 0o600); err != nil {
			return err
		}
	}
	fmt.Fprint(stdout, env)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	return nil
}

func joinPEM(certs [][]byte) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, c...)
		if len(c) > 0 && c[len(c)-1] != '\n' {
			out = append(out, '\n')
		}
	}
	return out
}
