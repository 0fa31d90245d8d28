package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const appID = "9NBLGGH4R315"

// envOf returns a getenv over m, with a valid application-id unless m says
// otherwise.
func envOf(m map[string]string) func(string) string {
	return func(k string) string {
		if v, ok := m[k]; ok {
			return v
		}
		if k == "STOREFLIGHT_APPLICATION_ID" {
			return appID
		}
		return ""
	}
}

// testLoad is load with the tests' defaults: a valid application-id and,
// unless the arguments or variables say what to act on, target: app.
func testLoad(t *testing.T, args []string, env map[string]string) (*Config, error) {
	t.Helper()
	e := maps.Clone(env)
	if e == nil {
		e = map[string]string{}
	}
	if !saysTarget(args, e) {
		e["STOREFLIGHT_TARGET"] = "app"
	}
	return load(args, envOf(e), t.TempDir())
}

func saysTarget(args []string, env map[string]string) bool {
	for _, a := range args {
		if strings.Contains(a, "-flight-") || strings.Contains(a, "-target=") {
			return true
		}
	}
	for _, in := range []string{"flight-id", "flight-name", "target"} {
		for _, k := range mustInput(in).EnvNames() {
			if _, ok := env[k]; ok {
				return true
			}
		}
	}
	return false
}

func mustLoad(t *testing.T, args []string, env map[string]string) *Config {
	t.Helper()
	c, err := testLoad(t, args, env)
	if err != nil {
		t.Fatalf("load(%q) = %v", args, err)
	}
	return c
}

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, nil, nil)
	want := &Config{
		Auth:              AuthAuto,
		OIDCAudience:      "api://AzureADTokenExchange",
		AuthorityHost:     &url.URL{Scheme: "https", Host: "login.microsoftonline.com", Path: "/"},
		ApplicationID:     appID,
		Target:            TargetApp, // set by testLoad
		PendingSubmission: PendingFail,
		PreviousRollout:   PreviousFail,
		PackageMode:       PackageReplace,
		Commit:            true,
		HealthGate:        HealthGateFailures,
		HealthMaxRatio:    1.5,
		HealthMinFailures: 15,
		HealthDataLag:     48 * time.Hour,
		OnUnhealthy:       OnUnhealthyHalt,
		WaitFor:           WaitNone,
		PollInterval:      30 * time.Second,
		MaxPollInterval:   5 * time.Minute,
		Timeout:           time.Hour,
		OnTimeout:         OnTimeoutFail,
		RequestBudget:     20,
		APIURL:            &url.URL{Scheme: "https", Host: "manage.devcenter.microsoft.com"},
	}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
}

