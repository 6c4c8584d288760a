package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/auth"
	"github.com/switchboardhq/switchboard/internal/httpapi"
)

type wsClient struct {
	t *testing.T
	c *websocket.Conn
}

func (e *testEnv) dialWS(token, wsc string) *wsClient {
	e.t.Helper()
	tok := e.expect(e.request("POST", "/restapi/oauth/wstoken", token, nil), 200).object(e.t)
	if tok["expires_in"] != 600.0 || tok["ws_access_token"] == "" {
		e.t.Fatalf("wstoken %v", tok)
	}
	u := tok["uri"].(string) + "?access_token=" + tok["ws_access_token"].(string)
	if wsc != "" {
		u += "&wsc=" + wsc
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, u, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { c.CloseNow() })
	return &wsClient{t: e.t.(*testing.T), c: c}
}

func (w *wsClient) send(frame ...any) {
	w.t.Helper()
	b, _ := json.Marshal(frame)
	if err := w.c.Write(context.Background(), websocket.MessageText, b); err != nil {
		w.t.Fatal(err)
	}
}

func (w *wsClient) read() (meta, body map[string]any) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, data, err := w.c.Read(ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	var frame []map[string]any
	if err := json.Unmarshal(data, &frame); err != nil || len(frame) == 0 {
		w.t.Fatalf("frame %s: %v", data, err)
	}
	if len(frame) > 1 {
		body = frame[1]
	}
	return frame[0], body
}

func TestWebSocketSubscription(t *testing.T) {
	e := newTestEnv(t)
	alice := e.token(e.alice)
	ws := e.dialWS(alice, "")
	meta, details := ws.read()
	wsc := meta["wsc"].(map[string]any)
	if meta["type"] != "ConnectionDetails" || meta["status"] != 200.0 || wsc["sequence"] != 1.0 || details["recoveryTimeout"] == nil {
		t.Fatalf("first frame %v %v", meta, details)
	}
	if _, ok := details["recoveryState"]; ok {
		t.Fatal("recoveryState on a fresh connection")
	}
	session := wsc["token"].(string)

	ws.send(map[string]any{"type": "ClientRequest", "messageId": "req-1", "method": "POST", "path": "/restapi/v1.0/subscription"},
		map[string]any{"deliveryMode": map[string]any{"transportType": "WebSocket"},
			"eventFilters": []string{"/restapi/v1.0/account/~/extension/~/message-store/instant?type=SMS"}})
	meta, sub := ws.read()
	if meta["type"] != "ClientRequest" || meta["messageId"] != "req-1" || meta["status"] != 200.0 ||
		sub["deliveryMode"].(map[string]any)["transportType"] != "WebSocket" || sub["status"] != "Active" {
		t.Fatalf("subscribe reply %v %v", meta, sub)
	}
	id := sub["id"].(string)

	ws.send(map[string]any{"type": "Heartbeat", "messageId": "hb-1"})
	if meta, _ := ws.read(); meta["type"] != "Heartbeat" || meta["messageId"] != "hb-1" {
		t.Fatalf("heartbeat reply %v", meta)
	}

	e.inboundSMS(e.alice, "over the socket")
	if n := e.dispatch(); n != 1 {
		t.Fatalf("dispatched %d", n)
	}
	meta, note := ws.read()
	if meta["type"] != "ServerNotification" || note["subscriptionId"] != id || note["body"].(map[string]any)["subject"] != "over the socket" ||
		meta["wsc"].(map[string]any)["sequence"].(float64) <= wsc["sequence"].(float64) {
		t.Fatalf("notification %v %v", meta, note)
	}

	// The subscription shows in the HTTP list; over HTTP it cannot be changed.
	if l := e.expect(e.request("GET", "/restapi/v1.0/subscription", alice, nil), 200).object(t); len(l["records"].([]any)) != 1 {
		t.Fatalf("list %v", l)
	}
	r := e.expect(e.request("PUT", "/restapi/v1.0/subscription/"+id, alice, map[string]any{"eventFilters": []string{"/restapi/v1.0/account/~/extension/~/message-store"}}), 400)
	errorOf(t, r)

	// The client drops; what arrives meanwhile is delivered after it
	// recovers the session with its wsc token.
	if err := ws.c.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the server notices the close
	e.inboundSMS(e.alice, "while away")
	if n := e.dispatch(); n != 0 {
		t.Fatalf("delivered %d events to a closed socket", n)
	}
	back := e.dialWS(alice, session)
	meta, details = back.read()
	if meta["type"] != "ConnectionDetails" || details["recoveryState"] != "Successful" || meta["wsc"].(map[string]any)["token"] != session {
		t.Fatalf("recovery %v %v", meta, details)
	}
	// The recovered subscriptions are attached right after ConnectionDetails
	// is written, which the client may read first.
	for deadline := time.Now().Add(5 * time.Second); e.dispatch() == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("nothing delivered to the recovered session")
		}
	}
	if meta, note := back.read(); meta["type"] != "ServerNotification" || note["body"].(map[string]any)["subject"] != "while away" {
		t.Fatalf("after recovery %v %v", meta, note)
	}

	// DELETE over the socket; unknown paths answer an error.
	back.send(map[string]any{"type": "ClientRequest", "messageId": "req-2", "method": "DELETE", "path": "/restapi/v1.0/subscription/" + id})
	if meta, _ := back.read(); meta["status"] != 204.0 || meta["messageId"] != "req-2" {
		t.Fatalf("delete reply %v", meta)
	}
	back.send(map[string]any{"type": "ClientRequest", "messageId": "req-3", "method": "GET", "path": "/restapi/v1.0/no-such-thing"})
	if meta, body := back.read(); meta["status"] != 404.0 || body["errorCode"] != "CMN-120" {
		t.Fatalf("unknown path reply %v %v", meta, body)
	}
	back.send(map[string]any{"type": "ClientRequest", "messageId": "req-4", "method": "POST", "path": "/restapi/oauth/token"})
	if meta, body := back.read(); meta["status"] != 404.0 || body["errorCode"] == nil {
		t.Fatalf("OAuth over the socket %v %v", meta, body)
	}

	// Another extension cannot recover alice's session.
	bobWS := e.dialWS(e.token(e.bob), session)
	if _, details := bobWS.read(); details["recoveryState"] != "Failed" {
		t.Fatalf("bob recovered alice's session: %v", details)
	}
	// A bad token gets an Error frame.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+e.srv.URL[len("http"):]+"/ws?access_token=nope", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	bad := &wsClient{t: t, c: c}
	if meta, body := bad.read(); meta["type"] != "Error" || meta["status"] != 401.0 || body["errorCode"] != "OAU-129" {
		t.Fatalf("bad token: %v %v", meta, body)
	}
}

