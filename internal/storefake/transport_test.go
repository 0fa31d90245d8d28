package storefake

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/google/go-cmp/cmp"

	"github.com/storeflight/storeflight/internal/redact"
)

func TestRequestBudget(t *testing.T) {
	t.Parallel()
	f := newFixture(t, &Options{RequestBudget: 3})
	f.seedBasic()
	for i := range 3 {
		f.mustStatus(f.do("GET", "applications/"+appID, nil), 200)
		f.clk.Advance(10 * time.Second * time.Duration(i))
	}
	// 30 s into the window: 30 s remain.
	r := f.do("GET", "applications/"+appID, nil)
	f.wantError(r, 429, "TooManyRequests")
	if got := r.header.Get("Retry-After"); got != "30" {
		t.Errorf("Retry-After %q, want 30", got)
	}
	// Unauthorized requests do not count and are not throttled.
	f.mustStatus(f.doURL("GET", f.s.URL()+"/v1.0/my/applications/"+appID, nil, nil), 401)
	f.clk.Advance(29*time.Second + 500*time.Millisecond)
	if got := f.do("GET", "applications/"+appID, nil).header.Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After %q half a second before the end, want 1", got)
	}
	f.clk.Advance(500 * time.Millisecond)
	f.mustStatus(f.do("GET", "applications/"+appID, nil), 200)
	if _, err := New(&Options{RequestBudget: -1}); err == nil {
		t.Error("negative budget accepted")
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.seedBasic()
	app := "applications/" + appID
	f.s.Inject(Fault{Method: "GET", Path: "/" + appID, Skip: 1, Times: 2, Status: 503, RetryAfter: "7"})
	f.s.Inject(Fault{Path: "/listflights", Body: "<html>gateway</html>", ContentType: "text/html", Status: 502})
	f.s.Inject(Fault{Path: "/listflights", Body: `{"value":[`, Times: -1})
	f.s.Inject(Fault{Host: "blob", Status: 500})

	f.mustStatus(f.do("GET", app, nil), 200) // skipped
	for range 2 {
		r := f.do("GET", app, nil)
		f.wantError(r, 503, "ServiceUnavailable")
		if r.header.Get("Retry-After") != "7" {
			t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
		}
	}
	f.mustStatus(f.do("GET", app, nil), 200) // used up
	r := f.do("GET", app+"/listflights", nil)
	if r.status != 502 || string(r.body) != "<html>gateway</html>" || r.header.Get("Content-Type") != "text/html" {
		t.Errorf("html fault: %d %q %v", r.status, r.body, r.header)
	}
	for range 3 {
		if r := f.do("GET", app+"/listflights", nil); r.status != 200 || string(r.body) != `{"value":[` {
			t.Errorf("malformed fault: %d %q", r.status, r.body)
		}
	}
	// The API host is not hit by a blob fault; the blob host gets XML.
	f.mustStatus(f.do("GET", app, nil), 200)
	sub := f.createFlightSub(flightID)
	r = f.upload(str(sub["fileUploadUrl"]), []byte("x"))
	if r.status != 500 || r.header.Get("x-ms-error-code") != "ServiceError" || !bytes.Contains(r.body, []byte("<Code>ServiceError</Code>")) {
		t.Errorf("blob fault: %d %v %s", r.status, r.header, r.body)
	}

	var injected int
	for _, rq := range f.s.Requests() {
		if rq.Injected {
			injected++
		}
	}
	if injected != 7 {
		t.Errorf("%d injected requests recorded, want 7", injected)
	}
}

