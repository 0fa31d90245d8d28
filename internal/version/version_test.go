package version

import (
	"runtime/debug"
	"testing"
)

// These tests swap package variables, so they do not run in parallel.

func TestString(t *testing.T) {
	tests := []struct {
		name    string
		version string
		info    *debug.BuildInfo
		ok      bool
		want    string
	}{
		{name: "ldflags win over build info", version: "1.2.3", info: &debug.BuildInfo{Main: debug.Module{Version: "v9.9.9"}}, ok: true, want: "1.2.3"},
		{name: "go install records the module version", version: "dev", info: &debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}}, ok: true, want: "1.4.0"},
		{name: "pseudo-version kept whole", version: "dev", info: &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20260101000000-abcdef123456"}}, ok: true, want: "0.0.0-20260101000000-abcdef123456"},
		{name: "checkout build shows revision", version: "dev", info: &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "false"}}}, ok: true, want: "dev-0123456789ab"},
		{name: "modified checkout marked dirty", version: "dev", info: &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "true"}}}, ok: true, want: "dev-abc-dirty"},
		{name: "no VCS information", version: "dev", info: &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, ok: true, want: "dev"},
		{name: "no build information", version: "dev", ok: false, want: "dev"},
		{name: "empty ldflags value", version: "", info: &debug.BuildInfo{Main: debug.Module{Version: "v2.0.0"}}, ok: true, want: "2.0.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			oldVersion, oldRead := Version, readBuildInfo
			t.Cleanup(func() { Version, readBuildInfo = oldVersion, oldRead })
			Version = tt.version
			readBuildInfo = func() (*debug.BuildInfo, bool) { return tt.info, tt.ok }
			if got := String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}
