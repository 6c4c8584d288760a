-- +goose Up
-- Fewer B-trees per stored message, for the writer's sake (issue 11):
--
-- message_parties is read only by message id (the correlated phoneNumber
-- probe of the list and the A2P list; EXPLAIN QUERY PLAN uses its primary
-- key), so it becomes one B-tree keyed by (message_id, phone_number): no
-- rowid table, no second index by number, no foreign-key probe per row
-- (removal deletes the rows explicitly, see RemovePurged).
--
-- A message whose only attachment is its text (SMS, pager) keeps that
-- attachment on its row: text_attachment_id (0: none; the id is taken
-- from the attachments' sequence, so ids stay unique across both places),
-- text_attachment_size, and the content is the subject, which such a
-- message repeats. Existing messages keep their attachments table rows;
-- both are read.
--
-- This rewrites message_parties (two rows per message) at start-up, holding
-- the write lock: 6 s for a database of 1,000,000 messages on a 2-core
-- machine (measured with `switchboard account list` on a copy).
CREATE TABLE message_parties_lean (
    message_id   INTEGER NOT NULL,
    phone_number TEXT    NOT NULL,
    extension_id INTEGER NOT NULL DEFAULT 0, -- no longer written (as on PostgreSQL, where
                                             -- nodes on the previous binary still write it)
    PRIMARY KEY (message_id, phone_number)
) WITHOUT ROWID;
INSERT INTO message_parties_lean (message_id, phone_number, extension_id)
    SELECT message_id, phone_number, extension_id FROM message_parties;
DROP TABLE message_parties;
ALTER TABLE message_parties_lean RENAME TO message_parties;

ALTER TABLE messages ADD COLUMN text_attachment_id   INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN text_attachment_size INTEGER NOT NULL DEFAULT 0;

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
-- Inline text attachments move back into attachments, under the same ids.
INSERT INTO attachments (id, message_id, type, content_type, size, content)
    SELECT text_attachment_id, id, 'Text', 'text/plain', text_attachment_size,
           CASE WHEN availability = 'Purged' THEN NULL ELSE CAST(subject AS BLOB) END
    FROM messages WHERE text_attachment_id <> 0;
ALTER TABLE messages DROP COLUMN text_attachment_size;
ALTER TABLE messages DROP COLUMN text_attachment_id;

CREATE TABLE message_parties_wide (
    message_id   INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    extension_id INTEGER NOT NULL,
    phone_number TEXT    NOT NULL,
    PRIMARY KEY (message_id, phone_number)
);
INSERT INTO message_parties_wide (message_id, extension_id, phone_number)
    SELECT p.message_id, m.extension_id, p.phone_number
    FROM message_parties p JOIN messages m ON m.id = p.message_id;
DROP TABLE message_parties;
ALTER TABLE message_parties_wide RENAME TO message_parties;
CREATE INDEX message_parties_number ON message_parties (extension_id, phone_number, message_id);
