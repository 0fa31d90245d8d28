package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/storeflight/storeflight/internal/ci/citest"
	"github.com/storeflight/storeflight/internal/msix"
)

// The simulator's virtual clock starts at the real now, so the timeline's
// instants differ per run. Its durations are fixed (the simulator's polling
// jitter is), but they follow the pipeline's polling schedule, which is
// internal/steps' to tune; this golden file is about the summary, so both
// are normalised, and TestRunDemoGitHub checks the statuses separately.
var (
	timestampRE = regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d`)
	durationRE  = regexp.MustCompile(`(?m)^(\| \w+ \| <time> \| )[0-9dhms.]+( \|)$`)
)

func normaliseSummary(s string) string {
	s = timestampRE.ReplaceAllString(s, "<time>")
	return durationRE.ReplaceAllString(s, "${1}<duration>${2}")
}

func TestNormaliseSummary(t *testing.T) {
	t.Parallel()
	in := "| CommitStarted | 2026-11-22 00:46:11 | 1m35s |\n| Published | 2026-11-22 01:31:19 | – |\n| Certification | 2026-11-22 00:52:58 | 2d3h4m5s |\n"
	want := "| CommitStarted | <time> | <duration> |\n| Published | <time> | – |\n| Certification | <time> | <duration> |\n"
	if got := normaliseSummary(in); got != want {
		t.Errorf("normaliseSummary =\n%s\nwant\n%s", got, want)
	}
}

func TestRunDemoGitHub(t *testing.T) {
	t.Parallel()
	e := newRunEnv(t, nil).github()
	if code := e.run(t, "--simulate"); code != ExitOK {
		t.Fatalf("exit code %d, want %d", code, ExitOK)
	}
	if e.stderr.Len() != 0 {
		t.Errorf("stderr: %q, want nothing", e.stderr.String())
	}
	outs, dup, err := citest.ParseGitHubFile(readFile(t, e.path("github_output")))
	if err != nil {
		t.Fatalf("GITHUB_OUTPUT does not parse: %v", err)
	}
	if len(dup) > 0 {
		t.Errorf("outputs set more than once: %v", dup)
	}
	checkDemoOutputs(t, outs)

	log := e.stdout.String()
	groups, ends := logLines(log, "::group::"), logLines(log, "::endgroup::")
	// Each group after resolve is headed by the step and its target (the
	// submission IDs differ from scenario to scenario: they are masked).
	target := func(step string) string {
		return "::group::" + step + ": submission N of flight \"" + demoFlightName + "\""
	}
	app := func(step string) string {
		return "::group::" + step + ": app submission N of " + demoAppID
	}
	submissionID := regexp.MustCompile(`submission \d+`)
	for i := range groups {
		groups[i] = submissionID.ReplaceAllString(groups[i], "submission N")
	}
	wantGroups := []string{
		"::group::resolve", target("update"), target("upload"), target("commit"), target("wait"), // release job
		"::group::resolve", target("rollout"), // raise
		"::group::resolve", target("finalize"), // finalize
		"::group::resolve", app("update"), app("upload"), app("commit"), app("wait"), // retail release
	}
	if diff := cmp.Diff(wantGroups, groups); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
	if len(ends) != len(groups) {
		t.Errorf("%d ::group:: lines but %d ::endgroup:: lines", len(groups), len(ends))
	}
	if got := logLines(log, "::notice title=simulator::"); len(got) != 1 {
		t.Errorf("simulator notice lines = %q, want one", got)
	}
	if got := logLines(log, "::error"); len(got) != 0 {
		t.Errorf("error annotations in a successful demo: %q", got)
	}
	if !strings.HasPrefix(log, "storeflight ") {
		t.Errorf("log does not start with the version line: %.80q", log)
	}

	summary := readFile(t, e.path("step_summary"))
	if n := strings.Count(summary, "## storeflight: succeeded\n"); n != 4 {
		t.Errorf("summary has %d run sections, want one per demo run (4)", n)
	}
	// The retail release: the app's own submission, its notes in two
	// languages, the Desktop package superseded and the Xbox one kept.
	for _, want := range []string{"| App submission |", "listings.en-us.baseListing.releaseNotes", "listings.de-de.baseListing.releaseNotes",
		"ContosoNotes_1.0.0.0_x64.msix 1.0.0.0 [PendingDelete], ContosoNotes_1.0.0.0_Xbox.msixbundle 1.0.0.0 [Uploaded], ContosoNotes_1.1.0.0_x64.msix [PendingUpload]",
		"| Rollout after | 10% (InProgress) |"} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %q", want)
		}
	}
	// The release job waits to published through every status (issue 5).
	rowRE := regexp.MustCompile(`(?m)^\| (\w+) \| \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \| ([^|]+) \|$`)
	release, _, _ := strings.Cut(summary, "### Changes")
	var statuses []string
	for _, m := range rowRE.FindAllStringSubmatch(release, -1) {
		statuses = append(statuses, m[1])
	}
	wantStatuses := []string{"PendingCommit", "CommitStarted", "PreProcessing", "Certification", "Release", "PendingPublication", "Publishing", "Published"}
	if diff := cmp.Diff(wantStatuses, statuses); diff != "" {
		t.Errorf("release job's status timeline (-want +got):\n%s", diff)
	}
	golden(t, "demo-github-summary.golden.md", normaliseSummary(summary))
}

// azureUnescape undoes the escaping of a logging command's value, as the
// agent does.
var azureUnescape = strings.NewReplacer("%AZP25", "%", "%0D", "\r", "%0A", "\n", "%3B", ";", "%5D", "]")

func TestRunDemoAzurePipelines(t *testing.T) {
	t.Parallel()
	e := newRunEnv(t, map[string]string{"TF_BUILD": "True"})
	e.vars["AGENT_TEMPDIRECTORY"] = e.dir
	if code := e.run(t, "--simulate"); code != ExitOK {
		t.Fatalf("exit code %d, want %d", code, ExitOK)
	}
	log := e.stdout.String()
	setRE := regexp.MustCompile(`^##vso\[task\.setvariable variable=([A-Z0-9_]+);isoutput=true\](.*)$`)
	outs := map[string]string{}
	for _, l := range logLines(log, "##vso[task.setvariable") {
		m := setRE.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("setvariable line not in the expected form: %q", l)
			continue
		}
		outs[m[1]] = azureUnescape.Replace(m[2])
	}
	byOutput := map[string]string{}
	for _, name := range outputNames {
		env := "STOREFLIGHT_OUT_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
		v, ok := outs[env]
		if !ok {
			t.Errorf("no task.setvariable for %s", env)
		}
		byOutput[name] = v
	}
	if got := byOutput["submission-id"]; !isDigits(got) {
		t.Errorf("STOREFLIGHT_OUT_SUBMISSION_ID = %q, want digits", got)
	}
	checkDemoOutputs(t, byOutput)

	if got := logLines(log, "##[group]"); len(got) != 14 {
		t.Errorf("##[group] lines = %d, want one per step run (14): %q", len(got), got)
	}
	if got, ends := len(logLines(log, "##[group]")), len(logLines(log, "##[endgroup]")); got != ends {
		t.Errorf("%d ##[group] lines but %d ##[endgroup] lines", got, ends)
	}
	if got := logLines(log, "::"); len(got) != 0 {
		t.Errorf("GitHub commands in an Azure Pipelines log: %q", got)
	}
	up := logLines(log, "##vso[task.uploadsummary]")
	if len(up) != 1 {
		t.Fatalf("uploadsummary lines = %q, want one", up)
	}
	sumPath := strings.TrimPrefix(up[0], "##vso[task.uploadsummary]")
	if filepath.Dir(sumPath) != e.dir {
		t.Errorf("summary written to %s, want it in $AGENT_TEMPDIRECTORY %s", sumPath, e.dir)
	}
	if n := strings.Count(readFile(t, sumPath), "## storeflight: succeeded\n"); n != 4 {
		t.Errorf("uploaded summary has %d run sections, want 4", n)
	}
}

