package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/pgtest"
)

// tcpProxy forwards a loopback port to a target; stopping it closes the
// listener and every connection, as a network outage or a database
// restart would.
type tcpProxy struct {
	addr, target string
	mu           sync.Mutex
	ln           net.Listener
	conns        map[net.Conn]bool
}

func newProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	p := &tcpProxy{target: target, conns: map[net.Conn]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.stop)
	return p
}

func (p *tcpProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns[c], p.conns[u] = true, true
			p.mu.Unlock()
			go func() { _, _ = io.Copy(u, c); u.Close(); c.Close() }()
			go func() { _, _ = io.Copy(c, u); u.Close(); c.Close() }()
		}
	}()
}

func (p *tcpProxy) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

func (p *tcpProxy) start(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatalf("reopen proxy on %s: %v", p.addr, err)
	}
	p.serve(ln)
}

// runServerBehindProxy runs a demo server on a fresh PostgreSQL database
// that it reaches through a loopback proxy, which the test stops to cut
// the database off.
func runServerBehindProxy(t *testing.T) (demoInfo, *syncBuffer, func(), *tcpProxy) {
	t.Helper()
	u, err := url.Parse(pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := newProxy(t, u.Host)
	u.Host = proxy.addr
	demo, out, stop := runServer(t, t.TempDir(), "--database", u.String(), "--db-max-conns", "4")
	return demo, out, stop, proxy
}

// TestPostgresOutage: with the database gone while the server runs, the
// API answers 503 CMN-201 in RingCentral's shape (and the health check
// 503); when it is back the server recovers by itself.
func TestPostgresOutage(t *testing.T) {
	demo, out, stop, proxy := runServerBehindProxy(t)
	defer stop()
	tok := login(t, demo, demo.Extensions[0].JWT)
	list := demo.Server + "/restapi/v1.0/account/~/extension/~/message-store"
	if status, body := get(t, list, tok); status != http.StatusOK {
		t.Fatalf("list before the outage: %d %v", status, body)
	}

	proxy.stop()
	status, body := get(t, list, tok)
	if status != http.StatusServiceUnavailable || body["errorCode"] != "CMN-201" {
		t.Fatalf("list during the outage: %d %v, want 503 CMN-201\n%s", status, body, out.String())
	}
	if errs, _ := body["errors"].([]any); len(errs) != 1 || !strings.Contains(toJSON(errs[0]), "CMN-201") {
		t.Fatalf("503 body errors[]: %v", body["errors"])
	}
	if status, _ := get(t, demo.Server+"/switchboard/v1/health", ""); status != http.StatusServiceUnavailable {
		t.Fatalf("health during the outage: %d, want 503", status)
	}

	proxy.start(t)
	deadline := time.Now().Add(20 * time.Second)
	for {
		status, body := get(t, list, tok)
		if status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("list after the database came back: still %d %v\n%s", status, body, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if status, _ := get(t, demo.Server+"/switchboard/v1/health", ""); status != http.StatusOK {
		t.Fatalf("health after the outage: %d", status)
	}
}

// TestPostgresUnreachableAtStart: serve refuses to start and says what to
// check.
func TestPostgresUnreachableAtStart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	var out syncBuffer
	err = run(t.Context(), []string{"serve", "--listen", "127.0.0.1:0", "--data", t.TempDir(),
		"--database", "postgres://sb:secret@" + addr + "/switchboard?sslmode=disable"}, &out, &out)
	if err == nil {
		t.Fatal("serve started without its database")
	}
	for _, want := range []string{"is PostgreSQL running", addr} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error %q shows the password", err)
	}
}

// TestPostgresRoles: an API-only node and a worker-only node over one
// database. The API node stores a send to the carrier and runs no worker,
// so the message stays Queued until the worker node delivers it (a send to
// a mailbox of the server is complete as the API node accepts it); the
// worker node answers only its health check.
func TestPostgresRoles(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	apiDir, workerDir := t.TempDir(), t.TempDir()
	demo, _, stopAPI := runServer(t, apiDir, "--database", dbURL, "--role", "api")
	defer stopAPI()
	alice, bob := demo.Extensions[0], demo.Extensions[1]
	tok := login(t, demo, alice.JWT)
	internal := sendSMS(t, demo.Server, tok, alice.PhoneNumber, bob.PhoneNumber, "roles")
	if status, m := get(t, demo.Server+"/restapi/v1.0/account/~/extension/~/message-store/"+internal, tok); status != http.StatusOK || m["messageStatus"] != "Delivered" {
		t.Fatalf("on an API-only node a send to a mailbox is %d %v, want Delivered (on accept)", status, m["messageStatus"])
	}
	id := sendSMS(t, demo.Server, tok, alice.PhoneNumber, "+15005550006", "roles")
	msgURL := demo.Server + "/restapi/v1.0/account/~/extension/~/message-store/" + id
	time.Sleep(500 * time.Millisecond) // many worker polls, were one running
	if status, m := get(t, msgURL, tok); status != http.StatusOK || m["messageStatus"] != "Queued" {
		t.Fatalf("on an API-only node a send to the carrier is %d %v, want Queued (no worker)", status, m["messageStatus"])
	}

	// The worker node: same database, its own data directory (demo.json
	// copied so --demo finds the existing demo instead of making another).
	copyDemo(t, apiDir, workerDir)
	wdemo, _, stopWorker := runServer(t, workerDir, "--database", dbURL, "--role", "worker")
	defer stopWorker()
	if status, _ := get(t, wdemo.Server+"/switchboard/v1/health", ""); status != http.StatusOK {
		t.Fatalf("worker node health: %d", status)
	}
	if status, _ := get(t, wdemo.Server+"/restapi/v1.0/account/~/extension/~/message-store", tok); status != http.StatusNotFound {
		t.Fatalf("worker node serves the API: %d, want 404", status)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, m := get(t, msgURL, tok)
		if m["messageStatus"] == "Delivered" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the worker node did not deliver the API node's send: %v", m["messageStatus"])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sendSMS sends one SMS and returns its id.
func sendSMS(t *testing.T, server, token, from, to, text string) string {
	t.Helper()
	status, b := post(t, server+"/restapi/v1.0/account/~/extension/~/sms", token, smsBody(from, to, text))
	var m struct {
		ID json.Number `json:"id"`
	}
	if status != http.StatusOK || json.Unmarshal(b, &m) != nil || m.ID == "" {
		t.Fatalf("send: %d %s", status, b)
	}
	return m.ID.String()
}

// TestMigrateData: a demo installation on SQLite with a send is moved to
// PostgreSQL with migrate-data; the server then runs on PostgreSQL with the
// same credentials (the JWT signing key moved too) and messages.
func TestMigrateData(t *testing.T) {
	dbURL := pgtest.NewDatabase(t)
	dir := t.TempDir()
	demo, _, stop := runServer(t, dir)
	alice, bob := demo.Extensions[0], demo.Extensions[1]
	tok := login(t, demo, alice.JWT)
	id := sendSMS(t, demo.Server, tok, alice.PhoneNumber, bob.PhoneNumber, "before the move")
	time.Sleep(300 * time.Millisecond) // let the worker deliver
	stop()

	var out syncBuffer
	if err := run(t.Context(), []string{"migrate-data", "--from", "sqlite://" + dir, "--to", dbURL}, &out, &out); err != nil {
		t.Fatalf("migrate-data: %v\n%s", err, out.String())
	}
	for _, want := range []string{"accounts", "messages", "verified"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("migrate-data output lacks %q:\n%s", want, out.String())
		}
	}
	// A second run refuses the now non-empty target.
	var again syncBuffer
	if err := run(t.Context(), []string{"migrate-data", "--from", "sqlite://" + dir, "--to", dbURL}, &again, &again); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("second migrate-data: %v, want a refusal", err)
	}

	// The directory CLI reads the same database with --database.
	var cli syncBuffer
	if err := run(t.Context(), []string{"extension", "list", "--account", demo.Extensions[0].AccountID, "--database", dbURL}, &cli, &cli); err != nil ||
		!strings.Contains(cli.String(), "Alice Admin") {
		t.Fatalf("extension list --database: %v\n%s", err, cli.String())
	}

	demo2, _, stop2 := runServer(t, dir, "--database", dbURL)
	defer stop2()
	tok = login(t, demo2, alice.JWT) // the JWT signed before the move still logs in
	status, m := get(t, demo2.Server+"/restapi/v1.0/account/~/extension/~/message-store/"+id, tok)
	if status != http.StatusOK || m["subject"] != "before the move" || m["messageStatus"] != "Delivered" {
		t.Fatalf("the message after the move: %d %v", status, m)
	}
	tokB := login(t, demo2, bob.JWT)
	status, list := get(t, demo2.Server+"/restapi/v1.0/account/~/extension/~/message-store?direction=Inbound", tokB)
	if recs, _ := list["records"].([]any); status != http.StatusOK || len(recs) != 1 {
		t.Fatalf("102's inbound copy after the move: %d %v", status, list)
	}
}
