package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
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

func mustLoad(t *testing.T, args []string, env map[string]string) *Config {
	t.Helper()
	c, err := load(args, envOf(env), t.TempDir())
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
		PendingSubmission: PendingFail,
		PreviousRollout:   PreviousFail,
		PackageMode:       PackageReplace,
		Commit:            true,
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
			c, err := load(tt.args, envOf(tt.env), t.TempDir())
			if c != nil {
				t.Errorf("load returned a config with an error")
			}
			wantInputErrors(t, err, tt.input)
		})
	}
}

func TestConflicts(t *testing.T) {
	t.Parallel()
	const flightID = "--flight-id=00000000-0000-0000-0000-000000000001"
	tests := []struct {
		name  string
		args  []string
		input string
		want  string // part of the message
	}{
		{"halt and finalize", []string{"--halt-rollout", "--finalize-rollout"}, "halt-rollout", "finalize-rollout"},
		{"halt and percentage", []string{"--halt-rollout", "--rollout-percentage=50"}, "halt-rollout", "rollout-percentage"},
		{"no commit with halt on update", []string{flightID, "--update", "--commit=false", "--halt-rollout"}, "commit", "halt-rollout"},
		{"no commit with finalize on update", []string{flightID, "--update", "--commit=false", "--finalize-rollout"}, "commit", "finalize-rollout"},
		{"no commit with wait on update", []string{flightID, "--notes-for-certification=x", "--commit=false", "--wait-for=committed"}, "commit", "wait-for: committed"},
		{"flight id and name", []string{flightID, "--flight-name=beta"}, "flight-id", "flight-name"},
		{"simulate and api-url", []string{"--simulate", "--api-url=https://example.com"}, "api-url", "simulate"},
		{"previous halt with add", []string{"--previous-rollout=halt", "--package-mode=add"}, "previous-rollout", "package-mode"},
		{"SpecificDate without date", []string{flightID, "--target-publish-mode=SpecificDate"}, "target-publish-date", "required"},
		{"date without SpecificDate", []string{flightID, "--target-publish-date=2026-05-01T09:00:00Z"}, "target-publish-date", "SpecificDate"},
		{"date with Manual", []string{flightID, "--target-publish-mode=Manual", "--target-publish-date=2026-05-01T09:00:00Z"}, "target-publish-date", "SpecificDate"},
		{"update without flight", []string{"--notes-for-certification=x"}, "flight-id", "name a flight"},
		{"update: true without flight", []string{"--update"}, "flight-id", "update inputs given: update"},
		{"mandatory-update without flight", []string{"--mandatory-update=false"}, "flight-id", "mandatory-update"},
		{"max below poll", []string{"--poll-interval=2m", "--max-poll-interval=1m"}, "max-poll-interval", "poll-interval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := load(tt.args, envOf(nil), t.TempDir())
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
		{"rollout only without flight", []string{"--rollout-percentage=20"}},
		{"finalize without flight", []string{"--finalize-rollout"}},
		{"no commit with wait-for but no update", []string{"--commit=false", "--wait-for=published"}},
		{"no commit on update with wait none", []string{flightID, "--update", "--commit=false"}},
		{"SpecificDate with date", []string{flightID, "--target-publish-mode=SpecificDate", "--target-publish-date=2026-05-01T09:00:00Z"}},
		{"previous halt with replace", []string{"--previous-rollout=halt"}},
		{"max equal to poll", []string{"--poll-interval=1m", "--max-poll-interval=1m"}},
		{"simulate without application-id", []string{"--simulate"}},
		{"simulate ignores bad sign-in inputs", []string{"--simulate", "--tenant-id=not-a-guid", "--auth=nonsense"}},
		{"api-url on localhost", []string{"--api-url=http://localhost:8080"}},
		{"api-url on ::1", []string{"--api-url=http://[::1]:8080/"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{}
			if tt.name == "simulate without application-id" {
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
	_, err := load([]string{"--rollout-percentage=110", "--wait-for=forever", "--halt-rollout", "--finalize-rollout", "--timeout=soon"},
		envOf(map[string]string{"STOREFLIGHT_APPLICATION_ID": ""}), t.TempDir())
	wantInputErrors(t, err, "rollout-percentage", "wait-for", "halt-rollout", "timeout", "application-id")
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) || len(joined.Unwrap()) != 6 {
		t.Errorf("want 6 joined problems, got:\n%v", err)
	}
	if want := `rollout-percentage: "110" is not a percentage: give a decimal from 0 to 100 with '.' as the separator, like 12.5`; !strings.Contains(err.Error(), want) {
		t.Errorf("error lacks %q:\n%v", want, err)
	}
}

func TestErrorNamesEnvironmentSource(t *testing.T) {
	t.Parallel()
	_, err := load(nil, envOf(map[string]string{"STOREFLIGHT_WAIT_FOR": "soon"}), t.TempDir())
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
	_, err = load([]string{"--client-secret=cs-0123456789", "--wait-for=x"}, envOf(nil), t.TempDir())
	if err == nil || strings.Contains(err.Error(), "cs-0123456789") {
		t.Errorf("error leaks or is missing: %v", err)
	}
}

func TestInputsTable(t *testing.T) {
	t.Parallel()
	designOrder := []string{"tenant-id", "client-id", "auth", "client-secret", "oidc-audience", "federated-token-file",
		"service-connection-id", "application-id", "flight-id", "flight-name", "submission-id", "pending-submission",
		"previous-rollout", "update", "packages", "package-mode", "rollout-percentage", "halt-rollout", "finalize-rollout",
		"mandatory-update", "mandatory-update-effective-date", "target-publish-mode", "target-publish-date",
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
