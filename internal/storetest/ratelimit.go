package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/ratelimit"
)

// testRateLimits holds the shared counter of internal/ratelimit to the
// in-memory one's contract, under concurrent requests from many callers (as
// from several nodes).
func testRateLimits(t *testing.T, e *env) {
	s, ok := e.store.(ratelimit.Store)
	if !ok {
		t.Skip("the store keeps no rate-limit counters")
	}
	window := Base.Truncate(time.Minute)
	hit := func(key string, now time.Time, limit int) ratelimit.Hit {
		t.Helper()
		return must(s.RateLimitHit(e.ctx, key, now.Truncate(time.Minute), now, limit, time.Minute))(t)
	}
	for i := 1; i <= 3; i++ {
		if h := hit("Heavy|a", Base, 3); h.Count != i || !h.BlockedUntil.IsZero() {
			t.Fatalf("hit %d: %+v; want count %d, not blocked", i, h, i)
		}
	}
	if h := hit("Heavy|a", Base, 3); h.Count != 4 || !h.BlockedUntil.Equal(Base.Add(time.Minute)) {
		t.Fatalf("past the limit: %+v; want blocked until %s", h, Base.Add(time.Minute))
	}
	if h := hit("Heavy|b", Base, 3); h.Count != 1 || !h.BlockedUntil.IsZero() {
		t.Fatalf("another key: %+v", h)
	}
	// A new window resets the count but a blocked key stays blocked, and
	// each refused request restarts the penalty.
	if h := hit("Heavy|a", Base.Add(30*time.Second), 3); h.Count != 5 || !h.BlockedUntil.Equal(Base.Add(90*time.Second)) {
		t.Fatalf("refused again: %+v; want the penalty restarted", h)
	}
	later := window.Add(time.Minute + 5*time.Second)
	if h := hit("Heavy|a", later, 3); h.Count != 1 || !h.BlockedUntil.Equal(later.Add(time.Minute)) {
		t.Fatalf("blocked key in a new window: %+v; want count 1, blocked until %s", h, later.Add(time.Minute))
	}
	free := later.Add(2 * time.Minute)
	if h := hit("Heavy|a", free, 3); h.Count != 1 || h.BlockedUntil.After(free) {
		t.Fatalf("after the penalty: %+v; want count 1, not blocked", h)
	}

	t.Run("concurrent hits are each counted once", func(t *testing.T) {
		const n, limit = 40, 25
		counts := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				h, err := s.RateLimitHit(e.ctx, "Medium|shared", window, Base, limit, time.Minute)
				if err != nil {
					t.Error(err)
					return
				}
				counts[i] = h.Count
			})
		}
		wg.Wait()
		seen := map[int]bool{}
		for _, c := range counts {
			if c < 1 || c > n || seen[c] {
				t.Fatalf("counts %v: want each of 1..%d once", counts, n)
			}
			seen[c] = true
		}
	})

	t.Run("sweep", func(t *testing.T) {
		noErr(t, s.SweepRateLimits(e.ctx, free.Add(-time.Minute), free.Add(time.Hour)))
		if h := hit("Heavy|b", free.Add(time.Hour), 3); h.Count != 1 {
			t.Fatalf("a swept counter counts on from %d", h.Count-1)
		}
	})
}

// testRotatedSession: a rotated refresh token is remembered, with its
// session, until it would have expired.
func testRotatedSession(t *testing.T, e *env) {
	s := e.store
	a, r := e.tokenPair("rot0", "family", Base)
	noErr(t, s.CreateTokens(e.ctx, a, r))
	_, err := s.RotatedSession(e.ctx, r.Hash, Base)
	wantIs(t, err, switchboard.ErrNotFound, "a live refresh token")
	na, nr := e.tokenPair("rot1", "family", Base)
	noErr(t, s.RotateRefreshToken(e.ctx, r.Hash, Base, na, nr))
	if got := must(s.RotatedSession(e.ctx, r.Hash, Base.Add(time.Hour)))(t); got != "family" {
		t.Fatalf("rotated token's session %q, want family", got)
	}
	_, err = s.RotatedSession(e.ctx, r.Hash, r.Expires)
	wantIs(t, err, switchboard.ErrNotFound, "a rotated token past its expiry")
	must(s.DeleteExpiredTokens(e.ctx, r.Expires.Add(time.Second)))(t)
	_, err = s.RotatedSession(e.ctx, r.Hash, Base)
	wantIs(t, err, switchboard.ErrNotFound, "a rotated token after DeleteExpiredTokens")
}
