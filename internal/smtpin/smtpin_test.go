package smtpin_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/smtp"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/inbound"
	"github.com/switchboardhq/switchboard/internal/smtpin"
	"github.com/switchboardhq/switchboard/internal/sqlstore"
)

const domain = "vm.test"

type env struct {
	t          *testing.T
	store      *sqlstore.DB
	addr       string
	acc        *switchboard.Account
	ann, bob   *switchboard.Extension
	maxMessage int64
}

func newEnv(t *testing.T, options ...func(*smtpin.Config)) *env {
	t.Helper()
	ctx := t.Context()
	clock := switchboard.NewManualClock(func() time.Time { return time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC) })
	store, err := sqlstore.OpenSQLite(ctx, filepath.Join(t.TempDir(), "t.db"), clock, sqlstore.SQLiteOptions{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	e := &env{t: t, store: store, maxMessage: 2 << 20}
	e.acc = must(store.CreateAccount(ctx, switchboard.AccountCreate{Name: "A", MainNumber: "+16505550100"}))(t)
	e.ann = must(store.CreateExtension(ctx, switchboard.ExtensionCreate{AccountID: e.acc.ID, ExtensionNumber: "101", Name: "Ann"}))(t)
	e.bob = must(store.CreateExtension(ctx, switchboard.ExtensionCreate{AccountID: e.acc.ID, ExtensionNumber: "102", Name: "Bob", Type: switchboard.ExtensionTypeFaxUser}))(t)
	must(store.CreatePhoneNumber(ctx, switchboard.PhoneNumberCreate{AccountID: e.acc.ID, ExtensionID: e.ann.ID, PhoneNumber: "+16505550101"}))(t)
	// A company number that belongs to no extension.
	must(store.CreatePhoneNumber(ctx, switchboard.PhoneNumberCreate{AccountID: e.acc.ID, PhoneNumber: "+16505550199"}))(t)

	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	recv := inbound.New(store, logger, inbound.Config{MaxAudioBytes: 1 << 20})
	config := smtpin.Config{Domain: domain, MaxBytes: e.maxMessage}
	for _, o := range options {
		o(&config)
	}
	srv := smtpin.New(store, recv, config, logger)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	e.addr = l.Addr().String()
	return e
}

func must[T any](v T, err error) func(*testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func wav(millis int) []byte {
	var b bytes.Buffer
	le := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	data := 8 * millis // 8-bit mu-law, 8 kHz: 8000 bytes a second
	b.WriteString("RIFF")
	le(uint32(36 + data))
	b.WriteString("WAVEfmt ")
	le(uint32(16))
	le(uint16(7))
	le(uint16(1))
	le(uint32(8000))
	le(uint32(8000))
	le(uint16(1))
	le(uint16(8))
	b.WriteString("data")
	le(uint32(data))
	b.Write(bytes.Repeat([]byte{0xFF}, data))
	return b.Bytes()
}

type attachment struct {
	name, contentType string
	data              []byte
}

// email builds a MIME message as a PBX's voicemail-to-email sends it: a
// text body and base64 attachments.
func email(subject string, headers map[string]string, atts ...attachment) []byte {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	fmt.Fprintf(&b, "From: PBX <pbx@pbx.example>\r\nTo: voicemail@%s\r\nSubject: %s\r\nDate: Fri, 27 Nov 2026 09:00:00 +0000\r\nMIME-Version: 1.0\r\n", domain, subject)
	for k, v := range headers {
		fmt.Fprintf(&b, "%s: %s\r\n", k, v)
	}
	fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=%s\r\n\r\n", mw.Boundary())
	w, _ := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"text/plain; charset=utf-8"}})
	_, _ = io.WriteString(w, "You have a new message.\r\n")
	for _, a := range atts {
		w, _ := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {a.contentType + `; name="` + a.name + `"`},
			"Content-Transfer-Encoding": {"base64"},
			"Content-Disposition":       {`attachment; filename="` + a.name + `"`},
		})
		enc := base64.StdEncoding.EncodeToString(a.data)
		for len(enc) > 76 {
			_, _ = io.WriteString(w, enc[:76]+"\r\n")
			enc = enc[76:]
		}
		_, _ = io.WriteString(w, enc+"\r\n")
	}
	_ = mw.Close()
	return b.Bytes()
}

func (e *env) send(to []string, msg []byte) error {
	return smtp.SendMail(e.addr, nil, "pbx@pbx.example", to, msg)
}

func (e *env) messages(ext *switchboard.Extension) []*switchboard.Message {
	e.t.Helper()
	p := must(e.store.ListMessages(context.Background(), switchboard.MessageFilter{AccountID: ext.AccountID, ExtensionID: ext.ID}))(e.t)
	return p.Messages
}

