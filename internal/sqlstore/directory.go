package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard"
)

// scanner is what *sql.Row and *sql.Rows have in common.
type scanner interface {
	Scan(dest ...any) error
}

// queryer is what *sql.Tx offers to the helpers; it keeps them usable with
// either pool's transaction.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// queryAll runs a query and scans every row with scan.
func queryAll[T any](ctx context.Context, q queryer, scan func(scanner) (T, error), query string, a ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, a...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// ---- accounts

const accountColumns = `id, name, main_number, status, delete_period_ms, purge_period_ms, mailbox_cap, created_at, message_period_ms`

func scanAccount(s scanner) (*switchboard.Account, error) {
	var a switchboard.Account
	var main sql.NullString
	var created, deletePeriod, purgePeriod, messagePeriod int64
	if err := s.Scan(&a.ID, &a.Name, &main, &a.Status, &deletePeriod, &purgePeriod, &a.Retention.MailboxCap, &created, &messagePeriod); err != nil {
		return nil, err
	}
	a.MainNumber = main.String
	a.Retention.DeletePeriod = time.Duration(deletePeriod) * time.Millisecond
	a.Retention.PurgePeriod = time.Duration(purgePeriod) * time.Millisecond
	a.Retention.MessagePeriod = time.Duration(messagePeriod) * time.Millisecond
	a.Created = fromMillis(created)
	return &a, nil
}

// CreateAccount stores a new, enabled account.
func (db *DB) CreateAccount(ctx context.Context, c switchboard.AccountCreate) (*switchboard.Account, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	var a *switchboard.Account
	err := db.write(ctx, func(tx *tx) error {
		var err error
		a, err = scanAccount(tx.QueryRowContext(ctx, `
			INSERT INTO accounts (name, main_number, status, created_at)
			VALUES ($1, $2, $3, $4)
			RETURNING `+accountColumns,
			c.Name, nullString(c.MainNumber), switchboard.StatusEnabled, toMillis(tx.now)))
		return err
	})
	return a, db.wrap(err, "create account %q", c.Name)
}

// Account returns an account by id.
func (db *DB) Account(ctx context.Context, id int64) (*switchboard.Account, error) {
	var a *switchboard.Account
	err := db.read(ctx, func(tx *tx) error {
		var err error
		a, err = scanAccount(tx.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE id = $1`, id))
		return err
	})
	return a, db.wrap(err, "get account %d", id)
}

// Accounts lists every account, oldest first.
func (db *DB) Accounts(ctx context.Context) ([]*switchboard.Account, error) {
	var as []*switchboard.Account
	err := db.read(ctx, func(tx *tx) error {
		var err error
		as, err = queryAll(ctx, tx, scanAccount, `SELECT `+accountColumns+` FROM accounts ORDER BY id`)
		return err
	})
	return as, db.wrap(err, "list accounts")
}

// AccountByMainNumber returns the account whose main number is number.
func (db *DB) AccountByMainNumber(ctx context.Context, number string) (*switchboard.Account, error) {
	number = normalizeNumber(number)
	var a *switchboard.Account
	err := db.read(ctx, func(tx *tx) error {
		var err error
		a, err = scanAccount(tx.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts WHERE main_number = $1`, number))
		return err
	})
	return a, db.wrap(err, "get account by main number %s", number)
}

