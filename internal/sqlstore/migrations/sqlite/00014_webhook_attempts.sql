-- +goose Up
-- The most recent POSTs to each WebHook subscription's address and what the
-- receiver answered, for the admin console. The dispatcher trims each
-- subscription's rows to the configured count as it records a round.
CREATE TABLE webhook_attempts (
    id              INTEGER PRIMARY KEY,
    subscription_id TEXT    NOT NULL,
    attempted_at    INTEGER NOT NULL,
    event_id        TEXT    NOT NULL, -- the notification's uuid
    event           TEXT    NOT NULL, -- its event filter
    status          INTEGER NOT NULL DEFAULT 0, -- the receiver's HTTP status; 0: no answer
    error           TEXT    NOT NULL DEFAULT '', -- '' on success
    duration_ms     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX webhook_attempts_subscription ON webhook_attempts (subscription_id, id);

-- +goose Down
DROP TABLE webhook_attempts;
