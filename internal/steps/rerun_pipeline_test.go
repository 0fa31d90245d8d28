package steps

import (
	"archive/zip"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/storeflight/storeflight/internal/config"
	"github.com/storeflight/storeflight/internal/storeapi"
	"github.com/storeflight/storeflight/internal/storefake"
)

// release is baseConfig shipping app.msix 1.1.0.0 to the flight.
func (e *env) release() *config.Config {
	cfg := baseConfig()
	cfg.Packages = []config.Package{e.pkg("app.msix", "1.1.0.0")}
	return cfg
}

// cloneKnobs are the two readings of what a create clones: the rollout too
// (the default), or no packageRollout object.
var cloneKnobs = []struct {
	name    string
	without bool
}{{"clone with rollout", false}, {"clone without rollout object", true}}

// finishedRollout seeds the flight's published submission with a
// finalized rollout, mandatory, as the Store leaves a rolled-out release.
func finishedRollout() storefake.Seed {
	seed := flightSeed(&storefake.SeedRollout{Percentage: 100, Status: "PackageRolloutComplete", Fallback: "1152921504606846900"}, nil)
	seed.Apps[0].Flights[0].Published.MandatoryUpdate = true
	return seed
}

// The dry run of a new submission plans the changes the real run makes,
// field for field, and the created submission is exactly what the inputs
// say whatever the create cloned.
func TestDryRunPlansWhatTheRunDoes(t *testing.T) {
	t.Parallel()
	for _, knob := range cloneKnobs {
		t.Run(knob.name, func(t *testing.T) {
			t.Parallel()
			e := newEnvWith(t, storefake.Options{Stages: quickStages(), CloneWithoutRollout: knob.without}, finishedRollout())
			cfg := e.release()
			cfg.RolloutPercentage = ptr(30.0)
			cfg.NotesForCertification = ptr("n")
			cfg.DryRun = true
			planned, err := e.run(t.Context(), cfg)
			if err != nil {
				t.Fatalf("dry run: %v", err)
			}
			if c := e.changes(); len(c) != 0 {
				t.Fatalf("the dry run changed things: %v", c)
			}
			cfg.DryRun = false
			done, err := e.run(t.Context(), cfg)
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			if diff := cmp.Diff(done.Updated, planned.Updated); diff != "" {
				t.Errorf("dry-run change list differs from the run's (-run +dry run):\n%s", diff)
			}
			want := []FieldChange{
				{Field: "flightPackages", Before: "app.msix 1.0.0.0 [Uploaded]", After: "app.msix 1.0.0.0 [PendingDelete], app.msix [PendingUpload]"},
				{Field: fieldRolloutPct, Before: "100", After: "30"},
				{Field: fieldMandatory, Before: "true", After: "false"},
				{Field: fieldNotes, Before: `""`, After: `"n"`},
			}
			if diff := cmp.Diff(want, done.Updated); diff != "" {
				t.Errorf("change list (-want +got):\n%s", diff)
			}
			got := e.sub(flightID, done.SubmissionID)
			if !got.Rollout.Enabled || got.Rollout.Percentage != 30 || got.MandatoryUpdate || !got.RolloutObject {
				t.Errorf("created submission: rollout %+v (object %v), mandatory %v; want 30%%, not mandatory", got.Rollout, got.RolloutObject, got.MandatoryUpdate)
			}
		})
	}
}

// Without rollout inputs a created submission has gradual rollout off
// (the object created when the clone lacks it) and is not mandatory.
func TestCreatedSubmissionIsWhatTheInputsSay(t *testing.T) {
	t.Parallel()
	for _, knob := range cloneKnobs {
		t.Run(knob.name, func(t *testing.T) {
			t.Parallel()
			e := newEnvWith(t, storefake.Options{Stages: quickStages(), CloneWithoutRollout: knob.without}, finishedRollout())
			cfg := e.release()
			cfg.Commit = false
			s, err := e.run(t.Context(), cfg)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			got := e.sub(flightID, s.SubmissionID)
			if got.Rollout.Enabled || got.Rollout.Percentage != 0 || !got.RolloutObject || got.MandatoryUpdate {
				t.Errorf("created submission: rollout %+v (object %v), mandatory %v; want off, with the object, not mandatory", got.Rollout, got.RolloutObject, got.MandatoryUpdate)
			}
		})
	}
}

