package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/rcwire"
)

// List limits: RingCentral's defaults. perPage above the maximum is clamped
// to it, and perPage=0 answers an empty page (MessagingPagingInfo).
const (
	defaultPerPage = 100
	maxPerPage     = 1000
	maxPage        = 10_000_000
)

// messageList is a page of GetMessageList: uri, records (rcwire.Message
// each), paging, navigation.
type messageList struct {
	URI        string
	Records    []*switchboard.Message
	Paging     pagingJSON
	Navigation navigationJSON
}

// appendJSON appends the page's JSON: the records by rcwire.AppendMessage
// (encoding/json and its reflection were a fifth of a page's cost), the
// small rest by encoding/json.
func (l *messageList) appendJSON(dst []byte, base string) []byte {
	dst = append(dst, `{"uri":`...)
	dst = rcwire.AppendString(dst, l.URI)
	dst = append(dst, `,"records":[`...)
	for i, m := range l.Records {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = rcwire.AppendMessage(dst, base, m)
	}
	dst = append(dst, `],"paging":`...)
	dst = appendJSON(dst, l.Paging)
	dst = append(dst, `,"navigation":`...)
	dst = appendJSON(dst, l.Navigation)
	return append(dst, '}', '\n')
}

// listQuery is a parsed ListMessagesParameters.
type listQuery struct {
	filter  switchboard.MessageFilter
	page    int
	perPage int
}

func parseListQuery(q url.Values, now time.Time) (listQuery, error) {
	var lq listQuery
	f := &lq.filter
	var err error
	if f.Availability, err = parseEnums(q, "availability", switchboard.Availabilities); err != nil {
		return lq, err
	}
	if len(f.Availability) == 0 {
		f.Availability = []switchboard.Availability{switchboard.Alive}
	}
	if f.Direction, err = parseEnums(q, "direction", switchboard.Directions); err != nil {
		return lq, err
	}
	if f.Types, err = parseEnums(q, "messageType", switchboard.MessageTypes); err != nil {
		return lq, err
	}
	if f.ReadStatus, err = parseEnums(q, "readStatus", switchboard.ReadStatuses); err != nil {
		return lq, err
	}
	if raw := q.Get("conversationId"); raw != "" {
		if f.ConversationID, err = parseID("conversationId", raw); err != nil {
			return lq, err
		}
	}
	if raw := q.Get("phoneNumber"); raw != "" {
		if f.PhoneNumber, err = switchboard.NormalizeE164(raw); err != nil {
			return lq, switchboard.InvalidParam("phoneNumber", raw, "Parameter [phoneNumber]: %v", err)
		}
	}
	// dateTo is exclusive; by default it includes everything created up to
	// and including now (times are stored to the millisecond).
	f.DateTo = now.Truncate(time.Millisecond).Add(time.Millisecond)
	if raw := q.Get("dateTo"); raw != "" {
		if f.DateTo, err = parseTime("dateTo", raw); err != nil {
			return lq, err
		}
	}
	f.DateFrom = f.DateTo.Add(-24 * time.Hour)
	if raw := q.Get("dateFrom"); raw != "" {
		if f.DateFrom, err = parseTime("dateFrom", raw); err != nil {
			return lq, err
		}
	}
	if f.DateFrom.After(f.DateTo) {
		return lq, switchboard.InvalidParam("dateFrom", q.Get("dateFrom"), "Parameter [dateFrom] must not be later than dateTo")
	}
	if f.DistinctConversations, err = parseBool("distinctConversations", q.Get("distinctConversations")); err != nil {
		return lq, err
	}
	if lq.page, err = parseInt(q, "page", 1, 1, maxPage); err != nil {
		return lq, err
	}
	if lq.perPage, err = parseInt(q, "perPage", defaultPerPage, 0, 1<<31-1); err != nil {
		return lq, err
	}
	lq.perPage = min(lq.perPage, maxPerPage)
	f.Offset = (lq.page - 1) * lq.perPage
	f.Limit = lq.perPage
	return lq, nil
}

