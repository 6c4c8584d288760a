//go:build unix

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// readmeBlockTimeout bounds one README block; a command that hangs fails
// the test instead of hanging the suite.
const readmeBlockTimeout = 2 * time.Minute

// skipMarker is the line that, right before a fence, keeps a block from
// being run; the reason is required and shown in the test log.
var skipMarker = regexp.MustCompile(`^<!-- readme-test: skip \((.+)\) -->$`)

// readmeBlock is one ```sh fenced block of README.md.
type readmeBlock struct {
	line int    // of the opening fence, 1-based
	text string // the commands
	skip string // the reason it is not run, if marked
}

// readmeBlocks extracts the sh blocks of a Markdown text in order. A skip
// marker that does not stand right before an sh fence, or has no reason,
// is an error: it would silently stop skipping, or skip nothing.
func readmeBlocks(md string) ([]readmeBlock, error) {
	var blocks []readmeBlock
	lines := strings.Split(md, "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.TrimRight(lines[i], " \t\r")
		if strings.HasPrefix(line, "<!-- readme-test:") {
			if !skipMarker.MatchString(line) {
				return nil, fmt.Errorf("README.md:%d: a marker must read <!-- readme-test: skip (the reason) -->", i+1)
			}
			if i+1 >= len(lines) || strings.TrimRight(lines[i+1], " \t\r") != "```sh" {
				return nil, fmt.Errorf("README.md:%d: a skip marker must stand on the line right before a ```sh fence", i+1)
			}
			continue
		}
		if line != "```sh" {
			continue
		}
		b := readmeBlock{line: i + 1}
		if i > 0 {
			if m := skipMarker.FindStringSubmatch(strings.TrimRight(lines[i-1], " \t\r")); m != nil {
				b.skip = m[1]
			}
		}
		var body []string
		for i++; i < len(lines) && strings.TrimRight(lines[i], " \t\r") != "```"; i++ {
			body = append(body, lines[i])
		}
		if i == len(lines) {
			return nil, fmt.Errorf("README.md:%d: the ```sh block is not closed", b.line)
		}
		b.text = strings.Join(body, "\n") + "\n"
		blocks = append(blocks, b)
	}
	return blocks, nil
}

func TestReadmeBlocks(t *testing.T) {
	md := "intro\n```sh\necho one\n```\n<!-- readme-test: skip (needs Docker) -->\n```sh\ndocker ps\n```\n```json\n{}\n```\n"
	blocks, err := readmeBlocks(md)
	if err != nil || len(blocks) != 2 || blocks[0].text != "echo one\n" || blocks[0].skip != "" || blocks[1].skip != "needs Docker" || blocks[1].line != 6 {
		t.Fatalf("readmeBlocks = %+v, %v", blocks, err)
	}
	for _, bad := range []string{
		"<!-- readme-test: skip -->\n```sh\nx\n```\n",           // no reason
		"<!-- readme-test: skip (why) -->\n\n```sh\nx\n```\n",   // not right before the fence
		"<!-- readme-test: skip (why) -->\n```json\n{}\n```\n",  // not an sh block
		"```sh\nnever closed\n",                                 // unclosed
		"<!-- readme-test: skipped (typo) -->\n```sh\nx\n```\n", // misspelt
	} {
		if _, err := readmeBlocks(bad); err == nil {
			t.Errorf("readmeBlocks(%q): no error", bad)
		}
	}
}

