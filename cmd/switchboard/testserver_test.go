package main

// The one place where the tests start a demo server (in this process, or
// as the built binary for the tests that kill it), wait for it, read its
// demo.json, and talk to its API.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// serveArgs is `serve --demo` on a free loopback port, plus the test's own
// flags (a database URL, a role, listeners).
func serveArgs(dataDir string, extra ...string) []string {
	return append([]string{"serve", "--demo", "--listen", "127.0.0.1:0", "--data", dataDir}, extra...)
}

// awaitDemo waits until the server whose output is out listens, then
// returns the demo.json it wrote; serve writes demo.json (with this run's
// URL) before it logs that it listens, so the file read is this run's.
// exited is closed when the server ends early; err then says why.
func awaitDemo(t *testing.T, dataDir string, out *syncBuffer, exited <-chan struct{}, err func() error) demoInfo {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(out.String(), "listening"); time.Sleep(20 * time.Millisecond) {
		select {
		case <-exited:
			t.Fatalf("server exited: %v\n%s", err(), out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not start\n%s", out.String())
		}
	}
	var demo demoInfo
	b, readErr := os.ReadFile(filepath.Join(dataDir, demoFile))
	if readErr != nil || json.Unmarshal(b, &demo) != nil || len(demo.Extensions) < 2 {
		t.Fatalf("demo.json: %v %s", readErr, b)
	}
	return demo
}

// runServer runs `switchboard serve --demo` in-process and returns its
// demo.json once it listens; stop ends the server.
func runServer(t *testing.T, dataDir string, extra ...string) (demo demoInfo, out *syncBuffer, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out = &syncBuffer{}
	exited := make(chan struct{})
	var runErr error
	go func() {
		defer close(exited)
		runErr = run(ctx, serveArgs(dataDir, extra...), out, out)
	}()
	t.Cleanup(cancel)
	demo = awaitDemo(t, dataDir, out, exited, func() error { return runErr })
	return demo, out, func() {
		cancel()
		<-exited
		if runErr != nil {
			t.Errorf("serve: %v", runErr)
		}
	}
}

// buildBinary builds the server binary, with the race detector when the
// test has it, for the tests that must kill a server (SIGKILL) without
// killing themselves.
func buildBinary(t *testing.T, ctx context.Context) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "switchboard")
	args := []string{"build", "-o", bin}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-race" && s.Value == "true" {
				args = append(args, "-race")
			}
		}
	}
	build := exec.CommandContext(ctx, "go", append(args, ".")...)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go %v: %v\n%s", args, err, out)
	}
	return bin
}

// serverProcess is one run of the built binary.
type serverProcess struct {
	cmd    *exec.Cmd
	log    *syncBuffer
	demo   demoInfo
	exited chan struct{} // closed once the process has ended and been waited for
	err    error         // its exit, once exited is closed
}

// startProcess runs the binary's `serve --demo` (plus extra flags) on a
// free loopback port and returns once it listens.
func startProcess(t *testing.T, bin, dir string, extra ...string) *serverProcess {
	t.Helper()
	s := &serverProcess{log: &syncBuffer{}, exited: make(chan struct{})}
	s.cmd = exec.Command(bin, serveArgs(dir, extra...)...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(s.exited)
		s.err = s.cmd.Wait()
	}()
	t.Cleanup(func() { _ = s.cmd.Process.Kill(); <-s.exited })
	s.demo = awaitDemo(t, dir, s.log, s.exited, func() error { return s.err })
	return s
}

// kill ends the process with SIGKILL (no shutdown at all, as a crash).
func (s *serverProcess) kill(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatalf("kill: %v", err)
	}
	<-s.exited
}

// stop interrupts the process and expects a clean exit in time.
func (s *serverProcess) stop(t *testing.T) {
	t.Helper()
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.exited:
		if s.err != nil {
			t.Errorf("server exit: %v\n%s", s.err, s.log.String())
		}
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
		t.Errorf("server did not stop on interrupt\n%s", s.log.String())
	}
}

