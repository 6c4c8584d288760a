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
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/auth"
	"github.com/switchboardhq/switchboard/internal/carrier"
	"github.com/switchboardhq/switchboard/internal/carrier/smpp"
	"github.com/switchboardhq/switchboard/internal/config"
	"github.com/switchboardhq/switchboard/internal/delivery"
	"github.com/switchboardhq/switchboard/internal/export"
	"github.com/switchboardhq/switchboard/internal/fax"
	"github.com/switchboardhq/switchboard/internal/httpapi"
	"github.com/switchboardhq/switchboard/internal/metrics"
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
	authService := auth.NewService(store, switchboard.SystemClock{}, auth.Config{AccessTTL: cfg.AccessTokenTTL, RefreshTTL: cfg.RefreshTokenTTL})

	// The PDF rasteriser compiles its WebAssembly once per process: keep
	// the compiled code in the data directory and compile now, in the
	// background, so no fax request waits for it.
	fax.SetCompilationCacheDir(filepath.Join(cfg.DataDir, "cache", "pdfium"))
	if cfg.Role != config.RoleWorker {
		go func() {
			started := time.Now()
			if err := fax.Warmup(); err != nil {
				logger.Warn("PDF renderer unavailable: PDF faxes will fail", "err", err)
				return
			}
			logger.Info("PDF renderer ready", "took", time.Since(started).Round(time.Millisecond))
		}()
	}

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another server using it? choose another with --listen)", cfg.Listen, err)
	}
	serverURL := "http://" + ln.Addr().String()
	if cfg.PublicURL != "" {
		serverURL = cfg.PublicURL
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

	in, err := startInbound(workCtx, cfg, owner, m, store, out.carrier, logger)
	if err != nil {
		ln.Close()
		return fmt.Errorf("inbound: %w", err)
	}
	defer in.stop()

	// Notifications and export archives show a message as the API does.
	renderMessage := func(msg *switchboard.Message) any { return httpapi.MessageJSON(serverURL, msg) }
	notifier := push.New(store, clock, logger, push.Config{
		Owner: owner, AllowPrivateTargets: cfg.WebHookAllowPrivate, Metrics: m,
		SuspendAfter: cfg.WebHookSuspendAfter, History: cfg.WebHookHistory, RenderMessage: renderMessage})

	exports := export.New(store, export.Config{Owner: owner, RenderMessage: renderMessage}, logger)

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
		Outbox: sender, Exports: exports, Carrier: out.control, Inbound: in.receiver, CarrierInbound: out.network, Push: notifier, CarrierStatus: out.status, Metrics: m, UI: uiHandler},
		httpapi.Config{PublicURL: cfg.PublicURL, MaxBodyBytes: cfg.MaxBodyBytes, Retention: cfg.Retention(),
			Limits: httpapi.SendLimits{MaxRequestBytes: cfg.MaxSendBytes, MaxRecipients: cfg.MaxRecipients, MaxMMSBytes: cfg.MaxMMSBytes}})
	srv := &http.Server{
		Handler:           roleHandler(cfg.Role, api),
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
		goWork(exports.Run)
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
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
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
