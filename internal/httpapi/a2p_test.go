package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/a2p"
	"github.com/switchboardhq/switchboard/internal/auth"
	"github.com/switchboardhq/switchboard/internal/httpapi"
)

const (
	a2pPath   = "/restapi/v1.0/account/~/a2p-sms"
	a2pNumber = "+16505550111" // alice's A2P number
)

// a2pToken logs ext in through an app granted A2PSMS.
func (e *testEnv) a2pToken(ext *switchboard.Extension) string {
	e.t.Helper()
	ctx := context.Background()
	id, secret := "a2p-client", "a2p-secret"
	if _, err := e.store.AppByClientID(ctx, id); err != nil {
		must(e.t, e.store.CreateApp(ctx, &switchboard.App{ClientID: id, SecretHash: auth.HashSecret(secret), Name: "a2p",
			Scopes: append(slices.Clone(switchboard.DefaultAppScopes), switchboard.ScopeA2PSMS), Status: switchboard.StatusEnabled}))
	}
	saved, savedSecret := e.clientID, e.clientSecret
	e.clientID, e.clientSecret = id, secret
	defer func() { e.clientID, e.clientSecret = saved, savedSecret }()
	return e.token(ext)
}

// a2pEnv is a test server where alice has an A2P number.
func a2pEnv(t *testing.T, config httpapi.Config) *testEnv {
	e := newTestEnvConfig(t, config)
	mustV(e.store.CreatePhoneNumber(context.Background(), switchboard.PhoneNumberCreate{AccountID: e.acc1.ID, ExtensionID: e.alice.ID,
		PhoneNumber: a2pNumber, Features: []string{switchboard.FeatureA2PSms}}))(t)
	return e
}