// A pending clone of the last published submission that nobody changed
// (a run stopped between create and update) is taken over, whatever
// pending-submission says; one someone changed is not.
func TestUntouchedCloneIsTakenOver(t *testing.T) {
	t.Parallel()
	for _, knob := range cloneKnobs {
		for _, touched := range []bool{false, true} {
			name := knob.name + "/untouched"
			if touched {
				name = knob.name + "/someone's notes"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				e := newEnvWith(t, storefake.Options{Stages: quickStages(), CloneWithoutRollout: knob.without}, finishedRollout())
				clone, err := e.client.CreateFlightSubmission(t.Context(), appID, flightID)
				if err != nil {
					t.Fatal(err)
				}
				if touched {
					clone.NotesForCertification = "my draft"
					if _, err := e.client.UpdateFlightSubmission(t.Context(), appID, flightID, clone); err != nil {
						t.Fatal(err)
					}
				}
				e.fake.ResetRequests()
				cfg := e.release()
				cfg.RolloutPercentage = ptr(10.0)
				cfg.WaitFor = config.WaitCommitted
				s, err := e.run(t.Context(), cfg)
				if touched {
					if err == nil || !strings.Contains(err.Error(), "already has pending submission "+clone.ID) {
						t.Fatalf("error %v, want the pending submission named", err)
					}
					return
				}
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				if s.SubmissionID != clone.ID || !s.TakenOver || s.Created {
					t.Errorf("acted on %s (taken over %v, created %v), want %s taken over", s.SubmissionID, s.TakenOver, s.Created, clone.ID)
				}
				if c := e.calls("POST", "/submissions") + e.calls("DELETE", clone.ID); c != 0 {
					t.Errorf("%d creates and deletes, want none", c)
				}
				got := e.sub(flightID, clone.ID)
				if got.Commits != 1 || got.Rollout.Percentage != 10 || got.MandatoryUpdate {
					t.Errorf("taken-over submission: %d commits, rollout %+v, mandatory %v", got.Commits, got.Rollout, got.MandatoryUpdate)
				}
				if !strings.Contains(s.SummaryMarkdown(), "taken over") {
					t.Errorf("the summary does not say it was taken over")
				}
			})
		}
	}
}

// An upload URL past its se= is read again; when the Store gives no fresh
// one, the run's own submission is deleted and created again, and anyone
// else's fails the run, named.
func TestExpiredUploadURL(t *testing.T) {
	t.Parallel()
	t.Run("this run's own is created again", func(t *testing.T) {
		t.Parallel()
		e := newEnvWith(t, storefake.Options{Stages: quickStages(), SASTTL: 30 * time.Minute}, flightSeed(nil, nil))
		cfg := e.release()
		cfg.Commit = false
		first, err := e.run(t.Context(), cfg)
		if err != nil {
			t.Fatalf("first run: %v", err)
		}
		e.clk.Advance(time.Hour)
		cfg.Commit = true
		cfg.WaitFor = config.WaitCommitted
		s, err := e.run(t.Context(), cfg)
		if err != nil {
			t.Fatalf("re-run: %v", err)
		}
		if s.SubmissionID == first.SubmissionID || !s.Created {
			t.Errorf("re-run acted on %s (created %v), want a new submission instead of %s", s.SubmissionID, s.Created, first.SubmissionID)
		}
		if n := e.calls("DELETE", first.SubmissionID); n != 1 {
			t.Errorf("%d deletes of %s, want 1", n, first.SubmissionID)
		}
		if !e.rep.contains("to create it again: its upload URL expired") {
			t.Errorf("the log does not say why it was created again:\n%s", e.rep.text())
		}
		if got := e.sub(flightID, s.SubmissionID); got.Commits != 1 || len(got.UploadedFiles) != 1 {
			t.Errorf("new submission: %d commits, files %v", got.Commits, got.UploadedFiles)
		}
	})
	t.Run("someone else's fails, named", func(t *testing.T) {
		t.Parallel()
		e := newEnvWith(t, storefake.Options{Stages: quickStages(), SASTTL: 30 * time.Minute}, flightSeed(nil, &storefake.SeedSubmission{ID: pendingID,
			Notes: "someone's draft", Packages: []storefake.SeedPackage{{FileName: "other.msix", FileStatus: "PendingUpload"}}}))
		e.clk.Advance(time.Hour)
		cfg := baseConfig()
		cfg.PendingSubmission = config.PendingReuse
		cfg.Packages = []config.Package{e.pkg("app.msix", "1.1.0.0")}
		_, err := e.run(t.Context(), cfg)
		if err == nil || !strings.Contains(err.Error(), pendingID) || !strings.Contains(err.Error(), "expired") {
			t.Fatalf("error %v, want one naming %s and its expired upload URL", err, pendingID)
		}
		if c := e.changes(); len(c) != 0 {
			t.Errorf("changes made: %v", c)
		}
	})
}

