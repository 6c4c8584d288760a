// Package sqlstore implements switchboard.Store over database/sql.
//
// The SQL is hand-written with $1, $2… placeholders and the subset of SQL
// that SQLite and PostgreSQL share (INSERT … RETURNING, ON CONFLICT, window
// functions), so one text serves both backends. What differs per backend
// (connection set-up, migration directory, reading driver errors) is kept
// in one file per backend (sqlite.go).
//
// Public methods own their transaction and delegate to private helpers that
// take the transaction, so helpers compose and every timestamp written by
// one call is the same instant, read once from the injected clock.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/switchboardhq/switchboard"
)

// DB is the store. It is safe for concurrent use.
type DB struct {
	// writer has exactly one connection: SQLite allows one writer at a time
	// and queueing in database/sql is cheaper than SQLITE_BUSY retries.
	writer  *sql.DB
	reader  *sql.DB
	clock   switchboard.Clock
	dialect dialect
	group   writeGroup      // concurrent outbox writes share commits (group.go)
	changes changeBroadcast // wakes change-log readers after commits (watch.go)

	writerStmts, readerStmts *stmtCache // nil on PostgreSQL: pgx caches statements itself
	listener                 *listener  // PostgreSQL: other nodes' commits (pglisten.go)
}

var _ switchboard.Store = (*DB)(nil)

// dialect is what the shared SQL code needs to know about a backend.
type dialect struct {
	name string
	// classify reports which constraint, if any, a driver error violated.
	classify func(error) constraint
	// compact makes erased bytes leave the database's files.
	compact func(ctx context.Context, db *DB) error
	// claimLock ends the select of rows a worker is about to lease: ""
	// where one writer at a time holds the database (SQLite), "FOR UPDATE
	// SKIP LOCKED" where concurrent writers must skip each other's rows.
	claimLock string
	// readOptions begin a read transaction: read-only, one snapshot.
	readOptions *sql.TxOptions
	// logChanges, when set, is run first in every write transaction that
	// may append to the change log (see logChangesPostgres).
	logChanges string
	// unavailable reports that an error means the database is out of
	// reach (nil: never), so callers can answer 503 and retry.
	unavailable func(error) bool
}

type constraint int

const (
	noConstraint constraint = iota
	uniqueConstraint
	foreignKeyConstraint
)

// Ping reports whether both pools answer.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.writer.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlstore: ping writer: %w", err)
	}
	if err := db.reader.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlstore: ping reader: %w", err)
	}
	return nil
}

// Close closes both pools. The writer goes last so that SQLite, on closing
// the last connection, checkpoints the WAL into the main file.
func (db *DB) Close() error {
	db.listener.stop()
	errs := []error{db.readerStmts.close(), db.writerStmts.close()}
	if db.reader != db.writer {
		errs = append(errs, db.reader.Close())
	}
	return errors.Join(append(errs, db.writer.Close())...)
}

// Dialect names the backend: "sqlite" or "postgres".
func (db *DB) Dialect() string { return db.dialect.name }

// migrate applies every pending migration of fsys. A database written by a
// newer binary is refused rather than used with a schema we do not know.
func migrate(ctx context.Context, conn *sql.DB, d goose.Dialect, fsys fs.FS, opts ...goose.ProviderOption) error {
	p, err := goose.NewProvider(d, conn, fsys, append([]goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}, opts...)...)
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return err
	}
	current, target, err := p.GetVersions(ctx)
	if err != nil {
		return err
	}
	if current > target {
		return fmt.Errorf("schema version %d is newer than this binary knows (%d): run a newer switchboard", current, target)
	}
	return nil
}

// tx is a transaction with the one instant every write in it uses.
type tx struct {
	*sql.Tx
	now   time.Time  // UTC, whole milliseconds, as stored
	cache *stmtCache // the pool's prepared statements (stmtcache.go)
}

// write runs fn in a transaction on the writer and commits if fn succeeds.
// fn may append to the change log.
func (db *DB) write(ctx context.Context, fn func(*tx) error) error {
	return db.writeTx(ctx, true, fn)
}

// writeUnlogged is write for transactions that never touch the change log
// (tokens, delivery claims): on PostgreSQL they skip the change-log lock
// and run concurrently with other writers.
func (db *DB) writeUnlogged(ctx context.Context, fn func(*tx) error) error {
	return db.writeTx(ctx, false, fn)
}

