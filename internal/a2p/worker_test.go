package a2p_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/a2p"
	"github.com/switchboardhq/switchboard/internal/sqlstore"
)

const sender, internalNumber = "+16505550111", "+16505550102"

type env struct {
	ctx   context.Context
	clock *switchboard.ManualClock
	store *sqlstore.DB
	batch *switchboard.A2PBatch
}

// newEnv stores a batch of n messages from an A2P number; recipient 0 is
// a number of another extension here (internal), recipient 1 opted out.
func newEnv(t *testing.T, n int) *env {
	t.Helper()
	ctx := context.Background()
	clock := switchboard.NewManualClock(func() time.Time { return time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC) })
	store, err := sqlstore.OpenSQLite(ctx, filepath.Join(t.TempDir(), "a2p.db"), clock, sqlstore.SQLiteOptions{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	acc, err := store.CreateAccount(ctx, switchboard.AccountCreate{Name: "One", MainNumber: "+16505550100"})
	must(err)
	var exts []*switchboard.Extension
	for i, num := range []string{sender, internalNumber} {
		x, err := store.CreateExtension(ctx, switchboard.ExtensionCreate{AccountID: acc.ID, ExtensionNumber: fmt.Sprint(101 + i), Name: "x"})
		must(err)
		_, err = store.CreatePhoneNumber(ctx, switchboard.PhoneNumberCreate{AccountID: acc.ID, ExtensionID: x.ID, PhoneNumber: num,
			Features: []string{switchboard.FeatureA2PSms, switchboard.FeatureSmsSender}})
		must(err)
		exts = append(exts, x)
	}
	c := switchboard.A2PBatchCreate{AccountID: acc.ID, ExtensionID: exts[0].ID, From: sender, Text: "hi"}
	for i := range n {
		c.Items = append(c.Items, switchboard.A2PItem{To: fmt.Sprintf("+1415555%04d", i)})
	}
	c.Items[0].To = internalNumber
	b, err := store.CreateA2PBatch(ctx, c)
	must(err)
	must(store.SetOptOuts(ctx, acc.ID, sender, []string{c.Items[1].To}, switchboard.OptOut, switchboard.OptOutByRecipient))
	return &env{ctx: ctx, clock: clock, store: store, batch: b}
}

func (e *env) worker(owner string, out a2p.Outbox) *a2p.Worker {
	if out == nil {
		out = e.store
	}
	return a2p.New(e.store, out, a2p.Config{Owner: owner, Chunk: 3, Lease: 30 * time.Second}, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// messages returns the batch's messages by index.
func (e *env) messages(t *testing.T) map[string]*switchboard.A2PMessage {
	t.Helper()
	ms, _, err := e.store.A2PMessages(e.ctx, switchboard.A2PMessageFilter{AccountID: e.batch.AccountID, BatchID: e.batch.ID, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*switchboard.A2PMessage{}
	for _, m := range ms {
		if out[m.To[0].PhoneNumber] != nil {
			t.Fatalf("two messages to %s", m.To[0].PhoneNumber)
		}
		out[m.To[0].PhoneNumber] = m
	}
	return out
}

// failingOutbox passes chunks on until it has passed `after`, then fails
// as a crash between chunks would leave things.
type failingOutbox struct {
	a2p.Outbox
	after int
}

func (f *failingOutbox) ExpandA2P(ctx context.Context, owner string, batchID int64, from int, msgs []switchboard.OutboundCreate, lease time.Duration) error {
	if f.after == 0 {
		return errors.New("killed")
	}
	f.after--
	return f.Outbox.ExpandA2P(ctx, owner, batchID, from, msgs, lease)
}

func TestExpand(t *testing.T) {
	for _, n := range []int{1, 2, 3, 7, 9} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			e := newEnv(t, max(n, 2))
			busy, err := e.worker("w1", nil).RunOnce(e.ctx)
			if err != nil || !busy {
				t.Fatalf("RunOnce: %v %v", busy, err)
			}
			ms := e.messages(t)
			if len(ms) != max(n, 2) {
				t.Fatalf("%d messages, want %d", len(ms), max(n, 2))
			}
			opted := ms["+14155550001"]
			if opted.MessageStatus != switchboard.StatusSendingFailed || opted.DeliveryErrorCode != switchboard.CodeOptedOut {
				t.Fatalf("opted-out recipient: %s %q", opted.MessageStatus, opted.DeliveryErrorCode)
			}
			// The internal recipient's delivery was completed as its chunk
			// was stored; the carrier's are left to the delivery worker.
			if m := ms[internalNumber]; m.MessageStatus != switchboard.StatusDelivered {
				t.Fatalf("internal recipient: %s", m.MessageStatus)
			}
			ds, err := e.store.ClaimDeliveries(e.ctx, "d", time.Minute, 1000)
			if err != nil {
				t.Fatal(err)
			}
			if len(ds) != max(n, 2)-2 {
				t.Fatalf("%d deliveries, want one per message to the carrier (all but the opted-out and the internal one)", len(ds))
			}
			for _, d := range ds {
				if d.Internal {
					t.Fatalf("delivery to %s internal", d.Recipient)
				}
			}
			if busy, err := e.worker("w1", nil).RunOnce(e.ctx); err != nil || busy {
				t.Fatalf("second RunOnce: %v %v, want nothing to do", busy, err)
			}
		})
	}
}

func TestResumeAfterCrash(t *testing.T) {
	e := newEnv(t, 10)
	// w1 queues one chunk of 3, then dies.
	if _, err := e.worker("w1", &failingOutbox{Outbox: e.store, after: 1}).RunOnce(e.ctx); err == nil {
		t.Fatal("the failing outbox's error was not reported")
	}
	if n := len(e.messages(t)); n != 3 {
		t.Fatalf("%d messages after the crash, want the first chunk's 3", n)
	}
	// Its lease holds the batch until it runs out.
	if busy, err := e.worker("w2", nil).RunOnce(e.ctx); err != nil || busy {
		t.Fatalf("w2 during w1's lease: %v %v", busy, err)
	}
	e.clock.Advance(31 * time.Second)
	if busy, err := e.worker("w2", nil).RunOnce(e.ctx); err != nil || !busy {
		t.Fatalf("w2 after the lease: %v %v", busy, err)
	}
	if n := len(e.messages(t)); n != 10 {
		t.Fatalf("%d messages, want 10: each once", n)
	}
	b, err := e.store.A2PBatch(e.ctx, e.batch.AccountID, e.batch.ID)
	if err != nil || b.Expanded != 10 || b.Status != switchboard.A2PProcessing {
		t.Fatalf("batch %+v %v", b, err)
	}
	// Completed once nothing is Queued.
	ds, _ := e.store.ClaimDeliveries(e.ctx, "d", time.Minute, 1000)
	for _, d := range ds {
		if err := e.store.RecordSubmit(e.ctx, "d", d.ID, true, "c", ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.worker("w2", nil).RunOnce(e.ctx); err != nil {
		t.Fatal(err)
	}
	if b, _ := e.store.A2PBatch(e.ctx, e.batch.AccountID, e.batch.ID); b.Status != switchboard.A2PCompleted || b.ProcessedCount != 10 {
		t.Fatalf("batch %+v, want Completed", b)
	}
}
