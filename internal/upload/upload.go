// Package upload sends a submission's package files to the Store: one ZIP
// archive, streamed straight into the submission's fileUploadUrl (an Azure
// Blob SAS URL) as a block blob.
//
// The archive is never written to disk or held in memory. Its layout is
// known from stat alone (stored entries: header lengths do not depend on
// the CRCs that fill them), so it is served as ranges: header bytes made by
// archive/zip, entry data read straight from the files. Concurrency
// workers send it as Put Block requests of BlockSize bytes, then one Put
// Block List commits it; an archive smaller than a block goes as one Put
// Blob. Each file is read twice: once for its CRC-32 (the local header
// carries it, with no data descriptor), then for sending, and the data
// sent is checked against the first read, so a file that changes in
// between fails the upload before the block list is committed. A block
// waits only for the first read of the entries it holds. Block bodies are
// seekable, so a retry reads the block from the files again; memory does
// not grow with block size, concurrency or package size.
//
// The request goes to the blob host with no credential other than the SAS
// itself: the Store bearer token is never sent there. Errors are redacted,
// because the SDK's transport errors quote the full SAS URL.
package upload

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"

	"github.com/storeflight/storeflight/internal/redact"
)

const (
	// DefaultBlockSize keeps the block count and the requests per GB low
	// (50 000 blocks × 8 MiB is far above the Store's 25 GB package limit).
	// Memory does not depend on it: blocks are read from the files.
	DefaultBlockSize = 8 << 20
	// DefaultConcurrency is the number of blocks in flight.
	DefaultConcurrency = 4
	// DefaultTryTimeout bounds one attempt of one block, so that a stalled
	// connection is retried instead of hanging the run.
	DefaultTryTimeout = 5 * time.Minute

	minBlockSize = 1 << 20    // the SDK's own minimum
	maxBlockSize = 4000 << 20 // Put Block's limit
	maxBlocks    = 50_000     // blocks in one block blob
)

// Options configures ZIP. A nil *Options means all defaults.
type Options struct {
	// BlockSize is the size of each uploaded block. Zero means
	// DefaultBlockSize; values below 1 MiB are raised to 1 MiB. An archive
	// smaller than one block is sent as a single Put Blob.
	BlockSize int64
	// Concurrency is the number of blocks uploaded at once. Zero means
	// DefaultConcurrency.
	Concurrency int
	// Transport sends the requests, for example the simulator's in-process
	// *http.Client. Nil means azcore's default transport. It must not add
	// any authorization of its own: the SAS in the URL is the credential.
	Transport policy.Transporter
	// Retry is azcore's per-request retry policy, applied to each block
	// separately. Zero fields take azcore's defaults (3 retries, 800 ms
	// initial delay, 60 s cap), except TryTimeout: zero means
	// DefaultTryTimeout and a negative value means no per-try limit.
	Retry policy.RetryOptions
	// Progress, if set, is called as each block is accepted by the server,
	// with the bytes accepted so far (blocks complete out of order; sent
	// only grows): once per block, from one goroutine at a time. total is
	// the archive's exact size. The last call has sent == total, before
	// the block list is committed.
	Progress func(sent, total int64)
	// SHA256 asks for the archive's SHA-256 in Result.SHA256. It is off by
	// default: it costs a third read of every file, in order, alongside
	// the upload (checked against the first read like the upload's), and
	// the pipeline does not use it.
	SHA256 bool
}

// Result describes a finished upload.
type Result struct {
	// Bytes is the size of the uploaded archive.
	Bytes int64
	// SHA256 is the hex SHA-256 of the uploaded archive, when
	// Options.SHA256 asked for it; "" otherwise.
	SHA256 string
	// Entries are the entry names, in archive order.
	Entries []string
}

// ZIP archives files (see WriteZIP) and uploads the archive to sasURL as a
// block blob with Content-Type application/zip. It stops promptly when ctx
// ends. Every error it returns is redacted and begins "upload packages:".
func ZIP(ctx context.Context, sasURL string, files []File, opts *Options) (*Result, error) {
	res, err := uploadZIP(ctx, sasURL, files, opts)
	if err != nil {
		return nil, redact.Error(fmt.Errorf("upload packages: %w", err))
	}
	return res, nil
}

