package storefake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"unicode/utf16"
)

// An app's own submission is the whole product page: listings with images,
// pricing, trailers, gamingOptions and properties, besides the packages and
// delivery options it shares with flight submissions. The simulator keeps
// the product page as the JSON members a PUT sent (sub.extra), checks them
// as the Store does (reference/APP-SUBMISSIONS.md §1 and §3), and applies
// the Store's full-replace rule: what a PUT leaves out falls back to a
// default, except images and packages, which stay.

// SeedProductPage describes an app's product page, which every app
// submission carries. The zero value is a free app listed in en-us and
// de-de, two screenshots a listing, one trailer.
type SeedProductPage struct {
	// Languages are the listing keys, lower case; default en-us, de-de.
	Languages []string
	// PriceID is pricing.priceId: "Free" (default), "NotAvailable",
	// "TierN", or "Base" (which the Store returns and refuses back).
	PriceID string
	// Images is the number of screenshots per listing; default 2, -1 for
	// none.
	Images int
	// Trailers is the number of trailers; default 1, -1 for none.
	Trailers int
	// AdvancedPricing seeds isAdvancedPricingModel true, which any PUT
	// turns false, as on the Store.
	AdvancedPricing bool
}

// Members of an app submission that are modelled as the submission's own
// state rather than kept as product page JSON.
var modelledAppFields = map[string]bool{
	"id": true, "status": true, "statusDetails": true, "fileUploadUrl": true, "applicationPackages": true,
	"packageDeliveryOptions": true, "targetPublishMode": true, "targetPublishDate": true, "notesForCertification": true,
	"friendlyName": true,
}

// productPageDefaults are what the product page's fields fall back to when
// a PUT leaves them out (listings and pricing are refused instead).
var productPageDefaults = map[string]json.RawMessage{
	"applicationCategory":         json.RawMessage(`"NotSet"`),
	"visibility":                  json.RawMessage(`"NotSet"`),
	"hardwarePreferences":         json.RawMessage(`[]`),
	"automaticBackupEnabled":      json.RawMessage(`false`),
	"canInstallOnRemovableMedia":  json.RawMessage(`false`),
	"isGameDvrEnabled":            json.RawMessage(`false`),
	"gamingOptions":               json.RawMessage(defaultGamingOptions),
	"hasExternalInAppProducts":    json.RawMessage(`false`),
	"meetAccessibilityGuidelines": json.RawMessage(`false`),
	"enterpriseLicensing":         json.RawMessage(`"None"`),
	"allowMicrosoftDecideAppAvailabilityToFutureDeviceFamilies": json.RawMessage(`false`),
	"allowTargetFutureDeviceFamilies":                           json.RawMessage(`{"Desktop":false,"Mobile":false,"Holographic":false,"Xbox":false,"Team":false}`),
	"trailers":                                                  json.RawMessage(`[]`),
	"isSeekEnabled":                                             json.RawMessage(`false`),
}

const defaultGamingOptions = `[{"genres":[],"isLocalMultiplayer":false,"isLocalCooperative":false,"isOnlineMultiplayer":false,` +
	`"isOnlineCooperative":false,"localMultiplayerMinPlayers":0,"localMultiplayerMaxPlayers":0,"localCooperativeMinPlayers":0,` +
	`"localCooperativeMaxPlayers":0,"isBroadcastingPrivilegeGranted":false,"isCrossPlayEnabled":false,"kinectDataForExternal":"Disabled"}]`

// unmodelledField is a field the simulated Store has and storeflight does
// not know, so that a client dropping what it does not know shows.
const unmodelledField = "simulatorOnlySetting"

func raw(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only called with plain data
	}
	return b
}

