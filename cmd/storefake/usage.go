package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
)

// usageHead introduces the command; the flag groups follow it.
const usageHead = `Usage: storefake [flags]

Runs the Store simulator (the Store submission API and the blob endpoint of
its upload URLs) and a fake Entra ID on loopback, prints the environment a
storeflight run needs, and serves until interrupted.

Example, a retail release rehearsed against a paid app listed in three
languages with an Xbox package:

  storefake -tls -target app -app-languages en-us,de-de,fr-fr -app-price Tier5 \
      -env-file /tmp/sf.env &
  set -a; . /tmp/sf.env; set +a
  storeflight --packages 'out/*.msixupload' --release-notes 'Faster sync.'
`

// flagGroups orders the flags in the usage text; a flag in none of them is
// listed under "Other flags".
var flagGroups = []struct {
	title string
	flags []string
}{
	{"Listening and output", []string{"listen", "blob-listen", "tls", "blob-dir", "env-file", "target"}},
	{"Store behaviour", []string{"stage", "certification", "budget"}},
	{"Seeded flight", []string{"rolling"}},
	{"Seeded app (its own, retail, submission)", []string{"app-languages", "app-price", "app-images", "app-trailers", "app-xbox"}},
	{"Health analytics", []string{"devices", "unreachable", "analytics-lag", "failure-rate", "version-failure-rate", "missing-day", "count-scale", "analytics-seed"}},
	{"Scripted faults", []string{"app-partner-center-draft", "app-unsupported-features", "drop-next-upload"}},
}

// printUsage writes the usage text with the flags in their groups. A
// default is shown once, and only where the usage line does not already
// say what the default is.
func printUsage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprint(w, usageHead)
	grouped := map[string]bool{}
	for _, g := range flagGroups {
		var flags []*flag.Flag
		for _, name := range g.flags {
			if f := fs.Lookup(name); f != nil {
				flags = append(flags, f)
				grouped[name] = true
			}
		}
		printGroup(w, g.title, flags)
	}
	var other []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) {
		if !grouped[f.Name] {
			other = append(other, f)
		}
	})
	printGroup(w, "Other flags", other)
}

func printGroup(w io.Writer, title string, flags []*flag.Flag) {
	if len(flags) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%s:\n", title)
	for _, f := range flags {
		arg, usage := flag.UnquoteUsage(f)
		line := "  -" + f.Name
		if arg != "" {
			line += " " + arg
		}
		if showDefault(f, usage) {
			usage += " (default " + f.DefValue + ")"
		}
		fmt.Fprintf(w, "%s\n%s", line, wrap(usage, "      ", 78))
	}
}

// wrap breaks text into lines of at most width columns, each indented.
func wrap(text, indent string, width int) string {
	var b strings.Builder
	line := indent
	for _, word := range strings.Fields(text) {
		if len(line) > len(indent) && len(line)+1+len(word) > width {
			b.WriteString(line + "\n")
			line = indent
		}
		if len(line) > len(indent) {
			line += " "
		}
		line += word
	}
	b.WriteString(line + "\n")
	return b.String()
}

func showDefault(f *flag.Flag, usage string) bool {
	if strings.Contains(usage, "(default") {
		return false
	}
	return !slices.Contains([]string{"", "0", "0s", "false"}, f.DefValue)
}
