package sqlstore

import (
	"database/sql"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/storetest"
)

// TestRetentionLeavesNoBytesOnDisk runs the retention steps the way the
// worker does and reads the raw files: after Compact nothing of a purged
// message's attachments or subject may be left in the database or WAL.
func TestRetentionLeavesNoBytesOnDisk(t *testing.T) {
	for _, remove := range []bool{false, true} {
		t.Run(fmt.Sprintf("remove=%v", remove), func(t *testing.T) {
			ctx := t.Context()
			clock := testClock()
			path := filepath.Join(t.TempDir(), "switchboard.db")
			db := mustOpen(t, path, clock, SQLiteOptions{})
			acc, ext := seedMailbox(t, db)
			m, marker, keep := seedMarked(t, db, acc, ext)
			checkpoint(t, db)
			if !onDisk(t, path, marker) {
				t.Fatal("the marker is not in the database file; the test cannot see what it looks for")
			}
			if err := db.DeleteMessage(ctx, acc, ext, m.ID, false); err != nil {
				t.Fatal(err)
			}
			now := clock.Advance(time.Hour)
			if n, err := db.PurgeDeleted(ctx, acc, now, 10); err != nil || n != 1 {
				t.Fatalf("PurgeDeleted = %d, %v", n, err)
			}
			if remove {
				now = clock.Advance(time.Hour)
				if n, err := db.RemovePurged(ctx, acc, now, 10); err != nil || n != 1 {
					t.Fatalf("RemovePurged = %d, %v", n, err)
				}
				for _, table := range []string{"attachments", "message_parties"} {
					var left int
					if err := db.reader.QueryRow(`SELECT COUNT(*) FROM `+table+` WHERE message_id = $1`, m.ID).Scan(&left); err != nil || left != 0 {
						t.Fatalf("%d rows of %s left for the removed message (%v)", left, table, err)
					}
				}
			}
			if err := db.Compact(ctx); err != nil {
				t.Fatal(err)
			}
			if onDisk(t, path, marker) {
				t.Fatal("purged bytes are still in the database file or WAL")
			}
			if !onDisk(t, path, keep) {
				t.Fatal("the neighbour's attachment is gone too")
			}
		})
	}
}

// TestCompactReportsBusy holds a read transaction on an old snapshot, so
// the checkpoint cannot truncate the WAL: Compact must say so.
func TestCompactReportsBusy(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t, filepath.Join(t.TempDir(), "busy.db"), testClock(), SQLiteOptions{})
	acc, ext := seedMailbox(t, db)
	// A short busy timeout on the writer keeps the test fast.
	if _, err := db.writer.ExecContext(ctx, `PRAGMA busy_timeout = 50`); err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = db.writer.Exec(`PRAGMA busy_timeout = 10000`) }()
	rtx, err := db.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := rtx.QueryRow(`SELECT COUNT(*) FROM messages`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if err := seedMessages(ctx, db, acc, ext, 10, storetest.Base); err != nil {
		t.Fatal(err)
	}
	err = db.Compact(ctx)
	_ = rtx.Rollback()
	if err == nil || !strings.Contains(err.Error(), "busy") {
		t.Fatalf("Compact with a reader on an old snapshot: %v, want a busy error", err)
	}
	if err := db.Compact(ctx); err != nil {
		t.Fatalf("Compact after the reader ended: %v", err)
	}
}

// TestRetentionQueryPlans checks that the retention steps find their rows
// through the indexes made for them, with and without statistics.
func TestRetentionQueryPlans(t *testing.T) {
	db := mustOpen(t, filepath.Join(t.TempDir(), "plan.db"), testClock(), SQLiteOptions{Synchronous: "NORMAL"})
	acc, ext := seedMailbox(t, db)
	if err := seedMessages(t.Context(), db, acc, ext, 600, storetest.Base); err != nil {
		t.Fatal(err)
	}
	cutoff := toMillis(storetest.Base)
	wantPlans(t, db, []planCase{
		{"purge", purgeCandidatesSQL, "INDEX messages_account_deleted", []any{acc, cutoff, 500}, false},
		{"remove", removeCandidatesSQL, "INDEX messages_account_purged", []any{acc, cutoff, 500}, false},
		{"cap", oldestAliveSQL, "INDEX messages_mailbox_time", []any{ext, acc, 500}, false},
		{"over cap", overCapSQL, "INDEX mailbox_stats_account", []any{acc, 100}, true},
		{"prune", pruneChangesSQL, "INDEX changes_at", []any{cutoff}, false},
	})
}

