package sqlstore

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard"
)

// Token hashes are credentials: no error message in this file names one.

const tokenColumns = `hash, kind, session_id, account_id, extension_id, app_id, scopes, endpoint_id, created_at, expires_at`

func scanToken(s scanner) (*switchboard.Token, error) {
	var t switchboard.Token
	var scopes string
	var created, expires int64
	if err := s.Scan(&t.Hash, &t.Kind, &t.SessionID, &t.AccountID, &t.ExtensionID, &t.AppID,
		&scopes, &t.EndpointID, &created, &expires); err != nil {
		return nil, err
	}
	t.Scopes = splitFields(scopes)
	t.Created = fromMillis(created)
	t.Expires = fromMillis(expires)
	return &t, nil
}

// CreateTokens stores the tokens of one issue atomically.
func (db *DB) CreateTokens(ctx context.Context, tokens ...*switchboard.Token) error {
	if err := checkTokens(tokens); err != nil {
		return err
	}
	err := db.write(ctx, func(tx *tx) error { return insertTokens(ctx, tx, tokens) })
	return db.wrap(err, "create %d tokens", len(tokens))
}

func checkTokens(tokens []*switchboard.Token) error {
	for _, t := range tokens {
		switch {
		case t.Hash == "":
			return switchboard.InvalidParam("hash", "", "A token needs a hash")
		case t.Kind != switchboard.TokenAccess && t.Kind != switchboard.TokenRefresh && t.Kind != switchboard.TokenWebSocket:
			return switchboard.InvalidParam("kind", t.Kind, "Token kind must be access, refresh or ws")
		case t.Expires.IsZero():
			return switchboard.InvalidParam("expires", "", "A token needs an expiry")
		}
	}
	return nil
}

func insertTokens(ctx context.Context, tx *tx, tokens []*switchboard.Token) error {
	for _, t := range tokens {
		if t.Created.IsZero() {
			t.Created = tx.now
		}
		t.Created = fromMillis(toMillis(t.Created))
		t.Expires = fromMillis(toMillis(t.Expires))
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO tokens (hash, kind, session_id, account_id, extension_id, app_id, scopes, endpoint_id, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			t.Hash, t.Kind, t.SessionID, t.AccountID, t.ExtensionID, t.AppID, joinFields(t.Scopes), t.EndpointID,
			toMillis(t.Created), toMillis(t.Expires)); err != nil {
			return err
		}
	}
	return nil
}

// Token returns the token with the hash if it has not expired at now.
func (db *DB) Token(ctx context.Context, hash string, now time.Time) (*switchboard.Token, error) {
	var t *switchboard.Token
	err := db.read(ctx, func(tx *tx) error {
		var err error
		t, err = scanToken(tx.QueryRowContext(ctx,
			`SELECT `+tokenColumns+` FROM tokens WHERE hash = $1 AND expires_at > $2`, hash, toMillis(now)))
		return err
	})
	return t, db.wrap(err, "get token")
}

// AccessPrincipal joins the token with its extension and account so that a
// request is authenticated in one query; the answer is cached until the
// token expires or the directory epoch moves (authcache.go).
func (db *DB) AccessPrincipal(ctx context.Context, hash, kind string, now time.Time) (*switchboard.Principal, error) {
	e, err := db.cachedAuth(ctx, authKey{hash, kind}, func(tx *tx) (authEntry, error) {
		var e authEntry
		var scopes string
		p := &e.principal
		// Read without the expiry bound: the entry keeps the expiry and
		// each lookup checks it against its own now.
		err := tx.QueryRowContext(ctx, `SELECT t.account_id, t.extension_id, t.app_id, t.session_id, t.scopes, e.admin, t.expires_at
			FROM tokens t
			JOIN extensions e ON e.id = t.extension_id AND e.account_id = t.account_id
			JOIN accounts a ON a.id = t.account_id
			WHERE t.hash = $1 AND t.kind = $2 AND e.status = $3 AND a.status = $3`,
			hash, kind, switchboard.StatusEnabled).
			Scan(&p.AccountID, &p.ExtensionID, &p.AppID, &p.SessionID, &scopes, &p.Admin, &e.expiresMs)
		p.Scopes = strings.Fields(scopes)
		return e, err
	})
	if err == nil && e.expiresMs <= toMillis(now) {
		err = sql.ErrNoRows
	}
	if err != nil {
		return nil, db.wrap(err, "authenticate access token")
	}
	p := e.principal
	p.Scopes = slices.Clone(p.Scopes) // the cached entry stays as read
	return &p, nil
}

