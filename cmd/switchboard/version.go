package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Set at build time by `make build` and `make release`:
//
//	-ldflags "-X main.version=v1.2.0 -X main.commit=abc1234 -X main.date=2026-01-02T03:04:05Z"
//
// A plain `go build` in a checkout leaves them empty; buildVersion then
// reads what Go embedded (the VCS revision and time, or the module version
// of `go install …@v1.2.0`).
var version, commit, date string

// buildDetails is what `switchboard version` prints and the server logs.
type buildDetails struct {
	Version, Commit, Date string
	Modified              bool // built from a checkout with uncommitted changes
}

func buildVersion() buildDetails {
	info, _ := debug.ReadBuildInfo()
	return readBuild(buildDetails{Version: version, Commit: commit, Date: date}, info)
}

// readBuild fills what -ldflags left empty from Go's build info (nil: none).
func readBuild(b buildDetails, info *debug.BuildInfo) buildDetails {
	stamped := b.Commit != ""
	if info != nil {
		if b.Version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			b.Version = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				if b.Commit == "" {
					b.Commit = s.Value
				}
			case "vcs.time":
				if b.Date == "" {
					b.Date = s.Value
				}
			case "vcs.modified":
				b.Modified = s.Value == "true" && !stamped
			}
		}
	}
	if b.Version == "" {
		b.Version = "dev"
	}
	if len(b.Commit) > 12 {
		b.Commit = b.Commit[:12]
	}
	if b.Commit == "" {
		b.Commit = "unknown"
	}
	if b.Date == "" {
		b.Date = "unknown"
	}
	return b
}

func (b buildDetails) String() string {
	dirty := ""
	if b.Modified {
		dirty = " (modified)"
	}
	return fmt.Sprintf("switchboard %s commit %s%s built %s %s %s/%s", b.Version, b.Commit, dirty, b.Date, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
