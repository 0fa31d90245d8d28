package e2e

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestReliabilityDoc keeps RELIABILITY.md true: one row per scenario, each
// with the command that runs it, and no row for a scenario that is gone.
func TestReliabilityDoc(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../RELIABILITY.md")
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for line := range strings.Lines(string(doc)) {
		cells := strings.Split(line, "|")
		if len(cells) < 7 || !strings.Contains(line, "TestE2E/") {
			continue
		}
		name := strings.TrimSpace(cells[1])
		rows = append(rows, name)
		if cmd := cells[len(cells)-2]; !strings.Contains(cmd, "-run 'TestE2E/"+name+"' ./e2e/") {
			t.Errorf("row %s: command %q does not run it", name, strings.TrimSpace(cmd))
		}
	}
	var names []string
	for _, sc := range scenarios {
		names = append(names, sc.name)
	}
	slices.Sort(rows)
	slices.Sort(names)
	if diff := cmp.Diff(names, rows); diff != "" {
		t.Errorf("RELIABILITY.md rows differ from the scenarios (-scenarios +rows):\n%s", diff)
	}
}
