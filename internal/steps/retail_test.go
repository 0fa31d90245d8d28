package steps

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/storeflight/storeflight/internal/config"
	"github.com/storeflight/storeflight/internal/msix"
	"github.com/storeflight/storeflight/internal/storeapi"
	"github.com/storeflight/storeflight/internal/storefake"
)

// The app's own last published submission in the retail tests: a Desktop
// x64 package and an Xbox bundle.
const (
	desktopPackage = "app_1.0.0.0_x64.msix"
	xboxPackage    = "app_1.0.0.0_Xbox.msixbundle"
	newDesktop     = "app_1.1.0.0_x64.msix"
)

// retailSeed is an app whose last published submission ships a Desktop
// and an Xbox package, with the product page (nil: the simulator's
// default, a free app listed in en-us and de-de) and a pending submission
// (nil: none).
func retailSeed(page *storefake.SeedProductPage, pending *storefake.SeedSubmission) storefake.Seed {
	return storefake.Seed{Apps: []storefake.SeedApp{{
		ID: appID, Name: "Contoso", Page: page,
		Published: &storefake.SeedSubmission{ID: publishedID, Packages: []storefake.SeedPackage{
			{FileName: desktopPackage, Version: "1.0.0.0", Architecture: "x64"},
			{FileName: xboxPackage, Version: "1.0.0.0", Architecture: "x64", DeviceFamilies: []string{"Windows.Xbox"}},
		}},
		Pending: pending,
	}}}
}

// retailConfig is a release of a new Desktop x64 package to the app's own
// submission, superseding the Desktop one.
func (e *env) retailConfig() *config.Config {
	cfg := baseConfig()
	cfg.FlightName = ""
	cfg.Target = config.TargetApp
	cfg.PackageMode = config.PackageSupersede
	cfg.Packages = []config.Package{e.archPkg(newDesktop, "1.1.0.0", "x64", "Windows.Desktop")}
	return cfg
}

// archPkg writes a demo package for one architecture and device family.
func (e *env) archPkg(name, version, arch, family string) config.Package {
	e.t.Helper()
	p := filepath.Join(e.dir, name)
	f, err := os.Create(p)
	if err != nil {
		e.t.Fatal(err)
	}
	id := msix.Identity{Name: "Contoso.App", Version: version, Architectures: []string{arch}, DeviceFamilies: []string{family}}
	if err := msix.WriteDemo(f, id); err != nil {
		e.t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		e.t.Fatal(err)
	}
	return config.Package{Path: p, ZIPName: name}
}

// notesDir writes release-notes-dir files.
func (e *env) notesDir(files map[string]string) string {
	e.t.Helper()
	dir := filepath.Join(e.dir, "notes")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		e.t.Fatal(err)
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			e.t.Fatal(err)
		}
	}
	return dir
}

// members reads an app submission's JSON as the simulator serves it.
func (e *env) members(id string) map[string]json.RawMessage {
	e.t.Helper()
	b, ok := e.fake.SubmissionJSON(appID, "", id)
	if !ok {
		e.t.Fatalf("app submission %s not found", id)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		e.t.Fatal(err)
	}
	return m
}

// releaseNotesOf returns each listing's releaseNotes.
func releaseNotesOf(t *testing.T, m map[string]json.RawMessage) map[string]string {
	t.Helper()
	var listings map[string]struct {
		BaseListing struct {
			ReleaseNotes string `json:"releaseNotes"`
		} `json:"baseListing"`
	}
	if err := json.Unmarshal(m["listings"], &listings); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for lang, l := range listings {
		out[lang] = l.BaseListing.ReleaseNotes
	}
	return out
}

