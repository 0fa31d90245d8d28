package cli

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/storeflight/storeflight/internal/ci"
)

// debugLines is a ci.Reporter that keeps its debug lines.
type debugLines struct {
	ci.Reporter
	lines []string
}

func (d *debugLines) Debugf(format string, args ...any) {
	d.lines = append(d.lines, fmt.Sprintf(format, args...))
}

func TestDebugLoggerLine(t *testing.T) {
	t.Parallel()
	rep := &debugLines{}
	log := debugLogger(rep).With("client", "store")
	log.Debug("store request", "method", "GET", "duration", 276005*time.Nanosecond, "status", 200)
	log.Debug("store request", "duration", 1234567891*time.Nanosecond)
	want := []string{
		"store request client=store method=GET duration=276µs status=200",
		"store request client=store duration=1.235s",
	}
	if diff := cmp.Diff(want, rep.lines); diff != "" {
		t.Errorf("debug lines (-want +got):\n%s", diff)
	}
}
