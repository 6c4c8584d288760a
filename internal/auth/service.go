package auth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/keys"
)

// Grant types Switchboard accepts at the token endpoint.
const (
	GrantJWTBearer    = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	GrantPassword     = "password"
	GrantRefreshToken = "refresh_token"
)

// Token lifetimes: RingCentral's defaults and bounds.
const (
	DefaultAccessTTL  = time.Hour
	DefaultRefreshTTL = 7 * 24 * time.Hour
	MaxAccessTTL      = time.Hour
	MaxRefreshTTL     = 30 * 24 * time.Hour
	// MinTTL keeps expires_in above the JS SDK's 60-second renewal margin,
	// below which it would refresh before every call.
	MinTTL = 2 * time.Minute
)

// Config tunes the service.
type Config struct {
	AccessTTL  time.Duration // default for access tokens; DefaultAccessTTL if 0
	RefreshTTL time.Duration // default for refresh tokens; DefaultRefreshTTL if 0
	// Login bounds failed logins; zero MaxFailures: unbounded.
	Login LoginLimits
	// Keys sign JWT credentials (the first) and verify them (all), from a
	// key file outside the database. Nil: a key kept in the database
	// (tests and benchmarks; the server always gives its key ring).
	Keys *keys.Ring
}

// Service issues and checks tokens.
type Service struct {
	store  Store
	clock  switchboard.Clock
	config Config
	guard  *loginGuard // nil: failed logins are not limited
}

// Store is what authentication needs of the store: tokens, and the
// directory entries a grant checks.
type Store interface {
	switchboard.TokenStore
	Account(ctx context.Context, id int64) (*switchboard.Account, error)
	AccountByMainNumber(ctx context.Context, number string) (*switchboard.Account, error)
	AdminTokenByHash(ctx context.Context, hash string) (*switchboard.AdminToken, error)
	AppByClientID(ctx context.Context, clientID string) (*switchboard.App, error)
	CreateJWTCredential(ctx context.Context, c *switchboard.JWTCredential) error
	Extension(ctx context.Context, accountID, id int64) (*switchboard.Extension, error)
	ExtensionByEmail(ctx context.Context, email string) (*switchboard.Extension, error)
	ExtensionByNumber(ctx context.Context, accountID int64, number string) (*switchboard.Extension, error)
	JWTCredential(ctx context.Context, id string) (*switchboard.JWTCredential, error)
	PhoneNumberByNumber(ctx context.Context, number string) (*switchboard.PhoneNumber, error)
	Secret(ctx context.Context, name string, generate func() ([]byte, error)) ([]byte, error)
}

// NewService returns a Service over store.
func NewService(store Store, clock switchboard.Clock, config Config) *Service {
	if config.AccessTTL <= 0 {
		config.AccessTTL = DefaultAccessTTL
	}
	if config.RefreshTTL <= 0 {
		config.RefreshTTL = DefaultRefreshTTL
	}
	s := &Service{store: store, clock: clock, config: config}
	if config.Login.MaxFailures > 0 {
		s.guard = newLoginGuard(config.Login, clock)
	}
	return s
}

// OAuthError is a token-endpoint error in RFC 6749 form with RingCentral's
// errorCode.
type OAuthError struct {
	Status      int
	Err         string // invalid_request, invalid_client, invalid_grant, ...
	Description string
	Code        string // OAU-xxx
	RetryAfter  int    // seconds, for a 429
}

func (e *OAuthError) Error() string { return e.Err + ": " + e.Description }

func oauthErr(status int, err, code, format string, args ...any) *OAuthError {
	return &OAuthError{Status: status, Err: err, Code: code, Description: fmt.Sprintf(format, args...)}
}

// TokenRequest is a decoded token-endpoint request.
type TokenRequest struct {
	ClientID, ClientSecret string
	ClientSecretGiven      bool // false for public clients that send only client_id
	GrantType              string
	Assertion              string // jwt-bearer
	Username, Password     string
	Extension              string // extension number for the password grant
	RefreshToken           string
	Code, RedirectURI      string // authorization_code
	CodeVerifier           string // authorization_code with PKCE
	AccessTokenTTL         int    // seconds; <= 0 means default
	RefreshTokenTTL        int
	EndpointID             string
}

