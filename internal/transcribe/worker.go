package transcribe

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/backoff"
	"github.com/switchboardhq/switchboard/internal/metrics"
)

// Store is what the worker needs.
type Store interface {
	ClaimTranscriptions(ctx context.Context, owner string, lease time.Duration, limit int) ([]*switchboard.Transcription, error)
	CompleteTranscription(ctx context.Context, owner string, messageID int64, status, text string) error
	Attachment(ctx context.Context, accountID, extensionID, messageID, attachmentID int64) (*switchboard.Attachment, error)
}

// Config tunes the worker.
type Config struct {
	Owner   string        // this node's lease owner id (unique per process)
	Timeout time.Duration // one transcription (default 2m)
	// MaxAttempts bounds claims of one job: a job whose worker died that
	// often (a recording that crashes the transcriber, say) is Failed
	// instead of run again. Default 3.
	MaxAttempts int
	Poll        time.Duration // how often Run looks for jobs without a Wake (default 5s)
	Batch       int           // jobs claimed at once (default 2)
	Metrics     *metrics.Metrics
	// ErrorBackoff is the first wait after a failed run (the database
	// down), doubling up to MaxErrorBackoff; zero: backoff's defaults.
	ErrorBackoff, MaxErrorBackoff time.Duration
}

// Worker runs transcription jobs. Jobs are rows of the database, leased
// while they run, so any number of workers on any number of nodes share
// them and a job of a crashed node is taken over when its lease expires.
type Worker struct {
	store  Store
	t      Transcriber
	logger *slog.Logger
	config Config
	wake   chan struct{}
}

// NewWorker returns a worker; t is the configured transcriber.
func NewWorker(store Store, t Transcriber, config Config, logger *slog.Logger) *Worker {
	if config.Timeout <= 0 {
		config.Timeout = 2 * time.Minute
	}
	if config.MaxAttempts <= 0 {
		config.MaxAttempts = 3
	}
	if config.Poll <= 0 {
		config.Poll = 5 * time.Second
	}
	if config.Batch <= 0 {
		config.Batch = 2
	}
	config.Metrics = metrics.OrNew(config.Metrics)
	return &Worker{store: store, t: t, logger: logger, config: config, wake: make(chan struct{}, 1)}
}

// Wake makes Run look for jobs now (a voicemail was just stored).
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run processes jobs until ctx ends.
func (w *Worker) Run(ctx context.Context) error {
	backoff.Loop(ctx, backoff.New("transcription worker", w.config.ErrorBackoff, w.config.MaxErrorBackoff, w.logger), w.config.Poll, w.wake,
		func(ctx context.Context) (bool, error) {
			n, err := w.RunOnce(ctx)
			if err != nil {
				w.config.Metrics.WorkerErrors.WithLabelValues("transcription").Inc()
			}
			return n > 0, err
		})
	return ctx.Err()
}

// RunOnce claims one batch of jobs and runs them; it reports how many it
// finished.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	// The jobs run one after another, so the lease outlives all their runs
	// (a timeout each) and the write that records the last.
	lease := time.Duration(w.config.Batch)*w.config.Timeout + time.Minute
	jobs, err := w.store.ClaimTranscriptions(ctx, w.config.Owner, lease, w.config.Batch)
	if err != nil {
		return 0, err
	}
	done := 0
	for _, j := range jobs {
		if err := w.run(ctx, j); err != nil {
			return done, err
		}
		done++
	}
	return done, nil
}

func (w *Worker) run(ctx context.Context, j *switchboard.Transcription) error {
	log := w.logger.With("message", j.MessageID, "attempt", j.Attempts)
	status, text := switchboard.TranscriptionFailed, ""
	if j.Attempts > w.config.MaxAttempts {
		log.WarnContext(ctx, "transcription abandoned: its workers stopped before finishing too often")
		return w.complete(ctx, j, status, text)
	}
	a, err := w.store.Attachment(ctx, j.AccountID, j.ExtensionID, j.MessageID, j.AttachmentID)
	if errors.Is(err, switchboard.ErrNotFound) {
		return w.complete(ctx, j, status, text) // purged or removed meanwhile
	}
	if err != nil {
		return err
	}
	tctx, cancel := context.WithTimeout(ctx, w.config.Timeout)
	started := time.Now()
	text, err = w.t.Transcribe(tctx, a.Content, a.ContentType)
	cancel()
	switch {
	case ctx.Err() != nil:
		// Shutting down: leave the job leased; it is resumed when the
		// lease expires, here or on another node.
		return ctx.Err()
	case errors.Is(err, context.DeadlineExceeded):
		status, text = switchboard.TranscriptionTimedOut, ""
		log.WarnContext(ctx, "transcription timed out", "timeout", w.config.Timeout)
	case err != nil:
		text = ""
		log.WarnContext(ctx, "transcription failed", "err", err)
	default:
		status = switchboard.TranscriptionCompleted
		log.InfoContext(ctx, "voicemail transcribed", "chars", len(text), "took", time.Since(started).Round(time.Millisecond))
	}
	return w.complete(ctx, j, status, text)
}

func (w *Worker) complete(ctx context.Context, j *switchboard.Transcription, status, text string) error {
	err := w.store.CompleteTranscription(ctx, w.config.Owner, j.MessageID, status, text)
	if err == nil {
		w.config.Metrics.TranscriptionJobs.WithLabelValues(status).Inc()
	}
	if errors.Is(err, switchboard.ErrLeaseLost) {
		// Another worker took the job over (this one was too slow); its
		// outcome is the one recorded.
		w.logger.WarnContext(ctx, "transcription lease lost", "message", j.MessageID)
		return nil
	}
	return err
}
