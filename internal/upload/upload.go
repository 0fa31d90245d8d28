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
// Blob. A block of entry data alone is sent as soon as a worker reaches
// it, read from the file once, and the CRC-32 of exactly the bytes sent
// goes into its entry's CRC (combined per block), so the headers always
// match the data uploaded. The few blocks that also hold header bytes (a
// local header carries its entry's CRC, with no data descriptor; the
// central directory carries all of them) are read ahead for the CRC of
// their data and sent last, once the headers are known, checked against
// that read. Block bodies are seekable, so a retry reads the block from
// the files again; memory does not grow with block size, concurrency or
// package size.
//
// A file that changes during the upload is caught by its size and
// modification time, compared before and after (and by the check of the
// blocks that hold headers): the upload fails with ErrChanged and the
// block list is not committed. A rewrite that keeps the size and lands
// within the file system's timestamp granularity goes unseen. That is the
// price of reading the data once, and what `curl -T` of a prebuilt archive
// does not catch either; the archive is still valid (its CRCs are those of
// the bytes sent), of a mix of old and new contents.
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
// blocks from Concurrency workers and one Put Block List. The workers take
// the blocks in order: one of entry data alone is sent at once (its data
// is read only then, and its entry's CRC takes the CRC of what was sent);
// one that holds header bytes is only read for the CRC of its data. It is
// sent, its data checked against that read, as soon as the headers it
// holds are known: a local header once its entry's CRC is, the central
// directory once all are. A change of size
// or modification time of any file since stat fails the upload before the
// block list is committed.
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

	nblocks := a.numBlocks()
	var ids []string
	if a.size >= o.BlockSize {
		prefix := make([]byte, 16)
		if _, err := rand.Read(prefix); err != nil {
			return nil, err
		}
		ids = make([]string, nblocks)
		for k := range ids {
			ids[k] = blockID(prefix, uint32(k))
		}
	}
	var sum hash.Hash
	hashAll := func() {
		// A second read, in order, checked against the CRCs of what was
		// (or will be) sent, so the hash is of the archive uploaded.
		sum = sha256.New()
		buf := make([]byte, 256<<10)
		for k := range nblocks {
			if ctx.Err() != nil {
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
	}

	headers := &blob.HTTPHeaders{BlobContentType: ptr("application/zip")}
	if ids == nil {
		// Put Blob: one request, as the SDK's UploadStream made for a
		// stream shorter than a block. It commits at once, so the data is
		// read for its CRCs and every check comes first.
		if err := a.preread(0, make([]byte, 256<<10)); err != nil {
			a.fail(err)
		}
		if ctx.Err() == nil {
			if err := a.finish(); err != nil {
				a.fail(err)
			}
		}
		if o.SHA256 && ctx.Err() == nil {
			hashAll()
		}
		if ctx.Err() == nil {
			if err := a.unchanged(); err != nil {
				a.fail(err)
			}
		}
		if ctx.Err() == nil {
			b := a.block(0)
			if _, err := client.Upload(ctx, b, &blockblob.UploadOptions{HTTPHeaders: headers}); err != nil {
				failUpload(err)
			} else if err := b.verify(); err != nil {
				a.fail(err)
			} else {
				progress(b.n)
			}
		}
	} else {
		sched, err := newSchedule(a)
		if err != nil {
			return nil, err
		}
		// sendHeld sends a block that holds header bytes, now known.
		sendHeld := func(k int64) bool {
			b := a.block(k)
			if _, err := client.StageBlock(ctx, ids[k], b, nil); err != nil {
				failUpload(err)
				return false
			}
			if err := b.verify(); err != nil {
				a.fail(err)
				return false
			}
			sched.sentHeld.Add(1)
			progress(b.n)
			return true
		}
		// next takes block k in archive order: entry data alone is sent
		// now; a block with header bytes is only read for its CRCs.
		next := func(k int64, buf []byte) bool {
			lo, hi := a.piecesIn(k)
			if a.hasHdr[k] {
				if err := a.preread(k, buf); err != nil {
					a.fail(err)
					return false
				}
			} else {
				b := a.block(k)
				if _, err := client.StageBlock(ctx, ids[k], b, nil); err != nil {
					failUpload(err)
					return false
				}
				if err := b.sums(); err != nil {
					a.fail(err)
					return false
				}
				a.sent(b)
				progress(b.n)
			}
			if err := sched.crcsKnown(lo, hi); err != nil {
				a.fail(err)
				return false
			}
			if a.hasHdr[k] {
				sched.done(k)
			}
			return true
		}
		var n atomic.Int64
		var workers sync.WaitGroup
		for range min(int64(o.Concurrency), nblocks) {
			workers.Go(func() {
				buf := make([]byte, 256<<10)
				for ctx.Err() == nil {
					// A block with headers that has become ready goes
					// first: it is the one holding the others' place.
					select {
					case k, ok := <-sched.ready:
						if ok {
							if !sendHeld(k) {
								return
							}
							continue
						}
					default:
					}
					if k := n.Add(1) - 1; k < nblocks {
						if !next(k, buf) {
							return
						}
						continue
					}
					select {
					case k, ok := <-sched.ready:
						if !ok || !sendHeld(k) {
							return
						}
					case <-ctx.Done():
						return
					}
				}
			})
		}
		workers.Wait()
		if ctx.Err() == nil && sched.sentHeld.Load() != sched.held {
			a.fail(fmt.Errorf("%d of %d blocks with headers sent", sched.sentHeld.Load(), sched.held))
		}
		if o.SHA256 && ctx.Err() == nil {
			hashAll()
		}
		if ctx.Err() == nil {
			if err := a.unchanged(); err != nil {
				a.fail(err)
			}
		}
		if ctx.Err() == nil {
			if _, err := client.CommitBlockList(ctx, ids, &blockblob.CommitBlockListOptions{HTTPHeaders: headers}); err != nil {
				failUpload(err)
			}
		}
	}

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

// schedule tracks what the blocks holding header bytes wait for: the CRC
// read of their own data, and each header they hold (a local header once
// its entry's pieces all have CRCs, the central directory once every
// entry's do). ready receives each such block once, when it may be sent.
type schedule struct {
	a        *archive
	pending  []atomic.Int64 // per entry: pieces without a CRC yet
	deps     []atomic.Int32 // per block: what a held block still waits for
	left     atomic.Int64   // entries without a CRC yet
	ready    chan int64
	held     int64
	pushed   atomic.Int64
	sentHeld atomic.Int64
}

func newSchedule(a *archive) (*schedule, error) {
	s := &schedule{
		a:       a,
		pending: make([]atomic.Int64, len(a.entries)),
		deps:    make([]atomic.Int32, a.numBlocks()),
	}
	for k, h := range a.hasHdr {
		if h {
			s.held++
			s.deps[k].Add(1) // its own CRC read
		}
	}
	for _, j := range a.hdrSeg {
		for k := range s.blocksOf(j) {
			s.deps[k].Add(1)
		}
	}
	s.ready = make(chan int64, s.held)
	s.left.Store(int64(len(a.entries)))
	for i := range a.entries {
		s.pending[i].Store(int64(a.first[i+1] - a.first[i]))
	}
	// Entries without data have their CRC (zero) already; with no
	// entries, so has the central directory.
	if len(a.entries) == 0 {
		if err := s.allKnown(); err != nil {
			return nil, err
		}
	}
	for i := range a.entries {
		if a.first[i+1] == a.first[i] {
			if err := s.entryKnown(i); err != nil {
				return nil, err
			}
		}
	}
	return s, nil
}

// blocksOf yields the blocks that segment j falls in.
func (s *schedule) blocksOf(j int) func(yield func(int64) bool) {
	seg := s.a.segs[j]
	return func(yield func(int64) bool) {
		for k := seg.off / s.a.blockSize; k <= (seg.off+seg.n-1)/s.a.blockSize; k++ {
			if !yield(k) {
				return
			}
		}
	}
}

// crcsKnown records that pieces lo to hi-1 have their CRCs.
func (s *schedule) crcsKnown(lo, hi int) error {
	for j := lo; j < hi; j++ {
		i := s.a.pieces[j].idx
		if s.pending[i].Add(-1) == 0 {
			if err := s.entryKnown(i); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *schedule) entryKnown(i int) error {
	if err := s.a.fillLocal(i); err != nil {
		return err
	}
	s.segKnown(s.a.hdrSeg[i])
	if s.left.Add(-1) == 0 {
		return s.allKnown()
	}
	return nil
}

func (s *schedule) allKnown() error {
	if err := s.a.finish(); err != nil {
		return err
	}
	s.segKnown(s.a.hdrSeg[len(s.a.entries)])
	return nil
}

func (s *schedule) segKnown(j int) {
	for k := range s.blocksOf(j) {
		s.done(k)
	}
}

// done counts one thing held block k waited for; the last makes it ready.
func (s *schedule) done(k int64) {
	if s.deps[k].Add(-1) == 0 {
		s.ready <- k
		if s.pushed.Add(1) == s.held {
			close(s.ready)
		}
	}
}
