package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"

	"github.com/switchboardhq/switchboard"
)

// Browser sessions of the web UI. A session is an ordinary access token (or,
// for the admin console, the admin token) kept in an HTTP-only, SameSite
// cookie, so script on the page cannot read it; requests made with the
// cookie act exactly as the same token in an Authorization header would.
const (
	// SessionCookie holds a user's access token.
	SessionCookie = "switchboard_session"
	// AdminSessionCookie holds an admin token.
	AdminSessionCookie = "switchboard_admin"
	// CSRFHeader carries the session's CSRF token on requests made with
	// the cookie; media elements that cannot set headers send the csrf
	// query parameter instead.
	CSRFHeader = "X-Switchboard-CSRF"
	CSRFParam  = "csrf"
)

// CSRFToken is the anti-forgery token of a session: derived from the
// session's secret, so it needs no storage, and one-way, so a page that
// learns it learns nothing of the session. Another origin can neither read
// it nor, without it, use the cookie: a cookie is honoured only together
// with its CSRF token (CORS does not let other origins send the header).
func CSRFToken(session string) string {
	sum := sha256.Sum256([]byte("switchboard-csrf\x00" + session))
	return base64.RawURLEncoding.EncodeToString(sum[:18])
}

// CheckCSRF reports whether given is session's CSRF token.
func CheckCSRF(session, given string) bool {
	return given != "" && subtle.ConstantTimeCompare([]byte(CSRFToken(session)), []byte(given)) == 1
}

// SessionCredential returns the session that r's cookie (SessionCookie or
// AdminSessionCookie) holds when r also carries that session's CSRF token
// (CSRFHeader, or CSRFParam where headers cannot be set), else "".
func SessionCredential(r *http.Request, cookie string) string {
	c, err := r.Cookie(cookie)
	if err != nil || c.Value == "" {
		return ""
	}
	given := r.Header.Get(CSRFHeader)
	if given == "" {
		given = r.URL.Query().Get(CSRFParam)
	}
	if !CheckCSRF(c.Value, given) {
		return ""
	}
	return c.Value
}

// IssueFor issues tokens of the app clientID for an extension without its
// credentials, for a caller that already holds authority over every
// mailbox: the admin console, signed in with the admin token, opening one.
// The tokens are ordinary: the API applies the extension's own permissions
// and tenancy to them, and they end like any other session.
func (s *Service) IssueFor(ctx context.Context, clientID string, accountID, extensionID int64) (*TokenResponse, error) {
	app, err := s.store.AppByClientID(ctx, clientID)
	if err != nil {
		return nil, err
	}
	ext, err := s.store.Extension(ctx, accountID, extensionID)
	if errors.Is(err, switchboard.ErrNotFound) {
		return nil, switchboard.NotFound("extensionId", strconv.FormatInt(extensionID, 10))
	}
	if err != nil {
		return nil, err
	}
	if err := s.checkActive(ctx, ext); err != nil {
		var oe *OAuthError
		if errors.As(err, &oe) {
			return nil, switchboard.Errorf(switchboard.CodeInvalidParameter, "%s: its mailbox cannot be opened", oe.Description)
		}
		return nil, err
	}
	resp, tokens := s.issue(app, ext.AccountID, ext.ID, newSessionID(), endpointOrNew(""), 0, 0)
	if err := s.store.CreateTokens(ctx, tokens...); err != nil {
		return nil, err
	}
	return resp, nil
}
