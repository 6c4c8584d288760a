package switchboard

import (
	"sync"
	"time"
)

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns the current time.
func (SystemClock) Now() time.Time { return time.Now() }

// ManualClock is a clock that runs with real time but can be moved forward,
// for the emulator and for tests. The offset only grows, so time never runs
// backwards for the server; the emulator persists it (ClockStore) so a
// restart keeps the time a test moved to.
type ManualClock struct {
	mu     sync.Mutex
	base   func() time.Time
	offset time.Duration
}

// NewManualClock returns a ManualClock over base (time.Now when nil).
func NewManualClock(base func() time.Time) *ManualClock {
	if base == nil {
		base = time.Now
	}
	return &ManualClock{base: base}
}

// Now returns the base time plus every advance so far.
func (c *ManualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.base().Add(c.offset)
}

// Advance moves the clock forward by d (negative d is ignored) and returns
// the new now.
func (c *ManualClock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	if d > 0 {
		c.offset += d
	}
	c.mu.Unlock()
	return c.Now()
}

// Offset is how far the clock is ahead of its base.
func (c *ManualClock) Offset() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.offset
}

// SetOffset moves the clock to offset ahead of its base, if that is later
// than now (a restored offset).
func (c *ManualClock) SetOffset(offset time.Duration) {
	c.mu.Lock()
	c.offset = max(c.offset, offset)
	c.mu.Unlock()
}
