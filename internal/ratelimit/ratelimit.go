// Package ratelimit is RingCentral's usage-plan throttling: every API call
// belongs to a group (Light, Medium, Heavy, Auth), each group allows a number
// of requests per window for one app and user, and a caller past the limit is
// refused for a penalty as long as the window, which every refused request
// starts again. The counters live in a Store: in memory for one node, in the
// database for several nodes sharing PostgreSQL, so the limit holds for the
// cluster.
package ratelimit

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboardhq/switchboard"
)

// Group is a usage-plan group, spelled as RingCentral's X-Rate-Limit-Group.
type Group string

// RingCentral's groups.
const (
	Light  Group = "Light"
	Medium Group = "Medium"
	Heavy  Group = "Heavy"
	Auth   Group = "Auth"
)

// Groups lists every group, in RingCentral's order.
var Groups = []Group{Light, Medium, Heavy, Auth}

// Rule is one group's budget: Limit requests per Window; a caller past it is
// refused for a Window after its last refused request.
type Rule struct {
	Limit  int
	Window time.Duration
}

// Settings are what the admin API and the flags change.
type Settings struct {
	// Enforce refuses requests past the limit with 429; off, they are
	// counted and the headers sent (the emulator's default).
	Enforce bool
	Groups  map[Group]Rule
}

func (s Settings) clone() Settings {
	c := Settings{Enforce: s.Enforce, Groups: make(map[Group]Rule, len(s.Groups))}
	for g, r := range s.Groups {
		c.Groups[g] = r
	}
	return c
}

// Validate says what is wrong with the settings.
func (s Settings) Validate() error {
	for _, g := range Groups {
		r, ok := s.Groups[g]
		if !ok {
			return switchboard.InvalidParam("groups", string(g), "Group %s has no limit", g)
		}
		if err := r.validate(g); err != nil {
			return err
		}
	}
	return nil
}

func (r Rule) validate(g Group) error {
	if r.Limit < 1 || r.Limit > 1_000_000 {
		return switchboard.InvalidParam("groups."+string(g)+".limit", strconv.Itoa(r.Limit), "The limit of %s must be 1 to 1000000 requests", g)
	}
	if r.Window < time.Second || r.Window > 24*time.Hour || r.Window%time.Second != 0 {
		return switchboard.InvalidParam("groups."+string(g)+".windowSeconds", strconv.Itoa(int(r.Window/time.Second)),
			"The window of %s must be a whole number of seconds from 1 to 86400", g)
	}
	return nil
}

// Hit is a counter's state after one request was counted.
type Hit struct {
	Count        int       // requests in the current window, this one included
	BlockedUntil time.Time // refused until then; zero or past: not blocked
}

// Store keeps the counters. Hit counts one request of key in the window that
// starts at windowStart and, when the count passes limit or key is still
// blocked at now, blocks it until now+penalty; it answers the state after.
type Store interface {
	RateLimitHit(ctx context.Context, key string, windowStart, now time.Time, limit int, penalty time.Duration) (Hit, error)
	// SweepRateLimits forgets counters whose window started before
	// staleBefore and whose block ended before now.
	SweepRateLimits(ctx context.Context, staleBefore, now time.Time) error
}

// Decision is the outcome of one request.
type Decision struct {
	Group      Group
	Limit      int
	Remaining  int
	Window     time.Duration
	RetryAfter time.Duration // > 0: the caller is past the limit
	Refused    bool          // past the limit and the limits are enforced
}

// SetHeaders writes RingCentral's X-Rate-Limit-* headers (and Retry-After
// when refused).
func (d Decision) SetHeaders(h http.Header) {
	if d.Group == "" {
		return
	}
	h.Set("X-Rate-Limit-Group", string(d.Group))
	h.Set("X-Rate-Limit-Limit", strconv.Itoa(d.Limit))
	h.Set("X-Rate-Limit-Remaining", strconv.Itoa(d.Remaining))
	h.Set("X-Rate-Limit-Window", strconv.Itoa(int(d.Window/time.Second)))
	if d.Refused {
		h.Set("Retry-After", strconv.Itoa(int(math.Ceil(d.RetryAfter.Seconds()))))
	}
}

