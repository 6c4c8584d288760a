package sqlstore

import (
	"context"
	"database/sql"
	"testing"
	"time"

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

// TestPostgresWatchAcrossNodes: two stores over one database stand for two
// nodes; a commit on one wakes the change watchers of the other (LISTEN/
// NOTIFY), also after the listening connection was cut.
func TestPostgresWatchAcrossNodes(t *testing.T) {
	url := pgtest.NewDatabase(t)
	ctx := t.Context()
	a := mustOpenPostgres(t, url, testClock())
	b := mustOpenPostgres(t, url, testClock())
	accID, extID := seedMailbox(t, a)
	changed, stop := b.WatchChanges()
	defer stop()
	create := func() {
		t.Helper()
		if _, err := a.CreateMessage(ctx, switchboard.MessageCreate{AccountID: accID, ExtensionID: extID,
			Type: switchboard.TypeSMS, Direction: switchboard.Inbound, From: switchboard.Party{PhoneNumber: "+14155550001"},
			To: []switchboard.Party{{PhoneNumber: "+16505550101"}}, Subject: "hi"}); err != nil {
			t.Fatal(err)
		}
	}
	// wake writes on a until b's watcher fires: the first writes may come
	// before b's listener is (back) in place, and then go unannounced.
	wake := func(what string) {
		t.Helper()
		deadline := time.After(15 * time.Second)
		for {
			drain(changed)
			create()
			select {
			case <-changed:
				return
			case <-time.After(200 * time.Millisecond):
			case <-deadline:
				t.Fatalf("%s: node b's watcher never fired on node a's commits", what)
			}
		}
	}
	wake("first commit")

	// Cut b's listening connection: it reconnects by itself.
	admin, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var cut int
	if err := admin.QueryRowContext(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND query LIKE 'LISTEN%'`).Scan(&cut); err != nil {
		t.Fatal(err)
	}
	if cut != 2 {
		t.Fatalf("terminated %d listening connections, want 2 (one per store)", cut)
	}
	wake("after the listener was cut")
	// The reconnect itself signals once; a second round proves the
	// notifications flow again.
	time.Sleep(300 * time.Millisecond)
	wake("after the listener was back")

	// And b's own commits still wake its watchers.
	drain(changed)
	if _, err := b.CreateMessage(ctx, switchboard.MessageCreate{AccountID: accID, ExtensionID: extID,
		Type: switchboard.TypeSMS, Direction: switchboard.Inbound, From: switchboard.Party{PhoneNumber: "+14155550001"},
		To: []switchboard.Party{{PhoneNumber: "+16505550101"}}, Subject: "local"}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-changed:
	case <-time.After(10 * time.Second):
		t.Fatal("own commit: no signal")
	}
}

func drain(ch <-chan struct{}) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}
