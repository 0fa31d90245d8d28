package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// tree creates files (slash paths) under a new temp dir.
func tree(t *testing.T, files ...string) string {
	t.Helper()
	root := t.TempDir()
	for _, f := range files {
		p := filepath.Join(root, filepath.FromSlash(f))
		if strings.HasSuffix(f, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("PK\x03\x04pkg"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestExpandPackages(t *testing.T) {
	t.Parallel()
	files := []string{
		"dist/App_1.0_x64.msix", "dist/App_1.0_arm64.MSIX", "dist/readme.txt",
		"out/a/b/Bundle.msixbundle", "out/c/Up.appxupload", "out/Top.appx", "out/a/notes.md",
		"other/Legacy.appxbundle", "other/Store.msixupload", "emptydir/",
	}
	tests := []struct {
		name string
		spec string
		want []string // slash paths relative to the root
	}{
		{"literal path", "dist/App_1.0_x64.msix", []string{"dist/App_1.0_x64.msix"}},
		{"star, extension case-insensitive", "dist/*.msix\ndist/*.MSIX", []string{"dist/App_1.0_x64.msix", "dist/App_1.0_arm64.MSIX"}},
		{"question mark and class", "dist/App_1.0_[xa]??*.[mM][sS][iI][xX]", []string{"dist/App_1.0_arm64.MSIX", "dist/App_1.0_x64.msix"}},
		{"double star matches zero directories", "out/**/*.appx", []string{"out/Top.appx"}},
		{"double star matches many directories", "out/**/*.msixbundle", []string{"out/a/b/Bundle.msixbundle"}},
		{"double star at the end", "other/**", []string{"other/Legacy.appxbundle", "other/Store.msixupload"}},
		{"double star in the middle, comma separated", "out/**/b/*.msixbundle, out/c/*", []string{"out/a/b/Bundle.msixbundle", "out/c/Up.appxupload"}},
		{"same file twice is kept once", "dist/App_1.0_x64.msix,dist/*x64.msix", []string{"dist/App_1.0_x64.msix"}},
		{"blank lines and spaces", "\n  dist/App_1.0_x64.msix  \n\n", []string{"dist/App_1.0_x64.msix"}},
		{"star does not cross directories", "out/*.appx*", []string{"out/Top.appx"}},
	}
	root := tree(t, files...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkExpand(t, globSyntax{}, root, tt.spec, tt.want)
		})
	}
}

// TestExpandPackagesWindowsRules reads patterns as storeflight does on
// Windows, on every platform: backslashes separate directories and case is
// ignored, so the pattern a Windows build script names (out\**\*.MSIX)
// finds the files its packaging tool wrote (.msix).
func TestExpandPackagesWindowsRules(t *testing.T) {
	t.Parallel()
	root := tree(t, "win/a/b/App_1.0_x64.msix", "win/a/App_1.0_arm64.Msix", "win/Bundle.msixbundle", "win/c/notes.txt")
	tests := []struct {
		name string
		spec string
		want []string // slash paths relative to the root
	}{
		{"backslashes, double star, upper-case extension", `win\**\*.MSIX`, []string{"win/a/App_1.0_arm64.Msix", "win/a/b/App_1.0_x64.msix"}},
		{"mixed separators", `win/a\**/*.msix`, []string{"win/a/App_1.0_arm64.Msix", "win/a/b/App_1.0_x64.msix"}},
		{"mixed-case name", `win\*\b\app_1.0_X64.*`, []string{"win/a/b/App_1.0_x64.msix"}},
		{"class ignores case", `win\**\App_1.0_[X]*`, []string{"win/a/b/App_1.0_x64.msix"}},
		{"question mark", `win\BUNDLE.MSIXBUNDL?`, []string{"win/Bundle.msixbundle"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkExpand(t, globSyntax{windows: true}, root, tt.spec, tt.want)
		})
	}
}

// checkExpand expands spec in syn under root and wants the files want
// (slash paths relative to root), in order, and no error.
func checkExpand(t *testing.T, syn globSyntax, root, spec string, want []string) {
	t.Helper()
	got, errs := expandPackagesWith(syn, root, spec)
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	var wantPkgs []Package
	for _, w := range want {
		p := filepath.Join(root, filepath.FromSlash(w))
		wantPkgs = append(wantPkgs, Package{Path: p, ZIPName: filepath.Base(p)})
	}
	if diff := cmp.Diff(wantPkgs, got); diff != "" {
		t.Errorf("expandPackagesWith(%+v, %q) (-want +got):\n%s", syn, spec, diff)
	}
}

func TestExpandPackagesErrors(t *testing.T) {
	t.Parallel()
	root := tree(t, "dist/App.msix", "dist/notes.txt", "b/App.msix", "c/app.MSIX", "dir.msix/", "dist/sub/")
	for name, content := range map[string]string{"fake/Log.msix": "build failed\n", "fake/Empty.appx": ""} {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		spec string
		want []string // parts of the error
	}{
		{"no match", "dist/*.appx", []string{`"dist/*.appx" matches no file`}},
		{"missing literal", "dist/Missing.msix", []string{`"dist/Missing.msix" matches no file`}},
		{"missing directory", "nowhere/**/*.msix", []string{`"nowhere/**/*.msix" matches no file`}},
		{"wrong extension literal", "dist/notes.txt", []string{"notes.txt", "is not a package"}},
		{"wrong extension by glob", "dist/*", []string{"notes.txt", "is not a package"}},
		{"directory named like a package", "dir.msix", []string{"dir.msix", "not a regular file"}},
		{"duplicate base names", "dist/App.msix\nb/*.msix", []string{"same file name App.msix"}},
		{"duplicate base names differing in case", "dist/App.msix,c/*", []string{"same file name app.MSIX"}},
		{"malformed glob", "dist/[.msix", []string{"malformed glob"}},
		{"not a ZIP archive", "fake/Log.msix", []string{"Log.msix", "not a package", "ZIP archives"}},
		{"empty file", "fake/Empty.appx", []string{"Empty.appx", "not a package"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, errs := expandPackages(root, tt.spec)
			if len(errs) == 0 {
				t.Fatalf("expandPackages(%q): no error", tt.spec)
			}
			msg := errs[0].Error()
			wantInputErrors(t, errs[0], "packages")
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
		})
	}
}

func TestLoadPackages(t *testing.T) {
	t.Parallel()
	root := tree(t, "dist/A.msix", "dist/B.appxupload")
	c, err := load([]string{"--packages=dist/A.msix", "--packages", "dist/*.appxupload", "--flight-name=beta"}, envOf(nil), root)
	if err != nil {
		t.Fatal(err)
	}
	want := []Package{
		{Path: filepath.Join(root, "dist", "A.msix"), ZIPName: "A.msix"},
		{Path: filepath.Join(root, "dist", "B.appxupload"), ZIPName: "B.appxupload"},
	}
	if diff := cmp.Diff(want, c.Packages); diff != "" {
		t.Errorf("Packages (-want +got):\n%s", diff)
	}
	_, err = load([]string{"--flight-name=beta"}, envOf(map[string]string{"STOREFLIGHT_PACKAGES": "dist/*.msix\nmissing/*.msix"}), root)
	wantInputErrors(t, err, "packages")
}

func TestMatchComponents(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pat, name string
		want      bool
	}{
		{"**", "a", true},
		{"**", "a/b/c", true},
		{"**/x", "x", true},
		{"**/x", "a/b/x", true},
		{"**/x", "a/b/y", false},
		{"a/**/x", "a/x", true},
		{"a/**/x", "a/b/c/x", true},
		{"a/**/x", "b/x", false},
		{"a/**/**/x", "a/x", true},
		{"*/x", "a/b/x", false},
		{"a", "a/b", false},
		{"a/b", "a", false},
	}
	for _, tt := range tests {
		if got := matchComponents(strings.Split(tt.pat, "/"), strings.Split(tt.name, "/"), false); got != tt.want {
			t.Errorf("matchComponents(%q, %q) = %v, want %v", tt.pat, tt.name, got, tt.want)
		}
	}
}

// TestGlobSyntaxDiffers checks what only one platform's rules allow: a
// POSIX pattern's case counts and its backslash escapes.
func TestGlobSyntaxDiffers(t *testing.T) {
	t.Parallel()
	root := tree(t, "out/App.msix", "out/[1]/Odd.msix")
	tests := []struct {
		name    string
		windows bool
		spec    string
		want    []string // slash paths relative to the root; nil: no match
	}{
		{"POSIX: case counts", false, "out/*.MSIX", nil},
		{"Windows: case is ignored", true, "out/*.MSIX", []string{"out/App.msix"}},
		{"POSIX: backslash escapes a bracket", false, `out/\[1\]/*.msix`, []string{"out/[1]/Odd.msix"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, errs := expandPackagesWith(globSyntax{windows: tt.windows}, root, tt.spec)
			var gotRel []string
			for _, p := range got {
				rel, err := filepath.Rel(root, p.Path)
				if err != nil {
					t.Fatal(err)
				}
				gotRel = append(gotRel, filepath.ToSlash(rel))
			}
			if diff := cmp.Diff(tt.want, gotRel); diff != "" {
				t.Errorf("matches (-want +got):\n%s", diff)
			}
			if (tt.want == nil) != (len(errs) > 0) {
				t.Errorf("errors %v, want an error only when nothing matches", errs)
			}
		})
	}
}

// TestPackageErrorsQuoteWindowsPatternsAsWritten checks that a message shows
// a Windows pattern with its backslashes single, as the user typed it.
func TestPackageErrorsQuoteWindowsPatternsAsWritten(t *testing.T) {
	t.Parallel()
	root := tree(t, "out/App.msix", "out/notes.txt")
	tests := []struct {
		name, spec, want string
	}{
		{"no match", `out\**\*.appx`, `"out\**\*.appx" matches no file`},
		{"not a package", `out\*.TXT`, `(from "out\*.TXT") is not a package`},
		{"malformed", `out\[.msix`, `"out\[.msix": malformed glob: check its [...]`},
		{"a quote in the pattern is escaped", `out\"*.msix`, `"out\\\"*.msix" matches no file`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, errs := expandPackagesWith(globSyntax{windows: true}, root, tt.spec)
			if len(errs) != 1 {
				t.Fatalf("errors %v, want one", errs)
			}
			if msg := errs[0].Error(); !strings.Contains(msg, tt.want) {
				t.Errorf("error %s\nwant it to contain %s", msg, tt.want)
			}
		})
	}
}
