package ci

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/storeflight/storeflight/internal/clock"
)

// gitlab reports with collapsible sections and plain lines; outputs go to a
// dotenv file at Close (output-file, storeflight.env by default).
type gitlab struct {
	plainLines
	r       *reporter
	clock   clock.Clock
	seq     int
	section string
}

var sectionUnsafe = regexp.MustCompile(`[^a-z0-9_]+`)

func (g *gitlab) name() string { return PlatformGitLab }

// startGroup opens a collapsed section. Its name is made of the header so
// the log stays readable, and numbered so that two steps never share one.
func (g *gitlab) startGroup(name string) {
	g.seq++
	slug := strings.Trim(sectionUnsafe.ReplaceAllString(strings.ToLower(name), "_"), "_")
	if len(slug) > 40 {
		slug = slug[:40]
	}
	g.section = fmt.Sprintf("storeflight_%d_%s", g.seq, slug)
	g.r.raw(fmt.Sprintf("\x1b[0Ksection_start:%d:%s[collapsed=true]\r\x1b[0K%s\n", g.clock.Now().Unix(), g.section, g.neutralize(name)))
}

func (g *gitlab) endGroup() {
	g.r.raw(fmt.Sprintf("\x1b[0Ksection_end:%d:%s\r\x1b[0K\n", g.clock.Now().Unix(), g.section))
}

func (g *gitlab) mask([]string)                      {}
func (g *gitlab) annotate(kind, title, msg string)   { g.plainLines.annotate(g.r, kind, title, msg) }
func (g *gitlab) debug(message string)               { g.r.println(prefixLines("debug: ", message)) }
func (g *gitlab) setOutput(name, value string) error { return nil }
func (g *gitlab) summary(markdown string) error      { g.r.println(markdown); return nil }
func (g *gitlab) close() error                       { return nil }

// neutralize stops a line from opening or closing a section.
func (g *gitlab) neutralize(line string) string {
	return strings.ReplaceAll(line, "\x1b", "^[")
}
