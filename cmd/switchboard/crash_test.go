package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestCrashDuringSends kills the server (SIGKILL, no shutdown) while eight
// clients send SMS, restarts it on the same data directory and checks the
// outbox's promises: every acknowledged send is stored and reaches a final
// status, every internal message has exactly one inbound copy, and no copy
// exists of a message that was never stored.
func TestCrashDuringSends(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server binary; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Second)
	defer cancel()
	bin := crashBuild(t, ctx)
	dir := t.TempDir()

	srv := crashStart(t, bin, dir)
	demo := srv.demo
	alice, bob := demo.Extensions[0], demo.Extensions[1]
	if alice.ExtensionNumber != "101" || bob.ExtensionNumber != "102" {
		t.Fatalf("demo.json extensions: %+v", demo.Extensions)
	}
	tokA := login(t, demo, alice.JWT)
	login(t, demo, bob.JWT)

	// ---- load, then SIGKILL while requests are in flight
	run := strings.ToLower(rand.Text()[:8])
	prefix := "crash-" + run + "-"
	type ack struct {
		id, text string
		internal bool
	}
	var (
		mu       sync.Mutex
		acks     []ack
		sent     atomic.Int64 // requests started
		failed   atomic.Int64 // transport errors (in flight at the kill)
		refused  atomic.Int64 // non-200 answers before the kill
		stopping atomic.Bool
		wg       sync.WaitGroup
	)
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	defer client.CloseIdleConnections()
	sendURL := demo.Server + "/restapi/v1.0/account/~/extension/~/sms"
	firstErr := make(chan string, 1)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stopping.Load() && ctx.Err() == nil; i++ {
				internal := (g+i)%3 != 0 // two in three to 102, one in three to the carrier
				to := bob.PhoneNumber
				if !internal {
					to = fmt.Sprintf("+1555%03d%04d", 100+g, i%10000)
				}
				text := fmt.Sprintf("%sg%d-n%d", prefix, g, i)
				body, _ := json.Marshal(map[string]any{"from": map[string]string{"phoneNumber": alice.PhoneNumber},
					"to": []map[string]string{{"phoneNumber": to}}, "text": text})
				req, _ := http.NewRequestWithContext(ctx, "POST", sendURL, bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+tokA)
				req.Header.Set("Content-Type", "application/json")
				sent.Add(1)
				resp, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					return // the server is gone: this request's outcome is unknown
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				var m struct {
					ID      json.Number `json:"id"`
					Subject string      `json:"subject"`
				}
				if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &m) != nil || m.ID == "" {
					if !stopping.Load() {
						refused.Add(1)
						select {
						case firstErr <- fmt.Sprintf("%d %s", resp.StatusCode, b):
						default:
						}
					}
					continue
				}
				if m.Subject != text {
					select {
					case firstErr <- fmt.Sprintf("answer's subject %q, sent %q", m.Subject, text):
					default:
					}
				}
				mu.Lock()
				acks = append(acks, ack{m.ID.String(), text, internal})
				mu.Unlock()
			}
		}()
	}
	loadStart := time.Now()
	for {
		time.Sleep(50 * time.Millisecond)
		mu.Lock()
		n := len(acks)
		mu.Unlock()
		if (time.Since(loadStart) > 1500*time.Millisecond && n >= 200) || time.Since(loadStart) > 5*time.Second {
			break
		}
	}
	stopping.Store(true)
	if err := srv.cmd.Process.Kill(); err != nil {
		t.Fatalf("kill: %v", err)
	}
	_ = srv.cmd.Wait()
	wg.Wait()
	loadTime := time.Since(loadStart)
	select {
	case e := <-firstErr:
		t.Fatalf("a send before the kill was refused: %s\nserver log:\n%s", e, srv.log.String())
	default:
	}
	if refused.Load() > 0 {
		t.Fatalf("%d sends before the kill were refused", refused.Load())
	}
	if len(acks) == 0 {
		t.Fatalf("no send was acknowledged in %v\nserver log:\n%s", loadTime, srv.log.String())
	}
	internalAcks := 0
	for _, a := range acks {
		if a.internal {
			internalAcks++
		}
	}
	t.Logf("before the kill: %d requests in %v, %d acknowledged (%d internal, %d external), %d in flight at the kill (outcome unknown)",
		sent.Load(), loadTime.Round(time.Millisecond), len(acks), internalAcks, len(acks)-internalAcks, failed.Load())

	// ---- restart on the same data directory
	srv2 := crashStart(t, bin, dir)
	defer srv2.stop(t)
	demo2 := srv2.demo
	tokA = login(t, demo2, alice.JWT)
	tokB := login(t, demo2, bob.JWT)
	outURL := demo2.Server + "/restapi/v1.0/account/~/extension/~/message-store?messageType=SMS&direction=Outbound"
	inURL := demo2.Server + "/restapi/v1.0/account/~/extension/~/message-store?messageType=SMS&direction=Inbound"

	// Deliveries the killed worker had claimed stay leased to it for the
	// lease (30 s), so the new worker leaves them Queued until then. Rather
	// than wait, once the new worker has worked off everything else (the
	// number of Queued messages holds still for a second) move the
	// emulator's clock past the lease. Not earlier: moving it while the new
	// worker holds a batch would expire that batch's lease too, a different
	// failure from the one tested here.
	queuedAtRestart, leftLeased := -1, 0
	for prev, since, deadline := -1, time.Now(), time.Now().Add(20*time.Second); ; {
		q := 0
		for _, m := range crashList(t, client, outURL, tokA, prefix) {
			if m.MessageStatus == "Queued" {
				q++
			}
		}
		if queuedAtRestart < 0 {
			queuedAtRestart = q
		}
		if q != prev {
			prev, since = q, time.Now()
		}
		if q == 0 || time.Since(since) >= time.Second || time.Now().After(deadline) {
			leftLeased = q
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if leftLeased > 0 {
		crashAdvance(t, client, demo2, 31)
	}

	// Wait until every stored outbound message (acknowledged or not) is
	// final: not Queued, and external ones past Sent (their receipt, lost
	// with the killed simulator, comes after the worker's resubmit).
	var out []crashMessage
	deadline := time.Now().Add(30 * time.Second)
	waitStart := time.Now()
	for {
		out = crashList(t, client, outURL, tokA, prefix)
		pending := 0
		for _, m := range out {
			if m.MessageStatus == "Queued" || m.MessageStatus == "Sent" {
				pending++
			}
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d outbound messages are still Queued or Sent %v after the restart: %v\nserver log:\n%s",
				pending, len(out), time.Since(waitStart).Round(time.Millisecond), crashStatuses(out), srv2.log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("after the restart: %d outbound messages stored, %d Queued at the restart, %d left Queued under the killed worker's lease (clock moved 31 s); all final %v later: %v",
		len(out), queuedAtRestart, leftLeased, time.Since(waitStart).Round(time.Millisecond), crashStatuses(out))

	// ---- the promises
	final := map[string]bool{"Delivered": true, "Sent": true, "SendingFailed": true, "DeliveryFailed": true}
	outByText := map[string]crashMessage{}
	for _, m := range out {
		if prev, dup := outByText[m.Subject]; dup {
			t.Errorf("one send stored twice on the sender side: %q as messages %s and %s", m.Subject, prev.ID, m.ID)
		}
		outByText[m.Subject] = m
	}
	// Every acknowledged message exists on the sender side, with its text and a final status.
	for _, a := range acks {
		status, m := crashGet(t, client, demo2.Server+"/restapi/v1.0/account/~/extension/~/message-store/"+a.id, tokA)
		if status != http.StatusOK {
			t.Errorf("acknowledged message %s (%q) answers %d after the crash: lost", a.id, a.text, status)
			continue
		}
		if m.Subject != a.text || !final[m.MessageStatus] {
			t.Errorf("acknowledged message %s: subject %q status %q, want %q and a final status", a.id, m.Subject, m.MessageStatus, a.text)
		}
		if o, ok := outByText[a.text]; !ok || o.ID.String() != a.id {
			t.Errorf("acknowledged message %s (%q) is not in the sender's list (found %+v)", a.id, a.text, o)
		}
	}
	// Exactly one inbound copy per stored internal message, none for
	// external ones, and none of a message that was never stored.
	in := crashList(t, client, inURL, tokB, prefix)
	copies := map[string]int{}
	for _, m := range in {
		copies[m.Subject]++
	}
	internalStored, unacked := 0, len(out)-len(acks)
	for _, m := range out {
		internal := len(m.To) == 1 && m.To[0].PhoneNumber == bob.PhoneNumber
		want := 0
		if internal {
			internalStored++
			want = 1
		}
		if copies[m.Subject] != want {
			t.Errorf("message %s (%q, to %v, %s): %d inbound copies in 102's mailbox, want %d",
				m.ID, m.Subject, m.To, m.MessageStatus, copies[m.Subject], want)
		}
	}
	for text, n := range copies {
		if _, ok := outByText[text]; !ok {
			t.Errorf("%d inbound copies of %q, which the sender's mailbox does not hold", n, text)
		}
	}
	t.Logf("checked: %d acknowledged all stored and final; %d stored without an answer (in flight at the kill); %d internal stored, %d inbound copies in 102's mailbox",
		len(acks), unacked, internalStored, len(in))
}

// crashServer is one run of the server binary.
type crashServer struct {
	cmd  *exec.Cmd
	log  *crashLog
	demo demoInfo
}

func (s *crashServer) stop(t *testing.T) {
	t.Helper()
	_ = s.cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("server exit: %v\n%s", err, s.log.String())
		}
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
		t.Errorf("server did not stop on interrupt\n%s", s.log.String())
	}
}

type crashLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *crashLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *crashLog) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// crashBuild builds the server binary, with the race detector when the
// test has it.
func crashBuild(t *testing.T, ctx context.Context) string {
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

// crashStart runs `serve --demo` on a free loopback port and waits until it
// listens; demo.json is written before that.
func crashStart(t *testing.T, bin, dir string) *crashServer {
	t.Helper()
	s := &crashServer{log: &crashLog{}}
	s.cmd = exec.Command(bin, "serve", "--demo", "--listen", "127.0.0.1:0", "--data", dir)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.cmd.Process.Kill() })
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(s.log.String(), "listening") {
		if time.Now().After(deadline) {
			t.Fatalf("server did not start\n%s", s.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	b, err := os.ReadFile(filepath.Join(dir, demoFile))
	if err != nil || json.Unmarshal(b, &s.demo) != nil || len(s.demo.Extensions) < 2 {
		t.Fatalf("demo.json: %v %s", err, b)
	}
	return s
}

func crashAdvance(t *testing.T, client *http.Client, d demoInfo, seconds int) {
	t.Helper()
	req, _ := http.NewRequest("POST", d.Server+"/switchboard/v1/clock/advance", strings.NewReader(fmt.Sprintf(`{"seconds": %d}`, seconds)))
	req.Header.Set("Authorization", "Bearer "+d.AdminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("clock advance: %d %s", resp.StatusCode, b)
	}
}

type crashMessage struct {
	ID            json.Number `json:"id"`
	Subject       string      `json:"subject"`
	MessageStatus string      `json:"messageStatus"`
	To            []struct {
		PhoneNumber string `json:"phoneNumber"`
	} `json:"to"`
}

func crashGet(t *testing.T, client *http.Client, u, token string) (int, crashMessage) {
	t.Helper()
	var m crashMessage
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("GET %s: %v\n%s", u, err, b)
		}
	}
	return resp.StatusCode, m
}