func TestLostResponseAndReset(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.seedBasic()
	create := f.s.URL() + "/v1.0/my/applications/" + appID + "/flights/" + flightID + "/submissions"
	send := func() error {
		req, _ := http.NewRequestWithContext(t.Context(), "POST", create, nil)
		req.Header.Set("Authorization", "Bearer "+f.token)
		res, err := f.hc.Do(req)
		if err == nil {
			res.Body.Close()
		}
		return err
	}

	f.s.Inject(Fault{Method: "POST", Path: "/submissions", Reset: true})
	if err := send(); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("reset: %v, want ECONNRESET", err)
	}
	if fs, _ := f.s.Flight(appID, flightID); fs.PendingID != "" {
		t.Fatal("a reset request was handled")
	}

	f.s.Inject(Fault{Method: "POST", Path: "/submissions", LoseResponse: true})
	if err := send(); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("lost response: %v, want ECONNRESET", err)
	}
	fs, _ := f.s.Flight(appID, flightID)
	if fs.PendingID == "" {
		t.Fatal("the lost request was not applied")
	}
	reqs := f.s.Requests()
	want := []Request{
		{At: t0, Host: inProcessAPIHost, Method: "POST", Path: "/v1.0/my/applications/" + appID + "/flights/" + flightID + "/submissions", Authorized: true, Lost: true, Injected: true},
		{At: t0, Host: inProcessAPIHost, Method: "POST", Path: "/v1.0/my/applications/" + appID + "/flights/" + flightID + "/submissions", Status: 200, Authorized: true, Lost: true, Injected: true},
	}
	if diff := cmp.Diff(want, reqs); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	f.s.ResetRequests()
	if n := len(f.s.Requests()); n != 0 {
		t.Errorf("%d requests after reset", n)
	}
	// Unknown hosts are not served.
	req, _ := http.NewRequestWithContext(t.Context(), "GET", "https://example.com/", nil)
	if _, err := f.hc.Do(req); err == nil {
		t.Error("unknown host served")
	}
}

func TestBlobEndpoint(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.seedBasic()
	sub := f.createFlightSub(flightID)
	raw := str(sub["fileUploadUrl"])
	good := strings.ReplaceAll(raw, "+", "%2B")
	u, _ := url.Parse(good)
	q := u.Query()
	withQuery := func(mut func(url.Values)) string {
		c := url.Values{}
		for k, v := range q {
			c[k] = append([]string(nil), v...)
		}
		mut(c)
		return u.Scheme + "://" + u.Host + u.Path + "?" + c.Encode()
	}
	blockType := map[string]string{"x-ms-blob-type": "BlockBlob"}
	tests := []struct {
		name    string
		method  string
		url     string
		headers map[string]string
		body    string
		status  int
		code    string
	}{
		{"raw plus decodes to a space", "PUT", raw, blockType, "x", 403, "AuthenticationFailed"},
		{"wrong sig", "PUT", withQuery(func(v url.Values) { v.Set("sig", "AAAA") }), blockType, "x", 403, "AuthenticationFailed"},
		{"se tampered", "PUT", withQuery(func(v url.Values) { v.Set("se", "2099-01-01T00:00:00Z") }), blockType, "x", 403, "AuthenticationFailed"},
		{"unknown blob", "PUT", strings.Replace(good, "/ingestion/", "/ingestion/x", 1), blockType, "x", 403, "AuthenticationFailed"},
		{"store token leaked", "PUT", good, map[string]string{"x-ms-blob-type": "BlockBlob", "Authorization": "Bearer " + f.token}, "x", 400, "InvalidAuthenticationInfo"},
		{"no blob type", "PUT", good, nil, "x", 400, "MissingRequiredHeader"},
		{"bad block id", "PUT", good + "&comp=block&blockid=%21%21", nil, "x", 400, "InvalidQueryParameterValue"},
		{"bad comp", "PUT", good + "&comp=appendblock", nil, "x", 400, "InvalidQueryParameterValue"},
		{"bad block list", "PUT", good + "&comp=blocklist", nil, "<nope", 400, "InvalidXmlDocument"},
		{"block list of unknown blocks", "PUT", good + "&comp=blocklist", nil, "<BlockList><Latest>QUFB</Latest></BlockList>", 400, "InvalidBlockList"},
		{"get before upload", "GET", good, nil, "", 404, "BlobNotFound"},
		{"delete", "DELETE", good, nil, "", 405, "UnsupportedHttpVerb"},
		{"put blob", "PUT", good, blockType, "hello", 201, ""},
	}
	for _, tc := range tests { // in order: the last one stores the blob
		var body io.Reader
		if tc.body != "" {
			body = strings.NewReader(tc.body)
		}
		r := f.doURL(tc.method, tc.url, body, tc.headers)
		if r.status != tc.status || r.header.Get("x-ms-error-code") != tc.code {
			t.Errorf("%s: %d %q, want %d %q; %s", tc.name, r.status, r.header.Get("x-ms-error-code"), tc.status, tc.code, r.body)
		}
		if tc.code != "" && !bytes.Contains(r.body, []byte("<Error><Code>"+tc.code+"</Code>")) {
			t.Errorf("%s: body %s", tc.name, r.body)
		}
		if sig := q.Get("sig"); strings.Contains(string(r.body), sig) || strings.Contains(string(r.body), url.QueryEscape(sig)) {
			t.Errorf("%s: the answer repeats the SAS signature", tc.name)
		}
		if r.header.Get("x-ms-request-id") == "" {
			t.Errorf("%s: no x-ms-request-id", tc.name)
		}
	}
	r := f.doURL("GET", good, nil, nil)
	if r.status != 200 || string(r.body) != "hello" {
		t.Errorf("get blob: %d %q", r.status, r.body)
	}
	// The leaked token was recorded; no recorded query shows the sig.
	var leaked bool
	for _, rq := range f.s.Requests() {
		if rq.Host == inProcessBlobHost && rq.Authorized {
			leaked = true
		}
		if strings.Contains(rq.RawQuery, "sig=") && !strings.Contains(rq.RawQuery, "sig="+redact.Marker) {
			t.Errorf("recorded query shows the sig: %s", rq.RawQuery)
		}
	}
	if !leaked {
		t.Error("the request carrying a token was not recorded as Authorized")
	}
	// The SAS expires on the clock.
	f.clk.Advance(time.Hour)
	if r := f.doURL("PUT", good, "x", blockType); r.status != 403 {
		t.Errorf("expired SAS: %d", r.status)
	}
}

