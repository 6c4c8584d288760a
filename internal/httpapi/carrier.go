package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/switchboardhq/switchboard"
)

// CarrierControl reads and replaces the carrier simulator's rules, as JSON
// (the format is documented in internal/carrier).
type CarrierControl interface {
	RulesJSON() ([]byte, error)
	SetRulesJSON(b []byte) error
}

var errNoSimulator = switchboard.Errorf("CMN-102",
	"No carrier simulator is configured: this server sends through a real carrier")

func (s *Server) handleGetCarrierRules(w http.ResponseWriter, r *http.Request) {
	if s.carrier == nil {
		s.writeError(w, r, errNoSimulator)
		return
	}
	b, err := s.carrier.RulesJSON()
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(b)
}

// handlePutCarrierRules replaces the simulator's rules at run time.
// Messages already accepted keep the outcome they were given.
func (s *Server) handlePutCarrierRules(w http.ResponseWriter, r *http.Request) {
	if s.carrier == nil {
		s.writeError(w, r, errNoSimulator)
		return
	}
	b, err := readBody(w, r, s.config.MaxBodyBytes)
	if err == nil {
		// The simulator parses its rules strictly; this refuses what
		// parses as nothing (null, a list) and would reset them.
		var rules map[string]json.RawMessage
		err = unmarshalJSON(r.Context(), b, &rules)
	}
	if err == nil {
		err = s.carrier.SetRulesJSON(b)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.handleGetCarrierRules(w, r)
}
