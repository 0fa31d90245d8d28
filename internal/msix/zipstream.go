package msix

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// ZIP record signatures (APPNOTE.TXT 4.3).
var (
	sigLocalHeader   = []byte("PK\x03\x04")
	sigCentralHeader = []byte("PK\x01\x02")
	sigDescriptor    = []byte("PK\x07\x08")
)

const (
	localHeaderLen = 30
	flagEncrypted  = 0x1
	flagDescriptor = 0x8
	// maxDescriptor is the longest data descriptor: signature, CRC and two
	// 8-byte sizes, which the MSIX packaging SDK writes for every entry.
	maxDescriptor = 24
	// maxStreamed bounds how much of one entry is read through. The Store
	// takes packages of up to 25 GB; a deflate bomb stops here.
	maxStreamed = 25 << 30
)

// zipStream walks a ZIP archive forward from its first local header, for an
// archive that is itself a compressed entry of another one and so cannot be
// read at random (no central directory, no temp file). It handles what
// package writers produce: stored and deflated entries, sizes in the local
// header or only in a data descriptor after the data (the MSIX packaging
// SDK writes every entry that way, 4- or 8-byte sizes, no ZIP64 extra), and
// ZIP64 extra fields. It stops at the central directory.
type zipStream struct {
	br   *bufio.Reader
	prev *streamEntry
}

func newZipStream(r io.Reader) *zipStream {
	return &zipStream{br: bufio.NewReaderSize(r, 64<<10)}
}

// streamEntry is the entry being read; finish skips what the caller left
// unread and consumes its data descriptor, leaving the stream at the next
// header.
type streamEntry struct {
	name   string
	body   io.Reader
	finish func() error
}

