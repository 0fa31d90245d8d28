package upload

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
)

// readBufSize is the buffer for reading files that are not sent (CRC
// reads, the optional SHA-256): large enough that syscalls do not dominate.
const readBufSize = 256 << 10

// uploader sends one archive. Its first failure cancels ctx, which stops
// every other request; a failure of the archive (a file unreadable or
// changed) is recorded in the archive and wins over what the blob host
// made of it.
type uploader struct {
	ctx     context.Context
	cancel  context.CancelCauseFunc
	client  *blockblob.Client
	a       *archive
	o       *Options
	headers *blob.HTTPHeaders
	now     func() time.Time // times each block, to adapt the blocks in flight

	mu      sync.Mutex
	sendErr error // the first error from the blob host
	sent    int64 // bytes accepted, for Options.Progress
	sum     hash.Hash
}

// upload sends the archive: one Put Blob if it fits in a block, else its
// blocks and one Put Block List. A change of size or modification time of
// any file since stat fails the upload before the blob is committed.
func upload(parent context.Context, client *blockblob.Client, a *archive, o *Options) (*Result, error) {
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	a.onErr = func(err error) { cancel(err) }
	u := &uploader{
		ctx: ctx, cancel: cancel, client: client, a: a, o: o,
		headers: &blob.HTTPHeaders{BlobContentType: ptr("application/zip")},
		now:     time.Now,
	}
	if o.now != nil {
		u.now = o.now
	}
	if a.size < o.BlockSize {
		u.putBlob()
	} else if err := u.putBlocks(); err != nil {
		return nil, err
	}
	return u.result(parent)
}

// putBlob sends an archive smaller than a block as one Put Blob. That
// commits at once, so the data is read for its CRCs and every check comes
// first; the data sent is then checked against that read.
func (u *uploader) putBlob() {
	if !u.check(
		func() error { return u.a.preread(0, make([]byte, readBufSize)) },
		u.a.finish,
		u.hashIfAsked,
		u.a.unchanged,
	) {
		return
	}
	b := u.a.block(0)
	if _, err := u.client.Upload(u.ctx, b, &blockblob.UploadOptions{HTTPHeaders: u.headers}); err != nil {
		u.failSend(opPutBlob, err)
		return
	}
	if err := b.verify(); err != nil {
		u.a.fail(err)
		return
	}
	u.accepted(b.n)
}

// putBlocks sends every block, as many at once as the flight allows, in
// the order the schedule gives, then commits the block list once every
// check passes.
func (u *uploader) putBlocks() error {
	n := u.a.numBlocks()
	ids, err := blockIDs(n)
	if err != nil {
		return err
	}
	sched, err := newSchedule(u.a)
	if err != nil {
		return err
	}
	fl := u.newFlight(n)
	var workers sync.WaitGroup
	for range min(int64(fl.max), n) {
		workers.Go(func() { u.work(sched, fl, ids) })
	}
	workers.Wait()
	if u.ctx.Err() == nil && !sched.allSent() {
		u.a.fail(fmt.Errorf("%d of %d blocks with headers sent", sched.sentHeld.Load(), sched.held))
	}
	if !u.check(u.hashIfAsked, u.a.unchanged) {
		return nil
	}
	if _, err := u.client.CommitBlockList(u.ctx, ids, &blockblob.CommitBlockListOptions{HTTPHeaders: u.headers}); err != nil {
		u.failSend(opPutBlockList, err)
	}
	return nil
}

// newFlight is the flight for n blocks: Options.Concurrency at all times
// when it is set, else adapting to the link (flight.go).
func (u *uploader) newFlight(n int64) *flight {
	if c := u.o.Concurrency; c > 0 {
		return newFlight(c, c, false, u.o.BlockSize)
	}
	start := int(min(startInFlight, n))
	return newFlight(start, maxInFlight, true, u.o.BlockSize)
}

// work takes blocks from the schedule, each once the flight allows it,
// until none is left or the upload fails.
func (u *uploader) work(sched *schedule, fl *flight, ids []string) {
	for fl.acquire(u.ctx) {
		t, ok := sched.take(u.ctx)
		if !ok {
			fl.release(0, 0)
			return
		}
		var sent int64
		var took time.Duration
		var err error
		switch {
		case t.ready:
			sent, took, err = u.sendHeld(sched, t.k, ids[t.k])
		case u.a.hasHdr[t.k]:
			err = u.prereadHeld(sched, t.k)
		case fl.readAhead(u.a.numBlocks() - t.k):
			sent, took, err = u.sendReadAhead(sched, t.k, ids[t.k])
		default:
			sent, took, err = u.sendData(sched, t.k, ids[t.k])
		}
		fl.release(sent, took)
		if err != nil {
			return
		}
	}
}

// sendData sends block k, entry data alone, and takes the CRCs of what it
// sent as its pieces'. It returns the bytes sent and how long that took.
func (u *uploader) sendData(sched *schedule, k int64, id string) (int64, time.Duration, error) {
	b, took, err := u.stage(k, id)
	if err != nil {
		return 0, 0, err
	}
	if err := b.sums(); err != nil {
		return 0, 0, u.a.fail(err)
	}
	u.a.sent(b)
	u.accepted(b.n)
	lo, hi := u.a.piecesIn(k)
	if err := sched.crcsKnown(lo, hi); err != nil {
		return 0, 0, u.a.fail(err)
	}
	return b.n, took, nil
}

