// Package push delivers RingCentral push notifications: it reads each
// subscription's mailboxes from the persisted change log after the
// subscription's own cursor, builds RingCentral's event bodies, and delivers
// them by WebHook (with a dispatch lease, retries with backoff, blacklisting
// after the suspension period) or to the WebSocket sessions this node holds.
// The cursor moves only after a delivery succeeded, so a crash or restart
// delivers again from there: at least once, in order per mailbox.
package push

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/backoff"
	"github.com/switchboardhq/switchboard/internal/metrics"
)

// Config tunes the dispatcher.
type Config struct {
	// Owner names this node in dispatch leases; unique per process.
	Owner string
	// AllowPrivateTargets lets WebHooks call loopback, private and other
	// reserved addresses (development). Production sets it false: the
	// check runs on the resolved IP at dial time.
	AllowPrivateTargets bool
	// WebHookTimeout bounds one delivery POST.
	WebHookTimeout time.Duration
	// RetryBase and RetryMax shape the backoff of failed WebHook
	// deliveries: RetryBase doubling per failure, capped at RetryMax.
	RetryBase, RetryMax time.Duration
	// SuspendAfter: a WebHook failing for this long without a single
	// success is Blacklisted (delivery stops for good).
	SuspendAfter time.Duration
	// Lease is how long a node holds a WebHook subscription it dispatches.
	Lease time.Duration
	// Backstop is the slow timer that re-reads when no wake-up came.
	Backstop time.Duration
	// Batch bounds the changes read per round.
	Batch int
	// Workers bounds WebHook subscriptions delivered at once.
	Workers int
	// History is how many of a WebHook subscription's most recent POSTs
	// are kept, with the receiver's answers, for the admin console; 0
	// keeps none.
	History int
	// BaseURL is the server's public URL (no trailing slash), under which
	// the bodies of events give their uris, as the API does.
	BaseURL string
	// Metrics counts WebHook deliveries (nil: not exported).
	Metrics *metrics.Metrics
	// ErrorBackoff is the first wait after a failed round (the database
	// down); it doubles up to MaxErrorBackoff; zero: backoff's defaults.
	ErrorBackoff, MaxErrorBackoff time.Duration
}

func (c *Config) defaults() {
	if c.Owner == "" {
		c.Owner = "push-" + newUUID()
	}
	if c.WebHookTimeout <= 0 {
		c.WebHookTimeout = 10 * time.Second
	}
	if c.RetryBase <= 0 {
		c.RetryBase = 2 * time.Second
	}
	if c.RetryMax <= 0 {
		c.RetryMax = 10 * time.Minute
	}
	if c.SuspendAfter <= 0 {
		c.SuspendAfter = 24 * time.Hour
	}
	if c.Lease <= 0 {
		c.Lease = time.Minute
	}
	if c.Backstop <= 0 {
		c.Backstop = 5 * time.Second
	}
	if c.Batch <= 0 {
		c.Batch = 200
	}
	if c.Workers <= 0 {
		c.Workers = 16
	}
	c.Metrics = metrics.OrNew(c.Metrics)
}

// Sink is a WebSocket session that receives notifications.
type Sink interface {
	// Notify writes one notification envelope (JSON). An error means the
	// socket is gone: the event stays undelivered.
	Notify(ctx context.Context, envelope []byte) error
}

// Dispatcher delivers notifications. It is safe for concurrent use.
type Dispatcher struct {
	store  Store
	clock  switchboard.Clock
	logger *slog.Logger
	config Config
	client *http.Client

	mu sync.Mutex
	// sockets are the sessions holding each subscription here. Usually one;
	// while a client moves a subscription to a new connection both may
	// hold it for a moment, and both are served (at least once, never lost).
	sockets map[string]map[*socketSub]bool
	wake    chan struct{}
}

type socketSub struct {
	mu      sync.Mutex // one delivery at a time per subscription
	sub     *switchboard.Subscription
	filters []switchboard.EventFilter
	sink    Sink
	cursor  int64
	// session is the WebSocket session the socket carries, fixed at
	// Attach, so maintain reads it without the delivery lock.
	session string
}

