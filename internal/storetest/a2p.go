package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
)

// a2pBatch stores a batch of ext1 from own1 to n recipients (the first
// internal: own2), the odd ones with a text of their own.
func (e *env) a2pBatch(t *testing.T, n int) *switchboard.A2PBatch {
	t.Helper()
	c := switchboard.A2PBatchCreate{AccountID: e.acc1.ID, ExtensionID: e.ext1.ID, From: own1, SenderName: "Ext 101", Text: "default"}
	for i := range n {
		it := switchboard.A2PItem{To: fmt.Sprintf("+1415555%04d", i)}
		if i == 0 {
			it.To = own2
		}
		if i%2 == 1 {
			it.Text = fmt.Sprintf("text %d", i)
		}
		c.Items = append(c.Items, it)
	}
	return must(e.store.CreateA2PBatch(e.ctx, c))(t)
}

// expandChunk expands n items of b from index from for owner, the
// recipients in out opted out.
func (e *env) expandChunk(t *testing.T, owner string, b *switchboard.A2PBatch, from, n int, out map[string]bool) error {
	t.Helper()
	items := must(e.store.A2PItems(e.ctx, b.ID, from, n))(t)
	msgs := make([]switchboard.OutboundCreate, len(items))
	for i, it := range items {
		to := switchboard.DeliveryTarget{Recipient: it.To}
		if it.To == own2 {
			to.Internal, to.Mailboxes = true, []switchboard.Mailbox{{AccountID: e.acc1.ID, ExtensionID: e.ext2.ID}}
		}
		msgs[i] = switchboard.A2POutbound(b, it, to, out[it.To])
	}
	return e.store.ExpandA2P(e.ctx, owner, b.ID, from, msgs, time.Minute)
}

