package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard"
)

const subscriptionColumns = `id, account_id, extension_id, app_id, session_id, event_filters, transport, address,
	verification_token, status, created_at, expires_at, change_cursor, attempts, next_attempt_at, failing_since,
	last_error, blacklisted_at, lifetime_seconds`

func scanSubscription(s scanner) (*switchboard.Subscription, error) {
	var sub switchboard.Subscription
	var filters string
	var created, expires, next, failing, blacklisted, lifetime int64
	err := s.Scan(&sub.ID, &sub.AccountID, &sub.ExtensionID, &sub.AppID, &sub.SessionID, &filters, &sub.Transport, &sub.Address,
		&sub.VerificationToken, &sub.Status, &created, &expires, &sub.Cursor, &sub.Attempts, &next, &failing,
		&sub.LastError, &blacklisted, &lifetime)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(filters), &sub.EventFilters); err != nil {
		return nil, fmt.Errorf("subscription %s: event filters: %w", sub.ID, err)
	}
	sub.Created, sub.Expires, sub.NextAttempt = fromMillis(created), fromMillis(expires), fromMillis(next)
	sub.FailingSince, sub.Blacklisted = fromMillis(failing), fromMillis(blacklisted)
	sub.Lifetime = time.Duration(lifetime) * time.Second
	return &sub, nil
}

func checkSubscription(s *switchboard.Subscription) error {
	switch {
	case s.ID == "" || len(s.ID) > 64:
		return switchboard.InvalidParam("id", s.ID, "A subscription needs an id")
	case len(s.EventFilters) == 0:
		return switchboard.InvalidParam("eventFilters", "", "A subscription needs event filters")
	case s.Transport != switchboard.TransportWebHook && s.Transport != switchboard.TransportWebSocket:
		return switchboard.InvalidParam("transportType", string(s.Transport), "Transport must be WebHook or WebSocket")
	case s.Expires.IsZero() || s.Created.IsZero():
		return switchboard.InvalidParam("expiresIn", "", "A subscription needs its creation and expiry time")
	}
	return nil
}

// CreateSubscription implements switchboard.SubscriptionStore.
func (db *DB) CreateSubscription(ctx context.Context, s *switchboard.Subscription) error {
	if err := checkSubscription(s); err != nil {
		return err
	}
	if s.Status == "" {
		s.Status = switchboard.SubscriptionActive
	}
	filters, err := json.Marshal(s.EventFilters)
	if err != nil {
		return err
	}
	err = db.write(ctx, func(tx *tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM subscriptions
			WHERE extension_id = $1 AND app_id = $2 AND account_id = $3 AND expires_at > $4`,
			s.ExtensionID, s.AppID, s.AccountID, toMillis(tx.now)).Scan(&n); err != nil {
			return err
		}
		if n >= switchboard.MaxSubscriptions {
			return switchboard.Errorf(switchboard.CodeSubscriptionLimit,
				"The maximum number of subscriptions (%d) per extension and application is reached", switchboard.MaxSubscriptions)
		}
		// The cursor starts at the head of the log: a new subscription is
		// told about what happens from now on.
		head, err := logHead(ctx, tx)
		if err != nil {
			return err
		}
		s.Cursor = head
		if _, err := tx.ExecContext(ctx, `INSERT INTO subscriptions (id, account_id, extension_id, app_id, session_id,
			event_filters, transport, address, verification_token, status, created_at, expires_at, change_cursor, lifetime_seconds)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
			s.ID, s.AccountID, s.ExtensionID, s.AppID, s.SessionID, string(filters), s.Transport, s.Address,
			s.VerificationToken, s.Status, toMillis(s.Created), toMillis(s.Expires), s.Cursor, lifetimeSeconds(s)); err != nil {
			return err
		}
		return insertSubscriptionMailboxes(ctx, tx, s)
	})
	return db.wrap(err, "create subscription %s", s.ID)
}

