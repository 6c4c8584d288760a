package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/httpapi"
	"github.com/switchboardhq/switchboard/internal/push"
)

// hookReceiver is a real WebHook receiver on loopback.
type hookReceiver struct {
	t   testing.TB
	srv *httptest.Server

	mu          sync.Mutex
	echo        bool // answer the validation request correctly
	status      int  // answer to notifications
	validations int
	calls       []hookCall // notifications, in arrival order
	failed      int        // notifications answered with a non-2xx
}

type hookCall struct {
	header http.Header
	env    map[string]any
}

func newHookReceiver(t testing.TB) *hookReceiver {
	h := &hookReceiver{t: t, echo: true, status: http.StatusOK}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		defer h.mu.Unlock()
		if v := r.Header.Get("Validation-Token"); v != "" {
			h.validations++
			if h.echo {
				w.Header().Set("Validation-Token", v)
			}
			w.WriteHeader(http.StatusOK)
			return
		}
		if h.status/100 != 2 {
			h.failed++
			w.WriteHeader(h.status)
			return
		}
		var env map[string]any
		if err := json.Unmarshal(body, &env); err != nil {
			t.Errorf("notification is not JSON: %v\n%s", err, body)
		}
		h.calls = append(h.calls, hookCall{header: r.Header.Clone(), env: env})
		w.WriteHeader(h.status)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookReceiver) set(echo bool, status int) {
	h.mu.Lock()
	h.echo, h.status = echo, status
	h.mu.Unlock()
}

func (h *hookReceiver) snapshot() (calls []hookCall, failed, validations int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookCall(nil), h.calls...), h.failed, h.validations
}

func webhookBody(address string, filters ...string) map[string]any {
	return map[string]any{"eventFilters": filters,
		"deliveryMode": map[string]any{"transportType": "WebHook", "address": address, "verificationToken": "secret-vt"}}
}

