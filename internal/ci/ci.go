// Package ci reports a run's events (log groups, annotations, outputs, the
// job summary, secrets to mask) in the native form of the CI system it runs
// on: GitHub Actions, Azure Pipelines, GitLab CI, or plain text elsewhere.
// Every reporter also removes masked values and credentials (internal/redact)
// from everything it prints or writes itself, so a secret never leaves the
// process even where the platform has no masking of its own.
package ci

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/storeflight/storeflight/internal/clock"
	"github.com/storeflight/storeflight/internal/redact"
)

// The platforms Detect knows, as Platform reports them.
const (
	PlatformGitHub         = "github"
	PlatformAzurePipelines = "azure-pipelines"
	PlatformGitLab         = "gitlab"
	PlatformPlain          = "plain"
)

// DefaultGitLabOutputFile is where outputs go on GitLab CI when output-file
// is not set, for artifacts:reports:dotenv.
const DefaultGitLabOutputFile = "storeflight.env"

// Options configures the reporter Detect returns.
type Options struct {
	// Debug turns Debugf lines on.
	Debug bool
	// OutputFile, if set, receives every output at Close: a JSON object, or
	// dotenv if the name ends in .env. On GitLab it defaults to
	// DefaultGitLabOutputFile.
	OutputFile string
	// Clock stamps GitLab's collapsible sections; nil means the wall clock.
	Clock clock.Clock
	// TempDir holds the Azure Pipelines summary file; "" means
	// $AGENT_TEMPDIRECTORY, else the system's temporary directory.
	TempDir string
}

// ErrOutputs matches every failure to deliver the outputs ($GITHUB_OUTPUT,
// output-file, the dotenv file): a later step or job would run on missing
// values, so the run must not end as a success.
var ErrOutputs = errors.New("outputs not written")

// outputsFailed marks err as a failure to deliver the outputs.
func outputsFailed(err error) error { return fmt.Errorf("%w: %w", ErrOutputs, err) }

// Mask is the text that replaces a masked value, as on GitHub's runner.
const Mask = "***"

// Detect returns the reporter for the CI system getenv describes, writing
// its log to stdout: GitHub Actions (GITHUB_ACTIONS=true), Azure Pipelines
// (TF_BUILD=True), GitLab CI (GITLAB_CI=true), or plain text.
func Detect(getenv func(string) string, stdout io.Writer, opts Options) Reporter {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	r := &reporter{out: &safeWriter{w: stdout}, debug: opts.Debug, outputFile: opts.OutputFile}
	switch {
	case getenv("GITHUB_ACTIONS") == "true":
		r.p = newGitHub(r, getenv)
	case strings.EqualFold(getenv("TF_BUILD"), "true"):
		dir := opts.TempDir
		if dir == "" {
			dir = getenv("AGENT_TEMPDIRECTORY")
		}
		r.p = &azure{r: r, tempDir: dir}
	case getenv("GITLAB_CI") == "true":
		if r.outputFile == "" {
			r.outputFile = DefaultGitLabOutputFile
		}
		r.p = &gitlab{r: r, clock: opts.Clock}
	default:
		r.p = &plain{r: r}
	}
	return r
}

// PlatformOf names the platform of a reporter made by Detect, or returns ""
// for any other Reporter.
func PlatformOf(r Reporter) string {
	if p, ok := r.(interface{ Platform() string }); ok {
		return p.Platform()
	}
	return ""
}

// platform is what differs between CI systems. Its methods run with the
// reporter's lock held and receive text already redacted.
type platform interface {
	name() string
	startGroup(name string)
	endGroup()
	// mask issues the platform's own masking command for each value.
	mask(values []string)
	// annotate reports kind "error", "warning" or "notice".
	annotate(kind, title, message string)
	debug(message string)
	// setOutput delivers one output as soon as it is set, if the platform
	// takes outputs that way.
	setOutput(name, value string) error
	summary(markdown string) error
	// close finishes whatever the platform writes at the end.
	close() error
	// neutralize stops a log line from being read as a platform command.
	neutralize(line string) string
}

// reporter holds what all platforms share: masking, redaction, the output
// list, output-file, groups and the lock that makes it safe for concurrent
// use.
type reporter struct {
	mu         sync.Mutex
	p          platform
	out        *safeWriter
	debug      bool
	outputFile string
	masks      []string // longest first
	outputs    []output
	outputErr  error // the first failure to deliver an output as it was set
	groupSeq   int
	groupOpen  bool
	closed     bool
}

type output struct{ name, value, short string }

