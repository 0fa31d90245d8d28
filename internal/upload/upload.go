package upload

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"

	"github.com/storeflight/storeflight/internal/redact"
)

const (
	// DefaultBlockSize keeps the block count and the requests per GB low
	// (50 000 blocks × 8 MiB is far above the Store's 25 GB package limit).
	// Memory does not depend on it: blocks are read from the files.
	DefaultBlockSize = 8 << 20
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
	// Concurrency fixes the number of blocks uploaded at once. Zero, the
	// default, adapts it to the link (flight.go): a few on a fast link,
	// up to 64 on a slow or long one.
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
	// now, if set, replaces time.Now in timing the blocks (tests).
	now func() time.Time
	// SHA256 asks for the archive's SHA-256 in Result.SHA256. It is off by
	// default: it costs a second read of every file, in order, once the
	// blocks are staged and before the commit (checked against the CRCs
	// of what was sent), and the pipeline does not use it.
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
// ends. Every error it returns is redacted; one from the blob host is a
// *BlobError.
func ZIP(ctx context.Context, sasURL string, files []File, opts *Options) (*Result, error) {
	res, err := uploadZIP(ctx, sasURL, files, opts)
	if err != nil {
		return nil, redact.Error(err)
	}
	return res, nil
}

func uploadZIP(ctx context.Context, sasURL string, files []File, opts *Options) (*Result, error) {
	o := withDefaults(opts)
	entries, err := stat(files)
	if err != nil {
		return nil, err
	}
	total, err := zipSize(entries)
	if err != nil {
		return nil, err
	}
	client, err := newClient(sasURL, &o)
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

// withDefaults returns a copy of opts with every zero field set to its
// default and the block size within the service's limits.
func withDefaults(opts *Options) Options {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.BlockSize == 0 {
		o.BlockSize = DefaultBlockSize
	}
	o.BlockSize = min(max(o.BlockSize, minBlockSize), maxBlockSize)
	o.Concurrency = max(o.Concurrency, 0)
	switch {
	case o.Retry.TryTimeout == 0:
		o.Retry.TryTimeout = DefaultTryTimeout
	case o.Retry.TryTimeout < 0:
		o.Retry.TryTimeout = 0
	}
	return o
}

// newClient is a block blob client for sasURL that carries no credential
// but the SAS and retries each request on its own.
func newClient(sasURL string, o *Options) (*blockblob.Client, error) {
	transport := o.Transport
	if transport == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		// Each block in flight keeps its connection for the next one:
		// net/http keeps two by default, and a new connection costs round
		// trips (TCP, TLS) and starts slow.
		t.MaxIdleConnsPerHost = maxInFlight
		transport = &http.Client{Transport: t}
	}
	return blockblob.NewClientWithNoCredential(EscapePlus(sasURL), &blockblob.ClientOptions{
		ClientOptions: azcore.ClientOptions{Transport: guardTransport{next: transport}, Retry: o.Retry},
	})
}

// blockIDs names n blocks: a random prefix shared by all of them, so that
// blocks an earlier attempt left uncommitted are never taken for these.
func blockIDs(n int64) ([]string, error) {
	prefix := make([]byte, 16)
	if _, err := rand.Read(prefix); err != nil {
		return nil, err
	}
	ids := make([]string, n)
	for k := range ids {
		ids[k] = blockID(prefix, uint32(k))
	}
	return ids, nil
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