// stopIfRunning stops the process unless the test has killed it.
func (s *serverProcess) stopIfRunning(t *testing.T) {
	select {
	case <-s.exited:
	default:
		s.stop(t)
	}
}

// copyDemo gives another node's data directory the first node's
// demo.json, so that --demo over a shared database reuses the existing
// demo instead of making another, and its JWT key file, which every node
// of an installation needs and no database holds.
func copyDemo(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{demoFile, keyFileName} {
		b, err := os.ReadFile(filepath.Join(from, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func login(t *testing.T, d demoInfo, jwt string) string {
	t.Helper()
	status, b := jwtGrant(t, d, jwt)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if status != 200 || json.Unmarshal(b, &tok) != nil || tok.AccessToken == "" {
		t.Fatalf("login: %d %s", status, b)
	}
	return tok.AccessToken
}

// jwtGrant asks the token endpoint for a token with a JWT credential.
func jwtGrant(t *testing.T, d demoInfo, jwt string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", d.Server+"/restapi/oauth/token", strings.NewReader(url.Values{
		"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {jwt}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(d.ClientID, d.ClientSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// call sends one API request with a bearer token (none when token is
// empty) and a JSON body (none when nil), and returns the answer; a
// transport error fails the test.
func call(t *testing.T, client *http.Client, method, u, token string, body []byte) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, u, bytes.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func post(t *testing.T, u, token string, body []byte) (int, []byte) {
	t.Helper()
	return call(t, http.DefaultClient, "POST", u, token, body)
}

// get decodes any answer, error bodies included, for the tests to check.
func get(t *testing.T, u, token string) (int, map[string]any) {
	t.Helper()
	status, b := call(t, http.DefaultClient, "GET", u, token, nil)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return status, m
}

// smsBody is the body of POST .../sms from one number to another.
func smsBody(from, to, text string) []byte {
	b, _ := json.Marshal(map[string]any{"from": map[string]string{"phoneNumber": from},
		"to": []map[string]string{{"phoneNumber": to}}, "text": text})
	return b
}

// advanceClock moves the emulator's clock, so tests need not wait out
// leases and timeouts.
func advanceClock(t *testing.T, client *http.Client, d demoInfo, seconds int) {
	t.Helper()
	if status, b := call(t, client, "POST", d.Server+"/switchboard/v1/clock/advance", d.AdminToken, fmt.Appendf(nil, `{"seconds": %d}`, seconds)); status != 200 {
		t.Fatalf("clock advance: %d %s", status, b)
	}
}

// subscribeWebHook subscribes the token's extension to its instant SMS
// events by WebHook, delivered to a receiver in the test that answers
// RingCentral's validation handshake and hands each event's message id to
// onMessage (from the receiver's goroutines, in the order of delivery).
func subscribeWebHook(t *testing.T, server, token string, onMessage func(id json.Number)) {
	t.Helper()
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.Header.Get("Validation-Token"); v != "" {
			w.Header().Set("Validation-Token", v)
			return
		}
		var ev struct {
			Body struct {
				ID json.Number `json:"id"`
			} `json:"body"`
		}
		if b, _ := io.ReadAll(r.Body); json.Unmarshal(b, &ev) != nil || ev.Body.ID == "" {
			t.Errorf("notification without a message: %s", b)
			return
		}
		onMessage(ev.Body.ID)
	}))
	t.Cleanup(hook.Close)
	body, _ := json.Marshal(map[string]any{
		"eventFilters": []string{"/restapi/v1.0/account/~/extension/~/message-store/instant?type=SMS"},
		"deliveryMode": map[string]any{"transportType": "WebHook", "address": hook.URL}})
	if status, b := post(t, server+"/restapi/v1.0/subscription", token, body); status != 200 {
		t.Fatalf("subscribe: %d %s", status, b)
	}
}
