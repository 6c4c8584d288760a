package httpapi_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/auth"
)

// caller is one identity of the permission matrix.
type caller int

const (
	owner    caller = iota // bob, whose mailbox the paths name
	otherExt               // dave: another user of bob's account, not an administrator
	accAdmin               // alice: the account's administrator
	otherAcc               // carol: the administrator of another account
	adminTok               // the server's admin token
	expired                // bob's token past its lifetime
	revoked                // bob's token after revoke
	noToken
	nCallers
)

var callerNames = [nCallers]string{"owner", "other extension", "account admin", "other account", "admin token", "expired", "revoked", "no token"}

// expect is the status each caller gets, in caller order.
type expect [nCallers]int

// Expectations by who may see what: a mailbox is its owner's and its
// account administrator's; another account's ids are not even found; the
// REST API takes no admin token and the admin API nothing else.
func mailbox(ok int) expect      { return expect{ok, 403, ok, 404, 401, 401, 401, 401} }
func ownOnly(ok int) expect      { return expect{ok, 403, 403, 404, 401, 401, 401, 401} }
func account(ok int) expect      { return expect{ok, ok, ok, 404, 401, 401, 401, 401} }
func accountAdmin(ok int) expect { return expect{403, 403, ok, 404, 401, 401, 401, 401} }
func anyUser(ok int) expect      { return expect{ok, ok, ok, ok, 401, 401, 401, 401} }
func adminOnly(ok int) expect    { return expect{401, 401, 401, 401, ok, 401, 401, 401} }
func public(ok int) expect       { return expect{ok, ok, ok, ok, ok, ok, ok, ok} }