// SetAccountStatus enables or disables an account.
func (db *DB) SetAccountStatus(ctx context.Context, id int64, status string) error {
	if err := requireStatus(status); err != nil {
		return err
	}
	err := db.write(ctx, func(tx *tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE accounts SET status = $1 WHERE id = $2`, status, id)
		if err != nil {
			return err
		}
		return rowsAffected(res)
	})
	return db.wrap(err, "set status of account %d", id)
}

// normalizeNumber lets lookups accept numbers as people type them; a value
// that is not a phone number is looked up as given and simply not found.
func normalizeNumber(s string) string {
	if n, err := switchboard.NormalizeE164(s); err == nil {
		return n
	}
	return s
}

// ---- extensions

const extensionColumns = `id, account_id, extension_number, name, type, status, email, password_hash, admin, created_at`

func scanExtension(s scanner) (*switchboard.Extension, error) {
	var x switchboard.Extension
	dest, finish := extensionFields(&x)
	if err := s.Scan(dest...); err != nil {
		return nil, err
	}
	finish()
	return &x, nil
}

// extensionFields are the scan destinations of extensionColumns into x and
// what completes x once they are scanned, for rows that hold more.
func extensionFields(x *switchboard.Extension) (dest []any, finish func()) {
	var email sql.NullString
	var created int64
	return []any{&x.ID, &x.AccountID, &x.ExtensionNumber, &x.Name, &x.Type, &x.Status,
			&email, &x.PasswordHash, &x.Admin, &created}, func() {
			x.Email = email.String
			x.Created = fromMillis(created)
		}
}

// CreateExtension stores a new, enabled extension of an existing account.
func (db *DB) CreateExtension(ctx context.Context, c switchboard.ExtensionCreate) (*switchboard.Extension, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	var x *switchboard.Extension
	err := db.write(ctx, func(tx *tx) error {
		var err error
		x, err = scanExtension(tx.QueryRowContext(ctx, `
			INSERT INTO extensions (account_id, extension_number, name, type, status, email, password_hash, admin, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			RETURNING `+extensionColumns,
			c.AccountID, c.ExtensionNumber, c.Name, c.Type, switchboard.StatusEnabled,
			nullString(c.Email), c.PasswordHash, flag(c.Admin), toMillis(tx.now)))
		return err
	})
	return x, db.wrap(err, "create extension %s in account %d", c.ExtensionNumber, c.AccountID)
}

// Extension returns an extension of an account by id.
func (db *DB) Extension(ctx context.Context, accountID, id int64) (*switchboard.Extension, error) {
	var x *switchboard.Extension
	err := db.readOne(ctx, func(tx *tx) error {
		var err error
		x, err = getExtension(ctx, tx, accountID, id)
		return err
	})
	return x, db.wrap(err, "get extension %d of account %d", id, accountID)
}

func getExtension(ctx context.Context, tx *tx, accountID, id int64) (*switchboard.Extension, error) {
	return scanExtension(tx.QueryRowContext(ctx,
		`SELECT `+extensionColumns+` FROM extensions WHERE id = $1 AND account_id = $2`, id, accountID))
}

// ExtensionByNumber returns an extension of an account by its short number.
func (db *DB) ExtensionByNumber(ctx context.Context, accountID int64, number string) (*switchboard.Extension, error) {
	var x *switchboard.Extension
	err := db.read(ctx, func(tx *tx) error {
		var err error
		x, err = scanExtension(tx.QueryRowContext(ctx,
			`SELECT `+extensionColumns+` FROM extensions WHERE account_id = $1 AND extension_number = $2`, accountID, number))
		return err
	})
	return x, db.wrap(err, "get extension %s of account %d", number, accountID)
}

// ExtensionByEmail returns the extension with the login email, in any case.
func (db *DB) ExtensionByEmail(ctx context.Context, email string) (*switchboard.Extension, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return nil, db.wrap(switchboard.ErrNotFound, "get extension by empty email")
	}
	var x *switchboard.Extension
	err := db.read(ctx, func(tx *tx) error {
		var err error
		x, err = scanExtension(tx.QueryRowContext(ctx,
			`SELECT `+extensionColumns+` FROM extensions WHERE email = $1`, email))
		return err
	})
	return x, db.wrap(err, "get extension by email %s", email)
}

// Extensions lists the extensions of an account, oldest first.
func (db *DB) Extensions(ctx context.Context, f switchboard.ExtensionFilter) ([]*switchboard.Extension, error) {
	var a args
	q := `SELECT ` + extensionColumns + ` FROM extensions WHERE account_id = ` + a.add(f.AccountID)
	if f.ExtensionNumber != "" {
		q += ` AND extension_number = ` + a.add(f.ExtensionNumber)
	}
	if len(f.Types) > 0 {
		q += ` AND type IN (` + inList(&a, f.Types) + `)`
	}
	if len(f.Statuses) > 0 {
		q += ` AND status IN (` + inList(&a, f.Statuses) + `)`
	}
	q += ` ORDER BY id LIMIT ` + a.add(limitArg(f.Limit)) + ` OFFSET ` + a.add(max(f.Offset, 0))
	var xs []*switchboard.Extension
	err := db.read(ctx, func(tx *tx) error {
		var err error
		xs, err = queryAll(ctx, tx, scanExtension, q, a...)
		return err
	})
	return xs, db.wrap(err, "list extensions of account %d", f.AccountID)
}

// SetExtensionStatus enables or disables an extension.
func (db *DB) SetExtensionStatus(ctx context.Context, accountID, id int64, status string) error {
	if err := requireStatus(status); err != nil {
		return err
	}
	err := db.write(ctx, func(tx *tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE extensions SET status = $1 WHERE id = $2 AND account_id = $3`, status, id, accountID)
		if err != nil {
			return err
		}
		return rowsAffected(res)
	})
	return db.wrap(err, "set status of extension %d of account %d", id, accountID)
}

