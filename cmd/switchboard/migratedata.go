package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/config"
	"github.com/switchboardhq/switchboard/internal/sqlstore"
)

// migrateData copies a SQLite installation into an empty PostgreSQL
// database: switchboard migrate-data --from sqlite://PATH --to postgres://...
func migrateData(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate-data", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "the SQLite database: sqlite://PATH (a file, or a data directory holding "+databaseFile+")")
	to := fs.String("to", "", "an empty PostgreSQL database: postgres://user:password@host:5432/dbname?sslmode=disable")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: switchboard migrate-data --from sqlite://PATH --to postgres://URL")
		fmt.Fprintln(stderr, "\nCopies every row (ids kept) into an empty PostgreSQL database, then checks the row count of every table.")
		fmt.Fprintln(stderr, "Stop the server first: writes made during the copy are not copied.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	path, ok := strings.CutPrefix(*from, "sqlite://")
	if !ok || path == "" {
		return errors.New("migrate-data: --from must be sqlite://PATH")
	}
	if !config.IsPostgres(*to) {
		return errors.New("migrate-data: --to must be a postgres:// URL")
	}
	if st, err := os.Stat(path); err != nil {
		return fmt.Errorf("migrate-data: source %s: %w", path, err)
	} else if st.IsDir() {
		path = filepath.Join(path, databaseFile)
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("migrate-data: source %s: %w", path, err)
		}
	}
	clock := switchboard.SystemClock{}
	// Opening applies pending migrations to both, so they are at this
	// binary's schema version.
	src, err := sqlstore.OpenSQLite(ctx, path, clock, sqlstore.SQLiteOptions{})
	if err != nil {
		return fmt.Errorf("migrate-data: %w", err)
	}
	defer src.Close()
	dst, err := sqlstore.OpenPostgres(ctx, *to, clock, sqlstore.PostgresOptions{MaxConns: 2})
	if err != nil {
		return fmt.Errorf("migrate-data: %w", err)
	}
	defer dst.Close()
	fmt.Fprintf(stdout, "copying %s into %s\n", path, sqlstore.RedactURL(*to))
	counts, err := sqlstore.CopyData(ctx, src, dst, stdout)
	if err != nil {
		return fmt.Errorf("migrate-data: %w", err)
	}
	var total int64
	for _, c := range counts {
		total += c
	}
	fmt.Fprintf(stdout, "verified: every table has the same number of rows in both databases (%d tables, %d rows)\n", len(counts), total)
	fmt.Fprintf(stdout, "start the server with --database %s\n", sqlstore.RedactURL(*to))
	return nil
}
