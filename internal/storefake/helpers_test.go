package storefake

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/storeflight/storeflight/internal/clock"
	"github.com/storeflight/storeflight/internal/msix"
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

const (
	appID    = "9NBLGGH4R315"
	flightID = "aaaaaaaa-1111-4222-8333-444444444444"
	otherFID = "bbbbbbbb-1111-4222-8333-444444444444"
)

// stages of one minute each, so a test can step through them.
var minuteStages = Stages{time.Minute, time.Minute, time.Minute, time.Minute, time.Minute, time.Minute}

type fixture struct {
	t     *testing.T
	s     *Server
	clk   *clock.Fake
	hc    *http.Client
	token string
}

func newFixture(t *testing.T, opts *Options) *fixture {
	t.Helper()
	clk := clock.NewFake(t0)
	if opts == nil {
		opts = &Options{Stages: minuteStages}
	}
	opts.Clock = clk
	if opts.BlobDir == "" {
		opts.BlobDir = t.TempDir()
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	// A token that outlives the test's clock jumps; TestAuthorization
	// covers expiry.
	s.AcceptToken("long-lived-test-token", t0.AddDate(1, 0, 0))
	return &fixture{t: t, s: s, clk: clk, hc: s.HTTPClient(), token: "long-lived-test-token"}
}

func (f *fixture) mint() string {
	f.t.Helper()
	tok, err := f.s.Credential().GetToken(f.t.Context(), policy.TokenRequestOptions{Scopes: []string{"https://manage.devcenter.microsoft.com/.default"}})
	if err != nil {
		f.t.Fatal(err)
	}
	if !tok.ExpiresOn.Equal(f.clk.Now().Add(time.Hour)) {
		f.t.Fatalf("token expires %v, want now+1h", tok.ExpiresOn)
	}
	return tok.Token
}

// seedBasic seeds an app with one published flight submission (two
// packages) and a second, empty flight.
func (f *fixture) seedBasic() string {
	f.t.Helper()
	err := f.s.Seed(Seed{Apps: []SeedApp{{
		ID: appID, Name: "Contoso",
		Published: &SeedSubmission{ID: "1152921504621243000", Packages: []SeedPackage{{FileName: "app.msixbundle", Version: "1.0.0.0"}}},
		Flights: []SeedFlight{
			{ID: flightID, Name: "Beta", GroupIDs: []string{"100"}, Published: &SeedSubmission{
				ID:       "1152921504621243100",
				Packages: []SeedPackage{{FileName: "a.msix", Version: "1.0.0.0"}, {FileName: "b.msix", Version: "1.0.0.0"}},
				Notes:    "old notes", TargetPublishMode: "Immediate",
			}},
			{ID: otherFID, Name: "Alpha"},
		},
	}}})
	if err != nil {
		f.t.Fatal(err)
	}
	return "1152921504621243100"
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("decode %q: %v", r.body, err)
	}
	return m
}

// do sends an API request; path is relative to /v1.0/my/.
func (f *fixture) do(method, path string, body any) resp {
	f.t.Helper()
	return f.doURL(method, f.s.URL()+"/v1.0/my/"+path, body, map[string]string{"Authorization": "Bearer " + f.token})
}

func (f *fixture) doURL(method, u string, body any, headers map[string]string) resp {
	f.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case io.Reader:
		rd = b
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			f.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(f.t.Context(), method, u, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := f.hc.Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, u, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

func (f *fixture) mustStatus(r resp, want int) {
	f.t.Helper()
	if r.status != want {
		f.t.Fatalf("status %d, want %d; body %s", r.status, want, r.body)
	}
}

func (f *fixture) wantError(r resp, status int, code string) {
	f.t.Helper()
	f.mustStatus(r, status)
	m := r.json(f.t)
	if m["code"] != code || m["message"] == "" {
		f.t.Fatalf("error body %s, want code %s and a message", r.body, code)
	}
	if r.header.Get("MS-CorrelationId") == "" {
		f.t.Fatal("no MS-CorrelationId header")
	}
}

// createFlightSub creates a flight submission and returns it.
func (f *fixture) createFlightSub(fid string) map[string]any {
	f.t.Helper()
	r := f.do("POST", "applications/"+appID+"/flights/"+fid+"/submissions", nil)
	f.mustStatus(r, http.StatusOK)
	return r.json(f.t)
}

// upload puts body at a fileUploadUrl the way the documented samples do,
// '+' sent as %2B.
func (f *fixture) upload(fileUploadURL string, body []byte) resp {
	f.t.Helper()
	return f.doURL("PUT", strings.ReplaceAll(fileUploadURL, "+", "%2B"), body, map[string]string{"x-ms-blob-type": "BlockBlob"})
}

// packageFile builds a demo package (or bundle) of the given version,
// x64 for Windows.Desktop, as the Store would read it.
func packageFile(t *testing.T, version string, bundle bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	id := msix.Identity{Name: "Contoso.App", Version: version, Architectures: []string{"x64"}}
	var err error
	if bundle {
		err = msix.WriteDemoBundle(&buf, "Contoso.App", version, []msix.Identity{id})
	} else {
		err = msix.WriteDemo(&buf, id)
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// zipOf builds the upload ZIP; stored entries unless deflate.
func zipOf(t *testing.T, deflate bool, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, data := range files {
		method := zip.Store
		if deflate {
			method = zip.Deflate
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: method})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func pkgEntry(id, name, status string) map[string]any {
	m := map[string]any{"fileName": name, "fileStatus": status, "minimumDirectXVersion": "None", "minimumSystemRam": "None"}
	if id != "" {
		m["id"] = id
	}
	return m
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
