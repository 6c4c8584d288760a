package main

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/pgtest"
)

// TestMultiNode runs three server processes over one PostgreSQL database,
// sends SMS through all three (two in three to another extension of the
// server, one in three to the carrier), kills one node with SIGKILL in the
// middle and leaves it down. Then, through the surviving nodes: every
// acknowledged message has reached a final status, every internal send has
// exactly one inbound copy, and message-sync (ISync
// from tokens taken before the load) on each surviving node agrees with the
// message lists, message by message and status by status.
func TestMultiNode(t *testing.T) {
	ctx := processTestContext(t, 90*time.Second)
	dbURL := pgtest.NewDatabase(t)
	bin := buildBinary(t, ctx)

	dirs := []string{t.TempDir(), t.TempDir(), t.TempDir()}
	nodes := make([]*serverProcess, 3)
	for i := range nodes {
		if i > 0 { // the first node creates the demo, the others reuse it
			copyDemo(t, dirs[0], dirs[i])
		}
		nodes[i] = startProcess(t, bin, dirs[i], "--database", dbURL, "--db-max-conns", "8", "--receipt-timeout", "20s")
	}
	for _, n := range nodes {
		defer n.stopIfRunning(t)
	}
	demo := nodes[0].demo
	alice, bob := demo.Extensions[0], demo.Extensions[1]
	// Tokens live in the shared database: one login serves every node.
	tokA, tokB := login(t, demo, alice.JWT), login(t, demo, bob.JWT)
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	defer client.CloseIdleConnections()

	// Sync positions before the load, on node 0 (valid on every node).
	syncA := fsyncToken(t, client, nodes[0].demo.Server, tokA)
	syncB := fsyncToken(t, client, nodes[0].demo.Server, tokB)

	// A WebHook subscription, made on node 0 before the load, to bob's
	// instant SMS events: each inbound copy must reach it at least once,
	// whichever node stored the copy and whichever node dispatches.
	var (
		hookMu   sync.Mutex
		notified = map[string]int{} // message id -> events received
	)
	subscribeWebHook(t, nodes[0].demo.Server, tokB, func(id json.Number) {
		hookMu.Lock()
		notified[id.String()]++
		hookMu.Unlock()
	})

	// ---- load through all three nodes; node 1 is killed in the middle
	prefix := "multi-" + strings.ToLower(rand.Text()[:8]) + "-"
	var (
		mu       sync.Mutex
		acks     []loadAck
		refused  atomic.Int64
		lost     atomic.Int64
		stopping atomic.Bool
		killed   atomic.Bool
		wg       sync.WaitGroup
	)
	firstErr := make(chan string, 1)
	for g := range 9 {
		node := g % 3
		wg.Add(1)
		go func() {
			defer wg.Done()
			sendURL := nodes[node].demo.Server + "/restapi/v1.0/account/~/extension/~/sms"
			for i := 0; !stopping.Load() && ctx.Err() == nil; i++ {
				to, internal := loadRecipient(g, i, bob.PhoneNumber)
				text := fmt.Sprintf("%sg%d-n%d", prefix, g, i)
				a, err := loadSend(ctx, client, sendURL, tokA, alice.PhoneNumber, to, text)
				if err != nil {
					if node == 1 && killed.Load() {
						lost.Add(1)
						return // the node is gone: this request's outcome is unknown
					}
					select {
					case firstErr <- fmt.Sprintf("node %d: %v", node, err):
					default:
					}
					return
				}
				if a.ID == "" {
					refused.Add(1)
					select {
					case firstErr <- fmt.Sprintf("node %d: %s", node, a.refusal):
					default:
					}
					continue
				}
				mu.Lock()
				acks = append(acks, loadAck{a.ID.String(), text, internal})
				mu.Unlock()
			}
		}()
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(acks) }
	waitFor := func(n int, max time.Duration) {
		for start := time.Now(); count() < n && time.Since(start) < max; {
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor(150, 10*time.Second)
	killed.Store(true)
	nodes[1].kill(t)
	atKill := count()
	waitFor(atKill+150, 10*time.Second) // the survivors carry on
	stopping.Store(true)
	wg.Wait()
	select {
	case e := <-firstErr:
		t.Fatalf("a send was refused or failed on a live node: %s\nnode 0 log:\n%s", e, nodes[0].log.String())
	default:
	}
	internalAcks := countInternal(acks)
	t.Logf("load: %d acknowledged (%d internal), %d at the kill of node 1, %d requests to node 1 in flight at the kill",
		len(acks), internalAcks, atKill, lost.Load())

	// The killed node's delivery claims stay leased to it for 30 s (its
	// WebHook dispatch lease for 1 min), and the receipts of what it had
	// submitted to its (in-process) carrier simulator died with it: move
	// the surviving nodes' emulator clocks past the leases and past
	// --receipt-timeout rather than wait. The survivors then take the
	// leased work over and resubmit the overdue; node 1 stays down.
	for _, i := range []int{0, 2} {
		advanceClock(t, client, nodes[i].demo, 61)
	}

	outURL := func(n int) string {
		return nodes[n].demo.Server + "/restapi/v1.0/account/~/extension/~/message-store?messageType=SMS&direction=Outbound"
	}
	out := waitFinal(t, client, outURL(0), tokA, prefix, 45*time.Second, nodes[0].log)
	t.Logf("all %d stored outbound messages final: %v", len(out), crashStatuses(out))

	// ---- every acknowledged message is stored once, final
	final := map[string]bool{"Delivered": true, "SendingFailed": true, "DeliveryFailed": true}
	outByText := outboundByText(t, out)
	for _, a := range acks {
		m, ok := outByText[a.text]
		if !ok || m.ID.String() != a.id {
			t.Errorf("acknowledged message %s (%q) is not in the sender's list", a.id, a.text)
			continue
		}
		if !final[m.MessageStatus] {
			t.Errorf("acknowledged message %s: status %s, want final", a.id, m.MessageStatus)
		}
	}
	// ---- exactly one inbound copy per internal message, through node 2
	in := crashList(t, client, nodes[2].demo.Server+"/restapi/v1.0/account/~/extension/~/message-store?messageType=SMS&direction=Inbound", tokB, prefix)
	checkInboundCopies(t, out, in, outByText, bob.PhoneNumber)

	// ---- message-sync on each surviving node agrees with the lists
	for _, n := range []int{0, 2} {
		server := nodes[n].demo.Server
		for _, c := range []struct {
			name, token, syncToken string
			list                   []crashMessage
		}{{"101 (sender)", tokA, syncA, out}, {"102 (recipient)", tokB, syncB, in}} {
			synced := isyncAll(t, client, server, c.token, c.syncToken, prefix)
			if len(synced) != len(c.list) {
				t.Errorf("node %d, mailbox %s: ISync reports %d messages of this run, the list %d", n, c.name, len(synced), len(c.list))
			}
			for _, m := range c.list {
				s, ok := synced[m.ID.String()]
				if !ok {
					t.Errorf("node %d, mailbox %s: message %s (%q) missing from ISync", n, c.name, m.ID, m.Subject)
					continue
				}
				if s.MessageStatus != m.MessageStatus {
					t.Errorf("node %d, mailbox %s: message %s is %s in ISync, %s in the list", n, c.name, m.ID, s.MessageStatus, m.MessageStatus)
				}
			}
		}
	}

	// ---- notifications: every inbound copy reached the subscriber
	missing := func() (n int, repeats int) {
		hookMu.Lock()
		defer hookMu.Unlock()
		for _, m := range in {
			switch c := notified[m.ID.String()]; {
			case c == 0:
				n++
			case c > 1:
				repeats += c - 1
			}
		}
		return n, repeats
	}
	deadline := time.Now().Add(30 * time.Second)
	for n, _ := missing(); n > 0; n, _ = missing() {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d inbound copies never notified\nnode 0 log:\n%s", n, len(in), nodes[0].log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	hookMu.Lock()
	for id := range notified {
		if !slices.ContainsFunc(in, func(m crashMessage) bool { return m.ID.String() == id }) {
			// Only this test's sends reach bob during it.
			t.Errorf("event for message %s, which is not an inbound copy of this test", id)
		}
	}
	hookMu.Unlock()
	_, repeats := missing()

	t.Logf("checked: %d acknowledged final, %d inbound copies for %d internal sends, ISync consistent on nodes 0 and 2, "+
		"every copy notified (%d repeated after the kill)", len(acks), len(in), internalAcks, repeats)
}

type syncPage struct {
	Records  []crashMessage `json:"records"`
	SyncInfo struct {
		SyncToken         string `json:"syncToken"`
		OlderRecordsExist bool   `json:"olderRecordsExist"`
	} `json:"syncInfo"`
}

func syncGet(t *testing.T, client *http.Client, u, token string) syncPage {
	t.Helper()
	status, b := call(t, client, "GET", u, token, nil)
	var p syncPage
	if status != http.StatusOK || json.Unmarshal(b, &p) != nil || p.SyncInfo.SyncToken == "" {
		t.Fatalf("GET %s: %d %s", u, status, b)
	}
	return p
}

func fsyncToken(t *testing.T, client *http.Client, server, token string) string {
	t.Helper()
	return syncGet(t, client, server+"/restapi/v1.0/account/~/extension/~/message-sync?syncType=FSync&recordCount=1", token).SyncInfo.SyncToken
}

// isyncAll follows ISync from syncToken until nothing older is left and
// returns the last reported state of each message of this run, by id.
func isyncAll(t *testing.T, client *http.Client, server, token, syncToken, prefix string) map[string]crashMessage {
	t.Helper()
	out := map[string]crashMessage{}
	for range 1000 {
		p := syncGet(t, client, server+"/restapi/v1.0/account/~/extension/~/message-sync?syncType=ISync&syncToken="+url.QueryEscape(syncToken), token)
		for _, m := range p.Records {
			if strings.HasPrefix(m.Subject, prefix) {
				out[m.ID.String()] = m
			}
		}
		syncToken = p.SyncInfo.SyncToken
		if !p.SyncInfo.OlderRecordsExist {
			return out
		}
	}
	t.Fatal("ISync does not end")
	return nil
}
