package switchboard

import (
	"context"
	"sync"
)

// A request reads the directory's epoch (DirectoryStore.DirectoryEpoch)
// once, at its first use: its token check and its directory lookups then
// answer as of one epoch, and a send or a received message saves the
// second read it made. A scope lives as long as its request; a change
// committed meanwhile is seen by the next request, as without one.

type epochScopeKey struct{}

type epochScope struct {
	mu    sync.Mutex
	epoch int64
	read  bool
}

// WithEpochScope returns a copy of ctx in which EpochIn reads the epoch
// at most once. Only for a request's span: a long-lived context (a
// WebSocket session) would keep an old epoch.
func WithEpochScope(ctx context.Context) context.Context {
	return context.WithValue(ctx, epochScopeKey{}, &epochScope{})
}

// EpochIn is the epoch of ctx's scope, read with read at the scope's first
// use; without a scope, read's answer. A failed read is not kept.
func EpochIn(ctx context.Context, read func() (int64, error)) (int64, error) {
	s, ok := ctx.Value(epochScopeKey{}).(*epochScope)
	if !ok {
		return read()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.read {
		epoch, err := read()
		if err != nil {
			return 0, err
		}
		s.epoch, s.read = epoch, true
	}
	return s.epoch, nil
}
