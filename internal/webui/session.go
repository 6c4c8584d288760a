package webui

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/auth"
	"github.com/switchboardhq/switchboard/internal/rcwire"
)

// refreshCookie holds the session's refresh token; only /ui/session sees it.
const refreshCookie = "switchboard_refresh"

// maxSignInBytes bounds a sign-in body.
const maxSignInBytes = 16 << 10

// sessionInfo is what GET /ui/session tells the page: who is signed in and
// the CSRF token to send with API calls. Never a token.
type sessionInfo struct {
	Kind        string `json:"kind"` // "user", "admin" or "" (signed out)
	AccountID   string `json:"accountId,omitempty"`
	ExtensionID string `json:"extensionId,omitempty"`
	Admin       bool   `json:"admin,omitempty"` // account administrator
	CSRF        string `json:"csrf,omitempty"`
	// Console is set when the admin console opened this user session: the
	// admin session goes on beside it, with its own CSRF token.
	Console   bool   `json:"console,omitempty"`
	AdminCSRF string `json:"adminCsrf,omitempty"`
	Emulator  bool   `json:"emulator"`
}

type signInRequest struct {
	Username   string `json:"username"`
	Password   string `json:"password"`
	AdminToken string `json:"adminToken"`
}

// uiError is the page's error body: RingCentral's shape, so the page reads
// API and UI errors alike.
func (u *UI) writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]any{"errorCode": code, "message": message,
		"errors": []map[string]string{{"errorCode": code, "message": message}}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// sameOrigin refuses state-changing requests from other origins: the API's
// CORS lets any origin call with credentials, which must not extend to
// signing a browser in or out (login CSRF).
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return r.Header.Get("Sec-Fetch-Site") == "" || r.Header.Get("Sec-Fetch-Site") == "same-origin"
	}
	o, err := url.Parse(origin)
	return err == nil && o.Host == r.Host
}

func (u *UI) setCookie(w http.ResponseWriter, name, value, path string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: path, MaxAge: maxAge,
		HttpOnly: true, Secure: u.config.SecureCookies, SameSite: http.SameSiteStrictMode})
}

func (u *UI) clearCookies(w http.ResponseWriter) {
	u.clearUserCookies(w)
	u.setCookie(w, auth.AdminSessionCookie, "", "/", -1)
}

// handleSession reports the current session. An expired user session is
// renewed here with its refresh token, so a tab left open keeps working.
func (u *UI) handleSession(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		// It tells the CSRF token: for this server's page only.
		u.writeError(w, http.StatusForbidden, "CMN-408", "The session is shown to this server's own page only")
		return
	}
	ctx := r.Context()
	info := sessionInfo{Emulator: u.config.Emulator}
	adminToken, err := u.adminSession(r)
	if err != nil {
		u.unavailable(w, r, err)
		return
	}
	admin := func() {
		info.Kind, info.CSRF = "admin", auth.CSRFToken(adminToken)
		writeJSON(w, http.StatusOK, info)
	}
	if adminToken != "" {
		info.AdminCSRF = auth.CSRFToken(adminToken)
	}
	token := ""
	if c, err := r.Cookie(auth.SessionCookie); err == nil {
		token = c.Value
	}
	p, err := u.auth.Authenticate(ctx, token)
	if err != nil && switchboard.AsError(err) == nil {
		u.unavailable(w, r, err)
		return
	}
	if err != nil {
		c, cerr := r.Cookie(refreshCookie)
		if cerr != nil || c.Value == "" {
			if adminToken != "" {
				admin()
				return
			}
			writeJSON(w, http.StatusOK, info)
			return
		}
		resp, rerr := u.auth.Token(ctx, auth.TokenRequest{ClientID: u.config.ClientID, GrantType: auth.GrantRefreshToken, RefreshToken: c.Value})
		if rerr != nil {
			u.clearUserCookies(w)
			if adminToken != "" {
				admin()
				return
			}
			writeJSON(w, http.StatusOK, info)
			return
		}
		u.setUserCookies(w, resp)
		token = resp.AccessToken
		if p, err = u.auth.Authenticate(ctx, token); err != nil {
			u.unavailable(w, r, err)
			return
		}
	}
	info.Kind, info.CSRF, info.Admin, info.Console = "user", auth.CSRFToken(token), p.Admin, adminToken != ""
	info.AccountID, info.ExtensionID = strconv.FormatInt(p.AccountID, 10), strconv.FormatInt(p.ExtensionID, 10)
	writeJSON(w, http.StatusOK, info)
}

