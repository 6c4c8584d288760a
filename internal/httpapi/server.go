// Package httpapi serves Switchboard's HTTP API: the RingCentral-compatible
// REST surface under /restapi and Switchboard's own admin API under
// /switchboard/v1. Handlers decode and validate requests, call the store or
// the auth service, and encode RingCentral's wire format; they hold no SQL
// and no business rules of their own.
package httpapi

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/auth"
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
}

// Server is the HTTP API. It is an http.Handler.
type Server struct {
	store  switchboard.Store
	auth   *auth.Service
	clock  switchboard.Clock
	logger *slog.Logger
	config Config
	mux    *http.ServeMux
}

// New returns the API over store.
func New(store switchboard.Store, authService *auth.Service, clock switchboard.Clock, logger *slog.Logger, config Config) *Server {
	if config.MaxBodyBytes <= 0 {
		config.MaxBodyBytes = 1 << 20
	}
	if config.MaxImportBytes <= 0 {
		config.MaxImportBytes = 64 << 20
	}
	config.PublicURL = strings.TrimRight(config.PublicURL, "/")
	s := &Server{store: store, auth: authService, clock: clock, logger: logger, config: config, mux: http.NewServeMux()}
	s.routes()
	return s
}

// ServeHTTP runs the middleware chain and the route table.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.recoverPanics(s.withRequestID(s.cors(s.mux))).ServeHTTP(w, r)
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
