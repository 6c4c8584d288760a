package httpapi_test

import (
	"fmt"
	"testing"
	"time"
)

// TestMessageStoreConfiguration: retentionPeriod in RingCentral's shape,
// per account; the administrator sets it, the retention worker then
// deletes the account's Fax and VoiceMail messages older than it.
func TestMessageStoreConfiguration(t *testing.T) {
	e := newTestEnv(t)
	alice, bob, carol := e.token(e.alice), e.token(e.bob), e.token(e.carol)
	path := "/restapi/v1.0/account/~/message-store-configuration"

	if got := e.expect(e.request("GET", path, bob, nil), 200).object(t); len(got) != 0 {
		t.Fatalf("unset retention period: %v", got)
	}
	// Only the administrator changes it; bad values are 400.
	r := e.expect(e.request("PUT", path, bob, map[string]any{"retentionPeriod": 30}), 403)
	errorOf(t, r)
	for _, body := range []any{map[string]any{"retentionPeriod": 6}, map[string]any{"retentionPeriod": 91}, map[string]any{}, `{"retentionPeriod": "x"}`} {
		r := e.request("PUT", path, alice, body)
		if _, param := errorOf(t, r); r.StatusCode != 400 || (param != "retentionPeriod" && param != "") {
			t.Fatalf("PUT %v: %d %s", body, r.StatusCode, r.body)
		}
	}
	if got := e.expect(e.request("PUT", path, alice, map[string]any{"retentionPeriod": 30}), 200).object(t); got["retentionPeriod"] != 30.0 {
		t.Fatalf("PUT: %v", got)
	}
	if got := e.expect(e.request("GET", fmt.Sprintf("/restapi/v1.0/account/%d/message-store-configuration", e.acc1.ID), bob, nil), 200).object(t); got["retentionPeriod"] != 30.0 {
		t.Fatalf("GET by id: %v", got)
	}
	// Another account: not found, and its own setting is untouched.
	e.expect(e.request("GET", fmt.Sprintf("/restapi/v1.0/account/%d/message-store-configuration", e.acc1.ID), carol, nil), 404)
	e.expect(e.request("PUT", fmt.Sprintf("/restapi/v1.0/account/%d/message-store-configuration", e.acc1.ID), carol, map[string]any{"retentionPeriod": 7}), 404)
	if got := e.expect(e.request("GET", path, carol, nil), 200).object(t); len(got) != 0 {
		t.Fatalf("account 2's setting: %v", got)
	}
	// The admin API's retention override keeps it.
	e.expect(e.request("PUT", fmt.Sprintf("/switchboard/v1/accounts/%d/retention", e.acc1.ID), e.adminToken,
		map[string]any{"deletePeriodSeconds": 0, "purgePeriodSeconds": 0, "mailboxCap": 0}), 200)
	if got := e.expect(e.request("GET", path, bob, nil), 200).object(t); got["retentionPeriod"] != 30.0 {
		t.Fatalf("after the admin API's retention PUT: %v", got)
	}

	// The worker applies it: a 40-day-old fax goes, a 40-day-old SMS and a
	// 10-day-old fax stay; account 2 has no period.
	fax := func(age time.Duration) msg {
		return msg{"type": "Fax", "direction": "Inbound", "from": map[string]string{"phoneNumber": "+15550000009"},
			"to": []map[string]string{{"phoneNumber": "+16505550102"}}, "creationTime": baseTime.Add(-age).Format(time.RFC3339)}
	}
	day := 24 * time.Hour
	recs := e.importMessages(e.bob, fax(40*day), sms("Inbound", "+15550000001", "+16505550102", "old sms", baseTime.Add(-40*day)), fax(10*day))
	carolFax := e.importMessages(e.carol, fax(40*day))[0]
	res := e.expect(e.request("POST", "/switchboard/v1/retention/run", e.adminToken, nil), 200).object(t)
	if res["expired"] != 1.0 {
		t.Fatalf("retention run: %v", res)
	}
	for i, want := range []string{"Deleted", "Alive", "Alive"} {
		if got := e.message(bob, fmt.Sprintf("%s/%d", mailboxPath(e.bob), int64(idOf(recs[i]))))["availability"]; got != want {
			t.Errorf("message %d: %v, want %s", i, got, want)
		}
	}
	if got := e.message(carol, fmt.Sprintf("%s/%d", mailboxPath(e.carol), int64(idOf(carolFax))))["availability"]; got != "Alive" {
		t.Fatalf("account 2's old fax: %v", got)
	}
}
