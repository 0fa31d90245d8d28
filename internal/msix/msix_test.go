package msix

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var (
	desktop = []string{"Windows.Desktop"}
	xbox    = []string{"Windows.Xbox"}
)

func pkg(arch, version string, families ...string) Identity {
	return Identity{Name: "Contoso.Demo", Version: version, Architectures: []string{arch}, DeviceFamilies: families}
}

// bundleNoFamilies is a bundle whose manifest (2013 schema) lists no
// device families: they come from the packages inside.
func bundleNoFamilies(t *testing.T, method uint16) []byte {
	t.Helper()
	manifest := `<?xml version="1.0" encoding="UTF-8"?>
<Bundle xmlns="http://schemas.microsoft.com/appx/2013/bundle" SchemaVersion="1.0">
  <Identity Name="Contoso.Demo" Publisher="CN=Contoso" Version="2.0.0.0"/>
  <Packages>
    <Package Type="application" Version="2.0.0.0" Architecture="x86" FileName="Demo%20x86.appx" Offset="0" Size="1">
      <Identity Name="ignored" Version="8.8.8.8"/>
    </Package>
    <Package Type="application" Version="2.0.0.0" Architecture="arm" FileName="Demo_arm.appx" Offset="0" Size="1"/>
    <Package Type="resource" Version="2.0.0.0" ResourceId="split.scale-200" FileName="Demo_scale-200.appx" Offset="0" Size="1"/>
  </Packages>
</Bundle>`
	return zipOf(t,
		member{name: "Demo%20x86.appx", data: demoPackage(t, pkg("x86", "2.0.0.0", "Windows.Desktop")), method: method},
		member{name: "Demo_arm.appx", data: sdkZipOf(t,
			member{name: "payload.bin", data: bytes.Repeat([]byte("PK\x07\x08payload"), 500)},
			member{name: packageManifest, data: packageXML(`Version="2.0.0.0" ProcessorArchitecture="arm"`, "Windows.Mobile", "Windows.Desktop"), method: zip.Deflate},
		), method: method},
		member{name: "Demo_scale-200.appx", data: demoPackage(t, pkg("neutral", "2.0.0.0", "Windows.Universal")), method: method},
		member{name: bundleManifest, data: []byte(manifest), method: zip.Deflate})
}