// SetExtensionPassword replaces the password hash ("" disables password
// login).
func (db *DB) SetExtensionPassword(ctx context.Context, accountID, id int64, passwordHash string) error {
	err := db.write(ctx, func(tx *tx) error {
		x, err := getExtension(ctx, tx, accountID, id)
		if err != nil {
			return err
		}
		if passwordHash != "" && x.Type != switchboard.ExtensionTypeUser {
			return switchboard.InvalidParam("type", x.Type, "Only User extensions can log in")
		}
		_, err = tx.ExecContext(ctx, `UPDATE extensions SET password_hash = $1 WHERE id = $2`, passwordHash, id)
		return err
	})
	return db.wrap(err, "set password of extension %d of account %d", id, accountID)
}

// ---- phone numbers

const phoneNumberColumns = `id, account_id, extension_id, phone_number, type, usage_type, features, status, created_at`

func scanPhoneNumber(s scanner) (*switchboard.PhoneNumber, error) {
	var n switchboard.PhoneNumber
	var ext sql.NullInt64
	var features string
	var created int64
	if err := s.Scan(&n.ID, &n.AccountID, &ext, &n.PhoneNumber, &n.Type, &n.UsageType, &features, &n.Status, &created); err != nil {
		return nil, err
	}
	n.ExtensionID = ext.Int64
	n.Features = splitFields(features)
	n.Created = fromMillis(created)
	return &n, nil
}

// CreatePhoneNumber adds a number to an account, assigned to one of its
// extensions or to none (a company number).
func (db *DB) CreatePhoneNumber(ctx context.Context, c switchboard.PhoneNumberCreate) (*switchboard.PhoneNumber, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	var n *switchboard.PhoneNumber
	err := db.write(ctx, func(tx *tx) error {
		if err := checkAccount(ctx, tx, c.AccountID); err != nil {
			return err
		}
		// The foreign key only proves the extension exists; assigning a
		// number to another tenant's extension must fail too.
		if c.ExtensionID != 0 {
			if _, err := getExtension(ctx, tx, c.AccountID, c.ExtensionID); err != nil {
				return err
			}
		}
		var err error
		n, err = scanPhoneNumber(tx.QueryRowContext(ctx, `
			INSERT INTO phone_numbers (account_id, extension_id, phone_number, type, usage_type, features, status, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			RETURNING `+phoneNumberColumns,
			c.AccountID, nullID(c.ExtensionID), c.PhoneNumber, c.Type, c.UsageType, joinFields(c.Features), "Normal", toMillis(tx.now)))
		return err
	})
	return n, db.wrap(err, "create phone number %s in account %d", c.PhoneNumber, c.AccountID)
}

