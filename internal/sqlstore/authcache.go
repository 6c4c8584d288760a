package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"sync"

	"github.com/switchboardhq/switchboard"
)

// Authentication cache. Every API request resolves its bearer token and
// every admin request its admin token; read from the tables each time that
// was a read transaction per request, a sixth of the server's CPU on
// short writes. The answers are kept here by token hash (a hash, never the
// token; nothing here is logged).
//
// A kept answer is used only while the directory epoch (migration 00015)
// is the one it was read under. Every write that can end or change what a
// token acts as (a token deleted, a status changed) bumps the epoch in its
// own transaction, by trigger, and every lookup reads the stored epoch
// first, one single-row statement outside a transaction. So a revocation
// committed by any process on any node (the CLI beside a SQLite server,
// another node on PostgreSQL) is honoured by the next request, as when
// every request read the tables. Expiry needs no bump: it is checked
// against the time of each lookup. internal/dircache keeps directory
// lookups under the same epoch.

// maxAuthCache bounds the cached tokens; past it the cache starts over.
// Only tokens that authenticated are kept, so unknown tokens cannot fill it.
const maxAuthCache = 4096

type authKey struct{ hash, kind string }

type authEntry struct {
	epoch     int64
	expiresMs int64                  // the token's expiry; 0 for admin tokens, which do not expire
	principal switchboard.Principal  // access and WebSocket tokens
	admin     switchboard.AdminToken // admin tokens (kind adminTokenKind)
}

// adminTokenKind keys admin tokens, which live in a table of their own.
const adminTokenKind = "admin"

type authCache struct {
	mu      sync.Mutex
	entries map[authKey]authEntry
}

func (c *authCache) get(k authKey, epoch int64) (authEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	return e, ok && e.epoch == epoch
}

func (c *authCache) put(k authKey, e authEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= maxAuthCache {
		c.entries = map[authKey]authEntry{}
	}
	c.entries[k] = e
}

const epochSQL = `SELECT epoch FROM directory_epoch WHERE id = 1`

func scanEpoch(s scanner) (int64, error) {
	var epoch int64
	err := s.Scan(&epoch)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil // never bumped
	}
	return epoch, err
}

// DirectoryEpoch implements switchboard.DirectoryStore: the stored epoch,
// in one statement on the reader pool.
// The statement reads one row, so it is not worth cancelling: without a
// Done channel modernc.org/sqlite starts no goroutine to watch for one.
// Within a request's epoch scope (switchboard.WithEpochScope) it is read
// once.
func (db *DB) DirectoryEpoch(ctx context.Context) (int64, error) {
	return switchboard.EpochIn(ctx, func() (int64, error) {
		var epoch int64
		ctx := context.WithoutCancel(ctx)
		err := db.readOne(ctx, func(q *tx) (err error) {
			epoch, err = scanEpoch(q.QueryRowContext(ctx, epochSQL))
			return err
		})
		return epoch, err
	})
}

// cachedAuth returns the cached answer for k if it is current, else reads
// one with load in a read transaction that also reads the epoch, so the
// entry kept is never newer than the epoch it is kept under.
func (db *DB) cachedAuth(ctx context.Context, k authKey, load func(*tx) (authEntry, error)) (authEntry, error) {
	epoch, err := db.DirectoryEpoch(ctx)
	if err != nil {
		return authEntry{}, err
	}
	if e, ok := db.auth.get(k, epoch); ok {
		return e, nil
	}
	var e authEntry
	err = db.read(ctx, func(tx *tx) error {
		epoch, err := scanEpoch(tx.QueryRowContext(ctx, epochSQL))
		if err != nil {
			return err
		}
		if e, err = load(tx); err != nil {
			return err
		}
		e.epoch = epoch
		return nil
	})
	if err != nil {
		return authEntry{}, err
	}
	db.auth.put(k, e)
	return e, nil
}
