package config

import (
	"crypto/x509"
	"errors"
	"net/url"
	"time"
)

// AuthMode selects how storeflight signs in to Entra ID.
type AuthMode string

// The sign-in modes of the auth input.
const (
	AuthAuto               AuthMode = "auto"
	AuthGitHubOIDC         AuthMode = "github-oidc"
	AuthFederatedTokenFile AuthMode = "federated-token-file"
	AuthAzurePipelines     AuthMode = "azure-pipelines"
	AuthClientSecret       AuthMode = "client-secret"
)

// PendingPolicy says what to do with a flight's pending submission that is
// not this pipeline's own earlier run.
type PendingPolicy string

// The values of pending-submission.
const (
	PendingFail    PendingPolicy = "fail"
	PendingReuse   PendingPolicy = "reuse"
	PendingReplace PendingPolicy = "replace"
)

// PreviousRolloutPolicy says what to do with a rollout still in progress on
// the last published submission before a new submission is created.
type PreviousRolloutPolicy string

// The values of previous-rollout.
const (
	PreviousFail     PreviousRolloutPolicy = "fail"
	PreviousFinalize PreviousRolloutPolicy = "finalize"
	PreviousHalt     PreviousRolloutPolicy = "halt"
)

// PackageMode says whether new packages replace the existing ones.
type PackageMode string

// The values of package-mode.
const (
	PackageReplace PackageMode = "replace"
	PackageAdd     PackageMode = "add"
)

// WaitFor is how far the wait step follows the submission.
type WaitFor string

// The values of wait-for, in order.
const (
	WaitNone      WaitFor = "none"
	WaitCommitted WaitFor = "committed"
	WaitCertified WaitFor = "certified"
	WaitPublished WaitFor = "published"
)

// OnTimeout says how a wait that runs out of time ends.
type OnTimeout string

// The values of on-timeout.
const (
	OnTimeoutFail OnTimeout = "fail"
	OnTimeoutPass OnTimeout = "pass"
)

// Secret holds a credential. Its String and Format never show the value, so
// a Config can be printed or logged without leaking it.
type Secret string

// String returns a redaction marker, never the value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// Reveal returns the secret's value, for the one place that must send it.
func (s Secret) Reveal() string { return string(s) }

// Package is one package file named by the packages input, after glob
// expansion.
type Package struct {
	Path    string // path on disk, as found
	ZIPName string // entry name in the uploaded ZIP: the file's base name
}

// GitHubOIDC holds the variables a GitHub runner sets with
// permissions: id-token: write.
type GitHubOIDC struct {
	RequestURL   string
	RequestToken Secret
}

// AzurePipelines holds what the Azure Pipelines credential needs from the
// job's environment.
type AzurePipelines struct {
	SystemAccessToken Secret // $SYSTEM_ACCESSTOKEN, mapped into the step by the pipeline
	OIDCRequestURI    string // $SYSTEM_OIDCREQUESTURI
}

// Config is every input of a run, parsed and checked. Optional inputs that
// must tell "unset" from a zero value are pointers.
type Config struct {
	// Sign-in.
	TenantID            string
	ClientID            string
	Auth                AuthMode
	ClientSecret        Secret
	OIDCAudience        string
	FederatedTokenFile  string
	FederatedToken      Secret // $AZURE_FEDERATED_TOKEN when no file is named
	ServiceConnectionID string
	GitHub              GitHubOIDC
	AzurePipelines      AzurePipelines
	AuthorityHost       *url.URL

	// What to act on.
	ApplicationID     string
	FlightID          string
	FlightName        string
	SubmissionID      string
	PendingSubmission PendingPolicy
	PreviousRollout   PreviousRolloutPolicy

	// The update.
	Update                       bool
	Packages                     []Package
	PackageMode                  PackageMode
	MandatoryUpdate              *bool
	MandatoryUpdateEffectiveDate *time.Time
	TargetPublishMode            string // "", Immediate, Manual or SpecificDate
	TargetPublishDate            *time.Time
	NotesForCertification        *string
	Commit                       bool

	// Rollout.
	RolloutPercentage *float64
	HaltRollout       bool
	FinalizeRollout   bool

	// Waiting.
	WaitFor         WaitFor
	PollInterval    time.Duration
	MaxPollInterval time.Duration
	Timeout         time.Duration
	OnTimeout       OnTimeout

	// The run.
	RequestBudget int // requests per minute; 0 means no limit
	DryRun        bool
	Simulate      bool
	Debug         bool
	OutputFile    string
	APIURL        *url.URL

	// ExtraRootCerts are trusted besides the system's roots
	// (extra-root-certs); see TLSClientConfig.
	ExtraRootCerts []*x509.Certificate

	// Meta flags: print and exit.
	ShowHelp    bool
	ShowVersion bool
}

// WantsUpdate reports whether the inputs ask for the update step.
// rollout-percentage alone is not an update: it steers the last published
// submission's rollout.
func (c *Config) WantsUpdate() bool {
	return c.Update || len(c.Packages) > 0 || c.NotesForCertification != nil ||
		c.TargetPublishMode != "" || c.TargetPublishDate != nil ||
		c.MandatoryUpdate != nil || c.MandatoryUpdateEffectiveDate != nil
}

// ErrInvalidInput matches every error that comes from bad inputs or missing
// configuration found before anything is sent (exit code 2).
var ErrInvalidInput = errors.New("invalid input")

// InputError is one problem with one input: it names the input and says
// what it accepts.
type InputError struct {
	Input   string // the input's name as in action.yml, e.g. "rollout-percentage"
	Problem string // what is wrong and what is accepted
}

func (e *InputError) Error() string { return e.Input + ": " + e.Problem }

// Is makes errors.Is(err, ErrInvalidInput) true.
func (e *InputError) Is(target error) bool { return target == ErrInvalidInput }
