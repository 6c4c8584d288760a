package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// sendMMS sends an MMS with one PNG attachment and returns the new
// message's id.
func sendMMS(t *testing.T, server, token, from, to string, png []byte) (string, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="request.json"; filename="request.json"`)
	h.Set("Content-Type", "application/json")
	pw, _ := mw.CreatePart(h)
	fmt.Fprintf(pw, `{"from":{"phoneNumber":%q},"to":[{"phoneNumber":%q}],"text":"picture"}`, from, to)
	h = textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="attachments"; filename="p.png"`)
	h.Set("Content-Type", "image/png")
	pw, _ = mw.CreatePart(h)
	pw.Write(png)
	mw.Close()
	req, _ := http.NewRequest("POST", server+"/restapi/v1.0/account/~/extension/~/mms", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m struct {
		ID json.Number `json:"id"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(b, &m) != nil {
		return "", fmt.Errorf("mms: %d %s", resp.StatusCode, b)
	}
	return m.ID.String(), nil
}

// TestBackupRestoreUnderLoad: `switchboard backup` of a SQLite
// installation taken while senders keep writing is one consistent
// snapshot: restored into a new data directory and served, it has every
// message acknowledged before the backup began (with its attachment's
// bytes), the account's retention settings, and the access token issued
// before it still works.
func TestBackupRestoreUnderLoad(t *testing.T) {
	ctx := t.Context()
	bin := buildBinary(t, ctx)
	dir := t.TempDir()
	srv := startProcess(t, bin, dir)
	demo := srv.demo
	alice, bob := demo.Extensions[0], demo.Extensions[1]
	tok := login(t, demo, alice.JWT)
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte("pixel"), 2000)...)
	retention := `{"deletePeriodSeconds": 7200, "purgePeriodSeconds": 10800, "mailboxCap": 77}`
	if status, b := call(t, http.DefaultClient, "PUT", demo.Server+"/switchboard/v1/accounts/"+alice.AccountID+"/retention", demo.AdminToken, []byte(retention)); status != 200 {
		t.Fatalf("set retention: %d %s", status, b)
	}

	// Writers: SMS and MMS sends until told to stop; acked records what
	// the server acknowledged, and when.
	type ack struct {
		id string
		at time.Time
	}
	var mu sync.Mutex
	var acked []ack
	var stopWriters atomic.Bool
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stopWriters.Load(); i++ {
				var id string
				var err error
				if (i+w)%3 == 0 {
					id, err = sendMMS(t, demo.Server, tok, alice.PhoneNumber, bob.PhoneNumber, png)
				} else {
					status, b := post(t, demo.Server+"/restapi/v1.0/account/~/extension/~/sms", tok, smsBody(alice.PhoneNumber, bob.PhoneNumber, fmt.Sprintf("load %d-%d", w, i)))
					var m struct {
						ID json.Number `json:"id"`
					}
					if status != 200 || json.Unmarshal(b, &m) != nil {
						err = fmt.Errorf("sms: %d %s", status, b)
					}
					id = m.ID.String()
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				acked = append(acked, ack{id, time.Now()})
				mu.Unlock()
			}
		}()
	}
	time.Sleep(time.Second) // some load before the backup starts

	backupFile := filepath.Join(t.TempDir(), "switchboard.backup")
	began := time.Now()
	out, err := exec.CommandContext(ctx, bin, "backup", "--data", dir, "--to", backupFile).CombinedOutput()
	if err != nil {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "pages (100%)") || !strings.Contains(string(out), "backed up") {
		t.Errorf("backup printed no progress: %s", out)
	}
	time.Sleep(300 * time.Millisecond) // writes go on after it
	stopWriters.Store(true)
	wg.Wait()
	srv.stop(t)
	var before []string
	for _, a := range acked {
		if a.at.Before(began) {
			before = append(before, a.id)
		}
	}
	t.Logf("%d sends acknowledged before the backup began, %d in all; backup output: %s", len(before), len(acked), out)
	if len(before) < 10 || len(acked) == len(before) {
		t.Fatalf("load: %d sends before the backup, %d in all: want writes on both sides of it", len(before), len(acked))
	}

	// Restore into a new directory and serve it. Its demo.json is copied
	// so the demo credentials are the same (demo.json is not in the backup).
	restored := filepath.Join(t.TempDir(), "restored")
	if out, err := exec.CommandContext(ctx, bin, "restore", "--from", backupFile, "--data", restored).CombinedOutput(); err != nil {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	if out, err := exec.CommandContext(ctx, bin, "restore", "--from", backupFile, "--data", restored).CombinedOutput(); err == nil {
		t.Fatalf("restore over an existing database succeeded:\n%s", out)
	}
	copyDemo(t, dir, restored)
	srv2 := startProcess(t, bin, restored)
	defer srv2.stopIfRunning(t)
	server := srv2.demo.Server
	if status, body := get(t, server+"/restapi/v1.0/account/~/extension/~", tok); status != 200 {
		t.Fatalf("the token issued before the backup: %d %v", status, body)
	}
	for _, id := range before {
		status, m := get(t, server+"/restapi/v1.0/account/~/extension/~/message-store/"+id, tok)
		if status != 200 {
			t.Fatalf("message %d acknowledged before the backup is missing: %d %v", len(before), status, m)
		}
		for _, a := range m["attachments"].([]any) {
			att := a.(map[string]any)
			if att["type"] != "MmsAttachment" {
				continue
			}
			status, content := call(t, http.DefaultClient, "GET", att["uri"].(string), tok, nil)
			if status != 200 || !bytes.Equal(content, png) {
				t.Fatalf("attachment of %s after restore: %d, %d bytes (want %d)", id, status, len(content), len(png))
			}
		}
	}
	status, b := call(t, http.DefaultClient, "GET", server+"/switchboard/v1/accounts/"+alice.AccountID+"/retention", demo.AdminToken, nil)
	if status != 200 || !strings.Contains(string(b), `"mailboxCap":77`) {
		t.Fatalf("retention settings after restore: %d %s", status, b)
	}
}

// TestOneServerPerDataDirectory: a second serve on the data directory of
// a running one exits at once and says why; after the first stops (or is
// killed), the directory can be served again.
func TestOneServerPerDataDirectory(t *testing.T) {
	ctx := t.Context()
	bin := buildBinary(t, ctx)
	dir := t.TempDir()
	first := startProcess(t, bin, dir)
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(cctx, bin, "serve", "--listen", "127.0.0.1:0", "--data", dir).CombinedOutput()
	if err == nil || cctx.Err() != nil {
		t.Fatalf("a second server on %s did not exit at once: %v\n%s", dir, err, out)
	}
	if !strings.Contains(string(out), "another switchboard server") || !strings.Contains(string(out), fmt.Sprint(first.cmd.Process.Pid)) {
		t.Fatalf("the refusal does not say who holds the directory:\n%s", out)
	}
	first.kill(t) // a crash leaves the file, but not the lock
	startProcess(t, bin, dir).stop(t)
}

// TestGracefulShutdown: on SIGTERM the server stops accepting, finishes a
// request in flight (here a send whose body is still arriving), closes
// WebSockets with 1012 (restart: reconnect), releases its leases and exits
// cleanly.
func TestGracefulShutdown(t *testing.T) {
	ctx := t.Context()
	bin := buildBinary(t, ctx)
	srv := startProcess(t, bin, t.TempDir())
	demo := srv.demo
	alice, bob := demo.Extensions[0], demo.Extensions[1]
	tok := login(t, demo, alice.JWT)

	ws := dialWS(t, demo, tok)
	// A send whose body arrives in two parts, with the signal in between.
	body := smsBody(alice.PhoneNumber, bob.PhoneNumber, "sent across the shutdown")
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", demo.Server+"/restapi/v1.0/account/~/extension/~/sms", pr)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	req.ContentLength = int64(len(body))
	type result struct {
		status int
		body   []byte
		err    error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		done <- result{status: resp.StatusCode, body: b}
	}()
	pw.Write(body[:10])
	time.Sleep(200 * time.Millisecond) // the request is in the handler, reading
	if err := srv.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(srv.log.String(), "shutting down"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no shutdown began\n%s", srv.log.String())
		}
	}
	code, reason := ws.closed(t)
	if code != 1012 || !strings.Contains(reason, "reconnect") {
		t.Errorf("WebSocket closed with %d %q, want 1012 and a reconnect hint", code, reason)
	}
	// New connections are refused while the request in flight finishes.
	if _, err := http.Get(demo.Server + "/switchboard/v1/health"); err == nil {
		t.Error("a new connection was accepted after the shutdown began")
	}
	pw.Write(body[10:])
	pw.Close()
	r := <-done
	if r.err != nil || r.status != 200 {
		t.Fatalf("the request in flight: %v %d %s", r.err, r.status, r.body)
	}
	select {
	case <-srv.exited:
	case <-time.After(15 * time.Second):
		t.Fatalf("server did not exit\n%s", srv.log.String())
	}
	if srv.err != nil || !strings.Contains(srv.log.String(), "msg=stopped leases_released=") || strings.Contains(srv.log.String(), "level=ERROR") {
		t.Fatalf("exit %v (want a clean one, without errors)\n%s", srv.err, srv.log.String())
	}
}

// wsClient is a WebSocket connection to the server's gateway.
type wsClient struct{ c *websocket.Conn }

// dialWS opens the WebSocket gateway as the SDKs do (wstoken, then the
// socket) and reads its ConnectionDetails.
func dialWS(t *testing.T, d demoInfo, token string) *wsClient {
	t.Helper()
	status, b := post(t, d.Server+"/restapi/oauth/wstoken", token, nil)
	var wt struct {
		URI   string `json:"uri"`
		Token string `json:"ws_access_token"`
	}
	if status != 200 || json.Unmarshal(b, &wt) != nil {
		t.Fatalf("wstoken: %d %s", status, b)
	}
	c, _, err := websocket.Dial(t.Context(), wt.URI+"?access_token="+wt.Token, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	if _, first, err := c.Read(t.Context()); err != nil || !strings.Contains(string(first), "ConnectionDetails") {
		t.Fatalf("first frame: %v %s", err, first)
	}
	return &wsClient{c}
}

// closed waits for the server to close the socket and returns its close
// code and reason.
func (w *wsClient) closed(t *testing.T) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for {
		if _, _, err := w.c.Read(ctx); err != nil {
			var ce websocket.CloseError
			if errors.As(err, &ce) {
				return int(ce.Code), ce.Reason
			}
			t.Fatalf("socket ended without a close frame: %v", err)
		}
	}
}
