package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/config"
	"github.com/switchboardhq/switchboard/internal/sqlstore"
)

// dbSettings say which database to open and how.
type dbSettings struct {
	database         string // "" (SQLite in dataDir), sqlite://PATH or postgres://...
	dataDir          string
	sqliteSync       string
	maxConns         int
	statementTimeout time.Duration
}

// openDatabase opens the store the settings name: PostgreSQL for a
// postgres:// URL, SQLite otherwise.
func openDatabase(ctx context.Context, s dbSettings, clock switchboard.Clock) (*sqlstore.DB, error) {
	if config.IsPostgres(s.database) {
		return sqlstore.OpenPostgres(ctx, s.database, clock, sqlstore.PostgresOptions{
			MaxConns: s.maxConns, StatementTimeout: s.statementTimeout})
	}
	if path, ok := strings.CutPrefix(s.database, "sqlite://"); ok {
		if path == "" {
			return nil, fmt.Errorf("database %q: want sqlite://PATH", s.database)
		}
		return sqlstore.OpenSQLite(ctx, path, clock, sqlstore.SQLiteOptions{Synchronous: s.sqliteSync})
	}
	if s.database != "" {
		return nil, fmt.Errorf("database %q: want sqlite://PATH or postgres://user:password@host:port/dbname", sqlstore.RedactURL(s.database))
	}
	return openStore(ctx, s.dataDir, s.sqliteSync, clock)
}

// openStore opens the SQLite database in the data directory.
func openStore(ctx context.Context, dataDir, sync string, clock switchboard.Clock) (*sqlstore.DB, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory %s: %w (choose another with --data)", dataDir, err)
	}
	return sqlstore.OpenSQLite(ctx, filepath.Join(dataDir, databaseFile), clock, sqlstore.SQLiteOptions{Synchronous: sync})
}

// sqlitePath is the SQLite file the settings name, or "" for PostgreSQL.
func sqlitePath(database, dataDir string) string {
	if config.IsPostgres(database) {
		return ""
	}
	if path, ok := strings.CutPrefix(database, "sqlite://"); ok {
		return path
	}
	return filepath.Join(dataDir, databaseFile)
}
