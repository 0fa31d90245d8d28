package storefake

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// FailureRates are a package version's daily failure rates: the share of
// its active devices that crash, and that hang, on a day.
type FailureRates struct {
	Crash, Hang float64
}

// AnalyticsOptions shapes the data of the analytics endpoints (failurehits,
// usagedaily), which the simulator makes from the rollouts it simulates.
// The zero value of each field means its default.
type AnalyticsOptions struct {
	// Devices is the active devices a day of each audience: the app's own
	// submissions share one population, and each flight has one of its
	// own. The latest published submission's versions get its rollout
	// percentage of them, its fallback's versions the rest. Default 100,000.
	Devices float64
	// Unreachable is the share of each audience that a gradual rollout
	// cannot reach (Windows too old for it): those devices keep the
	// fallback's packages until the rollout is finalized, so the old side
	// keeps rows at 100%. Default 2%; negative means none.
	Unreachable float64
	// Lag is how long after a UTC day ends its rows appear. Default 24h;
	// negative means at once.
	Lag time.Duration
	// Rates are the failure rates of versions without rates of their own.
	// Default: crash 0.4%, hang 0.2%.
	Rates FailureRates
	// VersionRates are the failure rates of particular package versions.
	VersionRates map[string]FailureRates
	// MissingDays are UTC days for which neither endpoint has any row.
	MissingDays []time.Time
	// CountScale makes failure counts as fractional as the API's: a count
	// is Poisson(expected · CountScale) / CountScale, so 7.142857 = 5/0.7,
	// and its variance is 1/CountScale times Poisson's. Default 0.7; 1
	// gives whole Poisson counts.
	CountScale float64
	// PageRows is the most rows a page holds, whatever top asks for.
	// Default (and most) 10000.
	PageRows int
	// Seed seeds the failure counts; a day's counts are the same on every
	// read.
	Seed uint64
}

// Analytics defaults.
const (
	DefaultAnalyticsDevices = 100_000
	DefaultUnreachable      = 0.02
	DefaultAnalyticsLag     = 24 * time.Hour
	DefaultCountScale       = 0.7
	maxAnalyticsTop         = 10000
)

// DefaultFailureRates are the rates of a version without its own.
var DefaultFailureRates = FailureRates{Crash: 0.004, Hang: 0.002}

func (o AnalyticsOptions) withDefaults() AnalyticsOptions {
	if o.Devices <= 0 {
		o.Devices = DefaultAnalyticsDevices
	}
	switch {
	case o.Unreachable == 0:
		o.Unreachable = DefaultUnreachable
	case o.Unreachable < 0 || o.Unreachable >= 1:
		o.Unreachable = 0
	}
	switch {
	case o.Lag == 0:
		o.Lag = DefaultAnalyticsLag
	case o.Lag < 0:
		o.Lag = 0
	}
	if o.Rates == (FailureRates{}) {
		o.Rates = DefaultFailureRates
	}
	if o.CountScale <= 0 {
		o.CountScale = DefaultCountScale
	}
	if o.PageRows <= 0 || o.PageRows > maxAnalyticsTop {
		o.PageRows = maxAnalyticsTop
	}
	o.VersionRates = cloneRates(o.VersionRates)
	o.MissingDays = slices.Clone(o.MissingDays)
	return o
}

func cloneRates(m map[string]FailureRates) map[string]FailureRates {
	out := make(map[string]FailureRates, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// analyticsState is the analytics configuration and the history of every
// published submission's rollout, which the daily device counts follow.
type analyticsState struct {
	opts AnalyticsOptions
	// spans are, per submission ID, the rollout states a submission has
	// left, each with the time it ended; its current state runs from the
	// last of them (or its publication) on.
	spans map[string][]rolloutSpan
}

type rolloutSpan struct {
	until   time.Time
	rollout rollout
}

func newAnalyticsState(o AnalyticsOptions) *analyticsState {
	return &analyticsState{opts: o.withDefaults(), spans: map[string][]rolloutSpan{}}
}

// noteRolloutChange records sub's rollout as it was until now, before a
// call may change it. s.mu is held.
func (s *Server) noteRolloutChange(sub *submission) {
	a := s.analytics
	a.spans[sub.id] = append(a.spans[sub.id], rolloutSpan{until: s.clock.Now(), rollout: sub.rollout})
}

// SetFailureRates sets a package version's failure rates.
func (s *Server) SetFailureRates(version string, r FailureRates) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.analytics.opts.VersionRates[version] = r
}

// SetAnalyticsLag sets how long after a day ends its rows appear
// (negative: at once).
func (s *Server) SetAnalyticsLag(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.analytics.opts.Lag = max(d, 0)
}

// SetAnalyticsDevices sets each audience's active devices a day.
func (s *Server) SetAnalyticsDevices(n float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n > 0 {
		s.analytics.opts.Devices = n
	}
}

// SetMissingDays replaces the UTC days without any analytics row.
func (s *Server) SetMissingDays(days ...time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.analytics.opts.MissingDays = slices.Clone(days)
}

// published returns the submissions of an audience (an app's own, or a
// flight's) that have been published, in the order they were, with the
// time each was. s.mu is held.
func (s *Server) published(appID, flightID string) ([]*submission, []time.Time) {
	type pub struct {
		sub *submission
		at  time.Time
	}
	var pubs []pub
	for _, sub := range s.subs {
		if sub.appID != appID || sub.flightID != flightID {
			continue
		}
		for i := len(sub.history) - 1; i >= 0; i-- {
			if sub.history[i].Status == stPublished {
				pubs = append(pubs, pub{sub, sub.history[i].At})
				break
			}
		}
	}
	slices.SortFunc(pubs, func(a, b pub) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return cmpID(a.sub.id, b.sub.id)
	})
	subs, at := make([]*submission, len(pubs)), make([]time.Time, len(pubs))
	for i, p := range pubs {
		subs[i], at[i] = p.sub, p.at
	}
	return subs, at
}