// ShortForms is implemented by every reporter this package returns. Where
// an output must be shortened (GitLab's dotenv report holds 5 KB), a
// producer that knows which figures of a long JSON output matter gives its
// own short form, which is used before any generic shortening.
type ShortForms interface {
	// SetShortForm gives the short form of output name, which must be a
	// JSON object; it is used only where the output must be shortened.
	SetShortForm(name, short string)
}

var _ ShortForms = (*reporter)(nil)

func (r *reporter) SetShortForm(name, short string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if i := slices.IndexFunc(r.outputs, func(o output) bool { return o.name == name }); i >= 0 {
		r.outputs[i].short = r.clean(short)
	}
}

var _ Reporter = (*reporter)(nil)

// Platform names the CI system, one of the Platform constants.
func (r *reporter) Platform() string { return r.p.name() }

// clean removes masked values, longest first so that a secret containing
// another is hidden whole, then credentials redact recognises.
func (r *reporter) clean(s string) string {
	for _, m := range r.masks {
		s = strings.ReplaceAll(s, m, Mask)
	}
	return redact.String(s)
}

// raw writes s as is; only commands that must carry a value (the masking
// commands themselves) use it.
func (r *reporter) raw(s string) { _, _ = io.WriteString(r.out, s) }

// println writes text (already cleaned) as log lines, each neutralized.
func (r *reporter) println(text string) {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	var b strings.Builder
	for line := range strings.SplitSeq(text, "\n") {
		b.WriteString(r.p.neutralize(line))
		b.WriteByte('\n')
	}
	r.raw(b.String())
}

func (r *reporter) Group(name string) (end func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.groupOpen {
		r.p.endGroup() // no platform nests groups
	}
	r.groupSeq++
	id := r.groupSeq
	r.groupOpen = true
	r.p.startGroup(oneLine(r.clean(name)))
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.groupOpen && r.groupSeq == id {
			r.p.endGroup()
			r.groupOpen = false
		}
	}
}

func (r *reporter) Mask(value string) {
	if strings.TrimSpace(value) == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	// Each line of a multi-line secret is masked as well: runners match
	// masks line by line, and a line may be printed on its own.
	fresh := []string{}
	for _, v := range append([]string{value}, strings.Split(strings.ReplaceAll(value, "\r\n", "\n"), "\n")...) {
		v = strings.TrimRight(v, "\r")
		if strings.TrimSpace(v) == "" || slices.Contains(r.masks, v) || slices.Contains(fresh, v) {
			continue
		}
		fresh = append(fresh, v)
	}
	if len(fresh) == 0 {
		return
	}
	r.masks = append(r.masks, fresh...)
	slices.SortStableFunc(r.masks, func(a, b string) int { return len(b) - len(a) })
	r.p.mask(fresh)
}

func (r *reporter) Infof(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.println(r.clean(fmt.Sprintf(format, args...)))
}

