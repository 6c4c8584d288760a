package httpapi_test

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// listIDs lists a mailbox and returns the ids in order, and the decoded body.
func (e *testEnv) listIDs(path, token string) ([]float64, map[string]any) {
	e.t.Helper()
	body := e.expect(e.request("GET", path, token, nil), 200).object(e.t)
	var ids []float64
	for _, r := range body["records"].([]any) {
		ids = append(ids, r.(map[string]any)["id"].(float64))
	}
	return ids, body
}

func idOf(m map[string]any) float64 { return m["id"].(float64) }

func TestListFilters(t *testing.T) {
	e := newTestEnv(t)
	tok := e.token(e.alice)
	now := baseTime
	in1 := sms("Inbound", "+15550000001", "+16505550101", "hello 1", now.Add(-1*time.Hour))
	out1 := sms("Outbound", "+16505550101", "+15550000001", "reply 1", now.Add(-50*time.Minute))
	in2 := sms("Inbound", "+15550000002", "+16505550101", "other", now.Add(-40*time.Minute))
	in2["readStatus"] = "Read"
	fax := msg{"type": "Fax", "direction": "Inbound", "from": map[string]string{"phoneNumber": "+15550000003"},
		"to": []map[string]string{{"phoneNumber": "+16505550101"}}, "creationTime": now.Add(-30 * time.Minute).Format(time.RFC3339), "faxPageCount": 2}
	vm := msg{"type": "VoiceMail", "direction": "Inbound", "from": map[string]string{"phoneNumber": "+15550000001"},
		"to": []map[string]string{{"phoneNumber": "+16505550101"}}, "creationTime": now.Add(-20 * time.Minute).Format(time.RFC3339)}
	old := sms("Inbound", "+15550000001", "+16505550101", "two days ago", now.Add(-48*time.Hour))
	deleted := sms("Inbound", "+15550000001", "+16505550101", "deleted", now.Add(-10*time.Minute))
	deleted["availability"] = "Deleted"
	recs := e.importMessages(e.alice, in1, out1, in2, fax, vm, old, deleted)
	id := func(i int) float64 { return idOf(recs[i]) }
	conv := recs[0]["conversation"].(map[string]any)["id"].(string)
	if recs[1]["conversation"].(map[string]any)["id"] != conv {
		t.Fatalf("both directions of one exchange must share a conversation: %v vs %v", recs[0]["conversation"], recs[1]["conversation"])
	}

	base := "/restapi/v1.0/account/~/extension/~/message-store"
	tests := []struct {
		query string
		want  []float64
	}{
		// Default: Alive only, the last 24 hours, newest first.
		{"", []float64{id(4), id(3), id(2), id(1), id(0)}},
		{"?messageType=SMS", []float64{id(2), id(1), id(0)}},
		{"?messageType=Fax&messageType=VoiceMail", []float64{id(4), id(3)}},
		{"?messageType=Fax,VoiceMail", []float64{id(4), id(3)}},
		{"?direction=Outbound", []float64{id(1)}},
		{"?readStatus=Read", []float64{id(2), id(1)}},
		{"?readStatus=Unread&messageType=SMS", []float64{id(0)}},
		{"?availability=Deleted", []float64{id(6)}},
		{"?availability=Alive&availability=Deleted", []float64{id(6), id(4), id(3), id(2), id(1), id(0)}},
		{"?dateFrom=" + url.QueryEscape(now.Add(-72*time.Hour).Format(time.RFC3339)), []float64{id(4), id(3), id(2), id(1), id(0), id(5)}},
		{"?dateFrom=" + now.Add(-45*time.Minute).Format("2006-01-02T15:04"), []float64{id(4), id(3), id(2)}},
		{"?dateTo=" + url.QueryEscape(now.Add(-40*time.Minute).Format(time.RFC3339)), []float64{id(1), id(0)}},
		{"?conversationId=" + conv, []float64{id(1), id(0)}},
		{"?phoneNumber=%2B15550000001", []float64{id(4), id(1), id(0)}},
		{"?phoneNumber=%2B15550000001&messageType=SMS", []float64{id(1), id(0)}},
		{"?distinctConversations=true&messageType=SMS", []float64{id(2), id(1)}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			got, _ := e.listIDs(base+tt.query, tok)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("ids %v, want %v", got, tt.want)
			}
		})
	}
}