// adminSession returns the admin console's token when its cookie holds a
// valid one, "" otherwise; an error only when the store cannot say.
func (u *UI) adminSession(r *http.Request) (string, error) {
	c, err := r.Cookie(auth.AdminSessionCookie)
	if err != nil || c.Value == "" {
		return "", nil
	}
	err = u.auth.AuthenticateAdmin(r.Context(), c.Value)
	if err != nil && switchboard.AsError(err) == nil {
		return "", err
	}
	if err != nil {
		return "", nil
	}
	return c.Value, nil
}

func (u *UI) setUserCookies(w http.ResponseWriter, resp *auth.TokenResponse) {
	u.setCookie(w, auth.SessionCookie, resp.AccessToken, "/", resp.ExpiresIn)
	u.setCookie(w, refreshCookie, resp.RefreshToken, "/ui/session", resp.RefreshTokenExpiresIn)
}

func (u *UI) clearUserCookies(w http.ResponseWriter) {
	u.setCookie(w, auth.SessionCookie, "", "/", -1)
	u.setCookie(w, refreshCookie, "", "/ui/session", -1)
}

// startSession begins a user's own session, ending any console session.
func (u *UI) startSession(w http.ResponseWriter, resp *auth.TokenResponse) {
	u.setCookie(w, auth.AdminSessionCookie, "", "/", -1)
	u.setUserCookies(w, resp)
}

