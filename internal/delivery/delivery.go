// Package delivery is the worker that moves outbound messages out of the
// outbox: it claims due deliveries with a lease, stores the inbound copies
// of internal recipients, submits the others to the carrier, retries
// temporary failures with backoff, and applies the carrier's delivery
// receipts. Everything it knows is in the database, so a worker that dies
// mid-way is replaced by any other once its lease expires, and exactly one
// inbound copy is stored per recipient (the store refuses a completion
// whose lease was lost).
package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/backoff"
	"github.com/switchboardhq/switchboard/internal/carrier"
	"github.com/switchboardhq/switchboard/internal/metrics"
)

// Store is what the worker needs of the store: the outbox, and the
// sender's message for a resubmit (a claim brings it along otherwise).
type Store interface {
	switchboard.DeliveryStore
	Message(ctx context.Context, accountID, extensionID, id int64) (*switchboard.Message, error)
}

// Config tunes the worker.
type Config struct {
	Owner       string        // lease owner: unique per process
	Lease       time.Duration // how long a claim holds before another worker may take it
	Batch       int           // deliveries claimed at once
	Parallel    int           // deliveries of a batch processed at once (their writes share commits)
	MaxAttempts int           // carrier tries before a delivery fails for good
	BaseBackoff time.Duration // first retry delay; doubles per attempt
	MaxBackoff  time.Duration
	Poll        time.Duration // how often to look for work when idle
	// ReceiptTimeout is how long an accepted delivery may wait for its
	// receipt before it is submitted again (carriers answer a resubmit
	// idempotently), so a receipt lost with a carrier's memory, such as a
	// node's simulator killed with the node, is asked for again by any node.
	ReceiptTimeout time.Duration
	// NoResubmit turns that off, for a carrier whose gateway keeps its
	// receipts across our restarts (an SMSC sends them again) and where a
	// resubmit would send the message a second time (SMPP).
	NoResubmit bool
	// UnknownReceiptGrace is how long a receipt naming a carrier id that
	// no delivery has yet is kept before it is dropped: the node that
	// submitted it may not have recorded the carrier's answer yet.
	UnknownReceiptGrace time.Duration
	// Metrics counts attempts, carrier errors and status transitions
	// (nil: not exported).
	Metrics *metrics.Metrics
	// ErrorBackoff is the first wait after a failed run (the database
	// down); it doubles up to MaxErrorBackoff; zero: backoff's defaults.
	ErrorBackoff, MaxErrorBackoff time.Duration
}

func (c *Config) defaults() {
	if c.Lease <= 0 {
		c.Lease = 30 * time.Second
	}
	if c.Batch <= 0 {
		c.Batch = 256
	}
	if c.Parallel <= 0 {
		c.Parallel = 32
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 8
	}
	if c.BaseBackoff <= 0 {
		c.BaseBackoff = 2 * time.Second
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 10 * time.Minute
	}
	if c.Poll <= 0 {
		c.Poll = 50 * time.Millisecond
	}
	if c.ReceiptTimeout <= 0 {
		c.ReceiptTimeout = 10 * time.Minute
	}
	if c.UnknownReceiptGrace <= 0 {
		c.UnknownReceiptGrace = time.Minute
	}
	c.Metrics = metrics.OrNew(c.Metrics)
}

// Worker delivers.
type Worker struct {
	store   Store
	carrier carrier.Carrier
	clock   switchboard.Clock
	config  Config
	logger  *slog.Logger
	wake    chan struct{}
	// nextSweep is when RunOnce next looks for overdue receipts (Unix ms,
	// by the injected clock).
	nextSweep atomic.Int64
}

// NewWorker returns a worker.
func NewWorker(store Store, c carrier.Carrier, clock switchboard.Clock, config Config, logger *slog.Logger) *Worker {
	config.defaults()
	return &Worker{store: store, carrier: c, clock: clock, config: config, logger: logger, wake: make(chan struct{}, 1)}
}

