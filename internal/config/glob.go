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
	"strings"
)

// packageExts are the file types the Store accepts in a submission's ZIP.
var packageExts = []string{".msix", ".msixbundle", ".msixupload", ".appx", ".appxbundle", ".appxupload"}

func isPackageName(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return slices.Contains(packageExts, ext)
}

// expandPackages turns the packages input (paths or globs, one per line or
// comma separated) into files. Relative patterns start at root ("" for the
// working directory). Matches come in the order of the patterns, each
// pattern's matches in lexical order; a file named twice is kept once.
func expandPackages(root, spec string) ([]Package, []error) {
	var pkgs []Package
	var errs []error
	seenPath := map[string]bool{}
	byBase := map[string]string{} // lower-case base name -> first path
	bad := func(format string, args ...any) {
		errs = append(errs, &InputError{Input: "packages", Problem: fmt.Sprintf(format, args...)})
	}
	for _, pattern := range splitList(spec) {
		paths, err := matchPattern(root, pattern)
		if err != nil {
			bad("%q: %v", pattern, err)
			continue
		}
		if len(paths) == 0 {
			bad("%q matches no file: check the path, relative to the working directory; globs take *, ?, [...] and **", pattern)
			continue
		}
		for _, p := range paths {
			if !isPackageName(p) {
				bad("%s (from %q) is not a package: give files ending in %s", p, pattern, strings.Join(packageExts, " "))
				continue
			}
			fi, err := os.Stat(p)
			if err != nil || !fi.Mode().IsRegular() {
				bad("%s (from %q) is not a regular file", p, pattern)
				continue
			}
			if !startsLikeZIP(p) {
				bad("%s (from %q) is not a package: .msix, .appx, their bundles and upload files are ZIP archives, and this file is not one (was the build's output path right?)", p, pattern)
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

func hasMeta(s string) bool {
	chars := `*?[`
	if runtime.GOOS != "windows" {
		chars += `\`
	}
	return strings.ContainsAny(s, chars)
}

// matchPattern returns the files a pattern names. A pattern without glob
// characters names one path, returned as is (the caller reports it if it is
// not a package file). Otherwise the literal directories before the first
// glob character are walked and each file's path below them is matched
// component by component, ** standing for any number of directories.
// Directories are never matches: a glob names files.
func matchPattern(root, pattern string) ([]string, error) {
	slashed := filepath.ToSlash(pattern)
	if !hasMeta(slashed) {
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
	for i < len(parts) && !hasMeta(parts[i]) {
		i++
	}
	base := strings.Join(parts[:i], "/")
	if base == "" && strings.HasPrefix(slashed, "/") {
		base = "/"
	}
	rest := parts[i:]
	for _, r := range rest {
		if _, err := path.Match(r, ""); err != nil {
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
		if matchComponents(rest, comps) {
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
// matches zero or more whole components.
func matchComponents(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for len(pat) > 0 && pat[0] == "**" {
				pat = pat[1:]
			}
			if len(pat) == 0 {
				return true
			}
			for i := range len(name) + 1 {
				if matchComponents(pat, name[i:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], name[0]); !ok {
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
