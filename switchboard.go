// Package switchboard is the application domain of Switchboard, a unified
// messaging server whose HTTP API is wire-compatible with the RingCentral
// Platform REST API for messaging.
//
// This package holds only the domain: entities, enumerations, request types
// with their validation, the RingCentral error catalogue and the interfaces
// that adapters implement (stores) or consume. It imports nothing from the
// module; adapters live under internal/ and only cmd/switchboard wires them.
package switchboard

import (
	"context"
	"time"
)

// Clock is the single source of time. Every timestamp the server writes comes
// from an injected Clock, so retention and scheduling are testable without
// sleeping and an emulator can move time forward.
type Clock interface {
	Now() time.Time
}

// Principal is who a request acts as: the account and extension of an access
// token, the app it was issued to and the scopes granted.
type Principal struct {
	AccountID   int64
	ExtensionID int64
	AppID       int64
	SessionID   string
	Scopes      []string
	// Admin is true when the extension holds the account administrator role,
	// which lets it read and change the mailboxes of other extensions of the
	// same account (never of another account).
	Admin bool
}

// HasScope reports whether the principal was granted the named app permission.
func (p *Principal) HasScope(scope string) bool {
	for _, s := range p.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}

// CanAccessMailbox reports whether the principal may read or change the
// mailbox of extension extensionID in account accountID.
func (p *Principal) CanAccessMailbox(accountID, extensionID int64) bool {
	if p.AccountID != accountID {
		return false
	}
	return p.ExtensionID == extensionID || p.Admin
}

type principalKey struct{}

// NewContextWithPrincipal returns a copy of ctx that carries p.
func NewContextWithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFromContext returns the principal stored in ctx, or nil.
func PrincipalFromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// Scopes (RingCentral app permissions) that Switchboard checks.
const (
	ScopeReadMessages          = "ReadMessages"
	ScopeEditMessages          = "EditMessages"
	ScopeReadAccounts          = "ReadAccounts"
	ScopeSMS                   = "SMS"
	ScopeInternalMessages      = "InternalMessages"
	ScopeFaxes                 = "Faxes"
	ScopeSubscriptionWebhook   = "SubscriptionWebhook"
	ScopeWebSocketSubscription = "WebSocketSubscription"
	// ScopeA2PSMS (a2p.go) is not among the defaults: high-volume sending
	// is granted to an app explicitly, as RingCentral does.
)

// DefaultAppScopes is what a new app is granted unless told otherwise.
var DefaultAppScopes = []string{
	ScopeReadAccounts, ScopeReadMessages, ScopeEditMessages, ScopeSMS,
	ScopeInternalMessages, ScopeFaxes, ScopeSubscriptionWebhook, ScopeWebSocketSubscription,
}

// ClockStore keeps the emulator clock's offset from real time, one per
// installation.
type ClockStore interface {
	// ClockOffset returns the saved offset (0 when none was saved).
	ClockOffset(ctx context.Context) (time.Duration, error)
	// SaveClockOffset saves offset unless a larger one is saved: the clock
	// only moves forward.
	SaveClockOffset(ctx context.Context, offset time.Duration) error
}

// Store is everything the server keeps. Each backend (SQLite, PostgreSQL)
// implements all of it and must pass the shared behaviour suite in
// internal/storetest.
type Store interface {
	DirectoryStore
	TokenStore
	MessageStore
	RetentionStore
	SyncStore
	TranscriptionStore
	FaxRenderStore
	DeliveryStore
	DepartmentStore
	ChangeWatcher
	SubscriptionStore
	ClockStore
	ExportStore
	A2PStore
	// Ping reports whether the database answers and can be written (a
	// full disk is ErrStorageFull).
	Ping(ctx context.Context) error
	Close() error
}
