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

// Target says whether a run acts on a package flight's submission or on
// the app's own (retail) submission, which every customer outside a flight
// gets.
type Target string

// The values of target. A run names a flight (flight-id or flight-name,
// which imply TargetFlight) or says TargetApp; Config.Target is empty when
// the input is unset.
const (
	TargetFlight Target = "flight"
	TargetApp    Target = "app"
)

// PackageMode says what happens to a submission's existing packages when
// new ones are added.
type PackageMode string

// The values of package-mode.
const (
	PackageReplace   PackageMode = "replace"   // every existing package is deleted
	PackageAdd       PackageMode = "add"       // every existing package stays
	PackageSupersede PackageMode = "supersede" // only those a new package supersedes are deleted
)

// HealthGate says what decides each step of a rollout-steps rollout.
type HealthGate string

// The values of health-gate.
const (
	HealthGateFailures HealthGate = "failures" // compare failure rates, new against old
	HealthGateOff      HealthGate = "off"      // advance one step per run
)

// OnUnhealthy says what a health gate that finds a regression does.
type OnUnhealthy string

// The values of on-unhealthy.
const (
	OnUnhealthyHalt OnUnhealthy = "halt" // halt the rollout, exit 4
	OnUnhealthyFail OnUnhealthy = "fail" // change nothing, exit 1
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
	Target            Target // "" when unset; flight-id or flight-name imply TargetFlight
	FlightID          string
	FlightName        string
	SubmissionID      string
	PendingSubmission PendingPolicy
	PreviousRollout   PreviousRolloutPolicy

	// The update.
	Update                       bool
	Packages                     []Package
	PackageMode                  PackageMode
	ReleaseNotes                 string // "What's new" for every listing language; "" when unset
	ReleaseNotesDir              string // folder of <language>.txt files; "" when unset
	MandatoryUpdate              *bool
	MandatoryUpdateEffectiveDate *time.Time
	TargetPublishMode            string // "", Immediate, Manual or SpecificDate
	TargetPublishDate            *time.Time
	NotesForCertification        *string
	Commit                       bool

	// Rollout, and the health gate of rollout-steps.
	RolloutPercentage *float64
	HaltRollout       bool
	FinalizeRollout   bool
	RolloutSteps      []float64 // ascending, each above 0 and at most 100; nil when unset
	HealthGate        HealthGate
	HealthMaxRatio    float64
	HealthMinFailures float64
	HealthDataLag     time.Duration
	OnUnhealthy       OnUnhealthy

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
	// NoInputs is true when the run was given no flag and no INPUT_* or
	// STOREFLIGHT_* variable at all: a first try, which gets a short usage
	// instead of a list of missing inputs.
	NoInputs bool
}

// WantsUpdate reports whether the inputs ask for the update step.
// rollout-percentage and rollout-steps alone are not an update: they steer
// the rollout of the submission in flight or last published.
func (c *Config) WantsUpdate() bool {
	return c.Update || len(c.Packages) > 0 || c.NotesForCertification != nil ||
		c.ReleaseNotes != "" || c.ReleaseNotesDir != "" ||
		c.TargetPublishMode != "" || c.TargetPublishDate != nil ||
		c.MandatoryUpdate != nil || c.MandatoryUpdateEffectiveDate != nil
}

// NewRolloutPercentage returns the percentage at which an update starts the
// new submission's gradual rollout: rollout-percentage, or the first of
// rollout-steps; nil when neither is given.
func (c *Config) NewRolloutPercentage() *float64 {
	if c.RolloutPercentage != nil {
		return c.RolloutPercentage
	}
	if len(c.RolloutSteps) > 0 {
		first := c.RolloutSteps[0]
		return &first
	}
	return nil
}

// NamesFlight reports whether the inputs name a flight (flight-id,
// flight-name or target: flight).
func (c *Config) NamesFlight() bool {
	return c.FlightID != "" || c.FlightName != "" || c.Target == TargetFlight
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
