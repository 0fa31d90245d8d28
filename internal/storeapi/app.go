package storeapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf16"
)

// An app's own (retail) submission carries the whole product page:
// listings with their images, pricing, trailers, gamingOptions, properties,
// and fields this client does not know. The Store's PUT replaces the whole
// resource, and what a PUT leaves out falls back to a default (a missing
// priceId makes a paid app free; an image array written from a typed model
// loses captions). So an app submission is kept as the exact JSON the
// Store sent, and an update is that JSON with only the named fields
// edited in place (reference/APP-SUBMISSIONS.md §3).
//
// The flow of a retail release with this client:
//
//	app, _ := c.GetApplication(ctx, appID)           // pending and last published submission
//	sub, _ := c.CreateAppSubmission(ctx, appID)      // a clone of the last published one
//	next, _ := sub.WithChange(AppSubmissionChange{   // only these fields change
//		ReleaseNotes: map[string]string{"en-us": "Bug fixes."},
//		NewPackages:  []string{"App_2.0.0.0_x64.msix"},
//		PackageFates: fates, // one per sub.ApplicationPackages entry
//	})
//	next, _ = c.UpdateAppSubmission(ctx, appID, next) // PUT; upload to next.FileUploadURL
//	key := SubmissionKey{ApplicationID: appID, SubmissionID: next.ID}
//	c.CommitSubmission(ctx, key)                      // then SubmissionStatus(ctx, key)
//
// Rollout calls (GetPackageRollout and the rest) take the same key.

// MaxReleaseNotes is the most characters (UTF-16 code units, as the
// Store's .NET service counts them) of one language's release notes.
const MaxReleaseNotes = 1500

// AppSubmission is an app submission as the Store sent it. JSON returns its
// exact bytes; the exported fields are a read-only view decoded from them
// for the pipeline's decisions. Changing a field changes nothing that is
// sent: WithChange makes the edited submission that UpdateAppSubmission
// sends.
type AppSubmission struct {
	ID                     string                 `json:"id"`
	Status                 Status                 `json:"status"`
	StatusDetails          StatusDetails          `json:"statusDetails"`
	ApplicationPackages    []Package              `json:"applicationPackages"`
	PackageDeliveryOptions PackageDeliveryOptions `json:"packageDeliveryOptions"`
	// FileUploadURL is empty on a submission made in Partner Center.
	FileUploadURL         string `json:"fileUploadUrl"`
	TargetPublishMode     string `json:"targetPublishMode"`
	TargetPublishDate     string `json:"targetPublishDate"`
	NotesForCertification string `json:"notesForCertification"`
	// Pricing is the submission's pricing; a PriceID of "Base" cannot be
	// sent back (the Store refuses it) and an empty one makes the app free.
	Pricing Pricing `json:"pricing"`
	// Listings are keyed by language as the Store wrote them (lower case,
	// "en-us"); ListingLanguages gives them in document order.
	Listings map[string]Listing `json:"listings"`

	raw []byte
}

// Pricing is the part of an app submission's pricing storeflight reads.
type Pricing struct {
	// PriceID is the base price tier: "Free", "NotAvailable", "TierN",
	// or "Base" (per-market or advanced pricing the API cannot express).
	PriceID string `json:"priceId"`
}

// Listing is one language's store listing, as far as storeflight reads it.
type Listing struct {
	BaseListing BaseListing `json:"baseListing"`
}

// BaseListing holds a listing's texts; images and the rest stay in the
// submission's JSON untouched.
type BaseListing struct {
	Title string `json:"title"`
	// ReleaseNotes is "What's new in this version".
	ReleaseNotes string `json:"releaseNotes"`
}

// UnmarshalJSON keeps the exact bytes and decodes the view from them.
func (s *AppSubmission) UnmarshalJSON(b []byte) error {
	type view AppSubmission
	var v view
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*s = AppSubmission(v)
	s.raw = bytes.Clone(bytes.TrimSpace(b))
	return nil
}

