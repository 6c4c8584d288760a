-- +goose Up
-- Push notification subscriptions (WebHook and WebSocket). New tables only.
-- Each subscription keeps its own position in the change log (cursor): it
-- moves only after the events up to it were delivered, so a restart
-- delivers again from there instead of losing events.

CREATE TABLE subscriptions (
    id                 TEXT    PRIMARY KEY, -- UUID, as RingCentral shows it
    account_id         INTEGER NOT NULL,
    extension_id       INTEGER NOT NULL,
    app_id             INTEGER NOT NULL,
    session_id         TEXT    NOT NULL DEFAULT '', -- WebSocket session (wsc token); '' for WebHooks
    event_filters      TEXT    NOT NULL, -- JSON array, ~ resolved
    transport          TEXT    NOT NULL, -- WebHook | WebSocket
    address            TEXT    NOT NULL DEFAULT '',
    verification_token TEXT    NOT NULL DEFAULT '',
    status             TEXT    NOT NULL, -- Active | Blacklisted
    created_at         INTEGER NOT NULL,
    expires_at         INTEGER NOT NULL,
    change_cursor      INTEGER NOT NULL DEFAULT 0, -- changes.seq delivered up to
    attempts           INTEGER NOT NULL DEFAULT 0, -- failed WebHook deliveries in a row
    next_attempt_at    INTEGER NOT NULL DEFAULT 0,
    failing_since      INTEGER NOT NULL DEFAULT 0, -- 0: not failing
    last_error         TEXT    NOT NULL DEFAULT '',
    blacklisted_at     INTEGER NOT NULL DEFAULT 0,
    lease_owner        TEXT    NOT NULL DEFAULT '', -- the node dispatching it now
    lease_until        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX subscriptions_owner ON subscriptions (extension_id, app_id, created_at);
-- Dispatchers look for due WebHooks; queries spell the literals so the
-- planner can use this partial index.
CREATE INDEX subscriptions_due ON subscriptions (next_attempt_at) WHERE transport = 'WebHook' AND status = 'Active';
CREATE INDEX subscriptions_session ON subscriptions (session_id) WHERE session_id <> '';
CREATE INDEX subscriptions_expires ON subscriptions (expires_at);

-- The mailboxes a subscription's filters watch, so "has it anything new"
-- is an index probe of changes (extension_id, seq) per mailbox.
CREATE TABLE subscription_mailboxes (
    subscription_id TEXT    NOT NULL REFERENCES subscriptions(id) ON DELETE CASCADE,
    account_id      INTEGER NOT NULL,
    extension_id    INTEGER NOT NULL,
    PRIMARY KEY (subscription_id, extension_id)
);

-- +goose Down
DROP TABLE subscription_mailboxes;
DROP INDEX subscriptions_expires;
DROP INDEX subscriptions_session;
DROP INDEX subscriptions_due;
DROP INDEX subscriptions_owner;
DROP TABLE subscriptions;
