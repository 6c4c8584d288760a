package switchboard

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// TokenWebSocket is the kind of a ws_access_token (POST /restapi/oauth/wstoken).
const TokenWebSocket = "ws"

// TransportType is how a subscription's notifications travel.
type TransportType string

// Transports RingCentral's public API offers.
const (
	TransportWebHook   TransportType = "WebHook"
	TransportWebSocket TransportType = "WebSocket"
)

// SubscriptionStatus is spelled as RingCentral's SubscriptionInfo.status:
// a WebHook whose receiver stays unreachable past the suspension period is
// Blacklisted for good (RingCentral's "suspended permanently").
type SubscriptionStatus string

// Subscription statuses.
const (
	SubscriptionActive      SubscriptionStatus = "Active"
	SubscriptionBlacklisted SubscriptionStatus = "Blacklisted"
)

// Subscription limits and lifetimes, as RingCentral documents them.
const (
	// MaxSubscriptions is per extension and app (RingCentral: 30 per
	// user per application, SUB-505 past it).
	MaxSubscriptions = 30
	// MaxEventFilters bounds one subscription's filters.
	MaxEventFilters = 100
	// DefaultSubscriptionTTL is the lifetime when expiresIn is not given
	// (RingCentral answers 604799 s for a fresh default subscription).
	DefaultSubscriptionTTL = 7 * 24 * time.Hour
	// MaxWebHookTTL is the longest WebHook lifetime (10 years).
	MaxWebHookTTL = 315360000 * time.Second
	// WebSocketSubscriptionTTL is the lifetime of a WebSocket subscription:
	// its expiresIn is ignored and it is renewed while its socket is open,
	// so it outlives a dropped connection long enough to be recovered.
	WebSocketSubscriptionTTL = 15 * time.Minute
	// MaxWebHookAddress bounds a WebHook URL.
	MaxWebHookAddress = 2048
	// MaxVerificationToken bounds deliveryMode.verificationToken.
	MaxVerificationToken = 512
)

// Subscription error codes (RingCentral's SUB-* catalogue).
const (
	CodeSubscriptionDenied   = "SUB-405" // a filter for a mailbox the caller may not read
	CodeSubscriptionLimit    = "SUB-505" // too many subscriptions
	CodeInvalidEventFilter   = "SUB-508" // a filter that does not parse
	CodeWebHookInvalid       = "SUB-525" // the WebHook validation handshake failed
	CodeWebHookAddressDenied = "SUB-522" // the WebHook address is refused by the server's policy
)

// Subscription is a standing request for notifications about changes of
// one or more mailboxes, delivered by WebHook or over a WebSocket.
type Subscription struct {
	ID          string // UUID, as RingCentral shows it
	AccountID   int64  // owner: the extension that created it, with its app
	ExtensionID int64
	AppID       int64
	// SessionID is the WebSocket session (its wsc token) that owns a
	// WebSocket subscription; empty for WebHooks.
	SessionID string
	// EventFilters are the filters with ~ resolved to ids, in the order given.
	EventFilters      []string
	Transport         TransportType
	Address           string // WebHook URL
	VerificationToken string // sent as Verification-Token on every WebHook delivery
	Status            SubscriptionStatus
	Created           time.Time
	Expires           time.Time
	// Lifetime is the expiresIn it was created or last updated with: a
	// renewal without one extends it by this much.
	Lifetime time.Duration
	// Cursor is the change-log position up to which every event has been
	// delivered. It only moves after a delivery succeeded, so a crash
	// delivers again from here: at least once, in order.
	Cursor int64
	// Delivery state of a WebHook: failed attempts in a row, when the next
	// one is due, since when it has been failing.
	Attempts     int
	NextAttempt  time.Time
	FailingSince time.Time
	LastError    string
	Blacklisted  time.Time
}

// ExpiresIn is the remaining lifetime in whole seconds as of now (0 when
// expired).
func (s *Subscription) ExpiresIn(now time.Time) int64 {
	d := s.Expires.Sub(now)
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}

// Expired reports whether the subscription has run out as of now.
func (s *Subscription) Expired(now time.Time) bool { return !now.Before(s.Expires) }

// Filters parses the stored event filters (resolved at creation; the
// owner stands for the subscriber of the filters that watch its own
// mailbox); one that no longer parses is skipped.
func (s *Subscription) Filters() []EventFilter {
	var out []EventFilter
	owner := &Principal{AccountID: s.AccountID, ExtensionID: s.ExtensionID}
	for _, f := range s.EventFilters {
		if ef, err := ParseEventFilter(f, owner); err == nil {
			out = append(out, ef)
		}
	}
	return out
}

