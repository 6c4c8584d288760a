package sqlstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/storetest"
)

// mustOpen opens a store at path and closes it when the test ends.
func mustOpen(tb testing.TB, path string, clock switchboard.Clock, opts SQLiteOptions) *DB {
	tb.Helper()
	db, err := OpenSQLite(context.Background(), path, clock, opts)
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

func testClock() *switchboard.ManualClock {
	return switchboard.NewManualClock(func() time.Time { return storetest.Base })
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T, clock switchboard.Clock) switchboard.Store {
		// The default options (synchronous FULL) are what production runs.
		return mustOpen(t, filepath.Join(t.TempDir(), "switchboard.db"), clock, SQLiteOptions{})
	})
}

func TestOpenCreatesPrivateFileInNewDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a dir?#%", "nested", "switchboard.db")
	mustOpen(t, path, testClock(), SQLiteOptions{})
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode&0o077 != 0 {
		t.Fatalf("database file mode %v, want no access for group and others", mode)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, bytes.Repeat([]byte("not a database "), 512), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		path string
		opts SQLiteOptions
		want []string // all of these in the message
	}{
		{"parent is a file", filepath.Join(file, "switchboard.db"), SQLiteOptions{}, []string{file, "permissions"}},
		{"not a database", garbage, SQLiteOptions{}, []string{garbage, "SQLite database"}},
		{"unknown synchronous mode", filepath.Join(dir, "x.db"), SQLiteOptions{Synchronous: "OFF"}, []string{`"OFF"`, "FULL or NORMAL"}},
		{"empty path", "", SQLiteOptions{}, []string{"data directory"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, err := OpenSQLite(t.Context(), tc.path, testClock(), tc.opts)
			if err == nil {
				db.Close()
				t.Fatal("OpenSQLite succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestPragmas(t *testing.T) {
	for _, tc := range []struct {
		opts SQLiteOptions
		sync int
	}{
		{SQLiteOptions{}, 2},
		{SQLiteOptions{Synchronous: "full"}, 2},
		{SQLiteOptions{Synchronous: "NORMAL"}, 1},
	} {
		t.Run(fmt.Sprintf("synchronous %q", tc.opts.Synchronous), func(t *testing.T) {
			db := mustOpen(t, filepath.Join(t.TempDir(), "p.db"), testClock(), tc.opts)
			for _, p := range []struct {
				pragma string
				want   any
			}{
				{"journal_mode", "wal"},
				{"synchronous", tc.sync},
				{"foreign_keys", 1},
				{"secure_delete", 1},
				{"busy_timeout", 10000},
				{"temp_store", 2}, // MEMORY
			} {
				var got any
				if err := db.writer.QueryRow("PRAGMA " + p.pragma).Scan(&got); err != nil {
					t.Fatal(err)
				}
				if fmt.Sprint(got) != fmt.Sprint(p.want) {
					t.Errorf("writer %s = %v, want %v", p.pragma, got, p.want)
				}
			}
			var queryOnly int
			if err := db.reader.QueryRow("PRAGMA query_only").Scan(&queryOnly); err != nil || queryOnly != 1 {
				t.Errorf("reader query_only = %d (%v), want 1", queryOnly, err)
			}
			if _, err := db.reader.Exec(`DELETE FROM accounts`); err == nil {
				t.Error("the reader pool accepted a write")
			}
			if n := db.writer.Stats().MaxOpenConnections; n != 1 {
				t.Errorf("writer pool allows %d connections, want 1", n)
			}
		})
	}
}

func TestReopenKeepsDataAndMigratesOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "switchboard.db")
	clock := testClock()
	ctx := t.Context()

	db, err := OpenSQLite(ctx, path, clock, SQLiteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	acc, err := db.CreateAccount(ctx, switchboard.AccountCreate{Name: "Durable"})
	if err != nil {
		t.Fatal(err)
	}
	ext, err := db.CreateExtension(ctx, switchboard.ExtensionCreate{AccountID: acc.ID, ExtensionNumber: "101", Name: "A"})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := db.CreateMessage(ctx, switchboard.MessageCreate{AccountID: acc.ID, ExtensionID: ext.ID,
		Type: switchboard.TypeSMS, Direction: switchboard.Inbound, Subject: "kept",
		From: switchboard.Party{PhoneNumber: "+14155550001"}, To: []switchboard.Party{{PhoneNumber: "+16505550101"}},
		Attachments: []*switchboard.Attachment{{Type: switchboard.AttachmentText, ContentType: "text/plain", Content: []byte("kept")}}})
	if err != nil {
		t.Fatal(err)
	}
	secret, err := db.Secret(ctx, "jwt", func() ([]byte, error) { return []byte("s3cret"), nil })
	if err != nil {
		t.Fatal(err)
	}
	versions := migrationRows(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	for i := range 2 {
		db := mustOpen(t, path, clock, SQLiteOptions{})
		got, err := db.Message(ctx, acc.ID, ext.ID, msg.ID)
		if err != nil {
			t.Fatalf("reopen %d: %v", i, err)
		}
		if got.Subject != "kept" || len(got.Attachments) != 1 {
			t.Fatalf("reopen %d: message %+v", i, got)
		}
		a, err := db.Attachment(ctx, acc.ID, ext.ID, msg.ID, got.Attachments[0].ID)
		if err != nil || string(a.Content) != "kept" {
			t.Fatalf("reopen %d: attachment %q, %v", i, a.Content, err)
		}
		s, err := db.Secret(ctx, "jwt", func() ([]byte, error) { return []byte("new"), nil })
		if err != nil || !bytes.Equal(s, secret) {
			t.Fatalf("reopen %d: secret %q, %v", i, s, err)
		}
		if got := migrationRows(t, db); got != versions {
			t.Fatalf("reopen %d: migration history %q, was %q", i, got, versions)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// migrationRows is goose's history, to prove a reopen applies nothing.
func migrationRows(t *testing.T, db *DB) string {
	t.Helper()
	rows, err := db.reader.Query(`SELECT version_id, is_applied FROM goose_db_version ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var v int64
		var applied bool
		if err := rows.Scan(&v, &applied); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%d:%v ", v, applied)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"1:true", "2:true", "3:true"} {
		if !strings.Contains(b.String(), v) {
			t.Fatalf("migration %s not recorded: %q", v, b.String())
		}
	}
	return b.String()
}

func TestRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "switchboard.db")
	db := mustOpen(t, path, testClock(), SQLiteOptions{})
	if _, err := db.writer.Exec(`INSERT INTO goose_db_version (version_id, is_applied) VALUES (99999, 1)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if db, err := OpenSQLite(t.Context(), path, testClock(), SQLiteOptions{}); err == nil || !strings.Contains(err.Error(), "newer") {
		if db != nil {
			db.Close()
		}
		t.Fatalf("opening a database from a newer binary: %v", err)
	}
}

// TestPurgeLeavesNoBytesOnDisk reads the raw database and WAL files: after
// a purge and a checkpoint the attachment bytes must be gone, not merely
// unlinked from the b-tree. Each way to purge is checked, with an inline
// attachment and one large enough for overflow pages.
func TestPurgeLeavesNoBytesOnDisk(t *testing.T) {
	purged := switchboard.Purged
	for _, tc := range []struct {
		name  string
		purge func(db *DB, acc, ext int64, m *switchboard.Message) error
	}{
		{"DeleteMessage purge", func(db *DB, acc, ext int64, m *switchboard.Message) error {
			return db.DeleteMessage(t.Context(), acc, ext, m.ID, true)
		}},
		{"DeleteMessage twice", func(db *DB, acc, ext int64, m *switchboard.Message) error {
			if err := db.DeleteMessage(t.Context(), acc, ext, m.ID, false); err != nil {
				return err
			}
			return db.DeleteMessage(t.Context(), acc, ext, m.ID, false)
		}},
		{"UpdateMessage to Purged", func(db *DB, acc, ext int64, m *switchboard.Message) error {
			_, err := db.UpdateMessage(t.Context(), acc, ext, m.ID, switchboard.MessageUpdate{Availability: &purged})
			return err
		}},
		{"DeleteMessages purge", func(db *DB, acc, ext int64, m *switchboard.Message) error {
			_, err := db.DeleteMessages(t.Context(), switchboard.MessageDeleteFilter{AccountID: acc, ExtensionID: ext,
				ConversationIDs: []int64{m.ConversationID}, DateTo: storetest.Base.Add(time.Hour), Purge: true})
			return err
		}},
		{"DeleteMessages twice", func(db *DB, acc, ext int64, m *switchboard.Message) error {
			f := switchboard.MessageDeleteFilter{AccountID: acc, ExtensionID: ext,
				ConversationIDs: []int64{m.ConversationID}, DateTo: storetest.Base.Add(time.Hour)}
			if _, err := db.DeleteMessages(t.Context(), f); err != nil {
				return err
			}
			_, err := db.DeleteMessages(t.Context(), f)
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "switchboard.db")
			db := mustOpen(t, path, testClock(), SQLiteOptions{})
			acc, ext := seedMailbox(t, db)
			m, marker, keep := seedMarked(t, db, acc, ext)

			onDisk := func(needle []byte) bool { t.Helper(); return onDisk(t, path, needle) }
			checkpoint := func() { t.Helper(); checkpoint(t, db) }
			if !onDisk(marker) {
				t.Fatal("the marker is not on disk before the purge; the test cannot see what it looks for")
			}
			checkpoint()
			if !onDisk(marker) {
				t.Fatal("the marker is not in the database file after a checkpoint")
			}

			if err := tc.purge(db, acc, ext, m); err != nil {
				t.Fatal(err)
			}
			var kept int
			if err := db.reader.QueryRow(`SELECT COUNT(*) FROM attachments WHERE message_id = $1 AND content IS NOT NULL`, m.ID).Scan(&kept); err != nil || kept != 0 {
				t.Fatalf("%d attachments of the purged message keep content (%v)", kept, err)
			}
			checkpoint()
			if onDisk(marker) {
				t.Fatal("purged attachment bytes are still in the database file or WAL")
			}
			if !onDisk(keep) {
				t.Fatal("the neighbour's attachment is gone too")
			}
		})
	}
}

// onDisk reports whether needle is in the raw database file or its WAL.
func onDisk(t *testing.T, path string, needle []byte) bool {
	t.Helper()
	found := false
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(path + suffix)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		found = found || bytes.Contains(b, needle)
	}
	return found
}

// checkpoint copies the WAL into the database file and truncates it.
func checkpoint(t *testing.T, db *DB) {
	t.Helper()
	var busy, log, done int
	if err := db.writer.QueryRow(`PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &log, &done); err != nil || busy != 0 {
		t.Fatalf("checkpoint: busy %d, %v", busy, err)
	}
}

func seedMailbox(tb testing.TB, db *DB) (accountID, extensionID int64) {
	tb.Helper()
	ctx := context.Background()
	acc, err := db.CreateAccount(ctx, switchboard.AccountCreate{Name: "Seed"})
	if err != nil {
		tb.Fatal(err)
	}
	ext, err := db.CreateExtension(ctx, switchboard.ExtensionCreate{AccountID: acc.ID, ExtensionNumber: "101", Name: "Seed"})
	if err != nil {
		tb.Fatal(err)
	}
	return acc.ID, ext.ID
}

// TestListQueryPlan checks that SQLite walks messages_mailbox_time in
// order for the list query instead of sorting the mailbox, with and
// without table statistics (PRAGMA optimize or ANALYZE may add them).
func TestListQueryPlan(t *testing.T) {
	db := mustOpen(t, filepath.Join(t.TempDir(), "plan.db"), testClock(), SQLiteOptions{Synchronous: "NORMAL"})
	acc, ext := seedMailbox(t, db)
	if err := seedMessages(t.Context(), db, acc, ext, 1000, storetest.Base); err != nil {
		t.Fatal(err)
	}
	base := switchboard.MessageFilter{AccountID: acc, ExtensionID: ext, Limit: 100}
	with := func(fn func(*switchboard.MessageFilter)) switchboard.MessageFilter {
		f := base
		fn(&f)
		return f
	}
	cases := []struct {
		name  string
		f     switchboard.MessageFilter
		index string
		after *pagePos // a keyset page (pagecursor.go)
	}{
		{"plain", base, "messages_mailbox_time", nil},
		{"deep page", with(func(f *switchboard.MessageFilter) { f.Offset = 800 }), "messages_mailbox_time", nil},
		{"availability", with(func(f *switchboard.MessageFilter) { f.Availability = []switchboard.Availability{switchboard.Alive} }), "messages_mailbox_time", nil},
		{"every enum filter", with(func(f *switchboard.MessageFilter) {
			f.Availability = []switchboard.Availability{switchboard.Alive, switchboard.Deleted}
			f.Direction = []switchboard.Direction{switchboard.Inbound}
			f.Types = []switchboard.MessageType{switchboard.TypeSMS, switchboard.TypePager}
			f.ReadStatus = []switchboard.ReadStatus{switchboard.Unread}
		}), "messages_mailbox_time", nil},
		{"date range", with(func(f *switchboard.MessageFilter) {
			f.DateFrom, f.DateTo = storetest.Base.Add(-30*24*time.Hour), storetest.Base.Add(-24*time.Hour)
		}), "messages_mailbox_time", nil},
		{"phone number", with(func(f *switchboard.MessageFilter) { f.PhoneNumber = "+15550000007" }), "messages_mailbox_time", nil},
		{"distinct conversations", with(func(f *switchboard.MessageFilter) { f.DistinctConversations = true }), "messages_mailbox_time", nil},
		{"distinct Alive page 3", with(func(f *switchboard.MessageFilter) {
			f.DistinctConversations, f.Offset = true, 200
			f.Availability = []switchboard.Availability{switchboard.Alive}
		}), "messages_mailbox_time", nil},
		// A conversation is narrower; its own index keeps the order too.
		{"conversation", with(func(f *switchboard.MessageFilter) { f.ConversationID = 42 }), "messages_mailbox_conversation", nil},
		{"keyset page", with(func(f *switchboard.MessageFilter) {
			f.Offset = 800
			f.Availability = []switchboard.Availability{switchboard.Alive}
		}), "messages_mailbox_time", &pagePos{created: toMillis(storetest.Base.Add(-time.Hour)), id: 200}},
		{"keyset in a date range", with(func(f *switchboard.MessageFilter) {
			f.Offset = 800
			f.DateFrom, f.DateTo = storetest.Base.Add(-30*24*time.Hour), storetest.Base
		}), "messages_mailbox_time", &pagePos{created: toMillis(storetest.Base.Add(-time.Hour)), id: 200}},
		{"keyset distinct", with(func(f *switchboard.MessageFilter) { f.DistinctConversations, f.Offset = true, 200 }),
			"messages_mailbox_time", &pagePos{created: toMillis(storetest.Base.Add(-time.Hour)), id: 200}},
	}
	for _, stats := range []bool{false, true} {
		if stats {
			if _, err := db.writer.Exec(`ANALYZE`); err != nil {
				t.Fatal(err)
			}
		}
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%s stats=%v", tc.name, stats), func(t *testing.T) {
				plan := explain(t, db, tc.f, tc.after)
				if !strings.Contains(plan, "USING INDEX "+tc.index) && !strings.Contains(plan, "USING COVERING INDEX "+tc.index) {
					t.Fatalf("plan does not use %s:\n%s", tc.index, plan)
				}
				if strings.Contains(plan, "TEMP B-TREE") {
					t.Fatalf("plan sorts in a temporary b-tree:\n%s", plan)
				}
			})
		}
	}
}

func explain(tb testing.TB, db *DB, f switchboard.MessageFilter, after *pagePos) string {
	tb.Helper()
	q, a := listQuery(f, after)
	return explainSQL(tb, db, q, a...)
}

// TestReadsDoNotWaitForTheWriter holds a write transaction open and lists
// the mailbox meanwhile: the read must finish, and must not see the
// uncommitted row.
func TestReadsDoNotWaitForTheWriter(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t, filepath.Join(t.TempDir(), "r.db"), testClock(), SQLiteOptions{})
	acc, ext := seedMailbox(t, db)
	if err := seedMessages(ctx, db, acc, ext, 10, storetest.Base); err != nil {
		t.Fatal(err)
	}
	inTx, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- db.write(ctx, func(tx *tx) error {
			c := switchboard.MessageCreate{AccountID: acc, ExtensionID: ext, Type: switchboard.TypeSMS, Direction: switchboard.Inbound}
			if err := c.Validate(); err != nil {
				return err
			}
			if _, err := insertMessages(ctx, tx, []*switchboard.MessageCreate{&c}); err != nil {
				return err
			}
			close(inTx)
			<-release
			return nil
		})
	}()
	<-inTx
	read := make(chan int, 1)
	go func() {
		page, err := db.ListMessages(ctx, switchboard.MessageFilter{AccountID: acc, ExtensionID: ext})
		if err != nil {
			t.Error(err)
			read <- -1
			return
		}
		read <- len(page.Messages)
	}()
	select {
	case n := <-read:
		if n != 10 {
			t.Errorf("read saw %d messages during the write, want the 10 committed", n)
		}
	case <-time.After(5 * time.Second):
		t.Error("a read waited for an open write transaction")
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	page, err := db.ListMessages(ctx, switchboard.MessageFilter{AccountID: acc, ExtensionID: ext})
	if err != nil || len(page.Messages) != 11 {
		t.Fatalf("after commit: %v, %v", page, err)
	}
}

// TestLifecycleTimes checks the columns retention will read: deleted_at is
// when a message last became Deleted (0 while Alive), purged_at when it
// became Purged. They are not part of switchboard.Message.
func TestLifecycleTimes(t *testing.T) {
	ctx := t.Context()
	clock := testClock()
	db := mustOpen(t, filepath.Join(t.TempDir(), "l.db"), clock, SQLiteOptions{})
	acc, ext := seedMailbox(t, db)
	create := func() int64 {
		m, err := db.CreateMessage(ctx, switchboard.MessageCreate{AccountID: acc, ExtensionID: ext,
			Type: switchboard.TypeSMS, Direction: switchboard.Inbound, From: switchboard.Party{PhoneNumber: "+14155550001"}})
		if err != nil {
			t.Fatal(err)
		}
		return m.ID
	}
	times := func(id int64) (deleted, purged time.Duration) {
		t.Helper()
		var d, p int64
		if err := db.reader.QueryRow(`SELECT deleted_at, purged_at FROM messages WHERE id = $1`, id).Scan(&d, &p); err != nil {
			t.Fatal(err)
		}
		since := func(ms int64) time.Duration {
			if ms == 0 {
				return -1
			}
			return fromMillis(ms).Sub(storetest.Base)
		}
		return since(d), since(p)
	}
	check := func(id int64, wantDeleted, wantPurged time.Duration, what string) {
		t.Helper()
		if d, p := times(id); d != wantDeleted || p != wantPurged {
			t.Fatalf("%s: deleted_at %v, purged_at %v after Base; want %v, %v (-1: unset)", what, d, p, wantDeleted, wantPurged)
		}
	}
	alive := switchboard.Alive
	m := create()
	check(m, -1, -1, "new")
	clock.Advance(time.Minute)
	if err := db.DeleteMessage(ctx, acc, ext, m, false); err != nil {
		t.Fatal(err)
	}
	check(m, time.Minute, -1, "deleted")
	clock.Advance(time.Minute)
	if _, err := db.UpdateMessage(ctx, acc, ext, m, switchboard.MessageUpdate{Availability: &alive}); err != nil {
		t.Fatal(err)
	}
	check(m, -1, -1, "restored")
	clock.Advance(time.Minute)
	if _, err := db.DeleteMessages(ctx, switchboard.MessageDeleteFilter{AccountID: acc, ExtensionID: ext}); err != nil {
		t.Fatal(err)
	}
	check(m, 3*time.Minute, -1, "deleted by filter")
	clock.Advance(time.Minute)
	if _, err := db.DeleteMessages(ctx, switchboard.MessageDeleteFilter{AccountID: acc, ExtensionID: ext}); err != nil {
		t.Fatal(err)
	}
	check(m, 3*time.Minute, 4*time.Minute, "purged by filter")

	n := create()
	clock.Advance(time.Minute)
	if _, err := db.DeleteMessages(ctx, switchboard.MessageDeleteFilter{AccountID: acc, ExtensionID: ext, Purge: true}); err != nil {
		t.Fatal(err)
	}
	check(n, -1, 5*time.Minute, "purged directly by filter")
	o := create()
	clock.Advance(time.Minute)
	if err := db.DeleteMessage(ctx, acc, ext, o, true); err != nil {
		t.Fatal(err)
	}
	check(o, -1, 6*time.Minute, "purged directly")
}

// seedMarked stores an SMS whose text (subject and Text attachment) and
// MMS image carry storetest.PurgeMarker, and a neighbour whose bytes
// (keep) must survive, so that a check for the marker on disk cannot pass
// on an empty file.
func seedMarked(t *testing.T, db *DB, acc, ext int64) (m *switchboard.Message, marker, keep []byte) {
	t.Helper()
	ctx := t.Context()
	marker = []byte(storetest.PurgeMarker)
	m, err := db.CreateMessage(ctx, switchboard.MessageCreate{AccountID: acc, ExtensionID: ext,
		Type: switchboard.TypeSMS, Direction: switchboard.Inbound, Subject: "subject " + string(marker),
		From: switchboard.Party{PhoneNumber: "+14155550001"}, To: []switchboard.Party{{PhoneNumber: "+16505550101"}},
		Attachments: []*switchboard.Attachment{
			{Type: switchboard.AttachmentText, ContentType: "text/plain", Content: append([]byte("inline "), marker...)},
			{Type: switchboard.AttachmentMms, ContentType: "image/jpeg", Content: bytes.Repeat(append(marker, '.'), 2000)},
		}})
	if err != nil {
		t.Fatal(err)
	}
	keep = []byte("KEEP-THIS-ATTACHMENT-4d1e")
	if _, err := db.CreateMessage(ctx, switchboard.MessageCreate{AccountID: acc, ExtensionID: ext,
		Type: switchboard.TypeSMS, Direction: switchboard.Inbound, From: switchboard.Party{PhoneNumber: "+14155550002"},
		Attachments: []*switchboard.Attachment{{Type: switchboard.AttachmentText, ContentType: "text/plain", Content: keep}}}); err != nil {
		t.Fatal(err)
	}
	return m, marker, keep
}

// TestNextPageStartsFromKeyset: after a page is served, the page that
// follows it starts from where it ended (pagecursor.go), until the mailbox
// changes. (Whether the pages are right either way is the store suite's
// DeepPages.)
func TestNextPageStartsFromKeyset(t *testing.T) {
	ctx := t.Context()
	db := mustOpen(t, filepath.Join(t.TempDir(), "k.db"), testClock(), SQLiteOptions{Synchronous: "NORMAL"})
	acc, ext := seedMailbox(t, db)
	if err := seedMessages(ctx, db, acc, ext, 100, storetest.Base); err != nil {
		t.Fatal(err)
	}
	f := switchboard.MessageFilter{AccountID: acc, ExtensionID: ext, Limit: 10, Offset: 30,
		Availability: []switchboard.Availability{switchboard.Alive}}
	known := func(f switchboard.MessageFilter) bool {
		var ok bool
		if err := db.read(ctx, func(tx *tx) error {
			var err error
			_, _, ok, err = db.pageStart(ctx, tx, f, cursorFilter(f))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	next := f
	next.Offset += 10
	if known(next) {
		t.Fatal("a position is known before any page was served")
	}
	page, err := db.ListMessages(ctx, f)
	if err != nil {
		t.Fatal(err)
	}
	if !known(next) {
		t.Fatal("no position for the page after a served one")
	}
	if err := db.DeleteMessage(ctx, acc, ext, page.Messages[0].ID, false); err != nil {
		t.Fatal(err)
	}
	if known(next) {
		t.Fatal("a position is used after the mailbox changed")
	}
}
