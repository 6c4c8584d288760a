package inbound

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/sqlstore"
)

var now = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

type env struct {
	store    *sqlstore.DB
	svc      *Service
	acc      *switchboard.Account
	ann, bob *switchboard.Extension
	woken    int
}

func newEnv(t *testing.T, cfg Config) *env {
	t.Helper()
	ctx := t.Context()
	store, err := sqlstore.OpenSQLite(ctx, filepath.Join(t.TempDir(), "t.db"),
		switchboard.NewManualClock(func() time.Time { return now }), sqlstore.SQLiteOptions{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	e := &env{store: store}
	cfg.Wake = func() { e.woken++ }
	e.svc = New(store, slog.New(slog.NewTextHandler(io.Discard, nil)), cfg)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	e.acc, err = store.CreateAccount(ctx, switchboard.AccountCreate{Name: "A"})
	must(err)
	e.ann, err = store.CreateExtension(ctx, switchboard.ExtensionCreate{AccountID: e.acc.ID, ExtensionNumber: "101", Name: "Ann"})
	must(err)
	e.bob, err = store.CreateExtension(ctx, switchboard.ExtensionCreate{AccountID: e.acc.ID, ExtensionNumber: "102", Name: "Bob"})
	must(err)
	_, err = store.CreatePhoneNumber(ctx, switchboard.PhoneNumberCreate{AccountID: e.acc.ID, ExtensionID: e.ann.ID, PhoneNumber: "+16505550101"})
	must(err)
	_, err = store.CreatePhoneNumber(ctx, switchboard.PhoneNumberCreate{AccountID: e.acc.ID, ExtensionID: e.bob.ID, PhoneNumber: "+16505550102"})
	must(err)
	return e
}

func wav(millis int) []byte {
	var b bytes.Buffer
	le := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	le(uint32(36 + 8*millis))
	b.WriteString("WAVEfmt ")
	le(uint32(16))
	le(uint16(6)) // A-law
	le(uint16(1))
	le(uint32(8000))
	le(uint32(8000))
	le(uint16(1))
	le(uint16(8))
	b.WriteString("data")
	le(uint32(8 * millis))
	b.Write(bytes.Repeat([]byte{0xD5}, 8*millis))
	return b.Bytes()
}

func code(err error) string {
	if e := switchboard.AsError(err); e != nil {
		return e.Code
	}
	if err != nil {
		return "error: " + err.Error()
	}
	return ""
}

func TestReceive(t *testing.T) {
	e := newEnv(t, Config{})
	ctx := context.Background()
	received := now.Add(-90 * time.Second)
	m, err := e.svc.Receive(ctx, switchboard.InboundMessage{Type: switchboard.TypeSMS, From: "+1 415 555 0100", To: "+16505550101",
		Text: "hello", Received: received})
	if err != nil {
		t.Fatal(err)
	}
	if m.ExtensionID != e.ann.ID || m.From.PhoneNumber != "+14155550100" || !m.Created.Equal(received) ||
		m.ConversationID != switchboard.ConversationIDFor([]string{"+14155550100", "+16505550101"}) ||
		m.To[0].Name != "Ann" || m.SegmentCount != 1 {
		t.Fatalf("sms %+v", m)
	}

	for _, tc := range []struct {
		name string
		in   switchboard.InboundMessage
		code string
	}{
		{"pager is not inbound traffic", switchboard.InboundMessage{Type: switchboard.TypePager, From: "+14155550100", To: "+16505550101"}, "CMN-101"},
		{"sms over the text limit", switchboard.InboundMessage{Type: switchboard.TypeSMS, From: "+14155550100", To: "+16505550102", Text: strings.Repeat("é", 1001)}, "CMN-101"},
		{"sms without sender", switchboard.InboundMessage{Type: switchboard.TypeSMS, To: "+16505550102", Text: "x"}, "CMN-101"},
		{"too many MMS files", switchboard.InboundMessage{Type: switchboard.TypeSMS, From: "+14155550100", To: "+16505550102",
			Files: make([]switchboard.InboundFile, 11)}, "CMN-101"},
		{"no recipient", switchboard.InboundMessage{Type: switchboard.TypeFax}, "CMN-101"},
		{"voicemail with two files", switchboard.InboundMessage{Type: switchboard.TypeVoiceMail, To: "102",
			Files: []switchboard.InboundFile{{Data: wav(100)}, {Data: wav(100)}}}, "CMN-101"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := e.svc.Receive(ctx, tc.in); code(err) != tc.code {
				t.Fatalf("%v, want %s", err, tc.code)
			}
		})
	}
	// Numbers and extensions that cannot take messages.
	if err := e.store.SetPhoneNumberStatus(ctx, e.acc.ID, "+16505550102", switchboard.StatusDisabled); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Receive(ctx, switchboard.InboundMessage{Type: switchboard.TypeSMS, From: "+14155550100", To: "+16505550102", Text: "x"}); code(err) != "CMN-102" {
		t.Fatalf("disabled number: %v", err)
	}
	if err := e.store.SetExtensionStatus(ctx, e.acc.ID, e.ann.ID, switchboard.StatusDisabled); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Receive(ctx, switchboard.InboundMessage{Type: switchboard.TypeSMS, From: "+14155550100", To: "+16505550101", Text: "x"}); code(err) != "CMN-102" {
		t.Fatalf("disabled extension: %v", err)
	}
	if _, err := e.svc.Receive(ctx, switchboard.InboundMessage{Type: switchboard.TypeVoiceMail, To: "101", Files: []switchboard.InboundFile{{Data: wav(500)}}}); code(err) != "CMN-102" {
		t.Fatalf("disabled extension by number: %v", err)
	}
	for ext, want := range map[int64]int{e.ann.ID: 1, e.bob.ID: 0} {
		page, err := e.store.ListMessages(ctx, switchboard.MessageFilter{AccountID: e.acc.ID, ExtensionID: ext})
		if err != nil || len(page.Messages) != want {
			t.Fatalf("mailbox %d holds %d messages (%v), want %d: refused messages were stored", ext, len(page.Messages), err, want)
		}
	}
}

func TestVoiceMailTranscriptionJob(t *testing.T) {
	e := newEnv(t, Config{Transcribe: true})
	m, err := e.svc.Receive(context.Background(), switchboard.InboundMessage{Type: switchboard.TypeVoiceMail, To: "102",
		Files: []switchboard.InboundFile{{FileName: `C:\PBX\spool\msg0003.wav`, Data: wav(2600)}}})
	if err != nil {
		t.Fatal(err)
	}
	a := m.Attachments[0]
	if m.VMTranscriptionStatus != switchboard.TranscriptionInProgress || e.woken != 1 || a.VMDuration != 3 ||
		a.FileName != "msg0003.wav" || m.From != (switchboard.Party{}) || m.To[0].PhoneNumber != "+16505550102" || m.Subject != "Voice message" {
		t.Fatalf("voicemail %+v, attachment %+v, woken %d", m, a, e.woken)
	}
	jobs, err := e.store.ClaimTranscriptions(context.Background(), "t", time.Minute, 5)
	if err != nil || len(jobs) != 1 || jobs[0].MessageID != m.ID || jobs[0].AttachmentID != a.ID {
		t.Fatalf("jobs %+v, %v", jobs, err)
	}
}

func TestDetectType(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	for _, tc := range []struct {
		declared string
		data     []byte
		want     string
	}{
		{"application/octet-stream", png, "image/png"},
		{"image/jpeg", png, "image/png"},
		{"image/png", []byte("<html><script>alert(1)</script>"), "text/html"},
		{"text/vcard", []byte("BEGIN:VCARD\r\nVERSION:3.0\r\nEND:VCARD\r\n"), "text/vcard"},
		{"video/mp4", []byte("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"), "video/mp4"},
		{"audio/amr", []byte("#!AMR\n\x3c\x00\x00"), "audio/amr"},
		{"image/gif", []byte{0x01, 0x02, 0x03}, "application/octet-stream"},
		{"", wav(100), "audio/wav"},
	} {
		got := detectType(switchboard.InboundFile{ContentType: tc.declared, Data: tc.data})
		if got != tc.want {
			t.Errorf("declared %q, data %.12q: got %s, want %s", tc.declared, tc.data, got, tc.want)
		}
	}
}
