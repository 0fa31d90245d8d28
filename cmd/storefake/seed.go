package main

import (
	"flag"
	"fmt"
	"regexp"
	"strings"

	"github.com/storeflight/storeflight/internal/storefake"
)

// The seeded world is the --simulate demo's (storefake.DemoSeed).
const (
	seedAppID          = storefake.DemoAppID
	seedFlightID       = storefake.DemoFlightID
	seedFlightName     = storefake.DemoFlightName
	seedAppPublishedID = storefake.DemoAppPublishedID
)

// seedFlags are the flags that shape the seeded app: its flight, its own
// (retail) submission's product page and packages, and scripted faults.
type seedFlags struct {
	rolling     bool
	target      string
	languages   string
	price       string
	images      int
	trailers    int
	xbox        bool
	pcDraft     bool
	unsupported bool
	dropNext    bool
}

func (s *seedFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&s.rolling, "rolling", false, "seed the flight's published submission with a rollout in progress at 5%")
	fs.StringVar(&s.target, "target", "flight", "which `target` the printed environment names: flight (the seeded flight) or app (the app's own submission)")
	fs.StringVar(&s.languages, "app-languages", "en-us,de-de", "the app's listing `languages`, comma-separated, lower case")
	fs.StringVar(&s.price, "app-price", "Free", "the app's pricing.priceId: Free, NotAvailable, a paid `tier` such as Tier5, or Base (which the Store refuses back)")
	fs.IntVar(&s.images, "app-images", 2, "screenshots per listing (0 for none)")
	fs.IntVar(&s.trailers, "app-trailers", 1, "trailers of the app (0 to 15)")
	fs.BoolVar(&s.xbox, "app-xbox", true, "an Xbox package (an x64 bundle for Windows.Xbox) beside the Desktop one; -app-xbox=false for the Desktop package only")
	fs.BoolVar(&s.pcDraft, "app-partner-center-draft", false, "seed a pending app submission made in Partner Center (no upload URL; the API can neither update, commit nor delete it)")
	fs.BoolVar(&s.unsupported, "app-unsupported-features", false, "the app uses features the submission API does not support: every change answers 409 InvalidState")
	fs.BoolVar(&s.dropNext, "drop-next-upload", false, "pre-processing of the next committed submission drops the packages it uploaded, and the submission goes on")
}

var lowerLanguage = regexp.MustCompile(`^[a-z]{2,3}(-[a-z0-9]{2,8})*$`)

// seed checks the flags and returns the seed they describe.
func (s *seedFlags) seed() (storefake.Seed, error) {
	if s.target != "flight" && s.target != "app" {
		return storefake.Seed{}, fmt.Errorf("-target %q: want flight or app", s.target)
	}
	var langs []string
	for _, l := range strings.Split(s.languages, ",") {
		l = strings.TrimSpace(l)
		if !lowerLanguage.MatchString(l) {
			return storefake.Seed{}, fmt.Errorf("-app-languages: %q is not a lower-case language tag such as en-us (the Store's listing keys are lower case)", l)
		}
		langs = append(langs, l)
	}
	if strings.TrimSpace(s.price) == "" {
		return storefake.Seed{}, fmt.Errorf("-app-price: empty; want Free, NotAvailable, TierN or Base")
	}
	if s.images < 0 {
		return storefake.Seed{}, fmt.Errorf("-app-images %d: want 0 or more", s.images)
	}
	if s.trailers < 0 || s.trailers > 15 {
		return storefake.Seed{}, fmt.Errorf("-app-trailers %d: want 0 to 15 (the Store's limit)", s.trailers)
	}
	return storefake.DemoSeed(storefake.DemoWorld{
		Rolling:             s.rolling,
		Page:                storefake.SeedProductPage{Languages: langs, PriceID: s.price, Images: noneAsMinus(s.images), Trailers: noneAsMinus(s.trailers)},
		DesktopOnly:         !s.xbox,
		PartnerCenterDraft:  s.pcDraft,
		UnsupportedFeatures: s.unsupported,
	}), nil
}

// noneAsMinus maps a count of 0 to the seed's -1 ("none"; 0 there means
// the default).
func noneAsMinus(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

// targetEnv is the environment line naming what a run acts on.
func (s *seedFlags) targetEnv() string {
	if s.target == "app" {
		return "STOREFLIGHT_TARGET=app"
	}
	return "STOREFLIGHT_FLIGHT_NAME='" + seedFlightName + "'"
}
