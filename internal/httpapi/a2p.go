package httpapi

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/rcwire"
)

// High-volume (A2P) SMS: RingCentral's a2p-sms endpoints. A batch is sent
// from a number of the caller's own extension with the A2PSmsSender
// feature; its messages are stored in that mailbox, so an extension sees
// its own batches and messages and an account administrator the account's.

type a2pMessageRequest struct {
	To   []string `json:"to"`
	Text *string  `json:"text"`
}

type a2pBatchRequest struct {
	From     string              `json:"from"`
	Text     string              `json:"text"`
	Messages []a2pMessageRequest `json:"messages"`
}

type a2pRejectedJSON struct {
	Index       int      `json:"index"`
	To          []string `json:"to"`
	ErrorCode   string   `json:"errorCode"`
	Description string   `json:"description"`
}

// a2pBatchCreatedJSON is the create answer: the batch and the recipients
// it refused (only there, as on RingCentral).
type a2pBatchCreatedJSON struct {
	rcwire.A2PBatch
	Rejected []a2pRejectedJSON `json:"rejected"`
}

// a2pSender returns the caller's extension and the batch's sender number,
// which must be its own and have the A2PSmsSender feature.
func (s *Server) a2pSender(r *http.Request, p *switchboard.Principal, from string) (*switchboard.Extension, string, error) {
	if _, err := s.resolveAccount(r, p); err != nil {
		return nil, "", err
	}
	if strings.TrimSpace(from) == "" {
		return nil, "", switchboard.InvalidParam("from", "", "Parameter [from] is required: the sender's phone number")
	}
	n, err := switchboard.NormalizeA2PNumber(from)
	if err != nil {
		return nil, "", switchboard.InvalidParam("from", from, "Parameter [from]: %v", err)
	}
	ext, err := s.store.Extension(r.Context(), p.AccountID, p.ExtensionID)
	if err != nil {
		return nil, "", err
	}
	nums, err := s.store.PhoneNumbers(r.Context(), ext.AccountID, ext.ID)
	if err != nil {
		return nil, "", err
	}
	for _, pn := range nums {
		if pn.PhoneNumber != n {
			continue
		}
		if !pn.HasFeature(switchboard.FeatureA2PSms) || pn.Status == switchboard.StatusDisabled {
			msg := fmt.Sprintf("Phone number %s lacks the %s feature: high-volume SMS is not available from it", n, switchboard.FeatureA2PSms)
			return nil, "", &switchboard.Error{Code: "MSG-242", Message: msg,
				Params: []switchboard.ParamError{{Code: "MSG-242", Name: "from", Value: n, Message: msg}}}
		}
		return ext, n, nil
	}
	return nil, "", switchboard.InvalidParam("from", n, "Phone number %s is not a number of extension %s", n, ext.ExtensionNumber)
}

