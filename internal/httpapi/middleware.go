package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/auth"
)

// recoverPanics turns a handler panic into a logged 500 instead of a dropped
// connection. A panic is always a bug; this only keeps the server serving.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.logger.Error("panic", "value", fmt.Sprint(v), "path", r.URL.Path, "stack", string(debug.Stack()))
				s.writeError(w, r, fmt.Errorf("panic: %v", v))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// cors lets browser apps use the API as the JS SDK does: with credentials,
// so the origin is echoed rather than "*", and the rate-limit headers are
// exposed (the SDK reads Retry-After).
func (s *Server) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if origin := r.Header.Get("Origin"); origin != "" {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Add("Vary", "Origin")
			h.Set("Access-Control-Expose-Headers", "RCRequestId, Retry-After, X-Rate-Limit-Group, X-Rate-Limit-Limit, X-Rate-Limit-Remaining, X-Rate-Limit-Window, Content-Disposition")
			if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
				h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS")
				h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-User-Agent, Client-Id, Accept, Range, X-Requested-With")
				h.Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// bearerToken takes the token from "Authorization: Bearer x" (any case of
// the scheme: the JS SDK sends "bearer") or, as RingCentral's media host
// allows, the access_token query parameter.
func bearerToken(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(h, " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(token)
		}
		return ""
	}
	return r.URL.Query().Get("access_token")
}

// credential is the token a request acts with: its bearer token or, from the
// web UI, the session cookie named cookie, honoured only with the session's
// CSRF token (header, or query parameter for media links). The cookie is a
// way of carrying the same token, never a different kind of access.
func credential(r *http.Request, cookie string) string {
	if t := bearerToken(r); t != "" {
		return t
	}
	return auth.SessionCredential(r, cookie)
}

// authed wraps a RingCentral API handler: it authenticates the bearer token
// and checks the app permission the route needs (empty: none).
func (s *Server) authed(scope string, h func(http.ResponseWriter, *http.Request, *switchboard.Principal)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		// A REST call made over a WebSocket carries the socket's principal
		// (socketCall); any other request authenticates its bearer token.
		p, ok := r.Context().Value(socketPrincipalKey{}).(*switchboard.Principal)
		if !ok {
			var err error
			if p, err = s.auth.Authenticate(r.Context(), credential(r, auth.SessionCookie)); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		if scope != "" && !p.HasScope(scope) {
			s.writeError(w, r, switchboard.Errorf(http.StatusForbidden, switchboard.CodeAppPermission,
				"In order to call this API endpoint, application needs to have [%s] permission", scope))
			return
		}
		noteExtension(r.Context(), p.ExtensionID)
		if !s.limit(w, r, p) {
			return
		}
		h(w, r.WithContext(switchboard.NewContextWithPrincipal(r.Context(), p)), p)
	}
}

// admin wraps an admin API handler.
func (s *Server) admin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := s.auth.AuthenticateAdmin(r.Context(), credential(r, auth.AdminSessionCookie)); err != nil {
			s.writeError(w, r, err)
			return
		}
		h(w, withStrictJSON(r))
	}
}

var errBodyTooLarge = errors.New("request body too large")