func checkAccount(ctx context.Context, tx *tx, id int64) error {
	var one int
	return tx.QueryRowContext(ctx, `SELECT 1 FROM accounts WHERE id = $1`, id).Scan(&one)
}

// PhoneNumberByNumber returns a phone number of any account.
func (db *DB) PhoneNumberByNumber(ctx context.Context, number string) (*switchboard.PhoneNumber, error) {
	number = normalizeNumber(number)
	var n *switchboard.PhoneNumber
	err := db.readOne(ctx, func(tx *tx) error {
		var err error
		n, err = scanPhoneNumber(tx.QueryRowContext(ctx,
			`SELECT `+phoneNumberColumns+` FROM phone_numbers WHERE phone_number = $1`, number))
		return err
	})
	return n, db.wrap(err, "get phone number %s", number)
}

// PhoneNumbersByNumber implements switchboard.NumbersDirectory.
func (db *DB) PhoneNumbersByNumber(ctx context.Context, numbers []string) (map[string]*switchboard.PhoneNumber, error) {
	out := map[string]*switchboard.PhoneNumber{}
	if len(numbers) == 0 {
		return out, nil
	}
	given := map[string][]string{} // normalized → as given
	var keys []string
	for _, n := range numbers {
		k := normalizeNumber(n)
		if given[k] == nil {
			keys = append(keys, k)
		}
		given[k] = append(given[k], n)
	}
	err := db.read(ctx, func(tx *tx) error {
		return inChunks(keys, func(keys []string) error {
			a := args{}
			ns, err := queryAll(ctx, tx, scanPhoneNumber, `SELECT `+phoneNumberColumns+` FROM phone_numbers
				WHERE phone_number IN (`+inListPadded(&a, keys)+`)`, a...)
			for _, pn := range ns {
				for _, n := range given[pn.PhoneNumber] {
					out[n] = pn
				}
			}
			return err
		})
	})
	if err != nil {
		return nil, db.wrap(err, "get %d phone numbers", len(numbers))
	}
	return out, nil
}

// PhoneNumbers lists the numbers of an account, or of one of its
// extensions when extensionID is not 0, oldest first.
func (db *DB) PhoneNumbers(ctx context.Context, accountID, extensionID int64) ([]*switchboard.PhoneNumber, error) {
	var a args
	q := `SELECT ` + phoneNumberColumns + ` FROM phone_numbers WHERE account_id = ` + a.add(accountID)
	if extensionID != 0 {
		q += ` AND extension_id = ` + a.add(extensionID)
	}
	q += ` ORDER BY id`
	var ns []*switchboard.PhoneNumber
	err := db.readOne(ctx, func(tx *tx) error {
		var err error
		ns, err = queryAll(ctx, tx, scanPhoneNumber, q, a...)
		return err
	})
	return ns, db.wrap(err, "list phone numbers of account %d", accountID)
}

