package steps

import (
	"context"
	"errors"
	"fmt"
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
	fo := newFlightOwner(s.store, s.ApplicationID, flight)
	s.owner = fo
	s.FlightID = flight.FlightID
	s.FlightName = flight.FriendlyName
	pending, published := fo.pending, fo.lastPublished
	s.rep.Infof("flight %s: pending submission %s, last published %s", fo.label(), orNone(pending), orNone(published))

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
			return fmt.Errorf("flight %s has no published submission: there is no rollout to steer (name submission-id, or give an update such as packages)", fo.label())
		}
		sub, err := s.owner.get(ctx, published)
		if err != nil {
			return err
		}
		s.setSubmission(sub)
		s.rep.Infof("acting on the flight's last published submission %s (status %s)", sub.id(), sub.status())
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
		return errAppUpdate
	}
	ao := &appOwner{store: s.store, appID: s.ApplicationID}
	s.owner = ao
	s.AppSubmission = true
	id := s.cfg.SubmissionID
	if id == "" {
		var err error
		if id, err = ao.lastPublishedID(ctx); err != nil {
			return err
		}
		if id == "" {
			return fmt.Errorf("app %s has no published submission: there is no rollout to steer", s.ApplicationID)
		}
	}
	sub, err := s.owner.get(ctx, id)
	if err != nil {
		return err
	}
	s.setSubmission(sub)
	s.rep.Infof("acting on app submission %s of %s (status %s)", sub.id(), s.ApplicationID, sub.status())
	return readRolloutBefore(ctx, s)
}

// resolveNamed handles submission-id on a flight.
func resolveNamed(ctx context.Context, s *State, pending, published string) error {
	sub, err := s.owner.get(ctx, s.cfg.SubmissionID)
	if err != nil {
		return err
	}
	s.setSubmission(sub)
	s.rep.Infof("acting on submission %s (status %s), as submission-id asks", sub.id(), sub.status())
	if s.cfg.WantsUpdate() && sub.status() != storeapi.StatusPendingCommit {
		ours := (sub.id() == pending || sub.id() == published) && s.isOwnEarlierRun(sub)
		if !ours {
			return fmt.Errorf("submission %s is %s: only a PendingCommit submission can be updated; drop the update inputs to act on its rollout, or leave out submission-id to create a new submission", sub.id(), sub.status())
		}
		s.Continued = true
		s.rep.Infof("submission %s already holds this run's packages: continuing an earlier run", sub.id())
	}
	return readRolloutBefore(ctx, s)
}

func resolveForUpdate(ctx context.Context, s *State, pending, published string) error {
	cfg := s.cfg
	var pendingSub, publishedSub submission
	if pending != "" {
		sub, err := s.owner.get(ctx, pending)
		if err != nil {
			return err
		}
		pendingSub = sub
		if s.isOwnEarlierRun(sub) {
			if !failureStatuses[sub.status()] || cfg.PendingSubmission != config.PendingReplace {
				return s.continueWith(ctx, sub, "pending")
			}
			s.rep.Infof("pending submission %s holds this run's packages but ended %s: replacing it, as pending-submission: replace asks", sub.id(), sub.status())
		}
	}
	if published != "" {
		sub, err := s.owner.get(ctx, published)
		if err != nil {
			return err
		}
		publishedSub = sub
		if s.isOwnEarlierRun(sub) {
			return s.continueWith(ctx, sub, "last published")
		}
	}

	if pendingSub != nil {
		if reused, err := applyPendingPolicy(ctx, s, pendingSub); err != nil || reused {
			return err
		}
	}
	if publishedSub != nil {
		if err := handlePreviousRollout(ctx, s, publishedSub.id()); err != nil {
			return err
		}
	}
	return createSubmission(ctx, s, publishedSub)
}

// applyPendingPolicy applies pending-submission to someone else's pending
// submission: reuse makes it the target (reused is true), replace deletes
// it so that a new one is created, fail stops the run.
func applyPendingPolicy(ctx context.Context, s *State, pendingSub submission) (reused bool, err error) {
	switch s.cfg.PendingSubmission {
	case config.PendingReuse:
		if pendingSub.status() != storeapi.StatusPendingCommit {
			return false, fmt.Errorf("flight %s has pending submission %s in status %s; pending-submission: reuse updates only a PendingCommit submission: wait for it to finish, or delete it in Partner Center", s.owner.label(), pendingSub.id(), pendingSub.status())
		}
		s.setSubmission(pendingSub)
		s.rep.Infof("reusing pending submission %s (pending-submission: reuse)", pendingSub.id())
		r := pendingSub.deliveryRollout()
		s.Rollout.start(&r, false)
		return true, nil
	case config.PendingReplace:
		if s.dryRun() {
			s.plan("delete pending submission %s (status %s), as pending-submission: replace asks", pendingSub.id(), pendingSub.status())
		} else {
			err := s.owner.remove(ctx, pendingSub.id())
			if err != nil && !errors.Is(err, storeapi.ErrNotFound) {
				return false, fmt.Errorf("delete pending submission %s: %w", pendingSub.id(), err)
			}
			s.rep.Infof("deleted pending submission %s (status %s), as pending-submission: replace asks", pendingSub.id(), pendingSub.status())
		}
		s.Deleted = pendingSub.id()
		return false, nil
	default:
		return false, fmt.Errorf("flight %s already has pending submission %s (status %s), which does not hold this run's packages; "+
			"to proceed, set pending-submission: reuse to update it (while it is PendingCommit), pending-submission: replace to delete it and create a new one, or delete it in Partner Center",
			s.owner.label(), pendingSub.id(), pendingSub.status())
	}
}

