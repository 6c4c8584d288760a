// Package pgtest gives tests a fresh PostgreSQL database each.
//
// The server is named by SWITCHBOARD_TEST_POSTGRES_URL (a URL whose user
// may CREATE and DROP DATABASE, e.g.
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable). Without it
// the PostgreSQL tests are skipped, except in CI (CI set), where a missing
// database is a failure rather than a silently smaller test run.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// EnvURL is the environment variable that names the test server.
const EnvURL = "SWITCHBOARD_TEST_POSTGRES_URL"

// ServerURL returns the test server's URL, or skips the test (fails it in
// CI) when none is configured.
func ServerURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		if os.Getenv("CI") != "" {
			tb.Fatalf("%s is not set, and CI is: the PostgreSQL tests must run in CI (set it to a server where the user may create databases)", EnvURL)
		}
		tb.Skipf("PostgreSQL tests skipped: set %s (e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable) to run them", EnvURL)
	}
	return u
}

// NewDatabase creates a database with a random name on the test server,
// drops it when the test ends, and returns its URL.
func NewDatabase(tb testing.TB) string {
	tb.Helper()
	server := ServerURL(tb)
	admin, err := sql.Open("pgx", server)
	if err != nil {
		tb.Fatal(err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "switchboard_test_" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		_ = admin.Close()
		tb.Fatalf("create test database on %s: %v (is PostgreSQL running, and may the user create databases?)", server, err)
	}
	tb.Cleanup(func() {
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// FORCE: a node killed by a test may have left connections behind.
		if _, err := admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			tb.Errorf("drop test database %s: %v", name, err)
		}
	})
	u, err := url.Parse(server)
	if err != nil {
		tb.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}