func TestBlocksByHand(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.seedBasic()
	sub := f.createFlightSub(flightID)
	good := strings.ReplaceAll(str(sub["fileUploadUrl"]), "+", "%2B")
	id := func(n int) string { return base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("block-%03d", n))) }
	put := func(n int, data string) {
		t.Helper()
		f.mustStatus(f.doURL("PUT", good+"&comp=block&blockid="+url.QueryEscape(id(n)), data, nil), 201)
	}
	commit := func(list string) {
		t.Helper()
		f.mustStatus(f.doURL("PUT", good+"&comp=blocklist", "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>"+list+"</BlockList>", nil), 201)
	}
	get := func() string { return string(f.doURL("GET", good, nil, nil).body) }
	put(1, "one-")
	put(2, "two-")
	put(3, "three-")
	commit("<Latest>" + id(2) + "</Latest><Uncommitted>" + id(1) + "</Uncommitted><Latest>" + id(2) + "</Latest>")
	if got := get(); got != "two-one-two-" {
		t.Errorf("blob %q", got)
	}
	// Committed blocks can be reused; uncommitted ones were dropped.
	put(4, "four")
	commit("<Committed>" + id(1) + "</Committed><Latest>" + id(4) + "</Latest>")
	if got := get(); got != "one-four" {
		t.Errorf("blob %q", got)
	}
	r := f.doURL("PUT", good+"&comp=blocklist", "<BlockList><Uncommitted>"+id(3)+"</Uncommitted></BlockList>", nil)
	if r.status != 400 {
		t.Errorf("dropped block accepted: %d", r.status)
	}
}

