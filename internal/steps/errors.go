package steps

import (
	"errors"
	"fmt"
	"strings"

	"github.com/storeflight/storeflight/internal/storeapi"
)

// ErrTimedOut means the wait step ran out of time while the submission was
// still progressing (exit code 3). A re-run with the same inputs continues.
var ErrTimedOut = errors.New("timed out while the submission is still in progress")

// SubmissionFailedError means the Store ended the submission in a failure
// status (exit code 1). Errors and Warnings are its statusDetails.
type SubmissionFailedError struct {
	SubmissionID string
	Status       storeapi.Status
	// FellBack is true when the status fell back from CommitStarted to
	// PendingCommit: the Store dropped the commit.
	FellBack bool
	Errors   []storeapi.StatusDetail
	Warnings []storeapi.StatusDetail
}

func (e *SubmissionFailedError) Error() string {
	var b strings.Builder
	if e.FellBack {
		fmt.Fprintf(&b, "submission %s fell back from CommitStarted to PendingCommit: the Store did not accept the commit", e.SubmissionID)
	} else {
		fmt.Fprintf(&b, "submission %s failed with status %s", e.SubmissionID, e.Status)
	}
	for i, d := range e.Errors {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(detailText(d))
	}
	return b.String()
}

// detailsOrCode is a detail's text for an annotation whose title is its
// code.
func detailsOrCode(d storeapi.StatusDetail) string {
	if d.Details == "" {
		return d.Code
	}
	return d.Details
}

func detailText(d storeapi.StatusDetail) string {
	switch {
	case d.Code == "":
		return d.Details
	case d.Details == "":
		return d.Code
	}
	return d.Code + ": " + d.Details
}
