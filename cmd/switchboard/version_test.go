package main

import (
	"runtime/debug"
	"testing"
)

// TestReadBuild: what `switchboard version` prints, from -ldflags or Go's
// build info. (TestContainerRecipe checks a binary built with -ldflags.)
func TestReadBuild(t *testing.T) {
	vcs := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.time", Value: "2026-12-01T10:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	tests := []struct {
		name string
		ld   buildDetails
		info *debug.BuildInfo
		want buildDetails
	}{
		{"ldflags win", buildDetails{Version: "v1.2.0", Commit: "abc1234", Date: "2026-11-30T00:00:00Z"}, vcs,
			buildDetails{Version: "v1.2.0", Commit: "abc1234", Date: "2026-11-30T00:00:00Z"}},
		{"plain go build in a checkout", buildDetails{}, vcs,
			buildDetails{Version: "dev", Commit: "0123456789ab", Date: "2026-12-01T10:00:00Z", Modified: true}},
		{"go install module@version", buildDetails{}, &debug.BuildInfo{Main: debug.Module{Version: "v1.3.0"}},
			buildDetails{Version: "v1.3.0", Commit: "unknown", Date: "unknown"}},
		{"nothing known", buildDetails{}, nil, buildDetails{Version: "dev", Commit: "unknown", Date: "unknown"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := readBuild(tt.ld, tt.info); got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}