func TestListPaging(t *testing.T) {
	e := newTestEnv(t)
	tok := e.token(e.bob)
	var msgs []msg
	for i := range 5 {
		msgs = append(msgs, sms("Inbound", "+15550000001", "+16505550102", fmt.Sprint("m", i), baseTime.Add(-time.Duration(60-i)*time.Minute)))
	}
	recs := e.importMessages(e.bob, msgs...)

	ids, body := e.listIDs("/restapi/v1.0/account/~/extension/~/message-store?perPage=2", tok)
	if fmt.Sprint(ids) != fmt.Sprint([]float64{idOf(recs[4]), idOf(recs[3])}) {
		t.Fatalf("page 1: %v", ids)
	}
	paging := body["paging"].(map[string]any)
	if paging["page"] != 1.0 || paging["perPage"] != 2.0 || paging["pageStart"] != 0.0 || paging["pageEnd"] != 1.0 {
		t.Fatalf("paging %v", paging)
	}
	nav := body["navigation"].(map[string]any)
	if nav["previousPage"] != nil || nav["firstPage"] == nil || nav["nextPage"] == nil {
		t.Fatalf("navigation %v", nav)
	}
	// Follow nextPage as the SDKs do: an absolute URL with resolved ids.
	var all []float64
	all = append(all, ids...)
	next := nav["nextPage"].(map[string]any)["uri"].(string)
	if !strings.HasPrefix(next, e.srv.URL+fmt.Sprintf("/restapi/v1.0/account/%d/extension/%d/", e.acc1.ID, e.bob.ID)) {
		t.Fatalf("nextPage uri %q is not absolute with resolved ids", next)
	}
	for next != "" {
		ids, body = e.listIDs(next, tok)
		all = append(all, ids...)
		next = ""
		if n, ok := body["navigation"].(map[string]any)["nextPage"].(map[string]any); ok {
			next = n["uri"].(string)
		}
	}
	if len(all) != 5 || all[4] != idOf(recs[0]) {
		t.Fatalf("walked %v", all)
	}
	if p := body["paging"].(map[string]any); p["page"] != 3.0 || p["pageStart"] != 4.0 || p["pageEnd"] != 4.0 {
		t.Fatalf("last page paging %v", p)
	}

	// Beyond the end: an empty page without pageStart.
	ids, body = e.listIDs("/restapi/v1.0/account/~/extension/~/message-store?perPage=2&page=9", tok)
	if len(ids) != 0 || body["paging"].(map[string]any)["pageStart"] != nil {
		t.Fatalf("page 9: %v %v", ids, body["paging"])
	}
	// RingCentral clamps perPage above 1000 and answers perPage=0 with an
	// empty page.
	_, body = e.listIDs("/restapi/v1.0/account/~/extension/~/message-store?perPage=5000", tok)
	if body["paging"].(map[string]any)["perPage"] != 1000.0 {
		t.Fatalf("perPage=5000 not clamped: %v", body["paging"])
	}
	ids, body = e.listIDs("/restapi/v1.0/account/~/extension/~/message-store?perPage=0", tok)
	if len(ids) != 0 || body["paging"].(map[string]any)["perPage"] != 0.0 {
		t.Fatalf("perPage=0: %v %v", ids, body["paging"])
	}
}

func TestListBadParameters(t *testing.T) {
	e := newTestEnv(t)
	tok := e.token(e.bob)
	tests := []struct {
		query, param string
		status       int
		code         string
	}{
		{"messageType=Email", "messageType", 400, "CMN-101"},
		{"availability=Gone", "availability", 400, "CMN-101"},
		{"direction=Sideways", "direction", 400, "CMN-101"},
		{"readStatus=Maybe", "readStatus", 400, "CMN-101"},
		{"dateFrom=notadate", "dateFrom", 400, "CMN-101"},
		{"dateTo=2026-13-45", "dateTo", 400, "CMN-101"},
		{"dateFrom=2026-11-20&dateTo=2026-11-19", "dateFrom", 400, "CMN-101"},
		{"perPage=-1", "perPage", 400, "CMN-101"},
		{"perPage=ten", "perPage", 400, "CMN-101"},
		{"perPage=99999999999999999999", "perPage", 400, "CMN-101"},
		{"page=0", "page", 400, "CMN-101"},
		{"page=abc", "page", 400, "CMN-101"},
		{"conversationId=abc", "conversationId", 400, "CMN-101"},
		{"distinctConversations=perhaps", "distinctConversations", 400, "CMN-101"},
		{"phoneNumber=12345", "phoneNumber", 400, "CMN-101"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := e.request("GET", "/restapi/v1.0/account/~/extension/~/message-store?"+tt.query, tok, nil)
			if r.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", r.StatusCode, tt.status, r.body)
			}
			code, param := errorOf(t, r)
			if code != tt.code || param != tt.param {
				t.Fatalf("error %s/%s, want %s/%s", code, param, tt.code, tt.param)
			}
		})
	}
}

