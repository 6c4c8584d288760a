package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
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
	ctx := processTestContext(t, 50*time.Second)
	bin := buildBinary(t, ctx)
	dir := t.TempDir()

	srv := startProcess(t, bin, dir)
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
	var (
		mu       sync.Mutex
		acks     []loadAck
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
				to, internal := loadRecipient(g, i, bob.PhoneNumber)
				text := fmt.Sprintf("%sg%d-n%d", prefix, g, i)
				sent.Add(1)
				a, err := loadSend(ctx, client, sendURL, tokA, alice.PhoneNumber, to, text)
				if err != nil {
					failed.Add(1)
					return // the server is gone: this request's outcome is unknown
				}
				if a.ID == "" {
					if !stopping.Load() {
						refused.Add(1)
						select {
						case firstErr <- a.refusal:
						default:
						}
					}
					continue
				}
				if a.Subject != text {
					select {
					case firstErr <- fmt.Sprintf("answer's subject %q, sent %q", a.Subject, text):
					default:
					}
				}
				mu.Lock()
				acks = append(acks, loadAck{a.ID.String(), text, internal})
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
	srv.kill(t)
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
	internalAcks := countInternal(acks)
	t.Logf("before the kill: %d requests in %v, %d acknowledged (%d internal, %d external), %d in flight at the kill (outcome unknown)",
		sent.Load(), loadTime.Round(time.Millisecond), len(acks), internalAcks, len(acks)-internalAcks, failed.Load())

	// ---- restart on the same data directory
	srv2 := startProcess(t, bin, dir)
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
		advanceClock(t, client, demo2, 31)
	}

	// Wait until every stored outbound message (acknowledged or not) is
	// final: not Queued, and external ones past Sent (their receipt, lost
	// with the killed simulator, comes after the worker's resubmit).
	waitStart := time.Now()
	out := waitFinal(t, client, outURL, tokA, prefix, 30*time.Second, srv2.log)
	t.Logf("after the restart: %d outbound messages stored, %d Queued at the restart, %d left Queued under the killed worker's lease (clock moved 31 s); all final %v later: %v",
		len(out), queuedAtRestart, leftLeased, time.Since(waitStart).Round(time.Millisecond), crashStatuses(out))

	// ---- the promises
	final := map[string]bool{"Delivered": true, "Sent": true, "SendingFailed": true, "DeliveryFailed": true}
	outByText := outboundByText(t, out)
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
	internalStored := checkInboundCopies(t, out, in, outByText, bob.PhoneNumber)
	unacked := len(out) - len(acks)
	t.Logf("checked: %d acknowledged all stored and final; %d stored without an answer (in flight at the kill); %d internal stored, %d inbound copies in 102's mailbox",
		len(acks), unacked, internalStored, len(in))
}

// processTestContext starts each test that builds and runs the server
// binary: skipped with -short, bounded by timeout.
func processTestContext(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the server binary; skipped with -short")
	}
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	t.Cleanup(cancel)
	return ctx
}

// loadAck is one send a crash load's server acknowledged.
type loadAck struct {
	id, text string
	internal bool
}

func countInternal(acks []loadAck) int {
	n := 0
	for _, a := range acks {
		if a.internal {
			n++
		}
	}
	return n
}

// outboundByText indexes the run's stored outbound messages by their
// (unique) text, failing on a send stored twice on the sender side.
func outboundByText(t *testing.T, out []crashMessage) map[string]crashMessage {
	t.Helper()
	byText := map[string]crashMessage{}
	for _, m := range out {
		if prev, dup := byText[m.Subject]; dup {
			t.Errorf("one send stored twice on the sender side: %q as messages %s and %s", m.Subject, prev.ID, m.ID)
		}
		byText[m.Subject] = m
	}
	return byText
}

