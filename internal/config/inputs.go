package config

import (
	"fmt"
	"io"
	"strings"
)

// Input describes one input: its action.yml name, its default, and where
// else it may come from. Inputs is the single list that drives flag parsing,
// --help and the check that action.yml declares the same inputs.
type Input struct {
	Name        string // as in action.yml, e.g. "rollout-percentage"
	Default     string // "" when the input has no default
	Description string
	EnvFallback string // environment variable read after the input's own sources, e.g. AZURE_TENANT_ID
	Secret      bool   // never echoed in errors or help
	Group       Group  // where --help lists it
}

// Group is what a user is doing when they reach for an input; --help lists
// the inputs by group, in the order of Groups.
type Group string

// The groups of --help, in order.
const (
	GroupSignIn  Group = "Sign-in"
	GroupTarget  Group = "Which app or flight"
	GroupChange  Group = "What to change"
	GroupRollout Group = "Rollout and health gate"
	GroupWait    Group = "Waiting"
	GroupRun     Group = "The run itself"
)

// Groups lists the groups in the order --help shows them.
var Groups = []Group{GroupSignIn, GroupTarget, GroupChange, GroupRollout, GroupWait, GroupRun}

// Inputs lists every input in the order of DESIGN.md's Inputs table, then
// debug, which only the CLI and the runner's debug switches need.
var Inputs = []Input{
	{Name: "tenant-id", Group: GroupSignIn, EnvFallback: "AZURE_TENANT_ID", Description: "Entra tenant ID (GUID)"},
	{Name: "client-id", Group: GroupSignIn, EnvFallback: "AZURE_CLIENT_ID", Description: "Entra application (client) ID (GUID)"},
	{Name: "auth", Group: GroupSignIn, Default: "auto", Description: "auto, github-oidc, federated-token-file, azure-pipelines, client-secret"},
	{Name: "client-secret", Group: GroupSignIn, Secret: true, Description: "the application's secret (only for auth client-secret)"},
	{Name: "oidc-audience", Group: GroupSignIn, Default: "api://AzureADTokenExchange", Description: "audience of the GitHub OIDC token"},
	{Name: "federated-token-file", Group: GroupSignIn, EnvFallback: "AZURE_FEDERATED_TOKEN_FILE", Description: "file holding the federated token, re-read at every sign-in; with no file, the token itself from $AZURE_FEDERATED_TOKEN (GitLab id_tokens)"},
	{Name: "service-connection-id", Group: GroupSignIn, Description: "Azure Pipelines service connection (auth azure-pipelines)"},
	{Name: "application-id", Group: GroupTarget, Description: "Store ID of the app, 12 characters like 9NBLGGH4R315"},
	{Name: "target", Group: GroupTarget, Description: "flight or app: app acts on the app's own (retail) submission; flight is implied by flight-id or flight-name; a run needs a flight or target: app"},
	{Name: "flight-id", Group: GroupTarget, Description: "package flight GUID"},
	{Name: "flight-name", Group: GroupTarget, Description: "package flight friendly name, instead of flight-id"},
	{Name: "submission-id", Group: GroupTarget, Description: "act on this submission (its numeric ID)"},
	{Name: "pending-submission", Group: GroupTarget, Default: "fail", Description: "fail, reuse, replace: what to do with a pending submission that is not this pipeline's own"},
	{Name: "previous-rollout", Group: GroupTarget, Default: "fail", Description: "fail, finalize, halt: what to do with a rollout still in progress before creating a submission"},
	{Name: "update", Group: GroupChange, Default: "false", Description: "force the update step even with no field to change"},
	{Name: "packages", Group: GroupChange, Description: "files or globs, one per line or comma separated (.msix .msixbundle .msixupload .appx .appxbundle .appxupload)"},
	{Name: "package-mode", Group: GroupChange, Default: "replace", Description: "replace, add, supersede"},
	{Name: "release-notes", Group: GroupChange, Description: "\"What's new\" text for every listing language, at most 1,500 characters (app submissions)"},
	{Name: "release-notes-dir", Group: GroupChange, Description: "folder of <language>.txt files, per-language \"What's new\" (app submissions)"},
	{Name: "rollout-percentage", Group: GroupRollout, Description: "gradual rollout percentage, above 0 and at most 100"},
	{Name: "halt-rollout", Group: GroupRollout, Default: "false", Description: "halt the rollout of the target submission"},
	{Name: "finalize-rollout", Group: GroupRollout, Default: "false", Description: "finalize the rollout of the target submission (with rollout-steps: after the last step)"},
	{Name: "rollout-steps", Group: GroupRollout, Description: "ascending percentages like 5,20,50,100: advance one step per run behind the health gate"},
	{Name: "health-gate", Group: GroupRollout, Default: "failures", Description: "failures (compare crash and hang rates, new against old) or off (advance on schedule)"},
	{Name: "health-max-ratio", Group: GroupRollout, Default: "1.5", Description: "new/old failure-rate ratio from which a significant regression halts (above 1)"},
	{Name: "health-min-failures", Group: GroupRollout, Default: "15", Description: "failures expected on the new side (at the old rate) before judging (above 0)"},
	{Name: "health-data-lag", Group: GroupRollout, Default: "48h", Description: "how long after a UTC day ends before its data counts"},
	{Name: "on-unhealthy", Group: GroupRollout, Default: "halt", Description: "halt (halt the rollout, exit 4) or fail (change nothing, exit 1)"},
	{Name: "mandatory-update", Group: GroupChange, Description: "true or false"},
	{Name: "mandatory-update-effective-date", Group: GroupChange, Description: "ISO 8601 date-time"},
	{Name: "target-publish-mode", Group: GroupChange, Description: "Immediate, Manual, SpecificDate"},
	{Name: "target-publish-date", Group: GroupChange, Description: "ISO 8601 date-time, required with SpecificDate"},
	{Name: "notes-for-certification", Group: GroupChange, Description: "text for the certification testers"},
	{Name: "commit", Group: GroupChange, Default: "true", Description: "commit after updating"},
	{Name: "wait-for", Group: GroupWait, Default: "none", Description: "none, committed, certified, published"},
	{Name: "poll-interval", Group: GroupWait, Default: "30s", Description: "first wait between status reads"},
	{Name: "max-poll-interval", Group: GroupWait, Default: "5m", Description: "longest wait between status reads"},
	{Name: "timeout", Group: GroupWait, Default: "60m", Description: "how long the wait step may take in all, every read and retry in it included"},
	{Name: "on-timeout", Group: GroupWait, Default: "fail", Description: "fail (exit 3) or pass (exit 0 with a notice) when the wait times out"},
	{Name: "request-budget", Group: GroupRun, Default: "20", Description: "most Store requests in any minute (0: no limit); lower it when jobs share a tenant"},
	{Name: "dry-run", Group: GroupRun, Default: "false", Description: "read everything, print the plan and the changes it would make, change nothing"},
	{Name: "simulate", Group: GroupRun, Default: "false", Description: "run against the built-in Store simulator"},
	{Name: "output-file", Group: GroupRun, Description: "also write every output to this file (JSON, or dotenv if it ends in .env); its folder must exist (GitLab CI: storeflight.env when unset)"},
	{Name: "api-url", Group: GroupRun, Default: "https://manage.devcenter.microsoft.com", Description: "Store API base URL (tests, proxies)"},
	{Name: "authority-host", Group: GroupSignIn, Default: "https://login.microsoftonline.com/", Description: "Entra authority host (tests, sovereign clouds)"},
	{Name: "extra-root-certs", Group: GroupRun, Description: "file of PEM root certificates to trust besides the system's (a TLS-inspecting proxy, a local simulator); works on every OS, unlike SSL_CERT_FILE"},
	{Name: "debug", Group: GroupRun, Default: "false", Description: "log every request's method, path, status and correlation ID (also on with RUNNER_DEBUG=1, SYSTEM_DEBUG=true or CI_DEBUG_TRACE=true)"},
}

