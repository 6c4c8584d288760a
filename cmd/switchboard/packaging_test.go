//go:build unix

package main

// The packaging recipes (Dockerfile, compose.yaml, the systemd unit, make
// release) checked here without Docker or systemd: no Docker engine can
// run on the machines this project builds and tests on, so the test
// performs the image's steps itself.

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v4"

	"github.com/switchboardhq/switchboard/internal/config"
)

// repoFile reads a file at the repository root.
func repoFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// dockerfile is what the test needs of the Dockerfile: the build command of
// the binary, the runtime user, environment, health check and volume.
type dockerfile struct {
	build       string
	user        string
	env         map[string]string
	healthcheck []string
	volume      string
}

func parseDockerfile(t *testing.T, text string) dockerfile {
	t.Helper()
	d := dockerfile{env: map[string]string{}}
	// Continuation lines joined first.
	text = strings.ReplaceAll(text, "\\\n", " ")
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		word, rest, _ := strings.Cut(line, " ")
		switch word {
		case "RUN":
			if strings.Contains(rest, "go build") {
				d.build = rest
			}
		case "USER":
			d.user = rest
		case "ENV":
			for _, kv := range strings.Fields(rest) {
				k, v, _ := strings.Cut(kv, "=")
				d.env[k] = v
			}
		case "VOLUME":
			d.volume = rest
		case "HEALTHCHECK":
			_, cmd, _ := strings.Cut(rest, "CMD ")
			if err := json.Unmarshal([]byte(cmd), &d.healthcheck); err != nil {
				t.Fatalf("HEALTHCHECK CMD %q: %v", cmd, err)
			}
		}
	}
	return d
}

// TestContainerRecipe builds the binary with the Dockerfile's build
// command, checks that it is static, runs it as the image's non-root user
// with the image's environment and /data layout, and runs the image's
// health check command against it.
func TestContainerRecipe(t *testing.T) {
	d := parseDockerfile(t, repoFile(t, "Dockerfile"))
	if !strings.HasPrefix(d.build, "CGO_ENABLED=0 go build") || d.user != "65532:65532" || d.volume != "/data" ||
		d.env["SWITCHBOARD_DATA"] != "/data" || len(d.healthcheck) != 2 || d.healthcheck[1] != "health" {
		t.Fatalf("Dockerfile: %+v", d)
	}
	// The build command as written, with its output and build args put in.
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	tmp := t.TempDir()
	if err := os.Chmod(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(tmp, "switchboard")
	cmdline := strings.NewReplacer("${VERSION}", "v0.0.0-test", "${COMMIT}", "c0ffee", "${DATE}", "2026-12-02T00:00:00Z",
		"/out/switchboard", bin).Replace(d.build)
	build := exec.Command("sh", "-c", cmdline)
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmdline, err, out)
	}
	if out, err := exec.Command(bin, "version").Output(); err != nil ||
		!strings.HasPrefix(string(out), "switchboard v0.0.0-test commit c0ffee built 2026-12-02T00:00:00Z") {
		t.Fatalf("switchboard version: %v %q: the -ldflags of the build did not reach it", err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Fatalf("the binary is dynamically linked (%v): the distroless static base cannot run it", p.Type)
		}
	}
	f.Close()

	// /data as the image has it: owned by the non-root user, who runs the
	// server (when the test runs as root, which can switch users).
	data := filepath.Join(tmp, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	serve := exec.Command(bin, "serve", "--demo")
	serve.Env = append(os.Environ(), "SWITCHBOARD_DATA="+data, "SWITCHBOARD_LISTEN=127.0.0.1:0")
	for k, v := range d.env {
		if k != "SWITCHBOARD_DATA" && k != "SWITCHBOARD_LISTEN" { // the test's own address and directory
			serve.Env = append(serve.Env, k+"="+v)
		}
	}
	asUser := os.Getuid() == 0
	if asUser {
		if err := os.Chown(data, 65532, 65532); err != nil {
			t.Fatal(err)
		}
		serve.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65532, Gid: 65532}}
		// t.TempDir's parent is private to root: let the user reach its files.
		if err := os.Chmod(filepath.Dir(tmp), 0o755); err != nil {
			t.Fatal(err)
		}
	} else {
		t.Log("not root: the server runs as the test's user, not 65532")
	}
	log := &syncBuffer{}
	serve.Stdout, serve.Stderr = log, log
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = serve.Wait(); close(exited) }()
	t.Cleanup(func() { _ = serve.Process.Kill(); <-exited })
	demo := awaitDemo(t, data, log, exited, func() error { return waitErr })
	if asUser {
		var st syscall.Stat_t
		if err := syscall.Stat(filepath.Join(data, databaseFile), &st); err != nil || st.Uid != 65532 {
			t.Fatalf("the database is not the non-root user's: uid %d %v", st.Uid, err)
		}
	}
	if !strings.Contains(log.String(), "version=v0.0.0-test commit=c0ffee") {
		t.Errorf("the build args did not reach the binary:\n%s", log.String())
	}

	// The image's health check command, in the server's environment.
	check := func() error {
		hc := exec.Command(bin, d.healthcheck[1:]...)
		hc.Env = append(os.Environ(), "SWITCHBOARD_LISTEN="+strings.TrimPrefix(demo.Server, "http://"))
		out, err := hc.CombinedOutput()
		if err != nil {
			return &exec.ExitError{ProcessState: hc.ProcessState, Stderr: out}
		}
		return nil
	}
	if err := check(); err != nil {
		t.Fatalf("health check of a running server: %v", err)
	}
	_ = serve.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(15 * time.Second):
		t.Fatal("no exit on SIGTERM")
	}
	if waitErr != nil {
		t.Fatalf("exit on SIGTERM: %v\n%s", waitErr, log.String())
	}
	if err := check(); err == nil {
		t.Fatal("health check passed with the server stopped")
	}
}

