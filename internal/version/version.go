// Package version reports which storeflight build is running, so that a log
// line or a bug report names the exact release.
//
// Release builds set Version with
//
//	-ldflags "-X github.com/storeflight/storeflight/internal/version.Version=1.2.3"
//
// (GoReleaser and the Dockerfiles do). A `go install ...@v1.2.3` build has no
// ldflags, so String falls back to the module version the go command records
// in the binary's build information.
package version

import (
	"runtime/debug"
	"strings"
)

// Version is the release version without a leading "v", or "dev" when the
// build did not set it.
var Version = "dev"

// readBuildInfo is debug.ReadBuildInfo, swapped in tests.
var readBuildInfo = debug.ReadBuildInfo

// String returns the version to show: Version when the build set it, else
// the main module's version from the build information (without its "v"),
// else "dev". A source checkout built with `go build` reports "(devel)" as
// its module version, which says nothing more than "dev", so it is ignored;
// its VCS revision, when the go command recorded one, is appended instead.
func String() string {
	if Version != "" && Version != "dev" {
		return Version
	}
	info, ok := readBuildInfo()
	if !ok || info == nil {
		return "dev"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return strings.TrimPrefix(v, "v")
	}
	var rev string
	var dirty bool
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "dev"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return "dev-" + rev
}
