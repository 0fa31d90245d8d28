package steps

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/storeflight/storeflight/internal/config"
	"github.com/storeflight/storeflight/internal/msix"
	"github.com/storeflight/storeflight/internal/storeapi"
)

// entry is an existing package entry as the Store reports it: its
// architecture spelt the Store's way and, for an app package, its target
// device families with minimum versions.
func entry(name, status, arch string, families ...string) storeapi.Package {
	p := storeapi.Package{FileName: name, FileStatus: status, Architecture: arch}
	if len(families) > 0 {
		var tdf []string
		for _, f := range families {
			tdf = append(tdf, f+" min version 10.0.17763.0")
		}
		b, _ := json.Marshal(tdf)
		p.Extra = map[string]json.RawMessage{"targetDeviceFamilies": b}
	}
	return p
}

func TestPackageFatesSupersede(t *testing.T) {
	t.Parallel()
	const up, pu, pd = storeapi.FileStatusUploaded, storeapi.FileStatusPendingUpload, storeapi.FileStatusPendingDelete
	const desktop, xbox, universal = "Windows.Desktop", "Windows.Xbox", "Windows.Universal"
	existing := []storeapi.Package{
		entry("desktop-x64.msix", up, "X64", desktop),
		entry("xbox-x64.msixbundle", up, "X64", xbox),
		entry("desktop-arm64.msix", up, "Arm64", desktop),
		entry("desktop-neutral.msix", up, "Neutral", desktop),
		entry("desktop-bundle.msixbundle", up, "X64, Arm64", desktop),
		entry("universal-x64.appx", up, "X64", universal),
		entry("no-arch.msix", up, "", desktop),
		entry("no-family.msix", up, "X64"),
		entry("draft.msix", pu, ""),
		entry("new.msix", pu, ""),
		entry("gone.msix", pd, "X64", desktop),
	}
	files := []config.Package{{ZIPName: "new.msix"}}
	tests := []struct {
		name           string
		id             msix.Identity
		byArchitecture bool
		want           []storeapi.PackageFate
	}{
		{"a Desktop x64 package", msix.Identity{Architectures: []string{"x64"}, DeviceFamilies: []string{desktop}}, false,
			[]storeapi.PackageFate{del, keep, keep, del, del, keep, keep, keep, keep, drop, keep}},
		{"a Desktop bundle of x64 and arm64", msix.Identity{Architectures: []string{"x64", "arm64"}, DeviceFamilies: []string{desktop}, Bundle: true}, false,
			[]storeapi.PackageFate{del, keep, del, del, del, keep, keep, keep, keep, drop, keep}},
		{"a neutral Desktop package", msix.Identity{Architectures: []string{"neutral"}, DeviceFamilies: []string{desktop}}, false,
			[]storeapi.PackageFate{del, keep, del, del, del, keep, keep, keep, keep, drop, keep}},
		{"an Xbox x86 package", msix.Identity{Architectures: []string{"x86"}, DeviceFamilies: []string{xbox}}, false,
			[]storeapi.PackageFate{keep, keep, keep, keep, keep, keep, keep, keep, keep, drop, keep}},
		{"on a flight, architecture alone", msix.Identity{Architectures: []string{"x64"}, DeviceFamilies: []string{xbox}}, true,
			[]storeapi.PackageFate{del, del, keep, del, del, del, keep, del, keep, drop, keep}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fates, err := packageFates(config.PackageSupersede, existing, files, map[string]msix.Identity{"new.msix": tt.id}, tt.byArchitecture)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, fatesOnly(fates)); diff != "" {
				t.Errorf("fates (-want +got):\n%s", diff)
				for i, f := range fates {
					t.Logf("%s: %s", existing[i].FileName, f.why)
				}
			}
		})
	}
}

const (
	keep = storeapi.KeepPackage
	del  = storeapi.DeletePackage
	drop = storeapi.DropPackage
)

