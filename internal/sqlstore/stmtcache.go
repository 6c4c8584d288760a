package sqlstore

import (
	"context"
	"database/sql"
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
	pool   *sql.DB
	mu     sync.Mutex
	stmts  map[string]*sql.Stmt
	wanted map[string]bool // missed texts, prepared after the transaction
}

func newStmtCache(pool *sql.DB) *stmtCache {
	return &stmtCache{pool: pool, stmts: map[string]*sql.Stmt{}, wanted: map[string]bool{}}
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
		s, err := c.pool.PrepareContext(ctx, q)
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

func (t *tx) stmt(ctx context.Context, query string) *sql.Stmt {
	if t.cache == nil {
		return nil
	}
	if s := t.cache.get(query); s != nil {
		return t.Tx.StmtContext(ctx, s)
	}
	return nil
}

func (t *tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if s := t.stmt(ctx, query); s != nil {
		return s.ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, query, args...)
}

func (t *tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := t.stmt(ctx, query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, query, args...)
}

func (t *tx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if s := t.stmt(ctx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, query, args...)
}

func (t *tx) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	if s := t.stmt(ctx, query); s != nil {
		return s, nil
	}
	return t.Tx.PrepareContext(ctx, query)
}

// pooled runs statements on the cache's pool outside any transaction.
type pooled struct{ cache *stmtCache }

func (p pooled) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := p.cache.get(query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return p.cache.pool.QueryContext(ctx, query, args...)
}

func (p pooled) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if s := p.cache.get(query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return p.cache.pool.QueryRowContext(ctx, query, args...)
}
