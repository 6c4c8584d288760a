package httpapi

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/switchboardhq/switchboard"
)

// requestInfo is filled in as a request goes down the chain and read by
// observe when it comes back: the id, the matched route pattern and the
// authenticated extension.
type requestInfo struct {
	id          string
	route       string
	extensionID int64
}

type requestInfoKey struct{}

func requestID(ctx context.Context) string {
	if info, ok := ctx.Value(requestInfoKey{}).(*requestInfo); ok {
		return info.id
	}
	return ""
}

// noteExtension records the authenticated extension for the access log.
func noteExtension(ctx context.Context, extensionID int64) {
	if info, ok := ctx.Value(requestInfoKey{}).(*requestInfo); ok {
		info.extensionID = extensionID
	}
}

// observe tags each request with an id, echoed in RCRequestId as
// RingCentral does so a client's report can be matched to the server log,
// then writes one access-log line and the request metrics. The line holds
// no header, query or body: tokens and message text never reach the log.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &requestInfo{id: rand.Text()[:16]}
		w.Header().Set("RCRequestId", info.id)
		rec := &recorder{ResponseWriter: w}
		ctx := context.WithValue(r.Context(), requestInfoKey{}, info)
		if r.Header.Get("Upgrade") == "" {
			// One directory epoch per request (a WebSocket session's
			// requests each pass through here with a scope of their own).
			ctx = switchboard.WithEpochScope(ctx)
		}
		next.ServeHTTP(rec, r.WithContext(ctx))
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		elapsed := time.Since(start)
		route := info.route
		if route == "" {
			route = "unmatched" // bounded label: no raw paths
		}
		status := strconv.Itoa(rec.status)
		s.metrics.HTTPRequests.WithLabelValues(route, r.Method, status).Inc()
		s.metrics.HTTPDuration.WithLabelValues(route, r.Method).Observe(elapsed.Seconds())

		level := slog.LevelInfo
		if route == "GET /switchboard/v1/health" || route == "GET /metrics" {
			level = slog.LevelDebug // probes and scrapes every few seconds
		}
		attrs := []slog.Attr{slog.String("request_id", info.id), slog.String("route", route), slog.String("method", r.Method),
			slog.Int("status", rec.status), slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
			slog.Int64("bytes", rec.bytes)}
		if info.extensionID != 0 {
			attrs = append(attrs, slog.Int64("extension_id", info.extensionID))
		}
		s.logger.LogAttrs(r.Context(), level, "request", attrs...)
	})
}

// routed runs the route table and notes the pattern it matched (the mux
// sets r.Pattern on the request it is given).
func (s *Server) routed(w http.ResponseWriter, r *http.Request) {
	if h, pattern := s.mux.Handler(r); pattern == "" {
		s.unrouted(w, r, h)
	} else {
		s.mux.ServeHTTP(w, r)
	}
	if info, ok := r.Context().Value(requestInfoKey{}).(*requestInfo); ok {
		info.route = r.Pattern
	}
}

// recorder notes the status and size of an answer. It passes Flush and
// Hijack through (server-sent bodies, WebSocket upgrades).
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := r.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("httpapi: the connection cannot be hijacked")
	}
	if r.status == 0 {
		r.status = http.StatusSwitchingProtocols
	}
	return h.Hijack()
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