// TestWebSocketCachedSubscription: a client that reuses a cached
// subscription on a new connection (rc-ex's subscribe with cache sends
// PUT) gets its events there.
func TestWebSocketCachedSubscription(t *testing.T) {
	e := newTestEnv(t)
	alice := e.token(e.alice)
	filters := []string{"/restapi/v1.0/account/~/extension/~/message-store/instant?type=SMS"}
	first := e.dialWS(alice, "")
	first.read()
	first.send(map[string]any{"type": "ClientRequest", "messageId": "c1", "method": "POST", "path": "/restapi/v1.0/subscription/"},
		map[string]any{"deliveryMode": map[string]any{"transportType": "WebSocket"}, "eventFilters": filters})
	_, sub := first.read()
	id := sub["id"].(string)

	second := e.dialWS(alice, "")
	meta, _ := second.read()
	session := meta["wsc"].(map[string]any)["token"].(string)
	second.send(map[string]any{"type": "ClientRequest", "messageId": "c2", "method": "PUT", "path": "/restapi/v1.0/subscription/" + id},
		map[string]any{"deliveryMode": map[string]any{"transportType": "WebSocket"}, "eventFilters": filters})
	if meta, body := second.read(); meta["status"] != 200.0 || body["id"] != id {
		t.Fatalf("PUT over a new connection: %v %v", meta, body)
	}
	first.c.Close(websocket.StatusNormalClosure, "")
	e.inboundSMS(e.alice, "on the new connection")
	for deadline := time.Now().Add(5 * time.Second); e.dispatch() == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("nothing delivered to the new connection")
		}
	}
	if meta, note := second.read(); meta["type"] != "ServerNotification" || note["subscriptionId"] != id {
		t.Fatalf("notification %v %v", meta, note)
	}
	// The subscription belongs to the new session now: it recovers it.
	second.c.Close(websocket.StatusNormalClosure, "")
	third := e.dialWS(alice, session)
	if _, details := third.read(); details["recoveryState"] != "Successful" {
		t.Fatalf("recovery of the new session: %v", details)
	}
}

