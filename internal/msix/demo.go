package msix

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
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
// AppxBlockMap.xml. It is for --simulate and tests: Version reads it, but it
// is not signed (no AppxSignature.p7x), its block map holds no hashes, and
// Windows will not install it nor would the real Store accept it.
//
// name must be a valid package identity name (3 to 50 letters, digits,
// dots and hyphens) and version four numbers from 0 to 65535.
func WriteDemoPackage(w io.Writer, name, version string) error {
	if !identityName.MatchString(name) {
		return fmt.Errorf("demo package name %q: want 3 to 50 letters, digits, '.' or '-'", name)
	}
	if err := checkVersion(version); err != nil {
		return fmt.Errorf("demo package: %w", err)
	}
	payload := []byte("storeflight demo package payload\n")
	files := []struct {
		name string
		data []byte
	}{
		{"[Content_Types].xml", []byte(contentTypes)},
		{packageManifest, manifest(name, version)},
		{"storeflight-demo.txt", payload},
		{"AppxBlockMap.xml", []byte(blockMap)},
	}
	zw := zip.NewWriter(w)
	for _, f := range files {
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: demoTime})
		if err != nil {
			return err
		}
		if _, err := fw.Write(f.data); err != nil {
			return err
		}
	}
	return zw.Close()
}

func manifest(name, version string) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>
<Package xmlns="http://schemas.microsoft.com/appx/manifest/foundation/windows10" xmlns:uap="http://schemas.microsoft.com/appx/manifest/uap/windows10" IgnorableNamespaces="uap">
  <Identity Name="`)
	attr(&b, name)
	b.WriteString(`" Publisher="`)
	attr(&b, DemoPublisher)
	b.WriteString(`" Version="`)
	attr(&b, version)
	b.WriteString(`" ProcessorArchitecture="neutral" />
  <Properties>
    <DisplayName>`)
	attr(&b, name)
	b.WriteString(`</DisplayName>
    <PublisherDisplayName>Storeflight Demo</PublisherDisplayName>
    <Logo>storeflight-demo.txt</Logo>
  </Properties>
  <Dependencies>
    <TargetDeviceFamily Name="Windows.Desktop" MinVersion="10.0.17763.0" MaxVersionTested="10.0.22621.0" />
  </Dependencies>
  <Resources>
    <Resource Language="en-us" />
  </Resources>
</Package>
`)
	return b.Bytes()
}

func attr(b *bytes.Buffer, s string) {
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
