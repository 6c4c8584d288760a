package sqlstore

import "sync"

// changeBroadcast wakes every watcher of the change log after a commit.
// Sending never blocks the writer: each watcher's channel holds one pending
// signal and further signals coalesce into it.
type changeBroadcast struct {
	mu       sync.Mutex
	watchers map[chan struct{}]struct{}
}

// WatchChanges implements switchboard.ChangeWatcher.
func (db *DB) WatchChanges() (<-chan struct{}, func()) {
	return db.changes.watch()
}

func (b *changeBroadcast) watch() (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	b.mu.Lock()
	if b.watchers == nil {
		b.watchers = make(map[chan struct{}]struct{})
	}
	b.watchers[ch] = struct{}{}
	b.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			b.mu.Lock()
			delete(b.watchers, ch)
			b.mu.Unlock()
		})
	}
}

// signal wakes every watcher. It is called after each committed write that
// logged changes, and on PostgreSQL when another node's did (pglisten.go).
func (b *changeBroadcast) signal() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.watchers {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}
