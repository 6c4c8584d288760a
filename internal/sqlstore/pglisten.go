package sqlstore

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// listener holds one PostgreSQL connection LISTENing on the change channel
// and wakes this node's change watchers (watch.go) when any node commits a
// write that may have grown the change log (the pg_notify in
// logChangesPostgres). A notification is a hint; the change log stays the
// truth. A lost connection is reopened with backoff, and watchers are woken
// once it is back, since notifications sent while it was down are lost.
type listener struct {
	cancel context.CancelFunc
	done   chan struct{}
}

func startListener(cfg *pgx.ConnConfig, b *changeBroadcast) *listener {
	ctx, cancel := context.WithCancel(context.Background())
	l := &listener{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(l.done)
		backoff := 100 * time.Millisecond
		for ctx.Err() == nil {
			if listenOnce(ctx, cfg, b) {
				backoff = 100 * time.Millisecond
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 5*time.Second)
		}
	}()
	return l
}

// listenOnce connects, listens until the connection fails or ctx ends, and
// reports whether it got as far as listening.
func listenOnce(ctx context.Context, cfg *pgx.ConnConfig, b *changeBroadcast) bool {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false
	}
	defer func() { _ = conn.Close(context.Background()) }()
	if _, err := conn.Exec(ctx, `LISTEN `+changesChannel); err != nil {
		return false
	}
	// Anything committed while no connection listened went unannounced.
	b.signal()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return true
		}
		b.signal()
	}
}

func (l *listener) stop() {
	if l == nil {
		return
	}
	l.cancel()
	<-l.done
}