func insertSubscriptionMailboxes(ctx context.Context, tx *tx, s *switchboard.Subscription) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM subscription_mailboxes WHERE subscription_id = $1`, s.ID); err != nil {
		return err
	}
	for _, m := range s.Mailboxes() {
		if _, err := tx.ExecContext(ctx, `INSERT INTO subscription_mailboxes (subscription_id, account_id, extension_id)
			VALUES ($1, $2, $3)`, s.ID, m.AccountID, m.ExtensionID); err != nil {
			return err
		}
	}
	return nil
}

// Subscription implements switchboard.SubscriptionStore.
func (db *DB) Subscription(ctx context.Context, accountID, extensionID, appID int64, id string) (*switchboard.Subscription, error) {
	var s *switchboard.Subscription
	err := db.read(ctx, func(tx *tx) error {
		var err error
		s, err = scanSubscription(tx.QueryRowContext(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions
			WHERE id = $1 AND account_id = $2 AND extension_id = $3 AND app_id = $4`, id, accountID, extensionID, appID))
		return err
	})
	return s, db.wrap(err, "get subscription %s", id)
}

// SubscriptionByID implements switchboard.SubscriptionStore.
func (db *DB) SubscriptionByID(ctx context.Context, id string) (*switchboard.Subscription, error) {
	var s *switchboard.Subscription
	err := db.read(ctx, func(tx *tx) error {
		var err error
		s, err = scanSubscription(tx.QueryRowContext(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions WHERE id = $1`, id))
		return err
	})
	return s, db.wrap(err, "get subscription %s", id)
}

// ListSubscriptions implements switchboard.SubscriptionStore.
func (db *DB) ListSubscriptions(ctx context.Context, accountID, extensionID, appID int64) ([]*switchboard.Subscription, error) {
	var out []*switchboard.Subscription
	err := db.read(ctx, func(tx *tx) error {
		var err error
		out, err = queryAll(ctx, tx, scanSubscription, `SELECT `+subscriptionColumns+` FROM subscriptions
			WHERE extension_id = $1 AND app_id = $2 AND account_id = $3 ORDER BY created_at, id`, extensionID, appID, accountID)
		return err
	})
	return out, db.wrap(err, "list subscriptions of %d/%d", accountID, extensionID)
}

// AllSubscriptions implements switchboard.SubscriptionStore.
func (db *DB) AllSubscriptions(ctx context.Context, limit int) ([]*switchboard.Subscription, error) {
	var out []*switchboard.Subscription
	err := db.read(ctx, func(tx *tx) error {
		var err error
		out, err = queryAll(ctx, tx, scanSubscription, `SELECT `+subscriptionColumns+` FROM subscriptions
			ORDER BY created_at DESC, id DESC LIMIT $1`, limit)
		return err
	})
	return out, db.wrap(err, "list all subscriptions")
}

// UpdateSubscription implements switchboard.SubscriptionStore.
func (db *DB) UpdateSubscription(ctx context.Context, accountID, extensionID, appID int64, id string, filters []string, expires time.Time, lifetime time.Duration) (*switchboard.Subscription, error) {
	var s *switchboard.Subscription
	err := db.write(ctx, func(tx *tx) error {
		var err error
		s, err = scanSubscription(tx.QueryRowContext(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions
			WHERE id = $1 AND account_id = $2 AND extension_id = $3 AND app_id = $4`, id, accountID, extensionID, appID))
		if err != nil {
			return err
		}
		if filters != nil {
			s.EventFilters = filters
		}
		s.Expires, s.Lifetime = expires, lifetime
		enc, err := json.Marshal(s.EventFilters)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE subscriptions SET event_filters = $1, expires_at = $2, lifetime_seconds = $3 WHERE id = $4`,
			string(enc), toMillis(expires), lifetimeSeconds(s), id); err != nil {
			return err
		}
		if filters != nil {
			return insertSubscriptionMailboxes(ctx, tx, s)
		}
		return nil
	})
	return s, db.wrap(err, "update subscription %s", id)
}

// DeleteSubscription implements switchboard.SubscriptionStore.
func (db *DB) DeleteSubscription(ctx context.Context, accountID, extensionID, appID int64, id string) error {
	err := db.write(ctx, func(tx *tx) error {
		for _, table := range []string{"subscription_mailboxes", "webhook_attempts"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE subscription_id IN
				(SELECT id FROM subscriptions WHERE id = $1 AND account_id = $2 AND extension_id = $3 AND app_id = $4)`,
				id, accountID, extensionID, appID); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM subscriptions WHERE id = $1 AND account_id = $2 AND extension_id = $3 AND app_id = $4`,
			id, accountID, extensionID, appID)
		if err != nil {
			return err
		}
		return rowsAffected(res)
	})
	return db.wrap(err, "delete subscription %s", id)
}

// SessionSubscriptions implements switchboard.SubscriptionStore.
func (db *DB) SessionSubscriptions(ctx context.Context, accountID, extensionID int64, sessionID string) ([]*switchboard.Subscription, error) {
	if sessionID == "" {
		return nil, nil
	}
	var out []*switchboard.Subscription
	err := db.read(ctx, func(tx *tx) error {
		var err error
		out, err = queryAll(ctx, tx, scanSubscription, `SELECT `+subscriptionColumns+` FROM subscriptions
			WHERE session_id = $1 AND session_id <> '' AND account_id = $2 AND extension_id = $3 AND expires_at > $4
			ORDER BY created_at, id`, sessionID, accountID, extensionID, toMillis(tx.now))
		return err
	})
	return out, db.wrap(err, "subscriptions of a session")
}

// MoveSubscriptionSession implements switchboard.SubscriptionStore.
func (db *DB) MoveSubscriptionSession(ctx context.Context, accountID, extensionID, appID int64, id, sessionID string) error {
	err := db.write(ctx, func(tx *tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE subscriptions SET session_id = $1
			WHERE id = $2 AND account_id = $3 AND extension_id = $4 AND app_id = $5 AND transport = 'WebSocket'`,
			sessionID, id, accountID, extensionID, appID)
		if err != nil {
			return err
		}
		return rowsAffected(res)
	})
	return db.wrap(err, "move subscription %s to another session", id)
}

