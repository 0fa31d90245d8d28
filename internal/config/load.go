// Package config reads storeflight's inputs from flags and the environment,
// checks all of them before anything is sent to the Store, and returns a
// typed Config. It is, with internal/ci, the only package that reads the
// environment, so the rest of the program can be tested with plain values.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
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
// joined, each an *InputError matching ErrInvalidInput; the Config is then
// returned too, as far as it could be read (bad values left zero), so that
// a caller can look for the problems it checks itself, such as sign-in, in
// the same round. Globs in packages are expanded relative to the working
// directory.
//
// With --help or --version, or with no input at all, Load returns a Config
// with ShowHelp, ShowVersion or NoInputs set and does not check the other
// inputs.
func Load(args []string, getenv func(string) string) (*Config, error) {
	return load(args, getenv, "")
}

// load is Load with the directory that relative package patterns and
// release-notes-dir start from ("" for the working directory), so tests
// need not change directory.
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
	if len(args) == 0 && !anyInputGiven(raw) {
		c.NoInputs = true
		return c, nil
	}
	p := &parser{raw: raw, root: root}
	readSignIn(c, p, getenv)
	readTarget(c, p)
	readUpdate(c, p)
	readRollout(c, p)

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
		return c, errors.Join(errs...)
	}
	return c, nil
}

// anyInputGiven reports whether any input came from a flag or from its own
// INPUT_* or STOREFLIGHT_* variable (not a default, not a fallback such as
// $AZURE_TENANT_ID that a developer's shell may carry).
func anyInputGiven(raw map[string]value) bool {
	for _, v := range raw {
		if strings.HasPrefix(v.from, "--") || strings.HasPrefix(v.from, "$INPUT_") || strings.HasPrefix(v.from, "$STOREFLIGHT_") {
			return true
		}
	}
	return false
}