// A run without update inputs acts on the submission in flight.
func TestFollowUpActsOnTheSubmissionInFlight(t *testing.T) {
	t.Parallel()
	t.Run("waits for the release the earlier job committed", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, quickStages(), flightSeed(nil, nil))
		release := e.release()
		release.RolloutPercentage = ptr(10.0)
		release.WaitFor = config.WaitCommitted
		r, err := e.run(t.Context(), release)
		if err != nil {
			t.Fatalf("release: %v", err)
		}
		follow := baseConfig()
		follow.WaitFor = config.WaitPublished
		follow.RolloutPercentage = ptr(50.0)
		s, err := e.run(t.Context(), follow)
		if err != nil {
			t.Fatalf("follow-up: %v", err)
		}
		if s.SubmissionID != r.SubmissionID || s.Status != storeapi.StatusPublished {
			t.Errorf("follow-up acted on %s (%s), want %s published", s.SubmissionID, s.Status, r.SubmissionID)
		}
		if got := e.sub(flightID, r.SubmissionID).Rollout; got.Percentage != 50 {
			t.Errorf("rollout of the release %+v, want raised to 50%%", got)
		}
		if got := e.sub(flightID, publishedID).Rollout; got.Percentage != 0 {
			t.Errorf("the earlier published submission's rollout changed: %+v", got)
		}
	})
	t.Run("a failed release is reported", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, quickStages(), flightSeed(nil, nil))
		e.fake.ScriptFailure(storefake.Failure{At: "CertificationFailed", Errors: []storefake.Detail{{Code: "PackageValidationFailed", Details: "bad manifest"}}})
		release := e.release()
		release.WaitFor = config.WaitCommitted
		if _, err := e.run(t.Context(), release); err != nil {
			t.Fatalf("release: %v", err)
		}
		e.clk.Advance(time.Hour)
		follow := baseConfig()
		follow.WaitFor = config.WaitPublished
		_, err := e.run(t.Context(), follow)
		var sf *SubmissionFailedError
		if !errors.As(err, &sf) || sf.Status != storeapi.StatusCertificationFailed {
			t.Fatalf("error %v, want the release's CertificationFailed", err)
		}
		if errs := e.rep.of("error"); len(errs) != 1 || errs[0].Title != "PackageValidationFailed" {
			t.Errorf("error annotations %+v", errs)
		}
	})
	t.Run("an uncommitted draft gets a notice", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, quickStages(), publishedWithRolloutAndPending(&storefake.SeedSubmission{ID: pendingID,
			Packages: []storefake.SeedPackage{{FileName: "other.msix", FileStatus: "PendingUpload"}}}))
		follow := baseConfig()
		follow.FinalizeRollout = true
		s, err := e.run(t.Context(), follow)
		if err != nil {
			t.Fatalf("follow-up: %v", err)
		}
		if s.SubmissionID != publishedID || !s.Finalized {
			t.Errorf("acted on %s (finalized %v), want %s finalized", s.SubmissionID, s.Finalized, publishedID)
		}
		if n := e.rep.of("notice"); len(n) == 0 || !strings.Contains(n[0].Msg, pendingID+" is an uncommitted draft") {
			t.Errorf("notices %+v, want one about the draft", n)
		}
	})
	t.Run("a processed release with only the old packages is warned about", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, quickStages(), flightSeed(nil, &storefake.SeedSubmission{ID: pendingID, Status: "Certification",
			Packages: []storefake.SeedPackage{{FileName: "app.msix", Version: "1.0.0.0"}}}))
		follow := baseConfig()
		follow.WaitFor = config.WaitCertified
		if _, err := e.run(t.Context(), follow); err != nil {
			t.Fatalf("follow-up: %v", err)
		}
		if w := e.rep.of("warning"); len(w) != 1 || !strings.Contains(w[0].Msg, "may have been dropped") {
			t.Errorf("warnings %+v, want one saying the packages may have been dropped", w)
		}
	})
}

