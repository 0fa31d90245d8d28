package msix

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"time"
)

// DemoPublisher is the publisher written into demo packages.
const DemoPublisher = "CN=Storeflight Demo"

// identityName is the manifest schema's pattern for Identity Name.
var identityName = regexp.MustCompile(`^[A-Za-z0-9.\-]{3,50}$`)

// demoTime makes demo packages byte-for-byte reproducible.
var demoTime = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// WriteDemoPackage writes a minimal MSIX-shaped package to w: an
// AppxManifest.xml whose Identity carries name, DemoPublisher and version,
// a small payload file, [Content_Types].xml and a placeholder
// AppxBlockMap.xml. It is for --simulate and tests: ReadIdentity reads it,
// but it is not signed (no AppxSignature.p7x), its block map holds no
// hashes, and Windows will not install it nor would the real Store accept
// it. The package is neutral and targets Windows.Desktop.
//
// name must be a valid package identity name (3 to 50 letters, digits,
// dots and hyphens) and version four numbers from 0 to 65535.
func WriteDemoPackage(w io.Writer, name, version string) error {
	return WriteDemo(w, Identity{Name: name, Version: version})
}

// WriteDemo writes a demo package like WriteDemoPackage with id's name,
// version, first architecture (default "neutral") and device families
// (default Windows.Desktop).
func WriteDemo(w io.Writer, id Identity) error {
	if !identityName.MatchString(id.Name) {
		return fmt.Errorf("demo package name %q: want 3 to 50 letters, digits, '.' or '-'", id.Name)
	}
	if err := checkVersion(id.Version); err != nil {
		return fmt.Errorf("demo package: %w", err)
	}
	arch := "neutral"
	if len(id.Architectures) > 0 {
		arch = id.Architectures[0]
	}
	families := id.DeviceFamilies
	if len(families) == 0 {
		families = []string{"Windows.Desktop"}
	}
	return writeDemoZIP(w, []demoFile{
		{"[Content_Types].xml", []byte(contentTypes), zip.Deflate},
		{packageManifest, manifest(id.Name, id.Version, arch, families), zip.Deflate},
		{"storeflight-demo.txt", []byte("storeflight demo package payload\n"), zip.Deflate},
		{"AppxBlockMap.xml", []byte(blockMap), zip.Deflate},
	})
}