func TestMalformedPathsAndBodies(t *testing.T) {
	e := newTestEnv(t)
	tok := e.token(e.bob)
	rec := e.importMessages(e.bob, sms("Inbound", "+15550000001", "+16505550102", "x", baseTime.Add(-time.Minute)))[0]
	msgPath := fmt.Sprintf("/restapi/v1.0/account/~/extension/~/message-store/%d", int64(idOf(rec)))
	tests := []struct {
		method, path string
		body         any
		status       int
		param        string
	}{
		{"GET", "/restapi/v1.0/account/abc/extension/~/message-store", nil, 400, "accountId"},
		{"GET", "/restapi/v1.0/account/~/extension/-5/message-store", nil, 400, "extensionId"},
		{"GET", "/restapi/v1.0/account/~/extension/~/message-store/12x", nil, 400, "messageId"},
		{"GET", "/restapi/v1.0/account/~/extension/~/message-store/1,,2", nil, 400, "messageId"},
		{"GET", "/restapi/v1.0/account/~/extension/~/message-store/" + strings.Repeat("1,", 50) + "1", nil, 400, "messageId"},
		{"GET", "/restapi/v1.0/account/~/extension/~/message-store/999999", nil, 404, "messageId"},
		{"GET", msgPath + "/content/abc", nil, 400, "attachmentId"},
		{"GET", msgPath + "/content/999999", nil, 404, "attachmentId"},
		{"PUT", msgPath, `{"readStatus":"Sideways"}`, 400, "readStatus"},
		{"PUT", msgPath, `{}`, 400, "readStatus"},
		{"PUT", msgPath, `{"readStatus":`, 400, ""},
		{"PUT", msgPath, `{"availability":"Deleted"}`, 400, "availability"},
		{"PATCH", msgPath, `{"availability":"Vanished"}`, 400, "availability"},
		{"PATCH", msgPath, `[1,2]`, 400, ""},
		{"DELETE", msgPath + "?purge=sure", nil, 400, "purge"},
		{"DELETE", msgPath + "?type=Email", nil, 400, "type"},
		{"DELETE", "/restapi/v1.0/account/~/extension/~/message-store?conversationId=x", nil, 400, "conversationId"},
		{"DELETE", "/restapi/v1.0/account/~/extension/~/message-store?dateTo=yesterday", nil, 400, "dateTo"},
		{"GET", "/restapi/v1.0/account/~/extension/~/no-such-thing", nil, 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			r := e.request(tt.method, tt.path, tok, tt.body)
			if r.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", r.StatusCode, tt.status, r.body)
			}
			if _, param := errorOf(t, r); param != tt.param {
				t.Fatalf("parameterName %q, want %q: %s", param, tt.param, r.body)
			}
		})
	}
	// A body over the limit is refused with 413, not read to the end.
	big := e.request("PUT", msgPath, tok, `{"readStatus":"Read","pad":"`+strings.Repeat("x", 2<<20)+`"}`)
	if big.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized body: %d %s", big.StatusCode, big.body)
	}
}