// The timeouts announced in ConnectionDetails hold: heartbeats keep a
// socket open past the idle timeout, silence closes it, and no socket
// outlives the absolute timeout.
func TestWebSocketTimeouts(t *testing.T) {
	e := newTestEnvConfig(t, httpapi.Config{WebSocketIdleTimeout: time.Second, WebSocketAbsoluteTimeout: 3 * time.Second})
	alice := e.token(e.alice)
	closedWithin := func(ws *wsClient, max time.Duration) bool {
		ctx, cancel := context.WithTimeout(context.Background(), max)
		defer cancel()
		for {
			if _, _, err := ws.c.Read(ctx); err != nil {
				return ctx.Err() == nil // closed by the server, not by our wait
			}
		}
	}

	ws := e.dialWS(alice, "")
	_, details := ws.read()
	if details["idleTimeout"] != 1.0 || details["absoluteTimeout"] != 3.0 {
		t.Fatalf("announced idle %v, absolute %v (seconds)", details["idleTimeout"], details["absoluteTimeout"])
	}
	// Heartbeats every 200 ms carry it past two idle timeouts...
	start := time.Now()
	for i := 0; time.Since(start) < 2*time.Second; i++ {
		ws.send(map[string]any{"type": "Heartbeat", "messageId": fmt.Sprint("hb-", i)})
		if meta, _ := ws.read(); meta["type"] != "Heartbeat" {
			t.Fatalf("heartbeat answer %v", meta)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// ...but not past the absolute timeout.
	if !closedWithin(ws, 3*time.Second) {
		t.Fatal("a socket with heartbeats outlived the absolute timeout")
	}

	silent := e.dialWS(alice, "")
	silent.read() // ConnectionDetails
	if !closedWithin(silent, 2500*time.Millisecond) {
		t.Fatal("a silent socket outlived the idle timeout")
	}
}

// A WebHook subscription renewed over a socket is renewed, and stays a
// WebHook with no session: only WebSocket subscriptions move to a socket.
func TestWebSocketRenewsWebHookSubscription(t *testing.T) {
	e := newTestEnv(t)
	alice := e.token(e.alice)
	hook := newHookReceiver(t)
	sub := e.expect(e.request("POST", "/restapi/v1.0/subscription", alice, webhookBody(hook.srv.URL,
		"/restapi/v1.0/account/~/extension/~/message-store")), 200).object(t)
	ws := e.dialWS(alice, "")
	ws.read() // ConnectionDetails
	ws.send(map[string]any{"type": "ClientRequest", "messageId": "put-1", "method": "PUT", "path": "/restapi/v1.0/subscription/" + sub["id"].(string)},
		map[string]any{})
	meta, body := ws.read()
	if meta["status"] != 200.0 || body["id"] != sub["id"] || body["deliveryMode"].(map[string]any)["transportType"] != "WebHook" {
		t.Fatalf("renewal over the socket: %v %v", meta, body)
	}
}

// TestRestOverWebSocket: any REST call can be made over the socket
// (@rc-ex/ws restOverWebSocket) and is served by the same handlers, with
// the socket's principal and the same permissions and tenancy.
func TestRestOverWebSocket(t *testing.T) {
	e := newTestEnv(t)
	bob := e.token(e.bob)
	e.importMessages(e.bob, sms("Inbound", "+15550000001", "+16505550102", "listed over ws", baseTime.Add(-time.Minute)))
	aliceMsg := e.importMessages(e.alice, sms("Inbound", "+15550000001", "+16505550101", "alice's", baseTime.Add(-time.Minute)))[0]
	ws := e.dialWS(bob, "")
	ws.read() // ConnectionDetails
	call := func(id, method, path string, query, body any) (map[string]any, map[string]any) {
		t.Helper()
		frame := []any{map[string]any{"type": "ClientRequest", "messageId": id, "method": method, "path": path,
			"headers": map[string]any{"X-User-Agent": "test", "Authorization": "Bearer ignored"}, "query": query}}
		if body != nil {
			frame = append(frame, body)
		}
		ws.send(frame...)
		meta, out := ws.read()
		if meta["messageId"] != id || meta["type"] != "ClientRequest" {
			t.Fatalf("%s %s: reply %v", method, path, meta)
		}
		return meta, out
	}

	meta, ext := call("1", "GET", "/restapi/v1.0/account/~/extension/~", nil, nil)
	headers, _ := meta["headers"].(map[string]any)
	if meta["status"] != 200.0 || ext["extensionNumber"] != "102" || !strings.HasPrefix(fmt.Sprint(headers["Content-Type"]), "application/json") || headers["RCRequestId"] == nil {
		t.Fatalf("extension over ws: %v %v", meta, ext)
	}
	meta, list := call("2", "GET", "/restapi/v1.0/account/~/extension/~/message-store", map[string]any{"messageType": []string{"SMS"}, "perPage": 10}, nil)
	recs, _ := list["records"].([]any)
	if meta["status"] != 200.0 || len(recs) != 1 || recs[0].(map[string]any)["subject"] != "listed over ws" {
		t.Fatalf("list over ws: %v %v", meta, list)
	}
	meta, sent := call("3", "POST", "/restapi/v1.0/account/~/extension/~/sms", nil, smsBody("+16505550102", "sent over ws", "+16505550101"))
	if meta["status"] != 200.0 || sent["messageStatus"] != "Queued" || sent["subject"] != "sent over ws" {
		t.Fatalf("send over ws: %v %v", meta, sent)
	}
	// A query written in the path counts too.
	meta, list = call("2b", "GET", "/restapi/v1.0/account/~/extension/~/message-store?messageType=Fax", nil, nil)
	if recs, _ := list["records"].([]any); meta["status"] != 200.0 || len(recs) != 0 {
		t.Fatalf("list with the query in the path: %v %v", meta, list)
	}
	// Bad input is the same 400 as over HTTP.
	meta, bad := call("4", "GET", "/restapi/v1.0/account/~/extension/~/message-store", map[string]any{"messageType": "Email"}, nil)
	if meta["status"] != 400.0 || bad["errorCode"] != "CMN-101" {
		t.Fatalf("bad query over ws: %v %v", meta, bad)
	}
	// Tenancy: another extension's mailbox and another account stay closed.
	meta, _ = call("5", "GET", fmt.Sprintf("/restapi/v1.0/account/~/extension/%d/message-store/%d", e.alice.ID, int64(idOf(aliceMsg))), nil, nil)
	if meta["status"] != 403.0 {
		t.Fatalf("alice's message over bob's socket: %v", meta)
	}
	meta, _ = call("6", "GET", fmt.Sprintf("/restapi/v1.0/account/%d", e.acc2.ID), nil, nil)
	if meta["status"] != 404.0 {
		t.Fatalf("another account over the socket: %v", meta)
	}
	// The app's permissions hold: an app without SMS cannot send over the socket either.
	must(t, e.store.CreateApp(context.Background(), &switchboard.App{ClientID: "read-only", SecretHash: auth.HashSecret("ro-secret"), Name: "read only",
		Scopes: []string{switchboard.ScopeReadMessages, switchboard.ScopeWebSocketSubscription}, Status: switchboard.StatusEnabled}))
	e.clientID, e.clientSecret = "read-only", "ro-secret"
	limited := e.dialWS(e.token(e.bob), "")
	limited.read()
	limited.send(map[string]any{"type": "ClientRequest", "messageId": "7", "method": "POST", "path": "/restapi/v1.0/account/~/extension/~/sms"},
		smsBody("+16505550102", "no permission", "+16505550101"))
	if meta, body := limited.read(); meta["status"] != 403.0 || body["errorCode"] != "CMN-401" {
		t.Fatalf("send without the SMS permission over ws: %v %v", meta, body)
	}
}