// Wake tells the worker there is new work, so it does not wait for its
// next poll. It never blocks.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends. On start it resubmits what a carrier had
// accepted without a receipt yet (the simulator keeps no state across a
// restart; real carriers answer resubmits idempotently).
func (w *Worker) Run(ctx context.Context) {
	fails := backoff.New("delivery worker", w.config.ErrorBackoff, w.config.MaxErrorBackoff, w.logger)
	for !w.config.NoResubmit {
		err := w.Resubmit(ctx)
		if err == nil || ctx.Err() != nil {
			break
		}
		w.config.Metrics.WorkerErrors.WithLabelValues("delivery").Inc()
		if !backoff.Sleep(ctx, fails.Fail(ctx, fmt.Errorf("resubmit accepted messages: %w", err))) {
			return
		}
	}
	fails.Succeed(ctx)
	backoff.Loop(ctx, fails, w.config.Poll, w.wake, func(ctx context.Context) (bool, error) {
		n, err := w.RunOnce(ctx)
		if err != nil {
			// The database or the carrier is out of reach.
			w.config.Metrics.WorkerErrors.WithLabelValues("delivery").Inc()
		}
		return n > 0, err
	})
}

// RunOnce claims one batch of due deliveries, processes it and applies the
// carrier's due receipts. It reports how many deliveries it processed.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	// Internal deliveries first, selected and completed in one
	// transaction. If that fails, they are left to the claim below, which
	// takes them with a lease and, should the batch fail again, one by one,
	// so that one delivery the store cannot take holds back no other.
	claim := w.store.ClaimCarrierDeliveries
	in, err := w.store.DeliverDueInternal(ctx, w.config.Batch)
	switch {
	case errors.Is(err, switchboard.ErrUnavailable):
		return 0, fmt.Errorf("deliver internal messages: %w", err)
	case err != nil && ctx.Err() == nil:
		w.logger.Error("internal deliveries failed as a batch; claiming them one by one", "err", err)
		claim = w.store.ClaimDeliveries
	}
	w.config.Metrics.InternalDeliveries(in.Delivered, in.Failed)
	done := in.Delivered + in.Failed
	ds, err := claim(ctx, w.config.Owner, w.config.Lease, w.config.Batch)
	if err != nil {
		return done, fmt.Errorf("claim deliveries: %w", err)
	}
	// Internal deliveries of the batch (left by a failed DeliverDueInternal)
	// are stored in one transaction; carrier answers and receipts are
	// recorded a write for many.
	var internal []*switchboard.Delivery
	var external []*switchboard.Delivery
	for _, d := range ds {
		if d.Internal && d.Message != nil {
			internal = append(internal, d)
		} else {
			external = append(external, d)
		}
	}
	var wg sync.WaitGroup
	var unavailable atomic.Int64
	report := func(d *switchboard.Delivery, err error) {
		// A shutdown leaves the delivery for the lease release.
		if err == nil || errors.Is(err, switchboard.ErrLeaseLost) || ctx.Err() != nil {
			return
		}
		// Left leased: it is retried when the lease expires. (A lost lease
		// means another worker has it; nothing was stored.)
		w.config.Metrics.DeliveryAttempts.WithLabelValues("error").Inc()
		level := slog.LevelError
		if errors.Is(err, switchboard.ErrUnavailable) {
			unavailable.Add(1)
			level = slog.LevelWarn // the run's own error says the database is down, once
		}
		w.logger.Log(ctx, level, "delivery failed, retrying after its lease", "delivery", d.ID, "message", d.MessageID, "err", err)
	}
	if len(internal) > 0 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs, err := w.deliverInternal(ctx, internal)
			for i, d := range internal {
				if err != nil {
					report(d, err)
				} else {
					report(d, errs[i])
				}
			}
		}()
	}
	// Carrier submits run concurrently (a gateway answers each after a
	// round trip); their answers are recorded as they come (recordAnswers).
	answers := make(chan answered, len(external))
	recorded := make(chan error, 1)
	go func() { recorded <- w.recordAnswers(ctx, answers, report) }()
	slots := make(chan struct{}, w.config.Parallel)
	for _, d := range external {
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			o, err := w.process(ctx, d)
			report(d, err)
			if o != nil {
				answers <- answered{d, *o}
			}
		}()
	}
	wg.Wait()
	close(answers)
	recordErr := <-recorded
	done += len(ds)
	if n := unavailable.Load(); n > 0 && n == int64(len(ds)) {
		// The database went away with the batch in hand: the loop backs
		// off, as it does when the claim itself fails.
		return done, fmt.Errorf("all %d deliveries of the batch: %w", n, switchboard.ErrUnavailable)
	}
	if recordErr != nil {
		return done, recordErr
	}
	if err := w.applyReceipts(ctx); err != nil {
		return done, err
	}
	return done, w.sweepOverdue(ctx)
}

