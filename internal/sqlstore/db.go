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
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/metrics"
)

// DB is the store. It is safe for concurrent use.
type DB struct {
	// writer has exactly one connection: SQLite allows one writer at a time
	// and queueing in database/sql is cheaper than SQLITE_BUSY retries.
	writer  *sql.DB
	reader  *sql.DB
	clock   switchboard.Clock
	dialect dialect
	group   writeGroup // concurrent message writes share commits (group.go)
	// extraGroups lets several grouped transactions run at once where the
	// database takes concurrent writers (PostgreSQL); nil on SQLite.
	extraGroups []writeGroup
	nextGroup   atomic.Uint32
	changes     changeBroadcast // wakes change-log readers after commits (watch.go)
	pageCursors pageCursors     // where recently served list pages ended (pagecursor.go)
	auth        authCache       // authenticated tokens while the directory epoch holds (authcache.go)

	writerStmts, readerStmts *stmtCache       // one shared cache on PostgreSQL (one pool)
	listener                 *listener        // PostgreSQL: other nodes' commits (pglisten.go)
	metrics                  *metrics.Metrics // nil: nothing counted (ops.go)
	storage                  storage          // room to write (full.go)
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
	// rowLock ends a select of a row the transaction goes on to change
	// from what it read: "" on SQLite (one writer), "FOR UPDATE" where
	// concurrent writers must wait for each other.
	rowLock string
	// readOptions begin a read transaction: read-only, one snapshot.
	readOptions *sql.TxOptions
	// logChanges, when set, runs just before a write transaction inserts
	// its change-log rows (see logChangesPostgres).
	logChanges string
	// retryable reports an error after which the whole write transaction
	// may simply run again (a deadlock PostgreSQL broke; nil: none).
	retryable func(error) bool
	// full reports that a write failed for lack of space (full.go).
	full func(error) bool
	// reserveAttachmentIDs takes n ids from the attachments' id sequence
	// without inserting rows: the ids of text attachments kept on their
	// message's row (inlineText), unique among all attachments.
	reserveAttachmentIDs func(ctx context.Context, tx *tx, n int) ([]int64, error)
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
	return db.checkWritable(ctx)
}