// handleCreateA2PBatch serves POST …/a2p-sms/batches: the batch is checked,
// stored whole and answered at once; the A2P worker queues its messages.
func (s *Server) handleCreateA2PBatch(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) {
	var req a2pBatchRequest
	sent, err := s.decodeJSON(w, r, s.config.A2PMaxBytes, &req)
	if err == nil && !sent {
		err = switchboard.Errorf(switchboard.CodeBadRequest, "Request body is required")
	}
	var ext *switchboard.Extension
	var from string
	if err == nil {
		ext, from, err = s.a2pSender(r, p, req.From)
	}
	var c switchboard.A2PBatchCreate
	var rejected []a2pRejectedJSON
	if err == nil {
		c, rejected, err = s.a2pBatch(r, ext, from, &req)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	b, err := s.store.CreateA2PBatch(r.Context(), c)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if s.a2p != nil {
		s.a2p.Wake()
	}
	if rejected == nil {
		rejected = []a2pRejectedJSON{}
	}
	writeJSON(w, http.StatusCreated, a2pBatchCreatedJSON{A2PBatch: rcwire.NewA2PBatch(b), Rejected: rejected})
}

// a2pBatch checks the request's messages (switchboard.NewA2PBatch).
func (s *Server) a2pBatch(r *http.Request, ext *switchboard.Extension, from string, req *a2pBatchRequest) (switchboard.A2PBatchCreate, []a2pRejectedJSON, error) {
	msgs := make([]switchboard.A2PMessageRequest, len(req.Messages))
	for i, m := range req.Messages {
		msgs[i] = switchboard.A2PMessageRequest{To: m.To, Text: m.Text}
	}
	c, rejected, err := switchboard.NewA2PBatch(
		switchboard.A2PBatchCreate{AccountID: ext.AccountID, ExtensionID: ext.ID, From: from, SenderName: ext.Name, Text: req.Text},
		msgs, s.config.A2PMaxMessages,
		func(to []string) (map[string]bool, error) { return s.store.OptedOut(r.Context(), from, to) })
	out := make([]a2pRejectedJSON, 0, len(rejected))
	for _, rj := range rejected {
		out = append(out, a2pRejectedJSON(rj))
	}
	return c, out, err
}

// a2pScope is the mailbox an A2P read covers: the caller's own, or (an
// administrator) every mailbox of the account.
func (s *Server) a2pScope(r *http.Request, p *switchboard.Principal) (accountID, extensionID int64, err error) {
	accountID, err = s.resolveAccount(r, p)
	if err != nil || p.Admin {
		return accountID, 0, err
	}
	return accountID, p.ExtensionID, nil
}

func (s *Server) handleGetA2PBatch(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) {
	accountID, extensionID, err := s.a2pScope(r, p)
	var b *switchboard.A2PBatch
	if err == nil {
		b, err = s.a2pBatchByID(r, accountID, extensionID)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rcwire.NewA2PBatch(b))
}

func (s *Server) a2pBatchByID(r *http.Request, accountID, extensionID int64) (*switchboard.A2PBatch, error) {
	raw := r.PathValue("batchId")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return nil, switchboard.NotFound("batchId", raw)
	}
	b, err := s.store.A2PBatch(r.Context(), accountID, id)
	if errors.Is(err, switchboard.ErrNotFound) || (err == nil && extensionID != 0 && b.ExtensionID != extensionID) {
		return nil, switchboard.NotFound("batchId", raw)
	}
	return b, err
}

// tokenPagingJSON is RingCentral's NonEnumeratedPagingModel.
type tokenPagingJSON struct {
	PerPage        int    `json:"perPage"`
	PageToken      string `json:"pageToken,omitempty"`
	NextPageToken  string `json:"nextPageToken,omitempty"`
	FirstPageToken string `json:"firstPageToken,omitempty"`
}

// a2pPageSize is RingCentral's default and largest perPage of these lists.
const a2pPageSize = 1000

// a2pRange reads dateFrom and dateTo as RingCentral defaults them: dateTo
// now, dateFrom a day before dateTo.
func (s *Server) a2pRange(q url.Values) (from, to time.Time, err error) {
	to = s.clock.Now().Add(time.Millisecond) // now included
	if raw := q.Get("dateTo"); raw != "" {
		if to, err = parseTime("dateTo", raw); err != nil {
			return
		}
	}
	from = to.Add(-24 * time.Hour)
	if raw := q.Get("dateFrom"); raw != "" {
		if from, err = parseTime("dateFrom", raw); err != nil {
			return
		}
	}
	if !from.Before(to) {
		err = switchboard.InvalidParam("dateFrom", q.Get("dateFrom"), "Parameter [dateFrom] must be before dateTo")
	}
	return
}

// idPageToken is the token of the page after the record with this id
// (lists are newest first, ids ascending with time).
func idPageToken(id int64) string { return "b" + strconv.FormatInt(id, 36) }

func parseIDPageToken(raw string) (int64, error) {
	if raw == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(raw, "b"), 36, 64)
	if err != nil || !strings.HasPrefix(raw, "b") || id <= 0 {
		return 0, switchboard.InvalidParam("pageToken", raw, "Parameter [pageToken] is not a token this list returned")
	}
	return id, nil
}