// TestComposeFile: PostgreSQL with a health check and two nodes of the
// image on it, each with a data volume of its own.
func TestComposeFile(t *testing.T) {
	var c struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Build       any               `yaml:"build"`
			Environment map[string]string `yaml:"environment"`
			Volumes     []string          `yaml:"volumes"`
			Healthcheck map[string]any    `yaml:"healthcheck"`
			DependsOn   map[string]any    `yaml:"depends_on"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal([]byte(repoFile(t, "compose.yaml")), &c); err != nil {
		t.Fatal(err)
	}
	if pg, ok := c.Services["postgres"]; !ok || pg.Healthcheck == nil {
		t.Fatalf("no PostgreSQL service with a health check: %+v", c.Services)
	}
	nodes := 0
	for name, s := range c.Services {
		db := s.Environment["SWITCHBOARD_DATABASE"]
		if db == "" {
			continue
		}
		nodes++
		if !strings.HasPrefix(db, "postgres://") || !strings.Contains(db, "@postgres:5432/") || s.DependsOn["postgres"] == nil {
			t.Errorf("%s: database %q, depends on %v", name, db, s.DependsOn)
		}
		if len(s.Volumes) != 1 || !strings.HasSuffix(s.Volumes[0], ":/data") {
			t.Errorf("%s: volumes %v, want its own /data", name, s.Volumes)
		}
		env := func(k string) string { return s.Environment[k] }
		if _, err := config.Load(flag.NewFlagSet("compose", flag.ContinueOnError), nil, env); err != nil {
			t.Errorf("%s: its environment is not a valid configuration: %v", name, err)
		}
	}
	if nodes != 2 {
		t.Fatalf("%d nodes on PostgreSQL, want 2", nodes)
	}
}

// TestSystemdUnit: the unit passes systemd-analyze verify (when the
// machine has it; its ExecStart pointed at a built binary) and carries the
// hardening options and a graceful stop.
func TestSystemdUnit(t *testing.T) {
	unit := repoFile(t, "packaging/switchboard.service")
	keys := map[string][]string{}
	sc := bufio.NewScanner(strings.NewReader(unit))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("unit line %q is not key=value", line)
		}
		keys[k] = append(keys[k], v)
	}
	for k, want := range map[string]string{"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
		"DynamicUser": "yes", "StateDirectory": "switchboard", "KillSignal": "SIGTERM", "Environment": "SWITCHBOARD_DATA=/var/lib/switchboard",
		"CapabilityBoundingSet": "", "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX"} {
		if got := keys[k]; len(got) == 0 || got[0] != want {
			t.Errorf("%s=%v, want %q", k, got, want)
		}
	}
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze not installed: the unit was only parsed")
		return
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "switchboard")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "switchboard.service")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(unit, "/usr/local/bin/switchboard", bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestReleaseChecksums runs `make release` for one target (all four take
// minutes on two cores; the Makefile loops over the same command) and
// checks the binary and the SHA256SUMS file `sha256sum -c` reads.
func TestReleaseChecksums(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles")
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make not installed")
	}
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	dist := t.TempDir()
	// The target itself (a copy of its recipe would drift), writing into
	// a directory of the test's.
	cmd := exec.Command("make", "--no-print-directory", "release", "RELEASE_TARGETS=linux/arm64", "VERSION=v0.0.0-test", "DIST="+dist)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make release: %v\n%s", err, out)
	}
	sums, err := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(sums)), "\n")
	line := regexp.MustCompile(`^([0-9a-f]{64})  (switchboard-v0\.0\.0-test-linux-arm64)$`)
	if len(lines) != 1 || !line.MatchString(lines[0]) {
		t.Fatalf("SHA256SUMS:\n%s", sums)
	}
	m := line.FindStringSubmatch(lines[0])
	b, err := os.ReadFile(filepath.Join(dist, m[2]))
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != m[1] {
		t.Fatal("SHA256SUMS does not match the binary")
	}
	f, err := elf.Open(filepath.Join(dist, m[2]))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Machine != elf.EM_AARCH64 {
		t.Fatalf("linux/arm64 build is for %v", f.Machine)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatal("the release binary is dynamically linked")
		}
	}
	check := exec.Command("sha256sum", "-c", "SHA256SUMS")
	check.Dir = dist
	if out, err := check.CombinedOutput(); err != nil {
		t.Fatalf("sha256sum -c: %v\n%s", err, out)
	}
}

// TestGoInstallable: `go install <module>/cmd/switchboard@latest` needs a
// go.mod without replace or exclude directives (go install refuses them)
// and the README to name the module's real path.
func TestGoInstallable(t *testing.T) {
	out, err := exec.Command("go", "mod", "edit", "-json", filepath.Join("..", "..", "go.mod")).Output()
	if err != nil {
		t.Fatal(err)
	}
	var mod struct {
		Module  struct{ Path string }
		Replace []any
		Exclude []any
	}
	if err := json.Unmarshal(out, &mod); err != nil {
		t.Fatal(err)
	}
	if len(mod.Replace) > 0 || len(mod.Exclude) > 0 {
		t.Fatalf("go.mod has replace or exclude directives: go install …@latest would refuse the module")
	}
	want := "go install " + mod.Module.Path + "/cmd/switchboard@latest"
	if !strings.Contains(repoFile(t, "README.md"), want) {
		t.Fatalf("README.md does not say %q", want)
	}
}
