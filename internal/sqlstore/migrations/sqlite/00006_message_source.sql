-- +goose Up
-- The sender's id of an inbound message (a carrier's message id, an email's
-- Message-ID): a mailbox stores a message handed over again only once.
ALTER TABLE messages ADD COLUMN source_id TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX messages_source ON messages (extension_id, source_id) WHERE source_id <> '';

-- +goose Down
DROP INDEX messages_source;
ALTER TABLE messages DROP COLUMN source_id;
