package storeapi

import "encoding/json"

// Status is a submission status as the Store reports it (STOREAPI.md §4.7).
// Unknown values are kept as they are: the Store may add some.
type Status string

// The fifteen documented submission statuses.
const (
	StatusNone                Status = "None"
	StatusCanceled            Status = "Canceled"
	StatusPendingCommit       Status = "PendingCommit"
	StatusCommitStarted       Status = "CommitStarted"
	StatusCommitFailed        Status = "CommitFailed"
	StatusPendingPublication  Status = "PendingPublication"
	StatusPublishing          Status = "Publishing"
	StatusPublished           Status = "Published"
	StatusPublishFailed       Status = "PublishFailed"
	StatusPreProcessing       Status = "PreProcessing"
	StatusPreProcessingFailed Status = "PreProcessingFailed"
	StatusCertification       Status = "Certification"
	StatusCertificationFailed Status = "CertificationFailed"
	StatusRelease             Status = "Release"
	StatusReleaseFailed       Status = "ReleaseFailed"
)

// RolloutStatus is a package rollout status (STOREAPI.md §4.4).
type RolloutStatus string

// The documented package rollout statuses.
const (
	RolloutNotStarted RolloutStatus = "PackageRolloutNotStarted"
	RolloutInProgress RolloutStatus = "PackageRolloutInProgress"
	RolloutComplete   RolloutStatus = "PackageRolloutComplete"
	RolloutStopped    RolloutStatus = "PackageRolloutStopped"
)

// File statuses of a package entry (STOREAPI.md §4.2).
const (
	FileStatusNone          = "None"
	FileStatusPendingUpload = "PendingUpload"
	FileStatusUploaded      = "Uploaded"
	FileStatusPendingDelete = "PendingDelete"
)

// SubmissionRef points at a submission from an application or a flight.
// For flights ResourceLocation is relative to the application
// (STOREAPI.md §9.3), so callers should use ID, not ResourceLocation.
type SubmissionRef struct {
	ID               string `json:"id"`
	ResourceLocation string `json:"resourceLocation,omitempty"`
}

// Flight is a package flight (STOREAPI.md §4.6).
type Flight struct {
	FlightID                      string         `json:"flightId"`
	FriendlyName                  string         `json:"friendlyName"`
	LastPublishedFlightSubmission *SubmissionRef `json:"lastPublishedFlightSubmission,omitempty"`
	PendingFlightSubmission       *SubmissionRef `json:"pendingFlightSubmission,omitempty"`
	GroupIDs                      []string       `json:"groupIds,omitempty"`
	RankHigherThan                string         `json:"rankHigherThan,omitempty"`
}

// Application is the part of the app resource storeflight reads
// (STOREAPI.md §3.4).
type Application struct {
	ID                                 string         `json:"id"`
	PrimaryName                        string         `json:"primaryName,omitempty"`
	LastPublishedApplicationSubmission *SubmissionRef `json:"lastPublishedApplicationSubmission,omitempty"`
	PendingApplicationSubmission       *SubmissionRef `json:"pendingApplicationSubmission,omitempty"`
}

// StatusDetail is one error or warning in statusDetails.
type StatusDetail struct {
	Code    string `json:"code"`
	Details string `json:"details"`
}

// CertificationReport links a certification report.
type CertificationReport struct {
	Date      string `json:"date"`
	ReportURL string `json:"reportUrl"`
}

// StatusDetails explains a submission's status (STOREAPI.md §4.5).
type StatusDetails struct {
	Errors               []StatusDetail        `json:"errors"`
	Warnings             []StatusDetail        `json:"warnings"`
	CertificationReports []CertificationReport `json:"certificationReports"`
}

// SubmissionStatus is the body of GET .../status and of a commit response.
type SubmissionStatus struct {
	Status        Status        `json:"status"`
	StatusDetails StatusDetails `json:"statusDetails"`
}

// PackageRollout is the gradual rollout state of a submission, and the body
// of every rollout endpoint (STOREAPI.md §4.4). FallbackSubmissionID is "0"
// when there is none.
type PackageRollout struct {
	IsPackageRollout         bool          `json:"isPackageRollout"`
	PackageRolloutPercentage float64       `json:"packageRolloutPercentage"`
	PackageRolloutStatus     RolloutStatus `json:"packageRolloutStatus"`
	FallbackSubmissionID     string        `json:"fallbackSubmissionId"`
}

// HasFallback reports whether FallbackSubmissionID names a submission.
func (r PackageRollout) HasFallback() bool {
	return r.FallbackSubmissionID != "" && r.FallbackSubmissionID != "0"
}

// PackageDeliveryOptions is a submission's packageDeliveryOptions. Extra
// keeps fields this type does not name, so a GET-modify-PUT round trip
// sends them back unchanged.
type PackageDeliveryOptions struct {
	PackageRollout               PackageRollout `json:"packageRollout"`
	IsMandatoryUpdate            bool           `json:"isMandatoryUpdate"`
	MandatoryUpdateEffectiveDate string         `json:"mandatoryUpdateEffectiveDate"`

	Extra map[string]json.RawMessage `json:"-"`
}

// Package is an entry of flightPackages or applicationPackages
// (STOREAPI.md §4.2). Extra keeps fields this type does not name.
type Package struct {
	ID                    string   `json:"id,omitempty"`
	FileName              string   `json:"fileName"`
	FileStatus            string   `json:"fileStatus"`
	Version               string   `json:"version,omitempty"`
	Architecture          string   `json:"architecture,omitempty"`
	Languages             []string `json:"languages,omitempty"`
	Capabilities          []string `json:"capabilities,omitempty"`
	MinimumDirectXVersion string   `json:"minimumDirectXVersion"`
	MinimumSystemRAM      string   `json:"minimumSystemRam"`

	Extra map[string]json.RawMessage `json:"-"`
}

// FlightSubmission is a package flight submission (STOREAPI.md §4.1).
// Extra keeps fields this type does not name, so that an update sends back
// everything it read.
type FlightSubmission struct {
	ID                     string                 `json:"id"`
	FlightID               string                 `json:"flightId"`
	Status                 Status                 `json:"status"`
	StatusDetails          StatusDetails          `json:"statusDetails"`
	FlightPackages         []Package              `json:"flightPackages"`
	PackageDeliveryOptions PackageDeliveryOptions `json:"packageDeliveryOptions"`
	FileUploadURL          string                 `json:"fileUploadUrl"`
	TargetPublishMode      string                 `json:"targetPublishMode"`
	TargetPublishDate      string                 `json:"targetPublishDate"`
	NotesForCertification  string                 `json:"notesForCertification"`

	Extra map[string]json.RawMessage `json:"-"`
}

// SubmissionKey names a submission for the verbs that flight and app
// submissions share (commit, status, rollout). FlightID is empty for an
// app's own submission.
type SubmissionKey struct {
	ApplicationID string
	FlightID      string
	SubmissionID  string
}

// IsFlight reports whether the key names a flight submission.
func (k SubmissionKey) IsFlight() bool { return k.FlightID != "" }
