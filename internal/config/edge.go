package config

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/internal/ratelimit"
)

// Edge is the configuration of the HTTP edge: RingCentral's rate limits,
// failed-login limits and what browsers may do.
type Edge struct {
	// RateLimitEnforce: nil means enforce, except in --demo and
	// --emulator, where requests are counted and the headers sent but none
	// is refused (a test switches enforcement on through the admin API).
	RateLimitEnforce *bool
	RateLimits       map[ratelimit.Group]ratelimit.Rule

	LoginMaxFailures       int           // failed logins in a row before a user name is locked out
	LoginMaxClientFailures int           // the same for a client (app) across its users
	LoginMaxLockout        time.Duration // the longest lockout; a quiet period this long clears the count

	// CORSOrigins may call the API from a browser with credentials
	// (cookies); any other origin gets CORS without credentials, which is
	// what bearer-token SDK use needs.
	CORSOrigins []string
	// AllowedHosts are the Host headers accepted, besides the listen
	// address and loopback, when no --public-url decides the uris.
	AllowedHosts []string
}

// DefaultRateLimits are RingCentral's published limits: requests per
// minute per app and user, and a minute's penalty past them.
func DefaultRateLimits() map[ratelimit.Group]ratelimit.Rule {
	return map[ratelimit.Group]ratelimit.Rule{
		ratelimit.Light:  {Limit: 50, Window: time.Minute},
		ratelimit.Medium: {Limit: 40, Window: time.Minute},
		ratelimit.Heavy:  {Limit: 10, Window: time.Minute},
		ratelimit.Auth:   {Limit: 5, Window: time.Minute},
	}
}

func defaultEdge() Edge {
	return Edge{RateLimits: DefaultRateLimits(), LoginMaxFailures: 5, LoginMaxClientFailures: 100, LoginMaxLockout: 15 * time.Minute}
}

// RateLimitSettings are the limiter's settings at start.
func (c *Config) RateLimitSettings() ratelimit.Settings {
	enforce := !c.Demo && !c.Emulator
	if c.Edge.RateLimitEnforce != nil {
		enforce = *c.Edge.RateLimitEnforce
	}
	groups := make(map[ratelimit.Group]ratelimit.Rule, len(c.Edge.RateLimits))
	for g, r := range c.Edge.RateLimits {
		groups[g] = r
	}
	return ratelimit.Settings{Enforce: enforce, Groups: groups}
}

// parseRateLimits reads "Group=LIMIT/WINDOW,…" (Medium=40/60s) over the
// current rules: groups not named keep theirs.
func parseRateLimits(current map[ratelimit.Group]ratelimit.Rule, v string) (map[ratelimit.Group]ratelimit.Rule, error) {
	out := make(map[ratelimit.Group]ratelimit.Rule, len(current))
	for g, r := range current {
		out[g] = r
	}
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, rule, ok := strings.Cut(item, "=")
		g, known := ratelimit.GroupByName(strings.TrimSpace(name))
		limit, window, ok2 := strings.Cut(rule, "/")
		if !ok || !known || !ok2 {
			return nil, fmt.Errorf("%q: want GROUP=LIMIT/WINDOW with GROUP Light, Medium, Heavy or Auth, for example Medium=40/60s", item)
		}
		n, err := strconv.Atoi(strings.TrimSpace(limit))
		if err != nil {
			return nil, fmt.Errorf("%q: limit %q is not a number", item, limit)
		}
		d, err := time.ParseDuration(strings.TrimSpace(window))
		if err != nil {
			return nil, fmt.Errorf("%q: window %q is not a duration such as 60s", item, window)
		}
		out[g] = ratelimit.Rule{Limit: n, Window: d}
	}
	return out, nil
}

