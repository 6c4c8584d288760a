package httpapi_test

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"sort"
	"sync"
	"testing"
	"time"
)

// syncClient mirrors a mailbox the way a RingCentral client does: a full
// sync, then incremental syncs applied to a local map of Alive messages.
type syncClient struct {
	e     *testEnv
	token string
	path  string
	sync  string
	alive map[float64]string // id -> readStatus
}

func (c *syncClient) apply(body map[string]any) {
	for _, rec := range body["records"].([]any) {
		m := rec.(map[string]any)
		id := m["id"].(float64)
		if m["availability"] == "Alive" {
			c.alive[id] = m["readStatus"].(string)
		} else {
			delete(c.alive, id)
		}
	}
	c.sync = body["syncInfo"].(map[string]any)["syncToken"].(string)
}

func (c *syncClient) full(query string) map[string]any {
	c.e.t.Helper()
	body := c.e.expect(c.e.request("GET", c.path+"?syncType=FSync"+query, c.token, nil), 200).object(c.e.t)
	c.alive = map[float64]string{}
	c.apply(body)
	return body
}

func (c *syncClient) incremental() map[string]any {
	c.e.t.Helper()
	for {
		body := c.e.expect(c.e.request("GET", c.path+"?syncType=ISync&syncToken="+url.QueryEscape(c.sync), c.token, nil), 200).object(c.e.t)
		c.apply(body)
		if body["syncInfo"].(map[string]any)["olderRecordsExist"] != true {
			return body
		}
	}
}

func TestMessageSync(t *testing.T) {
	e := newTestEnv(t)
	tok := e.token(e.bob)
	c := &syncClient{e: e, token: tok, path: "/restapi/v1.0/account/~/extension/~/message-sync"}
	recs := e.importMessages(e.bob,
		sms("Inbound", "+15550000001", "+16505550102", "one", baseTime.Add(-3*time.Hour)),
		sms("Inbound", "+15550000002", "+16505550102", "two", baseTime.Add(-2*time.Hour)),
		sms("Outbound", "+16505550102", "+15550000001", "three", baseTime.Add(-time.Hour)))

	body := c.full("&recordCount=2")
	info := body["syncInfo"].(map[string]any)
	if info["syncType"] != "FSync" || info["olderRecordsExist"] != true || len(c.alive) != 2 || info["syncTime"] == "" {
		t.Fatalf("FSync with recordCount=2: %v, %d records", info, len(c.alive))
	}
	body = c.full("")
	if len(c.alive) != 3 || body["syncInfo"].(map[string]any)["olderRecordsExist"] != false {
		t.Fatalf("FSync: %d records", len(c.alive))
	}
	// Nothing changed: an empty ISync with a usable new token.
	if body := c.incremental(); len(body["records"].([]any)) != 0 || body["syncInfo"].(map[string]any)["syncType"] != "ISync" {
		t.Fatalf("ISync without changes: %v", body)
	}

	one := fmt.Sprintf("/restapi/v1.0/account/~/extension/~/message-store/%d", int64(idOf(recs[0])))
	two := fmt.Sprintf("/restapi/v1.0/account/~/extension/~/message-store/%d", int64(idOf(recs[1])))
	e.expect(e.request("PUT", one, tok, map[string]string{"readStatus": "Read"}), 200)
	e.expect(e.request("DELETE", two, tok, nil), 204)
	added := e.importMessages(e.bob, sms("Inbound", "+15550000003", "+16505550102", "four", baseTime.Add(-time.Minute)))
	body = c.incremental()
	if n := len(body["records"].([]any)); n != 3 {
		t.Fatalf("ISync after read, delete, create: %d records, want 3: %v", n, body["records"])
	}
	if c.alive[idOf(recs[0])] != "Read" || c.alive[idOf(added[0])] != "Unread" {
		t.Fatalf("local state %v", c.alive)
	}
	if _, ok := c.alive[idOf(recs[1])]; ok {
		t.Fatal("deleted message still in the local state")
	}
	for _, r := range body["records"].([]any) {
		m := r.(map[string]any)
		if m["id"] == idOf(recs[1]) && (m["availability"] != "Deleted" || m["subject"] != nil) {
			t.Fatalf("a deleted message is reported by id and availability only: %v", m)
		}
	}

	// Restore, then purge and remove by retention: every step reaches the client.
	e.expect(e.request("PATCH", two, tok, map[string]string{"availability": "Alive"}), 200)
	c.incremental()
	if _, ok := c.alive[idOf(recs[1])]; !ok {
		t.Fatal("restored message did not come back through ISync")
	}
	e.expect(e.request("DELETE", two+"?purge=true", tok, nil), 204)
	e.clock.Advance(11 * 24 * time.Hour)
	e.expect(e.request("POST", "/switchboard/v1/retention/run", e.adminToken, nil), 200)
	tok = e.token(e.bob) // the old access token expired with the time moved
	c.token = tok
	c.incremental()
	if _, ok := c.alive[idOf(recs[1])]; ok {
		t.Fatal("removed message still in the local state")
	}

	// A token survives as long as the change log holds its position.
	e.expect(e.request("GET", c.path+"?syncType=ISync&syncToken="+url.QueryEscape(c.sync), tok, nil), 200)
}