func TestSourcesAndPrecedence(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string // flight-name
	}{
		{"default is unset", nil, nil, ""},
		{"flag with =", []string{"--flight-name=a"}, nil, "a"},
		{"flag with separate value", []string{"--flight-name", "a"}, nil, "a"},
		{"single dash flag", []string{"-flight-name=a"}, nil, "a"},
		{"INPUT with hyphens", nil, map[string]string{"INPUT_FLIGHT-NAME": "a"}, "a"},
		{"INPUT with underscores", nil, map[string]string{"INPUT_FLIGHT_NAME": "a"}, "a"},
		{"STOREFLIGHT", nil, map[string]string{"STOREFLIGHT_FLIGHT_NAME": "a"}, "a"},
		{"flag beats INPUT", []string{"--flight-name=flag"}, map[string]string{"INPUT_FLIGHT-NAME": "input"}, "flag"},
		{"INPUT hyphen beats INPUT underscore", nil, map[string]string{"INPUT_FLIGHT-NAME": "h", "INPUT_FLIGHT_NAME": "u"}, "h"},
		{"INPUT beats STOREFLIGHT", nil, map[string]string{"INPUT_FLIGHT_NAME": "input", "STOREFLIGHT_FLIGHT_NAME": "sf"}, "input"},
		{"empty flag means unset", []string{"--flight-name="}, map[string]string{"STOREFLIGHT_FLIGHT_NAME": "sf"}, "sf"},
		{"empty INPUT means unset", nil, map[string]string{"INPUT_FLIGHT-NAME": "", "STOREFLIGHT_FLIGHT_NAME": "sf"}, "sf"},
		{"blank INPUT means unset", nil, map[string]string{"INPUT_FLIGHT-NAME": "  \n", "STOREFLIGHT_FLIGHT_NAME": "sf"}, "sf"},
		{"values are trimmed", nil, map[string]string{"STOREFLIGHT_FLIGHT_NAME": "  beta \n"}, "beta"},
		{"last flag wins", []string{"--flight-name=a", "--flight-name=b"}, nil, "b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := mustLoad(t, tt.args, tt.env).FlightName; got != tt.want {
				t.Errorf("FlightName = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEnvFallback(t *testing.T) {
	t.Parallel()
	const g1, g2 = "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"
	c := mustLoad(t, nil, map[string]string{"AZURE_TENANT_ID": g1, "AZURE_CLIENT_ID": g1, "AZURE_FEDERATED_TOKEN_FILE": "/var/run/token"})
	if c.TenantID != g1 || c.ClientID != g1 || c.FederatedTokenFile != "/var/run/token" {
		t.Errorf("fallbacks not used: %q %q %q", c.TenantID, c.ClientID, c.FederatedTokenFile)
	}
	c = mustLoad(t, nil, map[string]string{"AZURE_TENANT_ID": g1, "STOREFLIGHT_TENANT_ID": g2})
	if c.TenantID != g2 {
		t.Errorf("TenantID = %q, want the input %q over $AZURE_TENANT_ID", c.TenantID, g2)
	}
}

func TestBooleans(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want bool
	}{
		{"bare flag", []string{"--dry-run"}, nil, true},
		{"flag =true", []string{"--dry-run=true"}, nil, true},
		{"flag =FALSE", []string{"--dry-run=FALSE"}, map[string]string{"STOREFLIGHT_DRY_RUN": "true"}, false},
		{"env True", nil, map[string]string{"STOREFLIGHT_DRY_RUN": "True"}, true},
		{"env tRuE", nil, map[string]string{"INPUT_DRY-RUN": "tRuE"}, true},
		{"default", nil, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := mustLoad(t, tt.args, tt.env).DryRun; got != tt.want {
				t.Errorf("DryRun = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCommitFalseFlag(t *testing.T) {
	t.Parallel()
	if c := mustLoad(t, []string{"--commit=false"}, nil); c.Commit {
		t.Error("--commit=false left Commit true")
	}
}

func TestMandatoryUpdateIsTriState(t *testing.T) {
	t.Parallel()
	flight := map[string]string{"STOREFLIGHT_FLIGHT_NAME": "beta"}
	if c := mustLoad(t, nil, nil); c.MandatoryUpdate != nil {
		t.Errorf("unset mandatory-update = %v, want nil", *c.MandatoryUpdate)
	}
	for _, v := range []string{"false", "TRUE"} {
		c := mustLoad(t, []string{"--mandatory-update=" + v}, flight)
		if c.MandatoryUpdate == nil || *c.MandatoryUpdate != strings.EqualFold(v, "true") {
			t.Errorf("mandatory-update=%s gave %v", v, c.MandatoryUpdate)
		}
	}
}

func TestDebugSources(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want bool
	}{
		{"off", nil, nil, false},
		{"--debug", []string{"--debug"}, nil, true},
		{"RUNNER_DEBUG=1", nil, map[string]string{"RUNNER_DEBUG": "1"}, true},
		{"RUNNER_DEBUG=0", nil, map[string]string{"RUNNER_DEBUG": "0"}, false},
		{"SYSTEM_DEBUG=True", nil, map[string]string{"SYSTEM_DEBUG": "True"}, true},
		{"CI_DEBUG_TRACE=true", nil, map[string]string{"CI_DEBUG_TRACE": "true"}, true},
		{"CI_DEBUG_TRACE=false", nil, map[string]string{"CI_DEBUG_TRACE": "false"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := mustLoad(t, tt.args, tt.env).Debug; got != tt.want {
				t.Errorf("Debug = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAuthEnvironment(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, nil, map[string]string{
		"ACTIONS_ID_TOKEN_REQUEST_URL":   "https://token.actions.example/x?a=1",
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": "gh-request-token",
		"SYSTEM_ACCESSTOKEN":             "azp-access-token",
		"SYSTEM_OIDCREQUESTURI":          "https://dev.azure.example/oidc",
		"AZURE_FEDERATED_TOKEN":          "federated-jwt",
		"STOREFLIGHT_CLIENT_SECRET":      "client-secret-value",
	})
	got := []string{c.GitHub.RequestURL, c.GitHub.RequestToken.Reveal(), c.AzurePipelines.SystemAccessToken.Reveal(),
		c.AzurePipelines.OIDCRequestURI, c.FederatedToken.Reveal(), c.ClientSecret.Reveal()}
	want := []string{"https://token.actions.example/x?a=1", "gh-request-token", "azp-access-token",
		"https://dev.azure.example/oidc", "federated-jwt", "client-secret-value"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("auth environment (-want +got):\n%s", diff)
	}
}

func TestParsedValues(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, []string{
		"--flight-id=ABCDEF01-2345-6789-abcd-ef0123456789",
		"--submission-id", "1152921505699999999",
		"--rollout-percentage=12.5",
		"--target-publish-mode=specificdate",
		"--target-publish-date=2026-05-01T09:00:00+02:00",
		"--mandatory-update-effective-date=2026-05-02T00:00:00Z",
		"--notes-for-certification=log in as demo",
		"--poll-interval=90s", "--max-poll-interval=15m", "--timeout=2h",
		"--request-budget=0",
		"--api-url=http://127.0.0.1:8080/base",
		"--authority-host=https://login.microsoftonline.us/",
		"--output-file=out.json",
	}, nil)
	if *c.RolloutPercentage != 12.5 || c.TargetPublishMode != "SpecificDate" || c.SubmissionID != "1152921505699999999" ||
		c.PollInterval != 90*time.Second || c.MaxPollInterval != 15*time.Minute || c.Timeout != 2*time.Hour ||
		c.RequestBudget != 0 || c.APIURL.String() != "http://127.0.0.1:8080/base" ||
		c.AuthorityHost.Host != "login.microsoftonline.us" || *c.NotesForCertification != "log in as demo" || c.OutputFile != "out.json" {
		t.Errorf("unexpected config: %+v", c)
	}
	if want := time.Date(2026, 5, 1, 7, 0, 0, 0, time.UTC); !c.TargetPublishDate.Equal(want) {
		t.Errorf("TargetPublishDate = %v, want %v", c.TargetPublishDate, want)
	}
	if !c.WantsUpdate() {
		t.Error("WantsUpdate = false with notes and publish mode")
	}
}

func TestEnums(t *testing.T) {
	t.Parallel()
	flight := map[string]string{"STOREFLIGHT_FLIGHT_NAME": "beta"}
	tests := []struct {
		input, value string
		get          func(*Config) string
		want         string
	}{
		{"auth", "auto", func(c *Config) string { return string(c.Auth) }, "auto"},
		{"auth", "GitHub-OIDC", func(c *Config) string { return string(c.Auth) }, "github-oidc"},
		{"auth", "federated-token-file", func(c *Config) string { return string(c.Auth) }, "federated-token-file"},
		{"auth", "azure-pipelines", func(c *Config) string { return string(c.Auth) }, "azure-pipelines"},
		{"auth", "client-secret", func(c *Config) string { return string(c.Auth) }, "client-secret"},
		{"pending-submission", "fail", func(c *Config) string { return string(c.PendingSubmission) }, "fail"},
		{"pending-submission", "Reuse", func(c *Config) string { return string(c.PendingSubmission) }, "reuse"},
		{"pending-submission", "replace", func(c *Config) string { return string(c.PendingSubmission) }, "replace"},
		{"previous-rollout", "fail", func(c *Config) string { return string(c.PreviousRollout) }, "fail"},
		{"previous-rollout", "finalize", func(c *Config) string { return string(c.PreviousRollout) }, "finalize"},
		{"previous-rollout", "HALT", func(c *Config) string { return string(c.PreviousRollout) }, "halt"},
		{"package-mode", "replace", func(c *Config) string { return string(c.PackageMode) }, "replace"},
		{"package-mode", "add", func(c *Config) string { return string(c.PackageMode) }, "add"},
		{"wait-for", "none", func(c *Config) string { return string(c.WaitFor) }, "none"},
		{"wait-for", "committed", func(c *Config) string { return string(c.WaitFor) }, "committed"},
		{"wait-for", "Certified", func(c *Config) string { return string(c.WaitFor) }, "certified"},
		{"wait-for", "published", func(c *Config) string { return string(c.WaitFor) }, "published"},
		{"on-timeout", "fail", func(c *Config) string { return string(c.OnTimeout) }, "fail"},
		{"on-timeout", "PASS", func(c *Config) string { return string(c.OnTimeout) }, "pass"},
		{"target-publish-mode", "immediate", func(c *Config) string { return c.TargetPublishMode }, "Immediate"},
		{"target-publish-mode", "MANUAL", func(c *Config) string { return c.TargetPublishMode }, "Manual"},
	}
	for _, tt := range tests {
		t.Run(tt.input+"="+tt.value, func(t *testing.T) {
			t.Parallel()
			c := mustLoad(t, []string{"--" + tt.input + "=" + tt.value}, flight)
			if got := tt.get(c); got != tt.want {
				t.Errorf("%s=%s gave %q, want %q", tt.input, tt.value, got, tt.want)
			}
		})
	}
}

// wantInputErrors checks that err is an input error naming every input in
// names.
func wantInputErrors(t *testing.T, err error, names ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want errors for %v", names)
	}
	if !errors.Is(err, ErrInvalidInput) {
		t.Errorf("errors.Is(%v, ErrInvalidInput) = false", err)
	}
	var ie *InputError
	if !errors.As(err, &ie) {
		t.Errorf("no *InputError in %v", err)
	}
	for _, n := range names {
		if !strings.Contains(err.Error(), n+": ") {
			t.Errorf("error does not name %s:\n%v", n, err)
		}
	}
}

func TestBadInputs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		args  []string
		env   map[string]string
		input string // named in the error
	}{
		{"percentage above 100", []string{"--rollout-percentage=110"}, nil, "rollout-percentage"},
		{"percentage negative", []string{"--rollout-percentage=-1"}, nil, "rollout-percentage"},
		{"percentage with %", []string{"--rollout-percentage=10%"}, nil, "rollout-percentage"},
		{"percentage exponent", []string{"--rollout-percentage=1e1"}, nil, "rollout-percentage"},
		{"percentage comma", []string{"--rollout-percentage=12,5"}, nil, "rollout-percentage"},
		{"percentage NaN", []string{"--rollout-percentage=NaN"}, nil, "rollout-percentage"},
		{"percentage Inf", []string{"--rollout-percentage=Inf"}, nil, "rollout-percentage"},
		{"percentage hex", []string{"--rollout-percentage=0x10"}, nil, "rollout-percentage"},
		{"percentage words", nil, map[string]string{"STOREFLIGHT_ROLLOUT_PERCENTAGE": "half"}, "rollout-percentage"},
		{"boolean yes", []string{"--dry-run=yes"}, nil, "dry-run"},
		{"boolean 1", nil, map[string]string{"INPUT_SIMULATE": "1"}, "simulate"},
		{"commit maybe", []string{"--commit=maybe"}, nil, "commit"},
		{"mandatory-update bare flag needs a value", []string{"--mandatory-update"}, nil, "mandatory-update"},
		{"duration without unit", []string{"--poll-interval=30"}, nil, "poll-interval"},
		{"duration zero", []string{"--timeout=0s"}, nil, "timeout"},
		{"duration negative", []string{"--max-poll-interval=-5m"}, nil, "max-poll-interval"},
		{"tenant not a GUID", []string{"--tenant-id=contoso.onmicrosoft.com"}, nil, "tenant-id"},
		{"client not a GUID", nil, map[string]string{"AZURE_CLIENT_ID": "abc"}, "client-id"},
		{"flight not a GUID", []string{"--flight-id=beta"}, nil, "flight-id"},
		{"application-id lower case", []string{"--application-id=9nblggh4r315"}, nil, "application-id"},
		{"application-id too short", []string{"--application-id=9NBLGG"}, nil, "application-id"},
		{"application-id missing", nil, map[string]string{"STOREFLIGHT_APPLICATION_ID": ""}, "application-id"},
		{"submission-id not digits", []string{"--submission-id=12a"}, nil, "submission-id"},
		{"date without zone", []string{"--flight-name=b", "--target-publish-mode=SpecificDate", "--target-publish-date=2026-05-01T09:00:00"}, nil, "target-publish-date"},
		{"date only", []string{"--flight-name=b", "--mandatory-update-effective-date=2026-05-01"}, nil, "mandatory-update-effective-date"},
		{"auth unknown", []string{"--auth=password"}, nil, "auth"},
		{"pending-submission unknown", []string{"--pending-submission=delete"}, nil, "pending-submission"},
		{"previous-rollout unknown", []string{"--previous-rollout=ignore"}, nil, "previous-rollout"},
		{"package-mode unknown", []string{"--package-mode=merge"}, nil, "package-mode"},
		{"wait-for unknown", []string{"--wait-for=release"}, nil, "wait-for"},
		{"on-timeout unknown", []string{"--on-timeout=retry"}, nil, "on-timeout"},
		{"target-publish-mode unknown", []string{"--flight-name=b", "--target-publish-mode=Later"}, nil, "target-publish-mode"},
		{"request-budget negative", []string{"--request-budget=-1"}, nil, "request-budget"},
		{"request-budget decimal", []string{"--request-budget=2.5"}, nil, "request-budget"},
		{"api-url http remote", []string{"--api-url=http://example.com"}, nil, "api-url"},
		{"api-url relative", []string{"--api-url=/v1.0/my"}, nil, "api-url"},
		{"api-url with credentials", []string{"--api-url=https://user:pw@example.com"}, nil, "api-url"},
		{"api-url ftp", []string{"--api-url=ftp://example.com"}, nil, "api-url"},
		{"authority-host http loopback", []string{"--authority-host=http://127.0.0.1:9"}, nil, "authority-host"},
		{"unknown flag", []string{"--rollout=10"}, nil, "rollout"},
		{"flag without a name", []string{"--=10"}, nil, "arguments"},
		{"positional argument", []string{"publish"}, nil, "arguments"},
		{"bool with separate value", []string{"--simulate", "false"}, nil, "arguments"},
		{"flag without value at end", []string{"--flight-name"}, nil, "flight-name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := testLoad(t, tt.args, tt.env)
			if c == nil {
				t.Errorf("load returned no config with its errors")
			}
			wantInputErrors(t, err, tt.input)
		})
	}
}

// TestConflicts holds every conflict of DESIGN.md's list (the paragraph
// after the pipeline's steps), each refused with the input named.
func TestConflicts(t *testing.T) {
	t.Parallel()
	const flightID = "--flight-id=00000000-0000-0000-0000-000000000001"
	checkRefusals(t, t.TempDir(), []refusal{
		{"halt and finalize", []string{flightID, "--halt-rollout", "--finalize-rollout"}, "halt-rollout", "finalize-rollout"},
		{"halt and percentage", []string{flightID, "--halt-rollout", "--rollout-percentage=50"}, "halt-rollout", "rollout-percentage"},
		{"halt and steps", []string{flightID, "--halt-rollout", "--rollout-steps=5,50"}, "halt-rollout", "rollout-steps"},
		{"halt with packages", []string{flightID, "--halt-rollout", "--update"}, "halt-rollout", "previous-rollout: halt"},
		{"halt with notes", []string{flightID, "--halt-rollout", "--notes-for-certification=x", "--wait-for=published"}, "halt-rollout", "notes-for-certification"},
		{"steps and percentage", []string{flightID, "--rollout-steps=5,50", "--rollout-percentage=10"}, "rollout-steps", "rollout-percentage"},
		{"finalize on update without wait", []string{flightID, "--update", "--finalize-rollout"}, "finalize-rollout", "wait-for: none"},
		{"finalize on update waiting for certified", []string{flightID, "--update", "--finalize-rollout", "--wait-for=certified"}, "finalize-rollout", "wait-for: published"},
		{"no commit with wait on update", []string{flightID, "--notes-for-certification=x", "--commit=false", "--wait-for=committed"}, "commit", "wait-for: committed"},
		{"no commit with finalize on update", []string{flightID, "--update", "--commit=false", "--finalize-rollout", "--wait-for=published"}, "commit", "wait-for: published"},
		{"flight id and name", []string{flightID, "--flight-name=beta"}, "flight-id", "flight-name"},
		{"app with flight id", []string{flightID, "--target=app"}, "target", "flight-id or flight-name"},
		{"app with flight name", []string{"--flight-name=beta", "--target=app"}, "target", "flight-id or flight-name"},
		{"no flight, no target", []string{"--rollout-percentage=20"}, "target", "target: app"},
		{"empty flight name", []string{"--flight-name=", "--halt-rollout"}, "target", "empty flight-name"},
		{"target flight without a flight", []string{"--target=flight", "--finalize-rollout"}, "target", "flight-id or flight-name"},
		{"update without flight", []string{"--notes-for-certification=x"}, "target", "target: app"},
		{"simulate and api-url", []string{"--simulate", "--api-url=https://example.com"}, "api-url", "simulate"},
		{"previous halt with add", []string{flightID, "--previous-rollout=halt", "--package-mode=add"}, "previous-rollout", "package-mode"},
		{"release notes with a flight", []string{flightID, "--release-notes=Fixes"}, "release-notes", "flights have no listing"},
		{"release notes dir with a flight", []string{"--flight-name=beta", "--release-notes-dir=."}, "release-notes-dir", "flights have no listing"},
		{"release notes with target flight", []string{"--target=flight", "--flight-name=beta", "--release-notes=Fixes"}, "release-notes", "target: app"},
		{"SpecificDate without date", []string{flightID, "--target-publish-mode=SpecificDate"}, "target-publish-date", "required"},
		{"date without SpecificDate", []string{flightID, "--target-publish-date=2026-05-01T09:00:00Z"}, "target-publish-date", "SpecificDate"},
		{"date with Manual", []string{flightID, "--target-publish-mode=Manual", "--target-publish-date=2026-05-01T09:00:00Z"}, "target-publish-date", "SpecificDate"},
		{"max below poll", []string{flightID, "--poll-interval=2m", "--max-poll-interval=1m"}, "max-poll-interval", "poll-interval"},
	})
}

// refusal is a set of arguments that must be refused, naming input and
// saying want.
type refusal struct {
	name  string
	args  []string
	input string
	want  string // part of the message
}

func checkRefusals(t *testing.T, root string, tests []refusal) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := load(tt.args, envOf(nil), root)
			wantInputErrors(t, err, tt.input)
			if err != nil && !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error does not mention %q:\n%v", tt.want, err)
			}
		})
	}
}

