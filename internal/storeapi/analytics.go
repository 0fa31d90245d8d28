package storeapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Failure kinds, the eventType of a failurehits row.
const (
	FailureCrash  = "crash"
	FailureHang   = "hang"
	FailureMemory = "memory"
	FailureJSE    = "jse"
)

// analyticsTop is the documented largest (and default) page of the
// analytics API.
const analyticsTop = 10000

// Hints added to analytics reads the Store refused for good.
const (
	analyticsRightsHint   = "reading analytics needs the Entra application added in Partner Center (Account settings, Users) with the Manager role"
	analyticsNotFoundHint = "the analytics API serves only the MSIX apps of this Partner Center account; check application-id"
	analyticsBadQueryHint = "the analytics API refused the query; failurehits keeps only the last 30 days"
)

// AnalyticsQuery selects the daily rows of an analytics read.
type AnalyticsQuery struct {
	// ApplicationID is the app's Store ID.
	ApplicationID string
	// From and To are the first and the last UTC day read, both included;
	// only their UTC dates count. failurehits keeps 30 days, usagedaily 90.
	From, To time.Time
	// PackageVersions, when not empty, limits the rows to these versions.
	PackageVersions []string
}

// FailureHit is a row of failurehits grouped by package version and
// failure kind: the devices that failed that way on one UTC day.
//
// The API's counts are scaled estimates, often fractional
// (deviceCount 7.14285714285714), so they are kept as read.
type FailureHit struct {
	Date           time.Time // the UTC day, at midnight
	PackageVersion string
	EventType      string  // FailureCrash, FailureHang, FailureMemory or FailureJSE
	DeviceCount    float64 // devices with at least one such failure that day
	EventCount     float64 // failures
}

// UsageDay is a row of usagedaily grouped by package version and day: the
// devices that used that version on one UTC day.
type UsageDay struct {
	Date               time.Time // the UTC day, at midnight
	PackageVersion     string
	DailyActiveDevices float64
}

// failureHitRow and usageRow are the wire forms; dates are parsed after.
type failureHitRow struct {
	Date           string  `json:"date"`
	PackageVersion string  `json:"packageVersion"`
	EventType      string  `json:"eventType"`
	DeviceCount    float64 `json:"deviceCount"`
	EventCount     float64 `json:"eventCount"`
}

type usageRow struct {
	Date               string  `json:"date"`
	PackageVersion     string  `json:"packageVersion"`
	DailyActiveDevices float64 `json:"dailyActiveDevices"`
}

// wireRow is a wire row that becomes an R once its date is read.
type wireRow[R any] interface {
	date() string
	withDate(time.Time) R
}

func (r failureHitRow) date() string { return r.Date }
func (r failureHitRow) withDate(d time.Time) FailureHit {
	return FailureHit{Date: d, PackageVersion: r.PackageVersion, EventType: r.EventType, DeviceCount: r.DeviceCount, EventCount: r.EventCount}
}

func (r usageRow) date() string { return r.Date }
func (r usageRow) withDate(d time.Time) UsageDay {
	return UsageDay{Date: d, PackageVersion: r.PackageVersion, DailyActiveDevices: r.DailyActiveDevices}
}

// analyticsPage is the body of every analytics read. A page with no more
// after it has "@nextLink": null (or none).
type analyticsPage[T any] struct {
	Value      []T    `json:"Value"`
	NextLink   string `json:"@nextLink"`
	TotalCount int    `json:"TotalCount"`
}

// FailureHits returns the failing devices per package version, failure
// kind and UTC day from q.From to q.To, reading every page. Rows of a day
// outside the range, which the API has been seen to return, are kept: the
// caller picks its days.
//
// GET analytics/failurehits?applicationId=...&startDate=mm/dd/yyyy&endDate=...&aggregationLevel=day&groupby=packageVersion,eventType
//
// https://learn.microsoft.com/windows/uwp/monetize/get-error-reporting-data
func (c *Client) FailureHits(ctx context.Context, q AnalyticsQuery) ([]FailureHit, error) {
	const op = "read failure hits"
	params, err := analyticsParams(op, q)
	if err != nil {
		return nil, err
	}
	params.Set("aggregationLevel", "day")
	params.Set("groupby", "packageVersion,eventType")
	// The 2024 revision takes one orderby field, which must be grouped on.
	params.Set("orderby", "packageVersion")
	return readAnalytics[failureHitRow, FailureHit](ctx, c, op, "failurehits", params)
}

// UsageDaily returns the active devices per package version and UTC day
// from q.From to q.To, reading every page.
//
// GET analytics/usagedaily?applicationId=...&startDate=mm/dd/yyyy&endDate=...&groupby=packageVersion,date
//
// https://learn.microsoft.com/windows/uwp/monetize/get-app-usage-daily
func (c *Client) UsageDaily(ctx context.Context, q AnalyticsQuery) ([]UsageDay, error) {
	const op = "read daily usage"
	params, err := analyticsParams(op, q)
	if err != nil {
		return nil, err
	}
	params.Set("groupby", "packageVersion,date")
	params.Set("orderby", "date")
	return readAnalytics[usageRow, UsageDay](ctx, c, op, "usagedaily", params)
}

