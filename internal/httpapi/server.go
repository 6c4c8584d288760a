// Package httpapi serves Switchboard's HTTP API: the RingCentral-compatible
// REST surface under /restapi and Switchboard's own admin API under
// /switchboard/v1. Handlers decode and validate requests, call the store or
// the auth service, and encode RingCentral's wire format; they hold no SQL
// and no business rules of their own.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/auth"
	"github.com/switchboardhq/switchboard/internal/config"
	"github.com/switchboardhq/switchboard/internal/metrics"
	"github.com/switchboardhq/switchboard/internal/outbound"
	"github.com/switchboardhq/switchboard/internal/ratelimit"
)

// Config tunes the API.
type Config struct {
	// PublicURL is the base of every uri the API returns (for example
	// https://sms.example.com). Empty: derived from each request's Host.
	PublicURL string
	// MaxBodyBytes bounds JSON and form bodies of the RingCentral API.
	MaxBodyBytes int64
	// MaxImportBytes bounds the admin import body (attachments in base64).
	MaxImportBytes int64
	// Retention is the server's lifecycle policy, which accounts override.
	Retention switchboard.RetentionPolicy
	// A2PMaxBytes and A2PMaxMessages bound a high-volume batch request;
	// zero: config.DefaultA2PMaxBytes and DefaultA2PMaxMessages.
	A2PMaxBytes    int64
	A2PMaxMessages int
	// CORSOrigins are the origins allowed CORS with credentials ("*": any);
	// others may make bearer-token calls only.
	CORSOrigins []string
	// AllowedHosts are names accepted in the Host header, besides IP
	// addresses and localhost, when PublicURL is empty.
	AllowedHosts []string
	// WebSocketIdleTimeout closes a socket that sent nothing (not even a
	// heartbeat) for this long; WebSocketAbsoluteTimeout closes any socket
	// this old. Both are announced in ConnectionDetails, and the SDKs
	// reconnect and recover their session. Zero: RingCentral's 30 min and
	// 24 h.
	WebSocketIdleTimeout, WebSocketAbsoluteTimeout time.Duration
}

// RetentionRunner runs the retention worker once.
type RetentionRunner interface {
	RunOnce(ctx context.Context) (switchboard.RetentionResult, error)
}

// ClockAdvancer moves the server's clock forward (emulator mode); the
// offset from real time is saved in the store after each move.
type ClockAdvancer interface {
	Advance(d time.Duration) time.Time
	Offset() time.Duration
}

// Deps are the services the API calls.
type Deps struct {
	Store     switchboard.Store
	Auth      *auth.Service
	Clock     switchboard.Clock
	Logger    *slog.Logger
	Retention RetentionRunner // nil: the emulator's retention/run is refused
	// Emulator is set only in emulator (demo) mode: the admin API may then
	// move time and run the lifecycle on demand.
	Emulator ClockAdvancer
	// Sender sends messages (SMS, MMS, pager, fax); nil: one over Store
	// with the default limits and synchronous fax rendering, waking Outbox.
	Sender *outbound.Service
	// Outbox is woken after a message is queued, so delivery starts at
	// once instead of at its next poll. Optional; used only without Sender.
	Outbox interface{ Wake() }
	// Exports is woken after a message store report task is created.
	// Optional: without it the worker finds the task at its next poll.
	Exports interface{ Wake() }
	// A2P is woken after a high-volume batch is stored. Optional.
	A2P interface{ Wake() }
	// Carrier controls the carrier simulator's rules; nil with a real carrier.
	Carrier CarrierControl
	// Inbound stores inbound messages (the /switchboard/v1/inbound API);
	// nil: those endpoints answer 404.
	Inbound switchboard.InboundReceiver
	// CarrierInbound, when set (the carrier simulator), is the network
	// side of the carrier: inbound SMS, MMS and fax go through it to the
	// carrier's listener, as a real carrier's would.
	CarrierInbound switchboard.InboundReceiver
	// Push delivers notifications (subscriptions); nil: the subscription
	// API answers 503.
	Push Notifier
	// CarrierStatus, when set (a real carrier), is reported by the health
	// check: the carrier's connection state (an SMPP bind) and counts.
	CarrierStatus func() any
	// Metrics counts requests and serves GET /metrics; nil: a private set
	// nobody scrapes.
	Metrics *metrics.Metrics
	// UI serves the web UI at / and the sign-in page of the
	// authorization-code flow; nil: neither is served.
	UI http.Handler
	// Limiter applies RingCentral's rate limits; nil: none (and no
	// X-Rate-Limit-* headers).
	Limiter *ratelimit.Limiter
}

