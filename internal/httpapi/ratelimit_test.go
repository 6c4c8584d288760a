package httpapi_test

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

// setLimits changes the rate limits through the admin API.
func (e *testEnv) setLimits(body string) map[string]any {
	e.t.Helper()
	return e.expect(e.request("PUT", "/switchboard/v1/rate-limits", e.adminToken, body), 200).object(e.t)
}

func TestRateLimits(t *testing.T) {
	e := newTestEnv(t)
	bob, alice := e.token(e.bob), e.token(e.alice)
	const me = "/restapi/v1.0/account/~/extension/~"

	// Counted and announced, not enforced (the emulator's default).
	r := e.expect(e.request("GET", me, bob, nil), 200)
	if g, l, rem, win := r.Header.Get("X-Rate-Limit-Group"), r.Header.Get("X-Rate-Limit-Limit"), r.Header.Get("X-Rate-Limit-Remaining"), r.Header.Get("X-Rate-Limit-Window"); g != "Light" || l != "50" || rem != "49" || win != "60" {
		t.Fatalf("headers Group=%q Limit=%q Remaining=%q Window=%q; want Light 50 49 60", g, l, rem, win)
	}
	if g := e.expect(e.request("GET", me+"/message-store/1/content/2", bob, nil, "Accept", "*/*"), 404).Header.Get("X-Rate-Limit-Group"); g != "Medium" {
		t.Errorf("content: group %q, want Medium", g)
	}
	for i := 0; i < 60; i++ {
		e.expect(e.request("GET", me, bob, nil), 200)
	}

	// The admin API: defaults are RingCentral's, groups not named keep theirs.
	got := e.expect(e.request("GET", "/switchboard/v1/rate-limits", e.adminToken, nil), 200).object(t)
	if got["enforce"] != false || got["groups"].(map[string]any)["Heavy"].(map[string]any)["limit"] != 10.0 {
		t.Fatalf("GET rate-limits %v", got)
	}
	got = e.setLimits(`{"enforce": true, "groups": {"Light": {"limit": 3, "windowSeconds": 60}}}`)
	groups := got["groups"].(map[string]any)
	if got["enforce"] != true || groups["Light"].(map[string]any)["limit"] != 3.0 || groups["Medium"].(map[string]any)["limit"] != 40.0 {
		t.Fatalf("PUT rate-limits answered %v", got)
	}
	for _, bad := range []string{`{"enforce": true, "extra": 1}`, `{"groups": {"Extreme": {"limit": 3, "windowSeconds": 60}}}`,
		`{"groups": {"Light": {"limit": 0, "windowSeconds": 60}}}`, `null`, ``} {
		r := e.request("PUT", "/switchboard/v1/rate-limits", e.adminToken, bad)
		if code, _ := errorOf(t, r); r.StatusCode != 400 || code == "" {
			t.Errorf("PUT %s: %d %s; want 400", bad, r.StatusCode, r.body)
		}
	}
	for _, tok := range []string{"", bob} {
		if r := e.request("PUT", "/switchboard/v1/rate-limits", tok, `{"enforce": false}`); r.StatusCode != 401 {
			t.Errorf("PUT rate-limits with token %q: %d, want 401", tok, r.StatusCode)
		}
	}

	// bob is still in the penalty of the requests counted before: each
	// refusal starts it again, as RingCentral's does.
	r = e.request("GET", me, bob, nil)
	code, _ := errorOf(t, r)
	if r.StatusCode != 429 || code != "CMN-301" || r.Header.Get("Retry-After") != "60" || r.Header.Get("X-Rate-Limit-Remaining") != "0" ||
		!strings.Contains(string(r.body), "Request rate exceeded") {
		t.Fatalf("past the limit: %d %v %s; want 429 CMN-301, Retry-After 60", r.StatusCode, r.Header, r.body)
	}
	// Another user of the app is counted apart.
	for i := 0; i < 3; i++ {
		e.expect(e.request("GET", me, alice, nil), 200)
	}
	if r := e.request("GET", me, alice, nil); r.StatusCode != 429 {
		t.Fatalf("alice's 4th call: %d, want 429", r.StatusCode)
	}
	// Another group is not.
	e.expect(e.request("GET", "/restapi/v1.0/account/~/extension", alice, nil), 200)
	// After the penalty the caller is served again.
	e.clock.Advance(61 * time.Second)
	e.expect(e.request("GET", me, alice, nil), 200)

	// Auth: per client and user name; the 6th password login in a minute is refused.
	e.setLimits(`{"enforce": true}`)
	login := func(user string) int {
		return e.tokenRequest(url.Values{"grant_type": {"password"}, "username": {user}, "password": {e.passwords[e.alice.ID]}}).StatusCode
	}
	for i := 0; i < 5; i++ {
		if st := login("alice@one.example"); st != 200 {
			t.Fatalf("login %d: %d", i+1, st)
		}
	}
	if st := login("alice@one.example"); st != 429 {
		t.Fatalf("6th login in a minute: %d, want 429", st)
	}
	if st := login("bob@one.example"); st == 429 {
		t.Fatal("another user name is refused with alice's")
	}
}

func TestRateLimitsOverWebSocket(t *testing.T) {
	e := newTestEnv(t)
	bob := e.token(e.bob)
	ws := e.dialWS(bob, "")
	ws.read() // ConnectionDetails
	e.setLimits(`{"enforce": true, "groups": {"Light": {"limit": 2, "windowSeconds": 30}, "Medium": {"limit": 1, "windowSeconds": 30}}}`)
	call := func(id, method, path string) (status float64, headers map[string]any, body map[string]any) {
		ws.send(map[string]any{"type": "ClientRequest", "messageId": id, "method": method, "path": path})
		meta, body := ws.read()
		headers, _ = meta["headers"].(map[string]any)
		return meta["status"].(float64), headers, body
	}
	for i, want := range []float64{200, 200, 429} {
		st, h, body := call("x", "GET", "/restapi/v1.0/account/~/extension/~")
		if st != want || h["X-Rate-Limit-Group"] != "Light" || h["X-Rate-Limit-Limit"] != "2" {
			t.Fatalf("REST over WebSocket call %d: %v %v %v; want %v in group Light", i+1, st, h, body, want)
		}
		if want == 429 && (h["Retry-After"] != "30" || body["errorCode"] != "CMN-301") {
			t.Fatalf("refused call over WebSocket: %v %v", h, body)
		}
	}
	// The subscription API over the socket counts too (POST: Medium).
	st, h, _ := call("s1", "GET", "/restapi/v1.0/subscription")
	if st != 429 || h["X-Rate-Limit-Group"] != "Light" {
		t.Fatalf("subscription list over WebSocket while Light is exhausted: %v %v", st, h)
	}
	st, h, _ = call("s2", "DELETE", "/restapi/v1.0/subscription/nope")
	if st != 404 || h["X-Rate-Limit-Group"] != "Medium" || h["X-Rate-Limit-Remaining"] != "0" {
		t.Fatalf("subscription delete over WebSocket: %v %v", st, h)
	}
	if st, _, _ = call("s3", "DELETE", "/restapi/v1.0/subscription/nope"); st != 429 {
		t.Fatalf("second Medium call over WebSocket: %v, want 429", st)
	}
}
