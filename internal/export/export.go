// Package export runs message store exports (RingCentral's message store
// report): a worker claims a task with a lease, walks the messages of the
// task's mailboxes in its date range page by page, and writes one zip
// archive of message records (JSON, as the API shows them) and their
// attachments into the store in chunks. Memory stays bounded by a page of
// messages, one attachment and one chunk, whatever the mailbox size. A
// worker that dies leaves its lease to run out; the next claim (on any
// node) starts the archive again.
package export

import (
	"archive/zip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"slices"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/backoff"
	"github.com/switchboardhq/switchboard/internal/rcwire"
)

// Store is what the worker needs.
type Store interface {
	switchboard.ExportStore
	Extensions(ctx context.Context, f switchboard.ExtensionFilter) ([]*switchboard.Extension, error)
	ListMessages(ctx context.Context, f switchboard.MessageFilter) (*switchboard.MessagePage, error)
	Attachment(ctx context.Context, accountID, extensionID, messageID, attachmentID int64) (*switchboard.Attachment, error)
}

// Config sets the worker up.
type Config struct {
	Owner string        // this worker's lease name, unique per process
	Lease time.Duration // renewed with every chunk; default 2 minutes
	// ChunkBytes is the size of the archive's chunks in the store; default 1 MiB.
	ChunkBytes int
	// PageSize is how many messages are read at once; default 200.
	PageSize int
	// Poll is how often the worker looks for work when not woken; default 5 s.
	Poll time.Duration
	// BaseURL is the server's public URL (no trailing slash): a record
	// gives its uris under it, as the API does.
	BaseURL string
}

// Worker runs exports.
type Worker struct {
	store  Store
	config Config
	logger *slog.Logger
	wake   chan struct{}
}

// New returns a worker.
func New(store Store, config Config, logger *slog.Logger) *Worker {
	if config.Lease <= 0 {
		config.Lease = 2 * time.Minute
	}
	if config.ChunkBytes <= 0 {
		config.ChunkBytes = 1 << 20
	}
	if config.PageSize <= 0 {
		config.PageSize = 200
	}
	if config.Poll <= 0 {
		config.Poll = 5 * time.Second
	}
	config.BaseURL = strings.TrimRight(config.BaseURL, "/")
	return &Worker{store: store, config: config, logger: logger, wake: make(chan struct{}, 1)}
}

// Wake makes the worker look for work now (a task was created).
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run runs tasks until ctx ends.
func (w *Worker) Run(ctx context.Context) {
	backoff.Loop(ctx, backoff.New("message store export worker", 0, 0, w.logger), w.config.Poll, w.wake, w.RunOnce)
}