// seedProductPage builds the product page members of an app's seeded
// submissions.
func (s *Server) seedProductPage(appName string, page *SeedProductPage) map[string]json.RawMessage {
	var p SeedProductPage
	if page != nil {
		p = *page
	}
	if len(p.Languages) == 0 {
		p.Languages = []string{"en-us", "de-de"}
	}
	if p.PriceID == "" {
		p.PriceID = "Free"
	}
	if p.Images == 0 {
		p.Images = 2
	}
	if p.Trailers == 0 {
		p.Trailers = 1
	}
	m := map[string]json.RawMessage{}
	for k, v := range productPageDefaults {
		m[k] = v
	}
	listings := map[string]any{}
	for _, lang := range p.Languages {
		var images []any
		for i := 1; i <= p.Images; i++ {
			images = append(images, map[string]any{
				"fileName": fmt.Sprintf("images/%s/screenshot%d.png", lang, i), "fileStatus": "Uploaded", "id": s.newAssetID(),
				"description": fmt.Sprintf("Screenshot %d (%s)", i, lang), "imageType": "Screenshot",
			})
		}
		if images == nil {
			images = []any{}
		}
		listings[lang] = map[string]any{
			"baseListing": map[string]any{
				"copyrightAndTrademarkInfo": "© Contoso", "keywords": []string{"notes"}, "licenseTerms": "", "privacyPolicy": "",
				"supportContact": "", "websiteUrl": "", "description": appName + " (" + lang + "): take notes anywhere.",
				"features": []string{"Sync", "Ink"}, "releaseNotes": "Earlier notes (" + lang + ")", "images": images,
				"recommendedHardware": []string{}, "minimumHardware": []string{}, "title": appName,
				"shortDescription": "", "shortTitle": "", "sortTitle": appName + ", sort", "voiceTitle": "", "devStudio": "Contoso",
			},
			"platformOverrides": map[string]any{},
		}
	}
	m["listings"] = raw(listings)
	m["pricing"] = raw(map[string]any{
		"trialPeriod": "NoFreeTrial", "marketSpecificPricings": map[string]string{"DE": p.PriceID},
		"sales": []any{}, "priceId": p.PriceID, "isAdvancedPricingModel": p.AdvancedPricing,
	})
	var trailers []any
	for i := 1; i <= p.Trailers; i++ {
		assets := map[string]any{}
		for _, lang := range p.Languages {
			assets[lang] = map[string]any{"title": fmt.Sprintf("Trailer %d", i), "imageList": []any{map[string]any{
				"fileName": fmt.Sprintf("trailers/%d-%s.png", i, lang), "id": s.newAssetID(), "description": "Thumbnail",
			}}}
		}
		trailers = append(trailers, map[string]any{"id": s.newAssetID(), "videoFileName": fmt.Sprintf("trailers/%d.mp4", i),
			"videoFileId": s.newAssetID(), "trailerAssets": assets})
	}
	if trailers == nil {
		trailers = []any{}
	}
	m["trailers"] = raw(trailers)
	m["applicationCategory"] = json.RawMessage(`"Productivity"`)
	m["visibility"] = json.RawMessage(`"Public"`)
	m["hardwarePreferences"] = json.RawMessage(`["Keyboard","Mouse"]`)
	m["meetAccessibilityGuidelines"] = json.RawMessage(`true`)
	m["allowTargetFutureDeviceFamilies"] = json.RawMessage(`{"Desktop":true,"Mobile":false,"Holographic":false,"Xbox":true,"Team":false}`)
	m["isSeekEnabled"] = json.RawMessage(`true`)
	// Large numbers and a float written with a trailing zero: a client
	// that decodes them through float64 changes them.
	m[unmodelledField] = json.RawMessage(`{"count":12345678901234567890,"ratio":1.50,"flags":[true,null]}`)
	return m
}

var languageKey = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)

// updateProductPage checks the product page of an app submission PUT and
// returns the members to keep: as sent, with images left out of a listing
// kept, server-owned and read-only fields as the Store sets them, and the
// defaults for fields the PUT left out.
func (s *Server) updateProductPage(sub *submission, body map[string]json.RawMessage) (map[string]json.RawMessage, *apiError) {
	out := map[string]json.RawMessage{}
	for k, v := range body {
		if !modelledAppFields[k] {
			out[k] = slices.Clone(v)
		}
	}
	listings, e := s.checkListings(sub, body["listings"])
	if e != nil {
		return nil, e
	}
	out["listings"] = listings
	pricing, e := checkPricing(body["pricing"])
	if e != nil {
		return nil, e
	}
	out["pricing"] = pricing
	if v, ok := body["gamingOptions"]; ok && string(v) != "null" {
		var opts []json.RawMessage
		if err := json.Unmarshal(v, &opts); err != nil {
			return nil, paramAt("gamingOptions", "gamingOptions must be an array.")
		}
	}
	if v, ok := body["trailers"]; ok {
		var trailers []json.RawMessage
		if err := json.Unmarshal(v, &trailers); err != nil {
			return nil, paramAt("trailers", "trailers must be an array.")
		}
		if len(trailers) > 15 {
			return nil, paramAt("trailers", "A submission can have at most 15 trailers; this one has %d.", len(trailers))
		}
	}
	for k, v := range productPageDefaults {
		if _, ok := out[k]; !ok {
			out[k] = v
		}
	}
	if fn, ok := sub.extra["friendlyName"]; ok {
		out["friendlyName"] = fn
	}
	return out, nil
}

