package clock

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestFakeSleepAdvances(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f := NewFake(start)
	if err := f.Sleep(t.Context(), 90*time.Second); err != nil {
		t.Fatal(err)
	}
	f.Advance(time.Hour)
	if err := f.Sleep(t.Context(), -time.Second); err != nil {
		t.Fatal(err)
	}
	if got, want := f.Now(), start.Add(time.Hour+90*time.Second); !got.Equal(want) {
		t.Errorf("Now() = %v, want %v", got, want)
	}
	if slept, n := f.Slept(); slept != 90*time.Second || n != 2 {
		t.Errorf("Slept() = %v, %d; want 1m30s, 2", slept, n)
	}
}

func TestSleepStopsWithContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	f := NewFake(time.Unix(0, 0))
	if err := f.Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Fake.Sleep on a cancelled context = %v", err)
	}
	if !f.Now().Equal(time.Unix(0, 0)) {
		t.Error("a cancelled Fake.Sleep moved the clock")
	}
	if err := (Real{}).Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Real.Sleep on a cancelled context = %v", err)
	}
	if err := (Real{}).Sleep(t.Context(), time.Millisecond); err != nil {
		t.Errorf("Real.Sleep(1ms) = %v", err)
	}
	if (Real{}).Now().IsZero() {
		t.Error("Real.Now is zero")
	}
}