// withoutNotes returns the listings' JSON with every releaseNotes left
// out, for comparing the rest byte for byte.
func withoutNotes(t *testing.T, listings json.RawMessage) map[string]string {
	t.Helper()
	var m map[string]map[string]json.RawMessage
	if err := json.Unmarshal(listings, &m); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for lang, l := range m {
		var base map[string]json.RawMessage
		if err := json.Unmarshal(l["baseListing"], &base); err != nil {
			t.Fatal(err)
		}
		delete(base, "releaseNotes")
		for k, v := range base {
			out[lang+".baseListing."+k] = string(v)
		}
		out[lang+".platformOverrides"] = string(l["platformOverrides"])
	}
	return out
}

func packageStates(s storefake.SubmissionState) []string {
	var out []string
	for _, p := range s.Packages {
		out = append(out, p.FileName+" "+p.Version+" "+p.FileStatus)
	}
	return out
}

// A retail release: a new Desktop package supersedes the Desktop one and
// the Xbox package stays, "What's new" changes in both languages, and
// every other field of the product page is as it was.
func TestRetailRelease(t *testing.T) {
	t.Parallel()
	e := newEnv(t, quickStages(), retailSeed(&storefake.SeedProductPage{PriceID: "Tier5"}, nil))
	cfg := e.retailConfig()
	cfg.ReleaseNotes = "Bug fixes."
	cfg.ReleaseNotesDir = e.notesDir(map[string]string{"DE-de.txt": "\ufeff  Fehlerbehebungen.\n", "README.md": "not notes"})
	cfg.RolloutPercentage = ptr(10.0)
	cfg.WaitFor = config.WaitPublished
	before := e.members(publishedID)

	s, err := e.run(t.Context(), cfg)
	if err != nil {
		t.Fatalf("release: %v\n%s", err, e.rep.text())
	}
	if !s.AppSubmission || !s.Created || s.Status != storeapi.StatusPublished {
		t.Errorf("app submission %v, created %v, status %s", s.AppSubmission, s.Created, s.Status)
	}
	if got, ok := s.Outputs()[OutFlightID]; !ok || got != "" {
		t.Errorf("flight-id output %q (set %v), want it set and empty", got, ok)
	}
	sub := e.sub("", s.SubmissionID)
	wantPkgs := []string{xboxPackage + " 1.0.0.0 Uploaded", newDesktop + " 1.1.0.0 Uploaded"}
	if diff := cmp.Diff(wantPkgs, packageStates(sub)); diff != "" {
		t.Errorf("packages (-want +got):\n%s", diff)
	}
	if r := sub.Rollout; !r.Enabled || r.Percentage != 10 {
		t.Errorf("rollout %+v, want 10%%", r)
	}
	after := e.members(s.SubmissionID)
	wantNotes := map[string]string{"en-us": "Bug fixes.", "de-de": "Fehlerbehebungen."}
	if diff := cmp.Diff(wantNotes, releaseNotesOf(t, after)); diff != "" {
		t.Errorf("release notes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(withoutNotes(t, before["listings"]), withoutNotes(t, after["listings"])); diff != "" {
		t.Errorf("listings other than the notes changed (-before +after):\n%s", diff)
	}
	for k, v := range before {
		switch k {
		case "id", "status", "statusDetails", "fileUploadUrl", "friendlyName", "applicationPackages", "packageDeliveryOptions", "listings":
			continue
		}
		if string(after[k]) != string(v) {
			t.Errorf("%s changed:\n before %s\n after  %s", k, v, after[k])
		}
	}
	for _, want := range []string{
		"package " + desktopPackage + " is deleted: superseded by " + newDesktop + " (Windows.Desktop, X64)",
		"package " + xboxPackage + " stays: no new package for Windows.Xbox on X64",
		"after pre-processing, the submission holds every package",
	} {
		if !e.rep.contains(want) {
			t.Errorf("log lacks %q:\n%s", want, e.rep.text())
		}
	}

	// A re-run with the same inputs is recognised as its own: no change.
	e.fake.ResetRequests()
	again, err := e.run(t.Context(), cfg)
	if err != nil {
		t.Fatalf("re-run: %v", err)
	}
	if !again.Continued || again.SubmissionID != s.SubmissionID {
		t.Errorf("re-run acted on %s (continued %v), want %s", again.SubmissionID, again.Continued, s.SubmissionID)
	}
	if c := e.changes(); len(c) != 0 {
		t.Errorf("re-run made changes: %v", c)
	}
}

// The dry run of a retail release lists the same changes as the run.
func TestRetailDryRunMatchesRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t, quickStages(), retailSeed(nil, nil))
	cfg := e.retailConfig()
	cfg.ReleaseNotesDir = e.notesDir(map[string]string{"en-us.txt": "New: ink.", "de-de.txt": "Neu: Tinte."})
	cfg.RolloutPercentage = ptr(10.0)
	cfg.MandatoryUpdate = ptr(true)
	cfg.MandatoryUpdateEffectiveDate = ptr(start.Add(48 * time.Hour))
	cfg.TargetPublishMode = "Manual"
	cfg.NotesForCertification = ptr("Sign in as tester@contoso.com.")
	dry := *cfg
	dry.DryRun = true
	planned, err := e.run(t.Context(), &dry)
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	if c := e.changes(); len(c) != 0 {
		t.Fatalf("the dry run made changes: %v", c)
	}
	done, err := e.run(t.Context(), cfg)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if diff := cmp.Diff(planned.Updated, done.Updated); diff != "" {
		t.Errorf("changes (-dry run +run):\n%s", diff)
	}
	var fields []string
	for _, c := range done.Updated {
		fields = append(fields, c.Field)
	}
	// The listings in the order the Store wrote them (the simulator: by key).
	want := []string{"applicationPackages", fieldRolloutOn, fieldRolloutPct, fieldMandatory, fieldMandatoryDate, fieldPublishMode, fieldNotes,
		"listings.de-de.baseListing.releaseNotes", "listings.en-us.baseListing.releaseNotes"}
	if diff := cmp.Diff(want, fields); diff != "" {
		t.Errorf("changed fields (-want +got):\n%s", diff)
	}
	sub := e.sub("", done.SubmissionID)
	if !sub.MandatoryUpdate || sub.TargetPublishMode != "Manual" || sub.Notes != *cfg.NotesForCertification {
		t.Errorf("the Store holds mandatory %v, mode %q, notes %q", sub.MandatoryUpdate, sub.TargetPublishMode, sub.Notes)
	}
}

