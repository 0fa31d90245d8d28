package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/storeflight/storeflight/internal/storefake"
)

// testBadAnswers gives the binary answers no well-behaved Store gives:
// each run must fail with a clear error (exit 1, an error annotation),
// never crash, never dump the answer into the log, and leave nothing half
// done.
func testBadAnswers(t *testing.T) {
	// Over a megabyte: more than the client reads of an error body.
	huge := "<html><body>" + strings.Repeat("<p>Request blocked by the gateway.</p>", (2<<20)/38) + "</body></html>"
	tests := []struct {
		name    string
		faults  []storefake.Fault
		failure *storefake.Failure
		inputs  map[string]string
		// says is what the error must say (any one, case-insensitive).
		says []string
		// created: the run got as far as creating (and committing) a
		// submission, which must then be left as the Store has it.
		created bool
	}{
		{
			name:   "malformed JSON",
			faults: []storefake.Fault{{Method: http.MethodGet, Path: "/flights/" + flightA, Times: -1, ContentType: "application/json", Body: `{"flightId": "` + flightA + `", "friendlyName": `}},
			says:   []string{"JSON", "decode", "unexpected end"},
		},
		{
			name: "HTML error page",
			faults: []storefake.Fault{{Method: http.MethodGet, Path: "/flights/" + flightA, Times: -1, Status: http.StatusForbidden, ContentType: "text/html",
				Body: "<!DOCTYPE html><html><head><title>Access denied</title></head><body><h1>403 Forbidden</h1><p>Request blocked by the proxy.</p></body></html>"}},
			says: []string{"403"},
		},
		{
			name:   "empty body",
			faults: []storefake.Fault{{Method: http.MethodGet, Path: "/submissions/" + publishedA, Times: -1, ContentType: "application/json", Body: ""}},
			says:   []string{"empty", "EOF", "JSON"},
		},
		{
			name:   "huge body",
			faults: []storefake.Fault{{Method: http.MethodGet, Path: "/flights/" + flightA, Times: -1, Status: http.StatusForbidden, ContentType: "text/html", Body: huge}},
			says:   []string{"403"},
		},
		{
			name: "back to PendingCommit after commit",
			failure: &storefake.Failure{At: "PendingCommit", Errors: []storefake.Detail{
				{Code: "InvalidParameterValue", Details: "The package Contoso.Notes_1.1.0.0_x64.msix could not be processed."}}},
			says:    []string{"PendingCommit"},
			created: true,
		},
		{
			name: "unknown status value",
			faults: []storefake.Fault{{Method: http.MethodGet, Path: "/status", Times: -1, ContentType: "application/json",
				Body: `{"status":"Weird","statusDetails":{"errors":[],"warnings":[],"certificationReports":[]}}`}},
			// A product that polled on until its timeout would exit 3.
			inputs:  map[string]string{"timeout": "15s"},
			says:    []string{"Weird"},
			created: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, worldOptions{
				// Certification lasts on the frozen clock, so that the
				// Store's own state stays where the run left it.
				FakeClock: true,
				Stages:    storefake.Stages{Certification: time.Hour},
				Seed:      seedApp(seedFlight(flightA, "Beta testers", publishedA, nil)),
			})
			w.writePackage(newPackage, newVersion)
			for _, f := range tt.faults {
				f.Host = "api"
				w.sim.Inject(f)
			}
			if tt.failure != nil {
				w.sim.ScriptFailure(*tt.failure)
			}
			in := releaseInputs(flightA)
			for k, v := range tt.inputs {
				in[k] = v
			}
			res := w.run(t.Context(), invocation{Inputs: in})
			if res.Code != 1 {
				t.Errorf("exit code %d, want 1\n%s", res.Code, res.log())
			}
			var errLines []string
			for line := range strings.Lines(res.Stdout) {
				if strings.HasPrefix(line, "::error") {
					errLines = append(errLines, line)
				}
			}
			if len(errLines) == 0 {
				t.Errorf("no error annotation\n%s", res.log())
			}
			if !saysAny(strings.Join(errLines, ""), tt.says) {
				t.Errorf("the error says none of %q\n%s", tt.says, strings.Join(errLines, ""))
			}
			if n := len(res.Stdout) + len(res.Stderr); n > 64<<10 {
				t.Errorf("%d bytes of output: the answer was dumped into the log", n)
			}

			all := res.Requests
			f, _ := w.sim.Flight(appID, flightA)
			if f.PublishedID != publishedA {
				t.Errorf("flight's published submission is now %s", f.PublishedID)
			}
			creates := applied(all, http.MethodPost, createPath(flightA))
			if !tt.created {
				if creates != 0 || f.PendingID != "" {
					t.Errorf("%d creates applied, pending %q: the run acted on an answer it could not read", creates, f.PendingID)
				}
				return
			}
			if creates != 1 || f.PendingID == "" {
				t.Fatalf("%d creates applied, pending %q; want 1", creates, f.PendingID)
			}
			sub, _ := w.sim.Submission(appID, flightA, f.PendingID)
			if sub.Commits != 1 || applied(all, http.MethodPost, "/commit") != 1 {
				t.Errorf("submission %s committed %d times, want 1", sub.ID, sub.Commits)
			}
			if n := len(apiRequests(all, http.MethodPost, "/updatepackagerolloutpercentage")) +
				len(apiRequests(all, http.MethodPost, "/finalizepackagerollout")) + len(apiRequests(all, http.MethodPost, "/haltpackagerollout")); n != 0 {
				t.Errorf("%d rollout changes after a failed submission", n)
			}
			if res.Outputs["submission-id"] != f.PendingID {
				t.Errorf("submission-id output %q, want %s", res.Outputs["submission-id"], f.PendingID)
			}
		})
	}
}

func saysAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(strings.ToLower(s), strings.ToLower(w)) {
			return true
		}
	}
	return false
}