// Store is what the dispatcher needs of the store: the subscriptions with
// their cursors and leases, the change log, and the messages it renders.
type Store interface {
	switchboard.ChangeWatcher
	ClaimSubscriptions(ctx context.Context, owner string, lease time.Duration, limit int) ([]*switchboard.Subscription, error)
	SubscriptionChanges(ctx context.Context, id string, afterSeq int64, limit int) ([]*switchboard.Change, error)
	AdvanceSubscription(ctx context.Context, id, owner string, cursor int64) error
	FailSubscription(ctx context.Context, id, owner string, next time.Time, reason string, blacklist bool) error
	ReleaseSubscription(ctx context.Context, id, owner string) error
	RecordWebHookAttempts(ctx context.Context, id string, attempts []switchboard.WebHookAttempt, keep int) error
	RenewSession(ctx context.Context, sessionID string, expires time.Time) error
	DeleteExpiredSubscriptions(ctx context.Context, now time.Time) (int, error)
	Message(ctx context.Context, accountID, extensionID, id int64) (*switchboard.Message, error)
	A2PBatch(ctx context.Context, accountID, id int64) (*switchboard.A2PBatch, error)
}

// New returns a dispatcher; Run starts it.
func New(store Store, clock switchboard.Clock, logger *slog.Logger, config Config) *Dispatcher {
	config.defaults()
	config.BaseURL = strings.TrimRight(config.BaseURL, "/")
	return &Dispatcher{store: store, clock: clock, logger: logger, config: config,
		client:  newClient(config.AllowPrivateTargets, config.WebHookTimeout),
		sockets: map[string]map[*socketSub]bool{}, wake: make(chan struct{}, 1)}
}

// Wake makes the dispatcher look for work now.
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Attach makes this node deliver sub's events to sink, from the
// subscription's persisted cursor on (a recovered session gets what it
// missed). The returned function detaches it.
func (d *Dispatcher) Attach(sub *switchboard.Subscription, sink Sink) (detach func()) {
	filters := sub.Filters()
	ss := &socketSub{sub: sub, filters: filters, sink: sink, cursor: sub.Cursor, session: sub.SessionID}
	d.mu.Lock()
	if d.sockets[sub.ID] == nil {
		d.sockets[sub.ID] = map[*socketSub]bool{}
	}
	d.sockets[sub.ID][ss] = true
	d.mu.Unlock()
	d.Wake()
	return func() {
		d.mu.Lock()
		delete(d.sockets[sub.ID], ss)
		if len(d.sockets[sub.ID]) == 0 {
			delete(d.sockets, sub.ID)
		}
		d.mu.Unlock()
	}
}

// Update replaces the filters of an attached subscription.
func (d *Dispatcher) Update(sub *switchboard.Subscription) {
	d.mu.Lock()
	var held []*socketSub
	for ss := range d.sockets[sub.ID] {
		held = append(held, ss)
	}
	d.mu.Unlock()
	for _, ss := range held {
		ss.mu.Lock()
		ss.sub, ss.filters = sub, sub.Filters()
		ss.mu.Unlock()
	}
}

// Run delivers until ctx ends: after every commit that may have grown the
// change log (the store's watch), on Wake, and on the slow backstop timer,
// which also catches WebHook retries coming due. Once a minute it renews
// the WebSocket subscriptions of live sessions and removes expired ones.
func (d *Dispatcher) Run(ctx context.Context) {
	changed, stop := d.store.WatchChanges()
	defer stop()
	backstop := time.NewTimer(d.config.Backstop)
	defer backstop.Stop()
	maintenance := time.NewTicker(time.Minute)
	defer maintenance.Stop()
	d.maintain(ctx)
	fails := backoff.New("push dispatcher", d.config.ErrorBackoff, d.config.MaxErrorBackoff, d.logger)
	for {
		_, err := d.RunOnce(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, switchboard.ErrUnavailable):
			// The database is out of reach: wait longer after each failed
			// round rather than retrying on every commit signal.
			d.config.Metrics.WorkerErrors.WithLabelValues("push").Inc()
			if !backoff.Sleep(ctx, fails.Fail(ctx, err)) {
				return
			}
			continue
		case err != nil:
			// One subscription's trouble (removed meanwhile, say): the
			// others were served; the next wake-up tries again.
			d.config.Metrics.WorkerErrors.WithLabelValues("push").Inc()
			d.logger.Warn("push dispatch", "err", err)
		default:
			fails.Succeed(ctx)
		}
		backstop.Reset(d.config.Backstop)
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-d.wake:
		case <-backstop.C:
		case <-maintenance.C:
			d.maintain(ctx)
		}
	}
}