// Close closes both pools. The writer goes last so that SQLite, on closing
// the last connection, checkpoints the WAL into the main file.
func (db *DB) Close() error {
	db.listener.stop()
	errs := []error{db.readerStmts.close()}
	if db.writerStmts != db.readerStmts {
		errs = append(errs, db.writerStmts.close())
	}
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

// tx is a transaction with the one instant every write in it uses; or,
// with Tx nil, single statements on the cache's pool (readOne).
type tx struct {
	*sql.Tx
	now     time.Time            // UTC, whole milliseconds, as stored
	cache   *stmtCache           // the pool's prepared statements (stmtcache.go)
	stmts   map[string]*sql.Stmt // this transaction's copies of them, by text
	rowLock string               // the dialect's rowLock
	dialect *dialect             // the store's; set in write transactions
	changes []loggedChange       // change-log rows to insert at the end
	alive   []aliveChange        // mailbox_stats changes to apply at the end
	// mailboxes the transaction has found to exist (insertMessages), so
	// the writes of a group commit check each mailbox once. Messages never
	// create or remove extensions, so a write rolled back to its savepoint
	// leaves the answer true.
	mailboxes map[[2]int64]bool
	// completed counts the deliveries completed on accept (insertOutbound),
	// for the metrics once committed.
	completed switchboard.InternalOutcome
}

func (t *tx) checkedMailbox(key [2]int64) {
	if t.mailboxes == nil {
		t.mailboxes = map[[2]int64]bool{}
	}
	t.mailboxes[key] = true
}

// hasMailboxes reports whether every one of mbs was checked to exist in
// this transaction.
func (t *tx) hasMailboxes(mbs []switchboard.Mailbox) bool {
	for _, mb := range mbs {
		if !t.mailboxes[[2]int64{mb.AccountID, mb.ExtensionID}] {
			return false
		}
	}
	return true
}

// aliveChange is a change of a mailbox's Alive count.
type aliveChange struct {
	accountID, extensionID int64
	delta                  int
}

// addAlive records a change of a mailbox's Alive count, applied at the end
// of the transaction (flushChanges). Deferred and applied in mailbox order,
// the counters' row locks are taken late, briefly and always in the same
// order, so concurrent writers (PostgreSQL) neither queue on a busy
// mailbox's counter for a whole transaction nor deadlock on two counters.
func (t *tx) addAlive(accountID, extensionID int64, delta int) {
	if delta != 0 {
		t.alive = append(t.alive, aliveChange{accountID, extensionID, delta})
	}
}

// loggedChange is one change-log row waiting for the end of its
// transaction.
type loggedChange struct {
	changeRow
	kind string
}

// logChange records a change of a message; it is written to the change log
// in this transaction, after everything else (flushChanges), in the order
// logged.
func (t *tx) logChange(kind string, r changeRow) {
	t.changes = append(t.changes, loggedChange{r, kind})
}

// flushChanges inserts the transaction's logged changes. They go last so
// that on PostgreSQL the change-log lock (logChangesPostgres) is held only
// from the allocation of their seqs to the commit, and while holding it the
// transaction waits for no row lock.
func (db *DB) flushChanges(ctx context.Context, t *tx) error {
	if len(t.alive) > 0 {
		sum := map[[2]int64]int{}
		var keys [][2]int64
		for _, d := range t.alive {
			k := [2]int64{d.extensionID, d.accountID}
			if _, ok := sum[k]; !ok {
				keys = append(keys, k)
			}
			sum[k] += d.delta
		}
		slices.SortFunc(keys, func(a, b [2]int64) int { return cmp.Compare(a[0], b[0]) })
		for _, k := range keys {
			if sum[k] == 0 {
				continue
			}
			if _, err := t.ExecContext(ctx, addAliveSQL, k[0], k[1], sum[k]); err != nil {
				return err
			}
		}
		t.alive = nil
	}
	if len(t.changes) == 0 {
		return nil
	}
	if db.dialect.logChanges != "" {
		if _, err := t.ExecContext(ctx, db.dialect.logChanges); err != nil {
			return err
		}
	}
	err := insertChanges(ctx, t, t.changes)
	t.changes = nil
	return err
}

// write runs fn in a transaction on the writer and commits if fn succeeds.
// On PostgreSQL a transaction that lost a deadlock is run again (fn must
// then do all its work through the tx, which every store method does).
func (db *DB) write(ctx context.Context, fn func(*tx) error) error {
	for attempt := 1; ; attempt++ {
		err := db.writeOnce(ctx, fn)
		if err == nil || db.dialect.retryable == nil || !db.dialect.retryable(err) || attempt == 5 || ctx.Err() != nil {
			return err
		}
	}
}

func (db *DB) writeOnce(ctx context.Context, fn func(*tx) error) error {
	t, err := db.writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	// Statements missed by this transaction are prepared once it has
	// released the writer's only connection.
	defer db.writerStmts.prepareWanted(context.WithoutCancel(ctx))
	w := &tx{Tx: t, now: fromMillis(toMillis(db.clock.Now())), cache: db.writerStmts, rowLock: db.dialect.rowLock, dialect: &db.dialect}
	if err := fn(w); err != nil {
		_ = t.Rollback()
		return err
	}
	logged := w.changes
	if err := db.flushChanges(ctx, w); err != nil {
		_ = t.Rollback()
		return err
	}
	if err := t.Commit(); err != nil {
		return err
	}
	db.countCreated(logged)
	db.countCompleted(w.completed)
	if len(logged) > 0 {
		// Only writes that logged changes wake the change-log readers: the
		// workers' idle polls write too, and would wake them all constantly.
		db.changes.signal()
	}
	return nil
}

// readOne runs fn, which makes ONE query, on the reader pool without a
// transaction of its own: a single statement reads one snapshot anyway,
// and BEGIN and ROLLBACK cost as much as a point read (40 % of the token
// and directory reads of a send, measured). fn must not need two
// statements to agree.
func (db *DB) readOne(ctx context.Context, fn func(*tx) error) error {
	defer db.readerStmts.prepareWanted(context.WithoutCancel(ctx))
	return fn(&tx{now: fromMillis(toMillis(db.clock.Now())), cache: db.readerStmts})
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
	err = db.markFull(err)
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

// inListPadded is inList padded to a power of two by repeating the last
// value (IN ignores repeats), so lists of any length share a few query
// texts and stay in the statement cache (stmtcache.go).
func inListPadded[T any](a *args, vs []T) string {
	n := 1
	for n < len(vs) {
		n *= 2
	}
	padded := slices.Grow(slices.Clone(vs), n-len(vs))
	for len(padded) < n {
		padded = append(padded, vs[len(vs)-1])
	}
	return inList(a, padded)
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
