-- +goose Up
-- The directory's epoch: one row, incremented in the same transaction as
-- every change of what the hot paths look up and cache per process: a
-- token ending (revoked, rotated, expired and swept), the status of an
-- account, an app or an admin token, any change of an extension, a phone
-- number or a department's members. Triggers make the change, so every
-- writer counts, whatever process (the CLI beside a SQLite server) or node
-- (PostgreSQL) it is. A cache answers only while the epoch it read with a
-- request is the one its answer was read under (sqlstore's authcache.go,
-- internal/dircache), so a change is seen by the next request everywhere.
-- Creating a token changes nothing a cache holds: no trigger.
CREATE TABLE directory_epoch (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    epoch INTEGER NOT NULL
);
INSERT INTO directory_epoch (id, epoch) VALUES (1, 0);

-- +goose StatementBegin
CREATE TRIGGER accounts_update_epoch AFTER UPDATE ON accounts
BEGIN UPDATE directory_epoch SET epoch = epoch + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER accounts_delete_epoch AFTER DELETE ON accounts
BEGIN UPDATE directory_epoch SET epoch = epoch + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER extensions_insert_epoch AFTER INSERT ON extensions
BEGIN UPDATE directory_epoch SET epoch = epoch + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER extensions_update_epoch AFTER UPDATE ON extensions
BEGIN UPDATE directory_epoch SET epoch = epoch + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER extensions_delete_epoch AFTER DELETE ON extensions
BEGIN UPDATE directory_epoch SET epoch = epoch + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER phone_numbers_insert_epoch AFTER INSERT ON phone_numbers
BEGIN UPDATE directory_epoch SET epoch = epoch + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER phone_numbers_update_epoch AFTER UPDATE ON phone_numbers
BEGIN UPDATE directory_epoch SET epoch = epoch + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER phone_numbers_delete_epoch AFTER DELETE ON phone_numbers
BEGIN UPDATE directory_epoch SET epoch = epoch + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER department_members_insert_epoch AFTER INSERT ON department_members
BEGIN UPDATE directory_epoch SET epoch = epoch + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER department_members_update_epoch AFTER UPDATE ON department_members
BEGIN UPDATE directory_epoch SET epoch = epoch + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER department_members_delete_epoch AFTER DELETE ON department_members
BEGIN UPDATE directory_epoch SET epoch = epoch + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER apps_update_epoch AFTER UPDATE ON apps
BEGIN UPDATE directory_epoch SET epoch = epoch + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER apps_delete_epoch AFTER DELETE ON apps
BEGIN UPDATE directory_epoch SET epoch = epoch + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER admin_tokens_update_epoch AFTER UPDATE ON admin_tokens
BEGIN UPDATE directory_epoch SET epoch = epoch + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER admin_tokens_delete_epoch AFTER DELETE ON admin_tokens
BEGIN UPDATE directory_epoch SET epoch = epoch + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER tokens_update_epoch AFTER UPDATE ON tokens
BEGIN UPDATE directory_epoch SET epoch = epoch + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER tokens_delete_epoch AFTER DELETE ON tokens
BEGIN UPDATE directory_epoch SET epoch = epoch + 1 WHERE id = 1; END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER tokens_delete_epoch;
DROP TRIGGER tokens_update_epoch;
DROP TRIGGER admin_tokens_delete_epoch;
DROP TRIGGER admin_tokens_update_epoch;
DROP TRIGGER apps_delete_epoch;
DROP TRIGGER apps_update_epoch;
DROP TRIGGER department_members_delete_epoch;
DROP TRIGGER department_members_update_epoch;
DROP TRIGGER department_members_insert_epoch;
DROP TRIGGER phone_numbers_delete_epoch;
DROP TRIGGER phone_numbers_update_epoch;
DROP TRIGGER phone_numbers_insert_epoch;
DROP TRIGGER extensions_delete_epoch;
DROP TRIGGER extensions_update_epoch;
DROP TRIGGER extensions_insert_epoch;
DROP TRIGGER accounts_delete_epoch;
DROP TRIGGER accounts_update_epoch;
DROP TABLE directory_epoch;