func TestAcceptedCombinations(t *testing.T) {
	t.Parallel()
	const flightID = "--flight-id=00000000-0000-0000-0000-000000000001"
	tests := []struct {
		name string
		args []string
	}{
		{"app rollout", []string{"--target=app", "--rollout-percentage=20"}},
		{"app update", []string{"--target=app", "--notes-for-certification=x"}},
		{"app release notes", []string{"--target=app", "--release-notes=Fixes"}},
		{"supersede on an app", []string{"--target=app", "--update", "--package-mode=supersede"}},
		{"supersede on a flight", []string{flightID, "--update", "--package-mode=supersede"}},
		{"app finalize", []string{"--target=APP", "--finalize-rollout"}},
		{"flight named and target flight", []string{"--target=flight", "--flight-name=beta", "--halt-rollout"}},
		{"no commit with wait-for but no update", []string{flightID, "--commit=false", "--wait-for=published"}},
		{"no commit on update with wait none", []string{flightID, "--update", "--commit=false"}},
		{"finalize on update waiting for published", []string{flightID, "--update", "--finalize-rollout", "--wait-for=published"}},
		{"halt without update", []string{flightID, "--halt-rollout", "--wait-for=published"}},
		{"percentage on update", []string{flightID, "--update", "--rollout-percentage=100"}},
		{"SpecificDate with date", []string{flightID, "--target-publish-mode=SpecificDate", "--target-publish-date=2026-05-01T09:00:00Z"}},
		{"previous halt with replace", []string{flightID, "--previous-rollout=halt", "--update"}},
		{"max equal to poll", []string{flightID, "--poll-interval=1m", "--max-poll-interval=1m"}},
		{"simulate without application-id or target", []string{"--simulate"}},
		{"simulate ignores bad sign-in inputs", []string{"--simulate", "--tenant-id=not-a-guid", "--auth=nonsense"}},
		{"api-url on localhost", []string{flightID, "--api-url=http://localhost:8080"}},
		{"api-url on ::1", []string{flightID, "--api-url=http://[::1]:8080/"}},
		{"rollout steps", []string{flightID, "--rollout-steps=5,20,50,100", "--finalize-rollout"}},
		{"rollout steps on update", []string{flightID, "--update", "--rollout-steps=5,20"}},
		{"app rollout steps", []string{"--target=app", "--rollout-steps=1,10,100", "--health-gate=off"}},
		{"health inputs", []string{flightID, "--health-gate=OFF", "--health-max-ratio=2", "--health-min-failures=0.5", "--health-data-lag=0s", "--on-unhealthy=fail"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{}
			if strings.HasPrefix(tt.name, "simulate without application-id") {
				env["STOREFLIGHT_APPLICATION_ID"] = ""
			}
			if _, err := load(tt.args, envOf(env), t.TempDir()); err != nil {
				t.Errorf("load(%q) = %v, want no error", tt.args, err)
			}
		})
	}
}