// sendReadAhead reads block k, entry data alone, for its CRCs, so that
// the header blocks waiting for them may go, then sends it and checks
// what it sent against that read (flight.go says when).
func (u *uploader) sendReadAhead(sched *schedule, k int64, id string) (int64, time.Duration, error) {
	if err := u.prereadCRCs(sched, k); err != nil {
		return 0, 0, err
	}
	return u.sendChecked(k, id)
}

// readBufs holds the buffers of CRC reads: only a few blocks need one, so
// the workers share them.
var readBufs = sync.Pool{New: func() any { b := make([]byte, readBufSize); return &b }}

// prereadHeld reads the data of block k, which holds header bytes, for its
// CRCs; the block is sent once the schedule says it is ready.
func (u *uploader) prereadHeld(sched *schedule, k int64) error {
	if err := u.prereadCRCs(sched, k); err != nil {
		return err
	}
	sched.done(k)
	return nil
}

// prereadCRCs reads the data of block k for its pieces' CRCs and tells
// the schedule they are known.
func (u *uploader) prereadCRCs(sched *schedule, k int64) error {
	buf := readBufs.Get().(*[]byte)
	defer readBufs.Put(buf)
	if err := u.a.preread(k, *buf); err != nil {
		return u.a.fail(err)
	}
	lo, hi := u.a.piecesIn(k)
	if err := sched.crcsKnown(lo, hi); err != nil {
		return u.a.fail(err)
	}
	return nil
}

// sendHeld sends block k, which holds header bytes, now all known, and
// checks its data against the first read. It returns the bytes sent and
// how long that took.
func (u *uploader) sendHeld(sched *schedule, k int64, id string) (int64, time.Duration, error) {
	n, took, err := u.sendChecked(k, id)
	if err == nil {
		sched.sentHeld.Add(1)
	}
	return n, took, err
}

// sendChecked sends block k, whose data has been read for its CRCs, and
// checks what it sent against that read.
func (u *uploader) sendChecked(k int64, id string) (int64, time.Duration, error) {
	b, took, err := u.stage(k, id)
	if err != nil {
		return 0, 0, err
	}
	if err := b.verify(); err != nil {
		return 0, 0, u.a.fail(err)
	}
	u.accepted(b.n)
	return b.n, took, nil
}

// stage sends block k as a Put Block and returns its body, whose sums
// now cover what was sent, and how long the request took.
func (u *uploader) stage(k int64, id string) (*blockBody, time.Duration, error) {
	b := u.a.block(k)
	start := u.now()
	if _, err := u.client.StageBlock(u.ctx, id, b, nil); err != nil {
		return nil, 0, u.failSend(opPutBlock, err)
	}
	return b, u.now().Sub(start), nil
}

// check runs steps in order while the upload has not failed; a step's
// error spoils the archive. It reports whether all of them passed.
func (u *uploader) check(steps ...func() error) bool {
	for _, step := range steps {
		if u.ctx.Err() != nil {
			return false
		}
		if err := step(); err != nil {
			u.a.fail(err)
			return false
		}
	}
	return u.ctx.Err() == nil
}

// hashIfAsked computes the archive's SHA-256 when Options.SHA256 asks for
// it: a second read, in order, checked against the CRCs of what was (or
// will be) sent, so that the hash is of the archive uploaded.
func (u *uploader) hashIfAsked() error {
	if !u.o.SHA256 {
		return nil
	}
	sum := sha256.New()
	buf := make([]byte, readBufSize)
	for k := range u.a.numBlocks() {
		if err := u.ctx.Err(); err != nil {
			return nil // the cause is already recorded
		}
		b := u.a.block(k)
		if _, err := io.CopyBuffer(sum, onlyReader{b}, buf); err != nil {
			return err
		}
		if err := b.verify(); err != nil {
			return err
		}
	}
	u.sum = sum
	return nil
}

// failSend records the error of request op, if it is the first, and
// stops the upload. It returns the error.
func (u *uploader) failSend(op string, err error) error {
	err = blobError(op, err)
	u.mu.Lock()
	if u.sendErr == nil {
		u.sendErr = err
	}
	u.mu.Unlock()
	u.cancel(err)
	return err
}

// accepted counts n more bytes accepted by the blob host.
func (u *uploader) accepted(n int64) {
	if u.o.Progress == nil {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.sent += n
	u.o.Progress(u.sent, u.a.size)
}

// result is the upload's outcome: the caller's cancellation first, then
// a failure of the archive, then one of the blob host.
func (u *uploader) result(parent context.Context) (*Result, error) {
	switch {
	case parent.Err() != nil:
		return nil, context.Cause(parent)
	case u.a.err != nil:
		return nil, u.a.err
	case u.sendErr != nil:
		return nil, u.sendErr
	}
	names := make([]string, len(u.a.entries))
	for i, e := range u.a.entries {
		names[i] = e.Name
	}
	res := &Result{Bytes: u.a.size, Entries: names}
	if u.sum != nil {
		res.SHA256 = hex.EncodeToString(u.sum.Sum(nil))
	}
	return res, nil
}
