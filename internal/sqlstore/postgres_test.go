package sqlstore

import (
	"context"
	"testing"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/pgtest"
	"github.com/switchboardhq/switchboard/internal/storetest"
)

// mustOpenPostgres opens a store on a fresh database and closes it when
// the test ends.
func mustOpenPostgres(tb testing.TB, url string, clock switchboard.Clock) *DB {
	tb.Helper()
	db, err := OpenPostgres(context.Background(), url, clock, PostgresOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Errorf("close: %v", err)
		}
	})
	return db
}

func TestPostgresStore(t *testing.T) {
	pgtest.ServerURL(t) // skips (or fails in CI) without a server
	storetest.Run(t, func(t *testing.T, clock switchboard.Clock) switchboard.Store {
		return mustOpenPostgres(t, pgtest.NewDatabase(t), clock)
	})
}
