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
		return skipNoUpdate
	case s.Continued && s.Status != storeapi.StatusPendingCommit:
		return skipCommittedEarlier
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
	next, changes, err := s.sub.withUpdate(s.updateInput(), s.clonedFrom)
	if err != nil {
		return err
	}
	if err := checkPackageLimit(next.packages()); err != nil {
		return err
	}
	s.Updated = changes
	s.updateRan = true
	if len(changes) == 0 {
		s.rep.Infof("no field changes (update: true sends the submission back as it is)")
	}
	for _, c := range changes {
		for _, l := range changeLines(c) {
			s.rep.Infof("%s", l)
		}
	}
	if p := s.cfg.RolloutPercentage; p != nil {
		note100(s, *p)
	}
	if s.dryRun() {
		s.plan("update %s: %s changed, as listed", s.target(), count(len(changes), "field"))
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
	s.rep.Infof("updated %s", count(len(changes), "field"))
	return nil
}

// The submission fields an update sets, by their names in change lists.
const (
	fieldRolloutOn     = "packageRollout.isPackageRollout"
	fieldRolloutPct    = "packageRollout.packageRolloutPercentage"
	fieldMandatory     = "isMandatoryUpdate"
	fieldMandatoryDate = "mandatoryUpdateEffectiveDate"
	fieldPublishMode   = "targetPublishMode"
	fieldPublishDate   = "targetPublishDate"
	fieldNotes         = "notesForCertification"
)

// updateFields are those fields in the order change lists show them (after
// the packages), with the input that sets each.
var updateFields = []struct{ field, input string }{
	{fieldRolloutOn, "rollout-percentage"},
	{fieldRolloutPct, "rollout-percentage"},
	{fieldMandatory, "mandatory-update"},
	{fieldMandatoryDate, "mandatory-update-effective-date"},
	{fieldPublishMode, "target-publish-mode"},
	{fieldPublishDate, "target-publish-date"},
	{fieldNotes, "notes-for-certification"},
}

// inputValues returns the value of each field the inputs set, formatted as
// fieldValues formats a submission's. A submission this run creates is
// exactly what the inputs say: without a rollout input its gradual rollout
// is off, and without mandatory-update it is not mandatory, whatever the
// create cloned.
func inputValues(cfg *config.Config, created bool) map[string]string {
	v := map[string]string{}
	switch start := cfg.NewRolloutPercentage(); {
	case start != nil:
		v[fieldRolloutOn], v[fieldRolloutPct] = "true", formatPct(*start)
	case created:
		v[fieldRolloutOn], v[fieldRolloutPct] = "false", "0"
	}
	switch {
	case cfg.MandatoryUpdate != nil:
		v[fieldMandatory] = strconv.FormatBool(*cfg.MandatoryUpdate)
	case created:
		v[fieldMandatory] = "false"
	}
	if d := cfg.MandatoryUpdateEffectiveDate; d != nil {
		v[fieldMandatoryDate] = quote(storeTime(*d))
	}
	if m := cfg.TargetPublishMode; m != "" {
		v[fieldPublishMode] = quote(m)
	}
	if d := cfg.TargetPublishDate; d != nil {
		v[fieldPublishDate] = quote(storeTime(*d))
	}
	if n := cfg.NotesForCertification; n != nil {
		v[fieldNotes] = quote(*n)
	}
	return v
}

// deliveryValues returns the values of the update's fields in a
// submission's delivery options, publish settings and notes.
func deliveryValues(o storeapi.PackageDeliveryOptions, mode, date, notes string) map[string]string {
	r := o.PackageRollout
	return map[string]string{
		fieldRolloutOn:     strconv.FormatBool(r.IsPackageRollout),
		fieldRolloutPct:    formatPct(r.PackageRolloutPercentage),
		fieldMandatory:     strconv.FormatBool(o.IsMandatoryUpdate),
		fieldMandatoryDate: quote(normalTime(o.MandatoryUpdateEffectiveDate)),
		fieldPublishMode:   quote(mode),
		fieldPublishDate:   quote(normalTime(date)),
		fieldNotes:         quote(notes),
	}
}

// normalTime writes a Store date as storeTime does, so that the same
// instant compares equal however the Store formats it.
func normalTime(v string) string {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return storeTime(t)
	}
	return v
}

// applyUpdate changes sub's delivery options, publish settings and notes
// as the inputs ask; created says this run made it.
func applyUpdate(cfg *config.Config, sub *storeapi.FlightSubmission, created bool) {
	o := &sub.PackageDeliveryOptions
	switch start := cfg.NewRolloutPercentage(); {
	case start != nil:
		o.PackageRollout.IsPackageRollout, o.PackageRollout.PackageRolloutPercentage = true, *start
	case created:
		o.PackageRollout.IsPackageRollout, o.PackageRollout.PackageRolloutPercentage = false, 0
	}
	switch {
	case cfg.MandatoryUpdate != nil:
		o.IsMandatoryUpdate = *cfg.MandatoryUpdate
	case created:
		o.IsMandatoryUpdate = false
	}
	if d := cfg.MandatoryUpdateEffectiveDate; d != nil {
		o.MandatoryUpdateEffectiveDate = storeTime(*d)
	}
	if m := cfg.TargetPublishMode; m != "" {
		sub.TargetPublishMode = m
	}
	if d := cfg.TargetPublishDate; d != nil {
		sub.TargetPublishDate = storeTime(*d)
	}
	if n := cfg.NotesForCertification; n != nil {
		sub.NotesForCertification = *n
	}
}

// fieldChanges lists what an update changes: the packages (when given)
// and each field the inputs set, from before to after. For a submission
// this run creates, before is the last published one (what users get
// now), so that a dry run, which cannot see the clone, lists the same.
func fieldChanges(cfg *config.Config, created bool, packagesField string, before, after submission) []FieldChange {
	var ch []FieldChange
	add := func(field, from, to string) {
		if from != to {
			ch = append(ch, FieldChange{Field: field, Before: from, After: to})
		}
	}
	if len(cfg.Packages) > 0 {
		add(packagesField, describePackages(before.packages()), describePackages(after.packages()))
	}
	set := inputValues(cfg, created)
	from, to := before.fieldValues(), after.fieldValues()
	for _, f := range updateFields {
		if _, ok := set[f.field]; ok {
			add(f.field, from[f.field], to[f.field])
		}
	}
	return ch
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
