package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/switchboardhq/switchboard"
)

// Everything that is SQLite-only lives in this file: the DSN, the pools,
// the migration directory and the reading of driver errors. The SQL in the
// aggregate files is shared with PostgreSQL.

//go:embed migrations/sqlite/*.sql
var sqliteMigrations embed.FS

// SQLiteOptions tunes the SQLite backend.
type SQLiteOptions struct {
	// Synchronous is "FULL" (the default: an acknowledged write survives
	// power loss) or "NORMAL" (faster; survives a crash of the process, may
	// lose the last commits on power loss).
	Synchronous string
}

// readerConns bounds the read pool. Reads in WAL mode never wait for the
// writer, so a few connections are enough to keep list queries concurrent.
const readerConns = 4

var sqliteDialect = dialect{
	full:        fullSQLite,
	unavailable: unavailableSQLite,
	name:        "sqlite",
	classify:    classifySQLite,
	compact:     compactSQLite,
	readOptions: &sql.TxOptions{ReadOnly: true},
	reserveAttachmentIDs: func(ctx context.Context, tx *tx, n int) ([]int64, error) {
		// AUTOINCREMENT hands out max(seq, largest id) + 1, so ids up to
		// the raised seq are never handed out again.
		var last int64
		err := tx.QueryRowContext(ctx, `UPDATE sqlite_sequence SET seq = seq + $1 WHERE name = 'attachments' RETURNING seq`, n).Scan(&last)
		ids := make([]int64, n)
		for i := range ids {
			ids[i] = last - int64(n-1-i)
		}
		return ids, err
	},
}

// OpenSQLite opens (creating when missing) the SQLite database at path,
// applies pending migrations and returns the store. Writes are serialised
// on one connection; reads use a separate pool so they never queue behind
// a write.
func OpenSQLite(ctx context.Context, path string, clock switchboard.Clock, opts SQLiteOptions) (*DB, error) {
	if clock == nil {
		return nil, errors.New("sqlstore: open database: no clock given (pass switchboard.SystemClock{})")
	}
	sync := strings.ToUpper(opts.Synchronous)
	switch sync {
	case "":
		sync = "FULL"
	case "FULL", "NORMAL":
	default:
		return nil, fmt.Errorf("sqlstore: open database %s: synchronous mode %q is not supported (use FULL or NORMAL)", path, opts.Synchronous)
	}
	if path == "" {
		return nil, errors.New("sqlstore: open database: empty path (set the data directory)")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open database %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return nil, fmt.Errorf("sqlstore: create directory of database %s: %w (can the server create it? check the permissions of its parent)", path, err)
	}
	// Create the file ourselves so it is private from the start: it holds
	// password hashes and the JWT signing key, and SQLite gives the -wal and
	// -shm files the permissions of the database file.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open database %s: %w (is the directory writable?)", path, err)
	}
	_ = f.Close()

	writer, err := sql.Open("sqlite", sqliteDSN(abs, url.Values{
		"_pragma": {
			"busy_timeout(10000)",
			"journal_mode(WAL)",
			"synchronous(" + sync + ")",
			"foreign_keys(1)",
			// Purged attachments must leave the file, not just the index.
			"secure_delete(1)",
			// Every grouped write runs under a savepoint, whose statement
			// journal SQLite otherwise spills to a temporary file: a pwrite
			// per page first touched, a tenth of a send's CPU when
			// measured. The journal only ever holds one transaction's
			// pages, so memory is bounded by maxGroup writes.
			"temp_store(MEMORY)",
		},
		// Take the write lock at BEGIN: a deferred transaction that reads
		// first and upgrades later can fail with SQLITE_BUSY without waiting.
		"_txlock": {"immediate"},
	}))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open database %s: %w", path, err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)
	if err := writer.PingContext(ctx); err != nil {
		_ = writer.Close()
		return nil, fmt.Errorf("sqlstore: open database %s: %w (is the directory writable and the file a SQLite database?)", path, err)
	}

	sub, err := fs.Sub(sqliteMigrations, "migrations/sqlite")
	if err != nil {
		_ = writer.Close()
		return nil, fmt.Errorf("sqlstore: open database %s: %w", path, err)
	}
	if err := migrate(ctx, writer, goose.DialectSQLite3, sub); err != nil {
		_ = writer.Close()
		// goose runs each migration in a transaction, so a failed one left
		// the file as it was.
		return nil, fmt.Errorf("sqlstore: migrate database %s: %w (the failed migration was rolled back; check free disk space, or restore a backup if the file was changed by hand)", path, err)
	}

	reader, err := sql.Open("sqlite", sqliteDSN(abs, url.Values{
		"_pragma":     {"busy_timeout(10000)", "foreign_keys(1)"},
		"_query_only": {"1"},
	}))
	if err != nil {
		_ = writer.Close()
		return nil, fmt.Errorf("sqlstore: open database %s for reading: %w", path, err)
	}
	reader.SetMaxOpenConns(readerConns)
	reader.SetMaxIdleConns(readerConns)
	reader.SetConnMaxLifetime(0)
	reader.SetConnMaxIdleTime(0)
	if err := reader.PingContext(ctx); err != nil {
		_ = reader.Close()
		_ = writer.Close()
		return nil, fmt.Errorf("sqlstore: open database %s for reading: %w", path, err)
	}
	db := &DB{writer: writer, reader: reader, clock: clock, dialect: sqliteDialect,
		writerStmts: newStmtCache(writer, true), readerStmts: newStmtCache(reader, true)}
	db.storage.dir = filepath.Dir(abs)
	return db, nil
}

// sqliteDSN builds a URI filename: the path is escaped so that '?', '#'
// and '%' in a directory name cannot be mistaken for URI syntax.
func sqliteDSN(absPath string, params url.Values) string {
	r := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
	return "file:" + r.Replace(filepath.ToSlash(absPath)) + "?" + params.Encode()
}

func classifySQLite(err error) constraint {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return noConstraint
	}
	switch e.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return uniqueConstraint
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return foreignKeyConstraint
	}
	return noConstraint
}

// compactSQLite checkpoints the WAL into the database file and truncates
// the WAL to zero bytes. With secure_delete, erased content was overwritten
// in the pages written to the WAL; the checkpoint copies those pages over
// the old ones in the main file and the truncation drops the WAL's older
// frames, which may still hold the bytes. It runs on the writer, so no
// write is in progress; open read transactions on older snapshots make it
// wait (busy_timeout) and, if they outlast that, fail as busy.
func compactSQLite(ctx context.Context, db *DB) error {
	var busy, logFrames, checkpointed int
	if err := db.writer.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &checkpointed); err != nil {
		return fmt.Errorf("wal checkpoint: %w", err)
	}
	if busy != 0 {
		return fmt.Errorf("wal checkpoint was busy (%d of %d WAL frames copied): long-running reads held the log; erased bytes may remain in the -wal file until the next compaction", checkpointed, logFrames)
	}
	return nil
}