func testA2PBatches(t *testing.T, e *env) {
	b := e.a2pBatch(t, 5)
	if b.Status != switchboard.A2PProcessing || b.BatchSize != 5 || b.Expanded != 0 || b.From != own1 {
		t.Fatalf("new batch = %+v", b)
	}
	if _, err := e.store.A2PBatch(e.ctx, e.acc2.ID, b.ID); !errors.Is(err, switchboard.ErrNotFound) {
		t.Fatalf("another account's batch: err = %v, want ErrNotFound", err)
	}
	if _, err := e.store.CreateA2PBatch(e.ctx, switchboard.A2PBatchCreate{AccountID: e.acc1.ID, ExtensionID: e.ext1.ID, From: own1}); err == nil {
		t.Fatal("an empty batch was stored")
	}

	claimed := must(e.store.ClaimA2PBatch(e.ctx, "w1", time.Minute))(t)
	if claimed.ID != b.ID || claimed.Status != switchboard.A2PProcessing {
		t.Fatalf("claimed %+v", claimed)
	}
	if _, err := e.store.ClaimA2PBatch(e.ctx, "w2", time.Minute); !errors.Is(err, switchboard.ErrNotFound) {
		t.Fatalf("second claim while leased: err = %v, want ErrNotFound", err)
	}
	noErr(t, e.store.SetOptOuts(e.ctx, e.acc1.ID, own1, []string{"+14155550003"}, switchboard.OptOut, switchboard.OptOutByRecipient))
	out := must(e.store.OptedOut(e.ctx, own1, []string{"+14155550001", "+14155550003"}))(t)
	if len(out) != 1 || !out["+14155550003"] {
		t.Fatalf("OptedOut = %v", out)
	}
	noErr(t, e.expandChunk(t, "w1", claimed, 0, 2, out))
	// The same chunk again (a worker that lost its lease, or a retry after
	// a commit it did not see) is refused: nothing is stored twice.
	wantIs(t, e.expandChunk(t, "w1", claimed, 0, 2, out), switchboard.ErrLeaseLost, "expanding a chunk twice")
	wantIs(t, e.expandChunk(t, "w2", claimed, 2, 3, out), switchboard.ErrLeaseLost, "expanding without the lease")

	// The lease runs out: another worker resumes at the cursor.
	e.clock.Advance(2 * time.Minute)
	again := must(e.store.ClaimA2PBatch(e.ctx, "w2", time.Minute))(t)
	if again.Expanded != 2 {
		t.Fatalf("resumed at %d, want 2", again.Expanded)
	}
	if items := must(e.store.A2PItems(e.ctx, b.ID, 0, 10))(t); len(items) != 3 || items[0].To != "+14155550002" {
		t.Fatalf("items left = %+v, want the 3 not expanded", items)
	}
	wantIs(t, e.expandChunk(t, "w1", again, 2, 3, out), switchboard.ErrLeaseLost, "the old owner after a takeover")
	noErr(t, e.expandChunk(t, "w2", again, 2, 3, out))

	f := switchboard.A2PMessageFilter{AccountID: e.acc1.ID, BatchID: b.ID, Limit: 10}
	ms, more := mustList(e.store.A2PMessages(e.ctx, f))(t)
	if len(ms) != 5 || more {
		t.Fatalf("%d messages (more %v), want 5", len(ms), more)
	}
	byTo := map[string]*switchboard.A2PMessage{}
	for _, m := range ms {
		byTo[m.To[0].PhoneNumber] = m
		if m.BatchID != b.ID || m.ExtensionID != e.ext1.ID || m.Direction != switchboard.Outbound {
			t.Fatalf("message %+v", m)
		}
	}
	if m := byTo["+14155550003"]; m.MessageStatus != switchboard.StatusSendingFailed || m.DeliveryErrorCode != switchboard.CodeOptedOut {
		t.Fatalf("opted-out recipient's message: %s %q", m.MessageStatus, m.DeliveryErrorCode)
	}
	if m := byTo["+14155550001"]; m.Subject != "text 1" {
		t.Fatalf("override text = %q", m.Subject)
	}
	if m := byTo["+14155550002"]; m.Subject != "default" {
		t.Fatalf("default text = %q", m.Subject)
	}
	// The messages are the sender's: in its mailbox, with deliveries for
	// all but the opted-out one. The internal recipient's is complete
	// already (CompletesOnAccept): its copy is stored, its message
	// Delivered; the carrier's are the worker's.
	if n := e.count(t, mb(e.ext1)); n != 5 {
		t.Fatalf("sender's mailbox holds %d messages, want 5", n)
	}
	if m := e.sent(t, byTo[own2].Message); m.MessageStatus != switchboard.StatusDelivered {
		t.Fatalf("internal recipient's message: %s", m.MessageStatus)
	}
	wantEqual(t, e.count(t, mb(e.ext2)), 1, "the internal recipient's copies")
	ds := e.claimAll(t, "d1")
	if len(ds) != 3 || ds["+14155550003"] != nil || ds[own2] != nil || ds["+14155550001"].Internal {
		t.Fatalf("deliveries %v", ds)
	}
	if _, err := e.store.A2PMessage(e.ctx, e.acc2.ID, ms[0].ID); !errors.Is(err, switchboard.ErrNotFound) {
		t.Fatalf("another account's A2P message: %v", err)
	}
	if ms, _ := mustList(e.store.A2PMessages(e.ctx, switchboard.A2PMessageFilter{AccountID: e.acc1.ID, ExtensionID: e.ext2.ID, Limit: 10}))(t); len(ms) != 0 {
		t.Fatalf("ext2's A2P messages: %d, want 0", len(ms))
	}
	page1, more := mustList(e.store.A2PMessages(e.ctx, switchboard.A2PMessageFilter{AccountID: e.acc1.ID, Limit: 3}))(t)
	page2, more2 := mustList(e.store.A2PMessages(e.ctx, switchboard.A2PMessageFilter{AccountID: e.acc1.ID, Limit: 3, BeforeID: page1[2].ID}))(t)
	if len(page1) != 3 || !more || len(page2) != 2 || more2 {
		t.Fatalf("pages of %d (more %v) and %d (more %v)", len(page1), more, len(page2), more2)
	}
	if ms, _ := mustList(e.store.A2PMessages(e.ctx, switchboard.A2PMessageFilter{AccountID: e.acc1.ID, PhoneNumbers: []string{"+14155550004"}, Limit: 10}))(t); len(ms) != 1 {
		t.Fatalf("by phone number: %d messages, want 1", len(ms))
	}

	// Not complete while anything is Queued; complete once all are sent.
	if done := must(e.store.CompleteA2PBatches(e.ctx))(t); len(done) != 0 {
		t.Fatalf("completed %d batches with messages queued", len(done))
	}
	for _, d := range ds {
		noErr(t, e.store.RecordSubmit(e.ctx, "d1", d.ID, d.Recipient != "+14155550004", "c"+d.Recipient, "SMS-CAR-411"))
	}
	got := must(e.store.A2PBatch(e.ctx, e.acc1.ID, b.ID))(t)
	if got.ProcessedCount != 5 || got.Status != switchboard.A2PProcessing {
		t.Fatalf("before completion: %+v", got)
	}
	done := must(e.store.CompleteA2PBatches(e.ctx))(t)
	if len(done) != 1 || done[0].Status != switchboard.A2PCompleted || done[0].ProcessedCount != 5 {
		t.Fatalf("completed %+v", done)
	}
	counts := map[string]int{}
	for _, c := range must(e.store.A2PStatuses(e.ctx, f))(t) {
		counts[string(c.Status)+"/"+c.ErrorCode] += c.Count
	}
	want := map[string]int{"Sent/": 2, "SendingFailed/SMS-CAR-411": 1, "SendingFailed/SMS-RC-413": 1}
	for k, n := range want {
		if counts[k] != n {
			t.Fatalf("statuses %v, want %v and one internal", counts, want)
		}
	}
	list, more := mustList(e.store.ListA2PBatches(e.ctx, switchboard.A2PBatchFilter{AccountID: e.acc1.ID, Limit: 10}))(t)
	if len(list) != 1 || more || list[0].Status != switchboard.A2PCompleted {
		t.Fatalf("list = %+v", list)
	}
	if list, _ := mustList(e.store.ListA2PBatches(e.ctx, switchboard.A2PBatchFilter{AccountID: e.acc2.ID, Limit: 10}))(t); len(list) != 0 {
		t.Fatalf("account 2 sees %d batches", len(list))
	}
}