// TestREADME runs every ```sh block of README.md, in order, each with
// bash -euo pipefail, against a fresh demo server: in a new directory
// holding the repository's files (linked), the server's switchboard-data
// and the built binary on PATH as `switchboard`. Blocks marked
// <!-- readme-test: skip (reason) --> are listed with their reasons.
func TestREADME(t *testing.T) {
	e2eDir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(e2eDir)
	md, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := readmeBlocks(string(md))
	if err != nil {
		t.Fatal(err)
	}

	// The README's commands need these; missing ones fail in CI and skip
	// elsewhere, as the SDK tests do.
	missing := func(format string, args ...any) { t.Helper(); missingPrerequisite(t, format, args...) }
	for _, tool := range []string{"bash", "curl", "jq", "python3", "node", "awk"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing("the README's commands need %s on PATH: %v", tool, err)
		}
	}
	sdk := filepath.Join(e2eDir, "node_modules")
	if _, err := os.Stat(filepath.Join(sdk, "@ringcentral", "sdk")); err != nil {
		missing("e2e/node_modules is missing the SDKs: run `npm ci --prefix e2e` first (%v)", err)
	}

	ctx := t.Context()
	if deadline, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-15*time.Second))
		defer cancel()
	}

	// The working directory: the repository's files as a new user has them
	// (linked), without anything a run leaves behind.
	work := t.TempDir()
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		switch e.Name() {
		case ".git", "bin", "switchboard-data", "sdk-demo", "acme-data":
			continue
		}
		if err := os.Symlink(filepath.Join(root, e.Name()), filepath.Join(work, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(work, "bin")
	build := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(bin, "switchboard"), "./cmd/switchboard")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// The SDK example installs @ringcentral/sdk from npm (a skipped block,
	// no network here); the copy e2e/ pins stands in for it.
	if err := os.MkdirAll(filepath.Join(work, "sdk-demo"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(sdk, filepath.Join(work, "sdk-demo", "node_modules")); err != nil {
		t.Fatal(err)
	}
	t.Logf("sdk-demo/node_modules is e2e/node_modules (for the skipped npm install)")

	// Nothing of the caller's configuration leaks into the commands.
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SWITCHBOARD_") && !strings.HasPrefix(kv, "PATH=") {
			env = append(env, kv)
		}
	}
	env = append(env, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))

	srv := startReadmeServer(t, ctx, work, env)

	var skipped []string
	for i, b := range blocks {
		if b.skip != "" {
			skipped = append(skipped, fmt.Sprintf("README.md:%d (%s)", b.line, b.skip))
			continue
		}
		script := filepath.Join(t.TempDir(), fmt.Sprintf("block-%02d.sh", i+1))
		if err := os.WriteFile(script, []byte(b.text), 0o644); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		out, err := runBlock(ctx, work, env, script)
		if err != nil {
			t.Fatalf("README.md:%d: the block failed: %v\n--- block\n%s--- output\n%s--- server log (tail)\n%s",
				b.line, err, b.text, out, srv.tail())
		}
		shown := out
		if len(shown) > 1500 {
			shown = append(append([]byte{}, shown[:1500]...), "…\n"...)
		}
		t.Logf("README.md:%d ran in %v:\n%s", b.line, time.Since(start).Round(time.Millisecond), shown)
	}
	t.Logf("%d of %d sh blocks run; skipped (as marked):\n  %s", len(blocks)-len(skipped), len(blocks), strings.Join(skipped, "\n  "))
	if len(blocks)-len(skipped) == 0 {
		t.Fatal("no README block was run")
	}
}

// runBlock runs one block with bash -euo pipefail in its own process group,
// which is killed afterwards, so a background process a failed block
// started (a WebHook receiver) does not outlive it.
func runBlock(ctx context.Context, dir string, env []string, script string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, readmeBlockTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", script)
	cmd.Dir, cmd.Env = dir, env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Start()
	if err == nil {
		err = cmd.Wait()
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	return out.Bytes(), err
}

// readmeServer is the demo server the README's blocks talk to.
type readmeServer struct {
	mu  sync.Mutex
	log bytes.Buffer
}

func (s *readmeServer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.Write(p)
}

func (s *readmeServer) tail() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	lines := strings.Split(strings.TrimRight(s.log.String(), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-30):], "\n") + "\n"
}

// startReadmeServer starts `switchboard serve --demo` in dir, on a free
// loopback port with ./switchboard-data, and waits until demo.json names it.
func startReadmeServer(t *testing.T, ctx context.Context, dir string, env []string) *readmeServer {
	t.Helper()
	srv := &readmeServer{}
	cmd := exec.CommandContext(ctx, filepath.Join(dir, "bin", "switchboard"), "serve", "--demo", "--listen", "127.0.0.1:0", "--data", "switchboard-data")
	cmd.Dir, cmd.Env = dir, env
	cmd.Stdout, cmd.Stderr = srv, srv
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
		}
	})
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		select {
		case err := <-exited:
			t.Fatalf("the demo server exited: %v\n%s", err, srv.tail())
		default:
		}
		if listening(srv) {
			var demo struct {
				Server string `json:"server"`
			}
			b, err := os.ReadFile(filepath.Join(dir, "switchboard-data", "demo.json"))
			if err == nil && json.Unmarshal(b, &demo) == nil && demo.Server != "" {
				t.Logf("demo server at %s", demo.Server)
				return srv
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the demo server did not start\n%s", srv.tail())
		}
	}
}

func listening(s *readmeServer) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	sc := bufio.NewScanner(bytes.NewReader(s.log.Bytes()))
	for sc.Scan() {
		if strings.Contains(sc.Text(), "listening") {
			return true
		}
	}
	return false
}
