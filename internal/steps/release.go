package steps

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/storeflight/storeflight/internal/config"
	"github.com/storeflight/storeflight/internal/storeapi"
)

// uploadURLMargin is how long before its expiry an upload URL is already
// taken for expired: long enough for the update and a large upload.
const uploadURLMargin = 10 * time.Minute

// resolveForUpdate finds the submission an update goes into: this
// pipeline's own earlier run of the same inputs (pending or last
// published), an untouched clone of the last published one, someone
// else's pending one as pending-submission says, or a new one.
func resolveForUpdate(ctx context.Context, s *State, pending, published string) error {
	var publishedSub submission
	lastPublished := func() (submission, error) {
		if publishedSub == nil && published != "" {
			sub, err := s.owner.get(ctx, published)
			if err != nil {
				return nil, err
			}
			publishedSub = sub
		}
		return publishedSub, nil
	}
	var others submission
	if pending != "" {
		sub, rec, err := s.recogniseUntilDecided(ctx, pending, lastPublished)
		if err != nil {
			return err
		}
		switch {
		case rec.Verdict == ownSubmission && (!failureStatuses[sub.status()] || s.cfg.PendingSubmission != config.PendingReplace):
			return s.continueWith(ctx, sub, "pending")
		case rec.Verdict == ownSubmission:
			s.rep.Infof("pending submission %s holds this run's packages but ended %s: replacing it (pending-submission: replace)", sub.id(), sub.status())
			others = sub
		case rec.Verdict == untouchedClone:
			return s.takeOver(ctx, sub, rec, publishedSub)
		default:
			s.rep.Debugf("pending submission %s is not this run's: %s", sub.id(), strings.Join(rec.Reasons, "; "))
			others = sub
		}
	}
	pub, err := lastPublished()
	if err != nil {
		return err
	}
	if pub != nil {
		if rec := recognise(s.factsOf(pub, nil)); rec.Verdict == ownSubmission {
			return s.continueWith(ctx, pub, "last published")
		}
	}
	if others != nil {
		if err := refusePartnerCenterDraft(s, others, s.cfg.PendingSubmission == config.PendingReplace); err != nil {
			return err
		}
		base := pub
		if s.cfg.PendingSubmission == config.PendingReuse {
			base = others
		}
		if err := s.checkUpdate(base); err != nil {
			return err
		}
		if reused, err := applyPendingPolicy(ctx, s, others); err != nil || reused {
			return err
		}
	}
	return createAfterPrevious(ctx, s, pub)
}

// recogniseUntilDecided reads submission id and applies the re-run rule,
// reading it again while the Store does not know a new package's version
// yet, up to the timeout (then ErrTimedOut, naming the submission).
func (s *State) recogniseUntilDecided(ctx context.Context, id string, lastPublished func() (submission, error)) (submission, recognition, error) {
	deadline := s.clock.Now().Add(s.cfg.Timeout)
	for {
		sub, err := s.owner.get(ctx, id)
		if err != nil {
			return nil, recognition{}, err
		}
		var pub submission
		if sub.status() == storeapi.StatusPendingCommit && sub.uploadURL() != "" {
			if pub, err = lastPublished(); err != nil {
				return nil, recognition{}, err
			}
		}
		rec := recognise(s.factsOf(sub, pub))
		if rec.Verdict != undecided {
			return sub, rec, nil
		}
		now := s.clock.Now()
		if !now.Before(deadline) {
			s.setSubmission(sub)
			s.TimedOut = true
			return nil, rec, fmt.Errorf("%w: pending submission %s is %s and the Store does not know the version of its new packages yet; "+
				"until it does, storeflight cannot tell whether it is this run's earlier release; %s",
				ErrTimedOut, sub.id(), sub.status(), strings.Join(rec.Reasons, "; "))
		}
		s.rep.Infof("pending submission %s (%s): the Store does not know its new packages' versions yet; reading it again in %s", sub.id(), sub.status(), s.cfg.PollInterval)
		s.rep.Debugf("pending submission %s: %s", sub.id(), strings.Join(rec.Reasons, "; "))
		if err := s.clock.Sleep(ctx, min(s.cfg.PollInterval, deadline.Sub(now))); err != nil {
			return nil, recognition{}, err
		}
	}
}

