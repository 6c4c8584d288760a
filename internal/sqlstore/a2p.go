package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard"
)

// High-volume (A2P) batches. A batch is stored with its items in one
// transaction; a worker claims it with a lease and expands it chunk by
// chunk (ExpandA2P): the chunk's messages and deliveries, the cursor and
// the removal of the chunk's items commit together, so after a crash the
// next claim starts at the first item not yet in the outbox.

const a2pBatchColumns = `id, account_id, extension_id, from_number, sender_name, text, batch_size, expanded,
	status, created_at, modified_at`

func scanA2PBatch(s scanner) (*switchboard.A2PBatch, error) {
	var b switchboard.A2PBatch
	var created, modified int64
	err := s.Scan(&b.ID, &b.AccountID, &b.ExtensionID, &b.From, &b.SenderName, &b.Text, &b.BatchSize, &b.Expanded,
		&b.Status, &created, &modified)
	b.Created, b.LastModified = fromMillis(created), fromMillis(modified)
	return &b, err
}

// a2pItemRows is how many items one INSERT statement carries (4
// parameters each, well under both dialects' parameter limits).
const a2pItemRows = 500

// CreateA2PBatch stores a Processing batch and its items in one transaction.
func (db *DB) CreateA2PBatch(ctx context.Context, c switchboard.A2PBatchCreate) (*switchboard.A2PBatch, error) {
	if len(c.Items) == 0 {
		return nil, switchboard.InvalidParam("messages", "", "A batch needs at least one message")
	}
	var b *switchboard.A2PBatch
	err := db.write(ctx, func(tx *tx) error {
		now := toMillis(tx.now)
		var err error
		b, err = scanA2PBatch(tx.QueryRowContext(ctx, `INSERT INTO a2p_batches (account_id, extension_id, from_number,
			sender_name, text, batch_size, status, created_at, modified_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING `+a2pBatchColumns,
			c.AccountID, c.ExtensionID, c.From, c.SenderName, c.Text, len(c.Items), switchboard.A2PProcessing, now))
		if err != nil {
			return err
		}
		logBatch(tx, b)
		for start := 0; start < len(c.Items); start += a2pItemRows {
			items := c.Items[start:min(start+a2pItemRows, len(c.Items))]
			var a args
			var q strings.Builder
			q.WriteString(`INSERT INTO a2p_batch_items (batch_id, idx, recipient, text) VALUES `)
			for i, it := range items {
				if i > 0 {
					q.WriteString(", ")
				}
				fmt.Fprintf(&q, "(%s, %s, %s, %s)", a.add(b.ID), a.add(start+i), a.add(it.To), a.add(nullString(it.Text)))
			}
			if _, err := tx.ExecContext(ctx, q.String(), a...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, db.wrap(err, "create A2P batch of %d messages from %s", len(c.Items), c.From)
	}
	return b, nil
}

// logBatch writes a change row on the sender's mailbox for the batch (the
// a2p-sms/batches notifications).
func logBatch(tx *tx, b *switchboard.A2PBatch) {
	tx.logChange(switchboard.ChangeA2PBatch, changeRow{b.AccountID, b.ExtensionID, b.ID, switchboard.TypeSMS, switchboard.Outbound})
}

// A2PBatch returns a batch of the account with its processed count.
func (db *DB) A2PBatch(ctx context.Context, accountID, id int64) (*switchboard.A2PBatch, error) {
	var b *switchboard.A2PBatch
	err := db.read(ctx, func(tx *tx) error {
		var err error
		b, err = scanA2PBatch(tx.QueryRowContext(ctx, `SELECT `+a2pBatchColumns+` FROM a2p_batches
			WHERE id = $1 AND account_id = $2`, id, accountID))
		if errors.Is(err, sql.ErrNoRows) {
			return switchboard.ErrNotFound
		}
		if err != nil {
			return err
		}
		return countProcessed(ctx, tx, []*switchboard.A2PBatch{b})
	})
	if err != nil {
		return nil, db.wrap(err, "read A2P batch %d", id)
	}
	return b, nil
}

// countProcessed fills ProcessedCount: the messages no longer Queued. A
// Completed batch has processed them all.
func countProcessed(ctx context.Context, tx *tx, bs []*switchboard.A2PBatch) error {
	for _, b := range bs {
		if b.Status == switchboard.A2PCompleted {
			b.ProcessedCount = b.BatchSize
			continue
		}
		var queued int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM messages
			WHERE a2p_batch_id = $1 AND message_status = 'Queued'`, b.ID).Scan(&queued); err != nil {
			return err
		}
		b.ProcessedCount = b.Expanded - queued
	}
	return nil
}

// ListA2PBatches returns an account's batches, newest first.
func (db *DB) ListA2PBatches(ctx context.Context, f switchboard.A2PBatchFilter) ([]*switchboard.A2PBatch, bool, error) {
	var a args
	q := `SELECT ` + a2pBatchColumns + ` FROM a2p_batches WHERE account_id = ` + a.add(f.AccountID)
	if f.ExtensionID != 0 {
		q += ` AND extension_id = ` + a.add(f.ExtensionID)
	}
	if f.From != "" {
		q += ` AND from_number = ` + a.add(f.From)
	}
	if len(f.Statuses) > 0 {
		q += ` AND status IN (` + inList(&a, f.Statuses) + `)`
	}
	if !f.DateFrom.IsZero() {
		q += ` AND created_at >= ` + a.add(toMillis(f.DateFrom))
	}
	if !f.DateTo.IsZero() {
		q += ` AND created_at < ` + a.add(toMillis(f.DateTo))
	}
	if f.BeforeID > 0 {
		q += ` AND id < ` + a.add(f.BeforeID)
	}
	q += ` ORDER BY id DESC LIMIT ` + a.add(f.Limit+1)
	var out []*switchboard.A2PBatch
	more := false
	err := db.read(ctx, func(tx *tx) error {
		var err error
		if out, err = queryAll(ctx, tx, scanA2PBatch, q, a...); err != nil {
			return err
		}
		if len(out) > f.Limit {
			out, more = out[:f.Limit], true
		}
		return countProcessed(ctx, tx, out)
	})
	if err != nil {
		return nil, false, db.wrap(err, "list A2P batches of account %d", f.AccountID)
	}
	return out, more, nil
}

// ClaimA2PBatch leases the oldest batch with items left to expand.
func (db *DB) ClaimA2PBatch(ctx context.Context, owner string, lease time.Duration) (*switchboard.A2PBatch, error) {
	if owner == "" || lease <= 0 {
		return nil, fmt.Errorf("sqlstore: claim A2P batch: owner %q and lease %v must be set", owner, lease)
	}
	// Probe with a read first: idle polls then write nothing.
	var due bool
	err := db.read(ctx, func(tx *tx) error {
		return tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM a2p_batches
			WHERE status <> 'Completed' AND expanded < batch_size AND lease_until <= $1)`, toMillis(tx.now)).Scan(&due)
	})
	if err != nil || !due {
		if err == nil {
			err = switchboard.ErrNotFound
		}
		return nil, db.wrap(err, "claim A2P batch")
	}
	var b *switchboard.A2PBatch
	err = db.write(ctx, func(tx *tx) error {
		now := toMillis(tx.now)
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM a2p_batches
			WHERE status <> 'Completed' AND expanded < batch_size AND lease_until <= $1
			ORDER BY id LIMIT 1 `+db.dialect.claimLock, now).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return switchboard.ErrNotFound
		}
		if err != nil {
			return err
		}
		b, err = scanA2PBatch(tx.QueryRowContext(ctx, `UPDATE a2p_batches
			SET lease_owner = $1, lease_until = $2, modified_at = $3
			WHERE id = $4 RETURNING `+a2pBatchColumns,
			owner, now+lease.Milliseconds(), now, id))
		return err
	})
	if err != nil {
		return nil, db.wrap(err, "claim A2P batch for %s", owner)
	}
	return b, nil
}

// A2PItems returns up to limit items of a batch from index from on.
func (db *DB) A2PItems(ctx context.Context, batchID int64, from, limit int) ([]switchboard.A2PItem, error) {
	var out []switchboard.A2PItem
	err := db.read(ctx, func(tx *tx) error {
		var err error
		out, err = queryAll(ctx, tx, func(s scanner) (switchboard.A2PItem, error) {
			var it switchboard.A2PItem
			var text sql.NullString
			err := s.Scan(&it.To, &text)
			it.Text = text.String
			return it, err
		}, `SELECT recipient, text FROM a2p_batch_items WHERE batch_id = $1 AND idx >= $2 ORDER BY idx LIMIT $3`,
			batchID, from, limit)
		return err
	})
	return out, db.wrap(err, "read items of A2P batch %d", batchID)
}

// ExpandA2P stores a chunk of a batch's messages in the outbox.
func (db *DB) ExpandA2P(ctx context.Context, owner string, batchID int64, from int, msgs []switchboard.OutboundCreate, lease time.Duration) error {
	prepared := make([]switchboard.OutboundCreate, len(msgs))
	for i, c := range msgs {
		var err error
		if len(c.Recipients) == 0 {
			// Refused before sending (an opted-out recipient): stored as
			// failed, with no delivery.
			c.Message.MessageStatus = switchboard.StatusSendingFailed
			err = c.Message.Validate()
		} else {
			err = c.Validate()
		}
		if err != nil {
			return fmt.Errorf("sqlstore: expand A2P batch %d: message %d: %w", batchID, from+i, err)
		}
		prepared[i] = c
	}
	err := db.write(ctx, func(tx *tx) error {
		now := toMillis(tx.now)
		var expanded, size int
		err := tx.QueryRowContext(ctx, `SELECT expanded, batch_size FROM a2p_batches
			WHERE id = $1 AND lease_owner = $2 AND lease_until > $3 `+tx.rowLock, batchID, owner, now).Scan(&expanded, &size)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && expanded != from) {
			return switchboard.ErrLeaseLost
		}
		if err != nil {
			return err
		}
		if from+len(prepared) > size {
			return fmt.Errorf("chunk %d..%d is past the batch's %d messages", from, from+len(prepared), size)
		}
		chunk := make([]*switchboard.OutboundCreate, len(prepared))
		for i := range prepared {
			prepared[i].Message.A2PBatchID, prepared[i].Message.A2PIndex = batchID, from+i
			chunk[i] = &prepared[i]
		}
		if _, err := insertOutbound(ctx, tx, chunk); err != nil {
			return err
		}
		end := from + len(prepared)
		if _, err := tx.ExecContext(ctx, `UPDATE a2p_batches SET expanded = $1, lease_until = $2, modified_at = $3 WHERE id = $4`,
			end, now+lease.Milliseconds(), now, batchID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM a2p_batch_items WHERE batch_id = $1 AND idx < $2`, batchID, end)
		return err
	})
	return db.wrap(err, "expand A2P batch %d from message %d", batchID, from)
}

