package upload

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
)

// Azurite's well-known development account (public, documented by Microsoft).
const (
	devAccount = "devstoreaccount1"
	devKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// azuriteURL returns the emulator's account URL from .ci/run, skipping the
// test when there is none, except under .ci/run (which sets
// STOREFLIGHT_TEST_REQUIRE_AZURITE=1), where a silent skip would hide that
// the upload was never tested against a real blob service. CI=true alone is
// not enough: GitHub sets it on the Windows and macOS jobs, which have no
// emulator.
func azuriteURL(t *testing.T) string {
	t.Helper()
	u := os.Getenv("STOREFLIGHT_TEST_AZURITE_URL")
	if u == "" {
		if os.Getenv("STOREFLIGHT_TEST_REQUIRE_AZURITE") == "1" {
			t.Fatal("STOREFLIGHT_TEST_AZURITE_URL is unset but STOREFLIGHT_TEST_REQUIRE_AZURITE=1; .ci/run starts Azurite and sets it")
		}
		t.Skip("STOREFLIGHT_TEST_AZURITE_URL is unset; run .ci/run, or start azurite-blob and set it")
	}
	return strings.TrimSuffix(u, "/")
}

// azuriteContainer creates a container on the emulator and returns the
// account URL, the container's name and the account's key.
func azuriteContainer(t *testing.T) (base, container string, cred *blob.SharedKeyCredential) {
	t.Helper()
	base = azuriteURL(t)
	cred, err := blob.NewSharedKeyCredential(devAccount, devKey)
	if err != nil {
		t.Fatal(err)
	}
	container = fmt.Sprintf("upload-test-%d", time.Now().UnixNano())

	// Creating a container needs an account SAS; one plain PUT is all it takes.
	acct, err := sas.AccountSignatureValues{
		Protocol:      sas.ProtocolHTTPSandHTTP,
		ExpiryTime:    time.Now().Add(time.Hour).UTC(),
		Permissions:   (&sas.AccountPermissions{Read: true, Write: true, Create: true}).String(),
		ResourceTypes: (&sas.AccountResourceTypes{Container: true, Object: true}).String(),
	}.SignWithSharedKey(cred)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, base+"/"+container+"?restype=container&"+acct.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create container: %s", resp.Status)
	}
	return base, container, cred
}

func TestZIPToAzurite(t *testing.T) {
	t.Parallel()
	base, container, cred := azuriteContainer(t)

	// A blob SAS written the way the Store may hand it out: a raw '+' in the
	// signature. Expiry times are tried until the signature has one.
	blobName := "submission.zip"
	var sasURL string
	for i := range 200 {
		qp, err := sas.BlobSignatureValues{
			Protocol:      sas.ProtocolHTTPSandHTTP,
			ExpiryTime:    time.Date(2099, 1, 1, 0, 0, i, 0, time.UTC),
			Permissions:   (&sas.BlobPermissions{Read: true, Create: true, Write: true}).String(),
			ContainerName: container,
			BlobName:      blobName,
		}.SignWithSharedKey(cred)
		if err != nil {
			t.Fatal(err)
		}
		if sig := qp.Signature(); strings.Contains(sig, "+") {
			q := strings.Replace(qp.Encode(), "sig="+url.QueryEscape(sig), "sig="+strings.ReplaceAll(url.QueryEscape(sig), "%2B", "+"), 1)
			sasURL = base + "/" + container + "/" + blobName + "?" + q
			break
		}
	}
	if !strings.Contains(sasURL, "+") {
		t.Fatal("no signature with '+' found in 200 tries")
	}

	sizes := map[string]int{"App_1.2.3.0_x64.msix": 2<<20 + 300_000, "App_1.2.3.0_arm64.msix": 50_000, "empty.txt": 0}
	files, want := writeFiles(t, sizes)
	res, err := ZIP(t.Context(), sasURL, files, &Options{BlockSize: 1 << 20, Concurrency: 3})
	if err != nil {
		t.Fatal(err)
	}

	bc, err := blockblob.NewClientWithNoCredential(EscapePlus(sasURL), nil)
	if err != nil {
		t.Fatal(err)
	}
	dl, err := bc.DownloadStream(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(dl.Body)
	dl.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(data)) != res.Bytes {
		t.Errorf("downloaded %d bytes, uploaded %d", len(data), res.Bytes)
	}
	if dl.ContentType == nil || *dl.ContentType != "application/zip" {
		t.Errorf("Content-Type = %v, want application/zip", dl.ContentType)
	}
	checkArchive(t, data, slices.Sorted(maps.Keys(sizes)), want)

	blocks, err := bc.GetBlockList(t.Context(), blockblob.BlockListTypeCommitted, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(blocks.CommittedBlocks); n < 3 {
		t.Errorf("%d committed blocks, want at least 3 (1 MiB blocks)", n)
	}
}

// An upload URL whose SAS has expired is refused by the blob service: the
// error is one line that names the request and the service's code, says
// it was a refusal, and carries nothing of the signature.
func TestZIPExpiredSASOnAzurite(t *testing.T) {
	t.Parallel()
	base, container, cred := azuriteContainer(t)
	qp, err := sas.BlobSignatureValues{
		Protocol:      sas.ProtocolHTTPSandHTTP,
		StartTime:     time.Now().Add(-2 * time.Hour).UTC(),
		ExpiryTime:    time.Now().Add(-time.Hour).UTC(),
		Permissions:   (&sas.BlobPermissions{Read: true, Create: true, Write: true}).String(),
		ContainerName: container,
		BlobName:      "submission.zip",
	}.SignWithSharedKey(cred)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := writeFiles(t, map[string]int{"App_x64.msix": 2 << 20})
	retry := policy.RetryOptions{MaxRetries: -1}
	_, err = ZIP(t.Context(), base+"/"+container+"/submission.zip?"+qp.Encode(), files,
		&Options{BlockSize: 1 << 20, Concurrency: 2, Retry: retry})
	var be *BlobError
	if !errors.As(err, &be) {
		t.Fatalf("err = %v (%T), want a *BlobError", err, err)
	}
	t.Logf("error: %v", err)
	msg := err.Error()
	if !be.Refused() || be.Op != opPutBlock || !strings.HasPrefix(msg, "Put Block: HTTP 403 ") || strings.ContainsAny(msg, "\r\n") {
		t.Errorf("error %q: want one line, a refused Put Block", msg)
	}
	if sig := qp.Signature(); strings.Contains(msg, sig) || strings.Contains(msg, url.QueryEscape(sig)) || strings.Contains(msg, "sig=") {
		t.Errorf("error carries the signature: %s", msg)
	}
}