func publishedWithRolloutAndPending(pending *storefake.SeedSubmission) storefake.Seed {
	return flightSeed(&storefake.SeedRollout{Percentage: 30, Fallback: "1152921504606846900"}, pending)
}

// A continued submission still gets the run's inputs: a published one's
// rollout is raised, one above counts as applied with a warning, and an
// input that can no longer be applied fails naming it and the value the
// Store holds.
func TestContinuedSubmissionGetsTheInputs(t *testing.T) {
	t.Parallel()
	release := func(e *env, pct float64) *config.Config {
		cfg := e.release()
		cfg.RolloutPercentage = ptr(pct)
		cfg.WaitFor = config.WaitPublished
		return cfg
	}
	t.Run("published: raised", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, quickStages(), flightSeed(nil, nil))
		first, err := e.run(t.Context(), release(e, 10))
		if err != nil {
			t.Fatal(err)
		}
		e.rep = &recorder{}
		s, err := e.run(t.Context(), release(e, 20))
		if err != nil {
			t.Fatalf("re-run at 20%%: %v", err)
		}
		if s.SubmissionID != first.SubmissionID || !s.Continued {
			t.Errorf("re-run acted on %s (continued %v), want %s", s.SubmissionID, s.Continued, first.SubmissionID)
		}
		if got := e.sub(flightID, first.SubmissionID).Rollout.Percentage; got != 20 {
			t.Errorf("rollout %v%%, want 20%%", got)
		}
		if e.rep.contains("went into the update") {
			t.Errorf("the log says the percentage went into an update that did not run:\n%s", e.rep.text())
		}
		e.rep = &recorder{}
		if _, err := e.run(t.Context(), release(e, 10)); err != nil {
			t.Fatalf("re-run at 10%%: %v", err)
		}
		if w := e.rep.of("warning"); len(w) != 1 || !strings.Contains(w[0].Msg, "above rollout-percentage 10%") {
			t.Errorf("warnings %+v, want one saying 20%% is above 10%%", w)
		}
		if n := e.calls("POST", "/updatepackagerolloutpercentage"); n != 1 {
			t.Errorf("%d raises, want 1", n)
		}
	})
	t.Run("published and halted: fails naming the input", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, quickStages(), flightSeed(nil, nil))
		first, err := e.run(t.Context(), release(e, 10))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.client.HaltPackageRollout(t.Context(), storeapi.SubmissionKey{ApplicationID: appID, FlightID: flightID, SubmissionID: first.SubmissionID}); err != nil {
			t.Fatal(err)
		}
		_, err = e.run(t.Context(), release(e, 20))
		if err == nil || !strings.Contains(err.Error(), "rollout-percentage cannot be applied") || !strings.Contains(err.Error(), "PackageRolloutStopped") {
			t.Fatalf("error %v, want rollout-percentage named with the halted rollout", err)
		}
	})
	t.Run("in certification: other notes fail naming the input and the value held", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, quickStages(), flightSeed(nil, nil))
		cfg := e.release()
		cfg.NotesForCertification = ptr("first")
		cfg.WaitFor = config.WaitCommitted
		if _, err := e.run(t.Context(), cfg); err != nil {
			t.Fatal(err)
		}
		e.clk.Advance(10 * time.Minute)
		cfg.NotesForCertification = ptr("second")
		_, err := e.run(t.Context(), cfg)
		if err == nil || !strings.Contains(err.Error(), `notes-for-certification "second" cannot be applied`) || !strings.Contains(err.Error(), `notesForCertification = "first"`) {
			t.Fatalf("error %v, want the input and the value the Store holds", err)
		}
		if n := e.calls("PUT", ""); n != 1 {
			t.Errorf("%d updates, want only the first run's", n)
		}
	})
	t.Run("PendingCommit: updated as a new one would be", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, quickStages(), flightSeed(nil, nil))
		cfg := e.release()
		cfg.RolloutPercentage = ptr(10.0)
		cfg.Commit = false
		first, err := e.run(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		cfg.RolloutPercentage = ptr(20.0)
		cfg.Commit = true
		s, err := e.run(t.Context(), cfg)
		if err != nil {
			t.Fatalf("re-run: %v", err)
		}
		got := e.sub(flightID, first.SubmissionID)
		if s.SubmissionID != first.SubmissionID || got.Rollout.Percentage != 20 || got.Commits != 1 {
			t.Errorf("re-run: %s, rollout %+v, %d commits; want %s at 20%%, committed once", s.SubmissionID, got.Rollout, got.Commits, first.SubmissionID)
		}
		var live []string
		for _, p := range got.Packages {
			if p.FileStatus != storeapi.FileStatusPendingDelete {
				live = append(live, p.FileName+" "+p.FileStatus)
			}
		}
		if diff := cmp.Diff([]string{"app.msix PendingUpload"}, live); diff != "" {
			t.Errorf("packages not being deleted (-want +got):\n%s", diff)
		}
	})
}

