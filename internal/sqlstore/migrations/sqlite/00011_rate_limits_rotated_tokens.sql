-- +goose Up
-- Rate-limit counters shared by the nodes of a cluster (internal/ratelimit):
-- one row per group and caller, its current window's count and the end of
-- its penalty; idle rows are swept.
CREATE TABLE rate_limits (
    key           TEXT    PRIMARY KEY, -- group|app|extension, or Auth|client|user name or address
    window_start  INTEGER NOT NULL,    -- ms
    hits          INTEGER NOT NULL,
    blocked_until INTEGER NOT NULL     -- ms; 0 or past: not blocked
);
CREATE INDEX rate_limits_window ON rate_limits (window_start);

-- Refresh tokens already rotated (SHA-256, as in tokens) and their session,
-- kept until they would have expired: one presented again means a copy was
-- stolen, and the whole session is revoked (RFC 6819 5.2.2.3).
CREATE TABLE rotated_tokens (
    hash       TEXT    PRIMARY KEY,
    session_id TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX rotated_tokens_expires ON rotated_tokens (expires_at);

-- +goose Down
DROP TABLE rotated_tokens;
DROP TABLE rate_limits;
