-- +goose Up
-- Voicemail transcription jobs: one row per voicemail waiting for its
-- transcript, written with the voicemail in one transaction and claimed by
-- workers with a lease (as deliveries are), so a restart resumes them and
-- two nodes never run one at once. The row is removed when the job ends;
-- the outcome lives on the message (vm_transcription) and its attachments.
-- A new table only; nothing existing is rewritten.

CREATE TABLE transcriptions (
    message_id    INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    account_id    INTEGER NOT NULL,
    extension_id  INTEGER NOT NULL,
    attachment_id INTEGER NOT NULL, -- the AudioRecording
    attempts      INTEGER NOT NULL DEFAULT 0, -- claims so far
    lease_owner   TEXT    NOT NULL DEFAULT '',
    lease_until   INTEGER NOT NULL DEFAULT 0, -- 0: not leased
    created_at    INTEGER NOT NULL
);
CREATE INDEX transcriptions_due ON transcriptions (lease_until, created_at);

-- +goose Down
DROP INDEX transcriptions_due;
DROP TABLE transcriptions;