// next returns the next entry's name and a reader of its uncompressed
// content, valid until the following call; io.EOF after the last entry.
func (z *zipStream) next() (string, io.Reader, error) {
	if z.prev != nil {
		err := z.prev.finish()
		name := z.prev.name
		z.prev = nil
		if err != nil {
			return "", nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	sig, err := z.br.Peek(4)
	if err != nil {
		return "", nil, fmt.Errorf("read ZIP header: %w", noEOF(err))
	}
	switch {
	case bytes.Equal(sig, sigCentralHeader):
		return "", nil, io.EOF
	case !bytes.Equal(sig, sigLocalHeader):
		return "", nil, errors.New("not a ZIP archive (no local file header where one should be)")
	}
	var h [localHeaderLen]byte
	if _, err := io.ReadFull(z.br, h[:]); err != nil {
		return "", nil, fmt.Errorf("read ZIP header: %w", noEOF(err))
	}
	flags := binary.LittleEndian.Uint16(h[6:])
	method := binary.LittleEndian.Uint16(h[8:])
	compSize := uint64(binary.LittleEndian.Uint32(h[18:]))
	size := uint64(binary.LittleEndian.Uint32(h[22:]))
	nameAndExtra := make([]byte, int(binary.LittleEndian.Uint16(h[26:]))+int(binary.LittleEndian.Uint16(h[28:])))
	if _, err := io.ReadFull(z.br, nameAndExtra); err != nil {
		return "", nil, fmt.Errorf("read ZIP header: %w", noEOF(err))
	}
	nameLen := int(binary.LittleEndian.Uint16(h[26:]))
	e := &streamEntry{name: string(nameAndExtra[:nameLen])}
	if flags&flagEncrypted != 0 {
		return "", nil, fmt.Errorf("%s: encrypted ZIP entry", e.name)
	}
	compSize, _ = zip64Sizes(nameAndExtra[nameLen:], compSize, size)
	switch {
	case flags&flagDescriptor == 0 && (method == 0 || method == 8):
		if compSize > maxStreamed {
			return "", nil, fmt.Errorf("%s: entry of %d bytes is larger than any package", e.name, compSize)
		}
		raw := io.LimitReader(z.br, int64(compSize))
		e.body = raw
		if method == 8 {
			e.body = flate.NewReader(raw)
		}
		e.finish = func() error { return drain(raw) }
	case method == 8:
		e.body, e.finish = z.deflatedWithDescriptor()
	case method == 0:
		s := &storedScanner{br: z.br}
		e.body = s
		e.finish = func() error { return drain(s) }
	default:
		return "", nil, fmt.Errorf("%s: unsupported compression method %d", e.name, method)
	}
	z.prev = e
	return e.name, e.body, nil
}

// zip64Sizes takes the sizes from a ZIP64 extended information field for
// those the header marks as 0xFFFFFFFF (APPNOTE.TXT 4.5.3).
func zip64Sizes(extra []byte, compSize, size uint64) (uint64, uint64) {
	for len(extra) >= 4 {
		id := binary.LittleEndian.Uint16(extra)
		n := int(binary.LittleEndian.Uint16(extra[2:]))
		if 4+n > len(extra) {
			break
		}
		field := extra[4 : 4+n]
		if id == 0x0001 {
			if size == 0xFFFFFFFF && len(field) >= 8 {
				size, field = binary.LittleEndian.Uint64(field), field[8:]
			}
			if compSize == 0xFFFFFFFF && len(field) >= 8 {
				compSize = binary.LittleEndian.Uint64(field)
			}
		}
		extra = extra[4+n:]
	}
	return compSize, size
}

// deflatedWithDescriptor reads a deflated entry whose sizes follow its
// data: the deflate stream says where it ends. flate reads a
// bufio.Reader byte by byte and never past the stream's end, which is what
// lets the descriptor be read after it (compress/gzip relies on the same).
func (z *zipStream) deflatedWithDescriptor() (io.Reader, func() error) {
	comp := &countingByteReader{br: z.br}
	body := &countingReader{r: flate.NewReader(comp)}
	return body, func() error {
		if err := drain(body); err != nil {
			return err
		}
		return z.readDescriptor(comp.n, body.n)
	}
}

// readDescriptor consumes a data descriptor that must record compSize and
// size: with or without its optional signature, with 4- or 8-byte sizes.
func (z *zipStream) readDescriptor(compSize, size uint64) error {
	b, err := z.br.Peek(maxDescriptor)
	if err != nil && len(b) < 12 {
		return fmt.Errorf("read data descriptor: %w", noEOF(err))
	}
	if n := descriptorLen(b, compSize, size); n > 0 {
		_, err := z.br.Discard(n)
		return err
	}
	return errors.New("data descriptor does not match the entry's data")
}

// descriptorLen returns the length of the data descriptor at the start of
// b when it records compSize and size, else 0.
func descriptorLen(b []byte, compSize, size uint64) int {
	body := b
	sig := 0
	if bytes.HasPrefix(b, sigDescriptor) {
		body, sig = b[4:], 4
	}
	if len(body) >= 20 && binary.LittleEndian.Uint64(body[4:]) == compSize && binary.LittleEndian.Uint64(body[12:]) == size {
		return sig + 20
	}
	if len(body) >= 12 && binary.LittleEndian.Uint32(body[4:]) == uint32(compSize) && binary.LittleEndian.Uint32(body[8:]) == uint32(size) {
		return sig + 12
	}
	return 0
}

// storedScanner reads a stored entry whose size is only in the data
// descriptor after it. The end is where a descriptor follows whose CRC and
// sizes match the bytes read so far (and, for one without a signature,
// where the next header follows it): with the CRC, data that merely holds
// a descriptor's bytes (a package stored inside a bundle) is never taken
// for the end.
type storedScanner struct {
	br       *bufio.Reader
	n        uint64 // bytes returned so far
	crc      uint32 // of the bytes returned so far
	verified int    // bytes ahead known to be data
	end      int    // when found: data bytes left before the descriptor
	descLen  int
	found    bool
	done     bool
}

func (s *storedScanner) Read(p []byte) (int, error) {
	if s.done {
		return 0, io.EOF
	}
	if s.verified == 0 && !s.found {
		if err := s.scan(); err != nil {
			return 0, err
		}
	}
	if s.found && s.end == 0 {
		if _, err := s.br.Discard(s.descLen); err != nil {
			return 0, noEOF(err)
		}
		s.done = true
		return 0, io.EOF
	}
	limit := s.verified
	if s.found {
		limit = s.end
	}
	if len(p) > limit {
		p = p[:limit]
	}
	n, err := s.br.Read(p)
	s.n += uint64(n)
	if s.n > maxStreamed {
		return n, errors.New("stored entry larger than any package")
	}
	s.crc = crc32.Update(s.crc, crc32.IEEETable, p[:n])
	if s.found {
		s.end -= n
	} else {
		s.verified -= n
	}
	return n, noEOF(err)
}

// scan looks ahead for the end of the data; it sets found and end, or
// verified to the bytes that cannot be the start of a descriptor.
func (s *storedScanner) scan() error {
	buf, err := s.br.Peek(s.br.Size())
	atEOF := err != nil
	if atEOF && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return err
	}
	best := -1
	for i := 0; ; {
		j := bytes.Index(buf[i:], []byte("PK"))
		if j < 0 {
			break
		}
		j += i
		for _, start := range [...]int{j, j - 12, j - 20} {
			// Before the end of the input, a descriptor is judged only
			// when all of its longest form is in view.
			seen := atEOF || start <= len(buf)-maxDescriptor
			if start >= 0 && (best < 0 || start < best) && seen && s.endsAt(buf, start) {
				best = start
			}
		}
		i = j + 1
	}
	if best >= 0 {
		s.found, s.end = true, best
		s.descLen = descriptorLen(buf[best:], s.n+uint64(best), s.n+uint64(best))
		return nil
	}
	if atEOF {
		return errors.New("stored entry with no data descriptor after it: " + io.ErrUnexpectedEOF.Error())
	}
	// A descriptor starting in the last maxDescriptor bytes is not seen
	// whole yet; everything before that is data.
	s.verified = len(buf) - maxDescriptor
	return nil
}

// endsAt reports whether the data ends at buf[start], a data descriptor
// following with this entry's CRC and size (a stored entry's two sizes are
// equal).
func (s *storedScanner) endsAt(buf []byte, start int) bool {
	size := s.n + uint64(start)
	n := descriptorLen(buf[start:], size, size)
	if n == 0 {
		return false
	}
	if !bytes.HasPrefix(buf[start:], sigDescriptor) {
		// Without a signature, only a following header makes it certain.
		next := buf[start+n:]
		if len(next) < 4 || !bytes.Equal(next[:4], sigLocalHeader) && !bytes.Equal(next[:4], sigCentralHeader) {
			return false
		}
	}
	crcAt := 0
	if bytes.HasPrefix(buf[start:], sigDescriptor) {
		crcAt = 4
	}
	want := binary.LittleEndian.Uint32(buf[start+crcAt:])
	return crc32.Update(s.crc, crc32.IEEETable, buf[:start]) == want
}

type countingByteReader struct {
	br *bufio.Reader
	n  uint64
}

func (c *countingByteReader) Read(p []byte) (int, error) {
	n, err := c.br.Read(p)
	c.n += uint64(n)
	return n, err
}

func (c *countingByteReader) ReadByte() (byte, error) {
	b, err := c.br.ReadByte()
	if err == nil {
		c.n++
	}
	return b, err
}

type countingReader struct {
	r io.Reader
	n uint64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += uint64(n)
	if c.n > maxStreamed {
		return n, errors.New("entry inflates to more than any package")
	}
	return n, err
}

func drain(r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	return err
}

// noEOF turns an io.EOF in the middle of a record into
// io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