func uploadZIP(ctx context.Context, sasURL string, files []File, opts *Options) (*Result, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.BlockSize == 0 {
		o.BlockSize = DefaultBlockSize
	}
	o.BlockSize = min(max(o.BlockSize, minBlockSize), maxBlockSize)
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	switch {
	case o.Retry.TryTimeout == 0:
		o.Retry.TryTimeout = DefaultTryTimeout
	case o.Retry.TryTimeout < 0:
		o.Retry.TryTimeout = 0
	}

	entries, err := stat(files)
	if err != nil {
		return nil, err
	}
	total, err := zipSize(entries)
	if err != nil {
		return nil, err
	}

	transport := o.Transport
	if transport == nil {
		transport = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	client, err := blockblob.NewClientWithNoCredential(EscapePlus(sasURL), &blockblob.ClientOptions{
		ClientOptions: azcore.ClientOptions{Transport: guardTransport{next: transport}, Retry: o.Retry},
	})
	if err != nil {
		return nil, err
	}

	a, err := newArchive(entries, o.BlockSize, openSource, nil)
	if err != nil {
		return nil, err
	}
	defer a.close()
	if n := a.numBlocks(); n > maxBlocks && a.size >= o.BlockSize {
		return nil, fmt.Errorf("archive of %d bytes needs %d blocks of %d bytes, more than a blob's %d", a.size, n, o.BlockSize, maxBlocks)
	}
	if a.size != total {
		return nil, fmt.Errorf("archive laid out as %d bytes, sized as %d", a.size, total)
	}
	return upload(ctx, client, a, &o)
}

// upload sends the archive: one Put Blob if it fits in a block, else its
// blocks from Concurrency workers and one Put Block List. Each block waits
// only for the CRCs of the entries it holds, so the first read of later
// files overlaps the upload of earlier ones.
func upload(parent context.Context, client *blockblob.Client, a *archive, o *Options) (*Result, error) {
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	a.onErr = func(err error) { cancel(err) }

	var (
		mu    sync.Mutex
		upErr error
	)
	failUpload := func(err error) {
		mu.Lock()
		if upErr == nil {
			upErr = err
		}
		mu.Unlock()
		cancel(err)
	}
	var sent int64
	progress := func(n int64) {
		if o.Progress == nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		sent += n
		o.Progress(sent, a.size)
	}

	var wg sync.WaitGroup
	wg.Go(func() { a.readCRCs(ctx.Done(), o.Concurrency) })

	var sum hash.Hash
	if o.SHA256 {
		// A third read, in order, alongside the upload; it checks the
		// pieces' CRCs like the upload does, so the hash is of what was sent.
		sum = sha256.New()
		wg.Go(func() {
			buf := make([]byte, 256<<10)
			for k := range a.numBlocks() {
				if !wait(ctx, a.need(k)) {
					return
				}
				b := a.block(k)
				if _, err := io.CopyBuffer(sum, onlyReader{b}, buf); err != nil {
					a.fail(err)
					return
				}
				if err := b.verify(); err != nil {
					a.fail(err)
					return
				}
			}
		})
	}

	headers := &blob.HTTPHeaders{BlobContentType: ptr("application/zip")}
	nblocks := a.numBlocks()
	if a.size < o.BlockSize {
		// Put Blob: one request, as the SDK's UploadStream made for a
		// stream shorter than a block.
		if wait(ctx, a.need(0)) {
			b := a.block(0)
			if _, err := client.Upload(ctx, b, &blockblob.UploadOptions{HTTPHeaders: headers}); err != nil {
				failUpload(err)
			} else if err := b.verify(); err != nil {
				a.fail(err)
			} else {
				progress(b.n)
			}
		}
		wg.Wait()
	} else {
		prefix := make([]byte, 16)
		if _, err := rand.Read(prefix); err != nil {
			return nil, err
		}
		ids := make([]string, nblocks)
		for k := range ids {
			ids[k] = blockID(prefix, uint32(k))
		}
		var next atomic.Int64
		var workers sync.WaitGroup
		for range min(int64(o.Concurrency), nblocks) {
			workers.Go(func() {
				for {
					k := next.Add(1) - 1
					if k >= nblocks || !wait(ctx, a.need(k)) {
						return
					}
					b := a.block(k)
					if _, err := client.StageBlock(ctx, ids[k], b, nil); err != nil {
						failUpload(err)
						return
					}
					if err := b.verify(); err != nil {
						a.fail(err)
						return
					}
					progress(b.n)
				}
			})
		}
		workers.Wait()
		wg.Wait() // the central directory's CRC read, and the hash
		if ctx.Err() == nil {
			// A file that grew during the upload has more than its
			// header says; the blocks sent hold only the first part.
			for i := range a.entries {
				if err := a.checkSize(i); err != nil {
					a.fail(err)
					break
				}
			}
		}
		if ctx.Err() == nil {
			if _, err := client.CommitBlockList(ctx, ids, &blockblob.CommitBlockListOptions{HTTPHeaders: headers}); err != nil {
				failUpload(err)
			}
		}
	}
	cancel(errUploadStopped) // stops the CRC read if the upload ended early
	wg.Wait()

	switch {
	case parent.Err() != nil:
		return nil, context.Cause(parent)
	case a.err != nil:
		// The archive could not be produced (unreadable or changed file);
		// that is the cause, whatever the upload made of it.
		return nil, a.err
	case upErr != nil:
		return nil, upErr
	}
	names := make([]string, len(a.entries))
	for i, e := range a.entries {
		names[i] = e.Name
	}
	res := &Result{Bytes: a.size, Entries: names}
	if sum != nil {
		res.SHA256 = hex.EncodeToString(sum.Sum(nil))
	}
	return res, nil
}

// wait reports whether ch closed before ctx ended.
func wait(ctx context.Context, ch <-chan struct{}) bool {
	select {
	case <-ch:
		return ctx.Err() == nil
	case <-ctx.Done():
		return false
	}
}

// blockID has the shape the SDK's UploadStream used (64 bytes: a random
// prefix and the block number, base64), because every block ID of one
// blob, uncommitted ones left by an earlier attempt included, must have
// the same length.
func blockID(prefix []byte, k uint32) string {
	var id [64]byte
	copy(id[:], prefix)
	binary.BigEndian.PutUint32(id[16:], k)
	return base64.StdEncoding.EncodeToString(id[:])
}

var errUploadStopped = errors.New("upload stopped")

// EscapePlus returns sasURL with every '+' in its query written as %2B. The
// Store's SAS URLs can carry a raw '+' in the base64 signature; a query
// parser reads it as a space and the signature no longer matches (the
// Store's own samples do the same replacement).
func EscapePlus(sasURL string) string {
	i := strings.IndexByte(sasURL, '?')
	if i < 0 {
		return sasURL
	}
	return sasURL[:i] + strings.ReplaceAll(sasURL[i:], "+", "%2B")
}

func ptr[T any](v T) *T { return &v }
