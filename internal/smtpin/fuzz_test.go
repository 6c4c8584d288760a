package smtpin

import (
	"bytes"
	"net/mail"
	"testing"

	"github.com/switchboardhq/switchboard"
)

// FuzzParseMIME: any email either becomes a voicemail (one audio file) or
// a fax (documents, at most the MIME walk's part limit), or is refused; the
// walk never panics and stays within its depth and part limits.
func FuzzParseMIME(f *testing.F) {
	f.Add([]byte("Subject: vm from +14155550142\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: audio/wav; name=\"a.wav\"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"a.wav\"\r\n\r\nUklGRiQAAABXQVZFZm10IBAAAAAHAAEAQB8AAEAfAAABAAgAZGF0YQAAAAA=\r\n--b--\r\n"))
	f.Add([]byte("X-Caller-ID: 14155550199\r\nContent-Type: application/pdf; name=f.pdf\r\n\r\n%PDF-1.4\r\n"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: image/tiff\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nII*=00\r\n--b--\r\n--a--\r\n"))
	f.Add([]byte("Message-ID: <x@y>\r\nSubject: =?UTF-8?Q?=E2=80=94?=\r\n\r\nno attachment"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		msg, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			return
		}
		in, err := parse(msg)
		if err != nil {
			return
		}
		switch in.Type {
		case switchboard.TypeVoiceMail:
			if len(in.Files) != 1 {
				t.Fatalf("voicemail with %d files", len(in.Files))
			}
		case switchboard.TypeFax:
			if len(in.Files) == 0 || len(in.Files) > maxParts {
				t.Fatalf("fax with %d files", len(in.Files))
			}
		default:
			t.Fatalf("parsed as %q", in.Type)
		}
		if len(in.SourceID) > switchboard.MaxSourceIDLength {
			t.Fatalf("source id of %d bytes", len(in.SourceID))
		}
	})
}
