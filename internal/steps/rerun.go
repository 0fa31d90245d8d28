package steps

import (
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/storeflight/storeflight/internal/storeapi"
)

// rerunVerdict is what the re-run rule (DESIGN.md, "The pipeline") makes
// of a flight's (or app's) pending or last published submission.
type rerunVerdict int

const (
	// othersSubmission is someone else's: pending-submission applies to it.
	othersSubmission rerunVerdict = iota
	// ownSubmission is this pipeline's own earlier run with the same
	// inputs: the run goes on with it.
	ownSubmission
	// untouchedClone is a pending submission made through the API that is
	// exactly a copy of the last published one: it holds nobody's work and
	// is taken over.
	untouchedClone
	// undecided means the Store does not know the version of a new package
	// yet: read the submission again.
	undecided
)

func (v rerunVerdict) String() string {
	switch v {
	case ownSubmission:
		return "this run's own"
	case untouchedClone:
		return "an untouched clone"
	case undecided:
		return "not decidable yet"
	}
	return "someone else's"
}

// rerunFacts is everything the re-run rule decides from.
type rerunFacts struct {
	Candidate submissionFacts
	// LastPublished is the last published submission, for the
	// untouched-clone test; nil when there is none.
	LastPublished *submissionFacts
	// Local are the package files the inputs name.
	Local []localPackage
	// Inputs are the values the update inputs set, by field (see
	// recognisedFields); only the fields they name.
	Inputs map[string]string
}

// submissionFacts is a submission as the re-run rule reads it.
type submissionFacts struct {
	ID       string
	Status   storeapi.Status
	Packages []storeapi.Package
	// Fields are its values of the fields update inputs set.
	Fields map[string]string
	// UploadURL is true when it has a fileUploadUrl: it was made through
	// the API, not in Partner Center.
	UploadURL bool
	// Content is every field but those the server owns, normalised (see
	// ownContent), for the untouched-clone test.
	Content map[string]any
}

// localPackage is a package file the inputs name, with the version read
// from its manifest ("" when it could not be read).
type localPackage struct {
	Name, Version string
}

// recognition is the re-run rule's verdict and why.
type recognition struct {
	Verdict rerunVerdict
	Reasons []string
}

// recognisedFields are the fields by whose values an update that names no
// package is recognised. The rollout is left out: a published one may have
// been raised since, which a re-run continues.
var recognisedFields = []string{fieldMandatory, fieldMandatoryDate, fieldPublishMode, fieldPublishDate, fieldNotes}

// recognise applies the re-run rule to one submission, the flight's (or
// app's) pending one or its last published one. It reads nothing: every
// fact comes in f.
//
// Versions decide: an Uploaded entry (which every clone carries over)
// matches a local file only by the same fileName and version, so an
// unreadable local version matches none; a PendingUpload entry (the Store
// has no version for it before the commit is processed) matches by name,
// in a PendingCommit or failed submission. In CommitStarted or
// PreProcessing a new entry whose version the Store does not know yet
// leaves the verdict undecided. An update with no package is recognised by
// the values its inputs set.
func recognise(f rerunFacts) recognition {
	var why []string
	switch {
	case len(f.Local) > 0:
		v, reasons := matchPackages(f.Candidate, f.Local)
		why = reasons
		if v != othersSubmission {
			return recognition{v, why}
		}
	case len(f.Inputs) > 0:
		v, reasons := matchValues(f.Candidate, f.Inputs)
		why = reasons
		if v == ownSubmission {
			return recognition{v, why}
		}
	default:
		why = append(why, "an update that names no package and no field holds nothing to recognise it by")
	}
	if ok, reason := isUntouchedClone(f.Candidate, f.LastPublished); ok {
		return recognition{untouchedClone, append(why, reason)}
	}
	return recognition{othersSubmission, why}
}

