// Package config reads storeflight's inputs from flags and the environment,
// checks all of them before anything is sent to the Store, and returns a
// typed Config. It is, with internal/ci, the only package that reads the
// environment, so the rest of the program can be tested with plain values.
package config

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// value is one input's raw text and where it came from, so that an error
// can say which flag or variable to fix.
type value struct {
	text string
	from string // "--name", "$STOREFLIGHT_NAME", "default"
}

// given reports whether the input was set by the user rather than defaulted.
func (v value) given() bool { return v.text != "" && v.from != "default" }

// Load reads every input from args (flags, without the program name) and
// getenv, strongest first: --name=value, $INPUT_NAME (hyphens kept, then
// underscores), $STOREFLIGHT_NAME, the input's fallback variable, its
// default. Empty values count as unset. Every problem is reported at once,
// joined, each an *InputError matching ErrInvalidInput. Globs in packages
// are expanded relative to the working directory.
//
// With --help or --version, Load returns a Config with ShowHelp or
// ShowVersion set and does not check the other inputs.
func Load(args []string, getenv func(string) string) (*Config, error) {
	return load(args, getenv, "")
}

// load is Load with the directory that relative package patterns start from
// ("" for the working directory), so tests need not change directory.
func load(args []string, getenv func(string) string, root string) (*Config, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	c := &Config{}
	var errs []error
	flags, err := parseFlags(args, c)
	errs = append(errs, err...)
	if c.ShowHelp || c.ShowVersion {
		return c, nil
	}

	raw := make(map[string]value, len(Inputs))
	for _, in := range Inputs {
		raw[in.Name] = resolve(in, flags, getenv)
	}
	p := &parser{raw: raw}

	c.Simulate = p.boolean("simulate")
	if !c.Simulate {
		// Sign-in inputs mean nothing to the simulator, so they are only
		// checked for a real run.
		c.TenantID = p.guid("tenant-id")
		c.ClientID = p.guid("client-id")
	} else {
		c.TenantID, c.ClientID = raw["tenant-id"].text, raw["client-id"].text
	}
	if c.Simulate {
		c.Auth = AuthAuto
	} else {
		c.Auth = AuthMode(p.enum("auth", string(AuthAuto), string(AuthGitHubOIDC), string(AuthFederatedTokenFile), string(AuthAzurePipelines), string(AuthClientSecret)))
	}
	c.ClientSecret = Secret(raw["client-secret"].text)
	c.OIDCAudience = raw["oidc-audience"].text
	c.FederatedTokenFile = raw["federated-token-file"].text
	c.FederatedToken = Secret(strings.TrimSpace(getenv("AZURE_FEDERATED_TOKEN")))
	c.ServiceConnectionID = raw["service-connection-id"].text
	c.GitHub = GitHubOIDC{
		RequestURL:   strings.TrimSpace(getenv("ACTIONS_ID_TOKEN_REQUEST_URL")),
		RequestToken: Secret(strings.TrimSpace(getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN"))),
	}
	c.AzurePipelines = AzurePipelines{
		SystemAccessToken: Secret(strings.TrimSpace(getenv("SYSTEM_ACCESSTOKEN"))),
		OIDCRequestURI:    strings.TrimSpace(getenv("SYSTEM_OIDCREQUESTURI")),
	}
	c.AuthorityHost = p.url("authority-host", false)

	c.ApplicationID = p.applicationID()
	c.FlightID = p.guid("flight-id")
	c.FlightName = raw["flight-name"].text
	c.SubmissionID = p.digits("submission-id")
	c.PendingSubmission = PendingPolicy(p.enum("pending-submission", string(PendingFail), string(PendingReuse), string(PendingReplace)))
	c.PreviousRollout = PreviousRolloutPolicy(p.enum("previous-rollout", string(PreviousFail), string(PreviousFinalize), string(PreviousHalt)))

	c.Update = p.boolean("update")
	c.Packages = p.packages(root)
	c.PackageMode = PackageMode(p.enum("package-mode", string(PackageReplace), string(PackageAdd)))
	if raw["mandatory-update"].given() {
		b := p.boolean("mandatory-update")
		c.MandatoryUpdate = &b
	}
	c.MandatoryUpdateEffectiveDate = p.date("mandatory-update-effective-date")
	c.TargetPublishMode = p.enum("target-publish-mode", "Immediate", "Manual", "SpecificDate")
	c.TargetPublishDate = p.date("target-publish-date")
	if v := raw["notes-for-certification"]; v.given() {
		s := v.text
		c.NotesForCertification = &s
	}
	c.Commit = p.boolean("commit")

	c.RolloutPercentage = p.percentage("rollout-percentage")
	c.HaltRollout = p.boolean("halt-rollout")
	c.FinalizeRollout = p.boolean("finalize-rollout")

	c.WaitFor = WaitFor(p.enum("wait-for", string(WaitNone), string(WaitCommitted), string(WaitCertified), string(WaitPublished)))
	c.PollInterval = p.duration("poll-interval")
	c.MaxPollInterval = p.duration("max-poll-interval")
	c.Timeout = p.duration("timeout")
	c.OnTimeout = OnTimeout(p.enum("on-timeout", string(OnTimeoutFail), string(OnTimeoutPass)))

	c.RequestBudget = p.budget("request-budget")
	c.DryRun = p.boolean("dry-run")
	c.OutputFile = raw["output-file"].text
	c.APIURL = p.url("api-url", true)
	c.ExtraRootCerts = p.extraRootCerts(root)
	c.Debug = p.boolean("debug") || getenv("RUNNER_DEBUG") == "1" ||
		strings.EqualFold(getenv("SYSTEM_DEBUG"), "true") || strings.EqualFold(getenv("CI_DEBUG_TRACE"), "true")

	errs = append(errs, p.errs...)
	errs = append(errs, conflicts(c, raw)...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// parseFlags returns the inputs given as flags, and sets the meta flags on
// c. It accepts --name=value, --name value, -name forms and a bare --name
// for boolean inputs. A flag given twice keeps the last value, except
// packages, whose values add up.
func parseFlags(args []string, c *Config) (map[string]value, []error) {
	flags := map[string]value{}
	var errs []error
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			if rest := args[i+1:]; len(rest) > 0 {
				errs = append(errs, &InputError{Input: "arguments", Problem: fmt.Sprintf("unexpected arguments %q: every input is a --name=value flag", rest)})
			}
			break
		}
		if !strings.HasPrefix(arg, "-") || arg == "-" {
			errs = append(errs, &InputError{Input: "arguments", Problem: fmt.Sprintf("unexpected argument %q: every input is a --name=value flag (a boolean takes --name=false, not --name false)", arg)})
			continue
		}
		name, text, hasValue := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(arg, "-"), "-"), "=")
		switch name {
		case "help", "h":
			c.ShowHelp = true
			continue
		case "version":
			c.ShowVersion = true
			continue
		}
		if name == "" {
			errs = append(errs, &InputError{Input: "arguments", Problem: fmt.Sprintf("flag %q has no name: every input is a --name=value flag", arg)})
			continue
		}
		in, ok := lookupInput(name)
		if !ok {
			errs = append(errs, &InputError{Input: name, Problem: fmt.Sprintf("unknown flag %s: run --help for the list of inputs", "--"+name)})
			continue
		}
		if !hasValue {
			if boolInputs[name] {
				text = "true"
			} else if i+1 < len(args) {
				i++
				text = args[i]
			} else {
				errs = append(errs, &InputError{Input: name, Problem: fmt.Sprintf("flag --%s needs a value: %s", name, in.Description)})
				continue
			}
		}
		text = strings.TrimSpace(text)
		if name == "packages" && flags[name].text != "" && text != "" {
			text = flags[name].text + "\n" + text
		}
		flags[name] = value{text: text, from: "--" + name}
	}
	return flags, errs
}

