// Package metrics defines every Prometheus series Switchboard exports, on a
// registry of its own (no global state: each server, and each test, has
// its own). cmd/switchboard builds one Metrics and passes it to the
// packages that count; a new subsystem adds its collectors with Register.
//
// Every name starts with switchboard_. Labels hold only bounded values
// (route patterns, message types, outcomes), never ids or numbers.
package metrics

import (
	"context"
	"database/sql"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the collectors the server's packages update.
type Metrics struct {
	registry *prometheus.Registry

	// HTTP API (internal/httpapi): by route pattern, method and status.
	HTTPRequests *prometheus.CounterVec
	HTTPDuration *prometheus.HistogramVec

	// Messages stored, by type (SMS, Fax, …) and direction.
	MessagesCreated *prometheus.CounterVec
	// Status transitions of outbound deliveries (one per recipient), by
	// new status: Sent, Delivered, DeliveryFailed, SendingFailed.
	StatusTransitions *prometheus.CounterVec
	// Delivery attempts by outcome: internal, accepted, rejected,
	// temporary (retried later), error (left for its lease).
	DeliveryAttempts *prometheus.CounterVec
	// Carrier errors by kind: temporary, invalid, other.
	CarrierErrors *prometheus.CounterVec

	// Retention work: messages purged, removed, capped and change rows
	// pruned.
	RetentionItems *prometheus.CounterVec
	RetentionRuns  *prometheus.CounterVec // by result: ok, error

	// WebHook deliveries by result (ok, failed) and WebSocket sessions
	// held by this node.
	WebHookDeliveries *prometheus.CounterVec
	WebSocketSessions prometheus.Gauge

	// Transcription jobs by result: Completed, Failed, TimedOut.
	TranscriptionJobs *prometheus.CounterVec

	// CarrierEvents counts a real carrier's protocol events (SMPP binds
	// lost or refused, submits accepted, refused or retried, receipts,
	// inbound messages), by event.
	CarrierEvents CarrierEvents

	// WorkerErrors counts failed worker runs (by worker): while the
	// database is down the workers back off and log once, and this counter
	// shows each failed try.
	WorkerErrors *prometheus.CounterVec
}

// New returns a fresh set of collectors on a registry of its own, with the
// Go runtime and process collectors.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		HTTPRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_http_requests_total", Help: "HTTP requests answered, by route pattern, method and status code.",
		}, []string{"route", "method", "status"}),
		HTTPDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "switchboard_http_request_duration_seconds", Help: "Time to answer HTTP requests, by route pattern and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route", "method"}),
		MessagesCreated: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_messages_created_total", Help: "Messages stored, by type and direction.",
		}, []string{"type", "direction"}),
		StatusTransitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_message_status_transitions_total", Help: "Delivery status changes of outbound messages, per recipient, by new status.",
		}, []string{"status"}),
		DeliveryAttempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_delivery_attempts_total", Help: "Outbox delivery attempts, by outcome (internal, accepted, rejected, temporary, error).",
		}, []string{"outcome"}),
		CarrierErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_carrier_errors_total", Help: "Carrier submit errors, by kind (temporary, invalid, other).",
		}, []string{"kind"}),
		RetentionItems: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_retention_items_total", Help: "Retention work done: messages purged, removed, capped and change rows pruned.",
		}, []string{"kind"}),
		RetentionRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_retention_runs_total", Help: "Retention worker runs, by result.",
		}, []string{"result"}),
		WebHookDeliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_webhook_deliveries_total", Help: "WebHook notification deliveries, by result (ok, failed).",
		}, []string{"result"}),
		WebSocketSessions: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "switchboard_websocket_sessions", Help: "WebSocket sessions open on this node.",
		}),
		TranscriptionJobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_transcription_jobs_total", Help: "Voicemail transcription jobs finished, by result.",
		}, []string{"result"}),
		CarrierEvents: CarrierEvents{prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_carrier_events_total", Help: "A real carrier's protocol events (SMPP: bind_failed, connection_lost, submit_accepted, submit_refused, submit_temporary, receipt_delivered, receipt_failed, inbound_received, inbound_refused).",
		}, []string{"event"})},
		WorkerErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_worker_errors_total", Help: "Failed worker runs, by worker (delivery, push, retention, transcription).",
		}, []string{"worker"}),
	}
	m.Register(m.HTTPRequests, m.HTTPDuration, m.MessagesCreated, m.StatusTransitions, m.DeliveryAttempts, m.CarrierErrors,
		m.RetentionItems, m.RetentionRuns, m.WebHookDeliveries, m.WebSocketSessions, m.TranscriptionJobs, m.CarrierEvents.vec, m.WorkerErrors,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// CarrierEvents is the counter a carrier reports its events to (it
// satisfies smpp.Metrics).
type CarrierEvents struct{ vec *prometheus.CounterVec }

// Count adds one event.
func (c CarrierEvents) Count(event string) { c.vec.WithLabelValues(event).Inc() }

// OrNew returns m, or a fresh unexported set when m is nil, so a package
// used without metrics (its own tests) counts into nothing anyone reads.
func OrNew(m *Metrics) *Metrics {
	if m == nil {
		return New()
	}
	return m
}

// InternalDeliveries counts deliveries to mailboxes of this server: done
// (the copies stored) and failed for good (a mailbox gone), whether a send
// completed them as it was accepted or the worker did.
func (m *Metrics) InternalDeliveries(delivered, failed int) {
	m.DeliveryAttempts.WithLabelValues("internal").Add(float64(delivered))
	m.StatusTransitions.WithLabelValues("Delivered").Add(float64(delivered))
	m.DeliveryAttempts.WithLabelValues("rejected").Add(float64(failed))
	m.StatusTransitions.WithLabelValues("SendingFailed").Add(float64(failed))
}

// Register adds collectors (a carrier's counters, say) to the registry. A
// name registered twice is a programming error and panics.
func (m *Metrics) Register(cs ...prometheus.Collector) {
	m.registry.MustRegister(cs...)
}

// Handler serves the registry in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// Backlog is what the database holds undone, read at each scrape.
type Backlog struct {
	OutboxPending   int64     // deliveries waiting to go out (due or not)
	OutboxSubmitted int64     // accepted by the carrier, waiting for a receipt
	OldestDue       time.Time // earliest next attempt of a pending delivery; zero: none
	// WebHookLag is the change-log head minus the cursor of the Active
	// WebHook subscription furthest behind: change rows (of any mailbox)
	// not yet looked at for it.
	WebHookLag int64
}

// BacklogFunc reads the backlog; now is the server's clock.
type BacklogFunc func(ctx context.Context) (Backlog, time.Time, error)

// RegisterBacklog exports the outbox depth, the age of its oldest due
// delivery and the WebHook lag, read from the database at scrape time
// (bounded by timeout; a failed read exports nothing and counts a scrape
// error).
func (m *Metrics) RegisterBacklog(read BacklogFunc, timeout time.Duration) {
	m.Register(&backlogCollector{read: read, timeout: timeout,
		depth: prometheus.NewDesc("switchboard_outbox_deliveries", "Outbox deliveries by state: pending (to send) and submitted (waiting for a receipt).", []string{"state"}, nil),
		age:   prometheus.NewDesc("switchboard_outbox_oldest_due_age_seconds", "How long the oldest due pending delivery has been due (0: none due).", nil, nil),
		lag:   prometheus.NewDesc("switchboard_webhook_lag_changes", "Change-log rows the WebHook subscription furthest behind has yet to look at.", nil, nil),
		fails: prometheus.NewCounter(prometheus.CounterOpts{Name: "switchboard_backlog_scrape_errors_total", Help: "Scrapes whose backlog read from the database failed."}),
	})
}

type backlogCollector struct {
	read            BacklogFunc
	timeout         time.Duration
	depth, age, lag *prometheus.Desc
	fails           prometheus.Counter
}

func (c *backlogCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.depth
	ch <- c.age
	ch <- c.lag
	c.fails.Describe(ch)
}

func (c *backlogCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	b, now, err := c.read(ctx)
	if err != nil {
		c.fails.Inc()
		c.fails.Collect(ch)
		return
	}
	c.fails.Collect(ch)
	ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(b.OutboxPending), "pending")
	ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(b.OutboxSubmitted), "submitted")
	age := 0.0
	if !b.OldestDue.IsZero() && now.After(b.OldestDue) {
		age = now.Sub(b.OldestDue).Seconds()
	}
	ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, age)
	ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, float64(b.WebHookLag))
}

