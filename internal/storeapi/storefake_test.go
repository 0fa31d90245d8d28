package storeapi

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/storeflight/storeflight/internal/clock"
	"github.com/storeflight/storeflight/internal/msix"
	"github.com/storeflight/storeflight/internal/storefake"
)

// The client against the simulator, which has its own wire types written
// from the same documentation: a create, update, commit and status sequence.
func TestAgainstStorefake(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	srv, err := storefake.New(&storefake.Options{Clock: clk, Stages: storefake.DefaultStages()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	const app, flight = "9NBLGGH4R315", "5b1a3c3b-2e55-4a1b-94c3-0f8bc8a041b4"
	if err := srv.Seed(storefake.Seed{Apps: []storefake.SeedApp{{
		ID: app, Name: "App",
		Flights: []storefake.SeedFlight{{ID: flight, Name: "Insiders", Published: &storefake.SeedSubmission{
			Packages: []storefake.SeedPackage{{FileName: "old.msix", Version: "1.0.0.0"}},
		}}},
	}}}); err != nil {
		t.Fatal(err)
	}
	c, err := New(srv.Credential(), &Options{BaseURL: srv.URL(), HTTPClient: srv.HTTPClient(), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()

	flights, err := c.ListFlights(ctx, app)
	if err != nil || len(flights) != 1 || flights[0].FlightID != flight {
		t.Fatalf("ListFlights = %+v, %v", flights, err)
	}
	fl, err := c.GetFlight(ctx, app, flight)
	if err != nil || fl.LastPublishedFlightSubmission == nil || fl.PendingFlightSubmission != nil {
		t.Fatalf("GetFlight = %+v, %v", fl, err)
	}

	sub, err := c.CreateFlightSubmission(ctx, app, flight)
	if err != nil {
		t.Fatal(err)
	}
	if sub.Status != StatusPendingCommit || sub.FileUploadURL == "" || len(sub.FlightPackages) != 1 || sub.FlightPackages[0].ID == "" {
		t.Fatalf("created %+v", sub)
	}
	oldID := sub.FlightPackages[0].ID
	if _, err := c.CreateFlightSubmission(ctx, app, flight); !errors.Is(err, ErrConflict) {
		t.Errorf("second create: %v, want ErrConflict (one pending submission per flight)", err)
	}

	sub.FlightPackages[0].FileStatus = FileStatusPendingDelete
	sub.FlightPackages = append(sub.FlightPackages, Package{FileName: "new.msix", FileStatus: FileStatusPendingUpload, MinimumDirectXVersion: "None", MinimumSystemRAM: "None"})
	sub.PackageDeliveryOptions.PackageRollout.IsPackageRollout = true
	sub.PackageDeliveryOptions.PackageRollout.PackageRolloutPercentage = 12.5
	sub.NotesForCertification = "from storeapi tests"
	upd, err := c.UpdateFlightSubmission(ctx, app, flight, sub)
	if err != nil {
		t.Fatal(err)
	}
	if len(upd.FlightPackages) != 2 || upd.FlightPackages[0].ID != oldID || upd.FlightPackages[0].FileStatus != FileStatusPendingDelete ||
		upd.NotesForCertification != "from storeapi tests" || upd.PackageDeliveryOptions.PackageRollout.PackageRolloutPercentage != 12.5 {
		t.Errorf("updated %+v", upd)
	}

	got, err := c.GetFlightSubmission(ctx, app, flight, sub.ID)
	if err != nil || got.ID != sub.ID || len(got.FlightPackages) != 2 {
		t.Fatalf("GetFlightSubmission = %+v, %v", got, err)
	}

	key := SubmissionKey{ApplicationID: app, FlightID: flight, SubmissionID: sub.ID}
	st, err := c.CommitSubmission(ctx, key)
	if err != nil || st.Status != StatusCommitStarted {
		t.Fatalf("CommitSubmission = %+v, %v", st, err)
	}
	st, err = c.SubmissionStatus(ctx, key)
	if err != nil || st.Status != StatusCommitStarted {
		t.Fatalf("SubmissionStatus = %+v, %v", st, err)
	}
	if _, err := c.UpdatePackageRolloutPercentage(ctx, key, 50); !errors.Is(err, ErrConflict) {
		t.Errorf("rollout change before publication: %v, want ErrConflict", err)
	}
	if _, err := c.GetFlightSubmission(ctx, app, flight, "1152921504621249999"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown submission: %v, want ErrNotFound", err)
	}
}

// retailSimulator seeds the simulator with an app listed in three
// languages at a paid price, with images, trailers, a Desktop package and
// an Xbox bundle, its rollout finished.
func retailSimulator(t testing.TB, edit func(*storefake.SeedApp)) (*storefake.Server, *Client, *clock.Fake) {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	srv, err := storefake.New(&storefake.Options{Clock: clk, Stages: storefake.DefaultStages()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	a := storefake.SeedApp{
		ID: retailApp, Name: "Contoso Notes",
		Page: &storefake.SeedProductPage{Languages: []string{"en-us", "de-de", "ja-jp"}, PriceID: "Tier5", Images: 2, Trailers: 1},
		Published: &storefake.SeedSubmission{ID: "1152921504621240000", Packages: []storefake.SeedPackage{
			{FileName: "Notes_1.0.0.0_x64.msix", Version: "1.0.0.0"},
			{FileName: "Notes_1.0.0.0_Xbox.msixbundle", Version: "1.0.0.0", Architecture: "x64", DeviceFamilies: []string{"Windows.Xbox"}},
		}, Rollout: &storefake.SeedRollout{Percentage: 100, Status: string(RolloutComplete)}},
	}
	if edit != nil {
		edit(&a)
	}
	if err := srv.Seed(storefake.Seed{Apps: []storefake.SeedApp{a}}); err != nil {
		t.Fatal(err)
	}
	c, err := New(srv.Credential(), &Options{BaseURL: srv.URL(), HTTPClient: srv.HTTPClient(), Clock: clk, RequestBudget: -1})
	if err != nil {
		t.Fatal(err)
	}
	return srv, c, clk
}

const retailApp = "9NBLGGH4R316"

// uploadTo puts a ZIP of files at a fileUploadUrl as one block blob.
func uploadTo(t *testing.T, hc *http.Client, sasURL string, files map[string][]byte) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, data := range files {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := storefake.PutBlob(t.Context(), hc, sasURL, &buf); err != nil {
		t.Fatalf("upload: %v", err)
	}
}

// A retail release against the simulator, which has its own wire types:
// the submission goes back exactly as read but for the named fields, and
// the release reaches the published submission.
func TestRetailReleaseAgainstStorefake(t *testing.T) {
	t.Parallel()
	srv, c, clk := retailSimulator(t, nil)
	ctx := t.Context()
	app, err := c.GetApplication(ctx, retailApp)
	if err != nil || refIDOf(app.LastPublishedApplicationSubmission) != "1152921504621240000" || app.PendingApplicationSubmission != nil {
		t.Fatalf("GetApplication = %+v, %v", app, err)
	}
	sub, err := c.CreateAppSubmission(ctx, retailApp)
	if err != nil {
		t.Fatal(err)
	}
	if sub.Status != StatusPendingCommit || sub.FileUploadURL == "" || sub.Pricing.PriceID != "Tier5" || len(sub.ApplicationPackages) != 2 {
		t.Fatalf("created %+v", sub)
	}
	if diff := cmp.Diff([]string{"de-de", "en-us", "ja-jp"}, sub.ListingLanguages()); diff != "" {
		t.Errorf("languages (-want +got):\n%s", diff)
	}

	// Sent back unchanged, the Store's answer is byte for byte what it sent.
	same, err := c.UpdateAppSubmission(ctx, retailApp, sub)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(same.JSON(), sub.JSON()) {
		t.Errorf("a PUT of the submission as read changed it:\nbefore %s\nafter  %s", sub.JSON(), same.JSON())
	}

	// Supersede the Desktop package, keep the Xbox one, notes in two
	// languages, a 10% rollout.
	var fates []PackageFate
	for _, p := range sub.ApplicationPackages {
		fate := KeepPackage
		if slices.Contains(p.DeviceFamilies(), "Windows.Desktop") {
			fate = DeletePackage
		}
		fates = append(fates, fate)
	}
	next, err := sub.WithChange(AppSubmissionChange{
		ReleaseNotes:   map[string]string{"en-us": "Faster sync.", "DE-DE": "Schneller."},
		PackageFates:   fates,
		NewPackages:    []string{"Notes_2.0.0.0_x64.msix"},
		PackageRollout: &PackageRolloutSetting{IsPackageRollout: true, Percentage: 10},
	})
	if err != nil {
		t.Fatal(err)
	}
	upd, err := c.UpdateAppSubmission(ctx, retailApp, next)
	if err != nil {
		t.Fatal(err)
	}
	before, after := tree(t, sub.JSON()), tree(t, upd.JSON())
	setIn(before, "Faster sync.", "listings", "en-us", "baseListing", "releaseNotes")
	setIn(before, "Schneller.", "listings", "de-de", "baseListing", "releaseNotes")
	setIn(before, true, "packageDeliveryOptions", "packageRollout", "isPackageRollout")
	setIn(before, json.Number("10"), "packageDeliveryOptions", "packageRollout", "packageRolloutPercentage")
	pkgs := before["applicationPackages"].([]any)
	pkgs[0].(map[string]any)["fileStatus"] = "PendingDelete"
	newEntry := after["applicationPackages"].([]any)[2]
	before["applicationPackages"] = append(pkgs, newEntry)
	if e := newEntry.(map[string]any); e["fileName"] != "Notes_2.0.0.0_x64.msix" || e["fileStatus"] != "PendingUpload" {
		t.Errorf("new entry %v", e)
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("the update changed more than the named fields (-want +got):\n%s", diff)
	}

	var pkg bytes.Buffer
	if err := msix.WriteDemo(&pkg, msix.Identity{Name: "Contoso.Notes", Version: "2.0.0.0", Architectures: []string{"x64"}}); err != nil {
		t.Fatal(err)
	}
	uploadTo(t, srv.HTTPClient(), upd.FileUploadURL, map[string][]byte{"Notes_2.0.0.0_x64.msix": pkg.Bytes()})
	key := SubmissionKey{ApplicationID: retailApp, SubmissionID: upd.ID}
	if st, err := c.CommitSubmission(ctx, key); err != nil || st.Status != StatusCommitStarted {
		t.Fatalf("CommitSubmission = %+v, %v", st, err)
	}
	clk.Advance(time.Hour)
	st, err := c.SubmissionStatus(ctx, key)
	if err != nil || st.Status != StatusPublished {
		t.Fatalf("SubmissionStatus = %+v, %v", st, err)
	}
	pub, err := c.GetAppSubmission(ctx, retailApp, upd.ID)
	if err != nil {
		t.Fatal(err)
	}
	type entry struct{ File, Version, Arch, Family string }
	var got []entry
	for _, p := range pub.ApplicationPackages {
		got = append(got, entry{p.FileName, p.Version, strings.Join(p.Architectures(), "+"), strings.Join(p.DeviceFamilies(), "+")})
	}
	want := []entry{{"Notes_1.0.0.0_Xbox.msixbundle", "1.0.0.0", "X64", "Windows.Xbox"}, {"Notes_2.0.0.0_x64.msix", "2.0.0.0", "X64", "Windows.Desktop"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("published packages (-want +got):\n%s", diff)
	}
	if pub.Listings["de-de"].BaseListing.ReleaseNotes != "Schneller." || pub.Pricing.PriceID != "Tier5" {
		t.Errorf("published listing or price: %+v %+v", pub.Listings["de-de"], pub.Pricing)
	}
	r, err := c.GetPackageRollout(ctx, key)
	if err != nil || r.PackageRolloutStatus != RolloutInProgress || r.PackageRolloutPercentage != 10 || r.FallbackSubmissionID != "1152921504621240000" {
		t.Fatalf("GetPackageRollout = %+v, %v", r, err)
	}
	if r, err := c.UpdatePackageRolloutPercentage(ctx, key, 50); err != nil || r.PackageRolloutPercentage != 50 {
		t.Errorf("UpdatePackageRolloutPercentage = %+v, %v", r, err)
	}
	if r, err := c.FinalizePackageRollout(ctx, key); err != nil || r.PackageRolloutStatus != RolloutComplete {
		t.Errorf("FinalizePackageRollout = %+v, %v", r, err)
	}
}

func refIDOf(r *SubmissionRef) string {
	if r == nil {
		return ""
	}
	return r.ID
}

// The Store's refusals reach the caller as *Error with code, message and
// correlation ID, and match the sentinels.
func TestRetailRefusalsAgainstStorefake(t *testing.T) {
	t.Parallel()
	t.Run("Base price", func(t *testing.T) {
		t.Parallel()
		_, c, _ := retailSimulator(t, func(a *storefake.SeedApp) { a.Page.PriceID = "Base" })
		sub, err := c.CreateAppSubmission(t.Context(), retailApp)
		if err != nil {
			t.Fatal(err)
		}
		if sub.Pricing.PriceID != "Base" {
			t.Fatalf("priceId %q", sub.Pricing.PriceID)
		}
		_, err = c.UpdateAppSubmission(t.Context(), retailApp, sub)
		var e *Error
		if !errors.As(err, &e) || e.StatusCode != 400 || e.Code != "InvalidParameterValue" || !strings.Contains(e.Message, "'Base' is not a valid PriceId") || e.CorrelationID == "" {
			t.Errorf("error %v", err)
		}
	})
	t.Run("Partner Center draft", func(t *testing.T) {
		t.Parallel()
		srv, c, _ := retailSimulator(t, nil)
		id, err := srv.CreateInPartnerCenter(retailApp, "")
		if err != nil {
			t.Fatal(err)
		}
		sub, err := c.GetAppSubmission(t.Context(), retailApp, id)
		if err != nil || sub.FileUploadURL != "" {
			t.Fatalf("draft %+v, %v", sub, err)
		}
		for name, err := range map[string]error{
			"update": func() error { _, err := c.UpdateAppSubmission(t.Context(), retailApp, sub); return err }(),
			"commit": func() error {
				_, err := c.CommitSubmission(t.Context(), SubmissionKey{ApplicationID: retailApp, SubmissionID: id})
				return err
			}(),
			"delete": c.DeleteAppSubmission(t.Context(), retailApp, id),
		} {
			if !errors.Is(err, ErrPartnerCenterSubmission) || !strings.Contains(err.Error(), "hint: ") {
				t.Errorf("%s: %v, want ErrPartnerCenterSubmission with a hint", name, err)
			}
		}
	})
	t.Run("unsupported features", func(t *testing.T) {
		t.Parallel()
		_, c, _ := retailSimulator(t, func(a *storefake.SeedApp) { a.UnsupportedFeatures = true })
		if _, err := c.GetAppSubmission(t.Context(), retailApp, "1152921504621240000"); err != nil {
			t.Errorf("a read failed: %v", err)
		}
		_, err := c.CreateAppSubmission(t.Context(), retailApp)
		if !errors.Is(err, ErrUnsupportedFeature) || !errors.Is(err, ErrConflict) || errors.Is(err, ErrOutcomeUnknown) {
			t.Errorf("create: %v, want ErrUnsupportedFeature", err)
		}
	})
}

// simulatorSubmissions returns app submissions as the simulator serves
// them (published, a fresh clone, one with a Base price and an advanced
// pricing model), for the fuzz corpus.
func simulatorSubmissions(t testing.TB) [][]byte {
	t.Helper()
	var out [][]byte
	for _, page := range []*storefake.SeedProductPage{nil, {Languages: []string{"en-us", "zh-hans-cn"}, PriceID: "Base", AdvancedPricing: true, Images: -1, Trailers: -1}} {
		srv, c, _ := retailSimulator(t, func(a *storefake.SeedApp) {
			if page != nil {
				a.Page = page
			}
		})
		sub, err := c.CreateAppSubmission(t.Context(), retailApp)
		if err != nil {
			t.Fatal(err)
		}
		pub, _ := srv.SubmissionJSON(retailApp, "", "1152921504621240000")
		out = append(out, pub, sub.JSON())
	}
	return out
}
