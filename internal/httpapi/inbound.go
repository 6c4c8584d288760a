package httpapi

import (
	"mime"
	"net/http"
	"strings"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/rcwire"
)

// The inbound admin API: simulated (or, from a phone system, real) traffic
// from outside. Each endpoint hands one message to the InboundReceiver —
// the same one carriers and the SMTP listener use — and answers the stored
// message as the message store shows it (GetMessageInfoResponse).
//
//	POST /switchboard/v1/inbound/sms        JSON {"from", "to", "text"}
//	POST /switchboard/v1/inbound/mms        multipart: from, to, text (optional), one or more files
//	POST /switchboard/v1/inbound/fax        multipart: from (optional), to, one or more documents
//	POST /switchboard/v1/inbound/voicemail  multipart: from (optional), to, file "audio"
//
// Each also takes an optional sourceId, the sender's id of the message: the
// same message sent again with the same sourceId is stored once, and the
// answer is the message stored the first time.
//
// to is an E.164 number of an extension; for fax and voicemail it may be an
// extension number instead, with an optional accountId field when several
// accounts have that extension number. Errors are RingCentral's shape: 404
// CMN-102 naming "to" for a recipient this server does not have, 400 for
// bad fields or unusable files, 415 for file types that are not allowed,
// 413 for files or bodies over their limits.

// maxInboundFiles bounds the files of one inbound request.
const maxInboundFiles = 64

type inboundSMSRequest struct {
	From     string `json:"from"`
	To       string `json:"to"`
	Text     string `json:"text"`
	SourceID string `json:"sourceId"`
}

func (s *Server) handleInboundSMS(w http.ResponseWriter, r *http.Request) {
	var req inboundSMSRequest
	sent, err := s.decodeJSON(w, r, s.config.MaxBodyBytes, &req)
	if err == nil && !sent {
		err = switchboard.Errorf(switchboard.CodeBadRequest, `Request body is required: {"from", "to", "text"}`)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.receive(w, r, switchboard.InboundMessage{Type: switchboard.TypeSMS, From: req.From, To: req.To, Text: req.Text, SourceID: req.SourceID})
}

func (s *Server) handleInboundMMS(w http.ResponseWriter, r *http.Request) {
	s.handleInboundMultipart(w, r, switchboard.TypeSMS)
}

func (s *Server) handleInboundFax(w http.ResponseWriter, r *http.Request) {
	s.handleInboundMultipart(w, r, switchboard.TypeFax)
}

func (s *Server) handleInboundVoiceMail(w http.ResponseWriter, r *http.Request) {
	s.handleInboundMultipart(w, r, switchboard.TypeVoiceMail)
}

func (s *Server) handleInboundMultipart(w http.ResponseWriter, r *http.Request, typ switchboard.MessageType) {
	in, err := s.decodeInbound(w, r, typ)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.receive(w, r, in)
}

func (s *Server) receive(w http.ResponseWriter, r *http.Request, in switchboard.InboundMessage) {
	if s.inbound == nil {
		s.writeError(w, r, switchboard.Errorf(switchboard.CodeNotFound, "Inbound messages are not enabled on this server"))
		return
	}
	recv := s.inbound
	if s.carrierIn != nil && in.Type != switchboard.TypeVoiceMail {
		recv = s.carrierIn
	}
	m, err := recv.Receive(r.Context(), in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rcwire.NewMessage(s.baseURL(r), m))
}

// decodeInbound reads a multipart/form-data inbound request with the
// send API's reader (decodeSend): the fields from, to, accountId, text and
// sourceId, and files (for a voicemail, the one in the field named audio).
func (s *Server) decodeInbound(w http.ResponseWriter, r *http.Request, typ switchboard.MessageType) (switchboard.InboundMessage, error) {
	in := switchboard.InboundMessage{Type: typ}
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if !strings.HasPrefix(mt, "multipart/") || params["boundary"] == "" {
		return in, switchboard.Errorf(switchboard.CodeUnsupportedMedia,
			"Send multipart/form-data with the fields from and to and the file(s)")
	}
	var envelope struct{} // the message is described by form fields
	files, _, err := s.decodeSend(w, r, &envelope, sendForm{maxFiles: maxInboundFiles, field: func(name, v string) (bool, error) {
		var err error
		switch name {
		case "from":
			in.From = strings.TrimSpace(v)
		case "to":
			in.To = strings.TrimSpace(v)
		case "text":
			in.Text = v
		case "sourceId":
			in.SourceID = strings.TrimSpace(v)
		case "accountId":
			in.AccountID, err = parseID("accountId", strings.TrimSpace(v))
		case "audio":
			return false, nil // the recording, even when sent without a file name
		default:
			err = switchboard.InvalidParam(name, "", "Unknown field %q: send from, to, accountId, text, sourceId and files", name)
		}
		return true, err
	}})
	if err != nil {
		return in, err
	}
	for _, f := range files {
		if typ == switchboard.TypeVoiceMail && f.field != "audio" {
			return in, switchboard.InvalidParam(f.field, f.FileName, "A voicemail takes one file, in the field named audio")
		}
		in.Files = append(in.Files, switchboard.InboundFile{FileName: f.FileName, ContentType: f.ContentType, Data: f.Data})
	}
	if typ == switchboard.TypeSMS && len(in.Files) == 0 {
		return in, switchboard.InvalidParam("attachments", "", "An MMS needs at least one file; send text alone to /switchboard/v1/inbound/sms")
	}
	if typ == switchboard.TypeVoiceMail && len(in.Files) == 0 {
		return in, switchboard.InvalidParam("audio", "", "Parameter [audio] is required: the recording, WAV or MP3")
	}
	return in, nil
}
