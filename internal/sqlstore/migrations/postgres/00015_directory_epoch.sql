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
    epoch BIGINT  NOT NULL
);
INSERT INTO directory_epoch (id, epoch) VALUES (1, 0);

-- +goose StatementBegin
CREATE FUNCTION bump_directory_epoch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE directory_epoch SET epoch = epoch + 1 WHERE id = 1;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER accounts_epoch AFTER UPDATE OR DELETE ON accounts
    FOR EACH STATEMENT EXECUTE FUNCTION bump_directory_epoch();
CREATE TRIGGER extensions_epoch AFTER INSERT OR UPDATE OR DELETE ON extensions
    FOR EACH STATEMENT EXECUTE FUNCTION bump_directory_epoch();
CREATE TRIGGER phone_numbers_epoch AFTER INSERT OR UPDATE OR DELETE ON phone_numbers
    FOR EACH STATEMENT EXECUTE FUNCTION bump_directory_epoch();
CREATE TRIGGER department_members_epoch AFTER INSERT OR UPDATE OR DELETE ON department_members
    FOR EACH STATEMENT EXECUTE FUNCTION bump_directory_epoch();
CREATE TRIGGER apps_epoch AFTER UPDATE OR DELETE ON apps
    FOR EACH STATEMENT EXECUTE FUNCTION bump_directory_epoch();
CREATE TRIGGER admin_tokens_epoch AFTER UPDATE OR DELETE ON admin_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION bump_directory_epoch();
CREATE TRIGGER tokens_epoch AFTER UPDATE OR DELETE ON tokens
    FOR EACH STATEMENT EXECUTE FUNCTION bump_directory_epoch();

-- +goose Down
DROP TRIGGER tokens_epoch ON tokens;
DROP TRIGGER admin_tokens_epoch ON admin_tokens;
DROP TRIGGER apps_epoch ON apps;
DROP TRIGGER department_members_epoch ON department_members;
DROP TRIGGER phone_numbers_epoch ON phone_numbers;
DROP TRIGGER extensions_epoch ON extensions;
DROP TRIGGER accounts_epoch ON accounts;
DROP FUNCTION bump_directory_epoch();
DROP TABLE directory_epoch;
