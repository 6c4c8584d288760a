package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/textproto"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-pdf/fpdf"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/fax"
)

const faxPath = "/restapi/v1.0/account/~/extension/~/fax"

var faxCacheOnce sync.Once

// faxCache keeps wazero's compiled PDFium between test runs, so only the
// first run pays the several-second compile. It must be set before the
// first PDF render of the process.
func faxCache() {
	faxCacheOnce.Do(func() {
		fax.SetCompilationCacheDir(filepath.Join(os.TempDir(), "switchboard-fax-test-wazero-cache"))
	})
}

// faxDoc is one uploaded document.
type faxDoc struct {
	name, contentType string
	data              []byte
}

func makeTestPDF(t testing.TB, pages int) []byte {
	t.Helper()
	p := fpdf.New("P", "pt", "Letter", "")
	p.SetFont("Helvetica", "", 14)
	for i := 1; i <= pages; i++ {
		p.AddPage()
		p.Cell(0, 20, fmt.Sprintf("Switchboard fax page %d of %d", i, pages))
		p.Rect(72, 144, 200, 100, "F")
	}
	var b bytes.Buffer
	must(t, p.Output(&b))
	return b.Bytes()
}

func makeTestPNG(t testing.TB) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 120, 80))
	for y := range 80 {
		for x := range 120 {
			img.SetGray(x, y, color.Gray{Y: uint8(255 * ((x / 10) % 2))})
		}
	}
	var b bytes.Buffer
	must(t, png.Encode(&b, img))
	return b.Bytes()
}

func textDoc(name, text string) faxDoc {
	return faxDoc{name: name, contentType: "text/plain", data: []byte(text)}
}

// faxBody builds a fax request as the SDKs do. style "form" is rc-ex's
// multipart/form-data (request.json part, then attachment parts); "mixed"
// is multipart/mixed with an application/json envelope and
// Content-Disposition: attachment parts; "json" is the JS SDK recipe's
// part named json.
func faxBody(t testing.TB, style string, envelope any, docs ...faxDoc) (body, contentType string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	if style == "form" {
		must(t, mw.SetBoundary("ad05fc42-a66d-4a94-b807-f1c91136c17b"))
	}
	if envelope != nil {
		h := textproto.MIMEHeader{"Content-Type": {"application/json"}}
		switch style {
		case "form":
			h.Set("Content-Disposition", `form-data; name="request.json"; filename="request.json"`)
		case "json":
			h.Set("Content-Disposition", `form-data; name="json"`)
		}
		pw, err := mw.CreatePart(h)
		must(t, err)
		must(t, json.NewEncoder(pw).Encode(envelope))
	}
	for _, d := range docs {
		h := textproto.MIMEHeader{}
		if d.contentType != "" {
			h.Set("Content-Type", d.contentType)
		}
		if style == "mixed" {
			h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename=%q`, d.name))
		} else {
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="attachment"; filename=%q`, d.name))
		}
		pw, err := mw.CreatePart(h)
		must(t, err)
		_, err = pw.Write(d.data)
		must(t, err)
	}
	must(t, mw.Close())
	ct := "multipart/form-data; boundary=" + mw.Boundary()
	if style == "mixed" {
		ct = "multipart/mixed; boundary=" + mw.Boundary()
	}
	return b.String(), ct
}

func (e *testEnv) sendFax(tok, style string, envelope any, docs ...faxDoc) *response {
	e.t.Helper()
	body, ct := faxBody(e.t, style, envelope, docs...)
	return e.request("POST", faxPath, tok, body, "Content-Type", ct)
}

func faxTo(numbers ...string) []map[string]string {
	var out []map[string]string
	for _, n := range numbers {
		out = append(out, map[string]string{"phoneNumber": n})
	}
	return out
}

func attachmentsByType(m map[string]any) map[string][]map[string]any {
	out := map[string][]map[string]any{}
	for _, a := range m["attachments"].([]any) {
		am := a.(map[string]any)
		out[am["type"].(string)] = append(out[am["type"].(string)], am)
	}
	return out
}

