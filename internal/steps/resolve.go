package steps

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/storeflight/storeflight/internal/config"
	"github.com/storeflight/storeflight/internal/msix"
	"github.com/storeflight/storeflight/internal/storeapi"
)

// resolveStep finds the flight and the submission the run acts on.
//
// The re-run rule (DESIGN.md): a submission that is the flight's pending one
// (in any state) or its last published one, and whose packages include every
// file the inputs name (same fileName, not PendingDelete, and the same
// version as the local manifest where the Store reports one), is this
// pipeline's own earlier run with the same inputs; the run continues with it
// instead of applying pending-submission or creating another. An update
// without packages cannot be recognised this way, so for those the
// pending-submission policy always applies to a pending submission, and a
// re-run after such an update's commit meets its own submission as someone
// else's (pending-submission: reuse continues it while it is PendingCommit).
type resolveStep struct{}

func (resolveStep) Name() string { return "resolve" }

func (resolveStep) Skip(*State) string { return "" }

func (resolveStep) Run(ctx context.Context, s *State) error {
	cfg := s.cfg
	if cfg.FlightID == "" && cfg.FlightName == "" {
		return resolveApp(ctx, s)
	}
	flight, err := findFlight(ctx, s)
	if err != nil {
		return err
	}
	s.FlightID = flight.FlightID
	s.FlightName = flight.FriendlyName
	pending := refID(flight.PendingFlightSubmission)
	published := refID(flight.LastPublishedFlightSubmission)
	s.rep.Infof("flight %s: pending submission %s, last published %s", s.flightLabel(), orNone(pending), orNone(published))

	if cfg.WantsUpdate() {
		readLocalVersions(s)
	}
	switch {
	case cfg.SubmissionID != "":
		return resolveNamed(ctx, s, pending, published)
	case cfg.WantsUpdate():
		return resolveForUpdate(ctx, s, pending, published)
	default:
		if published == "" {
			return fmt.Errorf("flight %s has no published submission: there is no rollout to steer (name submission-id, or give an update such as packages)", s.flightLabel())
		}
		sub, err := s.store.GetFlightSubmission(ctx, s.ApplicationID, s.FlightID, published)
		if err != nil {
			return err
		}
		s.setFlightSubmission(sub)
		s.rep.Infof("acting on the flight's last published submission %s (status %s)", sub.ID, sub.Status)
		return readRolloutBefore(ctx, s)
	}
}

