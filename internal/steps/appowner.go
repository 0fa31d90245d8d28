package steps

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/storeflight/storeflight/internal/storeapi"
)

// An app submission carries the product page (listings, pricing,
// properties, trailers), and the Store's PUT replaces the whole resource:
// what it leaves out falls back to a default. storeapi keeps the JSON as
// the Store sent it and edits only named fields in place; this file turns
// the inputs into that edit (DESIGN.md, "App submissions").

// basePrice is the priceId the Store returns for prices the API cannot
// express (per-market or advanced pricing) and refuses back.
const basePrice = "Base"

// errBasePrice refuses an update of an app priced "Base": the PUT would
// be refused, and clearing the price would make the app free.
func errBasePrice() error {
	return fmt.Errorf("the app's price (pricing.priceId) is %q, which the Store's API returns for a price it cannot express, such as per-market or advanced pricing, "+
		"and refuses when it is sent back; leaving it out would make the app free. Nothing was changed. "+
		"In Partner Center, open the app's Pricing and availability page and choose a base price (a price tier, or Free), then run again; "+
		"or make this release in Partner Center", basePrice)
}

// applyInputs returns a copy of s with the fields the inputs name edited
// in its JSON, every other byte as read, and the changes. See
// submission.withUpdate.
func (s appSubmission) applyInputs(in updateInput, clonedFrom submission) (submission, []FieldChange, error) {
	if strings.EqualFold(s.Pricing.PriceID, basePrice) {
		return nil, nil, errBasePrice()
	}
	cfg := in.cfg
	created := clonedFrom != nil
	notes, err := in.releaseNotes(s.ListingLanguages())
	if err != nil {
		return nil, nil, err
	}
	ch := storeapi.AppSubmissionChange{ReleaseNotes: notes, NotesForCertification: cfg.NotesForCertification}
	if len(cfg.Packages) > 0 {
		fates, err := in.fates(s.ApplicationPackages, false)
		if err != nil {
			return nil, nil, err
		}
		ch.PackageFates = fatesOnly(fates)
		for _, p := range cfg.Packages {
			ch.NewPackages = append(ch.NewPackages, p.ZIPName)
		}
	}
	// The delivery fields take the values inputValues gives, so that an
	// app submission gets exactly what a flight submission would.
	values := inputValues(cfg, created)
	if on, ok := values[fieldRolloutOn]; ok {
		pct, err := strconv.ParseFloat(values[fieldRolloutPct], 64)
		if err != nil {
			return nil, nil, fmt.Errorf("rollout percentage %q: %w", values[fieldRolloutPct], err)
		}
		ch.PackageRollout = &storeapi.PackageRolloutSetting{IsPackageRollout: on == "true", Percentage: pct}
	}
	if v, ok := values[fieldMandatory]; ok {
		b := v == "true"
		ch.IsMandatoryUpdate = &b
	}
	if d := cfg.MandatoryUpdateEffectiveDate; d != nil {
		ch.MandatoryUpdateEffectiveDate = ptrTo(storeTime(*d))
	}
	if m := cfg.TargetPublishMode; m != "" {
		ch.TargetPublishMode = &m
	}
	if d := cfg.TargetPublishDate; d != nil {
		ch.TargetPublishDate = ptrTo(storeTime(*d))
	}
	next, err := s.WithChange(ch)
	if err != nil {
		return nil, nil, err
	}
	// The view keeps what s says of itself (a planned clone has no id yet).
	next.ID, next.Status = s.ID, s.Status
	after := appSubmission{next}
	before := submission(s)
	if created {
		before = clonedFrom
	}
	changes := fieldChanges(cfg, created, "applicationPackages", before, after)
	from, to := before.fieldValues(), after.fieldValues()
	for _, lang := range after.ListingLanguages() {
		if _, ok := notes[lang]; !ok {
			continue
		}
		if f := releaseNotesField(lang); from[f] != to[f] {
			changes = append(changes, FieldChange{Field: f, Before: orUnset(from[f]), After: to[f]})
		}
	}
	return after, changes, nil
}

// releaseNotesField names a listing's "What's new" text in change lists.
func releaseNotesField(lang string) string {
	return "listings." + lang + ".baseListing.releaseNotes"
}

func orUnset(v string) string {
	if v == "" {
		return "(unset)"
	}
	return v
}

func ptrTo[T any](v T) *T { return &v }