// crashList lists a whole mailbox (every page of 1000), keeping the
// messages of this run.
func crashList(t *testing.T, client *http.Client, u, token, prefix string) []crashMessage {
	t.Helper()
	var out []crashMessage
	for page := 1; ; page++ {
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s&dateFrom=2000-01-01T00:00:00Z&perPage=1000&page=%d", u, page), nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var body struct {
			Records    []crashMessage `json:"records"`
			Navigation struct {
				NextPage *struct{} `json:"nextPage"`
			} `json:"navigation"`
		}
		if resp.StatusCode != 200 {
			t.Fatalf("list %s: %d %s", u, resp.StatusCode, b)
		}
		if err := json.Unmarshal(b, &body); err != nil {
			t.Fatalf("list %s: %v", u, err)
		}
		for _, m := range body.Records {
			if strings.HasPrefix(m.Subject, prefix) {
				out = append(out, m)
			}
		}
		if body.Navigation.NextPage == nil || len(body.Records) == 0 {
			return out
		}
		if page > 1000 {
			t.Fatal(errors.New("list does not end"))
		}
	}
}

// crashStatuses counts messages by status, for the log.
func crashStatuses(ms []crashMessage) string {
	n := map[string]int{}
	for _, m := range ms {
		n[m.MessageStatus]++
	}
	keys := make([]string, 0, len(n))
	for k := range n {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%d ", k, n[k])
	}
	return strings.TrimSpace(b.String())
}
