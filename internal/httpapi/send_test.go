package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/carrier"
	"github.com/switchboardhq/switchboard/internal/config"
	"github.com/switchboardhq/switchboard/internal/httpapi"
	"github.com/switchboardhq/switchboard/internal/outbound"
)

// deliver runs the delivery worker until it has nothing due.
// render renders every fax waiting for it, as the render worker would.
func (e *testEnv) render() {
	e.t.Helper()
	for range 100 {
		n, err := e.renders.RunOnce(context.Background())
		if err != nil {
			e.t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
	e.t.Fatal("fax render worker did not settle")
}

// deliver renders the faxes waiting for it, then runs the delivery worker
// until nothing is due.
func (e *testEnv) deliver() {
	e.t.Helper()
	e.render()
	for range 20 {
		n, err := e.sender.RunOnce(context.Background())
		if err != nil {
			e.t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
	e.t.Fatal("delivery worker did not settle")
}

func (e *testEnv) message(tok, uri string) map[string]any {
	e.t.Helper()
	return e.expect(e.request("GET", uri, tok, nil), 200).object(e.t)
}

func smsBody(from string, text string, to ...string) map[string]any {
	var tos []map[string]string
	for _, n := range to {
		tos = append(tos, map[string]string{"phoneNumber": n})
	}
	return map[string]any{"from": map[string]string{"phoneNumber": from}, "to": tos, "text": text}
}

func TestSendSMSInternal(t *testing.T) {
	e := newTestEnv(t)
	bob, alice := e.token(e.bob), e.token(e.alice)
	sent := e.expect(e.request("POST", "/restapi/v1.0/account/~/extension/~/sms", bob, smsBody("+16505550102", "Lunch at noon? €", "+16505550101")), 200).object(t)
	if sent["messageStatus"] != "Queued" || sent["direction"] != "Outbound" || sent["type"] != "SMS" || sent["segmentCount"] != 1.0 || sent["readStatus"] != "Read" {
		t.Fatalf("sent %v", sent)
	}
	e.deliver()
	after := e.message(bob, sent["uri"].(string))
	if after["messageStatus"] != "Delivered" || after["smsDeliveryTime"] != baseTime.Format("2006-01-02T15:04:05.000Z") ||
		after["smsSendingAttemptsCount"] != 1.0 || after["to"].([]any)[0].(map[string]any)["messageStatus"] != "Delivered" {
		t.Fatalf("internal SMS after delivery: %v", after)
	}
	ids, body := e.listIDs("/restapi/v1.0/account/~/extension/~/message-store?direction=Inbound", alice)
	if len(ids) != 1 {
		t.Fatalf("alice has %d inbound messages", len(ids))
	}
	in := body["records"].([]any)[0].(map[string]any)
	if in["messageStatus"] != "Received" || in["readStatus"] != "Unread" || in["subject"] != "Lunch at noon? €" ||
		in["conversationId"] != sent["conversationId"] || in["from"].(map[string]any)["phoneNumber"] != "+16505550102" {
		t.Fatalf("inbound copy %v", in)
	}
	if to := in["to"].([]any)[0].(map[string]any); to["messageStatus"] != nil {
		t.Fatalf("the recipient's copy shows the sender's delivery state: %v", to)
	}
	att := in["attachments"].([]any)[0].(map[string]any)
	if r := e.request("GET", att["uri"].(string), alice, nil); string(r.body) != "Lunch at noon? €" {
		t.Fatalf("inbound text attachment %q", r.body)
	}
	// Running the worker again stores no second copy.
	e.deliver()
	if ids, _ := e.listIDs("/restapi/v1.0/account/~/extension/~/message-store?direction=Inbound", alice); len(ids) != 1 {
		t.Fatalf("second run: %d inbound messages", len(ids))
	}
	// Across accounts too, for SMS.
	e.expect(e.request("POST", "/restapi/v1.0/account/~/extension/~/sms", bob, smsBody("+16505550102", "hi other company", "+14155550101")), 200)
	e.deliver()
	if ids, _ := e.listIDs("/restapi/v1.0/account/~/extension/~/message-store", e.token(e.carol)); len(ids) != 1 {
		t.Fatalf("carol (account 2) got %d messages", len(ids))
	}
}

func TestSendSMSCarrier(t *testing.T) {
	e := newTestEnv(t)
	bob := e.token(e.bob)
	// Rules: one number fails at submit, one at delivery; the rest deliver after 2 s.
	e.expect(e.request("PUT", "/switchboard/v1/carrier/rules", e.adminToken, map[string]any{
		"deliveryDelaySeconds": 2,
		"rules": []map[string]any{
			{"match": `^\+15559990001$`, "stage": "submit", "errorCode": "SMS-CAR-411"},
			{"match": `^\+15559990002$`, "stage": "delivery", "errorCode": "SMS-CAR-104"},
		}}), 200)
	ok := e.expect(e.request("POST", "/restapi/v1.0/account/~/extension/~/sms", bob, smsBody("+16505550102", "to the world", "+15550000007")), 200).object(t)
	refused := e.expect(e.request("POST", "/restapi/v1.0/account/~/extension/~/sms", bob, smsBody("+16505550102", "refused", "+15559990001")), 200).object(t)
	lost := e.expect(e.request("POST", "/restapi/v1.0/account/~/extension/~/sms", bob, smsBody("+16505550102", "lost", "+15559990002")), 200).object(t)
	e.deliver()
	if m := e.message(bob, ok["uri"].(string)); m["messageStatus"] != "Sent" || m["smsSendingAttemptsCount"] != 1.0 {
		t.Fatalf("accepted SMS before its receipt: %v", m)
	}
	if m := e.message(bob, refused["uri"].(string)); m["messageStatus"] != "SendingFailed" || m["deliveryErrorCode"] != "SMS-CAR-411" {
		t.Fatalf("refused SMS: %v", m)
	}
	e.clock.Advance(3 * time.Second)
	bob = e.token(e.bob)
	e.deliver()
	if m := e.message(bob, ok["uri"].(string)); m["messageStatus"] != "Delivered" || m["smsDeliveryTime"] == nil {
		t.Fatalf("after the receipt: %v", m)
	}
	if m := e.message(bob, lost["uri"].(string)); m["messageStatus"] != "DeliveryFailed" || m["deliveryErrorCode"] != "SMS-CAR-104" {
		t.Fatalf("failed receipt: %v", m)
	}

	// An outage: the send waits and retries with backoff, then goes out.
	e.expect(e.request("PUT", "/switchboard/v1/carrier/rules", e.adminToken, map[string]any{
		"deliveryDelaySeconds": 1, "outages": []map[string]any{{"forSeconds": 30}}}), 200)
	late := e.expect(e.request("POST", "/restapi/v1.0/account/~/extension/~/sms", bob, smsBody("+16505550102", "during an outage", "+15550000008")), 200).object(t)
	e.deliver()
	if m := e.message(bob, late["uri"].(string)); m["messageStatus"] != "Queued" {
		t.Fatalf("during the outage: %v", m["messageStatus"])
	}
	e.clock.Advance(2 * time.Minute)
	bob = e.token(e.bob)
	e.deliver()
	if m := e.message(bob, late["uri"].(string)); m["messageStatus"] != "Sent" || m["smsSendingAttemptsCount"].(float64) < 2 {
		t.Fatalf("after the outage: %v", m)
	}
	rules := e.expect(e.request("GET", "/switchboard/v1/carrier/rules", e.adminToken, nil), 200).object(t)
	if rules["deliveryDelaySeconds"] != 1.0 {
		t.Fatalf("rules read back %v", rules)
	}
	if r := e.request("PUT", "/switchboard/v1/carrier/rules", e.adminToken, map[string]any{"rules": []map[string]any{{"match": "(", "stage": "submit", "errorCode": "SMS-CAR-411"}}}); r.StatusCode != 400 {
		t.Fatalf("bad rule: %d %s", r.StatusCode, r.body)
	}
}

func TestSendValidation(t *testing.T) {
	e := newTestEnv(t)
	bob := e.token(e.bob)
	path := "/restapi/v1.0/account/~/extension/~/sms"
	tests := []struct {
		name   string
		body   any
		status int
		code   string
		param  string
	}{
		{"from not owned", smsBody("+16505550101", "hi", "+15550000001"), 403, "MSG-304", "from.phoneNumber"},
		{"from missing", map[string]any{"to": []map[string]string{{"phoneNumber": "+15550000001"}}, "text": "hi"}, 400, "CMN-101", "from.phoneNumber"},
		{"empty text", smsBody("+16505550102", "  ", "+15550000001"), 400, "CMN-101", "text"},
		{"text too long", smsBody("+16505550102", strings.Repeat("x", 1001), "+15550000001"), 400, "CMN-101", "text"},
		{"no recipient", smsBody("+16505550102", "hi"), 400, "CMN-101", "to"},
		{"bad recipient", smsBody("+16505550102", "hi", "555-0001"), 400, "CMN-101", "to.phoneNumber"},
		{"too many recipients", smsBody("+16505550102", "hi", manyNumbers(51)...), 400, "CMN-101", "to"},
		{"bad JSON", `{"text":`, 400, "CMN-103", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.request("POST", path, bob, tt.body)
			if r.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", r.StatusCode, tt.status, r.body)
			}
			if code, param := errorOf(t, r); code != tt.code || param != tt.param {
				t.Fatalf("error %s/%s, want %s/%s", code, param, tt.code, tt.param)
			}
		})
	}
	// Sending as another extension is refused, even for the account admin.
	if r := e.request("POST", fmt.Sprintf("/restapi/v1.0/account/~/extension/%d/sms", e.bob.ID), e.token(e.alice), smsBody("+16505550102", "hi", "+15550000001")); r.StatusCode != 403 {
		t.Fatalf("send as another extension: %d", r.StatusCode)
	}
	// Nothing was stored by the refused requests.
	if ids, _ := e.listIDs("/restapi/v1.0/account/~/extension/~/message-store", bob); len(ids) != 0 {
		t.Fatalf("refused sends stored %d messages", len(ids))
	}
}

func manyNumbers(n int) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf("+1555000%04d", i))
	}
	return out
}

