package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/switchboardhq/switchboard"
)

// Group commit. At synchronous=FULL every commit waits for the disk, so a
// commit per request caps writes at the disk's flush rate. Concurrent
// grouped writes are instead run one after another inside ONE transaction,
// each under a savepoint of its own, and share its commit: each caller
// still returns only after the commit that holds its write, so
// acknowledged stays durable, and a write that fails rolls back alone.
//
// There is no committer goroutine: the first writer to arrive leads,
// commits a batch that includes its own write, and hands the lead to the
// next waiting writer, so no request commits for others for longer than
// one batch.

// maxGroup bounds one batch, so one transaction stays short.
const maxGroup = 128

type groupWrite struct {
	fn   func(*tx) error
	done chan error    // the write's result, after its batch's commit
	lead chan struct{} // closed when this writer is to commit the next batch
	// combine, when set, may run this write together with the other
	// writes of the batch that have the same combine, as one (item is
	// this write's part of it); fn runs it alone.
	combine *combiner
	item    any
	ctx     context.Context
}

// A combiner runs several writes of one kind as one: a multi-row
// statement per table instead of a statement per row and table, the
// statements' own cost (database/sql, the driver) being most of a small
// insert's. run stores every item or fails as a whole; then each write
// runs again alone, under its own savepoint, so that one bad write still
// fails alone.
type combiner struct {
	run func(ctx context.Context, t *tx, items []any) error
}

// A messageStore is a write that stores one message per input C, any
// number in one call (store): a send (insertOutbound) or a received
// message (insertMessagesOnce). Its concurrent writes in a group commit
// are stored in one call, combined; a write alone is a call of one.
type messageStore[C any] struct {
	store   func(ctx context.Context, t *tx, cs []C) ([]*switchboard.Message, error)
	combine *combiner
}

// storeItem is one write of a messageStore: its input, then the message.
type storeItem[C any] struct {
	create C
	stored *switchboard.Message
}

func newMessageStore[C any](store func(ctx context.Context, t *tx, cs []C) ([]*switchboard.Message, error)) *messageStore[C] {
	s := &messageStore[C]{store: store}
	s.combine = &combiner{run: func(ctx context.Context, t *tx, items []any) error {
		ws := make([]*storeItem[C], len(items))
		for i, it := range items {
			ws[i] = it.(*storeItem[C])
		}
		return s.run(ctx, t, ws)
	}}
	return s
}

func (s *messageStore[C]) run(ctx context.Context, t *tx, ws []*storeItem[C]) error {
	cs := make([]C, len(ws))
	for i, w := range ws {
		cs[i] = w.create
	}
	ms, err := s.store(ctx, t, cs)
	if err != nil {
		return err
	}
	for i, w := range ws {
		w.stored = ms[i]
	}
	return nil
}

// write stores c, combined with the group's other writes of s, and
// returns its message; sourceID as writeSourced.
func (s *messageStore[C]) write(ctx context.Context, db *DB, sourceID string, c C) (*switchboard.Message, error) {
	w := &storeItem[C]{create: c}
	err := db.writeSourced(ctx, sourceID, s.combine, w, func(ctx context.Context, t *tx) error {
		return s.run(ctx, t, []*storeItem[C]{w})
	})
	return w.stored, err
}

type writeGroup struct {
	mu      sync.Mutex
	pending []*groupWrite
	leader  bool
}

// writeGrouped runs fn in a transaction shared with other concurrent
// grouped writes. fn must do all its work through the tx and the context
// it is given. That context is ctx without its cancellation: a statement
// cancelled mid-way aborts the whole shared transaction (SQLite rolls it
// back, pgx drops the connection), so one caller going away would fail
// every other write of its batch.
func (db *DB) writeGrouped(ctx context.Context, fn func(context.Context, *tx) error) error {
	return db.writeCombined(ctx, nil, nil, fn)
}

