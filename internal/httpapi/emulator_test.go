package httpapi_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/httpapi"
)

func TestClockAdvance(t *testing.T) {
	e := newTestEnv(t)
	r := e.expect(e.request("POST", "/switchboard/v1/clock/advance", e.adminToken, map[string]any{"seconds": 3600}), 200).object(t)
	if r["now"] != "2026-11-20T13:00:00.000Z" {
		t.Fatalf("now %v", r["now"])
	}
	for _, body := range []any{map[string]any{"seconds": -1}, map[string]any{}, "", `{"seconds":"soon"}`, map[string]any{"seconds": 1e12}} {
		if r := e.request("POST", "/switchboard/v1/clock/advance", e.adminToken, body); r.StatusCode != 400 {
			t.Errorf("advance %v: %d %s", body, r.StatusCode, r.body)
		}
	}
	// curl -d sends JSON as a form by default; that is accepted. Other
	// content types are not.
	e.expect(e.request("POST", "/switchboard/v1/clock/advance", e.adminToken, `{"seconds": 1}`, "Content-Type", "application/x-www-form-urlencoded"), 200)
	if r := e.request("POST", "/switchboard/v1/clock/advance", e.adminToken, `{"seconds": 1}`, "Content-Type", "text/plain"); r.StatusCode != 415 {
		t.Fatalf("text/plain body: %d", r.StatusCode)
	}
	if r := e.request("POST", "/switchboard/v1/clock/advance", e.token(e.alice), map[string]any{"seconds": 1}); r.StatusCode != 401 {
		t.Fatalf("a user token moved the clock: %d", r.StatusCode)
	}
}

// TestLifecycleThroughEmulator watches a message go Deleted -> Purged ->
// gone with the emulator controls, as a developer's test would.
func TestLifecycleThroughEmulator(t *testing.T) {
	e := newTestEnv(t)
	tok := e.token(e.bob)
	rec := e.importMessages(e.bob, sms("Inbound", "+15550000001", "+16505550102", "short-lived", baseTime.Add(-time.Minute)))[0]
	one := fmt.Sprintf("/restapi/v1.0/account/~/extension/~/message-store/%d", int64(idOf(rec)))
	content := rec["attachments"].([]any)[0].(map[string]any)["uri"].(string)
	run := func() switchboard.RetentionResult {
		var res switchboard.RetentionResult
		e.expect(e.request("POST", "/switchboard/v1/retention/run", e.adminToken, nil), 200).json(t, &res)
		return res
	}
	// Moving time expires access tokens as real time would: log in again.
	advance := func(d time.Duration) {
		e.expect(e.request("POST", "/switchboard/v1/clock/advance", e.adminToken, map[string]any{"seconds": d.Seconds()}), 200)
		tok = e.token(e.bob)
	}

	e.expect(e.request("DELETE", one, tok, nil), 204)
	advance(5*24*time.Hour - time.Second)
	if res := run(); res.Purged != 0 {
		t.Fatalf("purged before the delete period: %+v", res)
	}
	e.expect(e.request("PATCH", one, tok, map[string]string{"availability": "Alive"}), 200) // still restorable
	e.expect(e.request("DELETE", one, tok, nil), 204)
	advance(5*24*time.Hour + time.Second)
	if res := run(); res.Purged != 1 || res.Removed != 0 {
		t.Fatalf("after the delete period: %+v", res)
	}
	m := e.expect(e.request("GET", one, tok, nil), 200).object(t)
	if m["availability"] != "Purged" || m["subject"] != nil {
		t.Fatalf("purged message %v", m)
	}
	if r := e.request("GET", content, tok, nil); r.StatusCode != 404 {
		t.Fatalf("content of a purged message: %d", r.StatusCode)
	}
	if r := e.request("PATCH", one, tok, map[string]string{"availability": "Alive"}); r.StatusCode != 400 {
		t.Fatalf("restore of a purged message: %d", r.StatusCode)
	}
	if res := run(); res.Purged != 0 || res.Removed != 0 {
		t.Fatalf("a second run did work again: %+v", res)
	}
	advance(5*24*time.Hour + time.Second)
	if res := run(); res.Removed != 1 {
		t.Fatalf("after the purge period: %+v", res)
	}
	if r := e.request("GET", one, tok, nil); r.StatusCode != 404 {
		t.Fatalf("removed message: %d %s", r.StatusCode, r.body)
	}
}