// MarshalJSON returns the submission's JSON as read (for one built by hand
// rather than read, the view's fields). encoding/json compacts what a
// marshaler returns, so only JSON keeps the white space too.
func (s AppSubmission) MarshalJSON() ([]byte, error) {
	if s.raw != nil {
		return bytes.Clone(s.raw), nil
	}
	type view AppSubmission
	return json.Marshal(view(s))
}

// JSON returns a copy of the submission's JSON exactly as the Store sent
// it (or as WithChange edited it); nil for one that was not read.
func (s *AppSubmission) JSON() []byte { return bytes.Clone(s.raw) }

// ListingLanguages returns the listings' language keys in document order,
// spelt as the Store wrote them.
func (s *AppSubmission) ListingLanguages() []string {
	langs := s.listingKeys()
	if langs == nil {
		for k := range s.Listings {
			langs = append(langs, k)
		}
		slices.Sort(langs)
	}
	return langs
}

func (s *AppSubmission) listingKeys() []string {
	if s.raw == nil {
		return nil
	}
	top, err := parseObject(s.raw)
	if err != nil {
		return nil
	}
	m, ok, err := top.find("listings")
	if !ok || err != nil {
		return nil
	}
	listings, err := parseObject(s.raw[m.start:m.end])
	if err != nil {
		return nil
	}
	langs := []string{}
	for _, l := range listings.members {
		langs = append(langs, l.name)
	}
	return langs
}

// PackageFate is what an update does with one existing package entry.
type PackageFate int

const (
	// KeepPackage leaves the entry as it is.
	KeepPackage PackageFate = iota
	// DeletePackage marks an Uploaded (or None) entry PendingDelete: the
	// Store deletes it at commit. The Store refuses it on a PendingUpload
	// entry.
	DeletePackage
	// DropPackage removes a PendingUpload entry from the array, which is
	// how a file not yet uploaded is taken back.
	DropPackage
)

// PackageRolloutSetting turns gradual rollout on or off at a percentage.
type PackageRolloutSetting struct {
	IsPackageRollout bool
	Percentage       float64
}

// AppSubmissionChange names the fields an update changes; a nil (or empty)
// field changes nothing. Everything it does not name goes back as read.
type AppSubmissionChange struct {
	// ReleaseNotes sets listings[lang].baseListing.releaseNotes. Keys match
	// the listing languages ignoring case and are written back as the Store
	// spelt them; a language the submission does not list is an error
	// (adding one needs a whole listing).
	ReleaseNotes map[string]string
	// PackageFates, when not nil, holds one fate per ApplicationPackages
	// entry, in order.
	PackageFates []PackageFate
	// NewPackages are file names (as in the uploaded ZIP) appended as
	// PendingUpload entries with minimumDirectXVersion and
	// minimumSystemRam "None".
	NewPackages []string
	// PackageRollout sets packageDeliveryOptions.packageRollout's
	// isPackageRollout and packageRolloutPercentage, creating the objects
	// when the clone has none (null or missing).
	PackageRollout *PackageRolloutSetting
	// IsMandatoryUpdate and MandatoryUpdateEffectiveDate set the
	// packageDeliveryOptions fields of the same names.
	IsMandatoryUpdate            *bool
	MandatoryUpdateEffectiveDate *string
	TargetPublishMode            *string
	TargetPublishDate            *string
	NotesForCertification        *string
}