// expandBatches runs the A2P worker and the delivery worker until idle.
func (e *testEnv) expandBatches() {
	e.t.Helper()
	w := a2p.New(e.store, e.store, a2p.Config{Owner: "test", Chunk: 2}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for range 20 {
		busy, err := w.RunOnce(context.Background())
		must(e.t, err)
		e.deliver()
		if !busy {
			return
		}
	}
}

func TestA2PBatchLifecycle(t *testing.T) {
	e := a2pEnv(t, httpapi.Config{})
	tok := e.a2pToken(e.alice)
	body := map[string]any{"from": a2pNumber, "text": "hello", "messages": []map[string]any{
		{"to": []string{"+14155550001"}}, {"to": []string{"+14155550002"}, "text": "own"}, {"to": []string{"x"}},
		{"to": []string{"+16505550102"}}, {"to": []string{"14155550003"}},
	}}
	created := e.expect(e.request("POST", a2pPath+"/batches", tok, body), http.StatusCreated).object(t)
	id := created["id"].(string)
	if created["batchSize"] != 4.0 || created["status"] != "Processing" || len(created["rejected"].([]any)) != 1 {
		t.Fatalf("created %v", created)
	}
	// Nothing is queued before the worker runs: the request only stored it.
	if n := len(mustV(e.store.ListDeliveries(context.Background(), switchboard.DeliveryPending, 10))(t)); n != 0 {
		t.Fatalf("%d deliveries before the A2P worker ran", n)
	}
	e.expandBatches()
	got := e.expect(e.request("GET", a2pPath+"/batches/"+id, tok, nil), 200).object(t)
	if got["status"] != "Completed" || got["processedCount"] != 4.0 {
		t.Fatalf("after processing: %v", got)
	}
	if _, ok := got["rejected"]; ok {
		t.Fatalf("rejected is in the create answer only: %v", got)
	}
	list := e.expect(e.request("GET", a2pPath+"/messages?view=Detailed&batchId="+id, tok, nil), 200).object(t)
	recs := list["records"].([]any)
	if len(recs) != 4 {
		t.Fatalf("%d messages, want 4: %v", len(recs), list)
	}
	first := recs[0].(map[string]any)
	e.expect(e.request("GET", fmt.Sprintf("%s/messages/%.0f", a2pPath, first["id"]), tok, nil), 200)
	st := e.expect(e.request("GET", a2pPath+"/statuses?batchId="+id, tok, nil), 200).object(t)
	total := 0.0
	for _, k := range []string{"queued", "sent", "delivered", "sendingFailed", "deliveryFailed"} {
		total += st[k].(map[string]any)["count"].(float64)
	}
	if total != 4 {
		t.Fatalf("statuses %v", st)
	}
	// bob, in the same account without the administrator role, and carol,
	// in another account, see none of it.
	for _, other := range []*switchboard.Extension{e.bob, e.carol} {
		otok := e.a2pToken(other)
		e.expect(e.request("GET", a2pPath+"/batches/"+id, otok, nil), http.StatusNotFound)
		if recs := e.expect(e.request("GET", a2pPath+"/messages?batchId="+id, otok, nil), 200).object(t)["records"].([]any); len(recs) != 0 {
			t.Fatalf("%s sees %d messages", other.ExtensionNumber, len(recs))
		}
	}
	e.expect(e.request("GET", fmt.Sprintf("/restapi/v1.0/account/%d/a2p-sms/batches/%s", e.acc1.ID, id), e.a2pToken(e.carol), nil), http.StatusNotFound)
}

func TestA2PRefusals(t *testing.T) {
	e := a2pEnv(t, httpapi.Config{A2PMaxBytes: 4096, A2PMaxMessages: 3})
	tok := e.a2pToken(e.alice)
	msgs := func(n int) []map[string]any {
		var out []map[string]any
		for i := range n {
			out = append(out, map[string]any{"to": []string{fmt.Sprintf("+1415555%04d", i)}})
		}
		return out
	}
	cases := []struct {
		name   string
		token  string
		body   any
		status int
		code   string
		param  string
	}{
		{"app without A2PSMS", e.token(e.alice), map[string]any{"from": a2pNumber, "text": "x", "messages": msgs(1)}, 403, "CMN-401", ""},
		{"number without A2PSmsSender", tok, map[string]any{"from": "+16505550101", "text": "x", "messages": msgs(1)}, 403, "MSG-242", "from"},
		{"another extension's number", tok, map[string]any{"from": "+16505550102", "text": "x", "messages": msgs(1)}, 400, "CMN-101", "from"},
		{"empty batch", tok, map[string]any{"from": a2pNumber, "text": "x", "messages": msgs(0)}, 400, "CMN-101", "messages"},
		{"too many messages", tok, map[string]any{"from": a2pNumber, "text": "x", "messages": msgs(4)}, 400, "CMN-101", "messages"},
		{"no text anywhere", tok, map[string]any{"from": a2pNumber, "messages": msgs(1)}, 400, "CMN-101", "messages"},
		{"over the size limit", tok, `{"from":"` + a2pNumber + `","text":"` + strings.Repeat("x", 5000) + `","messages":[]}`, 413, "CMN-413", ""},
		{"not JSON", tok, `{"from":`, 400, "CMN-103", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.request("POST", a2pPath+"/batches", c.token, c.body)
			if r.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", r.StatusCode, c.status, r.body)
			}
			code, param := errorOf(t, r)
			if (c.code != "" && code != c.code) || param != c.param {
				t.Fatalf("error %s naming %q, want %s naming %q: %s", code, param, c.code, c.param, r.body)
			}
		})
	}
	if bs := e.expect(e.request("GET", a2pPath+"/batches", tok, nil), 200).object(t)["records"].([]any); len(bs) != 0 {
		t.Fatalf("refused requests stored %d batches", len(bs))
	}
	for _, q := range []string{"/batches?pageToken=zzz", "/batches?status=Nope", "/messages?phoneNumber=abc", "/opt-outs?status=maybe", "/messages?dateFrom=yesterday"} {
		e.expect(e.request("GET", a2pPath+q, tok, nil), 400)
	}
	e.expect(e.request("GET", a2pPath+"/batches/123", tok, nil), 404)
	e.expect(e.request("GET", a2pPath+"/messages/abc", tok, nil), 404)
	e.expect(e.request("PATCH", a2pPath+"/opt-outs/bulk-assign", tok, map[string]any{"from": a2pNumber}), 400)
}

func TestA2PInboundKeywords(t *testing.T) {
	e := a2pEnv(t, httpapi.Config{})
	tok := e.a2pToken(e.alice)
	const peer = "+14155550009"
	inbound := func(from, to, text string) {
		e.expect(e.request("POST", "/switchboard/v1/inbound/sms", e.adminToken, map[string]any{"from": from, "to": to, "text": text}), 200)
	}
	outs := func() int {
		return len(e.expect(e.request("GET", a2pPath+"/opt-outs", tok, nil), 200).object(t)["records"].([]any))
	}
	inbound(peer, "+16505550101", "STOP") // not an A2P number: an ordinary message
	if n := outs(); n != 0 {
		t.Fatalf("STOP to a number without A2PSmsSender opted out: %d records", n)
	}
	inbound(peer, a2pNumber, "Stop.")
	if n := outs(); n != 1 {
		t.Fatalf("after STOP: %d opt-outs, want 1", n)
	}
	r := e.request("POST", a2pPath+"/batches", tok, map[string]any{"from": a2pNumber, "text": "x", "messages": []map[string]any{{"to": []string{peer}}}})
	if code, param := errorOf(t, e.expect(r, 400)); code != "CMN-101" || param != "messages" || !strings.Contains(string(r.body), switchboard.CodeOptedOut) {
		t.Fatalf("batch to an opted-out recipient: %s", r.body)
	}
	inbound(peer, a2pNumber, "help")
	inbound(peer, a2pNumber, "unstop")
	if n := outs(); n != 0 {
		t.Fatalf("after UNSTOP: %d opt-outs, want 0", n)
	}
	// Each keyword got the network's answer, sent from the A2P number.
	e.deliver()
	page := mustV(e.store.ListMessages(context.Background(), switchboard.MessageFilter{AccountID: e.acc1.ID, ExtensionID: e.alice.ID,
		Direction: []switchboard.Direction{switchboard.Outbound}, PhoneNumber: peer}))(t)
	replies := 0
	for _, m := range page.Messages {
		if m.From.PhoneNumber == a2pNumber && strings.HasPrefix(m.Subject, "NETWORK MSG") && m.MessageStatus != switchboard.StatusQueued {
			replies++
		}
	}
	if replies != 3 {
		t.Fatalf("%d keyword replies sent, want 3 (STOP, HELP, UNSTOP)", replies)
	}
}

