-- +goose Up
-- The directory's version: one row, bumped by every change of the tables
-- that the hot paths' lookups read (extensions, phone_numbers,
-- department_members), by any process or node, in the changing
-- transaction. Caches of those lookups (internal/dircache) stay valid
-- while it is unchanged, so one indexed read per request replaces them.
CREATE TABLE directory_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO directory_version (id, version) VALUES (1, 1);

-- +goose StatementBegin
CREATE TRIGGER extensions_inserted_version AFTER INSERT ON extensions
BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER extensions_updated_version AFTER UPDATE ON extensions
BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER extensions_deleted_version AFTER DELETE ON extensions
BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER phone_numbers_inserted_version AFTER INSERT ON phone_numbers
BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER phone_numbers_updated_version AFTER UPDATE ON phone_numbers
BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER phone_numbers_deleted_version AFTER DELETE ON phone_numbers
BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER department_members_inserted_version AFTER INSERT ON department_members
BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER department_members_updated_version AFTER UPDATE ON department_members
BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER department_members_deleted_version AFTER DELETE ON department_members
BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER department_members_deleted_version;
DROP TRIGGER department_members_updated_version;
DROP TRIGGER department_members_inserted_version;
DROP TRIGGER phone_numbers_deleted_version;
DROP TRIGGER phone_numbers_updated_version;
DROP TRIGGER phone_numbers_inserted_version;
DROP TRIGGER extensions_deleted_version;
DROP TRIGGER extensions_updated_version;
DROP TRIGGER extensions_inserted_version;
DROP TABLE directory_version;
