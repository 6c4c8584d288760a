-- +goose Up
-- Times are INTEGER Unix milliseconds (UTC): portable to PostgreSQL BIGINT,
-- compact, and ordered the way the API sorts.

CREATE TABLE accounts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT    NOT NULL,
    main_number  TEXT    UNIQUE,
    status       TEXT    NOT NULL DEFAULT 'Enabled',
    mailbox_cap  INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL
);

CREATE TABLE extensions (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id       INTEGER NOT NULL REFERENCES accounts(id),
    extension_number TEXT    NOT NULL,
    name             TEXT    NOT NULL,
    type             TEXT    NOT NULL,
    status           TEXT    NOT NULL DEFAULT 'Enabled',
    email            TEXT    UNIQUE,
    password_hash    TEXT    NOT NULL DEFAULT '',
    admin            INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    UNIQUE (account_id, extension_number)
);

-- Members of Department extensions (company pager fan-out).
CREATE TABLE department_members (
    department_id INTEGER NOT NULL REFERENCES extensions(id),
    extension_id  INTEGER NOT NULL REFERENCES extensions(id),
    PRIMARY KEY (department_id, extension_id)
);

CREATE TABLE phone_numbers (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id   INTEGER NOT NULL REFERENCES accounts(id),
    extension_id INTEGER REFERENCES extensions(id),
    phone_number TEXT    NOT NULL UNIQUE,
    type         TEXT    NOT NULL,
    usage_type   TEXT    NOT NULL,
    features     TEXT    NOT NULL DEFAULT '', -- space-separated
    status       TEXT    NOT NULL DEFAULT 'Normal',
    created_at   INTEGER NOT NULL
);
CREATE INDEX phone_numbers_extension ON phone_numbers (account_id, extension_id);

CREATE TABLE apps (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    client_id   TEXT    NOT NULL UNIQUE,
    secret_hash TEXT    NOT NULL DEFAULT '',
    name        TEXT    NOT NULL,
    scopes      TEXT    NOT NULL DEFAULT '', -- space-separated
    status      TEXT    NOT NULL DEFAULT 'Enabled',
    created_at  INTEGER NOT NULL
);

CREATE TABLE jwt_credentials (
    id           TEXT    PRIMARY KEY, -- the jti claim of the JWT
    account_id   INTEGER NOT NULL REFERENCES accounts(id),
    extension_id INTEGER NOT NULL REFERENCES extensions(id),
    name         TEXT    NOT NULL,
    status       TEXT    NOT NULL DEFAULT 'Enabled',
    expires_at   INTEGER NOT NULL DEFAULT 0, -- 0: never
    created_at   INTEGER NOT NULL
);
CREATE INDEX jwt_credentials_account ON jwt_credentials (account_id);

CREATE TABLE admin_tokens (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT    NOT NULL,
    hash       TEXT    NOT NULL UNIQUE,
    status     TEXT    NOT NULL DEFAULT 'Enabled',
    created_at INTEGER NOT NULL
);

-- Server-wide secrets (the JWT signing key), created on first use.
CREATE TABLE secrets (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
);

