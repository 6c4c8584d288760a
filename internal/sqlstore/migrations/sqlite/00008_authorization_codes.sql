-- +goose Up
-- Redirect URIs an app registered for the authorization-code grant
-- (space-separated), and whether it also accepts any loopback redirect URI
-- (RFC 8252: native and development apps pick their port at run time).
ALTER TABLE apps ADD COLUMN redirect_uris TEXT NOT NULL DEFAULT '';
ALTER TABLE apps ADD COLUMN loopback_redirects INTEGER NOT NULL DEFAULT 0;

-- Authorization codes waiting to be redeemed: only the SHA-256 of the code is
-- stored, so a copy of the database redeems nothing; the row is deleted when
-- the code is redeemed, so a code works once on any node.
CREATE TABLE authorization_codes (
    hash           TEXT    PRIMARY KEY,
    app_id         INTEGER NOT NULL REFERENCES apps(id),
    account_id     INTEGER NOT NULL REFERENCES accounts(id),
    extension_id   INTEGER NOT NULL REFERENCES extensions(id),
    redirect_uri   TEXT    NOT NULL,
    code_challenge TEXT    NOT NULL DEFAULT '', -- PKCE challenge; '' without PKCE
    challenge_method TEXT  NOT NULL DEFAULT '', -- S256 or plain
    expires_at     INTEGER NOT NULL,
    created_at     INTEGER NOT NULL
);
CREATE INDEX authorization_codes_expires ON authorization_codes (expires_at);

-- The admin console lists failed deliveries newest first; Pending and
-- Submitted have partial indexes already.
CREATE INDEX deliveries_failed ON deliveries (id) WHERE state = 'Failed';

-- +goose Down
DROP INDEX deliveries_failed;
DROP TABLE authorization_codes;
ALTER TABLE apps DROP COLUMN loopback_redirects;
ALTER TABLE apps DROP COLUMN redirect_uris;
