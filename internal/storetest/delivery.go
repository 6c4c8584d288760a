package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
)

// outbound builds an outbound message of ext1 (own1) to recipients; a
// recipient of the server (own2, own3, an extension number) is internal.
// Its deliveries are all left to a worker, the internal ones too: it is
// scheduled a nanosecond after now, which is due now to the millisecond
// (testCompletesOnAccept sends with no schedule).
func (e *env) outbound(typ switchboard.MessageType, recipients ...string) switchboard.OutboundCreate {
	box := mb(e.ext1)
	c := switchboard.OutboundCreate{Message: switchboard.MessageCreate{AccountID: box.acc, ExtensionID: box.ext,
		Type: typ, Direction: switchboard.Outbound, Subject: "hello", From: switchboard.Party{PhoneNumber: own1}},
		SendAt: e.clock.Now().Add(time.Nanosecond)}
	switch typ {
	case switchboard.TypeFax:
		c.Message.FaxPageCount = 1
		c.Message.Attachments = []*switchboard.Attachment{{Type: switchboard.AttachmentRenderedDocument, ContentType: "application/pdf", Content: []byte("%PDF")}}
	default:
		c.Message.Attachments = []*switchboard.Attachment{{Type: switchboard.AttachmentText, ContentType: "text/plain", Content: []byte("hello")}}
	}
	for _, r := range recipients {
		t := switchboard.DeliveryTarget{Recipient: r}
		switch r {
		case own2:
			t.Internal, t.Mailboxes = true, []switchboard.Mailbox{{AccountID: e.acc1.ID, ExtensionID: e.ext2.ID}}
		case own3:
			t.Internal, t.Mailboxes = true, []switchboard.Mailbox{{AccountID: e.acc2.ID, ExtensionID: e.ext3.ID}}
		}
		c.Message.To = append(c.Message.To, switchboard.Party{PhoneNumber: r})
		c.Recipients = append(c.Recipients, t)
	}
	return c
}

// deliver completes one internal delivery as a batch of one; the copies
// are validated first, as InboundCopy's would be.
func (e *env) deliver(owner string, id int64, copies []switchboard.MessageCreate) error {
	for i := range copies {
		if err := copies[i].Validate(); err != nil {
			return err
		}
	}
	errs, err := e.store.DeliverInternal(e.ctx, owner, []switchboard.InternalDelivery{{DeliveryID: id, Copies: copies}})
	if err != nil {
		return err
	}
	if errors.Is(errs[0], switchboard.ErrRecipientGone) {
		return nil // recorded as failed
	}
	return errs[0]
}

func (e *env) send(t *testing.T, c switchboard.OutboundCreate) *switchboard.Message {
	t.Helper()
	return must(e.store.CreateOutbound(e.ctx, c))(t)
}

// claimAll claims every due delivery for owner, by recipient.
func (e *env) claimAll(t *testing.T, owner string) map[string]*switchboard.Delivery {
	t.Helper()
	ds := must(e.store.ClaimDeliveries(e.ctx, owner, time.Minute, 1000))(t)
	out := map[string]*switchboard.Delivery{}
	for _, d := range ds {
		out[d.Recipient] = d
	}
	return out
}

// sent reads the sender's copy (ext1).
func (e *env) sent(t *testing.T, m *switchboard.Message) *switchboard.Message {
	t.Helper()
	return e.get(t, mb(e.ext1), m.ID)
}

func wantStatus(t *testing.T, m *switchboard.Message, status switchboard.MessageStatus, to ...switchboard.MessageStatus) {
	t.Helper()
	got := []switchboard.MessageStatus{}
	for _, p := range m.To {
		got = append(got, p.MessageStatus)
	}
	if m.MessageStatus != status || fmt.Sprint(got) != fmt.Sprint(to) {
		t.Fatalf("message %d: status %s, to %v; want %s, to %v", m.ID, m.MessageStatus, got, status, to)
	}
}

func (e *env) count(t *testing.T, box mailbox) int {
	t.Helper()
	return len(must(e.store.ListMessages(e.ctx, switchboard.MessageFilter{AccountID: box.acc, ExtensionID: box.ext}))(t).Messages)
}

func testCreateOutbound(t *testing.T, e *env) {
	c := e.outbound(switchboard.TypeSMS, p1, own2)
	c.Recipients[0].Recipient = "+1 (415) 555-0001" // normalized
	m := e.send(t, c)
	wantStatus(t, m, switchboard.StatusQueued, switchboard.StatusQueued, switchboard.StatusQueued)
	wantStatus(t, e.sent(t, m), switchboard.StatusQueued, switchboard.StatusQueued, switchboard.StatusQueued)
	if m.Direction != switchboard.Outbound || len(m.Attachments) != 1 {
		t.Fatalf("outbound message: %+v", m)
	}
	wantEqual(t, len(e.changes(t, mb(e.ext1))), 1, "changes after CreateOutbound")

	ds := e.claimAll(t, "w1")
	if len(ds) != 2 {
		t.Fatalf("claimed %v, want 2 deliveries", ds)
	}
	want := switchboard.Delivery{ID: ds[p1].ID, MessageID: m.ID, AccountID: e.acc1.ID, ExtensionID: e.ext1.ID,
		Type: switchboard.TypeSMS, Recipient: p1, State: switchboard.DeliveryPending, NextAttempt: Base}
	got := *ds[p1]
	if got.Message == nil || got.Message.ID != m.ID {
		t.Fatalf("claimed without its message: %+v", got.Message)
	}
	got.Message = nil
	wantEqual(t, got, want, "delivery to a carrier")
	if d := ds[own2]; d == nil || !d.Internal || d.MessageID != m.ID {
		t.Fatalf("internal delivery: %+v", d)
	}

	// A bad request stores nothing: neither message nor deliveries.
	for _, tc := range []struct {
		name string
		edit func(*switchboard.OutboundCreate)
		is   error
	}{
		{"no recipients", func(c *switchboard.OutboundCreate) { c.Recipients = nil }, nil},
		{"bad number", func(c *switchboard.OutboundCreate) { c.Recipients[0].Recipient = "4155550001" }, nil},
		{"bad message", func(c *switchboard.OutboundCreate) { c.Message.Type = "Telex" }, nil},
		{"inbound", func(c *switchboard.OutboundCreate) { c.Message.Direction = switchboard.Inbound }, nil},
		{"mailbox of another account", func(c *switchboard.OutboundCreate) { c.Message.ExtensionID = e.ext3.ID }, switchboard.ErrNotFound},
	} {
		c := e.outbound(switchboard.TypeSMS, p1, p2)
		tc.edit(&c)
		_, err := e.store.CreateOutbound(e.ctx, c)
		if tc.is != nil {
			wantIs(t, err, tc.is, tc.name)
		} else {
			wantCode(t, err, switchboard.CodeInvalidParameter, tc.name)
		}
	}
	wantEqual(t, e.count(t, mb(e.ext1)), 1, "messages after bad requests")
	wantEqual(t, len(e.claimAll(t, "w2")), 0, "deliveries after bad requests")
}