// SetPhoneNumberStatus changes the status of an account's number.
func (db *DB) SetPhoneNumberStatus(ctx context.Context, accountID int64, number, status string) error {
	if err := requireStatus(status); err != nil {
		return err
	}
	number = normalizeNumber(number)
	err := db.write(ctx, func(tx *tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE phone_numbers SET status = $1 WHERE phone_number = $2 AND account_id = $3`,
			status, number, accountID)
		if err != nil {
			return err
		}
		return rowsAffected(res)
	})
	return db.wrap(err, "set status of phone number %s of account %d", number, accountID)
}

// ---- apps

const appColumns = `id, client_id, secret_hash, name, scopes, status, created_at, redirect_uris, loopback_redirects`

func scanApp(s scanner) (*switchboard.App, error) {
	var a switchboard.App
	var scopes, redirects string
	var created int64
	if err := s.Scan(&a.ID, &a.ClientID, &a.SecretHash, &a.Name, &scopes, &a.Status, &created, &redirects, &a.LoopbackRedirects); err != nil {
		return nil, err
	}
	a.Scopes = splitFields(scopes)
	a.RedirectURIs = splitFields(redirects)
	a.Created = fromMillis(created)
	return &a, nil
}

// CreateApp stores an app and fills its ID, Created (when zero) and Status
// (Enabled when empty).
func (db *DB) CreateApp(ctx context.Context, a *switchboard.App) error {
	if strings.TrimSpace(a.ClientID) == "" {
		return switchboard.InvalidParam("clientId", a.ClientID, "Client id is required")
	}
	for _, s := range a.Scopes {
		if s == "" || strings.ContainsAny(s, " \t\n") {
			return switchboard.InvalidParam("scopes", s, "Scope %q is not a single word", s)
		}
	}
	if err := checkRedirects(a.RedirectURIs); err != nil {
		return err
	}
	err := db.write(ctx, func(tx *tx) error {
		fillCreated(tx, &a.Created, &a.Status)
		return tx.QueryRowContext(ctx, `
			INSERT INTO apps (client_id, secret_hash, name, scopes, status, created_at, redirect_uris, loopback_redirects)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			RETURNING id`,
			a.ClientID, a.SecretHash, a.Name, joinFields(a.Scopes), a.Status, toMillis(a.Created),
			joinFields(a.RedirectURIs), flag(a.LoopbackRedirects)).Scan(&a.ID)
	})
	return db.wrap(err, "create app %s", a.ClientID)
}

// fillCreated applies the defaults of a caller-built row and rounds its
// time to what is stored, so the caller's copy equals a later read.
func fillCreated(tx *tx, created *time.Time, status *string) {
	if created.IsZero() {
		*created = tx.now
	}
	*created = fromMillis(toMillis(*created))
	if *status == "" {
		*status = switchboard.StatusEnabled
	}
}

// AppByClientID returns an app by its OAuth client id.
func (db *DB) AppByClientID(ctx context.Context, clientID string) (*switchboard.App, error) {
	var a *switchboard.App
	err := db.read(ctx, func(tx *tx) error {
		var err error
		a, err = scanApp(tx.QueryRowContext(ctx, `SELECT `+appColumns+` FROM apps WHERE client_id = $1`, clientID))
		return err
	})
	return a, db.wrap(err, "get app %s", clientID)
}

// Apps lists every app, oldest first.
func (db *DB) Apps(ctx context.Context) ([]*switchboard.App, error) {
	var as []*switchboard.App
	err := db.read(ctx, func(tx *tx) error {
		var err error
		as, err = queryAll(ctx, tx, scanApp, `SELECT `+appColumns+` FROM apps ORDER BY id`)
		return err
	})
	return as, db.wrap(err, "list apps")
}

// SetAppStatus enables or disables an app.
func (db *DB) SetAppStatus(ctx context.Context, clientID, status string) error {
	if err := requireStatus(status); err != nil {
		return err
	}
	err := db.write(ctx, func(tx *tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE apps SET status = $1 WHERE client_id = $2`, status, clientID)
		if err != nil {
			return err
		}
		return rowsAffected(res)
	})
	return db.wrap(err, "set status of app %s", clientID)
}