func testOptOuts(t *testing.T, e *env) {
	noErr(t, e.store.SetOptOuts(e.ctx, e.acc1.ID, own1, []string{p1, p2}, switchboard.OptOut, switchboard.OptOutByAccount))
	noErr(t, e.store.SetOptOuts(e.ctx, e.acc1.ID, own1, []string{p2}, switchboard.OptIn, switchboard.OptOutByRecipient))
	noErr(t, e.store.SetOptOuts(e.ctx, e.acc2.ID, own3, []string{p1}, switchboard.OptOut, switchboard.OptOutByRecipient))
	out := must(e.store.OptedOut(e.ctx, own1, []string{p1, p2, p3}))(t)
	if len(out) != 1 || !out[p1] {
		t.Fatalf("OptedOut = %v, want only %s", out, p1)
	}
	all, _ := mustList(e.store.OptOuts(e.ctx, switchboard.OptOutFilter{AccountID: e.acc1.ID, Limit: 10}))(t)
	if len(all) != 2 || all[1].To != p2 || all[1].Status != switchboard.OptIn || all[1].Source != switchboard.OptOutByRecipient {
		t.Fatalf("records %+v", all)
	}
	outs, _ := mustList(e.store.OptOuts(e.ctx, switchboard.OptOutFilter{AccountID: e.acc1.ID, Status: switchboard.OptOut, Limit: 10}))(t)
	if len(outs) != 1 || outs[0].To != p1 {
		t.Fatalf("opted out %+v", outs)
	}
	first, more := mustList(e.store.OptOuts(e.ctx, switchboard.OptOutFilter{AccountID: e.acc1.ID, Limit: 1}))(t)
	next, more2 := mustList(e.store.OptOuts(e.ctx, switchboard.OptOutFilter{AccountID: e.acc1.ID, Limit: 1, AfterFrom: first[0].From, AfterTo: first[0].To}))(t)
	if !more || more2 || len(next) != 1 || next[0].To != p2 {
		t.Fatalf("paging: %+v %v, %+v %v", first, more, next, more2)
	}
}

// mustList is must for the (value, bool, error) results of the lists.
func mustList[T any](v T, b bool, err error) func(t *testing.T) (T, bool) {
	return func(t *testing.T) (T, bool) {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v, b
	}
}
