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

-- +goose Down
ALTER TABLE accounts DROP COLUMN message_period_ms;
DROP TABLE emulator_clock;
ALTER TABLE subscriptions DROP COLUMN lifetime_seconds;
