// Package action tests action/run.sh, the script the composite action runs:
// it must run only a binary whose SHA-256 is committed beside it, pick the
// right asset for the runner, and keep the job's token to itself.
package action

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

const token = "ghs_FAKEJOBTOKEN0123456789"

// fakeBinary stands in for storeflight: it records the STOREFLIGHT_* (and
// any token-looking) environment it was given, then exits 3 so the test can
// see the exit code pass through.
const fakeBinary = `#!/bin/sh
env | grep -E '^STOREFLIGHT_|ghs_' | sort > "$FAKE_OUT"
exit 3
`

// release is a fake GitHub release host on loopback.
type release struct {
	mu     sync.Mutex
	assets map[string][]byte // path -> body
	hits   []string          // paths requested
	auth   []string          // Authorization headers seen
}

func (r *release) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hits = append(r.hits, req.URL.Path)
	r.auth = append(r.auth, req.Header.Get("Authorization"))
	body, ok := r.assets[req.URL.Path]
	if !ok {
		http.NotFound(w, req)
		return
	}
	w.Write(body)
}

func (r *release) seen() (hits, auth []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.hits...), append([]string(nil), r.auth...)
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

type setup struct {
	runnerTemp string            // RUNNER_TEMP's folder name in the test's directory; default runner-temp
	version    string            // action/version content
	checksums  string            // action/checksums.txt content
	assets     map[string][]byte // served by the fake release host
	env        map[string]string // on top of the defaults
	ownHost    bool              // GITHUB_SERVER_URL is the fake host
}

type result struct {
	code       int
	stdout     string
	stderr     string
	binaryEnv  string   // what the fake binary recorded; "" if it never ran
	tempFiles  []string // files in RUNNER_TEMP afterwards, relative to it
	hits, auth []string
}

func runScript(t *testing.T, s setup) result {
	t.Helper()
	script, err := os.ReadFile("run.sh")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	actionDir := filepath.Join(dir, "action")
	if err := os.MkdirAll(actionDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"run.sh": string(script), "version": s.version, "checksums.txt": s.checksums} {
		if err := os.WriteFile(filepath.Join(actionDir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	rel := &release{assets: s.assets}
	srv := httptest.NewServer(rel)
	t.Cleanup(srv.Close)

	out := filepath.Join(dir, "binary-env")
	if s.runnerTemp == "" {
		s.runnerTemp = "runner-temp"
	}
	server := "https://github.com"
	if s.ownHost {
		server = srv.URL
	}
	env := map[string]string{
		"PATH":                                os.Getenv("PATH"),
		"HOME":                                dir,
		"RUNNER_OS":                           "Linux",
		"RUNNER_ARCH":                         "X64",
		"RUNNER_TEMP":                         filepath.Join(dir, s.runnerTemp),
		"GITHUB_SERVER_URL":                   server,
		"STOREFLIGHT_ACTION_RELEASES_URL":     srv.URL + "/releases",
		"STOREFLIGHT_ACTION_TOKEN":            token,
		"STOREFLIGHT_ACTION_VERSION":          "",
		"STOREFLIGHT_PACKAGES":                "dist/*.msixupload",
		"STOREFLIGHT_ROLLOUT_PERCENTAGE":      "10",
		"STOREFLIGHT_AUTH":                    "auto",
		"FAKE_OUT":                            out,
		"STOREFLIGHT_ACTION_REPOSITORY":       "storeflight/storeflight",
		"STOREFLIGHT_NOTES_FOR_CERTIFICATION": "",
	}
	for k, v := range s.env {
		env[k] = v
	}
	// As action.yml runs it: bash "$GITHUB_ACTION_PATH/action/run.sh",
	// where on Windows the variable is a native path (D:\a\_actions\...).
	bash, err := bashPath()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), bash, dir+"/action/run.sh")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var r result
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	default:
		t.Fatalf("running run.sh: %v", err)
	}
	r.stdout, r.stderr = stdout.String(), stderr.String()
	if b, err := os.ReadFile(out); err == nil {
		r.binaryEnv = string(b)
	}
	r.hits, r.auth = rel.seen()
	r.tempFiles = filesUnder(t, env["RUNNER_TEMP"])
	return r
}

