-- +goose Up
-- Voicemail transcription jobs (see the SQLite version of this migration):
-- one row per voicemail waiting for its transcript, leased by workers.

CREATE TABLE transcriptions (
    message_id    BIGINT  PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    account_id    BIGINT  NOT NULL,
    extension_id  BIGINT  NOT NULL,
    attachment_id BIGINT  NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    lease_owner   TEXT    NOT NULL DEFAULT '',
    lease_until   BIGINT  NOT NULL DEFAULT 0,
    created_at    BIGINT  NOT NULL
);
CREATE INDEX transcriptions_due ON transcriptions (lease_until, created_at);

-- +goose Down
DROP INDEX transcriptions_due;
DROP TABLE transcriptions;
