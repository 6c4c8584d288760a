-- +goose Up
-- The directory's version: one row, bumped by every change of the tables
-- that the hot paths' lookups read (extensions, phone_numbers,
-- department_members), by any node, in the changing transaction. Caches
-- of those lookups (internal/dircache) stay valid while it is unchanged,
-- so one indexed read per request replaces them.
CREATE TABLE directory_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO directory_version (id, version) VALUES (1, 1);

-- +goose StatementBegin
CREATE FUNCTION bump_directory_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE directory_version SET version = version + 1 WHERE id = 1;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER extensions_version AFTER INSERT OR UPDATE OR DELETE ON extensions
    FOR EACH STATEMENT EXECUTE FUNCTION bump_directory_version();
CREATE TRIGGER phone_numbers_version AFTER INSERT OR UPDATE OR DELETE ON phone_numbers
    FOR EACH STATEMENT EXECUTE FUNCTION bump_directory_version();
CREATE TRIGGER department_members_version AFTER INSERT OR UPDATE OR DELETE ON department_members
    FOR EACH STATEMENT EXECUTE FUNCTION bump_directory_version();

-- +goose Down
DROP TRIGGER department_members_version ON department_members;
DROP TRIGGER phone_numbers_version ON phone_numbers;
DROP TRIGGER extensions_version ON extensions;
DROP FUNCTION bump_directory_version();
DROP TABLE directory_version;