// factsOf gathers what the re-run rule needs about sub; lastPublished may
// be nil.
func (s *State) factsOf(sub, lastPublished submission) rerunFacts {
	f := rerunFacts{Candidate: facts(sub)}
	if lastPublished != nil {
		p := facts(lastPublished)
		f.LastPublished = &p
	}
	for _, p := range s.cfg.Packages {
		f.Local = append(f.Local, localPackage{Name: p.ZIPName, Version: s.localVersions[p.ZIPName]})
	}
	in := inputValues(s.cfg, false)
	for _, k := range recognisedFields {
		if v, ok := in[k]; ok {
			if f.Inputs == nil {
				f.Inputs = map[string]string{}
			}
			f.Inputs[k] = v
		}
	}
	for k, v := range s.wantedNotes(sub) {
		if f.Inputs == nil {
			f.Inputs = map[string]string{}
		}
		f.Inputs[k] = v
	}
	return f
}

func facts(sub submission) submissionFacts {
	content, err := sub.ownContent()
	if err != nil {
		// Nothing equals a submission that cannot be encoded: it is never
		// taken for an untouched clone.
		content = map[string]any{"unreadable": err.Error()}
	}
	return submissionFacts{ID: sub.id(), Status: sub.status(), Packages: sub.packages(), Fields: sub.fieldValues(),
		UploadURL: sub.uploadURL() != "", Content: content}
}

// applyPendingPolicy applies pending-submission to someone else's pending
// submission: reuse makes it the target (reused is true), replace deletes
// it so that a new one is created, fail stops the run.
func applyPendingPolicy(ctx context.Context, s *State, pendingSub submission) (reused bool, err error) {
	switch s.cfg.PendingSubmission {
	case config.PendingReuse:
		if pendingSub.status() != storeapi.StatusPendingCommit {
			return false, fmt.Errorf("%s has pending submission %s in status %s; pending-submission: reuse updates only a PendingCommit submission: wait for it to finish, or delete it in Partner Center", s.owner.name(), pendingSub.id(), pendingSub.status())
		}
		s.setSubmission(pendingSub)
		s.rep.Infof("reusing pending submission %s (pending-submission: reuse)", pendingSub.id())
		r := pendingSub.deliveryRollout()
		s.Rollout.start(&r, false)
		return true, s.ensureUploadURL(ctx, false)
	case config.PendingReplace:
		return false, deletePending(ctx, s, pendingSub, "as pending-submission: replace asks")
	default:
		return false, fmt.Errorf("%s already has pending submission %s (status %s), which does not hold this run's packages; "+
			"to proceed, set pending-submission: reuse to update it (while it is PendingCommit), pending-submission: replace to delete it and create a new one, or delete it in Partner Center",
			s.owner.name(), pendingSub.id(), pendingSub.status())
	}
}

// deletePending deletes a pending submission (in a dry run, plans it).
func deletePending(ctx context.Context, s *State, sub submission, why string) error {
	s.Deleted = sub.id()
	if s.dryRun() {
		s.plan("delete pending submission %s (%s), %s", sub.id(), sub.status(), why)
		if madeInPartnerCenter(sub) {
			s.Plan = append(s.Plan, "  it has no upload URL: it was most likely made in Partner Center, and the Store refuses to delete such a submission through the API")
		}
		return nil
	}
	err := s.owner.remove(ctx, sub.id())
	if errors.Is(err, storeapi.ErrPartnerCenterSubmission) {
		return partnerCenterDraftError(s, sub, "the Store refused to delete it", err)
	}
	if err != nil && !errors.Is(err, storeapi.ErrNotFound) {
		return fmt.Errorf("delete pending submission %s: %w", sub.id(), err)
	}
	s.rep.Infof("deleted pending submission %s (%s), %s", sub.id(), sub.status(), why)
	return nil
}

// continueWith takes up a submission left by an earlier run of the same
// inputs, which still get applied: a PendingCommit one is updated as a new
// one would be; on one already committed each input must already hold (the
// rollout step raises a published one's rollout). An earlier run that ended
// in a failure status is reported as failed again: continuing it cannot
// succeed, and only pending-submission: replace starts over.
func (s *State) continueWith(ctx context.Context, sub submission, which string) error {
	s.setSubmission(sub)
	s.Continued = true
	s.rep.Infof("continuing the %s submission %s (%s): an earlier run of these inputs left it", which, sub.id(), sub.status())
	s.rep.Debugf("it holds this run's packages, or the values its inputs set")
	if failureStatuses[sub.status()] {
		s.rep.Infof("submission %s, this run's earlier attempt, ended %s", sub.id(), sub.status())
		return s.failed(false)
	}
	if err := readRolloutBefore(ctx, s); err != nil {
		return err
	}
	if sub.status() == storeapi.StatusPendingCommit {
		if err := refusePartnerCenterDraft(s, sub, false); err != nil {
			return err
		}
		if err := s.checkUpdate(sub); err != nil {
			return err
		}
		return s.ensureUploadURL(ctx, which != "named")
	}
	return s.checkInputsHold(sub)
}