// TokenResponse is RingCentral's TokenInfo.
type TokenResponse struct {
	AccessToken           string `json:"access_token"`
	TokenType             string `json:"token_type"`
	ExpiresIn             int    `json:"expires_in"`
	RefreshToken          string `json:"refresh_token"`
	RefreshTokenExpiresIn int    `json:"refresh_token_expires_in"`
	Scope                 string `json:"scope"`
	OwnerID               string `json:"owner_id"`
	EndpointID            string `json:"endpoint_id"`
	SessionID             string `json:"session_id"`
}

// Token runs a grant.
func (s *Service) Token(ctx context.Context, req TokenRequest) (*TokenResponse, error) {
	app, secretShown, err := s.authenticateClient(ctx, req)
	if err != nil {
		return nil, err
	}
	var ext *switchboard.Extension
	switch req.GrantType {
	case GrantAuthorizationCode:
		ext, err = s.redeemCode(ctx, app, secretShown, req)
	case GrantJWTBearer:
		ext, err = s.guarded(req.ClientID, "", func() (*switchboard.Extension, error) {
			return s.extensionForJWT(ctx, req.Assertion)
		})
	case GrantPassword:
		ext, err = s.guarded(req.ClientID, req.Username, func() (*switchboard.Extension, error) {
			return s.extensionForPassword(ctx, req.Username, req.Extension, req.Password)
		})
	case GrantRefreshToken:
		return s.refresh(ctx, app, req)
	case "":
		return nil, oauthErr(http.StatusBadRequest, "invalid_request", "OAU-101", "Parameter grant_type is missing")
	default:
		return nil, oauthErr(http.StatusBadRequest, "unsupported_grant_type", "OAU-250", "Unsupported grant type %q", req.GrantType)
	}
	if err != nil {
		return nil, err
	}
	if err := s.checkActive(ctx, ext); err != nil {
		return nil, err
	}
	resp, tokens := s.issue(app, ext.AccountID, ext.ID, newSessionID(), endpointOrNew(req.EndpointID), req.AccessTokenTTL, req.RefreshTokenTTL)
	if err := s.store.CreateTokens(ctx, tokens...); err != nil {
		return nil, err
	}
	return resp, nil
}

// authenticateClient finds the app and checks its secret. An app with a
// secret may leave it out only to redeem a code with a PKCE verifier, as
// RingCentral allows browser and mobile apps to; redeemCode then insists
// that the code had a challenge. secretShown reports whether the secret was
// checked.
func (s *Service) authenticateClient(ctx context.Context, req TokenRequest) (app *switchboard.App, secretShown bool, err error) {
	if req.ClientID == "" {
		return nil, false, oauthErr(http.StatusUnauthorized, "invalid_client", "OAU-123", "Client authentication is required")
	}
	app, err = s.store.AppByClientID(ctx, req.ClientID)
	if errors.Is(err, switchboard.ErrNotFound) {
		return nil, false, oauthErr(http.StatusUnauthorized, "invalid_client", "OAU-153", "Invalid client: %s", req.ClientID)
	}
	if err != nil {
		return nil, false, err
	}
	pkceOnly := req.GrantType == GrantAuthorizationCode && req.CodeVerifier != "" && !req.ClientSecretGiven
	if app.SecretHash != "" && !pkceOnly {
		if !req.ClientSecretGiven || HashSecret(req.ClientSecret) != app.SecretHash {
			return nil, false, oauthErr(http.StatusUnauthorized, "invalid_client", "OAU-123", "Client authentication failed: wrong client secret")
		}
		secretShown = true
	}
	if app.Status != switchboard.StatusEnabled {
		return nil, false, oauthErr(http.StatusUnauthorized, "unauthorized_client", "OAU-251", "Application is disabled")
	}
	return app, secretShown, nil
}