// RunOnce claims one due task and runs it; did reports whether there was
// one. The task ends Completed, or Failed when its data cannot be
// archived; a lost lease or a store outage leaves it to be claimed again.
func (w *Worker) RunOnce(ctx context.Context) (did bool, err error) {
	t, err := w.store.ClaimExport(ctx, w.config.Owner, w.config.Lease)
	if errors.Is(err, switchboard.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	size, err := w.build(ctx, t)
	switch {
	case errors.Is(err, switchboard.ErrLeaseLost):
		w.logger.Warn("message store export: lease lost, another worker has it", "task", t.ID)
		return true, nil
	case errors.Is(err, switchboard.ErrUnavailable) || ctx.Err() != nil:
		return true, err // claimed again once the lease runs out
	case err != nil:
		w.logger.Error("message store export failed", "task", t.ID, "err", err)
		return true, w.store.FinishExport(ctx, t.ID, w.config.Owner, switchboard.ExportFailed, 0, err.Error())
	}
	w.logger.Info("message store export completed", "task", t.ID, "bytes", size)
	return true, w.store.FinishExport(ctx, t.ID, w.config.Owner, switchboard.ExportCompleted, size, "")
}

// build writes the archive of t and returns its size.
func (w *Worker) build(ctx context.Context, t *switchboard.ExportTask) (int64, error) {
	exts, err := w.store.Extensions(ctx, switchboard.ExtensionFilter{AccountID: t.AccountID})
	if err != nil {
		return 0, err
	}
	out := &chunkWriter{ctx: ctx, w: w, task: t.ID}
	zw := zip.NewWriter(out)
	for _, x := range exts {
		if len(t.Extensions) > 0 && !slices.Contains(t.Extensions, x.ID) {
			continue
		}
		if err := w.mailbox(ctx, zw, t, x); err != nil {
			return 0, err
		}
	}
	if err := zw.Close(); err != nil {
		return 0, err
	}
	if err := out.flush(); err != nil {
		return 0, err
	}
	return out.size, nil
}

// mailbox adds one extension's messages of the task to the archive, a page
// at a time: <number>-<id>/<message id>.json and, beside it, each
// attachment as <message id>-<attachment id><ext>.
func (w *Worker) mailbox(ctx context.Context, zw *zip.Writer, t *switchboard.ExportTask, x *switchboard.Extension) error {
	dir := fmt.Sprintf("%s-%d/", x.ExtensionNumber, x.ID)
	f := switchboard.MessageFilter{AccountID: t.AccountID, ExtensionID: x.ID, Types: t.Types,
		Availability: []switchboard.Availability{switchboard.Alive, switchboard.Deleted},
		DateFrom:     t.DateFrom, DateTo: t.DateTo, Limit: w.config.PageSize}
	for {
		page, err := w.store.ListMessages(ctx, f)
		if err != nil {
			return err
		}
		for _, m := range page.Messages {
			record, err := json.MarshalIndent(rcwire.NewMessage(w.config.BaseURL, m), "", "  ")
			if err != nil {
				return err
			}
			if err := writeFile(zw, fmt.Sprintf("%s%d.json", dir, m.ID), m.Created, record); err != nil {
				return err
			}
			for _, a := range m.Attachments {
				full, err := w.store.Attachment(ctx, t.AccountID, x.ID, m.ID, a.ID)
				if errors.Is(err, switchboard.ErrNotFound) {
					continue // removed or purged since the page was read
				}
				if err != nil {
					return err
				}
				name := fmt.Sprintf("%s%d-%d%s", dir, m.ID, a.ID, extension(a.ContentType))
				if err := writeFile(zw, name, m.Created, full.Content); err != nil {
					return err
				}
			}
		}
		if !page.More {
			return nil
		}
		f.Offset += len(page.Messages)
	}
}

func writeFile(zw *zip.Writer, name string, modified time.Time, data []byte) error {
	fw, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: modified.UTC()})
	if err != nil {
		return err
	}
	_, err = fw.Write(data)
	return err
}

// extension is a file name extension for a content type.
func extension(contentType string) string {
	switch strings.ToLower(strings.TrimSpace(strings.SplitN(contentType, ";", 2)[0])) {
	case "text/plain":
		return ".txt"
	case "application/pdf":
		return ".pdf"
	case "image/jpeg":
		return ".jpg"
	case "audio/mpeg":
		return ".mp3"
	case "audio/wav", "audio/x-wav":
		return ".wav"
	case "image/tiff":
		return ".tif"
	}
	if exts, _ := mime.ExtensionsByType(contentType); len(exts) > 0 {
		return exts[0]
	}
	return ".bin"
}

// chunkWriter stores what the zip writer writes in chunks of ChunkBytes,
// each with the lease renewed, so the archive never lies in memory whole.
type chunkWriter struct {
	ctx  context.Context
	w    *Worker
	task string
	buf  []byte
	seq  int
	size int64
}

func (c *chunkWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		room := c.w.config.ChunkBytes - len(c.buf)
		take := min(room, len(p))
		c.buf = append(c.buf, p[:take]...)
		p = p[take:]
		if len(c.buf) == c.w.config.ChunkBytes {
			if err := c.flush(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

func (c *chunkWriter) flush() error {
	if len(c.buf) == 0 {
		return nil
	}
	if err := c.w.store.WriteExportChunk(c.ctx, c.task, c.w.config.Owner, c.seq, c.buf, c.w.config.Lease); err != nil {
		return err
	}
	c.seq++
	c.size += int64(len(c.buf))
	c.buf = c.buf[:0]
	return nil
}
