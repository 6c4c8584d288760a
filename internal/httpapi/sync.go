package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/rcwire"
)

// Sync limits: a full sync returns at most maxSyncRecords messages (fewer
// with recordCount); an incremental sync reports at most maxSyncRecords
// changed messages per call and says when more are pending.
const maxSyncRecords = 1000

// codeSyncRequired is RingCentral's "full synchronization is required".
const codeSyncRequired = "MSG-333"

// syncToken is the opaque token: a position in the change log plus the
// frame (filters) of the full sync it continues. It is versioned base64url
// JSON; the position survives restarts because the log is in the database.
type syncToken struct {
	V         int                       `json:"v"`
	Extension int64                     `json:"e"`
	Seq       int64                     `json:"s"`
	Types     []switchboard.MessageType `json:"t,omitempty"`
	Direction []switchboard.Direction   `json:"d,omitempty"`
	Conv      int64                     `json:"c,omitempty"`
	// From and To (Unix ms) are the dateFrom/dateTo the full sync was
	// given; the default window of a full sync is not part of the frame, so
	// a later change to an older message is still reported.
	From int64 `json:"f,omitempty"`
	To   int64 `json:"u,omitempty"`
}

func (t syncToken) encode() string {
	b, _ := json.Marshal(t)
	return base64.RawURLEncoding.EncodeToString(b)
}

func syncRequired(value string) error {
	msg := "Invalid message synchronisation request: full synchronization is required"
	return &switchboard.Error{Code: codeSyncRequired, Message: msg,
		Params: []switchboard.ParamError{{Code: codeSyncRequired, Message: msg, Name: "syncToken", Value: value}}}
}

func decodeSyncToken(raw string, extensionID int64) (syncToken, error) {
	var t syncToken
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil || len(b) > 4096 || json.Unmarshal(b, &t) != nil || t.V != 1 || t.Seq < 0 {
		return t, syncRequired(raw)
	}
	// A token of another mailbox is as good as none.
	if t.Extension != extensionID {
		return t, syncRequired(raw)
	}
	return t, nil
}

type syncInfoJSON struct {
	SyncType          string `json:"syncType"`
	SyncToken         string `json:"syncToken"`
	SyncTime          string `json:"syncTime"`
	OlderRecordsExist bool   `json:"olderRecordsExist"`
}

type syncResponseJSON struct {
	URI      string       `json:"uri"`
	Records  []any        `json:"records"`
	SyncInfo syncInfoJSON `json:"syncInfo"`
}

// goneJSON is how an incremental sync reports a message that is no longer
// Alive: its id and availability, as RingCentral does.
type goneJSON struct {
	ID           int64  `json:"id"`
	URI          string `json:"uri"`
	Availability string `json:"availability"`
}

func (s *Server) handleSync(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) {
	mb, err := s.resolveMailbox(r, p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	base := s.baseURL(r)
	out := syncResponseJSON{
		URI:     fmt.Sprintf("%s/restapi/v1.0/account/%d/extension/%d/message-sync?%s", base, mb.AccountID, mb.ExtensionID, publicQuery(q).Encode()),
		Records: []any{},
	}
	switch syncType := q.Get("syncType"); syncType {
	case "FSync":
		err = s.fullSync(r, mb, q, &out)
	case "ISync":
		err = s.incrementalSync(r, mb, q, &out)
	case "":
		err = switchboard.InvalidParam("syncType", "", "Parameter [syncType] is required: FSync or ISync")
	default:
		err = switchboard.InvalidParam("syncType", syncType, "Parameter [syncType] must be FSync or ISync")
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out.SyncInfo.SyncTime = rcwire.Time(s.clock.Now())
	writeJSON(w, http.StatusOK, out)
}

// fullSync returns the newest Alive messages of the frame and a token at
// the log position taken before they were read: a change committed in
// between is reported again by the next incremental sync, never missed.
func (s *Server) fullSync(r *http.Request, mb mailbox, q url.Values, out *syncResponseJSON) error {
	lq, err := parseListQuery(q, s.clock.Now())
	if err != nil {
		return err
	}
	f := lq.filter
	f.AccountID, f.ExtensionID = mb.AccountID, mb.ExtensionID
	f.Availability = []switchboard.Availability{switchboard.Alive}
	f.ReadStatus = nil
	f.Offset = 0
	if f.Limit, err = parseInt(q, "recordCount", maxSyncRecords, 1, 1<<31-1); err != nil {
		return err
	}
	f.Limit = min(f.Limit, maxSyncRecords)
	seq, err := s.store.SyncPosition(r.Context())
	if err != nil {
		return err
	}
	page, err := s.store.ListMessages(r.Context(), f)
	if err != nil {
		return err
	}
	base := s.baseURL(r)
	for _, m := range page.Messages {
		out.Records = append(out.Records, rcwire.NewMessage(base, m))
	}
	tok := syncToken{V: 1, Extension: mb.ExtensionID, Seq: seq, Types: f.Types, Direction: f.Direction, Conv: f.ConversationID}
	if q.Get("dateFrom") != "" {
		tok.From = f.DateFrom.UnixMilli()
	}
	if q.Get("dateTo") != "" {
		tok.To = f.DateTo.UnixMilli()
	}
	out.SyncInfo = syncInfoJSON{SyncType: "FSync", SyncToken: tok.encode(), OlderRecordsExist: page.More}
	return nil
}

// incrementalSync returns every message of the frame created or changed
// since the token: Alive ones in full, others as id and availability. When
// more than maxSyncRecords messages changed, olderRecordsExist is true and
// the client calls again with the new token.
func (s *Server) incrementalSync(r *http.Request, mb mailbox, q url.Values, out *syncResponseJSON) error {
	raw := q.Get("syncToken")
	if raw == "" {
		return switchboard.InvalidParam("syncToken", "", "Parameter [syncToken] is required for ISync")
	}
	tok, err := decodeSyncToken(raw, mb.ExtensionID)
	if err != nil {
		return err
	}
	delta, err := s.store.SyncChanges(r.Context(), mb.AccountID, mb.ExtensionID, tok.Seq, maxSyncRecords)
	if errors.Is(err, switchboard.ErrSyncTokenExpired) {
		return syncRequired(raw)
	}
	if err != nil {
		return err
	}
	base := s.baseURL(r)
	for _, m := range delta.Messages {
		if m.Type != "" && !inFrame(tok, m) {
			continue
		}
		if m.Availability == switchboard.Alive {
			out.Records = append(out.Records, rcwire.NewMessage(base, m))
		} else {
			out.Records = append(out.Records, goneJSON{ID: m.ID, URI: rcwire.MessageURI(base, mb.AccountID, mb.ExtensionID, m.ID), Availability: string(m.Availability)})
		}
	}
	tok.Seq = delta.Seq
	out.SyncInfo = syncInfoJSON{SyncType: "ISync", SyncToken: tok.encode(), OlderRecordsExist: delta.More}
	return nil
}

// inFrame reports whether a message matches the full sync's filters. A
// removed message (no type left) is always reported: the client may hold it.
func inFrame(t syncToken, m *switchboard.Message) bool {
	if len(t.Types) > 0 && !slices.Contains(t.Types, m.Type) {
		return false
	}
	if len(t.Direction) > 0 && !slices.Contains(t.Direction, m.Direction) {
		return false
	}
	if t.From != 0 && m.Created.UnixMilli() < t.From {
		return false
	}
	if t.To != 0 && m.Created.UnixMilli() >= t.To {
		return false
	}
	return t.Conv == 0 || t.Conv == m.ConversationID
}
