// Package a2p is the worker that moves high-volume (A2P) batches into the
// outbox: it claims a batch with a lease and expands it chunk by chunk,
// each chunk's messages and deliveries committed with the batch's cursor,
// so memory is bounded by a chunk and a worker that dies is replaced by
// any other (on any node) once its lease runs out, resuming at the first
// message not yet queued. It also marks batches Completed once none of
// their messages is Queued. Sending itself is the delivery worker's.
package a2p

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/backoff"
)

// Store is what the worker needs of the store.
type Store interface {
	ClaimA2PBatch(ctx context.Context, owner string, lease time.Duration) (*switchboard.A2PBatch, error)
	A2PItems(ctx context.Context, batchID int64, from, limit int) ([]switchboard.A2PItem, error)
	CompleteA2PBatches(ctx context.Context) ([]*switchboard.A2PBatch, error)
	OptedOut(ctx context.Context, from string, to []string) (map[string]bool, error)
	switchboard.NumbersDirectory
}

// Outbox takes a chunk of a batch's messages (the store's ExpandA2P): the
// one place a batch enters the outbox, so it can be pointed at another
// owner of sending without touching the worker.
type Outbox interface {
	ExpandA2P(ctx context.Context, owner string, batchID int64, from int, msgs []switchboard.OutboundCreate, lease time.Duration) error
}

// Config tunes the worker.
type Config struct {
	Owner string        // lease owner: unique per process
	Lease time.Duration // how long a claim (and each chunk) holds the batch
	Chunk int           // messages per transaction
	Poll  time.Duration // how often to look for work when idle
	// Wake is called after each chunk (the delivery worker's Wake).
	Wake func()
	// ErrorBackoff and MaxErrorBackoff pace a failing loop; zero: backoff's defaults.
	ErrorBackoff, MaxErrorBackoff time.Duration
}

func (c *Config) defaults() {
	if c.Lease <= 0 {
		c.Lease = 30 * time.Second
	}
	if c.Chunk <= 0 {
		c.Chunk = 500
	}
	if c.Poll <= 0 {
		c.Poll = 250 * time.Millisecond
	}
	if c.Wake == nil {
		c.Wake = func() {}
	}
}

// Worker expands batches.
type Worker struct {
	store  Store
	outbox Outbox
	config Config
	logger *slog.Logger
	wake   chan struct{}
}

// New returns a worker.
func New(store Store, outbox Outbox, config Config, logger *slog.Logger) *Worker {
	config.defaults()
	return &Worker{store: store, outbox: outbox, config: config, logger: logger, wake: make(chan struct{}, 1)}
}

// Wake tells the worker a batch was stored. It never blocks.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run works until ctx ends.
func (w *Worker) Run(ctx context.Context) {
	backoff.Loop(ctx, backoff.New("A2P worker", w.config.ErrorBackoff, w.config.MaxErrorBackoff, w.logger),
		w.config.Poll, w.wake, w.RunOnce)
}

// RunOnce completes finished batches and expands one claimed batch to its
// end. It reports whether it expanded anything.
func (w *Worker) RunOnce(ctx context.Context) (bool, error) {
	done, err := w.store.CompleteA2PBatches(ctx)
	if err != nil {
		return false, fmt.Errorf("complete A2P batches: %w", err)
	}
	for _, b := range done {
		w.logger.InfoContext(ctx, "A2P batch completed", "batch", b.ID, "account", b.AccountID, "messages", b.BatchSize)
	}
	b, err := w.store.ClaimA2PBatch(ctx, w.config.Owner, w.config.Lease)
	if errors.Is(err, switchboard.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("claim A2P batch: %w", err)
	}
	if err := w.expand(ctx, b); err != nil && !errors.Is(err, switchboard.ErrLeaseLost) {
		// Left leased: the next claim, here or on another node, resumes
		// at the cursor once the lease runs out.
		return true, fmt.Errorf("expand A2P batch %d: %w", b.ID, err)
	}
	return true, nil
}

// expand queues a batch's messages from its cursor on, a chunk per
// transaction. The next chunk is read and routed (on the reader pool)
// while the one before is written: the one writer is the bound, and it
// does not wait for the reads. So at most three chunks are in memory.
func (w *Worker) expand(ctx context.Context, b *switchboard.A2PBatch) error {
	ctx, cancel := context.WithCancel(ctx)
	chunks := make(chan chunk, 1)
	go w.prepare(ctx, b, chunks)
	defer func() {
		cancel()
		for range chunks { // the preparing goroutine has ended once chunks is closed
		}
	}()
	for c := range chunks {
		if c.err != nil {
			return c.err
		}
		if err := w.outbox.ExpandA2P(ctx, w.config.Owner, b.ID, c.from, c.msgs, w.config.Lease); err != nil {
			return err
		}
		w.config.Wake()
	}
	return nil
}

// chunk is a part of a batch made ready for the outbox, from its index from.
type chunk struct {
	from int
	msgs []switchboard.OutboundCreate
	err  error
}

// prepare sends the batch's chunks from its cursor on, in order, until the
// batch ends, ctx ends or a chunk fails (sent with its error); then it
// closes chunks.
func (w *Worker) prepare(ctx context.Context, b *switchboard.A2PBatch, chunks chan<- chunk) {
	defer close(chunks)
	for from := b.Expanded; from < b.BatchSize; {
		c := chunk{from: from}
		items, err := w.store.A2PItems(ctx, b.ID, from, w.config.Chunk)
		switch {
		case err != nil:
			c.err = err
		case len(items) == 0:
			c.err = fmt.Errorf("items from %d missing (batch of %d)", from, b.BatchSize)
		default:
			c.msgs, c.err = w.messages(ctx, b, items)
		}
		select {
		case chunks <- c:
		case <-ctx.Done():
			return
		}
		if c.err != nil {
			return
		}
		from += len(items)
	}
}

// messages makes the outbound messages of a chunk: opted-out recipients
// refused, recipients with a mailbox here delivered internally.
func (w *Worker) messages(ctx context.Context, b *switchboard.A2PBatch, items []switchboard.A2PItem) ([]switchboard.OutboundCreate, error) {
	to := make([]string, len(items))
	for i, it := range items {
		to[i] = it.To
	}
	out, err := w.store.OptedOut(ctx, b.From, to)
	if err != nil {
		return nil, err
	}
	routes, err := switchboard.RouteAll(ctx, w.store, to, b.ExtensionID)
	if err != nil {
		return nil, err
	}
	msgs := make([]switchboard.OutboundCreate, len(items))
	for i, it := range items {
		target := switchboard.DeliveryTarget{Recipient: it.To}
		if !out[it.To] {
			target = routes[it.To]
		}
		msgs[i] = switchboard.A2POutbound(b, it, target, out[it.To])
	}
	return msgs, nil
}
