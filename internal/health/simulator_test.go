package health

import (
	"archive/zip"
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/storeflight/storeflight/internal/clock"
	"github.com/storeflight/storeflight/internal/msix"
	"github.com/storeflight/storeflight/internal/storeapi"
	"github.com/storeflight/storeflight/internal/storefake"
)

// The gate against the simulator, through the analytics client, run once
// a day at 06:00 and acting on each decision: a healthy build walks
// 5, 20, 50, 100% and finalizes; a build crashing three times as often as
// the old one is halted at 5%.
func TestGateAgainstSimulator(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		newRates  *storefake.FailureRates
		wantMoves []string
	}{
		{"healthy build", nil, []string{"advance to 20", "advance to 50", "advance to 100", "finalize"}},
		{"three times the crashes", &storefake.FailureRates{Crash: 3 * storefake.DefaultFailureRates.Crash, Hang: storefake.DefaultFailureRates.Hang}, []string{"halt at 5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := clock.NewFake(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
			sim, c, key := releaseOnSimulator(t, clk)
			if tt.newRates != nil {
				sim.SetFailureRates("2.0.0.0", *tt.newRates)
			}
			var moves []string
			for day := 1; day <= 30 && (len(moves) == 0 || !strings.HasPrefix(moves[len(moves)-1], "halt") && moves[len(moves)-1] != "finalize"); day++ {
				clk.Advance(time.Date(2026, 3, 1+day, 6, 0, 0, 0, time.UTC).Sub(clk.Now()))
				if move := runGate(t, c, key, clk.Now()); move != "" {
					moves = append(moves, move)
				}
			}
			if strings.Join(moves, ", ") != strings.Join(tt.wantMoves, ", ") {
				t.Errorf("moves %q, want %q", moves, tt.wantMoves)
			}
		})
	}
}

// steps are the rollout steps of TestGateAgainstSimulator.
var steps = []float64{5, 20, 50, 100}

// runGate reads the analytics, evaluates the gate and applies its
// decision; it returns the move made, "" for a hold.
func runGate(t *testing.T, c *storeapi.Client, key storeapi.SubmissionKey, now time.Time) string {
	t.Helper()
	ctx := t.Context()
	ro, err := c.GetPackageRollout(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	rr := ReadRange(now, 0)
	q := storeapi.AnalyticsQuery{ApplicationID: key.ApplicationID, From: rr.First, To: rr.Last, PackageVersions: []string{"2.0.0.0", "1.0.0.0"}}
	usage, err := c.UsageDaily(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	failures, err := c.FailureHits(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	r := Evaluate(Input{Now: now, Percentage: ro.PackageRolloutPercentage, NewVersions: []string{"2.0.0.0"}, OldVersions: []string{"1.0.0.0"}, Usage: usage, Failures: failures}, Thresholds{})
	t.Logf("%s at %g%%: %s (%s) %s", now.Format(time.DateOnly), ro.PackageRolloutPercentage, r.Decision, r.Rule, r.Figures())
	switch r.Decision {
	case Halt:
		if _, err := c.HaltPackageRollout(ctx, key); err != nil {
			t.Fatal(err)
		}
		return "halt at " + formatPct(ro.PackageRolloutPercentage)
	case Advance:
		next, ok := NextStep(steps, ro.PackageRolloutPercentage)
		if !ok {
			if _, err := c.FinalizePackageRollout(ctx, key); err != nil {
				t.Fatal(err)
			}
			return "finalize"
		}
		if _, err := c.UpdatePackageRolloutPercentage(ctx, key, next); err != nil {
			t.Fatal(err)
		}
		return "advance to " + formatPct(next)
	}
	return ""
}

func formatPct(p float64) string { return strconv.FormatFloat(p, 'g', -1, 64) }

// releaseOnSimulator publishes version 2.0.0.0 of a flight at 5% over
// 1.0.0.0, through the client, and returns the simulator, the client and
// the new submission.
func releaseOnSimulator(t *testing.T, clk *clock.Fake) (*storefake.Server, *storeapi.Client, storeapi.SubmissionKey) {
	t.Helper()
	const app, flight = "9NBLGGH4R315", "5b1a3c3b-2e55-4a1b-94c3-0f8bc8a041b4"
	sim, err := storefake.New(&storefake.Options{Clock: clk, BlobDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	if err := sim.Seed(storefake.Seed{Apps: []storefake.SeedApp{{ID: app, Name: "Contoso", Flights: []storefake.SeedFlight{{
		ID: flight, Name: "Insiders", Published: &storefake.SeedSubmission{Packages: []storefake.SeedPackage{{FileName: "old.msix", Version: "1.0.0.0"}}},
	}}}}}); err != nil {
		t.Fatal(err)
	}
	c, err := storeapi.New(sim.Credential(), &storeapi.Options{BaseURL: sim.URL(), HTTPClient: sim.HTTPClient(), Clock: clk, RequestBudget: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	sub, err := c.CreateFlightSubmission(ctx, app, flight)
	if err != nil {
		t.Fatal(err)
	}
	sub.FlightPackages[0].FileStatus = storeapi.FileStatusPendingDelete
	sub.FlightPackages = append(sub.FlightPackages, storeapi.Package{FileName: "new.msix", FileStatus: storeapi.FileStatusPendingUpload, MinimumDirectXVersion: "None", MinimumSystemRAM: "None"})
	sub.PackageDeliveryOptions.PackageRollout.IsPackageRollout = true
	sub.PackageDeliveryOptions.PackageRollout.PackageRolloutPercentage = steps[0]
	if sub, err = c.UpdateFlightSubmission(ctx, app, flight, sub); err != nil {
		t.Fatal(err)
	}
	uploadPackage(t, sim.HTTPClient(), sub.FileUploadURL, "new.msix", "2.0.0.0")
	key := storeapi.SubmissionKey{ApplicationID: app, FlightID: flight, SubmissionID: sub.ID}
	if _, err := c.CommitSubmission(ctx, key); err != nil {
		t.Fatal(err)
	}
	for range 10 {
		st, err := c.SubmissionStatus(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if st.Status == storeapi.StatusPublished {
			return sim, c, key
		}
	}
	t.Fatal("the submission was not published")
	return nil, nil, key
}

// uploadPackage puts a ZIP holding one demo package at a fileUploadUrl.
func uploadPackage(t *testing.T, hc *http.Client, sasURL, name, version string) {
	t.Helper()
	var pkg, archive bytes.Buffer
	if err := msix.WriteDemoPackage(&pkg, "Contoso.Notes", version); err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(&archive)
	w, err := zw.Create(name)
	if err == nil {
		_, err = w.Write(pkg.Bytes())
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := storefake.PutBlob(t.Context(), hc, sasURL, &archive); err != nil {
		t.Fatalf("upload: %v", err)
	}
}
