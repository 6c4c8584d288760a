package ratelimit

import (
	"context"
	"sync"
	"time"
)

// Memory keeps the counters of one node.
type Memory struct {
	mu      sync.Mutex
	entries map[string]*memEntry
}

type memEntry struct {
	windowStart  time.Time
	count        int
	blockedUntil time.Time
}

// NewMemory returns an empty in-memory Store.
func NewMemory() *Memory { return &Memory{entries: map[string]*memEntry{}} }

// RateLimitHit implements Store.
func (m *Memory) RateLimitHit(_ context.Context, key string, windowStart, now time.Time, limit int, penalty time.Duration) (Hit, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.entries[key]
	if e == nil {
		e = &memEntry{windowStart: windowStart}
		m.entries[key] = e
	}
	if !e.windowStart.Equal(windowStart) {
		e.windowStart, e.count = windowStart, 0
	}
	e.count++
	if e.blockedUntil.After(now) || e.count > limit {
		e.blockedUntil = now.Add(penalty)
	}
	return Hit{Count: e.count, BlockedUntil: e.blockedUntil}, nil
}

// SweepRateLimits implements Store.
func (m *Memory) SweepRateLimits(_ context.Context, staleBefore, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, e := range m.entries {
		if e.windowStart.Before(staleBefore) && !e.blockedUntil.After(now) {
			delete(m.entries, k)
		}
	}
	return nil
}

// Len is how many counters are kept (for tests and the overload benchmark).
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}
