package httpapi

import (
	"net/http"

	"github.com/switchboardhq/switchboard"
)

// routes is the one table of every URL the API serves.
func (s *Server) routes() {
	const ext = "/restapi/v1.0/account/{accountId}/extension/{extensionId}"
	const store = ext + "/message-store"
	m := s.mux

	m.HandleFunc("POST /restapi/oauth/token", s.handleToken)
	m.HandleFunc("POST /restapi/oauth/revoke", s.handleRevoke)
	if s.ui != nil {
		// The web UI and the authorization endpoint's sign-in page
		// (internal/webui); the UI calls the API routes below.
		m.Handle("GET /{$}", s.ui)
		m.Handle("/ui/", s.ui)
		m.Handle("GET /restapi/oauth/authorize", s.ui)
		m.Handle("POST /restapi/oauth/authorize", s.ui)
	}

	m.HandleFunc("GET /restapi/v1.0/account/{accountId}", s.authed(switchboard.ScopeReadAccounts, s.handleAccount))
	m.HandleFunc("GET /restapi/v1.0/account/{accountId}/extension", s.authed(switchboard.ScopeReadAccounts, s.handleExtensionList))
	m.HandleFunc("GET "+ext, s.authed(switchboard.ScopeReadAccounts, s.handleExtension))
	m.HandleFunc("GET "+ext+"/phone-number", s.authed(switchboard.ScopeReadAccounts, s.handlePhoneNumbers))

	m.HandleFunc("GET "+store, s.authed(switchboard.ScopeReadMessages, s.handleListMessages))
	m.HandleFunc("DELETE "+store, s.authed(switchboard.ScopeEditMessages, s.handleDeleteByFilter))
	m.HandleFunc("GET "+store+"/{messageId}", s.authed(switchboard.ScopeReadMessages, s.handleGetMessages))
	m.HandleFunc("PUT "+store+"/{messageId}", s.authed(switchboard.ScopeEditMessages, s.handlePutMessage))
	m.HandleFunc("PATCH "+store+"/{messageId}", s.authed(switchboard.ScopeEditMessages, s.handlePatchMessage))
	m.HandleFunc("DELETE "+store+"/{messageId}", s.authed(switchboard.ScopeEditMessages, s.handleDeleteMessages))
	m.HandleFunc("GET "+store+"/{messageId}/content/{attachmentId}", s.authed(switchboard.ScopeReadMessages, s.handleContent))

	m.HandleFunc("POST "+ext+"/sms", s.authed(switchboard.ScopeSMS, s.handleSMS))
	m.HandleFunc("POST "+ext+"/mms", s.authed(switchboard.ScopeSMS, s.handleMMS))
	m.HandleFunc("POST "+ext+"/company-pager", s.authed(switchboard.ScopeInternalMessages, s.handlePager))
	m.HandleFunc("GET "+ext+"/message-sync", s.authed(switchboard.ScopeReadMessages, s.handleSync))
	m.HandleFunc("POST "+ext+"/fax", s.authed(switchboard.ScopeFaxes, s.handleFax))
	m.HandleFunc("GET /restapi/v1.0/dictionary/fax-cover-page", s.authed("", s.handleFaxCoverPages))

	// Push notifications (subscription.go, websocket.go).
	m.HandleFunc("POST /restapi/oauth/wstoken", s.authed(switchboard.ScopeWebSocketSubscription, s.handleWSToken))
	m.HandleFunc("GET "+wsPath, s.handleWebSocket)
	m.HandleFunc("/restapi/v1.0/subscription", s.authed("", s.handleSubscription))
	m.HandleFunc("/restapi/v1.0/subscription/", s.authed("", s.handleSubscription))

	m.HandleFunc("POST /switchboard/v1/messages", s.admin(s.handleImportMessages))
	m.HandleFunc("GET /switchboard/v1/accounts/{accountId}/retention", s.admin(s.handleGetRetention))
	m.HandleFunc("PUT /switchboard/v1/accounts/{accountId}/retention", s.admin(s.handlePutRetention))
	m.HandleFunc("GET /switchboard/v1/accounts", s.admin(s.handleAdminAccounts))
	m.HandleFunc("GET /switchboard/v1/accounts/{accountId}/extensions", s.admin(s.handleAdminExtensions))
	m.HandleFunc("GET /switchboard/v1/accounts/{accountId}/phone-numbers", s.admin(s.handleAdminPhoneNumbers))
	m.HandleFunc("GET /switchboard/v1/deliveries", s.admin(s.handleAdminDeliveries))
	m.HandleFunc("GET /switchboard/v1/subscriptions", s.admin(s.handleAdminSubscriptions))
	m.HandleFunc("GET /switchboard/v1/apps", s.admin(s.handleListApps))
	m.HandleFunc("PUT /switchboard/v1/apps/{clientId}/redirect-uris", s.admin(s.handlePutRedirectURIs))
	m.HandleFunc("GET /switchboard/v1/carrier/rules", s.admin(s.handleGetCarrierRules))
	m.HandleFunc("PUT /switchboard/v1/carrier/rules", s.admin(s.handlePutCarrierRules))
	m.HandleFunc("POST /switchboard/v1/clock/advance", s.admin(s.handleClockAdvance))
	m.HandleFunc("POST /switchboard/v1/retention/run", s.admin(s.handleRetentionRun))
	m.HandleFunc("GET /switchboard/v1/health", s.handleHealth)

	// Inbound traffic (inbound.go).
	m.HandleFunc("POST /switchboard/v1/inbound/sms", s.admin(s.handleInboundSMS))
	m.HandleFunc("POST /switchboard/v1/inbound/mms", s.admin(s.handleInboundMMS))
	m.HandleFunc("POST /switchboard/v1/inbound/fax", s.admin(s.handleInboundFax))
	m.HandleFunc("POST /switchboard/v1/inbound/voicemail", s.admin(s.handleInboundVoiceMail))

	// Anything else under /restapi is RingCentral's "invalid URI" (CMN-120),
	// in its error shape rather than net/http's plain text.
	m.HandleFunc("/restapi/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, switchboard.Errorf(http.StatusNotFound, "CMN-120", "Invalid URI: %s %s", r.Method, r.URL.Path))
	})
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	if err := s.store.Ping(r.Context()); err != nil {
		s.logger.WarnContext(r.Context(), "health check: database does not answer", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "database": "down"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