func formatRateLimits(rules map[ratelimit.Group]ratelimit.Rule) string {
	var parts []string
	for _, g := range ratelimit.Groups {
		if r, ok := rules[g]; ok {
			parts = append(parts, fmt.Sprintf("%s=%d/%ds", g, r.Limit, int(r.Window/time.Second)))
		}
	}
	return strings.Join(parts, ",")
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

func init() {
	vars = append(vars,
		envVar{"SWITCHBOARD_RATE_LIMIT_ENFORCE", "rate-limit-enforce", "refuse requests past RingCentral's rate limits with 429 (default true; false with --demo/--emulator, where they are counted and the headers sent)",
			func(c *Config, v string) error {
				b, err := strconv.ParseBool(v)
				c.Edge.RateLimitEnforce = &b
				return err
			},
			func(c *Config) string { return strconv.FormatBool(c.RateLimitSettings().Enforce) }},
		envVar{"SWITCHBOARD_RATE_LIMITS", "rate-limits", "requests per app and user per window of each RingCentral usage-plan group, GROUP=LIMIT/WINDOW separated by commas; groups not named keep RingCentral's",
			func(c *Config, v string) (err error) {
				c.Edge.RateLimits, err = parseRateLimits(c.Edge.RateLimits, v)
				return err
			},
			func(c *Config) string { return formatRateLimits(c.Edge.RateLimits) }},
		envVar{"SWITCHBOARD_LOGIN_MAX_FAILURES", "login-max-failures", "failed logins in a row (password, JWT) after which a user name is locked out, 1 s doubling with each further failure",
			func(c *Config, v string) (err error) { c.Edge.LoginMaxFailures, err = strconv.Atoi(v); return err },
			func(c *Config) string { return strconv.Itoa(c.Edge.LoginMaxFailures) }},
		envVar{"SWITCHBOARD_LOGIN_MAX_CLIENT_FAILURES", "login-max-client-failures", "failed logins in a row after which a client (app) is locked out for all its users",
			func(c *Config, v string) (err error) {
				c.Edge.LoginMaxClientFailures, err = strconv.Atoi(v)
				return err
			},
			func(c *Config) string { return strconv.Itoa(c.Edge.LoginMaxClientFailures) }},
		envVar{"SWITCHBOARD_LOGIN_MAX_LOCKOUT", "login-max-lockout", "longest failed-login lockout; a user name quiet this long starts over",
			func(c *Config, v string) (err error) { c.Edge.LoginMaxLockout, err = time.ParseDuration(v); return err },
			func(c *Config) string { return c.Edge.LoginMaxLockout.String() }},
		envVar{"SWITCHBOARD_CORS_ORIGINS", "cors-origins", "origins (https://app.example.com, comma-separated) allowed to call the API from a browser with cookies, as the JS SDK's fetch does in a browser; * for any (development); others get CORS for bearer tokens only",
			func(c *Config, v string) error { c.Edge.CORSOrigins = splitList(v); return nil },
			func(c *Config) string { return strings.Join(c.Edge.CORSOrigins, ",") }},
		envVar{"SWITCHBOARD_ALLOWED_HOSTS", "allowed-hosts", "host names (comma-separated) accepted in the Host header besides the listen address and loopback, when --public-url is not set",
			func(c *Config, v string) error { c.Edge.AllowedHosts = splitList(v); return nil },
			func(c *Config) string { return strings.Join(c.Edge.AllowedHosts, ",") }},
	)
}

func (e *Edge) validate() []error {
	var errs []error
	if err := (ratelimit.Settings{Groups: e.RateLimits}).Validate(); err != nil {
		errs = append(errs, fmt.Errorf("rate-limits: %v", err))
	}
	if e.LoginMaxFailures < 1 || e.LoginMaxClientFailures < e.LoginMaxFailures {
		errs = append(errs, fmt.Errorf("login-max-failures %d and login-max-client-failures %d: want at least 1, the client's at least the user name's", e.LoginMaxFailures, e.LoginMaxClientFailures))
	}
	if e.LoginMaxLockout < time.Second {
		errs = append(errs, fmt.Errorf("login-max-lockout %s: want at least 1s", e.LoginMaxLockout))
	}
	for _, o := range e.CORSOrigins {
		if o != "*" && !strings.HasPrefix(o, "http://") && !strings.HasPrefix(o, "https://") || strings.Count(o, "/") != 2 {
			errs = append(errs, errors.New("cors-origins "+strconv.Quote(o)+": want origins such as https://app.example.com (scheme and host, no path)"))
		}
	}
	return errs
}
