package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/switchboardhq/switchboard"
)

// Everything that is PostgreSQL-only lives in this file and in
// pglisten.go: the connection settings, the pool, the migration directory,
// the reading of driver errors and the change-log lock. The SQL in the
// aggregate files is shared with SQLite.

//go:embed migrations/postgres/*.sql
var postgresMigrations embed.FS

// PostgresOptions tunes the PostgreSQL backend. Zero values take the
// defaults.
type PostgresOptions struct {
	// MaxConns bounds the pool that serves reads and writes (default 16).
	MaxConns int
	// StatementTimeout cancels any statement that runs longer (default
	// 30s), so a stuck query cannot hold a connection and its locks for
	// ever.
	StatementTimeout time.Duration
	// ConnectTimeout bounds opening one connection (default 5s), so an
	// unreachable server fails a request instead of hanging it.
	ConnectTimeout time.Duration
}

const (
	defaultPostgresConns     = 16
	postgresWriteGroups      = 4 // grouped transactions in flight at once per node
	defaultStatementTimeout  = 30 * time.Second
	defaultPGConnectTimeout  = 5 * time.Second
	changeLogLockKey         = 0x5357_4348_4c4f_4701 // "SWCHLOG" + 1: the change-log lock
	compactLockKey           = 0x5357_4348_4c4f_4702 // one node compacts at a time
	changesChannel           = "switchboard_changes"
	postgresMigrationLockKey = 0x5357_4348_4d49_4701 // goose's session lock
)

// logChangesPostgres runs in every write transaction just before it inserts
// its change-log rows, which are its last statements (flushChanges).
//
// Why a lock: message-sync tokens (and notification cursors) are positions
// (seq) in the changes table, and a reader that has passed seq N must never
// later see a change with a smaller seq. On SQLite one writer at a time
// makes that so. On PostgreSQL a sequence hands out numbers in the order
// transactions ask for them, not in the order they commit: T1 takes seq 10,
// T2 takes seq 11 and commits, a reader reads up to 11, then T1 commits 10
// behind it and the reader never sees it. Holding one transaction-scoped
// advisory lock from before the first seq is taken until the commit makes
// allocation order commit order: PostgreSQL makes a commit visible before it
// releases the transaction's locks, so when the next writer gets the lock
// (and its seqs) every smaller seq is already visible.
//
// The lock is held only for the end of the transaction: the change rows
// are its last writes, so everything else (messages, deliveries, row
// locks) runs concurrently across transactions and nodes, and only "insert
// the change rows, commit" is serialised. While holding the lock a
// transaction inserts only new rows into changes and so waits for no row
// lock: it cannot be part of a deadlock. (Row-lock deadlocks between
// concurrent writers are still possible, as in any PostgreSQL application,
// e.g. two mailbox counters updated in opposite orders; PostgreSQL breaks
// them and write runs the losing transaction again.) Writes that log no
// change (tokens, delivery claims) never take the lock.
//
// pg_notify in the same statement tells every node's listener (pglisten.go)
// at commit, and only at commit, that the log may have grown.
var logChangesPostgres = `SELECT pg_advisory_xact_lock(` + strconv.FormatInt(changeLogLockKey, 10) + `), pg_notify('` + changesChannel + `', '')`

var postgresDialect = dialect{
	full:      fullPostgres,
	name:      "postgres",
	classify:  classifyPostgres,
	compact:   compactPostgres,
	claimLock: "FOR UPDATE SKIP LOCKED",
	rowLock:   "FOR UPDATE",
	// A read must see one snapshot across its statements (SyncChanges reads
	// the log, then the messages); READ COMMITTED would take one per
	// statement. A read-only REPEATABLE READ transaction never fails to
	// serialise.
	readOptions: &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead},
	logChanges:  logChangesPostgres,
	unavailable: unavailablePostgres,
	retryable:   retryablePostgres,
	reserveAttachmentIDs: func(ctx context.Context, tx *tx, n int) ([]int64, error) {
		return queryAll(ctx, tx, scanID, `SELECT nextval(pg_get_serial_sequence('attachments', 'id')) FROM generate_series(1, $1)`, n)
	},
}

// retryablePostgres: PostgreSQL broke a deadlock (40P01) or a serialisation
// conflict (40001) by failing this transaction; running it again succeeds.
func retryablePostgres(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && (e.Code == "40P01" || e.Code == "40001")
}

