package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/switchboardhq/switchboard/internal/config"
	"github.com/switchboardhq/switchboard/internal/sqlstore"
)

// backup copies a SQLite installation, while it serves, into one file:
// switchboard backup --data DIR --to FILE.
func backup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", envOr("SWITCHBOARD_DATA", "./switchboard-data"), "data directory of the installation (env SWITCHBOARD_DATA)")
	database := fs.String("database", envOr("SWITCHBOARD_DATABASE", ""), "sqlite://PATH when the database is not in the data directory (env SWITCHBOARD_DATABASE)")
	to := fs.String("to", "", "the backup file to write (must not exist)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: switchboard backup --data DIR --to FILE")
		fmt.Fprintln(stderr, "\nCopies the SQLite database into FILE while the server keeps serving: one consistent snapshot,")
		fmt.Fprintln(stderr, "integrity-checked. For PostgreSQL use pg_dump (see docs/operations.md).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *to == "" {
		return errors.New("backup: --to FILE is required")
	}
	src := sqlitePath(*database, *data)
	if src == "" {
		return errors.New("backup: the database is PostgreSQL: back it up with pg_dump (see docs/operations.md)")
	}
	started := time.Now()
	last := time.Time{}
	err := sqlstore.BackupSQLite(ctx, src, *to, func(copied, total int) {
		// Progress every second for big databases, and at the end.
		if now := time.Now(); copied == total || now.Sub(last) >= time.Second {
			last = now
			fmt.Fprintf(stderr, "backup: %d of %d pages (%d%%)\n", copied, total, percent(copied, total))
		}
	})
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	st, err := os.Stat(*to)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(stdout, "backed up %s to %s (%d bytes, %s)\n", src, *to, st.Size(), time.Since(started).Round(time.Millisecond))
	return nil
}

func percent(n, total int) int {
	if total == 0 {
		return 100
	}
	return n * 100 / total
}

// restore makes a new data directory from a backup file:
// switchboard restore --from FILE --data NEWDIR.
func restore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "the backup file (from switchboard backup)")
	data := fs.String("data", "", "the new data directory (must not hold a database)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: switchboard restore --from FILE --data NEWDIR")
		fmt.Fprintln(stderr, "\nChecks the backup and makes it the database of a new data directory; then start")
		fmt.Fprintln(stderr, "switchboard serve --data NEWDIR (migrations of a newer binary run at that start).")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *from == "" || *data == "" {
		return errors.New("restore: --from FILE and --data NEWDIR are required")
	}
	if config.IsPostgres(*data) {
		return errors.New("restore: --data is a directory; for PostgreSQL use pg_restore (see docs/operations.md)")
	}
	dst := filepath.Join(*data, databaseFile)
	if err := sqlstore.RestoreSQLite(ctx, *from, dst); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	fmt.Fprintf(stdout, "restored %s into %s; start it with: switchboard serve --data %s\n", *from, dst, shellQuote(*data))
	return nil
}