// CompleteA2PBatches marks Completed the expanded batches with no Queued
// message left.
func (db *DB) CompleteA2PBatches(ctx context.Context) ([]*switchboard.A2PBatch, error) {
	var ids []int64
	err := db.read(ctx, func(tx *tx) error {
		var err error
		ids, err = queryAll(ctx, tx, scanID, `SELECT b.id FROM a2p_batches b WHERE b.status <> 'Completed' AND b.expanded = b.batch_size
			AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.a2p_batch_id = b.id AND m.message_status = 'Queued')`)
		return err
	})
	if err != nil || len(ids) == 0 {
		return nil, db.wrap(err, "find completed A2P batches")
	}
	var done []*switchboard.A2PBatch
	err = db.write(ctx, func(tx *tx) error {
		var a args
		now := a.add(toMillis(tx.now))
		var err error
		// The condition is repeated: a message may have been queued again
		// (a retry) since the read, and another node may have done it.
		done, err = queryAll(ctx, tx, scanA2PBatch, `UPDATE a2p_batches SET status = 'Completed', lease_owner = '', lease_until = 0, modified_at = `+now+`
			WHERE id IN (`+inList(&a, ids)+`) AND status <> 'Completed' AND expanded = batch_size
			AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.a2p_batch_id = a2p_batches.id AND m.message_status = 'Queued')
			RETURNING `+a2pBatchColumns, a...)
		for _, b := range done {
			logBatch(tx, b)
		}
		return err
	})
	for _, b := range done {
		b.ProcessedCount = b.BatchSize
	}
	return done, db.wrap(err, "complete A2P batches")
}