func (s *Service) checkActive(ctx context.Context, ext *switchboard.Extension) error {
	if ext.Status != switchboard.StatusEnabled {
		return oauthErr(http.StatusBadRequest, "invalid_grant", "OAU-213", "Extension is disabled")
	}
	acc, err := s.store.Account(ctx, ext.AccountID)
	if err != nil {
		return err
	}
	if acc.Status != switchboard.StatusEnabled {
		return oauthErr(http.StatusBadRequest, "invalid_grant", "OAU-213", "Account is disabled")
	}
	return nil
}

func invalidGrant(format string, args ...any) *OAuthError {
	return oauthErr(http.StatusBadRequest, "invalid_grant", "OAU-140", format, args...)
}

// guarded runs a login (password or JWT) under the failed-login limits of
// the client and, for a password, the user name.
func (s *Service) guarded(clientID, username string, login func() (*switchboard.Extension, error)) (*switchboard.Extension, error) {
	user, client := userKey(username), clientKey(clientID)
	if err := s.guard.check(user, client); err != nil {
		return nil, err
	}
	ext, err := login()
	var oe *OAuthError
	switch {
	case errors.As(err, &oe) && oe.Err == "invalid_grant":
		s.guard.fail(user, client)
	case err == nil && user != "":
		s.guard.succeed(user)
	}
	return ext, err
}

func (s *Service) extensionForPassword(ctx context.Context, username, extNumber, password string) (*switchboard.Extension, error) {
	if username == "" || password == "" {
		return nil, oauthErr(http.StatusBadRequest, "invalid_request", "OAU-101", "Parameters username and password are required")
	}
	// The JS SDK glues the extension to the username with '*'.
	if i := strings.IndexByte(username, '*'); i >= 0 && extNumber == "" {
		username, extNumber = username[:i], username[i+1:]
	}
	ext, err := s.extensionByLogin(ctx, username, extNumber)
	if errors.Is(err, switchboard.ErrNotFound) {
		// Hash anyway so a wrong user name costs the same as a wrong password.
		verifyPassword(dummyHash, password)
		return nil, invalidGrant("Invalid resource owner credentials")
	}
	if err != nil {
		return nil, err
	}
	hash := ext.PasswordHash
	if hash == "" {
		// An extension without a password (JWT only) is hashed against
		// the dummy too: answering at once would tell which have none.
		verifyPassword(dummyHash, password)
		return nil, invalidGrant("Invalid resource owner credentials")
	}
	if !verifyPassword(hash, password) {
		return nil, invalidGrant("Invalid resource owner credentials")
	}
	return ext, nil
}

var dummyHash, _ = HashPassword("not-a-password-of-anyone")

// verifyPassword is VerifyPassword; tests count its calls.
var verifyPassword = VerifyPassword

// extensionByLogin resolves a user name: an email, a direct number of an
// extension, or an account's main number with the extension number.
func (s *Service) extensionByLogin(ctx context.Context, username, extNumber string) (*switchboard.Extension, error) {
	if strings.Contains(username, "@") {
		ext, err := s.store.ExtensionByEmail(ctx, strings.ToLower(username))
		if err == nil && extNumber != "" && ext.ExtensionNumber != extNumber {
			return nil, switchboard.ErrNotFound
		}
		return ext, err
	}
	number, err := switchboard.NormalizeE164(username)
	if err != nil {
		// RingCentral accepts numbers without '+' for US users.
		if number, err = switchboard.NormalizeE164("+" + username); err != nil {
			return nil, switchboard.ErrNotFound
		}
	}
	if pn, err := s.store.PhoneNumberByNumber(ctx, number); err == nil && pn.ExtensionID != 0 {
		ext, err := s.store.Extension(ctx, pn.AccountID, pn.ExtensionID)
		if err == nil && extNumber != "" && ext.ExtensionNumber != extNumber {
			return nil, switchboard.ErrNotFound
		}
		return ext, err
	} else if err != nil && !errors.Is(err, switchboard.ErrNotFound) {
		return nil, err
	}
	acc, err := s.store.AccountByMainNumber(ctx, number)
	if err != nil {
		return nil, err
	}
	if extNumber == "" {
		return nil, switchboard.ErrNotFound
	}
	return s.store.ExtensionByNumber(ctx, acc.ID, extNumber)
}