func TestFaxInternalPDF(t *testing.T) {
	faxCache()
	e := newTestEnv(t)
	bob, alice := e.token(e.bob), e.token(e.alice)
	env := map[string]any{"to": []map[string]string{{"phoneNumber": "+16505550101", "name": "Alice"}},
		"coverIndex": 2, "coverPageText": "Contract attached — please sign."}
	sent := e.expect(e.sendFax(bob, "form", env,
		faxDoc{name: "contract.pdf", contentType: "application/pdf", data: makeTestPDF(t, 2)},
		textDoc("notes.txt", "Two pages of contract and one page of notes.\n")), 200).object(t)
	// Stored Queued at once; rendered in the background (no page count,
	// no RenderedDocument yet).
	if sent["type"] != "Fax" || sent["direction"] != "Outbound" || sent["messageStatus"] != "Queued" ||
		sent["faxPageCount"] != nil || sent["faxResolution"] != "High" || sent["coverIndex"] != 2.0 ||
		sent["coverPageText"] != "Contract attached — please sign." || sent["readStatus"] != "Read" {
		t.Fatalf("sent fax %v", sent)
	}
	if from := sent["from"].(map[string]any); from["phoneNumber"] != "+16505550102" || from["name"] != e.bob.Name {
		t.Fatalf("from %v", from)
	}
	if to := sent["to"].([]any)[0].(map[string]any); to["phoneNumber"] != "+16505550101" || to["name"] != "Alice" || to["messageStatus"] != "Queued" {
		t.Fatalf("to %v", to)
	}
	if atts := attachmentsByType(sent); len(atts["SourceDocument"]) != 2 || len(atts["RenderedDocument"]) != 0 {
		t.Fatalf("attachments before rendering %v", sent["attachments"])
	}
	e.render()
	// 1 cover + 2 PDF pages + 1 text page.
	sent = e.message(bob, sent["uri"].(string))
	atts := attachmentsByType(sent)
	if sent["faxPageCount"] != 4.0 || sent["messageStatus"] != "Queued" || len(atts["SourceDocument"]) != 2 || len(atts["RenderedDocument"]) != 1 ||
		atts["SourceDocument"][0]["fileName"] != "contract.pdf" || atts["SourceDocument"][0]["contentType"] != "application/pdf" ||
		atts["SourceDocument"][1]["fileName"] != "notes.txt" || atts["SourceDocument"][1]["contentType"] != "text/plain" ||
		atts["RenderedDocument"][0]["fileName"] != "fax.pdf" || atts["RenderedDocument"][0]["contentType"] != "application/pdf" {
		t.Fatalf("attachments %v", sent["attachments"])
	}

	e.deliver()
	if m := e.message(bob, sent["uri"].(string)); m["messageStatus"] != "Sent" || len(m["attachments"].([]any)) != 3 {
		t.Fatalf("sender's copy after delivery: %v", m)
	}
	ids, body := e.listIDs("/restapi/v1.0/account/~/extension/~/message-store?messageType=Fax&direction=Inbound", alice)
	if len(ids) != 1 {
		t.Fatalf("alice has %d inbound faxes", len(ids))
	}
	in := body["records"].([]any)[0].(map[string]any)
	if in["messageStatus"] != "Received" || in["faxPageCount"] != 4.0 || in["faxResolution"] != "High" ||
		in["from"].(map[string]any)["phoneNumber"] != "+16505550102" {
		t.Fatalf("inbound fax %v", in)
	}
	inAtts := attachmentsByType(in)
	if len(in["attachments"].([]any)) != 1 || len(inAtts["RenderedDocument"]) != 1 {
		t.Fatalf("inbound attachments: want only the rendered document, got %v", in["attachments"])
	}
	pdf := e.expect(e.request("GET", inAtts["RenderedDocument"][0]["uri"].(string), alice, nil), 200)
	if !bytes.HasPrefix(pdf.body, []byte("%PDF")) || pdf.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("rendered document: %s %q", pdf.Header.Get("Content-Type"), pdf.body[:min(16, len(pdf.body))])
	}
}

