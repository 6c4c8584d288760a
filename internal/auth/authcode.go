package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"time"

	"github.com/switchboardhq/switchboard"
)

// GrantAuthorizationCode is the OAuth 2.0 authorization-code grant (RFC 6749
// §4.1), with PKCE (RFC 7636) when the app sent a code challenge.
const GrantAuthorizationCode = "authorization_code"

// AuthCodeTTL is how long an authorization code can be redeemed: RingCentral
// gives a minute, and a browser redirect followed by the app's token call
// takes a second.
const AuthCodeTTL = time.Minute

// AuthorizeRequest is the query of GET /restapi/oauth/authorize.
type AuthorizeRequest struct {
	ResponseType        string
	ClientID            string
	RedirectURI         string
	State               string
	CodeChallenge       string
	CodeChallengeMethod string
}

// AuthorizeError is an authorization-endpoint error (RFC 6749 §4.1.2.1).
// Redirect says whether it may be sent to the redirect URI: never when the
// client or the redirect URI itself is wrong, since that would make the
// server an open redirector.
type AuthorizeError struct {
	Err         string // invalid_request, unauthorized_client, access_denied, ...
	Description string
	Redirect    bool
}

func (e *AuthorizeError) Error() string { return e.Err + ": " + e.Description }

// CheckAuthorize validates an authorization request before the sign-in form
// is shown, and returns the app and the redirect URI codes will go to. An
// error the app may be told of comes with that redirect URI.
func (s *Service) CheckAuthorize(ctx context.Context, req AuthorizeRequest) (*switchboard.App, string, error) {
	if req.ClientID == "" {
		return nil, "", &AuthorizeError{Err: "invalid_request", Description: "Parameter client_id is missing"}
	}
	app, err := s.store.AppByClientID(ctx, req.ClientID)
	if errors.Is(err, switchboard.ErrNotFound) {
		return nil, "", &AuthorizeError{Err: "invalid_client", Description: "Unknown client_id: the app is not registered on this server"}
	}
	if err != nil {
		return nil, "", err
	}
	redirect := req.RedirectURI
	if redirect == "" && len(app.RedirectURIs) == 1 {
		redirect = app.RedirectURIs[0] // RFC 6749 §3.1.2.3: optional when only one is registered
	}
	if redirect == "" {
		return nil, "", &AuthorizeError{Err: "invalid_request", Description: "Parameter redirect_uri is missing"}
	}
	if !app.AllowsRedirect(redirect) {
		return nil, "", &AuthorizeError{Err: "invalid_request",
			Description: "redirect_uri " + redirect + " is not registered for this app; register it with `switchboard app redirect-uris` or the admin API"}
	}
	redirectErr := func(code, desc string) error { return &AuthorizeError{Err: code, Description: desc, Redirect: true} }
	method := challengeMethod(req)
	switch {
	case app.Status != switchboard.StatusEnabled:
		return nil, redirect, redirectErr("unauthorized_client", "Application is disabled")
	case req.ResponseType != "code":
		return nil, redirect, redirectErr("unsupported_response_type", "Only response_type=code is supported")
	case req.CodeChallenge == "" && req.CodeChallengeMethod != "":
		return nil, redirect, redirectErr("invalid_request", "Parameter code_challenge is missing")
	case req.CodeChallenge != "" && method != PKCES256 && method != PKCEPlain:
		return nil, redirect, redirectErr("invalid_request", "code_challenge_method must be S256 or plain")
	case req.CodeChallenge != "" && !validVerifierShape(req.CodeChallenge):
		return nil, redirect, redirectErr("invalid_request", "code_challenge must be 43 to 128 characters of [A-Za-z0-9-._~]")
	}
	return app, redirect, nil
}