// TestPermissionMatrix calls every route of the route table as each kind of
// caller, checks the status, and checks that no answer (error or not) holds
// data of a tenant the caller may not see.
func TestPermissionMatrix(t *testing.T) {
	e := newTestEnv(t)
	dave := e.user(e.acc1, "104", "dave@one.example", "+16505550104", false)

	// The expired token is issued first with the shortest lifetime; the
	// clock then passes it, and every other token is issued after.
	var short auth.TokenResponse
	e.expect(e.tokenRequest(url.Values{"grant_type": {auth.GrantJWTBearer}, "assertion": {e.jwts[e.bob.ID]}, "access_token_ttl": {"120"}}), 200).json(t, &short)
	e.clock.Advance(121 * time.Second)
	revokedTok := e.token(e.bob)
	e.expect(e.clientPost("/restapi/oauth/revoke", url.Values{"token": {revokedTok}}.Encode()), 200)
	tokens := [nCallers]string{e.token(e.bob), e.token(dave), e.token(e.alice), e.token(e.carol), e.adminToken, short.AccessToken, revokedTok, ""}

	// Each tenant's data carries markers that must never reach the others.
	const bobSecret, carolSecret = "bob-secret-7c1e", "carol-secret-93ad"
	bobMsgs := e.importMessages(e.bob, sms("Inbound", "+15550000001", "+16505550102", bobSecret, baseTime.Add(-time.Hour)),
		sms("Inbound", "+15550000001", "+16505550102", bobSecret+" 2", baseTime.Add(-time.Hour)))
	e.importMessages(e.carol, sms("Inbound", "+15550000001", "+14155550101", carolSecret, baseTime.Add(-time.Hour)))
	msgID := fmt.Sprintf("%.0f", bobMsgs[0]["id"])
	attID := fmt.Sprintf("%.0f", bobMsgs[0]["attachments"].([]any)[0].(map[string]any)["id"])
	hook := newHookReceiver(t)
	subBody := webhookBody(hook.srv.URL, "/restapi/v1.0/account/~/extension/~/message-store")
	sub := e.expect(e.request("POST", "/restapi/v1.0/subscription", tokens[owner], subBody), 200).object(t)
	task := e.expect(e.request("POST", fmt.Sprintf("/restapi/v1.0/account/%d/message-store-report", e.acc1.ID), tokens[accAdmin],
		map[string]any{"dateFrom": baseTime.Add(-48 * time.Hour).Format(time.RFC3339)}), 200).object(t)

	// Bob sends high-volume SMS from a number of his own, through an app
	// granted A2PSMS; his batch has one message.
	const bobA2P = "+16505550112"
	mustV(e.store.CreatePhoneNumber(context.Background(), switchboard.PhoneNumberCreate{AccountID: e.acc1.ID, ExtensionID: e.bob.ID,
		PhoneNumber: bobA2P, Features: []string{switchboard.FeatureA2PSms}}))(t)
	a2pTokens := tokens
	for _, who := range []caller{owner, otherExt, accAdmin, otherAcc} {
		a2pTokens[who] = e.a2pToken([]*switchboard.Extension{e.bob, dave, e.alice, e.carol}[who])
	}
	batch := e.expect(e.request("POST", "/restapi/v1.0/account/~/a2p-sms/batches", a2pTokens[owner],
		map[string]any{"from": bobA2P, "text": bobSecret, "messages": []map[string]any{{"to": []string{"+15550000007"}}}}), 201).object(t)
	e.expandBatches()
	var a2pMsgs struct{ Records []map[string]any }
	e.expect(e.request("GET", "/restapi/v1.0/account/~/a2p-sms/messages", a2pTokens[owner], nil), 200).json(t, &a2pMsgs)
	if len(a2pMsgs.Records) != 1 {
		t.Fatalf("bob's A2P messages: %+v", a2pMsgs.Records)
	}

	vars := map[string]string{
		"{batchId}": fmt.Sprint(batch["id"]), "{a2pMessageId}": fmt.Sprintf("%.0f", a2pMsgs.Records[0]["id"]),
		"{accountId}": fmt.Sprint(e.acc1.ID), "{extensionId}": fmt.Sprint(e.bob.ID), "{messageId}": msgID,
		"{attachmentId}": attID, "{taskId}": fmt.Sprint(task["id"]), "{archiveId}": "1", "{clientId}": e.clientID,
		"{subscriptionId}": fmt.Sprint(sub["id"]),
	}
	expand := func(p string) string {
		for k, v := range vars {
			p = strings.ReplaceAll(p, k, v)
		}
		return p
	}
	const ext = "/restapi/v1.0/account/{accountId}/extension/{extensionId}"
	sms := smsBody("+16505550102", "matrix", "+15550000009")
	retention := map[string]any{"deletePeriodSeconds": 86400, "purgePeriodSeconds": 86400, "mailboxCap": 1000}
	cases := []struct {
		route string // the route table's pattern
		path  string // when the pattern alone does not make a path
		body  any
		a2p   bool // the callers' tokens are of an app granted A2PSMS
		want  expect
	}{
		{route: "POST /restapi/oauth/token", want: public(401)},  // no client credentials: a bearer token is none
		{route: "POST /restapi/oauth/revoke", want: public(401)}, // no client credentials
		{route: "GET /restapi/v1.0/account/{accountId}", want: account(200)},
		{route: "GET /restapi/v1.0/account/{accountId}/extension", want: account(200)},
		{route: "GET " + ext, want: expect{200, 200, 200, 404, 401, 401, 401, 401}}, // a colleague's profile is public within the account
		{route: "GET " + ext + "/phone-number", want: mailbox(200)},
		{route: "GET /restapi/v1.0/account/{accountId}/message-store-configuration", want: account(200)},
		{route: "PUT /restapi/v1.0/account/{accountId}/message-store-configuration", body: map[string]any{"retentionPeriod": 30}, want: accountAdmin(200)},
		{route: "POST /restapi/v1.0/account/{accountId}/message-store-report", body: map[string]any{"dateFrom": baseTime.Add(-time.Hour).Format(time.RFC3339)}, want: accountAdmin(200)},
		{route: "GET /restapi/v1.0/account/{accountId}/message-store-report/{taskId}", want: accountAdmin(200)},
		{route: "GET /restapi/v1.0/account/{accountId}/message-store-report/{taskId}/archive", want: accountAdmin(200)},
		{route: "GET /restapi/v1.0/account/{accountId}/message-store-report/{taskId}/archive/{archiveId}", want: accountAdmin(404)}, // not built yet
		{route: "GET " + ext + "/message-store", want: mailbox(200)},
		{route: "DELETE " + ext + "/message-store", path: ext + "/message-store?dateTo=2000-01-01T00:00:00Z", want: mailbox(204)},
		{route: "GET " + ext + "/message-store/{messageId}", want: mailbox(200)},
		{route: "PUT " + ext + "/message-store/{messageId}", body: map[string]any{"readStatus": "Read"}, want: mailbox(200)},
		{route: "PATCH " + ext + "/message-store/{messageId}", body: map[string]any{"readStatus": "Unread"}, want: mailbox(200)},
		{route: "DELETE " + ext + "/message-store/{messageId}", want: mailbox(204)},
		{route: "GET " + ext + "/message-store/{messageId}/content/{attachmentId}", want: mailbox(200)},
		{route: "POST " + ext + "/sms", body: sms, want: ownOnly(200)},
		{route: "POST " + ext + "/mms", body: sms, want: ownOnly(400)}, // no attachment: bob's own 400, the others' denials
		{route: "POST " + ext + "/company-pager", body: map[string]any{"from": map[string]string{"extensionNumber": "102"}, "to": []map[string]string{{"extensionNumber": "101"}}, "text": "hi"}, want: ownOnly(200)},
		{route: "GET " + ext + "/message-sync", path: ext + "/message-sync?syncType=FSync", want: mailbox(200)},
		{route: "POST " + ext + "/fax", body: map[string]any{"to": []map[string]string{{"phoneNumber": "+15550000009"}}}, want: ownOnly(400)},
		{route: "GET /restapi/v1.0/dictionary/fax-cover-page", want: anyUser(200)},
		{route: "POST /restapi/oauth/wstoken", want: anyUser(200)},
		{route: "GET /ws", want: public(426)}, // no upgrade: refused before any token is read
		{route: "/restapi/v1.0/subscription", path: "/restapi/v1.0/subscription", want: anyUser(200)},
		{route: "/restapi/v1.0/subscription", path: "POST /restapi/v1.0/subscription", body: subBody, want: anyUser(200)},
		{route: "/restapi/v1.0/subscription/", path: "/restapi/v1.0/subscription/{subscriptionId}", want: expect{200, 404, 404, 404, 401, 401, 401, 401}},

		{route: "POST /restapi/v1.0/account/{accountId}/a2p-sms/batches", a2p: true, body: map[string]any{"from": bobA2P, "text": "hi", "messages": []map[string]any{{"to": []string{"+15550000009"}}}}, want: expect{201, 400, 400, 404, 401, 401, 401, 401}}, // from another's number: 400 naming from
		// A user reads its own batches and messages, the administrator
		// the account's; another user of the account finds none of them.
		{route: "GET /restapi/v1.0/account/{accountId}/a2p-sms/batches", a2p: true, want: account(200)},
		{route: "GET /restapi/v1.0/account/{accountId}/a2p-sms/batches/{batchId}", a2p: true, want: expect{200, 404, 200, 404, 401, 401, 401, 401}},
		{route: "GET /restapi/v1.0/account/{accountId}/a2p-sms/messages", a2p: true, want: account(200)},
		{route: "GET /restapi/v1.0/account/{accountId}/a2p-sms/messages/{messageId}", path: "/restapi/v1.0/account/{accountId}/a2p-sms/messages/{a2pMessageId}", a2p: true, want: expect{200, 404, 200, 404, 401, 401, 401, 401}},
		{route: "GET /restapi/v1.0/account/{accountId}/a2p-sms/statuses", a2p: true, want: account(200)},
		{route: "GET /restapi/v1.0/account/{accountId}/a2p-sms/opt-outs", a2p: true, want: account(200)},
		{route: "PATCH /restapi/v1.0/account/{accountId}/a2p-sms/opt-outs/bulk-assign", a2p: true, body: map[string]any{"from": bobA2P, "optOuts": []string{"+15550000008"}}, want: expect{200, 400, 400, 404, 401, 401, 401, 401}},
		{route: "POST /restapi/v1.0/account/{accountId}/a2p-sms/batches", path: "POST /restapi/v1.0/account/{accountId}/a2p-sms/batches", body: map[string]any{"from": bobA2P, "text": "hi", "messages": []map[string]any{{"to": []string{"+15550000009"}}}}, want: anyUser(403)}, // an app without A2PSMS

		{route: "POST /switchboard/v1/messages", body: map[string]any{"messages": []any{sms}}, want: adminOnly(400)},
		{route: "GET /switchboard/v1/accounts/{accountId}/retention", want: adminOnly(200)},
		{route: "PUT /switchboard/v1/accounts/{accountId}/retention", body: retention, want: adminOnly(200)},
		{route: "GET /switchboard/v1/accounts", want: adminOnly(200)},
		{route: "GET /switchboard/v1/accounts/{accountId}/extensions", want: adminOnly(200)},
		{route: "GET /switchboard/v1/accounts/{accountId}/phone-numbers", want: adminOnly(200)},
		{route: "GET /switchboard/v1/deliveries", want: adminOnly(200)},
		{route: "GET /switchboard/v1/subscriptions", want: adminOnly(200)},
		{route: "GET /switchboard/v1/subscriptions/{id}/deliveries", path: "/switchboard/v1/subscriptions/{subscriptionId}/deliveries", want: adminOnly(200)},
		{route: "GET /switchboard/v1/apps", want: adminOnly(200)},
		{route: "PUT /switchboard/v1/apps/{clientId}/redirect-uris", body: map[string]any{"redirectUris": []string{"https://app.example/cb"}}, want: adminOnly(200)},
		{route: "GET /switchboard/v1/carrier/rules", want: adminOnly(200)},
		{route: "PUT /switchboard/v1/carrier/rules", body: map[string]any{}, want: adminOnly(200)},
		{route: "POST /switchboard/v1/clock/advance", body: map[string]any{"seconds": 0}, want: adminOnly(200)},
		{route: "POST /switchboard/v1/retention/run", want: adminOnly(200)},
		{route: "GET /switchboard/v1/rate-limits", want: adminOnly(200)},
		{route: "PUT /switchboard/v1/rate-limits", body: map[string]any{"enforce": false}, want: adminOnly(200)},
		{route: "GET /switchboard/v1/health", want: public(200)},
		{route: "GET /metrics", want: public(200)},
		{route: "POST /switchboard/v1/inbound/sms", body: map[string]any{"from": "+15550000001", "to": "+16505550102", "text": "in"}, want: adminOnly(200)},
		{route: "POST /switchboard/v1/inbound/mms", want: adminOnly(415)},
		{route: "POST /switchboard/v1/inbound/fax", want: adminOnly(415)},
		{route: "POST /switchboard/v1/inbound/voicemail", want: adminOnly(415)},
		{route: "/restapi/", path: "/restapi/v1.0/nothing-here", want: public(404)},
	}

	// Every route of the table is in the matrix (the web UI's own routes
	// have their tests in internal/webui).
	covered := map[string]bool{}
	for _, c := range cases {
		covered[c.route] = true
	}
	for _, r := range routeTable(t) {
		if !covered[r] && !strings.HasPrefix(r, "GET /{$}") && !strings.Contains(r, "/ui/") && !strings.Contains(r, "/oauth/authorize") {
			t.Errorf("route %q is not in the permission matrix", r)
		}
	}

	// Markers of data each caller may not see in any answer.
	foreign := [nCallers][]string{
		owner:    {carolSecret, "carol@two.example"},
		otherExt: {carolSecret, bobSecret},
		accAdmin: {carolSecret},
		otherAcc: {bobSecret, "bob@one.example", "+16505550102"},
		adminTok: {bobSecret, carolSecret},
		expired:  {bobSecret, carolSecret, "bob@one.example"},
		revoked:  {bobSecret, carolSecret, "bob@one.example"},
		noToken:  {bobSecret, carolSecret, "bob@one.example"},
	}
	// Callers go from least to most privileged, so that a change one
	// makes (a deleted message) comes after the denials are checked.
	order := []caller{noToken, expired, revoked, adminTok, otherAcc, otherExt, accAdmin, owner}
	for _, c := range cases {
		method, pattern, _ := strings.Cut(c.route, " ")
		if pattern == "" { // a pattern without a method: GET
			method, pattern = "GET", c.route
		}
		path := c.path
		if path == "" {
			path = pattern
		}
		if m, p, ok := strings.Cut(path, " "); ok { // a method of a pattern that has none
			method, path = m, p
		}
		for _, who := range order {
			p := expand(path)
			if strings.Contains(c.route, "DELETE "+ext+"/message-store/{messageId}") {
				// Each deletion gets a message of its own.
				p = strings.Replace(p, "/"+msgID, "/"+fmt.Sprintf("%.0f", e.importMessages(e.bob, sms2(bobSecret))[0]["id"]), 1)
			}
			tok := tokens[who]
			if c.a2p {
				tok = a2pTokens[who]
			}
			r := e.request(method, p, tok, c.body, "Accept", "*/*")
			if r.StatusCode != c.want[who] {
				t.Errorf("%s %s as %s: %d, want %d\n%.300s", method, path, callerNames[who], r.StatusCode, c.want[who], r.body)
			}
			if r.StatusCode >= 400 && who != owner && strings.Contains(string(r.body), bobSecret) {
				t.Errorf("%s %s as %s: the refusal shows bob's data: %.300s", method, path, callerNames[who], r.body)
			}
			for _, m := range foreign[who] {
				if strings.Contains(string(r.body), m) {
					t.Errorf("%s %s as %s: the answer holds %q: %.300s", method, path, callerNames[who], m, r.body)
				}
			}
		}
	}
}