func TestFaxExternalResolutionAndSchedule(t *testing.T) {
	e := newTestEnv(t)
	bob := e.token(e.bob)
	for _, tc := range []struct{ resolution, want string }{{"Low", "Low"}, {"High", "High"}, {"", "High"}} {
		env := map[string]any{"to": faxTo("+15550000007")}
		if tc.resolution != "" {
			env["faxResolution"] = tc.resolution
		}
		sent := e.expect(e.sendFax(bob, "form", env, faxDoc{name: "chart.png", contentType: "image/png", data: makeTestPNG(t)}), 200).object(t)
		if sent["faxResolution"] != tc.want || sent["coverIndex"] != 0.0 {
			t.Fatalf("resolution %q: %v", tc.resolution, sent)
		}
		e.deliver()
		if m := e.message(bob, sent["uri"].(string)); m["messageStatus"] != "Sent" || m["faxResolution"] != tc.want || m["faxPageCount"] != 1.0 {
			t.Fatalf("resolution %q after delivery: %v", tc.resolution, m)
		}
	}

	// A future sendTime waits for the clock; a past one sends now.
	at := baseTime.Add(time.Hour)
	later := e.expect(e.sendFax(bob, "form", map[string]any{"to": faxTo("+15550000008"), "sendTime": at.Format(time.RFC3339)},
		textDoc("later.txt", "scheduled")), 200).object(t)
	now := e.expect(e.sendFax(bob, "form", map[string]any{"to": faxTo("+15550000009"), "sendTime": baseTime.Add(-time.Hour).Format(time.RFC3339)},
		textDoc("now.txt", "now")), 200).object(t)
	e.deliver()
	if m := e.message(bob, later["uri"].(string)); m["messageStatus"] != "Queued" {
		t.Fatalf("scheduled fax before its time: %v", m["messageStatus"])
	}
	if m := e.message(bob, now["uri"].(string)); m["messageStatus"] != "Sent" {
		t.Fatalf("fax with a past sendTime: %v", m["messageStatus"])
	}
	e.clock.Advance(30 * time.Minute)
	bob = e.token(e.bob)
	e.deliver()
	if m := e.message(bob, later["uri"].(string)); m["messageStatus"] != "Queued" {
		t.Fatalf("scheduled fax half-way: %v", m["messageStatus"])
	}
	e.clock.Advance(31 * time.Minute)
	bob = e.token(e.bob)
	e.deliver()
	if m := e.message(bob, later["uri"].(string)); m["messageStatus"] != "Sent" {
		t.Fatalf("scheduled fax after its time: %v", m["messageStatus"])
	}
}

func TestFaxRequestFormats(t *testing.T) {
	e := newTestEnv(t)
	bob := e.token(e.bob)
	env := map[string]any{"to": faxTo("+15550000007"), "faxResolution": "Low"}
	doc := textDoc("fax.txt", "hello fax")
	for _, style := range []string{"form", "mixed", "json"} {
		t.Run(style, func(t *testing.T) {
			m := e.expect(e.sendFax(bob, style, env, doc), 200).object(t)
			if m["faxResolution"] != "Low" || len(attachmentsByType(m)["SourceDocument"]) != 1 {
				t.Fatalf("%s: %v", style, m)
			}
		})
	}
	t.Run("form fields", func(t *testing.T) {
		// RingCentral's raw form-data: each field its own part, to repeated.
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		must(t, mw.WriteField("to", "+15550000007"))
		must(t, mw.WriteField("to", `{"phoneNumber":"+15550000008","name":"Dan"}`))
		must(t, mw.WriteField("faxResolution", "Low"))
		must(t, mw.WriteField("coverIndex", "1"))
		must(t, mw.WriteField("coverPageText", "hi"))
		fw, err := mw.CreateFormFile("attachment", "fax.txt")
		must(t, err)
		_, _ = fw.Write([]byte("hello fax"))
		must(t, mw.Close())
		m := e.expect(e.request("POST", faxPath, bob, b.String(), "Content-Type", mw.FormDataContentType()), 200).object(t)
		e.render()
		m = e.message(bob, m["uri"].(string))
		to := m["to"].([]any)
		if len(to) != 2 || to[1].(map[string]any)["name"] != "Dan" || m["coverIndex"] != 1.0 || m["faxPageCount"] != 2.0 || m["faxResolution"] != "Low" {
			t.Fatalf("form fields: %v", m)
		}
		// The octet-stream part was stored as what it is.
		if src := attachmentsByType(m)["SourceDocument"][0]; src["contentType"] != "text/plain" {
			t.Fatalf("source document %v", src)
		}
	})
}

