package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/metrics"
)

// Instrument makes the store count the messages it creates into m (after
// their commit, so a rolled-back or retried write counts once or not at
// all) and exports its connection pools and its backlog (outbox depth,
// oldest due delivery, WebHook lag), read at scrape time. Call it before
// the store is used.
func (db *DB) Instrument(m *metrics.Metrics) {
	db.metrics = m
	pools := map[string]*sql.DB{"writer": db.writer}
	if db.reader != db.writer {
		pools["reader"] = db.reader
	} else {
		pools = map[string]*sql.DB{"main": db.writer}
	}
	m.RegisterDBPools(pools)
	m.RegisterBacklog(db.Backlog, 5*time.Second)
}

// countCreated counts the messages a committed transaction stored.
func (db *DB) countCreated(changes []loggedChange) {
	if db.metrics == nil {
		return
	}
	for _, c := range changes {
		if c.kind == switchboard.ChangeCreated {
			db.metrics.MessagesCreated.WithLabelValues(string(c.typ), string(c.direction)).Inc()
		}
	}
}

// countCompleted counts the deliveries a committed transaction completed
// as it accepted their sends.
func (db *DB) countCompleted(o switchboard.InternalOutcome) {
	if db.metrics != nil && o != (switchboard.InternalOutcome{}) {
		db.metrics.InternalDeliveries(o.Delivered, o.Failed)
	}
}

// Backlog reads what is waiting: outbox deliveries by state, the earliest
// next attempt of a pending one, and how far the WebHook subscription
// furthest behind is from the change-log head. It also returns the
// store's clock reading, which the age is measured against.
func (db *DB) Backlog(ctx context.Context) (metrics.Backlog, time.Time, error) {
	var b metrics.Backlog
	now := db.clock.Now()
	err := db.read(ctx, func(tx *tx) error {
		var oldest sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT
				COALESCE(SUM(CASE WHEN state = $1 THEN 1 ELSE 0 END), 0),
				COALESCE(SUM(CASE WHEN state = $2 THEN 1 ELSE 0 END), 0),
				MIN(CASE WHEN state = $1 AND next_attempt_at < $3 THEN next_attempt_at END)
			FROM deliveries WHERE state IN ($1, $2)`,
			switchboard.DeliveryPending, switchboard.DeliverySubmitted, heldDelivery).Scan(&b.OutboxPending, &b.OutboxSubmitted, &oldest); err != nil {
			return err
		}
		if oldest.Valid {
			b.OldestDue = fromMillis(oldest.Int64)
		}
		return tx.QueryRowContext(ctx, `SELECT COALESCE((SELECT MAX(seq) FROM changes), 0) - COALESCE(
				(SELECT MIN(change_cursor) FROM subscriptions WHERE transport = 'WebHook' AND status = 'Active'),
				(SELECT MAX(seq) FROM changes), 0)`).Scan(&b.WebHookLag)
	})
	if b.WebHookLag < 0 {
		b.WebHookLag = 0 // a new subscription's cursor can be past the rows a pruned log kept
	}
	return b, now, db.wrap(err, "read backlog")
}

// ReleaseLeases gives up every lease owner holds (deliveries, WebHook
// subscriptions, transcription jobs, exports, A2P batches), as a node does when it shuts down:
// another node, or this one after its restart, takes the work at once
// instead of after the leases expire. A transcription job interrupted this
// way does not count as a failed attempt. It reports how many leases it
// released.
func (db *DB) ReleaseLeases(ctx context.Context, owner string) (int64, error) {
	var n int64
	err := db.write(ctx, func(tx *tx) error {
		n = 0
		for _, q := range []string{
			`UPDATE deliveries SET lease_owner = '', lease_until = 0 WHERE lease_owner = $1`,
			`UPDATE subscriptions SET lease_owner = '', lease_until = 0 WHERE lease_owner = $1`,
			`UPDATE transcriptions SET lease_owner = '', lease_until = 0,
				attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END WHERE lease_owner = $1`,
			`UPDATE fax_renders SET lease_owner = '', lease_until = 0,
				attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END WHERE lease_owner = $1`,
			`UPDATE export_tasks SET lease_owner = '', lease_until = 0,
				attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END WHERE lease_owner = $1 AND status = 'InProgress'`,
			`UPDATE a2p_batches SET lease_owner = '', lease_until = 0 WHERE lease_owner = $1`,
		} {
			res, err := tx.ExecContext(ctx, q, owner)
			if err != nil {
				return err
			}
			k, _ := res.RowsAffected()
			n += k
		}
		return nil
	})
	return n, db.wrap(err, "release leases of %s", owner)
}
