package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/outbound"
)

// sendForm says what a send request may carry besides its JSON envelope.
type sendForm struct {
	// maxFiles bounds the file parts; 0 refuses files altogether.
	maxFiles int
	// field, when set, takes a plain form field (no file name, text) the
	// way RingCentral's raw form-data examples send a fax envelope, and
	// reports whether it knew the name. Unknown fields are files.
	field func(name, value string) (bool, error)
}

// maxFormFields bounds the non-file parts of a multipart send request.
const maxFormFields = 64

// decodeSend reads a send request into v: plain JSON (multi false), or
// multipart (form-data or mixed) whose JSON part is found by its
// Content-Type (rc-ex names it request.json, the JS SDK's recipe json),
// whose form fields go to form.field and whose other parts are files.
// upload is one file part of a multipart request and the field it came in.
type upload struct {
	field string
	outbound.File
}

func files(us []upload) []outbound.File {
	out := make([]outbound.File, len(us))
	for i, u := range us {
		out[i] = u.File
	}
	return out
}

func (s *Server) decodeSend(w http.ResponseWriter, r *http.Request, v any, form sendForm) (files []upload, multi bool, err error) {
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if !strings.HasPrefix(mt, "multipart/") {
		sent, err := s.decodeJSON(w, r, s.sender.Limits().MaxRequestBytes, v)
		if err == nil && !sent {
			err = switchboard.Errorf(switchboard.CodeBadRequest, "Request body is required")
		}
		return nil, false, err
	}
	if params["boundary"] == "" {
		return nil, true, switchboard.Errorf(switchboard.CodeBadRequest, "Multipart request without a boundary")
	}
	mr := multipart.NewReader(http.MaxBytesReader(w, r.Body, s.sender.Limits().MaxRequestBytes), params["boundary"])
	gotJSON, gotField, fields := false, false, 0
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, true, bodyError(err, "Malformed multipart body")
		}
		data, err := io.ReadAll(p)
		if err != nil {
			return nil, true, bodyError(err, "Malformed multipart body")
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		name, file := p.FormName(), p.FileName()
		if !gotJSON && (ct == "application/json" || (ct == "" && file == "" && (name == "request.json" || name == "json"))) {
			if err := json.Unmarshal(data, v); err != nil {
				return nil, true, switchboard.Errorf("MSG-349", "JSON part: %s", jsonReason(err))
			}
			gotJSON = true
			continue
		}
		if form.field != nil && file == "" && (ct == "" || ct == "text/plain") {
			if fields++; fields > maxFormFields {
				return nil, true, switchboard.Errorf(switchboard.CodeBadRequest, "Too many form fields (at most %d)", maxFormFields)
			}
			known, err := form.field(name, string(data))
			if err != nil {
				return nil, true, err
			}
			if known {
				gotField = true
				continue
			}
		}
		if len(files) >= form.maxFiles {
			if form.maxFiles == 0 {
				return nil, true, switchboard.InvalidParam("attachments", "", "This message type carries no attachments")
			}
			return nil, true, switchboard.InvalidParam("attachments", "", "At most %d attachments per message", form.maxFiles)
		}
		if ct == "" {
			ct, _, _ = mime.ParseMediaType(http.DetectContentType(data))
		}
		files = append(files, upload{field: name, File: outbound.File{FileName: file, ContentType: ct, Data: data}})
	}
	if !gotJSON && !gotField {
		return nil, true, switchboard.Errorf("MSG-349", "Multipart request has no JSON part (Content-Type: application/json) describing the message")
	}
	return files, true, nil
}

func bodyError(err error, msg string) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return errBodyTooLarge
	}
	return switchboard.Errorf(switchboard.CodeBadRequest, "%s: %v", msg, err)
}

type phoneJSON struct {
	PhoneNumber string `json:"phoneNumber"`
}

type smsRequest struct {
	From *phoneJSON  `json:"from"`
	To   []phoneJSON `json:"to"`
	Text string      `json:"text"`
}

func (s *Server) handleSMS(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) {
	s.sendText(w, r, p, false)
}

func (s *Server) handleMMS(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) {
	s.sendText(w, r, p, true)
}

// sendText serves POST sms and mms. An SMS request with files is an MMS,
// as the JS SDK's recipe sends it to /sms.
func (s *Server) sendText(w http.ResponseWriter, r *http.Request, p *switchboard.Principal, mms bool) {
	mb, ok := s.sendingMailbox(w, r, p)
	if !ok {
		return
	}
	var req smsRequest
	ups, _, err := s.decodeSend(w, r, &req, sendForm{maxFiles: s.sender.Limits().MaxMMSFiles})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := outbound.Request{Type: switchboard.TypeSMS, MMS: mms, Text: req.Text, Files: files(ups)}
	if req.From != nil {
		out.From = req.From.PhoneNumber
	}
	for _, t := range req.To {
		out.To = append(out.To, outbound.Recipient{PhoneNumber: t.PhoneNumber})
	}
	s.send(w, r, p, mb, out)
}

// sendingMailbox resolves the mailbox of the request's path, and whether
// the caller may send from it, before the body is read: a caller without
// the right learns only that (403 or 404), whatever the body holds.
func (s *Server) sendingMailbox(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) (mailbox, bool) {
	mb, err := s.resolveMailbox(r, p)
	if err == nil {
		err = outbound.MaySendFrom(p, mb.AccountID, mb.ExtensionID)
	}
	if err != nil {
		s.writeError(w, r, err)
		return mailbox{}, false
	}
	return mb, true
}

// send sends from mb (the mailbox of the request's path) and answers the
// sender's stored copy.
func (s *Server) send(w http.ResponseWriter, r *http.Request, p *switchboard.Principal, mb mailbox, req outbound.Request) {
	req.AccountID, req.ExtensionID = mb.AccountID, mb.ExtensionID
	m, err := s.sender.Send(r.Context(), p, req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeMessage(w, s.baseURL(r), m)
}

// extensionRefJSON is RingCentral's PagerCallerInfoRequest: an extension
// named by its number or by its id.
type extensionRefJSON struct {
	ExtensionNumber string     `json:"extensionNumber"`
	ExtensionID     flexString `json:"extensionId"`
}

type pagerRequest struct {
	From    *extensionRefJSON  `json:"from"`
	To      []extensionRefJSON `json:"to"`
	Text    string             `json:"text"`
	ReplyOn int64              `json:"replyOn"`
}

// handlePager serves POST company-pager: internal text to extensions of the
// same account (a Department reaches its members), or a reply to the
// parties of an earlier pager message (replyOn).
func (s *Server) handlePager(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) {
	mb, ok := s.sendingMailbox(w, r, p)
	if !ok {
		return
	}
	var req pagerRequest
	if _, _, err := s.decodeSend(w, r, &req, sendForm{}); err != nil {
		s.writeError(w, r, err)
		return
	}
	out := outbound.Request{Type: switchboard.TypePager, Text: req.Text, ReplyOn: req.ReplyOn}
	if req.From != nil {
		out.FromExtension = outbound.Recipient{ExtensionNumber: req.From.ExtensionNumber, ExtensionID: string(req.From.ExtensionID)}
	}
	for _, t := range req.To {
		out.To = append(out.To, outbound.Recipient{ExtensionNumber: t.ExtensionNumber, ExtensionID: string(t.ExtensionID)})
	}
	s.send(w, r, p, mb, out)
}
