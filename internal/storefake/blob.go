package storefake

import (
	"archive/zip"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/storeflight/storeflight/internal/msix"
)

// blobGrant is the SAS handed out with one submission's fileUploadUrl.
type blobGrant struct {
	sig    string
	expiry time.Time
}

const blobAPIVersion = "2019-12-12"

var etagSeq atomic.Uint64

// grantUpload gives sub a fresh blob and a SAS URL for it. s.mu is held.
func (s *Server) grantUpload(sub *submission) {
	name := newGUID()
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	sig := []byte(base64.StdEncoding.EncodeToString(raw))
	// Real signatures often hold a '+', which a careless client sends raw
	// and the service then reads as a space: make sure every one here does.
	sig[7] = '+'
	exp := s.clock.Now().Add(s.sasTTL).UTC().Truncate(time.Second)
	s.blobs[name] = &blobGrant{sig: string(sig), expiry: exp}
	sub.blobName = name
	sub.uploadURL = s.blobBase + blobContainer + name +
		"?sv=" + blobAPIVersion + "&sr=b&sp=rwl&se=" + url.QueryEscape(exp.Format(time.RFC3339)) +
		"&sig=" + strings.ReplaceAll(string(sig), "=", "%3D")
}

func (s *Server) blobPath(name string) string { return filepath.Join(s.blobDir, name) }

func (s *Server) blockDir(name string) string { return filepath.Join(s.blobDir, ".blocks", name) }

