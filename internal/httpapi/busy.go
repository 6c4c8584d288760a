package httpapi

import (
	"net/http"

	"github.com/switchboardhq/switchboard"
)

// Busy answers a request refused because the server is at a configured
// limit (uploads in progress): RingCentral's 503 with Retry-After, so the
// SDKs retry, and nothing logged per request.
func (s *Server) Busy(w http.ResponseWriter, r *http.Request) {
	s.writeError(w, r, switchboard.Errorf(switchboard.CodeUnavailable,
		"Service temporarily unavailable: too many uploads in progress, retry in a moment"))
}