func (r *reporter) Debugf(format string, args ...any) {
	if !r.debug {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.p.debug(r.clean(fmt.Sprintf(format, args...)))
}

func (r *reporter) Notice(title, message string)  { r.annotate("notice", title, message) }
func (r *reporter) Warning(title, message string) { r.annotate("warning", title, message) }
func (r *reporter) Error(title, message string)   { r.annotate("error", title, message) }

func (r *reporter) annotate(kind, title, message string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.p.annotate(kind, oneLine(r.clean(title)), r.clean(message))
}

var outputNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

// ErrOutputName is returned for an output name outside
// ^[A-Za-z_][A-Za-z0-9_-]*$, which every platform's format can carry.
var ErrOutputName = errors.New("invalid output name")

func (r *reporter) SetOutput(name, value string) error {
	if !outputNameRE.MatchString(name) {
		return outputsFailed(fmt.Errorf("output %q: %w: use letters, digits, '_' and '-', not starting with a digit or '-'", name, ErrOutputName))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	// Runners read output files line by line, so line breaks are made
	// plain '\n' here rather than refused later.
	value = strings.ReplaceAll(strings.ReplaceAll(r.clean(value), "\r\n", "\n"), "\r", "\n")
	i := slices.IndexFunc(r.outputs, func(o output) bool { return o.name == name })
	if i >= 0 {
		r.outputs[i].value = value
	} else {
		r.outputs = append(r.outputs, output{name: name, value: value})
	}
	if err := r.p.setOutput(name, value); err != nil {
		err = outputsFailed(err)
		if r.outputErr == nil {
			r.outputErr = err
		}
		return err
	}
	return nil
}

func (r *reporter) Summary(markdown string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.p.summary(r.clean(markdown))
}

// Close ends an open group, lets the platform finish, writes output-file
// and reports what failed: the outputs (matching ErrOutputs: one that
// could not be set, or output-file), the platform's own files, the log.
// Later calls do nothing.
func (r *reporter) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	if r.groupOpen {
		r.p.endGroup()
		r.groupOpen = false
	}
	var errs []error
	if r.outputErr != nil {
		errs = append(errs, r.outputErr)
	}
	if err := r.p.close(); err != nil {
		errs = append(errs, err)
	}
	if r.outputFile != "" {
		if err := r.writeOutputFile(); err != nil {
			errs = append(errs, err)
		}
	}
	if r.out.err != nil {
		errs = append(errs, fmt.Errorf("write log: %w", r.out.err))
	}
	return errors.Join(errs...)
}

func (r *reporter) writeOutputFile() error {
	var data []byte
	if strings.HasSuffix(strings.ToLower(r.outputFile), ".env") {
		data = r.dotenv()
	} else {
		data = outputsJSON(r.outputs)
	}
	if err := os.WriteFile(r.outputFile, data, 0o644); err != nil {
		return outputsFailed(fmt.Errorf("write output-file %s: %w", r.outputFile, err))
	}
	return nil
}

// outputsJSON writes the outputs as one JSON object, in the order they were
// first set.
func outputsJSON(outs []output) []byte {
	var b strings.Builder
	b.WriteString("{")
	for i, o := range outs {
		if i > 0 {
			b.WriteString(",")
		}
		k, _ := json.Marshal(o.name)
		v, _ := json.Marshal(o.value)
		fmt.Fprintf(&b, "\n  %s: %s", k, v)
	}
	if len(outs) > 0 {
		b.WriteString("\n")
	}
	b.WriteString("}\n")
	return []byte(b.String())
}

// dotenvLimit is GitLab's limit on a dotenv report.
const dotenvLimit = 5 * 1024

// EnvPrefix starts the name of every output in environment form.
const EnvPrefix = "STOREFLIGHT_OUT_"

// EnvName is the variable an output becomes where names are limited to
// letters, digits and '_' (Azure Pipelines variables, dotenv files):
// submission-id becomes STOREFLIGHT_OUT_SUBMISSION_ID. The prefix differs
// from the inputs' STOREFLIGHT_: GitLab hands a job's dotenv variables to
// every later job above that job's own variables, so an output named like
// an input would silently become the next job's input.
func EnvName(output string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(output, "-", "_"))
}

// dotenv writes KEY=value lines. GitLab takes single-line values only, so
// a multi-line value is left out with a warning. The file must stay within
// GitLab's 5 KB: the largest JSON values (health, result) are shortened to
// their key figures, with a warning, until it does; if that is not enough,
// the largest values are left out.
func (r *reporter) dotenv() []byte {
	type entry struct{ name, key, value string }
	var entries []entry
	size := 0
	for _, o := range r.outputs {
		if strings.ContainsAny(o.value, "\r\n") {
			r.p.annotate("warning", "output-file", fmt.Sprintf("output %s has several lines, which a dotenv file cannot hold; it is left out of %s", o.name, r.outputFile))
			continue
		}
		e := entry{o.name, EnvName(o.name), o.value}
		entries = append(entries, e)
		size += len(e.key) + len(e.value) + 2
	}
	// Shorten the largest JSON values a stage at a time, so that each
	// loses no more than the file needs: first to the short forms their
	// producers gave, then by pruning those (or the values) ever more.
	shortened := map[string]bool{}
	for stage := 0; stage <= lastStage && size > dotenvLimit; stage++ {
		order := make([]int, len(entries))
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(x, y int) int { return len(entries[y].value) - len(entries[x].value) })
		for _, i := range order {
			if size <= dotenvLimit {
				break
			}
			v, ok := r.shortenOutput(entries[i].name, stage)
			if ok && len(v) < len(entries[i].value) {
				size -= len(entries[i].value) - len(v)
				entries[i].value = v
				shortened[entries[i].name] = true
			}
		}
	}
	for size > dotenvLimit {
		i := 0
		for j, e := range entries {
			if len(e.value) > len(entries[i].value) {
				i = j
			}
		}
		e := entries[i]
		r.p.annotate("warning", "output-file", fmt.Sprintf("output %s would take %s past GitLab's 5 KB dotenv limit; it is left out", e.name, r.outputFile))
		delete(shortened, e.name)
		entries = slices.Delete(entries, i, i+1)
		size -= len(e.key) + len(e.value) + 2
	}
	for _, e := range entries {
		if shortened[e.name] {
			r.p.annotate("warning", "output-file", fmt.Sprintf("output %s (%d bytes) would take %s past GitLab's 5 KB dotenv limit: it holds the value shortened to its key figures (series and long texts left out; the job summary has them all)", e.name, len(r.outputValue(e.name)), r.outputFile))
		}
	}
	var b strings.Builder
	for _, e := range entries {
		b.WriteString(e.key + "=" + e.value + "\n")
	}
	return []byte(b.String())
}