func TestVoiceMailByEmail(t *testing.T) {
	e := newEnv(t)
	audio := wav(7400)
	msg := email("New voicemail from +1 (415) 555-0142, 7 seconds", nil, attachment{"msg0001.wav", "audio/x-wav", audio})
	if err := e.send([]string{"16505550101@" + domain}, msg); err != nil {
		t.Fatal(err)
	}
	ms := e.messages(e.ann)
	if len(ms) != 1 {
		t.Fatalf("%d messages, want 1", len(ms))
	}
	m := ms[0]
	if m.Type != switchboard.TypeVoiceMail || m.Direction != switchboard.Inbound || m.ReadStatus != switchboard.Unread ||
		m.From.PhoneNumber != "+14155550142" || m.VMTranscriptionStatus != switchboard.TranscriptionNotAvailable {
		t.Fatalf("voicemail %+v", m)
	}
	a := m.Attachments[0]
	if a.Type != switchboard.AttachmentAudioRecording || a.ContentType != "audio/wav" || a.VMDuration != 7 || a.Size != int64(len(audio)) || a.FileName != "msg0001.wav" {
		t.Fatalf("attachment %+v", a)
	}
	full := must(e.store.Attachment(context.Background(), e.acc.ID, e.ann.ID, m.ID, a.ID))(t)
	if !bytes.Equal(full.Content, audio) {
		t.Fatal("stored audio differs from the attachment sent")
	}
}

func TestFaxByEmail(t *testing.T) {
	e := newEnv(t)
	tiff, err := os.ReadFile("../fax/testdata/gopher-g4.tiff")
	if err != nil {
		t.Fatal(err)
	}
	// Extension 102 by account id and by the account's main number; the
	// caller id comes from the header.
	for _, rcpt := range []string{fmt.Sprintf("102@%d.%s", e.acc.ID, domain), "102@16505550100." + strings.ToUpper(domain)} {
		msg := email("Fax received", map[string]string{"X-Caller-ID": "14155550199"}, attachment{"fax.tif", "image/tiff", tiff})
		if err := e.send([]string{rcpt}, msg); err != nil {
			t.Fatalf("%s: %v", rcpt, err)
		}
	}
	ms := e.messages(e.bob)
	if len(ms) != 2 {
		t.Fatalf("%d messages, want 2", len(ms))
	}
	for _, m := range ms {
		if m.Type != switchboard.TypeFax || m.FaxPageCount != 1 || m.From.PhoneNumber != "+14155550199" ||
			len(m.Attachments) != 1 || m.Attachments[0].Type != switchboard.AttachmentRenderedDocument || m.Attachments[0].ContentType != "application/pdf" {
			t.Fatalf("fax %+v (%+v)", m, m.Attachments)
		}
	}
}

func TestRefusals(t *testing.T) {
	e := newEnv(t)
	good := email("vm", nil, attachment{"a.wav", "audio/wav", wav(1000)})
	for _, tc := range []struct {
		name string
		to   string
		msg  []byte
		code string
	}{
		{"unknown number", "16505559999@" + domain, good, "550"},
		{"company number without extension", "16505550199@" + domain, good, "550"},
		{"unknown extension", fmt.Sprintf("109@%d.%s", e.acc.ID, domain), good, "550"},
		{"unknown account", "101@999999999." + domain, good, "550"},
		{"not a number", "voicemail@" + domain, good, "550"},
		{"another domain (relay)", "16505550101@example.com", good, "550"},
		{"no attachment", "16505550101@" + domain, email("hello", nil), "554"},
		{"malformed audio", "16505550101@" + domain, email("vm", nil, attachment{"a.wav", "audio/wav", wav(1000)[:30]}), "554"},
		{"audio over the limit", "16505550101@" + domain, email("vm", nil, attachment{"a.wav", "audio/wav", wav(140000)}), "554"},
		{"message over the size limit", "16505550101@" + domain, email("vm", nil, attachment{"a.wav", "audio/wav", wav(int(e.maxMessage / 8))}), "552"},
		{"unsupported document", "16505550101@" + domain, email("fax", nil, attachment{"a.zip", "application/zip", []byte("PK\x03\x04 zip")}), "554"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := e.send([]string{tc.to}, tc.msg)
			var pe *textproto.Error
			if err == nil || !asProto(err, &pe) || fmt.Sprint(pe.Code) != tc.code {
				t.Fatalf("SendMail = %v, want an SMTP %s", err, tc.code)
			}
		})
	}
	if n := len(e.messages(e.ann)) + len(e.messages(e.bob)); n != 0 {
		t.Fatalf("%d messages stored from refused mail", n)
	}
}

func asProto(err error, pe **textproto.Error) bool {
	for err != nil {
		if p, ok := err.(*textproto.Error); ok {
			*pe = p
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

// A mail server that retries an email (a lost reply, a 4xx for another
// recipient) sends the same Message-ID again: each mailbox keeps one copy.
func TestRetriedEmailStoredOnce(t *testing.T) {
	e := newEnv(t)
	msg := email("Voicemail", map[string]string{"Message-ID": "<vm-0001@pbx.example>"}, attachment{"vm.wav", "audio/wav", wav(3000)})
	for range 3 {
		if err := e.send([]string{"16505550101@" + domain}, msg); err != nil {
			t.Fatal(err)
		}
	}
	if ms := e.messages(e.ann); len(ms) != 1 {
		t.Fatalf("%d voicemails after three deliveries of one email, want 1", len(ms))
	}
	// Another email (another Message-ID) is another voicemail.
	other := email("Voicemail", map[string]string{"Message-ID": "<vm-0002@pbx.example>"}, attachment{"vm.wav", "audio/wav", wav(3000)})
	if err := e.send([]string{"16505550101@" + domain}, other); err != nil {
		t.Fatal(err)
	}
	if ms := e.messages(e.ann); len(ms) != 2 {
		t.Fatalf("%d voicemails after a second email, want 2", len(ms))
	}
}
