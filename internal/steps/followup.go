package steps

import (
	"context"
	"fmt"
	"strings"

	"github.com/storeflight/storeflight/internal/storeapi"
)

// inFlight are the statuses of a pending submission once committed: a
// follow-up run (no update input) acts on it rather than on the last
// published one.
var inFlight = map[storeapi.Status]bool{
	storeapi.StatusCommitStarted:      true,
	storeapi.StatusPreProcessing:      true,
	storeapi.StatusCertification:      true,
	storeapi.StatusRelease:            true,
	storeapi.StatusPendingPublication: true,
	storeapi.StatusPublishing:         true,
}

// resolveFollowUp finds what a run without update inputs (a wait,
// rollout or finalize run after a release job) acts on: the submission in
// flight, so that it waits for the release the earlier job committed; a
// pending submission that failed, reported as the failure it is; else the
// last published one.
func resolveFollowUp(ctx context.Context, s *State, pending, published string) error {
	if pending != "" {
		sub, err := s.owner.get(ctx, pending)
		if err != nil {
			return err
		}
		switch {
		case inFlight[sub.status()]:
			s.setSubmission(sub)
			s.rep.Infof("acting on pending submission %s (%s), the release in flight", sub.id(), sub.status())
			if err := readRolloutBefore(ctx, s); err != nil {
				return err
			}
			if published != "" {
				base, err := s.owner.get(ctx, published)
				if err != nil {
					return err
				}
				s.followUpBase = base
			}
			checkInFlightPackages(ctx, s)
			return nil
		case failureStatuses[sub.status()]:
			s.setSubmission(sub)
			s.rep.Infof("pending submission %s, the release in flight, ended %s", sub.id(), sub.status())
			return s.failed(false)
		case sub.status() == storeapi.StatusPendingCommit:
			s.notice("pending submission %s is an uncommitted draft (PendingCommit): nothing is in flight\n"+
				"this run acts on the last published submission %s", sub.id(), orNone(published))
		}
	}
	if published == "" {
		return fmt.Errorf("%s has no published submission: there is no rollout to steer (name submission-id, or give an update such as packages)", s.owner.name())
	}
	sub, err := s.owner.get(ctx, published)
	if err != nil {
		return err
	}
	s.setSubmission(sub)
	s.rep.Infof("acting on the last published submission %s (%s)", sub.id(), sub.status())
	return readRolloutBefore(ctx, s)
}

// processed are the statuses past pre-processing, where the Store has
// settled a submission's packages.
var processed = map[storeapi.Status]bool{
	storeapi.StatusCertification:      true,
	storeapi.StatusRelease:            true,
	storeapi.StatusPendingPublication: true,
	storeapi.StatusPublishing:         true,
	storeapi.StatusPublished:          true,
}

// checkInFlightPackages warns, once the follow-up's submission in flight
// is processed, when it holds no package that the last published one
// lacks: the Store can drop a malformed package in pre-processing and go
// on with the old one. A follow-up cannot know the release's packages, so
// it can only warn. It runs after every step and does its work once.
func checkInFlightPackages(ctx context.Context, s *State) {
	if s.followUpBase == nil || !processed[s.Status] {
		return
	}
	base := s.followUpBase
	s.followUpBase = nil
	sub := s.sub
	if sub.status() != s.Status {
		// Read before processing: its packages were not settled yet.
		fresh, err := s.owner.get(ctx, sub.id())
		if err != nil {
			s.rep.Warning("packages", fmt.Sprintf("could not read %s to check its packages: %v", s.target(), err))
			return
		}
		sub = fresh
	}
	published := map[string]bool{}
	for _, p := range base.packages() {
		published[p.FileName+"\x00"+p.Version] = true
	}
	var same []string
	for _, p := range sub.packages() {
		if p.FileStatus == storeapi.FileStatusPendingDelete {
			continue
		}
		if !published[p.FileName+"\x00"+p.Version] {
			return
		}
		same = append(same, p.FileName+" "+p.Version)
	}
	s.rep.Warning("packages", fmt.Sprintf("%s holds no package new to last published submission %s\n"+
		"its packages: %s\nthe release's packages may have been dropped in pre-processing: check it in Partner Center",
		s.target(), base.id(), strings.Join(same, ", ")))
}
