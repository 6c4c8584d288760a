package httpapi

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/rcwire"
)

// The admin API's read-only views of the directory, the delivery queue and
// the push subscriptions: what the web UI's admin console shows, for any
// admin tool. Secrets (password hashes, verification tokens) never appear.

// maxConsoleRows bounds a listing of the delivery queue or subscriptions.
const maxConsoleRows = 500

type accountAdminJSON struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	MainNumber   string `json:"mainNumber,omitempty"`
	Status       string `json:"status"`
	CreationTime string `json:"creationTime"`
}

type extensionAdminJSON struct {
	ID              string `json:"id"`
	ExtensionNumber string `json:"extensionNumber"`
	Name            string `json:"name"`
	Type            string `json:"type"`
	Status          string `json:"status"`
	Email           string `json:"email,omitempty"`
	Admin           bool   `json:"admin"`
	PasswordLogin   bool   `json:"passwordLogin"`
}

type phoneNumberAdminJSON struct {
	PhoneNumber string   `json:"phoneNumber"`
	ExtensionID string   `json:"extensionId,omitempty"`
	UsageType   string   `json:"usageType"`
	Features    []string `json:"features"`
	Status      string   `json:"status"`
}

type deliveryJSON struct {
	ID          string `json:"id"`
	MessageID   string `json:"messageId"`
	AccountID   string `json:"accountId"`
	ExtensionID string `json:"extensionId"`
	Type        string `json:"type"`
	Recipient   string `json:"recipient"`
	Internal    bool   `json:"internal"`
	State       string `json:"state"`
	Attempts    int    `json:"attempts"`
	NextAttempt string `json:"nextAttemptTime,omitempty"`
	CarrierID   string `json:"carrierMessageId,omitempty"`
	ErrorCode   string `json:"errorCode,omitempty"` // the carrier's answer
}

type subscriptionAdminJSON struct {
	ID             string   `json:"id"`
	AccountID      string   `json:"accountId"`
	ExtensionID    string   `json:"extensionId"`
	Transport      string   `json:"transportType"`
	Address        string   `json:"address,omitempty"`
	Status         string   `json:"status"`
	EventFilters   []string `json:"eventFilters"`
	ExpirationTime string   `json:"expirationTime"`
	Attempts       int      `json:"failedAttempts"`
	FailingSince   string   `json:"failingSince,omitempty"`
	NextAttempt    string   `json:"nextAttemptTime,omitempty"`
	LastError      string   `json:"lastError,omitempty"`
	Blacklisted    string   `json:"blacklistedTime,omitempty"`
}

// webHookAttemptJSON is one POST to a WebHook address and its answer.
type webHookAttemptJSON struct {
	Time       string `json:"time"`
	EventID    string `json:"uuid"`
	Event      string `json:"event"`
	OK         bool   `json:"ok"`
	Status     int    `json:"httpStatus,omitempty"`
	Error      string `json:"error,omitempty"`
	DurationMs int64  `json:"durationMs"`
}

func optTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return rcwire.Time(t)
}

func idString(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}

func records[T any](w http.ResponseWriter, rs []T) {
	if rs == nil {
		rs = []T{}
	}
	writeJSON(w, http.StatusOK, struct {
		Records []T `json:"records"`
	}{rs})
}

