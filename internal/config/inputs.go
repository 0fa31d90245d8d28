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
}

// Inputs lists every input in the order of DESIGN.md's Inputs table, then
// debug, which only the CLI and the runner's debug switches need.
var Inputs = []Input{
	{Name: "tenant-id", EnvFallback: "AZURE_TENANT_ID", Description: "Entra tenant ID (GUID)"},
	{Name: "client-id", EnvFallback: "AZURE_CLIENT_ID", Description: "Entra application (client) ID (GUID)"},
	{Name: "auth", Default: "auto", Description: "auto, github-oidc, federated-token-file, azure-pipelines, client-secret"},
	{Name: "client-secret", Secret: true, Description: "the application's secret (only for auth client-secret)"},
	{Name: "oidc-audience", Default: "api://AzureADTokenExchange", Description: "audience of the GitHub OIDC token"},
	{Name: "federated-token-file", EnvFallback: "AZURE_FEDERATED_TOKEN_FILE", Description: "file holding the federated token, re-read at every sign-in; with no file, the token itself from $AZURE_FEDERATED_TOKEN (GitLab id_tokens)"},
	{Name: "service-connection-id", Description: "Azure Pipelines service connection (auth azure-pipelines)"},
	{Name: "application-id", Description: "Store ID of the app, 12 characters like 9NBLGGH4R315"},
	{Name: "flight-id", Description: "package flight GUID"},
	{Name: "flight-name", Description: "package flight friendly name, instead of flight-id"},
	{Name: "submission-id", Description: "act on this submission (its numeric ID)"},
	{Name: "pending-submission", Default: "fail", Description: "fail, reuse, replace"},
	{Name: "previous-rollout", Default: "fail", Description: "fail, finalize, halt"},
	{Name: "update", Default: "false", Description: "force the update step even with no field to change"},
	{Name: "packages", Description: "files or globs, one per line or comma separated (.msix .msixbundle .msixupload .appx .appxbundle .appxupload)"},
	{Name: "package-mode", Default: "replace", Description: "replace, add"},
	{Name: "rollout-percentage", Description: "gradual rollout percentage"},
	{Name: "halt-rollout", Default: "false", Description: "halt the rollout of the target submission"},
	{Name: "finalize-rollout", Default: "false", Description: "finalize the rollout of the target submission"},
	{Name: "mandatory-update", Description: "true or false"},
	{Name: "mandatory-update-effective-date", Description: "ISO 8601 date-time"},
	{Name: "target-publish-mode", Description: "Immediate, Manual, SpecificDate"},
	{Name: "target-publish-date", Description: "ISO 8601 date-time, required with SpecificDate"},
	{Name: "notes-for-certification", Description: "text for the certification testers"},
	{Name: "commit", Default: "true", Description: "commit after updating"},
	{Name: "wait-for", Default: "none", Description: "none, committed, certified, published"},
	{Name: "poll-interval", Default: "30s", Description: "first wait between status reads"},
	{Name: "max-poll-interval", Default: "5m", Description: "longest wait between status reads"},
	{Name: "timeout", Default: "60m", Description: "how long the wait step may take in all"},
	{Name: "on-timeout", Default: "fail", Description: "fail (exit 3) or pass (exit 0 with a notice) when the wait times out"},
	{Name: "request-budget", Default: "20", Description: "most Store requests in any minute (0: no limit); lower it when jobs share a tenant"},
	{Name: "dry-run", Default: "false", Description: "read everything, print the plan and the changes it would make, change nothing"},
	{Name: "simulate", Default: "false", Description: "run against the built-in Store simulator"},
	{Name: "output-file", Description: "also write every output to this file (JSON, or dotenv if it ends in .env)"},
	{Name: "api-url", Default: "https://manage.devcenter.microsoft.com", Description: "Store API base URL (tests, proxies)"},
	{Name: "authority-host", Default: "https://login.microsoftonline.com/", Description: "Entra authority host (tests, sovereign clouds)"},
	{Name: "extra-root-certs", Description: "file of PEM root certificates to trust besides the system's (a TLS-inspecting proxy, a local simulator); works on every OS, unlike SSL_CERT_FILE"},
	{Name: "debug", Default: "false", Description: "log every request's method, path, status and correlation ID (also on with RUNNER_DEBUG=1, SYSTEM_DEBUG=true or CI_DEBUG_TRACE=true)"},
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
// from what Load accepts.
func Usage(w io.Writer, program string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: %s [--input=value ...]\n\n", program)
	b.WriteString("Publishes a Windows app's package flight submission to the Microsoft Store.\n")
	b.WriteString("Each input is read from --name=value, $INPUT_NAME or $STOREFLIGHT_NAME (upper case,\n")
	b.WriteString("hyphens as underscores), strongest first; an empty value means unset.\n\nInputs:\n")
	for _, in := range Inputs {
		flag := "--" + in.Name
		if boolInputs[in.Name] {
			flag += "[=true|false]"
		} else {
			flag += "=VALUE"
		}
		fmt.Fprintf(&b, "  %s\n      %s", flag, in.Description)
		if in.Default != "" {
			fmt.Fprintf(&b, " (default %s)", in.Default)
		}
		if in.EnvFallback != "" {
			fmt.Fprintf(&b, " (else $%s)", in.EnvFallback)
		}
		b.WriteString("\n")
	}
	b.WriteString("  --help, -h\n      print this help\n  --version\n      print the version\n")
	_, err := io.WriteString(w, b.String())
	return err
}