// planCase is a query that must use an index (named as EXPLAIN QUERY
// PLAN names it: "INDEX x" or, to insist on it, "COVERING INDEX x").
type planCase struct {
	name, query, index string
	args               []any
	sorts              bool // sorting the result is fine: it is a few rows
}

// wantPlans checks each case's plan without statistics, then after
// ANALYZE (PRAGMA optimize may add them in the field).
func wantPlans(t *testing.T, db *DB, cases []planCase) {
	t.Helper()
	for _, stats := range []bool{false, true} {
		if stats {
			if _, err := db.writer.Exec(`ANALYZE`); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%s stats=%v", tc.name, stats), func(t *testing.T) {
				plan := explainSQL(t, db, tc.query, tc.args...)
				if !strings.Contains(plan, tc.index) {
					t.Fatalf("plan does not use %s:\n%s", tc.index, plan)
				}
				if !tc.sorts && strings.Contains(plan, "TEMP B-TREE") {
					t.Fatalf("plan sorts in a temporary b-tree:\n%s", plan)
				}
			})
		}
	}
}

func explainSQL(tb testing.TB, db *DB, q string, a ...any) string {
	tb.Helper()
	rows, err := db.reader.Query("EXPLAIN QUERY PLAN "+q, a...)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			tb.Fatal(err)
		}
		fmt.Fprintln(&b, detail)
	}
	if err := rows.Err(); err != nil {
		tb.Fatal(err)
	}
	return b.String()
}

// TestMigrationCountsAliveMessages upgrades a database written at schema
// version 1 and checks that mailbox_stats starts with the right counts,
// so the mailbox cap is right from the first run after the upgrade.
func TestMigrationCountsAliveMessages(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "v1.db")
	clock := testClock()
	// Build version 1 with this binary: create the full schema, put rows in,
	// and roll back to version 1 (the down migration of 00002).
	db := mustOpen(t, path, clock, SQLiteOptions{})
	acc, ext := seedMailbox(t, db)
	ext2, err := db.CreateExtension(ctx, switchboard.ExtensionCreate{AccountID: acc, ExtensionNumber: "102", Name: "Second"})
	if err != nil {
		t.Fatal(err)
	}
	if err := seedMessages(ctx, db, acc, ext, 400, storetest.Base); err != nil { // 20 of 400 Deleted
		t.Fatal(err)
	}
	if err := seedMessages(ctx, db, acc, ext2.ID, 30, storetest.Base); err != nil { // 2 of 30 Deleted
		t.Fatal(err)
	}
	sub, err := fs.Sub(sqliteMigrations, "migrations/sqlite")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db.writer, sub, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 1); err != nil {
		t.Fatal(err)
	}
	// Version 1 has no mailbox_stats.
	var tables int
	if err := db.writer.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE name = 'mailbox_stats'`).Scan(&tables); err != nil || tables != 0 {
		t.Fatalf("mailbox_stats after migrating down: %d (%v)", tables, err)
	}
	// Only the first migration's file, as an old binary would have it.
	v1, err := fs.ReadFile(sub, "00001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate(ctx, db.writer, goose.DialectSQLite3, fstest.MapFS{"00001_init.sql": {Data: v1}}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = mustOpen(t, path, clock, SQLiteOptions{})
	counts := map[int64]int{}
	rows, err := db.reader.Query(`SELECT extension_id, alive FROM mailbox_stats WHERE account_id = $1`, acc)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var x int64
		var n int
		if err := rows.Scan(&x, &n); err != nil {
			t.Fatal(err)
		}
		counts[x] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	_ = rows.Close()
	if counts[ext] != 380 || counts[ext2.ID] != 28 || len(counts) != 2 {
		t.Fatalf("mailbox_stats after the upgrade: %v, want %d: 380, %d: 28", counts, ext, ext2.ID)
	}
	if n, err := db.EnforceMailboxCap(ctx, acc, 300); err != nil || n != 80 {
		t.Fatalf("EnforceMailboxCap after the upgrade = %d, %v; want 80", n, err)
	}
	a, err := db.Account(ctx, acc)
	if err != nil || a.Retention != (switchboard.AccountRetention{}) {
		t.Fatalf("account after the upgrade: %+v, %v", a, err)
	}
}