// RotateRefreshToken consumes a live refresh token and stores its
// successors. The consuming DELETE is the arbiter: of two rotations of the
// same token only one deletes a row, and the other stores nothing.
func (db *DB) RotateRefreshToken(ctx context.Context, oldHash string, now time.Time, tokens ...*switchboard.Token) error {
	if err := checkTokens(tokens); err != nil {
		return err
	}
	err := db.write(ctx, func(tx *tx) error {
		var session string
		var expires int64
		if err := tx.QueryRowContext(ctx, `DELETE FROM tokens WHERE hash = $1 AND kind = $2 AND expires_at > $3
			RETURNING session_id, expires_at`,
			oldHash, switchboard.TokenRefresh, toMillis(now)).Scan(&session, &expires); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO rotated_tokens (hash, session_id, expires_at) VALUES ($1, $2, $3)`,
			oldHash, session, expires); err != nil {
			return err
		}
		return insertTokens(ctx, tx, tokens)
	})
	return db.wrap(err, "rotate refresh token")
}

// RotatedSession returns the session of a rotated, unexpired refresh token.
func (db *DB) RotatedSession(ctx context.Context, hash string, now time.Time) (string, error) {
	var session string
	err := db.read(ctx, func(tx *tx) error {
		return tx.QueryRowContext(ctx, `SELECT session_id FROM rotated_tokens WHERE hash = $1 AND expires_at > $2`,
			hash, toMillis(now)).Scan(&session)
	})
	return session, db.wrap(err, "find rotated refresh token")
}

// RevokeSession removes every token of the session; revoking an ended
// session is not an error.
func (db *DB) RevokeSession(ctx context.Context, sessionID string) error {
	err := db.write(ctx, func(tx *tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM tokens WHERE session_id = $1`, sessionID)
		return err
	})
	return db.wrap(err, "revoke session")
}

// DeleteExpiredTokens removes the tokens that Token no longer returns at
// now (expiry at or before now) and reports how many.
func (db *DB) DeleteExpiredTokens(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := db.write(ctx, func(tx *tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM tokens WHERE expires_at <= $1`, toMillis(now))
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		// Rotated refresh tokens are remembered only while they would have
		// been valid.
		if _, err := tx.ExecContext(ctx, `DELETE FROM rotated_tokens WHERE expires_at <= $1`, toMillis(now)); err != nil {
			return err
		}
		// Unredeemed authorization codes go with them.
		res, err = tx.ExecContext(ctx, `DELETE FROM authorization_codes WHERE expires_at <= $1`, toMillis(now))
		if err != nil {
			return err
		}
		codes, err := res.RowsAffected()
		n += codes
		return err
	})
	return int(n), db.wrap(err, "delete expired tokens")
}

// ---- authorization codes

// CreateAuthCode stores an authorization code waiting to be redeemed.
func (db *DB) CreateAuthCode(ctx context.Context, c *switchboard.AuthCode) error {
	if c.Hash == "" || c.Expires.IsZero() {
		return switchboard.InvalidParam("code", "", "An authorization code needs a hash and an expiry")
	}
	err := db.write(ctx, func(tx *tx) error {
		if c.Created.IsZero() {
			c.Created = tx.now
		}
		c.Created, c.Expires = fromMillis(toMillis(c.Created)), fromMillis(toMillis(c.Expires))
		_, err := tx.ExecContext(ctx, `
			INSERT INTO authorization_codes (hash, app_id, account_id, extension_id, redirect_uri, code_challenge, challenge_method, expires_at, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			c.Hash, c.AppID, c.AccountID, c.ExtensionID, c.RedirectURI, c.CodeChallenge, c.CodeChallengeMethod, toMillis(c.Expires), toMillis(c.Created))
		return err
	})
	return db.wrap(err, "create authorization code")
}

// ConsumeAuthCode deletes the unexpired code and returns what it was: the
// DELETE decides, so of two nodes redeeming one code at once one wins.
func (db *DB) ConsumeAuthCode(ctx context.Context, hash string, now time.Time) (*switchboard.AuthCode, error) {
	var c switchboard.AuthCode
	err := db.write(ctx, func(tx *tx) error {
		var created, expires int64
		err := tx.QueryRowContext(ctx, `
			DELETE FROM authorization_codes WHERE hash = $1 AND expires_at > $2
			RETURNING hash, app_id, account_id, extension_id, redirect_uri, code_challenge, challenge_method, created_at, expires_at`,
			hash, toMillis(now)).Scan(&c.Hash, &c.AppID, &c.AccountID, &c.ExtensionID, &c.RedirectURI, &c.CodeChallenge, &c.CodeChallengeMethod,
			&created, &expires)
		c.Created, c.Expires = fromMillis(created), fromMillis(expires)
		return err
	})
	if err != nil {
		return nil, db.wrap(err, "redeem authorization code")
	}
	return &c, nil
}