func TestAccountRetentionOverride(t *testing.T) {
	e := newTestEnv(t)
	tok := e.token(e.bob)
	path := fmt.Sprintf("/switchboard/v1/accounts/%d/retention", e.acc1.ID)
	got := e.expect(e.request("GET", path, e.adminToken, nil), 200).object(t)
	eff := got["effective"].(map[string]any)
	if got["mailboxCap"] != 0.0 || eff["deletePeriodSeconds"] != 432000.0 || eff["mailboxCap"] != float64(switchboard.DefaultMailboxCap) {
		t.Fatalf("defaults %v", got)
	}
	got = e.expect(e.request("PUT", path, e.adminToken, map[string]any{"deletePeriodSeconds": 3600, "purgePeriodSeconds": 0, "mailboxCap": 2}), 200).object(t)
	if eff := got["effective"].(map[string]any); eff["deletePeriodSeconds"] != 3600.0 || eff["purgePeriodSeconds"] != 432000.0 || eff["mailboxCap"] != 2.0 {
		t.Fatalf("override %v", got)
	}

	recs := e.importMessages(e.bob,
		sms("Inbound", "+15550000001", "+16505550102", "oldest", baseTime.Add(-3*time.Minute)),
		sms("Inbound", "+15550000001", "+16505550102", "middle", baseTime.Add(-2*time.Minute)),
		sms("Inbound", "+15550000001", "+16505550102", "newest", baseTime.Add(-time.Minute)))
	var res switchboard.RetentionResult
	e.expect(e.request("POST", "/switchboard/v1/retention/run", e.adminToken, nil), 200).json(t, &res)
	if res.Capped != 1 {
		t.Fatalf("cap of 2 with 3 messages: %+v", res)
	}
	ids, _ := e.listIDs("/restapi/v1.0/account/~/extension/~/message-store", tok)
	if fmt.Sprint(ids) != fmt.Sprint([]float64{idOf(recs[2]), idOf(recs[1])}) {
		t.Fatalf("the cap must delete the oldest: %v", ids)
	}
	// The account's one-hour delete period applies; account 2 keeps the default.
	e.clock.Advance(time.Hour + time.Second)
	e.expect(e.request("POST", "/switchboard/v1/retention/run", e.adminToken, nil), 200).json(t, &res)
	if res.Purged != 1 {
		t.Fatalf("account delete period of 1h: %+v", res)
	}

	for _, body := range []map[string]any{{"deletePeriodSeconds": -1}, {"mailboxCap": -2}, {"purgePeriodSeconds": 1e19}} {
		if r := e.request("PUT", path, e.adminToken, body); r.StatusCode != 400 {
			t.Errorf("PUT %v: %d %s", body, r.StatusCode, r.body)
		}
	}
	if r := e.request("GET", "/switchboard/v1/accounts/99/retention", e.adminToken, nil); r.StatusCode != 404 {
		t.Fatalf("unknown account: %d", r.StatusCode)
	}
	if r := e.request("PUT", path, tok, map[string]any{"mailboxCap": 1}); r.StatusCode != 401 {
		t.Fatalf("a user token changed retention: %d", r.StatusCode)
	}
}

// TestEmulatorOffInNormalMode: with the real clock, moving time and running
// retention on demand are refused.
func TestEmulatorOffInNormalMode(t *testing.T) {
	e := newTestEnv(t)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := httptest.NewServer(httpapi.New(httpapi.Deps{Store: e.store, Auth: e.auth, Clock: e.clock, Logger: logger, Retention: e.retention}, httpapi.Config{}))
	defer srv.Close()
	for _, path := range []string{"/switchboard/v1/clock/advance", "/switchboard/v1/retention/run"} {
		r := e.request("POST", srv.URL+path, e.adminToken, map[string]any{"seconds": 60})
		if code, _ := errorOf(t, r); r.StatusCode != 403 || code != "CMN-109" {
			t.Errorf("%s in normal mode: %d %s", path, r.StatusCode, r.body)
		}
	}
}