// checkInputsHold fails when an input can no longer be applied to a
// submission already committed: the field holds another value. A
// published submission's rollout percentage is left to the rollout step,
// which raises it.
func (s *State) checkInputsHold(sub submission) error {
	want, have := inputValues(s.cfg, false), sub.fieldValues()
	for k, v := range s.wantedNotes(sub) {
		if v != have[k] {
			return fmt.Errorf("release notes cannot be applied: %s, this run's earlier submission, is already %s and holds %s = %s, which the Store no longer lets anyone change; "+
				"publish them with a new version of the packages, or run with the notes it holds", sub.id(), sub.status(), k, have[k])
		}
	}
	for _, f := range updateFields {
		v, ok := want[f.field]
		if !ok || v == have[f.field] {
			continue
		}
		if f.input == "rollout-percentage" && sub.status() == storeapi.StatusPublished {
			continue
		}
		input := f.input
		if input == "rollout-percentage" && s.cfg.RolloutPercentage == nil {
			input = "rollout-steps" // its first step set the value
		}
		return fmt.Errorf("%s %s cannot be applied: %s, this run's earlier submission, is already %s and holds %s = %s, which the Store no longer lets anyone change; "+
			"publish it with a new version of the packages, or run with the value it holds",
			input, v, sub.id(), sub.status(), f.field, have[f.field])
	}
	return nil
}

// takeOver makes an untouched clone of the last published submission the
// target: it holds nobody's work (a run that stopped between create and
// update, or anyone's empty create), so it is updated as a submission this
// run created would be.
func (s *State) takeOver(ctx context.Context, sub submission, rec recognition, published submission) error {
	if err := refuseAddAfterHalt(ctx, s, published); err != nil {
		return err
	}
	if err := s.checkUpdate(sub); err != nil {
		return err
	}
	s.setSubmission(sub)
	s.TakenOver = true
	s.clonedFrom = published
	s.rep.Infof("taking over pending submission %s: an untouched copy of the last published one, it holds nobody's work", sub.id())
	s.rep.Debugf("pending submission %s: %s", sub.id(), strings.Join(rec.Reasons, "; "))
	return s.ensureUploadURL(ctx, true)
}

// createAfterPrevious handles the last published submission's rollout
// (previous-rollout), then creates the new submission.
func createAfterPrevious(ctx context.Context, s *State, published submission) error {
	if err := s.checkUpdate(published); err != nil {
		return err
	}
	if published != nil {
		if err := handlePreviousRollout(ctx, s, published.id()); err != nil {
			return err
		}
	}
	return createSubmission(ctx, s, published)
}

// refuseAddAfterHalt refuses package-mode: add on a clone of a halted
// submission, before any change: the Store clones the halted submission,
// so add would ship its packages again.
func refuseAddAfterHalt(ctx context.Context, s *State, published submission) error {
	if s.cfg.PackageMode != config.PackageAdd || published == nil {
		return nil
	}
	r, err := s.store.GetPackageRollout(ctx, s.owner.key(published.id()))
	if err != nil {
		return fmt.Errorf("read rollout of last published submission %s: %w", published.id(), err)
	}
	return addAfterHalt(s, r, published.id())
}

