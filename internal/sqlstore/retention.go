package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/switchboardhq/switchboard"
)

// Retention steps claim their rows by condition: each selects candidates
// and then updates or deletes them with the state condition repeated, so a
// row another worker moved in between is skipped and counted by nobody
// twice. The availability is spelled as a literal in these queries: the
// partial indexes messages_account_deleted and messages_account_purged are
// only used when the query's WHERE names their condition as written.

// SetAccountRetention stores an account's override of the server's policy.
func (db *DB) SetAccountRetention(ctx context.Context, accountID int64, r switchboard.AccountRetention) error {
	if err := r.Validate(); err != nil {
		return err
	}
	err := db.write(ctx, func(tx *tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE accounts SET delete_period_ms = $1, purge_period_ms = $2, mailbox_cap = $3,
			message_period_ms = $4 WHERE id = $5`, r.DeletePeriod.Milliseconds(), r.PurgePeriod.Milliseconds(), r.MailboxCap,
			r.MessagePeriod.Milliseconds(), accountID)
		if err != nil {
			return err
		}
		return rowsAffected(res)
	})
	return db.wrap(err, "set retention of account %d", accountID)
}

// purgeCandidatesSQL selects the Deleted messages of account $1 deleted
// before $2, oldest first, at most $3; it walks messages_account_deleted.
const purgeCandidatesSQL = `SELECT id FROM messages
	WHERE account_id = $1 AND availability = 'Deleted' AND deleted_at < $2
	ORDER BY deleted_at, id LIMIT $3`

// PurgeDeleted makes Purged, erasing their content, up to limit messages of
// the account that became Deleted before cutoff (limit 0: all), oldest
// deletion first, and reports how many it moved.
func (db *DB) PurgeDeleted(ctx context.Context, accountID int64, cutoff time.Time, limit int) (int, error) {
	var n int
	err := db.write(ctx, func(tx *tx) error {
		ids, err := queryAll(ctx, tx, scanID, purgeCandidatesSQL, accountID, toMillis(cutoff), limitArg(limit))
		if err != nil {
			return err
		}
		now := toMillis(tx.now)
		var moved []int64
		if err := inChunks(ids, func(ids []int64) error {
			a := args{switchboard.Purged, now, accountID}
			got, err := queryAll(ctx, tx, scanID, `UPDATE messages SET availability = $1, purged_at = $2, modified_at = $2
				WHERE account_id = $3 AND availability = 'Deleted' AND id IN (`+inList(&a, ids)+`)
				RETURNING id`, a...)
			moved = append(moved, got...)
			return err
		}); err != nil {
			return err
		}
		n = len(moved)
		// Deleted -> Purged leaves the Alive count alone.
		if err := eraseContent(ctx, tx, moved); err != nil {
			return err
		}
		return logUpdated(ctx, tx, moved)
	})
	return n, db.wrap(err, "purge Deleted messages of account %d", accountID)
}

// removeCandidatesSQL selects the Purged messages of account $1 purged
// before $2, oldest first, at most $3; it walks messages_account_purged.
const removeCandidatesSQL = `SELECT id FROM messages
	WHERE account_id = $1 AND availability = 'Purged' AND purged_at < $2
	ORDER BY purged_at, id LIMIT $3`

// RemovePurged deletes up to limit records of the account that became
// Purged before cutoff (limit 0: all), with their attachments and parties,
// and logs a "removed" change for each. It reports how many it removed.
func (db *DB) RemovePurged(ctx context.Context, accountID int64, cutoff time.Time, limit int) (int, error) {
	var n int
	err := db.write(ctx, func(tx *tx) error {
		ids, err := queryAll(ctx, tx, scanID, removeCandidatesSQL, accountID, toMillis(cutoff), limitArg(limit))
		if err != nil {
			return err
		}
		var removed []changeRow
		if err := inChunks(ids, func(ids []int64) error {
			// The children go explicitly rather than by ON DELETE CASCADE
			// alone, so removal does not depend on the connection having
			// foreign keys enabled. They are only ever removed with a
			// Purged message, so deleting them before the conditional
			// DELETE below is safe even if another worker wins the row.
			var a args
			in := inList(&a, ids)
			for _, child := range []string{"attachments", "message_parties"} {
				if _, err := tx.ExecContext(ctx, `DELETE FROM `+child+` WHERE message_id IN (`+in+`)`, a...); err != nil {
					return err
				}
			}
			a = args{accountID}
			got, err := queryAll(ctx, tx, scanChangeRow, `DELETE FROM messages
				WHERE account_id = $1 AND availability = 'Purged' AND id IN (`+inList(&a, ids)+`)
				RETURNING account_id, extension_id, id, type, direction`, a...)
			removed = append(removed, got...)
			return err
		}); err != nil {
			return err
		}
		n = len(removed)
		// Purged -> gone leaves the Alive count alone.
		slices.SortFunc(removed, func(x, y changeRow) int { return cmp.Compare(x.messageID, y.messageID) })
		for _, r := range removed {
			tx.logChange(switchboard.ChangeRemoved, r)
		}
		return nil
	})
	return n, db.wrap(err, "remove Purged messages of account %d", accountID)
}

// changeRow is what a change-log entry says about its message.
type changeRow struct {
	accountID, extensionID, messageID int64
	typ                               switchboard.MessageType
	direction                         switchboard.Direction
}

func scanChangeRow(s scanner) (changeRow, error) {
	var c changeRow
	return c, s.Scan(&c.accountID, &c.extensionID, &c.messageID, &c.typ, &c.direction)
}

func scanID(s scanner) (int64, error) {
	var id int64
	return id, s.Scan(&id)
}

// insertChanges writes the logged changes, in order, at tx.now.
func insertChanges(ctx context.Context, tx *tx, rows []loggedChange) error {
	const cols = 7
	values := make([]any, 0, len(rows)*cols)
	at := toMillis(tx.now)
	for _, r := range rows {
		values = append(values, r.accountID, r.extensionID, r.messageID, r.kind, string(r.typ), string(r.direction), at)
	}
	return execRows(ctx, tx, `INSERT INTO changes (account_id, extension_id, message_id, kind, type, direction, at) VALUES `,
		tuple(cols), "", values)
}

// capBatch bounds how many messages one transaction of EnforceMailboxCap
// moves, so a mailbox far over its cap does not hold the writer for long.
const capBatch = 1000

// overCapSQL lists the mailboxes of account $1 with more than $2 Alive
// messages (index mailbox_stats_account).
const overCapSQL = `SELECT extension_id FROM mailbox_stats WHERE account_id = $1 AND alive > $2 ORDER BY extension_id`

// byIDInMailbox checks that messages picked by id are still in mailbox
// $3 of account $4. The unary + keeps SQLite's planner from walking the
// mailbox's index (extension_id, …) for it instead of looking the ids up:
// with that plan, each batch of a mailbox far over its cap (an A2P batch
// of 100,000 in the sender's mailbox) read every message of the mailbox.
const byIDInMailbox = `+extension_id = $3 AND account_id = $4`

// oldestAliveSQL selects the $3 oldest Alive messages of mailbox $1 of
// account $2, walking messages_mailbox_time forwards.
const oldestAliveSQL = `SELECT id FROM messages
	WHERE extension_id = $1 AND account_id = $2 AND availability = 'Alive'
	ORDER BY created_at, id LIMIT $3`

// EnforceMailboxCap makes Deleted the oldest Alive messages (by creation
// time, then id) of every mailbox of the account that holds more than cap
// Alive messages (0: no cap), so each keeps cap, and reports how many it
// moved. Each mailbox is done in transactions of at most capBatch messages;
// each transaction re-reads the mailbox's count.
func (db *DB) EnforceMailboxCap(ctx context.Context, accountID int64, cap int) (int, error) {
	if cap <= 0 {
		return 0, nil
	}
	var total int
	var exts []int64
	err := db.read(ctx, func(tx *tx) error {
		var err error
		exts, err = queryAll(ctx, tx, scanID, overCapSQL, accountID, cap)
		return err
	})
	if err != nil {
		return 0, db.wrap(err, "enforce mailbox cap of account %d", accountID)
	}
	for _, ext := range exts {
		for {
			var moved int
			var more bool
			err := db.write(ctx, func(tx *tx) error {
				var err error
				moved, more, err = capMailbox(ctx, tx, accountID, ext, cap)
				return err
			})
			total += moved
			if err != nil {
				return total, db.wrap(err, "enforce mailbox cap of mailbox %d/%d", accountID, ext)
			}
			if !more {
				break
			}
			if err := ctx.Err(); err != nil {
				return total, db.wrap(err, "enforce mailbox cap of account %d", accountID)
			}
		}
	}
	return total, nil
}

// capMailbox moves up to capBatch of the oldest Alive messages of one
// mailbox past cap to Deleted. more reports that the mailbox is still over.
func capMailbox(ctx context.Context, tx *tx, accountID, extensionID int64, cap int) (moved int, more bool, err error) {
	var alive int
	// Locked: two workers capping one mailbox must not both act on the
	// count from before the other's batch.
	err = tx.QueryRowContext(ctx, `SELECT alive FROM mailbox_stats WHERE extension_id = $1 AND account_id = $2 `+tx.rowLock,
		extensionID, accountID).Scan(&alive)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	excess := alive - cap
	if excess <= 0 {
		return 0, false, nil
	}
	take := min(excess, capBatch)
	ids, err := queryAll(ctx, tx, scanID, oldestAliveSQL, extensionID, accountID, take)
	if err != nil {
		return 0, false, err
	}
	now := toMillis(tx.now)
	var done []int64
	if err := inChunks(ids, func(ids []int64) error {
		a := args{switchboard.Deleted, now, extensionID, accountID}
		got, err := queryAll(ctx, tx, scanID, `UPDATE messages SET availability = $1, deleted_at = $2, modified_at = $2
			WHERE `+byIDInMailbox+` AND availability = 'Alive' AND id IN (`+inList(&a, ids)+`)
			RETURNING id`, a...)
		done = append(done, got...)
		return err
	}); err != nil {
		return 0, false, err
	}
	tx.addAlive(accountID, extensionID, -len(done))
	if err := logUpdated(ctx, tx, done); err != nil {
		return 0, false, err
	}
	// A count that claims more Alive messages than the mailbox has would
	// loop for ever: stop when a batch finds fewer than it looked for.
	return len(done), excess > take && len(ids) == take, nil
}

// pruneChangesSQL deletes the change-log rows written before $1 through
// the index changes_at, so a run costs what it prunes, not the log's size.
const pruneChangesSQL = `DELETE FROM changes WHERE at < $1 RETURNING seq`

// PruneChanges deletes the change-log rows written before cutoff and raises
// the horizon to the highest seq deleted, so a sync position before it is
// refused rather than silently missing changes.
func (db *DB) PruneChanges(ctx context.Context, cutoff time.Time) (int, error) {
	var n int
	err := db.write(ctx, func(tx *tx) error {
		rows, err := tx.QueryContext(ctx, pruneChangesSQL, toMillis(cutoff))
		if err != nil {
			return err
		}
		var top int64
		for rows.Next() {
			var seq int64
			if err := rows.Scan(&seq); err != nil {
				_ = rows.Close()
				return err
			}
			n++
			top = max(top, seq)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if top == 0 {
			return nil
		}
		_, err = tx.ExecContext(ctx, `UPDATE change_log_horizon SET pruned_seq = $1 WHERE id = 1 AND pruned_seq < $1`, top)
		return err
	})
	if err != nil {
		return 0, db.wrap(err, "prune change log before %v", cutoff)
	}
	return n, nil
}

// Compact makes erased bytes leave the database files (see the dialect).
func (db *DB) Compact(ctx context.Context) error {
	return db.wrap(db.dialect.compact(ctx, db), "compact database")
}

// ---- message-sync

func horizon(ctx context.Context, tx *tx) (int64, error) {
	var h int64
	err := tx.QueryRowContext(ctx, `SELECT pruned_seq FROM change_log_horizon WHERE id = 1`).Scan(&h)
	return h, err
}

// logHead is the newest change-log position: the last seq written, or the
// pruning horizon when the log has been trimmed empty.
func logHead(ctx context.Context, tx *tx) (int64, error) {
	h, err := horizon(ctx, tx)
	if err != nil {
		return 0, err
	}
	var pos int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM changes`).Scan(&pos); err != nil {
		return 0, err
	}
	return max(pos, h), nil
}

// SyncPosition returns the newest change-log position. After the whole log
// has been pruned that is the horizon, which stays a valid position.
func (db *DB) SyncPosition(ctx context.Context) (int64, error) {
	var pos int64
	err := db.read(ctx, func(tx *tx) error {
		var err error
		pos, err = logHead(ctx, tx)
		return err
	})
	return pos, db.wrap(err, "get sync position")
}

// SyncChanges returns the current state of the messages of a mailbox
// changed after afterSeq: it reads the mailbox's change log in seq order
// and takes whole entries until limit distinct messages (0: no limit), so
// Seq is a position every change up to which is included. Messages are in
// the order of their last included change; one that no longer exists is
// its id with availability Purged.
func (db *DB) SyncChanges(ctx context.Context, accountID, extensionID, afterSeq int64, limit int) (*switchboard.SyncDelta, error) {
	d := &switchboard.SyncDelta{Seq: afterSeq}
	err := db.read(ctx, func(tx *tx) error {
		h, err := horizon(ctx, tx)
		if err != nil {
			return err
		}
		if afterSeq < h {
			return fmt.Errorf("position %d is before the retained log (%d): %w", afterSeq, h, switchboard.ErrSyncTokenExpired)
		}
		// Batch rows (a2p-sms notifications) name no message.
		rows, err := tx.QueryContext(ctx, `SELECT seq, message_id FROM changes
			WHERE extension_id = $1 AND account_id = $2 AND seq > $3 AND kind <> $4 ORDER BY seq`,
			extensionID, accountID, afterSeq, switchboard.ChangeA2PBatch)
		if err != nil {
			return err
		}
		last := map[int64]int64{} // message id -> its last included seq
		var order []int64
		for rows.Next() {
			var seq, id int64
			if err := rows.Scan(&seq, &id); err != nil {
				_ = rows.Close()
				return err
			}
			if _, seen := last[id]; !seen {
				if limit > 0 && len(order) == limit {
					d.More = true
					break
				}
				order = append(order, id)
			}
			last[id] = seq
			d.Seq = seq
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
		slices.SortFunc(order, func(x, y int64) int { return cmp.Compare(last[x], last[y]) })

		found := make(map[int64]*switchboard.Message, len(order))
		if err := inChunks(order, func(ids []int64) error {
			a := args{extensionID, accountID}
			ms, err := queryAll(ctx, tx, scanMessage, `SELECT `+messageColumns+` FROM messages m
				WHERE m.extension_id = $1 AND m.account_id = $2 AND m.id IN (`+inList(&a, ids)+`)`, a...)
			for _, m := range ms {
				found[m.ID] = m
			}
			return err
		}); err != nil {
			return err
		}
		var existing []*switchboard.Message
		for _, id := range order {
			m := found[id]
			if m == nil {
				m = &switchboard.Message{ID: id, AccountID: accountID, ExtensionID: extensionID, Availability: switchboard.Purged}
			} else {
				existing = append(existing, m)
			}
			d.Messages = append(d.Messages, m)
		}
		return loadAttachments(ctx, tx, existing)
	})
	if err != nil {
		return nil, db.wrap(err, "sync changes of mailbox %d/%d after %d", accountID, extensionID, afterSeq)
	}
	return d, nil
}

// ExpireMessages implements switchboard.RetentionStore: one batch of the
// retention period's step for one mailbox. The candidates come from the
// mailbox's (extension_id, created_at, …) index, oldest first.
func (db *DB) ExpireMessages(ctx context.Context, accountID, extensionID int64, types []switchboard.MessageType, cutoff time.Time, limit int) (int, error) {
	if len(types) == 0 {
		return 0, nil
	}
	var n int
	err := db.write(ctx, func(tx *tx) error {
		a := args{extensionID, toMillis(cutoff), accountID}
		typeList := inList(&a, types)
		ids, err := queryAll(ctx, tx, scanID, `SELECT id FROM messages
			WHERE extension_id = $1 AND created_at < $2 AND availability = 'Alive' AND account_id = $3
			AND type IN (`+typeList+`) ORDER BY created_at, id LIMIT `+a.add(limitArg(limit)), a...)
		if err != nil || len(ids) == 0 {
			return err
		}
		now := toMillis(tx.now)
		b := args{switchboard.Deleted, now, extensionID, accountID}
		done, err := queryAll(ctx, tx, scanID, `UPDATE messages SET availability = $1, deleted_at = $2, modified_at = $2
			WHERE `+byIDInMailbox+` AND availability = 'Alive' AND id IN (`+inList(&b, ids)+`)
			RETURNING id`, b...)
		if err != nil {
			return err
		}
		n = len(done)
		tx.addAlive(accountID, extensionID, -n)
		return logUpdated(ctx, tx, done)
	})
	return n, db.wrap(err, "expire messages of mailbox %d/%d", accountID, extensionID)
}