// RegisterDBPools exports database/sql pool statistics per pool name
// (SQLite: writer and reader; PostgreSQL: one pool).
func (m *Metrics) RegisterDBPools(pools map[string]*sql.DB) {
	c := &poolCollector{pools: pools}
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("switchboard_db_"+name, help, []string{"pool"}, nil)
	}
	c.open = d("connections_open", "Open database connections.")
	c.inUse = d("connections_in_use", "Database connections in use.")
	c.idle = d("connections_idle", "Idle database connections.")
	c.maxOpen = d("connections_max", "Most connections the pool opens.")
	c.waits = d("wait_total", "Times a query waited for a free connection.")
	c.waited = d("wait_seconds_total", "Time spent waiting for a free connection.")
	m.Register(c)
}

type poolCollector struct {
	pools                                     map[string]*sql.DB
	open, inUse, idle, maxOpen, waits, waited *prometheus.Desc
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.open, c.inUse, c.idle, c.maxOpen, c.waits, c.waited} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	for name, db := range c.pools {
		s := db.Stats()
		ch <- prometheus.MustNewConstMetric(c.open, prometheus.GaugeValue, float64(s.OpenConnections), name)
		ch <- prometheus.MustNewConstMetric(c.inUse, prometheus.GaugeValue, float64(s.InUse), name)
		ch <- prometheus.MustNewConstMetric(c.idle, prometheus.GaugeValue, float64(s.Idle), name)
		ch <- prometheus.MustNewConstMetric(c.maxOpen, prometheus.GaugeValue, float64(s.MaxOpenConnections), name)
		ch <- prometheus.MustNewConstMetric(c.waits, prometheus.CounterValue, float64(s.WaitCount), name)
		ch <- prometheus.MustNewConstMetric(c.waited, prometheus.CounterValue, s.WaitDuration.Seconds(), name)
	}
}
