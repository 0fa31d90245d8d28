package steps

import (
	"context"
	"errors"
	"fmt"

	"github.com/storeflight/storeflight/internal/storeapi"
)

// commitStep commits the submission, exactly once.
//
// When the commit's outcome is unknown (a 5xx or a connection lost after
// sending) or it meets a 409, the step reads the status. The Store answers
// a commit that took effect with CommitStarted and the status resource shows
// it at once, so a status past PendingCommit means the commit took effect and
// is not sent again. A status still PendingCommit after an unknown outcome
// means the first request never took effect, so one more commit is not a
// second one; it is sent once. A 409 with the status still PendingCommit is
// the Store refusing the commit, and is returned as is.
type commitStep struct{}

func (commitStep) Name() string { return "commit" }

func (commitStep) Skip(s *State) string {
	switch {
	case !s.cfg.WantsUpdate():
		return "no update: nothing to commit"
	case !s.cfg.Commit:
		return "commit: false (the submission stays PendingCommit)"
	case s.Status != "" && s.Status != storeapi.StatusPendingCommit:
		return fmt.Sprintf("%s is %s: already committed", s.target(), s.Status)
	}
	return ""
}

func (commitStep) Run(ctx context.Context, s *State) error {
	if s.dryRun() {
		s.plan("commit %s", s.target())
		return nil
	}
	key := s.key()
	st, err := s.store.CommitSubmission(ctx, key)
	if err != nil && (errors.Is(err, storeapi.ErrOutcomeUnknown) || errors.Is(err, storeapi.ErrConflict)) {
		s.rep.Infof("commit of %s did not answer clearly (%v); reading its status to see whether it took effect", s.target(), err)
		cur, rerr := s.store.SubmissionStatus(ctx, key)
		if rerr != nil {
			return errors.Join(fmt.Errorf("commit %s: %w", s.target(), err), fmt.Errorf("read status after it: %w", rerr))
		}
		switch {
		case cur.Status != storeapi.StatusPendingCommit:
			s.rep.Infof("%s is %s: the commit took effect", s.target(), cur.Status)
			st, err = cur, nil
		case errors.Is(err, storeapi.ErrOutcomeUnknown):
			s.rep.Infof("%s is still PendingCommit: the commit did not take effect; sending it once more", s.target())
			st, err = s.store.CommitSubmission(ctx, key)
		}
	}
	if err != nil {
		return fmt.Errorf("commit %s: %w", s.target(), err)
	}
	s.Committed = true
	status := st.Status
	if status == "" {
		status = storeapi.StatusCommitStarted
	}
	s.observe(status, &st.StatusDetails)
	s.rep.Infof("committed %s (status %s)", s.target(), status)
	return nil
}