// The Store makes an app's first submission only in Partner Center: a
// release to an app with none published is refused before any change.
func TestRetailWithoutPublishedSubmission(t *testing.T) {
	t.Parallel()
	e := newEnv(t, quickStages(), storefake.Seed{Apps: []storefake.SeedApp{{ID: appID, Name: "Contoso"}}})
	_, err := e.run(t.Context(), e.retailConfig())
	if err == nil || !strings.Contains(err.Error(), "no published submission") || !strings.Contains(err.Error(), "Partner Center") {
		t.Errorf("error %v, want one saying the first submission is made in Partner Center", err)
	}
	if c := e.changes(); len(c) != 0 {
		t.Errorf("changes made: %v", c)
	}
}

// Every refusal made before anything changes: no create, PUT, DELETE or
// rollout change reaches the Store.
func TestRetailRefusedBeforeAnyChange(t *testing.T) {
	t.Parallel()
	rolling := func(seed storefake.Seed) storefake.Seed {
		seed.Apps[0].Published.Rollout = &storefake.SeedRollout{Percentage: 50}
		return seed
	}
	var many []storefake.SeedPackage
	for i := range 30 {
		many = append(many, storefake.SeedPackage{FileName: "old" + string(rune('a'+i%26)) + strings.Repeat("x", i/26) + ".msix", Version: "1.0.0.0", Architecture: "arm"})
	}
	tests := []struct {
		name    string
		seed    storefake.Seed
		set     func(e *env, c *config.Config)
		input   string // the input named by an input error; "" for exit 1
		message []string
	}{
		{name: "Base price", seed: rolling(retailSeed(&storefake.SeedProductPage{PriceID: "Base"}, nil)),
			set:     func(e *env, c *config.Config) { c.PreviousRollout = config.PreviousFinalize },
			message: []string{`pricing.priceId) is "Base"`, "Pricing and availability", "Nothing was changed"}},
		{name: "notes for a language the listings lack", seed: rolling(retailSeed(nil, nil)),
			set: func(e *env, c *config.Config) {
				c.PreviousRollout = config.PreviousFinalize
				c.ReleaseNotesDir = e.notesDir(map[string]string{"en-us.txt": "Fixes.", "fr-fr.txt": "Corrections."})
			},
			input: "release-notes-dir", message: []string{"fr-fr.txt", `"fr-fr"`, "de-de, en-us"}},
		{name: "notes too long in UTF-16", seed: retailSeed(nil, nil),
			set:   func(e *env, c *config.Config) { c.ReleaseNotes = strings.Repeat("😀", 751) },
			input: "release-notes", message: []string{"1502 characters"}},
		{name: "more than 30 packages", seed: func() storefake.Seed {
			s := retailSeed(nil, nil)
			s.Apps[0].Published.Packages = many
			return s
		}(),
			set:   func(e *env, c *config.Config) { c.PackageMode = config.PackageAdd },
			input: "packages", message: []string{"31 packages", "olda.msix", newDesktop}},
		{name: "Partner Center draft, fail", seed: retailSeed(nil, &storefake.SeedSubmission{ID: pendingID, NoUploadURL: true}),
			set:     func(e *env, c *config.Config) {},
			message: []string{"pending submission " + pendingID + ", made in Partner Center (it has no upload URL)", "submit that submission or delete it"}},
		{name: "Partner Center draft, reuse", seed: retailSeed(nil, &storefake.SeedSubmission{ID: pendingID, NoUploadURL: true}),
			set:     func(e *env, c *config.Config) { c.PendingSubmission = config.PendingReuse },
			message: []string{"made in Partner Center (it has no upload URL)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, quickStages(), tt.seed)
			cfg := e.retailConfig()
			tt.set(e, cfg)
			_, err := e.run(t.Context(), cfg)
			if err == nil {
				t.Fatal("the run succeeded")
			}
			var ie *config.InputError
			switch {
			case tt.input == "" && errors.As(err, &ie):
				t.Errorf("error %v is an input error (exit 2), want exit 1", err)
			case tt.input != "" && (!errors.As(err, &ie) || ie.Input != tt.input):
				t.Errorf("error %v, want an input error naming %s", err, tt.input)
			}
			for _, m := range tt.message {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error does not say %q:\n%v", m, err)
				}
			}
			if c := e.changes(); len(c) != 0 {
				t.Errorf("changes made: %v", c)
			}
		})
	}
}