// Err is the 429 a refused request answers: RingCentral's CMN-301.
func (d Decision) Err() error {
	return switchboard.Errorf(CodeRateExceeded, "Request rate exceeded")
}

// CodeRateExceeded is RingCentral's errorCode of a throttled request.
const CodeRateExceeded = "CMN-301"

// Limiter applies the settings to requests.
type Limiter struct {
	clock switchboard.Clock
	store Store

	mu       sync.RWMutex
	settings Settings

	nextSweep atomic.Int64 // unix nanoseconds
	sweeping  atomic.Bool
}

// New returns a Limiter over store with the given settings, which must be
// valid.
func New(store Store, clock switchboard.Clock, settings Settings) (*Limiter, error) {
	if err := settings.Validate(); err != nil {
		return nil, err
	}
	return &Limiter{clock: clock, store: store, settings: settings.clone()}, nil
}

// Settings returns the current settings.
func (l *Limiter) Settings() Settings {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.settings.clone()
}

// Update changes the settings: enforce when given, and the named groups'
// rules; the others keep theirs.
func (l *Limiter) Update(enforce *bool, groups map[Group]Rule) (Settings, error) {
	for g, r := range groups {
		if _, known := GroupByName(string(g)); !known {
			return Settings{}, switchboard.InvalidParam("groups", string(g), "Unknown group %q: want Light, Medium, Heavy or Auth", g)
		}
		if err := r.validate(g); err != nil {
			return Settings{}, err
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if enforce != nil {
		l.settings.Enforce = *enforce
	}
	for g, r := range groups {
		l.settings.Groups[g] = r
	}
	return l.settings.clone(), nil
}

// GroupByName finds a group by its name in any case.
func GroupByName(name string) (Group, bool) {
	for _, g := range Groups {
		if strings.EqualFold(string(g), name) {
			return g, true
		}
	}
	return "", false
}

// Allow counts one request of caller in group. caller names who is counted:
// an app and extension, or for Auth a client and user name or address.
func (l *Limiter) Allow(ctx context.Context, group Group, caller string) (Decision, error) {
	l.mu.RLock()
	rule, enforce := l.settings.Groups[group], l.settings.Enforce
	l.mu.RUnlock()
	now := l.clock.Now()
	windowStart := now.Truncate(rule.Window)
	h, err := l.store.RateLimitHit(ctx, string(group)+"|"+caller, windowStart, now, rule.Limit, rule.Window)
	if err != nil {
		return Decision{}, fmt.Errorf("rate limit %s: %w", group, err)
	}
	l.maybeSweep(now)
	d := Decision{Group: group, Limit: rule.Limit, Remaining: max(0, rule.Limit-h.Count), Window: rule.Window}
	if h.BlockedUntil.After(now) {
		d.Remaining, d.RetryAfter, d.Refused = 0, h.BlockedUntil.Sub(now), enforce
	}
	return d, nil
}

// maybeSweep forgets idle counters once a minute, in the background so no
// request waits for it.
func (l *Limiter) maybeSweep(now time.Time) {
	if now.UnixNano() < l.nextSweep.Load() || !l.sweeping.CompareAndSwap(false, true) {
		return
	}
	l.nextSweep.Store(now.Add(time.Minute).UnixNano())
	l.mu.RLock()
	longest := time.Duration(0)
	for _, r := range l.settings.Groups {
		longest = max(longest, r.Window)
	}
	l.mu.RUnlock()
	go func() {
		defer l.sweeping.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// A failed sweep is tried again at the next one; counters only
		// take room meanwhile.
		_ = l.store.SweepRateLimits(ctx, now.Add(-2*longest), now)
	}()
}
