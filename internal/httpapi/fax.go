package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/fax"
)

// Fax limits (RingCentral's, ringcentral-api-reference §3.4): documents of
// 50 MB together and 50 documents, checked here by the fax package, and
// pages (200 by default, cover page included), counted by the render
// worker; the request size and recipients are Config.Limits, as for SMS.

// faxTo is FaxRequestTo.
type faxTo struct {
	PhoneNumber string `json:"phoneNumber"`
	Name        string `json:"name,omitempty"`
}

// faxRequest is CreateFaxMessageRequest (multipart) and, with
// originalMessageId, the JSON resend/forward request.
type faxRequest struct {
	To                []faxTo    `json:"to"`
	FaxResolution     string     `json:"faxResolution"`
	SendTime          string     `json:"sendTime"`
	IsoCode           string     `json:"isoCode"`
	CoverIndex        *int       `json:"coverIndex"`
	CoverPageText     string     `json:"coverPageText"`
	OriginalMessageID flexString `json:"originalMessageId"`
}

// flexString takes a JSON string or number (ids such as originalMessageId
// and extensionId are strings in the spec; clients holding the numeric id
// send it bare).
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*f = flexString(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("must be a string or a number")
	}
	*f = flexString(n.String())
	return nil
}

// faxJob is a validated fax request.
type faxJob struct {
	to         []switchboard.Party // Queued, with the names given
	resolution fax.Resolution
	coverIndex int
	coverText  string
	sendAt     time.Time // zero: now
}

