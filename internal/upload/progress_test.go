package upload

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestFormatSizeAndDone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"zero", FormatSize(0), "0 bytes"},
		{"under a KiB", FormatSize(1023), "1023 bytes"},
		{"a KiB", FormatSize(1024), "1.0 KiB"},
		{"a demo package", FormatSize(1434), "1.4 KiB"},
		{"10 MiB", FormatSize(10 << 20), "10.0 MiB"},
		{"2 GiB", FormatSize(2 << 30), "2.00 GiB"},
		{"tiny upload in no time", FormatDone(1434, 0), "1.4 KiB"},
		{"tiny upload in 12 ms", FormatDone(1434, 12*time.Millisecond), "1.4 KiB"},
		{"long upload", FormatDone(2<<30, 72*time.Second), "2.00 GiB in 1m12s (28.4 MiB/s)"},
		{"very long upload", FormatDone(20<<30, 70*time.Minute+20*time.Second), "20.00 GiB in 1h10m (4.9 MiB/s)"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

// The meter speaks at most once every Every of the clock it is given, and
// not at the end (the caller reports the finished upload).
func TestMeterLines(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	m := NewMeter(start, 5*time.Second)
	const total = 100 << 20
	var got []string
	for s := 1; s <= 25; s++ { // 4 MiB a second
		if line := m.Line(int64(s)*4<<20, total, start.Add(time.Duration(s)*time.Second)); line != "" {
			got = append(got, line)
		}
	}
	want := []string{
		"uploading: 20%, 20.0 MiB of 100.0 MiB, 4.0 MiB/s, about 20s left",
		"uploading: 40%, 40.0 MiB of 100.0 MiB, 4.0 MiB/s, about 15s left",
		"uploading: 60%, 60.0 MiB of 100.0 MiB, 4.0 MiB/s, about 10s left",
		"uploading: 80%, 80.0 MiB of 100.0 MiB, 4.0 MiB/s, about 5s left",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
}
