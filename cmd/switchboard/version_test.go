package main

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

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

// TestVersionLdflags builds the binary as `make build` does and checks that
// `switchboard version` prints what -ldflags set.
func TestVersionLdflags(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "switchboard")
	build := exec.Command("go", "build", "-o", bin, "-ldflags",
		"-X main.version=v9.8.7 -X main.commit=feedbeef -X main.date=2026-12-02T00:00:00Z", ".")
	build.Env = append(build.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.CommandContext(context.Background(), bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"switchboard v9.8.7", "commit feedbeef", "built 2026-12-02T00:00:00Z"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("version output %q lacks %q", strings.TrimSpace(string(out)), want)
		}
	}
}
