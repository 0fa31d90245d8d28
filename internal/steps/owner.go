package steps

import (
	"context"
	"fmt"
	"slices"

	"github.com/storeflight/storeflight/internal/storeapi"
)

// owner is the flight or the app whose submissions a run acts on: a package
// flight, or the app itself for its own (retail) submissions. It is the one
// place that knows which; the steps reach the Store's submission resources
// only through it.
type owner interface {
	// label names the flight or app in log lines; name says which it is
	// too ("flight ..." or "app ...").
	label() string
	name() string
	// submissionLabel names one of its submissions ("(new)" for none yet)
	// where the owner's ID was given before: the flight by its name.
	submissionLabel(id string) string
	key(submissionID string) storeapi.SubmissionKey
	// empty is a submission of its kind with nothing in it: what a create
	// starts from when there is no published submission to clone.
	empty() submission
	// refs are its pending and last published submissions as read when
	// the run found it ("" for none).
	refs() (pending, lastPublished string)
	// pendingID reads which submission is pending now ("" for none).
	pendingID(ctx context.Context) (string, error)
	get(ctx context.Context, id string) (submission, error)
	create(ctx context.Context) (submission, error)
	update(ctx context.Context, sub submission) (submission, error)
	remove(ctx context.Context, id string) error
}

// submission is a flight or app submission as last read from the Store (or,
// in a dry run, as it would be), seen through the fields the pipeline uses.
type submission interface {
	id() string
	status() storeapi.Status
	details() *storeapi.StatusDetails
	packages() []storeapi.Package
	// deliveryRollout is the rollout as the submission resource carries it
	// (the rollout endpoint is the authority once it is published).
	deliveryRollout() storeapi.PackageRollout
	uploadURL() string
	publishMode() string
	// fieldValues are its values of the fields an update sets (see
	// updateFields).
	fieldValues() map[string]string
	// ownContent is every field but those the server owns (see ownContent).
	ownContent() (map[string]any, error)
	// plannedClone is what a create would make of this (last published)
	// submission, for a dry run.
	plannedClone() submission
	// withUpdate returns a copy changed as the inputs ask, and the changes.
	// clonedFrom is the last published submission a submission this run
	// created was cloned from (an empty one when there was none), and nil
	// for any other. It refuses what the Store would refuse or what would
	// lose data, before anything is sent.
	withUpdate(in updateInput, clonedFrom submission) (submission, []FieldChange, error)
	// languages are its listing languages as the Store spelt them (none
	// for a flight submission, which has no listing).
	languages() []string
}

// flightOwner is a package flight.
type flightOwner struct {
	store                  *storeapi.Client
	appID, flightID        string
	friendlyName           string
	pending, lastPublished string // as read when the flight was found
}

func newFlightOwner(store *storeapi.Client, appID string, f *storeapi.Flight) *flightOwner {
	return &flightOwner{store: store, appID: appID, flightID: f.FlightID, friendlyName: f.FriendlyName,
		pending: refID(f.PendingFlightSubmission), lastPublished: refID(f.LastPublishedFlightSubmission)}
}

func (t *flightOwner) label() string {
	if t.friendlyName != "" {
		return fmt.Sprintf("%q (%s)", t.friendlyName, t.flightID)
	}
	return t.flightID
}

func (t *flightOwner) name() string { return "flight " + t.label() }

func (t *flightOwner) submissionLabel(id string) string {
	if t.friendlyName == "" {
		return fmt.Sprintf("submission %s of flight %s", orNew(id), t.flightID)
	}
	return fmt.Sprintf("submission %s of flight %q", orNew(id), t.friendlyName)
}

func (t *flightOwner) refs() (string, string) { return t.pending, t.lastPublished }

func (t *flightOwner) empty() submission {
	return flightSubmission{&storeapi.FlightSubmission{FlightID: t.flightID, Status: storeapi.StatusPendingCommit}}
}

