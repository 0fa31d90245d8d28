package storefake

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// apiError is the Store's error body.
type apiError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Target  string `json:"target,omitempty"`
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func errNotFound(format string, args ...any) *apiError {
	return &apiError{Status: http.StatusNotFound, Code: "ResourceNotFound", Message: fmt.Sprintf(format, args...)}
}

func errState(format string, args ...any) *apiError {
	return &apiError{Status: http.StatusConflict, Code: "InvalidState", Message: fmt.Sprintf(format, args...)}
}

func errParam(format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: "InvalidParameterValue", Message: fmt.Sprintf(format, args...)}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"code":"ServiceError","message":"storefake could not encode its answer"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// handlerFunc answers with a status and a body to encode; a *apiError body
// is written with its own status.
type handlerFunc func(r *http.Request) (int, any)

func (s *Server) wrap(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.tick()
		status, body := h(r)
		s.mu.Unlock()
		if e, ok := body.(*apiError); ok {
			writeJSON(w, e.Status, e)
			return
		}
		if status == http.StatusNoContent {
			w.WriteHeader(status)
			return
		}
		writeJSON(w, status, body)
	}
}

func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	const A = "/v1.0/my/applications/{appId}"
	const F = A + "/flights/{flightId}"
	const FS = F + "/submissions/{submissionId}"
	const AS = A + "/submissions/{submissionId}"
	h := func(pattern string, fn handlerFunc) { mux.HandleFunc(pattern, s.wrap(fn)) }

	h("GET /v1.0/my/applications", s.listApps)
	h("GET "+A, s.getApp)
	h("GET "+A+"/listflights", s.listFlights)
	h("GET "+A+"/listflights/{$}", s.listFlights)
	h("POST "+A+"/flights", s.createFlight)
	h("GET "+F, s.getFlight)
	h("DELETE "+F, s.deleteFlight)

	for _, p := range []string{F + "/submissions", A + "/submissions"} {
		h("POST "+p, s.createSubmission)
	}
	for _, p := range []string{FS, AS} {
		h("GET "+p, s.getSubmission)
		h("PUT "+p, s.updateSubmission)
		h("DELETE "+p, s.deleteSubmission)
		h("POST "+p+"/commit", s.commitSubmission)
		h("GET "+p+"/status", s.submissionStatus)
		h("GET "+p+"/packagerollout", s.getRollout)
		h("POST "+p+"/updatepackagerolloutpercentage", s.updateRollout)
		h("POST "+p+"/haltpackagerollout", s.haltRollout)
		h("POST "+p+"/finalizepackagerollout", s.finalizeRollout)
	}
	h("GET /v1.0/my/analytics/failurehits", s.failureHits)
	h("GET /v1.0/my/analytics/usagedaily", s.usageDaily)
	h("/", func(r *http.Request) (int, any) {
		return 0, errNotFound("No resource at %s %s.", r.Method, r.URL.Path)
	})
	return mux
}

func (s *Server) findApp(r *http.Request) (*app, *apiError) {
	id := r.PathValue("appId")
	a := s.apps[id]
	if a == nil {
		return nil, errNotFound("Application %s was not found.", id)
	}
	return a, nil
}

// findParent returns the app and, for flight paths, the flight.
func (s *Server) findParent(r *http.Request) (*app, *flight, *apiError) {
	a, e := s.findApp(r)
	if e != nil {
		return nil, nil, e
	}
	fid := r.PathValue("flightId")
	if fid == "" {
		return a, nil, nil
	}
	f := a.flights[fid]
	if f == nil {
		return nil, nil, errNotFound("Flight %s was not found in application %s.", fid, a.id)
	}
	return a, f, nil
}

