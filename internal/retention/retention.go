// Package retention runs the message lifecycle: Deleted messages older than
// the delete period are purged (content erased), Purged records older than
// the purge period are removed, mailboxes over their cap lose their oldest
// messages, Fax and VoiceMail messages past an account's retention period
// are deleted, and the change log is trimmed. Time comes from the injected
// clock, so tests and the emulator can move it.
//
// Every step is a conditional, batched store call that claims its rows by
// state and age, so a run is idempotent and several workers (on several
// nodes) may run at once without doing any work twice.
package retention

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/backoff"
	"github.com/switchboardhq/switchboard/internal/metrics"
)

// batchSize bounds each store call, so one run never holds the database's
// writer for long and concurrent requests keep flowing between batches.
const batchSize = 500

// Store is what the worker needs.
type Store interface {
	switchboard.RetentionStore
	Accounts(ctx context.Context) ([]*switchboard.Account, error)
	Extensions(ctx context.Context, f switchboard.ExtensionFilter) ([]*switchboard.Extension, error)
}

// Config is the server-wide policy.
type Config struct {
	Defaults        switchboard.RetentionPolicy
	ChangeLogPeriod time.Duration // change-log rows older than this are pruned
	Metrics         *metrics.Metrics
	// ErrorBackoff is the first wait after a failed run (the database
	// down), doubling up to the run interval.
	ErrorBackoff time.Duration
}

// Worker runs retention.
type Worker struct {
	store  Store
	clock  switchboard.Clock
	config Config
	logger *slog.Logger
	mu     sync.Mutex // one run at a time in this process
}

// NewWorker returns a worker.
func NewWorker(store Store, clock switchboard.Clock, config Config, logger *slog.Logger) *Worker {
	if config.ChangeLogPeriod <= 0 {
		config.ChangeLogPeriod = switchboard.DefaultChangeLogPeriod
	}
	if config.ErrorBackoff <= 0 {
		config.ErrorBackoff = time.Second
	}
	config.Metrics = metrics.OrNew(config.Metrics)
	return &Worker{store: store, clock: clock, config: config, logger: logger}
}

// RunOnce runs every step for every account until no due work is left, then
// compacts the database so erased bytes leave its files.
func (w *Worker) RunOnce(ctx context.Context) (res switchboard.RetentionResult, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	defer func() { w.count(res, err) }()
	return w.runOnce(ctx)
}

// count exports what a run did, whether it completed or not.
func (w *Worker) count(res switchboard.RetentionResult, err error) {
	m := w.config.Metrics
	m.RetentionItems.WithLabelValues("purged").Add(float64(res.Purged))
	m.RetentionItems.WithLabelValues("removed").Add(float64(res.Removed))
	m.RetentionItems.WithLabelValues("capped").Add(float64(res.Capped))
	m.RetentionItems.WithLabelValues("changes_pruned").Add(float64(res.ChangesPruned))
	if err != nil {
		m.RetentionRuns.WithLabelValues("error").Inc()
	} else {
		m.RetentionRuns.WithLabelValues("ok").Inc()
	}
}

func (w *Worker) runOnce(ctx context.Context) (switchboard.RetentionResult, error) {
	var res switchboard.RetentionResult
	accounts, err := w.store.Accounts(ctx)
	if err != nil {
		return res, fmt.Errorf("retention: list accounts: %w", err)
	}
	now := w.clock.Now()
	for _, acc := range accounts {
		p := acc.Retention.Apply(w.config.Defaults)
		n, err := w.store.EnforceMailboxCap(ctx, acc.ID, p.MailboxCap)
		res.Capped += n
		if err != nil {
			return res, fmt.Errorf("retention: mailbox cap of account %d: %w", acc.ID, err)
		}
		if p.MessagePeriod > 0 {
			if err := w.expire(ctx, acc.ID, now.Add(-p.MessagePeriod), &res.Expired); err != nil {
				return res, fmt.Errorf("retention: retention period of account %d: %w", acc.ID, err)
			}
		}
		// Purge before removing, so a message whose both periods have passed
		// goes all the way in one run.
		if err := drain(ctx, &res.Purged, func() (int, error) {
			return w.store.PurgeDeleted(ctx, acc.ID, now.Add(-p.DeletePeriod), batchSize)
		}); err != nil {
			return res, fmt.Errorf("retention: purge account %d: %w", acc.ID, err)
		}
		if err := drain(ctx, &res.Removed, func() (int, error) {
			return w.store.RemovePurged(ctx, acc.ID, now.Add(-p.PurgePeriod), batchSize)
		}); err != nil {
			return res, fmt.Errorf("retention: remove purged of account %d: %w", acc.ID, err)
		}
	}
	if res.ChangesPruned, err = w.store.PruneChanges(ctx, now.Add(-w.config.ChangeLogPeriod)); err != nil {
		return res, fmt.Errorf("retention: prune change log: %w", err)
	}
	if res.Purged+res.Removed > 0 {
		if err := w.store.Compact(ctx); err != nil {
			return res, fmt.Errorf("retention: compact: %w", err)
		}
	}
	return res, nil
}

// expire deletes the Fax and VoiceMail messages of every mailbox of the
// account created before cutoff (RingCentral's retentionPeriod).
func (w *Worker) expire(ctx context.Context, accountID int64, cutoff time.Time, total *int) error {
	exts, err := w.store.Extensions(ctx, switchboard.ExtensionFilter{AccountID: accountID})
	if err != nil {
		return err
	}
	for _, x := range exts {
		if err := drain(ctx, total, func() (int, error) {
			return w.store.ExpireMessages(ctx, accountID, x.ID, switchboard.RetainedTypes, cutoff, batchSize)
		}); err != nil {
			return err
		}
	}
	return nil
}

// drain calls step until it reports a short batch, adding to total.
func drain(ctx context.Context, total *int, step func() (int, error)) error {
	for {
		n, err := step()
		*total += n
		if err != nil || n < batchSize {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// Run runs RunOnce every interval until ctx ends. Errors are logged, not
// fatal: the next run picks up where this one stopped.
func (w *Worker) Run(ctx context.Context, interval time.Duration) {
	fails := backoff.New("retention worker", w.config.ErrorBackoff, interval, w.logger)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		res, err := w.RunOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			w.config.Metrics.WorkerErrors.WithLabelValues("retention").Inc()
			if !backoff.Sleep(ctx, fails.Fail(ctx, err)) {
				return
			}
			continue
		}
		fails.Succeed(ctx)
		if res != (switchboard.RetentionResult{}) {
			w.logger.Info("retention run", "purged", res.Purged, "removed", res.Removed, "capped", res.Capped, "changes_pruned", res.ChangesPruned)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
