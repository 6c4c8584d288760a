package switchboard

import (
	"context"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Status of an account, extension, app or credential.
const (
	StatusEnabled  = "Enabled"
	StatusDisabled = "Disabled"
)

// Extension types Switchboard creates (a subset of RingCentral's
// AllExtensionTypesEnum). Only User extensions log in.
const (
	ExtensionTypeUser       = "User"
	ExtensionTypeDepartment = "Department"
	ExtensionTypeFaxUser    = "FaxUser"
)

// Phone number features (RingCentral's PhoneNumberFeatures enum).
const (
	FeatureCallerID  = "CallerId"
	FeatureSmsSender = "SmsSender"
	FeatureMmsSender = "MmsSender"
	FeatureA2PSms    = "A2PSmsSender"
	FeatureIntlSms   = "InternationalSmsSender"
)

// Account is a tenant. Nothing of one account is visible to another.
type Account struct {
	ID         int64
	Name       string
	MainNumber string // E.164, optional
	Status     string
	// Retention is the account's override of the server's lifecycle policy.
	Retention AccountRetention
	Created   time.Time
}

// AccountCreate is the input to create an account.
type AccountCreate struct {
	Name       string
	MainNumber string
}

// Validate checks an AccountCreate and normalizes its phone number.
func (c *AccountCreate) Validate() error {
	c.Name = strings.TrimSpace(c.Name)
	if c.Name == "" || len(c.Name) > 128 {
		return InvalidParam("name", c.Name, "Account name must be 1 to 128 characters")
	}
	if c.MainNumber != "" {
		n, err := NormalizeE164(c.MainNumber)
		if err != nil {
			return InvalidParam("mainNumber", c.MainNumber, "%v", err)
		}
		c.MainNumber = n
	}
	return nil
}

// Extension is a user, department or fax line of an account. Each extension
// owns exactly one mailbox.
type Extension struct {
	ID              int64
	AccountID       int64
	ExtensionNumber string
	Name            string
	Type            string
	Status          string
	Email           string // unique on the server; a login name
	// PasswordHash is a PHC string (argon2id); empty means no password login.
	PasswordHash string
	// Admin extensions may read and change every mailbox of their account.
	Admin   bool
	Created time.Time
}

// ExtensionCreate is the input to create an extension.
type ExtensionCreate struct {
	AccountID       int64
	ExtensionNumber string
	Name            string
	Type            string
	Email           string
	PasswordHash    string
	Admin           bool
}

// Validate checks an ExtensionCreate.
func (c *ExtensionCreate) Validate() error {
	c.Name = strings.TrimSpace(c.Name)
	if c.Name == "" || len(c.Name) > 128 {
		return InvalidParam("name", c.Name, "Extension name must be 1 to 128 characters")
	}
	if !isDigits(c.ExtensionNumber) || len(c.ExtensionNumber) > 8 {
		return InvalidParam("extensionNumber", c.ExtensionNumber, "Extension number must be 1 to 8 digits")
	}
	switch c.Type {
	case "":
		c.Type = ExtensionTypeUser
	case ExtensionTypeUser, ExtensionTypeDepartment, ExtensionTypeFaxUser:
	default:
		return InvalidParam("type", c.Type, "Extension type must be User, Department or FaxUser")
	}
	if c.Email != "" {
		a, err := mail.ParseAddress(c.Email)
		if err != nil || a.Address != c.Email {
			return InvalidParam("email", c.Email, "Email address is not valid")
		}
		c.Email = strings.ToLower(c.Email)
	}
	if c.Type != ExtensionTypeUser && (c.PasswordHash != "" || c.Admin) {
		return InvalidParam("type", c.Type, "Only User extensions can log in or administer an account")
	}
	return nil
}

// ExtensionFilter selects extensions of one account.
type ExtensionFilter struct {
	AccountID       int64
	ExtensionNumber string   // exact match, optional
	Types           []string // any of, optional
	Statuses        []string // any of, optional
	Offset, Limit   int      // Limit 0 means no limit
}

// PhoneNumber is an E.164 number owned by an account and usually assigned
// to one extension.
type PhoneNumber struct {
	ID          int64
	AccountID   int64
	ExtensionID int64 // 0 when unassigned (a company number)
	PhoneNumber string
	Type        string // VoiceFax, VoiceOnly, FaxOnly
	UsageType   string // DirectNumber, MainCompanyNumber, ...
	Features    []string
	Status      string // Normal
	Created     time.Time
}

// ReachesMailbox reports whether messages to the number land in a mailbox
// of this server (delivered internally, not through the carrier): it is
// assigned to an extension and not disabled.
func (n *PhoneNumber) ReachesMailbox() bool {
	return n.ExtensionID != 0 && n.Status != StatusDisabled
}

// HasFeature reports whether the number has the named feature.
func (n *PhoneNumber) HasFeature(f string) bool {
	for _, x := range n.Features {
		if x == f {
			return true
		}
	}
	return false
}

// PhoneNumberCreate is the input to add a phone number to an account.
type PhoneNumberCreate struct {
	AccountID   int64
	ExtensionID int64
	PhoneNumber string
	Type        string
	UsageType   string
	Features    []string
}

var knownFeatures = map[string]bool{
	FeatureCallerID: true, FeatureSmsSender: true, FeatureMmsSender: true,
	FeatureA2PSms: true, FeatureIntlSms: true, "Delegated": true,
}

// Validate checks a PhoneNumberCreate, normalizes the number and fills
// defaults.
func (c *PhoneNumberCreate) Validate() error {
	n, err := NormalizeE164(c.PhoneNumber)
	if err != nil {
		return InvalidParam("phoneNumber", c.PhoneNumber, "%v", err)
	}
	c.PhoneNumber = n
	switch c.Type {
	case "":
		c.Type = "VoiceFax"
	case "VoiceFax", "VoiceOnly", "FaxOnly":
	default:
		return InvalidParam("type", c.Type, "Phone number type must be VoiceFax, VoiceOnly or FaxOnly")
	}
	if c.UsageType == "" {
		if c.ExtensionID != 0 {
			c.UsageType = "DirectNumber"
		} else {
			c.UsageType = "CompanyNumber"
		}
	}
	for _, f := range c.Features {
		if !knownFeatures[f] {
			return InvalidParam("features", f, "Unknown phone number feature %q", f)
		}
	}
	return nil
}

// App is an OAuth client. Apps belong to the server, as RingCentral apps
// belong to their developer, and can be used by any account.
type App struct {
	ID       int64
	ClientID string
	// SecretHash is the SHA-256 of the client secret (hex); empty for a
	// public app that authenticates with its client id alone.
	SecretHash string
	Name       string
	Scopes     []string
	Status     string
	Created    time.Time
	// RedirectURIs are the exact redirect URIs the app registered for the
	// authorization-code grant.
	RedirectURIs []string
	// LoopbackRedirects also accepts any http loopback redirect URI on any
	// port (RFC 8252 §7.3): native and development apps pick their port at
	// run time. The demo app has it.
	LoopbackRedirects bool
}

// AllowsRedirect reports whether uri may receive this app's authorization
// codes: one of its registered URIs exactly, or, when the app accepts
// loopback redirects, an http URI on 127.0.0.1, [::1] or localhost.
func (a *App) AllowsRedirect(uri string) bool {
	if slices.Contains(a.RedirectURIs, uri) {
		return true
	}
	if !a.LoopbackRedirects {
		return false
	}
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "http" || u.User != nil || u.Fragment != "" {
		return false
	}
	switch u.Hostname() {
	case "127.0.0.1", "::1", "localhost":
		return true
	}
	return false
}

// ValidateRedirectURI checks a URI an app registers: absolute, http or
// https (or a private-use scheme of a native app), without a fragment
// (RFC 6749 §3.1.2).
func ValidateRedirectURI(uri string) error {
	u, err := url.Parse(uri)
	bad := err != nil || !u.IsAbs() || u.Fragment != "" || strings.ContainsAny(uri, " \t\r\n") ||
		(u.Scheme == "http" || u.Scheme == "https") && u.Host == ""
	if bad {
		return InvalidParam("redirectUris", uri, "Redirect URI %q must be an absolute URI without a fragment", uri)
	}
	return nil
}

// JWTCredential is a user's long-lived JWT credential for the jwt-bearer
// grant. The JWT itself is signed by the server and names the credential by
// its ID (the jti claim), so disabling the credential disables the JWT.
type JWTCredential struct {
	ID          string
	AccountID   int64
	ExtensionID int64
	Name        string
	Status      string
	Expires     time.Time // zero: never
	Created     time.Time
}

// AdminToken is a credential for Switchboard's own admin API.
type AdminToken struct {
	ID      int64
	Name    string
	Hash    string // SHA-256 of the token (hex)
	Status  string
	Created time.Time
}

// DirectoryStore keeps accounts, extensions, phone numbers, apps and
// credentials. Lookups of rows that do not exist return ErrNotFound; creates
// that collide with a unique value return ErrConflict.
type DirectoryStore interface {
	CreateAccount(ctx context.Context, c AccountCreate) (*Account, error)
	Account(ctx context.Context, id int64) (*Account, error)
	Accounts(ctx context.Context) ([]*Account, error)
	AccountByMainNumber(ctx context.Context, number string) (*Account, error)
	SetAccountStatus(ctx context.Context, id int64, status string) error

	CreateExtension(ctx context.Context, c ExtensionCreate) (*Extension, error)
	// Extension returns an extension by id. accountID scopes the lookup; an
	// extension of another account is ErrNotFound.
	Extension(ctx context.Context, accountID, id int64) (*Extension, error)
	ExtensionByNumber(ctx context.Context, accountID int64, number string) (*Extension, error)
	ExtensionByEmail(ctx context.Context, email string) (*Extension, error)
	Extensions(ctx context.Context, f ExtensionFilter) ([]*Extension, error)
	SetExtensionStatus(ctx context.Context, accountID, id int64, status string) error
	SetExtensionPassword(ctx context.Context, accountID, id int64, passwordHash string) error

	CreatePhoneNumber(ctx context.Context, c PhoneNumberCreate) (*PhoneNumber, error)
	PhoneNumberByNumber(ctx context.Context, number string) (*PhoneNumber, error)
	NumbersDirectory
	// PhoneNumbers lists the numbers of an account, of one extension when
	// extensionID is not 0.
	PhoneNumbers(ctx context.Context, accountID, extensionID int64) ([]*PhoneNumber, error)
	SetPhoneNumberStatus(ctx context.Context, accountID int64, number, status string) error
	// DirectoryEpoch changes with every change of extensions, phone
	// numbers and department members, a status of an account, app or
	// admin token, and a token ended, by any process or node: a cache of
	// their lookups is valid while it is unchanged.
	DirectoryEpoch(ctx context.Context) (int64, error)

	CreateApp(ctx context.Context, a *App) error
	AppByClientID(ctx context.Context, clientID string) (*App, error)
	Apps(ctx context.Context) ([]*App, error)
	SetAppStatus(ctx context.Context, clientID, status string) error
	// SetAppRedirects replaces the app's registered redirect URIs and its
	// loopback setting.
	SetAppRedirects(ctx context.Context, clientID string, uris []string, loopback bool) error

	CreateJWTCredential(ctx context.Context, c *JWTCredential) error
	JWTCredential(ctx context.Context, id string) (*JWTCredential, error)
	JWTCredentials(ctx context.Context, accountID int64) ([]*JWTCredential, error)
	SetJWTCredentialStatus(ctx context.Context, id, status string) error

	CreateAdminToken(ctx context.Context, t *AdminToken) error
	AdminTokenByHash(ctx context.Context, hash string) (*AdminToken, error)
	AdminTokens(ctx context.Context) ([]*AdminToken, error)
	SetAdminTokenStatus(ctx context.Context, id int64, status string) error

	// Secret returns the server secret named name, creating it with
	// generate() on first use. Concurrent first uses agree on one value.
	Secret(ctx context.Context, name string, generate func() ([]byte, error)) ([]byte, error)
	// DeleteSecret removes a server secret (moved out of the database).
	DeleteSecret(ctx context.Context, name string) error
}

// ErrDisabled reports a login with a disabled account, extension, app or
// credential.
var ErrDisabled = Errorf("OAU-213", "The account, extension or credential is disabled")

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