// handleOpenMailbox lets the admin console open any extension's mailbox: it
// issues an ordinary session of the UI's app for that extension (with the
// admin session's CSRF token, so no other page can ask), which the console
// then uses like a signed-in user's.
func (u *UI) handleOpenMailbox(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		u.writeError(w, http.StatusForbidden, "CMN-408", "Mailboxes are opened from this server's own page only")
		return
	}
	adminToken, err := u.adminSession(r)
	if err != nil {
		u.unavailable(w, r, err)
		return
	}
	if adminToken == "" || !auth.CheckCSRF(adminToken, r.Header.Get(auth.CSRFHeader)) {
		u.writeError(w, http.StatusUnauthorized, switchboard.CodeLoginRequired, "Sign in to the admin console with the admin token first")
		return
	}
	var req struct {
		AccountID   string `json:"accountId"`
		ExtensionID string `json:"extensionId"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxSignInBytes)).Decode(&req); err != nil {
		u.writeError(w, http.StatusBadRequest, switchboard.CodeInvalidParameter, "Send {\"accountId\": \"…\", \"extensionId\": \"…\"}")
		return
	}
	acc, err1 := strconv.ParseInt(req.AccountID, 10, 64)
	ext, err2 := strconv.ParseInt(req.ExtensionID, 10, 64)
	if err1 != nil || err2 != nil {
		u.writeError(w, http.StatusBadRequest, switchboard.CodeInvalidParameter, "accountId and extensionId must be ids")
		return
	}
	resp, err := u.auth.IssueFor(r.Context(), u.config.ClientID, acc, ext)
	if err != nil {
		u.unavailable(w, r, err)
		return
	}
	_ = u.revokeSession(r) // the mailbox opened before; best effort
	u.setUserCookies(w, resp)
	w.WriteHeader(http.StatusNoContent)
}

// handleCloseMailbox ends a mailbox session the console opened and keeps
// the console.
func (u *UI) handleCloseMailbox(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		u.writeError(w, http.StatusForbidden, "CMN-408", "Accepted from this server's own page only")
		return
	}
	if err := u.revokeSession(r); err != nil {
		u.unavailable(w, r, err)
		return
	}
	u.clearUserCookies(w)
	w.WriteHeader(http.StatusNoContent)
}

// handleSignIn signs a browser in: a user with the password grant's
// credentials (through the UI's app, so the session is an ordinary token),
// or the admin console with an admin token.
func (u *UI) handleSignIn(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		u.writeError(w, http.StatusForbidden, "CMN-408", "Sign-in is accepted from this server's own page only")
		return
	}
	var req signInRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxSignInBytes))
	if err := dec.Decode(&req); err != nil {
		u.writeError(w, http.StatusBadRequest, switchboard.CodeInvalidParameter, "Send the user name and password (or an admin token) as JSON")
		return
	}
	ctx := r.Context()
	if token := strings.TrimSpace(req.AdminToken); token != "" {
		if err := u.auth.AuthenticateAdmin(ctx, token); err != nil {
			if switchboard.AsError(err) == nil {
				u.unavailable(w, r, err)
				return
			}
			u.writeError(w, http.StatusUnauthorized, switchboard.CodeAccessTokenInvalid, "That admin token is not valid")
			return
		}
		_ = u.revokeSession(r) // a user signed in before on this browser; best effort
		u.clearCookies(w)
		u.setCookie(w, auth.AdminSessionCookie, token, "/", 0)
		writeJSON(w, http.StatusOK, sessionInfo{Kind: "admin", CSRF: auth.CSRFToken(token), Emulator: u.config.Emulator})
		return
	}
	resp, err := u.auth.Token(ctx, auth.TokenRequest{ClientID: u.config.ClientID, GrantType: auth.GrantPassword,
		Username: strings.TrimSpace(req.Username), Password: req.Password})
	var oe *auth.OAuthError
	if errors.As(err, &oe) {
		msg := oe.Description
		if oe.Err == "invalid_grant" && oe.Code == "OAU-140" {
			msg = "Wrong user name or password"
		}
		u.writeError(w, oe.Status, oe.Code, msg)
		return
	}
	if err != nil {
		u.unavailable(w, r, err)
		return
	}
	u.startSession(w, resp)
	p, err := u.auth.Authenticate(ctx, resp.AccessToken)
	if err != nil {
		u.unavailable(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sessionInfo{Kind: "user", CSRF: auth.CSRFToken(resp.AccessToken), Admin: p.Admin,
		AccountID: strconv.FormatInt(p.AccountID, 10), ExtensionID: strconv.FormatInt(p.ExtensionID, 10), Emulator: u.config.Emulator})
}

// handleSignOut ends the session: the user's tokens are revoked, not just
// forgotten by the browser. The admin token outlives the console session.
func (u *UI) handleSignOut(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		u.writeError(w, http.StatusForbidden, "CMN-408", "Sign-out is accepted from this server's own page only")
		return
	}
	if err := u.revokeSession(r); err != nil {
		u.unavailable(w, r, err)
		return
	}
	u.clearCookies(w)
	w.WriteHeader(http.StatusNoContent)
}

// revokeSession revokes the user session this browser holds, if any.
func (u *UI) revokeSession(r *http.Request) error {
	c, err := r.Cookie(auth.SessionCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	return u.auth.Revoke(r.Context(), c.Value)
}

// unavailable answers an error that is not the client's: a database outage
// is 503 with Retry-After, anything else is logged and 500.
func (u *UI) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, switchboard.ErrUnavailable) {
		w.Header().Set("Retry-After", "1")
		u.writeError(w, http.StatusServiceUnavailable, switchboard.CodeUnavailable, "Service temporarily unavailable; try again in a moment")
		return
	}
	if e := switchboard.AsError(err); e != nil {
		u.writeError(w, rcwire.ErrorStatus(e), e.Code, e.Message)
		return
	}
	u.logger.ErrorContext(r.Context(), "web UI", "err", err, "path", r.URL.Path)
	u.writeError(w, http.StatusInternalServerError, switchboard.CodeInternal, "Internal error; the server log has the details")
}