// dispatch runs the dispatcher once and returns how many events went out.
func (e *testEnv) dispatch() int {
	e.t.Helper()
	n, err := e.push.RunOnce(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *testEnv) inboundSMS(ext *switchboard.Extension, text string) int64 {
	e.t.Helper()
	recs := e.importMessages(ext, sms("Inbound", "+15550001111", "+16505550101", text, e.clock.Now()))
	return int64(recs[0]["id"].(float64))
}

func TestWebHookSubscriptionLifecycle(t *testing.T) {
	e := newTestEnv(t)
	alice := e.token(e.alice)
	hook := newHookReceiver(t)

	sub := e.expect(e.request("POST", "/restapi/v1.0/subscription", alice, webhookBody(hook.srv.URL+"/hook",
		"/restapi/v1.0/account/~/extension/~/message-store", "/restapi/v1.0/account/~/extension/~/message-store/instant?type=SMS")), 200).object(t)
	if _, _, v := hook.snapshot(); v != 1 {
		t.Fatalf("validation requests: %d", v)
	}
	id := sub["id"].(string)
	wantFilters := []any{mailboxPath(e.alice), mailboxPath(e.alice) + "/instant?type=SMS"}
	if sub["status"] != "Active" || fmt.Sprint(sub["eventFilters"]) != fmt.Sprint(wantFilters) || sub["expiresIn"] != 604800.0 ||
		sub["deliveryMode"].(map[string]any)["address"] != hook.srv.URL+"/hook" || len(id) != 36 {
		t.Fatalf("created %v", sub)
	}
	if _, ok := sub["deliveryMode"].(map[string]any)["verificationToken"]; ok {
		t.Fatal("the verification token is echoed back")
	}

	// A message arrives: one MessageEvent and one InstantMessageEvent.
	msgID := e.inboundSMS(e.alice, "hello hook")
	if n := e.dispatch(); n != 2 {
		t.Fatalf("dispatched %d events, want 2", n)
	}
	calls, _, _ := hook.snapshot()
	if len(calls) != 2 {
		t.Fatalf("receiver got %d notifications", len(calls))
	}
	for _, c := range calls {
		if c.header.Get("Verification-Token") != "secret-vt" || !strings.HasPrefix(c.header.Get("Content-Type"), "application/json") {
			t.Fatalf("headers %v", c.header)
		}
		if c.env["subscriptionId"] != id || c.env["ownerId"] != strconv.FormatInt(e.alice.ID, 10) || len(c.env["uuid"].(string)) != 36 || c.env["timestamp"] == "" {
			t.Fatalf("envelope %v", c.env)
		}
	}
	store := calls[0].env
	if store["event"] != mailboxPath(e.alice) {
		t.Fatalf("first event %v", store["event"])
	}
	change := store["body"].(map[string]any)["changes"].([]any)[0].(map[string]any)
	if change["type"] != "SMS" || change["newCount"] != 1.0 || change["updatedCount"] != 0.0 || fmt.Sprint(change["newMessageIds"]) != fmt.Sprint([]any{float64(msgID)}) {
		t.Fatalf("message event body %v", store["body"])
	}
	instant := calls[1].env
	if instant["event"] != mailboxPath(e.alice)+"/instant?type=SMS" || instant["body"].(map[string]any)["subject"] != "hello hook" ||
		instant["body"].(map[string]any)["id"] != float64(msgID) || instant["body"].(map[string]any)["direction"] != "Inbound" {
		t.Fatalf("instant event %v", instant)
	}
	if e.dispatch() != 0 {
		t.Fatal("events delivered twice")
	}
	// An update is a MessageEvent with updatedCount, and no instant event.
	e.expect(e.request("PUT", mailboxPath(e.alice)+"/"+strconv.FormatInt(msgID, 10), alice, map[string]any{"readStatus": "Read"}), 200)
	if n := e.dispatch(); n != 1 {
		t.Fatalf("update: %d events", n)
	}
	calls, _, _ = hook.snapshot()
	if ch := calls[2].env["body"].(map[string]any)["changes"].([]any)[0].(map[string]any); ch["updatedCount"] != 1.0 || ch["newCount"] != 0.0 {
		t.Fatalf("update event %v", calls[2].env)
	}

	// GET, list, PUT (filters), renew, DELETE.
	e.expect(e.request("GET", "/restapi/v1.0/subscription/"+id, alice, nil), 200)
	list := e.expect(e.request("GET", "/restapi/v1.0/subscription", alice, nil), 200).object(t)
	if len(list["records"].([]any)) != 1 {
		t.Fatalf("list %v", list)
	}
	e.clock.Advance(time.Hour)
	alice = e.token(e.alice)
	up := e.expect(e.request("PUT", "/restapi/v1.0/subscription/"+id, alice, map[string]any{
		"eventFilters": []string{"/restapi/v1.0/account/~/extension/~/message-store?type=Fax"}, "expiresIn": 3600}), 200).object(t)
	if fmt.Sprint(up["eventFilters"]) != fmt.Sprint([]any{mailboxPath(e.alice) + "?type=Fax"}) || up["expiresIn"] != 3600.0 {
		t.Fatalf("updated %v", up)
	}
	e.inboundSMS(e.alice, "not a fax")
	if n := e.dispatch(); n != 0 {
		t.Fatalf("an SMS reached a Fax-only filter (%d events)", n)
	}
	e.clock.Advance(30 * time.Minute)
	alice = e.token(e.alice)
	// A renewal keeps the subscription's own lifetime (the PUT's 3600), not
	// the default; so does a PUT of filters alone.
	renewed := e.expect(e.request("POST", "/restapi/v1.0/subscription/"+id+"/renew", alice, nil), 200).object(t)
	if renewed["expiresIn"] != 3600.0 {
		t.Fatalf("renew: %v", renewed)
	}
	up = e.expect(e.request("PUT", "/restapi/v1.0/subscription/"+id, alice, map[string]any{
		"eventFilters": []string{"/restapi/v1.0/account/~/extension/~/message-store"}}), 200).object(t)
	if up["expiresIn"] != 3600.0 {
		t.Fatalf("PUT without expiresIn: %v", up)
	}
	day := webhookBody(hook.srv.URL+"/hook", "/restapi/v1.0/account/~/extension/~/message-store")
	day["expiresIn"] = 86400
	daySub := e.expect(e.request("POST", "/restapi/v1.0/subscription", alice, day), 200).object(t)
	e.clock.Advance(10 * time.Minute)
	if r := e.expect(e.request("POST", "/restapi/v1.0/subscription/"+daySub["id"].(string)+"/renew", alice, nil), 200).object(t); r["expiresIn"] != 86400.0 {
		t.Fatalf("renew of a one-day subscription: %v", r)
	}
	e.expect(e.request("DELETE", "/restapi/v1.0/subscription/"+daySub["id"].(string), alice, nil), 204)
	// Bob sees nothing of it.
	bob := e.token(e.bob)
	e.expect(e.request("GET", "/restapi/v1.0/subscription/"+id, bob, nil), 404)
	e.expect(e.request("DELETE", "/restapi/v1.0/subscription/"+id, bob, nil), 404)
	if l := e.expect(e.request("GET", "/restapi/v1.0/subscription", bob, nil), 200).object(t); len(l["records"].([]any)) != 0 {
		t.Fatalf("bob lists %v", l)
	}
	e.expect(e.request("DELETE", "/restapi/v1.0/subscription/"+id, alice, nil), 204)
	e.expect(e.request("GET", "/restapi/v1.0/subscription/"+id, alice, nil), 404)
}

// checkWebHookInvalid: a failed handshake is SUB-525 with one message
// whatever the address answered (a refused port, a 500, a missing echo),
// so the server cannot be used to scan the networks it reaches.
func checkWebHookInvalid(t *testing.T, name string, r *response) {
	t.Helper()
	if code, _ := errorOf(t, r); code != switchboard.CodeWebHookInvalid {
		t.Fatalf("%s: %s", name, r.body)
	}
	var body struct{ Message string }
	r.json(t, &body)
	if want := "WebHook server response is invalid: the address is not reachable or did not complete the validation request"; body.Message != want {
		t.Fatalf("%s: the message tells more than \"not reachable\": %q", name, body.Message)
	}
}

func TestWebHookValidationFails(t *testing.T) {
	e := newTestEnv(t)
	alice := e.token(e.alice)
	hook := newHookReceiver(t)
	filter := "/restapi/v1.0/account/~/extension/~/message-store"
	for _, tc := range []struct {
		name    string
		echo    bool
		status  int
		address string
	}{
		{"no echo", false, 200, hook.srv.URL},
		{"unreachable", true, 200, "http://127.0.0.1:1/hook"},
	} {
		hook.set(tc.echo, tc.status)
		r := e.expect(e.request("POST", "/restapi/v1.0/subscription", alice, webhookBody(tc.address, filter)), 400)
		checkWebHookInvalid(t, tc.name, r)
	}
	// A receiver answering an error to the validation request.
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Validation-Token", r.Header.Get("Validation-Token"))
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer bad.Close()
	r := e.expect(e.request("POST", "/restapi/v1.0/subscription", alice, webhookBody(bad.URL, filter)), 400)
	checkWebHookInvalid(t, "500 validation", r)
	// Bad input never calls anyone.
	_, _, before := hook.snapshot()
	for name, body := range map[string]any{
		"no filters":     map[string]any{"deliveryMode": map[string]any{"transportType": "WebHook", "address": hook.srv.URL}},
		"bad filter":     webhookBody(hook.srv.URL, "/restapi/v1.0/account/~/presence"),
		"bad address":    webhookBody("ftp://example.com/x", filter),
		"no transport":   map[string]any{"eventFilters": []string{filter}},
		"PubNub":         map[string]any{"eventFilters": []string{filter}, "deliveryMode": map[string]any{"transportType": "PubNub"}},
		"ws over HTTP":   map[string]any{"eventFilters": []string{filter}, "deliveryMode": map[string]any{"transportType": "WebSocket"}},
		"expiresIn zero": map[string]any{"eventFilters": []string{filter}, "expiresIn": 0, "deliveryMode": map[string]any{"transportType": "WebHook", "address": hook.srv.URL}},
		"not JSON":       "{",
	} {
		if r := e.request("POST", "/restapi/v1.0/subscription", alice, body); r.StatusCode != 400 {
			t.Errorf("%s: status %d %s", name, r.StatusCode, r.body)
		} else {
			errorOf(t, r)
		}
	}
	if _, _, after := hook.snapshot(); after != before {
		t.Fatalf("invalid requests called the receiver %d times", after-before)
	}
}

func TestSubscriptionTenancy(t *testing.T) {
	e := newTestEnv(t)
	hook := newHookReceiver(t)
	bob, alice, carol := e.token(e.bob), e.token(e.alice), e.token(e.carol)
	for _, tc := range []struct {
		name   string
		token  string
		filter string
		status int
		code   string
	}{
		{"user for another extension", bob, mailboxPath(e.alice), 403, switchboard.CodeSubscriptionDenied},
		{"user for another extension by ~ account", bob, fmt.Sprintf("/restapi/v1.0/account/~/extension/%d/message-store/instant?type=SMS", e.alice.ID), 403, switchboard.CodeSubscriptionDenied},
		{"admin for another account", carol, mailboxPath(e.alice), 403, switchboard.CodeSubscriptionDenied},
		{"admin for a missing extension", alice, fmt.Sprintf("/restapi/v1.0/account/~/extension/%d/message-store", e.carol.ID+1000), 400, switchboard.CodeInvalidEventFilter},
		{"admin for an extension of another account", alice, mailboxPath(e.carol), 403, switchboard.CodeSubscriptionDenied},
		{"unknown event", bob, "/restapi/v1.0/account/~/extension/~/presence", 400, switchboard.CodeInvalidEventFilter},
		{"instant without type", bob, "/restapi/v1.0/account/~/extension/~/message-store/instant", 400, switchboard.CodeInvalidEventFilter},
	} {
		r := e.expect(e.request("POST", "/restapi/v1.0/subscription", tc.token, webhookBody(hook.srv.URL, tc.filter)), tc.status)
		if code, _ := errorOf(t, r); code != tc.code {
			t.Errorf("%s: code %s, want %s", tc.name, code, tc.code)
		}
	}
	// The account administrator may watch a user of its account.
	sub := e.expect(e.request("POST", "/restapi/v1.0/subscription", alice, webhookBody(hook.srv.URL, mailboxPath(e.bob))), 200).object(t)
	e.inboundSMS(e.bob, "for bob")
	e.inboundSMS(e.carol, "other account")
	if n := e.dispatch(); n != 1 {
		t.Fatalf("admin subscription: %d events", n)
	}
	calls, _, _ := hook.snapshot()
	if calls[0].env["event"] != mailboxPath(e.bob) || calls[0].env["subscriptionId"] != sub["id"] {
		t.Fatalf("event %v", calls[0].env)
	}
}

// TestWebHookRetriesAndBlacklist: a failing receiver is retried with
// exponential backoff, nothing is lost meanwhile, and one that stays down
// past the suspension period is Blacklisted.
func TestWebHookRetriesAndBlacklist(t *testing.T) {
	e := newTestEnv(t)
	alice := e.token(e.alice)
	hook := newHookReceiver(t)
	sub := e.expect(e.request("POST", "/restapi/v1.0/subscription", alice, webhookBody(hook.srv.URL,
		"/restapi/v1.0/account/~/extension/~/message-store/instant?type=SMS")), 200).object(t)
	id := sub["id"].(string)

	hook.set(true, http.StatusServiceUnavailable)
	var want []float64
	for i := range 3 {
		want = append(want, float64(e.inboundSMS(e.alice, fmt.Sprint("m", i))))
	}
	// Attempts at 0 s, then after 2 s, 4 s, 8 s: nothing before each is due.
	for attempt, wait := range []time.Duration{0, 2 * time.Second, 4 * time.Second, 8 * time.Second} {
		if wait > 0 {
			e.clock.Advance(wait - time.Millisecond)
			e.dispatch()
			if _, failed, _ := hook.snapshot(); failed != attempt {
				t.Fatalf("attempt %d came before its backoff ran out (%d failures)", attempt+1, failed)
			}
			e.clock.Advance(time.Millisecond)
		}
		e.dispatch()
		if _, failed, _ := hook.snapshot(); failed != attempt+1 {
			t.Fatalf("after attempt %d: %d failures", attempt+1, failed)
		}
	}
	// The receiver is back: every event arrives, in order.
	hook.set(true, http.StatusOK)
	e.clock.Advance(16 * time.Second)
	if n := e.dispatch(); n != 3 {
		t.Fatalf("after recovery: %d events", n)
	}
	calls, _, _ := hook.snapshot()
	var got []float64
	for _, c := range calls {
		got = append(got, c.env["body"].(map[string]any)["id"].(float64))
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("delivered %v, want %v", got, want)
	}

	// Down for longer than the suspension period (1 h in tests).
	hook.set(true, http.StatusInternalServerError)
	e.inboundSMS(e.alice, "lost cause")
	e.dispatch()
	for range 12 {
		e.clock.Advance(10 * time.Minute)
		e.dispatch()
	}
	alice = e.token(e.alice)
	info := e.expect(e.request("GET", "/restapi/v1.0/subscription/"+id, alice, nil), 200).object(t)
	if info["status"] != "Blacklisted" || info["blacklistedData"].(map[string]any)["reason"] != "HTTP 500" {
		t.Fatalf("after the suspension period: %v", info)
	}
	_, failed, _ := hook.snapshot()
	hook.set(true, http.StatusOK)
	e.clock.Advance(time.Hour)
	e.dispatch()
	if calls2, failed2, _ := hook.snapshot(); len(calls2) != len(calls) || failed2 != failed {
		t.Fatal("a Blacklisted subscription was called")
	}
}

func TestSubscriptionExpiry(t *testing.T) {
	e := newTestEnv(t)
	alice := e.token(e.alice)
	hook := newHookReceiver(t)
	body := webhookBody(hook.srv.URL, "/restapi/v1.0/account/~/extension/~/message-store")
	body["expiresIn"] = 60
	sub := e.expect(e.request("POST", "/restapi/v1.0/subscription", alice, body), 200).object(t)
	if sub["expiresIn"] != 60.0 {
		t.Fatalf("created %v", sub)
	}
	e.clock.Advance(61 * time.Second)
	e.inboundSMS(e.alice, "too late")
	if n := e.dispatch(); n != 0 {
		t.Fatalf("an expired subscription got %d events", n)
	}
	e.expect(e.request("GET", "/restapi/v1.0/subscription/"+sub["id"].(string), alice, nil), 404)
	e.expect(e.request("POST", "/restapi/v1.0/subscription/"+sub["id"].(string)+"/renew", alice, nil), 404)
}

// TestWebHookAddressGuard: with private targets refused (production), a
// loopback receiver is refused at creation, by IP or by a name that
// resolves to it.
func TestWebHookAddressGuard(t *testing.T) {
	e := newTestEnv(t)
	hook := newHookReceiver(t)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	strict := push.New(e.store, e.clock, logger, push.Config{Owner: "strict", AllowPrivateTargets: false})
	srv := httptest.NewServer(httpapi.New(httpapi.Deps{Store: e.store, Auth: e.auth, Clock: e.clock, Logger: logger, Push: strict}, httpapi.Config{}))
	defer srv.Close()
	alice := e.token(e.alice)
	port := hook.srv.URL[strings.LastIndex(hook.srv.URL, ":"):]
	for _, address := range []string{hook.srv.URL, "http://localhost" + port + "/hook", "http://[::1]" + port} {
		r := e.request("POST", srv.URL+"/restapi/v1.0/subscription", alice, webhookBody(address, "/restapi/v1.0/account/~/extension/~/message-store"))
		if code, _ := errorOf(t, r); r.StatusCode != 400 || code != switchboard.CodeWebHookAddressDenied {
			t.Fatalf("%s: %d %s", address, r.StatusCode, r.body)
		}
	}
	if _, _, v := hook.snapshot(); v != 0 {
		t.Fatalf("the guarded server called loopback %d times", v)
	}
	// The development default (the test env) allows it.
	e.expect(e.request("POST", "/restapi/v1.0/subscription", alice, webhookBody(hook.srv.URL, "/restapi/v1.0/account/~/extension/~/message-store")), 200)
}

func TestSubscriptionLimit(t *testing.T) {
	e := newTestEnv(t)
	bob := e.token(e.bob)
	hook := newHookReceiver(t)
	for range switchboard.MaxSubscriptions {
		e.expect(e.request("POST", "/restapi/v1.0/subscription", bob, webhookBody(hook.srv.URL, "/restapi/v1.0/account/~/extension/~/message-store")), 200)
	}
	r := e.expect(e.request("POST", "/restapi/v1.0/subscription", bob, webhookBody(hook.srv.URL, "/restapi/v1.0/account/~/extension/~/message-store")), 403)
	if code, _ := errorOf(t, r); code != switchboard.CodeSubscriptionLimit {
		t.Fatalf("31st: %s", r.body)
	}
}

// TestFaxAndVoicemailEvents: the inbound fax and voicemail filters carry
// the new message; a message-store filter narrowed by type counts only
// its type (RingCentral spells VoiceMail "Voicemail" in changes[]).
func TestFaxAndVoicemailEvents(t *testing.T) {
	e := newTestEnv(t)
	alice := e.token(e.alice)
	hook := newHookReceiver(t)
	e.expect(e.request("POST", "/restapi/v1.0/subscription", alice, webhookBody(hook.srv.URL,
		"/restapi/v1.0/account/~/extension/~/fax?direction=Inbound", "/restapi/v1.0/account/~/extension/~/voicemail",
		"/restapi/v1.0/account/~/extension/~/message-store?type=Voicemail")), 200)
	to := []map[string]string{{"phoneNumber": "+16505550101"}}
	recs := e.importMessages(e.alice,
		msg{"type": "Fax", "direction": "Inbound", "from": map[string]string{"phoneNumber": "+15550000003"}, "to": to, "faxPageCount": 2},
		msg{"type": "VoiceMail", "direction": "Inbound", "from": map[string]string{"phoneNumber": "+15550000001"}, "to": to},
		msg{"type": "Fax", "direction": "Outbound", "from": map[string]string{"phoneNumber": "+16505550101"}, "to": []map[string]string{{"phoneNumber": "+15550000003"}}},
		sms("Inbound", "+15550000001", "+16505550101", "not for these filters", e.clock.Now()))
	if n := e.dispatch(); n != 3 {
		t.Fatalf("%d events, want 3 (fax, voicemail, its message event)", n)
	}
	calls, _, _ := hook.snapshot()
	got := map[string]map[string]any{}
	for _, c := range calls {
		got[c.env["event"].(string)] = c.env["body"].(map[string]any)
	}
	base := mailboxPath(e.alice)[:len(mailboxPath(e.alice))-len("/message-store")]
	if b := got[base+"/fax?direction=Inbound"]; b == nil || b["id"] != recs[0]["id"] || b["type"] != "Fax" || b["faxPageCount"] != 2.0 {
		t.Fatalf("fax event %v", got)
	}
	if b := got[base+"/voicemail"]; b == nil || b["id"] != recs[1]["id"] || b["type"] != "VoiceMail" {
		t.Fatalf("voicemail event %v", got)
	}
	b := got[base+"/message-store?type=VoiceMail"]
	if b == nil {
		t.Fatalf("message event missing: %v", got)
	}
	ch := b["changes"].([]any)
	if len(ch) != 1 || ch[0].(map[string]any)["type"] != "Voicemail" || ch[0].(map[string]any)["newCount"] != 1.0 {
		t.Fatalf("voicemail message event %v", b)
	}
}

// A receiver slower than the dispatch lease allows (here: each call moves
// the clock a second, 70 calls against a 1 minute lease) gets every event
// once, in order: the dispatcher keeps what arrived and hands the rest to
// the next round instead of resending the batch it could not finish.
func TestWebHookSlowReceiver(t *testing.T) {
	e := newTestEnv(t)
	var mu sync.Mutex
	var got []float64
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.Header.Get("Validation-Token"); v != "" {
			w.Header().Set("Validation-Token", v)
			return
		}
		var env struct {
			Body struct {
				ID float64 `json:"id"`
			} `json:"body"`
		}
		_ = json.NewDecoder(r.Body).Decode(&env)
		e.clock.Advance(time.Second)
		mu.Lock()
		got = append(got, env.Body.ID)
		mu.Unlock()
	}))
	defer slow.Close()
	e.expect(e.request("POST", "/restapi/v1.0/subscription", e.token(e.alice), webhookBody(slow.URL,
		"/restapi/v1.0/account/~/extension/~/message-store/instant?type=SMS")), 200)
	var want []float64
	for i := range 70 {
		want = append(want, float64(e.inboundSMS(e.alice, fmt.Sprint("slow ", i))))
	}
	for range 5 {
		e.dispatch()
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(got, want) {
		t.Fatalf("%d deliveries for 70 events; want each once, in order (got %v)", len(got), got[:min(len(got), 100)])
	}
}

