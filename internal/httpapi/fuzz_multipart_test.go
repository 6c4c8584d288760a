package httpapi

import (
	"bytes"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http/httptest"
	"net/textproto"
	"testing"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/config"
	"github.com/switchboardhq/switchboard/internal/fax"
	"github.com/switchboardhq/switchboard/internal/outbound"
)

// fuzzLimit bounds the fuzzed request bodies as the server bounds sends.
const fuzzLimit = 64 << 10

func fuzzServer() *Server {
	limits := config.DefaultSendLimits()
	limits.MaxRequestBytes, limits.MaxMMSBytes = fuzzLimit, fuzzLimit
	return &Server{logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		sender: outbound.New(nil, switchboard.SystemClock{}, limits, nil)}
}

// multipartSeed is a well-formed body of a JSON part and files.
func multipartSeed(boundary string, json string, files ...[2]string) []byte {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	_ = mw.SetBoundary(boundary)
	if json != "" {
		w, _ := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {"application/json"}, "Content-Disposition": {`form-data; name="request.json"`}})
		_, _ = io.WriteString(w, json)
	}
	for _, f := range files {
		w, _ := mw.CreateFormFile(f[0], f[0]+".bin")
		_, _ = io.WriteString(w, f[1])
	}
	_ = mw.Close()
	return b.Bytes()
}

// fuzzClientError fails unless err is one the API answers with a 4xx: a
// client's body must never be a 500.
func fuzzClientError(t *testing.T, s *Server, err error) {
	t.Helper()
	status, body := s.errorResponse(httptest.NewRequest("POST", "/", nil), err)
	if status < 400 || status > 499 || body.ErrorCode == "" {
		t.Fatalf("a client's body gave %d %+v (%v)", status, body, err)
	}
}

// FuzzDecodeSendMultipart: any multipart body sent to a send endpoint (a
// fax here: the most parts) either decodes into an envelope and at most
// the allowed documents, each within the request limit, or is a 4xx.
func FuzzDecodeSendMultipart(f *testing.F) {
	f.Add(multipartSeed("b0undary", `{"to":[{"phoneNumber":"+16505550101"}],"faxResolution":"High"}`, [2]string{"doc", "%PDF-1.4"}), "b0undary")
	f.Add(multipartSeed("x", "", [2]string{"to", "+16505550101"}, [2]string{"file", "hello"}), "x")
	f.Add([]byte("--x\r\nContent-Type: application/json\r\n\r\n{\r\n--x--\r\n"), "x")
	f.Add([]byte("--x\r\n\r\n"), "x")
	f.Add([]byte(""), "")
	f.Fuzz(func(t *testing.T, body []byte, boundary string) {
		s := fuzzServer()
		r := httptest.NewRequest("POST", "/fax", bytes.NewReader(body))
		r.Header.Set("Content-Type", "multipart/form-data; boundary=\""+boundary+"\"")
		var req faxRequest
		files, _, err := s.decodeSend(httptest.NewRecorder(), r, &req, sendForm{maxFiles: fax.MaxDocuments, field: func(name, v string) (bool, error) {
			if !isFaxField(name) {
				return false, nil
			}
			return true, setFaxField(&req, name, v)
		}})
		if err != nil {
			fuzzClientError(t, s, err)
			return
		}
		if len(files) > fax.MaxDocuments {
			t.Fatalf("%d documents accepted", len(files))
		}
		total := 0
		for _, f := range files {
			total += len(f.Data)
		}
		if total > fuzzLimit {
			t.Fatalf("%d bytes of documents from a body limited to %d", total, fuzzLimit)
		}
	})
}

// FuzzDecodeInbound: any multipart body of the admin API's inbound
// endpoints either decodes into an inbound message or is a 4xx.
func FuzzDecodeInbound(f *testing.F) {
	f.Add(multipartSeed("b", "", [2]string{"from", "+14155550001"}, [2]string{"to", "+16505550101"}, [2]string{"audio", "RIFF....WAVE"}), "b", 0)
	f.Add(multipartSeed("b", "", [2]string{"accountId", "x"}), "b", 1)
	f.Add([]byte("--b\r\nContent-Disposition: form-data; name=\"to\"\r\n\r\n+1650\r\n--b--"), "b", 2)
	types := []switchboard.MessageType{switchboard.TypeVoiceMail, switchboard.TypeFax, switchboard.TypeSMS}
	f.Fuzz(func(t *testing.T, body []byte, boundary string, kind int) {
		s := fuzzServer()
		r := httptest.NewRequest("POST", "/inbound", bytes.NewReader(body))
		r.Header.Set("Content-Type", "multipart/form-data; boundary=\""+boundary+"\"")
		typ := types[(kind%len(types)+len(types))%len(types)]
		in, err := s.decodeInbound(httptest.NewRecorder(), r, typ)
		if err != nil {
			fuzzClientError(t, s, err)
			return
		}
		if len(in.Files) > maxInboundFiles || (typ != switchboard.TypeFax && len(in.Files) == 0) {
			t.Fatalf("%s with %d files accepted", typ, len(in.Files))
		}
	})
}
