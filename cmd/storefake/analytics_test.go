package main

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/storeflight/storeflight/internal/storefake"
)

func TestAnalyticsFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		want    storefake.AnalyticsOptions
		wantErr string
	}{
		{
			name: "defaults",
			want: storefake.AnalyticsOptions{Devices: 100000, Unreachable: 0.02, Lag: 24 * time.Hour, Rates: storefake.FailureRates{Crash: 0.004, Hang: 0.002}, VersionRates: map[string]storefake.FailureRates{}, CountScale: 0.7},
		},
		{
			name: "every flag",
			args: []string{"-devices", "20000", "-unreachable", "0", "-analytics-lag", "36h", "-failure-rate", "0.01,0", "-version-failure-rate", "2.0.0.0=0.012,0.002",
				"-version-failure-rate", " 3.0.0.0 = 1, 0.5", "-missing-day", "2026-03-04", "-missing-day", "2026-03-06", "-count-scale", "1", "-analytics-seed", "7"},
			want: storefake.AnalyticsOptions{
				Devices: 20000, Unreachable: -1, Lag: 36 * time.Hour, Rates: storefake.FailureRates{Crash: 0.01},
				VersionRates: map[string]storefake.FailureRates{"2.0.0.0": {Crash: 0.012, Hang: 0.002}, "3.0.0.0": {Crash: 1, Hang: 0.5}},
				MissingDays:  []time.Time{time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 6, 0, 0, 0, 0, time.UTC)},
				CountScale:   1, Seed: 7,
			},
		},
		{name: "no lag", args: []string{"-analytics-lag", "0"}, want: storefake.AnalyticsOptions{Devices: 100000, Unreachable: 0.02, Lag: -1, Rates: storefake.FailureRates{Crash: 0.004, Hang: 0.002}, VersionRates: map[string]storefake.FailureRates{}, CountScale: 0.7}},
		{name: "a rate above 1", args: []string{"-failure-rate", "2,0"}, wantErr: `invalid value "2,0" for flag -failure-rate`},
		{name: "one rate", args: []string{"-version-failure-rate", "2.0.0.0=0.1"}, wantErr: "want two rates"},
		{name: "no version", args: []string{"-version-failure-rate", "=0.1,0.1"}, wantErr: "want VERSION=CRASH,HANG"},
		{name: "a day as mm/dd/yyyy", args: []string{"-missing-day", "03/04/2026"}, wantErr: "want a day as YYYY-MM-DD"},
		{name: "no devices", args: []string{"-devices", "0"}, wantErr: "-devices 0: want a number of devices above 0"},
		{name: "all unreachable", args: []string{"-unreachable", "1"}, wantErr: "-unreachable 1: want a share from 0 to below 1"},
		{name: "count scale above 1", args: []string{"-count-scale", "1.5"}, wantErr: "-count-scale 1.5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs := flag.NewFlagSet("storefake", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			a := addAnalyticsFlags(fs)
			err := fs.Parse(tt.args)
			var got storefake.AnalyticsOptions
			if err == nil {
				got, err = a.options()
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
}
