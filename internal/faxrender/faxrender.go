// Package faxrender renders outbound faxes in the background: the send API
// stores the fax Queued with its documents and a rendering job (its
// deliveries held), and this worker renders the documents into the fax's
// RenderedDocument, which releases the deliveries, or fails the fax with
// RingCentral's faxErrorCode (RenderingFailed, TooManyPages) as
// RingCentral does. Jobs are rows of the database, leased while they run,
// so any number of workers on any number of nodes share them, a crashed
// node's job is taken over when its lease expires, and the claim takes
// turns between senders.
package faxrender

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/backoff"
	"github.com/switchboardhq/switchboard/internal/fax"
)

// Store is what the worker needs.
type Store interface {
	switchboard.FaxRenderStore
	Message(ctx context.Context, accountID, extensionID, id int64) (*switchboard.Message, error)
	Attachment(ctx context.Context, accountID, extensionID, messageID, attachmentID int64) (*switchboard.Attachment, error)
}

// Config tunes the worker.
type Config struct {
	Owner string // this node's lease owner id (unique per process)
	// Workers is how many faxes are rendered at once (default 1); the
	// server sizes it to the cores.
	Workers int
	// PerSender is the most renders one sender has at once (default
	// Workers-1, at least 1), so a slot stays free for other senders.
	PerSender int
	MaxPages  int           // pages of one fax, cover included (default fax.MaxPages)
	MaxBytes  int64         // documents of one fax together (default fax.MaxTotalBytes)
	Timeout   time.Duration // one fax's rendering (default 5m); past it: RenderingFailed
	// MaxAttempts bounds claims of one job: a fax whose workers died that
	// often (a document that kills the process, say) fails with
	// RenderingFailed instead of being rendered again. Default 3.
	MaxAttempts int
	Poll        time.Duration // how often an idle worker looks for jobs without a Wake (default 5s)
	// ErrorBackoff is the first wait after a failed run (the database
	// down), doubling up to MaxErrorBackoff; zero: backoff's defaults.
	ErrorBackoff, MaxErrorBackoff time.Duration
}

// Worker renders faxes.
type Worker struct {
	store  Store
	logger *slog.Logger
	config Config
	wake   chan struct{}
	// Released is called after a fax's deliveries were released, to wake
	// the delivery worker; nil: nothing.
	Released func()
}

// New returns a worker.
func New(store Store, config Config, logger *slog.Logger) *Worker {
	config.Workers = max(config.Workers, 1)
	if config.PerSender <= 0 {
		config.PerSender = max(config.Workers-1, 1)
	}
	if config.MaxPages <= 0 {
		config.MaxPages = fax.MaxPages
	}
	if config.MaxBytes <= 0 {
		config.MaxBytes = fax.MaxTotalBytes
	}
	if config.Timeout <= 0 {
		config.Timeout = 5 * time.Minute
	}
	if config.MaxAttempts <= 0 {
		config.MaxAttempts = 3
	}
	if config.Poll <= 0 {
		config.Poll = 5 * time.Second
	}
	return &Worker{store: store, logger: logger, config: config, wake: make(chan struct{}, config.Workers)}
}

// Wake makes idle workers look for jobs now (a fax was just stored).
func (w *Worker) Wake() {
	for range w.config.Workers {
		select {
		case w.wake <- struct{}{}:
		default:
			return
		}
	}
}

// Run renders faxes with Config.Workers goroutines until ctx ends.
func (w *Worker) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for i := range w.config.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.loop(ctx, fmt.Sprintf("fax render worker %d", i+1))
		}()
	}
	wg.Wait()
}

func (w *Worker) loop(ctx context.Context, name string) {
	backoff.Loop(ctx, backoff.New(name, w.config.ErrorBackoff, w.config.MaxErrorBackoff, w.logger), w.config.Poll, w.wake,
		func(ctx context.Context) (bool, error) {
			n, err := w.RunOnce(ctx)
			return n > 0, err
		})
}

