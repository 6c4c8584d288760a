package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestOutageAnswers503AndWorkersBackOff: while PostgreSQL is unreachable,
// every kind of API call (bearer, OAuth, admin, health) answers 503 with
// Retry-After, never 500 or 401, and the workers log the outage once each
// instead of an ERROR line per poll; when the database is back, everything
// recovers by itself.
func TestOutageAnswers503AndWorkersBackOff(t *testing.T) {
	demo, out, stop, proxy := runServerBehindProxy(t)
	defer stop()
	alice := demo.Extensions[0]
	tok := login(t, demo, alice.JWT)
	ext := demo.Server + "/restapi/v1.0/account/~/extension/~"
	form := "application/x-www-form-urlencoded"
	requests := []struct {
		name, method, url, token, contentType, body string
		basic                                       bool
	}{
		{"list", "GET", ext + "/message-store", tok, "", "", false},
		{"send", "POST", ext + "/sms", tok, "application/json", string(smsBody(alice.PhoneNumber, "+15005550006", "hi")), false},
		{"account", "GET", demo.Server + "/restapi/v1.0/account/~", tok, "", "", false},
		{"subscriptions", "GET", demo.Server + "/restapi/v1.0/subscription", tok, "", "", false},
		{"sync", "GET", ext + "/message-sync?syncType=FSync", tok, "", "", false},
		{"wstoken", "POST", demo.Server + "/restapi/oauth/wstoken", tok, "", "", false},
		{"token", "POST", demo.Server + "/restapi/oauth/token", "", form,
			url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {alice.JWT}}.Encode(), true},
		{"revoke", "POST", demo.Server + "/restapi/oauth/revoke", "", form, url.Values{"token": {tok}}.Encode(), true},
		{"admin retention", "GET", demo.Server + "/switchboard/v1/accounts/" + alice.AccountID + "/retention", demo.AdminToken, "", "", false},
		{"admin inbound", "POST", demo.Server + "/switchboard/v1/inbound/sms", demo.AdminToken, "application/json",
			fmt.Sprintf(`{"from":"+15005550006","to":%q,"text":"hi"}`, alice.PhoneNumber), false},
		{"health", "GET", demo.Server + "/switchboard/v1/health", "", "", "", false},
		{"admin import", "POST", demo.Server + "/switchboard/v1/messages", demo.AdminToken, "application/json", `{"messages":[]}`, false},
		{"retention run", "POST", demo.Server + "/switchboard/v1/retention/run", demo.AdminToken, "", "", false},
		{"mark read", "PUT", ext + "/message-store/123", tok, "application/json", `{"readStatus":"Read"}`, false},
	}
	// A WebSocket token taken before the outage: the gateway tells the
	// client to come back later, not that its token is invalid.
	status, b := post(t, demo.Server+"/restapi/oauth/wstoken", tok, nil)
	var wt struct {
		URI   string `json:"uri"`
		Token string `json:"ws_access_token"`
	}
	if status != 200 || json.Unmarshal(b, &wt) != nil {
		t.Fatalf("wstoken: %d %s", status, b)
	}

	proxy.stop()
	down := len(out.String())
	for _, r := range requests {
		req, _ := http.NewRequest(r.method, r.url, strings.NewReader(r.body))
		if r.token != "" {
			req.Header.Set("Authorization", "Bearer "+r.token)
		}
		if r.contentType != "" {
			req.Header.Set("Content-Type", r.contentType)
		}
		if r.basic {
			req.SetBasicAuth(demo.ClientID, demo.ClientSecret)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
			t.Errorf("%s during the outage: %d, Retry-After %q; want 503 with Retry-After", r.name, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}

	ws, _, err := websocket.Dial(t.Context(), wt.URI+"?access_token="+wt.Token, nil)
	if err != nil {
		t.Fatal(err)
	}
	if code, reason := (&wsClient{ws}).closed(t); code != int(websocket.StatusTryAgainLater) {
		t.Errorf("WebSocket during the outage closed with %d %q, want 1013 (try again later)", code, reason)
	}

	// The workers poll every 50 ms (delivery) to 5 s: without backoff this
	// is dozens of ERROR lines.
	time.Sleep(3 * time.Second)
	errorLines := 0
	for _, l := range strings.Split(out.String()[down:], "\n") {
		if strings.Contains(l, "level=ERROR") {
			errorLines++
		}
	}
	t.Logf("%d ERROR lines in 3 s of outage", errorLines)
	if errorLines > 4 {
		t.Errorf("%d ERROR lines in 3 s of outage, want at most one per worker:\n%s", errorLines, out.String()[down:])
	}

	proxy.start(t)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		status, _ := get(t, ext+"/message-store", tok)
		if status == http.StatusOK && strings.Contains(out.String()[down:], "delivery worker recovered") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery after the database came back: %d\n%s", status, out.String()[down:])
		}
	}
}
