package steps

import (
	"fmt"
	"strings"

	"github.com/storeflight/storeflight/internal/config"
	"github.com/storeflight/storeflight/internal/msix"
	"github.com/storeflight/storeflight/internal/storeapi"
)

// maxPackages is the most packages a submission may hold that are not
// PendingDelete (reference/APP-SUBMISSIONS.md §3, trap 16).
const maxPackages = 30

// packageFate is what an update does with one existing package entry, and
// why, for the log.
type packageFate struct {
	fate storeapi.PackageFate
	why  string
}

// packageFates says what an update that adds files does with each existing
// entry. In every mode an entry with a new file's name makes way for it.
// Beyond that, replace deletes every entry, add keeps them, and supersede
// deletes only the entries a new package supersedes (see supersedes):
// byArchitecture is true for a flight, whose entries carry no device
// family. An entry that makes way is PendingDelete if it was Uploaded, and
// dropped from the array if it was PendingUpload (the Store refuses
// PendingUpload → PendingDelete). ids holds the new files' identities by
// ZIP name; supersede refuses a file whose identity it lacks.
func packageFates(mode config.PackageMode, existing []storeapi.Package, files []config.Package, ids map[string]msix.Identity, byArchitecture bool) ([]packageFate, error) {
	names := make(map[string]bool, len(files))
	for _, f := range files {
		names[f.ZIPName] = true
	}
	if mode == config.PackageSupersede {
		for _, f := range files {
			if _, ok := ids[f.ZIPName]; !ok {
				return nil, &config.InputError{Input: "package-mode", Problem: fmt.Sprintf("supersede needs the target device families and architectures of every new package, and those of %s cannot be read from its manifest: nothing was changed; use package-mode: replace or add, or fix the package", f.ZIPName)}
			}
		}
	}
	out := make([]packageFate, len(existing))
	for i, p := range existing {
		var deleted string
		switch {
		case p.FileStatus == storeapi.FileStatusPendingDelete:
			out[i] = packageFate{storeapi.KeepPackage, "already PendingDelete"}
			continue
		case names[p.FileName]:
			deleted = "a new file has its name"
		case mode == config.PackageReplace:
			deleted = "package-mode: replace"
		case mode == config.PackageSupersede && p.FileStatus != storeapi.FileStatusPendingUpload:
			by, why := supersededBy(p, files, ids, byArchitecture)
			if by == "" {
				out[i] = packageFate{storeapi.KeepPackage, why}
				continue
			}
			deleted = "superseded by " + by + " (" + why + ")"
		default:
			out[i] = packageFate{storeapi.KeepPackage, "package-mode: " + string(mode)}
			continue
		}
		if p.FileStatus == storeapi.FileStatusPendingUpload {
			out[i] = packageFate{storeapi.DropPackage, deleted + "; not uploaded yet, so dropped from the list"}
		} else {
			out[i] = packageFate{storeapi.DeletePackage, deleted}
		}
	}
	return out, nil
}

// supersededBy returns the first new file that supersedes the existing
// entry p, and why; or "" and why none does.
func supersededBy(p storeapi.Package, files []config.Package, ids map[string]msix.Identity, byArchitecture bool) (string, string) {
	oldArchs, oldFamilies := p.Architectures(), p.DeviceFamilies()
	switch {
	case len(oldArchs) == 0:
		return "", "the Store reports no architecture for it, so no new package is known to supersede it"
	case !byArchitecture && len(oldFamilies) == 0:
		return "", "the Store reports no target device family for it, so no new package is known to supersede it"
	}
	for _, f := range files {
		id := ids[f.ZIPName]
		arch, ok := overlap(id.Architectures, oldArchs, true)
		if !ok {
			continue
		}
		if byArchitecture {
			return f.ZIPName, "architecture " + arch
		}
		if family, ok := overlap(id.DeviceFamilies, oldFamilies, false); ok {
			return f.ZIPName, family + ", " + arch
		}
	}
	if byArchitecture {
		return "", "no new package for " + strings.Join(oldArchs, ", ")
	}
	return "", "no new package for " + strings.Join(oldFamilies, ", ") + " on " + strings.Join(oldArchs, ", ")
}

// overlap returns a value both lists hold, ignoring case; with neutral, a
// "neutral" on either side overlaps anything.
func overlap(a, b []string, neutral bool) (string, bool) {
	isNeutral := func(v string) bool { return neutral && strings.EqualFold(v, "neutral") }
	for _, x := range a {
		for _, y := range b {
			if strings.EqualFold(x, y) || isNeutral(x) || isNeutral(y) {
				return y, true
			}
		}
	}
	return "", false
}

// fatesOnly returns the storeapi fates.
func fatesOnly(fates []packageFate) []storeapi.PackageFate {
	out := make([]storeapi.PackageFate, len(fates))
	for i, f := range fates {
		out[i] = f.fate
	}
	return out
}

// newPackages returns the package list after the fates and the new
// files: existing entries keep their id; new ones have none (STOREAPI.md
// §4.2).
func newPackages(existing []storeapi.Package, fates []packageFate, files []config.Package) []storeapi.Package {
	out := make([]storeapi.Package, 0, len(existing)+len(files))
	for i, p := range existing {
		switch fates[i].fate {
		case storeapi.DropPackage:
			continue
		case storeapi.DeletePackage:
			p.FileStatus = storeapi.FileStatusPendingDelete
		}
		out = append(out, p)
	}
	for _, f := range files {
		out = append(out, storeapi.Package{
			FileName:              f.ZIPName,
			FileStatus:            storeapi.FileStatusPendingUpload,
			MinimumDirectXVersion: "None",
			MinimumSystemRAM:      "None",
		})
	}
	return out
}

// checkPackageLimit refuses a package list holding more than maxPackages
// entries that are not PendingDelete, naming them.
func checkPackageLimit(ps []storeapi.Package) error {
	var live []string
	for _, p := range ps {
		if p.FileStatus != storeapi.FileStatusPendingDelete {
			live = append(live, p.FileName)
		}
	}
	if len(live) <= maxPackages {
		return nil
	}
	return &config.InputError{Input: "packages", Problem: fmt.Sprintf("the submission would hold %d packages that are not PendingDelete, and the Store takes at most %d: %s; "+
		"nothing was changed: use package-mode: supersede or replace so that old packages are deleted, or delete old packages in Partner Center",
		len(live), maxPackages, strings.Join(live, ", "))}
}

// logPackageFates says in the log what the update does with each existing
// package and why, for package-mode: supersede, where it is not obvious.
func logPackageFates(s *State, existing []storeapi.Package, fates []packageFate) {
	if s.cfg.PackageMode != config.PackageSupersede {
		return
	}
	for i, p := range existing {
		verb := "stays"
		switch fates[i].fate {
		case storeapi.DeletePackage:
			verb = "is deleted"
		case storeapi.DropPackage:
			verb = "is dropped"
		}
		s.rep.Infof("package %s %s: %s", p.FileName, verb, fates[i].why)
	}
}
