package smtpin

import (
	"bytes"
	"net/mail"
	"testing"
)

func TestCaller(t *testing.T) {
	for _, tc := range []struct {
		headers string
		want    string
	}{
		{"Subject: New message 3 in mailbox 101 from +1 (415) 555-0142\r\n", "+14155550142"},
		{"Subject: =?UTF-8?Q?Nachricht_von_+49_30_1234567?=\r\n", "+49301234567"},
		{"X-Asterisk-CallerID: 14155550199\r\nSubject: from +1 999\r\n", "+14155550199"},
		{"X-Caller-ID: anonymous\r\nSubject: Voicemail\r\n", ""},
		{"Subject: New voicemail in mailbox 101\r\n", ""},
	} {
		m, err := mail.ReadMessage(bytes.NewReader([]byte(tc.headers + "\r\nbody")))
		if err != nil {
			t.Fatal(err)
		}
		if got := caller(m.Header); got != tc.want {
			t.Errorf("%q: caller %q, want %q", tc.headers, got, tc.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("Subject: vm\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: audio/wav\r\nContent-Transfer-Encoding: base64\r\n\r\nUklGRiQAAABXQVZF\r\n--b--\r\n"))
	f.Add([]byte("Subject: fax\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n%PDF-1.4=0A\r\n"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\nContent-Type: multipart/alternative; boundary=c\r\n\r\n--c\r\n\r\nhi\r\n--c--\r\n--a--\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := mail.ReadMessage(bytes.NewReader(b))
		if err != nil {
			return
		}
		in, err := parse(m)
		if err == nil && (in.Type == "" || len(in.Files) == 0) {
			t.Fatalf("parsed without a file: %+v", in)
		}
	})
}
