// Package citest reads what storeflight writes for a CI runner, the way the
// runner reads it, so that tests of the reporters, of the CLI and of the
// compiled binary all check their output against one parser.
package citest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ParseGitHubFile reads a GitHub file-command file ($GITHUB_OUTPUT and the
// like) the way the runner does: name=value lines, and name<<DELIMITER
// heredocs ended by a line that is exactly the delimiter. Lines end at
// "\r\n", "\n" or "\r", as .NET's ReadLine has it. A name set twice keeps
// its last value, as on the runner; dup lists such names so that tests can
// refuse them.
func ParseGitHubFile(content string) (values map[string]string, dup []string, err error) {
	content = strings.ReplaceAll(strings.ReplaceAll(content, "\r\n", "\n"), "\r", "\n")
	lines := strings.Split(content, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	values = map[string]string{}
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if line == "" {
			continue
		}
		eq, hd := strings.Index(line, "="), strings.Index(line, "<<")
		var key, val string
		switch {
		case eq >= 0 && (hd < 0 || eq < hd):
			key, val = line[:eq], line[eq+1:]
		case hd >= 0:
			key = line[:hd]
			delim := line[hd+2:]
			if delim == "" {
				return nil, nil, fmt.Errorf("line %d: empty delimiter", i+1)
			}
			var body []string
			found := false
			for i++; i < len(lines); i++ {
				if lines[i] == delim {
					found = true
					break
				}
				body = append(body, lines[i])
			}
			if !found {
				return nil, nil, fmt.Errorf("delimiter %q of %q not found", delim, key)
			}
			val = strings.Join(body, "\n")
		default:
			return nil, nil, fmt.Errorf("line %d: invalid format %q", i+1, line)
		}
		if key == "" {
			return nil, nil, fmt.Errorf("line %d: empty name", i+1)
		}
		if _, ok := values[key]; ok {
			dup = append(dup, key)
		}
		values[key] = val
	}
	return values, dup, nil
}

// GoldenSummary compares a job summary with testdata/name, or, when update
// is set (the tests' -update flag), rewrites that file with it.
func GoldenSummary(t testing.TB, name, got string, update bool) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("summary differs from %s (run with -update to accept):\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}