CREATE TABLE tokens (
    hash         TEXT    PRIMARY KEY, -- hex SHA-256 of the token text
    kind         TEXT    NOT NULL,    -- access | refresh
    session_id   TEXT    NOT NULL,
    account_id   INTEGER NOT NULL,
    extension_id INTEGER NOT NULL,
    app_id       INTEGER NOT NULL,
    scopes       TEXT    NOT NULL,
    endpoint_id  TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX tokens_session ON tokens (session_id);
CREATE INDEX tokens_expires ON tokens (expires_at);

CREATE TABLE messages (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id           INTEGER NOT NULL,
    extension_id         INTEGER NOT NULL, -- the mailbox owner
    type                 TEXT    NOT NULL,
    direction            TEXT    NOT NULL,
    availability         TEXT    NOT NULL,
    message_status       TEXT    NOT NULL,
    read_status          TEXT    NOT NULL,
    priority             TEXT    NOT NULL,
    subject              TEXT    NOT NULL DEFAULT '',
    from_party           TEXT    NOT NULL DEFAULT '{}', -- JSON Party
    to_parties           TEXT    NOT NULL DEFAULT '[]', -- JSON []Party
    conversation_id      INTEGER NOT NULL DEFAULT 0,
    created_at           INTEGER NOT NULL,
    modified_at          INTEGER NOT NULL,
    deleted_at           INTEGER NOT NULL DEFAULT 0, -- when it became Deleted
    purged_at            INTEGER NOT NULL DEFAULT 0, -- when it became Purged
    delivery_error_code  TEXT    NOT NULL DEFAULT '',
    segment_count        INTEGER NOT NULL DEFAULT 0,
    sms_delivery_time    INTEGER NOT NULL DEFAULT 0,
    sms_sending_attempts INTEGER NOT NULL DEFAULT 0,
    fax_page_count       INTEGER NOT NULL DEFAULT 0,
    fax_resolution       TEXT    NOT NULL DEFAULT '',
    cover_index          INTEGER NOT NULL DEFAULT 0,
    cover_page_text      TEXT    NOT NULL DEFAULT '',
    vm_transcription     TEXT    NOT NULL DEFAULT '',
    pg_to_department     INTEGER NOT NULL DEFAULT 0
);
-- The list query walks a mailbox newest first; the filter columns ride in
-- the index so rows that do not match are skipped without reading them.
-- account_id is last: every query is scoped by it as well, and without it
-- in the index each row walked would be read just to check the tenant.
CREATE INDEX messages_mailbox_time ON messages
    (extension_id, created_at, id, availability, type, direction, read_status, account_id);
CREATE INDEX messages_mailbox_conversation ON messages
    (extension_id, conversation_id, created_at);
-- Retention finds Deleted and Purged messages by age.
CREATE INDEX messages_deleted ON messages (availability, deleted_at) WHERE availability <> 'Alive';

-- Every phone number taking part in a message, for the phoneNumber filter.
CREATE TABLE message_parties (
    message_id   INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    extension_id INTEGER NOT NULL,
    phone_number TEXT    NOT NULL,
    PRIMARY KEY (message_id, phone_number)
);
CREATE INDEX message_parties_number ON message_parties (extension_id, phone_number, message_id);

-- Attachment bytes live with their message, written in the same
-- transaction. Purging sets content to NULL (secure_delete overwrites the
-- freed pages).
CREATE TABLE attachments (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id   INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    type         TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    file_name    TEXT    NOT NULL DEFAULT '',
    size         INTEGER NOT NULL DEFAULT 0,
    vm_duration  INTEGER NOT NULL DEFAULT 0,
    height       INTEGER NOT NULL DEFAULT 0,
    width        INTEGER NOT NULL DEFAULT 0,
    content      BLOB
);
CREATE INDEX attachments_message ON attachments (message_id);

-- The per-mailbox change log: one row per change of a message, written in
-- the same transaction as the change. message-sync tokens and notification
-- cursors are positions (seq) in it.
CREATE TABLE changes (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id   INTEGER NOT NULL,
    extension_id INTEGER NOT NULL,
    message_id   INTEGER NOT NULL,
    kind         TEXT    NOT NULL, -- created | updated | removed
    type         TEXT    NOT NULL,
    direction    TEXT    NOT NULL,
    at           INTEGER NOT NULL
);
CREATE INDEX changes_mailbox ON changes (extension_id, seq);

-- Each table's ids start in a range of their own, so an account id, an
-- extension id, a message id and an attachment id are never equal: a mix-up
-- of two of them in code or a URL fails loudly instead of working by chance.
INSERT INTO sqlite_sequence (name, seq) VALUES ('accounts', 100000000);
INSERT INTO sqlite_sequence (name, seq) VALUES ('extensions', 200000000);
INSERT INTO sqlite_sequence (name, seq) VALUES ('phone_numbers', 300000000);
INSERT INTO sqlite_sequence (name, seq) VALUES ('apps', 400000000);
INSERT INTO sqlite_sequence (name, seq) VALUES ('admin_tokens', 500000000);
INSERT INTO sqlite_sequence (name, seq) VALUES ('messages', 600000000);
INSERT INTO sqlite_sequence (name, seq) VALUES ('attachments', 700000000);

-- +goose Down
DROP TABLE changes;
DROP TABLE attachments;
DROP TABLE message_parties;
DROP TABLE messages;
DROP TABLE tokens;
DROP TABLE secrets;
DROP TABLE admin_tokens;
DROP TABLE jwt_credentials;
DROP TABLE apps;
DROP TABLE phone_numbers;
DROP TABLE department_members;
DROP TABLE extensions;
DROP TABLE accounts;
