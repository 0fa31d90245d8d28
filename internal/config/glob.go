package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// packageExts are the file types the Store accepts in a submission's ZIP.
var packageExts = []string{".msix", ".msixbundle", ".msixupload", ".appx", ".appxbundle", ".appxupload"}

func isPackageName(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return slices.Contains(packageExts, ext)
}

// globSyntax is how patterns are written on a platform.
type globSyntax struct {
	// windows: `\` separates directories as `/` does (it escapes nothing),
	// and names match whatever their case, as Windows' own file names and
	// PowerShell's wildcards do. Elsewhere `\` escapes the next character
	// and case counts, as in a POSIX shell.
	windows bool
}

// hostSyntax is the syntax of the platform storeflight runs on.
var hostSyntax = globSyntax{windows: runtime.GOOS == "windows"}

// expandPackages turns the packages input (paths or globs, one per line or
// comma separated) into files. Relative patterns start at root ("" for the
// working directory). Matches come in the order of the patterns, each
// pattern's matches in lexical order; a file named twice is kept once.
func expandPackages(root, spec string) ([]Package, []error) {
	return expandPackagesWith(hostSyntax, root, spec)
}

// expandPackagesWith is expandPackages with the patterns read in syn, so
// that the Windows rules are tested on every platform.
func expandPackagesWith(syn globSyntax, root, spec string) ([]Package, []error) {
	var pkgs []Package
	var errs []error
	seenPath := map[string]bool{}
	byBase := map[string]string{} // lower-case base name -> first path
	bad := func(format string, args ...any) {
		errs = append(errs, &InputError{Input: "packages", Problem: fmt.Sprintf(format, args...)})
	}
	for _, pattern := range splitList(spec) {
		q := quote(pattern)
		paths, err := syn.match(root, pattern)
		if err != nil {
			bad("%s: %v", q, err)
			continue
		}
		if len(paths) == 0 {
			bad("%s matches no file: check the path, relative to the working directory; globs take *, ?, [...] and **", q)
			continue
		}
		for _, p := range paths {
			if !isPackageName(p) {
				bad("%s (from %s) is not a package: give files ending in %s", p, q, strings.Join(packageExts, " "))
				continue
			}
			fi, err := os.Stat(p)
			if err != nil || !fi.Mode().IsRegular() {
				bad("%s (from %s) is not a regular file", p, q)
				continue
			}
			if !startsLikeZIP(p) {
				bad("%s (from %s) is not a package: .msix, .appx, their bundles and upload files are ZIP archives, and this file is not one (was the build's output path right?)", p, q)
				continue
			}
			clean := filepath.Clean(p)
			if seenPath[clean] {
				continue
			}
			seenPath[clean] = true
			base := filepath.Base(p)
			if first, dup := byBase[strings.ToLower(base)]; dup {
				bad("%s and %s have the same file name %s: the ZIP holds base names only, so rename one", first, p, base)
				continue
			}
			byBase[strings.ToLower(base)] = p
			pkgs = append(pkgs, Package{Path: p, ZIPName: base})
		}
	}
	return pkgs, errs
}

// splitList splits on newlines and commas and drops blank items.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' }) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// quote puts a pattern in quotes as the user wrote it: %q would double
// every backslash of a Windows path. Only a pattern that a plain quote
// would make ambiguous (a quote or an invisible character in it) is
// escaped.
func quote(s string) string {
	if strings.ContainsFunc(s, func(r rune) bool { return r == '"' || !unicode.IsPrint(r) }) {
		return strconv.Quote(s)
	}
	return `"` + s + `"`
}

func (syn globSyntax) hasMeta(s string) bool {
	chars := `*?[`
	if !syn.windows {
		chars += `\`
	}
	return strings.ContainsAny(s, chars)
}

// toSlash turns the pattern's separators into '/'.
func (syn globSyntax) toSlash(pattern string) string {
	if syn.windows {
		return strings.ReplaceAll(pattern, `\`, "/")
	}
	return filepath.ToSlash(pattern)
}

// match returns the files a pattern names. A pattern without glob
// characters names one path, returned as is (the caller reports it if it is
// not a package file). Otherwise the literal directories before the first
// glob character are walked and each file's path below them is matched
// component by component, ** standing for any number of directories.
// Directories are never matches: a glob names files.
func (syn globSyntax) match(root, pattern string) ([]string, error) {
	slashed := syn.toSlash(pattern)
	if !syn.hasMeta(slashed) {
		p := filepath.FromSlash(slashed)
		if !filepath.IsAbs(p) {
			p = filepath.Join(root, p)
		}
		if _, err := os.Stat(p); err != nil {
			return nil, nil
		}
		return []string{p}, nil
	}
	parts := strings.Split(slashed, "/")
	i := 0
	for i < len(parts) && !syn.hasMeta(parts[i]) {
		i++
	}
	base := strings.Join(parts[:i], "/")
	if base == "" && strings.HasPrefix(slashed, "/") {
		base = "/"
	}
	rest := parts[i:]
	for _, r := range rest {
		if _, err := path.Match(r, ""); err != nil {
			if syn.windows {
				return nil, errors.New("malformed glob: check its [...]")
			}
			return nil, errors.New("malformed glob: check its [...] and \\ escapes")
		}
	}
	dir := filepath.FromSlash(base)
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(root, dir)
	}
	if dir == "" {
		dir = "."
	}
	deep := slices.Contains(rest, "**")
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir {
				return fs.SkipAll // the literal directory is missing: no match
			}
			return nil // an unreadable directory below holds no match we can use
		}
		if p == dir {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return nil
		}
		comps := strings.Split(filepath.ToSlash(rel), "/")
		if d.IsDir() {
			if !deep && len(comps) >= len(rest) {
				return fs.SkipDir
			}
			return nil
		}
		if matchComponents(rest, comps, syn.windows) {
			if base == "" && !filepath.IsAbs(pattern) && root == "" {
				p = rel
			}
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// matchComponents matches path components against pattern components; "**"
// matches zero or more whole components. With foldCase, letters match
// whatever their case.
func matchComponents(pat, name []string, foldCase bool) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for len(pat) > 0 && pat[0] == "**" {
				pat = pat[1:]
			}
			if len(pat) == 0 {
				return true
			}
			for i := range len(name) + 1 {
				if matchComponents(pat, name[i:], foldCase) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		p, n := pat[0], name[0]
		if foldCase {
			p, n = strings.ToLower(p), strings.ToLower(n)
		}
		if ok, _ := path.Match(p, n); !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}

// startsLikeZIP reports whether the file begins with a ZIP local file
// header. Every package format the Store takes is a ZIP archive, so a file
// that is not one (an empty file, a build log renamed by a glob) is refused
// before anything is sent, rather than failing the commit as InvalidArchive.
func startsLikeZIP(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var sig [4]byte
	if _, err := io.ReadFull(f, sig[:]); err != nil {
		return false
	}
	return string(sig[:]) == "PK\x03\x04"
}