// sweepOverdue resubmits the deliveries whose receipt is overdue, at most
// every quarter of ReceiptTimeout.
func (w *Worker) sweepOverdue(ctx context.Context) error {
	if w.config.NoResubmit {
		return nil
	}
	now := w.clock.Now()
	next := w.nextSweep.Load()
	if now.UnixMilli() < next || !w.nextSweep.CompareAndSwap(next, now.Add(w.config.ReceiptTimeout/4).UnixMilli()) {
		return nil
	}
	return w.resubmit(ctx, now.Add(-w.config.ReceiptTimeout))
}

// process submits one claimed delivery to the carrier and returns the
// answer to record, or nil when there is none: a temporary failure is
// recorded here (the delivery rescheduled).
func (w *Worker) process(ctx context.Context, d *switchboard.Delivery) (*switchboard.SubmitOutcome, error) {
	if d.Message == nil {
		// The sender's message was removed before delivery: nothing to send.
		return &switchboard.SubmitOutcome{DeliveryID: d.ID, ErrorCode: switchboard.FailureSenderGone}, nil
	}
	return w.submit(ctx, d, d.Message)
}

func (w *Worker) submit(ctx context.Context, d *switchboard.Delivery, m *switchboard.Message) (*switchboard.SubmitOutcome, error) {
	res, err := w.carrier.Submit(ctx, submission(d, m))
	var te *carrier.TemporaryError
	mt := w.config.Metrics
	switch {
	case errors.As(err, &te) && te.NotSent:
		// Retried when the carrier expects to be back, at the earliest
		// after BaseBackoff so a long outage costs few writes.
		return nil, w.store.Postpone(ctx, w.config.Owner, d.ID, w.clock.Now().Add(max(w.config.BaseBackoff, te.RetryAfter)))
	case errors.Is(err, carrier.ErrTemporary):
		mt.CarrierErrors.WithLabelValues("temporary").Inc()
		at := w.clock.Now().Add(w.backoff(d.Attempts, carrier.RetryAfter(err)))
		if err := w.store.Reschedule(ctx, w.config.Owner, d.ID, at, w.config.MaxAttempts, switchboard.CarrierFailureCode(m.Type)); err != nil {
			return nil, err
		}
		mt.DeliveryAttempts.WithLabelValues("temporary").Inc()
		if d.Attempts+1 >= w.config.MaxAttempts {
			mt.StatusTransitions.WithLabelValues("SendingFailed").Inc()
		}
		return nil, nil
	case errors.Is(err, carrier.ErrInvalid):
		mt.CarrierErrors.WithLabelValues("invalid").Inc()
		res = carrier.Result{ErrorCode: switchboard.CarrierFailureCode(m.Type)}
	case err != nil:
		mt.CarrierErrors.WithLabelValues("other").Inc()
		return nil, err
	}
	return &switchboard.SubmitOutcome{DeliveryID: d.ID, Accepted: res.Accepted, CarrierID: res.CarrierID, ErrorCode: res.ErrorCode}, nil
}

// submission is what the carrier is given for one recipient of m: the
// same on a first submit and on a resubmit after a restart.
func submission(d *switchboard.Delivery, m *switchboard.Message) carrier.Submission {
	s := carrier.Submission{MessageID: d.MessageID, Recipient: d.Recipient, From: m.From.PhoneNumber,
		Type: m.Type, Text: m.Subject, Pages: m.FaxPageCount}
	for _, a := range m.Attachments {
		if a.Type == switchboard.AttachmentMms {
			s.Media = append(s.Media, carrier.Media{ContentType: a.ContentType, Size: a.Size})
		}
	}
	return s
}

// backoff doubles from BaseBackoff per attempt up to MaxBackoff, and
// honours a carrier's retry-after hint when it is longer.
func (w *Worker) backoff(attempts int, hint time.Duration) time.Duration {
	d := time.Duration(float64(w.config.BaseBackoff) * math.Pow(2, float64(attempts)))
	if d > w.config.MaxBackoff || d <= 0 {
		d = w.config.MaxBackoff
	}
	return max(d, hint)
}

