package export_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/export"
	"github.com/switchboardhq/switchboard/internal/sqlstore"
)

var base = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

type fixture struct {
	store      *sqlstore.DB
	clock      *switchboard.ManualClock
	acc, other *switchboard.Account
	ann, bob   *switchboard.Extension
	carol      *switchboard.Extension // of the other account
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{clock: switchboard.NewManualClock(func() time.Time { return base })}
	var err error
	f.store, err = sqlstore.OpenSQLite(ctx, filepath.Join(t.TempDir(), "x.db"), f.clock, sqlstore.SQLiteOptions{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.store.Close() })
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	f.acc, err = f.store.CreateAccount(ctx, switchboard.AccountCreate{Name: "A"})
	must(err)
	f.other, err = f.store.CreateAccount(ctx, switchboard.AccountCreate{Name: "B"})
	must(err)
	f.ann, err = f.store.CreateExtension(ctx, switchboard.ExtensionCreate{AccountID: f.acc.ID, ExtensionNumber: "101", Name: "Ann"})
	must(err)
	f.bob, err = f.store.CreateExtension(ctx, switchboard.ExtensionCreate{AccountID: f.acc.ID, ExtensionNumber: "102", Name: "Bob"})
	must(err)
	f.carol, err = f.store.CreateExtension(ctx, switchboard.ExtensionCreate{AccountID: f.other.ID, ExtensionNumber: "101", Name: "Carol"})
	must(err)
	return f
}

