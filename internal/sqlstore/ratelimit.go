package sqlstore

import (
	"context"
	"time"

	"github.com/switchboardhq/switchboard/internal/ratelimit"
)

// RateLimitHit counts one request in the shared counter of key
// (ratelimit.Store). It is one statement, outside any transaction: the
// upsert's row lock orders concurrent requests from every node, and a
// request costs one round trip.
func (db *DB) RateLimitHit(ctx context.Context, key string, windowStart, now time.Time, limit int, penalty time.Duration) (ratelimit.Hit, error) {
	var hits int
	var blocked int64
	// The SET expressions see the row as it was, so the new count is
	// written out where the block decision needs it.
	err := db.writer.QueryRowContext(ctx, `
		INSERT INTO rate_limits (key, window_start, hits, blocked_until)
		VALUES ($1, $2, 1, CASE WHEN 1 > $4 THEN CAST($5 AS BIGINT) ELSE 0 END)
		ON CONFLICT (key) DO UPDATE SET
			hits = CASE WHEN rate_limits.window_start = excluded.window_start THEN rate_limits.hits + 1 ELSE 1 END,
			window_start = excluded.window_start,
			blocked_until = CASE
				WHEN rate_limits.blocked_until > CAST($3 AS BIGINT)
				  OR (CASE WHEN rate_limits.window_start = excluded.window_start THEN rate_limits.hits + 1 ELSE 1 END) > $4
				THEN CAST($5 AS BIGINT) ELSE rate_limits.blocked_until END
		RETURNING hits, blocked_until`,
		key, toMillis(windowStart), toMillis(now), limit, toMillis(now.Add(penalty))).Scan(&hits, &blocked)
	if err != nil {
		return ratelimit.Hit{}, db.wrap(err, "count request for rate limit")
	}
	h := ratelimit.Hit{Count: hits}
	if blocked > 0 {
		h.BlockedUntil = fromMillis(blocked)
	}
	return h, nil
}

// SweepRateLimits removes idle counters (ratelimit.Store).
func (db *DB) SweepRateLimits(ctx context.Context, staleBefore, now time.Time) error {
	_, err := db.writer.ExecContext(ctx, `DELETE FROM rate_limits WHERE window_start < $1 AND blocked_until < $2`,
		toMillis(staleBefore), toMillis(now))
	return db.wrap(err, "sweep rate limits")
}

var _ ratelimit.Store = (*DB)(nil)
