package storefake

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// analyticsError is the analytics API's error body, as its documentation
// shows it.
type analyticsError struct {
	Code       string          `json:"code"`
	Data       []string        `json:"data"`
	Details    []any           `json:"details"`
	InnerError *analyticsInner `json:"innererror,omitempty"`
	Message    string          `json:"message"`
	Source     string          `json:"source"`
}

type analyticsInner struct {
	Code    string   `json:"code"`
	Data    []string `json:"data"`
	Details []any    `json:"details"`
	Message string   `json:"message"`
	Source  string   `json:"source"`
}

// badQuery answers 400 as the analytics API does for a parameter it
// refuses, saying which in innererror.data.
func badQuery(format string, args ...any) (int, any) {
	return http.StatusBadRequest, analyticsError{
		Code: "BadRequest", Data: []string{}, Details: []any{}, Source: "AnalyticsAPI",
		Message: "The calling client sent a bad request to the service.",
		InnerError: &analyticsInner{
			Code: "InvalidQueryParameters", Data: []string{fmt.Sprintf(format, args...)}, Details: []any{},
			Message: "One or More Query Parameters has invalid values.", Source: "AnalyticsAPI",
		},
	}
}

// endpointSpec is what one analytics endpoint accepts.
type endpointSpec struct {
	name     string
	keepDays int      // how far back rows are kept
	groupby  []string // documented groupby fields
	orderby  []string // documented orderby fields
	filter   []string // documented filter fields
	// filtered are the filter fields the simulator's rows carry; a filter
	// on another documented field is refused as not simulated.
	filtered []string
	// orderbyGrouped: one orderby field, which must be grouped on (the
	// 2024 revision of failurehits).
	orderbyGrouped bool
	// dayAfter: rows of the day after endDate come too, as the documented
	// sample response shows.
	dayAfter bool
	render   func(s *Server, a *app, r analyticsRow) map[string]any
}

var failureHitsSpec = endpointSpec{
	name:     "failurehits",
	keepDays: 30,
	groupby:  []string{"failureName", "failureHash", "symbol", "osVersion", "eventType", "market", "deviceType", "packageName", "packageVersion"},
	orderby: []string{"applicationName", "failureName", "failureHash", "symbol", "osVersion", "osRelease", "eventType", "market",
		"deviceType", "packageName", "packageVersion", "date"},
	filter: []string{"applicationName", "failureName", "failureHash", "symbol", "osVersion", "osRelease", "eventType", "market",
		"deviceType", "packageName", "packageVersion", "date"},
	filtered:       []string{"packageVersion", "eventType"},
	orderbyGrouped: true,
	dayAfter:       true,
	render: func(s *Server, a *app, r analyticsRow) map[string]any {
		return map[string]any{
			"date": r.date.Format(time.DateOnly), "applicationId": a.id, "applicationName": a.name,
			"packageVersion": r.version, "eventType": r.kind, "deviceCount": r.count, "eventCount": r.count * 1.25,
		}
	},
}

var usageDailySpec = endpointSpec{
	name:     "usagedaily",
	keepDays: 90,
	groupby:  []string{"applicationName", "subscriptionName", "deviceType", "packageVersion", "market", "date"},
	orderby: []string{"date", "applicationId", "applicationName", "market", "packageVersion", "deviceType", "subscriptionName",
		"dailySessionCount", "engagementDurationMinutes", "dailyActiveUsers", "dailyActiveDevices", "dailyNewUsers",
		"monthlyActiveUsers", "monthlyActiveDevices", "monthlyNewUsers", "dailyNewDevices", "monthlyNewDevices"},
	filter:   []string{"market", "deviceType", "packageVersion"},
	filtered: []string{"packageVersion"},
	render: func(s *Server, a *app, r analyticsRow) map[string]any {
		return map[string]any{
			"date": r.date.Format(time.DateOnly), "applicationId": a.id, "applicationName": a.name,
			"subscriptionName": "null", "deviceType": "All", "market": "All", "packageVersion": r.version,
			"dailyActiveDevices": r.count, "dailyActiveUsers": r.count, "dailySessionCount": 2 * r.count,
		}
	},
}

