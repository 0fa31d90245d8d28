package storefake

// The demo world: the app and flight that storeflight --simulate plays its
// demo on and rehearses a user's inputs against, and that the storefake
// command serves. It is defined here only.
const (
	DemoAppID      = "9NBLGGH4R315"
	DemoAppName    = "Contoso Notes"
	DemoFlightID   = "7bfc11d0-5b6e-4f3a-9d1c-2a9e3c4b5d6e"
	DemoFlightName = "Beta testers"
	// DemoPublishedID is the flight's last published submission.
	DemoPublishedID = "1152921504621243649"
	// DemoAppPublishedID is the app's own last published submission.
	DemoAppPublishedID = "1152921504621243500"
	// DemoPublishedPackage is the package of the flight's last published
	// submission, and the app's Desktop package (x64).
	DemoPublishedPackage = "ContosoNotes_1.0.0.0_x64.msix"
	// DemoXboxPackage is the app's Xbox package: an x64 bundle for
	// Windows.Xbox.
	DemoXboxPackage = "ContosoNotes_1.0.0.0_Xbox.msixbundle"
	demoFallbackID  = "1152921504621243600"
)

// DemoWorld says which variant of the demo world to seed. The zero value
// is the demo itself: the demo flight, whose last published submission
// has a finished rollout, and the app's own last published submission, a
// free app listed in en-us and de-de with a Desktop and an Xbox package.
type DemoWorld struct {
	// AppID, FlightID and FlightName replace the demo's when not empty,
	// so that a rehearsal finds the IDs its inputs name; PublishedID
	// replaces the ID of the rehearsed target's last published submission
	// (the app's own with ForApp, else the flight's).
	AppID, FlightID, FlightName, PublishedID string
	// ForApp makes the app's own submission the rehearsed target, which
	// PublishedID and Rolling then apply to.
	ForApp bool
	// Rolling seeds the target's last published submission with a rollout
	// still in progress at 5%, so that raise, halt and finalize have
	// something to act on.
	Rolling bool

	// Page is the product page of the app's own submissions; the zero
	// value is the simulator's default (see SeedProductPage).
	Page SeedProductPage
	// DesktopOnly leaves the Xbox package out of the app's submission.
	DesktopOnly bool
	// PartnerCenterDraft adds a pending app submission made in Partner
	// Center (no upload URL; the API can neither update, commit nor
	// delete it).
	PartnerCenterDraft bool
	// UnsupportedFeatures: see SeedApp.
	UnsupportedFeatures bool
	// RetailVersion is the version of the packages of the app's own
	// published submission; empty means the flight's, 1.0.0.0. The
	// analytics count a version's devices across the whole app, so a
	// health-gated flight whose old version is also the retail one never
	// sees the share of a whole day at its step (README, "Health-gated
	// rollout").
	RetailVersion string
}

// DemoSeed returns the demo world as a Seed.
func DemoSeed(w DemoWorld) Seed {
	appPub, flightPub := DemoAppPublishedID, DemoPublishedID
	if w.ForApp {
		appPub = or(w.PublishedID, appPub)
	} else {
		flightPub = or(w.PublishedID, flightPub)
	}
	if appPub == flightPub { // a rehearsal naming the other target's ID
		if w.ForApp {
			flightPub = DemoAppPublishedID
		} else {
			appPub = DemoPublishedID
		}
	}
	finished := &SeedRollout{Percentage: 100, Status: rolloutComplete, Fallback: "0"}
	rolling := &SeedRollout{Percentage: 5, Status: rolloutInProgress, Fallback: demoFallbackID}
	appRollout, flightRollout := finished, finished
	if w.Rolling && w.ForApp {
		appRollout = rolling
	} else if w.Rolling {
		flightRollout = rolling
	}

	desktop := SeedPackage{FileName: DemoPublishedPackage, Version: "1.0.0.0", FileStatus: "Uploaded", Architecture: "x64"}
	retail := desktop
	retail.Version = or(w.RetailVersion, desktop.Version)
	appPackages := []SeedPackage{retail}
	if !w.DesktopOnly {
		appPackages = append(appPackages, SeedPackage{FileName: DemoXboxPackage, Version: retail.Version, FileStatus: "Uploaded",
			Architecture: "x64", DeviceFamilies: []string{"Windows.Xbox"}})
	}
	page := w.Page
	app := SeedApp{
		ID: or(w.AppID, DemoAppID), Name: DemoAppName, Page: &page, UnsupportedFeatures: w.UnsupportedFeatures,
		Published: &SeedSubmission{ID: appPub, Status: stPublished, Packages: appPackages, Rollout: appRollout, TargetPublishMode: "Immediate"},
		Flights: []SeedFlight{{
			ID: or(w.FlightID, DemoFlightID), Name: or(w.FlightName, DemoFlightName), GroupIDs: []string{"1"},
			Published: &SeedSubmission{ID: flightPub, Status: stPublished, Packages: []SeedPackage{desktop},
				Rollout: flightRollout, TargetPublishMode: "Immediate"},
		}},
	}
	if w.PartnerCenterDraft {
		app.Pending = &SeedSubmission{NoUploadURL: true, Packages: appPackages}
	}
	return Seed{Apps: []SeedApp{app}}
}

func or(v, def string) string {
	if v != "" {
		return v
	}
	return def
}