// checkInboundCopies checks the delivery promise after a crash: exactly
// one inbound copy per stored internal message, none for external ones,
// and none of a message that was never stored. It returns how many of the
// stored messages are internal.
func checkInboundCopies(t *testing.T, out, in []crashMessage, outByText map[string]crashMessage, internalNumber string) int {
	t.Helper()
	copies := map[string]int{}
	for _, m := range in {
		copies[m.Subject]++
	}
	internal := 0
	for _, m := range out {
		want := 0
		if len(m.To) == 1 && m.To[0].PhoneNumber == internalNumber {
			internal++
			want = 1
		}
		if copies[m.Subject] != want {
			t.Errorf("message %s (%q, to %v, %s): %d inbound copies, want %d",
				m.ID, m.Subject, m.To, m.MessageStatus, copies[m.Subject], want)
		}
	}
	for text, n := range copies {
		if _, ok := outByText[text]; !ok {
			t.Errorf("%d inbound copies of %q, which the sender's mailbox does not hold", n, text)
		}
	}
	return internal
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
	status, b := call(t, client, "GET", u, token, nil)
	if status == http.StatusOK {
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("GET %s: %v\n%s", u, err, b)
		}
	}
	return status, m
}

// crashList lists a whole mailbox (every page of 1000), keeping the
// messages of this run.
func crashList(t *testing.T, client *http.Client, u, token, prefix string) []crashMessage {
	t.Helper()
	var out []crashMessage
	for page := 1; page <= 1000; page++ {
		var body struct {
			Records    []crashMessage `json:"records"`
			Navigation struct {
				NextPage *struct{} `json:"nextPage"`
			} `json:"navigation"`
		}
		status, b := call(t, client, "GET", fmt.Sprintf("%s&dateFrom=2000-01-01T00:00:00Z&perPage=1000&page=%d", u, page), token, nil)
		if status != 200 {
			t.Fatalf("list %s: %d %s", u, status, b)
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
	}
	t.Fatal("list does not end")
	return nil
}

// waitFinal lists the run's outbound messages until none is Queued or
// Sent: external ones wait past Sent for their receipt, which the killed
// node's simulator took with it and a survivor's resubmit brings.
func waitFinal(t *testing.T, client *http.Client, outURL, token, prefix string, timeout time.Duration, log *syncBuffer) []crashMessage {
	t.Helper()
	start := time.Now()
	for {
		out := crashList(t, client, outURL, token, prefix)
		pending := 0
		for _, m := range out {
			if m.MessageStatus == "Queued" || m.MessageStatus == "Sent" {
				pending++
			}
		}
		if pending == 0 {
			return out
		}
		if time.Since(start) > timeout {
			t.Fatalf("%d of %d outbound messages are still Queued or Sent %v after the restart or kill: %v\nserver log:\n%s",
				pending, len(out), time.Since(start).Round(time.Millisecond), crashStatuses(out), log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// loadRecipient is the mix of the crash loads: two sends in three to the
// internal number (stored twice: sender and inbound copy), one in three to
// the carrier.
func loadRecipient(g, i int, internalNumber string) (to string, internal bool) {
	if (g+i)%3 != 0 {
		return internalNumber, true
	}
	return fmt.Sprintf("+1555%03d%04d", 100+g, i%10000), false
}

// loadAnswer is the server's answer to one send of a load: the stored
// message (ID set), or why it was refused.
type loadAnswer struct {
	ID      json.Number `json:"id"`
	Subject string      `json:"subject"`
	refusal string
}

// loadSend sends one SMS from a load goroutine, so it reports instead of
// failing the test: an error is a transport error (the server may be gone
// mid-request), a refusal an answer without a stored message.
func loadSend(ctx context.Context, client *http.Client, sendURL, token, from, to, text string) (loadAnswer, error) {
	var a loadAnswer
	req, _ := http.NewRequestWithContext(ctx, "POST", sendURL, bytes.NewReader(smsBody(from, to, text)))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return a, err
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &a) != nil || a.ID == "" {
		return loadAnswer{refusal: fmt.Sprintf("%d %s", resp.StatusCode, b)}, nil
	}
	return a, nil
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
