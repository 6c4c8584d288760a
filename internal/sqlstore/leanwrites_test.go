package sqlstore

import (
	"database/sql"
	"fmt"
	"io/fs"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/pressly/goose/v3"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/pgtest"
	"github.com/switchboardhq/switchboard/internal/storetest"
)

// TestMigrationLeanWrites stores messages at schema 16 (an SMS's text on
// its message's row, parties in the lean table), takes the schema down to
// 15 and up again, and checks that every message reads back as it was:
// the texts moved into attachments under their ids and are read from
// there, the parties are found by number, a purged text stays gone, and
// new attachment ids stay clear of the old.
func TestMigrationLeanWrites(t *testing.T) {
	type backend struct {
		name    string
		dialect goose.Dialect
		dir     string
		migs    fs.FS
		open    func(t *testing.T) (*DB, *sql.DB, func() *DB)
	}
	clock := testClock()
	backends := []backend{{"sqlite", goose.DialectSQLite3, "migrations/sqlite", sqliteMigrations, func(t *testing.T) (*DB, *sql.DB, func() *DB) {
		path := filepath.Join(t.TempDir(), "lean.db")
		db := mustOpen(t, path, clock, SQLiteOptions{})
		raw, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { raw.Close() })
		return db, raw, func() *DB { return mustOpen(t, path, clock, SQLiteOptions{}) }
	}}, {"postgres", goose.DialectPostgres, "migrations/postgres", postgresMigrations, func(t *testing.T) (*DB, *sql.DB, func() *DB) {
		url := pgtest.NewDatabase(t) // skips without a server (fails in CI)
		db, err := OpenPostgres(t.Context(), url, clock, PostgresOptions{})
		if err != nil {
			t.Fatal(err)
		}
		raw, err := sql.Open("pgx", url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { raw.Close() })
		return db, raw, func() *DB { return mustOpenPostgres(t, url, clock) }
	}}}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := t.Context()
			db, raw, reopen := b.open(t)
			acc, ext := seedMailbox(t, db)
			create := func(text string, atts ...*switchboard.Attachment) *switchboard.Message {
				t.Helper()
				m, err := db.CreateMessage(ctx, switchboard.MessageCreate{AccountID: acc, ExtensionID: ext, Type: switchboard.TypeSMS,
					Direction: switchboard.Inbound, Subject: text, From: switchboard.Party{PhoneNumber: "+14155550001"},
					To: []switchboard.Party{{PhoneNumber: "+16505550101"}}, Attachments: atts})
				if err != nil {
					t.Fatal(err)
				}
				return m
			}
			text := func(s string) *switchboard.Attachment {
				return &switchboard.Attachment{Type: switchboard.AttachmentText, ContentType: "text/plain", Content: []byte(s)}
			}
			sms := create("hello", text("hello"))
			mms := create("look", text("look"), &switchboard.Attachment{Type: switchboard.AttachmentMms, ContentType: "image/png", Content: []byte("png")})
			purged := create("secret", text("secret"))
			if err := db.DeleteMessage(ctx, acc, ext, purged.ID, true); err != nil {
				t.Fatal(err)
			}
			var inline int
			if err := raw.QueryRowContext(ctx, `SELECT COUNT(*) FROM messages WHERE text_attachment_id <> 0`).Scan(&inline); err != nil || inline != 2 {
				t.Fatalf("messages with their text on their row: %d (%v), want 2 (the SMS and the purged one)", inline, err)
			}
			before := map[int64]*switchboard.Message{}
			for _, m := range []*switchboard.Message{sms, mms, purged} {
				before[m.ID] = mustMessage(t, db, acc, ext, m.ID)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}

			sub, err := fs.Sub(b.migs, b.dir)
			if err != nil {
				t.Fatal(err)
			}
			p, err := goose.NewProvider(b.dialect, raw, sub, goose.WithDisableGlobalRegistry(true))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.DownTo(ctx, 15); err != nil {
				t.Fatal(err)
			}
			var moved int
			if err := raw.QueryRowContext(ctx, `SELECT COUNT(*) FROM attachments WHERE id IN ($1, $2) AND type = 'Text'`,
				sms.Attachments[0].ID, purged.Attachments[0].ID).Scan(&moved); err != nil || moved != 2 {
				t.Fatalf("texts moved into attachments at schema 15: %d (%v), want 2", moved, err)
			}

			db = reopen() // up to 16 again: the moved texts stay in attachments
			for id, want := range before {
				wantSame(t, mustMessage(t, db, acc, ext, id), want, fmt.Sprintf("message %d after down and up", id))
			}
			for _, tc := range []struct {
				m        *switchboard.Message
				contents []string
			}{{sms, []string{"hello"}}, {mms, []string{"look", "png"}}} {
				for i, a := range tc.m.Attachments {
					got, err := db.Attachment(ctx, acc, ext, tc.m.ID, a.ID)
					if err != nil {
						t.Fatalf("attachment %d of message %d: %v", a.ID, tc.m.ID, err)
					}
					if string(got.Content) != tc.contents[i] {
						t.Fatalf("attachment %d of message %d: %q, want %q", a.ID, tc.m.ID, got.Content, tc.contents[i])
					}
				}
			}
			if _, err := db.Attachment(ctx, acc, ext, purged.ID, purged.Attachments[0].ID); err == nil {
				t.Fatal("the purged message's text is readable after down and up")
			}
			page, err := db.ListMessages(ctx, switchboard.MessageFilter{AccountID: acc, ExtensionID: ext, PhoneNumber: "+14155550001", Limit: 10})
			if err != nil || len(page.Messages) != 3 {
				t.Fatalf("messages by phone number after down and up: %d (%v), want 3", len(page.Messages), err)
			}
			next := create("again", text("again"))
			for _, m := range before {
				for _, a := range m.Attachments {
					if a.ID >= next.Attachments[0].ID {
						t.Fatalf("new attachment id %d is not above the old %d", next.Attachments[0].ID, a.ID)
					}
				}
			}
		})
	}
}

