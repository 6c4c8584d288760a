package httpapi_test

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/httpapi"
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

// TestBrowserHeaders: every answer forbids sniffing and framing; uploaded
// content of types that could run script is served as a download.
func TestBrowserHeaders(t *testing.T) {
	e := newTestEnv(t)
	bob := e.token(e.bob)
	for _, path := range []string{"/restapi/v1.0/account/~/extension/~", "/switchboard/v1/health", "/nope"} {
		r := e.request("GET", path, bob, nil)
		if r.Header.Get("X-Content-Type-Options") != "nosniff" || r.Header.Get("X-Frame-Options") != "DENY" ||
			!strings.Contains(r.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Errorf("GET %s: headers %v", path, r.Header)
		}
	}
	m := sms("Inbound", "+15550000001", "+16505550102", "mms", baseTime.Add(-time.Minute))
	m["type"] = "SMS"
	m["attachments"] = []map[string]string{
		{"type": "Text", "contentType": "text/plain", "content": base64.StdEncoding.EncodeToString([]byte("hi"))},
		{"type": "MmsAttachment", "contentType": "text/html", "fileName": "x.html", "content": base64.StdEncoding.EncodeToString([]byte("<script>alert(1)</script>"))},
		{"type": "MmsAttachment", "contentType": "image/svg+xml", "fileName": "x.svg", "content": base64.StdEncoding.EncodeToString([]byte("<svg xmlns='http://www.w3.org/2000/svg'/>"))},
		{"type": "MmsAttachment", "contentType": "image/png", "fileName": "x.png", "content": base64.StdEncoding.EncodeToString([]byte("\x89PNG\r\n\x1a\n"))},
	}
	rec := e.importMessages(e.bob, m)[0]
	want := []string{"inline", "attachment", "attachment", "inline"}
	for i, a := range rec["attachments"].([]any) {
		r := e.expect(e.request("GET", a.(map[string]any)["uri"].(string), bob, nil), 200)
		cd := r.Header.Get("Content-Disposition")
		if !strings.HasPrefix(cd, want[i]) || r.Header.Get("X-Content-Type-Options") != "nosniff" || r.Header.Get("X-Frame-Options") != "SAMEORIGIN" {
			t.Errorf("attachment %d (%s): Content-Disposition %q, headers %v; want %s", i, a.(map[string]any)["contentType"], cd, r.Header, want[i])
		}
	}
}

// TestAccessTokenInQuery: the query-string token works on media links only.
func TestAccessTokenInQuery(t *testing.T) {
	e := newTestEnv(t)
	bob := e.token(e.bob)
	rec := e.importMessages(e.bob, sms("Inbound", "+15550000001", "+16505550102", "hi", baseTime.Add(-time.Minute)))[0]
	content := rec["attachments"].([]any)[0].(map[string]any)["uri"].(string)
	e.expect(e.request("GET", content+"?access_token="+url.QueryEscape(bob), "", nil), 200)
	for _, path := range []string{"/restapi/v1.0/account/~/extension/~", "/restapi/v1.0/account/~/extension/~/message-store"} {
		r := e.request("GET", path+"?access_token="+url.QueryEscape(bob), "", nil)
		if code, _ := errorOf(t, r); r.StatusCode != 401 || !strings.Contains(string(r.body), "media links only") || code == "" {
			t.Errorf("GET %s with access_token in the query: %d %s; want 401", path, r.StatusCode, r.body)
		}
	}
	if r := e.request("GET", "/switchboard/v1/accounts?access_token="+url.QueryEscape(e.adminToken), "", nil); r.StatusCode != 401 {
		t.Errorf("admin API with access_token in the query: %d, want 401", r.StatusCode)
	}
}

// TestRingCentralErrorsEverywhere: unknown paths and methods, and the
// WebSocket gateway called without an upgrade, answer RingCentral's error
// body, not net/http's text.
func TestRingCentralErrorsEverywhere(t *testing.T) {
	e := newTestEnv(t)
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/switchboard/v1/nope", 404},
		{"DELETE", "/switchboard/v1/accounts", 405},
		{"GET", "/switchboard/v1/inbound/sms", 405},
		{"GET", "/restapi/v1.0/nope", 404},
		{"GET", "/restapi", 404},
		{"GET", "/switchboard", 404},
		{"GET", "/restapi/oauth/wstoken", 404},
		{"GET", "/ws", 426},
	} {
		r := e.request(tc.method, tc.path, e.adminToken, nil)
		code, _ := errorOf(t, r)
		if r.StatusCode != tc.status || code == "" || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			t.Errorf("%s %s: %d %q %s; want %d with a RingCentral error body", tc.method, tc.path, r.StatusCode, r.Header.Get("Content-Type"), r.body, tc.status)
		}
		if tc.status == 405 && r.Header.Get("Allow") == "" {
			t.Errorf("%s %s: 405 without Allow", tc.method, tc.path)
		}
	}
}

// TestHostHeaderChecked: without --public-url the Host header becomes every
// uri, so only addresses, localhost and configured names are served.
func TestHostHeaderChecked(t *testing.T) {
	e := newTestEnvConfig(t, httpapi.Config{AllowedHosts: []string{"sms.example.com"}})
	bob := e.token(e.bob)
	get := func(host string) *response {
		req, _ := http.NewRequest("GET", e.srv.URL+"/restapi/v1.0/account/~/extension/~", nil)
		req.Host = host
		req.Header.Set("Authorization", "Bearer "+bob)
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return &response{resp, b}
	}
	for host, ok := range map[string]bool{"127.0.0.1:9": true, "[::1]:80": true, "localhost:8080": true, "10.1.2.3": true,
		"sms.example.com": true, "SMS.example.com:443": true, "evil.example": false, "rebind.attacker.test:8080": false} {
		r := get(host)
		if ok && (r.StatusCode != 200 || !strings.Contains(r.object(t)["uri"].(string), "://"+host)) {
			t.Errorf("Host %s: %d %s; want 200 with uris on it", host, r.StatusCode, r.body)
		}
		if !ok && (r.StatusCode != 400 || strings.Contains(string(r.body), `"uri"`)) {
			t.Errorf("Host %s: %d %s; want 400", host, r.StatusCode, r.body)
		}
	}
	// With a public URL the Host decides nothing and is not checked.
	e = newTestEnvConfig(t, httpapi.Config{PublicURL: "https://sms.example.com"})
	bob = e.token(e.bob)
	if r := get("evil.example"); r.StatusCode != 200 || !strings.HasPrefix(r.object(t)["uri"].(string), "https://sms.example.com/") {
		t.Errorf("with --public-url: %d %s", r.StatusCode, r.body)
	}
}
