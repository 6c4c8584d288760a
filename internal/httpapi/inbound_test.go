package httpapi_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http/httptest"
	"net/textproto"
	"os"
	"strconv"
	"testing"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/httpapi"
	"github.com/switchboardhq/switchboard/internal/inbound"
	"github.com/switchboardhq/switchboard/internal/transcribe"
)

const testMaxAudioBytes = 1 << 20

// testWAV is a 16-bit mono PCM WAV of the given length at 8 kHz.
func testWAV(millis int) []byte {
	var b bytes.Buffer
	le := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	data := 16 * millis // 16000 bytes a second
	b.WriteString("RIFF")
	le(uint32(36 + data))
	b.WriteString("WAVEfmt ")
	le(uint32(16))
	le(uint16(1))
	le(uint16(1))
	le(uint32(8000))
	le(uint32(16000))
	le(uint16(2))
	le(uint16(16))
	b.WriteString("data")
	le(uint32(data))
	for i := 0; i < data; i++ {
		b.WriteByte(byte(i % 251))
	}
	return b.Bytes()
}

type part struct {
	field, fileName, contentType string
	data                         []byte
}

// multipartRequest posts a multipart/form-data body to an admin path.
func (e *testEnv) multipartRequest(path, token string, parts ...part) *response {
	e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		if p.fileName != "" {
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, p.field, p.fileName))
		} else {
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q`, p.field))
		}
		if p.contentType != "" {
			h.Set("Content-Type", p.contentType)
		}
		w, err := mw.CreatePart(h)
		must(e.t, err)
		_, _ = w.Write(p.data)
	}
	must(e.t, mw.Close())
	return e.request("POST", path, token, body.String(), "Content-Type", mw.FormDataContentType())
}

func field(name, v string) part { return part{field: name, data: []byte(v)} }

// mailboxSize is how many messages a mailbox holds in any state.
func (e *testEnv) mailboxSize(ext *switchboard.Extension) int {
	e.t.Helper()
	page := mustV(e.store.ListMessages(context.Background(), switchboard.MessageFilter{AccountID: ext.AccountID, ExtensionID: ext.ID}))(e.t)
	return len(page.Messages)
}

func TestInboundSMS(t *testing.T) {
	e := newTestEnv(t)
	const peer = "+15550001111"
	r := e.expect(e.request("POST", "/switchboard/v1/inbound/sms", e.adminToken,
		map[string]string{"from": peer, "to": "+1 (650) 555-0102", "text": "Are you there?"}), 200)
	m := r.object(t)
	for k, want := range map[string]any{"type": "SMS", "direction": "Inbound", "messageStatus": "Received",
		"readStatus": "Unread", "availability": "Alive", "subject": "Are you there?",
		"extensionId": strconv.FormatInt(e.bob.ID, 10)} {
		if m[k] != want {
			t.Errorf("%s = %v, want %v", k, m[k], want)
		}
	}
	wantConv := switchboard.ConversationIDFor([]string{peer, "+16505550102"})
	if m["conversationId"] != float64(wantConv) {
		t.Errorf("conversationId %v, want %d (the conversation of the two numbers)", m["conversationId"], wantConv)
	}
	// The owner reads it through the RingCentral API, in that conversation,
	// the same as the stored answer.
	tok := e.token(e.bob)
	got := e.expect(e.request("GET", mailboxPath(e.bob)+"/"+strconv.FormatInt(int64(m["id"].(float64)), 10), tok, nil), 200).object(t)
	if got["subject"] != "Are you there?" || got["conversationId"] != m["conversationId"] || got["from"].(map[string]any)["phoneNumber"] != peer {
		t.Fatalf("read back %v", got)
	}
	// A reply from bob to the peer shares the conversation.
	reply := e.expect(e.request("POST", "/restapi/v1.0/account/~/extension/~/sms", tok,
		map[string]any{"from": map[string]string{"phoneNumber": "+16505550102"}, "to": []map[string]string{{"phoneNumber": peer}}, "text": "Yes"}), 200).object(t)
	if reply["conversationId"] != m["conversationId"] {
		t.Fatalf("reply conversation %v, inbound %v", reply["conversationId"], m["conversationId"])
	}
	// Another user cannot read bob's inbound message (tenancy unchanged).
	e.expect(e.request("GET", mailboxPath(e.bob)+"/"+strconv.FormatInt(int64(m["id"].(float64)), 10), e.token(e.carol), nil), 404)

	// A carrier redelivering with the same sourceId stores nothing new and
	// is answered with the message stored the first time.
	send := func(text string) map[string]any {
		return e.expect(e.request("POST", "/switchboard/v1/inbound/sms", e.adminToken,
			map[string]string{"from": peer, "to": "+16505550102", "text": text, "sourceId": "carrier-42"}), 200).object(t)
	}
	first, again := send("once"), send("once")
	if first["id"] != again["id"] {
		t.Fatalf("a redelivery was stored again: %v and %v", first["id"], again["id"])
	}
	ids, _ := e.listIDs(mailboxPath(e.bob)+"?direction=Inbound", tok)
	if len(ids) != 2 {
		t.Fatalf("bob's inbox holds %d messages, want 2 (the first SMS and the redelivered one once)", len(ids))
	}
}

func TestInboundRefusals(t *testing.T) {
	e := newTestEnv(t)
	before := e.mailboxSize(e.alice)
	wav := testWAV(1000)
	for _, tc := range []struct {
		name   string
		do     func() *response
		status int
		code   string
		param  string
	}{
		{"sms without admin token", func() *response {
			return e.request("POST", "/switchboard/v1/inbound/sms", "", map[string]string{"from": "+15550001111", "to": "+16505550101", "text": "x"})
		}, 401, "", ""},
		{"sms with a user's token", func() *response {
			return e.request("POST", "/switchboard/v1/inbound/sms", e.token(e.alice), map[string]string{"from": "+15550001111", "to": "+16505550101", "text": "x"})
		}, 401, "", ""},
		{"sms to unknown number", func() *response {
			return e.request("POST", "/switchboard/v1/inbound/sms", e.adminToken, map[string]string{"from": "+15550001111", "to": "+16505559999", "text": "x"})
		}, 404, "CMN-102", "to"},
		{"sms to the main number (no extension)", func() *response {
			return e.request("POST", "/switchboard/v1/inbound/sms", e.adminToken, map[string]string{"from": "+15550001111", "to": "+16505550100", "text": "x"})
		}, 404, "CMN-102", "to"},
		{"sms to an extension number", func() *response {
			return e.request("POST", "/switchboard/v1/inbound/sms", e.adminToken, map[string]string{"from": "+15550001111", "to": "101", "text": "x"})
		}, 400, "CMN-101", "to"},
		{"sms without text", func() *response {
			return e.request("POST", "/switchboard/v1/inbound/sms", e.adminToken, map[string]string{"from": "+15550001111", "to": "+16505550101"})
		}, 400, "CMN-101", "text"},
		{"sms with bad from", func() *response {
			return e.request("POST", "/switchboard/v1/inbound/sms", e.adminToken, map[string]string{"from": "555", "to": "+16505550101", "text": "x"})
		}, 400, "CMN-101", "from"},
		{"mms with a type MMS does not carry", func() *response {
			return e.multipartRequest("/switchboard/v1/inbound/mms", e.adminToken, field("from", "+15550001111"), field("to", "+16505550101"),
				part{"file", "a.zip", "application/zip", []byte("PK\x03\x04 zip archive")})
		}, 415, "MSG-348", "attachments"},
		{"mms with an empty file", func() *response {
			return e.multipartRequest("/switchboard/v1/inbound/mms", e.adminToken, field("from", "+15550001111"), field("to", "+16505550101"),
				part{"file", "a.png", "image/png", nil})
		}, 400, "MSG-347", "attachments"},
		{"fax with an unsupported document", func() *response {
			return e.multipartRequest("/switchboard/v1/inbound/fax", e.adminToken, field("from", "+15550001111"), field("to", "+16505550101"),
				part{"file", "a.zip", "application/zip", []byte("PK\x03\x04\x14\x00\x00\x00zip archive body")})
		}, 415, "MSG-348", "attachment"},
		{"fax without a document", func() *response {
			return e.multipartRequest("/switchboard/v1/inbound/fax", e.adminToken, field("from", "+15550001111"), field("to", "+16505550101"))
		}, 400, "CMN-101", "attachment"},
		{"voicemail to unknown extension", func() *response {
			return e.multipartRequest("/switchboard/v1/inbound/voicemail", e.adminToken, field("from", "+15550001111"), field("to", "999"),
				part{"audio", "vm.wav", "audio/wav", wav})
		}, 404, "CMN-102", "to"},
		{"voicemail to unknown number", func() *response {
			return e.multipartRequest("/switchboard/v1/inbound/voicemail", e.adminToken, field("to", "+16505559999"),
				part{"audio", "vm.wav", "audio/wav", wav})
		}, 404, "CMN-102", "to"},
		{"voicemail to an extension number of two accounts", func() *response {
			return e.multipartRequest("/switchboard/v1/inbound/voicemail", e.adminToken, field("to", "101"),
				part{"audio", "vm.wav", "audio/wav", wav})
		}, 400, "CMN-101", "to"},
		{"voicemail with malformed audio", func() *response {
			return e.multipartRequest("/switchboard/v1/inbound/voicemail", e.adminToken, field("to", "+16505550101"),
				part{"audio", "vm.wav", "audio/wav", wav[:30]})
		}, 400, "CMN-101", "audio"},
		{"voicemail with zero-length audio", func() *response {
			return e.multipartRequest("/switchboard/v1/inbound/voicemail", e.adminToken, field("to", "+16505550101"),
				part{"audio", "vm.wav", "audio/wav", nil})
		}, 400, "MSG-347", "audio"},
		{"voicemail with a WAV of no samples", func() *response {
			return e.multipartRequest("/switchboard/v1/inbound/voicemail", e.adminToken, field("to", "+16505550101"),
				part{"audio", "vm.wav", "audio/wav", testWAV(0)})
		}, 400, "CMN-101", "audio"},
		{"voicemail with audio over the limit", func() *response {
			return e.multipartRequest("/switchboard/v1/inbound/voicemail", e.adminToken, field("to", "+16505550101"),
				part{"audio", "vm.wav", "audio/wav", testWAV(testMaxAudioBytes/16 + 100)})
		}, 413, "CMN-413", "audio"},
		{"voicemail that is not audio", func() *response {
			return e.multipartRequest("/switchboard/v1/inbound/voicemail", e.adminToken, field("to", "+16505550101"),
				part{"audio", "vm.ogg", "audio/ogg", []byte("OggS\x00\x02 not supported here")})
		}, 415, "CMN-415", "audio"},
		{"voicemail without audio", func() *response {
			return e.multipartRequest("/switchboard/v1/inbound/voicemail", e.adminToken, field("to", "+16505550101"))
		}, 400, "CMN-101", "audio"},
		{"voicemail with the file in another field", func() *response {
			return e.multipartRequest("/switchboard/v1/inbound/voicemail", e.adminToken, field("to", "+16505550101"),
				part{"file", "vm.wav", "audio/wav", wav})
		}, 400, "CMN-101", "file"},
		{"voicemail as JSON", func() *response {
			return e.request("POST", "/switchboard/v1/inbound/voicemail", e.adminToken, map[string]string{"to": "+16505550101"})
		}, 415, "CMN-415", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.do()
			if r.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", r.StatusCode, tc.status, r.body)
			}
			if tc.code != "" {
				code, param := errorOf(t, r)
				if code != tc.code || param != tc.param {
					t.Fatalf("error %s naming %q, want %s naming %q: %s", code, param, tc.code, tc.param, r.body)
				}
			}
		})
	}
	if n := e.mailboxSize(e.alice); n != before {
		t.Fatalf("refused messages were stored: %d messages, had %d", n, before)
	}
}

func TestInboundMMSAndFax(t *testing.T) {
	e := newTestEnv(t)
	png := makeTestPNG(t)
	// The declared type is wrong: the content decides.
	m := e.expect(e.multipartRequest("/switchboard/v1/inbound/mms", e.adminToken, field("from", "+15550001111"),
		field("to", "+16505550101"), field("text", "Look"), part{"file", "cat.png", "application/octet-stream", png}), 200).object(t)
	atts := m["attachments"].([]any)
	if m["type"] != "SMS" || len(atts) != 2 || atts[1].(map[string]any)["type"] != "MmsAttachment" ||
		atts[1].(map[string]any)["contentType"] != "image/png" || atts[1].(map[string]any)["size"] != float64(len(png)) {
		t.Fatalf("mms %v", m)
	}

	f := e.expect(e.multipartRequest("/switchboard/v1/inbound/fax", e.adminToken, field("from", "+15550002222"),
		field("to", "+16505550102"), part{"doc", "note.txt", "text/plain", []byte("Please sign and return.")},
		part{"doc", "img.png", "image/png", png}), 200).object(t)
	fatts := f["attachments"].([]any)
	if f["type"] != "Fax" || f["direction"] != "Inbound" || f["readStatus"] != "Unread" || f["faxPageCount"] != float64(2) ||
		len(fatts) != 1 || fatts[0].(map[string]any)["type"] != "RenderedDocument" || fatts[0].(map[string]any)["contentType"] != "application/pdf" {
		t.Fatalf("fax %v", f)
	}
	// Bob sees it through the API, and the rendered PDF downloads.
	tok := e.token(e.bob)
	r := e.expect(e.request("GET", fatts[0].(map[string]any)["uri"].(string), tok, nil), 200)
	if !bytes.HasPrefix(r.body, []byte("%PDF-")) {
		t.Fatalf("fax content is not a PDF: %.20q", r.body)
	}
}

func TestInboundVoiceMail(t *testing.T) {
	e := newTestEnv(t)
	mp3, err := os.ReadFile("../audio/testdata/vm-8k.mp3")
	must(t, err)
	for _, tc := range []struct {
		name        string
		to          string
		extra       []part
		audio       part
		owner       *switchboard.Extension
		contentType string
		duration    float64
	}{
		{"WAV to a phone number", "+16505550101", nil, part{"audio", "msg.wav", "application/octet-stream", testWAV(3400)}, e.alice, "audio/wav", 3},
		{"MP3 to an extension number of one account", "102", []part{field("accountId", strconv.FormatInt(e.acc1.ID, 10))},
			part{"audio", "msg.mp3", "audio/mpeg", mp3}, e.bob, "audio/mpeg", 3},
		{"extension number without account when unique", "103", nil, part{"audio", "", "", testWAV(61500)}, e.dept, "audio/wav", 62},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parts := append([]part{field("from", "+15550003333"), field("to", tc.to)}, tc.extra...)
			m := e.expect(e.multipartRequest("/switchboard/v1/inbound/voicemail", e.adminToken, append(parts, tc.audio)...), 200).object(t)
			atts := m["attachments"].([]any)
			if m["type"] != "VoiceMail" || m["direction"] != "Inbound" || m["messageStatus"] != "Received" || m["readStatus"] != "Unread" ||
				m["vmTranscriptionStatus"] != "NotAvailable" || m["extensionId"] != strconv.FormatInt(tc.owner.ID, 10) || len(atts) != 1 {
				t.Fatalf("voicemail %v", m)
			}
			a := atts[0].(map[string]any)
			if a["type"] != "AudioRecording" || a["contentType"] != tc.contentType || a["vmDuration"] != tc.duration ||
				a["size"] != float64(len(tc.audio.data)) {
				t.Fatalf("audio attachment %v, want %s of %v s, %d bytes", a, tc.contentType, tc.duration, len(tc.audio.data))
			}
			// The owner's view through the RingCentral API (checked against
			// RingCentral's OpenAPI description) is the same message.
			if tc.owner.Type == switchboard.ExtensionTypeUser {
				id := strconv.FormatInt(int64(m["id"].(float64)), 10)
				got := e.expect(e.request("GET", mailboxPath(tc.owner)+"/"+id, e.token(tc.owner), nil), 200).object(t)
				if fmt.Sprint(got) != fmt.Sprint(m) {
					t.Fatalf("read back\n%v\nstored\n%v", got, m)
				}
			}
		})
	}
}

// TestVoiceMailAudioRange: a browser's audio element seeks with Range
// requests; the recording answers them.
func TestVoiceMailAudioRange(t *testing.T) {
	e := newTestEnv(t)
	wav := testWAV(2000)
	m := e.expect(e.multipartRequest("/switchboard/v1/inbound/voicemail", e.adminToken, field("from", "+15550003333"),
		field("to", "+16505550101"), part{"audio", "vm.wav", "audio/wav", wav}), 200).object(t)
	uri := m["attachments"].([]any)[0].(map[string]any)["uri"].(string)
	tok := e.token(e.alice)
	full := e.expect(e.request("GET", uri, tok, nil), 200)
	if !bytes.Equal(full.body, wav) || full.Header.Get("Content-Type") != "audio/wav" || full.Header.Get("Accept-Ranges") != "bytes" {
		t.Fatalf("full content: %d bytes, type %q, accept-ranges %q", len(full.body), full.Header.Get("Content-Type"), full.Header.Get("Accept-Ranges"))
	}
	r := e.request("GET", uri, tok, nil, "Range", "bytes=16000-16099")
	if r.StatusCode != 206 || !bytes.Equal(r.body, wav[16000:16100]) || r.Header.Get("Content-Range") != fmt.Sprintf("bytes 16000-16099/%d", len(wav)) {
		t.Fatalf("range: status %d, %d bytes, Content-Range %q", r.StatusCode, len(r.body), r.Header.Get("Content-Range"))
	}
	r = e.request("GET", uri, tok, nil, "Range", "bytes=-44")
	if r.StatusCode != 206 || !bytes.Equal(r.body, wav[len(wav)-44:]) {
		t.Fatalf("suffix range: status %d, %d bytes", r.StatusCode, len(r.body))
	}
	// Another user of the account is refused the recording.
	e.expect(e.request("GET", uri, e.token(e.bob), nil), 403)
}

type transcriberFunc func(ctx context.Context, audio []byte, contentType string) (string, error)

func (f transcriberFunc) Transcribe(ctx context.Context, a []byte, ct string) (string, error) {
	return f(ctx, a, ct)
}

// TestVoiceMailTranscriptionSync: with a transcriber, a voicemail is
// InProgress, then Completed with its transcript, and message-sync reports
// both states to a client that synced in between.
func TestVoiceMailTranscriptionSync(t *testing.T) {
	e := newTestEnv(t)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	worker := transcribe.NewWorker(e.store, transcriberFunc(func(_ context.Context, a []byte, ct string) (string, error) {
		return fmt.Sprintf("Hello, %d bytes of %s.", len(a), ct), nil
	}), transcribe.Config{Owner: "test"}, logger)
	// A server whose inbound receiver has the transcriber configured.
	srv := httptest.NewServer(httpapi.New(httpapi.Deps{Store: e.store, Auth: e.auth, Clock: e.clock, Logger: logger,
		Inbound: inbound.New(e.store, logger, inbound.Config{Transcribe: true, Wake: worker.Wake})}, httpapi.Config{}))
	defer srv.Close()

	tok := e.token(e.alice)
	c := &syncClient{e: e, token: tok, path: "/restapi/v1.0/account/~/extension/~/message-sync"}
	c.full("")

	wav := testWAV(1500)
	r := e.multipartRequest(srv.URL+"/switchboard/v1/inbound/voicemail", e.adminToken, field("from", "+15550003333"),
		field("to", "+16505550101"), part{"audio", "vm.wav", "audio/wav", wav})
	vm := e.expect(r, 200).object(t)
	if vm["vmTranscriptionStatus"] != "InProgress" {
		t.Fatalf("new voicemail with a transcriber: %v", vm["vmTranscriptionStatus"])
	}
	first := c.incremental()["records"].([]any)
	if len(first) != 1 || first[0].(map[string]any)["vmTranscriptionStatus"] != "InProgress" {
		t.Fatalf("ISync after the voicemail: %v", first)
	}

	if n, err := worker.RunOnce(t.Context()); err != nil || n != 1 {
		t.Fatalf("worker: %d, %v", n, err)
	}
	second := c.incremental()["records"].([]any)
	if len(second) != 1 {
		t.Fatalf("ISync after the transcription: %v", second)
	}
	got := second[0].(map[string]any)
	atts := got["attachments"].([]any)
	if got["vmTranscriptionStatus"] != "Completed" || len(atts) != 2 {
		t.Fatalf("transcribed voicemail %v", got)
	}
	tr := atts[1].(map[string]any)
	if tr["type"] != "AudioTranscription" || tr["contentType"] != "text/plain" {
		t.Fatalf("transcript attachment %v", tr)
	}
	text := e.expect(e.request("GET", tr["uri"].(string), tok, nil), 200)
	if want := fmt.Sprintf("Hello, %d bytes of audio/wav.", len(wav)); string(text.body) != want {
		t.Fatalf("transcript %q, want %q", text.body, want)
	}
}