// pending-submission: replace tries to delete a Partner Center draft, and
// on the Store's InvalidOperation explains it.
func TestRetailPartnerCenterDraftReplace(t *testing.T) {
	t.Parallel()
	e := newEnv(t, quickStages(), retailSeed(nil, &storefake.SeedSubmission{ID: pendingID, NoUploadURL: true}))
	cfg := e.retailConfig()
	cfg.PendingSubmission = config.PendingReplace
	_, err := e.run(t.Context(), cfg)
	if err == nil || !strings.Contains(err.Error(), "made in Partner Center (the Store refused to delete it)") || !strings.Contains(err.Error(), "InvalidOperation") {
		t.Fatalf("error %v, want the Partner Center explanation with the Store's refusal", err)
	}
	want := []string{"DELETE /v1.0/my/applications/" + appID + "/submissions/" + pendingID}
	if diff := cmp.Diff(want, e.changes()); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
}

// An app whose features the API does not support: the Store's 409 is
// reported with its message and a hint, and the create is sent once.
func TestRetailUnsupportedFeatures(t *testing.T) {
	t.Parallel()
	seed := retailSeed(nil, nil)
	seed.Apps[0].UnsupportedFeatures = true
	e := newEnv(t, quickStages(), seed)
	_, err := e.run(t.Context(), e.retailConfig())
	if !errors.Is(err, storeapi.ErrUnsupportedFeature) {
		t.Fatalf("error %v, want ErrUnsupportedFeature", err)
	}
	for _, want := range []string{"409 InvalidState", "not supported by the submission API", "next: the Store does not let the API change this app", "Partner Center"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q: %v", want, err)
		}
	}
	if n := e.calls(http.MethodPost, "/submissions"); n != 1 {
		t.Errorf("%d creates sent, want 1 (never retried)", n)
	}
}

