-- +goose Up
-- Outbound fax rendering jobs: one row per fax waiting to be rendered,
-- written with the fax (Queued) and its deliveries in one transaction. The
-- deliveries are held (next_attempt_at is the largest integer) until the
-- job completes, which adds the RenderedDocument and makes them due at
-- send_at; a document that cannot be rendered fails them instead. Workers
-- claim jobs with a lease, fairly between senders (extension_id). A new
-- table only; nothing existing is rewritten.

CREATE TABLE fax_renders (
    message_id   INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    account_id   INTEGER NOT NULL,
    extension_id INTEGER NOT NULL, -- the sender: claims are fair between senders
    options      TEXT    NOT NULL, -- the renderer's settings (internal/fax RenderJob, JSON)
    send_at      INTEGER NOT NULL, -- when the deliveries become due once rendered
    attempts     INTEGER NOT NULL DEFAULT 0, -- claims so far
    lease_owner  TEXT    NOT NULL DEFAULT '',
    lease_until  INTEGER NOT NULL DEFAULT 0, -- 0: not leased
    created_at   INTEGER NOT NULL
);
CREATE INDEX fax_renders_due ON fax_renders (lease_until, created_at);
CREATE INDEX fax_renders_sender ON fax_renders (extension_id, lease_until);

-- One row the health check rewrites, after a write failed for lack of
-- space, to learn whether the database can be written again.
CREATE TABLE storage_probe (
    id   INTEGER PRIMARY KEY,
    data BLOB NOT NULL
);

-- +goose Down
DROP TABLE storage_probe;
DROP INDEX fax_renders_sender;
DROP INDEX fax_renders_due;
DROP TABLE fax_renders;
