package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/switchboardhq/switchboard/internal/auth"
	"github.com/switchboardhq/switchboard/internal/carrier"
	"github.com/switchboardhq/switchboard/internal/certs"
	"github.com/switchboardhq/switchboard/internal/config"
	"github.com/switchboardhq/switchboard/internal/inbound"
	"github.com/switchboardhq/switchboard/internal/metrics"
	"github.com/switchboardhq/switchboard/internal/smtpin"
	"github.com/switchboardhq/switchboard/internal/sqlstore"
	"github.com/switchboardhq/switchboard/internal/transcribe"
)

// inboundParts are the running pieces of inbound messaging.
type inboundParts struct {
	receiver *inbound.Service
	smtp     *smtpin.Server
	tls      *certs.Files // the SMTP listener's STARTTLS certificate; nil without one
}

// startInbound wires inbound messaging: the receiver every way in shares,
// the carrier's inbound direction, the transcription worker when a
// transcriber is configured (not on API-only nodes, which run no workers)
// and the SMTP listener when one is (not on worker-only nodes, which take
// no traffic). Everything it starts stops when ctx ends (the SMTP listener
// with stop).
func startInbound(ctx context.Context, serve config.Config, owner string, m *metrics.Metrics, store *sqlstore.DB, c carrier.Carrier, wakeOutbox func(), authService *auth.Service, logger *slog.Logger) (*inboundParts, error) {
	cfg := serve.Inbound
	var t transcribe.Transcriber
	switch {
	case cfg.TranscribeCommand != "":
		cmd, err := transcribe.NewCommand(cfg.TranscribeCommand)
		if err != nil {
			return nil, err
		}
		t = cmd
	case cfg.TranscribeURL != "":
		t = &transcribe.HTTP{URL: cfg.TranscribeURL}
	}
	// MMS from outside is held to the same media limit as MMS sent out.
	icfg := inbound.Config{MaxAudioBytes: cfg.MaxAudioBytes, MMS: serve.Send, WakeOutbox: wakeOutbox}
	if t != nil {
		w := transcribe.NewWorker(store, t, transcribe.Config{Owner: owner, Timeout: cfg.TranscribeTimeout, Metrics: m}, logger)
		icfg.Transcribe, icfg.Wake = true, w.Wake
		if serve.Role != config.RoleAPI {
			go func() { _ = w.Run(ctx) }()
		}
	}
	p := &inboundParts{receiver: inbound.New(store, logger, icfg)}
	go func() { _ = c.Listen(ctx, p.receiver) }()

	if cfg.SMTPListen != "" && serve.Role != config.RoleWorker {
		scfg := smtpin.Config{Domain: cfg.SMTPDomain, MaxBytes: cfg.SMTPMaxBytes, AcceptAnyRecipient: cfg.SMTPAcceptAnyRcpt}
		if cfg.SMTPTLSCert != "" {
			files, err := certs.Load(cfg.SMTPTLSCert, cfg.SMTPTLSKey)
			if err != nil {
				return nil, fmt.Errorf("SMTP STARTTLS: %w", err)
			}
			p.tls, scfg.TLS = files, files.Config()
		}
		if cfg.SMTPAuth {
			// The phone system signs in as the admin API's clients do: an
			// admin token (switchboard admin-token create) as the password.
			scfg.Authenticate = func(ctx context.Context, _, password string) error {
				return authService.AuthenticateAdmin(ctx, password)
			}
		}
		l, err := net.Listen("tcp", cfg.SMTPListen)
		if err != nil {
			return nil, fmt.Errorf("SMTP listener on %s: %w (choose another with --smtp-listen)", cfg.SMTPListen, err)
		}
		p.smtp = smtpin.New(store, p.receiver, scfg, logger)
		go func() {
			if err := p.smtp.Serve(l); err != nil {
				logger.Error("SMTP listener stopped", "err", err)
			}
		}()
		logger.Info("SMTP listener for voicemail and fax by email", "addr", l.Addr().String(), "domain", cfg.SMTPDomain,
			"starttls", scfg.TLS != nil, "auth", cfg.SMTPAuth, "accept_any_rcpt", cfg.SMTPAcceptAnyRcpt)
	}
	logger.Info("inbound messages", "transcriber", t != nil, "smtp", cfg.SMTPListen != "", "max_audio_bytes", cfg.MaxAudioBytes)
	return p, nil
}

// stop ends the SMTP listener, letting open sessions finish briefly.
func (p *inboundParts) stop() {
	if p.smtp == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.smtp.Shutdown(ctx); err != nil {
		_ = p.smtp.Close()
	}
}
