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

// bearerToken takes the token from "Authorization: Bearer x" (any case of
// the scheme: the JS SDK sends "bearer") or, on media links only, as
// RingCentral's media host allows, the access_token query parameter: a
// token in a URL ends up in logs and histories, so no other route takes it.
func bearerToken(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(h, " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(token)
		}
		return ""
	}
	if mediaLink(r.Pattern) {
		return r.URL.Query().Get("access_token")
	}
	return ""
}

// mediaLink reports whether a route serves content by link (attachments,
// export archives): the routes a browser or player opens without headers.
func mediaLink(pattern string) bool {
	return strings.HasSuffix(pattern, "/content/{attachmentId}") || strings.HasSuffix(pattern, "/archive/{archiveId}")
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
			cred := credential(r, auth.SessionCookie)
			if cred == "" && r.URL.Query().Has("access_token") {
				s.writeError(w, r, switchboard.Errorf(switchboard.CodeLoginRequired,
					"access_token in the query string is accepted on media links only: send the header Authorization: Bearer <token>"))
				return
			}
			if p, err = s.auth.Authenticate(r.Context(), cred); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		if scope != "" && !p.HasScope(scope) {
			s.writeError(w, r, switchboard.Errorf(switchboard.CodeAppPermission,
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