// RunOnce claims one job, if any, and renders it; it reports how many it
// finished (0 or 1).
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	// The lease outlives the rendering (its timeout) and the write after.
	jobs, err := w.store.ClaimFaxRenders(ctx, w.config.Owner, w.config.Timeout+time.Minute, 1, w.config.PerSender)
	if err != nil || len(jobs) == 0 {
		return 0, err
	}
	if err := w.render(ctx, jobs[0]); err != nil {
		return 0, err
	}
	return 1, nil
}

func (w *Worker) render(ctx context.Context, j *switchboard.FaxRender) error {
	log := w.logger.With("message", j.MessageID, "attempt", j.Attempts)
	if j.Attempts > w.config.MaxAttempts {
		log.WarnContext(ctx, "fax rendering abandoned: its workers stopped before finishing too often")
		return w.fail(ctx, j, "RenderingFailed")
	}
	opts, err := fax.DecodeJob(j.Options)
	if err != nil {
		log.ErrorContext(ctx, "fax render job unreadable", "err", err)
		return w.fail(ctx, j, "RenderingFailed")
	}
	opts.MaxPages, opts.MaxBytes = w.config.MaxPages, w.config.MaxBytes
	docs, err := w.documents(ctx, j)
	if errors.Is(err, switchboard.ErrNotFound) {
		return w.fail(ctx, j, "RenderingFailed") // removed meanwhile: nothing to send
	}
	if err != nil {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, w.config.Timeout)
	started := time.Now()
	res, err := fax.Render(rctx, docs, opts)
	timedOut := rctx.Err() != nil
	cancel()
	switch {
	case ctx.Err() != nil:
		// Shutting down: leave the job leased; it is resumed when the
		// lease expires (or is given back), here or on another node.
		return ctx.Err()
	case err != nil && timedOut:
		log.WarnContext(ctx, "fax rendering timed out", "timeout", w.config.Timeout)
		return w.fail(ctx, j, "RenderingFailed")
	case err != nil:
		code, ok := fax.ErrorCode(err)
		if !ok {
			// The renderer itself failed (not the documents): leave the
			// job to be claimed again when its lease expires.
			return fmt.Errorf("render fax %d: %w", j.MessageID, err)
		}
		log.InfoContext(ctx, "fax cannot be rendered", "code", code, "err", err)
		return w.fail(ctx, j, code)
	}
	rendered := &switchboard.Attachment{Type: switchboard.AttachmentRenderedDocument, ContentType: fax.TypePDF,
		FileName: RenderedFileName, Content: res.PDF}
	err = w.store.CompleteFaxRender(ctx, w.config.Owner, j.MessageID, rendered, res.Pages)
	if errors.Is(err, switchboard.ErrLeaseLost) {
		log.WarnContext(ctx, "fax render lease lost: another worker took the job over")
		return nil
	}
	if err != nil {
		return err
	}
	log.InfoContext(ctx, "fax rendered", "pages", res.Pages, "took", time.Since(started).Round(time.Millisecond))
	if w.Released != nil {
		w.Released()
	}
	return nil
}

// RenderedFileName is the file name of a sent fax's RenderedDocument.
const RenderedFileName = "fax.pdf"

// documents reads the fax's SourceDocuments, in order.
func (w *Worker) documents(ctx context.Context, j *switchboard.FaxRender) ([]fax.Document, error) {
	m, err := w.store.Message(ctx, j.AccountID, j.ExtensionID, j.MessageID)
	if err != nil {
		return nil, err
	}
	var docs []fax.Document
	for _, a := range m.Attachments {
		if a.Type != switchboard.AttachmentSourceDocument {
			continue
		}
		full, err := w.store.Attachment(ctx, j.AccountID, j.ExtensionID, j.MessageID, a.ID)
		if err != nil {
			return nil, err
		}
		docs = append(docs, fax.Document{FileName: full.FileName, ContentType: full.ContentType, Data: full.Content})
	}
	return docs, nil
}

func (w *Worker) fail(ctx context.Context, j *switchboard.FaxRender, code string) error {
	err := w.store.FailFaxRender(ctx, w.config.Owner, j.MessageID, code)
	if errors.Is(err, switchboard.ErrLeaseLost) {
		w.logger.WarnContext(ctx, "fax render lease lost", "message", j.MessageID)
		return nil
	}
	return err
}