func TestRunDemoGitLab(t *testing.T) {
	t.Parallel()
	e := newRunEnv(t, map[string]string{"GITLAB_CI": "true"})
	dotenv := e.path("storeflight.env")
	e.vars["STOREFLIGHT_OUTPUT_FILE"] = dotenv
	if code := e.run(t, "--simulate"); code != ExitOK {
		t.Fatalf("exit code %d, want %d", code, ExitOK)
	}
	got := parseDotenv(t, readFile(t, dotenv))
	byOutput := map[string]string{}
	for _, name := range outputNames {
		env := "STOREFLIGHT_OUT_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
		v, ok := got[env]
		if !ok {
			t.Errorf("dotenv has no %s: %v", env, got)
		}
		byOutput[name] = v
	}
	for k := range got {
		if !regexp.MustCompile(`^STOREFLIGHT_OUT_[A-Z0-9_]+$`).MatchString(k) {
			t.Errorf("dotenv key %q is not STOREFLIGHT_OUT_ and letters, digits, _", k)
		}
	}
	checkDemoOutputs(t, byOutput)
	log := e.stdout.String()
	if got := logLines(log, "::"); len(got) != 0 {
		t.Errorf("GitHub commands in a GitLab log: %q", got)
	}
	if !strings.Contains(log, "section_start:") || !strings.Contains(log, "section_end:") {
		t.Errorf("no collapsible sections in the GitLab log")
	}
}