// WithChange returns a copy of s with the fields ch names edited in the
// JSON, every other byte as it was, and the view decoded again. A change
// that names nothing returns an identical copy. It refuses, before
// anything is sent, what the Store would refuse or what would lose data:
// notes for a language the submission does not list or longer than
// MaxReleaseNotes, a PendingUpload entry turned PendingDelete, an Uploaded
// entry dropped from the array.
func (s *AppSubmission) WithChange(ch AppSubmissionChange) (*AppSubmission, error) {
	if s.raw == nil {
		return nil, errors.New("app submission: not read from the Store, nothing to change")
	}
	doc := bytes.Clone(s.raw)
	var err error
	if doc, err = s.changeReleaseNotes(doc, ch.ReleaseNotes); err != nil {
		return nil, err
	}
	if doc, err = s.changePackages(doc, ch.PackageFates, ch.NewPackages); err != nil {
		return nil, err
	}
	edits := []struct {
		path  []string
		value any
		set   bool
	}{
		{[]string{"packageDeliveryOptions", "packageRollout", "isPackageRollout"}, rolloutField(ch.PackageRollout, true), ch.PackageRollout != nil},
		{[]string{"packageDeliveryOptions", "packageRollout", "packageRolloutPercentage"}, rolloutField(ch.PackageRollout, false), ch.PackageRollout != nil},
		{[]string{"packageDeliveryOptions", "isMandatoryUpdate"}, ch.IsMandatoryUpdate, ch.IsMandatoryUpdate != nil},
		{[]string{"packageDeliveryOptions", "mandatoryUpdateEffectiveDate"}, ch.MandatoryUpdateEffectiveDate, ch.MandatoryUpdateEffectiveDate != nil},
		{[]string{"targetPublishMode"}, ch.TargetPublishMode, ch.TargetPublishMode != nil},
		{[]string{"targetPublishDate"}, ch.TargetPublishDate, ch.TargetPublishDate != nil},
		{[]string{"notesForCertification"}, ch.NotesForCertification, ch.NotesForCertification != nil},
	}
	for _, e := range edits {
		if !e.set {
			continue
		}
		if doc, err = setPath(doc, e.path, setValue(e.value)); err != nil {
			return nil, fmt.Errorf("app submission: set %s: %w", strings.Join(e.path, "."), err)
		}
	}
	var out AppSubmission
	if err := json.Unmarshal(doc, &out); err != nil {
		return nil, fmt.Errorf("app submission: the edited JSON does not decode: %w", err)
	}
	return &out, nil
}

func rolloutField(r *PackageRolloutSetting, enabled bool) any {
	switch {
	case r == nil:
		return nil
	case enabled:
		return r.IsPackageRollout
	}
	return r.Percentage
}

func (s *AppSubmission) changeReleaseNotes(doc []byte, notes map[string]string) ([]byte, error) {
	if len(notes) == 0 {
		return doc, nil
	}
	langs := s.ListingLanguages()
	wants := make([]string, 0, len(notes))
	for lang := range notes {
		wants = append(wants, lang)
	}
	slices.Sort(wants) // a stable order for errors
	for _, want := range wants {
		text := notes[want]
		if n := len(utf16.Encode([]rune(text))); n > MaxReleaseNotes {
			return nil, fmt.Errorf("app submission: release notes for %s are %d characters; the Store takes at most %d", want, n, MaxReleaseNotes)
		}
		var match []string
		for _, l := range langs {
			if strings.EqualFold(l, want) {
				match = append(match, l)
			}
		}
		switch {
		case len(match) == 0:
			return nil, fmt.Errorf("app submission: no listing for language %q (the submission lists %s); adding a language needs a whole listing, made in Partner Center", want, orNoneList(langs))
		case len(match) > 1:
			return nil, fmt.Errorf("app submission: the listings %s differ only in case; which one the notes are for is unclear", strings.Join(match, " and "))
		}
		var err error
		doc, err = setPath(doc, []string{"listings", match[0], "baseListing", "releaseNotes"}, setValue(text))
		if err != nil {
			return nil, fmt.Errorf("app submission: set the release notes of %s: %w", match[0], err)
		}
	}
	return doc, nil
}

func orNoneList(langs []string) string {
	if len(langs) == 0 {
		return "none"
	}
	return strings.Join(langs, ", ")
}