// multipartSend builds a request as rc-ex sends it: a request.json part and
// file parts named attachments.
func multipartSend(t *testing.T, json string, files map[string][2]string) (string, *bytes.Buffer) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="request.json"; filename="request.json"`)
	h.Set("Content-Type", "application/json")
	pw, _ := mw.CreatePart(h)
	pw.Write([]byte(json))
	for name, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="attachments"; filename=%q`, name))
		h.Set("Content-Type", f[0])
		pw, _ := mw.CreatePart(h)
		pw.Write([]byte(f[1]))
	}
	mw.Close()
	return mw.FormDataContentType(), &buf
}

func (e *testEnv) postMultipart(path, tok, ct string, body *bytes.Buffer) *response {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.srv.URL+path, body)
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	must(e.t, err)
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return &response{resp, b.Bytes()}
}

func TestSendMultipartAndMMS(t *testing.T) {
	e := newTestEnv(t)
	bob, alice := e.token(e.bob), e.token(e.alice)
	// rc-ex sends every SMS as multipart with only the JSON part.
	ct, body := multipartSend(t, `{"from":{"phoneNumber":"+16505550102"},"to":[{"phoneNumber":"+16505550101"}],"text":"multipart"}`, nil)
	e.expect(e.postMultipart("/restapi/v1.0/account/~/extension/~/sms", bob, ct, body), 200)

	png := "\x89PNG\r\n\x1a\n fake image bytes"
	ct, body = multipartSend(t, `{"from":{"phoneNumber":"+16505550102"},"to":[{"phoneNumber":"+16505550101"}],"text":"a picture"}`,
		map[string][2]string{"cat.png": {"image/png", png}})
	sent := e.expect(e.postMultipart("/restapi/v1.0/account/~/extension/~/mms", bob, ct, body), 200).object(t)
	atts := sent["attachments"].([]any)
	if len(atts) != 2 || atts[1].(map[string]any)["type"] != "MmsAttachment" || sent["segmentCount"] != nil {
		t.Fatalf("MMS %v", sent)
	}
	e.deliver()
	_, list := e.listIDs("/restapi/v1.0/account/~/extension/~/message-store?direction=Inbound", alice)
	var got string
	for _, r := range list["records"].([]any) {
		m := r.(map[string]any)
		if m["subject"] == "a picture" {
			for _, a := range m["attachments"].([]any) {
				if a.(map[string]any)["type"] == "MmsAttachment" {
					got = string(e.request("GET", a.(map[string]any)["uri"].(string), alice, nil).body)
				}
			}
		}
	}
	if got != png {
		t.Fatalf("recipient's MMS image %q", got)
	}

	bad := []struct {
		name   string
		files  map[string][2]string
		status int
		code   string
	}{
		{"unsupported type", map[string][2]string{"x.exe": {"application/x-msdownload", "MZ"}}, 415, "MSG-348"},
		{"empty file", map[string][2]string{"e.png": {"image/png", ""}}, 400, "MSG-347"},
		{"too large", map[string][2]string{"big.jpg": {"image/jpeg", strings.Repeat("x", 1_500_001)}}, 400, "MSG-337"},
	}
	for _, tt := range bad {
		ct, body := multipartSend(t, `{"from":{"phoneNumber":"+16505550102"},"to":[{"phoneNumber":"+16505550101"}]}`, tt.files)
		r := e.postMultipart("/restapi/v1.0/account/~/extension/~/mms", bob, ct, body)
		if code, _ := errorOf(t, r); r.StatusCode != tt.status || code != tt.code {
			t.Errorf("%s: %d %s", tt.name, r.StatusCode, r.body)
		}
	}
	// A multipart body that breaks off, and one without a JSON part.
	if r := e.postMultipart("/restapi/v1.0/account/~/extension/~/sms", bob, ct, bytes.NewBufferString("--x\r\n")); r.StatusCode != 400 {
		t.Fatalf("broken multipart: %d %s", r.StatusCode, r.body)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("attachments", "a.png")
	fw.Write([]byte(png))
	mw.Close()
	if r := e.postMultipart("/restapi/v1.0/account/~/extension/~/sms", bob, mw.FormDataContentType(), &buf); r.StatusCode != 400 {
		t.Fatalf("multipart without JSON: %d %s", r.StatusCode, r.body)
	}
	// More files than an MMS takes, and a file on a pager message (which
	// carries none), are refused before anything is stored.
	eleven := map[string][2]string{}
	for i := range 11 {
		eleven[fmt.Sprintf("p%d.png", i)] = [2]string{"image/png", png}
	}
	ct, body = multipartSend(t, `{"from":{"phoneNumber":"+16505550102"},"to":[{"phoneNumber":"+16505550101"}]}`, eleven)
	r := e.postMultipart("/restapi/v1.0/account/~/extension/~/mms", bob, ct, body)
	if code, param := errorOf(t, r); r.StatusCode != 400 || code != "CMN-101" || param != "attachments" {
		t.Fatalf("11 MMS files: %d %s", r.StatusCode, r.body)
	}
	ct, body = multipartSend(t, `{"to":[{"extensionNumber":"101"}],"text":"with a file"}`, map[string][2]string{"cat.png": {"image/png", png}})
	r = e.postMultipart("/restapi/v1.0/account/~/extension/~/company-pager", bob, ct, body)
	if code, param := errorOf(t, r); r.StatusCode != 400 || code != "CMN-101" || param != "attachments" {
		t.Fatalf("pager with a file: %d %s", r.StatusCode, r.body)
	}
}

func TestSendPager(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	must(t, e.store.AddDepartmentMember(ctx, e.acc1.ID, e.dept.ID, e.alice.ID))
	must(t, e.store.AddDepartmentMember(ctx, e.acc1.ID, e.dept.ID, e.bob.ID))
	bob, alice := e.token(e.bob), e.token(e.alice)
	path := "/restapi/v1.0/account/~/extension/~/company-pager"
	sent := e.expect(e.request("POST", path, bob, map[string]any{"to": []map[string]string{{"extensionNumber": "101"}}, "text": "pager hi"}), 200).object(t)
	if sent["type"] != "Pager" || sent["pgToDepartment"] != false {
		t.Fatalf("pager %v", sent)
	}
	e.deliver()
	_, list := e.listIDs("/restapi/v1.0/account/~/extension/~/message-store?messageType=Pager", alice)
	recs := list["records"].([]any)
	if len(recs) != 1 || recs[0].(map[string]any)["conversationId"] != sent["conversationId"] {
		t.Fatalf("alice's pager messages %v", recs)
	}
	// Reply on the received message reaches bob.
	in := recs[0].(map[string]any)
	e.expect(e.request("POST", path, alice, map[string]any{"replyOn": in["id"], "text": "pager reply"}), 200)
	// To the department: its members other than the sender get it, with pgToDepartment.
	e.expect(e.request("POST", path, alice, map[string]any{"to": []map[string]string{{"extensionNumber": "103"}}, "text": "all hands"}), 200)
	e.deliver()
	_, list = e.listIDs("/restapi/v1.0/account/~/extension/~/message-store?messageType=Pager&direction=Inbound", bob)
	var subjects []string
	for _, r := range list["records"].([]any) {
		m := r.(map[string]any)
		subjects = append(subjects, fmt.Sprint(m["subject"], "/", m["pgToDepartment"]))
	}
	sort.Strings(subjects) // both arrive in one delivery run, at the same (frozen) time
	if fmt.Sprint(subjects) != "[all hands/true pager reply/false]" {
		t.Fatalf("bob's inbound pager messages %v", subjects)
	}
	// Recipients and sender named by extensionId (PagerCallerInfoRequest), as
	// rc-ex's tests send them: a string, or the bare number.
	aliceID := strconv.FormatInt(e.alice.ID, 10)
	for _, body := range []map[string]any{
		{"from": map[string]any{"extensionId": strconv.FormatInt(e.bob.ID, 10)}, "to": []map[string]any{{"extensionId": aliceID}}, "text": "by id"},
		{"to": []map[string]any{{"extensionId": e.alice.ID, "extensionNumber": "101"}}, "text": "by id and number"},
	} {
		sent := e.expect(e.request("POST", path, bob, body), 200).object(t)
		to := sent["to"].([]any)[0].(map[string]any)
		if to["extensionId"] != aliceID || to["extensionNumber"] != "101" {
			t.Fatalf("pager by id: to %v", to)
		}
	}
	for _, tt := range []struct {
		body  map[string]any
		param string
	}{
		{map[string]any{"to": []map[string]string{{"extensionNumber": "999"}}, "text": "x"}, "to.extensionNumber"},
		{map[string]any{"text": "x"}, "to"},
		{map[string]any{"to": []map[string]string{{"extensionNumber": "101"}}, "text": strings.Repeat("y", 1025)}, "text"},
		{map[string]any{"replyOn": 999999999, "text": "x"}, "replyOn"},
		{map[string]any{"to": []map[string]any{{"extensionId": strconv.FormatInt(e.carol.ID, 10)}}, "text": "x"}, "to.extensionId"},
		{map[string]any{"to": []map[string]any{{"extensionId": "abc"}}, "text": "x"}, "to.extensionId"},
		{map[string]any{"to": []map[string]any{{"extensionId": e.alice.ID, "extensionNumber": "102"}}, "text": "x"}, "to.extensionNumber"},
		{map[string]any{"from": map[string]any{"extensionId": aliceID}, "to": []map[string]any{{"extensionNumber": "101"}}, "text": "x"}, "from.extensionId"},
		{map[string]any{"to": []map[string]any{{}}, "text": "x"}, "to.extensionNumber"},
	} {
		r := e.request("POST", path, bob, tt.body)
		if _, param := errorOf(t, r); r.StatusCode/100 != 4 || param != tt.param {
			t.Errorf("%v: %d %s", tt.body, r.StatusCode, r.body)
		}
	}
	// Pager never crosses accounts: carol's 101 is not bob's 101.
	if ids, _ := e.listIDs("/restapi/v1.0/account/~/extension/~/message-store", e.token(e.carol)); len(ids) != 0 {
		t.Fatalf("pager reached another account: %v", ids)
	}
}

// TestSendLimitsConfigurable: the limits come from configuration.
func TestSendLimitsConfigurable(t *testing.T) {
	e := newTestEnv(t)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	limits := config.DefaultSendLimits()
	limits.MaxRecipients, limits.MaxRequestBytes = 2, 4096
	sender := outbound.New(e.store, e.clock, limits, nil)
	srv := httptest.NewServer(httpapi.New(httpapi.Deps{Store: e.store, Auth: e.auth, Clock: e.clock, Logger: logger, Sender: sender},
		httpapi.Config{}))
	defer srv.Close()
	bob := e.token(e.bob)
	r := e.request("POST", srv.URL+"/restapi/v1.0/account/~/extension/~/sms", bob, smsBody("+16505550102", "hi", manyNumbers(3)...))
	if _, param := errorOf(t, r); r.StatusCode != 400 || param != "to" {
		t.Fatalf("3 recipients over a limit of 2: %d %s", r.StatusCode, r.body)
	}
	e.expect(e.request("POST", srv.URL+"/restapi/v1.0/account/~/extension/~/sms", bob, smsBody("+16505550102", "hi", manyNumbers(2)...)), 200)
	if r := e.request("POST", srv.URL+"/restapi/v1.0/account/~/extension/~/sms", bob, smsBody("+16505550102", strings.Repeat("é", 3000), "+15550000001")); r.StatusCode != 413 {
		t.Fatalf("body over 4096 bytes: %d", r.StatusCode)
	}
}

// TestReceiptBeforeSubmitRecorded: a worker's lease runs out after the
// carrier accepted its submit but before it recorded it. The receipt that
// then comes must wait for the resubmit, not be dropped, or the message
// would stay Sent for ever.
func TestReceiptBeforeSubmitRecorded(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	sent := e.expect(e.request("POST", "/restapi/v1.0/account/~/extension/~/sms", e.token(e.bob), smsBody("+16505550102", "lease race", "+15550000042")), 200).object(t)

	// A worker claims it, the carrier accepts, and the worker dies.
	ds, err := e.store.ClaimDeliveries(ctx, "ghost", 10*time.Second, 10)
	if err != nil || len(ds) != 1 {
		t.Fatalf("claim: %v %v", ds, err)
	}
	if res, err := e.sim.Submit(ctx, carrier.Submission{MessageID: ds[0].MessageID, Recipient: ds[0].Recipient, From: "+16505550102", Type: "SMS", Text: "lease race"}); err != nil || !res.Accepted {
		t.Fatalf("submit: %+v %v", res, err)
	}
	// The receipt falls due while the dead worker's lease still holds.
	e.clock.Advance(3 * time.Second)
	e.deliver()
	// The lease runs out; another run resubmits, records, and applies the receipt.
	e.clock.Advance(10 * time.Second)
	e.deliver()
	if m := e.message(e.token(e.bob), sent["uri"].(string)); m["messageStatus"] != "Delivered" {
		t.Fatalf("after the lost lease: %v", m["messageStatus"])
	}
}