func TestAllProblemsAtOnce(t *testing.T) {
	t.Parallel()
	_, err := testLoad(t, []string{"--rollout-percentage=110", "--wait-for=forever", "--halt-rollout", "--finalize-rollout", "--timeout=soon"},
		map[string]string{"STOREFLIGHT_APPLICATION_ID": ""})
	wantInputErrors(t, err, "rollout-percentage", "wait-for", "halt-rollout", "timeout", "application-id")
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) || len(joined.Unwrap()) != 6 {
		t.Errorf("want 6 joined problems, got:\n%v", err)
	}
	if want := `rollout-percentage: "110" is not a percentage: give a decimal above 0 and at most 100 with '.' as the separator, like 12.5`; !strings.Contains(err.Error(), want) {
		t.Errorf("error lacks %q:\n%v", want, err)
	}
}

func TestErrorNamesEnvironmentSource(t *testing.T) {
	t.Parallel()
	_, err := testLoad(t, nil, map[string]string{"STOREFLIGHT_WAIT_FOR": "soon"})
	wantInputErrors(t, err, "wait-for")
	if err != nil && !strings.Contains(err.Error(), "$STOREFLIGHT_WAIT_FOR") {
		t.Errorf("error does not say where the value came from: %v", err)
	}
}

func TestMetaFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--help"}, {"-h"}, {"--version"}, {"--help", "--rollout-percentage=500"}} {
		c, err := load(args, envOf(map[string]string{"STOREFLIGHT_APPLICATION_ID": ""}), t.TempDir())
		if err != nil {
			t.Errorf("load(%q) = %v", args, err)
			continue
		}
		if !c.ShowHelp && !c.ShowVersion {
			t.Errorf("load(%q) set neither ShowHelp nor ShowVersion", args)
		}
	}
}

