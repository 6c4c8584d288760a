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
	"strings"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/auth"
	"github.com/switchboardhq/switchboard/internal/carrier"
	"github.com/switchboardhq/switchboard/internal/config"
	"github.com/switchboardhq/switchboard/internal/delivery"
	"github.com/switchboardhq/switchboard/internal/httpapi"
	"github.com/switchboardhq/switchboard/internal/push"
	"github.com/switchboardhq/switchboard/internal/retention"
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
	logger := newLogger(cfg.LogFormat, stderr)

	// In emulator mode (implied by --demo) the clock can be moved forward
	// through the admin API; otherwise it is the system clock.
	var clock switchboard.Clock = switchboard.SystemClock{}
	var emulator httpapi.ClockAdvancer
	if cfg.Demo || cfg.Emulator {
		manual := switchboard.NewManualClock(nil)
		clock, emulator = manual, manual
	}
	store, err := openDatabase(ctx, dbSettings{database: cfg.Database, dataDir: cfg.DataDir, sqliteSync: cfg.SQLiteSync,
		maxConns: cfg.DBMaxConns, statementTimeout: cfg.DBStatementTimeout}, clock)
	if err != nil {
		return err
	}
	defer store.Close()
	authService := auth.NewService(store, clock, auth.Config{AccessTTL: cfg.AccessTokenTTL, RefreshTTL: cfg.RefreshTokenTTL})

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

	sim := carrier.NewSimulator(clock, time.Now().UnixNano())
	if cfg.CarrierRules != "" {
		rules, err := carrier.LoadRules(cfg.CarrierRules)
		if err == nil {
			err = sim.SetRules(rules)
		}
		if err != nil {
			ln.Close()
			return fmt.Errorf("carrier rules: %w (fix the file or leave --carrier-rules empty)", err)
		}
	}
	host, _ := os.Hostname()
	sender := delivery.NewWorker(store, sim, clock, delivery.Config{
		Owner: fmt.Sprintf("%s/%d/%s", host, os.Getpid(), rand.Text()[:8]), ReceiptTimeout: cfg.ReceiptTimeout}, logger)

	in, err := startInbound(ctx, cfg, store, sim, logger)
	if err != nil {
		ln.Close()
		return fmt.Errorf("inbound: %w", err)
	}
	defer in.stop()

	notifier := push.New(store, clock, logger, push.Config{
		Owner: fmt.Sprintf("%s/%d/%s", host, os.Getpid(), rand.Text()[:8]), AllowPrivateTargets: cfg.WebHookAllowPrivate,
		SuspendAfter: cfg.WebHookSuspendAfter, RenderMessage: func(m *switchboard.Message) any { return httpapi.MessageJSON(serverURL, m) }})

	worker := retention.NewWorker(store, clock, retention.Config{Defaults: cfg.Retention(), ChangeLogPeriod: cfg.ChangeLogPeriod}, logger)
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
		Outbox: sender, Carrier: sim, Inbound: in.receiver, CarrierInbound: sim, Push: notifier, UI: uiHandler},
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
		go sweepTokens(ctx, store, clock, logger)
		go worker.Run(ctx, cfg.RetentionInterval)
		go sender.Run(ctx)
	}
	// Every role runs the notification dispatcher: WebSocket sessions are
	// served by the node holding the socket (API nodes), WebHooks by
	// whichever node claims the subscription.
	go notifier.Run(ctx)

	logger.Info("switchboard listening", "url", serverURL, "data", cfg.DataDir, "database", store.Dialect(), "role", cfg.Role,
		"version", version, "emulator", emulator != nil,
		"delete_period", cfg.DeletePeriod, "purge_period", cfg.PurgePeriod, "mailbox_cap", cfg.MailboxCap,
		"webhook_allow_private", cfg.WebHookAllowPrivate)
	if demo != nil {
		printDemo(stdout, demo, filepath.Join(cfg.DataDir, demoFile))
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// roleHandler is the HTTP surface of a node's role: a worker-only node
// answers the health check and nothing else.
func roleHandler(role string, api http.Handler) http.Handler {
	if role != config.RoleWorker {
		return api
	}
	mux := http.NewServeMux()
	mux.Handle("GET /switchboard/v1/health", api)
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

func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}
