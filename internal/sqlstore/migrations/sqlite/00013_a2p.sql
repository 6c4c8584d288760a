-- +goose Up
-- High-volume (A2P) SMS: a batch is stored whole (its row and one row per
-- recipient) before the API answers; a worker expands it into the outbox in
-- chunks. Each chunk's messages carry (a2p_batch_id, a2p_index), unique, and
-- the batch's `expanded` cursor moves in the same transaction, so a crash
-- mid-expansion resumes after the last committed chunk without duplicates.

CREATE TABLE a2p_batches (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id    INTEGER NOT NULL,
    extension_id  INTEGER NOT NULL, -- the sender's mailbox, where its messages are stored
    from_number   TEXT    NOT NULL,
    sender_name   TEXT    NOT NULL DEFAULT '',
    text          TEXT    NOT NULL DEFAULT '', -- the default text of its messages
    batch_size    INTEGER NOT NULL, -- accepted messages
    expanded      INTEGER NOT NULL DEFAULT 0, -- items 0..expanded-1 are in the outbox
    status        TEXT    NOT NULL, -- Processing | Completed
    lease_owner   TEXT    NOT NULL DEFAULT '',
    lease_until   INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    modified_at   INTEGER NOT NULL
);
CREATE INDEX a2p_batches_account ON a2p_batches (account_id, id);
CREATE INDEX a2p_batches_open ON a2p_batches (status) WHERE status <> 'Completed';
INSERT INTO sqlite_sequence (name, seq) VALUES ('a2p_batches', 900000000);

-- The recipients of a batch not yet expanded; removed as they are.
CREATE TABLE a2p_batch_items (
    batch_id  INTEGER NOT NULL REFERENCES a2p_batches(id) ON DELETE CASCADE,
    idx       INTEGER NOT NULL,
    recipient TEXT    NOT NULL,
    text      TEXT, -- NULL: the batch's text
    PRIMARY KEY (batch_id, idx)
);

ALTER TABLE messages ADD COLUMN a2p_batch_id INTEGER;
ALTER TABLE messages ADD COLUMN a2p_index INTEGER;
CREATE UNIQUE INDEX messages_a2p ON messages (a2p_batch_id, a2p_index) WHERE a2p_batch_id IS NOT NULL;
-- Listing an account's A2P messages, and "is anything of the batch still Queued".
CREATE INDEX messages_a2p_account ON messages (account_id, id) WHERE a2p_batch_id IS NOT NULL;
CREATE INDEX messages_a2p_status ON messages (a2p_batch_id, message_status) WHERE a2p_batch_id IS NOT NULL;

-- Opt-outs per (sender number, recipient): the latest word of either wins.
CREATE TABLE a2p_opt_outs (
    from_number TEXT    NOT NULL,
    to_number   TEXT    NOT NULL,
    account_id  INTEGER NOT NULL,
    status      TEXT    NOT NULL, -- OptOut | OptIn
    source      TEXT    NOT NULL, -- Recipient | Account
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (from_number, to_number)
);
CREATE INDEX a2p_opt_outs_account ON a2p_opt_outs (account_id, from_number, to_number);

-- +goose Down
DROP TABLE a2p_opt_outs;
DROP INDEX messages_a2p_status;
DROP INDEX messages_a2p_account;
DROP INDEX messages_a2p;
ALTER TABLE messages DROP COLUMN a2p_index;
ALTER TABLE messages DROP COLUMN a2p_batch_id;
DROP TABLE a2p_batch_items;
DROP TABLE a2p_batches;
DELETE FROM sqlite_sequence WHERE name = 'a2p_batches';