// TestWebHookDeliveryHistory: the admin API shows a subscription's most
// recent POSTs, newest first, with what the receiver answered, trimmed to
// the configured count (3 in tests); admin token only.
func TestWebHookDeliveryHistory(t *testing.T) {
	e := newTestEnv(t)
	hook := newHookReceiver(t)
	sub := e.expect(e.request("POST", "/restapi/v1.0/subscription", e.token(e.alice), webhookBody(hook.srv.URL,
		"/restapi/v1.0/account/~/extension/~/message-store/instant?type=SMS")), 200).object(t)
	path := "/switchboard/v1/subscriptions/" + sub["id"].(string) + "/deliveries"

	type attempt struct {
		Time, UUID, Event, Error string
		OK                       bool
		HTTPStatus               int
	}
	history := func() []attempt {
		var out struct{ Records []attempt }
		e.expect(e.request("GET", path, e.adminToken, nil), http.StatusOK).json(t, &out)
		return out.Records
	}
	if h := history(); len(h) != 0 {
		t.Fatalf("history before any delivery: %+v", h)
	}

	e.inboundSMS(e.alice, "one")
	e.inboundSMS(e.alice, "two")
	e.dispatch()
	h := history()
	calls, _, _ := hook.snapshot()
	if len(h) != 2 || !h[0].OK || h[0].HTTPStatus != 200 || h[0].UUID != calls[1].env["uuid"] || h[1].UUID != calls[0].env["uuid"] ||
		!strings.HasSuffix(h[0].Event, "/message-store/instant?type=SMS") {
		t.Fatalf("after two deliveries: %+v", h)
	}

	hook.set(true, http.StatusServiceUnavailable)
	e.inboundSMS(e.alice, "three")
	e.dispatch()
	h = history()
	if len(h) != 3 || h[0].OK || h[0].HTTPStatus != 503 || h[0].Error != "HTTP 503" {
		t.Fatalf("after a refused delivery: %+v", h)
	}
	hook.set(true, http.StatusOK)
	e.clock.Advance(time.Minute)
	e.dispatch()
	h = history()
	if len(h) != 3 || !h[0].OK || h[1].HTTPStatus != 503 {
		t.Fatalf("history is not the three most recent: %+v", h)
	}

	e.expect(e.request("GET", path, "", nil), http.StatusUnauthorized)
	e.expect(e.request("GET", path, e.token(e.alice), nil), http.StatusUnauthorized) // the owner's token is no admin token
	if r := e.expect(e.request("GET", "/switchboard/v1/subscriptions/no-such-id/deliveries", e.adminToken, nil), http.StatusNotFound); !strings.Contains(string(r.body), `"parameterName":"subscriptionId"`) {
		t.Fatalf("unknown subscription: %s", r.body)
	}
	e.expect(e.request("GET", path+"?limit=0", e.adminToken, nil), http.StatusBadRequest)
}