// findSubmission resolves the submission of the path: 404 when it does not
// exist, 409 when it belongs to another app or flight.
func (s *Server) findSubmission(r *http.Request) (*submission, *apiError) {
	a, f, e := s.findParent(r)
	if e != nil {
		return nil, e
	}
	id := r.PathValue("submissionId")
	sub := s.subs[id]
	if sub == nil {
		return nil, errNotFound("Submission %s was not found.", id)
	}
	fid := ""
	if f != nil {
		fid = f.id
	}
	if sub.appID != a.id || sub.flightID != fid {
		if fid == "" {
			return nil, errState("Submission %s does not belong to application %s.", id, a.id)
		}
		return nil, errState("Submission %s does not belong to flight %s of application %s.", id, fid, a.id)
	}
	return sub, nil
}

type submissionRef struct {
	ID               string `json:"id"`
	ResourceLocation string `json:"resourceLocation"`
}

func (s *Server) renderApp(a *app) map[string]any {
	m := map[string]any{
		"id":                           a.id,
		"primaryName":                  a.name,
		"packageFamilyName":            a.name + "_8wekyb3d8bbwe",
		"hasAdvancedListingPermission": false,
		"firstPublishedDate":           "2020-01-01T00:00:00Z",
	}
	if a.publishedID != "" {
		m["lastPublishedApplicationSubmission"] = submissionRef{a.publishedID, "applications/" + a.id + "/submissions/" + a.publishedID}
	}
	if a.pendingID != "" {
		m["pendingApplicationSubmission"] = submissionRef{a.pendingID, "applications/" + a.id + "/submissions/" + a.pendingID}
	}
	return m
}

func (s *Server) listApps(r *http.Request) (int, any) {
	out := []map[string]any{}
	for _, id := range s.appOrder {
		out = append(out, s.renderApp(s.apps[id]))
	}
	return http.StatusOK, map[string]any{"value": out, "totalCount": len(out)}
}

func (s *Server) getApp(r *http.Request) (int, any) {
	a, e := s.findApp(r)
	if e != nil {
		return 0, e
	}
	return http.StatusOK, s.renderApp(a)
}

func renderFlight(f *flight) map[string]any {
	m := map[string]any{
		"flightId":       f.id,
		"friendlyName":   f.name,
		"groupIds":       append([]string{}, f.groupIDs...),
		"rankHigherThan": f.rankHigherThan,
	}
	if f.publishedID != "" {
		m["lastPublishedFlightSubmission"] = submissionRef{f.publishedID, "flights/" + f.id + "/submissions/" + f.publishedID}
	}
	if f.pendingID != "" {
		m["pendingFlightSubmission"] = submissionRef{f.pendingID, "flights/" + f.id + "/submissions/" + f.pendingID}
	}
	return m
}

func (s *Server) listFlights(r *http.Request) (int, any) {
	a, e := s.findApp(r)
	if e != nil {
		return 0, e
	}
	q := r.URL.Query()
	top, skip := 10, 0
	for name, dst := range map[string]*int{"top": &top, "skip": &skip} {
		if v := q.Get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || (name == "top" && n == 0) {
				return 0, errParam("The %s parameter %q is not valid.", name, v)
			}
			*dst = n
		}
	}
	if len(a.flightOrder) == 0 {
		return 0, errNotFound("No flights were found for application %s.", a.id)
	}
	total := len(a.flightOrder)
	value := []map[string]any{}
	for i := skip; i < total && i < skip+top; i++ {
		value = append(value, renderFlight(a.flights[a.flightOrder[i]]))
	}
	out := map[string]any{"value": value, "totalCount": total}
	if skip+top < total {
		out["@nextLink"] = fmt.Sprintf("applications/%s/listflights/?skip=%d&top=%d", a.id, skip+top, top)
	}
	return http.StatusOK, out
}

func (s *Server) getFlight(r *http.Request) (int, any) {
	_, f, e := s.findParent(r)
	if e != nil {
		return 0, e
	}
	return http.StatusOK, renderFlight(f)
}