func TestAzblobUpload(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.seedBasic()
	sub := f.createFlightSub(flightID)
	sas := strings.ReplaceAll(str(sub["fileUploadUrl"]), "+", "%2B")
	// One Put Block in three fails: azblob retries each block by itself.
	f.s.Inject(Fault{Host: "blob", Method: "PUT", Skip: 2, Status: 503})
	client, err := blockblob.NewClientWithNoCredential(sas, &blockblob.ClientOptions{ClientOptions: azcore.ClientOptions{
		Transport: f.s.HTTPClient(),
		Retry:     policy.RetryOptions{RetryDelay: time.Millisecond, MaxRetryDelay: time.Millisecond},
	}})
	if err != nil {
		t.Fatal(err)
	}
	content := zipOf(t, false, map[string][]byte{"new.msix": packageFile(t, "4.0.0.0", false), "pad.bin": bytes.Repeat([]byte("0123456789abcdef"), 220000)})
	// azblob raises a BlockSize under 1 MiB to 1 MiB: 3.5 MB makes 4 blocks.
	if _, err := client.UploadStream(t.Context(), bytes.NewReader(content), &blockblob.UploadStreamOptions{BlockSize: 1 << 20, Concurrency: 4}); err != nil {
		t.Fatal(redact.Error(err))
	}
	var blocks, lists int
	for _, r := range f.s.Requests() {
		if r.Host != inProcessBlobHost {
			continue
		}
		if r.Authorized {
			t.Errorf("blob request carried an Authorization header: %+v", r)
		}
		if strings.Contains(r.RawQuery, "comp=block&") || strings.HasPrefix(r.RawQuery, "blockid=") || strings.Contains(r.RawQuery, "&blockid=") {
			blocks++
		}
		if strings.Contains(r.RawQuery, "comp=blocklist") {
			lists++
		}
	}
	if blocks != 5 || lists != 1 { // 4 blocks, one of them retried
		t.Errorf("%d block requests and %d block lists, want several and one", blocks, lists)
	}
	r := f.doURL("GET", sas, nil, nil)
	if !bytes.Equal(r.body, content) {
		t.Fatalf("stored blob differs: %d bytes, want %d", len(r.body), len(content))
	}
	// The uploaded ZIP passes the commit checks.
	path := "applications/" + appID + "/flights/" + flightID + "/submissions/" + str(sub["id"])
	f.mustStatus(f.do("PUT", path, map[string]any{"flightPackages": []any{pkgEntry("", "new.msix", "PendingUpload")}}), 200)
	f.mustStatus(f.do("POST", path+"/commit", nil), 200)
	f.clk.Advance(time.Minute)
	if st, _ := f.s.Submission(appID, flightID, str(sub["id"])); st.Status != "PreProcessing" || st.Packages[0].Version != "4.0.0.0" {
		t.Errorf("after commit: %+v", st)
	}
}

func TestParallelBlockUploads(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.seedBasic()
	sub := f.createFlightSub(flightID)
	good := strings.ReplaceAll(str(sub["fileUploadUrl"]), "+", "%2B")
	var wg sync.WaitGroup
	var list strings.Builder
	for i := range 16 {
		id := base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("%04d", i)))
		list.WriteString("<Latest>" + id + "</Latest>")
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(t.Context(), "PUT", good+"&comp=block&blockid="+url.QueryEscape(id), strings.NewReader(fmt.Sprintf("%04d", i)))
			res, err := f.hc.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			if res.StatusCode != 201 {
				t.Errorf("block %d: %d", i, res.StatusCode)
			}
		})
		wg.Go(func() { f.s.Submission(appID, flightID, str(sub["id"])); f.s.Requests() })
	}
	wg.Wait()
	f.mustStatus(f.doURL("PUT", good+"&comp=blocklist", "<BlockList>"+list.String()+"</BlockList>", nil), 201)
	var want strings.Builder
	for i := range 16 {
		fmt.Fprintf(&want, "%04d", i)
	}
	if got := string(f.doURL("GET", good, nil, nil).body); got != want.String() {
		t.Errorf("blob %q", got)
	}
}

// selfSigned returns a server config and a client pool for 127.0.0.1.
func selfSigned(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "storefake test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, pool
}