// Authorize signs the user in with the password grant's credentials and
// issues a code for the checked request. A wrong user name or password is
// invalid_grant, which the form shows (the app never learns of it).
func (s *Service) Authorize(ctx context.Context, req AuthorizeRequest, username, password string) (code, redirect string, err error) {
	app, redirect, err := s.CheckAuthorize(ctx, req)
	if err != nil {
		return "", redirect, err
	}
	ext, err := s.guarded(req.ClientID, username, func() (*switchboard.Extension, error) {
		return s.extensionForPassword(ctx, username, "", password)
	})
	if err != nil {
		return "", "", err
	}
	if err := s.checkActive(ctx, ext); err != nil {
		return "", "", err
	}
	text, hash := NewOpaqueToken()
	now := s.clock.Now()
	c := &switchboard.AuthCode{Hash: hash, AppID: app.ID, AccountID: ext.AccountID, ExtensionID: ext.ID,
		RedirectURI: redirect, Created: now, Expires: now.Add(AuthCodeTTL)}
	if req.CodeChallenge != "" {
		c.CodeChallenge, c.CodeChallengeMethod = req.CodeChallenge, challengeMethod(req)
	}
	err = s.store.CreateAuthCode(ctx, c)
	if err != nil {
		return "", "", err
	}
	return text, redirect, nil
}

// redeemCode runs the authorization-code grant for an authenticated app
// (secretShown false: a public or PKCE client that sent no secret).
func (s *Service) redeemCode(ctx context.Context, app *switchboard.App, secretShown bool, req TokenRequest) (*switchboard.Extension, error) {
	if req.Code == "" {
		return nil, oauthErr(http.StatusBadRequest, "invalid_request", "OAU-101", "Parameter code is missing")
	}
	// The code is consumed before any check: a code that was presented
	// once, rightly or not, is spent (RFC 6749 §4.1.2).
	c, err := s.store.ConsumeAuthCode(ctx, HashSecret(req.Code), s.clock.Now())
	if errors.Is(err, switchboard.ErrNotFound) {
		return nil, invalidGrant("Authorization code is invalid, expired or already used")
	}
	if err != nil {
		return nil, err
	}
	switch {
	case c.AppID != app.ID:
		return nil, invalidGrant("Authorization code was issued to another client")
	case req.RedirectURI != c.RedirectURI:
		return nil, invalidGrant("redirect_uri does not match the one of the authorization request")
	case c.CodeChallenge == "" && req.CodeVerifier != "":
		return nil, invalidGrant("code_verifier given, but the authorization request had no code_challenge")
	case c.CodeChallenge == "" && !secretShown && app.SecretHash != "":
		return nil, oauthErr(http.StatusUnauthorized, "invalid_client", "OAU-123", "Client authentication failed: a client secret or PKCE is required")
	case c.CodeChallenge != "" && req.CodeVerifier == "":
		return nil, oauthErr(http.StatusBadRequest, "invalid_request", "OAU-101", "Parameter code_verifier is missing")
	case c.CodeChallenge != "" && !VerifyPKCE(c.CodeChallengeMethod, c.CodeChallenge, req.CodeVerifier):
		return nil, invalidGrant("code_verifier does not match the code_challenge")
	}
	return s.store.Extension(ctx, c.AccountID, c.ExtensionID)
}

// PKCE challenge methods (RFC 7636 §4.2). RingCentral takes plain from
// clients that cannot hash; S256 is what the SDKs send.
const (
	PKCES256  = "S256"
	PKCEPlain = "plain"
)

// challengeMethod is the request's method; RFC 7636 §4.3: plain when a
// challenge comes without one.
func challengeMethod(req AuthorizeRequest) string {
	if req.CodeChallengeMethod == "" {
		return PKCEPlain
	}
	return req.CodeChallengeMethod
}

// VerifyPKCE checks a code verifier against its challenge (RFC 7636 §4.6).
func VerifyPKCE(method, challenge, verifier string) bool {
	if !validVerifierShape(verifier) {
		return false
	}
	want := verifier
	switch method {
	case PKCES256:
		sum := sha256.Sum256([]byte(verifier))
		want = base64.RawURLEncoding.EncodeToString(sum[:])
	case PKCEPlain:
	default:
		return false
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(challenge)) == 1
}

// validVerifierShape: 43 to 128 unreserved characters (RFC 7636 §4.1); a
// challenge has the same alphabet (an S256 one 43 characters).
func validVerifierShape(s string) bool {
	if len(s) < 43 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
		if !ok {
			return false
		}
	}
	return true
}
