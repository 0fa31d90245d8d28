// Command storefake runs the Store simulator (internal/storefake) as a
// process of its own, listening on loopback, so that a real run of the
// storeflight binary can be tested and measured against it. Uploaded blobs
// are kept on disk under -blob-dir.
//
// It also starts a fake Entra ID (internal/auth/authtest) whose access
// tokens the simulator accepts, and prints, one per line, the environment a
// storeflight run needs (sign-in by federated token, api-url,
// authority-host, extra-root-certs trusting the fakes' certificates, which
// works on every OS), then runs until SIGINT or SIGTERM:
//
//	storefake -env-file /tmp/sf.env &
//	set -a; . /tmp/sf.env; set +a
//	storeflight --application-id 9NBLGGH4R315 --flight-name 'Beta testers' --packages 'out/*.msix'
//
// The seed is the --simulate demo's app and flight: application
// 9NBLGGH4R315, flight "Beta testers" (7bfc11d0-5b6e-4f3a-9d1c-2a9e3c4b5d6e)
// whose last published submission has a finished rollout, or with
// -rolling, one still rolling out at 5%.
package main

import (
	"crypto/tls"
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
	seedAppID       = "9NBLGGH4R315"
	seedFlightID    = "7bfc11d0-5b6e-4f3a-9d1c-2a9e3c4b5d6e"
	seedFlightName  = "Beta testers"
	seedPublishedID = "1152921504621243649"
	tenantID        = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	clientID        = "8d3c1a52-3b7e-4e0b-9f51-6c2a1d4e5f60"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "storefake:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("storefake", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:0", "address of the Store API")
	blobListen := fs.String("blob-listen", "", "address of the blob endpoint (default: the API's listener)")
	useTLS := fs.Bool("tls", false, "serve HTTPS with a certificate for localhost, 127.0.0.1 and ::1 from a generated CA (trusted through extra-root-certs)")
	stage := fs.Duration("stage", 0, "duration of every processing status (0: each passes at the next read)")
	cert := fs.Duration("certification", -1, "duration of Certification (default: -stage)")
	budget := fs.Int("budget", 20, "Store API requests allowed per minute (0: no limit)")
	blobDir := fs.String("blob-dir", "", "where uploaded blobs are kept (default: a temporary directory, removed at exit)")
	rolling := fs.Bool("rolling", false, "seed the published submission with a rollout in progress at 5%")
	envFile := fs.String("env-file", "", "also write the environment lines to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	stages := storefake.Stages{
		CommitStarted: *stage, PreProcessing: *stage, Certification: *stage,
		Release: *stage, PendingPublication: *stage, Publishing: *stage,
	}
	if *cert >= 0 {
		stages.Certification = *cert
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

	sim, err := storefake.New(&storefake.Options{Stages: stages, RequestBudget: *budget, BlobDir: dir})
	if err != nil {
		return err
	}
	defer sim.Close()
	if err := sim.Seed(seed(*rolling)); err != nil {
		return err
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
		"STOREFLIGHT_FLIGHT_NAME='" + seedFlightName + "'",
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

func seed(rolling bool) storefake.Seed {
	rollout := &storefake.SeedRollout{Percentage: 100, Status: "PackageRolloutComplete", Fallback: "0"}
	if rolling {
		rollout = &storefake.SeedRollout{Percentage: 5, Status: "PackageRolloutInProgress", Fallback: "1152921504621243600"}
	}
	return storefake.Seed{Apps: []storefake.SeedApp{{
		ID: seedAppID, Name: "Contoso Notes",
		Flights: []storefake.SeedFlight{{
			ID: seedFlightID, Name: seedFlightName, GroupIDs: []string{"1"},
			Published: &storefake.SeedSubmission{
				ID:                seedPublishedID,
				Status:            "Published",
				Packages:          []storefake.SeedPackage{{FileName: "ContosoNotes_1.0.0.0_x64.msix", Version: "1.0.0.0", FileStatus: "Uploaded"}},
				Rollout:           rollout,
				TargetPublishMode: "Immediate",
			},
		}},
	}}}
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