// SetAppRedirects replaces the app's registered redirect URIs and its
// loopback setting.
func (db *DB) SetAppRedirects(ctx context.Context, clientID string, uris []string, loopback bool) error {
	if err := checkRedirects(uris); err != nil {
		return err
	}
	err := db.write(ctx, func(tx *tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE apps SET redirect_uris = $1, loopback_redirects = $2 WHERE client_id = $3`,
			joinFields(uris), flag(loopback), clientID)
		if err != nil {
			return err
		}
		return rowsAffected(res)
	})
	return db.wrap(err, "set redirect URIs of app %s", clientID)
}

// checkRedirects validates URIs to register; they are stored
// space-separated, which ValidateRedirectURI guarantees is unambiguous.
func checkRedirects(uris []string) error {
	for _, u := range uris {
		if err := switchboard.ValidateRedirectURI(u); err != nil {
			return err
		}
	}
	return nil
}

// ---- JWT credentials

const jwtCredentialColumns = `id, account_id, extension_id, name, status, expires_at, created_at`

func scanJWTCredential(s scanner) (*switchboard.JWTCredential, error) {
	var c switchboard.JWTCredential
	var expires, created int64
	if err := s.Scan(&c.ID, &c.AccountID, &c.ExtensionID, &c.Name, &c.Status, &expires, &created); err != nil {
		return nil, err
	}
	c.Expires = fromMillis(expires)
	c.Created = fromMillis(created)
	return &c, nil
}

// CreateJWTCredential stores a credential for an extension of its account
// and fills Created (when zero) and Status (Enabled when empty).
func (db *DB) CreateJWTCredential(ctx context.Context, c *switchboard.JWTCredential) error {
	if c.ID == "" {
		return switchboard.InvalidParam("id", "", "A JWT credential needs an id")
	}
	err := db.write(ctx, func(tx *tx) error {
		if _, err := getExtension(ctx, tx, c.AccountID, c.ExtensionID); err != nil {
			return err
		}
		fillCreated(tx, &c.Created, &c.Status)
		c.Expires = fromMillis(toMillis(c.Expires))
		_, err := tx.ExecContext(ctx, `
			INSERT INTO jwt_credentials (id, account_id, extension_id, name, status, expires_at, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			c.ID, c.AccountID, c.ExtensionID, c.Name, c.Status, toMillis(c.Expires), toMillis(c.Created))
		return err
	})
	return db.wrap(err, "create JWT credential %s for extension %d", c.ID, c.ExtensionID)
}

// JWTCredential returns a credential by id (the JWT's jti).
func (db *DB) JWTCredential(ctx context.Context, id string) (*switchboard.JWTCredential, error) {
	var c *switchboard.JWTCredential
	err := db.read(ctx, func(tx *tx) error {
		var err error
		c, err = scanJWTCredential(tx.QueryRowContext(ctx, `SELECT `+jwtCredentialColumns+` FROM jwt_credentials WHERE id = $1`, id))
		return err
	})
	return c, db.wrap(err, "get JWT credential %s", id)
}

// JWTCredentials lists the credentials of an account, oldest first.
func (db *DB) JWTCredentials(ctx context.Context, accountID int64) ([]*switchboard.JWTCredential, error) {
	var cs []*switchboard.JWTCredential
	err := db.read(ctx, func(tx *tx) error {
		var err error
		cs, err = queryAll(ctx, tx, scanJWTCredential,
			`SELECT `+jwtCredentialColumns+` FROM jwt_credentials WHERE account_id = $1 ORDER BY created_at, id`, accountID)
		return err
	})
	return cs, db.wrap(err, "list JWT credentials of account %d", accountID)
}