func TestFaxValidation(t *testing.T) {
	e := newTestEnv(t)
	bob := e.token(e.bob)
	ok := textDoc("ok.txt", "fine")
	zip := []byte("PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00word/document.xml")
	long := strings.Repeat("x", switchboard.MaxCoverText+1)
	emoji := strings.Repeat("😀", switchboard.MaxCoverText/2+1) // 514 runes, 1028 UTF-16 units
	var many []string
	for i := range 51 {
		many = append(many, fmt.Sprintf("+1555000%04d", i))
	}
	corruptPNG := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0xAB}, 64)...)
	to := faxTo("+15550000007")
	for _, tc := range []struct {
		name        string
		env         any
		docs        []faxDoc
		status      int
		code, param string
		inMessage   string
	}{
		{"no documents", map[string]any{"to": to}, nil, 400, "CMN-101", "attachment", ""},
		{"docx", map[string]any{"to": to}, []faxDoc{{"letter.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", zip}}, 415, "MSG-348", "attachment", "letter.docx"},
		{"zip", map[string]any{"to": to}, []faxDoc{ok, {"archive.zip", "application/zip", zip}}, 415, "MSG-348", "attachment", "archive.zip"},
		{"empty file", map[string]any{"to": to}, []faxDoc{{"empty.pdf", "application/pdf", nil}}, 400, "MSG-347", "attachment", "empty.pdf"},
		{"unknown coverIndex", map[string]any{"to": to, "coverIndex": 99}, []faxDoc{ok}, 400, "CMN-101", "coverIndex", ""},
		{"negative coverIndex", map[string]any{"to": to, "coverIndex": -1}, []faxDoc{ok}, 400, "CMN-101", "coverIndex", ""},
		{"cover text too long", map[string]any{"to": to, "coverIndex": 1, "coverPageText": long}, []faxDoc{ok}, 400, "CMN-101", "coverPageText", ""},
		{"cover text too long in UTF-16", map[string]any{"to": to, "coverIndex": 1, "coverPageText": emoji}, []faxDoc{ok}, 400, "CMN-101", "coverPageText", ""},
		{"no to", map[string]any{"faxResolution": "High"}, []faxDoc{ok}, 400, "CMN-101", "to", ""},
		{"bad to", map[string]any{"to": faxTo("5550000007")}, []faxDoc{ok}, 400, "CMN-101", "to.phoneNumber", ""},
		{"too many recipients", map[string]any{"to": faxTo(many...)}, []faxDoc{ok}, 400, "CMN-101", "to", ""},
		{"bad resolution", map[string]any{"to": to, "faxResolution": "Medium"}, []faxDoc{ok}, 400, "CMN-101", "faxResolution", ""},
		{"bad sendTime", map[string]any{"to": to, "sendTime": "tomorrow"}, []faxDoc{ok}, 400, "CMN-101", "sendTime", ""},
		{"no envelope", nil, []faxDoc{ok}, 400, "MSG-349", "", ""},
		{"too many documents", map[string]any{"to": to}, slices.Repeat([]faxDoc{ok}, 51 /* 50 per fax */), 400, "CMN-101", "attachments", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.sendFax(bob, "form", tc.env, tc.docs...)
			e.expect(r, tc.status)
			code, param := errorOf(t, r)
			if code != tc.code || (tc.param != "" && param != tc.param) || !strings.Contains(string(r.body), tc.inMessage) {
				t.Fatalf("got %s %s: %s", code, param, r.body)
			}
		})
	}
	// Nothing was stored.
	if ids, _ := e.listIDs("/restapi/v1.0/account/~/extension/~/message-store?messageType=Fax", bob); len(ids) != 0 {
		t.Fatalf("%d faxes stored by invalid requests", len(ids))
	}

	// Documents that pass the checks but cannot be rendered are accepted
	// and fail the fax when it is rendered, as on RingCentral: every
	// recipient SendingFailed with faxErrorCode RenderingFailed or
	// TooManyPages, nothing sent.
	t.Run("rendering fails later", func(t *testing.T) {
		for _, tc := range []struct {
			name, code string
			doc        faxDoc
		}{
			{"corrupt image", "RenderingFailed", faxDoc{"broken.png", "image/png", corruptPNG}},
			{"too many pages", "TooManyPages", textDoc("long.txt", strings.Repeat("page\f", fax.MaxPages+1))},
		} {
			sent := e.expect(e.sendFax(bob, "form", map[string]any{"to": faxTo("+15550000007", "+16505550101")}, tc.doc), 200).object(t)
			if sent["messageStatus"] != "Queued" {
				t.Fatalf("%s: %v", tc.name, sent)
			}
			e.deliver()
			m := e.message(bob, sent["uri"].(string))
			if m["messageStatus"] != "SendingFailed" || len(attachmentsByType(m)["RenderedDocument"]) != 0 {
				t.Fatalf("%s after rendering: %v", tc.name, m)
			}
			for _, p := range m["to"].([]any) {
				if p := p.(map[string]any); p["messageStatus"] != "SendingFailed" || p["faxErrorCode"] != tc.code {
					t.Fatalf("%s: recipient %v, want SendingFailed with %s", tc.name, p, tc.code)
				}
			}
			// A resend renders again (it has no rendered document to
			// reuse) and fails the same way, rather than going out empty.
			again := e.expect(e.request("POST", faxPath, bob, map[string]any{"originalMessageId": fmt.Sprint(int64(idOf(m)))}), 200).object(t)
			e.deliver()
			if a := e.message(bob, again["uri"].(string)); a["messageStatus"] != "SendingFailed" || a["to"].([]any)[0].(map[string]any)["faxErrorCode"] != tc.code {
				t.Fatalf("%s resent: %v", tc.name, a)
			}
		}
		if ids, _ := e.listIDs("/restapi/v1.0/account/~/extension/~/message-store?messageType=Fax&direction=Inbound", e.token(e.alice)); len(ids) != 0 {
			t.Fatalf("an internal recipient got %d faxes that failed to render", len(ids))
		}
	})

	t.Run("JSON body without originalMessageId", func(t *testing.T) {
		r := e.expect(e.request("POST", faxPath, bob, map[string]any{"to": to}), 400)
		if code, param := errorOf(t, r); code != "CMN-101" || param != "originalMessageId" {
			t.Fatalf("%s %s", code, param)
		}
	})
	t.Run("another extension's mailbox", func(t *testing.T) {
		body, ct := faxBody(t, "form", map[string]any{"to": to}, ok)
		r := e.request("POST", fmt.Sprintf("/restapi/v1.0/account/~/extension/%d/fax", e.bob.ID), e.token(e.alice), body, "Content-Type", ct)
		e.expect(r, 403)
		if code, _ := errorOf(t, r); code != "MSG-331" {
			t.Fatalf("code %s", code)
		}
	})
	t.Run("extension without a number", func(t *testing.T) {
		ctx := context.Background()
		x := mustV(e.store.CreateExtension(ctx, switchboard.ExtensionCreate{AccountID: e.acc1.ID, ExtensionNumber: "104", Name: "No Number"}))(t)
		_, jwt, err := e.auth.IssueJWTCredential(ctx, e.acc1.ID, x.ID, "test", 0)
		must(t, err)
		e.jwts[x.ID] = jwt
		r := e.expect(e.sendFax(e.token(x), "form", map[string]any{"to": to}, ok), 400)
		if code, _ := errorOf(t, r); code != "MSG-245" {
			t.Fatalf("code %s", code)
		}
	})
}