func TestGetReadUpdateDelete(t *testing.T) {
	e := newTestEnv(t)
	tok := e.token(e.bob)
	text := "The quick brown fox"
	recs := e.importMessages(e.bob,
		sms("Inbound", "+15550000001", "+16505550102", text, baseTime.Add(-2*time.Minute)),
		sms("Inbound", "+15550000001", "+16505550102", "second", baseTime.Add(-time.Minute)))
	one := fmt.Sprintf("/restapi/v1.0/account/~/extension/~/message-store/%d", int64(idOf(recs[0])))

	got := e.expect(e.request("GET", one, tok, nil), 200).object(t)
	if got["readStatus"] != "Unread" || got["messageStatus"] != "Received" || got["subject"] != text || got["availability"] != "Alive" {
		t.Fatalf("message %v", got)
	}
	wantURI := e.srv.URL + fmt.Sprintf("/restapi/v1.0/account/%d/extension/%d/message-store/%d", e.acc1.ID, e.bob.ID, int64(idOf(recs[0])))
	if got["uri"] != wantURI {
		t.Fatalf("uri %v, want %v", got["uri"], wantURI)
	}

	// Attachment content, whole and by range.
	att := got["attachments"].([]any)[0].(map[string]any)
	r := e.request("GET", att["uri"].(string), tok, nil)
	if r.StatusCode != 200 || string(r.body) != text || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("content: %d %q %s", r.StatusCode, r.body, r.Header.Get("Content-Type"))
	}
	r = e.request("GET", att["uri"].(string)+"?contentDisposition=Attachment&contentDispositionFilename=fox.txt", tok, nil, "Range", "bytes=4-8")
	if r.StatusCode != 206 || string(r.body) != "quick" || r.Header.Get("Content-Range") != fmt.Sprintf("bytes 4-8/%d", len(text)) {
		t.Fatalf("range: %d %q %v", r.StatusCode, r.body, r.Header)
	}
	if _, params, _ := mime.ParseMediaType(r.Header.Get("Content-Disposition")); params["filename"] != "fox.txt" {
		t.Fatalf("Content-Disposition %q", r.Header.Get("Content-Disposition"))
	}
	r = e.request("GET", att["uri"].(string), tok, nil, "Range", "bytes=500-600")
	if code, _ := errorOf(t, r); r.StatusCode != 416 || code != "CMN-107" {
		t.Fatalf("unsatisfiable range: %d %s", r.StatusCode, r.body)
	}
	// The media host style: token in the query.
	if r := e.request("GET", att["uri"].(string)+"?access_token="+tok, "", nil); r.StatusCode != 200 {
		t.Fatalf("access_token query: %d", r.StatusCode)
	}

	// PUT marks read; PATCH deletes and restores.
	upd := e.expect(e.request("PUT", one, tok, map[string]string{"readStatus": "Read"}), 200).object(t)
	if upd["readStatus"] != "Read" {
		t.Fatalf("after PUT %v", upd)
	}
	e.clock.Advance(time.Second)
	del := e.expect(e.request("PATCH", one, tok, map[string]string{"availability": "Deleted"}), 200).object(t)
	if del["availability"] != "Deleted" || del["lastModifiedTime"] == upd["lastModifiedTime"] {
		t.Fatalf("after PATCH Deleted %v", del)
	}
	if ids, _ := e.listIDs("/restapi/v1.0/account/~/extension/~/message-store", tok); len(ids) != 1 {
		t.Fatalf("deleted message still listed: %v", ids)
	}
	if res := e.expect(e.request("PATCH", one, tok, map[string]string{"availability": "Alive"}), 200).object(t); res["availability"] != "Alive" {
		t.Fatalf("restore %v", res)
	}

	// DELETE: Deleted, then a second DELETE purges; a purged message cannot
	// be restored and its content is gone.
	e.expect(e.request("DELETE", one, tok, nil), 204)
	if m := e.expect(e.request("GET", one, tok, nil), 200).object(t); m["availability"] != "Deleted" {
		t.Fatalf("after DELETE %v", m)
	}
	e.expect(e.request("DELETE", one, tok, nil), 204)
	if m := e.expect(e.request("GET", one, tok, nil), 200).object(t); m["availability"] != "Purged" {
		t.Fatalf("after second DELETE %v", m)
	}
	r = e.request("PATCH", one, tok, map[string]string{"availability": "Alive"})
	if code, _ := errorOf(t, r); r.StatusCode != 400 || code != "MSG-342" {
		t.Fatalf("restore purged: %d %s", r.StatusCode, r.body)
	}
	if r := e.request("GET", att["uri"].(string), tok, nil); r.StatusCode != 404 {
		t.Fatalf("content of purged message: %d", r.StatusCode)
	}

	// purge=true goes straight to Purged.
	two := fmt.Sprintf("/restapi/v1.0/account/~/extension/~/message-store/%d", int64(idOf(recs[1])))
	e.expect(e.request("DELETE", two+"?purge=true", tok, nil), 204)
	if m := e.expect(e.request("GET", two, tok, nil), 200).object(t); m["availability"] != "Purged" {
		t.Fatalf("after purge %v", m)
	}
	// The JS SDK sends Content-Type: application/json with empty bodies and
	// rc-ex sends {} with DELETE.
	e.expect(e.request("DELETE", one, tok, "{}"), 204)
	e.expect(e.request("GET", one, tok, ""), 200)
}