// resolve picks the strongest non-empty source of one input.
func resolve(in Input, flags map[string]value, getenv func(string) string) value {
	if v, ok := flags[in.Name]; ok && v.text != "" {
		return v
	}
	for _, env := range in.EnvNames() {
		if t := strings.TrimSpace(getenv(env)); t != "" {
			return value{text: t, from: "$" + env}
		}
	}
	return value{text: in.Default, from: "default"}
}

// parser turns raw inputs into typed values, collecting every problem.
type parser struct {
	raw  map[string]value
	errs []error
}

// bad records that input's value is not acceptable; accepts says what is.
func (p *parser) bad(name, what, accepts string) {
	v := p.raw[name]
	shown := strconv.Quote(v.text)
	if in, _ := lookupInput(name); in.Secret {
		shown = "the value"
	}
	src := ""
	if v.from != "default" && v.from != "--"+name {
		src = " (from " + v.from + ")"
	}
	p.errs = append(p.errs, &InputError{Input: name, Problem: fmt.Sprintf("%s%s is not %s: %s", shown, src, what, accepts)})
}

func (p *parser) boolean(name string) bool {
	t := p.raw[name].text
	switch {
	case t == "":
		return false
	case strings.EqualFold(t, "true"):
		return true
	case strings.EqualFold(t, "false"):
		return false
	}
	p.bad(name, "a boolean", "give true or false")
	return false
}

