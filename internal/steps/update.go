package steps

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/storeflight/storeflight/internal/config"
	"github.com/storeflight/storeflight/internal/storeapi"
)

// updateStep changes the fields the inputs name on the submission as read
// and PUTs it back. Everything else, unknown fields included, goes back as
// it was read (storeapi keeps them).
type updateStep struct{}

func (updateStep) Name() string { return "update" }

func (updateStep) Skip(s *State) string {
	switch {
	case !s.cfg.WantsUpdate():
		return "no update input given (packages, notes-for-certification, target-publish-mode, target-publish-date, mandatory-update, mandatory-update-effective-date or update: true)"
	case s.Continued:
		return fmt.Sprintf("%s already holds this run's packages from an earlier run", s.target())
	}
	return ""
}

func (updateStep) Run(ctx context.Context, s *State) error {
	if s.sub == nil {
		return fmt.Errorf("no flight submission to update")
	}
	if len(s.cfg.Packages) > 0 && s.sub.uploadURL() == "" && s.SubmissionID != "" {
		return errNoUploadURL(s)
	}
	next, changes, err := s.sub.withUpdate(s.cfg)
	if err != nil {
		return err
	}
	s.Updated = changes
	if len(changes) == 0 {
		s.rep.Infof("no field of %s changes (update: true sends it back as it is)", s.target())
	}
	for _, c := range changes {
		s.rep.Infof("%s: %s → %s", c.Field, c.Before, c.After)
	}
	if s.dryRun() {
		s.plan("update %s: %d field(s) changed, as listed", s.target(), len(changes))
		for _, c := range changes {
			s.Plan = append(s.Plan, fmt.Sprintf("  %s: %s → %s", c.Field, c.Before, c.After))
		}
		s.sub = next
		return nil
	}
	got, err := s.owner.update(ctx, next)
	if err != nil {
		return fmt.Errorf("update %s: %w", s.target(), err)
	}
	s.setSubmission(got)
	r := got.deliveryRollout()
	s.Rollout.record(&r, false)
	s.rep.Infof("updated %s (%d field(s))", s.target(), len(changes))
	return nil
}

// applyUpdate changes sub as the inputs ask and returns the changes.
func applyUpdate(cfg *config.Config, sub *storeapi.FlightSubmission) []FieldChange {
	var ch []FieldChange
	add := func(field, before, after string) {
		if before != after {
			ch = append(ch, FieldChange{Field: field, Before: before, After: after})
		}
	}
	if len(cfg.Packages) > 0 {
		before := describePackages(sub.FlightPackages)
		sub.FlightPackages = newPackages(cfg.PackageMode, sub.FlightPackages, cfg.Packages)
		add("flightPackages", before, describePackages(sub.FlightPackages))
	}
	if p := cfg.RolloutPercentage; p != nil {
		r := &sub.PackageDeliveryOptions.PackageRollout
		add("packageRollout.isPackageRollout", strconv.FormatBool(r.IsPackageRollout), "true")
		add("packageRollout.packageRolloutPercentage", formatPct(r.PackageRolloutPercentage), formatPct(*p))
		r.IsPackageRollout = true
		r.PackageRolloutPercentage = *p
	}
	if m := cfg.MandatoryUpdate; m != nil {
		o := &sub.PackageDeliveryOptions
		add("isMandatoryUpdate", strconv.FormatBool(o.IsMandatoryUpdate), strconv.FormatBool(*m))
		o.IsMandatoryUpdate = *m
	}
	if d := cfg.MandatoryUpdateEffectiveDate; d != nil {
		o := &sub.PackageDeliveryOptions
		v := storeTime(*d)
		add("mandatoryUpdateEffectiveDate", quote(o.MandatoryUpdateEffectiveDate), quote(v))
		o.MandatoryUpdateEffectiveDate = v
	}
	if m := cfg.TargetPublishMode; m != "" {
		add("targetPublishMode", quote(sub.TargetPublishMode), quote(m))
		sub.TargetPublishMode = m
	}
	if d := cfg.TargetPublishDate; d != nil {
		v := storeTime(*d)
		add("targetPublishDate", quote(sub.TargetPublishDate), quote(v))
		sub.TargetPublishDate = v
	}
	if n := cfg.NotesForCertification; n != nil {
		add("notesForCertification", quote(sub.NotesForCertification), quote(*n))
		sub.NotesForCertification = *n
	}
	return ch
}

// newPackages returns the package list after adding files. Replace marks
// every existing entry PendingDelete; add keeps them, except an entry with
// the same fileName as a new file, which the new entry replaces. Existing
// entries keep their id; new ones have none (STOREAPI.md §4.2).
func newPackages(mode config.PackageMode, existing []storeapi.Package, files []config.Package) []storeapi.Package {
	names := make(map[string]bool, len(files))
	for _, f := range files {
		names[f.ZIPName] = true
	}
	out := make([]storeapi.Package, 0, len(existing)+len(files))
	for _, p := range existing {
		if mode == config.PackageAdd {
			if names[p.FileName] {
				continue
			}
		} else {
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

func describePackages(ps []storeapi.Package) string {
	if len(ps) == 0 {
		return "(none)"
	}
	parts := make([]string, len(ps))
	for i, p := range ps {
		v := ""
		if p.Version != "" {
			v = " " + p.Version
		}
		parts[i] = fmt.Sprintf("%s%s [%s]", p.FileName, v, p.FileStatus)
	}
	return strings.Join(parts, ", ")
}

// storeTime formats a time as the Store's ISO 8601 UTC.
func storeTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func quote(s string) string { return strconv.Quote(s) }
