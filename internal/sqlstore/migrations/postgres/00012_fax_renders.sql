-- +goose Up
-- Outbound fax rendering jobs (see the SQLite version of this migration):
-- one row per fax waiting to be rendered; its deliveries are held until
-- the job ends. Leased by workers, fairly between senders.

CREATE TABLE fax_renders (
    message_id   BIGINT  PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    account_id   BIGINT  NOT NULL,
    extension_id BIGINT  NOT NULL,
    options      TEXT    NOT NULL,
    send_at      BIGINT  NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    lease_owner  TEXT    NOT NULL DEFAULT '',
    lease_until  BIGINT  NOT NULL DEFAULT 0,
    created_at   BIGINT  NOT NULL
);
CREATE INDEX fax_renders_due ON fax_renders (lease_until, created_at);
CREATE INDEX fax_renders_sender ON fax_renders (extension_id, lease_until);

-- One row the health check rewrites, after a write failed for lack of
-- space, to learn whether the database can be written again.
CREATE TABLE storage_probe (
    id   INTEGER PRIMARY KEY,
    data BYTEA NOT NULL
);

-- +goose Down
DROP TABLE storage_probe;
DROP INDEX fax_renders_sender;
DROP INDEX fax_renders_due;
DROP TABLE fax_renders;