// An update at 100% says that 100% is not finalize.
func TestUpdateAt100IsNotFinalize(t *testing.T) {
	t.Parallel()
	e := newEnv(t, quickStages(), flightSeed(nil, nil))
	cfg := e.release()
	cfg.RolloutPercentage = ptr(100.0)
	if _, err := e.run(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	if !e.rep.contains("a rollout at 100% is not finalized") {
		t.Errorf("the log does not say 100%% is not finalize:\n%s", e.rep.text())
	}
}

// package-mode: add after a halted rollout would ship the halted packages
// again: refused before any change.
func TestAddAfterHaltedRollout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, quickStages(), publishedWithRollout(0, "PackageRolloutStopped"))
	cfg := baseConfig()
	cfg.PackageMode = config.PackageAdd
	cfg.Packages = []config.Package{e.pkg("app.msix", "1.1.0.0")}
	_, err := e.run(t.Context(), cfg)
	if !errors.Is(err, config.ErrInvalidInput) || !strings.Contains(err.Error(), "package-mode") {
		t.Fatalf("error %v, want an input error naming package-mode", err)
	}
	if c := e.changes(); len(c) != 0 {
		t.Errorf("changes made: %v", c)
	}
}

// An app without flights answers listflights with 404; the run says the
// app has no flights, and an unknown app is reported as such.
func TestNoFlights(t *testing.T) {
	t.Parallel()
	e := newEnv(t, quickStages(), storefake.Seed{Apps: []storefake.SeedApp{{ID: appID, Name: "Contoso"}}})
	cfg := baseConfig()
	cfg.FinalizeRollout = true
	_, err := e.run(t.Context(), cfg)
	if err == nil || !strings.Contains(err.Error(), "the app has no package flights") {
		t.Errorf("error %v, want one saying the app has no flights", err)
	}
	cfg.ApplicationID = "9NOTTHERE000"
	_, err = e.run(t.Context(), cfg)
	if !errors.Is(err, storeapi.ErrNotFound) || strings.Contains(err.Error(), "no package flights") {
		t.Errorf("error %v, want the Store's 404 for the app", err)
	}
}