func TestBatchGet(t *testing.T) {
	e := newTestEnv(t)
	tok := e.token(e.bob)
	recs := e.importMessages(e.bob,
		sms("Inbound", "+15550000001", "+16505550102", "a", baseTime.Add(-2*time.Minute)),
		sms("Inbound", "+15550000001", "+16505550102", "b", baseTime.Add(-time.Minute)))
	aliceRec := e.importMessages(e.alice, sms("Inbound", "+15550000001", "+16505550101", "alice's", baseTime.Add(-time.Minute)))[0]
	ids := fmt.Sprintf("%d,999999,%d,%d", int64(idOf(recs[0])), int64(idOf(recs[1])), int64(idOf(aliceRec)))
	path := "/restapi/v1.0/account/~/extension/~/message-store/" + ids

	// Default: multipart/mixed with a status summary first, as the JS SDK parses it.
	r := e.request("GET", path, tok, nil)
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if r.StatusCode != 207 || err != nil || mt != "multipart/mixed" || strings.Contains(r.Header.Get("Content-Type"), `"`) {
		t.Fatalf("batch: %d %q", r.StatusCode, r.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(strings.NewReader(string(r.body)), params["boundary"])
	var parts []map[string]any
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		must(t, err)
		b, _ := io.ReadAll(p)
		resp := &response{r.Response, b}
		parts = append(parts, resp.object(t))
	}
	if len(parts) != 5 {
		t.Fatalf("%d parts, want summary + 4", len(parts))
	}
	statuses := []float64{}
	for _, s := range parts[0]["response"].([]any) {
		statuses = append(statuses, s.(map[string]any)["status"].(float64))
	}
	if fmt.Sprint(statuses) != "[200 404 200 404]" {
		t.Fatalf("statuses %v (another mailbox's message must be 404)", statuses)
	}
	if parts[1]["subject"] != "a" || parts[3]["subject"] != "b" || parts[2]["errorCode"] != "CMN-102" || parts[4]["errorCode"] != "CMN-102" {
		t.Fatalf("parts %v", parts)
	}

	// The JSON variant.
	r = e.request("GET", path, tok, nil, "Accept", "application/vnd.ringcentral.multipart+json")
	var arr []map[string]any
	r.json(t, &arr)
	if r.StatusCode != 207 || len(arr) != 4 || arr[0]["status"] != 200.0 || arr[1]["status"] != 404.0 || arr[1]["resourceId"] != "999999" {
		t.Fatalf("json batch: %d %s", r.StatusCode, r.body)
	}
	if arr[0]["body"].(map[string]any)["subject"] != "a" {
		t.Fatalf("json batch body %v", arr[0])
	}

	// Batch delete: all found → 204; one missing → 207.
	both := fmt.Sprintf("/restapi/v1.0/account/~/extension/~/message-store/%d,%d", int64(idOf(recs[0])), int64(idOf(recs[1])))
	e.expect(e.request("DELETE", both, tok, nil), 204)
	if r := e.request("DELETE", both+",999999", tok, nil); r.StatusCode != 207 {
		t.Fatalf("batch delete with a missing id: %d", r.StatusCode)
	}
}

func TestDeleteByFilter(t *testing.T) {
	e := newTestEnv(t)
	tok := e.token(e.bob)
	a := sms("Inbound", "+15550000001", "+16505550102", "conv A 1", baseTime.Add(-3*time.Hour))
	b := sms("Inbound", "+15550000001", "+16505550102", "conv A 2", baseTime.Add(-2*time.Hour))
	c := sms("Inbound", "+15550000002", "+16505550102", "conv B", baseTime.Add(-time.Hour))
	fax := msg{"type": "Fax", "direction": "Inbound", "from": map[string]string{"phoneNumber": "+15550000003"},
		"to": []map[string]string{{"phoneNumber": "+16505550102"}}, "creationTime": baseTime.Add(-30 * time.Minute).Format(time.RFC3339)}
	recs := e.importMessages(e.bob, a, b, c, fax)
	convA := recs[0]["conversation"].(map[string]any)["id"].(string)
	store := "/restapi/v1.0/account/~/extension/~/message-store"

	e.expect(e.request("DELETE", store+"?conversationId="+convA+"&dateTo="+url.QueryEscape(baseTime.Add(-150*time.Minute).Format(time.RFC3339)), tok, nil), 204)
	ids, _ := e.listIDs(store, tok)
	if fmt.Sprint(ids) != fmt.Sprint([]float64{idOf(recs[3]), idOf(recs[2]), idOf(recs[1])}) {
		t.Fatalf("after deleting conv A before 2.5h ago: %v", ids)
	}
	e.expect(e.request("DELETE", store+"?type=Fax&purge=true", tok, nil), 204)
	if m := e.expect(e.request("GET", fmt.Sprintf("%s/%d", store, int64(idOf(recs[3]))), tok, nil), 200).object(t); m["availability"] != "Purged" {
		t.Fatalf("fax after purge by filter: %v", m["availability"])
	}
	e.expect(e.request("DELETE", store, tok, "{}"), 204)
	if ids, _ := e.listIDs(store, tok); len(ids) != 0 {
		t.Fatalf("after deleting all: %v", ids)
	}
	// Another mailbox is untouched.
	aliceTok := e.token(e.alice)
	e.importMessages(e.alice, sms("Inbound", "+15550000001", "+16505550101", "keep", baseTime.Add(-time.Minute)))
	e.expect(e.request("DELETE", store, tok, nil), 204)
	if ids, _ := e.listIDs(store, aliceTok); len(ids) != 1 {
		t.Fatalf("delete by filter reached another mailbox: %v", ids)
	}
}

// TestTenancy checks that no extension reads or changes another's mailbox
// without the admin role, and that no account sees another.
func TestTenancy(t *testing.T) {
	e := newTestEnv(t)
	alice, bob, carol := e.token(e.alice), e.token(e.bob), e.token(e.carol)
	aliceMsg := e.importMessages(e.alice, sms("Inbound", "+15550000001", "+16505550101", "alice private", baseTime.Add(-time.Minute)))[0]
	bobMsg := e.importMessages(e.bob, sms("Inbound", "+15550000001", "+16505550102", "bob private", baseTime.Add(-time.Minute)))[0]
	aliceOne := fmt.Sprintf("%s/%d", mailboxPath(e.alice), int64(idOf(aliceMsg)))
	bobOne := fmt.Sprintf("%s/%d", mailboxPath(e.bob), int64(idOf(bobMsg)))
	aliceAtt := aliceMsg["attachments"].([]any)[0].(map[string]any)["uri"].(string)

	denied := []struct {
		name, method, path, token string
		body                      any
		status                    int
	}{
		{"user lists another user's mailbox", "GET", mailboxPath(e.alice), bob, nil, 403},
		{"user reads another user's message", "GET", aliceOne, bob, nil, 403},
		{"user reads another's message through own mailbox path", "GET", fmt.Sprintf("/restapi/v1.0/account/~/extension/~/message-store/%d", int64(idOf(aliceMsg))), bob, nil, 404},
		{"user downloads another's attachment", "GET", aliceAtt, bob, nil, 403},
		{"user marks another's message", "PUT", aliceOne, bob, map[string]string{"readStatus": "Read"}, 403},
		{"user deletes another's message", "DELETE", aliceOne, bob, nil, 403},
		{"user deletes another's mailbox by filter", "DELETE", mailboxPath(e.alice), bob, nil, 403},
		{"user lists another's phone numbers", "GET", fmt.Sprintf("/restapi/v1.0/account/%d/extension/%d/phone-number", e.acc1.ID, e.alice.ID), bob, nil, 403},
		{"other account lists a mailbox", "GET", mailboxPath(e.alice), carol, nil, 404},
		{"other account reads a message", "GET", aliceOne, carol, nil, 404},
		{"other account reads an attachment", "GET", aliceAtt, carol, nil, 404},
		{"other account admin deletes", "DELETE", aliceOne, carol, nil, 404},
		{"other account reads the account", "GET", fmt.Sprintf("/restapi/v1.0/account/%d", e.acc1.ID), carol, nil, 404},
		{"other account lists extensions", "GET", fmt.Sprintf("/restapi/v1.0/account/%d/extension", e.acc1.ID), carol, nil, 404},
		{"other account reads an extension", "GET", fmt.Sprintf("/restapi/v1.0/account/%d/extension/%d", e.acc1.ID, e.alice.ID), carol, nil, 404},
		{"admin of account 2 reads account 1 via own account id", "GET", fmt.Sprintf("/restapi/v1.0/account/%d/extension/%d/message-store", e.acc2.ID, e.alice.ID), carol, nil, 404},
		{"no token", "GET", mailboxPath(e.alice), "", nil, 401},
		{"bad token", "GET", mailboxPath(e.alice), "not-a-token", nil, 401},
	}
	for _, tt := range denied {
		t.Run(tt.name, func(t *testing.T) {
			r := e.request(tt.method, tt.path, tt.token, tt.body)
			if r.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", r.StatusCode, tt.status, r.body)
			}
			errorOf(t, r)
		})
	}
	// Nothing changed through the denials.
	if m := e.expect(e.request("GET", aliceOne, alice, nil), 200).object(t); m["readStatus"] != "Unread" || m["availability"] != "Alive" {
		t.Fatalf("alice's message was changed by a denied request: %v", m)
	}

	// The account admin may read and change mailboxes of its own account.
	if m := e.expect(e.request("GET", bobOne, alice, nil), 200).object(t); m["subject"] != "bob private" {
		t.Fatalf("admin read %v", m)
	}
	if ids, _ := e.listIDs(mailboxPath(e.bob), alice); len(ids) != 1 {
		t.Fatalf("admin list %v", ids)
	}
	e.expect(e.request("PUT", bobOne, alice, map[string]string{"readStatus": "Read"}), 200)
	e.expect(e.request("GET", fmt.Sprintf("/restapi/v1.0/account/~/extension/%d/message-store", e.dept.ID), alice, nil), 200)
	// An unknown extension id is 404 for an admin.
	if r := e.request("GET", "/restapi/v1.0/account/~/extension/99999999/message-store", alice, nil); r.StatusCode != 404 {
		t.Fatalf("admin, unknown extension: %d", r.StatusCode)
	}
}

