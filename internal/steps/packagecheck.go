package steps

import (
	"context"
	"fmt"
	"strings"

	"github.com/storeflight/storeflight/internal/config"
	"github.com/storeflight/storeflight/internal/storeapi"
)

// The Store can drop a malformed package during pre-processing while the
// submission goes on with the packages it had, and nothing in its status
// says so (reference/APP-SUBMISSIONS.md §3, trap 15). So once the
// submission is past pre-processing, it is read once more and every
// package this run names must be there, not PendingDelete, at the version
// of the local file.

// checkProcessedPackages makes that check once, when the run names
// packages and its submission is past pre-processing; before that it does
// nothing. A dropped package fails the run, naming the file.
func (s *State) checkProcessedPackages(ctx context.Context) error {
	if s.packagesChecked || len(s.cfg.Packages) == 0 || s.sub == nil || !processed[s.Status] {
		return nil
	}
	sub := s.sub
	if !processed[sub.status()] {
		// Read before pre-processing ended: its packages were not settled.
		fresh, err := s.owner.get(ctx, sub.id())
		if err != nil {
			return fmt.Errorf("read %s to check its packages after pre-processing: %w", s.target(), err)
		}
		sub, s.sub = fresh, fresh
	}
	s.packagesChecked = true
	var missing []string
	for _, p := range s.cfg.Packages {
		if why := packageProblem(sub.packages(), p.ZIPName, s.localVersions[p.ZIPName]); why != "" {
			missing = append(missing, p.ZIPName+" ("+why+")")
		}
	}
	if len(missing) == 0 {
		s.rep.Infof("after pre-processing, the submission holds every package this run uploaded")
		return nil
	}
	return fmt.Errorf("after pre-processing, %s lacks %s: the Store dropped it, most likely as malformed, and the submission goes on with the packages it holds (%s); "+
		"fix the package and release it again, and check the submission in Partner Center",
		s.target(), strings.Join(missing, ", "), describePackages(sub.packages()))
}

// packageProblem says why the entries lack the file name at version
// ("" when its local version is unknown), or "" when they hold it.
func packageProblem(entries []storeapi.Package, name, version string) string {
	why := "no entry of that name"
	for _, e := range entries {
		switch {
		case e.FileName != name:
		case e.FileStatus == storeapi.FileStatusPendingDelete:
			why = "its entry is PendingDelete"
		case version != "" && e.Version != version:
			why = fmt.Sprintf("its entry is at version %s, not %s", orNone(e.Version), version)
		default:
			return ""
		}
	}
	return why
}

// notePackagesUnchecked says in the log that a run which stops before the
// end of pre-processing did not check its packages.
func (s *State) notePackagesUnchecked() {
	if s.packagesChecked || len(s.cfg.Packages) == 0 || s.dryRun() {
		return
	}
	s.rep.Infof("packages not checked after pre-processing (status %s): the Store can still drop a malformed one\n"+
		"  re-run with the same inputs and wait-for: %s or %s to check them", orNone(string(s.Status)), config.WaitCertified, config.WaitPublished)
}