// enum matches case-insensitively and returns the documented spelling.
func (p *parser) enum(name string, allowed ...string) string {
	t := p.raw[name].text
	if t == "" {
		return ""
	}
	for _, a := range allowed {
		if strings.EqualFold(t, a) {
			return a
		}
	}
	p.bad(name, "one of the accepted values", "give one of "+strings.Join(allowed, ", "))
	return ""
}

var guidRE = regexp.MustCompile(`^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$`)

func (p *parser) guid(name string) string {
	t := p.raw[name].text
	if t == "" || guidRE.MatchString(t) {
		return t
	}
	p.bad(name, "a GUID", "give 36 characters like 00000000-0000-0000-0000-000000000000")
	return ""
}

var appIDRE = regexp.MustCompile(`^[0-9A-Z]{12}$`)

func (p *parser) applicationID() string {
	t := p.raw["application-id"].text
	if t == "" || appIDRE.MatchString(t) {
		return t
	}
	p.bad("application-id", "a Store ID", "give the app's 12-character Store ID in capitals and digits, like 9NBLGGH4R315 (Partner Center, Product identity)")
	return ""
}

var digitsRE = regexp.MustCompile(`^[0-9]{1,20}$`)

func (p *parser) digits(name string) string {
	t := p.raw[name].text
	if t == "" || digitsRE.MatchString(t) {
		return t
	}
	p.bad(name, "a submission ID", "give its numeric ID, digits only, like 1152921505699999999")
	return ""
}

var decimalRE = regexp.MustCompile(`^([0-9]+(\.[0-9]*)?|\.[0-9]+)$`)

func (p *parser) percentage(name string) *float64 {
	t := p.raw[name].text
	if t == "" {
		return nil
	}
	f, err := strconv.ParseFloat(t, 64)
	if !decimalRE.MatchString(t) || err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 100 {
		p.bad(name, "a percentage", "give a decimal from 0 to 100 with '.' as the separator, like 12.5")
		return nil
	}
	return &f
}

func (p *parser) date(name string) *time.Time {
	t := p.raw[name].text
	if t == "" {
		return nil
	}
	d, err := time.Parse(time.RFC3339, t)
	if err != nil {
		p.bad(name, "an ISO 8601 date-time", "give a date, a time and a time zone, like 2026-05-01T09:00:00Z")
		return nil
	}
	return &d
}

func (p *parser) duration(name string) time.Duration {
	t := p.raw[name].text
	d, err := time.ParseDuration(t)
	if err != nil || d <= 0 {
		p.bad(name, "a positive duration", "give a Go duration like 90s, 15m or 2h")
		return 0
	}
	return d
}

func (p *parser) budget(name string) int {
	t := p.raw[name].text
	n, err := strconv.Atoi(t)
	if err != nil || n < 0 {
		p.bad(name, "a request budget", "give a whole number of requests per minute, 0 for no limit")
		return 0
	}
	return n
}