func TestImportValidation(t *testing.T) {
	e := newTestEnv(t)
	good := func() msg { return sms("Inbound", "+15550000001", "+16505550102", "x", baseTime) }
	tests := []struct {
		name   string
		token  string
		mutate func(msg)
		status int
	}{
		{"no admin token", "", func(msg) {}, 401},
		{"user token is not admin", "user", func(msg) {}, 401},
		{"bad type", "admin", func(m msg) { m["type"] = "Email" }, 400},
		{"bad phone", "admin", func(m msg) { m["from"] = map[string]string{"phoneNumber": "12"} }, 400},
		{"bad attachment type", "admin", func(m msg) { m["attachments"] = []map[string]string{{"type": "Zip", "contentType": "x/y"}} }, 400},
		{"bad base64", "admin", func(m msg) {
			m["attachments"] = []map[string]string{{"type": "Text", "contentType": "text/plain", "content": "!!"}}
		}, 400},
		{"unknown extension", "admin", func(m msg) { m["extensionId"] = "99999999" }, 404},
		{"extension of another account", "admin", func(m msg) { m["accountId"] = fmt.Sprint(e.acc2.ID) }, 404},
	}
	userTok := e.token(e.bob)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := good()
			m["accountId"], m["extensionId"] = fmt.Sprint(e.acc1.ID), fmt.Sprint(e.bob.ID)
			tt.mutate(m)
			tok := map[string]string{"admin": e.adminToken, "user": userTok}[tt.token]
			r := e.request("POST", "/switchboard/v1/messages", tok, map[string]any{"messages": []msg{m}})
			if r.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", r.StatusCode, tt.status, r.body)
			}
			errorOf(t, r)
		})
	}
	// Nothing half-stored.
	ids, _ := e.listIDs("/restapi/v1.0/account/~/extension/~/message-store?availability=Alive&availability=Deleted&availability=Purged", userTok)
	if len(ids) != 0 {
		t.Fatalf("failed imports stored %v", ids)
	}
}