func TestRunDemoPlain(t *testing.T) {
	t.Parallel()
	for _, file := range []string{"outputs.json", "outputs.env"} {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			e := newRunEnv(t, nil)
			out := e.path(file)
			if code := e.run(t, "--simulate", "--output-file="+out); code != ExitOK {
				t.Fatalf("exit code %d, want %d", code, ExitOK)
			}
			log := e.stdout.String()
			_, tail, ok := strings.Cut(log, "== outputs ==\n")
			if !ok {
				t.Fatalf("no outputs section at the end of the log")
			}
			printed := map[string]string{}
			for _, l := range strings.Split(strings.TrimSuffix(tail, "\n"), "\n") {
				k, v, ok := strings.Cut(l, "=")
				if !ok {
					t.Fatalf("output line %q is not name=value", l)
				}
				printed[k] = v
			}
			checkDemoOutputs(t, printed)

			var fromFile map[string]string
			if strings.HasSuffix(file, ".env") {
				env := parseDotenv(t, readFile(t, out))
				fromFile = map[string]string{}
				for _, name := range outputNames {
					fromFile[name] = env["STOREFLIGHT_OUT_"+strings.ToUpper(strings.ReplaceAll(name, "-", "_"))]
				}
			} else if err := json.Unmarshal([]byte(readFile(t, out)), &fromFile); err != nil {
				t.Fatalf("output-file is not a JSON object of strings: %v", err)
			}
			if diff := cmp.Diff(printed, fromFile); diff != "" {
				t.Errorf("output-file differs from the printed outputs (-printed +file):\n%s", diff)
			}
			if got := logLines(log, "::"); len(got) != 0 {
				t.Errorf("GitHub commands in a plain log: %q", got)
			}
		})
	}
}

// writePackage writes a small demo MSIX to dir and returns its path.
func writePackage(t *testing.T, dir, name string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := msix.WriteDemoPackage(f, "Contoso.Notes", "1.2.0.0"); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// A multi-line value given as an input (here notes-for-certification, with
// a line that looks like a heredoc delimiter and one like a name<<EOF
// header) must not disturb the outputs file of a rehearsal.
func TestRunRehearsalMultilineNotes(t *testing.T) {
	t.Parallel()
	e := newRunEnv(t, nil).github()
	pkg := writePackage(t, e.dir, "ContosoNotes_1.2.0.0_x64.msix")
	notes := "Log in as tester@contoso.com.\nghadelimiter_0123456789abcdef\nsubmission-id<<EOF\nsubmission-id=1\nEOF\n"
	e.vars["INPUT_NOTES-FOR-CERTIFICATION"] = notes
	code := e.run(t, "--simulate", "--application-id=9NBLGGH4R315", "--flight-name=Beta testers",
		"--packages="+pkg, "--wait-for=committed")
	if code != ExitOK {
		t.Fatalf("exit code %d, want %d", code, ExitOK)
	}
	outs, dup, err := citest.ParseGitHubFile(readFile(t, e.path("github_output")))
	if err != nil {
		t.Fatalf("GITHUB_OUTPUT does not parse: %v", err)
	}
	if len(dup) > 0 {
		t.Errorf("outputs set more than once: %v", dup)
	}
	want := []string{"finalized", "flight-id", "health", "result", "rollout-decision", "rollout-percentage", "rollout-status", "submission-id", "submission-status"}
	var names []string
	for k := range outs {
		names = append(names, k)
	}
	if diff := cmp.Diff(want, names, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("output names (-want +got):\n%s", diff)
	}
	if !isDigits(outs["submission-id"]) || outs["submission-id"] == demoPublishedID {
		t.Errorf("submission-id = %q, want the new submission's numeric ID", outs["submission-id"])
	}
	if outs["submission-status"] != "PreProcessing" && outs["submission-status"] != "Certification" {
		t.Errorf("submission-status = %q, want a status past CommitStarted", outs["submission-status"])
	}
	checkResult(t, outs, map[string]string{"application-id": "9NBLGGH4R315"})
	// The notes reach the Store: the summary's change table shows them.
	if sum := readFile(t, e.path("step_summary")); !strings.Contains(sum, "notesForCertification") {
		t.Errorf("summary does not list the notes change:\n%s", sum)
	}
}