func mustMessage(t *testing.T, db *DB, acc, ext, id int64) *switchboard.Message {
	t.Helper()
	m, err := db.Message(t.Context(), acc, ext, id)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func wantSame(t *testing.T, got, want *switchboard.Message, what string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s:\n got  %s\n want %s", what, show(got), show(want))
	}
}

// TestDeliveryQueryPlans: the worker's poll for due internal deliveries
// uses their own index, not the one of every pending delivery (which would
// walk a large batch's carrier backlog), and a batch's A2P statuses are
// counted from an index alone; with and without table statistics.
func TestDeliveryQueryPlans(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t, filepath.Join(t.TempDir(), "plan.db"), testClock(), SQLiteOptions{Synchronous: "NORMAL"})
	acc, ext := seedMailbox(t, db)
	for i := range 200 {
		c := switchboard.OutboundCreate{Message: switchboard.MessageCreate{AccountID: acc, ExtensionID: ext, Type: switchboard.TypeSMS,
			Direction: switchboard.Outbound, MessageStatus: switchboard.StatusQueued, ReadStatus: switchboard.Read, Subject: "hi",
			From: switchboard.Party{PhoneNumber: "+16505550101"}, To: []switchboard.Party{{PhoneNumber: fmt.Sprintf("+1415555%04d", i)}}},
			Recipients: []switchboard.DeliveryTarget{{Recipient: fmt.Sprintf("+1415555%04d", i)}}}
		if _, err := db.CreateOutbound(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	statuses, a := a2pStatusesQuery(switchboard.A2PMessageFilter{AccountID: acc, BatchID: 900000001})
	wantPlans(t, db, []planCase{
		{"due internal deliveries", dueInternalSQL, "INDEX deliveries_pending_internal", []any{toMillis(storetest.Base), 100}, false},
		{"A2P statuses of a batch", statuses, "COVERING INDEX messages_a2p_status", a, false},
	})
}