// writeCombined is writeGrouped for a write that c may run together with
// the others of its kind in the batch (item is its part); fn is the
// write alone.
func (db *DB) writeCombined(ctx context.Context, c *combiner, item any, fn func(context.Context, *tx) error) error {
	shared := context.WithoutCancel(ctx)
	run := func(t *tx) error {
		if err := ctx.Err(); err != nil {
			return err // gone before its turn: nothing of it is written
		}
		return fn(shared, t)
	}
	w := &groupWrite{fn: run, done: make(chan error, 1), lead: make(chan struct{}), combine: c, item: item, ctx: ctx}
	g := &db.group
	if n := uint32(len(db.extraGroups)); n > 0 {
		// Spread writes over the groups: on PostgreSQL a group's
		// statements are round trips, so one group at a time would leave
		// the server idle between them.
		if i := db.nextGroup.Add(1) % (n + 1); i < n {
			g = &db.extraGroups[i]
		}
	}
	g.mu.Lock()
	g.pending = append(g.pending, w)
	if g.leader {
		g.mu.Unlock()
		select {
		case err := <-w.done:
			return err
		case <-w.lead:
		}
		g.mu.Lock()
	} else {
		g.leader = true
	}
	// This writer leads and is first in line: its write is in this batch.
	n := min(len(g.pending), maxGroup)
	batch := slices.Clone(g.pending[:n])
	g.pending = g.pending[n:]
	g.mu.Unlock()

	db.commitGroup(batch)

	g.mu.Lock()
	if len(g.pending) > 0 {
		close(g.pending[0].lead)
	} else {
		g.leader = false
	}
	g.mu.Unlock()
	return <-w.done
}

func (db *DB) commitGroup(batch []*groupWrite) {
	results := make([]error, len(batch))
	ctx := context.Background()
	err := db.write(ctx, func(t *tx) error {
		if len(batch) == 1 {
			// Alone in its transaction, a write needs no savepoint: if it
			// fails, the transaction rolls back with it. (Two statements
			// fewer, which are two round trips on PostgreSQL.)
			results[0] = protect(batch[0].fn, t)
			return results[0]
		}
		alone, err := runCombined(ctx, t, batch, results)
		if err != nil {
			return err
		}
		for _, i := range alone {
			if results[i], err = underSavepoint(ctx, t, func(t *tx) error { return protect(batch[i].fn, t) }); err != nil {
				return err
			}
		}
		return nil
	})
	for i, w := range batch {
		switch {
		case err != nil:
			w.done <- err
		case results[i] != nil && db.dialect.retryable != nil && db.dialect.retryable(results[i]):
			// PostgreSQL broke a deadlock by failing this write alone:
			// run it again in a transaction of its own.
			w.done <- db.write(ctx, w.fn)
		default:
			w.done <- results[i]
		}
	}
}

// runCombined runs the writes of the batch that share a combiner and
// have at least one companion as one, each kind under a savepoint, and
// returns the indexes of the writes still to run alone: the others, and
// those of a combined run that failed. A write whose caller has gone is
// answered with its context's error and not run.
func runCombined(ctx context.Context, t *tx, batch []*groupWrite, results []error) (alone []int, err error) {
	kinds := map[*combiner][]int{}
	var order []*combiner
	for i, w := range batch {
		if w.combine == nil {
			alone = append(alone, i)
			continue
		}
		if results[i] = w.ctx.Err(); results[i] != nil {
			continue
		}
		if _, seen := kinds[w.combine]; !seen {
			order = append(order, w.combine)
		}
		kinds[w.combine] = append(kinds[w.combine], i)
	}
	for _, c := range order {
		idx := kinds[c]
		if len(idx) == 1 {
			alone = append(alone, idx[0])
			continue
		}
		items := make([]any, len(idx))
		for j, i := range idx {
			items[j] = batch[i].item
		}
		failed, err := underSavepoint(ctx, t, func(t *tx) error { return protect(func(t *tx) error { return c.run(ctx, t, items) }, t) })
		if err != nil {
			return nil, err
		}
		if failed != nil {
			alone = append(alone, idx...)
		}
	}
	slices.Sort(alone)
	return alone, nil
}

// underSavepoint runs fn under a savepoint: if fn fails, what it wrote is
// rolled back, its change-log rows, counter changes and count of completed
// deliveries with it, and its error returned as failed; err is the
// savepoint's own failure, which ends the transaction.
func underSavepoint(ctx context.Context, t *tx, fn func(*tx) error) (failed, err error) {
	if _, err := t.ExecContext(ctx, `SAVEPOINT grouped_write`); err != nil {
		return nil, err
	}
	logged, counted, completed := len(t.changes), len(t.alive), t.completed
	if failed = fn(t); failed != nil {
		if _, err := t.ExecContext(ctx, `ROLLBACK TO SAVEPOINT grouped_write`); err != nil {
			return nil, err
		}
		t.changes, t.alive, t.completed = t.changes[:logged], t.alive[:counted], completed
	}
	if _, err := t.ExecContext(ctx, `RELEASE SAVEPOINT grouped_write`); err != nil {
		return nil, err
	}
	return failed, nil
}

// protect runs fn, turning a panic into an error so that one bad write
// cannot take the batch, and the lead, down with it.
func protect(fn func(*tx) error, t *tx) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("sqlstore: grouped write panicked: %v", v)
		}
	}()
	return fn(t)
}