func TestSecretsNeverFormatted(t *testing.T) {
	t.Parallel()
	secrets := map[string]string{
		"STOREFLIGHT_CLIENT_SECRET":      "cs-0123456789",
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": "gh-0123456789",
		"SYSTEM_ACCESSTOKEN":             "azp-0123456789",
		"AZURE_FEDERATED_TOKEN":          "fed-0123456789",
	}
	c := mustLoad(t, nil, secrets)
	js, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	outs := []string{
		fmt.Sprint(c), fmt.Sprintf("%v", *c), fmt.Sprintf("%+v", *c), fmt.Sprintf("%#v", *c), fmt.Sprintf("%#v", c),
		fmt.Sprintf("%s", c.ClientSecret), fmt.Sprintf("%q", c.ClientSecret), fmt.Sprintf("%x", c.ClientSecret),
		fmt.Sprintf("%X", c.GitHub.RequestToken), fmt.Sprintf("%#v", c.GitHub), fmt.Sprintf("%v", c.AzurePipelines),
		c.FederatedToken.String(), string(js),
	}
	for _, out := range outs {
		for _, s := range secrets {
			if strings.Contains(out, s) || strings.Contains(out, fmt.Sprintf("%x", s)) {
				t.Errorf("secret %q leaked in %s", s, out)
			}
		}
	}
	if !strings.Contains(fmt.Sprintf("%+v", *c), "[redacted]") {
		t.Error("a formatted Config does not show the redaction marker")
	}
	// A secret that fails to parse must not be echoed either: client-secret
	// has no format, so force an error on another input alongside it.
	_, err = testLoad(t, []string{"--client-secret=cs-0123456789", "--wait-for=x"}, nil)
	if err == nil || strings.Contains(err.Error(), "cs-0123456789") {
		t.Errorf("error leaks or is missing: %v", err)
	}
}