// deliverInternal stores the inbound copies of internal deliveries, one
// per mailbox the send routed each to, in one transaction.
func (w *Worker) deliverInternal(ctx context.Context, ds []*switchboard.Delivery) ([]error, error) {
	batch := make([]switchboard.InternalDelivery, len(ds))
	for i, d := range ds {
		batch[i] = switchboard.InternalDeliveryOf(d)
	}
	errs, err := w.store.DeliverInternal(ctx, w.config.Owner, batch)
	if err != nil && len(batch) > 1 && !errors.Is(err, switchboard.ErrUnavailable) && ctx.Err() == nil {
		// One delivery the store cannot take must not hold the others back
		// (each retry of the batch would fail the same way): one at a time.
		errs, err = make([]error, len(batch)), nil
		for i := range batch {
			one, oneErr := w.store.DeliverInternal(ctx, w.config.Owner, batch[i:i+1])
			if oneErr == nil {
				oneErr = one[0]
			}
			errs[i] = oneErr
		}
	}
	if err != nil {
		return nil, err
	}
	for i := range ds {
		switch {
		case errs[i] == nil:
			w.config.Metrics.InternalDeliveries(1, 0)
		case errors.Is(errs[i], switchboard.ErrRecipientGone):
			w.config.Metrics.InternalDeliveries(0, 1)
			errs[i] = nil // recorded: nothing to retry
		}
	}
	return errs, nil
}

// answered is a carrier's answer to the submit of d, to record.
type answered struct {
	d *switchboard.Delivery
	o switchboard.SubmitOutcome
}