func paramAt(target, format string, args ...any) *apiError {
	e := errParam(format, args...)
	e.Target = target
	return e
}

// checkPricing applies the Store's pricing rules: no pricing is refused,
// "Base" is refused, a missing priceId silently means Free, sales are
// ignored, and isAdvancedPricingModel turns false on any PUT.
func checkPricing(v json.RawMessage) (json.RawMessage, *apiError) {
	if len(v) == 0 || string(v) == "null" {
		return nil, paramAt("pricing", "Pricing data was not provided in the request.")
	}
	var p map[string]json.RawMessage
	if err := json.Unmarshal(v, &p); err != nil {
		return nil, paramAt("pricing", "pricing must be an object.")
	}
	var id string
	if pv, ok := p["priceId"]; ok && string(pv) != "null" {
		if err := json.Unmarshal(pv, &id); err != nil {
			return nil, paramAt("pricing", "priceId must be a string.")
		}
	}
	switch {
	case id == "Base":
		return nil, paramAt("pricing", "'Base' is not a valid PriceId for base price.")
	case id == "":
		id = "Free"
	}
	p["priceId"] = raw(id)
	p["sales"] = json.RawMessage(`[]`)
	p["isAdvancedPricingModel"] = json.RawMessage(`false`)
	return raw(p), nil
}

// checkListings checks the listings of a PUT and merges their images with
// the submission's: an image the PUT leaves out stays.
func (s *Server) checkListings(sub *submission, sent json.RawMessage) (json.RawMessage, *apiError) {
	var listings map[string]json.RawMessage
	if len(sent) > 0 && string(sent) != "null" {
		if err := json.Unmarshal(sent, &listings); err != nil {
			return nil, paramAt("appListings", "listings must be an object keyed by language.")
		}
	}
	if len(listings) == 0 {
		return nil, paramAt("appListings", "The size of AppListings must be 1 or more.")
	}
	old := sub.listings()
	out := map[string]json.RawMessage{}
	langs := make([]string, 0, len(listings))
	for lang := range listings {
		langs = append(langs, lang)
	}
	slices.Sort(langs) // the first bad one named is always the same
	for _, lang := range langs {
		if lang != strings.ToLower(lang) || !languageKey.MatchString(lang) {
			return nil, paramAt("appListings", "Language codes: %s not supported", lang)
		}
		listing, e := s.checkListing(lang, listings[lang], old[lang])
		if e != nil {
			return nil, e
		}
		out[lang] = listing
	}
	return raw(out), nil
}

func (s *Server) checkListing(lang string, sent, old json.RawMessage) (json.RawMessage, *apiError) {
	var listing map[string]json.RawMessage
	if err := json.Unmarshal(sent, &listing); err != nil || listing == nil {
		return nil, paramAt("appListings", "The listing for %s must be an object.", lang)
	}
	var base map[string]json.RawMessage
	if err := json.Unmarshal(listing["baseListing"], &base); err != nil || base == nil {
		return nil, paramAt("appListings", "The listing for %s has no baseListing.", lang)
	}
	if notes, ok := base["releaseNotes"]; ok && string(notes) != "null" {
		var text string
		if err := json.Unmarshal(notes, &text); err != nil {
			return nil, paramAt("appListings", "releaseNotes of %s must be a string.", lang)
		}
		if n := len(utf16.Encode([]rune(text))); n > 1500 {
			return nil, paramAt("appListings", "The release notes of %s have %d characters; at most 1500 are allowed.", lang, n)
		}
	}
	images, e := s.mergeImages(lang, base["images"], old)
	if e != nil {
		return nil, e
	}
	base["images"] = images
	listing["baseListing"] = raw(base)
	return raw(listing), nil
}

// image is an entry of a listing's images.
type image map[string]json.RawMessage

func (im image) str(name string) string {
	var v string
	_ = json.Unmarshal(im[name], &v)
	return v
}

