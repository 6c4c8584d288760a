package sqlstore

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/pgtest"
	"github.com/switchboardhq/switchboard/internal/ratelimit"
)

// BenchmarkRateLimitCost measures what rate limiting adds to a request: one
// counter hit (in memory, or the shared counter in the database that nodes
// over PostgreSQL use), against the baseline every authenticated request
// already pays, its token lookup (AccessPrincipal), on the same backend in
// the same run. 100 callers take turns, as users of one node would.
//
//	SWITCHBOARD_TEST_POSTGRES_URL=postgres://… go test -run '^$' -bench RateLimitCost ./internal/sqlstore/
func BenchmarkRateLimitCost(b *testing.B) {
	ctx := context.Background()
	clock := switchboard.NewManualClock(nil)
	backends := map[string]func(b *testing.B) *DB{
		"sqlite": func(b *testing.B) *DB {
			db, err := OpenSQLite(ctx, filepath.Join(b.TempDir(), "bench.db"), clock, SQLiteOptions{Synchronous: "FULL"})
			if err != nil {
				b.Fatal(err)
			}
			return db
		},
		"postgres": func(b *testing.B) *DB {
			db, err := OpenPostgres(ctx, pgtest.NewDatabase(b), clock, PostgresOptions{MaxConns: 8})
			if err != nil {
				b.Fatal(err)
			}
			return db
		},
	}
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			db := backends[name](b)
			defer db.Close()
			acc, err := db.CreateAccount(ctx, switchboard.AccountCreate{Name: "A", MainNumber: "+16505550100"})
			if err != nil {
				b.Fatal(err)
			}
			ext, err := db.CreateExtension(ctx, switchboard.ExtensionCreate{AccountID: acc.ID, ExtensionNumber: "101", Name: "U"})
			if err != nil {
				b.Fatal(err)
			}
			tok := &switchboard.Token{Hash: "bench-access", Kind: switchboard.TokenAccess, SessionID: "s", AccountID: acc.ID,
				ExtensionID: ext.ID, AppID: 1, Expires: clock.Now().Add(time.Hour)}
			if err := db.CreateTokens(ctx, tok); err != nil {
				b.Fatal(err)
			}
			b.Run("baseline-token-lookup", func(b *testing.B) {
				for b.Loop() {
					if _, err := db.AccessPrincipal(ctx, "bench-access", switchboard.TokenAccess, clock.Now()); err != nil {
						b.Fatal(err)
					}
				}
			})
			hit := func(b *testing.B, s ratelimit.Store) {
				i := 0
				for b.Loop() {
					now := clock.Now()
					if _, err := s.RateLimitHit(ctx, "Light|1|"+strconv.Itoa(i%100), now.Truncate(time.Minute), now, 50, time.Minute); err != nil {
						b.Fatal(err)
					}
					i++
				}
			}
			b.Run("counter-in-database", func(b *testing.B) { hit(b, db) })
			b.Run("counter-in-memory", func(b *testing.B) { hit(b, ratelimit.NewMemory()) })
		})
	}
}
