package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"github.com/switchboardhq/switchboard"
)

// Sending limits, RingCentral's by default: request bodies up to 10 MB;
// MMS with up to 10 attachments of 1.5 MB together; recipients per message
// bounded. Config.Limits overrides them.
const (
	maxSendBody      = 10 << 20
	maxMMSFiles      = 10
	maxMMSBytes      = 1_500_000
	maxSMSRecipients = 50
)

// SendLimits bounds send requests; a zero field takes the default above.
type SendLimits struct {
	MaxRequestBytes int64 // whole request body (JSON and files)
	MaxRecipients   int   // recipients of one SMS, MMS or pager message
	MaxMMSFiles     int   // attachments of one MMS
	MaxMMSBytes     int   // attachments of one MMS together
}

func (l *SendLimits) defaults() {
	if l.MaxRequestBytes <= 0 {
		l.MaxRequestBytes = maxSendBody
	}
	if l.MaxRecipients <= 0 {
		l.MaxRecipients = maxSMSRecipients
	}
	if l.MaxMMSFiles <= 0 {
		l.MaxMMSFiles = maxMMSFiles
	}
	if l.MaxMMSBytes <= 0 {
		l.MaxMMSBytes = maxMMSBytes
	}
}

// mmsTypes are the media types carriers take in MMS.
var mmsTypes = map[string]bool{
	"image/jpeg": true, "image/png": true, "image/gif": true, "image/bmp": true, "image/tiff": true,
	"video/mp4": true, "video/mpeg": true, "video/3gpp": true, "video/quicktime": true,
	"audio/mpeg": true, "audio/mp4": true, "audio/amr": true, "audio/wav": true, "audio/ogg": true,
	"text/vcard": true, "text/x-vcard": true, "text/plain": true, "application/pdf": true,
}

// upload is one file part of a multipart send request.
type upload struct {
	field, fileName, contentType string
	data                         []byte
}

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
func (s *Server) decodeSend(w http.ResponseWriter, r *http.Request, v any, form sendForm) (files []upload, multi bool, err error) {
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if !strings.HasPrefix(mt, "multipart/") {
		sent, err := s.decodeJSON(w, r, s.config.Limits.MaxRequestBytes, v)
		if err == nil && !sent {
			err = switchboard.Errorf(http.StatusBadRequest, switchboard.CodeBadRequest, "Request body is required")
		}
		return nil, false, err
	}
	if params["boundary"] == "" {
		return nil, true, switchboard.Errorf(http.StatusBadRequest, switchboard.CodeBadRequest, "Multipart request without a boundary")
	}
	mr := multipart.NewReader(http.MaxBytesReader(w, r.Body, s.config.Limits.MaxRequestBytes), params["boundary"])
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
				return nil, true, switchboard.Errorf(http.StatusBadRequest, "MSG-349", "JSON part: %s", jsonReason(err))
			}
			gotJSON = true
			continue
		}
		if form.field != nil && file == "" && (ct == "" || ct == "text/plain") {
			if fields++; fields > maxFormFields {
				return nil, true, switchboard.Errorf(http.StatusBadRequest, switchboard.CodeBadRequest, "Too many form fields (at most %d)", maxFormFields)
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
		files = append(files, upload{field: name, fileName: file, contentType: ct, data: data})
	}
	if !gotJSON && !gotField {
		return nil, true, switchboard.Errorf(http.StatusBadRequest, "MSG-349", "Multipart request has no JSON part (Content-Type: application/json) describing the message")
	}
	return files, true, nil
}

func bodyError(err error, msg string) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return errBodyTooLarge
	}
	return switchboard.Errorf(http.StatusBadRequest, switchboard.CodeBadRequest, "%s: %v", msg, err)
}

