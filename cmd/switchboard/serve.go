package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/a2p"
	"github.com/switchboardhq/switchboard/internal/auth"
	"github.com/switchboardhq/switchboard/internal/carrier"
	"github.com/switchboardhq/switchboard/internal/carrier/smpp"
	"github.com/switchboardhq/switchboard/internal/certs"
	"github.com/switchboardhq/switchboard/internal/config"
	"github.com/switchboardhq/switchboard/internal/delivery"
	"github.com/switchboardhq/switchboard/internal/export"
	"github.com/switchboardhq/switchboard/internal/fax"
	"github.com/switchboardhq/switchboard/internal/faxrender"
	"github.com/switchboardhq/switchboard/internal/httpapi"
	"github.com/switchboardhq/switchboard/internal/metrics"
	"github.com/switchboardhq/switchboard/internal/netlimit"
	"github.com/switchboardhq/switchboard/internal/outbound"
	"github.com/switchboardhq/switchboard/internal/push"
	"github.com/switchboardhq/switchboard/internal/retention"
	"github.com/switchboardhq/switchboard/internal/sqlstore"
	"github.com/switchboardhq/switchboard/internal/webui"
)

// databaseFile is the SQLite file inside the data directory.
const databaseFile = "switchboard.db"

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg, err := config.Load(fs, args, config.Getenv)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("configuration: %w", err)
	}
	level, _ := cfg.SlogLevel() // validated by Load
	logger := newLogger(cfg.LogFormat, level, stderr)
	build := buildVersion()

	// The data directory holds the SQLite database (unless --database
	// names another), demo.json and the PDF renderer's compilation cache,
	// whatever the database: create it before anything is written.
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data directory %s: %w (choose another with --data)", cfg.DataDir, err)
	}
	if path := sqlitePath(cfg.Database, cfg.DataDir); path != "" {
		unlock, err := lockDatabase(path)
		if err != nil {
			return err
		}
		defer unlock()
	}

	// In emulator mode (implied by --demo) the clock can be moved forward
	// through the admin API; otherwise it is the system clock.
	// The moved clock drives mailboxes, retention, scheduling and
	// subscriptions; OAuth sessions and tokens keep real time, so a test
	// that moves days ahead keeps its SDK session.
	var clock switchboard.Clock = switchboard.SystemClock{}
	var manual *switchboard.ManualClock
	var emulator httpapi.ClockAdvancer
	if cfg.Demo || cfg.Emulator {
		manual = switchboard.NewManualClock(nil)
		clock, emulator = manual, manual
	}
	store, err := openDatabase(ctx, dbSettings{database: cfg.Database, dataDir: cfg.DataDir, sqliteSync: cfg.SQLiteSync,
		maxConns: cfg.DBMaxConns, statementTimeout: cfg.DBStatementTimeout}, clock)
	if err != nil {
		return err
	}
	defer store.Close()
	m := metrics.New()
	m.Register(buildInfoMetric(build))
	store.Instrument(m)
	if manual != nil {
		offset, err := store.ClockOffset(ctx)
		if err != nil {
			return err
		}
		manual.SetOffset(offset)
	}
	jwtKeys, err := loadKeys(ctx, store, keyFilePath(cfg.Security.KeyFile, cfg.DataDir), cfg.Security.JWTKeys, time.Now(), logger)
	if err != nil {
		return fmt.Errorf("JWT signing keys: %w", err)
	}
	authService := auth.NewService(store, switchboard.SystemClock{}, auth.Config{AccessTTL: cfg.AccessTokenTTL, RefreshTTL: cfg.RefreshTokenTTL, Keys: jwtKeys,
		Login: auth.LoginLimits{MaxFailures: cfg.Edge.LoginMaxFailures, MaxClientFailures: cfg.Edge.LoginMaxClientFailures, MaxLockout: cfg.Edge.LoginMaxLockout}})
	limiter, err := newLimiter(cfg, store, clock)
	if err != nil {
		return err
	}

	// The PDF rasteriser compiles its WebAssembly once per process: keep
	// the compiled code in the data directory and compile now, in the
	// background, so no fax request waits for it.
	fax.SetCompilationCacheDir(filepath.Join(cfg.DataDir, "cache", "pdfium"))
	// One PDFium instance per render worker, and one more for inbound
	// faxes, which are rendered as they arrive (on API nodes too): the
	// background renders always leave one free for them.
	fax.SetConcurrency(cfg.Fax.RenderWorkers + 1)
	go func() {
		started := time.Now()
		if err := fax.Warmup(); err != nil {
			logger.Warn("PDF renderer unavailable: PDF faxes will fail", "err", err)
			return
		}
		logger.Info("PDF renderer ready", "took", time.Since(started).Round(time.Millisecond))
	}()

	var tlsFiles *certs.Files
	if cfg.Security.TLSCert != "" {
		if tlsFiles, err = certs.Load(cfg.Security.TLSCert, cfg.Security.TLSKey); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another server using it? choose another with --listen)", cfg.Listen, err)
	}
	serverURL := "http://" + ln.Addr().String()
	if tlsFiles != nil {
		serverURL = "https://" + ln.Addr().String()
	}
	if cfg.PublicURL != "" {
		serverURL = cfg.PublicURL
	}

	if cfg.DebugListen != "" {
		stopDebug, err := serveDebug(cfg.DebugListen, logger)
		if err != nil {
			ln.Close()
			return err
		}
		defer stopDebug()
	}

	var demo *demoInfo
	if cfg.Demo {
		if demo, err = ensureDemo(ctx, store, authService, cfg.DataDir, serverURL, logger); err != nil {
			ln.Close()
			return fmt.Errorf("demo: %w", err)
		}
	}

	out, err := newCarrier(ctx, cfg, clock, logger, m)
	if err != nil {
		ln.Close()
		return err
	}
	// Workers run until the HTTP server has drained, then stop and give
	// their leases back (see the end of serve).
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	var workers sync.WaitGroup
	goWork := func(f func(context.Context)) {
		workers.Add(1)
		go func() { defer workers.Done(); f(workCtx) }()
	}

	owner := nodeOwner()
	sender := delivery.NewWorker(store, out.carrier, clock, delivery.Config{Owner: owner, ReceiptTimeout: cfg.ReceiptTimeout,
		NoResubmit: out.noResubmit, Metrics: m}, logger)
	// Outbound faxes are rendered off the request, a pool per node sized
	// to the cores; a rendered fax's deliveries wake the delivery worker.
	renders := faxrender.New(store, faxrender.Config{Owner: owner, Workers: cfg.Fax.RenderWorkers,
		MaxPages: cfg.Fax.MaxPages, MaxBytes: cfg.Fax.MaxBytes, Timeout: cfg.Fax.RenderTimeout}, logger)
	renders.Released = sender.Wake

	in, err := startInbound(workCtx, cfg, owner, m, store, out.carrier, sender.Wake, authService, logger)
	if err != nil {
		ln.Close()
		return fmt.Errorf("inbound: %w", err)
	}
	defer in.stop()

	// Notifications and export archives show a message as the API does
	// (rcwire), with uris under the server's URL.
	notifier := push.New(store, clock, logger, push.Config{
		Owner: owner, AllowPrivateTargets: cfg.WebHookAllowPrivate, Metrics: m,
		SuspendAfter: cfg.WebHookSuspendAfter, History: cfg.WebHookHistory, BaseURL: serverURL})

	exports := export.New(store, export.Config{Owner: owner, BaseURL: serverURL}, logger)
	batches := a2p.New(store, store, a2p.Config{Owner: owner, Wake: sender.Wake}, logger)

	worker := retention.NewWorker(store, clock, retention.Config{Defaults: cfg.Retention(), ChangeLogPeriod: cfg.ChangeLogPeriod, Metrics: m}, logger)
	var ui *webui.UI
	if cfg.WebUI && cfg.Role != config.RoleWorker {
		if err := webui.EnsureApp(ctx, store, cfg.WebUIClientID); err != nil {
			ln.Close()
			return fmt.Errorf("web UI: create its app %s: %w", cfg.WebUIClientID, err)
		}
		ui = webui.New(store, authService, clock, logger, webui.Config{ClientID: cfg.WebUIClientID,
			SecureCookies: strings.HasPrefix(cfg.PublicURL, "https://"), Emulator: emulator != nil})
	}
	var uiHandler http.Handler // nil, not a nil *webui.UI, when the UI is off
	if ui != nil {
		uiHandler = ui
	}
	api := httpapi.New(httpapi.Deps{Store: store, Auth: authService, Clock: clock, Logger: logger, Retention: worker, Emulator: emulator,
		Sender: outbound.New(store, clock, cfg.Send, wakeAll{sender, renders}.Wake), Exports: exports, A2P: batches, Carrier: out.control, Inbound: in.receiver, CarrierInbound: out.network, Push: notifier, CarrierStatus: out.status, Metrics: m, UI: uiHandler, Limiter: limiter},
		httpapi.Config{PublicURL: cfg.PublicURL, MaxBodyBytes: cfg.MaxBodyBytes, Retention: cfg.Retention(),
			A2PMaxBytes: cfg.A2PMaxBytes, A2PMaxMessages: cfg.A2PMaxMessages,
			CORSOrigins: cfg.Edge.CORSOrigins, AllowedHosts: cfg.Edge.AllowedHosts})
	// Bodies are bounded before any handler reads them: a trickling upload
	// is cut off by the read deadline, and at most MaxUploads are received
	// at once (each is held in memory while it is checked).
	bodies := netlimit.Bodies{MinRate: cfg.Security.UploadMinRate, Grace: cfg.Security.BodyReadGrace,
		MaxUploads: cfg.Security.MaxUploads, UploadBytes: cfg.MaxBodyBytes, Busy: http.HandlerFunc(api.Busy)}
	srv := &http.Server{
		Handler:           bodies.Handler(roleHandler(cfg.Role, api)),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	if ui != nil {
		srv.RegisterOnShutdown(ui.Shutdown)
	}
	if cfg.Role != config.RoleAPI {
		goWork(func(ctx context.Context) { sweepTokens(ctx, store, switchboard.SystemClock{}, logger) })
		goWork(func(ctx context.Context) { worker.Run(ctx, cfg.RetentionInterval) })
		goWork(sender.Run)
		goWork(renders.Run)
		goWork(exports.Run)
		goWork(batches.Run)
	}
	// Every role runs the notification dispatcher: WebSocket sessions are
	// served by the node holding the socket (API nodes), WebHooks by
	// whichever node claims the subscription.
	goWork(notifier.Run)

	logger.Info("switchboard listening", "url", serverURL, "data", cfg.DataDir, "database", store.Dialect(), "role", cfg.Role,
		"version", build.Version, "commit", build.Commit, "emulator", emulator != nil,
		"delete_period", cfg.DeletePeriod, "purge_period", cfg.PurgePeriod, "mailbox_cap", cfg.MailboxCap,
		"webhook_allow_private", cfg.WebHookAllowPrivate, "carrier", config.RedactCarrier(cfg.Carrier))
	if demo != nil {
		printDemo(stdout, demo, filepath.Join(cfg.DataDir, demoFile))
	} else if err := printFirstSteps(ctx, stdout, store, cfg, serverURL); err != nil {
		logger.Warn("could not check for accounts", "err", err)
	}
	// The cap counts every connection, WebSockets included, before TLS.
	limited := netlimit.Listener(ln, cfg.Security.MaxConnections, everyMinute(func(n int) {
		logger.Warn("connection cap reached: new connections are closed at once (raise --max-connections if this is legitimate load)",
			"max_connections", cfg.Security.MaxConnections, "refused", n)
	}))
	go reloadOnHangup(ctx, logger, tlsFiles, in.tls)
	errc := make(chan error, 1)
	go func() {
		if tlsFiles != nil {
			srv.TLSConfig = tlsFiles.Config()
			errc <- srv.ServeTLS(limited, "", "")
			return
		}
		errc <- srv.Serve(limited)
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	return shutdown(srv, api, stopWork, &workers, store, owner, logger)
}

// shutdown stops a server gracefully: no new connections, WebSockets
// closed with a reconnect hint, requests in flight finished (for up to
// shutdownGrace), then the workers stopped and their leases released so
// another node takes their work at once.
func shutdown(srv *http.Server, api *httpapi.Server, stopWork func(), workers *sync.WaitGroup, store *sqlstore.DB, owner string, logger *slog.Logger) error {
	logger.Info("shutting down: finishing requests in flight")
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	api.CloseSockets()
	httpErr := srv.Shutdown(ctx)
	if httpErr != nil {
		httpErr = fmt.Errorf("shutdown: requests still running after %s were cut off: %w", shutdownGrace, httpErr)
	}
	stopWork()
	done := make(chan struct{})
	go func() { workers.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		logger.Warn("workers did not stop in time")
	}
	released, err := store.ReleaseLeases(context.Background(), owner)
	if err != nil {
		logger.Warn("release leases: they expire by themselves", "err", err)
	}
	logger.Info("stopped", "leases_released", released)
	return httpErr
}

// wakeAll wakes every worker a new outbound message may concern: the
// delivery worker, and the fax render worker for a fax.
type wakeAll []interface{ Wake() }

func (ws wakeAll) Wake() {
	for _, w := range ws {
		w.Wake()
	}
}

// reloadOnHangup reads the TLS certificates again on each SIGHUP, so a
// renewed certificate is served without a restart. A failed reload keeps
// the old certificate and says what is wrong.
func reloadOnHangup(ctx context.Context, logger *slog.Logger, files ...*certs.Files) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		}
		for _, f := range files {
			if f == nil {
				continue
			}
			if err := f.Reload(); err != nil {
				logger.Error("SIGHUP: the TLS certificate was not reloaded; the previous one is still served", "err", err)
				continue
			}
			logger.Info("SIGHUP: TLS certificate reloaded", "subject", f.Leaf().Subject.String(), "not_after", f.Leaf().NotAfter)
		}
	}
}