// OpenPostgres connects to the PostgreSQL database at databaseURL
// (postgres://user:password@host:port/dbname?sslmode=...), applies pending
// migrations under a session lock, so several nodes starting at once apply
// each migration once, and returns the store. One pool serves reads and
// writes; a listening connection (pglisten.go) wakes change watchers on
// every node's commits.
func OpenPostgres(ctx context.Context, databaseURL string, clock switchboard.Clock, opts PostgresOptions) (*DB, error) {
	if clock == nil {
		return nil, errors.New("sqlstore: open database: no clock given (pass switchboard.SystemClock{})")
	}
	shown := RedactURL(databaseURL)
	cfg, err := postgresConfig(databaseURL, opts)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open database %s: %w", shown, err)
	}
	pool := stdlib.OpenDB(*cfg)
	conns := opts.MaxConns
	if conns <= 0 {
		conns = defaultPostgresConns
	}
	pool.SetMaxOpenConns(conns)
	pool.SetMaxIdleConns(conns)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	if err := pool.PingContext(ctx); err != nil {
		_ = pool.Close()
		return nil, fmt.Errorf("sqlstore: connect to database %s: %w (is PostgreSQL running and reachable at that host and port, do the user, password and database name exist, and does sslmode match the server?)", shown, err)
	}
	sub, err := fs.Sub(postgresMigrations, "migrations/postgres")
	if err != nil {
		_ = pool.Close()
		return nil, fmt.Errorf("sqlstore: open database %s: %w", shown, err)
	}
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(postgresMigrationLockKey))
	if err != nil {
		_ = pool.Close()
		return nil, fmt.Errorf("sqlstore: open database %s: %w", shown, err)
	}
	if err := migrate(ctx, pool, goose.DialectPostgres, sub, goose.WithSessionLocker(locker)); err != nil {
		_ = pool.Close()
		return nil, fmt.Errorf("sqlstore: migrate database %s: %w (each migration runs in a transaction, so a failed one left the schema as it was; does the user own the schema?)", shown, err)
	}
	// One statement cache for the one pool: database/sql prepares each
	// cached statement once per connection. Without it, every prepared
	// statement of a write (the message inserter's five) costs a prepare
	// and a deallocate round trip per transaction.
	stmts := newStmtCache(pool, false)
	db := &DB{writer: pool, reader: pool, clock: clock, dialect: postgresDialect, writerStmts: stmts, readerStmts: stmts,
		extraGroups: make([]writeGroup, postgresWriteGroups-1)}
	db.listener = startListener(cfg, &db.changes)
	return db, nil
}

// postgresConfig parses the URL and applies the options.
func postgresConfig(databaseURL string, opts PostgresOptions) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(databaseURL)
	if err != nil {
		// pgx's message may quote the URL, password included.
		return nil, errors.New("not a valid PostgreSQL URL (want postgres://user:password@host:port/dbname?sslmode=disable)")
	}
	timeout := opts.StatementTimeout
	if timeout <= 0 {
		timeout = defaultStatementTimeout
	}
	if _, set := cfg.RuntimeParams["statement_timeout"]; !set {
		cfg.RuntimeParams["statement_timeout"] = strconv.FormatInt(timeout.Milliseconds(), 10)
	}
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = "switchboard"
	}
	if opts.ConnectTimeout > 0 {
		cfg.ConnectTimeout = opts.ConnectTimeout
	} else if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = defaultPGConnectTimeout
	}
	return cfg, nil
}

// RedactURL returns a database URL with its password replaced, for logs
// and error messages.
func RedactURL(databaseURL string) string {
	u, err := url.Parse(databaseURL)
	if err != nil || u.User == nil {
		return databaseURL
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

func classifyPostgres(err error) constraint {
	var e *pgconn.PgError
	if !errors.As(err, &e) {
		return noConstraint
	}
	switch e.Code {
	case "23505": // unique_violation
		return uniqueConstraint
	case "23503": // foreign_key_violation
		return foreignKeyConstraint
	}
	return noConstraint
}

// compactPostgres vacuums the tables whose content purges erase. An UPDATE
// to NULL leaves the old row version (and its TOASTed bytes) in the file
// until VACUUM marks the space free; VACUUM does not overwrite it, so the
// bytes leave the files only as new rows reuse the space (VACUUM FULL would
// rewrite the tables, under an exclusive lock that stops the API).
// One node at a time does it: the others skip rather than queue.
func compactPostgres(ctx context.Context, db *DB) error {
	conn, err := db.writer.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	var got bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, int64(compactLockKey)).Scan(&got); err != nil {
		return err
	}
	if !got {
		return nil // another node is compacting
	}
	defer func() {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(compactLockKey))
	}()
	_, err = conn.ExecContext(ctx, `VACUUM (SKIP_LOCKED) attachments, messages`)
	return err
}

// unavailablePostgres reports whether err means the database could not be
// reached or went away (connection refused or lost, timeouts, the server
// shutting down, restarting or out of connections), as opposed to a bad
// request or a bug: the API answers those 503 and the client may retry.
func unavailablePostgres(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code[:2] {
		// connection exception; operator intervention (shutdown,
		// terminated backend, statement timeout); insufficient resources
		// (too many connections).
		case "08", "57", "53":
			return true
		}
		return false
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || pgconn.Timeout(err) || pgconn.SafeToRetry(err) ||
		errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, sql.ErrConnDone) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF)
}