// RenewSession implements switchboard.SubscriptionStore.
func (db *DB) RenewSession(ctx context.Context, sessionID string, expires time.Time) error {
	if sessionID == "" {
		return nil
	}
	err := db.write(ctx, func(tx *tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE subscriptions SET expires_at = $1 WHERE session_id = $2 AND session_id <> '' AND expires_at < $1`,
			toMillis(expires), sessionID)
		return err
	})
	return db.wrap(err, "renew session subscriptions")
}

// pendingSQL is true when a subscription has change-log rows after its
// cursor in one of its mailboxes: one probe of changes_mailbox each.
const pendingSQL = `EXISTS (SELECT 1 FROM subscription_mailboxes m
	JOIN changes c ON c.extension_id = m.extension_id AND c.account_id = m.account_id AND c.seq > s.change_cursor
	WHERE m.subscription_id = s.id)`

// ClaimSubscriptions implements switchboard.SubscriptionStore.
func (db *DB) ClaimSubscriptions(ctx context.Context, owner string, lease time.Duration, limit int) ([]*switchboard.Subscription, error) {
	if owner == "" || lease <= 0 || limit <= 0 {
		return nil, fmt.Errorf("sqlstore: claim subscriptions: owner %q, lease %v and limit %d must be set", owner, lease, limit)
	}
	// A read probes first: every write wakes the change watchers, the
	// dispatcher among them, so claiming nothing must not write.
	// One statement outside a transaction: it runs after every commit.
	due := false
	err := db.readOne(ctx, func(q *tx) error {
		var one int
		err := q.QueryRowContext(ctx, `SELECT 1 FROM subscriptions s
			WHERE s.transport = 'WebHook' AND s.status = 'Active' AND s.next_attempt_at <= $1
			AND s.lease_until <= $1 AND s.expires_at > $1 AND `+pendingSQL+` LIMIT 1`, toMillis(db.clock.Now())).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		due = err == nil
		return err
	})
	if err != nil || !due {
		return nil, db.wrap(err, "probe due subscriptions")
	}
	var out []*switchboard.Subscription
	err = db.write(ctx, func(tx *tx) error {
		now := toMillis(tx.now)
		ids, err := queryAll(ctx, tx, func(s scanner) (string, error) {
			var id string
			return id, s.Scan(&id)
		}, `SELECT s.id FROM subscriptions s
			WHERE s.transport = 'WebHook' AND s.status = 'Active' AND s.next_attempt_at <= $1
			AND s.lease_until <= $1 AND s.expires_at > $1 AND `+pendingSQL+`
			ORDER BY s.next_attempt_at, s.id LIMIT $2 `+db.dialect.claimLock, now, limit)
		if err != nil || len(ids) == 0 {
			return err
		}
		a := args{owner, now + lease.Milliseconds(), now}
		if _, err := tx.ExecContext(ctx, `UPDATE subscriptions SET lease_owner = $1, lease_until = $2
			WHERE id IN (`+inList(&a, ids)+`) AND lease_until <= $3`, a...); err != nil {
			return err
		}
		a = args{owner}
		out, err = queryAll(ctx, tx, scanSubscription, `SELECT `+subscriptionColumns+` FROM subscriptions
			WHERE lease_owner = $1 AND id IN (`+inList(&a, ids)+`) ORDER BY next_attempt_at, id`, a...)
		return err
	})
	return out, db.wrap(err, "claim subscriptions")
}

// SubscriptionChanges implements switchboard.SubscriptionStore.
func (db *DB) SubscriptionChanges(ctx context.Context, id string, afterSeq int64, limit int) ([]*switchboard.Change, error) {
	var cs []*switchboard.Change
	err := db.read(ctx, func(tx *tx) error {
		var err error
		cs, err = queryAll(ctx, tx, scanChange, `SELECT c.seq, c.account_id, c.extension_id, c.message_id, c.kind, c.type, c.direction, c.at
			FROM subscription_mailboxes m
			JOIN changes c ON c.extension_id = m.extension_id AND c.account_id = m.account_id AND c.seq > $2
			WHERE m.subscription_id = $1
			ORDER BY c.seq LIMIT $3`, id, afterSeq, limitArg(limit))
		return err
	})
	return cs, db.wrap(err, "changes of subscription %s after %d", id, afterSeq)
}

// AdvanceSubscription implements switchboard.SubscriptionStore.
func (db *DB) AdvanceSubscription(ctx context.Context, id, owner string, cursor int64) error {
	err := db.write(ctx, func(tx *tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE subscriptions
			SET change_cursor = CASE WHEN change_cursor < $1 THEN $1 ELSE change_cursor END,
				attempts = 0, next_attempt_at = 0, failing_since = 0, last_error = ''
			WHERE id = $2 AND ($3 = '' OR (lease_owner = $3 AND lease_until > $4))`, cursor, id, owner, toMillis(tx.now))
		if err != nil {
			return err
		}
		return rowsAffected(res)
	})
	return db.wrap(err, "advance subscription %s", id)
}

