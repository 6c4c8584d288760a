package main

import (
	"fmt"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/config"
	"github.com/switchboardhq/switchboard/internal/ratelimit"
	"github.com/switchboardhq/switchboard/internal/sqlstore"
)

// newLimiter applies RingCentral's rate limits with counters in memory
// (SQLite: one node) or in PostgreSQL, shared by every node, so the limit
// holds for the cluster.
func newLimiter(cfg config.Config, store *sqlstore.DB, clock switchboard.Clock) (*ratelimit.Limiter, error) {
	var counters ratelimit.Store = ratelimit.NewMemory()
	if config.IsPostgres(cfg.Database) {
		counters = store
	}
	l, err := ratelimit.New(counters, clock, cfg.RateLimitSettings())
	if err != nil {
		return nil, fmt.Errorf("rate limits: %w", err)
	}
	return l, nil
}
