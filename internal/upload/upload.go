// Package upload sends a submission's package files to the Store: one ZIP
// archive, streamed straight into the submission's fileUploadUrl (an Azure
// Blob SAS URL) as a block blob.
//
// The archive is never written to disk or held in memory: archive/zip writes
// into an io.Pipe, and the Azure SDK's UploadStream cuts the stream into
// blocks that are sent in parallel (Put Block, then Put Block List) and
// retried one by one. Memory is bounded by BlockSize × Concurrency. A single
// Put Blob would need the whole size in advance, is capped (64 MiB for the
// API version in the Store's SAS), and a retry would resend everything.
//
// The request goes to the blob host with no credential other than the SAS
// itself: the Store bearer token is never sent there. Errors are redacted,
// because the SDK's transport errors quote the full SAS URL.
package upload

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"

	"github.com/storeflight/storeflight/internal/redact"
)

const (
	// DefaultBlockSize keeps block count low (50 000 blocks × 8 MiB is far
	// above the Store's 25 GB package limit) while memory stays modest.
	DefaultBlockSize = 8 << 20
	// DefaultConcurrency is the number of blocks in flight.
	DefaultConcurrency = 4
	// DefaultTryTimeout bounds one attempt of one block, so that a stalled
	// connection is retried instead of hanging the run.
	DefaultTryTimeout = 5 * time.Minute

	minBlockSize = 1 << 20    // the SDK's own minimum
	maxBlockSize = 4000 << 20 // Put Block's limit
)

// Options configures ZIP. A nil *Options means all defaults.
type Options struct {
	// BlockSize is the size of each uploaded block and of each of the
	// Concurrency buffers. Zero means DefaultBlockSize; values below 1 MiB
	// are raised to 1 MiB.
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
	// Progress, if set, is called as archive bytes are handed to the
	// uploader: at most once per block and once at the end, from one
	// goroutine at a time. total is the archive's exact size. Bytes handed
	// over are not yet acknowledged by the server.
	Progress func(sent, total int64)
	// SHA256 asks for the archive's SHA-256 in Result.SHA256. It is off by
	// default: on the writer's side of the pipe it cost 40% of the upload's
	// CPU and a third of its throughput on loopback (BENCHMARKS.md), and
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

	pr, pw := io.Pipe()
	// Both ends are closed on cancel: the SDK may be blocked reading (a
	// block buffer is free) or the ZIP writer blocked writing (all buffers
	// are in flight); either way both give up at once.
	stop := context.AfterFunc(ctx, func() {
		pr.CloseWithError(context.Cause(ctx))
		pw.CloseWithError(context.Cause(ctx))
	})
	defer stop()

	// The hash runs on the writer's side of the pipe, alongside the uploads.
	var zw io.Writer = pw
	var sum hash.Hash
	if o.SHA256 {
		sum = sha256.New()
		zw = io.MultiWriter(pw, sum)
	}
	type written struct {
		n   int64
		err error
	}
	done := make(chan written, 1)
	go func() {
		n, err := writeZIP(zw, entries)
		if err == nil && n != total {
			err = fmt.Errorf("%w: archive is %d bytes, expected %d", ErrChanged, n, total)
		}
		pw.CloseWithError(err) // nil means EOF
		done <- written{n, err}
	}()

	body := &progressReader{r: pr, total: total, step: o.BlockSize, fn: o.Progress}
	_, upErr := client.UploadStream(ctx, body, &blockblob.UploadStreamOptions{
		BlockSize:   o.BlockSize,
		Concurrency: o.Concurrency,
		HTTPHeaders: &blob.HTTPHeaders{BlobContentType: ptr("application/zip")},
	})
	// If the upload failed early the writer may be blocked on the pipe.
	pr.CloseWithError(errUploadStopped)
	w := <-done

	switch {
	case ctx.Err() != nil:
		return nil, context.Cause(ctx)
	case w.err != nil && !errors.Is(w.err, errUploadStopped):
		// The archive could not be produced (unreadable or changed file);
		// that is the cause, whatever the SDK made of the broken stream.
		return nil, w.err
	case upErr != nil:
		return nil, upErr
	}
	body.report(true)
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name
	}
	res := &Result{Bytes: w.n, Entries: names}
	if sum != nil {
		res.SHA256 = hex.EncodeToString(sum.Sum(nil))
	}
	return res, nil
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

// progressReader counts what the uploader reads and reports it once per
// step bytes.
type progressReader struct {
	r           io.Reader
	fn          func(sent, total int64)
	total, step int64
	sent, last  int64
	reported    bool
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.sent += int64(n)
	p.report(false)
	return n, err
}

func (p *progressReader) report(final bool) {
	if p.fn == nil {
		return
	}
	if final || p.sent-p.last >= p.step || (p.sent == p.total && !p.reported) {
		if p.sent == p.total {
			if p.reported {
				return
			}
			p.reported = true
		}
		p.last = p.sent
		p.fn(p.sent, p.total)
	}
}

func ptr[T any](v T) *T { return &v }