// mergeImages checks the images a PUT sent for one listing and adds back
// those of the submission it left out.
func (s *Server) mergeImages(lang string, sent, oldListing json.RawMessage) (json.RawMessage, *apiError) {
	var images []image
	if len(sent) > 0 && string(sent) != "null" {
		if err := json.Unmarshal(sent, &images); err != nil {
			return nil, paramAt("appListings", "images of %s must be an array of objects.", lang)
		}
	}
	oldImages := listingImages(oldListing)
	byID := map[string]image{}
	for _, im := range oldImages {
		byID[im.str("id")] = im
	}
	seen := map[string]bool{}
	out := []image{}
	for i, im := range images {
		where := fmt.Sprintf("listings.%s.baseListing.images[%d]", lang, i)
		if im.str("fileName") == "" {
			return nil, paramAt("appListings", "%s: fileName is required.", where)
		}
		status := im.str("fileStatus")
		if !slices.Contains(fileStatuses, status) {
			return nil, paramAt("appListings", "%s: fileStatus %q is not one of %v.", where, status, fileStatuses)
		}
		id := im.str("id")
		switch prev, known := byID[id]; {
		case id == "" && status != "PendingUpload":
			return nil, paramAt("appListings", "%s: an image without an id must be PendingUpload.", where)
		case id == "":
			im["id"] = raw(s.newAssetID())
		case !known:
			return nil, paramAt("appListings", "%s: image id %s is not an image of this listing.", where, id)
		case prev.str("fileStatus") == "PendingUpload" && status == "PendingDelete":
			return nil, paramAt("appListings", "Existing image %s is PendingUpload and cannot be made PendingDelete; remove it from the array instead.", prev.str("fileName"))
		}
		seen[id] = true
		out = append(out, im)
	}
	for _, im := range oldImages {
		// Left out: it stays, unless it was only waiting for an upload.
		if !seen[im.str("id")] && im.str("fileStatus") != "PendingUpload" {
			out = append(out, im)
		}
	}
	return raw(out), nil
}

// listingImages returns the images of a listing's JSON.
func listingImages(listing json.RawMessage) []image {
	var l struct {
		BaseListing struct {
			Images []image `json:"images"`
		} `json:"baseListing"`
	}
	_ = json.Unmarshal(listing, &l)
	return l.BaseListing.Images
}

// listings returns an app submission's listings by language.
func (sub *submission) listings() map[string]json.RawMessage {
	var m map[string]json.RawMessage
	_ = json.Unmarshal(sub.extra["listings"], &m)
	return m
}

// pendingImages returns the file names of the images waiting for the
// upload.
func (sub *submission) pendingImages() []string {
	var names []string
	for _, l := range sub.listings() {
		for _, im := range listingImages(l) {
			if im.str("fileStatus") == "PendingUpload" {
				names = append(names, im.str("fileName"))
			}
		}
	}
	slices.Sort(names)
	return names
}

// settleImages marks uploaded images Uploaded and drops deleted ones, as a
// successful commit does.
func (sub *submission) settleImages() {
	ls := sub.listings()
	if ls == nil {
		return
	}
	for lang, l := range ls {
		var listing map[string]json.RawMessage
		var base map[string]json.RawMessage
		if json.Unmarshal(l, &listing) != nil || json.Unmarshal(listing["baseListing"], &base) != nil {
			continue
		}
		var kept []image
		for _, im := range listingImages(l) {
			switch im.str("fileStatus") {
			case "PendingDelete":
				continue
			case "PendingUpload":
				im["fileStatus"] = raw("Uploaded")
			}
			kept = append(kept, im)
		}
		if kept == nil {
			kept = []image{}
		}
		base["images"] = raw(kept)
		listing["baseListing"] = raw(base)
		ls[lang] = raw(listing)
	}
	sub.extra["listings"] = raw(ls)
}

// gamingOptionsError is the commit failure of a gamingOptions array that
// does not hold exactly one object (StoreBroker #135).
func (sub *submission) gamingOptionsError() (Detail, bool) {
	v, ok := sub.extra["gamingOptions"]
	if !ok || string(v) == "null" {
		return Detail{}, false
	}
	var opts []json.RawMessage
	if json.Unmarshal(v, &opts) == nil && len(opts) == 1 {
		return Detail{}, false
	}
	return Detail{Code: "InvalidParameterValue", Details: "Validation error: MultipleInstancesOfGamingOptions"}, true
}