// testDeliverBatch: a claim brings each delivery's routing and its
// sender's message (attachment content included) along, a recipient named
// twice is one delivery, and DeliverInternal completes a batch in one call:
// a delivery not held stores nothing, one whose mailbox is gone fails, the
// others are delivered.
func testDeliverBatch(t *testing.T, e *env) {
	c := e.outbound(switchboard.TypeSMS, own2)
	c.Recipients = append(c.Recipients, switchboard.DeliveryTarget{Recipient: "+1 650 555 0102"}) // own2 again
	first := e.send(t, c)
	second := e.send(t, e.outbound(switchboard.TypeSMS, own2))
	gone := e.send(t, e.outbound(switchboard.TypeSMS, own2))
	ds := must(e.store.ClaimDeliveries(e.ctx, "w", time.Minute, 10))(t)
	if len(ds) != 3 {
		t.Fatalf("claimed %d deliveries, want 3 (the duplicate recipient is one)", len(ds))
	}
	byMsg := map[int64]*switchboard.Delivery{}
	for _, d := range ds {
		byMsg[d.MessageID] = d
		if !d.Internal || len(d.Mailboxes) != 1 || d.Mailboxes[0] != (switchboard.Mailbox{AccountID: e.acc1.ID, ExtensionID: e.ext2.ID}) {
			t.Fatalf("delivery %d: routing %v %v, want internal to ext2", d.ID, d.Internal, d.Mailboxes)
		}
		if d.Message == nil || d.Message.ID != d.MessageID || len(d.Message.Attachments) != 1 || string(d.Message.Attachments[0].Content) != "hello" {
			t.Fatalf("delivery %d: claimed message %+v", d.ID, d.Message)
		}
	}
	copyOf := func(m *switchboard.Message, to switchboard.Mailbox) []switchboard.MessageCreate {
		return []switchboard.MessageCreate{switchboard.InboundCopy(byMsg[m.ID].Message, to)}
	}
	box2 := switchboard.Mailbox{AccountID: e.acc1.ID, ExtensionID: e.ext2.ID}
	before := e.count(t, mb(e.ext2))
	errs := must(e.store.DeliverInternal(e.ctx, "w", []switchboard.InternalDelivery{
		{DeliveryID: byMsg[first.ID].ID, Copies: copyOf(first, box2)},
		{DeliveryID: byMsg[second.ID].ID + 1000, Copies: copyOf(second, box2)}, // not held
		{DeliveryID: byMsg[gone.ID].ID, Copies: copyOf(gone, switchboard.Mailbox{AccountID: e.acc1.ID, ExtensionID: e.ext2.ID + 1000})},
	}))(t)
	noErr(t, errs[0])
	wantIs(t, errs[1], switchboard.ErrLeaseLost, "a delivery not held")
	wantIs(t, errs[2], switchboard.ErrRecipientGone, "a delivery to a mailbox that is gone")
	wantEqual(t, e.count(t, mb(e.ext2)), before+1, "copies stored")
	wantStatus(t, e.sent(t, first), switchboard.StatusDelivered, switchboard.StatusDelivered)
	wantStatus(t, e.sent(t, second), switchboard.StatusQueued, switchboard.StatusQueued)
	g := e.sent(t, gone)
	wantStatus(t, g, switchboard.StatusSendingFailed, switchboard.StatusSendingFailed)
	wantEqual(t, g.DeliveryErrorCode, switchboard.RecipientGoneCode(switchboard.TypeSMS), "error code of a delivery whose mailbox is gone")
	copies := must(e.store.ListMessages(e.ctx, switchboard.MessageFilter{AccountID: e.acc1.ID, ExtensionID: e.ext2.ID}))(t).Messages
	in := copies[0]
	if in.Direction != switchboard.Inbound || in.MessageStatus != switchboard.StatusReceived || in.ReadStatus != switchboard.Unread ||
		in.ConversationID != first.ConversationID || len(in.Attachments) != 1 || in.To[0].MessageStatus != "" {
		t.Fatalf("inbound copy: %+v", in)
	}
}

func testClaimLease(t *testing.T, e *env) {
	m := e.send(t, e.outbound(switchboard.TypeSMS, own2))
	copyFor := func() []switchboard.MessageCreate {
		return []switchboard.MessageCreate{sms(mb(e.ext2), switchboard.Inbound, own1, []string{own2}, "hello")}
	}
	a := must(e.store.ClaimDeliveries(e.ctx, "a", 30*time.Second, 10))(t)
	if len(a) != 1 {
		t.Fatalf("first claim: %d deliveries", len(a))
	}
	wantEqual(t, len(must(e.store.ClaimDeliveries(e.ctx, "b", 30*time.Second, 10))(t)), 0, "claim while leased")

	e.clock.Advance(31 * time.Second) // a's lease runs out: a "died"
	b := must(e.store.ClaimDeliveries(e.ctx, "b", 30*time.Second, 10))(t)
	if len(b) != 1 || b[0].ID != a[0].ID {
		t.Fatalf("claim after the lease ran out: %+v", b)
	}
	wantIs(t, e.deliver("a", a[0].ID, copyFor()), switchboard.ErrLeaseLost, "DeliverInternal by the old owner")
	wantIs(t, e.store.RecordSubmit(e.ctx, "a", a[0].ID, true, "c1", ""), switchboard.ErrLeaseLost, "RecordSubmit by the old owner")
	wantIs(t, e.store.Reschedule(e.ctx, "a", a[0].ID, e.clock.Now(), 5, "X"), switchboard.ErrLeaseLost, "Reschedule by the old owner")
	wantEqual(t, e.count(t, mb(e.ext2)), 0, "copies after a lost lease")
	wantStatus(t, e.sent(t, m), switchboard.StatusQueued, switchboard.StatusQueued)

	noErr(t, e.deliver("b", b[0].ID, copyFor()))
	wantIs(t, e.deliver("b", b[0].ID, copyFor()), switchboard.ErrLeaseLost, "DeliverInternal twice")
	wantEqual(t, e.count(t, mb(e.ext2)), 1, "copies")
	wantEqual(t, len(e.changes(t, mb(e.ext2))), 1, "changes of the recipient")
	got := e.sent(t, m)
	wantStatus(t, got, switchboard.StatusDelivered, switchboard.StatusDelivered)
	wantTime(t, got.LastModified, Base.Add(31*time.Second), "lastModified after delivery")
	// Storing the copy is the delivery: one attempt, delivered now.
	if got.SMSSendingAttempts != 1 || !got.SMSDeliveryTime.Equal(Base.Add(31*time.Second)) {
		t.Fatalf("internal SMS: attempts %d, delivery time %v", got.SMSSendingAttempts, got.SMSDeliveryTime)
	}
	wantEqual(t, len(e.claimAll(t, "c")), 0, "claim after Done")

	// A lease expired exactly now is lost for its owner.
	m2 := e.send(t, e.outbound(switchboard.TypeSMS, p1))
	d := must(e.store.ClaimDeliveries(e.ctx, "a", time.Second, 10))(t)
	e.clock.Advance(time.Second)
	wantIs(t, e.store.RecordSubmit(e.ctx, "a", d[0].ID, true, "c1", ""), switchboard.ErrLeaseLost, "RecordSubmit at lease end")
	wantStatus(t, e.sent(t, m2), switchboard.StatusQueued, switchboard.StatusQueued)
}