func (t *flightOwner) key(id string) storeapi.SubmissionKey {
	return storeapi.SubmissionKey{ApplicationID: t.appID, FlightID: t.flightID, SubmissionID: id}
}

func (t *flightOwner) pendingID(ctx context.Context) (string, error) {
	f, err := t.store.GetFlight(ctx, t.appID, t.flightID)
	if err != nil {
		return "", err
	}
	return refID(f.PendingFlightSubmission), nil
}

func (t *flightOwner) get(ctx context.Context, id string) (submission, error) {
	sub, err := t.store.GetFlightSubmission(ctx, t.appID, t.flightID, id)
	if err != nil {
		return nil, err
	}
	return flightSubmission{sub}, nil
}

func (t *flightOwner) create(ctx context.Context) (submission, error) {
	sub, err := t.store.CreateFlightSubmission(ctx, t.appID, t.flightID)
	if err != nil {
		return nil, err
	}
	return flightSubmission{sub}, nil
}

func (t *flightOwner) update(ctx context.Context, sub submission) (submission, error) {
	fs, ok := sub.(flightSubmission)
	if !ok {
		return nil, fmt.Errorf("update %s: not a flight submission", t.submissionLabel(sub.id()))
	}
	got, err := t.store.UpdateFlightSubmission(ctx, t.appID, t.flightID, fs.FlightSubmission)
	if err != nil {
		return nil, err
	}
	return flightSubmission{got}, nil
}

func (t *flightOwner) remove(ctx context.Context, id string) error {
	return t.store.DeleteFlightSubmission(ctx, t.appID, t.flightID, id)
}

// flightSubmission is a flight submission resource.
type flightSubmission struct{ *storeapi.FlightSubmission }

func (s flightSubmission) id() string                       { return s.ID }
func (s flightSubmission) status() storeapi.Status          { return s.Status }
func (s flightSubmission) details() *storeapi.StatusDetails { return &s.StatusDetails }
func (s flightSubmission) packages() []storeapi.Package     { return s.FlightPackages }
func (s flightSubmission) uploadURL() string                { return s.FileUploadURL }
func (s flightSubmission) languages() []string              { return nil }
func (s flightSubmission) publishMode() string              { return s.TargetPublishMode }
func (s flightSubmission) deliveryRollout() storeapi.PackageRollout {
	return s.PackageDeliveryOptions.PackageRollout
}

func (s flightSubmission) plannedClone() submission {
	c := *s.FlightSubmission
	c.ID, c.Status = "", storeapi.StatusPendingCommit
	c.FlightPackages = slices.Clone(s.FlightPackages)
	return flightSubmission{&c}
}

func (s flightSubmission) fieldValues() map[string]string {
	return deliveryValues(s.PackageDeliveryOptions, s.TargetPublishMode, s.TargetPublishDate, s.NotesForCertification)
}

func (s flightSubmission) ownContent() (map[string]any, error) { return ownContent(s.FlightSubmission) }

func (s flightSubmission) withUpdate(in updateInput, clonedFrom submission) (submission, []FieldChange, error) {
	cfg := in.cfg
	next := *s.FlightSubmission
	next.FlightPackages = slices.Clone(s.FlightPackages)
	if len(cfg.Packages) > 0 {
		// Flight package entries carry no device family.
		fates, err := in.fates(s.FlightPackages, true)
		if err != nil {
			return nil, nil, err
		}
		next.FlightPackages = newPackages(s.FlightPackages, fates, cfg.Packages)
	}
	created := clonedFrom != nil
	applyUpdate(cfg, &next, created)
	before := submission(s)
	if created {
		before = clonedFrom
	}
	return flightSubmission{&next}, fieldChanges(cfg, created, "flightPackages", before, flightSubmission{&next}), nil
}

// appOwner is the app's own (retail) submissions, which carry the product
// page besides the packages: they are read and written as raw JSON, and
// an update edits only the fields the inputs name (appowner.go).
type appOwner struct {
	store                  *storeapi.Client
	appID                  string
	pending, lastPublished string // as read when the app was read
}