// filesUnder lists the regular files under dir (none if it is missing).
func filesUnder(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return err
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// bashPath is the shell that runs run.sh, as on the runners: the system's
// bash, and on Windows Git Bash (see findBash).
var bashPath = sync.OnceValues(findBash)

func requireTools(t *testing.T) {
	t.Helper()
	if _, err := bashPath(); err != nil {
		t.Fatalf("bash is needed to test run.sh: %v", err)
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatalf("curl is needed to test run.sh: %v", err)
	}
}

// findBash returns $STOREFLIGHT_TEST_BASH, or bash from PATH; on Windows,
// the bash of Git for Windows next to git, which is the one a runner's
// `shell: bash` steps use: the first bash on PATH there can be WSL's
// launcher in System32, which would run the script in Linux.
func findBash() (string, error) {
	if b := os.Getenv("STOREFLIGHT_TEST_BASH"); b != "" {
		return b, nil
	}
	if runtime.GOOS != "windows" {
		return exec.LookPath("bash")
	}
	git, err := exec.LookPath("git")
	if err != nil {
		return "", fmt.Errorf("git on PATH (Git for Windows) brings the bash the action runs in: %w", err)
	}
	// git.exe is in Git\cmd (or Git\bin, or Git\mingw64\bin); bash.exe in Git\bin.
	for dir := filepath.Dir(git); dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
		if b := filepath.Join(dir, "bin", "bash.exe"); fileExists(b) {
			return b, nil
		}
	}
	return "", fmt.Errorf("no bin\\bash.exe above %s", git)
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

func TestRunScriptVerifiesAndRuns(t *testing.T) {
	t.Parallel()
	requireTools(t)
	good := []byte(fakeBinary)
	bad := []byte(fakeBinary + "# tampered\n")

	tests := []struct {
		name         string
		setup        setup
		wantCode     int
		wantRan      bool
		wantHits     []string
		wantAuth     []string
		wantInStderr string
	}{
		{
			name: "runs the binary whose sum is committed",
			setup: setup{
				version:   "v1.2.3\n",
				checksums: "# header\n" + sum(good) + "  v1.2.3/storeflight_linux_amd64\n",
				assets:    map[string][]byte{"/releases/v1.2.3/storeflight_linux_amd64": good},
				ownHost:   true,
			},
			wantCode: 3, wantRan: true,
			wantHits: []string{"/releases/v1.2.3/storeflight_linux_amd64"},
			wantAuth: []string{"Bearer " + token},
		},
		{
			// GNU sha256sum escapes a file name holding a backslash and
			// prefixes the sum with '\'; on Windows every native path
			// holds one.
			name: "a runner temp path holding a backslash and a space",
			setup: setup{
				runnerTemp: `runner\temp dir`,
				version:    "v1.2.3\n",
				checksums:  sum(good) + "  v1.2.3/storeflight_linux_amd64\n",
				assets:     map[string][]byte{"/releases/v1.2.3/storeflight_linux_amd64": good},
			},
			wantCode: 3, wantRan: true,
			wantHits: []string{"/releases/v1.2.3/storeflight_linux_amd64"},
			wantAuth: []string{""},
		},
		{
			name: "version input picks an earlier release listed in the sums",
			setup: setup{
				version:   "v1.3.0\n",
				checksums: sum(bad) + "  v1.3.0/storeflight_linux_amd64\r\n" + sum(good) + "  v1.2.3/storeflight_linux_amd64\r\n",
				assets:    map[string][]byte{"/releases/v1.2.3/storeflight_linux_amd64": good},
				env:       map[string]string{"STOREFLIGHT_ACTION_VERSION": "1.2.3"},
			},
			wantCode: 3, wantRan: true,
			wantHits: []string{"/releases/v1.2.3/storeflight_linux_amd64"},
			wantAuth: []string{""},
		},
		{
			name: "macOS on Apple silicon gets the darwin arm64 asset",
			setup: setup{
				version:   "v1.2.3",
				checksums: sum(good) + "  v1.2.3/storeflight_darwin_arm64\n",
				assets:    map[string][]byte{"/releases/v1.2.3/storeflight_darwin_arm64": good},
				env:       map[string]string{"RUNNER_OS": "macOS", "RUNNER_ARCH": "ARM64"},
			},
			wantCode: 3, wantRan: true,
			wantHits: []string{"/releases/v1.2.3/storeflight_darwin_arm64"},
			wantAuth: []string{""},
		},
		{
			name: "Windows gets the .exe asset",
			setup: setup{
				version:   "v1.2.3",
				checksums: sum(good) + "  v1.2.3/storeflight_windows_amd64.exe\n",
				assets:    map[string][]byte{"/releases/v1.2.3/storeflight_windows_amd64.exe": good},
				env:       map[string]string{"RUNNER_OS": "Windows"},
			},
			wantCode: 3, wantRan: true,
			wantHits: []string{"/releases/v1.2.3/storeflight_windows_amd64.exe"},
			wantAuth: []string{""},
		},
		{
			name: "a different binary is refused",
			setup: setup{
				version:   "v1.2.3",
				checksums: sum(good) + "  v1.2.3/storeflight_linux_amd64\n",
				assets:    map[string][]byte{"/releases/v1.2.3/storeflight_linux_amd64": bad},
			},
			wantCode: 1, wantRan: false,
			wantHits:     []string{"/releases/v1.2.3/storeflight_linux_amd64"},
			wantAuth:     []string{""},
			wantInStderr: "SHA-256 mismatch",
		},
		{
			name: "no committed sum means no download",
			setup: setup{
				version:   "v1.2.3",
				checksums: sum(good) + "  v1.2.3/storeflight_linux_arm64\n",
				assets:    map[string][]byte{"/releases/v1.2.3/storeflight_linux_amd64": good},
			},
			wantCode: 2, wantRan: false,
			wantInStderr: "no SHA-256 for v1.2.3/storeflight_linux_amd64",
		},
		{
			name: "an unreleased commit of the action refuses",
			setup: setup{
				version:   "unreleased\n",
				checksums: "# no sums on main\n",
			},
			wantCode: 2, wantRan: false,
			wantInStderr: "not a release",
		},
		{
			name: "32-bit runners are not served",
			setup: setup{
				version:   "v1.2.3",
				checksums: sum(good) + "  v1.2.3/storeflight_linux_amd64\n",
				env:       map[string]string{"RUNNER_ARCH": "X86"},
			},
			wantCode: 2, wantRan: false,
			wantInStderr: "unsupported RUNNER_ARCH 'X86'",
		},
		{
			name: "a missing release asset fails the download",
			setup: setup{
				version:   "v1.2.3",
				checksums: sum(good) + "  v1.2.3/storeflight_linux_amd64\n",
				ownHost:   true,
			},
			wantCode: 1, wantRan: false,
			// Once with the token, once without, in case the token is refused.
			wantHits:     []string{"/releases/v1.2.3/storeflight_linux_amd64", "/releases/v1.2.3/storeflight_linux_amd64"},
			wantAuth:     []string{"Bearer " + token, ""},
			wantInStderr: "could not download",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runScript(t, tt.setup)
			if r.code != tt.wantCode {
				t.Errorf("exit code = %d, want %d\nstdout: %s\nstderr: %s", r.code, tt.wantCode, r.stdout, r.stderr)
			}
			if ran := r.binaryEnv != ""; ran != tt.wantRan {
				t.Errorf("binary ran = %v, want %v", ran, tt.wantRan)
			}
			if fmt.Sprint(r.hits) != fmt.Sprint(tt.wantHits) {
				t.Errorf("requests = %q, want %q", r.hits, tt.wantHits)
			}
			if fmt.Sprint(r.auth) != fmt.Sprint(tt.wantAuth) {
				t.Errorf("Authorization headers = %q, want %q", r.auth, tt.wantAuth)
			}
			if !strings.Contains(r.stderr, tt.wantInStderr) {
				t.Errorf("stderr = %q, want it to contain %q", r.stderr, tt.wantInStderr)
			}
			if tt.wantCode != 0 && tt.wantCode != 3 && !strings.Contains(r.stderr, "::error title=storeflight action::") {
				t.Errorf("stderr has no error annotation: %q", r.stderr)
			}
			for _, s := range []string{r.stdout, r.stderr, r.binaryEnv} {
				if strings.Contains(s, token) {
					t.Errorf("the job token leaked into output or the binary's environment: %q", s)
				}
			}
			if tt.wantRan {
				for _, want := range []string{"STOREFLIGHT_PACKAGES=dist/*.msixupload", "STOREFLIGHT_ROLLOUT_PERCENTAGE=10", "STOREFLIGHT_AUTH=auto"} {
					if !strings.Contains(r.binaryEnv, want+"\n") {
						t.Errorf("binary environment lacks %q:\n%s", want, r.binaryEnv)
					}
				}
				if strings.Contains(r.binaryEnv, "STOREFLIGHT_ACTION_") {
					t.Errorf("action-only variables reached the binary:\n%s", r.binaryEnv)
				}
			}
		})
	}
}