// url parses an absolute https URL; allowLoopbackHTTP also admits http to
// this machine, for tests and local simulators.
func (p *parser) url(name string, allowLoopbackHTTP bool) *url.URL {
	t := p.raw[name].text
	u, err := url.Parse(t)
	accepts := "give an https URL like " + mustInput(name).Default
	if allowLoopbackHTTP {
		accepts += " (http only for localhost or 127.0.0.1)"
	}
	switch {
	case err != nil || u.Host == "" || u.Opaque != "":
		p.bad(name, "an absolute URL", accepts)
		return nil
	case u.User != nil:
		p.bad(name, "a URL without credentials", "remove the user and password: they would be logged")
		return nil
	case u.RawQuery != "" || u.Fragment != "":
		p.bad(name, "a base URL", "remove the query and fragment")
		return nil
	case u.Scheme == "https":
		return u
	case u.Scheme == "http" && allowLoopbackHTTP && isLoopback(u.Hostname()):
		return u
	}
	p.bad(name, "an https URL", accepts)
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func mustInput(name string) Input {
	in, ok := lookupInput(name)
	if !ok {
		panic("config: no input " + name)
	}
	return in
}

func (p *parser) packages(root string) []Package {
	v := p.raw["packages"]
	if v.text == "" {
		return nil
	}
	pkgs, errs := expandPackages(root, v.text)
	p.errs = append(p.errs, errs...)
	return pkgs
}

// conflicts finds combinations of inputs that cannot all be honoured.
func conflicts(c *Config, raw map[string]value) []error {
	var errs []error
	add := func(input, problem string) {
		errs = append(errs, &InputError{Input: input, Problem: problem})
	}
	given := func(name string) bool { return raw[name].given() }

	if c.HaltRollout && c.FinalizeRollout {
		add("halt-rollout", "cannot be combined with finalize-rollout: halting and finalizing a rollout are opposites; choose one")
	}
	if c.HaltRollout && given("rollout-percentage") {
		add("halt-rollout", "cannot be combined with rollout-percentage: a halted rollout cannot be raised; drop one of them")
	}
	if !c.Commit && c.WantsUpdate() {
		var steps []string
		if c.HaltRollout {
			steps = append(steps, "halt-rollout")
		}
		if c.FinalizeRollout {
			steps = append(steps, "finalize-rollout")
		}
		if c.WaitFor != "" && c.WaitFor != WaitNone {
			steps = append(steps, "wait-for: "+string(c.WaitFor))
		}
		if len(steps) > 0 {
			add("commit", "false cannot be combined with "+strings.Join(steps, ", ")+" on an update: an uncommitted submission never advances; set commit: true or drop them")
		}
	}
	if given("flight-id") && given("flight-name") {
		add("flight-id", "cannot be combined with flight-name: name the flight one way only")
	}
	if c.Simulate && given("api-url") {
		add("api-url", "cannot be combined with simulate: the simulator runs in-process; drop one of them")
	}
	if c.PreviousRollout == PreviousHalt && c.PackageMode == PackageAdd {
		add("previous-rollout", "halt cannot be combined with package-mode: add: the new submission would ship the halted packages again; use package-mode: replace or previous-rollout: finalize")
	}
	if c.TargetPublishMode == "SpecificDate" && c.TargetPublishDate == nil && !given("target-publish-date") {
		add("target-publish-date", "is required with target-publish-mode: SpecificDate: give an ISO 8601 date-time like 2026-05-01T09:00:00Z")
	}
	if given("target-publish-date") && c.TargetPublishMode != "SpecificDate" && !(given("target-publish-mode") && c.TargetPublishMode == "") {
		add("target-publish-date", "is only used with target-publish-mode: SpecificDate: set that mode or drop the date")
	}
	if c.WantsUpdate() && !given("flight-id") && !given("flight-name") {
		var named []string
		for _, n := range []string{"update", "packages", "notes-for-certification", "target-publish-mode", "target-publish-date", "mandatory-update", "mandatory-update-effective-date"} {
			if given(n) && (n != "update" || c.Update) {
				named = append(named, n)
			}
		}
		add("flight-id", "updating an app's own submission is not supported in this release: name a flight with flight-id or flight-name (update inputs given: "+strings.Join(named, ", ")+")")
	}
	if c.ApplicationID == "" && !given("application-id") && !c.Simulate {
		add("application-id", "is required: give the app's 12-character Store ID, like 9NBLGGH4R315 (Partner Center, Product identity)")
	}
	if c.PollInterval > 0 && c.MaxPollInterval > 0 && c.MaxPollInterval < c.PollInterval {
		add("max-poll-interval", fmt.Sprintf("%s is shorter than poll-interval %s: give a max-poll-interval at least as long", c.MaxPollInterval, c.PollInterval))
	}
	return errs
}
