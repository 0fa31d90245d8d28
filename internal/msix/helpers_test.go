package msix

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"hash/crc32"
	"testing"
)

// member is one entry of an archive built by a test.
type member struct {
	name   string
	data   []byte
	method uint16
}

// zipOf writes members with archive/zip, which puts every entry's sizes in
// a data descriptor after its data.
func zipOf(t testing.TB, members ...member) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range members {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: m.name, Method: m.method})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(m.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// sizedZipOf writes members with their sizes and CRC in the local headers
// and no data descriptors, as tools that know the sizes first do.
func sizedZipOf(t testing.TB, members ...member) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range members {
		body := compress(t, m)
		w, err := zw.CreateRaw(&zip.FileHeader{Name: m.name, Method: m.method,
			CRC32: crc32.ChecksumIEEE(m.data), CompressedSize64: uint64(len(body)), UncompressedSize64: uint64(len(m.data))})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(body); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func compress(t testing.TB, m member) []byte {
	t.Helper()
	if m.method != zip.Deflate {
		return m.data
	}
	var b bytes.Buffer
	fw, err := flate.NewWriter(&b, flate.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(m.data)
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// sdkZipOf lays members out as the MSIX packaging SDK writes them
// (ZipObjectWriter): version 45, the data-descriptor flag on every entry,
// zero CRC and sizes in the local header, no extra field, and a descriptor
// with a signature and 8-byte sizes after the data. The central directory
// is a plain one so that archive/zip can read the result too.
func sdkZipOf(t testing.TB, members ...member) []byte {
	t.Helper()
	var out, cd bytes.Buffer
	le := binary.LittleEndian
	for _, m := range members {
		body := compress(t, m)
		crc := crc32.ChecksumIEEE(m.data)
		offset := uint32(out.Len())
		var h [30]byte
		le.PutUint32(h[0:], 0x04034b50)
		le.PutUint16(h[4:], 45)
		le.PutUint16(h[6:], 0x8)
		le.PutUint16(h[8:], m.method)
		le.PutUint16(h[26:], uint16(len(m.name)))
		out.Write(h[:])
		out.WriteString(m.name)
		out.Write(body)
		var d [24]byte
		le.PutUint32(d[0:], 0x08074b50)
		le.PutUint32(d[4:], crc)
		le.PutUint64(d[8:], uint64(len(body)))
		le.PutUint64(d[16:], uint64(len(m.data)))
		out.Write(d[:])

		var c [46]byte
		le.PutUint32(c[0:], 0x02014b50)
		le.PutUint16(c[4:], 45)
		le.PutUint16(c[6:], 45)
		le.PutUint16(c[8:], 0x8)
		le.PutUint16(c[10:], m.method)
		le.PutUint32(c[16:], crc)
		le.PutUint32(c[20:], uint32(len(body)))
		le.PutUint32(c[24:], uint32(len(m.data)))
		le.PutUint16(c[28:], uint16(len(m.name)))
		le.PutUint32(c[42:], offset)
		cd.Write(c[:])
		cd.WriteString(m.name)
	}
	cdOffset := out.Len()
	out.Write(cd.Bytes())
	var e [22]byte
	le.PutUint32(e[0:], 0x06054b50)
	le.PutUint16(e[8:], uint16(len(members)))
	le.PutUint16(e[10:], uint16(len(members)))
	le.PutUint32(e[12:], uint32(cd.Len()))
	le.PutUint32(e[16:], uint32(cdOffset))
	out.Write(e[:])
	return out.Bytes()
}

func demoPackage(t *testing.T, id Identity) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteDemo(&buf, id); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func demoBundle(t *testing.T, version string, packages ...Identity) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteDemoBundle(&buf, "Contoso.Demo", version, packages); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// packageXML is an AppxManifest.xml with the given identity attributes
// and device families.
func packageXML(identityAttrs string, families ...string) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>
<Package xmlns="http://schemas.microsoft.com/appx/manifest/foundation/windows10">
  <Identity Name="Contoso.Demo" Publisher="CN=Contoso" ` + identityAttrs + `/>
  <Dependencies>`)
	for _, f := range families {
		b.WriteString(`<TargetDeviceFamily Name="` + f + `" MinVersion="10.0.0.0" MaxVersionTested="10.0.0.0"/>`)
	}
	b.WriteString("</Dependencies>\n</Package>\n")
	return b.Bytes()
}