// A package dropped in pre-processing fails the run, naming the file, on
// the app's own submission and on a flight alike.
func TestDroppedPackageFailsTheRun(t *testing.T) {
	t.Parallel()
	t.Run("app", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, quickStages(), retailSeed(nil, nil))
		e.fake.ScriptPackageDrop(storefake.PackageDrop{})
		cfg := e.retailConfig()
		cfg.WaitFor = config.WaitPublished
		s, err := e.run(t.Context(), cfg)
		checkDropped(t, err, newDesktop, s)
	})
	t.Run("flight", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, quickStages(), flightSeed(nil, nil))
		e.fake.ScriptPackageDrop(storefake.PackageDrop{})
		cfg := baseConfig()
		cfg.Packages = []config.Package{e.pkg("app.msix", "1.1.0.0")}
		cfg.WaitFor = config.WaitCertified
		s, err := e.run(t.Context(), cfg)
		// The fixed name: the old app.msix stays, at its old version.
		checkDropped(t, err, "app.msix", s)
		if err != nil && !strings.Contains(err.Error(), "at version 1.0.0.0, not 1.1.0.0") {
			t.Errorf("error does not name the version left: %v", err)
		}
	})
	t.Run("not checked when the wait stops before", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, quickStages(), flightSeed(nil, nil))
		e.fake.ScriptPackageDrop(storefake.PackageDrop{})
		cfg := baseConfig()
		cfg.Packages = []config.Package{e.pkg("app.msix", "1.1.0.0")}
		cfg.WaitFor = config.WaitCommitted
		if _, err := e.run(t.Context(), cfg); err != nil {
			t.Fatalf("run: %v", err)
		}
		if !e.rep.contains("packages not checked after pre-processing") {
			t.Errorf("the log does not say the check was not made:\n%s", e.rep.text())
		}
	})
}

func checkDropped(t *testing.T, err error, file string, s *State) {
	t.Helper()
	if err == nil || errors.Is(err, config.ErrInvalidInput) {
		t.Fatalf("error %v, want a failure (exit 1)", err)
	}
	if !strings.Contains(err.Error(), "lacks "+file) || !strings.Contains(err.Error(), "dropped") {
		t.Errorf("error does not name %s as dropped: %v", file, err)
	}
	if s.Status == storeapi.StatusPublished {
		t.Errorf("the run waited on to Published after the drop")
	}
}

// A run stopped between create and update (here: its PUT refused once)
// leaves an untouched clone, which the re-run takes over.
func TestRetailUntouchedCloneTakenOver(t *testing.T) {
	t.Parallel()
	e := newEnv(t, quickStages(), retailSeed(nil, nil))
	e.fake.Inject(storefake.Fault{Method: http.MethodPut, Status: http.StatusBadRequest})
	cfg := e.retailConfig()
	cfg.ReleaseNotes = "Fixes."
	if _, err := e.run(t.Context(), cfg); err == nil {
		t.Fatal("first run succeeded despite the refused PUT")
	}
	s, err := e.run(t.Context(), cfg)
	if err != nil {
		t.Fatalf("re-run: %v", err)
	}
	if !s.TakenOver || s.Created {
		t.Errorf("taken over %v, created %v; want the clone taken over", s.TakenOver, s.Created)
	}
	if n := e.calls(http.MethodPost, "/submissions"); n != 1 {
		t.Errorf("%d creates, want 1", n)
	}
}

