-- +goose Up
-- The outbox: one row per recipient of an outbound message, written with the
-- message in one transaction and claimed by delivery workers with a lease.
-- New tables only; nothing existing is rewritten.

CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id      INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE, -- the sender's copy
    account_id      INTEGER NOT NULL,
    extension_id    INTEGER NOT NULL,
    type            TEXT    NOT NULL,
    recipient       TEXT    NOT NULL, -- E.164 number, or the extension number for Pager
    internal        INTEGER NOT NULL DEFAULT 0,
    state           TEXT    NOT NULL, -- Pending | Submitted | Done | Failed
    attempts        INTEGER NOT NULL DEFAULT 0, -- tries that failed temporarily (Reschedule)
    next_attempt_at INTEGER NOT NULL, -- when a Pending delivery is due
    lease_owner     TEXT    NOT NULL DEFAULT '',
    lease_until     INTEGER NOT NULL DEFAULT 0, -- 0: not leased
    carrier_id      TEXT    NOT NULL DEFAULT '',
    error_code      TEXT    NOT NULL DEFAULT '',
    -- When the carrier's delivery report came (either outcome); 0: none.
    -- A Failed delivery with receipt_at <> 0 failed after the carrier had
    -- accepted it: for SMS that is DeliveryFailed rather than SendingFailed.
    receipt_at      INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (message_id, recipient) -- also the receipts' lookup
);
-- Workers claim due Pending deliveries oldest first. Queries must spell the
-- state as a literal for the planner to use these partial indexes.
CREATE INDEX deliveries_pending ON deliveries (next_attempt_at) WHERE state = 'Pending';
-- Deliveries waiting for a receipt, resubmitted after a restart.
CREATE INDEX deliveries_submitted ON deliveries (state) WHERE state = 'Submitted';

INSERT INTO sqlite_sequence (name, seq) VALUES ('deliveries', 800000000);

-- +goose Down
DROP INDEX deliveries_submitted;
DROP INDEX deliveries_pending;
DROP TABLE deliveries;
DELETE FROM sqlite_sequence WHERE name = 'deliveries';
