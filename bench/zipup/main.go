// Command zipup drives storeflight's real upload path (internal/upload.ZIP:
// a stored ZIP served as ranges to Put Block requests) outside the pipeline, so
// that its throughput and peak RSS can be measured on their own with
// /usr/bin/time. It also prepares what the comparisons need:
//
//	zipup gen    -dir D -size BYTES [-files N]   incompressible package files
//	zipup zip    -dir D -out FILE                the same archive, prebuilt (for curl -T)
//	zipup up     -dir D -url SAS [-block B] [-conc C]
//	zipup sas    -account URL -container NAME    an Azurite container and a blob SAS URL
//	zipup verify -url SAS -sha HEX               download the blob and check its SHA-256
//
// up prints one line: bytes, seconds, MB/s (10^6 bytes per second) and the
// archive's SHA-256.
package main

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"

	"github.com/storeflight/storeflight/internal/upload"
)

// Azurite's well-known development account (public, documented by Microsoft).
const (
	devAccount = "devstoreaccount1"
	devKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: zipup gen|zip|up|sas|verify [flags]")
		os.Exit(2)
	}
	cmd, args := os.Args[1], os.Args[2:]
	fs := flag.NewFlagSet(cmd, flag.ExitOnError)
	dir := fs.String("dir", "", "directory of package files")
	size := fs.Int64("size", 256<<20, "gen: total bytes")
	nfiles := fs.Int("files", 3, "gen: number of files (x64, arm64, x86 ...)")
	out := fs.String("out", "", "zip: archive to write")
	sasURL := fs.String("url", "", "up, verify: blob SAS URL")
	block := fs.Int64("block", 0, "up: block size (0: upload's default)")
	conc := fs.Int("conc", 0, "up: blocks in flight (0: adapting to the link, the upload's default)")
	account := fs.String("account", "", "sas: Azurite account URL, http://127.0.0.1:PORT/devstoreaccount1")
	container := fs.String("container", "bench", "sas: container to create")
	blobName := fs.String("blob", "submission.zip", "sas: blob name")
	wantSHA := fs.String("sha", "", "verify: expected SHA-256")
	hashIt := fs.Bool("sha256", false, "up: also compute the archive's SHA-256 (upload.Options.SHA256)")
	cpuProfile := fs.String("cpuprofile", "", "up: write a CPU profile here")
	_ = fs.Parse(args)

	var err error
	switch cmd {
	case "gen":
		err = gen(*dir, *size, *nfiles)
	case "zip":
		err = prebuild(*dir, *out)
	case "up":
		if *cpuProfile != "" {
			f, ferr := os.Create(*cpuProfile)
			if ferr != nil {
				err = ferr
				break
			}
			_ = pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
		err = up(*dir, *sasURL, &upload.Options{BlockSize: *block, Concurrency: *conc, SHA256: *hashIt})
	case "sas":
		err = makeSAS(*account, *container, *blobName)
	case "verify":
		err = verify(*sasURL, *wantSHA)
	default:
		err = fmt.Errorf("unknown command %q", cmd)
	}
	if err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "zipup:", err)
		os.Exit(1)
	}
}

