package storefake

// The demo world: the app and flight that storeflight --simulate plays its
// demo on and rehearses a user's inputs against, and that the storefake
// command serves.
const (
	DemoAppID       = "9NBLGGH4R315"
	DemoAppName     = "Contoso Notes"
	DemoFlightID    = "7bfc11d0-5b6e-4f3a-9d1c-2a9e3c4b5d6e"
	DemoFlightName  = "Beta testers"
	DemoPublishedID = "1152921504621243649"
	// DemoPublishedPackage is the package of the last published submission.
	DemoPublishedPackage = "ContosoNotes_1.0.0.0_x64.msix"
	// demoAppPublishedID is the app's own last published submission when
	// that one is the rollout rehearsed (DemoWorld.AppRolling).
	demoAppPublishedID = "1152921504621243650"
	demoFallbackID     = "1152921504621243600"
)

// DemoWorld says which variant of the demo world to seed. The zero value
// is the demo itself: the demo app and flight, whose last published
// submission has a finished rollout.
type DemoWorld struct {
	// AppID, FlightID, FlightName and PublishedID replace the demo's when
	// not empty, so that a rehearsal finds the IDs its inputs name.
	AppID, FlightID, FlightName, PublishedID string
	// Rolling seeds the last published submission with a rollout still in
	// progress at 5%, so that raise, halt and finalize have something to
	// act on.
	Rolling bool
	// AppRolling makes the app's own last published submission the one
	// rolling out (with PublishedID), and the flight's another one.
	AppRolling bool
}

// DemoSeed returns the demo world as a Seed.
func DemoSeed(w DemoWorld) Seed {
	appID := or(w.AppID, DemoAppID)
	publishedID := or(w.PublishedID, DemoPublishedID)
	rollout := &SeedRollout{Percentage: 100, Status: rolloutComplete, Fallback: "0"}
	if w.Rolling || w.AppRolling {
		rollout = &SeedRollout{Percentage: 5, Status: rolloutInProgress, Fallback: demoFallbackID}
	}
	published := func(id string) *SeedSubmission {
		return &SeedSubmission{
			ID:                id,
			Status:            stPublished,
			Packages:          []SeedPackage{{FileName: DemoPublishedPackage, Version: "1.0.0.0", FileStatus: "Uploaded"}},
			Rollout:           rollout,
			TargetPublishMode: "Immediate",
		}
	}
	app := SeedApp{ID: appID, Name: DemoAppName, Flights: []SeedFlight{{
		ID: or(w.FlightID, DemoFlightID), Name: or(w.FlightName, DemoFlightName), GroupIDs: []string{"1"},
		Published: published(publishedID),
	}}}
	if w.AppRolling {
		app.Published = published(publishedID)
		app.Flights[0].Published.ID = demoAppPublishedID
	}
	return Seed{Apps: []SeedApp{app}}
}

func or(v, def string) string {
	if v != "" {
		return v
	}
	return def
}