// changePackages applies the fates to applicationPackages and appends the
// new entries. Entries it keeps keep their bytes; the array is rewritten
// only when an entry is dropped or added.
func (s *AppSubmission) changePackages(doc []byte, fates []PackageFate, added []string) ([]byte, error) {
	if fates == nil && len(added) == 0 {
		return doc, nil
	}
	if fates != nil && len(fates) != len(s.ApplicationPackages) {
		return nil, fmt.Errorf("app submission: %d package fates for %d packages", len(fates), len(s.ApplicationPackages))
	}
	for i, f := range fates {
		p := s.ApplicationPackages[i]
		switch {
		case f == DeletePackage && p.FileStatus == FileStatusPendingUpload:
			return nil, fmt.Errorf("app submission: package %s is PendingUpload; the Store refuses to make it PendingDelete: drop it instead", p.FileName)
		case f == DropPackage && p.FileStatus != FileStatusPendingUpload:
			return nil, fmt.Errorf("app submission: package %s is %s; dropping it from the array would not delete it: mark it PendingDelete instead", p.FileName, p.FileStatus)
		}
	}
	edit := func(old []byte) ([]byte, error) {
		if old == nil || string(old) == "null" {
			old = []byte("[]")
		}
		elems, err := parseArray(old)
		if err != nil {
			return nil, err
		}
		if len(elems) != len(s.ApplicationPackages) {
			return nil, fmt.Errorf("%d entries, %d decoded", len(elems), len(s.ApplicationPackages))
		}
		var keep [][]byte
		changed := len(added) > 0
		for i, e := range elems {
			el := old[e[0]:e[1]]
			switch fateAt(fates, i) {
			case DropPackage:
				changed = true
				continue
			case DeletePackage:
				if el, err = setMember(el, "fileStatus", setValue(FileStatusPendingDelete)); err != nil {
					return nil, fmt.Errorf("entry %d: %w", i, err)
				}
				changed = true
			}
			keep = append(keep, el)
		}
		for _, name := range added {
			entry, err := json.Marshal(map[string]string{"fileName": name, "fileStatus": FileStatusPendingUpload,
				"minimumDirectXVersion": "None", "minimumSystemRam": "None"})
			if err != nil {
				return nil, err
			}
			keep = append(keep, entry)
		}
		if !changed {
			return old, nil
		}
		return append(append([]byte{'['}, bytes.Join(keep, []byte{','})...), ']'), nil
	}
	out, err := setMember(doc, "applicationPackages", edit)
	if err != nil {
		return nil, fmt.Errorf("app submission: change applicationPackages: %w", err)
	}
	return out, nil
}

func fateAt(fates []PackageFate, i int) PackageFate {
	if fates == nil {
		return KeepPackage
	}
	return fates[i]
}

// TargetDeviceFamilies returns the entry's targetDeviceFamilies as the
// Store writes them ("Windows.Desktop min version 10.0.17763.0"); flight
// package entries have none.
func (p Package) TargetDeviceFamilies() []string {
	for k, v := range p.Extra {
		if strings.EqualFold(k, "targetDeviceFamilies") {
			var out []string
			if json.Unmarshal(v, &out) == nil {
				return out
			}
		}
	}
	return nil
}

// DeviceFamilies returns the device family names of the entry's
// targetDeviceFamilies ("Windows.Desktop", "Windows.Xbox"), without the
// minimum versions.
func (p Package) DeviceFamilies() []string {
	var out []string
	for _, f := range p.TargetDeviceFamilies() {
		if name, _, _ := strings.Cut(strings.TrimSpace(f), " "); name != "" {
			out = append(out, name)
		}
	}
	return out
}

// Architectures returns the entry's architecture split into its parts: a
// bundle's entry may name several ("X64, Arm64"). Case is as the Store
// wrote it; compare ignoring case.
func (p Package) Architectures() []string {
	parts := strings.FieldsFunc(p.Architecture, func(r rune) bool { return r == ',' || r == ' ' || r == ';' })
	if len(parts) == 0 {
		return nil
	}
	return parts
}

// CreateAppSubmission creates an app submission, a clone of the app's last
// published one, and returns it as read back.
//
// It asks for isMinimalResponse=true and then reads the submission with a
// GET, as StoreBroker and msstore-cli do: the Store builds the full clone
// slowly for apps with many packages and listings and can time out with a
// 500 while returning it, and a 500 on a create is an outcome nobody knows
// (the clone may exist). The GET is an idempotent read that the client
// retries, and the JSON it returns is the one an update must start from.
// The cost is one more request. Like every POST the create is re-sent only
// when the Store certainly did nothing; when the read after a successful
// create fails, the error is a *CreatedUnreadError, which also matches
// ErrOutcomeUnknown: read the app's pending submission before creating
// again.
//
// POST applications/{applicationId}/submissions?isMinimalResponse=true
//
// https://learn.microsoft.com/windows/uwp/monetize/create-an-app-submission
func (c *Client) CreateAppSubmission(ctx context.Context, appID string) (*AppSubmission, error) {
	const op = "create app submission"
	if err := checkIDs(op, appID); err != nil {
		return nil, err
	}
	var created struct {
		ID string `json:"id"`
	}
	q := url.Values{"isMinimalResponse": {"true"}}
	if err := c.do(ctx, op, http.MethodPost, c.endpoint(appPath(appID)+"/submissions", q), nil, &created); err != nil {
		return nil, err
	}
	if created.ID == "" {
		return nil, &CreatedUnreadError{Err: errors.New("the Store's answer names no submission id")}
	}
	sub, err := c.GetAppSubmission(ctx, appID, created.ID)
	if err != nil {
		return nil, &CreatedUnreadError{SubmissionID: created.ID, Err: err}
	}
	return sub, nil
}