func TestInputsTable(t *testing.T) {
	t.Parallel()
	designOrder := []string{"tenant-id", "client-id", "auth", "client-secret", "oidc-audience", "federated-token-file",
		"service-connection-id", "application-id", "target", "flight-id", "flight-name", "submission-id", "pending-submission",
		"previous-rollout", "update", "packages", "package-mode", "release-notes", "release-notes-dir",
		"rollout-percentage", "halt-rollout", "finalize-rollout", "rollout-steps", "health-gate", "health-max-ratio",
		"health-min-failures", "health-data-lag", "on-unhealthy", "mandatory-update", "mandatory-update-effective-date", "target-publish-mode", "target-publish-date",
		"notes-for-certification", "commit", "wait-for", "poll-interval", "max-poll-interval", "timeout", "on-timeout",
		"request-budget", "dry-run", "simulate", "output-file", "api-url", "authority-host", "extra-root-certs", "debug"}
	var got []string
	for _, in := range Inputs {
		got = append(got, in.Name)
		if in.Description == "" {
			t.Errorf("%s has no description", in.Name)
		}
	}
	if diff := cmp.Diff(designOrder, got); diff != "" {
		t.Errorf("Inputs order (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"INPUT_FLIGHT-NAME", "INPUT_FLIGHT_NAME", "STOREFLIGHT_FLIGHT_NAME"}, mustInput("flight-name").EnvNames()); diff != "" {
		t.Errorf("EnvNames (-want +got):\n%s", diff)
	}
	var help strings.Builder
	if err := Usage(&help, "storeflight"); err != nil {
		t.Fatal(err)
	}
	for _, in := range Inputs {
		if !strings.Contains(help.String(), "--"+in.Name) {
			t.Errorf("--help does not list --%s", in.Name)
		}
	}
}

func TestNewInputsParsed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	c, err := load([]string{
		"--target=App", "--release-notes-dir=" + dir, "--release-notes=" + strings.Repeat("é", 1500),
		"--health-gate=off", "--health-max-ratio=2.25", "--health-min-failures=7.5", "--health-data-lag=36h",
		"--on-unhealthy=FAIL", "--rollout-percentage=100",
	}, envOf(nil), t.TempDir())
	if err != nil {
		t.Errorf("err = %v, want none", err)
	}
	got := []any{c.Target, c.ReleaseNotesDir, len([]rune(c.ReleaseNotes)), c.HealthGate, c.HealthMaxRatio, c.HealthMinFailures,
		c.HealthDataLag, c.OnUnhealthy, *c.RolloutPercentage, c.WantsUpdate()}
	want := []any{TargetApp, dir, 1500, HealthGateOff, 2.25, 7.5, 36 * time.Hour, OnUnhealthyFail, 100.0, true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parsed values (-want +got):\n%s", diff)
	}

	c, err = load([]string{"--flight-name=beta", "--package-mode=Supersede", "--rollout-steps= 5, 20,50 ,100"}, envOf(nil), t.TempDir())
	if err != nil {
		t.Errorf("err = %v, want none", err)
	}
	if c.PackageMode != PackageSupersede {
		t.Errorf("PackageMode = %q, want supersede", c.PackageMode)
	}
	if diff := cmp.Diff([]float64{5, 20, 50, 100}, c.RolloutSteps); diff != "" {
		t.Errorf("RolloutSteps (-want +got):\n%s", diff)
	}
	if c.WantsUpdate() {
		t.Error("rollout-steps alone counts as an update")
	}
}