func testClaimConcurrently(t *testing.T, e *env) {
	const n = 30
	for range n {
		e.send(t, e.outbound(switchboard.TypeSMS, p1))
	}
	var mu sync.Mutex
	seen := map[int64]string{}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := fmt.Sprint("w", w)
			for {
				ds, err := e.store.ClaimDeliveries(e.ctx, owner, time.Minute, 2)
				if err != nil {
					errs <- err
					return
				}
				if len(ds) == 0 {
					return
				}
				mu.Lock()
				for _, d := range ds {
					if prev, ok := seen[d.ID]; ok {
						mu.Unlock()
						errs <- fmt.Errorf("delivery %d claimed by %s and %s", d.ID, prev, owner)
						return
					}
					seen[d.ID] = owner
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	wantEqual(t, len(seen), n, "deliveries claimed")
}

func testDeliveryStatus(t *testing.T, e *env) {
	box := mb(e.ext1)
	at := Base.Add(5 * time.Second)

	t.Run("SMS delivered", func(t *testing.T) {
		m := e.send(t, e.outbound(switchboard.TypeSMS, p1))
		d := e.claimAll(t, "w")[p1]
		noErr(t, e.store.RecordSubmit(e.ctx, "w", d.ID, true, "car-1", ""))
		got := e.sent(t, m)
		wantStatus(t, got, switchboard.StatusSent, switchboard.StatusSent)
		wantEqual(t, got.SMSSendingAttempts, 1, "attempts after submit")
		// Every Submitted delivery is due for a resubmit with a cutoff in
		// the future: the claim lists exactly those.
		sub := must(e.store.ClaimUnreceipted(e.ctx, e.clock.Now().Add(time.Hour), 100))(t)
		if len(sub) != 1 || sub[0].CarrierID != "car-1" || sub[0].State != switchboard.DeliverySubmitted {
			t.Fatalf("submitted deliveries: %+v", sub)
		}
		wantIs(t, e.store.RecordSubmit(e.ctx, "w", d.ID, true, "car-1", ""), switchboard.ErrLeaseLost, "RecordSubmit of a Submitted delivery")

		seq := e.position(t)
		e.clock.Advance(10 * time.Second)
		noErr(t, e.store.ApplyReceipt(e.ctx, m.ID, p1, true, "", at))
		got = e.sent(t, m)
		wantStatus(t, got, switchboard.StatusDelivered, switchboard.StatusDelivered)
		wantTime(t, got.SMSDeliveryTime, at, "smsDeliveryTime")
		wantTime(t, got.LastModified, e.clock.Now(), "lastModified")
		wantLogged(t, e.changesSince(t, box, seq), switchboard.ChangeUpdated, e.clock.Now(), []int64{m.ID}) // the receipt
		wantEqual(t, len(must(e.store.ClaimUnreceipted(e.ctx, e.clock.Now().Add(time.Hour), 100))(t)), 0, "submitted after the receipt")

		// Receipts come at least once: a repeat, or one for an unknown
		// recipient or message, changes nothing.
		n := len(e.changes(t, box))
		e.clock.Advance(time.Second)
		noErr(t, e.store.ApplyReceipt(e.ctx, m.ID, p1, false, "SMS-CAR-430", at.Add(time.Second)))
		noErr(t, e.store.ApplyReceipt(e.ctx, m.ID, p2, true, "", at))
		noErr(t, e.store.ApplyReceipt(e.ctx, 1, p1, true, "", at))
		wantEqual(t, e.sent(t, m), got, "message after repeated receipts")
		wantEqual(t, len(e.changes(t, box)), n, "changes after repeated receipts")
	})

	t.Run("delivery by carrier id", func(t *testing.T) {
		m := e.send(t, e.outbound(switchboard.TypeSMS, p1, p2))
		ds := e.claimAll(t, "w")
		noErr(t, e.store.RecordSubmit(e.ctx, "w", ds[p1].ID, true, "smsc-77", ""))
		noErr(t, e.store.RecordSubmit(e.ctx, "w", ds[p2].ID, true, "smsc-78", ""))
		id, recipient, err := e.store.DeliveryByCarrierID(e.ctx, "smsc-78")
		noErr(t, err)
		if id != m.ID || recipient != p2 {
			t.Fatalf("DeliveryByCarrierID(smsc-78) = %d, %s; want %d, %s", id, recipient, m.ID, p2)
		}
		for _, unknown := range []string{"smsc-7", ""} {
			_, _, err := e.store.DeliveryByCarrierID(e.ctx, unknown)
			wantIs(t, err, switchboard.ErrNotFound, "DeliveryByCarrierID("+unknown+")")
		}
	})

	t.Run("SMS refused", func(t *testing.T) {
		m := e.send(t, e.outbound(switchboard.TypeSMS, p1))
		d := e.claimAll(t, "w")[p1]
		n := len(e.changes(t, box))
		noErr(t, e.store.RecordSubmit(e.ctx, "w", d.ID, false, "", "SMS-CAR-411"))
		got := e.sent(t, m)
		wantStatus(t, got, switchboard.StatusSendingFailed, switchboard.StatusSendingFailed)
		if got.DeliveryErrorCode != "SMS-CAR-411" || got.SMSSendingAttempts != 1 {
			t.Fatalf("refused SMS: error code %q, attempts %d", got.DeliveryErrorCode, got.SMSSendingAttempts)
		}
		wantEqual(t, len(e.changes(t, box)), n+1, "changes after a refusal")
		noErr(t, e.store.ApplyReceipt(e.ctx, m.ID, p1, true, "", at)) // not Submitted: ignored
		wantEqual(t, e.sent(t, m), got, "message after a receipt for a Failed delivery")
	})

	t.Run("SMS receipt failed", func(t *testing.T) {
		m := e.send(t, e.outbound(switchboard.TypeSMS, p1))
		d := e.claimAll(t, "w")[p1]
		noErr(t, e.store.RecordSubmit(e.ctx, "w", d.ID, true, "car-2", ""))
		noErr(t, e.store.ApplyReceipt(e.ctx, m.ID, p1, false, "SMS-CAR-430", at))
		got := e.sent(t, m)
		wantStatus(t, got, switchboard.StatusDeliveryFailed, switchboard.StatusDeliveryFailed)
		if got.DeliveryErrorCode != "SMS-CAR-430" || !got.SMSDeliveryTime.IsZero() {
			t.Fatalf("failed receipt: error code %q, delivery time %v", got.DeliveryErrorCode, got.SMSDeliveryTime)
		}
	})

	t.Run("SMS to several", func(t *testing.T) {
		m := e.send(t, e.outbound(switchboard.TypeSMS, p1, p2, own2))
		ds := e.claimAll(t, "w")
		noErr(t, e.store.RecordSubmit(e.ctx, "w", ds[p1].ID, true, "car-3", ""))
		wantStatus(t, e.sent(t, m), switchboard.StatusQueued, switchboard.StatusSent, switchboard.StatusQueued, switchboard.StatusQueued)
		noErr(t, e.deliver("w", ds[own2].ID,
			[]switchboard.MessageCreate{sms(mb(e.ext2), switchboard.Inbound, own1, []string{p1, p2, own2}, "hello")}))
		wantStatus(t, e.sent(t, m), switchboard.StatusQueued, switchboard.StatusSent, switchboard.StatusQueued, switchboard.StatusDelivered)
		noErr(t, e.store.RecordSubmit(e.ctx, "w", ds[p2].ID, true, "car-4", ""))
		wantStatus(t, e.sent(t, m), switchboard.StatusSent, switchboard.StatusSent, switchboard.StatusSent, switchboard.StatusDelivered)
		noErr(t, e.store.ApplyReceipt(e.ctx, m.ID, p1, true, "", at))
		wantStatus(t, e.sent(t, m), switchboard.StatusSent, switchboard.StatusDelivered, switchboard.StatusSent, switchboard.StatusDelivered)
		noErr(t, e.store.ApplyReceipt(e.ctx, m.ID, p2, true, "", at.Add(time.Second)))
		got := e.sent(t, m)
		wantStatus(t, got, switchboard.StatusDelivered, switchboard.StatusDelivered, switchboard.StatusDelivered, switchboard.StatusDelivered)
		latest := at.Add(time.Second)
		if internalAt := e.clock.Now(); internalAt.After(latest) {
			latest = internalAt
		}
		wantTime(t, got.SMSDeliveryTime, latest, "smsDeliveryTime (the latest receipt or internal delivery)")
		wantEqual(t, got.SMSSendingAttempts, 3, "attempts (one per recipient)")
	})

	t.Run("SMS mixed failures", func(t *testing.T) {
		m := e.send(t, e.outbound(switchboard.TypeSMS, p1, p2))
		ds := e.claimAll(t, "w")
		noErr(t, e.store.RecordSubmit(e.ctx, "w", ds[p1].ID, true, "car-5", ""))
		noErr(t, e.store.RecordSubmit(e.ctx, "w", ds[p2].ID, true, "car-6", ""))
		noErr(t, e.store.ApplyReceipt(e.ctx, m.ID, p2, false, "SMS-CAR-430", at))
		wantStatus(t, e.sent(t, m), switchboard.StatusDeliveryFailed, switchboard.StatusSent, switchboard.StatusDeliveryFailed)
		noErr(t, e.store.ApplyReceipt(e.ctx, m.ID, p1, true, "", at))
		got := e.sent(t, m)
		wantStatus(t, got, switchboard.StatusDeliveryFailed, switchboard.StatusDelivered, switchboard.StatusDeliveryFailed)
		wantEqual(t, got.DeliveryErrorCode, "SMS-CAR-430", "deliveryErrorCode")

		// A refusal anywhere makes the whole SendingFailed.
		m = e.send(t, e.outbound(switchboard.TypeSMS, p1, p2))
		ds = e.claimAll(t, "w")
		noErr(t, e.store.RecordSubmit(e.ctx, "w", ds[p1].ID, true, "car-7", ""))
		noErr(t, e.store.ApplyReceipt(e.ctx, m.ID, p1, false, "SMS-CAR-430", at))
		noErr(t, e.store.RecordSubmit(e.ctx, "w", ds[p2].ID, false, "", "SMS-CAR-411"))
		got = e.sent(t, m)
		wantStatus(t, got, switchboard.StatusSendingFailed, switchboard.StatusDeliveryFailed, switchboard.StatusSendingFailed)
		wantEqual(t, got.DeliveryErrorCode, "SMS-CAR-430", "deliveryErrorCode (first failed recipient)")
	})

	t.Run("Pager", func(t *testing.T) {
		c := switchboard.OutboundCreate{Message: switchboard.MessageCreate{AccountID: box.acc, ExtensionID: box.ext,
			Type: switchboard.TypePager, Direction: switchboard.Outbound, Subject: "hi",
			From: switchboard.Party{ExtensionNumber: "101"}, To: []switchboard.Party{{ExtensionNumber: "102"}}},
			Recipients: []switchboard.DeliveryTarget{{Recipient: "102", Internal: true}}, SendAt: e.clock.Now().Add(time.Nanosecond)}
		m := e.send(t, c)
		wantStatus(t, m, switchboard.StatusQueued, switchboard.StatusQueued)
		d := e.claimAll(t, "w")["102"]
		before := e.count(t, mb(e.ext2))
		copyMsg := c.Message
		copyMsg.ExtensionID, copyMsg.Direction, copyMsg.MessageStatus = e.ext2.ID, switchboard.Inbound, ""
		noErr(t, e.deliver("w", d.ID, []switchboard.MessageCreate{copyMsg}))
		wantStatus(t, e.sent(t, m), switchboard.StatusSent, switchboard.StatusSent)
		wantEqual(t, e.count(t, mb(e.ext2)), before+1, "pager copies")
	})

	t.Run("Fax", func(t *testing.T) {
		m := e.send(t, e.outbound(switchboard.TypeFax, p1, p2))
		ds := e.claimAll(t, "w")
		noErr(t, e.store.RecordSubmit(e.ctx, "w", ds[p1].ID, true, "fax-1", ""))
		noErr(t, e.store.ApplyReceipt(e.ctx, m.ID, p1, true, "", at))
		wantStatus(t, e.sent(t, m), switchboard.StatusQueued, switchboard.StatusSent, switchboard.StatusQueued)
		noErr(t, e.store.RecordSubmit(e.ctx, "w", ds[p2].ID, false, "", "LineBusy"))
		got := e.sent(t, m)
		wantStatus(t, got, switchboard.StatusSendingFailed, switchboard.StatusSent, switchboard.StatusSendingFailed)
		if got.To[1].FaxErrorCode != "LineBusy" || got.To[0].FaxErrorCode != "" || got.DeliveryErrorCode != "" || got.SMSSendingAttempts != 0 {
			t.Fatalf("failed fax: %+v", got)
		}

		m = e.send(t, e.outbound(switchboard.TypeFax, p3))
		d := e.claimAll(t, "w")[p3]
		noErr(t, e.store.RecordSubmit(e.ctx, "w", d.ID, true, "fax-2", ""))
		noErr(t, e.store.ApplyReceipt(e.ctx, m.ID, p3, true, "", at))
		got = e.sent(t, m)
		wantStatus(t, got, switchboard.StatusSent, switchboard.StatusSent)
		if !got.SMSDeliveryTime.IsZero() {
			t.Fatalf("fax with smsDeliveryTime %v", got.SMSDeliveryTime)
		}
	})
}

func testReschedule(t *testing.T, e *env) {
	box := mb(e.ext1)
	m := e.send(t, e.outbound(switchboard.TypeSMS, p1))
	d := e.claimAll(t, "w")[p1]
	for i := 1; i <= 3; i++ {
		next := e.clock.Now().Add(time.Minute)
		n := len(e.changes(t, box))
		noErr(t, e.store.Reschedule(e.ctx, "w", d.ID, next, 3, "SMS-CAR-503"))
		got := e.sent(t, m)
		wantEqual(t, got.SMSSendingAttempts, i, "attempts")
		wantEqual(t, len(e.changes(t, box)), n+1, "changes after a reschedule")
		wantIs(t, e.store.RecordSubmit(e.ctx, "w", d.ID, true, "x", ""), switchboard.ErrLeaseLost, "RecordSubmit after Reschedule")
		if i == 3 {
			wantStatus(t, got, switchboard.StatusSendingFailed, switchboard.StatusSendingFailed)
			wantEqual(t, got.DeliveryErrorCode, "SMS-CAR-503", "deliveryErrorCode")
			break
		}
		wantStatus(t, got, switchboard.StatusQueued, switchboard.StatusQueued)
		wantEqual(t, len(e.claimAll(t, "w")), 0, "claim before the retry is due")
		e.clock.Advance(time.Minute)
		ds := e.claimAll(t, "w")
		d = ds[p1]
		if d == nil || d.Attempts != i || !d.NextAttempt.Equal(next) {
			t.Fatalf("retry %d: %+v", i, d)
		}
	}
	e.clock.Advance(time.Hour)
	wantEqual(t, len(e.claimAll(t, "w")), 0, "claim after failing for good")

	// A reschedule that changes nothing visible (fax: no attempt count)
	// writes no change and leaves lastModified.
	f := e.send(t, e.outbound(switchboard.TypeFax, p1))
	d = e.claimAll(t, "w")[p1]
	n := len(e.changes(t, box))
	e.clock.Advance(time.Second)
	noErr(t, e.store.Reschedule(e.ctx, "w", d.ID, e.clock.Now(), 5, "Busy"))
	wantEqual(t, e.sent(t, f), f, "fax after a reschedule")
	wantEqual(t, len(e.changes(t, box)), n, "changes after an invisible reschedule")
	if ds := e.claimAll(t, "w"); ds[p1] == nil || ds[p1].Attempts != 1 {
		t.Fatalf("fax retry: %+v", ds)
	}
}

// testPostpone: a postponed delivery comes due again later with no
// attempt counted and nothing visible changed, however often.
func testPostpone(t *testing.T, e *env) {
	box := mb(e.ext1)
	m := e.send(t, e.outbound(switchboard.TypeSMS, p1))
	d := e.claimAll(t, "w")[p1]
	n := len(e.changes(t, box))
	for i := range 10 {
		next := e.clock.Now().Add(time.Minute)
		noErr(t, e.store.Postpone(e.ctx, "w", d.ID, next))
		wantIs(t, e.store.Postpone(e.ctx, "w", d.ID, next), switchboard.ErrLeaseLost, "Postpone twice")
		wantEqual(t, len(e.claimAll(t, "w")), 0, "claim before it is due")
		e.clock.Advance(time.Minute)
		d = e.claimAll(t, "w")[p1]
		if d == nil || d.Attempts != 0 || !d.NextAttempt.Equal(next) {
			t.Fatalf("postponement %d: %+v", i, d)
		}
	}
	got := e.sent(t, m)
	wantStatus(t, got, switchboard.StatusQueued, switchboard.StatusQueued)
	wantEqual(t, got.SMSSendingAttempts, 0, "attempts")
	wantEqual(t, len(e.changes(t, box)), n, "changes after postponements")
	noErr(t, e.store.RecordSubmit(e.ctx, "w", d.ID, true, "late-1", ""))
}

func testDepartments(t *testing.T, e *env) {
	dept := must(e.store.CreateExtension(e.ctx, switchboard.ExtensionCreate{AccountID: e.acc1.ID,
		ExtensionNumber: "500", Name: "Sales", Type: switchboard.ExtensionTypeDepartment}))(t)
	ext10 := e.newExtension(t, e.acc1, "10", "")
	acc, id := e.acc1.ID, dept.ID
	wantEqual(t, len(must(e.store.DepartmentMembers(e.ctx, acc, id))(t)), 0, "members of a new department")
	for _, x := range []*switchboard.Extension{e.ext2, e.ext1, ext10, e.ext1} { // twice: idempotent
		noErr(t, e.store.AddDepartmentMember(e.ctx, acc, id, x.ID))
	}
	members := must(e.store.DepartmentMembers(e.ctx, acc, id))(t)
	wantEqual(t, []string{members[0].ExtensionNumber, members[1].ExtensionNumber, members[2].ExtensionNumber},
		[]string{"10", "101", "102"}, "members by extension number")
	if len(members) != 3 || members[1].ID != e.ext1.ID || members[1].Type != switchboard.ExtensionTypeUser {
		t.Fatalf("members: %+v", members)
	}

	wantIs(t, e.store.AddDepartmentMember(e.ctx, acc, id, e.ext3.ID), switchboard.ErrNotFound, "member of another account")
	wantIs(t, e.store.AddDepartmentMember(e.ctx, acc, id, 1), switchboard.ErrNotFound, "member that does not exist")
	wantIs(t, e.store.AddDepartmentMember(e.ctx, e.acc2.ID, id, e.ext3.ID), switchboard.ErrNotFound, "department of another account")
	wantCode(t, e.store.AddDepartmentMember(e.ctx, acc, e.ext1.ID, e.ext2.ID), switchboard.CodeInvalidParameter, "a User as department")
	wantCode(t, e.store.AddDepartmentMember(e.ctx, acc, id, id), switchboard.CodeInvalidParameter, "a Department as member")
	wantIs(t, second(e.store.DepartmentMembers(e.ctx, e.acc2.ID, id)), switchboard.ErrNotFound, "members seen from another account")
	wantCode(t, second(e.store.DepartmentMembers(e.ctx, acc, e.ext1.ID)), switchboard.CodeInvalidParameter, "members of a User")
	wantEqual(t, len(must(e.store.DepartmentMembers(e.ctx, acc, id))(t)), 3, "members after denials")
}

func testScheduledSend(t *testing.T, e *env) {
	c := e.outbound(switchboard.TypeFax, p1)
	c.SendAt = e.clock.Now().Add(time.Hour)
	e.send(t, c)
	wantEqual(t, len(e.claimAll(t, "a")), 0, "claim before sendTime")
	e.clock.Advance(time.Hour - time.Second)
	wantEqual(t, len(e.claimAll(t, "a")), 0, "claim a second before sendTime")
	e.clock.Advance(time.Second)
	wantEqual(t, len(e.claimAll(t, "a")), 1, "claim at sendTime")
	// A sendTime in the past means now.
	c = e.outbound(switchboard.TypeFax, p2)
	c.SendAt = e.clock.Now().Add(-time.Hour)
	e.send(t, c)
	wantEqual(t, len(e.claimAll(t, "b")), 1, "claim of a past sendTime")
}

func testReceiptBeforeSubmit(t *testing.T, e *env) {
	m := e.send(t, e.outbound(switchboard.TypeSMS, p1))
	e.claimAll(t, "a")
	err := e.store.ApplyReceipt(e.ctx, m.ID, p1, true, "", time.Time{})
	if !errors.Is(err, switchboard.ErrDeliveryPending) {
		t.Fatalf("receipt for a Pending delivery: %v, want ErrDeliveryPending", err)
	}
	wantStatus(t, e.sent(t, m), switchboard.StatusQueued, switchboard.StatusQueued)
	// Unknown deliveries are ignored.
	if err := e.store.ApplyReceipt(e.ctx, m.ID, "+19999999999", true, "", time.Time{}); err != nil {
		t.Fatalf("receipt for an unknown recipient: %v", err)
	}
}

// testRecordCarrier: a worker's pass over the carrier recorded at once.
// Each delivery and each sender's message ends as the same answers one at
// a time would leave it, with one change row per message; a receipt may
// follow its submit in the same call; the results are per answer.
func testRecordCarrier(t *testing.T, e *env) {
	box := mb(e.ext1)
	at := Base.Add(5 * time.Second)
	m1 := e.send(t, e.outbound(switchboard.TypeSMS, p1, p2))
	m2 := e.send(t, e.outbound(switchboard.TypeSMS, p1))
	m3 := e.send(t, e.outbound(switchboard.TypeSMS, p1))
	ds := map[int64]map[string]*switchboard.Delivery{}
	for _, d := range must(e.store.ClaimDeliveries(e.ctx, "w", time.Minute, 100))(t) {
		if ds[d.MessageID] == nil {
			ds[d.MessageID] = map[string]*switchboard.Delivery{}
		}
		ds[d.MessageID][d.Recipient] = d
	}
	seq := e.position(t)
	e.clock.Advance(time.Second)
	submitErrs, reportErrs, err := e.store.RecordCarrier(e.ctx, "w", []switchboard.SubmitOutcome{
		{DeliveryID: ds[m1.ID][p1].ID, Accepted: true, CarrierID: "car-1"},
		{DeliveryID: ds[m1.ID][p2].ID, ErrorCode: "SMS-CAR-411"},
		{DeliveryID: ds[m2.ID][p1].ID, Accepted: true, CarrierID: "car-2"},
		{DeliveryID: ds[m2.ID][p1].ID, Accepted: true, CarrierID: "car-2"}, // twice: the second finds it done
	}, []switchboard.DeliveryReport{
		{MessageID: m1.ID, Recipient: p1, Delivered: true, At: at},
		{MessageID: m1.ID, Recipient: p1, ErrorCode: "SMS-CAR-430", At: at}, // a repeat: ignored
		{MessageID: m1.ID, Recipient: p2, Delivered: true, At: at},          // refused: ignored
		{MessageID: m2.ID, Recipient: p1, ErrorCode: "SMS-CAR-430", At: at},
		{MessageID: m3.ID, Recipient: p1, Delivered: true, At: at}, // not submitted yet
		{MessageID: m3.ID, Recipient: "+19999999999", Delivered: true, At: at},
	})
	noErr(t, err)
	wantEqual(t, fmt.Sprint(submitErrs), fmt.Sprint([]error{nil, nil, nil, switchboard.ErrLeaseLost}), "submit results")
	wantEqual(t, fmt.Sprint(reportErrs), fmt.Sprint([]error{nil, nil, nil, nil, switchboard.ErrDeliveryPending, nil}), "report results")

	got := e.sent(t, m1)
	wantStatus(t, got, switchboard.StatusSendingFailed, switchboard.StatusDelivered, switchboard.StatusSendingFailed)
	wantEqual(t, got.SMSSendingAttempts, 2, "attempts of the first message")
	wantTime(t, got.SMSDeliveryTime, at, "smsDeliveryTime")
	got = e.sent(t, m2)
	wantStatus(t, got, switchboard.StatusDeliveryFailed, switchboard.StatusDeliveryFailed)
	wantEqual(t, got.DeliveryErrorCode, "SMS-CAR-430", "deliveryErrorCode")
	wantStatus(t, e.sent(t, m3), switchboard.StatusQueued, switchboard.StatusQueued)
	wantLogged(t, e.changesSince(t, box, seq), switchboard.ChangeUpdated, e.clock.Now(), []int64{m1.ID, m2.ID})
	wantEqual(t, len(must(e.store.ClaimUnreceipted(e.ctx, e.clock.Now().Add(time.Hour), 100))(t)), 0, "deliveries left waiting for a receipt")
	id, _, err := e.store.DeliveryByCarrierID(e.ctx, "car-2")
	noErr(t, err)
	wantEqual(t, id, m2.ID, "carrier id of a delivery submitted and reported at once")

	// m3's submit, then its receipt, in two calls.
	_, _, err = e.store.RecordCarrier(e.ctx, "w", []switchboard.SubmitOutcome{{DeliveryID: ds[m3.ID][p1].ID, Accepted: true, CarrierID: "car-3"}}, nil)
	noErr(t, err)
	wantStatus(t, e.sent(t, m3), switchboard.StatusSent, switchboard.StatusSent)
	_, reportErrs, err = e.store.RecordCarrier(e.ctx, "", nil, []switchboard.DeliveryReport{{MessageID: m3.ID, Recipient: p1, Delivered: true, At: at}})
	noErr(t, err)
	noErr(t, reportErrs[0])
	wantStatus(t, e.sent(t, m3), switchboard.StatusDelivered, switchboard.StatusDelivered)
}

// testGroupedWrites: outbox writes from many goroutines at once (which the
// SQLite store commits together) each succeed or fail on their own.
func testGroupedWrites(t *testing.T, e *env) {
	const n = 60
	var wg sync.WaitGroup
	errs := make([]error, n)
	ids := make([]int64, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := e.outbound(switchboard.TypeSMS, fmt.Sprintf("+1415555%04d", i))
			if i%10 == 0 {
				c.Message.ExtensionID = 1 << 40 // no such mailbox: this write fails alone
			}
			ctx := e.ctx
			if i%10 == 5 {
				// Its caller is gone: it stores nothing, and the writes
				// sharing its transaction are not affected.
				cancelled, cancel := context.WithCancel(e.ctx)
				cancel()
				ctx = cancelled
			}
			m, err := e.store.CreateOutbound(ctx, c)
			errs[i] = err
			if err == nil {
				ids[i] = m.ID
			}
		}()
	}
	wg.Wait()
	for i := range n {
		switch i % 10 {
		case 0:
			wantIs(t, errs[i], switchboard.ErrNotFound, fmt.Sprintf("write %d to a missing mailbox", i))
			continue
		case 5:
			wantIs(t, errs[i], context.Canceled, fmt.Sprintf("write %d of a cancelled caller", i))
			continue
		}
		noErr(t, errs[i])
		wantEqual(t, e.sent(t, &switchboard.Message{ID: ids[i]}).Subject, "hello", fmt.Sprintf("message %d", i))
	}
	wantEqual(t, len(e.claimAll(t, "a")), n-2*n/10, "deliveries of the successful writes")
}

// testClaimUnreceipted: Submitted deliveries whose receipt is overdue are
// handed out for a resubmit once per period, to one claimer only, and
// never once their receipt has come.
func testClaimUnreceipted(t *testing.T, e *env) {
	ids := func(ds []*switchboard.Delivery) []string {
		var out []string
		for _, d := range ds {
			out = append(out, d.Recipient)
		}
		return out
	}
	m := e.send(t, e.outbound(switchboard.TypeSMS, p1, p2))
	e.send(t, e.outbound(switchboard.TypeSMS, p3)) // stays Pending: never claimed here
	ds := e.claimAll(t, "w")
	noErr(t, e.store.RecordSubmit(e.ctx, "w", ds[p1].ID, true, "c1", ""))
	noErr(t, e.store.RecordSubmit(e.ctx, "w", ds[p2].ID, true, "c2", ""))
	submittedAt := e.clock.Now()

	_, err := e.store.ClaimUnreceipted(e.ctx, submittedAt, 0)
	if err == nil {
		t.Fatal("ClaimUnreceipted with limit 0: no error")
	}
	wantEqual(t, len(must(e.store.ClaimUnreceipted(e.ctx, submittedAt, 10))(t)), 0, "claimed at the submit instant")

	e.clock.Advance(time.Minute)
	got := must(e.store.ClaimUnreceipted(e.ctx, submittedAt.Add(time.Second), 1))(t)
	wantEqual(t, ids(got), []string{p1}, "first claim, limit 1")
	if got[0].State != switchboard.DeliverySubmitted || got[0].CarrierID != "c1" || got[0].MessageID != m.ID {
		t.Fatalf("claimed %+v", got[0])
	}
	got = must(e.store.ClaimUnreceipted(e.ctx, submittedAt.Add(time.Second), 10))(t)
	wantEqual(t, ids(got), []string{p2}, "second claim: the one left")
	wantEqual(t, len(must(e.store.ClaimUnreceipted(e.ctx, submittedAt.Add(time.Second), 10))(t)), 0, "claimed again in the same period")

	// A period later both are due again, unless their receipt came.
	noErr(t, e.store.ApplyReceipt(e.ctx, m.ID, p2, true, "", e.clock.Now()))
	e.clock.Advance(time.Minute)
	got = must(e.store.ClaimUnreceipted(e.ctx, e.clock.Now().Add(-30*time.Second), 10))(t)
	wantEqual(t, ids(got), []string{p1}, "claim a period later")

	// Concurrent claimers: each overdue delivery goes to exactly one.
	for range 12 {
		e.send(t, e.outbound(switchboard.TypeSMS, p1))
	}
	pending := must(e.store.ClaimDeliveries(e.ctx, "w", time.Minute, 100))(t)
	wantEqual(t, len(pending), 13, "pending deliveries (12 new and p3)")
	for _, d := range pending {
		noErr(t, e.store.RecordSubmit(e.ctx, "w", d.ID, true, "c", ""))
	}
	e.clock.Advance(time.Minute)
	cutoff := e.clock.Now()
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				ds, err := e.store.ClaimUnreceipted(e.ctx, cutoff, 2)
				if err != nil {
					t.Error(err)
					return
				}
				if len(ds) == 0 {
					return
				}
				mu.Lock()
				for _, d := range ds {
					seen[d.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	wantEqual(t, len(seen), 14, "overdue deliveries claimed (12 new, p3 and p1)")
	for id, n := range seen {
		if n != 1 {
			t.Errorf("delivery %d claimed %d times", id, n)
		}
	}
}

// testListDeliveries: the queue by state, newest first, with the carrier's
// answer on failures.
func testListDeliveries(t *testing.T, e *env) {
	m1 := e.send(t, e.outbound(switchboard.TypeSMS, p1, p2))
	e.clock.Advance(time.Second)
	m2 := e.send(t, e.outbound(switchboard.TypeSMS, p3))
	pending := must(e.store.ListDeliveries(e.ctx, switchboard.DeliveryPending, 10))(t)
	if len(pending) != 3 || pending[0].MessageID != m2.ID || pending[2].MessageID != m1.ID {
		t.Fatalf("pending = %+v, want 3 newest first", pending)
	}
	if got := must(e.store.ListDeliveries(e.ctx, switchboard.DeliveryPending, 2))(t); len(got) != 2 {
		t.Fatalf("limit 2 gave %d", len(got))
	}
	ds := e.claimAll(t, "w")
	noErr(t, e.store.RecordSubmit(e.ctx, "w", ds[p1].ID, false, "", "SMS-UP-410"))
	noErr(t, e.store.RecordSubmit(e.ctx, "w", ds[p2].ID, true, "c-2", ""))
	failed := must(e.store.ListDeliveries(e.ctx, switchboard.DeliveryFailed, 10))(t)
	if len(failed) != 1 || failed[0].Recipient != p1 || failed[0].ErrorCode != "SMS-UP-410" {
		t.Fatalf("failed = %+v", failed)
	}
	submitted := must(e.store.ListDeliveries(e.ctx, switchboard.DeliverySubmitted, 10))(t)
	if len(submitted) != 1 || submitted[0].CarrierID != "c-2" {
		t.Fatalf("submitted = %+v", submitted)
	}
	if got := must(e.store.ListDeliveries(e.ctx, switchboard.DeliveryPending, 10))(t); len(got) != 1 || got[0].Recipient != p3 {
		t.Fatalf("pending after the claim = %+v (claimed rows stay Pending until recorded)", got)
	}
}

// testDeliverDueInternal: due internal deliveries that no worker holds are
// selected and completed in one call: copies stored once, senders'
// statuses recomputed; one whose mailbox is gone fails; leased, scheduled
// and carrier deliveries are left alone; a second call finds nothing.
func testDeliverDueInternal(t *testing.T, e *env) {
	if _, err := e.store.DeliverDueInternal(e.ctx, 0); err == nil {
		t.Fatal("DeliverDueInternal with limit 0: no error")
	}
	// The oldest is held by a worker (DeliverInternal's path).
	held := e.send(t, e.outbound(switchboard.TypeSMS, own2))
	wantEqual(t, len(must(e.store.ClaimDeliveries(e.ctx, "w", time.Hour, 1))(t)), 1, "deliveries claimed by the worker")
	first := e.send(t, e.outbound(switchboard.TypeSMS, own2))
	mixed := e.send(t, e.outbound(switchboard.TypeSMS, own3, p1)) // another account's mailbox, and the carrier
	c := e.outbound(switchboard.TypeSMS, own2)
	c.Recipients[0].Mailboxes = []switchboard.Mailbox{{AccountID: e.acc1.ID, ExtensionID: e.ext2.ID + 1000}}
	gone := e.send(t, c)
	later := e.outbound(switchboard.TypeSMS, own2)
	later.SendAt = e.clock.Now().Add(time.Hour)
	scheduled := e.send(t, later)
	box2, box3 := e.count(t, mb(e.ext2)), e.count(t, mb(e.ext3))

	out := must(e.store.DeliverDueInternal(e.ctx, 100))(t)
	wantEqual(t, out, switchboard.InternalOutcome{Delivered: 2, Failed: 1}, "first call")
	wantEqual(t, e.count(t, mb(e.ext2)), box2+1, "copies in ext2's mailbox")
	wantEqual(t, e.count(t, mb(e.ext3)), box3+1, "copies in ext3's mailbox")
	wantStatus(t, e.sent(t, first), switchboard.StatusDelivered, switchboard.StatusDelivered)
	m := e.sent(t, mixed)
	wantEqual(t, m.MessageStatus, switchboard.StatusQueued, "a message whose carrier recipient is pending")
	wantEqual(t, m.To[0].MessageStatus, switchboard.StatusDelivered, "its internal recipient")
	g := e.sent(t, gone)
	wantStatus(t, g, switchboard.StatusSendingFailed, switchboard.StatusSendingFailed)
	wantEqual(t, g.DeliveryErrorCode, switchboard.RecipientGoneCode(switchboard.TypeSMS), "error code of a mailbox gone")
	wantStatus(t, e.sent(t, held), switchboard.StatusQueued, switchboard.StatusQueued)
	wantStatus(t, e.sent(t, scheduled), switchboard.StatusQueued, switchboard.StatusQueued)

	wantEqual(t, must(e.store.DeliverDueInternal(e.ctx, 100))(t), switchboard.InternalOutcome{}, "second call")
	left := must(e.store.ClaimDeliveries(e.ctx, "x", time.Minute, 100))(t)
	if len(left) != 1 || left[0].Recipient != p1 {
		t.Fatalf("claimable after: %+v, want the carrier delivery only", left)
	}
	// An hour on, the schedule is due and the worker's lease has run out.
	e.clock.Advance(time.Hour)
	wantEqual(t, must(e.store.DeliverDueInternal(e.ctx, 100))(t), switchboard.InternalOutcome{Delivered: 2}, "after an hour")
	wantStatus(t, e.sent(t, held), switchboard.StatusDelivered, switchboard.StatusDelivered)
	wantStatus(t, e.sent(t, scheduled), switchboard.StatusDelivered, switchboard.StatusDelivered)
	wantEqual(t, e.count(t, mb(e.ext2)), box2+3, "copies in ext2's mailbox at the end")
}

// testClaimCarrierDeliveries: the carrier claim leaves internal
// deliveries to DeliverDueInternal.
func testClaimCarrierDeliveries(t *testing.T, e *env) {
	e.send(t, e.outbound(switchboard.TypeSMS, own2, p1))
	ds := must(e.store.ClaimCarrierDeliveries(e.ctx, "w", time.Minute, 100))(t)
	if len(ds) != 1 || ds[0].Recipient != p1 || ds[0].Internal {
		t.Fatalf("carrier claim: %+v", ds)
	}
	wantEqual(t, must(e.store.DeliverDueInternal(e.ctx, 100))(t), switchboard.InternalOutcome{Delivered: 1}, "the internal one")
}

// testCompletesOnAccept: the deliveries of a send that complete on accept
// (internal, due now) are complete when CreateOutbound returns: the copies
// stored, the deliveries Done (Failed for a mailbox that is gone), the
// sender's message stored as they leave it with an "updated" change after
// its "created", and nothing left for a worker; the answer is the message
// as accepted, Queued. A carrier recipient of the same send stays Pending.
func testCompletesOnAccept(t *testing.T, e *env) {
	now := func(c switchboard.OutboundCreate) switchboard.OutboundCreate {
		c.SendAt = time.Time{}
		return c
	}
	box2, box3 := e.count(t, mb(e.ext2)), e.count(t, mb(e.ext3))

	m := e.send(t, now(e.outbound(switchboard.TypeSMS, own2)))
	wantStatus(t, m, switchboard.StatusQueued, switchboard.StatusQueued)
	wantEqual(t, m.SMSSendingAttempts, 0, "attempts in the answer")
	got := e.sent(t, m)
	wantStatus(t, got, switchboard.StatusDelivered, switchboard.StatusDelivered)
	if got.SMSSendingAttempts != 1 || !got.SMSDeliveryTime.Equal(Base) {
		t.Fatalf("stored: attempts %d, delivery time %v; want 1, %v", got.SMSSendingAttempts, got.SMSDeliveryTime, Base)
	}
	var kinds []string
	for _, c := range e.changes(t, mb(e.ext1)) {
		if c.MessageID == m.ID {
			kinds = append(kinds, c.Kind)
		}
	}
	wantEqual(t, fmt.Sprint(kinds), fmt.Sprint([]string{switchboard.ChangeCreated, switchboard.ChangeUpdated}), "the sender's changes")
	copies := must(e.store.ListMessages(e.ctx, switchboard.MessageFilter{AccountID: e.acc1.ID, ExtensionID: e.ext2.ID}))(t).Messages
	wantEqual(t, len(copies), box2+1, "copies in ext2's mailbox")
	in := copies[0]
	if in.Direction != switchboard.Inbound || in.MessageStatus != switchboard.StatusReceived || in.ReadStatus != switchboard.Unread ||
		in.ConversationID != got.ConversationID || len(in.Attachments) != 1 || in.To[0].MessageStatus != "" {
		t.Fatalf("inbound copy: %+v", in)
	}
	if content, err := e.content(t, mb(e.ext2), in, 0); err != nil || string(content) != "hello" {
		t.Fatalf("the copy's text: %q, %v", content, err)
	}

	// Mixed: the internal recipient (of another account) is delivered,
	// the carrier's waits for the worker, and the message is Queued.
	mixed := e.send(t, now(e.outbound(switchboard.TypeSMS, own3, p1)))
	wantStatus(t, mixed, switchboard.StatusQueued, switchboard.StatusQueued, switchboard.StatusQueued)
	wantStatus(t, e.sent(t, mixed), switchboard.StatusQueued, switchboard.StatusDelivered, switchboard.StatusQueued)
	wantEqual(t, e.count(t, mb(e.ext3)), box3+1, "copies in ext3's mailbox")

	// A mailbox gone since routing: the delivery fails, nothing is copied.
	c := now(e.outbound(switchboard.TypeSMS, own2))
	c.Recipients[0].Mailboxes = []switchboard.Mailbox{{AccountID: e.acc1.ID, ExtensionID: e.ext2.ID + 1000}}
	gone := e.sent(t, e.send(t, c))
	wantStatus(t, gone, switchboard.StatusSendingFailed, switchboard.StatusSendingFailed)
	wantEqual(t, gone.DeliveryErrorCode, switchboard.RecipientGoneCode(switchboard.TypeSMS), "error code of a mailbox gone")
	wantEqual(t, gone.SMSSendingAttempts, 0, "attempts of a mailbox gone")

	// A pager message is Sent.
	pager := switchboard.OutboundCreate{Message: switchboard.MessageCreate{AccountID: e.acc1.ID, ExtensionID: e.ext1.ID,
		Type: switchboard.TypePager, Direction: switchboard.Outbound, Subject: "hi",
		From: switchboard.Party{ExtensionNumber: "101"}, To: []switchboard.Party{{ExtensionNumber: "102"}}},
		Recipients: []switchboard.DeliveryTarget{{Recipient: "102", Internal: true,
			Mailboxes: []switchboard.Mailbox{{AccountID: e.acc1.ID, ExtensionID: e.ext2.ID}}}}}
	wantStatus(t, e.sent(t, e.send(t, pager)), switchboard.StatusSent, switchboard.StatusSent)
	wantEqual(t, e.count(t, mb(e.ext2)), box2+2, "copies in ext2's mailbox at the end")

	// Only the carrier delivery is left to a worker; the others are
	// recorded as they ended.
	left := must(e.store.ClaimDeliveries(e.ctx, "w", time.Minute, 100))(t)
	if len(left) != 1 || left[0].Recipient != p1 {
		t.Fatalf("claimable: %+v, want the carrier delivery only", left)
	}
	wantEqual(t, len(must(e.store.ListDeliveries(e.ctx, switchboard.DeliveryDone, 100))(t)), 3, "Done deliveries")
	failed := must(e.store.ListDeliveries(e.ctx, switchboard.DeliveryFailed, 100))(t)
	if len(failed) != 1 || failed[0].ErrorCode != switchboard.RecipientGoneCode(switchboard.TypeSMS) {
		t.Fatalf("Failed deliveries: %+v", failed)
	}
	wantEqual(t, must(e.store.DeliverDueInternal(e.ctx, 100))(t), switchboard.InternalOutcome{}, "due internal deliveries left")
}
