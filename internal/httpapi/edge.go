package httpapi

import (
	"net"
	"net/http"
	"slices"
	"strings"

	"github.com/switchboardhq/switchboard"
)

// Browser-facing defaults of every answer: no MIME sniffing, no framing by
// other sites, no active content. The web UI sets its own CSP; attachment
// content relaxes framing to this origin (the UI shows faxes in a frame).
const (
	apiCSP     = "default-src 'none'; frame-ancestors 'none'"
	contentCSP = "default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'"
	// PDFs are shown by the browser's viewer, which a stricter policy
	// (default-src 'none', sandbox) stops in Chromium.
	pdfCSP = "frame-ancestors 'self'"
)

// secureHeaders sets the headers every answer carries.
func (s *Server) secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", apiCSP)
		next.ServeHTTP(w, r)
	})
}

// cors lets browser apps call the API. Every origin may make bearer-token
// calls (rc-ex and fetch without cookies: nothing ambient authenticates
// them). Only the configured origins are allowed credentials, which the JS
// SDK's fetch asks for (credentials: 'include'): list its page's origin
// in --cors-origins. Cookies are honoured only with the CSRF header, which no
// other origin is allowed to send. Rate-limit headers are exposed (the SDK
// reads Retry-After).
func (s *Server) cors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if origin := r.Header.Get("Origin"); origin != "" {
			h := w.Header()
			h.Set("Access-Control-Allow-Origin", origin)
			h.Add("Vary", "Origin")
			if s.credentialsAllowed(origin) {
				h.Set("Access-Control-Allow-Credentials", "true")
			}
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

func (s *Server) credentialsAllowed(origin string) bool {
	return slices.Contains(s.config.CORSOrigins, "*") || slices.Contains(s.config.CORSOrigins, origin)
}

// checkHost refuses a Host header that is not this server's when no
// --public-url is set, since the Host then becomes every uri the API
// returns: a DNS-rebinding page or a forged Host would otherwise be handed
// links to itself. Addresses (any IP, as no name can rebind to them),
// localhost and the configured names pass.
func (s *Server) checkHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.config.PublicURL == "" && !s.hostAllowed(r.Host) {
			s.writeError(w, r, switchboard.Errorf(switchboard.CodeBadRequest,
				"Host %q is not served here: call the server by its address, or start it with --public-url or --allowed-hosts", r.Host))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) hostAllowed(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	if host == "" || host == "localhost" || strings.HasSuffix(host, ".localhost") || net.ParseIP(host) != nil {
		return true
	}
	for _, allowed := range s.config.AllowedHosts {
		if strings.EqualFold(allowed, host) || strings.EqualFold(allowed, hostport) {
			return true
		}
	}
	return false
}

// unrouted answers a request no route matched in RingCentral's error shape
// rather than net/http's plain text: 405 (with Allow) for a known path and
// another method, else 404 CMN-120. h is the mux's own answer, consulted
// for which of the two it is.
func (s *Server) unrouted(w http.ResponseWriter, r *http.Request, h http.Handler) {
	probe := &statusProbe{header: http.Header{}}
	h.ServeHTTP(probe, r)
	if probe.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", probe.header.Get("Allow"))
		_, body := s.errorResponse(r, switchboard.Errorf("CMN-120", "Method %s is not allowed for %s: use %s", r.Method, r.URL.Path, probe.header.Get("Allow")))
		writeJSON(w, http.StatusMethodNotAllowed, body)
		return
	}
	s.writeError(w, r, switchboard.Errorf("CMN-120", "Invalid URI: %s %s", r.Method, r.URL.Path))
}

// statusProbe takes the mux's answer to a request it could not route.
type statusProbe struct {
	header http.Header
	status int
}

func (p *statusProbe) Header() http.Header { return p.header }
func (p *statusProbe) WriteHeader(status int) {
	if p.status == 0 {
		p.status = status
	}
}
func (p *statusProbe) Write(b []byte) (int, error) { p.WriteHeader(http.StatusOK); return len(b), nil }

// inlineTypes are the uploaded content types a browser may show in place:
// media and documents that run no script in this origin. Anything else
// (HTML, SVG, XML, unknown) an uploader chose is served as a download.
var inlineTypes = []string{"image/png", "image/jpeg", "image/gif", "image/bmp", "image/tiff", "image/webp",
	"application/pdf", "text/plain"}

// contentDisposition decides how an attachment is served: the requested
// disposition for safe types, attachment for the rest; it sets the
// framing and content policy that fits.
func contentDisposition(requested, contentType string, h http.Header) string {
	mt, _, _ := strings.Cut(strings.ToLower(contentType), ";")
	mt = strings.TrimSpace(mt)
	safe := slices.Contains(inlineTypes, mt) || strings.HasPrefix(mt, "audio/") || strings.HasPrefix(mt, "video/")
	h.Set("X-Frame-Options", "SAMEORIGIN")
	if mt == "application/pdf" {
		h.Set("Content-Security-Policy", pdfCSP)
	} else {
		h.Set("Content-Security-Policy", contentCSP)
	}
	if !safe {
		return "attachment"
	}
	return requested
}