func TestMessageSyncFrame(t *testing.T) {
	e := newTestEnv(t)
	tok := e.token(e.bob)
	fax := msg{"type": "Fax", "direction": "Inbound", "from": map[string]string{"phoneNumber": "+15550000009"},
		"to": []map[string]string{{"phoneNumber": "+16505550102"}}, "creationTime": baseTime.Add(-time.Hour).Format(time.RFC3339)}
	e.importMessages(e.bob, sms("Inbound", "+15550000001", "+16505550102", "sms", baseTime.Add(-time.Hour)), fax)
	c := &syncClient{e: e, token: tok, path: "/restapi/v1.0/account/~/extension/~/message-sync"}
	c.full("&messageType=SMS")
	if len(c.alive) != 1 {
		t.Fatalf("FSync messageType=SMS: %v", c.alive)
	}
	e.importMessages(e.bob, fax, sms("Inbound", "+15550000001", "+16505550102", "sms 2", baseTime.Add(-time.Minute)))
	body := c.incremental()
	if n := len(body["records"].([]any)); n != 1 || len(c.alive) != 2 {
		t.Fatalf("ISync keeps the SMS frame: %d records, state %v", n, c.alive)
	}

	// The date frame too: after a full sync of 2012, a message created now
	// is not in the frame; one created in 2012 (imported later) is.
	c.full("&dateFrom=2012-01-01T00:00:00Z&dateTo=2013-01-01T00:00:00Z")
	if len(c.alive) != 0 {
		t.Fatalf("FSync of 2012: %v", c.alive)
	}
	old := e.importMessages(e.bob, sms("Inbound", "+15550000001", "+16505550102", "today", baseTime),
		sms("Inbound", "+15550000001", "+16505550102", "in 2012", time.Date(2012, 6, 1, 0, 0, 0, 0, time.UTC)))
	body = c.incremental()
	if recs := body["records"].([]any); len(recs) != 1 || recs[0].(map[string]any)["id"] != idOf(old[1]) {
		t.Fatalf("ISync after an FSync of 2012: %v", recs)
	}
}

