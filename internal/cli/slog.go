package cli

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/storeflight/storeflight/internal/ci"
)

// reporterHandler is an slog.Handler that writes each record as one debug
// line of the reporter, which masks and redacts it like every other line.
type reporterHandler struct {
	rep   ci.Reporter
	attrs []slog.Attr
}

func (h *reporterHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *reporterHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	write := func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%s", a.Key, valueText(a.Value.Resolve()))
		return true
	}
	for _, a := range h.attrs {
		write(a)
	}
	r.Attrs(write)
	h.rep.Debugf("%s", b.String())
	return nil
}

func (h *reporterHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &reporterHandler{rep: h.rep, attrs: append(append([]slog.Attr(nil), h.attrs...), attrs...)}
}

// valueText writes a value as slog's text handler would, but a duration
// to a precision a person reads (276µs, not 276.005µs).
func valueText(v slog.Value) string {
	if v.Kind() != slog.KindDuration {
		return v.String()
	}
	d := v.Duration()
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}

// WithGroup is not needed by the client's flat records; groups are folded
// into the line as they come.
func (h *reporterHandler) WithGroup(string) slog.Handler { return h }
