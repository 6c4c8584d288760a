package switchboard

import (
	"context"
	"time"
)

// Token kinds.
const (
	TokenAccess  = "access"
	TokenRefresh = "refresh"
)

// Token is an issued OAuth access or refresh token. Only the SHA-256 of the
// token text is stored, so a stolen database does not yield usable tokens.
type Token struct {
	Hash        string // hex SHA-256 of the token text
	Kind        string
	SessionID   string // all tokens of one login share it; revoke ends them all
	AccountID   int64
	ExtensionID int64
	AppID       int64
	Scopes      []string
	EndpointID  string
	Created     time.Time
	Expires     time.Time
}

// TokenStore keeps issued tokens. They live in the database so that they
// survive a restart and are shared by every node.
type TokenStore interface {
	// CreateTokens stores the tokens of one issue (an access token and its
	// refresh token) atomically.
	CreateTokens(ctx context.Context, tokens ...*Token) error
	// Token returns an unexpired, unrevoked token by hash, as of now.
	Token(ctx context.Context, hash string, now time.Time) (*Token, error)
	// AccessPrincipal resolves a live token of kind (TokenAccess for the
	// API, TokenWebSocket for the socket gateway) whose extension and
	// account are both enabled into the principal it acts as, in one read:
	// every API request pays for it. Anything else is ErrNotFound.
	AccessPrincipal(ctx context.Context, hash, kind string, now time.Time) (*Principal, error)
	// RotateRefreshToken consumes the refresh token oldHash and stores the
	// new tokens in one transaction. If oldHash was already used, revoked or
	// has expired it returns ErrNotFound and stores nothing: a refresh token
	// works once. The consumed token is remembered until it would have
	// expired (RotatedSession).
	RotateRefreshToken(ctx context.Context, oldHash string, now time.Time, tokens ...*Token) error
	// RotatedSession returns the session of a refresh token that was
	// rotated and has not yet expired at now: one presented again is a
	// stolen copy. Anything else is ErrNotFound.
	RotatedSession(ctx context.Context, hash string, now time.Time) (string, error)
	// RevokeSession removes every token of the session.
	RevokeSession(ctx context.Context, sessionID string) error
	// DeleteExpiredTokens removes tokens (and authorization codes) that expired before now and reports
	// how many.
	DeleteExpiredTokens(ctx context.Context, now time.Time) (int, error)

	// CreateAuthCode stores an authorization code waiting to be redeemed.
	CreateAuthCode(ctx context.Context, c *AuthCode) error
	// ConsumeAuthCode removes the unexpired code hash and returns it: a
	// code is redeemed once, whatever the outcome of the checks that
	// follow. An unknown, used or expired code is ErrNotFound.
	ConsumeAuthCode(ctx context.Context, hash string, now time.Time) (*AuthCode, error)
}

// AuthCode is an authorization code of the OAuth authorization-code grant,
// bound to the app, the redirect URI and the PKCE challenge it was issued
// for. Only its SHA-256 is stored.
type AuthCode struct {
	Hash          string // hex SHA-256 of the code text
	AppID         int64
	AccountID     int64
	ExtensionID   int64
	RedirectURI   string
	CodeChallenge string // the PKCE code_challenge; "" when none was given
	// CodeChallengeMethod is S256 or plain (RFC 7636 §4.3; RingCentral
	// accepts plain from clients that cannot hash).
	CodeChallengeMethod string
	Created             time.Time
	Expires             time.Time
}