func addAfterHalt(s *State, r *storeapi.PackageRollout, publishedID string) error {
	if s.cfg.PackageMode != config.PackageAdd || !r.IsPackageRollout || r.PackageRolloutStatus != storeapi.RolloutStopped {
		return nil
	}
	return &config.InputError{Input: "package-mode", Problem: fmt.Sprintf("add keeps the packages of the submission it starts from, and the Store starts a new submission from last published submission %s, whose rollout was halted: its packages would ship again; use package-mode: replace", publishedID)}
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
	if err := addAfterHalt(s, r, publishedID); err != nil {
		return err
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
		return fmt.Errorf("the last published submission %s of %s is still rolling out (%s%%): the Store creates no new submission until that rollout is finalized or halted; "+
			"set previous-rollout: finalize (everyone gets its packages) or previous-rollout: halt (stop it), or do it in Partner Center or with a run of finalize-rollout or halt-rollout",
			publishedID, s.owner.name(), pct)
	}
	verb := change.verb
	s.PreviousRolloutID = publishedID
	if s.dryRun() {
		s.plan("%s the rollout of last published submission %s (at %s%%), as previous-rollout asks", verb, publishedID, pct)
		s.PreviousRollout = verb
		return nil
	}
	what := fmt.Sprintf("%s the rollout of last published submission %s", verb, publishedID)
	if _, err := rolloutCall(ctx, s, key, what, change, -1, func() (*storeapi.PackageRollout, error) { return call(ctx, key) }); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	s.PreviousRollout = change.done
	s.notice("%s the rollout of last published submission %s (it was at %s%%)\nbefore creating a new one, as previous-rollout: %s asks", s.PreviousRollout, publishedID, pct, verb)
	return nil
}

// createSubmission creates the new pending submission, a clone of the last
// published one. A create whose outcome is unknown is checked against the
// flight (or app) before it is sent again, so that at most one is made.
func createSubmission(ctx context.Context, s *State, published submission) error {
	s.Created = true
	s.clonedFrom = published
	if published == nil {
		s.clonedFrom = s.owner.empty()
	}
	if s.dryRun() {
		if published != nil {
			s.plan("create a new submission (a copy of last published submission %s)", published.id())
			s.sub = published.plannedClone()
		} else {
			s.plan("create a new submission")
			s.sub = s.owner.empty()
		}
		return nil
	}
	sub, err := changeAtMostOnce(ctx, s, "create of a submission in "+s.owner.name(), false,
		func() (submission, error) { return s.owner.create(ctx) },
		func() (submission, bool, error) {
			id, err := s.owner.pendingID(ctx)
			if err != nil || id == "" {
				return nil, false, err
			}
			// There was no pending submission before the create (resolve
			// checked, or deleted it), so this one is the create's.
			sub, err := s.owner.get(ctx, id)
			return sub, err == nil, err
		})
	if err != nil {
		return fmt.Errorf("create submission in %s: %w", s.owner.name(), err)
	}
	s.setSubmission(sub)
	s.rep.Infof("created submission %s", sub.id())
	return nil
}

// ensureUploadURL checks, when packages are to be uploaded, that the
// target's upload URL does not expire (se=) within uploadURLMargin. An
// expiring one is read again; when the Store gives no fresh one, a
// submission that holds only this run's work (recreate: this run's own, or
// an untouched clone) is deleted and created again, and any other fails
// the run, named.
func (s *State) ensureUploadURL(ctx context.Context, recreate bool) error {
	if len(s.cfg.Packages) == 0 {
		return nil
	}
	exp, ok := sasExpiry(s.sub.uploadURL())
	if !ok || exp.After(s.clock.Now().Add(uploadURLMargin)) {
		return nil
	}
	id := s.sub.id()
	s.rep.Infof("the upload URL of %s expires at %s (within %s, or already): reading it again", s.target(), exp.Format(time.RFC3339), uploadURLMargin)
	fresh, err := s.owner.get(ctx, id)
	if err != nil {
		return err
	}
	if exp, ok := sasExpiry(fresh.uploadURL()); !ok || exp.After(s.clock.Now().Add(uploadURLMargin)) {
		s.setSubmission(fresh)
		s.rep.Infof("the Store gave %s a fresh upload URL", s.target())
		return nil
	}
	if !recreate {
		return fmt.Errorf("the upload URL of %s expired (se=%s) and the Store gives no fresh one; it is not this run's own submission, so storeflight does not delete it: delete it in Partner Center, or set pending-submission: replace", s.target(), exp.Format(time.RFC3339))
	}
	if err := deletePending(ctx, s, fresh, "to create it again: its upload URL expired"); err != nil {
		return err
	}
	s.Continued, s.TakenOver = false, false
	s.sub, s.SubmissionID = nil, ""
	var published submission
	if _, pub := s.owner.refs(); pub != "" {
		if published, err = s.owner.get(ctx, pub); err != nil {
			return err
		}
	}
	return createAfterPrevious(ctx, s, published)
}

// sasExpiry reads the se= expiry of a SAS URL.
func sasExpiry(sas string) (time.Time, bool) {
	u, err := url.Parse(sas)
	if err != nil {
		return time.Time{}, false
	}
	se := u.Query().Get("se")
	if se == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, se)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}
