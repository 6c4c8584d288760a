package auth

import (
	"math"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/switchboardhq/switchboard"
)

// LoginLimits bound failed logins (password and JWT grants, the sign-in
// page): past MaxFailures failures in a row a user name (or past
// MaxClientFailures a client) is locked out for a second, doubling with each
// further failure up to MaxLockout. A success clears the user name's count;
// a quiet MaxLockout clears any.
type LoginLimits struct {
	MaxFailures       int
	MaxClientFailures int
	MaxLockout        time.Duration
}

// loginGuard counts failed logins on this node. A locked-out user name is
// refused before anything is looked up or hashed, whether the name exists
// and whatever the password, so the refusal tells nothing and costs the
// same for every name.
type loginGuard struct {
	limits LoginLimits
	clock  switchboard.Clock

	mu       sync.Mutex
	failures map[string]*loginFailures
	sweepAt  time.Time
}

type loginFailures struct {
	count       int
	last        time.Time
	lockedUntil time.Time
}

func newLoginGuard(limits LoginLimits, clock switchboard.Clock) *loginGuard {
	return &loginGuard{limits: limits, clock: clock, failures: map[string]*loginFailures{}}
}

// userKey names a user name's count: the name as typed, without the
// extension the JS SDK glues to it, in lower case.
func userKey(username string) string {
	if username == "" {
		return ""
	}
	name, _, _ := strings.Cut(username, "*")
	return "user|" + strings.ToLower(strings.TrimSpace(name))
}
func clientKey(clientID string) string { return "client|" + clientID }

// check refuses a login attempt while any of keys is locked out.
func (g *loginGuard) check(keys ...string) error {
	if g == nil {
		return nil
	}
	now := g.clock.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	var wait time.Duration
	for _, k := range keys {
		if f := g.failures[k]; k != "" && f != nil && f.lockedUntil.After(now) {
			wait = max(wait, f.lockedUntil.Sub(now))
		}
	}
	if wait > 0 {
		return &OAuthError{Status: http.StatusTooManyRequests, Err: "invalid_request", Code: "CMN-301",
			Description: "Too many failed logins: try again later", RetryAfter: int(math.Ceil(wait.Seconds()))}
	}
	return nil
}

// fail records a failed attempt against each key: the user name's and the
// client's, with their own thresholds.
func (g *loginGuard) fail(user, client string) {
	if g == nil {
		return
	}
	now := g.clock.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	g.sweep(now)
	for _, k := range []struct {
		key       string
		threshold int
	}{{user, g.limits.MaxFailures}, {client, g.limits.MaxClientFailures}} {
		if k.key == "" {
			continue
		}
		f := g.failures[k.key]
		if f == nil || now.Sub(f.last) > g.limits.MaxLockout {
			f = &loginFailures{}
			g.failures[k.key] = f
		}
		f.count++
		f.last = now
		if over := f.count - k.threshold; over > 0 {
			lock := g.limits.MaxLockout
			if over < 32 {
				lock = min(lock, time.Second<<(over-1))
			}
			f.lockedUntil = now.Add(lock)
		}
	}
}

// succeed clears a user name's failures.
func (g *loginGuard) succeed(user string) {
	if g == nil {
		return
	}
	g.mu.Lock()
	delete(g.failures, user)
	g.mu.Unlock()
}

// sweep forgets quiet entries, so names an attacker made up do not pile up.
func (g *loginGuard) sweep(now time.Time) {
	if now.Before(g.sweepAt) {
		return
	}
	g.sweepAt = now.Add(time.Minute)
	for k, f := range g.failures {
		if now.Sub(f.last) > g.limits.MaxLockout && !f.lockedUntil.After(now) {
			delete(g.failures, k)
		}
	}
}