// cmpID orders submission IDs, decimal strings of one length, as numbers.
func cmpID(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// ownShare is the share of its audience that sub's rollout gives sub's
// packages at t: the percentage of the devices it can reach while in
// progress, the same it had when halted (those devices keep the
// packages), all of them once complete or without a gradual rollout.
func (a *analyticsState) ownShare(sub *submission, t time.Time) float64 {
	spans := a.spans[sub.id]
	r := sub.rollout
	for _, sp := range spans {
		if t.Before(sp.until) {
			r = sp.rollout
			break
		}
	}
	if !r.enabled {
		return 1
	}
	reachable := 1 - a.opts.Unreachable
	switch r.status {
	case rolloutInProgress:
		return reachable * r.pct / 100
	case rolloutStopped:
		for i := len(spans) - 1; i >= 0; i-- {
			if sp := spans[i]; !sp.until.After(t) && sp.rollout.status == rolloutInProgress {
				return reachable * sp.rollout.pct / 100
			}
		}
		return 0
	}
	return 1
}

// audienceShares adds to shares each version's share of the audience's
// device-days on the day starting at start: the latest published
// submission takes its own share, its fallback its own share of the rest,
// and so on down the fallbacks. The day is cut at every publication and
// rollout change so that each piece is weighed by its length.
func (s *Server) audienceShares(shares map[string]float64, subs []*submission, at []time.Time, start time.Time) {
	end := start.Add(24 * time.Hour)
	cuts := []time.Time{start, end}
	for i, sub := range subs {
		cuts = append(cuts, at[i])
		for _, sp := range s.analytics.spans[sub.id] {
			cuts = append(cuts, sp.until)
		}
	}
	slices.SortFunc(cuts, time.Time.Compare)
	for i := 0; i+1 < len(cuts); i++ {
		from, to := later(cuts[i], start), cuts[i+1]
		if !from.Before(to) || to.After(end) {
			continue
		}
		weight := float64(to.Sub(from)) / float64(24*time.Hour)
		mid := from.Add(to.Sub(from) / 2)
		s.sharesAt(shares, subs, at, mid, weight)
	}
}

// sharesAt splits one moment's audience down the chain of fallbacks.
func (s *Server) sharesAt(shares map[string]float64, subs []*submission, at []time.Time, t time.Time, weight float64) {
	var cur *submission
	for i, sub := range subs {
		if !at[i].After(t) {
			cur = sub
		}
	}
	mass := weight
	for depth := 0; cur != nil && mass > 0 && depth < 20; depth++ {
		own := s.analytics.ownShare(cur, t)
		for _, v := range versionsOf(cur) {
			shares[v] += mass * own / float64(len(versionsOf(cur)))
		}
		mass *= 1 - own
		next := s.subs[cur.rollout.fallback]
		if next == nil || next == cur || !slices.Contains(subs, next) {
			break
		}
		cur = next
	}
}

// versionsOf returns the distinct package versions of sub, which split
// its devices evenly.
func versionsOf(sub *submission) []string {
	var vs []string
	for _, p := range sub.packages {
		if p.version != "" && p.fileStatus != "PendingDelete" && !slices.Contains(vs, p.version) {
			vs = append(vs, p.version)
		}
	}
	return vs
}

// analyticsDay is one UTC day of an app's data: active devices and
// failing devices per kind, by version.
type analyticsDay struct {
	date     time.Time
	devices  map[string]float64
	failures map[string]map[string]float64 // version, kind
}

// dayData makes one day of an app's analytics, or nothing when the day
// has no rows (missing, not ended a lag ago, before any publication).
func (s *Server) dayData(a *app, date time.Time) (analyticsDay, bool) {
	o := s.analytics.opts
	if s.clock.Now().Before(date.Add(24*time.Hour+o.Lag)) || slices.ContainsFunc(o.MissingDays, func(d time.Time) bool { return utcDay(d).Equal(date) }) {
		return analyticsDay{}, false
	}
	shares := map[string]float64{}
	for _, fid := range append([]string{""}, a.flightOrder...) {
		subs, at := s.published(a.id, fid)
		s.audienceShares(shares, subs, at, date)
	}
	d := analyticsDay{date: date, devices: map[string]float64{}, failures: map[string]map[string]float64{}}
	for v, share := range shares {
		n := math.Round(share * o.Devices)
		if n <= 0 {
			continue
		}
		d.devices[v] = n
		rates, ok := o.VersionRates[v]
		if !ok {
			rates = o.Rates
		}
		d.failures[v] = map[string]float64{}
		for _, k := range []struct {
			kind string
			rate float64
		}{{"crash", rates.Crash}, {"hang", rates.Hang}} {
			rng := rand.New(rand.NewPCG(o.Seed, rowSeed(a.id, v, k.kind, date)))
			if c := float64(Poisson(rng, n*k.rate*o.CountScale)) / o.CountScale; c > 0 {
				d.failures[v][k.kind] = c
			}
		}
	}
	return d, len(d.devices) > 0
}

// rowSeed makes the random stream of one count.
func rowSeed(parts ...any) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		switch v := p.(type) {
		case string:
			h.Write([]byte(v))
		case time.Time:
			h.Write([]byte(v.Format(time.DateOnly)))
		}
		h.Write([]byte{0})
	}
	return h.Sum64()
}

func utcDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