func (s *Service) refresh(ctx context.Context, app *switchboard.App, req TokenRequest) (*TokenResponse, error) {
	if req.RefreshToken == "" {
		return nil, oauthErr(http.StatusBadRequest, "invalid_request", "OAU-101", "Parameter refresh_token is missing")
	}
	now := s.clock.Now()
	hash := HashSecret(req.RefreshToken)
	old, err := s.store.Token(ctx, hash, now)
	if errors.Is(err, switchboard.ErrNotFound) {
		if err := s.revokeReused(ctx, hash, now); err != nil {
			return nil, err
		}
	}
	if errors.Is(err, switchboard.ErrNotFound) || (err == nil && old.Kind != switchboard.TokenRefresh) {
		return nil, invalidGrant("Token not found")
	}
	if err != nil {
		return nil, err
	}
	if old.AppID != app.ID {
		return nil, invalidGrant("Token was issued to another client")
	}
	ext, err := s.store.Extension(ctx, old.AccountID, old.ExtensionID)
	if err != nil {
		return nil, err
	}
	if err := s.checkActive(ctx, ext); err != nil {
		return nil, err
	}
	resp, tokens := s.issue(app, old.AccountID, old.ExtensionID, old.SessionID, old.EndpointID, req.AccessTokenTTL, req.RefreshTokenTTL)
	err = s.store.RotateRefreshToken(ctx, old.Hash, now, tokens...)
	if errors.Is(err, switchboard.ErrNotFound) {
		// Another request used this refresh token first.
		return nil, invalidGrant("Token not found")
	}
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// revokeReused ends the session of a refresh token that was already
// rotated: either the client or a thief holds a stolen copy, and which one
// presents it is unknowable, so the whole family goes (RFC 6819 5.2.2.3,
// OAuth 2.1 4.3.1). The caller still answers invalid_grant.
func (s *Service) revokeReused(ctx context.Context, hash string, now time.Time) error {
	session, err := s.store.RotatedSession(ctx, hash, now)
	if errors.Is(err, switchboard.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.store.RevokeSession(ctx, session)
}

func (s *Service) issue(app *switchboard.App, accountID, extensionID int64, sessionID, endpointID string, accessTTL, refreshTTL int) (*TokenResponse, []*switchboard.Token) {
	now := s.clock.Now()
	aTTL := ttl(accessTTL, s.config.AccessTTL, MaxAccessTTL)
	rTTL := ttl(refreshTTL, s.config.RefreshTTL, MaxRefreshTTL)
	access, accessHash := NewOpaqueToken()
	refresh, refreshHash := NewOpaqueToken()
	base := switchboard.Token{SessionID: sessionID, AccountID: accountID, ExtensionID: extensionID,
		AppID: app.ID, Scopes: app.Scopes, EndpointID: endpointID, Created: now}
	at, rt := base, base
	at.Hash, at.Kind, at.Expires = accessHash, switchboard.TokenAccess, now.Add(aTTL)
	rt.Hash, rt.Kind, rt.Expires = refreshHash, switchboard.TokenRefresh, now.Add(rTTL)
	return &TokenResponse{
		AccessToken: access, TokenType: "bearer", ExpiresIn: int(aTTL / time.Second),
		RefreshToken: refresh, RefreshTokenExpiresIn: int(rTTL / time.Second),
		Scope: strings.Join(app.Scopes, " "), OwnerID: strconv.FormatInt(extensionID, 10),
		EndpointID: endpointID, SessionID: sessionID,
	}, []*switchboard.Token{&at, &rt}
}

// ttl picks a lifetime: the requested seconds when positive, else the
// default, clamped to [MinTTL, max]. Requests outside the bounds are clamped,
// not refused: the JS SDK echoes the previous expires_in on refresh, and a
// server must not reject its own values.
func ttl(requested int, def, max time.Duration) time.Duration {
	d := def
	if requested > 0 {
		d = time.Duration(requested) * time.Second
	}
	if d > max && def <= max {
		d = max
	}
	if d < MinTTL {
		d = MinTTL
	}
	return d
}

// Authenticate resolves a bearer token into the principal it acts as. A
// missing, unknown, expired or revoked token, a refresh token, or a token of
// a disabled extension or account is 401: disabling ends sessions at once.
func (s *Service) Authenticate(ctx context.Context, token string) (*switchboard.Principal, error) {
	if token == "" {
		return nil, switchboard.Errorf(switchboard.CodeLoginRequired, "Authorization header is not specified")
	}
	p, err := s.store.AccessPrincipal(ctx, HashSecret(token), switchboard.TokenAccess, s.clock.Now())
	if errors.Is(err, switchboard.ErrNotFound) {
		return nil, switchboard.Errorf(switchboard.CodeAccessTokenInvalid, "Invalid token")
	}
	return p, err
}

// Revoke ends the session of an access or refresh token. Unknown tokens
// are not an error: revocation is idempotent (RFC 7009).
func (s *Service) Revoke(ctx context.Context, token string) error {
	if token == "" {
		// RFC 7009 requires the parameter; answering 200 would hide a client
		// that sends none (or a body that is not a form).
		return oauthErr(http.StatusBadRequest, "invalid_request", "OAU-101",
			"Parameter token is missing: post it as an application/x-www-form-urlencoded body")
	}
	t, err := s.store.Token(ctx, HashSecret(token), s.clock.Now())
	if errors.Is(err, switchboard.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return s.store.RevokeSession(ctx, t.SessionID)
}

// ClientRevoke is a revocation request of a client (RFC 7009).
type ClientRevoke struct {
	ClientID, ClientSecret string
	ClientSecretGiven      bool
	Token                  string
}

// RevokeAsClient authenticates the client as the token endpoint does (a
// confidential client with its secret, a public one by its id), then
// revokes the session of a token issued to that client. A token of another
// client is refused (RFC 7009 2.1); an unknown one is not an error.
func (s *Service) RevokeAsClient(ctx context.Context, req ClientRevoke) error {
	app, _, err := s.authenticateClient(ctx, TokenRequest{ClientID: req.ClientID, ClientSecret: req.ClientSecret,
		ClientSecretGiven: req.ClientSecretGiven, GrantType: "revoke"})
	if err != nil {
		return err
	}
	if req.Token == "" {
		return oauthErr(http.StatusBadRequest, "invalid_request", "OAU-101",
			"Parameter token is missing: post it as an application/x-www-form-urlencoded body")
	}
	t, err := s.store.Token(ctx, HashSecret(req.Token), s.clock.Now())
	if errors.Is(err, switchboard.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if t.AppID != app.ID {
		return oauthErr(http.StatusUnauthorized, "unauthorized_client", "OAU-153", "The token was issued to another client")
	}
	return s.store.RevokeSession(ctx, t.SessionID)
}

// AuthenticateAdmin checks a credential for Switchboard's admin API.
func (s *Service) AuthenticateAdmin(ctx context.Context, token string) error {
	if token == "" {
		return switchboard.Errorf(switchboard.CodeLoginRequired, "Authorization header with an admin token is required")
	}
	t, err := s.store.AdminTokenByHash(ctx, HashSecret(token))
	if errors.Is(err, switchboard.ErrNotFound) || (err == nil && t.Status != switchboard.StatusEnabled) {
		return switchboard.Errorf(switchboard.CodeAccessTokenInvalid, "Invalid admin token")
	}
	return err
}

// jwtSigningSecret is the name of the server secret that signs JWT
// credentials.
const jwtSigningSecret = "jwt-signing-key"

const jwtIssuer = "switchboard"

// signingKey is the key that signs new JWT credentials and its id (the
// JWT's kid header; none for a key kept in the database).
func (s *Service) signingKey(ctx context.Context) (id string, key []byte, err error) {
	if s.config.Keys != nil {
		k := s.config.Keys.Signing()
		return k.ID, k.Secret, nil
	}
	key, err = s.store.Secret(ctx, jwtSigningSecret, func() ([]byte, error) {
		b := make([]byte, 32)
		_, err := rand.Read(b)
		return b, err
	})
	return "", key, err
}

// verificationKey finds the key a JWT credential names (kid); one that
// names none was signed before keys had ids (the key moved out of the
// database), and any key of the ring may verify it.
func (s *Service) verificationKey(ctx context.Context) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		if s.config.Keys == nil {
			_, key, err := s.signingKey(ctx)
			return key, err
		}
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			set := jwt.VerificationKeySet{}
			for _, k := range s.config.Keys.All() {
				set.Keys = append(set.Keys, k)
			}
			return set, nil
		}
		if key, ok := s.config.Keys.Lookup(kid); ok {
			return key, nil
		}
		return nil, fmt.Errorf("signed with key %q, which this server no longer has (rotated out of its key file)", kid)
	}
}

// IssueJWTCredential creates a JWT credential for an extension and returns
// it with the JWT text, which is shown once and not stored.
func (s *Service) IssueJWTCredential(ctx context.Context, accountID, extensionID int64, name string, validFor time.Duration) (*switchboard.JWTCredential, string, error) {
	ext, err := s.store.Extension(ctx, accountID, extensionID)
	if err != nil {
		return nil, "", fmt.Errorf("extension %d of account %d: %w", extensionID, accountID, err)
	}
	if ext.Type != switchboard.ExtensionTypeUser {
		return nil, "", fmt.Errorf("extension %s is a %s; only User extensions log in", ext.ExtensionNumber, ext.Type)
	}
	kid, key, err := s.signingKey(ctx)
	if err != nil {
		return nil, "", err
	}
	now := s.clock.Now()
	cred := &switchboard.JWTCredential{ID: newSessionID(), AccountID: accountID, ExtensionID: extensionID,
		Name: name, Status: switchboard.StatusEnabled, Created: now}
	claims := jwt.RegisteredClaims{Issuer: jwtIssuer, Subject: strconv.FormatInt(extensionID, 10),
		ID: cred.ID, IssuedAt: jwt.NewNumericDate(now)}
	if validFor > 0 {
		cred.Expires = now.Add(validFor)
		claims.ExpiresAt = jwt.NewNumericDate(cred.Expires)
	}
	token := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	if kid != "" {
		token.Header["kid"] = kid
	}
	text, err := token.SignedString(key)
	if err != nil {
		return nil, "", err
	}
	if err := s.store.CreateJWTCredential(ctx, cred); err != nil {
		return nil, "", err
	}
	return cred, text, nil
}

func (s *Service) extensionForJWT(ctx context.Context, assertion string) (*switchboard.Extension, error) {
	if assertion == "" {
		return nil, oauthErr(http.StatusBadRequest, "invalid_request", "OAU-101", "Parameter assertion is missing")
	}
	if len(assertion) > 8192 {
		return nil, invalidGrant("Invalid JWT: too long")
	}
	claims, err := parseJWT(s.verificationKey(ctx), assertion, s.clock.Now)
	if err != nil {
		return nil, invalidGrant("Invalid JWT: %v", err)
	}
	cred, err := s.store.JWTCredential(ctx, claims.ID)
	if errors.Is(err, switchboard.ErrNotFound) {
		return nil, invalidGrant("JWT credential is unknown or was deleted")
	}
	if err != nil {
		return nil, err
	}
	if cred.Status != switchboard.StatusEnabled {
		return nil, invalidGrant("JWT credential is disabled")
	}
	if strconv.FormatInt(cred.ExtensionID, 10) != claims.Subject {
		return nil, invalidGrant("Invalid JWT: subject does not match the credential")
	}
	return s.store.Extension(ctx, cred.AccountID, cred.ExtensionID)
}

// parseJWT checks a JWT credential's signature (HS256 with key only), issuer
// and times, and returns its claims.
func parseJWT(key jwt.Keyfunc, assertion string, now func() time.Time) (*jwt.RegisteredClaims, error) {
	var claims jwt.RegisteredClaims
	_, err := jwt.ParseWithClaims(assertion, &claims, key,
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuer(jwtIssuer), jwt.WithTimeFunc(now))
	if err != nil {
		return nil, err
	}
	return &claims, nil
}

func newSessionID() string { return rand.Text() }

func endpointOrNew(id string) string {
	if id != "" && len(id) <= 64 {
		return id
	}
	return rand.Text()
}
