package steps

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/storeflight/storeflight/internal/redact"
	"github.com/storeflight/storeflight/internal/storeapi"
)

// maxLogLine is the longest progress line the log aims for: under the 120
// characters of DESIGN.md ("HTTP behaviour"). Longer texts are cut into a
// headline and indented continuation lines.
const maxLogLine = 119

// Skip reasons that several steps share, so that the runner's one
// "skipped:" line names them together.
const (
	skipNoUpdate    = "no update input"
	skipNotAskedFor = "not asked for"
	// skipCommittedEarlier: update, upload and commit of a submission an
	// earlier run of the same inputs committed.
	skipCommittedEarlier = "committed by an earlier run"
)

// unclearAnswer says in a few words why a change's outcome is unclear: the
// Store's status and code, or that no answer came. The whole error is in
// the failure, should the change fail.
func unclearAnswer(err error) string {
	var se *storeapi.Error
	switch {
	case !errors.As(err, &se):
		return "unclear answer: " + redact.String(err.Error())
	case se.StatusCode == 0 && se.Err != nil:
		return "no answer: " + shorten(oneLine(redact.String(se.Err.Error())), 60)
	case se.StatusCode == 0:
		return "no answer"
	case se.Code != "":
		return fmt.Sprintf("the Store answered %d %s", se.StatusCode, se.Code)
	}
	return fmt.Sprintf("the Store answered %d", se.StatusCode)
}

// count says "1 field", "2 fields".
func count(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

// maxLogValue is the most of a changed value a log line shows; the job
// summary's change table has it whole.
const maxLogValue = 80

// changeLines is one field's change as the log shows it: one line when it
// fits, else the field, then its values before and after on lines of
// their own, a package list one package a line.
func changeLines(c FieldChange) []string {
	if one := fmt.Sprintf("%s: %s → %s", c.Field, c.Before, c.After); utf8.RuneCountInString(one) <= maxLogLine {
		return []string{one}
	}
	list := strings.HasSuffix(c.Field, "Packages")
	out := []string{c.Field + ":"}
	for _, v := range []struct{ label, value string }{{"before: ", c.Before}, {"after:  ", c.After}} {
		items := []string{v.value}
		if list {
			items = strings.Split(v.value, ", ")
		}
		for i, item := range items {
			label := v.label
			if i > 0 {
				label = strings.Repeat(" ", len(label))
			}
			out = append(out, "  "+label+shorten(item, maxLogValue))
		}
	}
	return out
}

// shorten cuts s to n runes, marking the cut with "…".
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
