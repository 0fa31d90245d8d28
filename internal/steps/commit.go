package steps

import (
	"context"
	"fmt"

	"github.com/storeflight/storeflight/internal/config"
	"github.com/storeflight/storeflight/internal/storeapi"
)

// commitStep commits the submission, exactly once.
//
// When the commit's outcome is unknown (a 5xx or a connection lost after
// sending) or it meets a 409, the step reads the status (see
// changeAtMostOnce). The Store answers a commit that took effect with CommitStarted and the status
// resource shows it at once, so a status past PendingCommit means the commit
// took effect and is not sent again. A status still PendingCommit after an
// unknown outcome means the request never took effect, so another commit is
// not a second one. A 409 with the status still PendingCommit is the Store
// refusing the commit, and is returned as is.
type commitStep struct{}

func (commitStep) Name() string { return "commit" }

func (commitStep) Skip(s *State) string {
	switch {
	case !s.cfg.WantsUpdate():
		return skipNoUpdate
	case !s.cfg.Commit:
		return "commit: false, the submission stays PendingCommit"
	case s.Status != "" && s.Status != storeapi.StatusPendingCommit:
		return skipCommittedEarlier
	}
	return ""
}

func (commitStep) Run(ctx context.Context, s *State) error {
	if s.dryRun() {
		s.plan("commit %s", s.target())
		return nil
	}
	key := s.key()
	st, err := changeAtMostOnce(ctx, s, "commit of "+s.target(), true,
		func() (*storeapi.SubmissionStatus, error) { return s.store.CommitSubmission(ctx, key) },
		func() (*storeapi.SubmissionStatus, bool, error) {
			cur, err := s.store.SubmissionStatus(ctx, key)
			if err != nil {
				return nil, false, err
			}
			return cur, cur.Status != storeapi.StatusPendingCommit, nil
		})
	if err != nil {
		return fmt.Errorf("commit %s: %w", s.target(), err)
	}
	s.Committed = true
	status := st.Status
	if status == "" {
		status = storeapi.StatusCommitStarted
	}
	s.observe(status, &st.StatusDetails)
	s.rep.Infof("committed (status %s)", status)
	if s.cfg.WaitFor == config.WaitNone {
		s.notePackagesUnchecked()
	}
	return nil
}
