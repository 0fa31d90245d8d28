package storefake

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Submission statuses (STOREAPI.md §4.7).
const (
	stPendingCommit       = "PendingCommit"
	stCommitStarted       = "CommitStarted"
	stCommitFailed        = "CommitFailed"
	stPreProcessing       = "PreProcessing"
	stPreProcessingFailed = "PreProcessingFailed"
	stCertification       = "Certification"
	stCertificationFailed = "CertificationFailed"
	stRelease             = "Release"
	stReleaseFailed       = "ReleaseFailed"
	stPendingPublication  = "PendingPublication"
	stPublishing          = "Publishing"
	stPublished           = "Published"
	stPublishFailed       = "PublishFailed"
	stCanceled            = "Canceled"
)

// Rollout statuses (STOREAPI.md §4.4).
const (
	rolloutNotStarted = "PackageRolloutNotStarted"
	rolloutInProgress = "PackageRolloutInProgress"
	rolloutComplete   = "PackageRolloutComplete"
	rolloutStopped    = "PackageRolloutStopped"
)

const defaultMandatoryDate = "1601-01-01T00:00:00.0000000Z"

// progression is the order of the processing statuses.
var progression = []string{stCommitStarted, stPreProcessing, stCertification, stRelease, stPendingPublication, stPublishing, stPublished}

// failureEnds maps a failure status to the status whose end it replaces.
var failureEnds = map[string]string{
	stCommitFailed:        stCommitStarted,
	stPendingCommit:       stCommitStarted,
	stPreProcessingFailed: stPreProcessing,
	stCertificationFailed: stCertification,
	stCanceled:            stCertification,
	stReleaseFailed:       stRelease,
	stPublishFailed:       stPublishing,
}

type app struct {
	id, name    string
	flights     map[string]*flight
	flightOrder []string
	publishedID string
	pendingID   string
	// unsupported: the app uses features the API does not support; every
	// change is refused with 409 InvalidState, reads work.
	unsupported bool
	// submissions counts the app's own submissions, for friendlyName.
	submissions int
}

type flight struct {
	id, name       string
	groupIDs       []string
	rankHigherThan string
	publishedID    string
	pendingID      string
}

type pkg struct {
	id, fileName, fileStatus, version string
	directX, ram                      string
	extra                             map[string]json.RawMessage
}

type rollout struct {
	enabled  bool
	pct      float64
	status   string
	fallback string
}

type statusDetails struct {
	errors, warnings []Detail
	reports          []Report
}

type submission struct {
	id, appID, flightID string
	status              string
	since               time.Time // when the current status began
	details             statusDetails
	packages            []*pkg
	rollout             rollout
	// noRolloutObject: packageDeliveryOptions has no packageRollout (a
	// clone made with Options.CloneWithoutRollout, until a PUT sends one).
	noRolloutObject   bool
	mandatory         bool
	mandatoryDate     string
	deliveryExtra     map[string]json.RawMessage
	mode, date, notes string
	extra             map[string]json.RawMessage
	uploadURL         string
	blobName          string
	portal            bool // created in Partner Center: the API may not change it
	commits           int
	failure           *Failure
	releasedAt        time.Time
	uploadedFiles     []string
	history           []StatusChange
	// drop is the scripted package drop of this commit's pre-processing.
	drop *PackageDrop
	// fresh and deleted hold the packages the commit uploaded and deleted,
	// until pre-processing is over: a dropped package leaves the old ones
	// in place.
	fresh, deleted []*pkg
	// invalid are the packages whose identity could not be read; they fail
	// pre-processing.
	invalid []Detail
}

// StatusChange is one entry of a submission's status history.
type StatusChange struct {
	Status string
	At     time.Time
}

func (sub *submission) setStatus(status string, at time.Time) {
	sub.status, sub.since = status, at
	sub.history = append(sub.history, StatusChange{Status: status, At: at})
}

func (sub *submission) isFailed() bool {
	switch sub.status {
	case stCommitFailed, stPreProcessingFailed, stCertificationFailed, stReleaseFailed, stPublishFailed, stCanceled:
		return true
	}
	return false
}

func (sub *submission) processing() bool {
	return slices.Contains(progression, sub.status) && sub.status != stPublished
}

