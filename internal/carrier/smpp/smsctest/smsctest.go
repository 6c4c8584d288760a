// Package smsctest runs the test SMSC (testdata/smsc.pl of package smpp,
// on Debian's Net::SMPP) for the tests of the SMPP carrier, of the server
// that uses it, and for the SMPP benchmark.
package smsctest

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Event is one line the SMSC printed.
type Event map[string]any

// Str is a field as a string ("" when absent).
func (e Event) Str(k string) string {
	switch v := e[k].(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

// T is what the SMSC needs of a test (testing.TB has it; a benchmark
// command provides its own).
type T interface {
	Helper()
	Fatalf(format string, args ...any)
	TempDir() string
	Cleanup(func())
}

// SMSC is a running test SMSC.
type SMSC struct {
	t        T
	Port     int
	SystemID string
	Password string
	log      string
	args     []string

	mu     sync.Mutex
	events []Event
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	exited chan struct{}
}

// Available skips the test (or fails it under CI=true) when perl with
// Net::SMPP is not installed.
func Available(t testing.TB) {
	t.Helper()
	if err := exec.Command("perl", "-MNet::SMPP", "-MJSON::PP", "-e", "1").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("perl with Net::SMPP is required in CI (Debian libnet-smpp-perl, listed in .ci/apt-packages): %v", err)
		}
		t.Skip("skipped: perl with Net::SMPP is not installed (apt-get install libnet-smpp-perl)")
	}
}

// Start runs the SMSC on 127.0.0.1 with a free port and the given extra
// flags (see smsc.pl), with system_id "switchboard" and password "s3cret".
func Start(t testing.TB, args ...string) *SMSC {
	t.Helper()
	Available(t)
	return Run(t, args...)
}

// Run is Start without the check for perl: a missing Net::SMPP fails t.
func Run(t T, args ...string) *SMSC {
	t.Helper()
	s := &SMSC{t: t, SystemID: "switchboard", Password: "s3cret", log: filepath.Join(t.TempDir(), "smsc.log"), args: args}
	s.start(0)
	t.Cleanup(s.Kill)
	return s
}

func script() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata", "smsc.pl")
}

func (s *SMSC) start(port int) {
	s.t.Helper()
	args := append([]string{script(), "--system-id", s.SystemID, "--password", s.Password, "--log", s.log,
		"--port", strconv.Itoa(port)}, s.args...)
	cmd := exec.Command("perl", args...)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start the test SMSC: %v", err)
	}
	exited := make(chan struct{})
	listening := make(chan int, 1)
	go func() {
		defer close(exited)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var e Event
			if json.Unmarshal(sc.Bytes(), &e) != nil {
				continue
			}
			if e.Str("event") == "listening" {
				p, _ := strconv.Atoi(e.Str("port"))
				listening <- p
				continue
			}
			s.mu.Lock()
			s.events = append(s.events, e)
			s.mu.Unlock()
		}
		_ = cmd.Wait()
	}()
	select {
	case p := <-listening:
		s.Port = p
	case <-exited:
		s.t.Fatalf("the test SMSC exited before listening")
	case <-time.After(10 * time.Second):
		s.t.Fatalf("the test SMSC did not listen within 10s")
	}
	s.mu.Lock()
	s.cmd, s.stdin, s.exited = cmd, stdin, exited
	s.mu.Unlock()
}

// Addr is the SMSC's host:port.
func (s *SMSC) Addr() string { return fmt.Sprintf("127.0.0.1:%d", s.Port) }

// URL is the --carrier URL of the SMSC with the given query options.
func (s *SMSC) URL(options string) string {
	u := fmt.Sprintf("smpp://%s:%s@%s", s.SystemID, s.Password, s.Addr())
	if options != "" {
		u += "?" + options
	}
	return u
}

// Kill ends the SMSC at once (SIGKILL) and waits for it.
func (s *SMSC) Kill() {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-exited
}

// Exited is closed when the SMSC process has ended (--exit-after).
func (s *SMSC) Exited() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.exited
}

// Restart starts the SMSC again on the same port and log, with args
// replacing the extra flags: it sends the receipts it still owes.
func (s *SMSC) Restart(args ...string) {
	s.t.Helper()
	s.Kill()
	s.args = args
	s.start(s.Port)
}

// MO makes the SMSC deliver a mobile-originated SMS, with the handset's
// message reference umr, in parts parts.
func (s *SMSC) MO(from, to string, umr int, text string, parts int) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := fmt.Fprintf(s.stdin, "mo %s %s %d %s %d\n", strings.TrimPrefix(from, "+"), strings.TrimPrefix(to, "+"), umr,
		hex.EncodeToString([]byte(text)), parts); err != nil {
		s.t.Fatalf("MO command: %v", err)
	}
}

// Events returns the events of one kind so far ("" for all).
func (s *SMSC) Events(kind string) []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Event
	for _, e := range s.events {
		if kind == "" || e.Str("event") == kind {
			out = append(out, e)
		}
	}
	return out
}

// Wait waits until there are at least n events of kind and returns them;
// the test fails after timeout.
func (s *SMSC) Wait(kind string, n int, timeout time.Duration) []Event {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		es := s.Events(kind)
		if len(es) >= n {
			return es
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("the SMSC printed %d %q events in %s, want %d; all events: %v", len(es), kind, timeout, n, s.Events(""))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