// TestBatchUpdate: PUT and PATCH of several messages, as RingCentral's
// batch-request guide sends them (multipart/mixed, one part per id in
// order) or as vnd.ringcentral.multipart+json; 207 with a result per id.
func TestBatchUpdate(t *testing.T) {
	e := newTestEnv(t)
	tok := e.token(e.bob)
	recs := e.importMessages(e.bob,
		sms("Inbound", "+15550000001", "+16505550102", "a", baseTime.Add(-2*time.Minute)),
		sms("Inbound", "+15550000001", "+16505550102", "b", baseTime.Add(-time.Minute)))
	a, b := int64(idOf(recs[0])), int64(idOf(recs[1]))
	aliceRec := int64(idOf(e.importMessages(e.alice, sms("Inbound", "+15550000001", "+16505550101", "alice's", baseTime))[0]))
	base := "/restapi/v1.0/account/~/extension/~/message-store/"
	readStatus := func(id int64) any {
		return e.message(tok, fmt.Sprintf("%s%d", base, id))["readStatus"]
	}

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, part := range []string{`{"readStatus":"Read"}`, `{"readStatus":"Sideways"}`, `{"readStatus":"Read"}`} {
		w, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"application/json"}})
		must(t, err)
		_, _ = w.Write([]byte(part))
	}
	must(t, mw.Close())
	path := fmt.Sprintf("%s%d,%d,%d", base, a, b, aliceRec)
	r := e.request("PUT", path, tok, body.String(), "Content-Type", "multipart/mixed; boundary="+mw.Boundary(),
		"Accept", "application/vnd.ringcentral.multipart+json")
	var arr []map[string]any
	r.json(t, &arr)
	if r.StatusCode != 207 || len(arr) != 3 || arr[0]["status"] != 200.0 || arr[1]["status"] != 400.0 || arr[2]["status"] != 404.0 ||
		arr[0]["body"].(map[string]any)["readStatus"] != "Read" || arr[0]["resourceId"] != strconv.FormatInt(a, 10) {
		t.Fatalf("batch PUT: %d %s", r.StatusCode, r.body)
	}
	if readStatus(a) != "Read" || readStatus(b) != "Unread" {
		t.Fatalf("after batch PUT: a %v, b %v", readStatus(a), readStatus(b))
	}
	if m := e.message(e.token(e.alice), fmt.Sprintf("%s%d", base, aliceRec)); m["readStatus"] != "Unread" {
		t.Fatalf("bob's batch changed alice's message: %v", m["readStatus"])
	}

	// The JSON variant, PATCH; the default answer is multipart/mixed.
	two := fmt.Sprintf("%s%d,%d", base, a, b)
	r = e.request("PATCH", two, tok, fmt.Sprintf(`[{"resourceId":"%d","body":{"readStatus":"Unread"}},{"resourceId":"%d","body":{"readStatus":"Read"}}]`, a, b),
		"Content-Type", "application/vnd.ringcentral.multipart+json")
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); r.StatusCode != 207 || mt != "multipart/mixed" {
		t.Fatalf("batch PATCH: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}
	if readStatus(a) != "Unread" || readStatus(b) != "Read" {
		t.Fatalf("after batch PATCH: a %v, b %v", readStatus(a), readStatus(b))
	}
	// One JSON object applies to every id.
	e.expect(e.request("PUT", two, tok, `{"readStatus":"Read"}`), 207)
	if readStatus(a) != "Read" || readStatus(b) != "Read" {
		t.Fatalf("after PUT of one body: a %v, b %v", readStatus(a), readStatus(b))
	}
	// Parts that do not match the ids are the client's mistake.
	for _, bad := range []string{
		fmt.Sprintf(`[{"resourceId":"%d","body":{"readStatus":"Read"}}]`, a),
		fmt.Sprintf(`[{"resourceId":"%d","body":{}},{"resourceId":"%d","body":{}}]`, b, a),
		`{"not": "an array"}`,
	} {
		r := e.request("PUT", two, tok, bad, "Content-Type", "application/vnd.ringcentral.multipart+json")
		if code, _ := errorOf(t, r); r.StatusCode != 400 || code == "" {
			t.Fatalf("batch PUT %s: %d %s", bad, r.StatusCode, r.body)
		}
	}
}