func (s *Server) handleAdminAccounts(w http.ResponseWriter, r *http.Request) {
	as, err := s.store.Accounts(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var out []accountAdminJSON
	for _, a := range as {
		out = append(out, accountAdminJSON{ID: idString(a.ID), Name: a.Name, MainNumber: a.MainNumber, Status: a.Status, CreationTime: rcwire.Time(a.Created)})
	}
	records(w, out)
}

func (s *Server) handleAdminExtensions(w http.ResponseWriter, r *http.Request) {
	a, err := s.adminAccount(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	xs, err := s.store.Extensions(r.Context(), switchboard.ExtensionFilter{AccountID: a.ID})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var out []extensionAdminJSON
	for _, x := range xs {
		out = append(out, extensionAdminJSON{ID: idString(x.ID), ExtensionNumber: x.ExtensionNumber, Name: x.Name, Type: x.Type,
			Status: x.Status, Email: x.Email, Admin: x.Admin, PasswordLogin: x.PasswordHash != ""})
	}
	records(w, out)
}

func (s *Server) handleAdminPhoneNumbers(w http.ResponseWriter, r *http.Request) {
	a, err := s.adminAccount(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ns, err := s.store.PhoneNumbers(r.Context(), a.ID, 0)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var out []phoneNumberAdminJSON
	for _, n := range ns {
		out = append(out, phoneNumberAdminJSON{PhoneNumber: n.PhoneNumber, ExtensionID: idString(n.ExtensionID), UsageType: n.UsageType,
			Features: nonNil(n.Features), Status: n.Status})
	}
	records(w, out)
}

// consoleLimit reads ?limit= (default 100, at most maxConsoleRows).
func consoleLimit(r *http.Request) (int, error) {
	return parseInt(r.URL.Query(), "limit", 100, 1, maxConsoleRows)
}

// handleAdminDeliveries lists the delivery queue by state:
// ?state=Pending (default; attempts > 0 are retrying), Submitted (awaiting
// the carrier's receipt), Failed or Done.
func (s *Server) handleAdminDeliveries(w http.ResponseWriter, r *http.Request) {
	state := switchboard.DeliveryState(r.URL.Query().Get("state"))
	switch state {
	case "":
		state = switchboard.DeliveryPending
	case switchboard.DeliveryPending, switchboard.DeliverySubmitted, switchboard.DeliveryFailed, switchboard.DeliveryDone:
	default:
		s.writeError(w, r, switchboard.InvalidParam("state", string(state), "Parameter [state] must be Pending, Submitted, Failed or Done"))
		return
	}
	limit, err := consoleLimit(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ds, err := s.store.ListDeliveries(r.Context(), state, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var out []deliveryJSON
	for _, d := range ds {
		out = append(out, deliveryJSON{ID: idString(d.ID), MessageID: idString(d.MessageID), AccountID: idString(d.AccountID),
			ExtensionID: idString(d.ExtensionID), Type: string(d.Type), Recipient: d.Recipient, Internal: d.Internal,
			State: string(d.State), Attempts: d.Attempts, NextAttempt: optTime(d.NextAttempt), CarrierID: d.CarrierID, ErrorCode: d.ErrorCode})
	}
	records(w, out)
}

// handleAdminSubscriptions lists every push subscription with its delivery
// state: failed attempts in a row, since when, the last error.
func (s *Server) handleAdminSubscriptions(w http.ResponseWriter, r *http.Request) {
	limit, err := consoleLimit(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	subs, err := s.store.AllSubscriptions(r.Context(), limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var out []subscriptionAdminJSON
	for _, x := range subs {
		out = append(out, subscriptionAdminJSON{ID: x.ID, AccountID: idString(x.AccountID), ExtensionID: idString(x.ExtensionID),
			Transport: string(x.Transport), Address: x.Address, Status: string(x.Status), EventFilters: nonNil(x.EventFilters),
			ExpirationTime: rcwire.Time(x.Expires), Attempts: x.Attempts, FailingSince: optTime(x.FailingSince),
			NextAttempt: optTime(x.NextAttempt), LastError: x.LastError, Blacklisted: optTime(x.Blacklisted)})
	}
	records(w, out)
}

// handleAdminSubscriptionDeliveries lists a subscription's most recent
// WebHook POSTs, newest first, with what the receiver answered.
func (s *Server) handleAdminSubscriptionDeliveries(w http.ResponseWriter, r *http.Request) {
	limit, err := consoleLimit(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	id := r.PathValue("id")
	if _, err := s.store.SubscriptionByID(r.Context(), id); err != nil {
		if errors.Is(err, switchboard.ErrNotFound) {
			err = switchboard.NotFound("subscriptionId", id)
		}
		s.writeError(w, r, err)
		return
	}
	attempts, err := s.store.WebHookAttempts(r.Context(), id, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]webHookAttemptJSON, 0, len(attempts))
	for _, a := range attempts {
		out = append(out, webHookAttemptJSON{Time: rcwire.Time(a.Time), EventID: a.EventID, Event: a.Event, OK: a.OK(),
			Status: a.Status, Error: a.Error, DurationMs: a.Duration.Milliseconds()})
	}
	records(w, out)
}