// AnalyticsRefused reports whether err is an analytics read the Store
// refused for good: 400 (a query it will not answer), 401 or 403 (the
// Entra application lacks the rights) or 404 (an app it does not know).
// Repeating the read will not help, so a gate should fail rather than wait.
// Throttling, server errors, broken connections and unreadable answers are
// not refusals: a later run may read them.
func AnalyticsRefused(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.StatusCode {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound:
		return true
	}
	return false
}

// analyticsParams checks q and returns the parameters common to both
// reads. Nothing is sent for a bad query.
func analyticsParams(op string, q AnalyticsQuery) (url.Values, error) {
	if err := checkIDs(op, q.ApplicationID); err != nil {
		return nil, err
	}
	from, to := utcDay(q.From), utcDay(q.To)
	if q.From.IsZero() || q.To.IsZero() || to.Before(from) {
		return nil, fmt.Errorf("%s: the days %s to %s are not a range", op, from.Format(time.DateOnly), to.Format(time.DateOnly))
	}
	v := url.Values{}
	v.Set("applicationId", q.ApplicationID)
	v.Set("startDate", from.Format("01/02/2006"))
	v.Set("endDate", to.Format("01/02/2006"))
	if len(q.PackageVersions) > 0 {
		terms := make([]string, len(q.PackageVersions))
		for i, ver := range q.PackageVersions {
			// The filter syntax has no escape for a quote.
			if ver == "" || strings.ContainsAny(ver, "'\x00\r\n") {
				return nil, fmt.Errorf("%s: package version %q cannot be put in a filter", op, ver)
			}
			terms[i] = "packageVersion eq '" + ver + "'"
		}
		v.Set("filter", strings.Join(terms, " or "))
	}
	return v, nil
}

func utcDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// readAnalytics reads every page of an analytics endpoint with top and
// skip, as the API documents them. @nextLink only says that more follow:
// its form (relative to an unstated base, with dates as yyyy/mm/dd and
// unescaped spaces) is not one to rebuild a URL from. Reading stops at the
// first page without a link, an empty page, or once TotalCount rows are in,
// so that a server ignoring skip cannot loop. Then each row's date is read.
func readAnalytics[W wireRow[R], R any](ctx context.Context, c *Client, op, endpoint string, params url.Values) ([]R, error) {
	u := c.endpoint("analytics/"+endpoint, nil)
	var all []W
	params.Set("top", strconv.Itoa(analyticsTop))
	for range maxPages {
		params.Set("skip", strconv.Itoa(len(all)))
		// Spaces as %20: the documented filters are written with spaces,
		// and a '+' is read as a space only by some servers.
		u.RawQuery = strings.ReplaceAll(params.Encode(), "+", "%20")
		var page analyticsPage[W]
		if err := c.do(ctx, op, http.MethodGet, u, nil, &page); err != nil {
			return nil, withAnalyticsHint(err)
		}
		all = append(all, page.Value...)
		if page.NextLink == "" || len(page.Value) == 0 || (page.TotalCount > 0 && len(all) >= page.TotalCount) {
			return withDates[W, R](op, u, all)
		}
	}
	return nil, &Error{Op: op, Method: http.MethodGet, Path: u.EscapedPath(), Err: fmt.Errorf("more than %d pages", maxPages)}
}

// withDates reads the rows' dates; a row without one fails the read as an
// answer that could not be decoded.
func withDates[W wireRow[R], R any](op string, u *url.URL, rows []W) ([]R, error) {
	out := make([]R, 0, len(rows))
	for _, r := range rows {
		d, err := parseAnalyticsDate(r.date())
		if err != nil {
			return nil, &Error{Op: op, Method: http.MethodGet, Path: u.EscapedPath(), StatusCode: http.StatusOK, Err: err}
		}
		out = append(out, r.withDate(d))
	}
	return out, nil
}

// withAnalyticsHint adds what to check to a refusal.
func withAnalyticsHint(err error) error {
	var e *Error
	if !errors.As(err, &e) || e.hint != "" {
		return err
	}
	switch e.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		e.hint = analyticsRightsHint
	case http.StatusNotFound:
		e.hint = analyticsNotFoundHint
	case http.StatusBadRequest:
		e.hint = analyticsBadQueryHint
	}
	return err
}

// analyticsDateLayouts are the forms the documentation shows for a row's
// date: yyyy-mm-dd, with a time for hourly rows, and the request's forms.
var analyticsDateLayouts = []string{
	time.DateOnly,
	"2006-01-02 15:04:05",
	"2006-01-02T15:04:05",
	time.RFC3339,
	"01/02/2006",
	"2006/01/02",
}

// parseAnalyticsDate reads a row's date as its UTC day.
func parseAnalyticsDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range analyticsDateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return utcDay(t), nil
		}
	}
	return time.Time{}, fmt.Errorf("row date %q is not a date", sanitize(s, 40))
}
