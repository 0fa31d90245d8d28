package upload

import (
	"fmt"
	"strings"
	"time"
)

// Meter turns the bytes accepted so far into progress lines a person can
// read in a CI log: at most one every Every, each with the percentage, the
// bytes, the rate and the time left. It keeps no clock of its own: the
// caller passes the time, so that a test can drive it.
type Meter struct {
	// Every is the least time between two lines.
	Every time.Duration
	start time.Time
	last  time.Time
}

// NewMeter starts a meter at start.
func NewMeter(start time.Time, every time.Duration) *Meter {
	return &Meter{Every: every, start: start, last: start}
}

// Line returns the line for sent of total bytes at now, or "" when the
// last line (or the start) is less than Every ago or the upload is over.
func (m *Meter) Line(sent, total int64, now time.Time) string {
	if sent >= total || now.Sub(m.last) < m.Every {
		return ""
	}
	m.last = now
	took := now.Sub(m.start)
	line := fmt.Sprintf("uploading: %d%%, %s of %s", sent*100/max(total, 1), FormatSize(sent), FormatSize(total))
	if sent == 0 || took <= 0 {
		return line
	}
	rate := float64(sent) / took.Seconds()
	left := time.Duration(float64(total-sent) / rate * float64(time.Second))
	return line + fmt.Sprintf(", %s, about %s left", FormatRate(sent, took), formatDuration(left))
}

// FormatSize writes n bytes in binary units, labelled as such (KiB, MiB,
// GiB), with a precision that fits the size.
func FormatSize(n int64) string {
	const kib = 1 << 10
	switch {
	case n < kib:
		return fmt.Sprintf("%d bytes", n)
	case n < kib<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/kib)
	case n < kib<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(kib<<10))
	default:
		return fmt.Sprintf("%.2f GiB", float64(n)/(kib<<20))
	}
}

// FormatRate writes n bytes over d as a rate in MiB/s.
func FormatRate(n int64, d time.Duration) string {
	return fmt.Sprintf("%.1f MiB/s", float64(n)/(1<<20)/d.Seconds())
}

// FormatDone describes a finished upload of n bytes that took took: the
// size, and the time and rate when it took long enough (a second or more)
// for them to mean something.
func FormatDone(n int64, took time.Duration) string {
	if took < time.Second {
		return FormatSize(n)
	}
	return fmt.Sprintf("%s in %s (%s)", FormatSize(n), formatDuration(took), FormatRate(n, took))
}

// formatDuration rounds d to the second, or to the minute past an hour,
// and leaves out zero seconds: 42s, 3m, 1h12m.
func formatDuration(d time.Duration) string {
	if d >= time.Hour {
		d = d.Round(time.Minute)
	}
	s := d.Round(time.Second).String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	return s
}
