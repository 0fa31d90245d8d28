package ci

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	gha "github.com/sethvargo/go-githubactions"
)

// summaryLimit is GitHub's limit on one step's job summary.
const summaryLimit = 1 << 20

const summaryTruncated = "\n\n> The rest of this summary was cut: GitHub keeps at most 1 MiB per step. The log has every detail.\n"

// github reports through workflow commands (go-githubactions, over a writer
// that never fails so the library cannot panic) and environment files. It
// writes $GITHUB_OUTPUT itself: the library's fixed heredoc delimiter lets a
// value inject outputs, and it panics when the variable is unset.
type github struct {
	r           *reporter
	action      *gha.Action
	outputPath  string
	summaryPath string
	summarySize int64
	summaryFull bool
}

func newGitHub(r *reporter, getenv func(string) string) *github {
	g := &github{
		r:           r,
		action:      gha.New(gha.WithWriter(r.out), gha.WithGetenv(getenv)),
		outputPath:  getenv("GITHUB_OUTPUT"),
		summaryPath: getenv("GITHUB_STEP_SUMMARY"),
	}
	if g.summaryPath != "" {
		if fi, err := os.Stat(g.summaryPath); err == nil {
			g.summarySize = fi.Size()
		}
	}
	return g
}

func (g *github) name() string           { return PlatformGitHub }
func (g *github) startGroup(name string) { g.action.Group(name) }
func (g *github) endGroup()              { g.action.EndGroup() }

func (g *github) mask(values []string) {
	for _, v := range values {
		g.action.AddMask(v)
	}
}

func (g *github) annotate(kind, title, message string) {
	a := g.action
	if title != "" {
		a = a.WithFieldsMap(map[string]string{"title": title})
	}
	switch kind {
	case "error":
		a.Errorf("%s", message)
	case "warning":
		a.Warningf("%s", message)
	default:
		a.Noticef("%s", message)
	}
}

func (g *github) debug(message string) { g.action.Debugf("%s", message) }

func (g *github) setOutput(name, value string) error {
	if g.outputPath == "" {
		return nil // printed at Close instead
	}
	f, err := os.OpenFile(g.outputPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("set output %s: %w", name, err)
	}
	err = writeGitHubOutput(f, name, value)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("set output %s: %w", name, err)
	}
	return nil
}

func (g *github) summary(markdown string) error {
	if g.summaryPath == "" {
		g.r.println(markdown)
		return nil
	}
	if g.summaryFull {
		return nil
	}
	text := markdown + "\n"
	if g.summarySize+int64(len(text)) > summaryLimit {
		room := summaryLimit - g.summarySize - int64(len(summaryTruncated))
		text = cutAt(text, room) + summaryTruncated
		g.summaryFull = true
		g.annotate("warning", "Job summary", "the job summary reached GitHub's 1 MiB limit and was cut; the log has every detail")
	}
	f, err := os.OpenFile(g.summaryPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("write job summary: %w", err)
	}
	n, err := io.WriteString(f, text)
	g.summarySize += int64(n)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write job summary: %w", err)
	}
	return nil
}

// cutAt returns the longest prefix of s within n bytes that ends at a line
// break if there is one, else at a character boundary.
func cutAt(s string, n int64) string {
	if n <= 0 {
		return ""
	}
	if int64(len(s)) <= n {
		return s
	}
	s = s[:n]
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[:i+1]
	}
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

func (g *github) close() error {
	if g.outputPath == "" && len(g.r.outputs) > 0 {
		g.r.println("GITHUB_OUTPUT is not set; the outputs are:")
		g.r.printOutputs()
	}
	return nil
}

// neutralize keeps a log line that starts with "::" from being read as a
// workflow command: text from the Store or a package must not be able to
// stop commands, add masks or set annotations.
func (g *github) neutralize(line string) string {
	if strings.HasPrefix(strings.TrimLeft(line, " \t"), "::") {
		return strings.Replace(line, "::", ":\u200b:", 1)
	}
	return line
}

// ErrOutputValue is returned for a value that GitHub's output file cannot
// carry back unchanged.
var ErrOutputValue = errors.New("invalid output value")

// writeGitHubOutput appends one output to w in the runner's file-command
// format, name<<delimiter, the value, delimiter, with a fresh random
// delimiter as actions/toolkit does; a value containing it is refused.
func writeGitHubOutput(w io.Writer, name, value string) error {
	if !outputNameRE.MatchString(name) {
		return fmt.Errorf("output %q: %w", name, ErrOutputName)
	}
	// A reader of lines may take '\r' as a line break too, or drop it
	// before '\n': either way it would not come back as written.
	if strings.Contains(value, "\r") {
		return fmt.Errorf("output %s: %w: it contains a carriage return", name, ErrOutputValue)
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	delim := "ghadelimiter_" + hex.EncodeToString(b[:])
	if strings.Contains(value, delim) {
		return fmt.Errorf("output %s: %w: it contains the delimiter %s", name, ErrOutputValue, delim)
	}
	_, err := io.WriteString(w, name+"<<"+delim+"\n"+value+"\n"+delim+"\n")
	return err
}