// a2pMessageWhere builds the WHERE clause of the A2P message queries.
func a2pMessageWhere(f switchboard.A2PMessageFilter, a *args) string {
	w := `m.account_id = ` + a.add(f.AccountID) + ` AND m.a2p_batch_id IS NOT NULL`
	if f.ExtensionID != 0 {
		w += ` AND m.extension_id = ` + a.add(f.ExtensionID)
	}
	if f.BatchID != 0 {
		w += ` AND m.a2p_batch_id = ` + a.add(f.BatchID)
	}
	if len(f.Directions) > 0 {
		w += ` AND m.direction IN (` + inList(a, f.Directions) + `)`
	}
	if len(f.PhoneNumbers) > 0 {
		w += ` AND EXISTS (SELECT 1 FROM message_parties p WHERE p.message_id = m.id AND p.phone_number IN (` +
			inList(a, f.PhoneNumbers) + `))`
	}
	if !f.DateFrom.IsZero() {
		w += ` AND m.created_at >= ` + a.add(toMillis(f.DateFrom))
	}
	if !f.DateTo.IsZero() {
		w += ` AND m.created_at < ` + a.add(toMillis(f.DateTo))
	}
	return w
}

func scanA2PMessage(s scanner) (*switchboard.A2PMessage, error) {
	var batch int64
	m, err := scanMessage(scanFunc(func(dest ...any) error { return s.Scan(append(dest, &batch)...) }))
	if err != nil {
		return nil, err
	}
	return &switchboard.A2PMessage{Message: m, BatchID: batch}, nil
}