// matchPackages matches every local file against the candidate's entries.
func matchPackages(c submissionFacts, local []localPackage) (rerunVerdict, []string) {
	verdict := ownSubmission
	var why []string
	for _, l := range local {
		found, wait := "", false
		for _, e := range c.Packages {
			if e.FileName != l.Name || e.FileStatus == storeapi.FileStatusPendingDelete {
				continue
			}
			switch {
			case e.FileStatus == storeapi.FileStatusPendingUpload && (c.Status == storeapi.StatusPendingCommit || failureStatuses[c.Status]):
				found = "a new entry, matched by name"
			case e.Version == "" && (c.Status == storeapi.StatusCommitStarted || c.Status == storeapi.StatusPreProcessing):
				wait = true
			case l.Version != "" && e.Version == l.Version:
				found = "at version " + l.Version
			}
		}
		switch {
		case found != "":
			why = append(why, fmt.Sprintf("%s: holds it, %s", l.Name, found))
		case wait && l.Version != "":
			why = append(why, fmt.Sprintf("%s: the Store does not know the version of its entry yet (status %s)", l.Name, c.Status))
			if verdict == ownSubmission {
				verdict = undecided
			}
		case l.Version == "":
			why = append(why, fmt.Sprintf("%s: its version could not be read here, so no entry the Store has processed can be taken for it", l.Name))
			verdict = othersSubmission
		default:
			why = append(why, fmt.Sprintf("%s: no entry of that name at version %s", l.Name, l.Version))
			verdict = othersSubmission
		}
	}
	return verdict, why
}

// matchValues recognises an update with no package by the values it sets.
func matchValues(c submissionFacts, inputs map[string]string) (rerunVerdict, []string) {
	var differ []string
	for _, k := range slices.Sorted(maps.Keys(inputs)) {
		if c.Fields[k] != inputs[k] {
			differ = append(differ, fmt.Sprintf("%s is %s, not %s", k, c.Fields[k], inputs[k]))
		}
	}
	if len(differ) > 0 {
		return othersSubmission, []string{strings.Join(differ, "; ")}
	}
	return ownSubmission, []string{"every field the inputs name already holds their value"}
}

// isUntouchedClone reports whether c is a pending submission made through
// the API that nobody has changed since the create: equal to the last
// published one in every field the server does not own. A rollout that is
// off, or missing, is what a create that does not clone the rollout gives,
// so it matches whatever rollout the published one has; a rollout that is
// on must be the published one's.
func isUntouchedClone(c submissionFacts, published *submissionFacts) (bool, string) {
	if published == nil || c.ID == published.ID || c.Status != storeapi.StatusPendingCommit || !c.UploadURL {
		return false, ""
	}
	want := published.Content
	if _, on := c.Content[contentRollout]; !on {
		want = maps.Clone(want)
		delete(want, contentRollout)
	}
	if !reflect.DeepEqual(c.Content, want) {
		return false, ""
	}
	return true, fmt.Sprintf("an untouched copy of last published submission %s, made through the API", published.ID)
}

// contentRollout is the key of a rollout that is on in
// submissionFacts.Content; a rollout that is off has none.
const contentRollout = "packageDeliveryOptions.packageRollout"

// ownContent turns a submission's JSON into submissionFacts.Content: every
// field but the ones the server owns (id, status, statusDetails,
// fileUploadUrl, friendlyName, the rollout's status and fallback), with the
// rollout under contentRollout when it is on.
func ownContent(resource any) (map[string]any, error) {
	b, err := json.Marshal(resource)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for _, k := range []string{"id", "status", "statusDetails", "fileUploadUrl", "friendlyName"} {
		delete(m, k)
	}
	pdo, _ := m["packageDeliveryOptions"].(map[string]any)
	if pdo == nil {
		return m, nil
	}
	r, _ := pdo["packageRollout"].(map[string]any)
	delete(pdo, "packageRollout")
	if on, _ := r["isPackageRollout"].(bool); on {
		m[contentRollout] = map[string]any{"percentage": r["packageRolloutPercentage"]}
	}
	return m, nil
}