// analyticsRow is one row before it is rendered: a version's active
// devices (kind "") or its failing devices of one kind on one day.
type analyticsRow struct {
	date          time.Time
	version, kind string
	count         float64
}

func (r analyticsRow) field(name string) string {
	switch name {
	case "packageVersion":
		return r.version
	case "eventType":
		return r.kind
	case "date":
		return r.date.Format(time.DateOnly)
	}
	return ""
}

func (s *Server) failureHits(r *http.Request) (int, any) { return s.serveAnalytics(r, failureHitsSpec) }

func (s *Server) usageDaily(r *http.Request) (int, any) { return s.serveAnalytics(r, usageDailySpec) }

// analyticsQuery is a parsed request.
type analyticsQuery struct {
	app      *app
	from, to time.Time
	top      int
	skip     int
	filter   filterExpr
	orderby  []orderKey
}

type orderKey struct {
	field string
	desc  bool
}

func (s *Server) serveAnalytics(r *http.Request, spec endpointSpec) (int, any) {
	q, status, body := s.parseAnalyticsQuery(r.URL.Query(), spec)
	if status != 0 {
		return status, body
	}
	rows := s.analyticsRows(q, spec)
	total := len(rows)
	end := min(q.skip+min(q.top, s.analytics.opts.PageRows), total)
	page := make([]map[string]any, 0, max(end-q.skip, 0))
	for i := q.skip; i < end; i++ {
		page = append(page, spec.render(s, q.app, rows[i]))
	}
	out := struct {
		Value      []map[string]any `json:"Value"`
		NextLink   *string          `json:"@nextLink"`
		TotalCount int              `json:"TotalCount"`
	}{Value: page, TotalCount: total}
	if end < total {
		link := nextLink(spec.name, r.URL.Query(), q, end)
		out.NextLink = &link
	}
	return http.StatusOK, out
}