// lastStage is the last stage of shortenJSON.
const lastStage = 4

// shortenJSON returns the JSON object in s with detail dropped up to stage:
// 1 arrays, 2 also strings cut to shortText, 3 also anything nested more
// than one level deep, 4 all but the top-level figures; it is marked
// "shortened": "true". A string that holds a JSON object itself (health
// inside result) is shortened the same way. ok is false when s is no JSON
// object.
func shortenJSON(s string, stage int) (string, bool) {
	var top map[string]any
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	if !json.Valid([]byte(s)) || d.Decode(&top) != nil || top == nil {
		return "", false
	}
	v := prune(top, stage, 0).(map[string]any)
	v["shortened"] = "true"
	b, err := json.Marshal(v)
	return string(b), err == nil
}

// outputValue returns the value an output was set to.
func (r *reporter) outputValue(name string) string {
	for _, o := range r.outputs {
		if o.name == name {
			return o.value
		}
	}
	return ""
}

// shortenOutput returns output name shortened to stage: at stage 0 its
// short form (ok is false without one), later shortenJSON of the short
// form, or of the value when there is none.
func (r *reporter) shortenOutput(name string, stage int) (string, bool) {
	i := slices.IndexFunc(r.outputs, func(o output) bool { return o.name == name })
	if i < 0 {
		return "", false
	}
	o := r.outputs[i]
	switch {
	case o.short == "" && stage == 0:
		return "", false
	case o.short == "":
		return shortenJSON(o.value, stage)
	case stage == 0:
		return markShortened(o.short)
	}
	return shortenJSON(o.short, stage)
}

// markShortened adds "shortened": "true" to the JSON object in s.
func markShortened(s string) (string, bool) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &top); err != nil || top == nil {
		return "", false
	}
	top["shortened"] = json.RawMessage(`"true"`)
	b, err := json.Marshal(top)
	return string(b), err == nil
}

// shortText is how long a string stays from stage 2 of shortenJSON on.
const shortText = 80

// prune copies v without what stage drops; depth is how deep v is.
func prune(v any, stage, depth int) any {
	switch v := v.(type) {
	case map[string]any:
		if depth > 0 && (stage >= 4 || stage == 3 && depth > 1) {
			return nil
		}
		out := map[string]any{}
		for k, x := range v {
			if keep := prune(x, stage, depth+1); keep != nil {
				out[k] = keep
			}
		}
		return out
	case []any:
		return nil
	case string:
		var inner map[string]any
		d := json.NewDecoder(strings.NewReader(v))
		d.UseNumber()
		if strings.HasPrefix(v, "{") && json.Valid([]byte(v)) && d.Decode(&inner) == nil {
			// JSON in a string counts as an object at the string's place.
			kept := prune(inner, stage, depth)
			if kept == nil {
				return nil
			}
			b, _ := json.Marshal(kept) // decoded JSON always marshals
			return string(b)
		}
		if stage >= 2 && len(v) > shortText {
			cut := v[:shortText]
			for !utf8.ValidString(cut) {
				cut = cut[:len(cut)-1]
			}
			return cut + "…"
		}
		return v
	}
	return v
}

// printOutputs writes name=value lines, quoting values that span lines.
func (r *reporter) printOutputs() {
	for _, o := range r.outputs {
		v := o.value
		if strings.ContainsAny(v, "\r\n") {
			v = strconv.Quote(v)
		}
		r.println(o.name + "=" + v)
	}
}

// oneLine joins lines for places that hold a single line (titles, names).
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\r", " ")), " ")
}

// safeWriter never fails a write: go-githubactions panics when its writer
// returns an error, and a broken log must not crash a publish. The first
// error is kept for Close.
type safeWriter struct {
	w   io.Writer
	err error
}

func (s *safeWriter) Write(p []byte) (int, error) {
	if s.err == nil && s.w != nil {
		if _, err := s.w.Write(p); err != nil {
			s.err = err
		}
	}
	return len(p), nil
}