// maintain renews live sessions' subscriptions and drops expired ones.
func (d *Dispatcher) maintain(ctx context.Context) {
	now := d.clock.Now()
	d.mu.Lock()
	sessions := map[string]bool{}
	for _, held := range d.sockets {
		for ss := range held {
			sessions[ss.session] = true
		}
	}
	d.mu.Unlock()
	for s := range sessions {
		if err := d.store.RenewSession(ctx, s, now.Add(switchboard.WebSocketSubscriptionTTL)); err != nil {
			d.logger.Warn("renew websocket subscriptions", "err", err)
		}
	}
	if n, err := d.store.DeleteExpiredSubscriptions(ctx, now); err != nil {
		d.logger.Warn("delete expired subscriptions", "err", err)
	} else if n > 0 {
		d.logger.Info("expired subscriptions removed", "count", n)
	}
}

// RunOnce delivers everything pending now (WebHooks this node can claim,
// and its WebSocket sessions) and reports how many events went out.
func (d *Dispatcher) RunOnce(ctx context.Context) (int, error) {
	sent, err := d.runSockets(ctx)
	for {
		subs, cerr := d.store.ClaimSubscriptions(ctx, d.config.Owner, d.config.Lease, d.config.Workers)
		if cerr != nil {
			return sent, errors.Join(err, cerr)
		}
		if len(subs) == 0 {
			return sent, err
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		round := 0
		for _, sub := range subs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n := d.deliverWebHook(ctx, sub)
				mu.Lock()
				round += n
				mu.Unlock()
			}()
		}
		wg.Wait()
		sent += round
		if ctx.Err() != nil {
			return sent, ctx.Err()
		}
		if round == 0 {
			// Nothing went out (failures back off; a store error or a
			// batch no filter matched): the next wake-up or the
			// backstop carries on, rather than claiming again at once.
			return sent, err
		}
	}
}

// deliverWebHook sends a claimed subscription's pending events in order,
// moving its cursor after each success, until it is caught up, a delivery
// fails (then it backs off, or is blacklisted past SuspendAfter) or half
// the lease is used (the rest goes in the next round).
func (d *Dispatcher) deliverWebHook(ctx context.Context, sub *switchboard.Subscription) int {
	owner := d.config.Owner
	// The lease runs on the injected clock, so its deadline does too.
	deadline := d.clock.Now().Add(d.config.Lease / 2)
	filters := sub.Filters()
	cursor, sent, failingSince := sub.Cursor, 0, sub.FailingSince
	log := d.logger.With("subscription", sub.ID)
	// The round's POSTs go into the subscription's history once, at its
	// end, whatever ended it: one write per round, not per notification.
	var attempts []switchboard.WebHookAttempt
	defer func() {
		if d.config.History <= 0 {
			return
		}
		if err := d.store.RecordWebHookAttempts(context.WithoutCancel(ctx), sub.ID, attempts, d.config.History); err != nil {
			log.Warn("record webhook deliveries", "err", err)
		}
	}()
	for d.clock.Now().Before(deadline) && ctx.Err() == nil {
		changes, err := d.store.SubscriptionChanges(ctx, sub.ID, cursor, d.config.Batch)
		if err != nil {
			log.Warn("read changes", "err", err)
			break
		}
		if len(changes) == 0 {
			break
		}
		events, err := d.buildEvents(ctx, filters, changes)
		if err != nil {
			log.Warn("build events", "err", err)
			break
		}
		// Post in order; stop at a failure, or once half the lease is used
		// (a slow receiver must not outlive the lease with a batch in hand:
		// the cursor could not move and the batch would be sent again).
		n := 0
		for _, ev := range events {
			if n > 0 && !d.clock.Now().Before(deadline) {
				break
			}
			body, uuid, eerr := d.encode(sub, ev)
			if err = eerr; err != nil {
				break
			}
			attempt := switchboard.WebHookAttempt{Time: d.clock.Now(), EventID: uuid, Event: ev.name}
			started := time.Now() // the POST's real duration, whatever the injected clock says
			attempt.Status, err = d.post(ctx, sub, body)
			attempt.Duration = time.Since(started)
			if err != nil {
				attempt.Error = err.Error()
			}
			attempts = append(attempts, attempt)
			if err != nil {
				d.config.Metrics.WebHookDeliveries.WithLabelValues("failed").Inc()
				break
			}
			d.config.Metrics.WebHookDeliveries.WithLabelValues("ok").Inc()
			n++
		}
		sent += n
		upTo := changes[len(changes)-1].Seq
		if n < len(events) {
			upTo = events[n].firstSeq - 1 // keep what arrived
		}
		if upTo > cursor {
			if aerr := d.store.AdvanceSubscription(ctx, sub.ID, owner, upTo); aerr != nil {
				// The lease was lost: another node carries on from the
				// persisted cursor, repeating at most this batch.
				log.Warn("advance cursor", "err", aerr)
				return sent
			}
			cursor, failingSince = upTo, time.Time{}
		}
		if err != nil {
			d.fail(ctx, sub, failingSince, err)
			return sent
		}
		if n < len(events) {
			break // the deadline: the rest goes in the next round
		}
	}
	if err := d.store.ReleaseSubscription(context.WithoutCancel(ctx), sub.ID, owner); err != nil {
		log.Warn("release subscription", "err", err)
	}
	return sent
}

