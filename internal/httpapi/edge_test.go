package httpapi_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestJSONErrorsNameFieldsNotGoTypes: a body of the wrong shape is a 400
// that names the field and the JSON type it needs, never a Go type.
func TestJSONErrorsNameFieldsNotGoTypes(t *testing.T) {
	e := newTestEnv(t)
	bob := e.token(e.bob)
	for _, tc := range []struct{ path, body, param string }{
		{"/restapi/v1.0/account/~/extension/~/sms", `{"from": {"phoneNumber": "+16505550102"}, "to": "+16505550101", "text": "x"}`, "to"},
		{"/restapi/v1.0/account/~/extension/~/sms", `{"text": 5}`, "text"},
		{"/restapi/v1.0/subscription", `{"eventFilters": "x"}`, "eventFilters"},
		{"/restapi/v1.0/account/~/extension/~/sms", `{"text": `, ""},
	} {
		r := e.request("POST", tc.path, bob, tc.body)
		code, param := errorOf(t, r)
		if r.StatusCode != 400 || param != tc.param || code == "" {
			t.Errorf("POST %s %s: %d %s; want 400 naming %q", tc.path, tc.body, r.StatusCode, r.body, tc.param)
		}
		if strings.Contains(string(r.body), "httpapi.") || strings.Contains(string(r.body), "Go struct") || strings.Contains(string(r.body), "[]") {
			t.Errorf("POST %s: the error shows Go types: %s", tc.path, r.body)
		}
	}
}

// TestAdminBodiesAreStrict: every admin PUT/POST refuses unknown fields and
// null, naming the field, instead of applying defaults.
func TestAdminBodiesAreStrict(t *testing.T) {
	e := newTestEnv(t)
	retention := fmt.Sprintf("/switchboard/v1/accounts/%d/retention", e.acc1.ID)
	before := e.expect(e.request("GET", retention, e.adminToken, nil), 200).object(t)
	e.expect(e.request("PUT", retention, e.adminToken, `{"deletePeriodSeconds": 3600, "purgePeriodSeconds": 7200, "mailboxCap": 10}`), 200)
	set := e.expect(e.request("GET", retention, e.adminToken, nil), 200).object(t)
	for _, tc := range []struct{ method, path, body, param string }{
		{"PUT", retention, `{"deletePeriod": 60}`, "deletePeriod"},
		{"PUT", retention, `{"deletePeriodSeconds": 60, "purgePeriodSeconds": 60, "mailboxCap": 1, "extra": true}`, "extra"},
		{"PUT", retention, `null`, ""},
		{"PUT", "/switchboard/v1/carrier/rules", `null`, ""},
		{"PUT", "/switchboard/v1/carrier/rules", `[]`, ""},
		{"PUT", "/switchboard/v1/carrier/rules", `{"nope": 1}`, ""},
		{"POST", "/switchboard/v1/clock/advance", `{"seconds": 1, "minutes": 2}`, "minutes"},
		{"PUT", "/switchboard/v1/apps/" + e.clientID + "/redirect-uris", `{"redirectUris": [], "other": 1}`, "other"},
		{"POST", "/switchboard/v1/inbound/sms", `{"from": "+15550000001", "to": "+16505550102", "text": "x", "txt": "y"}`, "txt"},
	} {
		r := e.request(tc.method, tc.path, e.adminToken, tc.body)
		code, param := errorOf(t, r)
		if r.StatusCode != 400 || code == "" || (tc.param != "" && param != tc.param) {
			t.Errorf("%s %s %s: %d %s; want 400 naming %q", tc.method, tc.path, tc.body, r.StatusCode, r.body, tc.param)
		}
	}
	after := e.expect(e.request("GET", retention, e.adminToken, nil), 200).object(t)
	if fmt.Sprint(after) != fmt.Sprint(set) || fmt.Sprint(after) == fmt.Sprint(before) {
		t.Fatalf("refused PUTs changed the retention policy: %v, was %v", after, set)
	}
}

// TestOAuthOversizedForm: a token or revoke form over the bound is 413,
// not a 500.
func TestOAuthOversizedForm(t *testing.T) {
	e := newTestEnv(t)
	big := url.Values{"grant_type": {"password"}, "username": {"x"}, "password": {strings.Repeat("p", 70<<10)}}.Encode()
	for _, path := range []string{"/restapi/oauth/token", "/restapi/oauth/revoke"} {
		r := e.clientPost(path, big)
		if r.StatusCode != 413 || r.object(t)["errors"].([]any)[0].(map[string]any)["errorCode"] != "CMN-413" {
			t.Errorf("%s with a 70 KiB form: %d %s; want 413 CMN-413", path, r.StatusCode, r.body)
		}
	}
}

// TestFailedLoginBackoff: past five failures a user name is locked out with
// growing waits, for every password and whether or not the name exists, so
// the 429 tells an attacker nothing; other user names are not affected.
func TestFailedLoginBackoff(t *testing.T) {
	e := newTestEnv(t)
	login := func(user, password string) *response {
		return e.tokenRequest(url.Values{"grant_type": {"password"}, "username": {user}, "password": {password}})
	}
	alice, right := "alice@one.example", e.passwords[e.alice.ID]
	for _, user := range []string{alice, "nobody@one.example"} {
		for i := 0; i < 5; i++ {
			if r := login(user, "wrong-password"); r.StatusCode != 400 {
				t.Fatalf("%s failure %d: %d %s", user, i+1, r.StatusCode, r.body)
			}
			e.clock.Advance(13 * time.Second) // under the Auth group's 5 a minute
		}
		r := login(user, "wrong-password")
		if r.StatusCode != 400 {
			t.Fatalf("%s 6th failure: %d (the lockout starts after it)", user, r.StatusCode)
		}
		for _, pw := range []string{"wrong-password", right} {
			r := login(user, pw)
			if r.StatusCode != 429 || r.Header.Get("Retry-After") != "1" || r.object(t)["errors"].([]any)[0].(map[string]any)["errorCode"] != "CMN-301" {
				t.Fatalf("%s locked out, password %q: %d %v %s; want 429 with Retry-After 1", user, pw, r.StatusCode, r.Header, r.body)
			}
		}
		e.clock.Advance(2 * time.Second)
		if r := login(user, "wrong-password"); r.StatusCode != 400 {
			t.Fatalf("%s after the wait: %d", user, r.StatusCode)
		}
		if r := login(user, "wrong-password"); r.StatusCode != 429 || r.Header.Get("Retry-After") != "2" {
			t.Fatalf("%s next lockout: %d Retry-After %q; want the wait doubled (2 s)", user, r.StatusCode, r.Header.Get("Retry-After"))
		}
		e.clock.Advance(20 * time.Minute)
	}
	// Bob is not locked out with them.
	e.expect(login("bob@one.example", e.passwords[e.bob.ID]), 200)
	// Success clears the count.
	e.expect(login(alice, right), 200)
	e.expect(login(alice, "wrong-password"), 400)
	e.expect(login(alice, right), 200)
}
