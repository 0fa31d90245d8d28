package steps

import (
	"strings"
	"testing"

	"github.com/storeflight/storeflight/internal/storeapi"
)

// testSub builds a flight submission for the re-run rule's table: status,
// packages as "fileName version status" (version "-" for none) and an
// upload URL.
func testSub(id string, status storeapi.Status, pkgs ...string) *storeapi.FlightSubmission {
	sub := &storeapi.FlightSubmission{ID: id, FlightID: flightID, Status: status, TargetPublishMode: "Immediate",
		FileUploadURL: "https://blob.example/ingestion/x?se=2026-03-02T10%3A00%3A00Z&sig=abc"}
	for _, p := range pkgs {
		f := strings.Fields(p)
		if f[1] == "-" {
			f[1] = ""
		}
		sub.FlightPackages = append(sub.FlightPackages, storeapi.Package{ID: "p-" + f[0], FileName: f[0], Version: f[1], FileStatus: f[2],
			MinimumDirectXVersion: "None", MinimumSystemRAM: "None"})
	}
	return sub
}

func withRollout(sub *storeapi.FlightSubmission, on bool, pct float64, status storeapi.RolloutStatus) *storeapi.FlightSubmission {
	sub.PackageDeliveryOptions.PackageRollout = storeapi.PackageRollout{IsPackageRollout: on, PackageRolloutPercentage: pct, PackageRolloutStatus: status, FallbackSubmissionID: "17"}
	return sub
}

// cloneOf is what a create makes of published: another id, PendingCommit,
// a fresh upload URL, no rollout status or fallback.
func cloneOf(published *storeapi.FlightSubmission, edit func(*storeapi.FlightSubmission)) *storeapi.FlightSubmission {
	c := *published
	c.ID, c.Status = pendingID, storeapi.StatusPendingCommit
	c.FileUploadURL = "https://blob.example/ingestion/y?se=2026-03-02T11%3A00%3A00Z&sig=def"
	c.FlightPackages = append([]storeapi.Package(nil), published.FlightPackages...)
	c.PackageDeliveryOptions.PackageRollout.PackageRolloutStatus = storeapi.RolloutNotStarted
	c.PackageDeliveryOptions.PackageRollout.FallbackSubmissionID = "0"
	if edit != nil {
		edit(&c)
	}
	return &c
}

