// Package msix reads what storeflight needs from Windows app packages (the
// package identity: version, processor architectures and target device
// families) and writes small MSIX-shaped demo packages for --simulate and
// for tests.
//
// Packages (.msix, .appx), bundles (.msixbundle, .appxbundle) and upload
// files (.msixupload, .appxupload) are all ZIP archives; only manifests are
// read, never the payload. A package or bundle stored inside another
// archive is read in place; one that is compressed (an upload file made
// with compression, as Visual Studio does) is streamed through, with no
// temporary file and bounded memory: the inner archive is walked forward
// from its local headers, the way its writer laid it out.
package msix

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

const (
	packageManifest = "AppxManifest.xml"
	bundleManifest  = "AppxMetadata/AppxBundleManifest.xml"
	// maxManifest bounds how much of a manifest entry is read, so that a
	// hostile archive cannot make us inflate gigabytes.
	maxManifest = 4 << 20
	// maxDepth is how deep archives nest: an upload file holds a bundle,
	// which holds packages.
	maxDepth = 2
)

// ErrNoVersion reports a package whose manifest has no usable Identity
// Version.
var ErrNoVersion = errors.New("no package version in manifest")

// Identity is what a package's manifests say about it, as the Store reads
// it to decide which packages a new submission replaces.
type Identity struct {
	// Name is the package identity name (Identity Name).
	Name string
	// Version is the package version, four numbers ("1.2.3.0").
	Version string
	// Architectures are the processor architectures as the manifests spell
	// them ("x64", "arm64", "neutral"): one for a package, those of every
	// application package for a bundle (resource packages left out), in
	// manifest order without repeats.
	Architectures []string
	// DeviceFamilies are the TargetDeviceFamily names ("Windows.Desktop",
	// "Windows.Xbox", "Windows.Universal"), without repeats. Empty when no
	// manifest names one (a Windows 8.x package, or a flat bundle whose
	// packages are outside it): that means unknown, not none.
	DeviceFamilies []string
	// Bundle is true when the identity is a bundle's (directly or inside an
	// upload file).
	Bundle bool
}

// kind is what an archive is, by its file name's extension.
type kind int

const (
	kindPackage kind = iota + 1
	kindBundle
	kindUpload
)

func kindOf(name string) (kind, bool) {
	switch strings.ToLower(path.Ext(name)) {
	case ".msix", ".appx":
		return kindPackage, true
	case ".msixbundle", ".appxbundle":
		return kindBundle, true
	case ".msixupload", ".appxupload":
		return kindUpload, true
	}
	return 0, false
}

// ReadIdentity reads the identity of the package, bundle or upload file at
// path, chosen by its extension. The error names the file and, for an
// archive inside it, that archive.
func ReadIdentity(path string) (Identity, error) {
	base := filepath.Base(path)
	f, err := os.Open(path)
	if err != nil {
		return Identity{}, fmt.Errorf("read package %s: %w", base, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Identity{}, fmt.Errorf("read package %s: %w", base, err)
	}
	id, err := ReadIdentityAt(f, fi.Size(), base)
	if err != nil {
		return Identity{}, fmt.Errorf("read package %s: %w", base, err)
	}
	return id, nil
}

// ReadIdentityAt reads the identity of the archive in r (size bytes) whose
// file name is name (only its extension matters).
func ReadIdentityAt(r io.ReaderAt, size int64, name string) (Identity, error) {
	k, ok := kindOf(name)
	if !ok {
		return Identity{}, errUnknownType(name)
	}
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return Identity{}, err
	}
	return identityOf(randomArchive{zr}, k, 0)
}

// ReadIdentityStream reads the identity of the archive read from r, front
// to back, whose file name is name (only its extension matters). It reads
// r no further than the start of the archive's central directory.
func ReadIdentityStream(r io.Reader, name string) (Identity, error) {
	k, ok := kindOf(name)
	if !ok {
		return Identity{}, errUnknownType(name)
	}
	return identityOf(streamArchive{newZipStream(r)}, k, 0)
}

// Version returns the package version ("1.2.3.0") of the package, bundle
// or upload file at path. See ReadIdentity.
func Version(path string) (string, error) {
	id, err := ReadIdentity(path)
	if err != nil {
		return "", err
	}
	return id.Version, nil
}

func errUnknownType(name string) error {
	return fmt.Errorf("unknown package type %q (want .msix, .appx, .msixbundle, .appxbundle, .msixupload or .appxupload)", path.Ext(name))
}

// errStop ends a walk early once what was wanted is found.
var errStop = errors.New("stop")

func identityOf(a archive, k kind, depth int) (Identity, error) {
	switch k {
	case kindPackage:
		return packageIdentity(a)
	case kindBundle:
		return bundleIdentity(a, depth)
	default:
		return uploadIdentity(a, depth)
	}
}

func packageIdentity(a archive) (Identity, error) {
	var info packageInfo
	found := false
	err := a.each(func(e entry) error {
		if !strings.EqualFold(e.name, packageManifest) {
			return nil
		}
		found = true
		var err error
		info, err = readManifest(e, parsePackageManifest)
		if err != nil {
			return fmt.Errorf("%s: %w", packageManifest, err)
		}
		return errStop
	})
	if err != nil && !errors.Is(err, errStop) {
		return Identity{}, err
	}
	if !found {
		return Identity{}, fmt.Errorf("%s not found", packageManifest)
	}
	return Identity{Name: info.name, Version: info.version, Architectures: []string{info.arch}, DeviceFamilies: dedupe(info.families)}, nil
}