// gen writes n files totalling size bytes from ChaCha8, which is
// incompressible and fast enough that generating 2 GiB takes about a second.
// Each file is a ZIP archive holding the random bytes as one stored entry
// (storeflight refuses a package that is not a ZIP archive), so a file is a
// few dozen bytes larger than its share.
func gen(dir string, size int64, n int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	archs := []string{"x64", "arm64", "x86", "arm"}
	rng := rand.NewChaCha8([32]byte{7})
	buf := make([]byte, 1<<20)
	for i := range n {
		// The first file takes half, as an x64 package does next to the rest.
		part := size / int64(n)
		if n > 1 && i == 0 {
			part = size / 2
		} else if n > 1 {
			part = (size - size/2) / int64(n-1)
		}
		if i == n-1 && n > 1 {
			part = size - size/2 - part*int64(n-2)
		}
		name := fmt.Sprintf("App_1.2.3.0_%s.msix", archs[i%len(archs)])
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		zw := zip.NewWriter(f)
		w, err := zw.CreateHeader(&zip.FileHeader{Name: "payload.bin", Method: zip.Store})
		if err != nil {
			f.Close()
			return err
		}
		for left := part; left > 0; {
			k := min(left, int64(len(buf)))
			_, _ = rng.Read(buf[:k])
			if _, err := w.Write(buf[:k]); err != nil {
				f.Close()
				return err
			}
			left -= k
		}
		if err := zw.Close(); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}

func files(dir string) ([]upload.File, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var fs []upload.File
	for _, e := range ents {
		if e.Type().IsRegular() {
			fs = append(fs, upload.File{Path: filepath.Join(dir, e.Name()), Name: e.Name()})
		}
	}
	slices.SortFunc(fs, func(a, b upload.File) int { return strings.Compare(a.Name, b.Name) })
	if len(fs) == 0 {
		return nil, fmt.Errorf("no files in %s", dir)
	}
	return fs, nil
}

func prebuild(dir, out string) error {
	fs, err := files(dir)
	if err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if _, err := upload.WriteZIP(f, fs); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func up(dir, sasURL string, opts *upload.Options) error {
	fs, err := files(dir)
	if err != nil {
		return err
	}
	t0 := time.Now()
	res, err := upload.ZIP(context.Background(), sasURL, fs, opts)
	if err != nil {
		return err
	}
	secs := time.Since(t0).Seconds()
	fmt.Printf("bytes=%d seconds=%.3f MBps=%.1f", res.Bytes, secs, float64(res.Bytes)/secs/1e6)
	if res.SHA256 != "" {
		fmt.Printf(" sha256=%s", res.SHA256)
	}
	fmt.Println()
	return nil
}

func makeSAS(account, container, blobName string) error {
	account = strings.TrimSuffix(account, "/")
	cred, err := blob.NewSharedKeyCredential(devAccount, devKey)
	if err != nil {
		return err
	}
	acct, err := sas.AccountSignatureValues{
		Protocol:      sas.ProtocolHTTPSandHTTP,
		ExpiryTime:    time.Now().Add(24 * time.Hour).UTC(),
		Permissions:   (&sas.AccountPermissions{Read: true, Write: true, Create: true}).String(),
		ResourceTypes: (&sas.AccountResourceTypes{Container: true, Object: true}).String(),
	}.SignWithSharedKey(cred)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(mustRequest(http.MethodPut, account+"/"+container+"?restype=container&"+acct.Encode()))
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusConflict {
		return fmt.Errorf("create container: %s", resp.Status)
	}
	qp, err := sas.BlobSignatureValues{
		Protocol:      sas.ProtocolHTTPSandHTTP,
		ExpiryTime:    time.Now().Add(24 * time.Hour).UTC(),
		Permissions:   (&sas.BlobPermissions{Read: true, Create: true, Write: true}).String(),
		ContainerName: container,
		BlobName:      blobName,
	}.SignWithSharedKey(cred)
	if err != nil {
		return err
	}
	fmt.Println(account + "/" + container + "/" + blobName + "?" + qp.Encode())
	return nil
}

func verify(sasURL, want string) error {
	bc, err := blockblob.NewClientWithNoCredential(sasURL, nil)
	if err != nil {
		return err
	}
	dl, err := bc.DownloadStream(context.Background(), nil)
	if err != nil {
		return err
	}
	defer dl.Body.Close()
	h := sha256.New()
	n, err := io.Copy(h, dl.Body)
	if err != nil {
		return err
	}
	got := hex.EncodeToString(h.Sum(nil))
	if got != want {
		return fmt.Errorf("blob has %d bytes with SHA-256 %s, want %s", n, got, want)
	}
	fmt.Printf("verified %d bytes\n", n)
	return nil
}

func mustRequest(method, u string) *http.Request {
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		panic(err)
	}
	return req
}