// refuseChange answers a change (PUT, commit, DELETE) that the Store
// refuses whatever the submission's state: one made in Partner Center, or
// any on an app whose features the API does not support.
func (s *Server) refuseChange(sub *submission) *apiError {
	if s.apps[sub.appID].unsupported {
		return errUnsupportedApp()
	}
	if sub.portal {
		return errPartnerCenter()
	}
	return nil
}

// maxPackages is the most packages a submission holds that are not
// PendingDelete (StoreBroker #69, msstore-cli #62).
const maxPackages = 30

func checkPackageCount(pkgs []*pkg) *apiError {
	n := 0
	for _, p := range pkgs {
		if p.fileStatus != "PendingDelete" {
			n++
		}
	}
	if n > maxPackages {
		return errParam("A submission can hold at most %d packages that are not PendingDelete; this one would hold %d. Mark old packages PendingDelete.", maxPackages, n)
	}
	return nil
}

// withLeftOutPackages adds back the packages of an app submission that a
// PUT left out of applicationPackages: as with images, leaving one out does
// not delete it; only PendingDelete does. A PendingUpload entry left out is
// gone (that is how a file not yet uploaded is taken back).
func withLeftOutPackages(old, sent []*pkg) []*pkg {
	for _, o := range old {
		if o.fileStatus == "PendingUpload" || slices.ContainsFunc(sent, func(p *pkg) bool { return p.id == o.id }) {
			continue
		}
		sent = append(sent, o)
	}
	return sent
}

// minimalResponse is the sparse answer to a create with
// isMinimalResponse=true: the submission's id, status and upload URL, none
// of its packages or product page, so that a client must read it back.
func minimalResponse(full map[string]any) map[string]any {
	out := map[string]any{}
	for _, k := range []string{"id", "flightId", "status", "statusDetails", "fileUploadUrl"} {
		if v, ok := full[k]; ok {
			out[k] = v
		}
	}
	return out
}

// deletesPendingUpload reports whether a PendingDelete entry sent with id
// (or, without one, with name) is a PendingUpload entry of sub: by its id,
// or by a name only PendingUpload entries have.
func deletesPendingUpload(sub *submission, id, name string) bool {
	found := false
	for _, old := range sub.packages {
		switch {
		case id != "" && old.id == id:
			return old.fileStatus == "PendingUpload"
		case id == "" && old.fileName == name:
			if old.fileStatus != "PendingUpload" {
				return false
			}
			found = true
		}
	}
	return found
}

// errUnsupportedApp is the Store's answer to a change on an app that uses
// features the submission API does not support (STOREAPI.md §2, SB #192).
func errUnsupportedApp() *apiError {
	return &apiError{Status: http.StatusConflict, Code: "InvalidState",
		Message: "This application uses features that are not supported by the submission API, such as mandatory app updates or Store-managed consumable add-ons. Use Partner Center to make changes."}
}

// errPartnerCenter is the Store's answer to a change of a submission made
// in Partner Center.
func errPartnerCenter() *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: "InvalidOperation",
		Message: "Ingestion API can only update, delete, and commit submissions that are created through the API."}
}

// SubmissionJSON returns a submission of a flight, or of the app itself
// when flightID is "", as a GET would answer it.
func (s *Server) SubmissionJSON(appID, flightID, submissionID string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tick()
	sub := s.subs[submissionID]
	if sub == nil || sub.appID != appID || sub.flightID != flightID {
		return nil, false
	}
	b, err := json.Marshal(s.renderSubmission(sub))
	return b, err == nil
}

// CreateInPartnerCenter makes a pending submission of a flight, or of the
// app itself when flightID is "", as someone would in Partner Center: a
// clone of the last published one with no fileUploadUrl, which the API can
// read but neither update, commit nor delete. It returns its id.
func (s *Server) CreateInPartnerCenter(appID, flightID string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tick()
	// The same create as the API's, so that the clone is made alike.
	r, err := http.NewRequest(http.MethodPost, "/", nil)
	if err != nil {
		return "", err
	}
	r.SetPathValue("appId", appID)
	r.SetPathValue("flightId", flightID)
	_, body := s.createSubmission(r)
	if e, ok := body.(*apiError); ok {
		return "", fmt.Errorf("storefake: create in Partner Center: %w", e)
	}
	id, _ := body.(map[string]any)["id"].(string)
	sub := s.subs[id]
	delete(s.blobs, sub.blobName)
	sub.uploadURL, sub.blobName, sub.portal = "", "", true
	return sub.id, nil
}
