package storeapi

import (
	"errors"
	"testing"
	"time"

	"github.com/storeflight/storeflight/internal/clock"
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