// SetJWTCredentialStatus enables or disables a credential.
func (db *DB) SetJWTCredentialStatus(ctx context.Context, id, status string) error {
	if err := requireStatus(status); err != nil {
		return err
	}
	err := db.write(ctx, func(tx *tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE jwt_credentials SET status = $1 WHERE id = $2`, status, id)
		if err != nil {
			return err
		}
		return rowsAffected(res)
	})
	return db.wrap(err, "set status of JWT credential %s", id)
}

// ---- admin tokens

const adminTokenColumns = `id, name, hash, status, created_at`

func scanAdminToken(s scanner) (*switchboard.AdminToken, error) {
	var t switchboard.AdminToken
	var created int64
	if err := s.Scan(&t.ID, &t.Name, &t.Hash, &t.Status, &created); err != nil {
		return nil, err
	}
	t.Created = fromMillis(created)
	return &t, nil
}

// CreateAdminToken stores an admin token and fills its ID, Created (when
// zero) and Status (Enabled when empty).
func (db *DB) CreateAdminToken(ctx context.Context, t *switchboard.AdminToken) error {
	if t.Hash == "" {
		return switchboard.InvalidParam("hash", "", "An admin token needs a hash")
	}
	err := db.write(ctx, func(tx *tx) error {
		fillCreated(tx, &t.Created, &t.Status)
		return tx.QueryRowContext(ctx, `
			INSERT INTO admin_tokens (name, hash, status, created_at) VALUES ($1, $2, $3, $4)
			RETURNING id`, t.Name, t.Hash, t.Status, toMillis(t.Created)).Scan(&t.ID)
	})
	return db.wrap(err, "create admin token %q", t.Name)
}

// AdminTokenByHash returns an admin token by the SHA-256 of its text,
// cached until the directory epoch moves (authcache.go).
func (db *DB) AdminTokenByHash(ctx context.Context, hash string) (*switchboard.AdminToken, error) {
	e, err := db.cachedAuth(ctx, authKey{hash, adminTokenKind}, func(tx *tx) (authEntry, error) {
		t, err := scanAdminToken(tx.QueryRowContext(ctx, `SELECT `+adminTokenColumns+` FROM admin_tokens WHERE hash = $1`, hash))
		if err != nil {
			return authEntry{}, err
		}
		return authEntry{admin: *t}, nil
	})
	if err != nil {
		// The hash is a credential: keep it out of error messages and logs.
		return nil, db.wrap(err, "get admin token by hash")
	}
	t := e.admin
	return &t, nil
}

// AdminTokens lists every admin token, oldest first.
func (db *DB) AdminTokens(ctx context.Context) ([]*switchboard.AdminToken, error) {
	var ts []*switchboard.AdminToken
	err := db.read(ctx, func(tx *tx) error {
		var err error
		ts, err = queryAll(ctx, tx, scanAdminToken, `SELECT `+adminTokenColumns+` FROM admin_tokens ORDER BY id`)
		return err
	})
	return ts, db.wrap(err, "list admin tokens")
}

// SetAdminTokenStatus enables or disables an admin token.
func (db *DB) SetAdminTokenStatus(ctx context.Context, id int64, status string) error {
	if err := requireStatus(status); err != nil {
		return err
	}
	err := db.write(ctx, func(tx *tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE admin_tokens SET status = $1 WHERE id = $2`, status, id)
		if err != nil {
			return err
		}
		return rowsAffected(res)
	})
	return db.wrap(err, "set status of admin token %d", id)
}

// ---- secrets

// Secret returns the named server secret, creating it with generate on
// first use. Concurrent first uses each generate a candidate, but the
// insert keeps only the first and everyone reads that one back.
func (db *DB) Secret(ctx context.Context, name string, generate func() ([]byte, error)) ([]byte, error) {
	var v []byte
	err := db.read(ctx, func(tx *tx) error {
		return tx.QueryRowContext(ctx, `SELECT value FROM secrets WHERE name = $1`, name).Scan(&v)
	})
	if err == nil {
		return v, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, db.wrap(err, "get secret %s", name)
	}
	// Generated outside the transaction: it may be slow (a KDF, a key pair)
	// and must not hold the write lock.
	candidate, err := generate()
	if err != nil {
		return nil, db.wrap(err, "generate secret %s", name)
	}
	if len(candidate) == 0 {
		return nil, db.wrap(errors.New("generator returned no bytes"), "generate secret %s", name)
	}
	err = db.write(ctx, func(tx *tx) error {
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, name, candidate); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT value FROM secrets WHERE name = $1`, name).Scan(&v)
	})
	return v, db.wrap(err, "create secret %s", name)
}

// DeleteSecret implements switchboard.DirectoryStore. On SQLite the bytes
// leave the file with the row (secure_delete).
func (db *DB) DeleteSecret(ctx context.Context, name string) error {
	err := db.write(ctx, func(tx *tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM secrets WHERE name = $1`, name)
		return err
	})
	return db.wrap(err, "delete secret %s", name)
}
