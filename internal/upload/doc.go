// Package upload sends a submission's package files to the Store: one ZIP
// archive of stored entries, streamed straight into the submission's
// fileUploadUrl (an Azure Blob SAS URL) as a block blob.
//
// Packages run to gigabytes and CI runners have little disk and memory to
// spare, so the archive is never written to disk or held in memory. Its
// layout is known from stat alone (stored entries: header lengths do not
// depend on the CRCs that fill them), so it is served as ranges: header
// bytes made by archive/zip, entry data read straight from the files
// (archive.go). It is cut into blocks of BlockSize on a fixed grid and sent
// as Put Block requests, then committed by one Put Block List; an archive
// smaller than a block goes as one Put Blob (send.go). How many blocks are
// in flight adapts to the link, with nothing to tune: a few where they
// share a bottleneck that a few fill, up to 64 on a slow or long path
// where each connection is the limit (flight.go). Block bodies are
// seekable, so azblob retries each block on its own by reading it from the
// files again (body.go); memory does not grow with block size, blocks in
// flight or package size.
//
// A block of entry data alone is sent as soon as a worker reaches it, read
// from its file once, and the CRC-32 of exactly the bytes sent goes into
// its entry's CRC (combined per block, crc.go), so the headers always match
// the data uploaded. A block that also holds header bytes (a local header
// carries its entry's CRC, with no data descriptor; the central directory
// carries all of them) is read ahead for the CRC of its data and sent once
// the headers it holds are known, checked against that read
// (schedule.go).
//
// A file that changes during the upload is caught by its size and
// modification time, compared before and after (and by the check of the
// blocks that hold headers): the upload fails with ErrChanged and the
// block list is not committed. A rewrite that keeps the size and lands
// within the file system's timestamp granularity goes unseen; the archive
// is still valid (its CRCs are those of the bytes sent), of a mix of old
// and new contents. Reading the data once is worth that, and a prebuilt
// archive sent with `curl -T` does not catch it either.
//
// The request goes to the blob host with no credential other than the SAS
// itself: the Store bearer token is never sent there. Errors are redacted,
// because the SDK's transport errors quote the full SAS URL.
package upload
