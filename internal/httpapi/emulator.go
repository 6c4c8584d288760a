package httpapi

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/rcwire"
)

// errNotEmulator refuses the emulator controls on a production server,
// where time is the real clock and retention runs on its schedule.
var errNotEmulator = switchboard.Errorf("CMN-109",
	"Emulator controls are off: start the server with --emulator (or --demo) to move time and run retention on demand")

// maxAdvance bounds one clock move (ten years).
const maxAdvance = 10 * 365 * 24 * time.Hour

// handleClockAdvance moves the server's clock forward:
// {"seconds": N} -> {"now": "<ISO 8601>"}.
func (s *Server) handleClockAdvance(w http.ResponseWriter, r *http.Request) {
	if s.emulator == nil {
		s.writeError(w, r, errNotEmulator)
		return
	}
	var req struct {
		Seconds *float64 `json:"seconds"`
	}
	sent, err := s.decodeJSON(w, r, s.config.MaxBodyBytes, &req)
	if err == nil && (!sent || req.Seconds == nil) {
		err = switchboard.InvalidParam("seconds", "", "Body must be {\"seconds\": N}")
	}
	if err == nil && (*req.Seconds < 0 || math.IsNaN(*req.Seconds) || *req.Seconds > maxAdvance.Seconds()) {
		err = switchboard.InvalidParam("seconds", strconv.FormatFloat(*req.Seconds, 'f', -1, 64), "Parameter [seconds] must be from 0 to %d: the clock only moves forward", int64(maxAdvance.Seconds()))
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	now := s.emulator.Advance(time.Duration(*req.Seconds * float64(time.Second)))
	// Saved, so that after a restart messages created at the moved time
	// are not in the future.
	if err := s.store.SaveClockOffset(r.Context(), s.emulator.Offset()); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"now": rcwire.Time(now)})
}

// handleRetentionRun runs the retention worker once, synchronously, and
// answers what it did.
func (s *Server) handleRetentionRun(w http.ResponseWriter, r *http.Request) {
	if s.emulator == nil || s.retention == nil {
		s.writeError(w, r, errNotEmulator)
		return
	}
	res, err := s.retention.RunOnce(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// retentionJSON is an account's lifecycle configuration in the admin API:
// the override (0: the server default; mailboxCap -1: no cap) and what is
// in effect.
type retentionJSON struct {
	DeletePeriodSeconds int64            `json:"deletePeriodSeconds"`
	PurgePeriodSeconds  int64            `json:"purgePeriodSeconds"`
	MailboxCap          int              `json:"mailboxCap"`
	Effective           *effectivePolicy `json:"effective,omitempty"`
}

type effectivePolicy struct {
	DeletePeriodSeconds int64 `json:"deletePeriodSeconds"`
	PurgePeriodSeconds  int64 `json:"purgePeriodSeconds"`
	MailboxCap          int   `json:"mailboxCap"` // 0: no cap
}

func (s *Server) retentionOf(a *switchboard.Account) retentionJSON {
	p := a.Retention.Apply(s.config.Retention)
	return retentionJSON{
		DeletePeriodSeconds: int64(a.Retention.DeletePeriod / time.Second),
		PurgePeriodSeconds:  int64(a.Retention.PurgePeriod / time.Second),
		MailboxCap:          a.Retention.MailboxCap,
		Effective: &effectivePolicy{DeletePeriodSeconds: int64(p.DeletePeriod / time.Second),
			PurgePeriodSeconds: int64(p.PurgePeriod / time.Second), MailboxCap: p.MailboxCap},
	}
}

func (s *Server) adminAccount(r *http.Request) (*switchboard.Account, error) {
	id, err := parseID("accountId", r.PathValue("accountId"))
	if err != nil {
		return nil, err
	}
	a, err := s.store.Account(r.Context(), id)
	if errors.Is(err, switchboard.ErrNotFound) {
		return nil, switchboard.NotFound("accountId", r.PathValue("accountId"))
	}
	return a, err
}

func (s *Server) handleGetRetention(w http.ResponseWriter, r *http.Request) {
	a, err := s.adminAccount(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s.retentionOf(a))
}

func (s *Server) handlePutRetention(w http.ResponseWriter, r *http.Request) {
	a, err := s.adminAccount(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var req retentionJSON
	sent, err := s.decodeJSON(w, r, s.config.MaxBodyBytes, &req)
	if err == nil && !sent {
		err = switchboard.InvalidParam("deletePeriodSeconds", "", "Body must set deletePeriodSeconds, purgePeriodSeconds and mailboxCap")
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	const maxSeconds = math.MaxInt64 / int64(time.Second)
	if req.DeletePeriodSeconds > maxSeconds || req.PurgePeriodSeconds > maxSeconds {
		s.writeError(w, r, switchboard.InvalidParam("deletePeriodSeconds", "", "Period is too long"))
		return
	}
	// retentionPeriod is set through message-store-configuration and kept.
	ov := switchboard.AccountRetention{DeletePeriod: time.Duration(req.DeletePeriodSeconds) * time.Second,
		PurgePeriod: time.Duration(req.PurgePeriodSeconds) * time.Second, MailboxCap: req.MailboxCap,
		MessagePeriod: a.Retention.MessagePeriod}
	if err := ov.Validate(); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.store.SetAccountRetention(r.Context(), a.ID, ov); err != nil {
		s.writeError(w, r, err)
		return
	}
	a.Retention = ov
	writeJSON(w, http.StatusOK, s.retentionOf(a))
}