func (s *Server) handleListMessages(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) {
	mb, err := s.resolveMailbox(r, p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	lq, err := parseListQuery(q, s.clock.Now())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	lq.filter.AccountID, lq.filter.ExtensionID = mb.AccountID, mb.ExtensionID
	page := &switchboard.MessagePage{}
	if lq.perPage > 0 {
		if page, err = s.store.ListMessages(r.Context(), lq.filter); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	base := s.baseURL(r)
	path := fmt.Sprintf("%s/restapi/v1.0/account/%d/extension/%d/message-store", base, mb.AccountID, mb.ExtensionID)
	out := messageList{URI: pageURI(path, q, lq.page, lq.perPage), Records: page.Messages}
	out.Paging.PerPage = lq.perPage
	if lq.perPage > 0 {
		out.Paging.Page = intp(lq.page)
		out.Navigation.FirstPage = &rcwire.URI{URI: pageURI(path, q, 1, lq.perPage)}
		if lq.page > 1 {
			out.Navigation.PreviousPage = &rcwire.URI{URI: pageURI(path, q, lq.page-1, lq.perPage)}
		}
		if page.More {
			out.Navigation.NextPage = &rcwire.URI{URI: pageURI(path, q, lq.page+1, lq.perPage)}
		}
	}
	if n := len(out.Records); n > 0 {
		out.Paging.PageStart = intp(lq.filter.Offset)
		out.Paging.PageEnd = intp(lq.filter.Offset + n - 1)
	}
	writeJSONBytes(w, http.StatusOK, out.appendJSON(make([]byte, 0, 1024*(len(out.Records)+1)), base))
}

// pageURI is the list uri with the caller's filters and the given page.
func pageURI(path string, q url.Values, page, perPage int) string {
	v := publicQuery(q)
	v.Set("page", strconv.Itoa(page))
	v.Set("perPage", strconv.Itoa(perPage))
	return path + "?" + v.Encode()
}

// publicQuery is a copy of q fit to echo in a uri: without access_token,
// since a token must not travel in links.
func publicQuery(q url.Values) url.Values {
	v := url.Values{}
	for k, vals := range q {
		if k != "access_token" {
			v[k] = vals
		}
	}
	return v
}

// batchResult is one part of a batch answer.
type batchResult struct {
	id     int64
	status int
	body   any
}

func (s *Server) handleGetMessages(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) {
	mb, err := s.resolveMailbox(r, p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	raw := r.PathValue("messageId")
	ids, err := parseIDList("messageId", raw)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	base := s.baseURL(r)
	if len(ids) == 1 && !strings.Contains(raw, ",") {
		m, err := s.store.Message(r.Context(), mb.AccountID, mb.ExtensionID, ids[0])
		if err != nil {
			s.writeError(w, r, notFoundAs(err, "messageId", raw))
			return
		}
		writeMessage(w, base, m)
		return
	}
	results := make([]batchResult, 0, len(ids))
	for _, id := range ids {
		m, err := s.store.Message(r.Context(), mb.AccountID, mb.ExtensionID, id)
		if err != nil {
			status, body := s.errorResponse(r, notFoundAs(err, "messageId", strconv.FormatInt(id, 10)))
			results = append(results, batchResult{id, status, body})
			continue
		}
		results = append(results, batchResult{id, http.StatusOK, rcwire.NewMessage(base, m)})
	}
	s.writeBatch(w, r, mb, results)
}

// writeBatch answers a batch request with 207 Multi-Status: a JSON array
// when the client asks for application/vnd.ringcentral.multipart+json, else
// RingCentral's multipart/mixed whose first part lists every part's status
// (the JS SDK's Client.multipart() reads it).
func (s *Server) writeBatch(w http.ResponseWriter, r *http.Request, mb mailbox, results []batchResult) {
	base := s.baseURL(r)
	if strings.Contains(r.Header.Get("Accept"), "application/vnd.ringcentral.multipart+json") {
		type part struct {
			ResourceID string `json:"resourceId"`
			Status     int    `json:"status"`
			Body       any    `json:"body"`
		}
		parts := make([]part, len(results))
		for i, res := range results {
			parts[i] = part{strconv.FormatInt(res.id, 10), res.status, res.body}
		}
		w.Header().Set("Content-Type", "application/vnd.ringcentral.multipart+json")
		w.WriteHeader(http.StatusMultiStatus)
		_ = json.NewEncoder(w).Encode(parts)
		return
	}
	type statusLine struct {
		Href                string `json:"href"`
		Status              int    `json:"status"`
		ResponseDescription string `json:"responseDescription"`
	}
	summary := struct {
		Response []statusLine `json:"response"`
	}{}
	for _, res := range results {
		summary.Response = append(summary.Response, statusLine{rcwire.MessageURI(base, mb.AccountID, mb.ExtensionID, res.id), res.status, http.StatusText(res.status)})
	}
	// The boundary is unquoted in Content-Type: the JS SDK's regex
	// boundary=([^;]+) would keep the quotes.
	boundary := "Boundary_" + strings.ReplaceAll(requestID(r.Context()), "-", "")
	var buf bytes.Buffer
	writePart := func(v any) {
		fmt.Fprintf(&buf, "--%s\r\nContent-Type: application/json\r\n\r\n", boundary)
		b, _ := json.Marshal(v)
		buf.Write(b)
		buf.WriteString("\r\n")
	}
	writePart(summary)
	for _, res := range results {
		writePart(res.body)
	}
	fmt.Fprintf(&buf, "--%s--\r\n", boundary)
	w.Header().Set("Content-Type", "multipart/mixed; boundary="+boundary)
	w.WriteHeader(http.StatusMultiStatus)
	_, _ = w.Write(buf.Bytes())
}

// notFoundAs names the parameter of a store's ErrNotFound.
func notFoundAs(err error, param, value string) error {
	if errors.Is(err, switchboard.ErrNotFound) {
		return switchboard.NotFound(param, value)
	}
	return err
}

type updateRequest struct {
	ReadStatus   *switchboard.ReadStatus   `json:"readStatus"`
	Availability *switchboard.Availability `json:"availability"`
}

func (s *Server) handlePutMessage(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) {
	s.updateMessage(w, r, p, false)
}

func (s *Server) handlePatchMessage(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) {
	s.updateMessage(w, r, p, true)
}

// updateMessage serves PUT (readStatus only, required) and PATCH
// (readStatus and/or availability; availability Alive restores a Deleted
// message). Several ids make a batch (updateMessages).
func (s *Server) updateMessage(w http.ResponseWriter, r *http.Request, p *switchboard.Principal, patch bool) {
	mb, err := s.resolveMailbox(r, p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	raw := r.PathValue("messageId")
	ids, err := parseIDList("messageId", raw)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if len(ids) > 1 || strings.Contains(raw, ",") {
		s.updateMessages(w, r, mb, ids, patch)
		return
	}
	var req updateRequest
	if _, err := s.decodeJSON(w, r, s.config.MaxBodyBytes, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	m, err := s.applyUpdate(r, mb, ids[0], req, patch)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeMessage(w, s.baseURL(r), m)
}

func (s *Server) applyUpdate(r *http.Request, mb mailbox, id int64, req updateRequest, patch bool) (*switchboard.Message, error) {
	u, err := req.validate(patch)
	if err != nil {
		return nil, err
	}
	m, err := s.store.UpdateMessage(r.Context(), mb.AccountID, mb.ExtensionID, id, u)
	return m, notFoundAs(err, "messageId", strconv.FormatInt(id, 10))
}

// updateMessages serves a batch PUT or PATCH: one body per id, in the
// order of the ids, as RingCentral's multipart/mixed parts or as its
// vnd.ringcentral.multipart+json array of {resourceId, body}; a single JSON
// object applies to every id. Each message is updated on its own and the
// answer is 207 with a result per id.
func (s *Server) updateMessages(w http.ResponseWriter, r *http.Request, mb mailbox, ids []int64, patch bool) {
	reqs, err := s.batchBodies(w, r, ids)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	base := s.baseURL(r)
	results := make([]batchResult, len(ids))
	for i, id := range ids {
		m, err := s.applyUpdate(r, mb, id, reqs[i], patch)
		if err != nil {
			status, body := s.errorResponse(r, err)
			results[i] = batchResult{id, status, body}
			continue
		}
		results[i] = batchResult{id, http.StatusOK, rcwire.NewMessage(base, m)}
	}
	s.writeBatch(w, r, mb, results)
}

// batchBodies reads the bodies of a batch update, one per id.
func (s *Server) batchBodies(w http.ResponseWriter, r *http.Request, ids []int64) ([]updateRequest, error) {
	b, err := readBody(w, r, s.config.MaxBodyBytes)
	if err != nil {
		return nil, err
	}
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var raws [][]byte
	switch {
	case strings.HasPrefix(mt, "multipart/"):
		mr := multipart.NewReader(bytes.NewReader(b), params["boundary"])
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, switchboard.Errorf(switchboard.CodeBadRequest, "Multipart body is malformed: %v", err)
			}
			pb, err := io.ReadAll(part)
			if err != nil {
				return nil, switchboard.Errorf(switchboard.CodeBadRequest, "Multipart body is malformed: %v", err)
			}
			raws = append(raws, pb)
		}
	case mt == "application/vnd.ringcentral.multipart+json":
		var parts []struct {
			ResourceID flexString      `json:"resourceId"`
			Body       json.RawMessage `json:"body"`
		}
		if err := json.Unmarshal(b, &parts); err != nil {
			return nil, switchboard.Errorf(switchboard.CodeInvalidJSON, "Body must be a JSON array of {resourceId, body}: %s", jsonReason(err))
		}
		for i, p := range parts {
			if i < len(ids) && p.ResourceID != "" && string(p.ResourceID) != strconv.FormatInt(ids[i], 10) {
				return nil, switchboard.InvalidParam("resourceId", string(p.ResourceID), "Part %d is for message %s, but the path names %d there: give the parts in the order of the ids", i+1, p.ResourceID, ids[i])
			}
			raws = append(raws, p.Body)
		}
	default:
		// One JSON object for every id.
		raws = make([][]byte, len(ids))
		for i := range raws {
			raws[i] = b
		}
	}
	if len(raws) != len(ids) {
		return nil, switchboard.InvalidParam("messageId", "", "The body has %d parts for %d message ids: send one part per id, in the same order", len(raws), len(ids))
	}
	reqs := make([]updateRequest, len(ids))
	for i, raw := range raws {
		if err := json.Unmarshal(raw, &reqs[i]); err != nil {
			return nil, switchboard.Errorf(switchboard.CodeInvalidJSON, "Part %d of the body: %s", i+1, jsonReason(err))
		}
	}
	return reqs, nil
}

func (req updateRequest) validate(patch bool) (switchboard.MessageUpdate, error) {
	var u switchboard.MessageUpdate
	if req.ReadStatus != nil {
		rs, err := switchboard.ParseEnum("readStatus", string(*req.ReadStatus), switchboard.ReadStatuses)
		if err != nil {
			return u, err
		}
		u.ReadStatus = &rs
	}
	if req.Availability != nil {
		if !patch {
			return u, switchboard.InvalidParam("availability", string(*req.Availability), "PUT changes readStatus only; use PATCH to change availability")
		}
		a, err := switchboard.ParseEnum("availability", string(*req.Availability), switchboard.Availabilities)
		if err != nil {
			return u, err
		}
		u.Availability = &a
	}
	if u.ReadStatus == nil && u.Availability == nil {
		if patch {
			return u, switchboard.InvalidParam("readStatus", "", "Body must set readStatus or availability")
		}
		return u, switchboard.InvalidParam("readStatus", "", "Parameter [readStatus] is required")
	}
	return u, nil
}

var deleteTypes = append([]switchboard.MessageType{"All"}, switchboard.MessageTypes...)

// parseDeleteType parses the type parameter of the delete operations; "All"
// (the default) is no filter.
func parseDeleteType(q url.Values) ([]switchboard.MessageType, error) {
	t, err := parseEnums(q, "type", deleteTypes)
	if err != nil {
		return nil, err
	}
	for _, x := range t {
		if x == "All" {
			return nil, nil
		}
	}
	return t, nil
}

func (s *Server) handleDeleteMessages(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) {
	mb, err := s.resolveMailbox(r, p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	raw := r.PathValue("messageId")
	ids, err := parseIDList("messageId", raw)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	purge, err := parseBool("purge", q.Get("purge"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if _, err := parseDeleteType(q); err != nil {
		s.writeError(w, r, err)
		return
	}
	if len(ids) == 1 && !strings.Contains(raw, ",") {
		if err := s.store.DeleteMessage(r.Context(), mb.AccountID, mb.ExtensionID, ids[0], purge); err != nil {
			s.writeError(w, r, notFoundAs(err, "messageId", raw))
			return
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	results := make([]batchResult, 0, len(ids))
	failed := false
	for _, id := range ids {
		err := s.store.DeleteMessage(r.Context(), mb.AccountID, mb.ExtensionID, id, purge)
		if err != nil {
			failed = true
			status, body := s.errorResponse(r, notFoundAs(err, "messageId", strconv.FormatInt(id, 10)))
			results = append(results, batchResult{id, status, body})
			continue
		}
		results = append(results, batchResult{id, http.StatusNoContent, struct{}{}})
	}
	if !failed {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	s.writeBatch(w, r, mb, results)
}

// maxConversationFilter is RingCentral's limit of conversation ids in one
// delete-by-filter query.
const maxConversationFilter = 50

func (s *Server) handleDeleteByFilter(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) {
	mb, err := s.resolveMailbox(r, p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	f := switchboard.MessageDeleteFilter{AccountID: mb.AccountID, ExtensionID: mb.ExtensionID, DateTo: s.clock.Now()}
	convs := multiValue(q, "conversationId")
	if len(convs) > maxConversationFilter {
		s.writeError(w, r, switchboard.InvalidParam("conversationId", "", "At most %d conversation ids per request", maxConversationFilter))
		return
	}
	for _, c := range convs {
		id, err := parseID("conversationId", c)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		f.ConversationIDs = append(f.ConversationIDs, id)
	}
	if raw := q.Get("dateTo"); raw != "" {
		if f.DateTo, err = parseTime("dateTo", raw); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	if f.Types, err = parseDeleteType(q); err != nil {
		s.writeError(w, r, err)
		return
	}
	if f.Purge, err = parseBool("purge", q.Get("purge")); err != nil {
		s.writeError(w, r, err)
		return
	}
	if _, err := s.store.DeleteMessages(r.Context(), f); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleContent(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) {
	mb, err := s.resolveMailbox(r, p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	msgID, err := parseID("messageId", r.PathValue("messageId"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	attID, err := parseID("attachmentId", r.PathValue("attachmentId"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	disposition := ""
	switch d := q.Get("contentDisposition"); d {
	case "", "Inline":
		disposition = "inline"
	case "Attachment":
		disposition = "attachment"
	default:
		s.writeError(w, r, switchboard.InvalidParam("contentDisposition", d, "Parameter [contentDisposition] must be Inline or Attachment"))
		return
	}
	a, err := s.store.Attachment(r.Context(), mb.AccountID, mb.ExtensionID, msgID, attID)
	if err != nil {
		s.writeError(w, r, notFoundAs(err, "attachmentId", r.PathValue("attachmentId")))
		return
	}
	disposition = contentDisposition(disposition, a.ContentType, w.Header())
	name := q.Get("contentDispositionFilename")
	if name == "" {
		name = a.FileName
	}
	params := map[string]string{}
	if name != "" {
		params["filename"] = name
	}
	if cd := mime.FormatMediaType(disposition, params); cd != "" {
		w.Header().Set("Content-Disposition", cd)
	} else {
		w.Header().Set("Content-Disposition", disposition)
	}
	w.Header().Set("Content-Type", a.ContentType)
	w.Header().Set("Cache-Control", "private, max-age=0")
	// ServeContent answers Range requests (206, multi-range, If-Range);
	// rangeErrorWriter replaces its plain-text 416 with RingCentral's error.
	http.ServeContent(&rangeErrorWriter{ResponseWriter: w, s: s, r: r}, r, "", time.Time{}, bytes.NewReader(a.Content))
}

// rangeErrorWriter rewrites a 416 from http.ServeContent into a CMN-107
// error body.
type rangeErrorWriter struct {
	http.ResponseWriter
	s        *Server
	r        *http.Request
	replaced bool
}

func (w *rangeErrorWriter) WriteHeader(status int) {
	if status == http.StatusRequestedRangeNotSatisfiable {
		w.replaced = true
		w.Header().Del("Content-Disposition")
		w.s.writeError(w.ResponseWriter, w.r, switchboard.Errorf(switchboard.CodeRangeNotSatisfied, "Requested Range Not Satisfiable"))
		return
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *rangeErrorWriter) Write(b []byte) (int, error) {
	if w.replaced {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}