func TestMessageSyncErrors(t *testing.T) {
	e := newTestEnv(t)
	bob, alice := e.token(e.bob), e.token(e.alice)
	path := "/restapi/v1.0/account/~/extension/~/message-sync"
	body := e.expect(e.request("GET", path+"?syncType=FSync", alice, nil), 200).object(t)
	aliceToken := body["syncInfo"].(map[string]any)["syncToken"].(string)

	tests := []struct {
		name, query, code, param string
	}{
		{"no syncType", "", "CMN-101", "syncType"},
		{"bad syncType", "?syncType=Partial", "CMN-101", "syncType"},
		{"ISync without token", "?syncType=ISync", "CMN-101", "syncToken"},
		{"malformed token", "?syncType=ISync&syncToken=%%%", "", ""},
		{"garbage token", "?syncType=ISync&syncToken=bm90IGpzb24", "MSG-333", "syncToken"},
		{"another mailbox's token", "?syncType=ISync&syncToken=" + url.QueryEscape(aliceToken), "MSG-333", "syncToken"},
		{"bad messageType", "?syncType=FSync&messageType=Email", "CMN-101", "messageType"},
		{"bad recordCount", "?syncType=FSync&recordCount=0", "CMN-101", "recordCount"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.request("GET", path+tt.query, bob, nil)
			if r.StatusCode != 400 {
				t.Fatalf("status %d: %s", r.StatusCode, r.body)
			}
			if tt.code == "" {
				return
			}
			if code, param := errorOf(t, r); code != tt.code || param != tt.param {
				t.Fatalf("error %s/%s, want %s/%s", code, param, tt.code, tt.param)
			}
		})
	}

	// A token older than the change log's horizon asks for a full sync.
	body = e.expect(e.request("GET", path+"?syncType=FSync", bob, nil), 200).object(t)
	old := body["syncInfo"].(map[string]any)["syncToken"].(string)
	e.importMessages(e.bob, sms("Inbound", "+15550000001", "+16505550102", "x", baseTime.Add(-time.Minute)))
	e.clock.Advance(31 * 24 * time.Hour)
	e.expect(e.request("POST", "/switchboard/v1/retention/run", e.adminToken, nil), 200)
	bob = e.token(e.bob)
	r := e.request("GET", path+"?syncType=ISync&syncToken="+url.QueryEscape(old), bob, nil)
	if code, _ := errorOf(t, r); r.StatusCode != 400 || code != "MSG-333" {
		t.Fatalf("expired token: %d %s", r.StatusCode, r.body)
	}
	// Other users cannot sync another's mailbox.
	if r := e.request("GET", fmt.Sprintf("/restapi/v1.0/account/~/extension/%d/message-sync?syncType=FSync", e.alice.ID), bob, nil); r.StatusCode != 403 {
		t.Fatalf("sync of another mailbox: %d", r.StatusCode)
	}
}

// TestMessageSyncConcurrentWriter: a client ISyncs in a loop while writers
// create, read and delete messages over HTTP; at the end the client's state
// is exactly the server's.
func TestMessageSyncConcurrentWriter(t *testing.T) {
	e := newTestEnv(t)
	tok := e.token(e.bob)
	store := "/restapi/v1.0/account/~/extension/~/message-store"
	c := &syncClient{e: e, token: tok, path: "/restapi/v1.0/account/~/extension/~/message-sync"}
	c.full("&dateFrom=2026-01-01")

	// Writers create, mark, delete and restore messages over HTTP.
	var writers sync.WaitGroup
	for w := range 3 {
		writers.Add(1)
		go func() {
			defer writers.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			var mine []float64
			for i := range 40 {
				recs := e.importMessages(e.bob, sms("Inbound", fmt.Sprintf("+1555000%04d", w*100+i%5), "+16505550102",
					fmt.Sprint("w", w, " ", i), baseTime.Add(-time.Duration(1+rng.IntN(600))*time.Minute)))
				mine = append(mine, idOf(recs[0]))
				target := fmt.Sprintf("%s/%d", store, int64(mine[rng.IntN(len(mine))]))
				switch rng.IntN(4) {
				case 0:
					e.request("PUT", target, tok, map[string]string{"readStatus": "Read"})
				case 1:
					e.request("DELETE", target, tok, nil)
				case 2:
					e.request("PATCH", target, tok, map[string]string{"availability": "Alive"})
				}
			}
		}()
	}
	// Meanwhile the client syncs incrementally, as fast as it can.
	stop := make(chan struct{})
	syncs := make(chan int)
	go func() {
		n := 0
		for {
			select {
			case <-stop:
				syncs <- n
				return
			default:
			}
			c.incremental()
			n++
		}
	}()
	writers.Wait()
	close(stop)
	n := <-syncs
	c.incremental() // the client's last sync after the writers are done

	ids, body := e.listIDs(store+"?dateFrom=2026-01-01&perPage=1000", tok)
	server := map[float64]string{}
	for i, r := range body["records"].([]any) {
		server[ids[i]] = r.(map[string]any)["readStatus"].(string)
	}
	if fmt.Sprint(sorted(server)) != fmt.Sprint(sorted(c.alive)) {
		t.Fatalf("after %d incremental syncs the client has %d messages, the server %d:\nclient %v\nserver %v", n, len(c.alive), len(server), sorted(c.alive), sorted(server))
	}
	if n < 2 {
		t.Fatalf("only %d incremental syncs ran during the writes", n)
	}
	if len(server) == 0 {
		t.Fatal("the writers left no Alive message: the comparison proves nothing")
	}
}

func sorted(m map[float64]string) []string {
	var out []string
	for id, rs := range m {
		out = append(out, fmt.Sprintf("%d:%s", int64(id), rs))
	}
	sort.Strings(out)
	return out
}
