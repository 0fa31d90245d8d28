package ci

import "strings"

// plain reports in plain text: headers for groups, "error: ..." lines, and
// outputs as name=value lines at Close.
type plain struct {
	plainLines
	r *reporter
}

func (p *plain) name() string                       { return PlatformPlain }
func (p *plain) startGroup(name string)             { p.r.println("== " + name + " ==") }
func (p *plain) endGroup()                          {}
func (p *plain) mask([]string)                      {}
func (p *plain) annotate(kind, title, msg string)   { p.plainLines.annotate(p.r, kind, title, msg) }
func (p *plain) debug(message string)               { p.r.println(prefixLines("debug: ", message)) }
func (p *plain) setOutput(name, value string) error { return nil }
func (p *plain) summary(markdown string) error      { p.r.println(markdown); return nil }
func (p *plain) neutralize(line string) string      { return strings.ReplaceAll(line, "\x1b", "^[") }

func (p *plain) close() error {
	if len(p.r.outputs) > 0 {
		p.r.println("== outputs ==")
		p.r.printOutputs()
	}
	return nil
}

// plainLines writes annotations as prefixed lines, for platforms with no
// annotation commands.
type plainLines struct{}

func (plainLines) annotate(r *reporter, kind, title, message string) {
	text := message
	if title != "" {
		text = title + ": " + message
	}
	r.println(prefixLines(kind+": ", text))
}

// prefixLines puts prefix before the first line and indents the others, so
// a multi-line message stays one visible entry.
func prefixLines(prefix, text string) string {
	return prefix + strings.ReplaceAll(text, "\n", "\n"+strings.Repeat(" ", len(prefix)))
}