// Server is the HTTP API. It is an http.Handler.
type Server struct {
	store     switchboard.Store
	auth      *auth.Service
	clock     switchboard.Clock
	logger    *slog.Logger
	retention RetentionRunner
	emulator  ClockAdvancer
	sender    *outbound.Service
	exports   interface{ Wake() }
	a2p       interface{ Wake() }
	carrier   CarrierControl
	inbound   switchboard.InboundReceiver
	carrierIn switchboard.InboundReceiver
	push      Notifier
	carrierSt func() any
	metrics   *metrics.Metrics
	ui        http.Handler
	limiter   *ratelimit.Limiter
	config    Config
	mux       *http.ServeMux
	handler   http.Handler  // the middleware around the route table, built once
	closing   chan struct{} // closed by CloseSockets
	closeOnce sync.Once
}

// New returns the API.
func New(d Deps, cfg Config) *Server {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.MaxImportBytes <= 0 {
		cfg.MaxImportBytes = 64 << 20
	}
	if cfg.Retention == (switchboard.RetentionPolicy{}) {
		cfg.Retention = switchboard.DefaultRetention()
	}
	if cfg.A2PMaxBytes <= 0 {
		cfg.A2PMaxBytes = config.DefaultA2PMaxBytes
	}
	if cfg.A2PMaxMessages <= 0 {
		cfg.A2PMaxMessages = config.DefaultA2PMaxMessages
	}
	if cfg.WebSocketIdleTimeout <= 0 {
		cfg.WebSocketIdleTimeout = 30 * time.Minute
	}
	if cfg.WebSocketAbsoluteTimeout <= 0 {
		cfg.WebSocketAbsoluteTimeout = 24 * time.Hour
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	s := &Server{store: d.Store, auth: d.Auth, clock: d.Clock, logger: d.Logger, retention: d.Retention,
		emulator: d.Emulator, sender: d.Sender, exports: d.Exports, a2p: d.A2P, carrier: d.Carrier, inbound: d.Inbound, carrierIn: d.CarrierInbound, push: d.Push, carrierSt: d.CarrierStatus, metrics: metrics.OrNew(d.Metrics), ui: d.UI, limiter: d.Limiter, config: cfg, mux: http.NewServeMux(),
		closing: make(chan struct{})}
	if s.sender == nil {
		var wake func()
		if d.Outbox != nil {
			wake = d.Outbox.Wake
		}
		s.sender = outbound.New(d.Store, d.Clock, config.DefaultSendLimits(), wake)
	}
	s.routes()
	s.handler = s.observe(s.recoverPanics(s.secureHeaders(s.cors(s.checkHost(http.HandlerFunc(s.routed))))))
	return s
}

// ServeHTTP runs the middleware chain and the route table.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// CloseSockets closes every WebSocket this server holds with a reconnect
// hint (close code 1012). Shutdown calls it: http.Server.Shutdown neither
// closes nor waits for hijacked connections.
func (s *Server) CloseSockets() {
	s.closeOnce.Do(func() { close(s.closing) })
}

// baseURL is the public base for uris in responses.
func (s *Server) baseURL(r *http.Request) string {
	if s.config.PublicURL != "" {
		return s.config.PublicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
