package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestAdminConsoleViews: the directory, delivery queue and subscription
// listings of the admin API: admin token only, no secrets, bad input 400.
func TestAdminConsoleViews(t *testing.T) {
	e := newTestEnv(t)
	acc1 := fmt.Sprint(e.acc1.ID)
	for _, path := range []string{"/switchboard/v1/accounts", "/switchboard/v1/accounts/" + acc1 + "/extensions",
		"/switchboard/v1/deliveries", "/switchboard/v1/subscriptions", "/switchboard/v1/apps"} {
		e.expect(e.request("GET", path, "", nil), http.StatusUnauthorized)
		e.expect(e.request("GET", path, e.token(e.alice), nil), http.StatusUnauthorized) // a user token is no admin token
	}

	var accounts struct{ Records []map[string]any }
	e.expect(e.request("GET", "/switchboard/v1/accounts", e.adminToken, nil), http.StatusOK).json(t, &accounts)
	if len(accounts.Records) != 2 || accounts.Records[0]["id"] != acc1 || accounts.Records[0]["mainNumber"] != "+16505550100" {
		t.Fatalf("accounts: %+v", accounts.Records)
	}
	r := e.expect(e.request("GET", "/switchboard/v1/accounts/"+acc1+"/extensions", e.adminToken, nil), http.StatusOK)
	if strings.Contains(string(r.body), "argon2") || !strings.Contains(string(r.body), `"passwordLogin":true`) {
		t.Fatalf("extensions show a password hash or no login flag: %s", r.body)
	}
	r = e.expect(e.request("GET", "/switchboard/v1/accounts/"+acc1+"/phone-numbers", e.adminToken, nil), http.StatusOK)
	if !strings.Contains(string(r.body), "+16505550101") || strings.Contains(string(r.body), "+14155550101") {
		t.Fatalf("phone numbers of account 1: %s", r.body)
	}
	e.expect(e.request("GET", "/switchboard/v1/accounts/999/extensions", e.adminToken, nil), http.StatusNotFound)

	// A send the carrier refuses shows in the queue with its answer.
	e.expect(e.request("PUT", "/switchboard/v1/carrier/rules", e.adminToken,
		`{"rules": [{"match": "^\\+1555000", "stage": "submit", "errorCode": "SMS-UP-410"}]}`), http.StatusOK)
	e.expect(e.request("POST", "/restapi/v1.0/account/~/extension/~/sms", e.token(e.alice),
		map[string]any{"from": map[string]string{"phoneNumber": "+16505550101"}, "to": []map[string]string{{"phoneNumber": "+15550001234"}}, "text": "hi"}), http.StatusOK)
	var q struct{ Records []map[string]any }
	e.expect(e.request("GET", "/switchboard/v1/deliveries", e.adminToken, nil), http.StatusOK).json(t, &q)
	if len(q.Records) != 1 || q.Records[0]["recipient"] != "+15550001234" || q.Records[0]["state"] != "Pending" {
		t.Fatalf("pending queue: %+v", q.Records)
	}
	e.deliver()
	e.expect(e.request("GET", "/switchboard/v1/deliveries?state=Failed", e.adminToken, nil), http.StatusOK).json(t, &q)
	if len(q.Records) != 1 || q.Records[0]["errorCode"] != "SMS-UP-410" {
		t.Fatalf("failed queue: %+v", q.Records)
	}
	for _, bad := range []string{"state=Lost", "limit=0", "limit=501", "limit=x"} {
		r := e.expect(e.request("GET", "/switchboard/v1/deliveries?"+bad, e.adminToken, nil), http.StatusBadRequest)
		if !strings.Contains(string(r.body), `"parameterName"`) {
			t.Fatalf("%s: %s", bad, r.body)
		}
	}
	e.expect(e.request("GET", "/switchboard/v1/subscriptions", e.adminToken, nil), http.StatusOK).json(t, &q)
	if q.Records == nil || len(q.Records) != 0 {
		t.Fatalf("subscriptions: %+v", q.Records)
	}
}