// uploadFile writes an .msixupload holding a compressed package with no
// manifest: storeflight cannot read its version.
func (e *env) uploadFile(name string) config.Package {
	e.t.Helper()
	p := filepath.Join(e.dir, name)
	f, err := os.Create(p)
	if err != nil {
		e.t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	w, err := zw.CreateHeader(&zip.FileHeader{Name: "MyApp_x64.msix", Method: zip.Deflate})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := w.Write([]byte(strings.Repeat("not a package ", 100))); err != nil {
		e.t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		e.t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		e.t.Fatal(err)
	}
	return config.Package{Path: p, ZIPName: name}
}

// A fixed file name whose version cannot be read ships: it is never taken
// for the published release of the same name.
func TestUnreadableVersionShips(t *testing.T) {
	t.Parallel()
	seed := flightSeed(nil, nil)
	seed.Apps[0].Flights[0].Published.Packages = []storefake.SeedPackage{{FileName: "MyApp.msixupload", Version: "1.0.0.0"}}
	e := newEnv(t, quickStages(), seed)
	cfg := baseConfig()
	cfg.Packages = []config.Package{e.uploadFile("MyApp.msixupload")}
	cfg.WaitFor = config.WaitCommitted
	s, err := e.run(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !s.Created || s.SubmissionID == publishedID || !s.Committed {
		t.Errorf("acted on %s (created %v, committed %v), want a new submission committed", s.SubmissionID, s.Created, s.Committed)
	}
	if w := e.rep.of("warning"); len(w) != 1 || !strings.Contains(w[0].Msg, "version of MyApp.msixupload cannot be read") {
		t.Errorf("warnings %+v, want one about the unreadable version", w)
	}
}

// In every package mode an existing entry with a new file's name makes
// way for it: PendingDelete if it was Uploaded, removed if PendingUpload.
func TestNewPackages(t *testing.T) {
	t.Parallel()
	existing := []storeapi.Package{
		{ID: "1", FileName: "app.msix", FileStatus: storeapi.FileStatusUploaded},
		{ID: "2", FileName: "app.msix", FileStatus: storeapi.FileStatusPendingUpload},
		{ID: "3", FileName: "other.msix", FileStatus: storeapi.FileStatusUploaded},
		{ID: "4", FileName: "draft.msix", FileStatus: storeapi.FileStatusPendingUpload},
	}
	files := []config.Package{{ZIPName: "app.msix"}}
	tests := []struct {
		mode config.PackageMode
		want []string
	}{
		{config.PackageReplace, []string{"1 app.msix PendingDelete", "3 other.msix PendingDelete", " app.msix PendingUpload"}},
		{config.PackageAdd, []string{"1 app.msix PendingDelete", "3 other.msix Uploaded", "4 draft.msix PendingUpload", " app.msix PendingUpload"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.mode), func(t *testing.T) {
			t.Parallel()
			var got []string
			fates, err := packageFates(tt.mode, existing, files, nil, true)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range newPackages(existing, fates, files) {
				got = append(got, p.ID+" "+p.FileName+" "+p.FileStatus)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
		})
	}
}

// Right after a commit the Store does not know a new package's version:
// the re-run reads the submission again until it does, and at the
// timeout ends with exit 3 (ErrTimedOut) naming the submission.
func TestUndecidedVersionIsReadAgain(t *testing.T) {
	t.Parallel()
	t.Run("decided once the Store knows it", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, quickStages(), flightSeed(nil, nil))
		cfg := e.release()
		first, err := e.run(t.Context(), cfg)
		if err != nil || first.Status != storeapi.StatusCommitStarted {
			t.Fatalf("first run: %v, status %s; want CommitStarted", err, first.Status)
		}
		s, err := e.run(t.Context(), cfg)
		if err != nil {
			t.Fatalf("re-run: %v", err)
		}
		if s.SubmissionID != first.SubmissionID || !s.Continued {
			t.Errorf("re-run acted on %s (continued %v), want %s", s.SubmissionID, s.Continued, first.SubmissionID)
		}
		if !e.rep.contains("reading it again") {
			t.Errorf("the re-run did not read the submission again:\n%s", e.rep.text())
		}
		if n := e.calls("POST", "/submissions"); n != 1 {
			t.Errorf("%d creates, want 1", n)
		}
	})
	t.Run("exit 3 at the timeout", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, quickStages(), flightSeed(nil, &storefake.SeedSubmission{ID: pendingID, Status: "PreProcessing",
			Packages: []storefake.SeedPackage{{FileName: "app.msix"}}}))
		cfg := e.release()
		cfg.Timeout = 2 * time.Minute
		s, err := e.run(t.Context(), cfg)
		if !errors.Is(err, ErrTimedOut) || !strings.Contains(err.Error(), pendingID) {
			t.Fatalf("error %v, want ErrTimedOut naming %s", err, pendingID)
		}
		if s.Outputs()["submission-id"] != pendingID {
			t.Errorf("outputs %v, want submission-id %s", s.Outputs(), pendingID)
		}
		if c := e.changes(); len(c) != 0 {
			t.Errorf("changes made: %v", c)
		}
	})
}