func TestListenTLS(t *testing.T) {
	t.Parallel()
	f := newFixture(t, &Options{})
	f.seedBasic()
	cfg, pool := selfSigned(t)
	apiURL, err := f.s.Listen("127.0.0.1:0", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Listen("127.0.0.1:0", "", nil); err == nil {
		t.Error("second Listen succeeded")
	}
	if !strings.HasPrefix(apiURL, "https://127.0.0.1:") || f.s.URL() != apiURL {
		t.Fatalf("api URL %q, URL() %q", apiURL, f.s.URL())
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	defer tr.CloseIdleConnections()
	f.hc = &http.Client{Transport: tr}

	sub := f.createFlightSub(flightID)
	up, _ := url.Parse(str(sub["fileUploadUrl"]))
	if up.Scheme != "https" || up.Host == strings.TrimPrefix(apiURL, "https://") {
		t.Fatalf("fileUploadUrl host %q should be the blob listener", up.Host)
	}
	path := "applications/" + appID + "/flights/" + flightID + "/submissions/" + str(sub["id"])
	f.mustStatus(f.do("PUT", path, map[string]any{"flightPackages": []any{pkgEntry("", "new.msix", "PendingUpload")}}), 200)
	f.mustStatus(f.upload(str(sub["fileUploadUrl"]), zipOf(t, false, map[string][]byte{"new.msix": packageFile(t, "5.0.0.0", false)})), 201)

	// A lost commit answer: the connection closes, the commit happened.
	f.s.Inject(Fault{Path: "/commit", LoseResponse: true})
	req, _ := http.NewRequestWithContext(t.Context(), "POST", apiURL+"/v1.0/my/"+path+"/commit", nil)
	req.Header.Set("Authorization", "Bearer "+f.token)
	if res, err := f.hc.Do(req); err == nil {
		res.Body.Close()
		t.Fatalf("lost response arrived: %d", res.StatusCode)
	}
	if got := f.status(path); got != "Published" {
		t.Errorf("status %s after a lost commit answer", got)
	}
	// The in-process client also reaches the listener's hosts.
	hc := f.s.HTTPClient()
	req, _ = http.NewRequestWithContext(t.Context(), "GET", apiURL+"/v1.0/my/applications/"+appID, nil)
	req.Header.Set("Authorization", "Bearer "+f.token)
	res, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if err := f.s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Listen("127.0.0.1:0", "", nil); err == nil {
		t.Error("Listen after Close succeeded")
	}
}

func TestListenPlainSharedPort(t *testing.T) {
	t.Parallel()
	f := newFixture(t, &Options{})
	f.seedBasic()
	apiURL, err := f.s.Listen("127.0.0.1:0", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	f.hc = &http.Client{Transport: tr}
	sub := f.createFlightSub(flightID)
	if !strings.HasPrefix(str(sub["fileUploadUrl"]), apiURL+"/ingestion/") {
		t.Errorf("fileUploadUrl %q not on %s", redact.URL(str(sub["fileUploadUrl"])), apiURL)
	}
	f.mustStatus(f.upload(str(sub["fileUploadUrl"]), []byte("abc")), 201)
	f.s.Inject(Fault{Reset: true, Times: -1}) // net/http retries a GET once on a fresh connection
	req, _ := http.NewRequestWithContext(t.Context(), "GET", apiURL+"/v1.0/my/applications/"+appID, nil)
	if res, err := f.hc.Do(req); err == nil {
		res.Body.Close()
		t.Error("reset request answered")
	}
}

func TestDefaultsAndTempDir(t *testing.T) {
	t.Parallel()
	s, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := s.blobDir
	if s.URL() != "https://store.storefake.test" || s.Handler() == nil {
		t.Errorf("URL %q", s.URL())
	}
	if d := DefaultStages(); d.CommitStarted <= 0 || d.Publishing <= 0 {
		t.Errorf("DefaultStages %+v", d)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("temporary blob dir %s left behind: %v", dir, err)
	}
}
