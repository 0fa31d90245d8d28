package steps

import (
	"fmt"

	"github.com/storeflight/storeflight/internal/config"
	"github.com/storeflight/storeflight/internal/msix"
	"github.com/storeflight/storeflight/internal/storeapi"
)

// updateInput is what an update applies: the inputs, and what resolve read
// for them from the files they name.
type updateInput struct {
	cfg *config.Config
	// identities are the new packages' identities by ZIP name; one whose
	// manifest could not be read has none.
	identities map[string]msix.Identity
	// notes are release-notes-dir's files.
	notes []notesFile
	// onFates, when set, is told what the update does with the existing
	// packages.
	onFates func(existing []storeapi.Package, fates []packageFate)
}

// updateInput returns the run's update, telling the log what happens to
// the existing packages.
func (s *State) updateInput() updateInput {
	in := s.checkInput()
	in.onFates = func(existing []storeapi.Package, fates []packageFate) { logPackageFates(s, existing, fates) }
	return in
}

// checkInput returns the run's update without a log of the packages.
func (s *State) checkInput() updateInput {
	return updateInput{cfg: s.cfg, identities: s.localIdentities, notes: s.notesFiles}
}

// fates says what the update does with the existing packages (nil when it
// adds none); byArchitecture as for packageFates.
func (in updateInput) fates(existing []storeapi.Package, byArchitecture bool) ([]packageFate, error) {
	if len(in.cfg.Packages) == 0 {
		return nil, nil
	}
	f, err := packageFates(in.cfg.PackageMode, existing, in.cfg.Packages, in.identities, byArchitecture)
	if err == nil && in.onFates != nil {
		in.onFates(existing, f)
	}
	return f, err
}

// checkUpdate refuses, before anything is changed (no delete, no rollout
// change, no create), an update that would fail or lose data: it works
// the update out on base, the submission it starts from (the pending one
// it goes into, or the last published one that a create clones; nil when
// there is none). Refused are a Base price (exit 1), release notes for a
// language the listings lack or too long, supersede with a package whose
// manifest cannot be read, and more than 30 packages (exit 2).
func (s *State) checkUpdate(base submission) error {
	if base == nil {
		if s.AppSubmission {
			return fmt.Errorf("%s has no published submission to start a new one from: the Store makes an app's first submission only in Partner Center; publish it there, then run again", s.owner.name())
		}
		base = s.owner.empty()
	}
	next, _, err := base.withUpdate(s.checkInput(), base)
	if err != nil {
		return err
	}
	return checkPackageLimit(next.packages())
}

// wantedNotes returns the release notes the inputs set on sub, as its
// fieldValues spell them, for the re-run rule; nil when there are none or
// they cannot apply (checkUpdate reports why).
func (s *State) wantedNotes(sub submission) map[string]string {
	notes, err := s.checkInput().releaseNotes(sub.languages())
	if err != nil || len(notes) == 0 {
		return nil
	}
	out := make(map[string]string, len(notes))
	for lang, text := range notes {
		out[releaseNotesField(lang)] = quote(text)
	}
	return out
}