func TestNewInputsRefused(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	mustWriteFile(t, root+"/notes.txt", "notes")
	checkRefusals(t, root, []refusal{
		{"target unknown", []string{"--target=retail"}, "target", "flight, app"},
		{"release notes too long", []string{"--target=app", "--release-notes=" + strings.Repeat("a", 1501)}, "release-notes", "1501 characters"},
		{"release notes of emoji too long", []string{"--target=app", "--release-notes=" + strings.Repeat("😀", 751)}, "release-notes", "1502 characters"},
		{"release notes dir missing", []string{"--target=app", "--release-notes-dir=nope"}, "release-notes-dir", "does not exist"},
		{"release notes dir is a file", []string{"--target=app", "--release-notes-dir=notes.txt"}, "release-notes-dir", "it is a file"},
		{"package-mode unknown", []string{"--target=app", "--package-mode=merge"}, "package-mode", "replace, add, supersede"},
		{"percentage zero", []string{"--target=app", "--rollout-percentage=0"}, "rollout-percentage", "above 0"},
		{"steps descending", []string{"--target=app", "--rollout-steps=20,5"}, "rollout-steps", "5 does not come after 20"},
		{"steps repeated", []string{"--target=app", "--rollout-steps=5,5"}, "rollout-steps", "does not come after"},
		{"steps zero", []string{"--target=app", "--rollout-steps=0,50"}, "rollout-steps", `"0" is not a percentage`},
		{"steps above 100", []string{"--target=app", "--rollout-steps=50,101"}, "rollout-steps", `"101"`},
		{"steps with percent signs", []string{"--target=app", "--rollout-steps=5%,50%"}, "rollout-steps", `"5%"`},
		{"steps only commas", []string{"--target=app", "--rollout-steps=,,"}, "rollout-steps", "like 5,20,50,100"},
		{"health gate unknown", []string{"--target=app", "--health-gate=crashes"}, "health-gate", "failures, off"},
		{"ratio of 1", []string{"--target=app", "--health-max-ratio=1"}, "health-max-ratio", "above 1"},
		{"ratio words", []string{"--target=app", "--health-max-ratio=double"}, "health-max-ratio", "above 1"},
		{"min failures zero", []string{"--target=app", "--health-min-failures=0"}, "health-min-failures", "above 0"},
		{"lag in days", []string{"--target=app", "--health-data-lag=2d"}, "health-data-lag", "48h"},
		{"lag negative", []string{"--target=app", "--health-data-lag=-1h"}, "health-data-lag", "48h"},
		{"on-unhealthy unknown", []string{"--target=app", "--on-unhealthy=ignore"}, "on-unhealthy", "halt, fail"},
	})
}

