package msix

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// packageInfo is what AppxManifest.xml says about a package.
type packageInfo struct {
	name, version, arch string
	families            []string
	resource            bool
}

// bundleInfo is what AppxBundleManifest.xml says about a bundle.
type bundleInfo struct {
	name, version string
	packages      []bundledPackage
}

// bundledPackage is one Packages/Package element of a bundle manifest.
type bundledPackage struct {
	fileName, arch string
	resource       bool
	families       []string // from its Dependencies, when the schema has them
}

// walkManifest hands each start element to visit with its path of local
// names from the root; when visit returns a function, that element's
// character data is handed to it at the element's end.
func walkManifest(r io.Reader, visit func(path []string, el xml.StartElement) (wantText func(string))) error {
	dec := xml.NewDecoder(io.LimitReader(r, maxManifest))
	var path []string
	var text func(string)
	var buf strings.Builder
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			path = append(path, t.Name.Local)
			if f := visit(path, t); f != nil {
				text = f
				buf.Reset()
			}
		case xml.CharData:
			if text != nil {
				buf.Write(t)
			}
		case xml.EndElement:
			if text != nil {
				text(strings.TrimSpace(buf.String()))
				text = nil
			}
			path = path[:len(path)-1]
		}
	}
}

func attr(el xml.StartElement, name string) (string, bool) {
	for _, a := range el.Attr {
		if a.Name.Local == name && a.Name.Space == "" {
			return a.Value, true
		}
	}
	return "", false
}

func pathIs(path []string, names ...string) bool {
	if len(path) != len(names) {
		return false
	}
	for i, n := range names {
		if n != "*" && path[i] != n {
			return false
		}
	}
	return true
}

// parsePackageManifest reads a package's Identity (its own, the root's
// child), its TargetDeviceFamily names and whether it is a resource
// package.
func parsePackageManifest(r io.Reader) (packageInfo, error) {
	var p packageInfo
	seen := false
	err := walkManifest(r, func(path []string, el xml.StartElement) func(string) {
		switch {
		case pathIs(path, "*", "Identity") && !seen:
			seen = true
			p.name, _ = attr(el, "Name")
			p.version, _ = attr(el, "Version")
			p.arch, _ = attr(el, "ProcessorArchitecture")
		case pathIs(path, "*", "Dependencies", "TargetDeviceFamily"):
			if n, ok := attr(el, "Name"); ok && n != "" {
				p.families = append(p.families, n)
			}
		case pathIs(path, "*", "Properties", "ResourcePackage"):
			return func(s string) { p.resource = s == "true" }
		}
		return nil
	})
	if err != nil {
		return p, err
	}
	if !seen {
		return p, fmt.Errorf("%w: no Identity element", ErrNoVersion)
	}
	if err := checkVersion(p.version); err != nil {
		return p, err
	}
	if p.arch == "" {
		p.arch = "neutral" // the schema's default
	}
	return p, nil
}

// parseBundleManifest reads a bundle's Identity and its list of packages.
func parseBundleManifest(r io.Reader) (bundleInfo, error) {
	var b bundleInfo
	seen := false
	err := walkManifest(r, func(path []string, el xml.StartElement) func(string) {
		switch {
		case pathIs(path, "*", "Identity") && !seen:
			seen = true
			b.name, _ = attr(el, "Name")
			b.version, _ = attr(el, "Version")
		case pathIs(path, "*", "Packages", "Package"):
			p := bundledPackage{arch: "neutral"}
			p.fileName, _ = attr(el, "FileName")
			if a, ok := attr(el, "Architecture"); ok && a != "" {
				p.arch = a
			}
			t, _ := attr(el, "Type")
			p.resource = strings.EqualFold(t, "resource")
			b.packages = append(b.packages, p)
		case pathIs(path, "*", "Packages", "Package", "Dependencies", "TargetDeviceFamily") && len(b.packages) > 0:
			if n, ok := attr(el, "Name"); ok && n != "" {
				last := &b.packages[len(b.packages)-1]
				last.families = append(last.families, n)
			}
		}
		return nil
	})
	if err != nil {
		return b, err
	}
	if !seen {
		return b, fmt.Errorf("%w: no Identity element", ErrNoVersion)
	}
	return b, checkVersion(b.version)
}

// checkVersion accepts the manifest's version format: four dot-separated
// numbers from 0 to 65535.
func checkVersion(v string) error {
	if v == "" {
		return fmt.Errorf("%w: the Identity has no Version", ErrNoVersion)
	}
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