func TestFaxResend(t *testing.T) {
	e := newTestEnv(t)
	bob := e.token(e.bob)
	e.expect(e.request("PUT", "/switchboard/v1/carrier/rules", e.adminToken, map[string]any{
		"rules": []map[string]any{{"match": `^\+15559990001$`, "stage": "submit", "errorCode": "LineBusy"}}}), 200)
	failed := e.expect(e.sendFax(bob, "form", map[string]any{"to": []map[string]string{{"phoneNumber": "+15559990001", "name": "Busy"}}, "faxResolution": "Low", "coverIndex": 1},
		textDoc("a.txt", "first try")), 200).object(t)
	ok := e.expect(e.sendFax(bob, "form", map[string]any{"to": faxTo("+15550000007")}, textDoc("b.txt", "fine")), 200).object(t)
	e.deliver()
	if m := e.message(bob, failed["uri"].(string)); m["messageStatus"] != "SendingFailed" {
		t.Fatalf("failing fax: %v", m)
	}
	id := fmt.Sprint(int64(idOf(failed)))

	// Resend to the original recipient: a new message with the same content and settings.
	again := e.expect(e.request("POST", faxPath, bob, map[string]any{"originalMessageId": id}), 200).object(t)
	if idOf(again) == idOf(failed) || again["messageStatus"] != "Queued" || again["faxResolution"] != "Low" ||
		again["faxPageCount"] != 2.0 || again["coverIndex"] != 1.0 ||
		again["to"].([]any)[0].(map[string]any)["name"] != "Busy" || len(again["attachments"].([]any)) != 2 {
		t.Fatalf("resent fax %v", again)
	}
	// Forward it elsewhere (id as a number): it goes out.
	fwd := e.expect(e.request("POST", faxPath, bob, fmt.Sprintf(`{"originalMessageId": %s, "to": [{"phoneNumber": "+15550000011"}]}`, id)), 200).object(t)
	e.deliver()
	if m := e.message(bob, fwd["uri"].(string)); m["messageStatus"] != "Sent" || m["to"].([]any)[0].(map[string]any)["phoneNumber"] != "+15550000011" {
		t.Fatalf("forwarded fax %v", m)
	}
	src := attachmentsByType(fwd)["SourceDocument"][0]
	if r := e.request("GET", src["uri"].(string), bob, nil); string(r.body) != "first try" {
		t.Fatalf("forwarded source document %q", r.body)
	}

	for _, tc := range []struct {
		name, id    string
		status      int
		code, param string
	}{
		{"sent fax", fmt.Sprint(int64(idOf(ok))), 406, "MSG-343", "originalMessageId"},
		{"unknown", "999999", 404, "CMN-102", "originalMessageId"},
		{"not an id", "abc", 400, "CMN-101", "originalMessageId"},
	} {
		r := e.expect(e.request("POST", faxPath, bob, map[string]any{"originalMessageId": tc.id}), tc.status)
		if code, param := errorOf(t, r); code != tc.code || param != tc.param {
			t.Fatalf("%s: %s %s: %s", tc.name, code, param, r.body)
		}
	}
	// Someone else's failed fax is not found in the caller's mailbox.
	r := e.expect(e.request("POST", faxPath, e.token(e.alice), map[string]any{"originalMessageId": id}), 404)
	if code, _ := errorOf(t, r); code != "CMN-102" {
		t.Fatalf("another mailbox's fax: %s", r.body)
	}
}

