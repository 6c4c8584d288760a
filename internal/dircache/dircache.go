// Package dircache keeps the directory lookups of hot paths in memory: an
// extension by id, an extension's phone numbers, the owner of a phone
// number (or that no extension has it). A send made three such reads
// per message; with the cache it makes one, of the directory's epoch.
//
// The store's DirectoryEpoch changes in the same transaction as any change
// of extensions, phone numbers or department members (and of credentials,
// which the store's token cache keeps under the same epoch), by any
// process (the CLI writes the SQLite file directly) or node (PostgreSQL),
// so a request that reads the epoch first and finds it unchanged may use
// what was looked up under it: a change is seen by the next request
// everywhere, with no notification to miss.
//
// Each request takes a View, which reads the epoch once. A View serves and
// fills the cache only while the cache holds its epoch: a lookup made
// under an older epoch never lands under a newer one. What the cache
// returns is shared: callers must not change it.
package dircache

import (
	"context"
	"errors"
	"sync"

	"github.com/switchboardhq/switchboard"
)

// Store is what the cache reads.
type Store interface {
	DirectoryEpoch(ctx context.Context) (int64, error)
	Extension(ctx context.Context, accountID, id int64) (*switchboard.Extension, error)
	PhoneNumbers(ctx context.Context, accountID, extensionID int64) ([]*switchboard.PhoneNumber, error)
	PhoneNumberByNumber(ctx context.Context, number string) (*switchboard.PhoneNumber, error)
}

// Cache is the directory cache of one process.
type Cache struct {
	store      Store
	maxEntries int

	mu         sync.Mutex
	epoch      int64
	entries    int
	extensions map[[2]int64]*switchboard.Extension
	numbers    map[[2]int64][]*switchboard.PhoneNumber
	owners     map[string]*switchboard.PhoneNumber // nil: no extension has the number
}

// New returns an empty cache of at most maxEntries lookups; past that it
// starts again empty (config.DirectoryCacheEntries).
func New(store Store, maxEntries int) *Cache {
	c := &Cache{store: store, maxEntries: maxEntries}
	c.reset(0)
	return c
}

func (c *Cache) reset(epoch int64) {
	c.epoch, c.entries = epoch, 0
	c.extensions = map[[2]int64]*switchboard.Extension{}
	c.numbers = map[[2]int64][]*switchboard.PhoneNumber{}
	c.owners = map[string]*switchboard.PhoneNumber{}
}

// View reads the directory's epoch and returns the lookups as of it.
func (c *Cache) View(ctx context.Context) (*View, error) {
	v, err := c.store.DirectoryEpoch(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if v != c.epoch { // not only newer: a restored database may count from lower
		c.reset(v)
	}
	c.mu.Unlock()
	return &View{c: c, epoch: v}, nil
}

// View is the directory as of one epoch: one request's lookups.
type View struct {
	c     *Cache
	epoch int64
}

// Extension is the store's Extension.
func (v *View) Extension(ctx context.Context, accountID, id int64) (*switchboard.Extension, error) {
	key := [2]int64{accountID, id}
	return lookup(v, ctx, func(c *Cache) (*switchboard.Extension, bool) {
		x, ok := c.extensions[key]
		return x, ok
	}, func(c *Cache, x *switchboard.Extension) { c.extensions[key] = x },
		func(ctx context.Context) (*switchboard.Extension, error) {
			return v.c.store.Extension(ctx, accountID, id)
		}, false)
}

// PhoneNumbers is the store's PhoneNumbers.
func (v *View) PhoneNumbers(ctx context.Context, accountID, extensionID int64) ([]*switchboard.PhoneNumber, error) {
	key := [2]int64{accountID, extensionID}
	return lookup(v, ctx, func(c *Cache) ([]*switchboard.PhoneNumber, bool) {
		ns, ok := c.numbers[key]
		return ns, ok
	}, func(c *Cache, ns []*switchboard.PhoneNumber) { c.numbers[key] = ns },
		func(ctx context.Context) ([]*switchboard.PhoneNumber, error) {
			return v.c.store.PhoneNumbers(ctx, accountID, extensionID)
		}, false)
}

// PhoneNumberByNumber is the store's PhoneNumberByNumber: ErrNotFound, from
// the cache too, for a number no extension has (most recipients).
func (v *View) PhoneNumberByNumber(ctx context.Context, number string) (*switchboard.PhoneNumber, error) {
	pn, err := lookup(v, ctx, func(c *Cache) (*switchboard.PhoneNumber, bool) {
		pn, ok := c.owners[number]
		return pn, ok
	}, func(c *Cache, pn *switchboard.PhoneNumber) { c.owners[number] = pn },
		func(ctx context.Context) (*switchboard.PhoneNumber, error) {
			return v.c.store.PhoneNumberByNumber(ctx, number)
		}, true)
	if err == nil && pn == nil {
		return nil, switchboard.ErrNotFound
	}
	return pn, err
}

// lookup answers from the cache when it holds the view's epoch and the
// key, else from the store, keeping the answer (with keepNotFound, an
// ErrNotFound as a nil value) if the cache still holds the view's epoch.
func lookup[T any](v *View, ctx context.Context, get func(*Cache) (T, bool), put func(*Cache, T),
	load func(context.Context) (T, error), keepNotFound bool) (T, error) {
	c := v.c
	c.mu.Lock()
	if c.epoch == v.epoch {
		if x, ok := get(c); ok {
			c.mu.Unlock()
			return x, nil
		}
	}
	c.mu.Unlock()
	x, err := load(ctx)
	if err != nil && !(keepNotFound && errors.Is(err, switchboard.ErrNotFound)) {
		return x, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch == v.epoch {
		if c.entries >= c.maxEntries {
			c.reset(c.epoch)
		}
		put(c, x)
		c.entries++
	}
	return x, nil
}
