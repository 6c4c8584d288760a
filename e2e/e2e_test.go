package e2e

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// nodeTestTimeout bounds one node:test test; a hung request fails it instead of
// hanging the suite.
const nodeTestTimeout = 2 * time.Minute

// missingPrerequisite fails the test in CI and skips it elsewhere, so that
// a plain `go test ./...` on a machine without Node.js (or the README's
// tools) still passes, while CI cannot silently run less.
func missingPrerequisite(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

func TestOfficialSDKs(t *testing.T) {
	e2eDir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(e2eDir)

	missing := func(format string, args ...any) { t.Helper(); missingPrerequisite(t, format, args...) }
	if _, err := os.Stat(filepath.Join(e2eDir, "node_modules", "@ringcentral", "sdk")); err != nil {
		missing("e2e/node_modules is missing the SDKs: run `npm ci --prefix e2e` first (%v)", err)
	}
	if _, err := os.Stat(filepath.Join(e2eDir, "node_modules", "@rc-ex", "core")); err != nil {
		missing("e2e/node_modules is missing @rc-ex/core: run `npm ci --prefix e2e` first (%v)", err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node (Node.js 20 or newer) is not on PATH: %v", err)
	}

	ctx := t.Context()
	if deadline, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-15*time.Second))
		defer cancel()
	}

	bin := filepath.Join(t.TempDir(), "switchboard")
	buildArgs := []string{"build", "-o", bin}
	if raceEnabled {
		// Under `go test -race` the server under test is built with the race
		// detector too: a race it hits while the SDKs drive it is reported in
		// its log and makes it exit non-zero, which fails the suite.
		buildArgs = append(buildArgs, "-race")
	}
	buildArgs = append(buildArgs, "./cmd/switchboard")
	build := exec.CommandContext(ctx, "go", buildArgs...)
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go %v: %v\n%s", buildArgs, err, out)
	}

	args := []string{
		"--test",
		"--test-reporter=spec",
		"--test-concurrency=4", // one server per test file; files run side by side
		fmt.Sprintf("--test-timeout=%d", nodeTestTimeout.Milliseconds()),
		"e2e/",
	}
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "SWITCHBOARD_BIN="+bin)
	// Stream node's report as it runs: `go test -v ./e2e` shows progress live,
	// and a failing run shows every failure with the server's log tail.
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	// On timeout, interrupt node (it stops its test files, which stop their
	// servers) before killing it.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second

	start := time.Now()
	err = cmd.Run()
	t.Logf("node %v took %v", args, time.Since(start).Round(time.Millisecond))
	if err != nil {
		if ctx.Err() != nil {
			t.Fatalf("the SDK tests did not finish in time: %v", ctx.Err())
		}
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			t.Fatalf("the SDK tests failed (node exit code %d); see the report above", exit.ExitCode())
		}
		t.Fatalf("running node: %v", err)
	}
}
