package sqlstore

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"sync"
)

// Statement cache. database/sql prepares every query text anew, and with
// SQLite preparing costs more than running a short statement (a third of
// a send's CPU when measured). Each pool keeps its statements prepared by
// text; inside a transaction tx.StmtContext reuses the connection's
// prepared copy. Query texts built with a variable number of parameters
// (IN lists) are as many texts, so the cache is bounded and texts past the
// bound are simply prepared each time, as before.
const maxCachedStatements = 512

type stmtCache struct {
	pool *sql.DB
	// positional: prepare a text whose $N appear once each, in order, with
	// anonymous ? parameters instead (SQLite). modernc binds a $N by name,
	// a search of the statement's parameter list per parameter, which was
	// a fifth of a 27-column insert's cost when measured.
	positional bool
	mu         sync.Mutex
	stmts      map[string]*sql.Stmt
	wanted     map[string]bool // missed texts, prepared after the transaction
}

func newStmtCache(pool *sql.DB, positional bool) *stmtCache {
	return &stmtCache{pool: pool, positional: positional, stmts: map[string]*sql.Stmt{}, wanted: map[string]bool{}}
}

// get returns the pool's prepared statement for query, or nil on a miss.
// A miss is not prepared here: the writer pool has one connection, which
// the asking transaction holds, so preparing on the pool now would wait
// for ever. It is noted and prepared by prepareWanted once the
// transaction has ended.
func (c *stmtCache) get(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.stmts[query]; ok {
		return s
	}
	if len(c.stmts)+len(c.wanted) < maxCachedStatements {
		c.wanted[query] = true
	}
	return nil
}

// prepareWanted prepares the texts missed so far. It must not hold the
// lock while preparing: preparing waits for a free connection, and the
// transaction holding it may be asking the cache.
func (c *stmtCache) prepareWanted(ctx context.Context) {
	if c == nil {
		return
	}
	c.mu.Lock()
	var queries []string
	for q := range c.wanted {
		queries = append(queries, q)
		delete(c.wanted, q)
	}
	c.mu.Unlock()
	for _, q := range queries {
		text := q
		if c.positional {
			text = positional(q)
		}
		s, err := c.pool.PrepareContext(ctx, text)
		if err != nil {
			continue
		}
		c.mu.Lock()
		if _, dup := c.stmts[q]; dup {
			_ = s.Close()
		} else {
			c.stmts[q] = s
		}
		c.mu.Unlock()
	}
}

// positional returns query with its parameters $1, $2, … $n written as ?
// when each appears exactly once and in that order (outside quotes), so
// that binding by position gives the same values; otherwise query as is.
func positional(query string) string {
	var b strings.Builder
	next := 1
	quoted := false
	for i := 0; i < len(query); i++ {
		ch := query[i]
		if ch == '\'' {
			quoted = !quoted
		}
		if ch != '$' || quoted {
			b.WriteByte(ch)
			continue
		}
		j := i + 1
		for j < len(query) && query[j] >= '0' && query[j] <= '9' {
			j++
		}
		if n, err := strconv.Atoi(query[i+1 : j]); err != nil || n != next {
			return query
		}
		next++
		b.WriteByte('?')
		i = j - 1
	}
	return b.String()
}

func (c *stmtCache) close() error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var first error
	for _, s := range c.stmts {
		if err := s.Close(); err != nil && first == nil {
			first = err
		}
	}
	c.stmts = map[string]*sql.Stmt{}
	return first
}

// The tx methods below shadow *sql.Tx's so that every query of the store
// goes through the cache without the callers changing.

// stmt returns the transaction's copy of the pool's prepared statement
// for query, made once per transaction: a group commit runs the same few
// statements for every write it holds, and each Tx.StmtContext allocates
// and registers a new statement. database/sql closes them all when the
// transaction ends. Outside a transaction (readOne) it is the pool's
// statement itself.
func (t *tx) stmt(ctx context.Context, query string) *sql.Stmt {
	if t.cache == nil {
		return nil
	}
	if s, ok := t.stmts[query]; ok {
		return s
	}
	s := t.cache.get(query)
	if s == nil || t.Tx == nil {
		return s
	}
	s = t.Tx.StmtContext(ctx, s)
	if t.stmts == nil {
		t.stmts = map[string]*sql.Stmt{}
	}
	t.stmts[query] = s
	return s
}

func (t *tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if s := t.stmt(ctx, query); s != nil {
		return s.ExecContext(ctx, args...)
	}
	if t.Tx == nil {
		return t.cache.pool.ExecContext(ctx, query, args...)
	}
	return t.Tx.ExecContext(ctx, query, args...)
}

func (t *tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := t.stmt(ctx, query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	if t.Tx == nil {
		return t.cache.pool.QueryContext(ctx, query, args...)
	}
	return t.Tx.QueryContext(ctx, query, args...)
}

func (t *tx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if s := t.stmt(ctx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	if t.Tx == nil {
		return t.cache.pool.QueryRowContext(ctx, query, args...)
	}
	return t.Tx.QueryRowContext(ctx, query, args...)
}

// PrepareContext returns a statement of the caller's own, which it may
// close.
func (t *tx) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	if t.cache != nil {
		if s := t.cache.get(query); s != nil {
			return t.Tx.StmtContext(ctx, s), nil
		}
	}
	return t.Tx.PrepareContext(ctx, query)
}