// scanFunc adapts a function to scanner.
type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// A2PMessages lists an account's A2P messages, newest first.
func (db *DB) A2PMessages(ctx context.Context, f switchboard.A2PMessageFilter) ([]*switchboard.A2PMessage, bool, error) {
	var a args
	q := `SELECT ` + messageColumns + `, m.a2p_batch_id FROM messages m WHERE ` + a2pMessageWhere(f, &a)
	if f.BeforeID > 0 {
		q += ` AND m.id < ` + a.add(f.BeforeID)
	}
	q += ` ORDER BY m.id DESC LIMIT ` + a.add(f.Limit+1)
	var out []*switchboard.A2PMessage
	err := db.read(ctx, func(tx *tx) error {
		var err error
		out, err = queryAll(ctx, tx, scanA2PMessage, q, a...)
		return err
	})
	if err != nil {
		return nil, false, db.wrap(err, "list A2P messages of account %d", f.AccountID)
	}
	more := len(out) > f.Limit
	if more {
		out = out[:f.Limit]
	}
	return out, more, nil
}

// A2PMessage returns one A2P message of the account.
func (db *DB) A2PMessage(ctx context.Context, accountID, id int64) (*switchboard.A2PMessage, error) {
	var m *switchboard.A2PMessage
	err := db.read(ctx, func(tx *tx) error {
		var err error
		m, err = scanA2PMessage(tx.QueryRowContext(ctx, `SELECT `+messageColumns+`, m.a2p_batch_id FROM messages m
			WHERE m.id = $1 AND m.account_id = $2 AND m.a2p_batch_id IS NOT NULL`, id, accountID))
		if errors.Is(err, sql.ErrNoRows) {
			return switchboard.ErrNotFound
		}
		return err
	})
	return m, db.wrap(err, "read A2P message %d", id)
}

