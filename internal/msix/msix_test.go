package msix

import (
	"archive/zip"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type member struct {
	name   string
	data   []byte
	method uint16
}

func zipOf(t *testing.T, members ...member) []byte {
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

func demo(t *testing.T, version string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteDemoPackage(&buf, "Contoso.Demo", version); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const bundleXML = `<?xml version="1.0" encoding="UTF-8"?>
<Bundle xmlns="http://schemas.microsoft.com/appx/2013/bundle" SchemaVersion="5.0">
  <Identity Name="Contoso.Demo" Publisher="CN=Contoso" Version="2024.101.1200.0"/>
  <Packages>
    <Package Type="application" Version="9.9.9.9" Architecture="x64" FileName="Demo_x64.msix" Offset="60" Size="1000">
      <Identity Name="ignored" Version="8.8.8.8"/>
    </Package>
  </Packages>
</Bundle>`

func TestVersion(t *testing.T) {
	t.Parallel()
	bundle := func(t *testing.T) []byte {
		return zipOf(t,
			member{name: "Demo_x64.msix", data: demo(t, "9.9.9.9")},
			member{name: bundleManifest, data: []byte(bundleXML), method: zip.Deflate})
	}
	tests := []struct {
		name    string
		file    string
		data    func(t *testing.T) []byte
		want    string
		wantErr bool
	}{
		{"demo msix", "Demo.msix", func(t *testing.T) []byte { return demo(t, "1.2.3.0") }, "1.2.3.0", false},
		{"appx, upper-case extension", "Demo.APPX", func(t *testing.T) []byte { return demo(t, "65535.0.0.1") }, "65535.0.0.1", false},
		{"bundle", "Demo.msixbundle", bundle, "2024.101.1200.0", false},
		{"appxbundle", "Demo.appxbundle", bundle, "2024.101.1200.0", false},
		{"upload with stored bundle", "Demo.msixupload", func(t *testing.T) []byte {
			return zipOf(t,
				member{name: "Demo_x64.appxsym", data: []byte("symbols"), method: zip.Deflate},
				member{name: "Demo.msixbundle", data: bundle(t)})
		}, "2024.101.1200.0", false},
		{"upload with stored package", "Demo.appxupload", func(t *testing.T) []byte {
			return zipOf(t, member{name: "Demo_1.0.0.0_x64.appx", data: demo(t, "1.0.0.0")})
		}, "1.0.0.0", false},
		{"upload with compressed package", "Demo.msixupload", func(t *testing.T) []byte {
			return zipOf(t, member{name: "Demo.msix", data: demo(t, "1.0.0.0"), method: zip.Deflate})
		}, "", false},
		{"upload with no package", "Demo.msixupload", func(t *testing.T) []byte {
			return zipOf(t, member{name: "readme.txt", data: []byte("x")})
		}, "", false},
		{"no manifest", "Demo.msix", func(t *testing.T) []byte {
			return zipOf(t, member{name: "other.xml", data: []byte("<Package/>")})
		}, "", true},
		{"bundle without bundle manifest", "Demo.msixbundle", func(t *testing.T) []byte { return demo(t, "1.0.0.0") }, "", true},
		{"no Version attribute", "Demo.msix", func(t *testing.T) []byte {
			return zipOf(t, member{name: packageManifest, data: []byte(`<Package><Identity Name="a"/></Package>`)})
		}, "", true},
		{"bad version", "Demo.msix", func(t *testing.T) []byte {
			return zipOf(t, member{name: packageManifest, data: []byte(`<Package><Identity Version="1.2.3"/></Package>`)})
		}, "", true},
		{"version part too large", "Demo.msix", func(t *testing.T) []byte {
			return zipOf(t, member{name: packageManifest, data: []byte(`<Package><Identity Version="1.2.3.65536"/></Package>`)})
		}, "", true},
		{"not a zip", "Demo.msix", func(*testing.T) []byte { return []byte("MZ not a zip") }, "", true},
		{"unknown extension", "Demo.zip", func(t *testing.T) []byte { return demo(t, "1.0.0.0") }, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := filepath.Join(t.TempDir(), tt.file)
			if err := os.WriteFile(p, tt.data(t), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := Version(p)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Version() error = %v, wantErr %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("Version() = %q, want %q", got, tt.want)
			}
			if err != nil && !strings.Contains(err.Error(), tt.file) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestVersionMissingFile(t *testing.T) {
	t.Parallel()
	_, err := Version(filepath.Join(t.TempDir(), "none.msix"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v, want ErrNotExist", err)
	}
}

func TestWriteDemoPackage(t *testing.T) {
	t.Parallel()
	var a, b bytes.Buffer
	if err := WriteDemoPackage(&a, "Contoso.Demo-App", "3.1.4.0"); err != nil {
		t.Fatal(err)
	}
	if err := WriteDemoPackage(&b, "Contoso.Demo-App", "3.1.4.0"); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("demo packages are not reproducible")
	}
	zr, err := zip.NewReader(bytes.NewReader(a.Bytes()), int64(a.Len()))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range zr.File {
		names[f.Name] = true
	}
	for _, n := range []string{packageManifest, "AppxBlockMap.xml", "[Content_Types].xml", "storeflight-demo.txt"} {
		if !names[n] {
			t.Errorf("demo package lacks %s", n)
		}
	}
	v, err := versionOf(zr, ".msix", 0)
	if err != nil || v != "3.1.4.0" {
		t.Errorf("version = %q, %v; want 3.1.4.0", v, err)
	}
	f, err := zr.Open(packageManifest)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var m bytes.Buffer
	if _, err := m.ReadFrom(f); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`Name="Contoso.Demo-App"`, `Publisher="CN=Storeflight Demo"`, `Version="3.1.4.0"`} {
		if !strings.Contains(m.String(), want) {
			t.Errorf("manifest lacks %s:\n%s", want, m.String())
		}
	}
}

func TestWriteDemoPackageRejects(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, pkg, version string }{
		{"short name", "ab", "1.0.0.0"},
		{"name with quote", `a"b<c`, "1.0.0.0"},
		{"three-part version", "Contoso.Demo", "1.0.0"},
		{"non-numeric version", "Contoso.Demo", "1.0.0.x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			if err := WriteDemoPackage(&buf, tt.pkg, tt.version); err == nil {
				t.Error("no error")
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes before rejecting", buf.Len())
			}
		})
	}
}