// TestRunScriptReusesVerifiedDownload checks that a second use of the action
// in one job does not download again, and that a binary changed on disk
// after the first check is fetched and checked anew rather than run.
func TestRunScriptReusesVerifiedDownload(t *testing.T) {
	t.Parallel()
	requireTools(t)
	good := []byte(fakeBinary)
	s := setup{
		version:   "v1.2.3",
		checksums: sum(good) + "  v1.2.3/storeflight_linux_amd64\n",
		assets:    map[string][]byte{"/releases/v1.2.3/storeflight_linux_amd64": good},
	}
	dir := t.TempDir()
	s.env = map[string]string{"RUNNER_TEMP": dir}

	first := runScript(t, s)
	if first.code != 3 || len(first.hits) != 1 {
		t.Fatalf("first run: code %d, %d downloads, stderr %q", first.code, len(first.hits), first.stderr)
	}
	second := runScript(t, s)
	if second.code != 3 || len(second.hits) != 0 {
		t.Errorf("second run: code %d, %d downloads, want 3 and 0", second.code, len(second.hits))
	}

	cached := filepath.Join(dir, "storeflight", "v1.2.3", "storeflight_linux_amd64")
	if err := os.WriteFile(cached, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	third := runScript(t, s)
	if third.code != 3 || len(third.hits) != 1 {
		t.Errorf("after tampering: code %d, %d downloads, want 3 and 1", third.code, len(third.hits))
	}
}

// TestRunScriptWithoutChecksumToolDownloadsNothing runs the script with a
// PATH that has every tool it needs but sha256sum and shasum: it must stop
// before the download, with nothing left in RUNNER_TEMP.
func TestRunScriptWithoutChecksumToolDownloadsNothing(t *testing.T) {
	t.Parallel()
	requireTools(t)
	if runtime.GOOS == "windows" {
		t.Skip("Git Bash always brings sha256sum; the PATH trick below needs symbolic links")
	}
	bin := t.TempDir()
	for _, tool := range []string{"dirname", "tr", "grep", "awk", "mkdir", "rm", "curl", "chmod", "mv", "env", "sort"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Fatalf("%s: %v", tool, err)
		}
		if err := os.Symlink(p, filepath.Join(bin, tool)); err != nil {
			t.Fatal(err)
		}
	}
	good := []byte(fakeBinary)
	temp := "runner-temp"
	r := runScript(t, setup{
		runnerTemp: temp,
		version:    "v1.2.3",
		checksums:  sum(good) + "  v1.2.3/storeflight_linux_amd64\n",
		assets:     map[string][]byte{"/releases/v1.2.3/storeflight_linux_amd64": good},
		env:        map[string]string{"PATH": bin},
	})
	if r.code != 2 || !strings.Contains(r.stderr, "neither sha256sum nor shasum") {
		t.Errorf("exit code %d, stderr %q; want 2 and a message naming the missing tools", r.code, r.stderr)
	}
	if len(r.hits) != 0 || r.binaryEnv != "" {
		t.Errorf("downloaded %q and ran %t, want neither", r.hits, r.binaryEnv != "")
	}
	if r.tempFiles != nil {
		t.Errorf("files left in RUNNER_TEMP: %q", r.tempFiles)
	}
}
