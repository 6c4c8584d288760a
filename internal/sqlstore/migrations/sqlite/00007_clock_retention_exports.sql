-- +goose Up
-- The lifetime (expiresIn) a subscription was created or last updated with:
-- a renewal extends it by its own lifetime, not the default. Existing rows
-- take the lifetime they were created with.
ALTER TABLE subscriptions ADD COLUMN lifetime_seconds INTEGER NOT NULL DEFAULT 0;
UPDATE subscriptions SET lifetime_seconds = (expires_at - created_at) / 1000;

-- The emulator clock's offset from real time (one row per installation), so
-- a restart keeps the time a test moved to.
CREATE TABLE emulator_clock (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    offset_ms INTEGER NOT NULL
);

-- An account's message store retentionPeriod (RingCentral's
-- message-store-configuration): Fax and VoiceMail messages older than this
-- are deleted. 0: no limit.
ALTER TABLE accounts ADD COLUMN message_period_ms INTEGER NOT NULL DEFAULT 0;

-- Message store exports (RingCentral's message-store-report): the task,
-- leased by one worker at a time, and its zip archive in chunks.
CREATE TABLE export_tasks (
    id           TEXT    PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts (id),
    extension_id INTEGER NOT NULL,
    extensions   TEXT    NOT NULL DEFAULT '', -- ids, space-separated; '': every mailbox
    status       TEXT    NOT NULL,
    date_from    INTEGER NOT NULL,
    date_to      INTEGER NOT NULL,
    types        TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    started_at   INTEGER NOT NULL DEFAULT 0,
    finished_at  INTEGER NOT NULL DEFAULT 0,
    attempts     INTEGER NOT NULL DEFAULT 0,
    size         INTEGER NOT NULL DEFAULT 0,
    error        TEXT    NOT NULL DEFAULT '',
    lease_owner  TEXT    NOT NULL DEFAULT '',
    lease_until  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX export_tasks_due ON export_tasks (status, lease_until);
CREATE INDEX export_tasks_account ON export_tasks (account_id, status);
CREATE TABLE export_chunks (
    task_id TEXT    NOT NULL REFERENCES export_tasks (id),
    seq     INTEGER NOT NULL,
    data    BLOB    NOT NULL,
    PRIMARY KEY (task_id, seq)
);

-- +goose Down
DROP TABLE export_chunks;
DROP TABLE export_tasks;
ALTER TABLE accounts DROP COLUMN message_period_ms;
DROP TABLE emulator_clock;
ALTER TABLE subscriptions DROP COLUMN lifetime_seconds;