// everyMinute calls f at most once a minute with the number of calls to
// the returned function since f last ran: a log line for an event that
// can come thousands of times a second.
func everyMinute(f func(n int)) func() {
	var mu sync.Mutex
	var last time.Time
	n := 0
	return func() {
		mu.Lock()
		defer mu.Unlock()
		n++
		if now := time.Now(); now.Sub(last) >= time.Minute {
			last = now
			f(n)
			n = 0
		}
	}
}

// shutdownGrace bounds how long a shutdown waits for requests in flight.
const shutdownGrace = 10 * time.Second

// nodeOwner names this process in the leases its workers take.
func nodeOwner() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), rand.Text()[:8])
}

// buildInfoMetric is switchboard_build_info{version,commit}: always 1, so
// a dashboard can show which build each node runs.
func buildInfoMetric(b buildDetails) prometheus.Collector {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "switchboard_build_info", Help: "The running build: version and commit (value 1)."},
		[]string{"version", "commit", "goversion"})
	g.WithLabelValues(b.Version, b.Commit, runtime.Version()).Set(1)
	return g
}

// carrierParts is the carrier messages to outside numbers go through, and
// what the API and the worker need to know of it.
type carrierParts struct {
	carrier    carrier.Carrier
	control    httpapi.CarrierControl      // the simulator's rules; nil for a real carrier
	network    switchboard.InboundReceiver // the simulator's inbound side; nil for a real carrier
	status     func() any                  // a real carrier's connection state, for health
	noResubmit bool                        // the gateway keeps receipts across restarts; resubmits would resend
}

