package httpapi_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/internal/httpapi"
)

func TestAccountEndpoints(t *testing.T) {
	e := newTestEnv(t)
	bob := e.token(e.bob)

	ext := e.expect(e.request("GET", "/restapi/v1.0/account/~/extension/~", bob, nil), 200).object(t)
	if ext["id"] != float64(e.bob.ID) || ext["extensionNumber"] != "102" || ext["type"] != "User" || ext["status"] != "Enabled" {
		t.Fatalf("extension %v", ext)
	}
	if acc := ext["account"].(map[string]any); acc["id"] != fmt.Sprint(e.acc1.ID) {
		t.Fatalf("account ref %v: the id is a string", acc)
	}
	byID := e.expect(e.request("GET", fmt.Sprintf("/restapi/v1.0/account/%d/extension/%d", e.acc1.ID, e.bob.ID), bob, nil), 200).object(t)
	if byID["uri"] != ext["uri"] {
		t.Fatalf("~ and explicit ids differ: %v vs %v", byID["uri"], ext["uri"])
	}

	nums := e.expect(e.request("GET", "/restapi/v1.0/account/~/extension/~/phone-number", bob, nil), 200).object(t)
	recs := nums["records"].([]any)
	if len(recs) != 1 {
		t.Fatalf("phone numbers %v", nums)
	}
	n := recs[0].(map[string]any)
	if n["phoneNumber"] != "+16505550102" || fmt.Sprint(n["features"]) != "[SmsSender MmsSender CallerId]" {
		t.Fatalf("number %v", n)
	}

	list := e.expect(e.request("GET", "/restapi/v1.0/account/~/extension", bob, nil), 200).object(t)
	if recs := list["records"].([]any); len(recs) != 3 {
		t.Fatalf("directory of account 1 has %d extensions, want 3: %v", len(recs), list)
	}
	if p := list["paging"].(map[string]any); p["totalElements"] != 3.0 || p["totalPages"] != 1.0 {
		t.Fatalf("paging %v", p)
	}
	deps := e.expect(e.request("GET", "/restapi/v1.0/account/~/extension?type=Department", bob, nil), 200).object(t)
	if recs := deps["records"].([]any); len(recs) != 1 || recs[0].(map[string]any)["extensionNumber"] != "103" {
		t.Fatalf("departments %v", deps)
	}
	page2 := e.expect(e.request("GET", "/restapi/v1.0/account/~/extension?perPage=2&page=2", bob, nil), 200).object(t)
	if recs := page2["records"].([]any); len(recs) != 1 {
		t.Fatalf("page 2 %v", page2)
	}
	if r := e.request("GET", "/restapi/v1.0/account/~/extension?type=Robot", bob, nil); r.StatusCode != 400 {
		t.Fatalf("bad type filter: %d", r.StatusCode)
	}

	acc := e.expect(e.request("GET", "/restapi/v1.0/account/~", bob, nil), 200).object(t)
	if acc["id"] != float64(e.acc1.ID) || acc["mainNumber"] != "+16505550100" {
		t.Fatalf("account %v", acc)
	}
}

func TestCORS(t *testing.T) {
	e := newTestEnvConfig(t, httpapi.Config{CORSOrigins: []string{"https://trusted.example"}})
	// Any origin may make bearer-token calls: the preflight allows the
	// headers, but not credentials (cookies) for an origin not configured.
	r := e.request("OPTIONS", "/restapi/v1.0/account/~/extension/~", "", nil,
		"Origin", "http://app.example", "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "authorization,x-user-agent")
	if r.StatusCode != 204 || r.Header.Get("Access-Control-Allow-Origin") != "http://app.example" || r.Header.Get("Access-Control-Allow-Credentials") != "" ||
		!strings.Contains(r.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Fatalf("preflight of another origin: %d %v", r.StatusCode, r.Header)
	}
	r = e.request("GET", "/restapi/v1.0/account/~/extension/~", e.token(e.bob), nil, "Origin", "http://app.example")
	if r.Header.Get("Access-Control-Allow-Origin") != "http://app.example" || r.Header.Get("Access-Control-Allow-Credentials") != "" ||
		!strings.Contains(r.Header.Get("Access-Control-Expose-Headers"), "Retry-After") {
		t.Fatalf("CORS on a request of another origin: %v", r.Header)
	}
	// A configured origin gets credentials (the JS SDK's fetch sends them).
	r = e.request("OPTIONS", "/restapi/v1.0/account/~/extension/~", "", nil,
		"Origin", "https://trusted.example", "Access-Control-Request-Method", "GET")
	if r.Header.Get("Access-Control-Allow-Origin") != "https://trusted.example" || r.Header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("preflight of a configured origin: %v", r.Header)
	}
	// Cookies are never usable cross-origin: the CSRF header is not allowed.
	if strings.Contains(strings.ToLower(r.Header.Get("Access-Control-Allow-Headers")), "csrf") {
		t.Fatalf("the CSRF header is allowed cross-origin: %v", r.Header)
	}
}
