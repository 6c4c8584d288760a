package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/fax"
	"github.com/switchboardhq/switchboard/internal/outbound"
)

// Fax limits (RingCentral's, ringcentral-api-reference §3.4): documents of
// 50 MB together, 50 documents and 200 pages (cover page included), enforced
// by the fax package; the request size and recipients are the send limits
// of config, as for SMS.

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
	mb, ok := s.sendingMailbox(w, r, p)
	if !ok {
		return
	}
	// A JSON body is a resend; multipart is a new fax whose envelope is a
	// JSON part or, as in RingCentral's raw examples, form fields.
	var req faxRequest
	ups, multi, err := s.decodeSend(w, r, &req, sendForm{maxFiles: fax.MaxDocuments, field: func(name, v string) (bool, error) {
		if !isFaxField(name) {
			return false, nil
		}
		return true, setFaxField(&req, name, v)
	}})
	out := outbound.Request{Type: switchboard.TypeFax, Files: files(ups),
		Fax: outbound.FaxOptions{Resolution: req.FaxResolution, CoverIndex: req.CoverIndex, CoverPageText: req.CoverPageText}}
	for _, t := range req.To {
		out.To = append(out.To, outbound.Recipient{PhoneNumber: t.PhoneNumber, Name: t.Name})
	}
	if err == nil && !multi {
		// The resend of a failed fax: only to and sendTime are its own.
		out.Fax = outbound.FaxOptions{}
		raw := strings.TrimSpace(string(req.OriginalMessageID))
		if raw == "" {
			err = switchboard.InvalidParam("originalMessageId", "",
				"Parameter [originalMessageId] is required in a JSON fax request (a resend); send a new fax as multipart/form-data with its documents")
		} else {
			out.Fax.ResendOf, err = parseID("originalMessageId", raw)
		}
	}
	if err == nil && strings.TrimSpace(req.SendTime) != "" {
		out.Fax.SendAt, err = parseTime("sendTime", strings.TrimSpace(req.SendTime))
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.send(w, r, p, mb, out)
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
