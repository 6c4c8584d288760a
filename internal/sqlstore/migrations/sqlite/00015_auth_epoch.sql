-- +goose Up
-- A counter every write that can end or change what a token acts as
-- (revoking a session, rotating a refresh token, the status of an account,
-- extension, app or admin token) increments in its own transaction. Each
-- process caches authenticated tokens and uses a cached answer only while
-- the epoch it was read under is still the stored one, so a revocation by
-- any process or node is seen by the next request (authcache.go). No row
-- until the first such write: the epoch is then 0.
CREATE TABLE auth_epoch (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    epoch INTEGER NOT NULL
);

-- +goose Down
DROP TABLE auth_epoch;