// FailSubscription implements switchboard.SubscriptionStore.
func (db *DB) FailSubscription(ctx context.Context, id, owner string, next time.Time, reason string, blacklist bool) error {
	status, blacklistedAt := switchboard.SubscriptionActive, int64(0)
	err := db.write(ctx, func(tx *tx) error {
		now := toMillis(tx.now)
		if blacklist {
			status, blacklistedAt = switchboard.SubscriptionBlacklisted, now
		}
		res, err := tx.ExecContext(ctx, `UPDATE subscriptions
			SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2, status = $3, blacklisted_at = $4,
				failing_since = CASE WHEN failing_since = 0 THEN $5 ELSE failing_since END,
				lease_owner = '', lease_until = 0
			WHERE id = $6 AND lease_owner = $7 AND lease_until > $5`,
			toMillis(next), switchboard.Truncate(reason, 500), status, blacklistedAt, now, id, owner)
		if err != nil {
			return err
		}
		return rowsAffected(res)
	})
	return db.wrap(err, "record failed delivery of subscription %s", id)
}

// ReleaseSubscription implements switchboard.SubscriptionStore.
func (db *DB) ReleaseSubscription(ctx context.Context, id, owner string) error {
	err := db.write(ctx, func(tx *tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE subscriptions SET lease_owner = '', lease_until = 0 WHERE id = $1 AND lease_owner = $2`, id, owner)
		return err
	})
	return db.wrap(err, "release subscription %s", id)
}

// RecordWebHookAttempts implements switchboard.SubscriptionStore.
func (db *DB) RecordWebHookAttempts(ctx context.Context, id string, attempts []switchboard.WebHookAttempt, keep int) error {
	if len(attempts) == 0 {
		return nil
	}
	err := db.write(ctx, func(tx *tx) error {
		var a args
		var values []string
		for _, x := range attempts {
			values = append(values, "("+a.add(id)+", "+a.add(toMillis(x.Time))+", "+a.add(x.EventID)+", "+a.add(x.Event)+", "+
				a.add(x.Status)+", "+a.add(switchboard.Truncate(x.Error, 500))+", "+a.add(x.Duration.Milliseconds())+")")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_attempts
			(subscription_id, attempted_at, event_id, event, status, error, duration_ms) VALUES `+strings.Join(values, ", "), a...); err != nil {
			return err
		}
		// Rows past the keep-th newest go; the subquery finds none while
		// fewer are kept, and deletes nothing then.
		_, err := tx.ExecContext(ctx, `DELETE FROM webhook_attempts WHERE subscription_id = $1 AND id <=
			(SELECT id FROM webhook_attempts WHERE subscription_id = $1 ORDER BY id DESC LIMIT 1 OFFSET $2)`, id, keep)
		return err
	})
	return db.wrap(err, "record deliveries of subscription %s", id)
}