func TestReadIdentity(t *testing.T) {
	t.Parallel()
	x64Desktop := pkg("x64", "1.2.3.0", "Windows.Desktop")
	tests := []struct {
		name    string
		file    string
		data    func(t *testing.T) []byte
		want    Identity
		wantErr string // part of the error; "" for none
	}{
		{name: "demo msix, neutral", file: "Demo.msix",
			data: func(t *testing.T) []byte { return demoPackage(t, Identity{Name: "Contoso.Demo", Version: "1.2.3.0"}) },
			want: Identity{Name: "Contoso.Demo", Version: "1.2.3.0", Architectures: []string{"neutral"}, DeviceFamilies: desktop}},
		{name: "appx for Xbox, upper-case extension", file: "Demo.APPX",
			data: func(t *testing.T) []byte { return demoPackage(t, pkg("x64", "65535.0.0.1", "Windows.Xbox")) },
			want: pkg("x64", "65535.0.0.1", "Windows.Xbox")},
		{name: "no ProcessorArchitecture is neutral", file: "Demo.msix",
			data: func(t *testing.T) []byte {
				return zipOf(t, member{name: packageManifest, data: packageXML(`Version="1.0.0.0"`, "Windows.Universal")})
			},
			want: pkg("neutral", "1.0.0.0", "Windows.Universal")},
		{name: "package written like the MSIX SDK", file: "Demo.msix",
			data: func(t *testing.T) []byte {
				return sdkZipOf(t,
					member{name: "Assets/logo.png", data: bytes.Repeat([]byte{0x89, 'P', 'N', 'G'}, 1000)},
					member{name: packageManifest, data: packageXML(`Version="1.2.3.0" ProcessorArchitecture="x64"`, "Windows.Desktop"), method: zip.Deflate})
			},
			want: x64Desktop},
		{name: "bundle", file: "Demo.msixbundle",
			data: func(t *testing.T) []byte {
				return demoBundle(t, "3.0.0.0", pkg("x64", "", "Windows.Desktop"), pkg("arm64", "", "Windows.Desktop", "Windows.Team"))
			},
			want: Identity{Name: "Contoso.Demo", Version: "3.0.0.0", Architectures: []string{"x64", "arm64"}, DeviceFamilies: []string{"Windows.Desktop", "Windows.Team"}, Bundle: true}},
		{name: "appxbundle taking device families from its packages", file: "Demo.appxbundle",
			data: func(t *testing.T) []byte { return bundleNoFamilies(t, zip.Store) },
			want: Identity{Name: "Contoso.Demo", Version: "2.0.0.0", Architectures: []string{"x86", "arm"}, DeviceFamilies: []string{"Windows.Desktop", "Windows.Mobile"}, Bundle: true}},
		{name: "bundle with deflated packages", file: "Demo.appxbundle",
			data: func(t *testing.T) []byte { return bundleNoFamilies(t, zip.Deflate) },
			want: Identity{Name: "Contoso.Demo", Version: "2.0.0.0", Architectures: []string{"x86", "arm"}, DeviceFamilies: []string{"Windows.Desktop", "Windows.Mobile"}, Bundle: true}},
		{name: "upload with stored bundle", file: "Demo.msixupload",
			data: func(t *testing.T) []byte {
				return zipOf(t,
					member{name: "Demo_x64.appxsym", data: []byte("symbols"), method: zip.Deflate},
					member{name: "Demo.msixbundle", data: demoBundle(t, "3.0.0.0", pkg("x64", "", "Windows.Xbox"))})
			},
			want: Identity{Name: "Contoso.Demo", Version: "3.0.0.0", Architectures: []string{"x64"}, DeviceFamilies: xbox, Bundle: true}},
		{name: "upload with deflated bundle", file: "Demo.msixupload",
			data: func(t *testing.T) []byte {
				return zipOf(t,
					member{name: "Demo.appxsym", data: bytes.Repeat([]byte("sym"), 10000), method: zip.Deflate},
					member{name: "Demo.appxbundle", data: bundleNoFamilies(t, zip.Store), method: zip.Deflate})
			},
			want: Identity{Name: "Contoso.Demo", Version: "2.0.0.0", Architectures: []string{"x86", "arm"}, DeviceFamilies: []string{"Windows.Desktop", "Windows.Mobile"}, Bundle: true}},
		{name: "upload with stored package", file: "Demo.appxupload",
			data: func(t *testing.T) []byte {
				return zipOf(t, member{name: "Demo_1.2.3.0_x64.appx", data: demoPackage(t, x64Desktop)})
			},
			want: x64Desktop},
		{name: "upload with deflated package", file: "MyApp.msixupload",
			data: func(t *testing.T) []byte {
				return zipOf(t, member{name: "MyApp.msix", data: demoPackage(t, x64Desktop), method: zip.Deflate})
			},
			want: x64Desktop},
		{name: "upload with deflated package whose sizes are in its headers", file: "MyApp.msixupload",
			data: func(t *testing.T) []byte {
				inner := sizedZipOf(t,
					member{name: "payload.bin", data: bytes.Repeat([]byte("x"), 100000)},
					member{name: packageManifest, data: packageXML(`Version="1.2.3.0" ProcessorArchitecture="x64"`, "Windows.Desktop"), method: zip.Deflate})
				return sizedZipOf(t, member{name: "MyApp.msix", data: inner, method: zip.Deflate})
			},
			want: x64Desktop},
		{name: "upload with deflated package written like the MSIX SDK", file: "MyApp.msixupload",
			data: func(t *testing.T) []byte {
				inner := sdkZipOf(t,
					member{name: "[Content_Types].xml", data: []byte(contentTypes), method: zip.Deflate},
					member{name: "Assets/big.bin", data: bytes.Repeat([]byte("0123456789abcdef"), 20000)},
					member{name: "Assets/empty.txt"},
					member{name: "app.dll", data: bytes.Repeat([]byte("MZ code "), 5000), method: zip.Deflate},
					member{name: packageManifest, data: packageXML(`Version="1.2.3.0" ProcessorArchitecture="x64"`, "Windows.Desktop"), method: zip.Deflate})
				return zipOf(t, member{name: "MyApp.msix", data: inner, method: zip.Deflate})
			},
			want: x64Desktop},
		{name: "upload with two packages of one version", file: "Demo.appxupload",
			data: func(t *testing.T) []byte {
				return zipOf(t,
					member{name: "Demo_x64.appx", data: demoPackage(t, pkg("x64", "1.0.0.0", "Windows.Desktop")), method: zip.Deflate},
					member{name: "Demo_arm64.appx", data: demoPackage(t, pkg("arm64", "1.0.0.0", "Windows.Xbox"))})
			},
			want: Identity{Name: "Contoso.Demo", Version: "1.0.0.0", Architectures: []string{"x64", "arm64"}, DeviceFamilies: []string{"Windows.Desktop", "Windows.Xbox"}}},

		{name: "upload with packages of two versions", file: "Demo.appxupload",
			data: func(t *testing.T) []byte {
				return zipOf(t,
					member{name: "Demo_x64.appx", data: demoPackage(t, pkg("x64", "1.0.0.0"))},
					member{name: "Demo_arm64.appx", data: demoPackage(t, pkg("arm64", "1.0.0.1"))})
			},
			wantErr: "different versions (1.0.0.0 and 1.0.0.1)"},
		{name: "upload with no package", file: "Demo.msixupload",
			data:    func(t *testing.T) []byte { return zipOf(t, member{name: "readme.txt", data: []byte("x")}) },
			wantErr: "no package or bundle"},
		{name: "upload with a corrupt deflated package", file: "Demo.msixupload",
			data: func(t *testing.T) []byte {
				return zipOf(t, member{name: "Demo.msix", data: []byte("PK\x03\x04 this is not really a package"), method: zip.Deflate})
			},
			wantErr: "Demo.msix: "},
		{name: "upload with a deflated non-ZIP package", file: "Demo.msixupload",
			data: func(t *testing.T) []byte {
				return zipOf(t, member{name: "Demo.msix", data: []byte("MZ an executable"), method: zip.Deflate})
			},
			wantErr: "Demo.msix: not a ZIP archive"},
		{name: "upload with a truncated deflated package", file: "Demo.msixupload",
			data: func(t *testing.T) []byte {
				inner := sdkZipOf(t, member{name: "payload.bin", data: bytes.Repeat([]byte("y"), 5000)},
					member{name: packageManifest, data: packageXML(`Version="1.0.0.0"`), method: zip.Deflate})
				return zipOf(t, member{name: "Demo.msix", data: inner[:3000], method: zip.Deflate})
			},
			wantErr: "Demo.msix: "},
		{name: "no manifest", file: "Demo.msix",
			data:    func(t *testing.T) []byte { return zipOf(t, member{name: "other.xml", data: []byte("<Package/>")}) },
			wantErr: "AppxManifest.xml not found"},
		{name: "bundle without bundle manifest", file: "Demo.msixbundle",
			data:    func(t *testing.T) []byte { return demoPackage(t, x64Desktop) },
			wantErr: "AppxBundleManifest.xml not found"},
		{name: "bundle of resource packages only", file: "Demo.msixbundle",
			data: func(t *testing.T) []byte {
				return zipOf(t, member{name: bundleManifest, data: []byte(`<Bundle><Identity Version="1.0.0.0"/><Packages><Package Type="resource" FileName="r.appx"/></Packages></Bundle>`)})
			},
			wantErr: "lists no application package"},
		{name: "no Version attribute", file: "Demo.msix",
			data: func(t *testing.T) []byte {
				return zipOf(t, member{name: packageManifest, data: []byte(`<Package><Identity Name="a"/></Package>`)})
			},
			wantErr: "no Version"},
		{name: "three-part version", file: "Demo.msix",
			data: func(t *testing.T) []byte {
				return zipOf(t, member{name: packageManifest, data: []byte(`<Package><Identity Version="1.2.3"/></Package>`)})
			},
			wantErr: `version "1.2.3" is not four numbers`},
		{name: "version part too large", file: "Demo.msix",
			data: func(t *testing.T) []byte {
				return zipOf(t, member{name: packageManifest, data: []byte(`<Package><Identity Version="1.2.3.65536"/></Package>`)})
			},
			wantErr: "from 0 to 65535"},
		{name: "malformed manifest", file: "Demo.msix",
			data: func(t *testing.T) []byte {
				return zipOf(t, member{name: packageManifest, data: []byte(`<Package><Identity Version="1.0.0.0"`)})
			},
			wantErr: "AppxManifest.xml: XML syntax error"},
		{name: "not a zip", file: "Demo.msix",
			data:    func(*testing.T) []byte { return []byte("MZ not a zip") },
			wantErr: "not a valid zip file"},
		{name: "unknown extension", file: "Demo.zip",
			data:    func(t *testing.T) []byte { return demoPackage(t, x64Desktop) },
			wantErr: `unknown package type ".zip"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := filepath.Join(t.TempDir(), tt.file)
			if err := os.WriteFile(p, tt.data(t), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := ReadIdentity(p)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), tt.file) {
					t.Fatalf("error %v, want one naming %s and saying %q", err, tt.file, tt.wantErr)
				}
				if v, verr := Version(p); v != "" || verr == nil {
					t.Errorf("Version() = %q, %v; want an error", v, verr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadIdentity: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("identity (-want +got):\n%s", diff)
			}
			if v, err := Version(p); v != tt.want.Version || err != nil {
				t.Errorf("Version() = %q, %v; want %s", v, err, tt.want.Version)
			}
		})
	}
}

func TestReadIdentityMissingFile(t *testing.T) {
	t.Parallel()
	_, err := ReadIdentity(filepath.Join(t.TempDir(), "none.msix"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v, want ErrNotExist", err)
	}
}

// Reading front to back gives what reading at random gives, for every
// layout a writer may choose.
func TestReadIdentityStreamMatchesRandomAccess(t *testing.T) {
	t.Parallel()
	manifestOf := func(arch string) member {
		return member{name: packageManifest, data: packageXML(`Version="4.3.2.1" ProcessorArchitecture="`+arch+`"`, "Windows.Desktop"), method: zip.Deflate}
	}
	payload := member{name: "data/payload.bin", data: bytes.Repeat([]byte("PK\x03\x04PK\x01\x02PK\x07\x08"), 4096)}
	archives := map[string][]byte{
		"archive/zip.msix": zipOf(t, payload, manifestOf("x64")),
		"sized.msix":       sizedZipOf(t, payload, manifestOf("arm64")),
		"sdk.msix":         sdkZipOf(t, payload, manifestOf("x86")),
		"sdk-bundle.msixbundle": sdkZipOf(t,
			member{name: "a.msix", data: sdkZipOf(t, payload, manifestOf("x64"))},
			member{name: bundleManifest, data: []byte(`<Bundle><Identity Version="4.3.2.1"/><Packages><Package Type="application" Architecture="x64" FileName="a.msix"/></Packages></Bundle>`), method: zip.Deflate}),
		"upload.msixupload": sdkZipOf(t, member{name: "x.msix", data: sdkZipOf(t, payload, manifestOf("arm")), method: zip.Deflate}),
	}
	for name, data := range archives {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			random, err := ReadIdentityAt(bytes.NewReader(data), int64(len(data)), name)
			if err != nil {
				t.Fatal(err)
			}
			streamed, err := ReadIdentityStream(bytes.NewReader(data), name)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(random, streamed); diff != "" {
				t.Errorf("streamed identity differs (-random +streamed):\n%s", diff)
			}
			if random.Version != "4.3.2.1" {
				t.Errorf("version %q", random.Version)
			}
		})
	}
}

// The forward reader hands out every entry's exact content, whatever the
// layout, including stored data that holds descriptor-like bytes.
func TestZipStreamEntries(t *testing.T) {
	t.Parallel()
	// A fake descriptor whose size field matches where it sits, but whose
	// CRC does not: only the CRC tells it from the real end.
	tricky := []byte("0123456789")
	fake := append([]byte("PK\x07\x08\x00\x00\x00\x00"), 10, 0, 0, 0, 10, 0, 0, 0)
	tricky = append(tricky, fake...)
	tricky = append(tricky, []byte("PK\x03\x04 more data")...)
	members := []member{
		{name: "empty-stored"},
		{name: "empty-deflated", method: zip.Deflate},
		{name: "tricky", data: tricky},
		{name: "big-stored", data: bytes.Repeat([]byte("abcdefghPK"), 50000)},
		{name: "big-deflated", data: bytes.Repeat([]byte("abcdefgh"), 50000), method: zip.Deflate},
	}
	layouts := map[string][]byte{
		"archive/zip": zipOf(t, members...),
		"sized":       sizedZipOf(t, members...),
		"sdk":         sdkZipOf(t, members...),
	}
	for layout, data := range layouts {
		t.Run(layout, func(t *testing.T) {
			t.Parallel()
			z := newZipStream(iotestHalf(bytes.NewReader(data)))
			for _, m := range members {
				name, body, err := z.next()
				if err != nil {
					t.Fatalf("before %s: %v", m.name, err)
				}
				got, err := io.ReadAll(body)
				if err != nil || name != m.name || !bytes.Equal(got, m.data) {
					t.Fatalf("entry %q: %d bytes, %v; want %q with %d bytes", name, len(got), err, m.name, len(m.data))
				}
			}
			if _, _, err := z.next(); !errors.Is(err, io.EOF) {
				t.Errorf("after the last entry: %v, want io.EOF", err)
			}
		})
	}
	// Entries left unread are skipped.
	z := newZipStream(bytes.NewReader(sdkZipOf(t, members...)))
	var names []string
	for {
		name, _, err := z.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	if diff := cmp.Diff([]string{"empty-stored", "empty-deflated", "tricky", "big-stored", "big-deflated"}, names); diff != "" {
		t.Errorf("entries skipped unread (-want +got):\n%s", diff)
	}
}

// iotestHalf returns a reader that hands out at most half of what is asked
// for each time, so that the scanner sees descriptors split across reads.
func iotestHalf(r io.Reader) io.Reader { return halfReader{r} }

type halfReader struct{ r io.Reader }

func (h halfReader) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:len(p)/2]
	}
	return h.r.Read(p)
}

func TestZipStreamErrors(t *testing.T) {
	t.Parallel()
	good := sdkZipOf(t, member{name: "a", data: bytes.Repeat([]byte("a"), 100)}, member{name: "b", data: []byte("bbbb"), method: zip.Deflate})
	badDescriptor := bytes.Clone(good)
	// The first entry's descriptor sizes no longer match its data.
	i := bytes.Index(badDescriptor, sigDescriptor)
	badDescriptor[i+8]++
	encrypted := bytes.Clone(good)
	encrypted[6] |= flagEncrypted
	unsupported := bytes.Clone(good)
	unsupported[8] = 12 // bzip2
	tests := map[string]struct {
		data []byte
		want string
	}{
		"truncated header":        {good[:20], "unexpected EOF"},
		"stored data never ends":  {good[:80], "no data descriptor"},
		"descriptor does not fit": {badDescriptor, "no data descriptor"},
		"encrypted":               {encrypted, "encrypted"},
		"bzip2":                   {unsupported, "compression method 12"},
		"not a zip":               {[]byte("hello, world"), "not a ZIP archive"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			z := newZipStream(bytes.NewReader(tt.data))
			var err error
			for err == nil {
				var body io.Reader
				if _, body, err = z.next(); err == nil {
					_, err = io.Copy(io.Discard, body)
				}
			}
			if errors.Is(err, io.EOF) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one saying %q", err, tt.want)
			}
		})
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
	id, err := ReadIdentityAt(bytes.NewReader(a.Bytes()), int64(a.Len()), "demo.msix")
	want := Identity{Name: "Contoso.Demo-App", Version: "3.1.4.0", Architectures: []string{"neutral"}, DeviceFamilies: []string{"Windows.Desktop"}}
	if diff := cmp.Diff(want, id); err != nil || diff != "" {
		t.Errorf("identity (-want +got):\n%s\nerror %v", diff, err)
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

// BenchmarkReadIdentityDeflatedUpload reads the version of a 64 MiB
// package compressed inside an upload file: streamed through, so memory
// stays flat whatever the package's size (see B/op).
func BenchmarkReadIdentityDeflatedUpload(b *testing.B) {
	payload := make([]byte, 64<<20)
	for i := range payload {
		payload[i] = byte(i*7 + i>>9)
	}
	inner := sdkZipOf(b,
		member{name: "Assets/blob.bin", data: payload},
		member{name: packageManifest, data: packageXML(`Version="1.0.0.0" ProcessorArchitecture="x64"`, "Windows.Desktop"), method: zip.Deflate})
	upload := zipOf(b, member{name: "App.msix", data: inner, method: zip.Deflate})
	path := filepath.Join(b.TempDir(), "App.msixupload")
	if err := os.WriteFile(path, upload, 0o644); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(inner)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadIdentity(path); err != nil {
			b.Fatal(err)
		}
	}
}
