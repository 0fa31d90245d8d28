package storeapi

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
)

// maxPages bounds ListFlights, so that a @nextLink that points back at an
// earlier page cannot loop forever.
const maxPages = 1000

// checkIDs refuses empty IDs before anything is sent: an empty segment would
// address a different resource.
func checkIDs(op string, ids ...string) error {
	for _, id := range ids {
		if id == "" {
			return fmt.Errorf("%s: empty ID", op)
		}
	}
	return nil
}

func appPath(appID string) string { return "applications/" + seg(appID) }

func flightPath(appID, flightID string) string {
	return appPath(appID) + "/flights/" + seg(flightID)
}

// submissionPath is FS or AS of STOREAPI.md §3 by key.IsFlight().
func submissionPath(key SubmissionKey) string {
	if key.IsFlight() {
		return flightPath(key.ApplicationID, key.FlightID) + "/submissions/" + seg(key.SubmissionID)
	}
	return appPath(key.ApplicationID) + "/submissions/" + seg(key.SubmissionID)
}

// kind names a key's submission in operation names.
func kind(key SubmissionKey) string {
	if key.IsFlight() {
		return "flight submission"
	}
	return "app submission"
}

func checkKey(op string, key SubmissionKey) error {
	return checkIDs(op, key.ApplicationID, key.SubmissionID)
}

// flightList is the body of GET applications/{id}/listflights.
type flightList struct {
	Value    []Flight `json:"value"`
	NextLink string   `json:"@nextLink"`
}

// ListFlights returns every package flight of the app, following
// @nextLink (relative to /v1.0/my/) page by page. The Store answers 404
// (ErrNotFound) when the app has no flights.
//
// GET applications/{applicationId}/listflights
//
// https://learn.microsoft.com/windows/uwp/monetize/get-flights-for-an-app
func (c *Client) ListFlights(ctx context.Context, appID string) ([]Flight, error) {
	const op = "list flights"
	if err := checkIDs(op, appID); err != nil {
		return nil, err
	}
	u := c.endpoint(appPath(appID)+"/listflights", nil)
	var all []Flight
	for range maxPages {
		var page flightList
		if err := c.do(ctx, op, http.MethodGet, u, nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Value...)
		if page.NextLink == "" {
			return all, nil
		}
		next, err := c.nextPage(u, page.NextLink)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		u = next
	}
	return nil, fmt.Errorf("%s: more than %d pages", op, maxPages)
}

// nextPage resolves a @nextLink against /v1.0/my/. A link to another host
// is refused: the client only talks to the Store.
func (c *Client) nextPage(cur *url.URL, link string) (*url.URL, error) {
	ref, err := url.Parse(link)
	if err != nil {
		return nil, errors.New("invalid @nextLink")
	}
	next := c.base.ResolveReference(ref)
	if !c.isStoreHost(next) {
		return nil, fmt.Errorf("@nextLink points to another host %q", next.Host)
	}
	if next.String() == cur.String() {
		return nil, errors.New("@nextLink points to the same page")
	}
	return next, nil
}

// GetFlight returns a package flight.
//
// GET applications/{applicationId}/flights/{flightId}
//
// https://learn.microsoft.com/windows/uwp/monetize/get-a-flight
func (c *Client) GetFlight(ctx context.Context, appID, flightID string) (*Flight, error) {
	const op = "get flight"
	if err := checkIDs(op, appID, flightID); err != nil {
		return nil, err
	}
	var f Flight
	if err := c.do(ctx, op, http.MethodGet, c.endpoint(flightPath(appID, flightID), nil), nil, &f); err != nil {
		return nil, err
	}
	return &f, nil
}