// bundleIdentity reads the bundle manifest and, on the way (it usually
// comes last), the manifests of the packages inside, for the device
// families that older bundle manifests do not list.
func bundleIdentity(a archive, depth int) (Identity, error) {
	var info bundleInfo
	found := false
	inner := map[string]packageResult{}
	err := a.each(func(e entry) error {
		if strings.EqualFold(e.name, bundleManifest) {
			found = true
			var err error
			if info, err = readManifest(e, parseBundleManifest); err != nil {
				return fmt.Errorf("%s: %w", bundleManifest, err)
			}
			return nil
		}
		if k, ok := kindOf(e.name); ok && k == kindPackage && depth < maxDepth {
			id, err := nestedIdentity(e, k, depth+1)
			inner[partName(e.name)] = packageResult{id, err}
		}
		return nil
	})
	if err != nil {
		return Identity{}, err
	}
	if !found {
		return Identity{}, fmt.Errorf("%s not found", bundleManifest)
	}
	id := Identity{Name: info.name, Version: info.version, Bundle: true}
	for _, p := range info.packages {
		if p.resource {
			continue
		}
		id.Architectures = append(id.Architectures, p.arch)
		families := p.families
		if len(families) == 0 {
			if r, ok := inner[partName(p.fileName)]; ok {
				if r.err != nil {
					return Identity{}, fmt.Errorf("%s: %w", p.fileName, r.err)
				}
				families = r.id.DeviceFamilies
			}
		}
		id.DeviceFamilies = append(id.DeviceFamilies, families...)
	}
	if len(id.Architectures) == 0 {
		return Identity{}, fmt.Errorf("%s lists no application package", bundleManifest)
	}
	id.Architectures, id.DeviceFamilies = dedupe(id.Architectures), dedupe(id.DeviceFamilies)
	return id, nil
}

type packageResult struct {
	id  Identity
	err error
}

// uploadIdentity reads the package or bundle inside an upload file (which
// also holds symbol files). Several packages must share a version; their
// architectures and device families add up.
func uploadIdentity(a archive, depth int) (Identity, error) {
	var ids []Identity
	err := a.each(func(e entry) error {
		k, ok := kindOf(e.name)
		if !ok || k == kindUpload || depth >= maxDepth {
			return nil
		}
		id, err := nestedIdentity(e, k, depth+1)
		if err != nil {
			return fmt.Errorf("%s: %w", e.name, err)
		}
		ids = append(ids, id)
		return nil
	})
	if err != nil {
		return Identity{}, err
	}
	if len(ids) == 0 {
		return Identity{}, errors.New("no package or bundle (.msix, .appx, .msixbundle, .appxbundle) inside the upload file")
	}
	out := ids[0]
	for _, id := range ids[1:] {
		if id.Version != out.Version {
			return Identity{}, fmt.Errorf("the upload file holds packages of different versions (%s and %s)", out.Version, id.Version)
		}
		out.Architectures = dedupe(append(out.Architectures, id.Architectures...))
		out.DeviceFamilies = dedupe(append(out.DeviceFamilies, id.DeviceFamilies...))
		out.Bundle = out.Bundle || id.Bundle
	}
	return out, nil
}

func readManifest[T any](e entry, parse func(io.Reader) (T, error)) (T, error) {
	var zero T
	rc, err := e.open()
	if err != nil {
		return zero, err
	}
	defer rc.Close()
	return parse(rc)
}

// partName maps a ZIP entry name or a bundle manifest FileName to one key:
// package writers percent-encode some characters of entry names (OPC part
// names), and case does not matter to Windows.
func partName(name string) string {
	if u, err := url.PathUnescape(name); err == nil {
		name = u
	}
	return strings.ToLower(strings.ReplaceAll(name, `\`, "/"))
}

// dedupe drops later repeats, ignoring case.
func dedupe(in []string) []string {
	var out []string
	for _, s := range in {
		if !slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, s) }) {
			out = append(out, s)
		}
	}
	return out
}

// archive is a ZIP archive read either at random (a file, or an entry
// stored in one) or front to back (an entry compressed in another).
type archive interface {
	// each calls fn for every entry in archive order until fn returns an
	// error, which it returns.
	each(fn func(entry) error) error
}

// entry is one member of an archive: a *zip.File, or the body of a
// streamed entry (readable until the walk moves on).
type entry struct {
	name   string
	file   *zip.File
	stream io.Reader
}

func (e entry) open() (io.ReadCloser, error) {
	if e.file != nil {
		return e.file.Open()
	}
	return io.NopCloser(e.stream), nil
}

// nestedIdentity reads the identity of an archive inside an archive: in
// place when it is stored in a file, else streamed through.
func nestedIdentity(e entry, k kind, depth int) (Identity, error) {
	if e.file != nil && e.file.Method == zip.Store {
		raw, err := e.file.OpenRaw()
		if err != nil {
			return Identity{}, err
		}
		if ra, ok := raw.(io.ReaderAt); ok {
			zr, err := zip.NewReader(ra, int64(e.file.CompressedSize64))
			if err != nil {
				return Identity{}, err
			}
			return identityOf(randomArchive{zr}, k, depth)
		}
	}
	rc, err := e.open()
	if err != nil {
		return Identity{}, err
	}
	defer rc.Close()
	return identityOf(streamArchive{newZipStream(rc)}, k, depth)
}

type randomArchive struct{ zr *zip.Reader }

func (a randomArchive) each(fn func(entry) error) error {
	for _, f := range a.zr.File {
		if err := fn(entry{name: f.Name, file: f}); err != nil {
			return err
		}
	}
	return nil
}

type streamArchive struct{ z *zipStream }

func (a streamArchive) each(fn func(entry) error) error {
	for {
		name, body, err := a.z.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(entry{name: name, stream: body}); err != nil {
			return err
		}
	}
}