// WriteDemoBundle writes a demo bundle to w: one demo package per entry of
// packages (each with one architecture, stored as bundles store them) and
// an AppxBundleManifest.xml listing them with their device families.
func WriteDemoBundle(w io.Writer, name, version string, packages []Identity) error {
	if !identityName.MatchString(name) {
		return fmt.Errorf("demo bundle name %q: want 3 to 50 letters, digits, '.' or '-'", name)
	}
	if err := checkVersion(version); err != nil {
		return fmt.Errorf("demo bundle: %w", err)
	}
	if len(packages) == 0 {
		return errors.New("demo bundle: no packages")
	}
	var files []demoFile
	var list bytes.Buffer
	for i, p := range packages {
		if p.Name == "" {
			p.Name = name
		}
		if p.Version == "" {
			p.Version = version
		}
		var pkg bytes.Buffer
		if err := WriteDemo(&pkg, p); err != nil {
			return err
		}
		arch := "neutral"
		if len(p.Architectures) > 0 {
			arch = p.Architectures[0]
		}
		file := fmt.Sprintf("%s_%s_%s.msix", name, p.Version, arch)
		files = append(files, demoFile{file, pkg.Bytes(), zip.Store})
		list.WriteString(`    <Package Type="application" Version="`)
		xmlAttr(&list, p.Version)
		list.WriteString(`" Architecture="`)
		xmlAttr(&list, arch)
		list.WriteString(`" FileName="`)
		xmlAttr(&list, file)
		fmt.Fprintf(&list, "\" Offset=\"%d\" Size=\"%d\">\n      <b4:Dependencies>\n", i, pkg.Len())
		families := p.DeviceFamilies
		if len(families) == 0 {
			families = []string{"Windows.Desktop"}
		}
		for _, f := range families {
			list.WriteString(`        <b4:TargetDeviceFamily Name="`)
			xmlAttr(&list, f)
			list.WriteString("\" MinVersion=\"10.0.17763.0\" MaxVersionTested=\"10.0.22621.0\"/>\n")
		}
		list.WriteString("      </b4:Dependencies>\n    </Package>\n")
	}
	var m bytes.Buffer
	m.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<Bundle xmlns="http://schemas.microsoft.com/appx/2013/bundle" xmlns:b4="http://schemas.microsoft.com/appx/2018/bundle" SchemaVersion="5.0" IgnorableNamespaces="b4">
  <Identity `)
	identityAttrs(&m, name, version)
	m.WriteString("/>\n  <Packages>\n")
	m.Write(list.Bytes())
	m.WriteString("  </Packages>\n</Bundle>\n")
	files = append(files,
		demoFile{bundleManifest, m.Bytes(), zip.Deflate},
		demoFile{"AppxBlockMap.xml", []byte(blockMap), zip.Deflate},
		demoFile{"[Content_Types].xml", []byte(contentTypes), zip.Deflate})
	return writeDemoZIP(w, files)
}

type demoFile struct {
	name   string
	data   []byte
	method uint16
}

func writeDemoZIP(w io.Writer, files []demoFile) error {
	zw := zip.NewWriter(w)
	for _, f := range files {
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: f.method, Modified: demoTime})
		if err != nil {
			return err
		}
		if _, err := fw.Write(f.data); err != nil {
			return err
		}
	}
	return zw.Close()
}

func manifest(name, version, arch string, families []string) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>
<Package xmlns="http://schemas.microsoft.com/appx/manifest/foundation/windows10" xmlns:uap="http://schemas.microsoft.com/appx/manifest/uap/windows10" IgnorableNamespaces="uap">
  <Identity `)
	identityAttrs(&b, name, version)
	b.WriteString(` ProcessorArchitecture="`)
	xmlAttr(&b, arch)
	b.WriteString(`" />
  <Properties>
    <DisplayName>`)
	xmlAttr(&b, name)
	b.WriteString(`</DisplayName>
    <PublisherDisplayName>Storeflight Demo</PublisherDisplayName>
    <Logo>storeflight-demo.txt</Logo>
  </Properties>
  <Dependencies>
`)
	for _, f := range families {
		b.WriteString(`    <TargetDeviceFamily Name="`)
		xmlAttr(&b, f)
		b.WriteString("\" MinVersion=\"10.0.17763.0\" MaxVersionTested=\"10.0.22621.0\" />\n")
	}
	b.WriteString(`  </Dependencies>
  <Resources>
    <Resource Language="en-us" />
  </Resources>
</Package>
`)
	return b.Bytes()
}

// identityAttrs writes an Identity element's Name, Publisher and Version
// attributes.
func identityAttrs(b *bytes.Buffer, name, version string) {
	b.WriteString(`Name="`)
	xmlAttr(b, name)
	b.WriteString(`" Publisher="`)
	xmlAttr(b, DemoPublisher)
	b.WriteString(`" Version="`)
	xmlAttr(b, version)
	b.WriteString(`"`)
}

func xmlAttr(b *bytes.Buffer, s string) {
	_ = xml.EscapeText(b, []byte(s)) // a bytes.Buffer does not fail
}

const contentTypes = `<?xml version="1.0" encoding="UTF-8"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="txt" ContentType="text/plain"/><Override PartName="/AppxManifest.xml" ContentType="application/vnd.ms-appx.manifest+xml"/><Override PartName="/AppxBlockMap.xml" ContentType="application/vnd.ms-appx.blockmap+xml"/></Types>
`

// blockMap is a placeholder: a real block map lists a SHA-256 per 64 KiB
// block of every file and is covered by the signature.
const blockMap = `<?xml version="1.0" encoding="UTF-8"?>
<BlockMap xmlns="http://schemas.microsoft.com/appx/2010/blockmap" HashMethod="http://www.w3.org/2001/04/xmlenc#sha256"></BlockMap>
`