// WebHookAttempts implements switchboard.SubscriptionStore.
func (db *DB) WebHookAttempts(ctx context.Context, id string, limit int) ([]switchboard.WebHookAttempt, error) {
	var out []switchboard.WebHookAttempt
	err := db.read(ctx, func(tx *tx) error {
		var err error
		out, err = queryAll(ctx, tx, func(r scanner) (switchboard.WebHookAttempt, error) {
			var x switchboard.WebHookAttempt
			var at, ms int64
			err := r.Scan(&at, &x.EventID, &x.Event, &x.Status, &x.Error, &ms)
			x.Time, x.Duration = fromMillis(at), time.Duration(ms)*time.Millisecond
			return x, err
		}, `SELECT attempted_at, event_id, event, status, error, duration_ms FROM webhook_attempts
			WHERE subscription_id = $1 ORDER BY id DESC LIMIT $2`, id, limitArg(limit))
		return err
	})
	return out, db.wrap(err, "read deliveries of subscription %s", id)
}

// DeleteExpiredSubscriptions implements switchboard.SubscriptionStore.
func (db *DB) DeleteExpiredSubscriptions(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := db.write(ctx, func(tx *tx) error {
		for _, table := range []string{"subscription_mailboxes", "webhook_attempts"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE subscription_id IN
				(SELECT id FROM subscriptions WHERE expires_at <= $1)`, toMillis(now)); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM subscriptions WHERE expires_at <= $1`, toMillis(now))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), db.wrap(err, "delete expired subscriptions")
}

// lifetimeSeconds is the stored lifetime; without one, the time from
// creation to expiry.
func lifetimeSeconds(s *switchboard.Subscription) int64 {
	if s.Lifetime > 0 {
		return int64(s.Lifetime / time.Second)
	}
	return int64(s.Expires.Sub(s.Created) / time.Second)
}