// TestA2PBatchNotifications: a WebHook subscribed to a2p-sms/batches gets
// the batch when it is created and when it completes; a message-store
// subscription of the same mailbox gets its messages, and message sync
// never sees the batch rows.
func TestA2PBatchNotifications(t *testing.T) {
	e := a2pEnv(t, httpapi.Config{})
	tok := e.a2pToken(e.alice)
	hook := newHookReceiver(t)
	e.expect(e.request("POST", "/restapi/v1.0/subscription", tok, webhookBody(hook.srv.URL+"/hook", "/restapi/v1.0/account/~/a2p-sms/batches")), 200)
	store := newHookReceiver(t)
	e.expect(e.request("POST", "/restapi/v1.0/subscription", tok, webhookBody(store.srv.URL+"/hook", "/restapi/v1.0/account/~/extension/~/message-store")), 200)
	// bob's subscription to the same account-level filter sees his own
	// batches only: none here.
	bobHook := newHookReceiver(t)
	e.expect(e.request("POST", "/restapi/v1.0/subscription", e.a2pToken(e.bob), webhookBody(bobHook.srv.URL+"/hook", "/restapi/v1.0/account/~/a2p-sms/batches")), 200)
	e.expect(e.request("POST", "/restapi/v1.0/subscription", tok, webhookBody(hook.srv.URL+"/hook", "/restapi/v1.0/account/~/a2p-sms/batches?from=x")), 400)

	fsync := e.expect(e.request("GET", "/restapi/v1.0/account/~/extension/~/message-sync?syncType=FSync", tok, nil), 200).object(t)
	created := e.expect(e.request("POST", a2pPath+"/batches", tok, map[string]any{"from": a2pNumber, "text": "hi",
		"messages": []map[string]any{{"to": []string{"+14155550001"}}, {"to": []string{"+14155550002"}}}}), http.StatusCreated).object(t)
	e.dispatch()
	e.expandBatches()
	e.dispatch()
	calls, _, _ := hook.snapshot()
	var statuses []string
	for _, c := range calls {
		if c.env["event"] != fmt.Sprintf("/restapi/v1.0/account/%d/a2p-sms/batches", e.acc1.ID) {
			t.Fatalf("event %v", c.env["event"])
		}
		b := c.env["body"].(map[string]any)
		if b["id"] != created["id"] {
			t.Fatalf("body %v", b)
		}
		statuses = append(statuses, b["status"].(string))
	}
	if len(statuses) != 2 || statuses[1] != "Completed" {
		t.Fatalf("batch events %v, want two (created, completed), the last Completed", statuses)
	}
	if calls, _, _ := bobHook.snapshot(); len(calls) != 0 {
		t.Fatalf("bob got %d batch events of alice's batch", len(calls))
	}
	newIDs := 0
	calls, _, _ = store.snapshot()
	for _, c := range calls {
		for _, ch := range c.env["body"].(map[string]any)["changes"].([]any) {
			newIDs += len(ch.(map[string]any)["newMessageIds"].([]any))
		}
	}
	if newIDs != 2 {
		t.Fatalf("message-store events name %d new messages, want the batch's 2", newIDs)
	}
	isync := e.expect(e.request("GET", "/restapi/v1.0/account/~/extension/~/message-sync?syncType=ISync&syncToken="+
		url.QueryEscape(fsync["syncInfo"].(map[string]any)["syncToken"].(string)), tok, nil), 200).object(t)
	for _, r := range isync["records"].([]any) {
		if r.(map[string]any)["availability"] != "Alive" {
			t.Fatalf("ISync shows %v: a batch row read as a message", r)
		}
	}
	if n := len(isync["records"].([]any)); n != 2 {
		t.Fatalf("ISync: %d records, want the batch's 2 messages", n)
	}
}