// GetApplication returns the app's data, including its last published and
// pending submissions.
//
// GET applications/{applicationId}
//
// https://learn.microsoft.com/windows/uwp/monetize/get-an-app
func (c *Client) GetApplication(ctx context.Context, appID string) (*Application, error) {
	const op = "get application"
	if err := checkIDs(op, appID); err != nil {
		return nil, err
	}
	var a Application
	if err := c.do(ctx, op, http.MethodGet, c.endpoint(appPath(appID), nil), nil, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// CreateFlightSubmission creates a flight submission, a clone of the
// flight's last published one, in PendingCommit with a new fileUploadUrl.
// It is not retried unless the Store certainly did nothing; on
// ErrOutcomeUnknown read the flight's pending submission before creating
// again.
//
// POST applications/{applicationId}/flights/{flightId}/submissions
//
// https://learn.microsoft.com/windows/uwp/monetize/create-a-flight-submission
func (c *Client) CreateFlightSubmission(ctx context.Context, appID, flightID string) (*FlightSubmission, error) {
	const op = "create flight submission"
	if err := checkIDs(op, appID, flightID); err != nil {
		return nil, err
	}
	var s FlightSubmission
	if err := c.do(ctx, op, http.MethodPost, c.endpoint(flightPath(appID, flightID)+"/submissions", nil), nil, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// GetFlightSubmission returns a flight submission.
//
// GET applications/{applicationId}/flights/{flightId}/submissions/{submissionId}
//
// https://learn.microsoft.com/windows/uwp/monetize/get-a-flight-submission
func (c *Client) GetFlightSubmission(ctx context.Context, appID, flightID, submissionID string) (*FlightSubmission, error) {
	const op = "get flight submission"
	key := SubmissionKey{ApplicationID: appID, FlightID: flightID, SubmissionID: submissionID}
	if err := checkIDs(op, appID, flightID, submissionID); err != nil {
		return nil, err
	}
	var s FlightSubmission
	if err := c.do(ctx, op, http.MethodGet, c.endpoint(submissionPath(key), nil), nil, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// UpdateFlightSubmission replaces the flight submission sub.ID with sub and
// returns the Store's updated copy. The body is sub as read, unknown fields
// and package ids included, without the fields the Store owns (status,
// statusDetails, fileUploadUrl, and the rollout's packageRolloutStatus and
// fallbackSubmissionId).
//
// PUT applications/{applicationId}/flights/{flightId}/submissions/{submissionId}
//
// https://learn.microsoft.com/windows/uwp/monetize/update-a-flight-submission
func (c *Client) UpdateFlightSubmission(ctx context.Context, appID, flightID string, sub *FlightSubmission) (*FlightSubmission, error) {
	const op = "update flight submission"
	if sub == nil {
		return nil, fmt.Errorf("%s: no submission", op)
	}
	if err := checkIDs(op, appID, flightID, sub.ID); err != nil {
		return nil, err
	}
	body, err := updateBody(sub)
	if err != nil {
		return nil, fmt.Errorf("%s: encode: %w", op, err)
	}
	key := SubmissionKey{ApplicationID: appID, FlightID: flightID, SubmissionID: sub.ID}
	var s FlightSubmission
	if err := c.do(ctx, op, http.MethodPut, c.endpoint(submissionPath(key), nil), body, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// DeleteFlightSubmission deletes a pending flight submission.
//
// DELETE applications/{applicationId}/flights/{flightId}/submissions/{submissionId}
//
// https://learn.microsoft.com/windows/uwp/monetize/delete-a-flight-submission
func (c *Client) DeleteFlightSubmission(ctx context.Context, appID, flightID, submissionID string) error {
	const op = "delete flight submission"
	if err := checkIDs(op, appID, flightID, submissionID); err != nil {
		return err
	}
	key := SubmissionKey{ApplicationID: appID, FlightID: flightID, SubmissionID: submissionID}
	return c.do(ctx, op, http.MethodDelete, c.endpoint(submissionPath(key), nil), nil, nil)
}

// CommitSubmission commits a flight or app submission (by key.IsFlight())
// and returns its new status, normally CommitStarted. On ErrOutcomeUnknown
// read SubmissionStatus before committing again.
//
// POST applications/{applicationId}/flights/{flightId}/submissions/{submissionId}/commit
// or applications/{applicationId}/submissions/{submissionId}/commit
//
// https://learn.microsoft.com/windows/uwp/monetize/commit-a-flight-submission
// https://learn.microsoft.com/windows/uwp/monetize/commit-an-app-submission
func (c *Client) CommitSubmission(ctx context.Context, key SubmissionKey) (*SubmissionStatus, error) {
	op := "commit " + kind(key)
	if err := checkKey(op, key); err != nil {
		return nil, err
	}
	var s SubmissionStatus
	if err := c.do(ctx, op, http.MethodPost, c.endpoint(submissionPath(key)+"/commit", nil), nil, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// SubmissionStatus returns a flight or app submission's status and its
// details (errors, warnings, certification reports). Unknown status values
// are returned as they are.
//
// GET applications/{applicationId}/flights/{flightId}/submissions/{submissionId}/status
// or applications/{applicationId}/submissions/{submissionId}/status
//
// https://learn.microsoft.com/windows/uwp/monetize/get-status-for-a-flight-submission
// https://learn.microsoft.com/windows/uwp/monetize/get-status-for-an-app-submission
func (c *Client) SubmissionStatus(ctx context.Context, key SubmissionKey) (*SubmissionStatus, error) {
	op := "get " + kind(key) + " status"
	if err := checkKey(op, key); err != nil {
		return nil, err
	}
	var s SubmissionStatus
	if err := c.do(ctx, op, http.MethodGet, c.endpoint(submissionPath(key)+"/status", nil), nil, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// GetPackageRollout returns the gradual rollout state of a flight or app
// submission.
//
// GET .../submissions/{submissionId}/packagerollout
//
// https://learn.microsoft.com/windows/uwp/monetize/get-package-rollout-info-for-a-flight-submission
// https://learn.microsoft.com/windows/uwp/monetize/get-package-rollout-info-for-an-app-submission
func (c *Client) GetPackageRollout(ctx context.Context, key SubmissionKey) (*PackageRollout, error) {
	return c.rollout(ctx, "get package rollout of "+kind(key), http.MethodGet, key, "packagerollout", nil)
}

// UpdatePackageRolloutPercentage sets the rollout percentage (0 to 100) of
// a published submission whose rollout is in progress. The percentage goes
// in the query string, formatted with '.' as the decimal separator; there
// is no body.
//
// POST .../submissions/{submissionId}/updatepackagerolloutpercentage?percentage={float}
//
// https://learn.microsoft.com/windows/uwp/monetize/update-the-package-rollout-percentage-for-a-flight-submission
// https://learn.microsoft.com/windows/uwp/monetize/update-the-package-rollout-percentage-for-an-app-submission
func (c *Client) UpdatePackageRolloutPercentage(ctx context.Context, key SubmissionKey, percentage float64) (*PackageRollout, error) {
	op := "update package rollout percentage of " + kind(key)
	if math.IsNaN(percentage) || percentage < 0 || percentage > 100 {
		return nil, fmt.Errorf("%s: percentage %v is not between 0 and 100", op, percentage)
	}
	q := url.Values{"percentage": {strconv.FormatFloat(percentage, 'f', -1, 64)}}
	return c.rollout(ctx, op, http.MethodPost, key, "updatepackagerolloutpercentage", q)
}

// HaltPackageRollout halts a submission's rollout: new and updating users
// get the fallback submission's packages.
//
// POST .../submissions/{submissionId}/haltpackagerollout
//
// https://learn.microsoft.com/windows/uwp/monetize/halt-the-package-rollout-for-a-flight-submission
// https://learn.microsoft.com/windows/uwp/monetize/halt-the-package-rollout-for-an-app-submission
func (c *Client) HaltPackageRollout(ctx context.Context, key SubmissionKey) (*PackageRollout, error) {
	return c.rollout(ctx, "halt package rollout of "+kind(key), http.MethodPost, key, "haltpackagerollout", nil)
}

// FinalizePackageRollout finalizes a submission's rollout: everyone gets
// its packages.
//
// POST .../submissions/{submissionId}/finalizepackagerollout
//
// https://learn.microsoft.com/windows/uwp/monetize/finalize-the-package-rollout-for-a-flight-submission
// https://learn.microsoft.com/windows/uwp/monetize/finalize-the-package-rollout-for-an-app-submission
func (c *Client) FinalizePackageRollout(ctx context.Context, key SubmissionKey) (*PackageRollout, error) {
	return c.rollout(ctx, "finalize package rollout of "+kind(key), http.MethodPost, key, "finalizepackagerollout", nil)
}

func (c *Client) rollout(ctx context.Context, op, method string, key SubmissionKey, verb string, q url.Values) (*PackageRollout, error) {
	if err := checkKey(op, key); err != nil {
		return nil, err
	}
	var r PackageRollout
	if err := c.do(ctx, op, method, c.endpoint(submissionPath(key)+"/"+verb, q), nil, &r); err != nil {
		return nil, err
	}
	return &r, nil
}
