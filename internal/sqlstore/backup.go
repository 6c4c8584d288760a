package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	"modernc.org/sqlite"
)

// BackupProgress is told, after each step of a backup, how many of the
// database's pages are copied.
type BackupProgress func(copied, total int)

// backupStepPages is how many pages one backup step copies: 4 MiB at the
// default page size, so progress shows for big databases.
var backupStepPages int32 = 1024 // a variable for tests

// BackupSQLite copies the SQLite database at src into a new file dst while
// servers keep using src. The copy is one consistent snapshot: the backup
// runs inside a read transaction on its own connection, so writes that
// commit meanwhile (WAL mode lets them go on) are not in the copy and do
// not make the backup start over. dst must not exist; it is written under
// a temporary name and renamed once complete and checked, so a failed
// backup leaves no partial file.
func BackupSQLite(ctx context.Context, src, dst string, progress BackupProgress) error {
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("sqlstore: backup: %w (is --data the server's data directory?)", err)
	}
	if _, err := os.Stat(dst); err == nil {
		return fmt.Errorf("sqlstore: backup: %s exists; choose a new file name", dst)
	}
	absSrc, err := filepath.Abs(src)
	if err != nil {
		return err
	}
	absDst, err := filepath.Abs(dst)
	if err != nil {
		return err
	}
	tmp := absDst + ".partial"
	_ = os.Remove(tmp)
	defer os.Remove(tmp) // gone after the rename; removes a failed attempt
	// The copy holds password hashes and signing keys: private from the start.
	if f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err != nil {
		return fmt.Errorf("sqlstore: backup: create %s: %w", tmp, err)
	} else {
		f.Close()
	}

	db, err := sql.Open("sqlite", sqliteDSN(absSrc, url.Values{"_pragma": {"busy_timeout(10000)"}}))
	if err != nil {
		return fmt.Errorf("sqlstore: backup: open %s: %w", src, err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: backup: open %s: %w", src, err)
	}
	defer conn.Close()
	// The read transaction pins the snapshot every step copies from.
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		return fmt.Errorf("sqlstore: backup: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK") // it only read
	var n int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&n); err != nil {
		return fmt.Errorf("sqlstore: backup: read %s: %w (is it a Switchboard database?)", src, err)
	}
	err = conn.Raw(func(dc any) error {
		b, ok := dc.(interface {
			NewBackup(string) (*sqlite.Backup, error)
		})
		if !ok {
			return errors.New("the SQLite driver has no backup API")
		}
		bk, err := b.NewBackup(tmp)
		if err != nil {
			return err
		}
		for more := true; more; {
			if err := ctx.Err(); err != nil {
				_ = bk.Finish()
				return err
			}
			if more, err = bk.Step(backupStepPages); err != nil {
				_ = bk.Finish()
				return err
			}
			if progress != nil {
				total := bk.PageCount()
				progress(total-bk.Remaining(), total)
			}
		}
		return bk.Finish()
	})
	if err != nil {
		return fmt.Errorf("sqlstore: backup %s: %w", src, err)
	}
	if err := checkSQLiteFile(ctx, tmp); err != nil {
		return fmt.Errorf("sqlstore: backup %s: the copy does not check out: %w", src, err)
	}
	if err := os.Rename(tmp, absDst); err != nil {
		return fmt.Errorf("sqlstore: backup: %w", err)
	}
	return nil
}

// RestoreSQLite makes dst, which must not exist, a copy of the backup file
// src, after checking that src is a sound SQLite database. The copy is
// opened (and migrated) by the server's next start.
func RestoreSQLite(ctx context.Context, src, dst string) error {
	if _, err := os.Stat(dst); err == nil {
		return fmt.Errorf("sqlstore: restore: %s exists; restore into a new data directory", dst)
	}
	if err := checkSQLiteFile(ctx, src); err != nil {
		return fmt.Errorf("sqlstore: restore: %s is not a sound backup: %w", src, err)
	}
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("sqlstore: restore: %w", err)
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return fmt.Errorf("sqlstore: restore: %w", err)
	}
	tmp := dst + ".partial"
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("sqlstore: restore: %w", err)
	}
	defer os.Remove(tmp)
	if _, err := out.ReadFrom(in); err != nil {
		out.Close()
		return fmt.Errorf("sqlstore: restore: copy: %w", err)
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return fmt.Errorf("sqlstore: restore: %w", err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("sqlstore: restore: %w", err)
	}
	return os.Rename(tmp, dst)
}

// checkSQLiteFile runs SQLite's integrity check on the file at path and
// makes sure it is a Switchboard database (it has a migration table).
func checkSQLiteFile(ctx context.Context, path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	if _, err := os.Stat(abs); err != nil {
		return err
	}
	db, err := sql.Open("sqlite", sqliteDSN(abs, url.Values{"mode": {"ro"}}))
	if err != nil {
		return err
	}
	defer db.Close()
	var result string
	if err := db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&result); err != nil {
		return err
	}
	if result != "ok" {
		return fmt.Errorf("integrity check: %s", result)
	}
	var tables int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('goose_db_version', 'messages')`).Scan(&tables); err != nil {
		return err
	}
	if tables != 2 {
		return errors.New("no Switchboard tables in it")
	}
	return nil
}
