package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFullDisk runs the built binary with its SQLite database on a small
// tmpfs, then fills the file system. Writes answer 503 CMN-201 with
// Retry-After (never 500), health fails, the workers back off (a few
// ERROR lines, not one per poll); once space is freed, health recovers
// and every acknowledged message is delivered. A real full file system
// (ENOSPC, which SQLite reports as SQLITE_FULL) rather than SQLite's
// max_page_count or RLIMIT_FSIZE: those fail other calls (the page count
// of one file; SIGXFSZ/EFBIG) than a full disk does. It needs root to
// mount, and is skipped without.
func TestFullDisk(t *testing.T) {
	ctx := processTestContext(t, 3*time.Minute)
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (needs root): %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", mnt, err, out)
		}
	})
	bin := buildBinary(t, ctx)
	p := startProcess(t, bin, t.TempDir(), "--database", "sqlite://"+filepath.Join(mnt, "switchboard.db"))
	defer p.stopIfRunning(t)
	d := p.demo
	alice, bob := d.Extensions[0], d.Extensions[1]
	tok := login(t, d, alice.JWT)
	sms := d.Server + "/restapi/v1.0/account/~/extension/~/sms"
	health := func() (int, string, map[string]any) {
		resp, err := http.Get(d.Server + "/switchboard/v1/health")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, resp.Header.Get("Retry-After"), body
	}
	var acked []string
	send := func(i int) (int, http.Header, map[string]any) {
		req, _ := http.NewRequest("POST", sms, strings.NewReader(string(smsBody(alice.PhoneNumber, bob.PhoneNumber, fmt.Sprintf("message %d %s", i, strings.Repeat("x", 900))))))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		if resp.StatusCode == 200 {
			acked = append(acked, fmt.Sprint(body["id"]))
		}
		return resp.StatusCode, resp.Header, body
	}
	for i := range 20 {
		if status, _, body := send(i); status != 200 {
			t.Fatalf("send before the disk filled: %d %v", status, body)
		}
	}

	// Fill the file system.
	filler := filepath.Join(mnt, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	f.Close()

	if status, retry, body := health(); status != 503 || retry != "30" || body["database"] != "full" {
		t.Fatalf("health on a full disk: %d Retry-After %q %v", status, retry, body)
	}
	refused := 0
	for i := 20; i < 2020 && refused < 5; i++ {
		status, h, body := send(i)
		switch status {
		case 200:
		case 503:
			if body["errorCode"] != "CMN-201" || h.Get("Retry-After") != "30" {
				t.Fatalf("a write on a full disk: %v, Retry-After %q", body, h.Get("Retry-After"))
			}
			refused++
		default:
			t.Fatalf("a write on a full disk answered %d %v", status, body)
		}
	}
	if refused == 0 {
		t.Fatal("2000 sends on a full disk were all accepted")
	}
	// Reads still work.
	if status, _ := get(t, d.Server+"/restapi/v1.0/account/~/extension/~/message-store?perPage=1", tok); status != 200 {
		t.Fatalf("a read on a full disk: %d", status)
	}
	time.Sleep(3 * time.Second) // the workers poll meanwhile

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if status, _, _ := health(); status == 200 {
			break
		}
		if time.Now().After(deadline) {
			_, _, body := health()
			t.Fatalf("health did not recover after space was freed: %v\n%s", body, p.log.String())
		}
	}
	if status, _, body := send(9999); status != 200 {
		t.Fatalf("send after space was freed: %d %v", status, body)
	}
	bobTok := login(t, d, bob.JWT)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		_, list := get(t, d.Server+"/restapi/v1.0/account/~/extension/~/message-store?direction=Inbound&perPage=1000", bobTok)
		got := 0
		if recs, ok := list["records"].([]any); ok {
			got = len(recs)
		}
		if got == len(acked) {
			break
		}
		if got > len(acked) {
			t.Fatalf("bob has %d messages, %d were acknowledged", got, len(acked))
		}
		if time.Now().After(deadline) {
			t.Fatalf("bob has %d of %d acknowledged messages", got, len(acked))
		}
	}
	if n := strings.Count(p.log.String(), "level=ERROR"); n > 6 {
		t.Errorf("%d ERROR lines during the outage (the workers should back off):\n%s", n, p.log.String())
	}
}