func (s *Server) createFlight(r *http.Request) (int, any) {
	a, e := s.findApp(r)
	if e != nil {
		return 0, e
	}
	var body struct {
		FriendlyName   string   `json:"friendlyName"`
		GroupIDs       []string `json:"groupIds"`
		RankHigherThan string   `json:"rankHigherThan"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil && !errors.Is(err, io.EOF) {
		return 0, errParam("The request body is not valid JSON.")
	}
	for _, id := range a.flightOrder {
		if a.flights[id].name == body.FriendlyName && body.FriendlyName != "" {
			return 0, errState("A flight named %q already exists.", body.FriendlyName)
		}
	}
	f := &flight{id: newGUID(), name: body.FriendlyName, groupIDs: slices.Clone(body.GroupIDs), rankHigherThan: body.RankHigherThan}
	if f.groupIDs == nil {
		f.groupIDs = []string{}
	}
	if f.rankHigherThan == "" {
		f.rankHigherThan = "Non-flighted submission"
		if n := len(a.flightOrder); n > 0 {
			f.rankHigherThan = a.flights[a.flightOrder[n-1]].name
		}
	}
	a.flights[f.id] = f
	a.flightOrder = append(a.flightOrder, f.id)
	return http.StatusOK, map[string]any{"flightId": f.id, "friendlyName": f.name, "groupIds": f.groupIDs, "rankHigherThan": f.rankHigherThan}
}

func (s *Server) deleteFlight(r *http.Request) (int, any) {
	a, f, e := s.findParent(r)
	if e != nil {
		return 0, e
	}
	if f.pendingID != "" && s.subs[f.pendingID].processing() {
		return 0, errState("Flight %s has submission %s in progress and cannot be deleted now.", f.id, f.pendingID)
	}
	delete(a.flights, f.id)
	a.flightOrder = slices.DeleteFunc(a.flightOrder, func(id string) bool { return id == f.id })
	return http.StatusNoContent, nil
}

// parentSlots returns where the parent of the path keeps its pending and
// last published submission IDs.
func parentSlots(a *app, f *flight) (pendingID, publishedID *string) {
	if f != nil {
		return &f.pendingID, &f.publishedID
	}
	return &a.pendingID, &a.publishedID
}

func (s *Server) createSubmission(r *http.Request) (int, any) {
	a, f, e := s.findParent(r)
	if e != nil {
		return 0, e
	}
	if a.unsupported {
		return 0, errUnsupportedApp()
	}
	pendingID, publishedID := parentSlots(a, f)
	if *pendingID != "" {
		return 0, errState("Submission %s is already pending; commit or delete it before creating another.", *pendingID)
	}
	sub := &submission{
		id: s.newID(), appID: a.id,
		mode: "Immediate", mandatoryDate: defaultMandatoryDate,
		rollout: rollout{status: rolloutNotStarted, fallback: "0"},
	}
	if f != nil {
		sub.flightID = f.id
	}
	if prev := s.subs[*publishedID]; prev != nil {
		if prev.rollout.status == rolloutInProgress {
			return 0, errState("The package rollout of submission %s is in progress; finalize or halt it before creating a new submission.", prev.id)
		}
		for _, p := range prev.packages {
			c := *p
			c.fileStatus = "Uploaded"
			c.extra = cloneRaw(p.extra)
			sub.packages = append(sub.packages, &c)
		}
		if s.cloneWithoutRollout {
			sub.noRolloutObject = true
		} else {
			sub.rollout.enabled, sub.rollout.pct = prev.rollout.enabled, prev.rollout.pct
		}
		sub.mandatory, sub.mandatoryDate = prev.mandatory, prev.mandatoryDate
		sub.deliveryExtra = cloneRaw(prev.deliveryExtra)
		sub.mode, sub.date, sub.notes = prev.mode, prev.date, prev.notes
		sub.extra = cloneRaw(prev.extra)
	}
	sub.setStatus(stPendingCommit, s.clock.Now())
	s.grantUpload(sub)
	s.subs[sub.id] = sub
	*pendingID = sub.id
	if f == nil {
		s.nameAppSubmission(a, sub)
	}
	out := s.renderSubmission(sub)
	if r.URL.Query().Get("isMinimalResponse") == "true" {
		out = minimalResponse(out)
	}
	return http.StatusOK, out
}

func cloneRaw(m map[string]json.RawMessage) map[string]json.RawMessage {
	if m == nil {
		return nil
	}
	out := make(map[string]json.RawMessage, len(m))
	for k, v := range m {
		out[k] = slices.Clone(v)
	}
	return out
}

func (s *Server) getSubmission(r *http.Request) (int, any) {
	sub, e := s.findSubmission(r)
	if e != nil {
		return 0, e
	}
	return http.StatusOK, s.renderSubmission(sub)
}

func (sd statusDetails) render() map[string]any {
	errs, warns, reps := []map[string]string{}, []map[string]string{}, []map[string]string{}
	for _, d := range sd.errors {
		errs = append(errs, map[string]string{"code": d.Code, "details": d.Details})
	}
	for _, d := range sd.warnings {
		warns = append(warns, map[string]string{"code": d.Code, "details": d.Details})
	}
	for _, r := range sd.reports {
		reps = append(reps, map[string]string{"date": r.Date, "reportUrl": r.ReportURL})
	}
	return map[string]any{"errors": errs, "warnings": warns, "certificationReports": reps}
}

func (rl rollout) render() map[string]any {
	return map[string]any{
		"isPackageRollout":         rl.enabled,
		"packageRolloutPercentage": rl.pct,
		"packageRolloutStatus":     rl.status,
		"fallbackSubmissionId":     rl.fallback,
	}
}

func packagesKey(sub *submission) string {
	if sub.flightID != "" {
		return "flightPackages"
	}
	return "applicationPackages"
}

func (s *Server) renderSubmission(sub *submission) map[string]any {
	m := map[string]any{}
	for k, v := range sub.extra {
		m[k] = v
	}
	m["id"] = sub.id
	if sub.flightID != "" {
		m["flightId"] = sub.flightID
	}
	m["status"] = sub.status
	m["statusDetails"] = sub.details.render()
	pkgs := []map[string]any{}
	for _, p := range sub.packages {
		pm := map[string]any{}
		for k, v := range p.extra {
			pm[k] = v
		}
		pm["id"] = p.id
		pm["fileName"] = p.fileName
		pm["fileStatus"] = p.fileStatus
		pm["version"] = p.version
		pm["minimumDirectXVersion"] = p.directX
		pm["minimumSystemRam"] = p.ram
		pkgs = append(pkgs, pm)
	}
	m[packagesKey(sub)] = pkgs
	pdo := map[string]any{}
	for k, v := range sub.deliveryExtra {
		pdo[k] = v
	}
	if !sub.noRolloutObject {
		pdo["packageRollout"] = sub.rollout.render()
	}
	pdo["isMandatoryUpdate"] = sub.mandatory
	pdo["mandatoryUpdateEffectiveDate"] = sub.mandatoryDate
	m["packageDeliveryOptions"] = pdo
	if sub.uploadURL != "" {
		m["fileUploadUrl"] = sub.uploadURL
	}
	m["targetPublishMode"] = sub.mode
	m["targetPublishDate"] = sub.date
	m["notesForCertification"] = sub.notes
	return m
}

var (
	fileStatuses  = []string{"None", "PendingUpload", "Uploaded", "PendingDelete"}
	directXValues = []string{"None", "DirectX93", "DirectX100"}
	ramValues     = []string{"None", "Memory2GB"}
	publishModes  = []string{"Immediate", "Manual", "SpecificDate"}
)

// stringField decodes a required (or optional) string member.
func stringField(m map[string]json.RawMessage, name string, required bool, where string) (string, bool, *apiError) {
	raw, ok := m[name]
	if !ok || string(raw) == "null" {
		if required {
			return "", false, errParam("%s: %s is required.", where, name)
		}
		return "", false, nil
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", false, errParam("%s: %s must be a string.", where, name)
	}
	return v, true, nil
}

func enumField(m map[string]json.RawMessage, name string, allowed []string, where string) (string, *apiError) {
	v, _, e := stringField(m, name, true, where)
	if e != nil {
		return "", e
	}
	if !slices.Contains(allowed, v) {
		return "", errParam("%s: %s %q is not one of %v.", where, name, v, allowed)
	}
	return v, nil
}

func (s *Server) updateSubmission(r *http.Request) (int, any) {
	sub, e := s.findSubmission(r)
	if e != nil {
		return 0, e
	}
	if e := s.refuseChange(sub); e != nil {
		return 0, e
	}
	if sub.status != stPendingCommit {
		return 0, errState("Submission %s is %s; it can be updated only while PendingCommit.", sub.id, sub.status)
	}
	var body map[string]json.RawMessage
	if err := json.NewDecoder(io.LimitReader(r.Body, 16<<20)).Decode(&body); err != nil || body == nil {
		return 0, errParam("The request body is not a JSON object.")
	}
	pk := packagesKey(sub)
	known := map[string]bool{"id": true, "flightId": sub.flightID != "", "status": true, "statusDetails": true, "fileUploadUrl": true,
		pk: true, "packageDeliveryOptions": true, "targetPublishMode": true, "targetPublishDate": true, "notesForCertification": true}

	// Validate everything first, then apply, so a 400 changes nothing.
	newPkgs := sub.packages
	if raw, ok := body[pk]; ok {
		var entries []map[string]json.RawMessage
		if err := json.Unmarshal(raw, &entries); err != nil {
			return 0, errParam("%s must be an array of objects.", pk)
		}
		newPkgs = nil
		for i, ent := range entries {
			p, e := s.parsePackage(sub, ent, fmt.Sprintf("%s[%d]", pk, i))
			if e != nil {
				return 0, e
			}
			newPkgs = append(newPkgs, p)
		}
		if sub.flightID == "" {
			newPkgs = withLeftOutPackages(sub.packages, newPkgs)
		}
	}
	if e := checkPackageCount(newPkgs); e != nil {
		return 0, e
	}
	page := sub.extra
	if sub.flightID == "" {
		var e *apiError
		if page, e = s.updateProductPage(sub, body); e != nil {
			return 0, e
		}
	}
	rl, noRollout, mandatory, mandatoryDate, dextra := sub.rollout, sub.noRolloutObject, sub.mandatory, sub.mandatoryDate, sub.deliveryExtra
	if raw, ok := body["packageDeliveryOptions"]; ok {
		var pdo map[string]json.RawMessage
		if err := json.Unmarshal(raw, &pdo); err != nil {
			return 0, errParam("packageDeliveryOptions must be an object.")
		}
		dextra = map[string]json.RawMessage{}
		for k, v := range pdo {
			switch k {
			case "packageRollout":
				var pr struct {
					IsPackageRollout         *bool    `json:"isPackageRollout"`
					PackageRolloutPercentage *float64 `json:"packageRolloutPercentage"`
				}
				if err := json.Unmarshal(v, &pr); err != nil {
					return 0, errParam("packageDeliveryOptions.packageRollout is not valid: %v.", err)
				}
				noRollout = false
				if pr.IsPackageRollout != nil {
					rl.enabled = *pr.IsPackageRollout
				}
				if pr.PackageRolloutPercentage != nil {
					pct := *pr.PackageRolloutPercentage
					if pct < 0 || pct > 100 || math.IsNaN(pct) {
						return 0, errParam("packageRolloutPercentage %v is outside 0..100.", pct)
					}
					rl.pct = pct
				}
			case "isMandatoryUpdate":
				if err := json.Unmarshal(v, &mandatory); err != nil {
					return 0, errParam("isMandatoryUpdate must be a boolean.")
				}
			case "mandatoryUpdateEffectiveDate":
				if err := json.Unmarshal(v, &mandatoryDate); err != nil {
					return 0, errParam("mandatoryUpdateEffectiveDate must be a string.")
				}
			default:
				dextra[k] = slices.Clone(v)
			}
		}
	}
	mode, date, notes := sub.mode, sub.date, sub.notes
	if v, ok, e := stringField(body, "targetPublishMode", false, "submission"); e != nil {
		return 0, e
	} else if ok {
		if !slices.Contains(publishModes, v) {
			return 0, errParam("targetPublishMode %q is not one of %v.", v, publishModes)
		}
		mode = v
	}
	if v, ok, e := stringField(body, "targetPublishDate", false, "submission"); e != nil {
		return 0, e
	} else if ok {
		if v != "" {
			if _, err := time.Parse(time.RFC3339, v); err != nil {
				return 0, errParam("targetPublishDate %q is not an ISO 8601 date.", v)
			}
		}
		date = v
	}
	if v, ok, e := stringField(body, "notesForCertification", false, "submission"); e != nil {
		return 0, e
	} else if ok {
		notes = v
	}

	sub.packages = newPkgs
	sub.rollout.enabled, sub.rollout.pct, sub.noRolloutObject = rl.enabled, rl.pct, noRollout
	sub.mandatory, sub.mandatoryDate, sub.deliveryExtra = mandatory, mandatoryDate, dextra
	sub.mode, sub.date, sub.notes = mode, date, notes
	if sub.flightID == "" {
		sub.extra = page
	} else {
		for k, v := range body {
			if !known[k] {
				if sub.extra == nil {
					sub.extra = map[string]json.RawMessage{}
				}
				sub.extra[k] = slices.Clone(v)
			}
		}
	}
	return http.StatusOK, s.renderSubmission(sub)
}

// parsePackage validates one package entry of a PUT.
func (s *Server) parsePackage(sub *submission, ent map[string]json.RawMessage, where string) (*pkg, *apiError) {
	name, _, e := stringField(ent, "fileName", true, where)
	if e != nil {
		return nil, e
	}
	if name == "" {
		return nil, errParam("%s: fileName is empty.", where)
	}
	p := &pkg{fileName: name}
	if p.fileStatus, e = enumField(ent, "fileStatus", fileStatuses, where); e != nil {
		return nil, e
	}
	if p.directX, e = enumField(ent, "minimumDirectXVersion", directXValues, where); e != nil {
		return nil, e
	}
	if p.ram, e = enumField(ent, "minimumSystemRam", ramValues, where); e != nil {
		return nil, e
	}
	id, _, e := stringField(ent, "id", false, where)
	if e != nil {
		return nil, e
	}
	var existing *pkg
	for _, old := range sub.packages {
		if id != "" && old.id == id || id == "" && p.fileStatus != "PendingUpload" && old.fileName == name {
			existing = old
			break
		}
	}
	if id != "" && existing == nil {
		return nil, errParam("%s: package id %s is not a package of submission %s.", where, id, sub.id)
	}
	if sub.flightID == "" && p.fileStatus == "PendingDelete" && deletesPendingUpload(sub, id, name) {
		return nil, errParam("Existing Package %s is PendingUpload and cannot be made PendingDelete; remove it from %s instead.", name, packagesKey(sub))
	}
	if existing != nil {
		p.id, p.version = existing.id, existing.version
		p.extra = cloneRaw(existing.extra)
	} else {
		p.id = s.newID()
	}
	for k, v := range ent {
		switch k {
		case "id", "fileName", "fileStatus", "minimumDirectXVersion", "minimumSystemRam", "version":
		default:
			if p.extra == nil {
				p.extra = map[string]json.RawMessage{}
			}
			p.extra[k] = slices.Clone(v)
		}
	}
	return p, nil
}

func (s *Server) deleteSubmission(r *http.Request) (int, any) {
	sub, e := s.findSubmission(r)
	if e != nil {
		return 0, e
	}
	if e := s.refuseChange(sub); e != nil {
		return 0, e
	}
	if sub.status != stPendingCommit && !sub.isFailed() {
		return 0, errState("Submission %s is %s and cannot be deleted in its current state.", sub.id, sub.status)
	}
	a := s.apps[sub.appID]
	var f *flight
	if sub.flightID != "" {
		f = a.flights[sub.flightID]
	}
	if pendingID, _ := parentSlots(a, f); *pendingID == sub.id {
		*pendingID = ""
	}
	delete(s.subs, sub.id)
	delete(s.blobs, sub.blobName)
	return http.StatusNoContent, nil
}

func (s *Server) commitSubmission(r *http.Request) (int, any) {
	sub, e := s.findSubmission(r)
	if e != nil {
		return 0, e
	}
	if e := s.refuseChange(sub); e != nil {
		return 0, e
	}
	if sub.status != stPendingCommit {
		return 0, errState("Submission %s is %s and cannot be committed in its current state.", sub.id, sub.status)
	}
	sub.commits++
	sub.details = statusDetails{}
	sub.failure = nil
	if len(s.failures) > 0 {
		f := s.failures[0]
		s.failures = s.failures[1:]
		sub.failure = &f
	}
	sub.drop = nil
	if len(s.drops) > 0 {
		sub.drop = s.drops[0]
		s.drops = s.drops[1:]
	}
	sub.setStatus(stCommitStarted, s.clock.Now())
	return http.StatusOK, map[string]string{"status": stCommitStarted}
}

func (s *Server) submissionStatus(r *http.Request) (int, any) {
	sub, e := s.findSubmission(r)
	if e != nil {
		return 0, e
	}
	return http.StatusOK, map[string]any{"status": sub.status, "statusDetails": sub.details.render()}
}

func (s *Server) getRollout(r *http.Request) (int, any) {
	sub, e := s.findSubmission(r)
	if e != nil {
		return 0, e
	}
	return http.StatusOK, sub.rollout.render()
}

// rolloutTarget resolves a submission whose rollout may change.
func (s *Server) rolloutTarget(r *http.Request) (*submission, *apiError) {
	sub, e := s.findSubmission(r)
	if e != nil {
		return nil, e
	}
	if s.apps[sub.appID].unsupported {
		return nil, errUnsupportedApp()
	}
	if sub.status != stPublished {
		return nil, errState("Submission %s is %s; the package rollout can be changed only once it is Published.", sub.id, sub.status)
	}
	if sub.rollout.status != rolloutInProgress {
		return nil, errState("The package rollout of submission %s is %s, not PackageRolloutInProgress.", sub.id, sub.rollout.status)
	}
	s.noteRolloutChange(sub)
	return sub, nil
}

func (s *Server) updateRollout(r *http.Request) (int, any) {
	sub, e := s.rolloutTarget(r)
	if e != nil {
		return 0, e
	}
	v := r.URL.Query().Get("percentage")
	pct, err := strconv.ParseFloat(v, 64)
	if err != nil || pct < 0 || pct > 100 || math.IsNaN(pct) {
		return 0, errParam("The percentage parameter %q must be a number between 0 and 100.", v)
	}
	sub.rollout.pct = pct
	return http.StatusOK, sub.rollout.render()
}

func (s *Server) haltRollout(r *http.Request) (int, any) {
	sub, e := s.rolloutTarget(r)
	if e != nil {
		return 0, e
	}
	sub.rollout.pct, sub.rollout.status = 0, rolloutStopped
	return http.StatusOK, sub.rollout.render()
}

func (s *Server) finalizeRollout(r *http.Request) (int, any) {
	sub, e := s.rolloutTarget(r)
	if e != nil {
		return 0, e
	}
	sub.rollout.pct, sub.rollout.status = 100, rolloutComplete
	return http.StatusOK, sub.rollout.render()
}