// TestFlagValueIsAFlag is issue 10's `--notes-for-certification --dry-run`
// from an empty unquoted $NOTES: the next flag is never taken as the value.
func TestFlagValueIsAFlag(t *testing.T) {
	t.Parallel()
	const flight = "--flight-name=beta"
	for _, args := range [][]string{
		{flight, "--notes-for-certification", "--dry-run"},
		{flight, "--notes-for-certification", "-dry-run=true"},
		{flight, "--packages", "--wait-for=published"},
		{"--flight-name", "--rollout-percentage=10"},
	} {
		c, err := load(args, envOf(nil), t.TempDir())
		wantInputErrors(t, err, strings.TrimPrefix(args[len(args)-2], "--"))
		if err != nil && !strings.Contains(err.Error(), "is a flag, not a value") {
			t.Errorf("load(%q): error does not say why: %v", args, err)
		}
		if c.NotesForCertification != nil || len(c.Packages) > 0 || strings.HasPrefix(c.FlightName, "-") {
			t.Errorf("load(%q) took a flag as a value: notes %v, packages %v, flight-name %q", args, c.NotesForCertification, c.Packages, c.FlightName)
		}
	}
	// With '=' the value is explicit, and a value that merely starts with
	// a dash is still a value.
	c := mustLoad(t, []string{flight, "--notes-for-certification=--dry-run"}, nil)
	if c.NotesForCertification == nil || *c.NotesForCertification != "--dry-run" || c.DryRun {
		t.Errorf("--notes-for-certification=--dry-run gave notes %v, dry run %v", c.NotesForCertification, c.DryRun)
	}
	c = mustLoad(t, []string{flight, "--notes-for-certification", "-- see the wiki"}, nil)
	if c.NotesForCertification == nil || *c.NotesForCertification != "-- see the wiki" {
		t.Errorf("notes %v, want the text after the flag", c.NotesForCertification)
	}
}

// TestExpandedGlobHint: an unquoted glob the shell expanded leaves package
// files as arguments of their own.
func TestExpandedGlobHint(t *testing.T) {
	t.Parallel()
	_, err := testLoad(t, []string{"--flight-name=beta", "--packages", "out/a.msix", "out/b.MSIX", "out/c.msixupload"}, nil)
	wantInputErrors(t, err, "packages")
	if err != nil && !strings.Contains(err.Error(), "quote it") {
		t.Errorf("no hint to quote the glob: %v", err)
	}
	_, err = testLoad(t, []string{"--flight-name=beta", "publish", "now"}, nil)
	wantInputErrors(t, err, "arguments")
	if err != nil && strings.Contains(err.Error(), "glob") {
		t.Errorf("a hint about globs for arguments that are no package files: %v", err)
	}
}

func TestNoInputs(t *testing.T) {
	t.Parallel()
	c, err := Load(nil, func(k string) string { return map[string]string{"AZURE_TENANT_ID": "x", "HOME": "/root"}[k] })
	if err != nil || !c.NoInputs {
		t.Errorf("no inputs: NoInputs %v, err %v", c.NoInputs, err)
	}
	for name, env := range map[string]map[string]string{
		"STOREFLIGHT variable": {"STOREFLIGHT_AUTH": "auto"},
		"INPUT variable":       {"INPUT_FLIGHT-NAME": "beta"},
	} {
		c, _ := Load(nil, func(k string) string { return env[k] })
		if c == nil || c.NoInputs {
			t.Errorf("%s: NoInputs set", name)
		}
	}
	if c, _ := Load([]string{"--dry-run"}, nil); c == nil || c.NoInputs {
		t.Error("a flag: NoInputs set")
	}
}

func mustWriteFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestNewRolloutPercentage(t *testing.T) {
	t.Parallel()
	pct := 12.5
	tests := []struct {
		name string
		cfg  Config
		want *float64
	}{
		{"neither", Config{}, nil},
		{"rollout-percentage", Config{RolloutPercentage: &pct}, &pct},
		{"first of rollout-steps", Config{RolloutSteps: []float64{5, 20, 100}}, ptrTo(5.0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, tt.cfg.NewRolloutPercentage()); diff != "" {
				t.Errorf("NewRolloutPercentage (-want +got):\n%s", diff)
			}
		})
	}
}

func ptrTo[T any](v T) *T { return &v }