// message stores a message with a text attachment (and a binary one for a
// fax) created age before base.
func (f *fixture) message(t *testing.T, x *switchboard.Extension, typ switchboard.MessageType, age time.Duration, text string) *switchboard.Message {
	t.Helper()
	c := switchboard.MessageCreate{AccountID: x.AccountID, ExtensionID: x.ID, Type: typ, Direction: switchboard.Inbound,
		Subject: text, From: switchboard.Party{PhoneNumber: "+15550001111"}, To: []switchboard.Party{{PhoneNumber: "+15550002222"}},
		Created: base.Add(-age)}
	if typ == switchboard.TypeFax {
		c.Subject = ""
		c.Attachments = []*switchboard.Attachment{{Type: switchboard.AttachmentRenderedDocument, ContentType: "application/pdf", Content: noise(text, 20000)}}
	} else {
		c.Attachments = []*switchboard.Attachment{{Type: switchboard.AttachmentText, ContentType: "text/plain", Content: []byte(text)}}
	}
	m, err := f.store.CreateMessage(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (f *fixture) task(t *testing.T, id string, types ...switchboard.MessageType) {
	t.Helper()
	f.taskOf(t, id, nil, types...)
}

func (f *fixture) taskOf(t *testing.T, id string, exts []int64, types ...switchboard.MessageType) {
	t.Helper()
	err := f.store.CreateExport(context.Background(), &switchboard.ExportTask{ID: id, AccountID: f.acc.ID, ExtensionID: f.ann.ID,
		DateFrom: base.Add(-48 * time.Hour), DateTo: base.Add(time.Millisecond), Types: types, Extensions: exts, Created: f.clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
}

// archive reads a Completed task's archive back and returns its files.
func (f *fixture) archive(t *testing.T, id string) map[string][]byte {
	t.Helper()
	var b []byte
	chunks := 0
	for seq := 0; ; seq++ {
		c, err := f.store.ExportChunk(context.Background(), f.acc.ID, id, seq)
		if errors.Is(err, switchboard.ErrNotFound) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b = append(b, c...)
		chunks++
	}
	task, err := f.store.Export(context.Background(), f.acc.ID, id)
	if err != nil || task.Status != switchboard.ExportCompleted || task.Size != int64(len(b)) {
		t.Fatalf("task %+v (%v), archive of %d bytes in %d chunks", task, err, len(b), chunks)
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		files[zf.Name], err = io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	return files
}

func newWorker(f *fixture, owner string) *export.Worker {
	return export.New(f.store, export.Config{Owner: owner, ChunkBytes: 4096, PageSize: 2, Lease: time.Minute,
		BaseURL: "https://switchboard.test"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// TestExportArchive: the archive holds every message of the account's
// mailboxes in the range and of the types, with its attachments, in many
// chunks and pages; nothing of another account, of other types or outside
// the range.
func TestExportArchive(t *testing.T) {
	f := newFixture(t)
	var want []string
	for i := range 5 { // more than a page (2) and, with the faxes, many chunks (4 KiB)
		m := f.message(t, f.ann, switchboard.TypeSMS, time.Duration(i+1)*time.Hour, fmt.Sprintf("sms %d", i))
		want = append(want, fmt.Sprintf("101-%d/%d.json", f.ann.ID, m.ID), fmt.Sprintf("101-%d/%d-%d.txt", f.ann.ID, m.ID, m.Attachments[0].ID))
	}
	fax := f.message(t, f.bob, switchboard.TypeFax, time.Hour, "fax page ")
	want = append(want, fmt.Sprintf("102-%d/%d.json", f.bob.ID, fax.ID), fmt.Sprintf("102-%d/%d-%d.pdf", f.bob.ID, fax.ID, fax.Attachments[0].ID))
	f.message(t, f.ann, switchboard.TypeSMS, 72*time.Hour, "too old")
	f.message(t, f.ann, switchboard.TypePager, time.Hour, "a pager message")
	f.message(t, f.carol, switchboard.TypeSMS, time.Hour, "another account")

	f.task(t, "t1", switchboard.TypeSMS, switchboard.TypeFax)
	w := newWorker(f, "w1")
	if did, err := w.RunOnce(context.Background()); !did || err != nil {
		t.Fatalf("RunOnce = %v, %v", did, err)
	}
	files := f.archive(t, "t1")
	var got []string
	for name := range files {
		got = append(got, name)
	}
	sort.Strings(got)
	sort.Strings(want)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("archive files\n got %v\nwant %v", got, want)
	}
	var rec map[string]any
	if err := json.Unmarshal(files[fmt.Sprintf("102-%d/%d.json", f.bob.ID, fax.ID)], &rec); err != nil || rec["type"] != "Fax" {
		t.Fatalf("fax record %s: %v", files[fmt.Sprintf("102-%d/%d.json", f.bob.ID, fax.ID)], err)
	}
	if pdf := files[fmt.Sprintf("102-%d/%d-%d.pdf", f.bob.ID, fax.ID, fax.Attachments[0].ID)]; !bytes.Equal(pdf, noise("fax page ", 20000)) {
		t.Fatalf("fax attachment: %d bytes", len(pdf))
	}
	if did, err := w.RunOnce(context.Background()); did || err != nil {
		t.Fatalf("nothing left: RunOnce = %v, %v", did, err)
	}

	// Limited to one mailbox: only bob's fax.
	f.taskOf(t, "t2", []int64{f.bob.ID})
	if did, err := w.RunOnce(context.Background()); !did || err != nil {
		t.Fatalf("RunOnce = %v, %v", did, err)
	}
	got = got[:0]
	for name := range f.archive(t, "t2") {
		got = append(got, name)
	}
	sort.Strings(got)
	if fmt.Sprint(got) != fmt.Sprint(want[len(want)-2:]) { // want is sorted: 102-… (bob) last
		t.Fatalf("archive of bob's mailbox: %v", got)
	}
}

// TestExportResumesAfterADeadWorker: a worker that stops mid-archive
// (here: its context ends) leaves the task leased; once the lease runs
// out another worker does it from the start, and the archive is whole.
func TestExportResumesAfterADeadWorker(t *testing.T) {
	f := newFixture(t)
	for i := range 4 {
		f.message(t, f.ann, switchboard.TypeFax, time.Duration(i+1)*time.Hour, fmt.Sprintf("page %d ", i))
	}
	f.task(t, "t1")
	// The first worker's store calls fail after its second chunk, as if
	// it died there.
	ctx, stop := context.WithCancel(context.Background())
	dying := &stopAfterChunks{DB: f.store, n: 2, stop: stop}
	w1 := export.New(dying, export.Config{Owner: "w1", ChunkBytes: 4096, PageSize: 1, Lease: time.Minute}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if did, err := w1.RunOnce(ctx); !did || err == nil {
		t.Fatalf("dying worker: RunOnce = %v, %v", did, err)
	}
	if task, _ := f.store.Export(context.Background(), f.acc.ID, "t1"); task.Status != switchboard.ExportInProgress {
		t.Fatalf("task after the worker died: %+v", task)
	}
	w2 := newWorker(f, "w2")
	if did, err := w2.RunOnce(context.Background()); did || err != nil {
		t.Fatalf("while the lease holds: RunOnce = %v, %v", did, err)
	}
	f.clock.Advance(2 * time.Minute)
	if did, err := w2.RunOnce(context.Background()); !did || err != nil {
		t.Fatalf("after the lease: RunOnce = %v, %v", did, err)
	}
	if files := f.archive(t, "t1"); len(files) != 8 {
		t.Fatalf("archive after the restart has %d files, want 4 records and 4 attachments", len(files))
	}
}

// noise is n bytes that do not compress, the same for the same seed text.
func noise(seed string, n int) []byte {
	var s uint64
	for _, c := range seed {
		s = s*31 + uint64(c)
	}
	r := rand.New(rand.NewPCG(s, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// stopAfterChunks ends the context after n chunks were written.
type stopAfterChunks struct {
	*sqlstore.DB
	n    int
	stop context.CancelFunc
}

func (s *stopAfterChunks) WriteExportChunk(ctx context.Context, id, owner string, seq int, data []byte, lease time.Duration) error {
	if seq >= s.n {
		s.stop()
		return ctx.Err()
	}
	return s.DB.WriteExportChunk(ctx, id, owner, seq, data, lease)
}
