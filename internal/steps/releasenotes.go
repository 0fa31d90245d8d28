package steps

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/storeflight/storeflight/internal/config"
	"github.com/storeflight/storeflight/internal/storeapi"
)

// notesFile is one <language>.txt file of release-notes-dir.
type notesFile struct {
	lang string // the file's name without .txt, as written
	name string // the file's name, for messages
	text string // its content, white space around it trimmed
}

// maxNotesFile bounds how much of a notes file is read: far above what the
// Store takes, so that a longer file is refused by its length, not read
// whole into memory.
const maxNotesFile = 1 << 20

// readNotesDir reads release-notes-dir: every <language>.txt file in it
// (sub-folders and other files are not read), UTF-8, trimmed. Problems are
// input errors (exit 2), found before anything is sent.
func readNotesDir(dir string) ([]notesFile, error) {
	const input = "release-notes-dir"
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, &config.InputError{Input: input, Problem: fmt.Sprintf("cannot read the folder %s: %v", dir, err)}
	}
	var files []notesFile
	byLang := map[string]string{}
	for _, e := range entries {
		lang, ok := strings.CutSuffix(e.Name(), ".txt")
		if !ok || e.IsDir() || lang == "" {
			continue
		}
		if prev, ok := byLang[strings.ToLower(lang)]; ok {
			return nil, &config.InputError{Input: input, Problem: fmt.Sprintf("%s and %s are for the same language (languages match ignoring case): keep one", prev, e.Name())}
		}
		byLang[strings.ToLower(lang)] = e.Name()
		text, err := readNotesFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, &config.InputError{Input: input, Problem: fmt.Sprintf("%s: %v", e.Name(), err)}
		}
		files = append(files, notesFile{lang: lang, name: e.Name(), text: text})
	}
	if len(files) == 0 {
		return nil, &config.InputError{Input: input, Problem: fmt.Sprintf("the folder %s holds no <language>.txt file: give one file per language, named like en-us.txt and de-de.txt", dir)}
	}
	return files, nil
}

func readNotesFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxNotesFile+1))
	if err != nil {
		return "", err
	}
	if len(b) > maxNotesFile {
		return "", fmt.Errorf("is over %d bytes; the Store takes at most %d characters", maxNotesFile, storeapi.MaxReleaseNotes)
	}
	if !utf8.Valid(b) {
		return "", fmt.Errorf("is not UTF-8 text; save it as UTF-8")
	}
	text := strings.TrimPrefix(string(b), "\ufeff") // the byte order mark some editors write
	return strings.TrimSpace(text), nil
}

// releaseNotes returns the "What's new" text the inputs set for each of
// langs, the submission's listing languages as the Store spelt them:
// release-notes for every one, a release-notes-dir file for its own,
// matched ignoring case. A file for a language the submission does not
// list, or a text longer than the Store takes, is an input error.
func (in updateInput) releaseNotes(langs []string) (map[string]string, error) {
	cfg := in.cfg
	if cfg.ReleaseNotes == "" && len(in.notes) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	if cfg.ReleaseNotes != "" {
		if err := checkNotesLength("release-notes", "", cfg.ReleaseNotes); err != nil {
			return nil, err
		}
		for _, l := range langs {
			out[l] = cfg.ReleaseNotes
		}
	}
	for _, f := range in.notes {
		i := slices.IndexFunc(langs, func(l string) bool { return strings.EqualFold(l, f.lang) })
		if i < 0 {
			return nil, &config.InputError{Input: "release-notes-dir", Problem: fmt.Sprintf("%s is for language %q, which the app's listings do not have (they are %s): adding a language needs a whole listing, made in Partner Center; nothing was changed: remove the file or rename it to a listed language",
				f.name, f.lang, orNoneList(langs))}
		}
		if err := checkNotesLength("release-notes-dir", f.name+" ", f.text); err != nil {
			return nil, err
		}
		out[langs[i]] = f.text
	}
	return out, nil
}

// checkNotesLength counts characters as the Store does: UTF-16 code units.
func checkNotesLength(input, what, text string) error {
	if n := len(utf16.Encode([]rune(text))); n > storeapi.MaxReleaseNotes {
		return &config.InputError{Input: input, Problem: fmt.Sprintf("%sis %d characters long (counted as the Store counts them, in UTF-16 code units): the Store takes at most %d; shorten it", what, n, storeapi.MaxReleaseNotes)}
	}
	return nil
}

func orNoneList(langs []string) string {
	if len(langs) == 0 {
		return "none"
	}
	return strings.Join(langs, ", ")
}
