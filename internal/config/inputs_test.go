package config

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestUsageGolden compares --help with testdata/help.golden, which is
// reviewed by hand: run with -update only after reading the diff.
func TestUsageGolden(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	if err := Usage(&b, "storeflight"); err != nil {
		t.Fatal(err)
	}
	got := b.String()
	path := filepath.Join("testdata", "help.golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(strings.ReplaceAll(string(want), "\r\n", "\n"), got); diff != "" {
		t.Errorf("--help differs from %s (-want +got):\n%s", path, diff)
	}
}

// TestUsageShape checks what the golden file cannot say by itself: every
// input is listed once, under its group, in an 80-column terminal.
func TestUsageShape(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	if err := Usage(&b, "storeflight"); err != nil {
		t.Fatal(err)
	}
	help := b.String()
	for i, line := range strings.Split(help, "\n") {
		if len(line) > helpWidth {
			t.Errorf("line %d is %d columns: %q", i+1, len(line), line)
		}
	}
	for _, in := range Inputs {
		if !slices.Contains(Groups, in.Group) {
			t.Errorf("%s is in no --help group (%q)", in.Name, in.Group)
		}
		if n := strings.Count(help, "\n  --"+in.Name+"=VALUE\n") + strings.Count(help, "\n  --"+in.Name+"[=true|false]\n"); n != 1 {
			t.Errorf("--%s is listed %d times", in.Name, n)
		}
	}
	last := -1
	for _, g := range Groups {
		i := strings.Index(help, "\n"+string(g)+":\n")
		if i <= last {
			t.Errorf("group %q is missing or out of order", g)
		}
		last = i
	}
	for _, want := range []string{"Examples:", "storeflight --simulate", "Exit codes:", "  3    timed out"} {
		if !strings.Contains(help, want) {
			t.Errorf("--help lacks %q", want)
		}
	}
}