// Mailboxes returns the distinct mailboxes the filters watch.
func (s *Subscription) Mailboxes() []Mailbox {
	var out []Mailbox
	seen := map[Mailbox]bool{}
	for _, ef := range s.Filters() {
		m := Mailbox{AccountID: ef.AccountID, ExtensionID: ef.ExtensionID}
		if !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	return out
}

// Mailbox names one extension's message store.
type Mailbox struct {
	AccountID   int64
	ExtensionID int64
}

// EventKind is what an event filter subscribes to.
type EventKind int

// Event kinds Switchboard produces.
const (
	// EventMessageStore: any message created or changed (MessageEvent,
	// with counts per type), optionally narrowed by type and direction.
	EventMessageStore EventKind = iota + 1
	// EventInstantSMS: a new inbound SMS, the message itself.
	EventInstantSMS
	// EventInboundFax: a new inbound fax, the message itself.
	EventInboundFax
	// EventVoicemail: a new voicemail, the message itself.
	EventVoicemail
	// EventA2PBatches: a high-volume batch of the mailbox was created or
	// completed, the batch itself (RingCentral's account-level
	// /a2p-sms/batches filter, for the batches of the subscriber's own
	// numbers).
	EventA2PBatches
)

// EventFilter is one parsed event filter.
type EventFilter struct {
	Kind        EventKind
	AccountID   int64
	ExtensionID int64
	Type        MessageType // message-store narrowing; "" any
	Direction   Direction   // "" any
	// Path is the filter with ids resolved: the event name notifications carry.
	Path string
}

// Matches reports whether a change produces an event of this filter.
func (f EventFilter) Matches(c *Change) bool {
	if c.AccountID != f.AccountID || c.ExtensionID != f.ExtensionID {
		return false
	}
	if (c.Kind == ChangeA2PBatch) != (f.Kind == EventA2PBatches) {
		return false
	}
	switch f.Kind {
	case EventA2PBatches:
		return true
	case EventMessageStore:
		return (f.Type == "" || c.Type == f.Type) && (f.Direction == "" || c.Direction == f.Direction)
	case EventInstantSMS:
		return c.Kind == ChangeCreated && c.Type == TypeSMS && c.Direction == Inbound
	case EventInboundFax:
		return c.Kind == ChangeCreated && c.Type == TypeFax && c.Direction == Inbound
	case EventVoicemail:
		return c.Kind == ChangeCreated && c.Type == TypeVoiceMail && c.Direction == Inbound
	}
	return false
}

// maxFilterLength bounds one filter string.
const maxFilterLength = 512

// ParseEventFilter parses one of the message event filters RingCentral
// documents, resolving ~ to p's account and extension (p may be nil for
// filters stored already resolved):
//
//	/restapi/v1.0/account/{a}/extension/{e}/message-store[?type=T&direction=D]
//	/restapi/v1.0/account/{a}/extension/{e}/message-store/instant?type=SMS
//	/restapi/v1.0/account/{a}/extension/{e}/fax?direction=Inbound
//	/restapi/v1.0/account/{a}/extension/{e}/voicemail
//
// The /restapi/v1.0 prefix may be left out, as RingCentral allows.
func ParseEventFilter(s string, p *Principal) (EventFilter, error) {
	bad := func(format string, args ...any) (EventFilter, error) {
		e := Errorf(CodeInvalidEventFilter, "Event filter %q is not supported: "+format, append([]any{Truncate(s, 100)}, args...)...)
		e.Params = []ParamError{{Code: CodeInvalidEventFilter, Message: e.Message, Name: "eventFilters", Value: Truncate(s, 100)}}
		return EventFilter{}, e
	}
	if len(s) > maxFilterLength {
		return bad("longer than %d characters", maxFilterLength)
	}
	path, rawQuery, _ := strings.Cut(strings.TrimSpace(s), "?")
	query, err := url.ParseQuery(rawQuery)
	if err != nil {
		return bad("malformed query")
	}
	path = strings.TrimSuffix(path, "/")
	path = strings.TrimPrefix(path, "/restapi/v1.0")
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if len(parts) == 4 && parts[0] == "account" && parts[2] == "a2p-sms" && parts[3] == "batches" {
		return parseA2PFilter(parts[1], query, p, bad)
	}
	if len(parts) < 5 || parts[0] != "account" || parts[2] != "extension" {
		return bad("only /account/{accountId}/extension/{extensionId}/message-store, .../message-store/instant?type=SMS, .../fax?direction=Inbound and .../voicemail are")
	}
	var f EventFilter
	if f.AccountID, err = resolveID(parts[1], p, true); err != nil {
		return bad("account id %q", parts[1])
	}
	if f.ExtensionID, err = resolveID(parts[3], p, false); err != nil {
		return bad("extension id %q", parts[3])
	}
	rest := strings.Join(parts[4:], "/")
	allowed := map[string]bool{}
	switch rest {
	case "message-store":
		f.Kind = EventMessageStore
		allowed["type"], allowed["direction"] = true, true
		if t := query.Get("type"); t != "" {
			mt := MessageType(t)
			if t == "Voicemail" {
				mt = TypeVoiceMail
			}
			if !oneOf(mt, []MessageType{TypeSMS, TypeFax, TypePager, TypeVoiceMail}) {
				return bad("type %q", t)
			}
			f.Type = mt
		}
		if d := query.Get("direction"); d != "" {
			if !oneOf(Direction(d), []Direction{Inbound, Outbound}) {
				return bad("direction %q", d)
			}
			f.Direction = Direction(d)
		}
	case "message-store/instant":
		if query.Get("type") != "SMS" {
			return bad("instant message events need type=SMS")
		}
		f.Kind, f.Type, f.Direction = EventInstantSMS, TypeSMS, Inbound
		allowed["type"] = true
	case "fax":
		if query.Get("direction") != string(Inbound) {
			return bad("fax events need direction=Inbound")
		}
		f.Kind, f.Type, f.Direction = EventInboundFax, TypeFax, Inbound
		allowed["direction"] = true
	case "voicemail":
		f.Kind, f.Type, f.Direction = EventVoicemail, TypeVoiceMail, Inbound
	default:
		return bad("unknown event %q", rest)
	}
	for k, vs := range query {
		if !allowed[k] || len(vs) != 1 {
			return bad("parameter %q", k)
		}
	}
	f.Path = "/restapi/v1.0/account/" + strconv.FormatInt(f.AccountID, 10) + "/extension/" + strconv.FormatInt(f.ExtensionID, 10) + "/" + rest
	switch f.Kind {
	case EventMessageStore:
		var q []string
		if f.Type != "" {
			q = append(q, "type="+string(f.Type))
		}
		if f.Direction != "" {
			q = append(q, "direction="+string(f.Direction))
		}
		if len(q) > 0 {
			f.Path += "?" + strings.Join(q, "&")
		}
	case EventInstantSMS:
		f.Path += "?type=SMS"
	case EventInboundFax:
		f.Path += "?direction=Inbound"
	}
	return f, nil
}

// parseA2PFilter parses /restapi/v1.0/account/{a}/a2p-sms/batches: the
// batches sent from the numbers of p's own extension (p is the subscriber,
// also when a stored filter is parsed again).
func parseA2PFilter(account string, query url.Values, p *Principal, bad func(string, ...any) (EventFilter, error)) (EventFilter, error) {
	if len(query) > 0 {
		return bad("parameters are not supported on a2p-sms/batches")
	}
	if p == nil {
		return bad("a2p-sms/batches needs the subscriber")
	}
	f := EventFilter{Kind: EventA2PBatches, ExtensionID: p.ExtensionID}
	var err error
	if f.AccountID, err = resolveID(account, p, true); err != nil {
		return bad("account id %q", account)
	}
	f.Path = "/restapi/v1.0/account/" + strconv.FormatInt(f.AccountID, 10) + "/a2p-sms/batches"
	return f, nil
}

func resolveID(s string, p *Principal, account bool) (int64, error) {
	if s == "~" {
		if p == nil {
			return 0, ErrNotFound
		}
		if account {
			return p.AccountID, nil
		}
		return p.ExtensionID, nil
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, ErrNotFound
	}
	return id, nil
}

// Truncate shortens s to at most n bytes without cutting a UTF-8
// character in two (PostgreSQL refuses invalid UTF-8 in a text column).
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// ResolveEventFilters parses filters for p and applies tenancy: a filter
// for a mailbox p may not read is refused (SUB-405), as is one of another
// account, which reveals nothing about it. Duplicates are dropped.
func ResolveEventFilters(filters []string, p *Principal) ([]EventFilter, error) {
	if len(filters) == 0 {
		return nil, InvalidParam("eventFilters", "", "Parameter [eventFilters] is required")
	}
	if len(filters) > MaxEventFilters {
		return nil, InvalidParam("eventFilters", strconv.Itoa(len(filters)), "At most %d event filters are allowed", MaxEventFilters)
	}
	var out []EventFilter
	seen := map[string]bool{}
	for _, s := range filters {
		f, err := ParseEventFilter(s, p)
		if err != nil {
			return nil, err
		}
		if !p.CanAccessMailbox(f.AccountID, f.ExtensionID) {
			e := Errorf(CodeSubscriptionDenied, "Permission denied for event filter %q: the caller may not read that mailbox", Truncate(s, 100))
			e.Params = []ParamError{{Code: CodeSubscriptionDenied, Message: e.Message, Name: "eventFilters", Value: Truncate(s, 100)}}
			return nil, e
		}
		if !seen[f.Path] {
			seen[f.Path] = true
			out = append(out, f)
		}
	}
	return out, nil
}

// WebHookAttempt is one POST of a notification to a WebHook subscription's
// address and what the receiver answered. The most recent few are kept per
// subscription so an operator can see why a receiver is failing, not only
// that it is.
type WebHookAttempt struct {
	Time     time.Time
	EventID  string // the notification's uuid
	Event    string // its event filter
	Status   int    // the receiver's HTTP status; 0 when it gave none (refused, timed out)
	Error    string // why the POST counts as failed; empty on success
	Duration time.Duration
}

// OK reports whether the receiver accepted the notification.
func (a WebHookAttempt) OK() bool { return a.Error == "" }

// SubscriptionStore keeps subscriptions and their delivery cursors.
// Lookups by the owner are scoped to the extension and app that created the
// subscription: another's id is ErrNotFound.
type SubscriptionStore interface {
	// CreateSubscription stores s (ID, owner, filters, transport, times set
	// by the caller) with its cursor at the head of the change log, so it
	// is told about changes from now on. Past MaxSubscriptions live
	// subscriptions of the owner it returns an *Error (SUB-505).
	CreateSubscription(ctx context.Context, s *Subscription) error
	// Subscription returns one of the owner's subscriptions.
	Subscription(ctx context.Context, accountID, extensionID, appID int64, id string) (*Subscription, error)
	// SubscriptionByID returns a subscription whoever owns it (dispatch).
	SubscriptionByID(ctx context.Context, id string) (*Subscription, error)
	// ListSubscriptions returns the owner's subscriptions, oldest first.
	ListSubscriptions(ctx context.Context, accountID, extensionID, appID int64) ([]*Subscription, error)
	// AllSubscriptions returns up to limit subscriptions of every owner,
	// newest first, with their delivery state (the admin console).
	AllSubscriptions(ctx context.Context, limit int) ([]*Subscription, error)
	// UpdateSubscription replaces the filters (when non-nil), the expiry and
	// the lifetime of one of the owner's subscriptions and returns it.
	UpdateSubscription(ctx context.Context, accountID, extensionID, appID int64, id string, filters []string, expires time.Time, lifetime time.Duration) (*Subscription, error)
	// DeleteSubscription removes one of the owner's subscriptions.
	DeleteSubscription(ctx context.Context, accountID, extensionID, appID int64, id string) error
	// SessionSubscriptions returns the live WebSocket subscriptions of a
	// WebSocket session of the extension (session recovery).
	SessionSubscriptions(ctx context.Context, accountID, extensionID int64, sessionID string) ([]*Subscription, error)
	// MoveSubscriptionSession hands one of the owner's WebSocket
	// subscriptions to another session (a client reusing a cached
	// subscription on a new connection).
	MoveSubscriptionSession(ctx context.Context, accountID, extensionID, appID int64, id, sessionID string) error
	// RenewSession moves the expiry of a WebSocket session's subscriptions
	// to expires (the socket is alive).
	RenewSession(ctx context.Context, sessionID string, expires time.Time) error
	// ClaimSubscriptions leases up to limit Active, unexpired WebHook
	// subscriptions that are due and have changes after their cursor to
	// owner until now+lease. A lease that has run out can be taken over.
	ClaimSubscriptions(ctx context.Context, owner string, lease time.Duration, limit int) ([]*Subscription, error)
	// SubscriptionChanges returns up to limit change-log entries of the
	// subscription's mailboxes after its seq, oldest first.
	SubscriptionChanges(ctx context.Context, id string, afterSeq int64, limit int) ([]*Change, error)
	// AdvanceSubscription records that every event up to cursor was
	// delivered: the cursor moves forward (never back) and the failure
	// state resets. owner, when not empty, must hold the lease.
	AdvanceSubscription(ctx context.Context, id, owner string, cursor int64) error
	// FailSubscription records a failed delivery: attempts+1, the next
	// attempt at next, failing since now unless already failing; blacklist
	// makes it Blacklisted for good. owner must hold the lease.
	FailSubscription(ctx context.Context, id, owner string, next time.Time, reason string, blacklist bool) error
	// ReleaseSubscription gives up owner's lease.
	ReleaseSubscription(ctx context.Context, id, owner string) error
	// RecordWebHookAttempts adds a delivery round's POSTs to the
	// subscription's history and keeps only its most recent keep.
	RecordWebHookAttempts(ctx context.Context, id string, attempts []WebHookAttempt, keep int) error
	// WebHookAttempts returns up to limit of the subscription's most recent
	// POSTs, newest first (the admin console).
	WebHookAttempts(ctx context.Context, id string, limit int) ([]WebHookAttempt, error)
	// DeleteExpiredSubscriptions removes subscriptions that expired before
	// now and reports how many.
	DeleteExpiredSubscriptions(ctx context.Context, now time.Time) (int, error)
}