// sender is the mailbox a send request sends from: only the caller's own.
func (s *Server) sender(r *http.Request, p *switchboard.Principal) (*switchboard.Extension, error) {
	mb, err := s.resolveMailbox(r, p)
	if err != nil {
		return nil, err
	}
	if mb.ExtensionID != p.ExtensionID {
		return nil, switchboard.Errorf(http.StatusForbidden, "MSG-331", "Messages are sent from the logged-in extension only")
	}
	return s.store.Extension(r.Context(), mb.AccountID, mb.ExtensionID)
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
	ext, err := s.sender(r, p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req smsRequest
	files, _, err := s.decodeSend(w, r, &req, sendForm{maxFiles: s.config.Limits.MaxMMSFiles})
	if err == nil {
		mms = mms || len(files) > 0
		err = validateText(req.Text, !mms, switchboard.MaxSMSText)
	}
	var from string
	if err == nil {
		from, err = s.checkFromNumber(r, ext, req.From, mms)
	}
	var to []string
	if err == nil {
		to, err = recipientNumbers(req.To, s.config.Limits.MaxRecipients)
	}
	var atts []*switchboard.Attachment
	if err == nil {
		atts, err = mmsAttachments(files, mms, s.config.Limits)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	c := switchboard.OutboundCreate{Message: switchboard.MessageCreate{
		AccountID: ext.AccountID, ExtensionID: ext.ID, Type: switchboard.TypeSMS, Direction: switchboard.Outbound,
		MessageStatus: switchboard.StatusQueued, ReadStatus: switchboard.Read, Subject: req.Text,
		From: switchboard.Party{PhoneNumber: from, Name: ext.Name},
	}}
	if req.Text != "" {
		c.Message.Attachments = append(c.Message.Attachments, &switchboard.Attachment{Type: switchboard.AttachmentText, ContentType: "text/plain", Content: []byte(req.Text)})
	}
	c.Message.Attachments = append(c.Message.Attachments, atts...)
	if !mms {
		c.Message.SegmentCount = switchboard.SMSSegments(req.Text)
	}
	for _, n := range to {
		c.Message.To = append(c.Message.To, switchboard.Party{PhoneNumber: n, MessageStatus: switchboard.StatusQueued})
	}
	if c.Recipients, err = s.phoneTargets(r.Context(), to); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.createOutbound(w, r, c)
}

// phoneTargets makes a delivery of each number: internal when an enabled
// extension of this server owns it, else to the carrier.
func (s *Server) phoneTargets(ctx context.Context, numbers []string) ([]switchboard.DeliveryTarget, error) {
	out := make([]switchboard.DeliveryTarget, len(numbers))
	for i, n := range numbers {
		pn, err := s.store.PhoneNumberByNumber(ctx, n)
		if err != nil && !errors.Is(err, switchboard.ErrNotFound) {
			return nil, err
		}
		out[i] = switchboard.DeliveryTarget{Recipient: n, Internal: err == nil && pn.ExtensionID != 0 && pn.Status != switchboard.StatusDisabled}
	}
	return out, nil
}

// createOutbound stores the message and its deliveries (durably, before
// answering), wakes the delivery worker and answers the stored message.
func (s *Server) createOutbound(w http.ResponseWriter, r *http.Request, c switchboard.OutboundCreate) {
	m, err := s.store.CreateOutbound(r.Context(), c)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if s.outbox != nil {
		s.outbox.Wake()
	}
	writeJSON(w, http.StatusOK, toMessageJSON(s.baseURL(r), m))
}

func validateText(text string, required bool, limit int) error {
	if required && strings.TrimSpace(text) == "" {
		return switchboard.InvalidParam("text", "", "Parameter [text] is required")
	}
	if n := switchboard.UTF16Len(text); n > limit {
		return switchboard.InvalidParam("text", "", "Parameter [text] is %d characters long; the limit is %d (UTF-16 code units)", n, limit)
	}
	return nil
}

// checkFromNumber checks that the sender owns the number with the feature
// the message needs.
func (s *Server) checkFromNumber(r *http.Request, ext *switchboard.Extension, from *phoneJSON, mms bool) (string, error) {
	if from == nil || from.PhoneNumber == "" {
		return "", switchboard.InvalidParam("from.phoneNumber", "", "Parameter [from.phoneNumber] is required")
	}
	n, err := switchboard.NormalizeE164(from.PhoneNumber)
	if err != nil {
		return "", switchboard.InvalidParam("from.phoneNumber", from.PhoneNumber, "Parameter [from.phoneNumber]: %v", err)
	}
	nums, err := s.store.PhoneNumbers(r.Context(), ext.AccountID, ext.ID)
	if err != nil {
		return "", err
	}
	feature := switchboard.FeatureSmsSender
	if mms {
		feature = switchboard.FeatureMmsSender
	}
	for _, pn := range nums {
		if pn.PhoneNumber != n {
			continue
		}
		if !pn.HasFeature(feature) || pn.Status == switchboard.StatusDisabled {
			return "", &switchboard.Error{Status: http.StatusForbidden, Code: "MSG-242",
				Message: fmt.Sprintf("Sending %s from %s is not available: the number lacks the %s feature", map[bool]string{false: "SMS", true: "MMS"}[mms], n, feature),
				Params:  []switchboard.ParamError{{Code: "MSG-242", Name: "from.phoneNumber", Value: n, Message: "number lacks feature " + feature}}}
		}
		return n, nil
	}
	return "", &switchboard.Error{Status: http.StatusForbidden, Code: "MSG-304",
		Message: fmt.Sprintf("Phone number %s doesn't belong to extension %s", n, ext.ExtensionNumber),
		Params:  []switchboard.ParamError{{Code: "MSG-304", Name: "from.phoneNumber", Value: n, Message: "number not owned by the extension"}}}
}

func recipientNumbers(to []phoneJSON, limit int) ([]string, error) {
	if len(to) == 0 {
		return nil, switchboard.InvalidParam("to", "", "Parameter [to] needs at least one recipient")
	}
	if len(to) > limit {
		return nil, switchboard.InvalidParam("to", strconv.Itoa(len(to)), "At most %d recipients per message", limit)
	}
	seen := map[string]bool{}
	var out []string
	for _, t := range to {
		n, err := switchboard.NormalizeE164(t.PhoneNumber)
		if err != nil {
			return nil, switchboard.InvalidParam("to.phoneNumber", t.PhoneNumber, "Recipient %q: %v", t.PhoneNumber, err)
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out, nil
}

func mmsAttachments(files []upload, mms bool, limits SendLimits) ([]*switchboard.Attachment, error) {
	if !mms {
		return nil, nil
	}
	total := 0 // (their number is bounded by decodeSend)
	var out []*switchboard.Attachment
	for _, f := range files {
		if len(f.data) == 0 {
			return nil, &switchboard.Error{Status: http.StatusBadRequest, Code: "MSG-347", Message: fmt.Sprintf("Attachment %q is empty", f.fileName),
				Params: []switchboard.ParamError{{Code: "MSG-347", Name: "attachments", Value: f.fileName, Message: "empty attachment"}}}
		}
		if !mmsTypes[f.contentType] {
			return nil, &switchboard.Error{Status: http.StatusUnsupportedMediaType, Code: "MSG-348",
				Message: fmt.Sprintf("Attachment %q has an unsupported media type %q", f.fileName, f.contentType),
				Params:  []switchboard.ParamError{{Code: "MSG-348", Name: "attachments", Value: f.contentType, Message: "unsupported media type"}}}
		}
		total += len(f.data)
		if total > limits.MaxMMSBytes {
			return nil, &switchboard.Error{Status: http.StatusBadRequest, Code: "MSG-337",
				Message: fmt.Sprintf("MMS attachments are over %d bytes together", limits.MaxMMSBytes),
				Params:  []switchboard.ParamError{{Code: "MSG-337", Name: "attachments", Message: "attachments too large"}}}
		}
		out = append(out, &switchboard.Attachment{Type: switchboard.AttachmentMms, ContentType: f.contentType, FileName: f.fileName, Content: f.data})
	}
	if len(out) == 0 {
		return nil, switchboard.InvalidParam("attachments", "", "An MMS needs at least one attachment")
	}
	return out, nil
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
	ext, err := s.sender(r, p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req pagerRequest
	if _, _, err = s.decodeSend(w, r, &req, sendForm{}); err == nil {
		err = validateText(req.Text, true, switchboard.MaxPagerText)
	}
	if err == nil && req.From != nil && req.From.ExtensionNumber != "" && req.From.ExtensionNumber != ext.ExtensionNumber {
		err = switchboard.InvalidParam("from.extensionNumber", req.From.ExtensionNumber, "The sender is the logged-in extension %s", ext.ExtensionNumber)
	}
	if id := string(req.From.extensionID()); err == nil && id != "" && id != strconv.FormatInt(ext.ID, 10) {
		err = switchboard.InvalidParam("from.extensionId", id, "The sender is the logged-in extension (id %d)", ext.ID)
	}
	var recipients []*switchboard.Extension
	if err == nil {
		recipients, err = s.pagerRecipients(r, ext, req)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	c := switchboard.OutboundCreate{Message: switchboard.MessageCreate{
		AccountID: ext.AccountID, ExtensionID: ext.ID, Type: switchboard.TypePager, Direction: switchboard.Outbound,
		MessageStatus: switchboard.StatusQueued, ReadStatus: switchboard.Read, Subject: req.Text,
		From:        switchboard.Party{ExtensionNumber: ext.ExtensionNumber, ExtensionID: strconv.FormatInt(ext.ID, 10), Name: ext.Name},
		Attachments: []*switchboard.Attachment{{Type: switchboard.AttachmentText, ContentType: "text/plain", Content: []byte(req.Text)}},
	}}
	key := []string{"x" + ext.ExtensionNumber}
	for _, to := range recipients {
		n := to.ExtensionNumber
		c.Message.To = append(c.Message.To, switchboard.Party{ExtensionNumber: n, ExtensionID: strconv.FormatInt(to.ID, 10), Name: to.Name, MessageStatus: switchboard.StatusQueued})
		c.Message.PgToDepartment = c.Message.PgToDepartment || to.Type == switchboard.ExtensionTypeDepartment
		c.Recipients = append(c.Recipients, switchboard.DeliveryTarget{Recipient: n, Internal: true})
		key = append(key, "x"+n)
	}
	// Pager parties have no phone numbers: the conversation is derived from
	// the account and the extension numbers, the same in every copy.
	c.Message.ConversationID = switchboard.ConversationIDFor(append(key, "account:"+strconv.FormatInt(ext.AccountID, 10)))
	s.createOutbound(w, r, c)
}

func (x *extensionRefJSON) extensionID() flexString {
	if x == nil {
		return ""
	}
	return x.ExtensionID
}

// pagerRecipients resolves the recipients, named by extension number or
// id (or both, which must agree), within the sender's account.
func (s *Server) pagerRecipients(r *http.Request, ext *switchboard.Extension, req pagerRequest) ([]*switchboard.Extension, error) {
	var numbers []string
	if req.ReplyOn != 0 {
		orig, err := s.store.Message(r.Context(), ext.AccountID, ext.ID, req.ReplyOn)
		if err != nil || orig.Type != switchboard.TypePager {
			return nil, switchboard.NotFound("replyOn", strconv.FormatInt(req.ReplyOn, 10))
		}
		for _, party := range append([]switchboard.Party{orig.From}, orig.To...) {
			if party.ExtensionNumber != "" && party.ExtensionNumber != ext.ExtensionNumber {
				numbers = append(numbers, party.ExtensionNumber)
			}
		}
	}
	for _, t := range req.To {
		n, err := s.pagerNumber(r, ext.AccountID, t)
		if err != nil {
			return nil, err
		}
		numbers = append(numbers, n)
	}
	if len(numbers) == 0 {
		return nil, switchboard.InvalidParam("to", "", "Parameter [to] (extension numbers) or [replyOn] is required")
	}
	if len(numbers) > s.config.Limits.MaxRecipients {
		return nil, switchboard.InvalidParam("to", "", "At most %d recipients per message", s.config.Limits.MaxRecipients)
	}
	seen := map[string]bool{}
	var out []*switchboard.Extension
	for _, n := range numbers {
		if seen[n] {
			continue
		}
		seen[n] = true
		to, err := s.store.ExtensionByNumber(r.Context(), ext.AccountID, n)
		if errors.Is(err, switchboard.ErrNotFound) || n == "" {
			return nil, switchboard.InvalidParam("to.extensionNumber", n, "Extension %q is not in this account: name each recipient by extensionNumber or extensionId", n)
		}
		if err != nil {
			return nil, err
		}
		if to.Status != switchboard.StatusEnabled {
			return nil, &switchboard.Error{Status: http.StatusBadRequest, Code: "MSG-324", Message: fmt.Sprintf("Extension %s is disabled", n),
				Params: []switchboard.ParamError{{Code: "MSG-324", Name: "to.extensionNumber", Value: n, Message: "recipient disabled"}}}
		}
		out = append(out, to)
	}
	return out, nil
}

// pagerNumber is the extension number of one recipient entry.
func (s *Server) pagerNumber(r *http.Request, accountID int64, t extensionRefJSON) (string, error) {
	if t.ExtensionID == "" {
		return t.ExtensionNumber, nil
	}
	id, err := strconv.ParseInt(string(t.ExtensionID), 10, 64)
	if err != nil {
		return "", switchboard.InvalidParam("to.extensionId", string(t.ExtensionID), "Extension id %q is not a number", t.ExtensionID)
	}
	x, err := s.store.Extension(r.Context(), accountID, id)
	if errors.Is(err, switchboard.ErrNotFound) {
		return "", switchboard.InvalidParam("to.extensionId", string(t.ExtensionID), "Extension id %s is not in this account", t.ExtensionID)
	}
	if err != nil {
		return "", err
	}
	if t.ExtensionNumber != "" && t.ExtensionNumber != x.ExtensionNumber {
		return "", switchboard.InvalidParam("to.extensionNumber", t.ExtensionNumber, "Extension id %s has number %s, not %s", t.ExtensionID, x.ExtensionNumber, t.ExtensionNumber)
	}
	return x.ExtensionNumber, nil
}
