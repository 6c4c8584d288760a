-- +goose Up
-- Rate-limit counters shared by the nodes of a cluster (internal/ratelimit):
-- one row per group and caller, its current window's count and the end of
-- its penalty; idle rows are swept. UNLOGGED: a request's count need not
-- survive a crash of the database, and a transaction that writes only
-- unlogged tables commits without waiting for a WAL flush (measured: 18 ms
-- a request logged, see docs/performance.md).
CREATE UNLOGGED TABLE rate_limits (
    key           TEXT    PRIMARY KEY, -- group|app|extension, or Auth|client|user name or address
    window_start  BIGINT NOT NULL,    -- ms
    hits          BIGINT NOT NULL,
    blocked_until BIGINT NOT NULL     -- ms; 0 or past: not blocked
);
CREATE INDEX rate_limits_window ON rate_limits (window_start);

-- Refresh tokens already rotated (SHA-256, as in tokens) and their session,
-- kept until they would have expired: one presented again means a copy was
-- stolen, and the whole session is revoked (RFC 6819 5.2.2.3).
CREATE TABLE rotated_tokens (
    hash       TEXT    PRIMARY KEY,
    session_id TEXT    NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX rotated_tokens_expires ON rotated_tokens (expires_at);

-- +goose Down
DROP TABLE rotated_tokens;
DROP TABLE rate_limits;