// newCarrier builds the carrier --carrier names: the simulator (with
// --carrier-rules), or an SMPP connection to an SMSC, which it keeps bound
// until ctx ends.
func newCarrier(ctx context.Context, cfg config.Config, clock switchboard.Clock, logger *slog.Logger, m *metrics.Metrics) (carrierParts, error) {
	smppConfig, err := config.ParseCarrier(cfg.Carrier)
	if err != nil {
		return carrierParts{}, err
	}
	if smppConfig != nil {
		// The SMPP carrier's counters are kept for the health check and
		// exported as switchboard_carrier_events_total.
		c := smpp.New(*smppConfig, clock, logger, m.CarrierEvents)
		if cfg.Role == config.RoleAPI {
			// No delivery worker here to submit or to record receipts: an
			// API node does not bind, or the SMSC could hand it receipts
			// nobody acknowledges.
			return carrierParts{carrier: c, noResubmit: true}, nil
		}
		go c.Run(ctx)
		return carrierParts{carrier: c, status: func() any { return c.Status() }, noResubmit: true}, nil
	}
	sim := carrier.NewSimulator(clock, time.Now().UnixNano())
	if cfg.CarrierRules != "" {
		rules, err := carrier.LoadRules(cfg.CarrierRules)
		if err == nil {
			err = sim.SetRules(rules)
		}
		if err != nil {
			return carrierParts{}, fmt.Errorf("carrier rules: %w (fix the file or leave --carrier-rules empty)", err)
		}
	}
	return carrierParts{carrier: sim, control: sim, network: sim}, nil
}

// roleHandler is the HTTP surface of a node's role: a worker-only node
// answers the health check and the metrics scrape, nothing else.
func roleHandler(role string, api http.Handler) http.Handler {
	if role != config.RoleWorker {
		return api
	}
	mux := http.NewServeMux()
	mux.Handle("GET /switchboard/v1/health", api)
	mux.Handle("GET /metrics", api)
	return mux
}

// sweepTokens removes expired tokens now and then so the table does not
// grow without bound.
func sweepTokens(ctx context.Context, store switchboard.TokenStore, clock switchboard.Clock, logger *slog.Logger) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := store.DeleteExpiredTokens(ctx, clock.Now()); err != nil {
				logger.Warn("sweep expired tokens", "err", err)
			} else if n > 0 {
				logger.Debug("swept expired tokens", "count", n)
			}
		}
	}
}

func newLogger(format string, level slog.Level, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