func findFlight(ctx context.Context, s *State) (*storeapi.Flight, error) {
	cfg := s.cfg
	if cfg.FlightID != "" {
		return s.store.GetFlight(ctx, s.ApplicationID, cfg.FlightID)
	}
	flights, err := s.store.ListFlights(ctx, s.ApplicationID)
	if err != nil {
		return nil, err
	}
	var names []string
	for i := range flights {
		if flights[i].FriendlyName == cfg.FlightName {
			return &flights[i], nil
		}
		names = append(names, fmt.Sprintf("%q", flights[i].FriendlyName))
	}
	for i := range flights {
		if strings.EqualFold(flights[i].FriendlyName, cfg.FlightName) {
			return nil, fmt.Errorf("no flight named %q in app %s; did you mean %q? (names are case-sensitive)", cfg.FlightName, s.ApplicationID, flights[i].FriendlyName)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no flight named %q in app %s: the app has no package flights", cfg.FlightName, s.ApplicationID)
	}
	return nil, fmt.Errorf("no flight named %q in app %s; its flights are %s", cfg.FlightName, s.ApplicationID, strings.Join(names, ", "))
}

// resolveApp handles runs without a flight: the rollout steps act on the
// app's own submission.
func resolveApp(ctx context.Context, s *State) error {
	if s.cfg.WantsUpdate() {
		return &config.InputError{Input: "flight-id", Problem: "updating an app's own submission (no flight-id or flight-name) is not supported in this release: the app submission carries listings and pricing that a round trip can break; name a flight, or use only the rollout inputs"}
	}
	id := s.cfg.SubmissionID
	if id == "" {
		app, err := s.store.GetApplication(ctx, s.ApplicationID)
		if err != nil {
			return err
		}
		id = refID(app.LastPublishedApplicationSubmission)
		if id == "" {
			return fmt.Errorf("app %s has no published submission: there is no rollout to steer", s.ApplicationID)
		}
	}
	s.AppSubmission = true
	sub, err := s.store.GetAppSubmission(ctx, s.ApplicationID, id)
	if err != nil {
		return err
	}
	s.setAppSubmission(sub)
	s.rep.Infof("acting on app submission %s of %s (status %s)", sub.ID, s.ApplicationID, sub.Status)
	return readRolloutBefore(ctx, s)
}

// resolveNamed handles submission-id on a flight.
func resolveNamed(ctx context.Context, s *State, pending, published string) error {
	sub, err := s.store.GetFlightSubmission(ctx, s.ApplicationID, s.FlightID, s.cfg.SubmissionID)
	if err != nil {
		return err
	}
	s.setFlightSubmission(sub)
	s.rep.Infof("acting on submission %s (status %s), as submission-id asks", sub.ID, sub.Status)
	if s.cfg.WantsUpdate() && sub.Status != storeapi.StatusPendingCommit {
		ours := (sub.ID == pending || sub.ID == published) && s.isOwnEarlierRun(sub)
		if !ours {
			return fmt.Errorf("submission %s is %s: only a PendingCommit submission can be updated; drop the update inputs to act on its rollout, or leave out submission-id to create a new submission", sub.ID, sub.Status)
		}
		s.Continued = true
		s.rep.Infof("submission %s already holds this run's packages: continuing an earlier run", sub.ID)
	}
	return readRolloutBefore(ctx, s)
}

func resolveForUpdate(ctx context.Context, s *State, pending, published string) error {
	cfg := s.cfg
	var pendingSub, publishedSub *storeapi.FlightSubmission
	if pending != "" {
		sub, err := s.store.GetFlightSubmission(ctx, s.ApplicationID, s.FlightID, pending)
		if err != nil {
			return err
		}
		pendingSub = sub
		if s.isOwnEarlierRun(sub) {
			if !failureStatuses[sub.Status] || cfg.PendingSubmission != config.PendingReplace {
				return s.continueWith(ctx, sub, "pending")
			}
			s.rep.Infof("pending submission %s holds this run's packages but ended %s: replacing it, as pending-submission: replace asks", sub.ID, sub.Status)
		}
	}
	if published != "" {
		sub, err := s.store.GetFlightSubmission(ctx, s.ApplicationID, s.FlightID, published)
		if err != nil {
			return err
		}
		publishedSub = sub
		if s.isOwnEarlierRun(sub) {
			return s.continueWith(ctx, sub, "last published")
		}
	}

	if pendingSub != nil {
		switch cfg.PendingSubmission {
		case config.PendingReuse:
			if pendingSub.Status != storeapi.StatusPendingCommit {
				return fmt.Errorf("flight %s has pending submission %s in status %s; pending-submission: reuse updates only a PendingCommit submission: wait for it to finish, or delete it in Partner Center", s.flightLabel(), pendingSub.ID, pendingSub.Status)
			}
			s.setFlightSubmission(pendingSub)
			s.rep.Infof("reusing pending submission %s (pending-submission: reuse)", pendingSub.ID)
			s.RolloutBefore = rolloutCopy(s.deliveryRollout())
			return nil
		case config.PendingReplace:
			if s.dryRun() {
				s.plan("delete pending submission %s (status %s), as pending-submission: replace asks", pendingSub.ID, pendingSub.Status)
			} else {
				err := s.store.DeleteFlightSubmission(ctx, s.ApplicationID, s.FlightID, pendingSub.ID)
				if err != nil && !errors.Is(err, storeapi.ErrNotFound) {
					return fmt.Errorf("delete pending submission %s: %w", pendingSub.ID, err)
				}
				s.rep.Infof("deleted pending submission %s (status %s), as pending-submission: replace asks", pendingSub.ID, pendingSub.Status)
			}
			s.Deleted = pendingSub.ID
		default:
			return fmt.Errorf("flight %s already has pending submission %s (status %s), which does not hold this run's packages; "+
				"to proceed, set pending-submission: reuse to update it (while it is PendingCommit), pending-submission: replace to delete it and create a new one, or delete it in Partner Center",
				s.flightLabel(), pendingSub.ID, pendingSub.Status)
		}
	}
	if publishedSub != nil {
		if err := handlePreviousRollout(ctx, s, publishedSub.ID); err != nil {
			return err
		}
	}
	return createSubmission(ctx, s, publishedSub)
}

// continueWith takes up a submission left by an earlier run.
//
// An earlier run that ended in a failure status is reported as failed
// again, with a hint: continuing it cannot succeed, and only a new version
// (or pending-submission: replace) starts over.
func (s *State) continueWith(ctx context.Context, sub *storeapi.FlightSubmission, which string) error {
	s.setFlightSubmission(sub)
	s.Continued = true
	s.rep.Infof("the flight's %s submission %s (status %s) already holds this run's packages: continuing that earlier run instead of starting another", which, sub.ID, sub.Status)
	if failureStatuses[sub.Status] {
		s.rep.Infof("submission %s, this run's earlier attempt, ended %s; to start over with the same packages set pending-submission: replace, or delete it in Partner Center", sub.ID, sub.Status)
		return s.failed(false)
	}
	return readRolloutBefore(ctx, s)
}

// handlePreviousRollout applies previous-rollout to the last published
// submission before a new one is created: the Store refuses a new
// submission while a rollout is in progress.
func handlePreviousRollout(ctx context.Context, s *State, publishedID string) error {
	key := storeapi.SubmissionKey{ApplicationID: s.ApplicationID, FlightID: s.FlightID, SubmissionID: publishedID}
	r, err := s.store.GetPackageRollout(ctx, key)
	if err != nil {
		return fmt.Errorf("read rollout of last published submission %s: %w", publishedID, err)
	}
	if !r.IsPackageRollout || r.PackageRolloutStatus != storeapi.RolloutInProgress {
		return nil
	}
	pct := formatPct(r.PackageRolloutPercentage)
	switch s.cfg.PreviousRollout {
	case config.PreviousFinalize, config.PreviousHalt:
		verb := "finalize"
		if s.cfg.PreviousRollout == config.PreviousHalt {
			verb = "halt"
		}
		s.PreviousRolloutID = publishedID
		if s.dryRun() {
			s.plan("%s the rollout of last published submission %s (at %s%%), as previous-rollout: %s asks", verb, publishedID, pct, verb)
			s.PreviousRollout = verb
			return nil
		}
		var want storeapi.RolloutStatus
		var call func() (*storeapi.PackageRollout, error)
		if verb == "halt" {
			want, call = storeapi.RolloutStopped, func() (*storeapi.PackageRollout, error) { return s.store.HaltPackageRollout(ctx, key) }
		} else {
			want, call = storeapi.RolloutComplete, func() (*storeapi.PackageRollout, error) { return s.store.FinalizePackageRollout(ctx, key) }
		}
		what := fmt.Sprintf("%s the rollout of last published submission %s", verb, publishedID)
		if _, err := rolloutCall(ctx, s, key, what, want, -1, call); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if verb == "halt" {
			s.PreviousRollout = "halted"
		} else {
			s.PreviousRollout = "finalized"
		}
		s.notice("%s the rollout of last published submission %s (it was at %s%%) before creating a new submission, as previous-rollout: %s asks", s.PreviousRollout, publishedID, pct, verb)
		return nil
	default:
		return fmt.Errorf("the flight's last published submission %s is still rolling out (%s%%): the Store creates no new submission until that rollout is finalized or halted; "+
			"set previous-rollout: finalize (everyone gets its packages) or previous-rollout: halt (stop it), or do it in Partner Center or with a run of finalize-rollout or halt-rollout",
			publishedID, pct)
	}
}

// createSubmission creates the flight's new pending submission, a clone of
// the last published one. A create whose outcome is unknown is checked
// against the flight before it is sent again, so that at most one is made.
func createSubmission(ctx context.Context, s *State, published *storeapi.FlightSubmission) error {
	s.Created = true
	if s.dryRun() {
		if published != nil {
			s.plan("create a new submission in flight %s (a copy of last published submission %s)", s.flightLabel(), published.ID)
			c := *published
			c.ID, c.Status = "", storeapi.StatusPendingCommit
			c.FlightPackages = slices.Clone(published.FlightPackages)
			s.Submission = &c
			s.RolloutBefore = rolloutCopy(&c.PackageDeliveryOptions.PackageRollout)
		} else {
			s.plan("create a new submission in flight %s", s.flightLabel())
			s.Submission = &storeapi.FlightSubmission{FlightID: s.FlightID, Status: storeapi.StatusPendingCommit}
		}
		return nil
	}
	sub, err := sendOnce(ctx, s, "create of a submission in flight "+s.flightLabel(), false,
		func() (*storeapi.FlightSubmission, error) {
			return s.store.CreateFlightSubmission(ctx, s.ApplicationID, s.FlightID)
		},
		func() (*storeapi.FlightSubmission, bool, error) {
			flight, err := s.store.GetFlight(ctx, s.ApplicationID, s.FlightID)
			if err != nil {
				return nil, false, err
			}
			id := refID(flight.PendingFlightSubmission)
			if id == "" {
				return nil, false, nil
			}
			// The flight had no pending submission before the create (resolve
			// checked), so this one is the create's.
			sub, err := s.store.GetFlightSubmission(ctx, s.ApplicationID, s.FlightID, id)
			return sub, err == nil, err
		})
	if err != nil {
		return fmt.Errorf("create submission in flight %s: %w", s.flightLabel(), err)
	}
	s.setFlightSubmission(sub)
	s.RolloutBefore = rolloutCopy(s.deliveryRollout())
	s.rep.Infof("created submission %s in flight %s", sub.ID, s.flightLabel())
	return nil
}

// readRolloutBefore reads the rollout at the start: from the rollout
// endpoint for a published submission (the authority), else from the
// submission's own packageDeliveryOptions.
func readRolloutBefore(ctx context.Context, s *State) error {
	if s.Status != storeapi.StatusPublished {
		s.RolloutBefore = rolloutCopy(s.deliveryRollout())
		return nil
	}
	r, err := s.store.GetPackageRollout(ctx, s.key())
	if err != nil {
		return fmt.Errorf("read rollout of %s: %w", s.target(), err)
	}
	s.RolloutBefore = rolloutCopy(r)
	s.rollout = r
	return nil
}

// readLocalVersions reads each package's manifest version for the re-run
// rule. A package whose version cannot be read is matched by name only.
func readLocalVersions(s *State) {
	s.localVersions = make(map[string]string, len(s.cfg.Packages))
	for _, p := range s.cfg.Packages {
		v, err := msix.Version(p.Path)
		if err != nil {
			s.rep.Debugf("version of %s unknown (%v): matched by name only", p.ZIPName, err)
		}
		s.localVersions[p.ZIPName] = v
	}
}

// isOwnEarlierRun applies the re-run rule's package test to sub.
func (s *State) isOwnEarlierRun(sub *storeapi.FlightSubmission) bool {
	if len(s.cfg.Packages) == 0 {
		return false
	}
	for _, p := range s.cfg.Packages {
		found := false
		for _, e := range sub.FlightPackages {
			if e.FileName != p.ZIPName || e.FileStatus == storeapi.FileStatusPendingDelete {
				continue
			}
			if local := s.localVersions[p.ZIPName]; e.Version != "" && local != "" && e.Version != local {
				continue
			}
			found = true
			break
		}
		if !found {
			return false
		}
	}
	return true
}

func refID(r *storeapi.SubmissionRef) string {
	if r == nil || r.ID == "0" {
		return ""
	}
	return r.ID
}

func orNone(id string) string {
	if id == "" {
		return "none"
	}
	return id
}
