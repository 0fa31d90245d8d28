package main

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/storeflight/storeflight/internal/storefake"
)

// analyticsFlags are the flags that shape the analytics data (failurehits,
// usagedaily) the simulator serves.
type analyticsFlags struct {
	devices      float64
	unreachable  float64
	lag          time.Duration
	rates        ratesFlag
	versionRates versionRatesFlag
	missing      daysFlag
	countScale   float64
	seed         uint64
}

func addAnalyticsFlags(fs *flag.FlagSet) *analyticsFlags {
	a := &analyticsFlags{rates: ratesFlag(storefake.DefaultFailureRates), versionRates: versionRatesFlag{}}
	fs.Float64Var(&a.devices, "devices", storefake.DefaultAnalyticsDevices, "active devices a day of the app, and of each flight, which the rollout percentage splits between the new and the old packages")
	fs.Float64Var(&a.unreachable, "unreachable", storefake.DefaultUnreachable, "share of those devices a gradual rollout cannot reach (Windows too old for it): they keep the old packages until the rollout is finalized")
	fs.DurationVar(&a.lag, "analytics-lag", storefake.DefaultAnalyticsLag, "how long after a UTC day ends its analytics rows appear (0: at once)")
	fs.Var(&a.rates, "failure-rate", "daily failure rates `CRASH,HANG` (the share of a version's devices that crash, and that hang) of versions without -version-failure-rate")
	fs.Var(a.versionRates, "version-failure-rate", "one package version's daily failure rates, as `VERSION=CRASH,HANG` (repeatable)")
	fs.Var(&a.missing, "missing-day", "a UTC day, as `YYYY-MM-DD`, without any analytics row (repeatable)")
	fs.Float64Var(&a.countScale, "count-scale", storefake.DefaultCountScale, "failure counts are Poisson(expected x scale) / scale: fractional, as the API's; 1 gives whole Poisson counts")
	fs.Uint64Var(&a.seed, "analytics-seed", 0, "seed of the failure counts")
	return a
}

// options returns the flags as the simulator's options.
func (a *analyticsFlags) options() (storefake.AnalyticsOptions, error) {
	if a.devices <= 0 {
		return storefake.AnalyticsOptions{}, fmt.Errorf("-devices %g: want a number of devices above 0", a.devices)
	}
	if a.unreachable < 0 || a.unreachable >= 1 {
		return storefake.AnalyticsOptions{}, fmt.Errorf("-unreachable %g: want a share from 0 to below 1", a.unreachable)
	}
	if a.countScale <= 0 || a.countScale > 1 {
		return storefake.AnalyticsOptions{}, fmt.Errorf("-count-scale %g: want a number above 0 and at most 1", a.countScale)
	}
	// The options' zero is the default: none is negative there.
	lag, unreachable := a.lag, a.unreachable
	if lag <= 0 {
		lag = -1
	}
	if unreachable == 0 {
		unreachable = -1
	}
	return storefake.AnalyticsOptions{
		Devices: a.devices, Unreachable: unreachable, Lag: lag, Rates: storefake.FailureRates(a.rates), VersionRates: a.versionRates,
		MissingDays: a.missing, CountScale: a.countScale, Seed: a.seed,
	}, nil
}

// ratesFlag is CRASH,HANG.
type ratesFlag storefake.FailureRates

func (r *ratesFlag) String() string {
	return strconv.FormatFloat(r.Crash, 'g', -1, 64) + "," + strconv.FormatFloat(r.Hang, 'g', -1, 64)
}

func (r *ratesFlag) Set(s string) error {
	crash, hang, ok := strings.Cut(s, ",")
	c, err1 := parseRate(crash)
	h, err2 := parseRate(hang)
	if !ok || err1 != nil || err2 != nil {
		return fmt.Errorf("%q: want two rates from 0 to 1, crash and hang, as 0.004,0.002", s)
	}
	*r = ratesFlag{Crash: c, Hang: h}
	return nil
}

func parseRate(s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || v < 0 || v > 1 {
		return 0, fmt.Errorf("rate %q is not from 0 to 1", s)
	}
	return v, nil
}

// versionRatesFlag collects VERSION=CRASH,HANG.
type versionRatesFlag map[string]storefake.FailureRates

func (v versionRatesFlag) String() string {
	var parts []string
	for ver, r := range v {
		rf := ratesFlag(r)
		parts = append(parts, ver+"="+rf.String())
	}
	return strings.Join(parts, " ")
}

func (v versionRatesFlag) Set(s string) error {
	ver, rates, ok := strings.Cut(s, "=")
	var r ratesFlag
	if !ok || strings.TrimSpace(ver) == "" {
		return fmt.Errorf("%q: want VERSION=CRASH,HANG, as 2.0.0.0=0.012,0.002", s)
	}
	if err := r.Set(rates); err != nil {
		return err
	}
	v[strings.TrimSpace(ver)] = storefake.FailureRates(r)
	return nil
}

// daysFlag collects UTC days.
type daysFlag []time.Time

func (d *daysFlag) String() string {
	var s []string
	for _, t := range *d {
		s = append(s, t.Format(time.DateOnly))
	}
	return strings.Join(s, " ")
}

func (d *daysFlag) Set(s string) error {
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil {
		return fmt.Errorf("%q: want a day as YYYY-MM-DD", s)
	}
	*d = append(*d, t)
	return nil
}