// boolInputs are the inputs a bare --name sets to true. mandatory-update is
// not among them: it has three states, and a bare flag would hide which one
// was meant.
var boolInputs = map[string]bool{
	"update": true, "halt-rollout": true, "finalize-rollout": true, "commit": true,
	"dry-run": true, "simulate": true, "debug": true,
}

func lookupInput(name string) (Input, bool) {
	for _, in := range Inputs {
		if in.Name == name {
			return in, true
		}
	}
	return Input{}, false
}

// EnvNames returns the environment variables an input is read from, strongest
// first: INPUT_NAME with hyphens kept, INPUT_NAME with underscores,
// STOREFLIGHT_NAME, then the input's fallback variable if it has one.
func (in Input) EnvNames() []string {
	upper := strings.ToUpper(in.Name)
	under := strings.ReplaceAll(upper, "-", "_")
	names := []string{"INPUT_" + upper}
	if under != upper {
		names = append(names, "INPUT_"+under)
	}
	names = append(names, "STOREFLIGHT_"+under)
	if in.EnvFallback != "" {
		names = append(names, in.EnvFallback)
	}
	return names
}

// Usage writes the --help text, generated from Inputs so it cannot drift
// from what Load accepts: the inputs by Group, two examples and the exit
// codes.
func Usage(w io.Writer, program string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: %s [--input=value ...]\n\n", program)
	b.WriteString(wrap("", "Publishes a Windows app to the Microsoft Store from CI: updates a package flight's "+
		"submission or the app's own, uploads and commits it, waits for it and steers its gradual rollout. "+
		"Each input is read from --name=value, $INPUT_NAME or $STOREFLIGHT_NAME (upper case, hyphens as "+
		"underscores), strongest first; an empty value means unset."))
	for _, g := range Groups {
		fmt.Fprintf(&b, "\n%s:\n", g)
		for _, in := range Inputs {
			if in.Group == g {
				writeInput(&b, in)
			}
		}
		if g == GroupRun {
			b.WriteString("  --help, -h\n      print this help\n  --version\n      print the version\n")
		}
	}
	b.WriteString(usageExamples)
	b.WriteString(usageExitCodes)
	_, err := io.WriteString(w, b.String())
	return err
}

