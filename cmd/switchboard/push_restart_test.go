package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

// TestPushRestartDuringBurst kills the server (SIGKILL) while a WebHook
// subscription is being told about a burst of messages, restarts it on the
// same data directory and checks the promise of the persisted cursor: every
// event arrives at least once, and in order per mailbox (after the restart
// delivery resumes at or before the first event not yet acknowledged, never
// after it).
func TestPushRestartDuringBurst(t *testing.T) {
	bin := buildBinary(t, processTestContext(t, 60*time.Second))
	dir := t.TempDir()

	var (
		mu       sync.Mutex
		received []int64
	)
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(received) }

	srv := startProcess(t, bin, dir)
	demo := srv.demo
	alice := demo.Extensions[0]
	tok := login(t, demo, alice.JWT)
	// The receiver is slow on purpose (8 ms per event), so the burst is
	// still being delivered when the server dies.
	subscribeWebHook(t, demo.Server, tok, func(id json.Number) {
		time.Sleep(8 * time.Millisecond)
		n, _ := id.Int64()
		mu.Lock()
		received = append(received, n)
		mu.Unlock()
	})

	// The burst: 400 inbound SMS to alice in imports of 20.
	const total = 400
	var ids []int64
	for i := 0; i < total; i += 20 {
		var msgs []map[string]any
		for j := i; j < i+20; j++ {
			msgs = append(msgs, map[string]any{"accountId": alice.AccountID, "extensionId": alice.ID, "type": "SMS",
				"direction": "Inbound", "from": map[string]string{"phoneNumber": "+15550009999"},
				"to": []map[string]string{{"phoneNumber": alice.PhoneNumber}}, "subject": fmt.Sprint("burst ", j)})
		}
		b, _ := json.Marshal(map[string]any{"messages": msgs})
		status, out := post(t, demo.Server+"/switchboard/v1/messages", demo.AdminToken, b)
		if status != 200 {
			t.Fatalf("import: %d %s", status, out)
		}
		var recs struct {
			Records []struct {
				ID int64 `json:"id"`
			} `json:"records"`
		}
		if err := json.Unmarshal(out, &recs); err != nil {
			t.Fatal(err)
		}
		for _, r := range recs.Records {
			ids = append(ids, r.ID)
		}
	}
	for deadline := time.Now().Add(20 * time.Second); count() < 40; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d events arrived before the kill\n%s", count(), srv.log.String())
		}
	}
	srv.kill(t)
	atKill := count()
	if atKill >= total {
		t.Fatalf("the whole burst was delivered before the kill (%d): the test proves nothing", atKill)
	}

	srv2 := startProcess(t, bin, dir)
	defer srv2.stop(t)
	// The killed node's dispatch lease (1 min) blocks the new node until it
	// runs out; move the emulator's clock past it instead of waiting.
	advanceClock(t, http.DefaultClient, srv2.demo, 61)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		got := map[int64]bool{}
		for _, id := range received {
			got[id] = true
		}
		mu.Unlock()
		if len(got) == total {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the restart %d of %d events arrived\n%s", len(got), total, srv2.log.String())
		}
	}

	mu.Lock()
	defer mu.Unlock()
	want := map[int64]int{} // message id -> position in the burst
	for i, id := range ids {
		want[id] = i
	}
	// In order: positions only increase, except once, at the restart,
	// where delivery resumes at or before the first unacknowledged event.
	rewinds, highest := 0, -1
	for n, id := range received {
		pos, ok := want[id]
		if !ok {
			t.Fatalf("event for unknown message %d", id)
		}
		switch {
		case pos == highest+1:
		case pos <= highest && n >= atKill && rewinds == 0:
			rewinds++
		default:
			t.Fatalf("event %d (burst position %d) after position %d: out of order or a gap (received %v)", n, pos, highest, received)
		}
		highest = pos
	}
	t.Logf("%d events before the kill, %d deliveries in all (%d repeated after the restart)", atKill, len(received), len(received)-total)
}