func (d *Dispatcher) fail(ctx context.Context, sub *switchboard.Subscription, failingSince time.Time, cause error) {
	now := d.clock.Now()
	attempts := sub.Attempts + 1
	if !failingSince.Equal(sub.FailingSince) {
		attempts = 1
	}
	blacklist := !failingSince.IsZero() && now.Sub(failingSince) >= d.config.SuspendAfter
	next := now.Add(d.config.backoff(attempts))
	if err := d.store.FailSubscription(context.WithoutCancel(ctx), sub.ID, d.config.Owner, next, cause.Error(), blacklist); err != nil {
		d.logger.Warn("record failed delivery", "subscription", sub.ID, "err", err)
		return
	}
	if blacklist {
		d.logger.Warn("webhook blacklisted: failing for longer than the suspension period", "subscription", sub.ID,
			"address", sub.Address, "since", failingSince, "err", cause)
	} else {
		d.logger.Info("webhook delivery failed; retrying", "subscription", sub.ID, "attempt", attempts, "next", next, "err", cause)
	}
}

// runSockets delivers pending events to this node's WebSocket sessions.
func (d *Dispatcher) runSockets(ctx context.Context) (int, error) {
	d.mu.Lock()
	subs := make([]*socketSub, 0, len(d.sockets))
	for _, held := range d.sockets {
		for ss := range held {
			subs = append(subs, ss)
		}
	}
	d.mu.Unlock()
	// Sessions are served side by side, so one slow client (its writes
	// wait up to the write timeout) does not hold up the others.
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		sent int
		errs []error
	)
	sem := make(chan struct{}, d.config.Workers)
	for _, ss := range subs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			n, err := d.deliverSocket(ctx, ss)
			mu.Lock()
			sent += n
			if err != nil {
				errs = append(errs, err)
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	return sent, errors.Join(errs...)
}

func (d *Dispatcher) deliverSocket(ctx context.Context, ss *socketSub) (int, error) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	sent := 0
	for ctx.Err() == nil {
		changes, err := d.store.SubscriptionChanges(ctx, ss.sub.ID, ss.cursor, d.config.Batch)
		if err != nil || len(changes) == 0 {
			return sent, err
		}
		events, err := d.buildEvents(ctx, ss.filters, changes)
		if err != nil {
			return sent, err
		}
		for _, ev := range events {
			body, _, err := d.encode(ss.sub, ev)
			if err == nil {
				err = ss.sink.Notify(ctx, body)
			}
			if err != nil {
				// The socket is gone; what it got is recorded, the rest
				// waits for a recovered session.
				if ev.firstSeq-1 > ss.cursor {
					ss.cursor = ev.firstSeq - 1
					return sent, d.store.AdvanceSubscription(ctx, ss.sub.ID, "", ss.cursor)
				}
				return sent, nil
			}
			sent++
		}
		ss.cursor = changes[len(changes)-1].Seq
		if err := d.store.AdvanceSubscription(ctx, ss.sub.ID, "", ss.cursor); err != nil && !errors.Is(err, switchboard.ErrNotFound) {
			return sent, err
		}
	}
	return sent, ctx.Err()
}