func writeInput(b *strings.Builder, in Input) {
	flag := "--" + in.Name
	if boolInputs[in.Name] {
		flag += "[=true|false]"
	} else {
		flag += "=VALUE"
	}
	text := in.Description
	if in.Default != "" {
		text += " (default " + in.Default + ")"
	}
	if in.EnvFallback != "" {
		text += " (else $" + in.EnvFallback + ")"
	}
	fmt.Fprintf(b, "  %s\n%s", flag, wrap("      ", text))
}

// helpWidth is where --help wraps its text: it reads in an 80-column
// terminal and in a CI log alike.
const helpWidth = 80

// wrap breaks text into lines of at most helpWidth columns, each starting
// with indent; a word longer than a line stands alone.
func wrap(indent, text string) string {
	var b strings.Builder
	line := indent
	for _, word := range strings.Fields(text) {
		if line != indent && len(line)+1+len(word) > helpWidth {
			b.WriteString(line + "\n")
			line = indent
		}
		if line != indent {
			line += " "
		}
		line += word
	}
	b.WriteString(line + "\n")
	return b.String()
}

const usageExamples = `
Examples:
  Rehearse a release against the built-in Store simulator (no account needed):
    storeflight --simulate

  Release to a flight at a 10% rollout; end once the Store has the upload:
    storeflight --application-id=9NBLGGH4R315 --flight-name='Beta testers' \
      --packages='out/**/*.msixupload' --rollout-percentage=10 \
      --wait-for=committed

  Days later, once it is published, raise its rollout to 50%:
    storeflight --application-id=9NBLGGH4R315 --flight-name='Beta testers' \
      --rollout-percentage=50
`

const usageExitCodes = `
Exit codes:
  0    done (a health hold included)
  1    failed: Entra ID or the Store refused, a submission failed, or the
       outputs could not be written
  2    invalid inputs: refused before anything was changed
  3    timed out while the submission is still progressing: run again later
  4    the health gate halted the rollout
  130  interrupted by SIGINT (143: SIGTERM): nothing more is sent; a second
       Ctrl-C quits at once
`

// ShortUsage is what a run with no input at all prints: where to start.
func ShortUsage(w io.Writer, program string) error {
	_, err := fmt.Fprintf(w, `%[1]s publishes Windows apps to the Microsoft Store from CI; it was given no input.
Try:
  %[1]s --simulate    rehearse a release against the built-in Store simulator
  %[1]s --help        every input, grouped, with examples and exit codes
`, program)
	return err
}
