package switchboard

import (
	"context"
	"errors"
	"time"
)

// Retention defaults. RingCentral erases a Deleted message's content after
// 5 days (it becomes Purged) and removes the record 5 days later. It keeps
// 5,000 messages per folder (Inbox, Outbox, Sent, Deleted) per user; one
// Switchboard mailbox holds all folders, hence 20,000.
const (
	DefaultDeletePeriod    = 5 * 24 * time.Hour
	DefaultPurgePeriod     = 5 * 24 * time.Hour
	DefaultMailboxCap      = 20_000
	DefaultChangeLogPeriod = 30 * 24 * time.Hour
)

// RetentionPolicy is the lifecycle configuration of mailboxes: the server's
// defaults, or one account's effective values.
type RetentionPolicy struct {
	// DeletePeriod is how long a message stays Deleted (restorable) before
	// its content is erased and it becomes Purged.
	DeletePeriod time.Duration
	// PurgePeriod is how long a Purged message's record stays before it is
	// removed with everything that refers to it.
	PurgePeriod time.Duration
	// MailboxCap is the most Alive messages a mailbox keeps; a new message
	// past it makes the oldest Deleted. 0 means no cap.
	MailboxCap int
	// MessagePeriod is RingCentral's message store retentionPeriod: Fax
	// and VoiceMail messages created longer ago are deleted (they become
	// Deleted and follow the lifecycle). 0 keeps them without a time limit,
	// as SMS always are.
	MessagePeriod time.Duration
}

// RingCentral's range of retentionPeriod (message-store-configuration).
const (
	MinMessagePeriod = 7 * 24 * time.Hour
	MaxMessagePeriod = 90 * 24 * time.Hour
)

// RetainedTypes are the message types retentionPeriod applies to.
var RetainedTypes = []MessageType{TypeFax, TypeVoiceMail}

// DefaultRetention is the built-in policy.
func DefaultRetention() RetentionPolicy {
	return RetentionPolicy{DeletePeriod: DefaultDeletePeriod, PurgePeriod: DefaultPurgePeriod, MailboxCap: DefaultMailboxCap}
}

// AccountRetention is an account's override of the server's policy. A zero
// field means "the server default"; MailboxCap NoMailboxCap means no cap.
type AccountRetention struct {
	DeletePeriod  time.Duration
	PurgePeriod   time.Duration
	MailboxCap    int
	MessagePeriod time.Duration // 0: no limit (the server has no default)
}

// NoMailboxCap, as an account's MailboxCap, lifts the cap for the account.
const NoMailboxCap = -1

// Validate checks an override.
func (r AccountRetention) Validate() error {
	if r.DeletePeriod < 0 || r.DeletePeriod > 10*365*24*time.Hour {
		return InvalidParam("deletePeriodSeconds", "", "Delete period must be 0 (server default) to 10 years")
	}
	if r.PurgePeriod < 0 || r.PurgePeriod > 10*365*24*time.Hour {
		return InvalidParam("purgePeriodSeconds", "", "Purge period must be 0 (server default) to 10 years")
	}
	if r.MailboxCap < NoMailboxCap || r.MailboxCap > 100_000_000 {
		return InvalidParam("mailboxCap", "", "Mailbox cap must be -1 (no cap), 0 (server default) or a positive count")
	}
	if r.MessagePeriod != 0 && (r.MessagePeriod < MinMessagePeriod || r.MessagePeriod > MaxMessagePeriod) {
		return InvalidParam("retentionPeriod", "", "Retention period must be from %d to %d days",
			int(MinMessagePeriod/(24*time.Hour)), int(MaxMessagePeriod/(24*time.Hour)))
	}
	return nil
}

// Apply returns the effective policy of an account with this override.
func (r AccountRetention) Apply(defaults RetentionPolicy) RetentionPolicy {
	p := defaults
	if r.DeletePeriod > 0 {
		p.DeletePeriod = r.DeletePeriod
	}
	if r.PurgePeriod > 0 {
		p.PurgePeriod = r.PurgePeriod
	}
	switch {
	case r.MailboxCap == NoMailboxCap:
		p.MailboxCap = 0
	case r.MailboxCap > 0:
		p.MailboxCap = r.MailboxCap
	}
	p.MessagePeriod = r.MessagePeriod
	return p
}

// RetentionResult counts what one run of the retention worker did.
type RetentionResult struct {
	Purged        int `json:"purged"`        // Deleted -> Purged, content erased
	Removed       int `json:"removed"`       // Purged records removed
	Capped        int `json:"capped"`        // Alive -> Deleted by a mailbox cap
	ChangesPruned int `json:"changesPruned"` // change-log rows past the change-log period
	Expired       int `json:"expired"`       // Alive -> Deleted by the retention period
}

// ErrSyncTokenExpired is returned when a change-log position is older than
// the retained log: the client must run a full sync.
var ErrSyncTokenExpired = errors.New("change log position is no longer retained")

// SyncDelta is what changed in a mailbox after a change-log position.
type SyncDelta struct {
	// Messages holds the current state of every message changed after the
	// position, oldest change first. A message that has been removed
	// appears as an id with availability Purged.
	Messages []*Message
	// Seq is the position of the last change included.
	Seq int64
	// More is true when changes after Seq were left for the next call.
	More bool
}

// RetentionStore runs the lifecycle steps. Every step is idempotent and
// claims its rows by condition (state and age), so several workers on
// several nodes can run it at once without doing any of it twice.
type RetentionStore interface {
	// SetAccountRetention stores an account's override.
	SetAccountRetention(ctx context.Context, accountID int64, r AccountRetention) error
	// PurgeDeleted makes Purged (erasing content) up to limit messages of
	// the account that became Deleted before cutoff.
	PurgeDeleted(ctx context.Context, accountID int64, cutoff time.Time, limit int) (int, error)
	// RemovePurged removes up to limit records of the account that became
	// Purged before cutoff, with their attachments and parties, and logs a
	// removed change for each.
	RemovePurged(ctx context.Context, accountID int64, cutoff time.Time, limit int) (int, error)
	// EnforceMailboxCap makes Deleted the oldest Alive messages of every
	// mailbox of the account past cap (0: no cap) and reports how many.
	EnforceMailboxCap(ctx context.Context, accountID int64, cap int) (int, error)
	// ExpireMessages makes Deleted up to limit Alive messages of the given
	// types of one mailbox of the account created before cutoff (the
	// retention period) and reports how many.
	ExpireMessages(ctx context.Context, accountID, extensionID int64, types []MessageType, cutoff time.Time, limit int) (int, error)
	// PruneChanges deletes change-log rows written before cutoff. Sync
	// positions before the newest pruned row then get ErrSyncTokenExpired.
	PruneChanges(ctx context.Context, cutoff time.Time) (int, error)
	// Compact makes erased bytes leave the database files (for SQLite: a
	// WAL checkpoint that truncates the log).
	Compact(ctx context.Context) error
}

// SyncStore serves message-sync from the change log.
type SyncStore interface {
	// SyncPosition returns the newest change-log position, to pair with a
	// full sync. Taken before the full sync's records are read, so a change
	// committed in between is reported again by the next incremental sync
	// rather than missed.
	SyncPosition(ctx context.Context) (int64, error)
	// SyncChanges returns the messages of a mailbox changed after seq, at
	// most limit of them, or ErrSyncTokenExpired.
	SyncChanges(ctx context.Context, accountID, extensionID, afterSeq int64, limit int) (*SyncDelta, error)
}