func TestPackageFatesSupersedeNeedsIdentities(t *testing.T) {
	t.Parallel()
	_, err := packageFates(config.PackageSupersede, nil, []config.Package{{ZIPName: "MyApp.msixupload"}}, nil, false)
	var ie *config.InputError
	if !errors.As(err, &ie) || ie.Input != "package-mode" || !strings.Contains(err.Error(), "MyApp.msixupload") {
		t.Errorf("error %v, want an input error on package-mode naming the file", err)
	}
}

func TestCheckPackageLimit(t *testing.T) {
	t.Parallel()
	var ps []storeapi.Package
	for i := range 30 {
		ps = append(ps, storeapi.Package{FileName: "p" + string(rune('a'+i)) + ".msix", FileStatus: storeapi.FileStatusUploaded})
	}
	ps = append(ps, storeapi.Package{FileName: "old.msix", FileStatus: storeapi.FileStatusPendingDelete})
	if err := checkPackageLimit(ps); err != nil {
		t.Errorf("30 packages and one PendingDelete: %v", err)
	}
	ps = append(ps, storeapi.Package{FileName: "new.msix", FileStatus: storeapi.FileStatusPendingUpload})
	err := checkPackageLimit(ps)
	var ie *config.InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "31 packages") || !strings.Contains(err.Error(), "new.msix") || strings.Contains(err.Error(), "old.msix") {
		t.Errorf("31 packages: %v, want an input error naming those not PendingDelete", err)
	}
}

func TestReadNotesDir(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		files map[string]string
		want  []notesFile
		error string
	}{
		{"trimmed, byte order mark dropped, other files ignored",
			map[string]string{"en-us.txt": "\ufeff\n  Fixes.\n\n", "DE-de.txt": "Fehler.", "README.md": "x", "sub.txt/": ""},
			[]notesFile{{lang: "DE-de", name: "DE-de.txt", text: "Fehler."}, {lang: "en-us", name: "en-us.txt", text: "Fixes."}}, ""},
		{"not UTF-8", map[string]string{"en-us.txt": "caf\xe9"}, nil, "en-us.txt: is not UTF-8"},
		{"the same language twice", map[string]string{"en-us.txt": "a", "EN-US.txt": "b"}, nil, "same language"},
		{"no notes file", map[string]string{"notes.md": "a"}, nil, "holds no <language>.txt file"},
		{"too big to read", map[string]string{"en-us.txt": strings.Repeat("a", maxNotesFile+1)}, nil, "is over"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			for name, text := range tt.files {
				if n, ok := strings.CutSuffix(name, "/"); ok {
					if err := os.Mkdir(filepath.Join(dir, n), 0o755); err != nil {
						t.Fatal(err)
					}
					continue
				}
				if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got, err := readNotesDir(dir)
			if tt.error != "" {
				var ie *config.InputError
				if !errors.As(err, &ie) || ie.Input != "release-notes-dir" || !strings.Contains(err.Error(), tt.error) {
					t.Errorf("error %v, want an input error saying %q", err, tt.error)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(notesFile{})); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
		})
	}
}

// release-notes gives every language; a file overrides its own, matched
// ignoring case and written back as the Store spelt the key.
func TestReleaseNotesPerLanguage(t *testing.T) {
	t.Parallel()
	in := updateInput{cfg: &config.Config{ReleaseNotes: "Fixes."}, notes: []notesFile{{lang: "DE-DE", name: "DE-DE.txt", text: "Fehler."}}}
	got, err := in.releaseNotes([]string{"en-us", "de-de", "fr-fr"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"en-us": "Fixes.", "de-de": "Fehler.", "fr-fr": "Fixes."}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
	in.cfg.ReleaseNotes = ""
	got, err = in.releaseNotes([]string{"en-us", "de-de"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"de-de": "Fehler."}, got); diff != "" {
		t.Errorf("a language with no file keeps its notes (-want +got):\n%s", diff)
	}
}