// continueWith takes up a submission left by an earlier run.
//
// An earlier run that ended in a failure status is reported as failed
// again, with a hint: continuing it cannot succeed, and only a new version
// (or pending-submission: replace) starts over.
func (s *State) continueWith(ctx context.Context, sub submission, which string) error {
	s.setSubmission(sub)
	s.Continued = true
	s.rep.Infof("the flight's %s submission %s (status %s) already holds this run's packages: continuing that earlier run instead of starting another", which, sub.id(), sub.status())
	if failureStatuses[sub.status()] {
		s.rep.Infof("submission %s, this run's earlier attempt, ended %s; to start over with the same packages set pending-submission: replace, or delete it in Partner Center", sub.id(), sub.status())
		return s.failed(false)
	}
	return readRolloutBefore(ctx, s)
}

// handlePreviousRollout applies previous-rollout to the last published
// submission before a new one is created: the Store refuses a new
// submission while a rollout is in progress.
func handlePreviousRollout(ctx context.Context, s *State, publishedID string) error {
	key := s.owner.key(publishedID)
	r, err := s.store.GetPackageRollout(ctx, key)
	if err != nil {
		return fmt.Errorf("read rollout of last published submission %s: %w", publishedID, err)
	}
	if !r.IsPackageRollout || r.PackageRolloutStatus != storeapi.RolloutInProgress {
		return nil
	}
	pct := formatPct(r.PackageRolloutPercentage)
	var change rolloutChange
	var call func(context.Context, storeapi.SubmissionKey) (*storeapi.PackageRollout, error)
	switch s.cfg.PreviousRollout {
	case config.PreviousFinalize:
		change, call = finalizeChange, s.store.FinalizePackageRollout
	case config.PreviousHalt:
		change, call = haltChange, s.store.HaltPackageRollout
	default:
		return fmt.Errorf("the flight's last published submission %s is still rolling out (%s%%): the Store creates no new submission until that rollout is finalized or halted; "+
			"set previous-rollout: finalize (everyone gets its packages) or previous-rollout: halt (stop it), or do it in Partner Center or with a run of finalize-rollout or halt-rollout",
			publishedID, pct)
	}
	verb := change.verb
	s.PreviousRolloutID = publishedID
	if s.dryRun() {
		s.plan("%s the rollout of last published submission %s (at %s%%), as previous-rollout: %s asks", verb, publishedID, pct, verb)
		s.PreviousRollout = verb
		return nil
	}
	what := fmt.Sprintf("%s the rollout of last published submission %s", verb, publishedID)
	if _, err := rolloutCall(ctx, s, key, what, change, -1, func() (*storeapi.PackageRollout, error) { return call(ctx, key) }); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	s.PreviousRollout = change.done
	s.notice("%s the rollout of last published submission %s (it was at %s%%) before creating a new submission, as previous-rollout: %s asks", s.PreviousRollout, publishedID, pct, verb)
	return nil
}

// createSubmission creates the flight's new pending submission, a clone of
// the last published one. A create whose outcome is unknown is checked
// against the flight before it is sent again, so that at most one is made.
func createSubmission(ctx context.Context, s *State, published submission) error {
	s.Created = true
	if s.dryRun() {
		if published != nil {
			s.plan("create a new submission in flight %s (a copy of last published submission %s)", s.owner.label(), published.id())
			s.sub = published.plannedClone()
			r := s.sub.deliveryRollout()
			s.Rollout.start(&r, false)
		} else {
			s.plan("create a new submission in flight %s", s.owner.label())
			s.sub = flightSubmission{&storeapi.FlightSubmission{FlightID: s.FlightID, Status: storeapi.StatusPendingCommit}}
		}
		return nil
	}
	sub, err := changeAtMostOnce(ctx, s, "create of a submission in flight "+s.owner.label(), false,
		func() (submission, error) { return s.owner.create(ctx) },
		func() (submission, bool, error) {
			id, err := s.owner.pendingID(ctx)
			if err != nil || id == "" {
				return nil, false, err
			}
			// The flight had no pending submission before the create (resolve
			// checked), so this one is the create's.
			sub, err := s.owner.get(ctx, id)
			return sub, err == nil, err
		})
	if err != nil {
		return fmt.Errorf("create submission in flight %s: %w", s.owner.label(), err)
	}
	s.setSubmission(sub)
	r := sub.deliveryRollout()
	s.Rollout.start(&r, false)
	s.rep.Infof("created submission %s in flight %s", sub.id(), s.owner.label())
	return nil
}

// readRolloutBefore reads the rollout at the start: from the rollout
// endpoint for a published submission (the authority), else from the
// submission's own packageDeliveryOptions.
func readRolloutBefore(ctx context.Context, s *State) error {
	if s.Status != storeapi.StatusPublished {
		r := s.sub.deliveryRollout()
		s.Rollout.start(&r, false)
		return nil
	}
	r, err := s.store.GetPackageRollout(ctx, s.key())
	if err != nil {
		return fmt.Errorf("read rollout of %s: %w", s.target(), err)
	}
	s.Rollout.start(r, true)
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
func (s *State) isOwnEarlierRun(sub submission) bool {
	if len(s.cfg.Packages) == 0 {
		return false
	}
	for _, p := range s.cfg.Packages {
		found := false
		for _, e := range sub.packages() {
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