func newAppOwner(store *storeapi.Client, appID string, a *storeapi.Application) *appOwner {
	return &appOwner{store: store, appID: appID,
		pending: refID(a.PendingApplicationSubmission), lastPublished: refID(a.LastPublishedApplicationSubmission)}
}

func (t *appOwner) refs() (string, string) { return t.pending, t.lastPublished }

func (t *appOwner) empty() submission {
	return appSubmission{&storeapi.AppSubmission{Status: storeapi.StatusPendingCommit}}
}

func (t *appOwner) label() string { return t.appID }

func (t *appOwner) name() string { return "app " + t.appID }

func (t *appOwner) submissionLabel(id string) string {
	return fmt.Sprintf("app submission %s of %s", orNew(id), t.appID)
}

func (t *appOwner) key(id string) storeapi.SubmissionKey {
	return storeapi.SubmissionKey{ApplicationID: t.appID, SubmissionID: id}
}

func (t *appOwner) pendingID(ctx context.Context) (string, error) {
	a, err := t.store.GetApplication(ctx, t.appID)
	if err != nil {
		return "", err
	}
	return refID(a.PendingApplicationSubmission), nil
}

func (t *appOwner) get(ctx context.Context, id string) (submission, error) {
	sub, err := t.store.GetAppSubmission(ctx, t.appID, id)
	if err != nil {
		return nil, err
	}
	return appSubmission{sub}, nil
}

func (t *appOwner) create(ctx context.Context) (submission, error) {
	sub, err := t.store.CreateAppSubmission(ctx, t.appID)
	if err != nil {
		return nil, err
	}
	return appSubmission{sub}, nil
}

func (t *appOwner) update(ctx context.Context, sub submission) (submission, error) {
	as, ok := sub.(appSubmission)
	if !ok {
		return nil, fmt.Errorf("update %s: not an app submission", t.submissionLabel(sub.id()))
	}
	got, err := t.store.UpdateAppSubmission(ctx, t.appID, as.AppSubmission)
	if err != nil {
		return nil, err
	}
	return appSubmission{got}, nil
}

func (t *appOwner) remove(ctx context.Context, id string) error {
	return t.store.DeleteAppSubmission(ctx, t.appID, id)
}

// appSubmission is an app (retail) submission resource.
type appSubmission struct{ *storeapi.AppSubmission }

func (s appSubmission) id() string                       { return s.ID }
func (s appSubmission) status() storeapi.Status          { return s.Status }
func (s appSubmission) details() *storeapi.StatusDetails { return &s.StatusDetails }
func (s appSubmission) packages() []storeapi.Package     { return s.ApplicationPackages }
func (s appSubmission) uploadURL() string                { return s.FileUploadURL }
func (s appSubmission) languages() []string              { return s.ListingLanguages() }
func (s appSubmission) publishMode() string              { return s.TargetPublishMode }
func (s appSubmission) deliveryRollout() storeapi.PackageRollout {
	return s.PackageDeliveryOptions.PackageRollout
}

func (s appSubmission) plannedClone() submission {
	c := *s.AppSubmission
	c.ID, c.Status = "", storeapi.StatusPendingCommit
	c.ApplicationPackages = slices.Clone(s.ApplicationPackages)
	return appSubmission{&c}
}

func (s appSubmission) fieldValues() map[string]string {
	v := deliveryValues(s.PackageDeliveryOptions, s.TargetPublishMode, s.TargetPublishDate, s.NotesForCertification)
	for lang, l := range s.Listings {
		v[releaseNotesField(lang)] = quote(l.BaseListing.ReleaseNotes)
	}
	return v
}

func (s appSubmission) ownContent() (map[string]any, error) { return ownContent(s.AppSubmission) }

func (s appSubmission) withUpdate(in updateInput, clonedFrom submission) (submission, []FieldChange, error) {
	return s.applyInputs(in, clonedFrom)
}

func orNew(id string) string {
	if id == "" {
		return "(new)"
	}
	return id
}
