package httpapi

import (
	"net/http"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/rcwire"
)

// appJSON is an app as the admin API shows it: never its secret's hash.
type appJSON struct {
	ClientID          string   `json:"clientId"`
	Name              string   `json:"name"`
	Public            bool     `json:"public"`
	Status            string   `json:"status"`
	Scopes            []string `json:"scopes"`
	RedirectURIs      []string `json:"redirectUris"`
	LoopbackRedirects bool     `json:"loopbackRedirects"`
	CreationTime      string   `json:"creationTime"`
}

func toAppJSON(a *switchboard.App) appJSON {
	return appJSON{ClientID: a.ClientID, Name: a.Name, Public: a.SecretHash == "", Status: a.Status,
		Scopes: nonNil(a.Scopes), RedirectURIs: nonNil(a.RedirectURIs), LoopbackRedirects: a.LoopbackRedirects,
		CreationTime: rcwire.Time(a.Created)}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (s *Server) handleListApps(w http.ResponseWriter, r *http.Request) {
	apps, err := s.store.Apps(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := struct {
		Records []appJSON `json:"records"`
	}{Records: make([]appJSON, 0, len(apps))}
	for _, a := range apps {
		out.Records = append(out.Records, toAppJSON(a))
	}
	writeJSON(w, http.StatusOK, out)
}

// maxRedirectURIs bounds what one app registers.
const maxRedirectURIs = 20

// handlePutRedirectURIs replaces an app's registered redirect URIs:
// {"redirectUris": [...], "loopbackRedirects": bool}.
func (s *Server) handlePutRedirectURIs(w http.ResponseWriter, r *http.Request) {
	var req struct {
		RedirectURIs      []string `json:"redirectUris"`
		LoopbackRedirects bool     `json:"loopbackRedirects"`
	}
	sent, err := s.decodeJSON(w, r, s.config.MaxBodyBytes, &req)
	if err == nil && !sent {
		err = switchboard.InvalidParam("redirectUris", "", "Body must be {\"redirectUris\": [...], \"loopbackRedirects\": false}")
	}
	if err == nil && len(req.RedirectURIs) > maxRedirectURIs {
		err = switchboard.InvalidParam("redirectUris", "", "At most %d redirect URIs per app", maxRedirectURIs)
	}
	clientID := r.PathValue("clientId")
	if err == nil {
		err = s.store.SetAppRedirects(r.Context(), clientID, req.RedirectURIs, req.LoopbackRedirects)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	a, err := s.store.AppByClientID(r.Context(), clientID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toAppJSON(a))
}
