// Package backoff paces a worker loop whose runs fail: while a dependency
// (the database) is down, a worker waits longer after each failed run
// instead of retrying every tick, and logs the outage once, then a
// reminder now and then, instead of an error per tick.
package backoff

import (
	"context"
	"log/slog"
	"time"
)

// Failures tracks the consecutive failed runs of one worker loop. The zero
// value is not usable; use New.
type Failures struct {
	worker    string
	base, max time.Duration
	logger    *slog.Logger
	n         int
}

// remindEvery is how many failed runs in a row pass between two reminders
// after the first error line (at the longest wait, about a few minutes).
const remindEvery = 20

// The waits of a worker that names none: short enough that a brief
// outage costs little latency, long enough at the top that a long one
// costs few queries.
const (
	DefaultBase = 250 * time.Millisecond
	DefaultMax  = 10 * time.Second
)

// New returns the failure tracker of the named worker: waits double from
// base to max (zero: DefaultBase, DefaultMax).
func New(worker string, base, max time.Duration, logger *slog.Logger) *Failures {
	if base <= 0 {
		base = DefaultBase
	}
	if max <= 0 {
		max = DefaultMax
	}
	return &Failures{worker: worker, base: base, max: max, logger: logger}
}

// Fail records a failed run and returns how long to wait before the next.
// The first failure of a run of them is logged as an error; later ones as
// a warning every remindEvery failures.
func (f *Failures) Fail(ctx context.Context, err error) time.Duration {
	f.n++
	switch {
	case f.n == 1:
		f.logger.ErrorContext(ctx, f.worker+" failed; retrying with backoff", "err", err)
	case f.n%remindEvery == 0:
		f.logger.WarnContext(ctx, f.worker+" still failing", "failures", f.n, "err", err)
	default:
		f.logger.DebugContext(ctx, f.worker+" failed again", "failures", f.n, "err", err)
	}
	return f.Wait()
}

// Wait is the wait after the failures so far: 0 without any, else base
// doubled per failure after the first, at most max.
func (f *Failures) Wait() time.Duration {
	if f.n == 0 {
		return 0
	}
	d := f.base
	for i := 1; i < f.n && d < f.max; i++ {
		d *= 2
	}
	return min(d, f.max)
}

// Succeed records a successful run; after failures it logs the recovery.
func (f *Failures) Succeed(ctx context.Context) {
	if f.n > 0 {
		f.logger.InfoContext(ctx, f.worker+" recovered", "failures", f.n)
	}
	f.n = 0
}

// Failing reports whether the last run failed.
func (f *Failures) Failing() bool { return f.n > 0 }

// Sleep waits d, or until ctx ends; it reports whether ctx is still live.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Loop runs a worker until ctx ends: runOnce again at once while it finds
// work (busy), after a wake-up or a poll tick while it is idle, and after
// f's growing wait while it fails. Every worker loop of the server is this
// one, so each paces an outage the same way.
func Loop(ctx context.Context, f *Failures, poll time.Duration, wake <-chan struct{}, runOnce func(context.Context) (busy bool, err error)) {
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		busy, err := runOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			if !Sleep(ctx, f.Fail(ctx, err)) {
				return
			}
			continue
		}
		f.Succeed(ctx)
		if busy {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-t.C:
		}
	}
}
