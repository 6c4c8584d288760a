package main

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// TestDebugListen: --debug-listen serves the profiler on its own address,
// and the API's address does not serve it.
func TestDebugListen(t *testing.T) {
	demo, out, stop := runServer(t, t.TempDir(), "--debug-listen", "127.0.0.1:0")
	defer stop()
	m := regexp.MustCompile(`url=(http://127\.0\.0\.1:\d+/debug/pprof/)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no profiler address in the log:\n%s", out.String())
	}
	resp, err := http.Get(m[1] + "cmdline")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "switchboard") {
		t.Fatalf("profiler cmdline: %d %q", resp.StatusCode, body)
	}
	resp, err = http.Get(demo.Server + "/debug/pprof/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == 200 {
		t.Fatal("the API's address serves the profiler")
	}
}