func sms2(text string) msg {
	return sms("Inbound", "+15550000001", "+16505550102", text, baseTime.Add(-time.Hour))
}

// routeTable reads the patterns of routes.go, expanding its constants, so
// that a new route cannot be added without a row in the matrix.
func routeTable(t *testing.T) []string {
	src, err := os.ReadFile("routes.go")
	if err != nil {
		t.Fatal(err)
	}
	consts := map[string]string{"wsPath": `"/ws"`}
	for _, m := range regexp.MustCompile(`const (\w+) = (.+)`).FindAllStringSubmatch(string(src), -1) {
		consts[m[1]] = m[2]
	}
	var routes []string
	for _, m := range regexp.MustCompile(`m\.Handle(?:Func)?\(([^,]+),`).FindAllStringSubmatch(string(src), -1) {
		routes = append(routes, evalNested(m[1], consts))
	}
	if len(routes) < 50 {
		t.Fatalf("read only %d routes from routes.go", len(routes))
	}
	return routes
}

// evalNested evaluates a concatenation of string literals and constants.
func evalNested(expr string, consts map[string]string) string {
	var out strings.Builder
	for _, part := range strings.Split(expr, "+") {
		part = strings.TrimSpace(part)
		if v, ok := consts[part]; ok {
			part = evalNested(v, consts)
		}
		out.WriteString(strings.Trim(part, `"`))
	}
	return out.String()
}
