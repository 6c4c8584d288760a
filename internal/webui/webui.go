// Package webui serves Switchboard's browser face at /: a small embedded
// vanilla-JavaScript app (the unified inbox, the message view, compose, and
// the admin and emulator console), the sign-in that gives it a session, the
// live-update stream, and the sign-in page of the OAuth authorization-code
// flow (/restapi/oauth/authorize).
//
// The app has no private API. A session is an ordinary access token (or
// the admin token) in an HTTP-only cookie, and the page calls the public
// RingCentral API and the admin API with it; internal/httpapi honours the
// cookie only together with the session's CSRF token, and applies the same
// authentication, app permissions and tenancy rules as for a bearer token.
package webui

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/auth"
)

//go:embed assets
var assetFS embed.FS

//go:embed templates/*.html
var templateFS embed.FS

var pages = template.Must(template.ParseFS(templateFS, "templates/*.html"))

// Config tunes the UI.
type Config struct {
	// ClientID is the app the UI signs users in as (a public app, created
	// at start by EnsureApp).
	ClientID string
	// SecureCookies marks session cookies Secure: set it when the server is
	// reached over HTTPS.
	SecureCookies bool
	// Emulator shows the emulator controls (clock, retention, carrier
	// rules, inbound traffic) in the admin console.
	Emulator bool
	// EventsBackstop bounds how long the live stream waits for a change
	// notification before looking at the change log anyway.
	EventsBackstop time.Duration
}

// UI is the web UI's http.Handler.
type UI struct {
	store  switchboard.Store
	auth   *auth.Service
	clock  switchboard.Clock
	logger *slog.Logger
	config Config
	mux    *http.ServeMux
	// stop ends the live streams at shutdown: http.Server.Shutdown waits
	// for requests to finish, and a stream never does by itself.
	stop     chan struct{}
	stopOnce sync.Once
}

// Shutdown ends every live-update stream; the pages reconnect to another
// node or to this one when it is back. Register it with
// http.Server.RegisterOnShutdown.
func (u *UI) Shutdown() {
	u.stopOnce.Do(func() { close(u.stop) })
}

// New returns the UI.
func New(store switchboard.Store, authService *auth.Service, clock switchboard.Clock, logger *slog.Logger, config Config) *UI {
	if config.EventsBackstop <= 0 {
		config.EventsBackstop = 5 * time.Second
	}
	u := &UI{store: store, auth: authService, clock: clock, logger: logger, config: config, mux: http.NewServeMux(), stop: make(chan struct{})}
	assets, err := fs.Sub(assetFS, "assets")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	m := u.mux
	m.HandleFunc("GET /{$}", u.handleIndex)
	m.Handle("GET /ui/assets/", http.StripPrefix("/ui/assets/", http.FileServerFS(assets)))
	m.HandleFunc("GET /ui/session", u.handleSession)
	m.HandleFunc("POST /ui/session", u.handleSignIn)
	m.HandleFunc("DELETE /ui/session", u.handleSignOut)
	m.HandleFunc("POST /ui/session/mailbox", u.handleOpenMailbox)
	m.HandleFunc("DELETE /ui/session/mailbox", u.handleCloseMailbox)
	m.HandleFunc("GET /ui/events", u.handleEvents)
	m.HandleFunc("GET /restapi/oauth/authorize", u.handleAuthorize)
	m.HandleFunc("POST /restapi/oauth/authorize", u.handleAuthorize)
	m.HandleFunc("/ui/", func(w http.ResponseWriter, r *http.Request) {
		u.writeError(w, http.StatusNotFound, "CMN-120", "Invalid URI: "+r.Method+" "+r.URL.Path)
	})
	return u
}

// ServeHTTP serves the UI's routes.
func (u *UI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// The API's CORS answer lets any origin read responses with
	// credentials, as the SDKs need; the UI's own endpoints are for this
	// origin's page alone, so other origins may not read them.
	for _, k := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Expose-Headers"} {
		h.Del(k)
	}
	// Everything comes from this origin; nothing is framed by others.
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; frame-src 'self' blob:; object-src 'self' blob:; frame-ancestors 'none'; form-action 'self' http: https:")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	u.mux.ServeHTTP(w, r)
}

// WebAppName is the name of the app the UI signs users in as.
const WebAppName = "Switchboard Web"

// EnsureApp creates the UI's public app when the database has none with
// clientID. Several nodes starting at once may race: the loser finds the
// winner's row.
func EnsureApp(ctx context.Context, store switchboard.Store, clientID string) error {
	if _, err := store.AppByClientID(ctx, clientID); !errors.Is(err, switchboard.ErrNotFound) {
		return err
	}
	err := store.CreateApp(ctx, &switchboard.App{ClientID: clientID, Name: WebAppName,
		Scopes: switchboard.DefaultAppScopes, Status: switchboard.StatusEnabled})
	if errors.Is(err, switchboard.ErrConflict) {
		return nil
	}
	return err
}

func (u *UI) handleIndex(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-cache")
	u.render(w, http.StatusOK, "index.html", map[string]any{"Emulator": u.config.Emulator})
}

func (u *UI) render(w http.ResponseWriter, status int, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := pages.ExecuteTemplate(w, name, data); err != nil {
		u.logger.Error("render page", "page", name, "err", err)
	}
}