func (s *Server) writeBlobError(w http.ResponseWriter, status int, code, msg string) {
	body := fmt.Sprintf(`<?xml version="1.0" encoding="utf-8"?><Error><Code>%s</Code><Message>%s
RequestId:%s
Time:%s</Message></Error>`, xmlEscape(code), xmlEscape(msg), w.Header().Get("x-ms-request-id"), s.clock.Now().UTC().Format("2006-01-02T15:04:05.0000000Z"))
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("x-ms-error-code", code)
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// serveBlob is the Azure Blob endpoint for fileUploadUrl SAS URLs.
func (s *Server) serveBlob(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("x-ms-request-id", newGUID())
	v := r.Header.Get("x-ms-version")
	if v == "" {
		v = blobAPIVersion
	}
	h.Set("x-ms-version", v)
	h.Set("Date", s.clock.Now().UTC().Format(http.TimeFormat))
	if id := r.Header.Get("x-ms-client-request-id"); id != "" {
		h.Set("x-ms-client-request-id", id)
	}
	if r.Header.Get("Authorization") != "" {
		s.writeBlobError(w, http.StatusBadRequest, "InvalidAuthenticationInfo",
			"Authentication information is not given in the correct format: a SAS request must not carry an Authorization header.")
		return
	}
	name := strings.TrimPrefix(r.URL.Path, blobContainer)
	q := r.URL.Query()
	s.mu.Lock()
	g := s.blobs[name]
	now := s.clock.Now()
	s.mu.Unlock()
	if g == nil || q.Get("sig") != g.sig {
		s.writeBlobError(w, http.StatusForbidden, "AuthenticationFailed",
			"Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.")
		return
	}
	se, err := time.Parse(time.RFC3339, q.Get("se"))
	if err != nil || !se.Equal(g.expiry) {
		s.writeBlobError(w, http.StatusForbidden, "AuthenticationFailed", "Signature fields not well formed.")
		return
	}
	if !now.Before(se) {
		s.writeBlobError(w, http.StatusForbidden, "AuthenticationFailed", "Signed expiry time must be after the current time: the SAS has expired.")
		return
	}
	comp := q.Get("comp")
	switch {
	case r.Method == http.MethodPut && comp == "":
		s.putBlob(w, r, name)
	case r.Method == http.MethodPut && comp == "block":
		s.putBlock(w, r, name)
	case r.Method == http.MethodPut && comp == "blocklist":
		s.putBlockList(w, r, name)
	case (r.Method == http.MethodGet || r.Method == http.MethodHead) && comp == "":
		s.getBlob(w, r, name)
	case r.Method == http.MethodPut || r.Method == http.MethodGet:
		s.writeBlobError(w, http.StatusBadRequest, "InvalidQueryParameterValue", "Value for one of the query parameters specified in the request URI is invalid: comp.")
	default:
		s.writeBlobError(w, http.StatusMethodNotAllowed, "UnsupportedHttpVerb", "The resource doesn't support the specified HTTP verb.")
	}
}

func (s *Server) setBlobWritten(w http.ResponseWriter) {
	now := s.clock.Now().UTC()
	w.Header().Set("ETag", fmt.Sprintf(`"0x%X%04X"`, now.UnixNano(), etagSeq.Add(1)))
	w.Header().Set("Last-Modified", now.Format(http.TimeFormat))
	w.Header().Set("x-ms-request-server-encrypted", "true")
}

// writeStream copies the request body into a new file at dst (through a
// temporary file, so readers never see half a blob) and returns its MD5.
func (s *Server) writeStream(r *http.Request, dst string) ([]byte, error) {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(filepath.Dir(dst), ".part-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	sum := md5.New()
	n, err := io.Copy(io.MultiWriter(f, sum), r.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	if n != r.ContentLength {
		return nil, fmt.Errorf("body has %d bytes, Content-Length says %d", n, r.ContentLength)
	}
	if err := os.Rename(f.Name(), dst); err != nil {
		return nil, err
	}
	return sum.Sum(nil), nil
}

func (s *Server) putBlob(w http.ResponseWriter, r *http.Request, name string) {
	if bt := r.Header.Get("x-ms-blob-type"); bt != "BlockBlob" {
		s.writeBlobError(w, http.StatusBadRequest, "MissingRequiredHeader", "An HTTP header that's mandatory for this request is not specified: x-ms-blob-type: BlockBlob.")
		return
	}
	if r.ContentLength < 0 {
		s.writeBlobError(w, http.StatusLengthRequired, "MissingContentLengthHeader", "Content-Length HTTP header is missing.")
		return
	}
	sum, err := s.writeStream(r, s.blobPath(name))
	if err != nil {
		s.writeBlobError(w, http.StatusBadRequest, "InvalidInput", "The body could not be stored: "+err.Error())
		return
	}
	_ = os.RemoveAll(s.blockDir(name))
	s.setBlobWritten(w)
	w.Header().Set("Content-MD5", base64.StdEncoding.EncodeToString(sum))
	w.WriteHeader(http.StatusCreated)
}

// blockFile names a block's file by the hex of its ID, which is base64.
func blockFile(id string) (string, bool) {
	raw, err := base64.StdEncoding.DecodeString(id)
	if err != nil || len(raw) == 0 || len(raw) > 64 {
		return "", false
	}
	return hex.EncodeToString(raw), true
}

func (s *Server) putBlock(w http.ResponseWriter, r *http.Request, name string) {
	file, ok := blockFile(r.URL.Query().Get("blockid"))
	if !ok {
		s.writeBlobError(w, http.StatusBadRequest, "InvalidQueryParameterValue", "Value for one of the query parameters specified in the request URI is invalid: blockid.")
		return
	}
	if r.ContentLength < 0 {
		s.writeBlobError(w, http.StatusLengthRequired, "MissingContentLengthHeader", "Content-Length HTTP header is missing.")
		return
	}
	sum, err := s.writeStream(r, filepath.Join(s.blockDir(name), "u", file))
	if err != nil {
		s.writeBlobError(w, http.StatusBadRequest, "InvalidInput", "The block could not be stored: "+err.Error())
		return
	}
	w.Header().Set("Content-MD5", base64.StdEncoding.EncodeToString(sum))
	if crc := r.Header.Get("x-ms-content-crc64"); crc != "" {
		w.Header().Set("x-ms-content-crc64", crc)
	}
	w.Header().Set("x-ms-request-server-encrypted", "true")
	w.WriteHeader(http.StatusCreated)
}

type blockRef struct{ kind, file string }

// parseBlockList reads a Put Block List body, keeping the document order of
// Committed, Uncommitted and Latest entries.
func parseBlockList(r io.Reader) ([]blockRef, error) {
	dec := xml.NewDecoder(io.LimitReader(r, 4<<20))
	var refs []blockRef
	inList := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch se.Name.Local {
		case "BlockList":
			inList = true
		case "Committed", "Uncommitted", "Latest":
			if !inList {
				return nil, errors.New("block entry outside BlockList")
			}
			var id string
			if err := dec.DecodeElement(&id, &se); err != nil {
				return nil, err
			}
			file, ok := blockFile(strings.TrimSpace(id))
			if !ok {
				return nil, fmt.Errorf("block id %q is not valid base64", id)
			}
			refs = append(refs, blockRef{kind: se.Name.Local, file: file})
		default:
			return nil, fmt.Errorf("unexpected element %s", se.Name.Local)
		}
	}
	if !inList {
		return nil, errors.New("no BlockList element")
	}
	return refs, nil
}

func (s *Server) putBlockList(w http.ResponseWriter, r *http.Request, name string) {
	refs, err := parseBlockList(r.Body)
	if err != nil {
		s.writeBlobError(w, http.StatusBadRequest, "InvalidXmlDocument", "XML specified is not syntactically valid: "+err.Error())
		return
	}
	dir := s.blockDir(name)
	paths := make([]string, len(refs))
	for i, ref := range refs {
		u, c := filepath.Join(dir, "u", ref.file), filepath.Join(dir, "c", ref.file)
		var cands []string
		switch ref.kind {
		case "Uncommitted":
			cands = []string{u}
		case "Committed":
			cands = []string{c}
		default:
			cands = []string{u, c}
		}
		for _, p := range cands {
			if _, err := os.Stat(p); err == nil {
				paths[i] = p
				break
			}
		}
		if paths[i] == "" {
			s.writeBlobError(w, http.StatusBadRequest, "InvalidBlockList", "The specified block list is invalid.")
			return
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		s.writeBlobError(w, http.StatusInternalServerError, "InternalError", "The server encountered an internal error.")
		return
	}
	if err := s.composeBlob(name, dir, refs, paths); err != nil {
		s.writeBlobError(w, http.StatusInternalServerError, "InternalError", "The server encountered an internal error: "+err.Error())
		return
	}
	s.setBlobWritten(w)
	w.WriteHeader(http.StatusCreated)
}

// composeBlob concatenates the blocks into the blob, a block at a time, and
// keeps the blocks used as the committed set for a later block list.
func (s *Server) composeBlob(name, dir string, refs []blockRef, paths []string) error {
	out, err := os.CreateTemp(s.blobDir, ".part-*")
	if err != nil {
		return err
	}
	defer os.Remove(out.Name())
	for _, p := range paths {
		in, err := os.Open(p)
		if err != nil {
			out.Close()
			return err
		}
		_, err = io.Copy(out, in)
		in.Close()
		if err != nil {
			out.Close()
			return err
		}
	}
	if err := out.Close(); err != nil {
		return err
	}
	next, err := os.MkdirTemp(dir, "c.new-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(next)
	for i, ref := range refs {
		dst := filepath.Join(next, ref.file)
		if _, err := os.Stat(dst); err == nil {
			continue
		}
		if err := os.Link(paths[i], dst); err != nil {
			return err
		}
	}
	if err := os.Rename(out.Name(), s.blobPath(name)); err != nil {
		return err
	}
	_ = os.RemoveAll(filepath.Join(dir, "c"))
	_ = os.RemoveAll(filepath.Join(dir, "u"))
	return os.Rename(next, filepath.Join(dir, "c"))
}

func (s *Server) getBlob(w http.ResponseWriter, r *http.Request, name string) {
	f, err := os.Open(s.blobPath(name))
	if err != nil {
		s.writeBlobError(w, http.StatusNotFound, "BlobNotFound", "The specified blob does not exist.")
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		s.writeBlobError(w, http.StatusInternalServerError, "InternalError", "The server encountered an internal error.")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Length", fmt.Sprint(fi.Size()))
	h.Set("Last-Modified", fi.ModTime().UTC().Format(http.TimeFormat))
	h.Set("x-ms-blob-type", "BlockBlob")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = io.Copy(w, f)
	}
}

// checkUpload runs the commit-time checks of the uploaded ZIP (every
// PendingUpload package and image must be in it) and of the product page
// and, when they pass, settles the entries: packages get the version,
// architectures and device families read from their manifests, images
// become Uploaded, PendingDelete entries go. s.mu is held.
func (s *Server) checkUpload(sub *submission) (Detail, bool) {
	var pending []*pkg
	for _, p := range sub.packages {
		if p.fileStatus == "PendingUpload" {
			pending = append(pending, p)
		}
	}
	app := sub.flightID == ""
	var images []string
	if app {
		images = sub.pendingImages()
	}
	var zr *zip.Reader
	var blob *os.File
	if len(pending)+len(images) > 0 {
		f, err := os.Open(s.blobPath(sub.blobName))
		if err != nil {
			return Detail{Code: "InvalidArchive", Details: "No archive was uploaded to the submission's fileUploadUrl."}, false
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return Detail{Code: "InvalidArchive", Details: "The uploaded archive cannot be read."}, false
		}
		if zr, err = zip.NewReader(f, fi.Size()); err != nil {
			return Detail{Code: "InvalidArchive", Details: "The uploaded file is not a valid ZIP archive."}, false
		}
		blob = f
	}
	entries := map[string]*zip.File{}
	var names []string
	if zr != nil {
		for _, zf := range zr.File {
			entries[zf.Name] = zf
			names = append(names, zf.Name)
		}
	}
	var missing []string
	for _, p := range pending {
		if entries[p.fileName] == nil {
			missing = append(missing, p.fileName)
		}
	}
	for _, name := range images {
		if entries[name] == nil {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return Detail{Code: "MissingFiles", Details: "The following files were not found in the archive: " + strings.Join(missing, ", ") + "."}, false
	}
	if app {
		if d, bad := sub.gamingOptionsError(); bad {
			return d, false
		}
		sub.settleImages()
	}
	sub.invalid = nil
	for _, p := range pending {
		id, err := readIdentity(blob, entries[p.fileName])
		if err != nil {
			sub.invalid = append(sub.invalid, Detail{Code: "PackageValidationFailed", Details: fmt.Sprintf("The package %s could not be read: %v.", p.fileName, err)})
		} else {
			p.version = id.Version
			if p.extra == nil {
				p.extra = map[string]json.RawMessage{}
			}
			for k, v := range packageExtra(id.Architectures, id.DeviceFamilies, app) {
				p.extra[k] = v
			}
		}
		p.fileStatus = "Uploaded"
	}
	if len(pending)+len(images) > 0 {
		sub.uploadedFiles = names
	}
	sub.fresh, sub.deleted = pending, nil
	sub.packages = slices.DeleteFunc(sub.packages, func(p *pkg) bool {
		if p.fileStatus == "PendingDelete" {
			sub.deleted = append(sub.deleted, p)
			return true
		}
		return false
	})
	return Detail{}, true
}

// readIdentity reads a package's identity from its entry in the uploaded
// ZIP: in place when stored, streamed through when compressed.
func readIdentity(outer *os.File, zf *zip.File) (msix.Identity, error) {
	if zf.Method == zip.Store {
		off, err := zf.DataOffset()
		if err != nil {
			return msix.Identity{}, err
		}
		size := int64(zf.CompressedSize64)
		return msix.ReadIdentityAt(io.NewSectionReader(outer, off, size), size, zf.Name)
	}
	rc, err := zf.Open()
	if err != nil {
		return msix.Identity{}, err
	}
	defer rc.Close()
	return msix.ReadIdentityStream(rc, zf.Name)
}
