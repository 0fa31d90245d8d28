package citest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseGitHubFile(t *testing.T) {
	t.Parallel()
	in := "a=1\r\nb<<ghadelimiter_x\nline one\nghadelimiter_y\n\nghadelimiter_x\nc=x=y\na=2\n"
	got, dup, err := ParseGitHubFile(in)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "2", "b": "line one\nghadelimiter_y\n", "c": "x=y"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("values (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"a"}, dup); diff != "" {
		t.Errorf("dup (-want +got):\n%s", diff)
	}
}

func TestParseGitHubFileErrors(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"x<<\n", "x<<EOF\nnever closed\n", "no separator\n", "=value\n"} {
		if _, _, err := ParseGitHubFile(in); err == nil {
			t.Errorf("ParseGitHubFile(%q): no error", in)
		}
	}
}
