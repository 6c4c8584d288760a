-- +goose Up
-- Fewer index entries per stored message (issue 11; the SQLite file of
-- this number says why): message_parties is read only by message id, through
-- its primary key, so its index by number and its foreign key (a probe and
-- a row lock on the message per party) go; removal deletes its rows
-- explicitly. A message whose only attachment is its text keeps that
-- attachment on its row (id from the attachments' sequence, content = subject).
-- extension_id stays, unwritten (its default), for nodes still on the
-- previous binary during a rolling upgrade, which insert it.
DROP INDEX message_parties_number;
ALTER TABLE message_parties DROP CONSTRAINT message_parties_message_id_fkey;
ALTER TABLE message_parties ALTER COLUMN extension_id SET DEFAULT 0;
ALTER TABLE messages ADD COLUMN text_attachment_id BIGINT NOT NULL DEFAULT 0,
                     ADD COLUMN text_attachment_size BIGINT NOT NULL DEFAULT 0;

-- The claim of due internal deliveries (DeliverDueInternal) walked every
-- due delivery to the carrier to find its few rows: the whole backlog, in
-- the writer, at each poll while a large A2P batch waits for the carrier.
-- (internal leads, though constant, so that SQLite's planner, which has no
-- statistics, prefers this index for an equality over deliveries_pending.)
CREATE INDEX deliveries_pending_internal ON deliveries (internal, next_attempt_at, id) WHERE state = 'Pending' AND internal = 1;
-- A2P statuses (counts by status and error code) read from the index alone.
DROP INDEX messages_a2p_status;
CREATE INDEX messages_a2p_status ON messages (a2p_batch_id, message_status, delivery_error_code, account_id) WHERE a2p_batch_id IS NOT NULL;

-- +goose Down
DROP INDEX messages_a2p_status;
CREATE INDEX messages_a2p_status ON messages (a2p_batch_id, message_status) WHERE a2p_batch_id IS NOT NULL;
DROP INDEX deliveries_pending_internal;
INSERT INTO attachments (id, message_id, type, content_type, size, content)
    SELECT text_attachment_id, id, 'Text', 'text/plain', text_attachment_size,
           CASE WHEN availability = 'Purged' THEN NULL ELSE convert_to(subject, 'UTF8') END
    FROM messages WHERE text_attachment_id <> 0;
ALTER TABLE messages DROP COLUMN text_attachment_size, DROP COLUMN text_attachment_id;
UPDATE message_parties p SET extension_id = m.extension_id FROM messages m
    WHERE m.id = p.message_id AND p.extension_id = 0;
ALTER TABLE message_parties ALTER COLUMN extension_id DROP DEFAULT;
ALTER TABLE message_parties ADD CONSTRAINT message_parties_message_id_fkey
    FOREIGN KEY (message_id) REFERENCES messages(id) ON DELETE CASCADE;
CREATE INDEX message_parties_number ON message_parties (extension_id, phone_number, message_id);