// handleFax serves POST .../fax (createFaxMessage).
//
// A multipart/form-data or multipart/mixed request sends a new fax: the
// JSON part (found by Content-Type: application/json, or named
// request.json / json) is CreateFaxMessageRequest; fields may instead come
// as individual form fields (to, faxResolution, sendTime, coverIndex,
// coverPageText), as RingCentral's raw form-data example does; every other
// part is a document, in order. The documents are checked by content
// (fax.Check) now and rendered in the background: a document that cannot
// be rendered then fails the fax (SendingFailed, each recipient's
// faxErrorCode RenderingFailed or TooManyPages), as on RingCentral. The
// sender is the logged-in extension and the fax goes out from its first
// enabled phone number (a fax request has no from). The answer is the
// stored message, messageStatus Queued, without a RenderedDocument or
// faxPageCount yet; a future sendTime schedules it.
//
// A JSON request body is the resend/forward request: {originalMessageId,
// to?, sendTime?}. It is allowed only for an outbound fax of the caller's
// mailbox whose messageStatus is SendingFailed, and creates a new outbound
// fax with the original's documents, rendered fax and settings, to the
// given recipients or else the original ones.
//
// Errors (RingCentral's shape):
//   - 400 CMN-101 naming the parameter: to / to.phoneNumber (none, more than
//     50, not E.164), faxResolution, coverIndex (not a template of GET
//     /restapi/v1.0/dictionary/fax-cover-page), coverPageText (over 1024
//     UTF-16 units), sendTime, attachment (no document, more than 50),
//     originalMessageId;
//   - 400 MSG-347 an empty document; 415 MSG-348 an unsupported document
//     type (both naming the file);
//   - 400 MSG-338 (message size limit) over 50 MB of documents; 413 CMN-413
//     a body over the request limit;
//   - 400 MSG-349 a multipart body without the fax envelope;
//   - 400 MSG-245 the extension has no phone number to send from;
//   - 404 CMN-102 an unknown originalMessageId; 406 MSG-343 a resend of a
//     message that is not a failed outbound fax.
//
// Not modelled: isoCode (numbers must be E.164), the extension's default
// cover page (coverIndex absent means no cover page), file-name character
// restrictions, and Office/HTML rendering (see package fax).
func (s *Server) handleFax(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) {
	ext, err := s.sender(r, p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// A JSON body is a resend; multipart is a new fax whose envelope is a
	// JSON part or, as in RingCentral's raw examples, form fields.
	var req faxRequest
	files, multi, err := s.decodeSend(w, r, &req, sendForm{maxFiles: fax.MaxDocuments, field: func(name, v string) (bool, error) {
		if !isFaxField(name) {
			return false, nil
		}
		return true, setFaxField(&req, name, v)
	}})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !multi {
		s.resendFax(w, r, ext, &req)
		return
	}
	docs := make([]fax.Document, len(files))
	for i, f := range files {
		docs[i] = fax.Document{FileName: f.fileName, ContentType: f.contentType, Data: f.data}
	}
	job, err := s.validateFax(&req)
	var sources []*switchboard.Attachment
	if err == nil {
		sources, err = sourceDocuments(docs)
	}
	var from string
	if err == nil {
		from, err = s.faxFromNumber(r, ext, "")
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	opts := s.faxOptions(job, ext.Name, from)
	// Rendering takes from milliseconds to minutes: it runs in the
	// background (internal/faxrender), which holds the deliveries until
	// it has rendered the documents, or fails the fax as RingCentral does.
	render, err := fax.EncodeJob(opts)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	c := switchboard.OutboundCreate{SendAt: job.sendAt, Render: render, Message: switchboard.MessageCreate{
		AccountID: ext.AccountID, ExtensionID: ext.ID, Type: switchboard.TypeFax, Direction: switchboard.Outbound,
		MessageStatus: switchboard.StatusQueued, ReadStatus: switchboard.Read,
		From: switchboard.Party{PhoneNumber: from, Name: ext.Name}, To: job.to, Attachments: sources,
		TypeDetails: switchboard.TypeDetails{FaxResolution: job.resolution.String(),
			CoverIndex: job.coverIndex, CoverPageText: job.coverText},
	}}
	s.queueFax(w, r, c)
}

// resendFax serves the JSON form of POST .../fax: resend (or forward) a
// failed outbound fax as a new message.
func (s *Server) resendFax(w http.ResponseWriter, r *http.Request, ext *switchboard.Extension, req *faxRequest) {
	raw := strings.TrimSpace(string(req.OriginalMessageID))
	if raw == "" {
		s.writeError(w, r, switchboard.InvalidParam("originalMessageId", "",
			"Parameter [originalMessageId] is required in a JSON fax request (a resend); send a new fax as multipart/form-data with its documents"))
		return
	}
	id, err := parseID("originalMessageId", raw)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	orig, err := s.store.Message(r.Context(), ext.AccountID, ext.ID, id)
	if errors.Is(err, switchboard.ErrNotFound) {
		err = switchboard.NotFound("originalMessageId", raw)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if orig.Type != switchboard.TypeFax || orig.Direction != switchboard.Outbound || orig.MessageStatus != switchboard.StatusSendingFailed {
		s.writeError(w, r, &switchboard.Error{Status: http.StatusNotAcceptable, Code: "MSG-343",
			Message: fmt.Sprintf("Message %d cannot be resent: only an outbound fax whose sending failed can be (it is an %s %s, %s)", id, orig.Direction, orig.Type, orig.MessageStatus),
			Params:  []switchboard.ParamError{{Code: "MSG-343", Name: "originalMessageId", Value: raw, Message: "resend not allowed in the current state"}}})
		return
	}
	// Validate as a new fax with the original's settings; only to and
	// sendTime come from the request.
	nreq := faxRequest{To: req.To, SendTime: req.SendTime, FaxResolution: orig.FaxResolution, CoverPageText: orig.CoverPageText}
	cover := orig.CoverIndex
	nreq.CoverIndex = &cover
	if len(nreq.To) == 0 {
		for _, t := range orig.To {
			nreq.To = append(nreq.To, faxTo{PhoneNumber: t.PhoneNumber, Name: t.Name})
		}
	}
	job, err := s.validateFax(&nreq)
	var from string
	if err == nil {
		// From the original's number while the caller still holds it,
		// else from its current one: never from a number it has lost.
		from, err = s.faxFromNumber(r, ext, orig.From.PhoneNumber)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var atts []*switchboard.Attachment
	rendered := false
	for _, a := range orig.Attachments {
		rendered = rendered || a.Type == switchboard.AttachmentRenderedDocument
		full, err := s.store.Attachment(r.Context(), orig.AccountID, orig.ExtensionID, orig.ID, a.ID)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		cp := *full
		cp.ID, cp.MessageID = 0, 0
		atts = append(atts, &cp)
	}
	c := switchboard.OutboundCreate{SendAt: job.sendAt, Message: switchboard.MessageCreate{
		AccountID: ext.AccountID, ExtensionID: ext.ID, Type: switchboard.TypeFax, Direction: switchboard.Outbound,
		MessageStatus: switchboard.StatusQueued, ReadStatus: switchboard.Read,
		From: switchboard.Party{PhoneNumber: from, Name: orig.From.Name}, To: job.to, Attachments: atts,
		TypeDetails: switchboard.TypeDetails{FaxPageCount: orig.FaxPageCount, FaxResolution: job.resolution.String(),
			CoverIndex: job.coverIndex, CoverPageText: job.coverText},
	}}
	if !rendered {
		// The original failed to render: render again (the limits may have
		// changed), so it fails or is sent the same way.
		if c.Render, err = fax.EncodeJob(s.faxOptions(job, orig.From.Name, from)); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	s.queueFax(w, r, c)
}

// queueFax adds the deliveries (internal when a mailbox of this server owns
// the number, as for SMS) and stores the fax.
func (s *Server) queueFax(w http.ResponseWriter, r *http.Request, c switchboard.OutboundCreate) {
	numbers := make([]string, len(c.Message.To))
	for i, to := range c.Message.To {
		numbers[i] = to.PhoneNumber
	}
	var err error
	if c.Recipients, err = s.phoneTargets(r.Context(), numbers); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.createOutbound(w, r, c)
}

func isFaxField(name string) bool {
	switch name {
	case "to", "faxResolution", "sendTime", "isoCode", "coverIndex", "coverPageText":
		return true
	}
	return false
}

// setFaxField applies one form field of RingCentral's raw form-data format.
// A to field is a phone number or a FaxRequestTo JSON object.
func setFaxField(req *faxRequest, name, v string) error {
	switch name {
	case "to":
		t := faxTo{PhoneNumber: strings.TrimSpace(v)}
		if strings.HasPrefix(t.PhoneNumber, "{") {
			if err := json.Unmarshal([]byte(v), &t); err != nil {
				return switchboard.InvalidParam("to", v, "Parameter [to] is not a phone number or a {phoneNumber, name} object")
			}
		}
		req.To = append(req.To, t)
	case "faxResolution":
		req.FaxResolution = v
	case "sendTime":
		req.SendTime = v
	case "isoCode":
		req.IsoCode = v
	case "coverIndex":
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return switchboard.InvalidParam("coverIndex", v, "Parameter [coverIndex] must be an integer")
		}
		req.CoverIndex = &n
	case "coverPageText":
		req.CoverPageText = v
	}
	return nil
}

// validateFax checks the envelope of a fax request.
func (s *Server) validateFax(req *faxRequest) (*faxJob, error) {
	job := &faxJob{}
	if len(req.To) == 0 {
		return nil, switchboard.InvalidParam("to", "", "Parameter [to] needs at least one recipient")
	}
	if len(req.To) > s.config.Limits.MaxRecipients {
		return nil, switchboard.InvalidParam("to", strconv.Itoa(len(req.To)), "At most %d recipients per fax", s.config.Limits.MaxRecipients)
	}
	seen := map[string]bool{}
	for _, t := range req.To {
		n, err := switchboard.NormalizeE164(t.PhoneNumber)
		if err != nil {
			return nil, switchboard.InvalidParam("to.phoneNumber", t.PhoneNumber, "Recipient %q: %v", t.PhoneNumber, err)
		}
		if !seen[n] {
			seen[n] = true
			job.to = append(job.to, switchboard.Party{PhoneNumber: n, Name: t.Name, MessageStatus: switchboard.StatusQueued})
		}
	}
	switch strings.ToLower(req.FaxResolution) {
	case "", "high":
		job.resolution = fax.High
	case "low":
		job.resolution = fax.Low
	default:
		return nil, switchboard.InvalidParam("faxResolution", req.FaxResolution, "Parameter [faxResolution] must be High or Low")
	}
	if req.CoverIndex != nil {
		job.coverIndex = *req.CoverIndex
		if !validCoverIndex(job.coverIndex) {
			return nil, switchboard.InvalidParam("coverIndex", strconv.Itoa(job.coverIndex),
				"Parameter [coverIndex] value %d is not a cover page; see GET /restapi/v1.0/dictionary/fax-cover-page", job.coverIndex)
		}
	}
	if n := switchboard.UTF16Len(req.CoverPageText); n > switchboard.MaxCoverText {
		return nil, switchboard.InvalidParam("coverPageText", "", "Parameter [coverPageText] is %d characters long; the limit is %d (UTF-16 code units)", n, switchboard.MaxCoverText)
	}
	job.coverText = req.CoverPageText
	if strings.TrimSpace(req.SendTime) != "" {
		at, err := parseTime("sendTime", strings.TrimSpace(req.SendTime))
		if err != nil {
			return nil, err
		}
		if at.After(s.clock.Now()) {
			job.sendAt = at
		}
	}
	return job, nil
}

func validCoverIndex(i int) bool {
	for _, c := range fax.CoverTemplates() {
		if c.Index == i {
			return true
		}
	}
	return false
}

// faxOptions are the renderer's settings of a fax request.
func (s *Server) faxOptions(job *faxJob, senderName, from string) fax.Options {
	opts := fax.Options{Resolution: job.resolution}
	if job.coverIndex != 0 {
		opts.Cover = &fax.Cover{Index: job.coverIndex, Text: job.coverText, From: partyLabel(senderName, from),
			To: coverRecipients(job.to), Date: s.clock.Now()}
	}
	return opts
}

// sourceDocuments checks the uploaded documents (fax.Check) and returns
// them as SourceDocument attachments, typed as what their content is.
func sourceDocuments(docs []fax.Document) ([]*switchboard.Attachment, error) {
	types, err := fax.Check(docs)
	if err != nil {
		return nil, err
	}
	out := make([]*switchboard.Attachment, len(docs))
	for i, d := range docs {
		out[i] = &switchboard.Attachment{Type: switchboard.AttachmentSourceDocument, ContentType: types[i], FileName: d.FileName, Content: d.Data}
	}
	return out, nil
}

// faxFromNumber is the number a fax goes out from: prefer, when it is an
// enabled number of the extension, else the extension's first enabled one.
func (s *Server) faxFromNumber(r *http.Request, ext *switchboard.Extension, prefer string) (string, error) {
	nums, err := s.store.PhoneNumbers(r.Context(), ext.AccountID, ext.ID)
	if err != nil {
		return "", err
	}
	first := ""
	for _, pn := range nums {
		if pn.Status == switchboard.StatusDisabled {
			continue
		}
		if pn.PhoneNumber == prefer {
			return prefer, nil
		}
		if first == "" {
			first = pn.PhoneNumber
		}
	}
	if first != "" {
		return first, nil
	}
	return "", switchboard.Errorf(http.StatusBadRequest, "MSG-245", "Cannot find a phone number of extension %s to send the fax from", ext.ExtensionNumber)
}

func partyLabel(name, number string) string {
	if name == "" {
		return number
	}
	return name + " (" + number + ")"
}

func coverRecipients(to []switchboard.Party) string {
	labels := make([]string, len(to))
	for i, t := range to {
		labels[i] = partyLabel(t.Name, t.PhoneNumber)
	}
	return strings.Join(labels, ", ")
}

type coverPageJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// handleFaxCoverPages serves GET /restapi/v1.0/dictionary/fax-cover-page
// (listFaxCoverPages, ListFaxCoverPagesResponse): the cover page
// templates, "None" (0) first, paged with page/perPage.
func (s *Server) handleFaxCoverPages(w http.ResponseWriter, r *http.Request, _ *switchboard.Principal) {
	var records []coverPageJSON
	for _, c := range fax.CoverTemplates() {
		records = append(records, coverPageJSON{ID: strconv.Itoa(c.Index), Name: c.Name})
	}
	out, err := enumeratedPage(s.baseURL(r)+"/restapi/v1.0/dictionary/fax-cover-page", r.URL.Query(), records)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}
