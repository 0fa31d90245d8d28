// Package msix reads what storeflight needs from Windows app packages (the
// package version, for logs and outputs) and writes a small MSIX-shaped
// demo package for --simulate and for tests.
//
// Packages (.msix, .appx), bundles (.msixbundle, .appxbundle) and upload
// files (.msixupload, .appxupload) are all ZIP archives; only the manifest
// is read, never the payload.
package msix

import (
	"archive/zip"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"strconv"
	"strings"
)

const (
	packageManifest = "AppxManifest.xml"
	bundleManifest  = "AppxMetadata/AppxBundleManifest.xml"
	// maxManifest bounds how much of a manifest entry is read, so that a
	// hostile archive cannot make us inflate gigabytes.
	maxManifest = 4 << 20
)

// ErrNoVersion reports a package whose manifest has no usable Identity
// Version.
var ErrNoVersion = errors.New("no package version in manifest")

// Version returns the package version ("1.2.3.0") of the package or bundle
// at path, chosen by its extension. For an upload file (.msixupload,
// .appxupload) it returns the version of the first package or bundle stored
// inside, or "" with no error when there is none it can read without
// extracting (an inner package that is itself compressed).
func Version(path string) (string, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return "", fmt.Errorf("read package %s: %w", filepath.Base(path), err)
	}
	defer zr.Close()
	v, err := versionOf(&zr.Reader, strings.ToLower(filepath.Ext(path)), 0)
	if err != nil {
		return "", fmt.Errorf("read package %s: %w", filepath.Base(path), err)
	}
	return v, nil
}

func versionOf(zr *zip.Reader, ext string, depth int) (string, error) {
	switch ext {
	case ".msix", ".appx":
		return manifestVersion(zr, packageManifest)
	case ".msixbundle", ".appxbundle":
		return manifestVersion(zr, bundleManifest)
	case ".msixupload", ".appxupload":
		if depth > 0 {
			return "", nil // an upload file does not nest another
		}
		return uploadVersion(zr)
	default:
		return "", fmt.Errorf("unknown package type %q (want .msix, .appx, .msixbundle, .appxbundle, .msixupload or .appxupload)", ext)
	}
}

// uploadVersion looks inside an upload file (a ZIP of a package or bundle
// plus symbol files). A stored inner package can be read in place through
// a section of the outer archive; a compressed one would have to be
// extracted, which is not worth it for a log line.
func uploadVersion(zr *zip.Reader) (string, error) {
	for _, f := range zr.File {
		ext := strings.ToLower(path.Ext(f.Name))
		switch ext {
		case ".msix", ".appx", ".msixbundle", ".appxbundle":
		default:
			continue
		}
		if f.Method != zip.Store {
			return "", nil
		}
		raw, err := f.OpenRaw()
		if err != nil {
			return "", err
		}
		ra, ok := raw.(io.ReaderAt)
		if !ok {
			return "", nil
		}
		inner, err := zip.NewReader(ra, int64(f.CompressedSize64))
		if err != nil {
			return "", fmt.Errorf("%s: %w", f.Name, err)
		}
		v, err := versionOf(inner, ext, 1)
		if err != nil {
			return "", fmt.Errorf("%s: %w", f.Name, err)
		}
		return v, nil
	}
	return "", nil
}

func manifestVersion(zr *zip.Reader, name string) (string, error) {
	var mf *zip.File
	for _, f := range zr.File {
		// Package readers match the footprint file names case-insensitively.
		if strings.EqualFold(f.Name, name) {
			mf = f
			break
		}
	}
	if mf == nil {
		return "", fmt.Errorf("%s not found", name)
	}
	rc, err := mf.Open()
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	defer rc.Close()
	v, err := identityVersion(io.LimitReader(rc, maxManifest))
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	return v, nil
}

// identityVersion returns the Version attribute of the Identity element
// that is a direct child of the root (Package or Bundle); Identity elements
// deeper down (a bundle's list of packages) are not the package's own.
func identityVersion(r io.Reader) (string, error) {
	dec := xml.NewDecoder(r)
	depth := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return "", ErrNoVersion
		}
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 2 && t.Name.Local == "Identity" {
				for _, a := range t.Attr {
					if a.Name.Local == "Version" && a.Name.Space == "" {
						if err := checkVersion(a.Value); err != nil {
							return "", err
						}
						return a.Value, nil
					}
				}
				return "", ErrNoVersion
			}
		case xml.EndElement:
			depth--
		}
	}
}

// checkVersion accepts the manifest's version format: four dot-separated
// numbers from 0 to 65535.
func checkVersion(v string) error {
	parts := strings.Split(v, ".")
	if len(parts) != 4 {
		return fmt.Errorf("%w: version %q is not four numbers (like 1.2.3.0)", ErrNoVersion, v)
	}
	for _, p := range parts {
		if _, err := strconv.ParseUint(p, 10, 16); err != nil {
			return fmt.Errorf("%w: version %q is not four numbers from 0 to 65535", ErrNoVersion, v)
		}
	}
	return nil
}