// recordAnswers records the carrier's answers as they come, each write
// taking every answer that arrived while the one before was written: so
// a pass of fast answers costs few writes, and an answer waits for its
// record no longer than one write, which bounds what a crash leaves
// accepted by the carrier but not recorded (sent again after the lease:
// SMPP has no idempotency key) to about one write's worth, as when each
// answer was recorded on its own.
func (w *Worker) recordAnswers(ctx context.Context, answers <-chan answered, report func(*switchboard.Delivery, error)) error {
	var firstErr error
	for a := range answers {
		batch := []answered{a}
	gather:
		for {
			select {
			case a, ok := <-answers:
				if !ok {
					break gather
				}
				batch = append(batch, a)
			default:
				break gather
			}
		}
		if err := w.recordSubmits(ctx, batch, report); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

// recordSubmits records answers in one write; a delivery whose answer is
// not recorded stays leased and is tried again after its lease.
func (w *Worker) recordSubmits(ctx context.Context, batch []answered, report func(*switchboard.Delivery, error)) error {
	submits := make([]switchboard.SubmitOutcome, len(batch))
	for i, a := range batch {
		submits[i] = a.o
	}
	errs, _, err := w.record(ctx, submits, nil)
	if err != nil {
		for _, a := range batch {
			report(a.d, err)
		}
		return fmt.Errorf("record %d carrier answers: %w", len(submits), err)
	}
	for i, a := range batch {
		if errs[i] != nil {
			report(a.d, errs[i])
			continue
		}
		w.countSubmit(a.o)
	}
	return nil
}

// applyReceipts records the carrier's due receipts, Batch per write, then
// acknowledges those recorded. A crash in between only repeats a receipt,
// which the store ignores once the delivery is final.
func (w *Worker) applyReceipts(ctx context.Context) error {
	rs, receiptsErr := w.dueReceipts(ctx)
	for len(rs) > 0 {
		chunk := rs[:min(len(rs), w.config.Batch)]
		rs = rs[len(chunk):]
		reports := make([]switchboard.DeliveryReport, len(chunk))
		for i, r := range chunk {
			reports[i] = switchboard.DeliveryReport{MessageID: r.MessageID, Recipient: r.Recipient, Delivered: r.Delivered, ErrorCode: r.ErrorCode, At: r.At}
		}
		_, errs, err := w.record(ctx, nil, reports)
		if err != nil {
			return fmt.Errorf("record %d receipts: %w", len(reports), err)
		}
		if err := w.ack(ctx, chunk, errs); err != nil {
			return err
		}
	}
	return receiptsErr
}

// record is the store's RecordCarrier. When the batch's transaction fails
// for a reason other than the database being away, one answer the store
// cannot take must not hold the others back (each retry would fail the
// same way): they are recorded one at a time.
func (w *Worker) record(ctx context.Context, submits []switchboard.SubmitOutcome, reports []switchboard.DeliveryReport) ([]error, []error, error) {
	submitErrs, reportErrs, err := w.store.RecordCarrier(ctx, w.config.Owner, submits, reports)
	if err == nil || len(submits)+len(reports) < 2 || errors.Is(err, switchboard.ErrUnavailable) || ctx.Err() != nil {
		return submitErrs, reportErrs, err
	}
	submitErrs, reportErrs = make([]error, len(submits)), make([]error, len(reports))
	for i := range submits {
		one, _, err := w.store.RecordCarrier(ctx, w.config.Owner, submits[i:i+1], nil)
		if err == nil {
			err = one[0]
		}
		submitErrs[i] = err
	}
	for i := range reports {
		_, one, err := w.store.RecordCarrier(ctx, w.config.Owner, nil, reports[i:i+1])
		if err == nil {
			err = one[0]
		}
		reportErrs[i] = err
	}
	return submitErrs, reportErrs, nil
}

func (w *Worker) countSubmit(o switchboard.SubmitOutcome) {
	if o.Accepted {
		w.config.Metrics.DeliveryAttempts.WithLabelValues("accepted").Inc()
		w.config.Metrics.StatusTransitions.WithLabelValues("Sent").Inc()
	} else {
		w.config.Metrics.DeliveryAttempts.WithLabelValues("rejected").Inc()
		w.config.Metrics.StatusTransitions.WithLabelValues("SendingFailed").Inc()
	}
}

// dueReceipts returns the carrier's due receipts, each naming its message
// and recipient. A receipt that names only a carrier id (the carrier
// restarted since the submit) is looked up; one no delivery has is kept for
// UnknownReceiptGrace (the submitting node may not have recorded it yet:
// asked again next poll), then acknowledged and dropped.
func (w *Worker) dueReceipts(ctx context.Context) ([]carrier.Receipt, error) {
	rs, err := w.carrier.Receipts(ctx, w.clock.Now())
	if err != nil {
		return nil, fmt.Errorf("carrier receipts: %w", err)
	}
	known := rs[:0]
	for _, r := range rs {
		if r.MessageID != 0 {
			known = append(known, r)
			continue
		}
		id, recipient, err := w.store.DeliveryByCarrierID(ctx, r.CarrierID)
		switch {
		case errors.Is(err, switchboard.ErrNotFound) && w.clock.Now().Sub(r.At) < w.config.UnknownReceiptGrace:
			continue
		case errors.Is(err, switchboard.ErrNotFound):
			w.logger.Warn("delivery: receipt for a carrier id no delivery has, acknowledged and dropped", "carrier_id", r.CarrierID)
			if err := w.carrier.Ack(ctx, r); err != nil {
				return known, fmt.Errorf("ack receipt of carrier id %s: %w", r.CarrierID, err)
			}
			continue
		case err != nil:
			return known, fmt.Errorf("find the delivery of carrier id %s: %w", r.CarrierID, err)
		}
		r.MessageID, r.Recipient = id, recipient
		known = append(known, r)
	}
	return known, nil
}

// ack acknowledges the receipts recorded (errs[i] nil for rs[i]). One whose
// submit is not recorded yet (ErrDeliveryPending: its submit is being
// retried after a lost lease) is left unacknowledged: the carrier hands it
// out again on a later poll.
func (w *Worker) ack(ctx context.Context, rs []carrier.Receipt, errs []error) error {
	for i, r := range rs {
		if errs[i] != nil {
			continue
		}
		status := "Delivered"
		if !r.Delivered {
			status = "DeliveryFailed"
		}
		w.config.Metrics.StatusTransitions.WithLabelValues(status).Inc()
		if err := w.carrier.Ack(ctx, r); err != nil {
			return fmt.Errorf("ack receipt of message %d: %w", r.MessageID, err)
		}
	}
	return nil
}

// Resubmit submits again every delivery a carrier accepted whose receipt
// has not come, as a worker does when it starts: receipts pending in the
// carrier simulator's memory died with the process. Carriers answer a
// resubmit with their first answer.
func (w *Worker) Resubmit(ctx context.Context) error {
	return w.resubmit(ctx, w.clock.Now())
}

// resubmit submits again the deliveries accepted before cutoff and still
// waiting for their receipt. Each is claimed first, so of several workers
// (nodes) exactly one resubmits it in a period.
func (w *Worker) resubmit(ctx context.Context, cutoff time.Time) error {
	for {
		ds, err := w.store.ClaimUnreceipted(ctx, cutoff, w.config.Batch)
		if err != nil {
			return fmt.Errorf("claim deliveries with overdue receipts: %w", err)
		}
		for _, d := range ds {
			m, err := w.store.Message(ctx, d.AccountID, d.ExtensionID, d.MessageID)
			if errors.Is(err, switchboard.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if _, err := w.carrier.Submit(ctx, submission(d, m)); err != nil && !errors.Is(err, carrier.ErrTemporary) {
				// The rest of the batch is claimed already: stopping here
				// would leave it for another whole timeout.
				w.logger.Error("delivery: resubmit failed", "delivery", d.ID, "message", d.MessageID, "err", err)
			}
		}
		if len(ds) < w.config.Batch {
			return nil
		}
	}
}
