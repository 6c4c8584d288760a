package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// ClockOffset implements switchboard.ClockStore.
func (db *DB) ClockOffset(ctx context.Context) (time.Duration, error) {
	var ms int64
	err := db.read(ctx, func(tx *tx) error {
		return tx.QueryRowContext(ctx, `SELECT offset_ms FROM emulator_clock WHERE id = 1`).Scan(&ms)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return time.Duration(ms) * time.Millisecond, db.wrap(err, "read the emulator clock")
}

// SaveClockOffset implements switchboard.ClockStore. The row keeps the
// larger offset, so concurrent advances (or nodes) never move it back.
func (db *DB) SaveClockOffset(ctx context.Context, offset time.Duration) error {
	err := db.write(ctx, func(tx *tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO emulator_clock (id, offset_ms) VALUES (1, $1)
			ON CONFLICT (id) DO UPDATE SET offset_ms = CASE WHEN emulator_clock.offset_ms < excluded.offset_ms
				THEN excluded.offset_ms ELSE emulator_clock.offset_ms END`, offset.Milliseconds())
		return err
	})
	return db.wrap(err, "save the emulator clock")
}
