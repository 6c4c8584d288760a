-- +goose Up
-- Retention: per-account lifecycle overrides, a per-mailbox count of Alive
-- messages for the mailbox cap, indexes for the purge and remove steps, the
-- change-log horizon for message-sync, and an index to prune the log by age.
-- Scans messages once (GROUP BY) to fill mailbox_stats and builds three
-- indexes: on a large database this holds the write lock for a while at the
-- first start of this version.

-- An account's override of the server's policy: 0 means the server default;
-- mailbox_cap -1 lifts the cap.
ALTER TABLE accounts ADD COLUMN delete_period_ms BIGINT  NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN purge_period_ms BIGINT  NOT NULL DEFAULT 0;

-- The number of Alive messages of each mailbox, kept by every write that
-- changes it in the same transaction, so the cap never counts a mailbox.
CREATE TABLE mailbox_stats (
    extension_id BIGINT  PRIMARY KEY,
    account_id   BIGINT  NOT NULL,
    alive        BIGINT  NOT NULL
);
CREATE INDEX mailbox_stats_account ON mailbox_stats (account_id, alive);
INSERT INTO mailbox_stats (extension_id, account_id, alive)
    SELECT extension_id, account_id, COUNT(*) FROM messages
    WHERE availability = 'Alive'
    GROUP BY extension_id, account_id;

-- Retention works per account and oldest first: these partial indexes hold
-- only the rows each step looks at, in the order it takes them. Queries must
-- spell the availability as a literal for the planner to use them.
DROP INDEX messages_deleted;
CREATE INDEX messages_account_deleted ON messages (account_id, deleted_at) WHERE availability = 'Deleted';
CREATE INDEX messages_account_purged ON messages (account_id, purged_at) WHERE availability = 'Purged';

-- Pruning the change log deletes by age.
CREATE INDEX changes_at ON changes (at);

-- The highest change seq pruned so far: a sync position below it may have
-- lost changes and is refused. One row.
CREATE TABLE change_log_horizon (
    id         BIGINT  PRIMARY KEY CHECK (id = 1),
    pruned_seq BIGINT  NOT NULL
);
INSERT INTO change_log_horizon (id, pruned_seq) VALUES (1, 0);

-- +goose Down
DROP TABLE change_log_horizon;
DROP INDEX changes_at;
DROP INDEX messages_account_purged;
DROP INDEX messages_account_deleted;
CREATE INDEX messages_deleted ON messages (availability, deleted_at) WHERE availability <> 'Alive';
DROP TABLE mailbox_stats;
ALTER TABLE accounts DROP COLUMN purge_period_ms;
ALTER TABLE accounts DROP COLUMN delete_period_ms;
