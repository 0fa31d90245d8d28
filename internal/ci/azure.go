package ci

import (
	"fmt"
	"os"
	"strings"
)

// azure reports through Azure Pipelines logging commands.
type azure struct {
	r           *reporter
	tempDir     string
	summaryText strings.Builder
}

// azureEscape escapes a logging command's value as the agent unescapes it.
var azureEscape = strings.NewReplacer("%", "%AZP25", "\r", "%0D", "\n", "%0A", ";", "%3B", "]", "%5D")

func (a *azure) name() string           { return PlatformAzurePipelines }
func (a *azure) startGroup(name string) { a.r.raw("##[group]" + a.neutralize(name) + "\n") }
func (a *azure) endGroup()              { a.r.raw("##[endgroup]\n") }

func (a *azure) mask(values []string) {
	for _, v := range values {
		a.r.raw("##vso[task.setsecret]" + azureEscape.Replace(v) + "\n")
	}
}

func (a *azure) annotate(kind, title, message string) {
	text := message
	if title != "" {
		text = title + ": " + message
	}
	if kind == "notice" {
		// Azure Pipelines has no notice level; a plain line keeps it out of
		// the warning count.
		a.r.println("Notice: " + text)
		return
	}
	a.r.raw("##vso[task.logissue type=" + kind + "]" + azureEscape.Replace(text) + "\n")
}

func (a *azure) debug(message string) {
	for line := range strings.SplitSeq(strings.ReplaceAll(message, "\r\n", "\n"), "\n") {
		a.r.raw("##[debug]" + a.neutralize(line) + "\n")
	}
}

func (a *azure) setOutput(name, value string) error {
	a.r.raw("##vso[task.setvariable variable=" + EnvName(name) + ";isoutput=true]" + azureEscape.Replace(value) + "\n")
	return nil
}

func (a *azure) summary(markdown string) error {
	a.summaryText.WriteString(markdown)
	a.summaryText.WriteString("\n")
	return nil
}

// close uploads the summary once, as one file, so the run's summary is one
// tab rather than one per call.
func (a *azure) close() error {
	if a.summaryText.Len() == 0 {
		return nil
	}
	f, err := os.CreateTemp(a.tempDir, "storeflight-summary-*.md")
	if err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	_, err = f.WriteString(a.summaryText.String())
	if cerr := f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	a.r.raw("##vso[task.uploadsummary]" + azureEscape.Replace(f.Name()) + "\n")
	return nil
}

// neutralize keeps text from being read as a logging command: the agent
// looks for ##vso[ anywhere in a line, and ##[ at its start.
func (a *azure) neutralize(line string) string {
	line = strings.ReplaceAll(line, "##vso[", "##\u200bvso[")
	if strings.HasPrefix(strings.TrimLeft(line, " \t"), "##[") {
		line = strings.Replace(line, "##[", "##\u200b[", 1)
	}
	return line
}
