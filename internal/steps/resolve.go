package steps

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/storeflight/storeflight/internal/msix"
	"github.com/storeflight/storeflight/internal/storeapi"
)

// resolveStep finds the flight (or app) and the submission the run acts
// on: the one submission-id names; for an update, this pipeline's own
// earlier run, an untouched clone, or a new submission (release.go); for
// any other run, the submission in flight or the last published one
// (followup.go). The re-run rule itself is recognise (rerun.go).
type resolveStep struct{}

func (resolveStep) Name() string { return "resolve" }

func (resolveStep) Skip(*State) string { return "" }

func (resolveStep) Run(ctx context.Context, s *State) error {
	cfg := s.cfg
	if cfg.FlightID == "" && cfg.FlightName == "" {
		if cfg.ReleaseNotesDir != "" {
			files, err := readNotesDir(cfg.ReleaseNotesDir)
			if err != nil {
				return err
			}
			s.notesFiles = files
		}
		app, err := s.store.GetApplication(ctx, s.ApplicationID)
		if err != nil {
			return err
		}
		s.owner = newAppOwner(s.store, s.ApplicationID, app)
		s.AppSubmission = true
	} else {
		flight, err := findFlight(ctx, s)
		if err != nil {
			return err
		}
		s.owner = newFlightOwner(s.store, s.ApplicationID, flight)
		s.FlightID = flight.FlightID
		s.FlightName = flight.FriendlyName
	}
	pending, published := s.owner.refs()
	s.rep.Infof("%s: last published %s, %s", s.owner.name(), orNone(published), pendingText(pending))

	if cfg.WantsUpdate() {
		readLocalVersions(s)
	}
	switch {
	case cfg.SubmissionID != "":
		return resolveNamed(ctx, s, pending, published)
	case cfg.WantsUpdate():
		return resolveForUpdate(ctx, s, pending, published)
	default:
		return resolveFollowUp(ctx, s, pending, published)
	}
}

func findFlight(ctx context.Context, s *State) (*storeapi.Flight, error) {
	cfg := s.cfg
	if cfg.FlightID != "" {
		return s.store.GetFlight(ctx, s.ApplicationID, cfg.FlightID)
	}
	flights, err := s.store.ListFlights(ctx, s.ApplicationID)
	if errors.Is(err, storeapi.ErrNotFound) {
		// The Store answers 404 both for an app without flights and for an
		// app it does not know: the app tells which.
		if _, aerr := s.store.GetApplication(ctx, s.ApplicationID); aerr != nil {
			return nil, aerr
		}
		flights, err = nil, nil
	}
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
		return nil, fmt.Errorf("no flight named %q in app %s: the app has no package flights; create the flight in Partner Center first", cfg.FlightName, s.ApplicationID)
	}
	return nil, fmt.Errorf("no flight named %q in app %s; its flights are %s", cfg.FlightName, s.ApplicationID, strings.Join(names, ", "))
}

// resolveNamed handles submission-id.
func resolveNamed(ctx context.Context, s *State, pending, published string) error {
	sub, err := s.owner.get(ctx, s.cfg.SubmissionID)
	if err != nil {
		return err
	}
	s.setSubmission(sub)
	s.rep.Infof("acting on submission %s (%s), as submission-id asks", sub.id(), sub.status())
	if !s.cfg.WantsUpdate() {
		return readRolloutBefore(ctx, s)
	}
	if sub.status() == storeapi.StatusPendingCommit {
		if err := refusePartnerCenterDraft(s, sub, false); err != nil {
			return err
		}
		if err := s.checkUpdate(sub); err != nil {
			return err
		}
		return s.ensureUploadURL(ctx, false)
	}
	if sub.id() != pending && sub.id() != published || recognise(s.factsOf(sub, nil)).Verdict != ownSubmission {
		return fmt.Errorf("submission %s is %s: only a PendingCommit submission can be updated; drop the update inputs to act on its rollout, or leave out submission-id to create a new submission", sub.id(), sub.status())
	}
	return s.continueWith(ctx, sub, "named")
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
// rule. One that cannot be read is a warning: such a package then matches
// no entry the Store has processed, so the release ships.
func readLocalVersions(s *State) {
	s.localVersions = make(map[string]string, len(s.cfg.Packages))
	s.localIdentities = make(map[string]msix.Identity, len(s.cfg.Packages))
	for _, p := range s.cfg.Packages {
		id, err := msix.ReadIdentity(p.Path)
		if err == nil {
			s.localIdentities[p.ZIPName] = id
		}
		v := id.Version
		if v == "" {
			why := "no version in it"
			if err != nil {
				why = err.Error()
			}
			s.rep.Warning("package version", fmt.Sprintf("the version of %s cannot be read (%s)\n"+
				"no submission the Store has processed counts as this run's earlier one by file name alone: the package is released again", p.ZIPName, why))
		}
		s.localVersions[p.ZIPName] = v
	}
}

func refID(r *storeapi.SubmissionRef) string {
	if r == nil || r.ID == "0" {
		return ""
	}
	return r.ID
}

func pendingText(id string) string {
	if id == "" {
		return "none pending"
	}
	return "pending " + id
}

func orNone(id string) string {
	if id == "" {
		return "none"
	}
	return id
}