// CreatedUnreadError is a create that the Store carried out but whose
// submission could not be read back. It matches ErrOutcomeUnknown, so
// callers that read the state after an unclear create find the new
// submission there.
type CreatedUnreadError struct {
	SubmissionID string // "" when the answer named none
	Err          error
}

func (e *CreatedUnreadError) Error() string {
	if e.SubmissionID == "" {
		return "create app submission: created, but " + e.Err.Error()
	}
	return fmt.Sprintf("create app submission: created %s, but reading it back failed: %v", e.SubmissionID, e.Err)
}

// Unwrap returns the read's error.
func (e *CreatedUnreadError) Unwrap() error { return e.Err }

// Is matches ErrOutcomeUnknown.
func (e *CreatedUnreadError) Is(target error) bool { return target == ErrOutcomeUnknown }

// GetAppSubmission returns an app submission, its JSON kept exactly as
// sent.
//
// GET applications/{applicationId}/submissions/{submissionId}
//
// https://learn.microsoft.com/windows/uwp/monetize/get-an-app-submission
func (c *Client) GetAppSubmission(ctx context.Context, appID, submissionID string) (*AppSubmission, error) {
	const op = "get app submission"
	if err := checkIDs(op, appID, submissionID); err != nil {
		return nil, err
	}
	var s AppSubmission
	key := SubmissionKey{ApplicationID: appID, SubmissionID: submissionID}
	if err := c.do(ctx, op, http.MethodGet, c.endpoint(submissionPath(key), nil), nil, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// UpdateAppSubmission replaces the app submission sub.ID with sub's JSON,
// exactly as read (or as WithChange edited it), and returns the Store's
// updated copy, whose fileUploadUrl is the one to upload to. A submission
// not read from the Store is refused: its JSON would lack the product page.
//
// PUT applications/{applicationId}/submissions/{submissionId}
//
// https://learn.microsoft.com/windows/uwp/monetize/update-an-app-submission
func (c *Client) UpdateAppSubmission(ctx context.Context, appID string, sub *AppSubmission) (*AppSubmission, error) {
	const op = "update app submission"
	if sub == nil || sub.raw == nil {
		return nil, fmt.Errorf("%s: no submission read from the Store to send back", op)
	}
	if err := checkIDs(op, appID, sub.ID); err != nil {
		return nil, err
	}
	key := SubmissionKey{ApplicationID: appID, SubmissionID: sub.ID}
	var s AppSubmission
	if err := c.do(ctx, op, http.MethodPut, c.endpoint(submissionPath(key), nil), sub.JSON(), &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// DeleteAppSubmission deletes a pending app submission. The Store refuses
// (InvalidOperation, ErrPartnerCenterSubmission) one made in Partner
// Center.
//
// DELETE applications/{applicationId}/submissions/{submissionId}
//
// https://learn.microsoft.com/windows/uwp/monetize/delete-an-app-submission
func (c *Client) DeleteAppSubmission(ctx context.Context, appID, submissionID string) error {
	const op = "delete app submission"
	if err := checkIDs(op, appID, submissionID); err != nil {
		return err
	}
	key := SubmissionKey{ApplicationID: appID, SubmissionID: submissionID}
	return c.do(ctx, op, http.MethodDelete, c.endpoint(submissionPath(key), nil), nil, nil)
}