func TestRecognise(t *testing.T) {
	t.Parallel()
	published := testSub(publishedID, storeapi.StatusPublished, "app.msix 1.0.0.0 Uploaded")
	rolledOut := withRollout(testSub(publishedID, storeapi.StatusPublished, "app.msix 1.0.0.0 Uploaded"), true, 100, storeapi.RolloutComplete)
	local := func(pairs ...string) []localPackage {
		var out []localPackage
		for i := 0; i < len(pairs); i += 2 {
			out = append(out, localPackage{Name: pairs[i], Version: pairs[i+1]})
		}
		return out
	}
	v11 := local("app.msix", "1.1.0.0")
	tests := []struct {
		name      string
		candidate *storeapi.FlightSubmission
		published *storeapi.FlightSubmission // for the clone test
		local     []localPackage
		inputs    map[string]string
		want      rerunVerdict
		reason    string // in one of the reasons
	}{
		// Packages: PendingCommit, where file names decide among PendingUpload entries.
		{name: "pending upload of the same name", candidate: testSub(pendingID, storeapi.StatusPendingCommit, "app.msix 1.0.0.0 PendingDelete", "app.msix - PendingUpload"),
			local: v11, want: ownSubmission, reason: "matched by name"},
		{name: "pending upload matches an unreadable local version", candidate: testSub(pendingID, storeapi.StatusPendingCommit, "MyApp.msixupload - PendingUpload"),
			local: local("MyApp.msixupload", ""), want: ownSubmission},
		{name: "an uploaded entry of another version is a colleague's draft", candidate: testSub(pendingID, storeapi.StatusPendingCommit, "app.msix 1.0.0.0 Uploaded", "other.msix - PendingUpload"),
			local: v11, want: othersSubmission, reason: "no entry of that name at version 1.1.0.0"},
		{name: "an uploaded entry never matches an unreadable version", candidate: testSub(pendingID, storeapi.StatusPendingCommit, "MyApp.msixupload 1.0.0.0 Uploaded"),
			local: local("MyApp.msixupload", ""), want: othersSubmission, reason: "could not be read"},
		{name: "an uploaded entry of the same version", candidate: testSub(pendingID, storeapi.StatusPendingCommit, "app.msix 1.1.0.0 Uploaded"),
			local: v11, want: ownSubmission, reason: "at version 1.1.0.0"},
		{name: "a PendingDelete entry does not count", candidate: testSub(pendingID, storeapi.StatusPendingCommit, "app.msix 1.1.0.0 PendingDelete"),
			local: v11, want: othersSubmission},
		// Packages: processed or published submissions, where versions decide.
		{name: "published with the same version", candidate: testSub(publishedID, storeapi.StatusPublished, "app.msix 1.1.0.0 Uploaded"),
			local: v11, want: ownSubmission},
		{name: "published with another version", candidate: published, local: v11, want: othersSubmission},
		{name: "a fixed file name with an unreadable version is never the published release", candidate: testSub(publishedID, storeapi.StatusPublished, "MyApp.msixupload 1.0.0.0 Uploaded"),
			local: local("MyApp.msixupload", ""), want: othersSubmission, reason: "could not be read"},
		{name: "certification with the same version", candidate: testSub(pendingID, storeapi.StatusCertification, "app.msix 1.1.0.0 Uploaded"),
			local: v11, want: ownSubmission},
		{name: "commit started, version not known yet", candidate: testSub(pendingID, storeapi.StatusCommitStarted, "app.msix - PendingUpload"),
			local: v11, want: undecided, reason: "does not know the version"},
		{name: "pre-processing, version not known yet", candidate: testSub(pendingID, storeapi.StatusPreProcessing, "app.msix - Uploaded"),
			local: v11, want: undecided},
		{name: "pre-processing, unreadable local version", candidate: testSub(pendingID, storeapi.StatusPreProcessing, "app.msix - Uploaded"),
			local: local("app.msix", ""), want: othersSubmission},
		{name: "pre-processing, one known, one not yet", candidate: testSub(pendingID, storeapi.StatusPreProcessing, "app.msix 1.1.0.0 Uploaded", "app.arm64.msix - Uploaded"),
			local: local("app.msix", "1.1.0.0", "app.arm64.msix", "1.1.0.0"), want: undecided},
		{name: "pre-processing, one other version, one not yet", candidate: testSub(pendingID, storeapi.StatusPreProcessing, "app.msix 1.0.0.0 Uploaded", "app.arm64.msix - Uploaded"),
			local: local("app.msix", "1.1.0.0", "app.arm64.msix", "1.1.0.0"), want: othersSubmission},
		{name: "certification with a version still unknown", candidate: testSub(pendingID, storeapi.StatusCertification, "app.msix - Uploaded"),
			local: v11, want: othersSubmission},
		{name: "commit failed before processing", candidate: testSub(pendingID, storeapi.StatusCommitFailed, "app.msix - PendingUpload"),
			local: v11, want: ownSubmission},
		{name: "pre-processing failed with the same version", candidate: testSub(pendingID, storeapi.StatusPreProcessingFailed, "app.msix 1.1.0.0 Uploaded"),
			local: v11, want: ownSubmission},
		{name: "one of two files missing", candidate: testSub(pendingID, storeapi.StatusPendingCommit, "app.msix - PendingUpload"),
			local: local("app.msix", "1.1.0.0", "app.arm64.msix", "1.1.0.0"), want: othersSubmission, reason: "app.arm64.msix: no entry"},
		// An update with no package: the values it sets.
		{name: "no package, the values already set", candidate: func() *storeapi.FlightSubmission {
			s := testSub(pendingID, storeapi.StatusCertification)
			s.NotesForCertification = "x"
			return s
		}(), inputs: map[string]string{fieldNotes: quote("x")}, want: ownSubmission},
		{name: "no package, other values", candidate: testSub(pendingID, storeapi.StatusCertification),
			inputs: map[string]string{fieldNotes: quote("x")}, want: othersSubmission, reason: `notesForCertification is "", not "x"`},
		{name: "neither packages nor fields", candidate: testSub(pendingID, storeapi.StatusPendingCommit), want: othersSubmission, reason: "nothing to recognise it by"},
		// Untouched clones of the last published submission.
		{name: "an untouched clone", candidate: cloneOf(published, nil), published: published, local: v11, want: untouchedClone, reason: "untouched copy of last published submission " + publishedID},
		{name: "an untouched clone of a rolled-out submission", candidate: cloneOf(rolledOut, nil), published: rolledOut, local: v11, want: untouchedClone},
		{name: "a clone without the rollout object", candidate: cloneOf(rolledOut, func(c *storeapi.FlightSubmission) {
			c.PackageDeliveryOptions.PackageRollout = storeapi.PackageRollout{}
		}), published: rolledOut, local: v11, want: untouchedClone},
		{name: "a clone whose rollout someone set", candidate: cloneOf(rolledOut, func(c *storeapi.FlightSubmission) {
			c.PackageDeliveryOptions.PackageRollout.PackageRolloutPercentage = 20
		}), published: rolledOut, local: v11, want: othersSubmission},
		{name: "a clone with someone's notes", candidate: cloneOf(published, func(c *storeapi.FlightSubmission) { c.NotesForCertification = "mine" }),
			published: published, local: v11, want: othersSubmission},
		{name: "a clone with a package marked for deletion", candidate: cloneOf(published, func(c *storeapi.FlightSubmission) {
			c.FlightPackages[0].FileStatus = storeapi.FileStatusPendingDelete
		}), published: published, local: v11, want: othersSubmission},
		{name: "a clone made in Partner Center", candidate: cloneOf(published, func(c *storeapi.FlightSubmission) { c.FileUploadURL = "" }),
			published: published, local: v11, want: othersSubmission},
		{name: "a committed clone", candidate: cloneOf(published, func(c *storeapi.FlightSubmission) { c.Status = storeapi.StatusCommitStarted }),
			published: published, local: v11, want: othersSubmission},
		{name: "an untouched clone, for an update with no package", candidate: cloneOf(published, nil), published: published,
			inputs: map[string]string{fieldNotes: quote("x")}, want: untouchedClone},
		{name: "this run's own wins over a clone", candidate: cloneOf(published, func(c *storeapi.FlightSubmission) {
			c.FlightPackages = []storeapi.Package{{FileName: "app.msix", FileStatus: storeapi.FileStatusPendingUpload}}
		}), published: published, local: v11, want: ownSubmission},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := rerunFacts{Candidate: facts(flightSubmission{tt.candidate}), Local: tt.local, Inputs: tt.inputs}
			if tt.published != nil {
				p := facts(flightSubmission{tt.published})
				f.LastPublished = &p
			}
			got := recognise(f)
			if got.Verdict != tt.want {
				t.Errorf("verdict %s, want %s; reasons %q", got.Verdict, tt.want, got.Reasons)
			}
			if tt.reason != "" && !strings.Contains(strings.Join(got.Reasons, "\n"), tt.reason) {
				t.Errorf("reasons %q lack %q", got.Reasons, tt.reason)
			}
		})
	}
}
