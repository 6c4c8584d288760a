package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
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