func readSignIn(c *Config, p *parser, getenv func(string) string) {
	raw := p.raw
	c.Simulate = p.boolean("simulate")
	if !c.Simulate {
		// Sign-in inputs mean nothing to the simulator, so they are only
		// checked for a real run.
		c.TenantID = p.guid("tenant-id")
		c.ClientID = p.guid("client-id")
		c.Auth = AuthMode(p.enum("auth", string(AuthAuto), string(AuthGitHubOIDC), string(AuthFederatedTokenFile), string(AuthAzurePipelines), string(AuthClientSecret)))
	} else {
		c.TenantID, c.ClientID = raw["tenant-id"].text, raw["client-id"].text
		c.Auth = AuthAuto
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
}

func readTarget(c *Config, p *parser) {
	c.ApplicationID = p.applicationID()
	c.Target = Target(p.enum("target", string(TargetFlight), string(TargetApp)))
	c.FlightID = p.guid("flight-id")
	c.FlightName = p.raw["flight-name"].text
	c.SubmissionID = p.digits("submission-id")
	c.PendingSubmission = PendingPolicy(p.enum("pending-submission", string(PendingFail), string(PendingReuse), string(PendingReplace)))
	c.PreviousRollout = PreviousRolloutPolicy(p.enum("previous-rollout", string(PreviousFail), string(PreviousFinalize), string(PreviousHalt)))
}

func readUpdate(c *Config, p *parser) {
	raw := p.raw
	c.Update = p.boolean("update")
	c.Packages = p.packages()
	c.PackageMode = PackageMode(p.enum("package-mode", string(PackageReplace), string(PackageAdd), string(PackageSupersede)))
	c.ReleaseNotes = p.releaseNotes("release-notes")
	c.ReleaseNotesDir = p.folder("release-notes-dir")
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
}

func readRollout(c *Config, p *parser) {
	c.RolloutPercentage = p.percentage("rollout-percentage")
	c.HaltRollout = p.boolean("halt-rollout")
	c.FinalizeRollout = p.boolean("finalize-rollout")
	c.RolloutSteps = p.steps("rollout-steps")
	c.HealthGate = HealthGate(p.enum("health-gate", string(HealthGateFailures), string(HealthGateOff)))
	c.HealthMaxRatio = p.decimalAbove("health-max-ratio", 1, "a failure-rate ratio", "give a decimal above 1 with '.' as the separator, like 1.5")
	c.HealthMinFailures = p.decimalAbove("health-min-failures", 0, "a number of failures", "give a number above 0 with '.' as the separator, like 15")
	c.HealthDataLag = p.lag("health-data-lag")
	c.OnUnhealthy = OnUnhealthy(p.enum("on-unhealthy", string(OnUnhealthyHalt), string(OnUnhealthyFail)))
}

// parseFlags returns the inputs given as flags, and sets the meta flags on
// c. It accepts --name=value, --name value, -name forms and a bare --name
// for boolean inputs. A flag given twice keeps the last value, except
// packages, whose values add up.
func parseFlags(args []string, c *Config) (map[string]value, []error) {
	flags := map[string]value{}
	var errs []error
	var strays []string // arguments that are not flags
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if arg == "--" {
			strays = append(strays, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(arg, "-") || arg == "-" {
			strays = append(strays, arg)
			continue
		}
		name, text, hasValue := strings.Cut(flagName(arg), "=")
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
			switch {
			case boolInputs[name]:
				text = "true"
			case i+1 < len(args) && isFlag(args[i+1]):
				// An empty unquoted variable ($NOTES) leaves the next
				// flag in the value's place; taking it as the value would
				// both lose that flag and send it to the Store as text.
				errs = append(errs, &InputError{Input: name, Problem: fmt.Sprintf("flag --%s has no value: the next argument, %s, is a flag, not a value (an empty unquoted variable?): quote the value (--%s \"$VALUE\") or write --%s=VALUE", name, args[i+1], name, name)})
				continue
			case i+1 < len(args):
				i++
				text = args[i]
			default:
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
	if len(strays) > 0 {
		errs = append(errs, strayArguments(strays, flags))
	}
	return flags, errs
}

// flagName drops the one or two dashes of a flag.
func flagName(arg string) string { return strings.TrimPrefix(strings.TrimPrefix(arg, "-"), "-") }

// isFlag reports whether arg is one of storeflight's own flags, in any of
// the forms parseFlags accepts.
func isFlag(arg string) bool {
	if !strings.HasPrefix(arg, "-") {
		return false
	}
	name, _, _ := strings.Cut(flagName(arg), "=")
	switch name {
	case "help", "h", "version":
		return true
	}
	_, ok := lookupInput(name)
	return ok
}

// strayArguments describes arguments that belong to no flag. Package files
// among them are almost always an unquoted glob that the shell expanded
// (--packages out/*.msix became --packages out/a.msix out/b.msix), so they
// get a hint to quote it.
func strayArguments(strays []string, flags map[string]value) error {
	var pkgs int
	for _, a := range strays {
		if isPackageName(a) {
			pkgs++
		}
	}
	if pkgs > 0 {
		input := "arguments"
		if _, ok := flags["packages"]; ok {
			input = "packages"
		}
		return &InputError{Input: input, Problem: fmt.Sprintf("unexpected arguments %q look like package files: the shell expanded an unquoted glob; quote it so that storeflight expands it (--packages 'out/**/*.msixupload'), or separate files with commas", strays)}
	}
	return &InputError{Input: "arguments", Problem: fmt.Sprintf("unexpected arguments %q: every input is a --name=value flag (a boolean takes --name=false, not --name false; a value with spaces needs quotes)", strays)}
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
	root string // where relative paths start; "" for the working directory
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

// decimal parses a plain decimal with '.' (no sign, exponent, NaN or Inf).
func decimal(t string) (float64, bool) {
	if !decimalRE.MatchString(t) {
		return 0, false
	}
	f, err := strconv.ParseFloat(t, 64)
	return f, err == nil && !math.IsInf(f, 0)
}

// isPercentage reports whether f is a rollout percentage: above 0 (a
// rollout of nobody is no rollout; halt is the way to stop one) and at
// most 100.
func isPercentage(f float64) bool { return f > 0 && f <= 100 }

func (p *parser) percentage(name string) *float64 {
	t := p.raw[name].text
	if t == "" {
		return nil
	}
	f, ok := decimal(t)
	if !ok || !isPercentage(f) {
		p.bad(name, "a percentage", "give a decimal above 0 and at most 100 with '.' as the separator, like 12.5")
		return nil
	}
	return &f
}

// steps parses rollout-steps: percentages separated by commas (or white
// space), each above the one before.
func (p *parser) steps(name string) []float64 {
	t := p.raw[name].text
	if t == "" {
		return nil
	}
	const accepts = "give ascending percentages above 0 and at most 100, separated by commas, like 5,20,50,100"
	var out []float64
	for item := range strings.FieldsFuncSeq(t, func(r rune) bool { return r == ',' || unicode.IsSpace(r) }) {
		f, ok := decimal(item)
		switch {
		case !ok || !isPercentage(f):
			p.bad(name, "a list of percentages", fmt.Sprintf("%q is not a percentage: %s", item, accepts))
			return nil
		case len(out) > 0 && f <= out[len(out)-1]:
			p.bad(name, "an ascending list", fmt.Sprintf("%s does not come after %s: %s", item, formatFloat(out[len(out)-1]), accepts))
			return nil
		}
		out = append(out, f)
	}
	if len(out) == 0 {
		p.bad(name, "a list of percentages", accepts)
	}
	return out
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// decimalAbove parses a decimal greater than low.
func (p *parser) decimalAbove(name string, low float64, what, accepts string) float64 {
	f, ok := decimal(p.raw[name].text)
	if !ok || f <= low {
		p.bad(name, what, accepts)
		return 0
	}
	return f
}

// releaseNotesLimit is the Store's limit on a listing's releaseNotes, in
// UTF-16 code units as the Store counts (an emoji counts two).
const releaseNotesLimit = 1500

func (p *parser) releaseNotes(name string) string {
	t := p.raw[name].text
	if n := len(utf16.Encode([]rune(t))); n > releaseNotesLimit {
		p.errs = append(p.errs, &InputError{Input: name, Problem: fmt.Sprintf("is %d characters long (as the Store counts them: an emoji is two): the Store takes at most %d; shorten it", n, releaseNotesLimit)})
		return ""
	}
	return t
}

// folder checks that the input names an existing directory and returns its
// path, relative ones taken from p.root.
func (p *parser) folder(name string) string {
	t := p.raw[name].text
	if t == "" {
		return ""
	}
	path := t
	if p.root != "" && !filepath.IsAbs(path) {
		path = filepath.Join(p.root, path)
	}
	fi, err := os.Stat(path)
	switch {
	case err != nil:
		p.bad(name, "a folder", "give an existing folder of <language>.txt files, relative to the working directory: "+statProblem(err))
		return ""
	case !fi.IsDir():
		p.bad(name, "a folder", "it is a file; give the folder that holds the <language>.txt files, like notes/ with notes/en-us.txt")
		return ""
	}
	return path
}

func statProblem(err error) string {
	if errors.Is(err, fs.ErrNotExist) {
		return "it does not exist"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
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

// lag is a duration that may be zero: data that counts as soon as its day
// ends.
func (p *parser) lag(name string) time.Duration {
	d, err := time.ParseDuration(p.raw[name].text)
	if err != nil || d < 0 {
		p.bad(name, "a duration", "give a Go duration like 48h or 36h, or 0s")
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

func (p *parser) packages() []Package {
	v := p.raw["packages"]
	if v.text == "" {
		return nil
	}
	pkgs, errs := expandPackages(p.root, v.text)
	p.errs = append(p.errs, errs...)
	return pkgs
}

// conflicts finds combinations of inputs that cannot all be honoured
// (DESIGN.md, the paragraph after the pipeline's steps), and inputs that
// are required only in some combinations.
func conflicts(c *Config, raw map[string]value) []error {
	var errs []error
	add := func(input, problem string) {
		errs = append(errs, &InputError{Input: input, Problem: problem})
	}
	given := func(name string) bool { return raw[name].given() }
	update := c.WantsUpdate()
	waiting := c.WaitFor != "" && c.WaitFor != WaitNone

	if c.HaltRollout {
		for _, other := range []struct {
			on        bool
			name, why string
		}{
			{c.FinalizeRollout, "finalize-rollout", "halting and finalizing a rollout are opposites; choose one"},
			{given("rollout-percentage"), "rollout-percentage", "a halted rollout cannot be raised; drop one of them"},
			{given("rollout-steps"), "rollout-steps", "the health gate halts by itself when a step is unhealthy; drop halt-rollout"},
		} {
			if other.on {
				add("halt-rollout", "cannot be combined with "+other.name+": "+other.why)
			}
		}
		if update {
			add("halt-rollout", "cannot be combined with an update ("+strings.Join(updateInputs(c, raw), ", ")+"): a new submission is never halted; to halt the published one before the update, use previous-rollout: halt")
		}
	}
	if given("rollout-steps") && given("rollout-percentage") {
		add("rollout-steps", "cannot be combined with rollout-percentage: the steps set the percentage; drop one of them")
	}
	if c.FinalizeRollout && update && c.WaitFor != WaitPublished {
		add("finalize-rollout", fmt.Sprintf("cannot be combined with an update (%s) and wait-for: %s: the new submission cannot be published yet, so the run could only fail after its commit; add wait-for: published, or finalize in a later run", strings.Join(updateInputs(c, raw), ", "), orNone(c.WaitFor)))
	}
	if !c.Commit && update && waiting {
		add("commit", "false cannot be combined with wait-for: "+string(c.WaitFor)+" on an update: an uncommitted submission never advances; set commit: true or wait-for: none")
	}
	errs = append(errs, targetConflicts(c, raw)...)
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
	if c.ApplicationID == "" && !given("application-id") && !c.Simulate {
		add("application-id", "is required: give the app's 12-character Store ID, like 9NBLGGH4R315 (Partner Center, Product identity)")
	}
	if c.PollInterval > 0 && c.MaxPollInterval > 0 && c.MaxPollInterval < c.PollInterval {
		add("max-poll-interval", fmt.Sprintf("%s is shorter than poll-interval %s: give a max-poll-interval at least as long", c.MaxPollInterval, c.PollInterval))
	}
	return errs
}

// targetConflicts checks that a run says what it acts on: exactly one
// flight, or target: app. An unset CI variable for flight-name must never
// turn a flight release into a change for every customer.
func targetConflicts(c *Config, raw map[string]value) []error {
	var errs []error
	add := func(input, problem string) {
		errs = append(errs, &InputError{Input: input, Problem: problem})
	}
	id, name := raw["flight-id"].given(), raw["flight-name"].given()
	flight := id || name || c.Target == TargetFlight
	if id && name {
		add("flight-id", "cannot be combined with flight-name: name the flight one way only")
	}
	if c.Target == TargetApp && (id || name) {
		add("target", "app cannot be combined with flight-id or flight-name: target: app acts on the app's own submission, which every customer outside a flight gets; drop target or the flight")
	}
	switch {
	case id || name || c.Target == TargetApp:
	case raw["target"].given() && c.Target == "": // already reported as a bad value
	case c.Simulate: // the simulator's demo flight
	default:
		add("target", "names nothing to act on: give flight-id or flight-name for a package flight, or target: app for the app's own submission, which every customer outside a flight gets (an empty flight-name, such as an unset CI variable, is no flight)")
	}
	for _, in := range []string{"release-notes", "release-notes-dir"} {
		if raw[in].given() && flight {
			add(in, "cannot be combined with a flight: flights have no listing, so no \"What's new\" text; use it with target: app")
		}
	}
	return errs
}

// updateInputs names the update inputs that were given, for messages.
func updateInputs(c *Config, raw map[string]value) []string {
	var named []string
	for _, n := range []string{"update", "packages", "release-notes", "release-notes-dir", "notes-for-certification",
		"target-publish-mode", "target-publish-date", "mandatory-update", "mandatory-update-effective-date"} {
		if raw[n].given() && (n != "update" || c.Update) {
			named = append(named, n)
		}
	}
	return named
}

func orNone(w WaitFor) string {
	if w == "" {
		return string(WaitNone)
	}
	return string(w)
}
