package steps

import (
	"fmt"

	"github.com/storeflight/storeflight/internal/storeapi"
)

// A pending submission made in Partner Center has no upload URL, and the
// API can neither update, commit nor delete it (reference/APP-SUBMISSIONS.md
// §2): only Partner Center can finish or delete it. A run says so before
// it changes anything, rather than failing on the Store's bare refusal.

// madeInPartnerCenter reports whether sub is a draft made in Partner
// Center: PendingCommit with no upload URL. (Whether a committed
// submission keeps its URL is not known, so only a draft is judged.)
func madeInPartnerCenter(sub submission) bool {
	return sub.status() == storeapi.StatusPendingCommit && sub.uploadURL() == ""
}

// refusePartnerCenterDraft refuses to go on with a pending submission made
// in Partner Center, unless tryDelete (pending-submission: replace) is to
// try the delete first: the Store may yet allow it.
func refusePartnerCenterDraft(s *State, sub submission, tryDelete bool) error {
	if !madeInPartnerCenter(sub) || tryDelete {
		return nil
	}
	return partnerCenterDraftError(s, sub, "it has no upload URL", nil)
}

// partnerCenterDraftError explains a pending submission made in Partner
// Center; seen says how it showed, err is the Store's refusal if any.
func partnerCenterDraftError(s *State, sub submission, seen string, err error) error {
	msg := fmt.Sprintf("%s has pending submission %s, made in Partner Center (%s): the Store's API can neither update, commit nor delete a submission made there. "+
		"Nothing was changed. In Partner Center, submit that submission or delete it, then run again", s.owner.name(), sub.id(), seen)
	if err != nil {
		return fmt.Errorf("%s: %w", msg, err)
	}
	return fmt.Errorf("%s", msg)
}