// A create or commit whose answer is lost is neither sent twice nor lost.
func TestRetailLostAnswers(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"/submissions", "/commit"} {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, quickStages(), retailSeed(nil, nil))
			e.fake.Inject(storefake.Fault{Method: http.MethodPost, Path: path, LoseResponse: true})
			cfg := e.retailConfig()
			cfg.WaitFor = config.WaitPublished
			s, err := e.run(t.Context(), cfg)
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			if s.Status != storeapi.StatusPublished {
				t.Errorf("status %s, want Published", s.Status)
			}
			sub := e.sub("", s.SubmissionID)
			if sub.Commits != 1 {
				t.Errorf("%d commits, want 1", sub.Commits)
			}
			if n := e.calls(http.MethodPost, "/"+appID+"/submissions"); n != 1 {
				t.Errorf("%d creates, want 1", n)
			}
		})
	}
}

// An update that names no package is recognised by its values, release
// notes included: the re-run of a notes-only release continues it; other
// notes on a submission already committed cannot be applied.
func TestRetailNotesOnlyRerun(t *testing.T) {
	t.Parallel()
	e := newEnv(t, quickStages(), retailSeed(nil, nil))
	cfg := baseConfig()
	cfg.FlightName, cfg.Target = "", config.TargetApp
	cfg.ReleaseNotes = "Fixes."
	first, err := e.run(t.Context(), cfg)
	if err != nil {
		t.Fatalf("first run: %v", err)
	}
	again, err := e.run(t.Context(), cfg)
	if err != nil {
		t.Fatalf("re-run: %v", err)
	}
	if !again.Continued || again.SubmissionID != first.SubmissionID {
		t.Errorf("re-run acted on %s (continued %v), want %s", again.SubmissionID, again.Continued, first.SubmissionID)
	}
	if n := e.calls(http.MethodPost, "/commit"); n != 1 {
		t.Errorf("%d commits, want 1", n)
	}
	cfg.ReleaseNotes = "Other fixes."
	cfg.PendingSubmission = config.PendingFail
	_, err = e.run(t.Context(), cfg)
	if err == nil || !strings.Contains(err.Error(), "already has pending submission "+first.SubmissionID) {
		t.Errorf("other notes while the release is in flight: %v, want the pending submission named", err)
	}
}

// previous-rollout applies to the app's own last published submission as
// to a flight's: finalize it, then create.
func TestRetailPreviousRollout(t *testing.T) {
	t.Parallel()
	seed := retailSeed(nil, nil)
	seed.Apps[0].Published.Rollout = &storefake.SeedRollout{Percentage: 50, Fallback: "1152921504606846900"}
	e := newEnv(t, quickStages(), seed)
	cfg := e.retailConfig()
	if _, err := e.run(t.Context(), cfg); err == nil || !strings.Contains(err.Error(), "still rolling out (50%)") {
		t.Fatalf("previous-rollout: fail: %v, want the rollout in progress named", err)
	}
	if c := e.changes(); len(c) != 0 {
		t.Fatalf("changes made: %v", c)
	}
	cfg.PreviousRollout = config.PreviousFinalize
	s, err := e.run(t.Context(), cfg)
	if err != nil {
		t.Fatalf("previous-rollout: finalize: %v", err)
	}
	if s.PreviousRollout != "finalized" || !s.Created {
		t.Errorf("previous rollout %q, created %v", s.PreviousRollout, s.Created)
	}
	if r := e.sub("", publishedID).Rollout; r.Status != "PackageRolloutComplete" {
		t.Errorf("previous rollout %+v, want it finalized", r)
	}
}