func (s *Server) newID() string {
	id := s.nextID
	s.nextID += 7
	return strconv.FormatUint(id, 10)
}

// newAssetID returns an id for an image or a trailer, from a sequence of
// its own so that seeding a product page leaves submission ids as they
// were.
func (s *Server) newAssetID() string {
	s.nextAssetID++
	return strconv.FormatUint(1159761554639120000+s.nextAssetID, 10)
}

func (s *Server) stageDuration(status string) time.Duration {
	switch status {
	case stCommitStarted:
		return s.stages.CommitStarted
	case stPreProcessing:
		return s.stages.PreProcessing
	case stCertification:
		return s.stages.Certification
	case stRelease:
		return s.stages.Release
	case stPendingPublication:
		return s.stages.PendingPublication
	case stPublishing:
		return s.stages.Publishing
	}
	return 0
}

// tick brings every submission's status up to now. s.mu is held.
func (s *Server) tick() {
	now := s.clock.Now()
	ids := make([]string, 0, len(s.subs))
	for id, sub := range s.subs {
		if sub.processing() {
			ids = append(ids, id)
		}
	}
	// Publish in commit order so fallbacks chain as they would in time.
	slices.Sort(ids)
	for _, id := range ids {
		s.advance(s.subs[id], now)
	}
}

func (s *Server) advance(sub *submission, now time.Time) {
	for sub.processing() {
		end := sub.since.Add(s.stageDuration(sub.status))
		if sub.status == stRelease {
			switch sub.mode {
			case "Manual":
				if sub.releasedAt.IsZero() {
					return
				}
				end = later(end, sub.releasedAt)
			case "SpecificDate":
				if d, err := time.Parse(time.RFC3339, sub.date); err == nil {
					end = later(end, d)
				}
			}
		}
		if now.Before(end) {
			return
		}
		if sub.status == stCommitStarted {
			if d, ok := s.checkUpload(sub); !ok {
				sub.details = statusDetails{errors: []Detail{d}}
				sub.setStatus(stCommitFailed, end)
				return
			}
		}
		if sub.status == stPreProcessing {
			if bad := sub.preProcess(); len(bad) > 0 {
				sub.details = statusDetails{errors: bad}
				sub.setStatus(stPreProcessingFailed, end)
				return
			}
		}
		if f := sub.failure; f != nil && failureEnds[f.At] == sub.status {
			sub.details = statusDetails{errors: f.Errors, warnings: f.Warnings, reports: f.Reports}
			sub.failure = nil
			sub.setStatus(f.At, end)
			return
		}
		next := progression[slices.Index(progression, sub.status)+1]
		sub.setStatus(next, end)
		if next == stPublished {
			s.publish(sub)
		}
	}
}

