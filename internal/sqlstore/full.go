package sqlstore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/switchboardhq/switchboard"
)

// A full disk (or quota) is an outage, not a bug: writes fail with
// switchboard.ErrStorageFull (an ErrUnavailable, so the API answers 503
// with Retry-After and the workers back off), and the health check fails
// until the database can be written again.

// storage is what the store knows of its storage's room.
type storage struct {
	// full is set when a write failed for lack of space, and cleared by a
	// health check that could write again.
	full atomic.Bool
	// dir is the SQLite database's directory, whose free space the health
	// check reads; "" on PostgreSQL (its disks are the server's).
	dir string
}

// minFreeBytes is the free space below which a SQLite database counts as
// unwritable: a write needs room for its WAL frames, and a checkpoint for
// the pages it copies.
const minFreeBytes = 1 << 20

func fullSQLite(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_FULL
}

// unavailableSQLite: the file cannot be written or read (a full disk, an
// I/O error): 503, not 500.
func unavailableSQLite(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && (e.Code()&0xff == sqlite3.SQLITE_FULL || e.Code()&0xff == sqlite3.SQLITE_IOERR)
}

// fullPostgres: disk_full (53100), and out of memory for the same answer.
func fullPostgres(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "53100" || pe.Code == "53200")
}

// markFull records a write that failed for lack of space.
func (db *DB) markFull(err error) error {
	if db.dialect.full == nil || !db.dialect.full(err) || errors.Is(err, switchboard.ErrStorageFull) {
		return err
	}
	db.storage.full.Store(true)
	return fmt.Errorf("%w: %w", switchboard.ErrStorageFull, err)
}

// checkWritable is the health check's part: the SQLite file system has
// room, and after a write failed for lack of space a probe write works.
func (db *DB) checkWritable(ctx context.Context) error {
	if db.storage.dir != "" {
		if free, ok := freeBytes(db.storage.dir); ok && free < minFreeBytes {
			return fmt.Errorf("sqlstore: %w: %d bytes free in %s", switchboard.ErrStorageFull, free, db.storage.dir)
		}
	}
	if !db.storage.full.Load() {
		return nil
	}
	data := make([]byte, 64<<10) // a write of some size: a tiny one may fit where real ones do not
	_, _ = rand.Read(data)
	err := db.write(ctx, func(tx *tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO storage_probe (id, data) VALUES (1, $1)
			ON CONFLICT (id) DO UPDATE SET data = excluded.data`, data)
		return err
	})
	if err != nil {
		return db.wrap(err, "probe write")
	}
	db.storage.full.Store(false)
	return nil
}
