package httpapi

import (
	"net/http"
	"time"

	"github.com/switchboardhq/switchboard"
)

// messageStoreConfigJSON is RingCentral's MessageStoreConfiguration: the
// account's retentionPeriod in days (7-90), after which Fax and VoiceMail
// messages are deleted. Omitted when the account keeps them without a limit.
type messageStoreConfigJSON struct {
	RetentionPeriod *int `json:"retentionPeriod,omitempty"`
}

const day = 24 * time.Hour

func messageStoreConfigOf(a *switchboard.Account) messageStoreConfigJSON {
	var out messageStoreConfigJSON
	if a.Retention.MessagePeriod > 0 {
		days := int(a.Retention.MessagePeriod / day)
		out.RetentionPeriod = &days
	}
	return out
}

// handleGetMessageStoreConfig serves GET .../message-store-configuration
// for the caller's own account (another account's id is 404).
func (s *Server) handleGetMessageStoreConfig(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) {
	a, err := s.ownAccount(r, p)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, messageStoreConfigOf(a))
}

// handlePutMessageStoreConfig serves PUT .../message-store-configuration:
// the account administrator sets retentionPeriod, on top of the rest of
// the account's lifecycle override (delete and purge periods, mailbox cap),
// which it leaves as it is.
func (s *Server) handlePutMessageStoreConfig(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) {
	a, err := s.ownAccount(r, p)
	if err == nil && !p.Admin {
		err = switchboard.Errorf("CMN-408",
			"In order to call this API endpoint, user needs to have [AccountAdministration] permission")
	}
	var req messageStoreConfigJSON
	if err == nil {
		var sent bool
		sent, err = s.decodeJSON(w, r, s.config.MaxBodyBytes, &req)
		if err == nil && (!sent || req.RetentionPeriod == nil) {
			err = switchboard.InvalidParam("retentionPeriod", "", "Parameter [retentionPeriod] is required: days, from 7 to 90")
		}
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// The range (7-90 days) is the domain's rule (AccountRetention.Validate).
	rt := a.Retention
	rt.MessagePeriod = time.Duration(*req.RetentionPeriod) * day
	if err := s.store.SetAccountRetention(r.Context(), a.ID, rt); err != nil {
		s.writeError(w, r, notFoundAs(err, "accountId", r.PathValue("accountId")))
		return
	}
	a.Retention = rt
	writeJSON(w, http.StatusOK, messageStoreConfigOf(a))
}

// ownAccount is the account of the path, which must be the caller's.
func (s *Server) ownAccount(r *http.Request, p *switchboard.Principal) (*switchboard.Account, error) {
	id, err := s.resolveAccount(r, p)
	if err != nil {
		return nil, err
	}
	a, err := s.store.Account(r.Context(), id)
	return a, notFoundAs(err, "accountId", r.PathValue("accountId"))
}