// preProcess ends pre-processing: packages whose identity could not be
// read fail it; a scripted drop discards uploaded packages and keeps the
// ones the commit was to delete.
func (sub *submission) preProcess() []Detail {
	defer func() { sub.fresh, sub.deleted, sub.drop, sub.invalid = nil, nil, nil, nil }()
	if len(sub.invalid) > 0 {
		return sub.invalid
	}
	if sub.drop == nil {
		return nil
	}
	dropped := func(p *pkg) bool {
		return slices.Contains(sub.fresh, p) && (len(sub.drop.FileNames) == 0 || slices.Contains(sub.drop.FileNames, p.fileName))
	}
	if !slices.ContainsFunc(sub.packages, dropped) {
		return nil
	}
	sub.packages = slices.DeleteFunc(sub.packages, dropped)
	for _, p := range sub.deleted {
		p.fileStatus = "Uploaded"
		sub.packages = append(sub.packages, p)
	}
	return nil
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// publish makes sub the last published submission of its flight or app.
func (s *Server) publish(sub *submission) {
	a := s.apps[sub.appID]
	prevID, pendingID := &a.publishedID, &a.pendingID
	if sub.flightID != "" {
		f := a.flights[sub.flightID]
		prevID, pendingID = &f.publishedID, &f.pendingID
	}
	sub.rollout.fallback = "0"
	if sub.rollout.enabled {
		sub.rollout.status = rolloutInProgress
		if prev := s.subs[*prevID]; prev != nil {
			sub.rollout.fallback = prev.id
			if prev.rollout.status == rolloutStopped && prev.rollout.fallback != "" {
				sub.rollout.fallback = prev.rollout.fallback
			}
		}
	} else {
		sub.rollout = rollout{status: rolloutNotStarted, fallback: "0"}
	}
	*prevID = sub.id
	if *pendingID == sub.id {
		*pendingID = ""
	}
}

// Seed describes apps, flights and submissions to start from.
type Seed struct{ Apps []SeedApp }

// SeedApp is an application with its own submissions and its flights.
type SeedApp struct {
	ID, Name  string
	Published *SeedSubmission
	Pending   *SeedSubmission
	Flights   []SeedFlight
	// Page is the product page of the app's own submissions; nil for the
	// defaults (see SeedProductPage).
	Page *SeedProductPage
	// UnsupportedFeatures marks an app that uses features the submission
	// API does not support: every change (create, update, commit, delete,
	// rollout change, its flights' included) answers 409 InvalidState;
	// reads still work.
	UnsupportedFeatures bool
}

// SeedFlight is a package flight. ID is generated (a GUID) when empty.
type SeedFlight struct {
	ID, Name  string
	GroupIDs  []string
	Published *SeedSubmission
	Pending   *SeedSubmission
}

// SeedSubmission is a submission to seed.
type SeedSubmission struct {
	ID string // generated when empty
	// Status defaults to Published for Published and PendingCommit for
	// Pending. A processing status (CommitStarted..Publishing) goes on
	// from the moment of seeding.
	Status                                      string
	Packages                                    []SeedPackage
	Rollout                                     *SeedRollout
	TargetPublishMode, TargetPublishDate, Notes string
	MandatoryUpdate                             bool
	// NoUploadURL marks a submission created in Partner Center: it has no
	// fileUploadUrl and the API may not update, commit or delete it.
	NoUploadURL bool
}

// SeedPackage is a package entry; FileStatus defaults to Uploaded,
// Architecture to x64 and DeviceFamilies (app packages only) to
// Windows.Desktop.
type SeedPackage struct {
	FileName, Version, FileStatus string
	Architecture                  string
	DeviceFamilies                []string
}

// SeedRollout is a gradual rollout; Status defaults to
// PackageRolloutInProgress and Fallback to "0".
type SeedRollout struct {
	Percentage float64
	Status     string
	Fallback   string
}

// Seed adds apps, flights and submissions. An app ID already present is an
// error.
func (s *Server) Seed(seed Seed) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sa := range seed.Apps {
		if sa.ID == "" {
			return errors.New("storefake: seed app without ID")
		}
		if s.apps[sa.ID] != nil {
			return fmt.Errorf("storefake: app %s already exists", sa.ID)
		}
		a := &app{id: sa.ID, name: sa.Name, flights: map[string]*flight{}, unsupported: sa.UnsupportedFeatures}
		s.apps[a.id] = a
		s.appOrder = append(s.appOrder, a.id)
		var err error
		if a.publishedID, err = s.seedSubmission(a.id, "", sa.Published, stPublished); err != nil {
			return err
		}
		if a.pendingID, err = s.seedSubmission(a.id, "", sa.Pending, stPendingCommit); err != nil {
			return err
		}
		for _, id := range []string{a.publishedID, a.pendingID} {
			if sub := s.subs[id]; sub != nil {
				sub.extra = s.seedProductPage(a.name, sa.Page)
				s.nameAppSubmission(a, sub)
			}
		}
		for _, sf := range sa.Flights {
			f := &flight{id: sf.ID, name: sf.Name, groupIDs: slices.Clone(sf.GroupIDs), rankHigherThan: "Non-flighted submission"}
			if f.id == "" {
				f.id = newGUID()
			}
			if a.flights[f.id] != nil {
				return fmt.Errorf("storefake: flight %s already exists", f.id)
			}
			if n := len(a.flightOrder); n > 0 {
				f.rankHigherThan = a.flights[a.flightOrder[n-1]].name
			}
			a.flights[f.id] = f
			a.flightOrder = append(a.flightOrder, f.id)
			if f.publishedID, err = s.seedSubmission(a.id, f.id, sf.Published, stPublished); err != nil {
				return err
			}
			if f.pendingID, err = s.seedSubmission(a.id, f.id, sf.Pending, stPendingCommit); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Server) seedSubmission(appID, flightID string, ss *SeedSubmission, defStatus string) (string, error) {
	if ss == nil {
		return "", nil
	}
	now := s.clock.Now()
	sub := &submission{
		id: ss.ID, appID: appID, flightID: flightID,
		mode: ss.TargetPublishMode, date: ss.TargetPublishDate, notes: ss.Notes,
		mandatory:     ss.MandatoryUpdate,
		mandatoryDate: defaultMandatoryDate,
		rollout:       rollout{status: rolloutNotStarted, fallback: "0"},
		portal:        ss.NoUploadURL,
	}
	if sub.id == "" {
		sub.id = s.newID()
	}
	if s.subs[sub.id] != nil {
		return "", fmt.Errorf("storefake: submission %s already exists", sub.id)
	}
	if sub.mode == "" {
		sub.mode = "Immediate"
	}
	status := ss.Status
	if status == "" {
		status = defStatus
	}
	sub.setStatus(status, now)
	if sub.processing() {
		sub.commits = 1
	}
	for _, sp := range ss.Packages {
		p := &pkg{id: s.newID(), fileName: sp.FileName, fileStatus: sp.FileStatus, version: sp.Version, directX: "None", ram: "None"}
		if p.fileStatus == "" {
			p.fileStatus = "Uploaded"
		}
		if p.fileStatus != "PendingUpload" {
			arch := sp.Architecture
			if arch == "" {
				arch = "x64"
			}
			p.extra = packageExtra([]string{arch}, sp.DeviceFamilies, flightID == "")
		}
		sub.packages = append(sub.packages, p)
	}
	if r := ss.Rollout; r != nil {
		sub.rollout = rollout{enabled: true, pct: r.Percentage, status: r.Status, fallback: r.Fallback}
		if sub.rollout.status == "" {
			sub.rollout.status = rolloutInProgress
		}
		if sub.rollout.fallback == "" {
			sub.rollout.fallback = "0"
		}
	}
	if !ss.NoUploadURL && status != stPublished {
		s.grantUpload(sub)
	}
	s.subs[sub.id] = sub
	return sub.id, nil
}

// packageExtra returns the fields Partner Center fills in a package
// entry once it has read the package, which a client must send back
// untouched: its architectures as the Store spells them ("X64"; a
// bundle's joined, "X64, Arm64"), and for an app package its device
// families as "Windows.Desktop min version 10.0.17763.0" (default
// Windows.Desktop).
func packageExtra(archs, families []string, appPackage bool) map[string]json.RawMessage {
	spelt := make([]string, len(archs))
	for i, a := range archs {
		spelt[i] = storeArchitecture(a)
	}
	m := map[string]json.RawMessage{
		"architecture": raw(strings.Join(spelt, ", ")),
		"languages":    json.RawMessage(`["en-us"]`),
		"capabilities": json.RawMessage(`["runFullTrust"]`),
	}
	if appPackage {
		if len(families) == 0 {
			families = []string{"Windows.Desktop"}
		}
		tdf := make([]string, len(families))
		for i, f := range families {
			tdf[i] = f + " min version 10.0.17763.0"
		}
		m["targetDeviceFamilies"] = raw(tdf)
	}
	return m
}

// storeArchitecture spells a manifest architecture the way the Store's
// package entries do ("ARM" in its documentation's example): not as the
// manifest does, so that only a client comparing without case passes.
func storeArchitecture(a string) string {
	switch strings.ToLower(a) {
	case "x86":
		return "X86"
	case "x64":
		return "X64"
	case "arm":
		return "ARM"
	case "arm64":
		return "Arm64"
	case "neutral":
		return "Neutral"
	}
	return a
}

// nameAppSubmission gives an app submission its friendlyName, which the
// Store sets ("Submission N") and a PUT cannot change.
func (s *Server) nameAppSubmission(a *app, sub *submission) {
	a.submissions++
	if sub.extra == nil {
		sub.extra = map[string]json.RawMessage{}
	}
	sub.extra["friendlyName"] = raw(fmt.Sprintf("Submission %d", a.submissions))
}

// FlightState is a snapshot of a flight.
type FlightState struct{ ID, Name, PendingID, PublishedID string }

// AppState is a snapshot of an application.
type AppState struct{ ID, Name, PendingID, PublishedID string }

// PackageState is a snapshot of a package entry.
type PackageState struct{ FileName, FileStatus, Version, ID string }

// PackageDetail is what the Store read from a package entry's file, as it
// renders it: architectures ("X64, Arm64") and, for app packages, target
// device families ("Windows.Xbox min version 10.0.17763.0").
type PackageDetail struct {
	FileName             string
	Architecture         string
	TargetDeviceFamilies []string
}

// RolloutState is a snapshot of a submission's package rollout.
type RolloutState struct {
	Enabled    bool
	Percentage float64
	Status     string
	Fallback   string
}

// SubmissionState is a snapshot of a submission.
type SubmissionState struct {
	ID, Status     string
	Packages       []PackageState
	PackageDetails []PackageDetail // one per entry of Packages
	Rollout        RolloutState
	// RolloutObject is false while packageDeliveryOptions has no
	// packageRollout (Options.CloneWithoutRollout).
	RolloutObject     bool
	TargetPublishMode string
	Notes             string
	MandatoryUpdate   bool
	Commits           int
	UploadedFiles     []string // the entries of the ZIP checked at commit
	History           []StatusChange
	Errors, Warnings  []Detail
	Reports           []Report
}

// Flight returns a snapshot of a flight.
func (s *Server) Flight(appID, flightID string) (FlightState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tick()
	a := s.apps[appID]
	if a == nil || a.flights[flightID] == nil {
		return FlightState{}, false
	}
	f := a.flights[flightID]
	return FlightState{ID: f.id, Name: f.name, PendingID: f.pendingID, PublishedID: f.publishedID}, true
}

// App returns a snapshot of an application.
func (s *Server) App(appID string) (AppState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tick()
	a := s.apps[appID]
	if a == nil {
		return AppState{}, false
	}
	return AppState{ID: a.id, Name: a.name, PendingID: a.pendingID, PublishedID: a.publishedID}, true
}

// Submission returns a snapshot of a submission of a flight, or of the app
// itself when flightID is "".
func (s *Server) Submission(appID, flightID, submissionID string) (SubmissionState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tick()
	sub := s.subs[submissionID]
	if sub == nil || sub.appID != appID || sub.flightID != flightID {
		return SubmissionState{}, false
	}
	st := SubmissionState{
		ID: sub.id, Status: sub.status,
		Rollout:           RolloutState{Enabled: sub.rollout.enabled, Percentage: sub.rollout.pct, Status: sub.rollout.status, Fallback: sub.rollout.fallback},
		RolloutObject:     !sub.noRolloutObject,
		TargetPublishMode: sub.mode, Notes: sub.notes, MandatoryUpdate: sub.mandatory,
		Commits:       sub.commits,
		UploadedFiles: slices.Clone(sub.uploadedFiles),
		History:       slices.Clone(sub.history),
		Errors:        slices.Clone(sub.details.errors),
		Warnings:      slices.Clone(sub.details.warnings),
		Reports:       slices.Clone(sub.details.reports),
	}
	for _, p := range sub.packages {
		st.Packages = append(st.Packages, PackageState{FileName: p.fileName, FileStatus: p.fileStatus, Version: p.version, ID: p.id})
		d := PackageDetail{FileName: p.fileName}
		_ = json.Unmarshal(p.extra["architecture"], &d.Architecture)
		_ = json.Unmarshal(p.extra["targetDeviceFamilies"], &d.TargetDeviceFamilies)
		st.PackageDetails = append(st.PackageDetails, d)
	}
	return st, true
}

// ReleaseSubmission lets a Manual submission waiting in Release go on to
// publication.
func (s *Server) ReleaseSubmission(appID, flightID, submissionID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tick()
	sub := s.subs[submissionID]
	if sub == nil || sub.appID != appID || sub.flightID != flightID {
		return fmt.Errorf("storefake: no submission %s in app %s flight %q", submissionID, appID, flightID)
	}
	if sub.status != stRelease || sub.mode != "Manual" {
		return fmt.Errorf("storefake: submission %s is %s with mode %s, not a Manual submission in Release", sub.id, sub.status, sub.mode)
	}
	sub.releasedAt = s.clock.Now()
	s.tick()
	return nil
}