func (db *DB) writeTx(ctx context.Context, logged bool, fn func(*tx) error) error {
	t, err := db.writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if logged && db.dialect.logChanges != "" {
		if _, err := t.ExecContext(ctx, db.dialect.logChanges); err != nil {
			_ = t.Rollback()
			return err
		}
	}
	// Statements missed by this transaction are prepared once it has
	// released the writer's only connection.
	defer db.writerStmts.prepareWanted(context.WithoutCancel(ctx))
	if err := fn(&tx{Tx: t, now: fromMillis(toMillis(db.clock.Now())), cache: db.writerStmts}); err != nil {
		_ = t.Rollback()
		return err
	}
	if err := t.Commit(); err != nil {
		return err
	}
	db.changes.signal()
	return nil
}

// read runs fn in a read-only transaction on the reader pool, so every
// query of fn sees the same snapshot.
func (db *DB) read(ctx context.Context, fn func(*tx) error) error {
	t, err := db.reader.BeginTx(ctx, db.dialect.readOptions)
	if err != nil {
		return err
	}
	defer db.readerStmts.prepareWanted(context.WithoutCancel(ctx)) // runs after the rollback below
	defer func() { _ = t.Rollback() }()
	return fn(&tx{Tx: t, now: fromMillis(toMillis(db.clock.Now())), cache: db.readerStmts})
}

// formatError turns driver errors into the domain's: a missing row is
// switchboard.ErrNotFound, a taken unique value is switchboard.ErrConflict
// and a reference to a missing row (foreign key) is ErrNotFound too. The
// driver's text is kept after the domain error, so logs say which
// constraint failed while errors.Is still matches.
func (db *DB) formatError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return switchboard.ErrNotFound
	}
	switch db.dialect.classify(err) {
	case uniqueConstraint:
		return fmt.Errorf("%w: %v", switchboard.ErrConflict, err)
	case foreignKeyConstraint:
		return fmt.Errorf("%w: %v", switchboard.ErrNotFound, err)
	}
	return err
}

// wrap prefixes an error with the operation that failed. Client-facing
// *switchboard.Error values pass unchanged: they already say what is wrong
// in the caller's terms.
func (db *DB) wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	if e := switchboard.AsError(err); e != nil {
		return e
	}
	if db.dialect.unavailable != nil && !errors.Is(err, switchboard.ErrUnavailable) && db.dialect.unavailable(err) {
		err = fmt.Errorf("%w: %w", switchboard.ErrUnavailable, err)
	}
	return fmt.Errorf("sqlstore: "+format+": %w", append(args, db.formatError(err))...)
}

func toMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// args collects positional arguments and hands out their $N placeholders,
// so dynamically built queries keep numbering right.
type args []any

func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// inList adds each value and returns "$3, $4, $5" for an IN (…) list.
func inList[T any](a *args, vs []T) string {
	ps := make([]string, len(vs))
	for i, v := range vs {
		ps[i] = a.add(v)
	}
	return strings.Join(ps, ", ")
}

// limitArg turns "0 means no limit" into a number both dialects take:
// SQLite has no OFFSET without LIMIT and PostgreSQL no LIMIT -1.
func limitArg(limit int) int64 {
	if limit <= 0 {
		return math.MaxInt64
	}
	return int64(limit)
}

// chunk bounds IN lists well below SQLite's 32766 and PostgreSQL's 65535
// parameter limits.
const chunk = 500

func inChunks[T any](vs []T, fn func([]T) error) error {
	for len(vs) > 0 {
		n := min(len(vs), chunk)
		if err := fn(vs[:n]); err != nil {
			return err
		}
		vs = vs[n:]
	}
	return nil
}

// nullString stores "" as NULL, for optional columns with a UNIQUE
// constraint (two rows without the value must not collide).
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// nullID stores 0 as NULL, for optional foreign keys.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func joinFields(fs []string) string { return strings.Join(fs, " ") }

func splitFields(s string) []string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return nil
	}
	return f
}

// rowsAffected turns "no row matched" into ErrNotFound.
func rowsAffected(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return switchboard.ErrNotFound
	}
	return nil
}

func requireStatus(status string) error {
	if strings.TrimSpace(status) == "" {
		return switchboard.InvalidParam("status", status, "Status is required")
	}
	return nil
}

// flag stores a bool as the integer 0 or 1: SQLite has no boolean type,
// so both schemas keep flags as integers, and PostgreSQL will not bind a
// Go bool to an integer column.
func flag(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