func (s *Server) handleListA2PBatches(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) {
	q := r.URL.Query()
	f := switchboard.A2PBatchFilter{}
	var err error
	f.AccountID, f.ExtensionID, err = s.a2pScope(r, p)
	if err == nil {
		f.DateFrom, f.DateTo, err = s.a2pRange(q)
	}
	if err == nil && q.Get("from") != "" {
		f.From, err = switchboard.NormalizeA2PNumber(q.Get("from"))
		if err != nil {
			err = switchboard.InvalidParam("from", q.Get("from"), "Parameter [from]: %v", err)
		}
	}
	if err == nil {
		f.Statuses, err = parseEnums(q, "status", []switchboard.A2PBatchStatus{switchboard.A2PQueued, switchboard.A2PProcessing, switchboard.A2PSent, switchboard.A2PCompleted})
	}
	if err == nil {
		f.Limit, err = parseInt(q, "perPage", a2pPageSize, 1, a2pPageSize)
	}
	if err == nil {
		f.BeforeID, err = parseIDPageToken(q.Get("pageToken"))
	}
	var bs []*switchboard.A2PBatch
	var more bool
	if err == nil {
		bs, more, err = s.store.ListA2PBatches(r.Context(), f)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := struct {
		Records []rcwire.A2PBatch `json:"records"`
		Paging  tokenPagingJSON   `json:"paging"`
	}{Records: []rcwire.A2PBatch{}, Paging: tokenPagingJSON{PerPage: f.Limit, PageToken: q.Get("pageToken")}}
	for _, b := range bs {
		out.Records = append(out.Records, rcwire.NewA2PBatch(b))
	}
	if more {
		out.Paging.NextPageToken = idPageToken(bs[len(bs)-1].ID)
	}
	writeJSON(w, http.StatusOK, out)
}

// a2pMessageJSON is MessageListMessageResponse and, with a string id,
// MessageDetailsResponse.
type a2pMessageJSON struct {
	ID               any      `json:"id"`
	BatchID          string   `json:"batchId"`
	From             string   `json:"from"`
	To               []string `json:"to"`
	Text             string   `json:"text,omitempty"`
	CreationTime     string   `json:"creationTime"`
	LastModifiedTime string   `json:"lastModifiedTime"`
	MessageStatus    string   `json:"messageStatus"`
	SegmentCount     int      `json:"segmentCount"`
	Cost             float64  `json:"cost"`
	Direction        string   `json:"direction"`
	ErrorCode        string   `json:"errorCode,omitempty"`
}

func toA2PMessageJSON(m *switchboard.A2PMessage, text bool) a2pMessageJSON {
	j := a2pMessageJSON{ID: m.ID, BatchID: strconv.FormatInt(m.BatchID, 10), From: m.From.PhoneNumber, To: []string{},
		CreationTime: rcwire.Time(m.Created), LastModifiedTime: rcwire.Time(m.LastModified), MessageStatus: string(m.MessageStatus),
		SegmentCount: m.SegmentCount, Direction: string(m.Direction), ErrorCode: m.DeliveryErrorCode}
	for _, t := range m.To {
		j.To = append(j.To, t.PhoneNumber)
	}
	if text {
		j.Text = m.Subject
	}
	return j
}

// a2pMessageFilter reads the filters the messages list and the statuses
// share.
func (s *Server) a2pMessageFilter(r *http.Request, p *switchboard.Principal) (switchboard.A2PMessageFilter, error) {
	q := r.URL.Query()
	var f switchboard.A2PMessageFilter
	var err error
	if f.AccountID, f.ExtensionID, err = s.a2pScope(r, p); err != nil {
		return f, err
	}
	if raw := q.Get("batchId"); raw != "" {
		if f.BatchID, err = parseID("batchId", raw); err != nil {
			return f, err
		}
	}
	if f.Directions, err = parseEnums(q, "direction", switchboard.Directions); err != nil {
		return f, err
	}
	if f.DateFrom, f.DateTo, err = s.a2pRange(q); err != nil {
		return f, err
	}
	if f.BatchID != 0 && q.Get("dateFrom") == "" {
		f.DateFrom = time.Time{} // a batch's messages whenever it ran
	}
	nums := multiValue(q, "phoneNumber")
	if len(nums) > 15 {
		return f, switchboard.InvalidParam("phoneNumber", strconv.Itoa(len(nums)), "At most 15 phone numbers may be given")
	}
	for _, raw := range nums {
		n, err := switchboard.NormalizeA2PNumber(raw)
		if err != nil {
			return f, switchboard.InvalidParam("phoneNumber", raw, "Parameter [phoneNumber]: %v", err)
		}
		f.PhoneNumbers = append(f.PhoneNumbers, n)
	}
	return f, nil
}

func (s *Server) handleListA2PMessages(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) {
	q := r.URL.Query()
	f, err := s.a2pMessageFilter(r, p)
	if err == nil {
		f.Limit, err = parseInt(q, "perPage", a2pPageSize, 1, a2pPageSize)
	}
	if err == nil {
		f.BeforeID, err = parseIDPageToken(q.Get("pageToken"))
	}
	var view string
	if err == nil {
		view = q.Get("view")
		if view != "" && view != "Simple" && view != "Detailed" {
			err = switchboard.InvalidParam("view", view, "Parameter [view] must be Simple or Detailed")
		}
	}
	var ms []*switchboard.A2PMessage
	var more bool
	if err == nil {
		ms, more, err = s.store.A2PMessages(r.Context(), f)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := struct {
		Records []a2pMessageJSON `json:"records"`
		Paging  tokenPagingJSON  `json:"paging"`
	}{Records: []a2pMessageJSON{}, Paging: tokenPagingJSON{PerPage: f.Limit, PageToken: q.Get("pageToken")}}
	for _, m := range ms {
		out.Records = append(out.Records, toA2PMessageJSON(m, view == "Detailed"))
	}
	if more {
		out.Paging.NextPageToken = idPageToken(ms[len(ms)-1].ID)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleGetA2PMessage(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) {
	accountID, extensionID, err := s.a2pScope(r, p)
	raw := r.PathValue("messageId")
	var m *switchboard.A2PMessage
	if err == nil {
		id, perr := strconv.ParseInt(raw, 10, 64)
		if perr != nil || id <= 0 {
			err = switchboard.NotFound("messageId", raw)
		} else {
			m, err = s.store.A2PMessage(r.Context(), accountID, id)
		}
	}
	if errors.Is(err, switchboard.ErrNotFound) || (err == nil && extensionID != 0 && m.ExtensionID != extensionID) {
		err = switchboard.NotFound("messageId", raw)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	j := toA2PMessageJSON(m, true)
	j.ID = strconv.FormatInt(m.ID, 10)
	writeJSON(w, http.StatusOK, j)
}

type a2pStatusCountJSON struct {
	Count           int            `json:"count"`
	Cost            float64        `json:"cost"`
	ErrorCodeCounts map[string]int `json:"errorCodeCounts,omitempty"`
}

func (s *Server) handleA2PStatuses(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) {
	f, err := s.a2pMessageFilter(r, p)
	var counts []switchboard.A2PStatusCount
	if err == nil {
		counts, err = s.store.A2PStatuses(r.Context(), f)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	keys := map[switchboard.MessageStatus]string{
		switchboard.StatusQueued: "queued", switchboard.StatusDelivered: "delivered", switchboard.StatusDeliveryFailed: "deliveryFailed",
		switchboard.StatusSent: "sent", switchboard.StatusSendingFailed: "sendingFailed",
	}
	out := map[string]*a2pStatusCountJSON{}
	for _, k := range keys {
		out[k] = &a2pStatusCountJSON{}
	}
	for _, c := range counts {
		k, ok := keys[c.Status]
		if !ok {
			continue
		}
		e := out[k]
		e.Count += c.Count
		if c.Status == switchboard.StatusDeliveryFailed || c.Status == switchboard.StatusSendingFailed {
			if e.ErrorCodeCounts == nil {
				e.ErrorCodeCounts = map[string]int{}
			}
			code := c.ErrorCode
			if code == "" {
				code = "SMS-RC-500" // RingCentral's "internal" reason: failed with no code recorded
			}
			e.ErrorCodeCounts[code] += c.Count
		}
	}
	writeJSON(w, http.StatusOK, out)
}

type optOutJSON struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Status string `json:"status"`
	Source string `json:"source"`
}

// optOutPageToken names the last record of a page.
func optOutPageToken(r *switchboard.OptOutRecord) string {
	return base64.RawURLEncoding.EncodeToString([]byte(r.From + " " + r.To))
}

func (s *Server) handleListOptOuts(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) {
	q := r.URL.Query()
	f := switchboard.OptOutFilter{Status: switchboard.OptOut}
	var err error
	f.AccountID, err = s.resolveAccount(r, p)
	for _, param := range []struct {
		name string
		dst  *string
	}{{"from", &f.From}, {"to", &f.To}} {
		if raw := q.Get(param.name); err == nil && raw != "" && raw != "*" {
			if *param.dst, err = switchboard.NormalizeA2PNumber(raw); err != nil {
				err = switchboard.InvalidParam(param.name, raw, "Parameter [%s]: %v", param.name, err)
			}
		}
	}
	if err == nil {
		switch st := q.Get("status"); st {
		case "", "optout":
		case "optin":
			f.Status = switchboard.OptIn
		case "all":
			f.Status = ""
		default:
			err = switchboard.InvalidParam("status", st, "Parameter [status] must be optout, optin or all")
		}
	}
	if err == nil {
		f.Limit, err = parseInt(q, "perPage", a2pPageSize, 1, a2pPageSize)
	}
	if raw := q.Get("pageToken"); err == nil && raw != "" {
		b, derr := base64.RawURLEncoding.DecodeString(raw)
		from, to, ok := strings.Cut(string(b), " ")
		if derr != nil || !ok {
			err = switchboard.InvalidParam("pageToken", raw, "Parameter [pageToken] is not a token this list returned")
		}
		f.AfterFrom, f.AfterTo = from, to
	}
	var rs []*switchboard.OptOutRecord
	var more bool
	if err == nil {
		rs, more, err = s.store.OptOuts(r.Context(), f)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := struct {
		Records []optOutJSON    `json:"records"`
		Paging  tokenPagingJSON `json:"paging"`
	}{Records: []optOutJSON{}, Paging: tokenPagingJSON{PerPage: f.Limit, PageToken: q.Get("pageToken")}}
	for _, rec := range rs {
		out.Records = append(out.Records, optOutJSON{From: rec.From, To: rec.To, Status: string(rec.Status), Source: string(rec.Source)})
	}
	if more {
		out.Paging.NextPageToken = optOutPageToken(rs[len(rs)-1])
	}
	writeJSON(w, http.StatusOK, out)
}

type optOutBulkRequest struct {
	From    string   `json:"from"`
	OptOuts []string `json:"optOuts"`
	OptIns  []string `json:"optIns"`
}

type optOutFailedJSON struct {
	To           string `json:"to"`
	ErrorMessage string `json:"errorMessage"`
}

type optOutResultJSON struct {
	Successful []string           `json:"successful"`
	Failed     []optOutFailedJSON `json:"failed"`
}

// maxOptOutBulk bounds the numbers of one bulk-assign request.
const maxOptOutBulk = 10_000

// handleBulkAssignOptOuts serves PATCH …/a2p-sms/opt-outs/bulk-assign:
// the account opts recipients out of (or back in to) one of its A2P
// numbers. A malformed number fails alone.
func (s *Server) handleBulkAssignOptOuts(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) {
	var req optOutBulkRequest
	sent, err := s.decodeJSON(w, r, s.config.MaxBodyBytes, &req)
	if err == nil && !sent {
		err = switchboard.Errorf(switchboard.CodeBadRequest, "Request body is required")
	}
	var from string
	if err == nil {
		_, from, err = s.a2pSender(r, p, req.From)
	}
	if err == nil && len(req.OptOuts) == 0 && len(req.OptIns) == 0 {
		err = switchboard.InvalidParam("optOuts", "", "Give at least one number in [optOuts] or [optIns]")
	}
	if err == nil && len(req.OptOuts)+len(req.OptIns) > maxOptOutBulk {
		err = switchboard.InvalidParam("optOuts", strconv.Itoa(len(req.OptOuts)+len(req.OptIns)), "At most %d numbers per request", maxOptOutBulk)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	apply := func(raw []string, status switchboard.OptOutStatus) (optOutResultJSON, error) {
		res := optOutResultJSON{Successful: []string{}, Failed: []optOutFailedJSON{}}
		var ok []string
		for _, v := range raw {
			n, err := switchboard.NormalizeA2PNumber(v)
			if err != nil {
				res.Failed = append(res.Failed, optOutFailedJSON{To: v, ErrorMessage: fmt.Sprintf("Invalid phone number: %v", err)})
				continue
			}
			ok = append(ok, n)
		}
		if len(ok) > 0 {
			if err := s.store.SetOptOuts(r.Context(), p.AccountID, from, ok, status, switchboard.OptOutByAccount); err != nil {
				return res, err
			}
		}
		res.Successful = append(res.Successful, ok...)
		return res, nil
	}
	outs, err := apply(req.OptOuts, switchboard.OptOut)
	var ins optOutResultJSON
	if err == nil {
		ins, err = apply(req.OptIns, switchboard.OptIn)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]optOutResultJSON{"optOuts": outs, "optIns": ins})
}