// nextLink writes @nextLink as the documented sample does: relative to
// the analytics path, dates as yyyy/mm/dd, the values unescaped.
func nextLink(endpoint string, raw url.Values, q *analyticsQuery, skip int) string {
	parts := []string{"applicationId=" + q.app.id}
	if endpoint == "failurehits" {
		parts = append(parts, "aggregationLevel=day")
	}
	parts = append(parts, "startDate="+q.from.Format("2006/01/02"), "endDate="+q.to.Format("2006/01/02"),
		"top="+strconv.Itoa(q.top), "skip="+strconv.Itoa(skip))
	for _, k := range []string{"groupby", "filter", "orderby"} {
		if v := raw.Get(k); v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	return endpoint + "?" + strings.Join(parts, "&")
}

// parseAnalyticsQuery reads and checks the parameters; a non-zero status
// is the answer to give instead.
func (s *Server) parseAnalyticsQuery(v url.Values, spec endpointSpec) (*analyticsQuery, int, any) {
	id := v.Get("applicationId")
	if id == "" {
		st, b := badQuery("applicationId is required")
		return nil, st, b
	}
	a := s.apps[id]
	if a == nil {
		return nil, http.StatusNotFound, analyticsError{Code: "NotFound", Data: []string{}, Details: []any{}, Source: "AnalyticsAPI",
			Message: fmt.Sprintf("No analytics data for application %s in this account.", id)}
	}
	today := utcDay(s.clock.Now())
	q := &analyticsQuery{app: a, from: today, to: today, top: maxAnalyticsTop}
	var err error
	fail := func(format string, args ...any) (*analyticsQuery, int, any) {
		st, b := badQuery(format, args...)
		return nil, st, b
	}
	for _, d := range []struct {
		name string
		to   *time.Time
	}{{"startDate", &q.from}, {"endDate", &q.to}} {
		if raw := v.Get(d.name); raw != "" {
			if *d.to, err = parseQueryDate(raw); err != nil {
				return fail("%s %q is not a date (mm/dd/yyyy)", d.name, raw)
			}
		}
	}
	if raw := v.Get("top"); raw != "" {
		if q.top, err = strconv.Atoi(raw); err != nil || q.top <= 0 {
			return fail("top parameter %q must be a positive number", raw)
		}
		if q.top > maxAnalyticsTop {
			return fail("top parameter cannot be more than %d", maxAnalyticsTop)
		}
	}
	if raw := v.Get("skip"); raw != "" {
		if q.skip, err = strconv.Atoi(raw); err != nil || q.skip < 0 {
			return fail("skip parameter %q must be a number of rows", raw)
		}
	}
	if lvl := v.Get("aggregationLevel"); lvl != "" && (spec.name != "failurehits" || lvl != "day") {
		return fail("aggregationLevel %q is not simulated (only day, for failurehits)", lvl)
	}
	groupby, msg := parseGroupby(v.Get("groupby"), spec.groupby)
	if msg != "" {
		return fail("%s", msg)
	}
	if q.orderby, msg = parseOrderby(v.Get("orderby"), spec, groupby); msg != "" {
		return fail("%s", msg)
	}
	if q.filter, err = parseFilter(v.Get("filter"), spec.filter, spec.filtered); err != nil {
		return fail("filter: %v", err)
	}
	return q, 0, nil
}

// queryDateLayouts are the documented request forms, and @nextLink's.
var queryDateLayouts = []string{"1/2/2006", time.DateOnly, "2006/1/2"}

func parseQueryDate(s string) (time.Time, error) {
	var err error
	for _, layout := range queryDateLayouts {
		var t time.Time
		if t, err = time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, err
}

func parseGroupby(raw string, allowed []string) ([]string, string) {
	if raw == "" {
		return nil, ""
	}
	var fields []string
	for f := range strings.SplitSeq(raw, ",") {
		f = strings.TrimSpace(f)
		switch {
		case !slices.Contains(allowed, f):
			return nil, fmt.Sprintf("groupby field %q is not one of %s", f, strings.Join(allowed, ", "))
		case slices.Contains(fields, f):
			return nil, fmt.Sprintf("groupby field %q is given twice", f)
		}
		fields = append(fields, f)
	}
	return fields, ""
}

func parseOrderby(raw string, spec endpointSpec, groupby []string) ([]orderKey, string) {
	if raw == "" {
		return nil, ""
	}
	var keys []orderKey
	for part := range strings.SplitSeq(raw, ",") {
		words := strings.Fields(part)
		if len(words) == 0 || len(words) > 2 || !slices.Contains(spec.orderby, words[0]) {
			return nil, fmt.Sprintf("orderby %q is not a field of %s with asc or desc", strings.TrimSpace(part), strings.Join(spec.orderby, ", "))
		}
		k := orderKey{field: words[0]}
		if len(words) == 2 {
			switch strings.ToLower(words[1]) {
			case "asc":
			case "desc":
				k.desc = true
			default:
				return nil, fmt.Sprintf("orderby order %q is not asc or desc", words[1])
			}
		}
		keys = append(keys, k)
	}
	if spec.orderbyGrouped && (len(keys) > 1 || !slices.Contains(groupby, keys[0].field)) {
		return nil, "orderby takes one field, and it must be a groupby field"
	}
	return keys, ""
}

// analyticsRows makes the rows of the query's days, filters and orders
// them.
func (s *Server) analyticsRows(q *analyticsQuery, spec endpointSpec) []analyticsRow {
	first := later(utcDay(q.from), utcDay(s.clock.Now()).AddDate(0, 0, -(spec.keepDays-1)))
	last := utcDay(q.to)
	if spec.dayAfter {
		last = last.AddDate(0, 0, 1)
	}
	var rows []analyticsRow
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		data, ok := s.dayData(q.app, d)
		if !ok {
			continue
		}
		for v, n := range data.devices {
			if spec.name == "usagedaily" {
				rows = append(rows, analyticsRow{date: d, version: v, count: n})
				continue
			}
			for kind, c := range data.failures[v] {
				rows = append(rows, analyticsRow{date: d, version: v, kind: kind, count: c})
			}
		}
	}
	rows = slices.DeleteFunc(rows, func(r analyticsRow) bool { return !q.filter.match(r) })
	slices.SortFunc(rows, func(a, b analyticsRow) int {
		for _, k := range q.orderby {
			c := compareField(a, b, k.field)
			if k.desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return cmp.Or(a.date.Compare(b.date), cmp.Compare(a.version, b.version), cmp.Compare(a.kind, b.kind))
	})
	return rows
}

func compareField(a, b analyticsRow, field string) int {
	switch field {
	case "dailyActiveDevices", "dailyActiveUsers", "dailySessionCount":
		return cmp.Compare(a.count, b.count)
	}
	return cmp.Compare(a.field(field), b.field(field))
}

// filterExpr is a parsed filter: terms joined by "and" inside each group,
// the groups joined by "or" (and binds tighter). Empty matches every row.
type filterExpr [][]filterTerm

type filterTerm struct {
	field, value string
	not          bool // ne
}

func (f filterExpr) match(r analyticsRow) bool {
	if len(f) == 0 {
		return true
	}
	return slices.ContainsFunc(f, func(group []filterTerm) bool {
		for _, t := range group {
			if (r.field(t.field) == t.value) == t.not {
				return false
			}
		}
		return true
	})
}

// parseFilter reads "field eq 'value'" statements joined with "and" and
// "or", as documented.
func parseFilter(raw string, documented, filtered []string) (filterExpr, error) {
	toks, err := filterTokens(raw)
	if err != nil || len(toks) == 0 {
		return nil, err
	}
	expr := filterExpr{nil}
	for i := 0; ; {
		if i+3 > len(toks) {
			return nil, fmt.Errorf("%q ends before a statement does", raw)
		}
		field, op, val := toks[i], strings.ToLower(toks[i+1].text), toks[i+2]
		switch {
		case field.quoted || !slices.Contains(documented, field.text):
			return nil, fmt.Errorf("%q is not a field of %s", field.text, strings.Join(documented, ", "))
		case !slices.Contains(filtered, field.text):
			return nil, fmt.Errorf("storefake does not simulate %s", field.text)
		case op != "eq" && op != "ne":
			return nil, fmt.Errorf("operator %q is not eq or ne", toks[i+1].text)
		case !val.quoted:
			return nil, fmt.Errorf("the value of %s must be in single quotes", field.text)
		}
		expr[len(expr)-1] = append(expr[len(expr)-1], filterTerm{field: field.text, value: val.text, not: op == "ne"})
		i += 3
		if i == len(toks) {
			return expr, nil
		}
		switch strings.ToLower(toks[i].text) {
		case "and":
		case "or":
			expr = append(expr, nil)
		default:
			return nil, fmt.Errorf("%q is not and or or", toks[i].text)
		}
		i++
	}
}

type filterToken struct {
	text   string
	quoted bool
}

func filterTokens(s string) ([]filterToken, error) {
	var toks []filterToken
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		if s[0] == '\'' {
			end := strings.IndexByte(s[1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("a quote is not closed in %q", s)
			}
			toks = append(toks, filterToken{text: s[1 : end+1], quoted: true})
			s = s[end+2:]
			continue
		}
		word, rest, _ := strings.Cut(s, " ")
		toks = append(toks, filterToken{text: word})
		s = rest
	}
	return toks, nil
}
