package httpapi

import (
	"errors"
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
		m.Handle("GET /restapi/oauth/authorize", s.authLimited(s.ui))
		m.Handle("POST /restapi/oauth/authorize", s.authLimited(s.ui))
	}

	m.HandleFunc("GET /restapi/v1.0/account/{accountId}", s.authed(switchboard.ScopeReadAccounts, s.handleAccount))
	m.HandleFunc("GET /restapi/v1.0/account/{accountId}/extension", s.authed(switchboard.ScopeReadAccounts, s.handleExtensionList))
	m.HandleFunc("GET "+ext, s.authed(switchboard.ScopeReadAccounts, s.handleExtension))
	m.HandleFunc("GET "+ext+"/phone-number", s.authed(switchboard.ScopeReadAccounts, s.handlePhoneNumbers))
	m.HandleFunc("GET /restapi/v1.0/account/{accountId}/message-store-configuration", s.authed(switchboard.ScopeReadAccounts, s.handleGetMessageStoreConfig))
	m.HandleFunc("PUT /restapi/v1.0/account/{accountId}/message-store-configuration", s.authed(switchboard.ScopeReadAccounts, s.handlePutMessageStoreConfig))
	const report = "/restapi/v1.0/account/{accountId}/message-store-report"
	m.HandleFunc("POST "+report, s.authed(switchboard.ScopeReadMessages, s.handleCreateExport))
	m.HandleFunc("GET "+report+"/{taskId}", s.authed(switchboard.ScopeReadMessages, s.handleGetExport))
	m.HandleFunc("GET "+report+"/{taskId}/archive", s.authed(switchboard.ScopeReadMessages, s.handleExportArchive))
	m.HandleFunc("GET "+report+"/{taskId}/archive/{archiveId}", s.authed(switchboard.ScopeReadMessages, s.handleExportArchiveContent))

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

	// High-volume SMS (a2p.go).
	const a2p = "/restapi/v1.0/account/{accountId}/a2p-sms"
	m.HandleFunc("POST "+a2p+"/batches", s.authed(switchboard.ScopeA2PSMS, s.handleCreateA2PBatch))
	m.HandleFunc("GET "+a2p+"/batches", s.authed(switchboard.ScopeA2PSMS, s.handleListA2PBatches))
	m.HandleFunc("GET "+a2p+"/batches/{batchId}", s.authed(switchboard.ScopeA2PSMS, s.handleGetA2PBatch))
	m.HandleFunc("GET "+a2p+"/messages", s.authed(switchboard.ScopeA2PSMS, s.handleListA2PMessages))
	m.HandleFunc("GET "+a2p+"/messages/{messageId}", s.authed(switchboard.ScopeA2PSMS, s.handleGetA2PMessage))
	m.HandleFunc("GET "+a2p+"/statuses", s.authed(switchboard.ScopeA2PSMS, s.handleA2PStatuses))
	m.HandleFunc("GET "+a2p+"/opt-outs", s.authed(switchboard.ScopeA2PSMS, s.handleListOptOuts))
	m.HandleFunc("PATCH "+a2p+"/opt-outs/bulk-assign", s.authed(switchboard.ScopeA2PSMS, s.handleBulkAssignOptOuts))

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
	m.HandleFunc("GET /switchboard/v1/subscriptions/{id}/deliveries", s.admin(s.handleAdminSubscriptionDeliveries))
	m.HandleFunc("GET /switchboard/v1/apps", s.admin(s.handleListApps))
	m.HandleFunc("PUT /switchboard/v1/apps/{clientId}/redirect-uris", s.admin(s.handlePutRedirectURIs))
	m.HandleFunc("GET /switchboard/v1/carrier/rules", s.admin(s.handleGetCarrierRules))
	m.HandleFunc("PUT /switchboard/v1/carrier/rules", s.admin(s.handlePutCarrierRules))
	m.HandleFunc("POST /switchboard/v1/clock/advance", s.admin(s.handleClockAdvance))
	m.HandleFunc("POST /switchboard/v1/retention/run", s.admin(s.handleRetentionRun))
	m.HandleFunc("GET /switchboard/v1/rate-limits", s.admin(s.handleGetRateLimits))
	m.HandleFunc("PUT /switchboard/v1/rate-limits", s.admin(s.handlePutRateLimits))
	m.HandleFunc("GET /switchboard/v1/health", s.handleHealth)
	m.Handle("GET /metrics", s.metrics.Handler())

	// Inbound traffic (inbound.go).
	m.HandleFunc("POST /switchboard/v1/inbound/sms", s.admin(s.handleInboundSMS))
	m.HandleFunc("POST /switchboard/v1/inbound/mms", s.admin(s.handleInboundMMS))
	m.HandleFunc("POST /switchboard/v1/inbound/fax", s.admin(s.handleInboundFax))
	m.HandleFunc("POST /switchboard/v1/inbound/voicemail", s.admin(s.handleInboundVoiceMail))

	// Anything else under /restapi is RingCentral's "invalid URI" (CMN-120),
	// in its error shape rather than net/http's plain text.
	m.HandleFunc("/restapi/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, switchboard.Errorf("CMN-120", "Invalid URI: %s %s", r.Method, r.URL.Path))
	})
}

// handleHealth answers 503 when the database does not answer. A carrier
// that is not connected does not make the node unhealthy (sends wait in
// the outbox until it is back), but its state is reported.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	body := map[string]any{"status": "ok"}
	if s.carrierSt != nil {
		body["carrier"] = s.carrierSt()
	}
	if err := s.store.Ping(r.Context()); err != nil {
		s.logger.WarnContext(r.Context(), "health check: database does not answer or cannot be written", "err", err)
		w.Header().Set("Retry-After", retryAfter(err))
		body["status"], body["database"] = "unavailable", "down"
		if errors.Is(err, switchboard.ErrStorageFull) {
			body["database"] = "full"
		}
		writeJSON(w, http.StatusServiceUnavailable, body)
		return
	}
	writeJSON(w, http.StatusOK, body)
}