// A2PStatuses counts A2P messages by status and error code.
func (db *DB) A2PStatuses(ctx context.Context, f switchboard.A2PMessageFilter) ([]switchboard.A2PStatusCount, error) {
	q, a := a2pStatusesQuery(f)
	var out []switchboard.A2PStatusCount
	err := db.read(ctx, func(tx *tx) error {
		var err error
		out, err = queryAll(ctx, tx, func(s scanner) (switchboard.A2PStatusCount, error) {
			var c switchboard.A2PStatusCount
			return c, s.Scan(&c.Status, &c.ErrorCode, &c.Count)
		}, q, a...)
		return err
	})
	return out, db.wrap(err, "count A2P messages of account %d", f.AccountID)
}

// a2pStatusesQuery counts f's messages by status and error code, from
// messages_a2p_status alone when f names a batch (TestDeliveryQueryPlans).
func a2pStatusesQuery(f switchboard.A2PMessageFilter) (string, args) {
	var a args
	return `SELECT m.message_status, m.delivery_error_code, count(*) FROM messages m WHERE ` + a2pMessageWhere(f, &a) +
		` GROUP BY m.message_status, m.delivery_error_code`, a
}

// SetOptOuts records each recipient's status for the sender number.
func (db *DB) SetOptOuts(ctx context.Context, accountID int64, from string, to []string, status switchboard.OptOutStatus, source switchboard.OptOutSource) error {
	err := db.write(ctx, func(tx *tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO a2p_opt_outs (from_number, to_number, account_id, status, source, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (from_number, to_number) DO UPDATE
			SET account_id = excluded.account_id, status = excluded.status, source = excluded.source, updated_at = excluded.updated_at`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, n := range to {
			if _, err := stmt.ExecContext(ctx, from, n, accountID, status, source, toMillis(tx.now)); err != nil {
				return err
			}
		}
		return nil
	})
	return db.wrap(err, "record %s of %d recipients for %s", status, len(to), from)
}

// OptedOut returns which recipients opted out of from.
func (db *DB) OptedOut(ctx context.Context, from string, to []string) (map[string]bool, error) {
	out := map[string]bool{}
	err := db.read(ctx, func(tx *tx) error {
		return inChunks(to, func(part []string) error {
			a := args{from}
			ns, err := queryAll(ctx, tx, func(s scanner) (string, error) {
				var n string
				return n, s.Scan(&n)
			}, `SELECT to_number FROM a2p_opt_outs WHERE from_number = $1 AND status = 'OptOut'
				AND to_number IN (`+inList(&a, part)+`)`, a...)
			for _, n := range ns {
				out[n] = true
			}
			return err
		})
	})
	return out, db.wrap(err, "read opt-outs of %s", from)
}

// OptOuts lists an account's opt-out records by (from, to).
func (db *DB) OptOuts(ctx context.Context, f switchboard.OptOutFilter) ([]*switchboard.OptOutRecord, bool, error) {
	var a args
	q := `SELECT from_number, to_number, account_id, status, source, updated_at FROM a2p_opt_outs WHERE account_id = ` + a.add(f.AccountID)
	if f.From != "" {
		q += ` AND from_number = ` + a.add(f.From)
	}
	if f.To != "" {
		q += ` AND to_number = ` + a.add(f.To)
	}
	if f.Status != "" {
		q += ` AND status = ` + a.add(f.Status)
	}
	if f.AfterFrom != "" {
		af, at := a.add(f.AfterFrom), a.add(f.AfterTo)
		q += ` AND (from_number > ` + af + ` OR (from_number = ` + af + ` AND to_number > ` + at + `))`
	}
	q += ` ORDER BY from_number, to_number LIMIT ` + a.add(f.Limit+1)
	var out []*switchboard.OptOutRecord
	err := db.read(ctx, func(tx *tx) error {
		var err error
		out, err = queryAll(ctx, tx, func(s scanner) (*switchboard.OptOutRecord, error) {
			var r switchboard.OptOutRecord
			var at int64
			err := s.Scan(&r.From, &r.To, &r.AccountID, &r.Status, &r.Source, &at)
			r.Updated = fromMillis(at)
			return &r, err
		}, q, a...)
		return err
	})
	if err != nil {
		return nil, false, db.wrap(err, "list opt-outs of account %d", f.AccountID)
	}
	more := len(out) > f.Limit
	if more {
		out = out[:f.Limit]
	}
	return out, more, nil
}