func TestFaxCoverPages(t *testing.T) {
	e := newTestEnv(t)
	bob := e.token(e.bob)
	var list struct {
		URI     string `json:"uri"`
		Records []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"records"`
		Paging     map[string]any `json:"paging"`
		Navigation map[string]any `json:"navigation"`
	}
	e.expect(e.request("GET", "/restapi/v1.0/dictionary/fax-cover-page", bob, nil), 200).json(t, &list)
	templates := fax.CoverTemplates()
	if len(list.Records) != len(templates) || list.Records[0].ID != "0" || list.Records[0].Name != "None" ||
		list.Records[1].ID != "1" || list.Records[1].Name != templates[1].Name ||
		!strings.HasPrefix(list.URI, e.srv.URL+"/restapi/v1.0/dictionary/fax-cover-page") ||
		list.Paging["totalElements"] != float64(len(templates)) || list.Navigation["firstPage"] == nil {
		t.Fatalf("cover pages %+v", list)
	}
	page := e.expect(e.request("GET", "/restapi/v1.0/dictionary/fax-cover-page?page=2&perPage=2", bob, nil), 200).object(t)
	if recs := page["records"].([]any); len(recs) != 2 || recs[0].(map[string]any)["id"] != "2" {
		t.Fatalf("page 2: %v", page)
	}
	e.expect(e.request("GET", "/restapi/v1.0/dictionary/fax-cover-page", "", nil), 401)
}
