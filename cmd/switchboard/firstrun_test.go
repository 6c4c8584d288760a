package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/pgtest"
)

// splitShell splits a command line as a POSIX shell would for the quoting
// printFirstSteps uses (double and single quotes, no escapes), stopping at
// a comment.
func splitShell(line string) []string {
	var args []string
	var cur strings.Builder
	in, quote, has := false, rune(0), false
	for _, r := range line {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote, has = r, true
		case r == '#' && !in:
			return args
		case r == ' ':
			if in || has {
				args = append(args, cur.String())
				cur.Reset()
			}
			in, has = false, false
			continue
		default:
			cur.WriteRune(r)
		}
		in = true
	}
	if in || has {
		args = append(args, cur.String())
	}
	return args
}

// TestFirstStartHints: a server started without --demo on an empty
// database prints what to do next; the printed commands, run as printed
// (with the ids they print put in), make a user who can log in.
func TestFirstStartHints(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out := &syncBuffer{}
	exited := make(chan error, 1)
	go func() {
		exited <- run(ctx, []string{"serve", "--listen", "127.0.0.1:0", "--data", dir}, out, out)
	}()
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(out.String(), "admin-token create"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no first-start hints:\n%s", out.String())
		}
	}
	ids := map[string]string{}
	var jwt string
	for _, line := range strings.Split(out.String(), "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "switchboard ") || strings.Contains(line, "--demo") {
			continue
		}
		args := splitShell(line)[1:]
		for i, a := range args {
			if v, ok := ids[a]; ok {
				args[i] = v
			}
		}
		var cmdOut bytes.Buffer
		if err := run(ctx, args, &cmdOut, &cmdOut); err != nil {
			t.Fatalf("%s: %v\n%s", line, err, cmdOut.String())
		}
		if m := regexp.MustCompile(`created account (\d+)`).FindStringSubmatch(cmdOut.String()); m != nil {
			ids["ACCOUNT_ID"] = m[1]
		}
		if m := regexp.MustCompile(`\(id (\d+)\)`).FindStringSubmatch(cmdOut.String()); m != nil {
			ids["EXTENSION_ID"] = m[1]
		}
		if m := regexp.MustCompile(`client id:\s+(\S+)\nclient secret:\s+(\S+)`).FindStringSubmatch(cmdOut.String()); m != nil {
			ids["client"], ids["secret"] = m[1], m[2]
		}
		if m := regexp.MustCompile(`\n(eyJ\S+)\n`).FindStringSubmatch(cmdOut.String()); m != nil {
			jwt = m[1]
		}
	}
	if jwt == "" || ids["client"] == "" {
		t.Fatalf("the printed commands gave no JWT or app: %v\n%s", ids, out.String())
	}
	server := regexp.MustCompile(`running at (http://\S+)`).FindStringSubmatch(out.String())
	if server == nil {
		t.Fatalf("hints do not say where the server runs:\n%s", out.String())
	}
	tok := login(t, demoInfo{Server: server[1], ClientID: ids["client"], ClientSecret: ids["secret"]}, jwt)
	if status, ext := get(t, server[1]+"/restapi/v1.0/account/~/extension/~", tok); status != 200 || ext["extensionNumber"] != "101" {
		t.Fatalf("the new user: %d %v", status, ext)
	}
	cancel()
	if err := <-exited; err != nil {
		t.Fatal(err)
	}

	// Once an account exists, a start prints no hints.
	out2 := &syncBuffer{}
	ctx2, cancel2 := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- run(ctx2, []string{"serve", "--listen", "127.0.0.1:0", "--data", dir}, out2, out2) }()
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(out2.String(), "listening"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("second start:\n%s", out2.String())
		}
	}
	cancel2()
	<-done
	if strings.Contains(out2.String(), "account create") {
		t.Fatalf("hints printed although an account exists:\n%s", out2.String())
	}
}

// TestDemoOnPostgresNewDataDir: `serve --demo` over PostgreSQL with a data
// directory that does not exist yet creates it and writes demo.json; and a
// database holding the demo whose demo.json is lost gets new demo
// credentials instead of no demo at all.
func TestDemoOnPostgresNewDataDir(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	dir := filepath.Join(t.TempDir(), "not", "yet")
	demo, _, stop := runServer(t, dir, "--database", dbURL)
	login(t, demo, demo.Extensions[0].JWT)
	stop()

	// demo.json lost (or never written): the next start recovers. The JWT
	// key file is not in the database: a node of the installation has it.
	other := filepath.Join(t.TempDir(), "fresh")
	keyFile, err := os.ReadFile(filepath.Join(dir, keyFileName))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(other, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(other, keyFileName), keyFile, 0o600); err != nil {
		t.Fatal(err)
	}
	demo2, out, stop2 := runServer(t, other, "--database", dbURL)
	defer stop2()
	if demo2.Extensions[0].ID != demo.Extensions[0].ID || demo2.ClientID == demo.ClientID {
		t.Fatalf("recovered demo: %+v (was %+v)", demo2.Extensions[0], demo.Extensions[0])
	}
	tok := login(t, demo2, demo2.Extensions[1].JWT)
	if status, ext := get(t, demo2.Server+"/restapi/v1.0/account/~/extension/~", tok); status != 200 || ext["extensionNumber"] != "102" {
		t.Fatalf("recovered login: %d %v", status, ext)
	}
	// Nothing of the first demo.json was revoked: its JWT still logs in.
	login(t, demoInfo{Server: demo2.Server, ClientID: demo.ClientID, ClientSecret: demo.ClientSecret}, demo.Extensions[0].JWT)
	if !strings.Contains(out.String(), "issued new demo credentials") {
		t.Errorf("the recovery is not logged:\n%s", out.String())
	}
	if _, err := os.Stat(filepath.Join(other, demoFile)); err != nil {
		t.Fatal(err)
	}
}

// TestPDFRendererWarmedAtStart: the server compiles PDFium at start, in
// the background, into a cache in its data directory, which the next start
// reuses. (A process of its own: the renderer is compiled once per process.)
func TestPDFRendererWarmedAtStart(t *testing.T) {
	bin := buildBinary(t, t.Context())
	dir := t.TempDir()
	for run := range 2 {
		srv := startProcess(t, bin, dir)
		for deadline := time.Now().Add(120 * time.Second); !strings.Contains(srv.log.String(), "PDF renderer ready"); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) || strings.Contains(srv.log.String(), "PDF renderer unavailable") {
				t.Fatalf("start %d: PDF renderer not warmed:\n%s", run+1, srv.log.String())
			}
		}
		srv.stop(t)
		entries, err := os.ReadDir(filepath.Join(dir, "cache", "pdfium"))
		if err != nil || len(entries) == 0 {
			t.Fatalf("no compilation cache in the data directory: %v %v", entries, err)
		}
		t.Logf("start %d: %s", run+1, regexp.MustCompile(`PDF renderer ready" took=\S+`).FindString(srv.log.String()))
	}
}
