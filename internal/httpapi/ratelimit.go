package httpapi

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/ratelimit"
)

// limit counts a call of the RingCentral API by the principal's app and
// extension in the group RingCentral assigns the endpoint, and writes the
// X-Rate-Limit-* headers. It answers false when it refused the call (429)
// or could not count it (503), having written the answer.
func (s *Server) limit(w http.ResponseWriter, r *http.Request, p *switchboard.Principal) bool {
	return s.limitAs(w, r, principalKey(p))
}

// principalKey names who a REST call is counted for: its app and user.
func principalKey(p *switchboard.Principal) string {
	return strconv.FormatInt(p.AppID, 10) + "|" + strconv.FormatInt(p.ExtensionID, 10)
}

// limitAuth counts an OAuth call (group Auth) by client and, when the
// request names one, user name; otherwise by the client's address.
func (s *Server) limitAuth(w http.ResponseWriter, r *http.Request, clientID, username string) bool {
	who := username
	if who == "" {
		who = "ip:" + remoteIP(r)
	}
	return s.limitAs(w, r, clientID+"|"+who)
}

func (s *Server) limitAs(w http.ResponseWriter, r *http.Request, caller string) bool {
	if err := s.count(r.Context(), r.Method, r.URL.Path, caller, w.Header()); err != nil {
		s.writeError(w, r, err)
		return false
	}
	return true
}

// count counts one call of caller to method and path and sets the
// X-Rate-Limit-* headers in h. The error is the 429 of a refused call, or
// the store's when it could not count (a database outage: 503).
func (s *Server) count(ctx context.Context, method, path, caller string, h http.Header) error {
	if s.limiter == nil {
		return nil
	}
	group, ok := ratelimit.GroupFor(method, path)
	if !ok {
		return nil
	}
	d, err := s.limiter.Allow(ctx, group, caller)
	if err != nil {
		return err
	}
	d.SetHeaders(h)
	if d.Refused {
		return d.Err()
	}
	return nil
}

// remoteIP is the address the connection comes from (a proxy's, behind one).
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// authLimited counts the calls of a handler outside the route table's
// authentication (the authorization endpoint) in group Auth.
func (s *Server) authLimited(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.limitAuth(w, r, r.URL.Query().Get("client_id"), "") {
			h.ServeHTTP(w, r)
		}
	})
}

// rateLimitsJSON is the admin API's view of the rate-limit settings.
type rateLimitsJSON struct {
	Enforce *bool                    `json:"enforce"`
	Groups  map[string]rateLimitRule `json:"groups"`
}

type rateLimitRule struct {
	Limit         int `json:"limit"`
	WindowSeconds int `json:"windowSeconds"`
}

func rateLimitsOf(st ratelimit.Settings) rateLimitsJSON {
	out := rateLimitsJSON{Enforce: &st.Enforce, Groups: map[string]rateLimitRule{}}
	for g, r := range st.Groups {
		out.Groups[string(g)] = rateLimitRule{Limit: r.Limit, WindowSeconds: int(r.Window / time.Second)}
	}
	return out
}

func (s *Server) handleGetRateLimits(w http.ResponseWriter, r *http.Request) {
	if s.limiter == nil {
		s.writeError(w, r, errNoLimiter)
		return
	}
	writeJSON(w, http.StatusOK, rateLimitsOf(s.limiter.Settings()))
}

// handlePutRateLimits changes enforcement and the named groups' rules; the
// groups not named keep theirs. The change holds on this node until it
// restarts (the flags then apply again).
func (s *Server) handlePutRateLimits(w http.ResponseWriter, r *http.Request) {
	if s.limiter == nil {
		s.writeError(w, r, errNoLimiter)
		return
	}
	var req rateLimitsJSON
	sent, err := s.decodeJSON(w, r, s.config.MaxBodyBytes, &req)
	if err == nil && !sent {
		err = switchboard.InvalidParam("groups", "", `Body must be {"enforce": true|false, "groups": {"Medium": {"limit": 40, "windowSeconds": 60}}}`)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	groups := map[ratelimit.Group]ratelimit.Rule{}
	for name, rule := range req.Groups {
		g, ok := ratelimit.GroupByName(name)
		if !ok {
			s.writeError(w, r, switchboard.InvalidParam("groups", name, "Unknown group %q: want Light, Medium, Heavy or Auth", name))
			return
		}
		groups[g] = ratelimit.Rule{Limit: rule.Limit, Window: time.Duration(rule.WindowSeconds) * time.Second}
	}
	st, err := s.limiter.Update(req.Enforce, groups)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.logger.InfoContext(r.Context(), "rate limits changed", "enforce", st.Enforce)
	writeJSON(w, http.StatusOK, rateLimitsOf(st))
}

var errNoLimiter = switchboard.Errorf(switchboard.CodeNotFound, "Rate limits are not configured on this server")
