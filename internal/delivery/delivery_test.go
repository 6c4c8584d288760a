package delivery

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/carrier"
	"github.com/switchboardhq/switchboard/internal/sqlstore"
)

var base = time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)

const (
	senderNumber    = "+16505550101"
	recipientNumber = "+16505550102" // internal: owned by the second extension
	outsideNumber   = "+14155550199" // at the carrier
)

// fakeCarrier answers submissions with a script: one answer per call, in
// order, the last repeated. Receipts are what the test queues.
type fakeCarrier struct {
	mu       sync.Mutex
	answers  []answer
	calls    []carrier.Submission
	receipts []carrier.Receipt
	acked    []carrier.Receipt
}

type answer struct {
	res carrier.Result
	err error
}

func (c *fakeCarrier) Submit(_ context.Context, s carrier.Submission) (carrier.Result, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, s)
	a := c.answers[min(len(c.calls), len(c.answers))-1]
	return a.res, a.err
}

func (c *fakeCarrier) Receipts(_ context.Context, now time.Time) ([]carrier.Receipt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var due []carrier.Receipt
	for _, r := range c.receipts {
		if !r.At.After(now) {
			due = append(due, r)
		}
	}
	return due, nil
}

func (c *fakeCarrier) Ack(_ context.Context, r carrier.Receipt) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.acked = append(c.acked, r)
	for i, x := range c.receipts {
		if (x.MessageID == r.MessageID && x.Recipient == r.Recipient) || (x.MessageID == 0 && x.CarrierID == r.CarrierID) {
			c.receipts = append(c.receipts[:i], c.receipts[i+1:]...)
			break
		}
	}
	return nil
}

// Listen: this carrier receives nothing.
func (c *fakeCarrier) Listen(ctx context.Context, _ switchboard.InboundReceiver) error {
	<-ctx.Done()
	return nil
}

func (c *fakeCarrier) submissions() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.calls)
}

type env struct {
	ctx              context.Context
	clock            *switchboard.ManualClock
	store            *sqlstore.DB
	carrier          *fakeCarrier
	worker           *Worker
	sender, receiver *switchboard.Extension
}

func newEnv(t *testing.T, answers ...answer) *env {
	t.Helper()
	ctx := t.Context()
	clock := switchboard.NewManualClock(func() time.Time { return base })
	store, err := sqlstore.OpenSQLite(ctx, filepath.Join(t.TempDir(), "delivery.db"), clock, sqlstore.SQLiteOptions{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	e := &env{ctx: ctx, clock: clock, store: store, carrier: &fakeCarrier{answers: answers}}
	acc := must[*switchboard.Account](t)(store.CreateAccount(ctx, switchboard.AccountCreate{Name: "Acme", MainNumber: "+16505550100"}))
	e.sender = e.extension(t, acc, "101", senderNumber)
	e.receiver = e.extension(t, acc, "102", recipientNumber)
	e.worker = NewWorker(store, e.carrier, clock, Config{Owner: "test", BaseBackoff: time.Second, MaxBackoff: time.Minute, MaxAttempts: 3, ReceiptTimeout: time.Minute},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	return e
}

func must[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func (e *env) extension(t testing.TB, acc *switchboard.Account, number, phone string) *switchboard.Extension {
	t.Helper()
	x := must[*switchboard.Extension](t)(e.store.CreateExtension(e.ctx, switchboard.ExtensionCreate{AccountID: acc.ID, ExtensionNumber: number, Name: "Ext " + number}))
	must[*switchboard.PhoneNumber](t)(e.store.CreatePhoneNumber(e.ctx, switchboard.PhoneNumberCreate{
		AccountID: acc.ID, ExtensionID: x.ID, PhoneNumber: phone, Features: []string{switchboard.FeatureSmsSender}}))
	return x
}

// send queues an SMS from the sender to one recipient.
// outbound is an SMS to `to`, routed as the send decides: internal to the
// receiver's mailbox for recipientNumber, internal to a mailbox that does
// not exist (any more) for another internal number, else to the carrier.
func (e *env) outbound(to string, internal bool) switchboard.OutboundCreate {
	target := switchboard.DeliveryTarget{Recipient: to, Internal: internal}
	if internal {
		box := switchboard.Mailbox{AccountID: e.receiver.AccountID, ExtensionID: e.receiver.ID}
		if to != recipientNumber {
			box.ExtensionID += 1000
		}
		target.Mailboxes = []switchboard.Mailbox{box}
	}
	return switchboard.OutboundCreate{
		Message: switchboard.MessageCreate{AccountID: e.sender.AccountID, ExtensionID: e.sender.ID, Type: switchboard.TypeSMS,
			Direction: switchboard.Outbound, MessageStatus: switchboard.StatusQueued, ReadStatus: switchboard.Read,
			Subject: "hello", From: switchboard.Party{PhoneNumber: senderNumber}, To: []switchboard.Party{{PhoneNumber: to}},
			Attachments: []*switchboard.Attachment{{Type: switchboard.AttachmentText, ContentType: "text/plain", Content: []byte("hello")}}},
		Recipients: []switchboard.DeliveryTarget{target},
		// Scheduled a nanosecond on (due now, to the millisecond), so that
		// an internal delivery is the worker's too rather than complete on
		// accept (switchboard.OutboundCreate.CompletesOnAccept).
		SendAt: e.clock.Now().Add(time.Nanosecond),
	}
}

// send queues e.outbound(to, internal).
func (e *env) send(t *testing.T, to string, internal bool) *switchboard.Message {
	t.Helper()
	return must[*switchboard.Message](t)(e.store.CreateOutbound(e.ctx, e.outbound(to, internal)))
}

func (e *env) run(t *testing.T) int {
	t.Helper()
	n, err := e.worker.RunOnce(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (e *env) sent(t *testing.T, m *switchboard.Message) *switchboard.Message {
	t.Helper()
	return must[*switchboard.Message](t)(e.store.Message(e.ctx, m.AccountID, m.ExtensionID, m.ID))
}

func (e *env) inbox(t *testing.T) []*switchboard.Message {
	t.Helper()
	page := must[*switchboard.MessagePage](t)(e.store.ListMessages(e.ctx, switchboard.MessageFilter{
		AccountID: e.receiver.AccountID, ExtensionID: e.receiver.ID, Limit: 100}))
	return page.Messages
}

func TestBackoff(t *testing.T) {
	w := NewWorker(nil, nil, nil, Config{BaseBackoff: 2 * time.Second, MaxBackoff: time.Minute}, nil)
	for _, tc := range []struct {
		attempts int
		hint     time.Duration
		want     time.Duration
	}{
		{0, 0, 2 * time.Second},
		{1, 0, 4 * time.Second},
		{4, 0, 32 * time.Second},
		{5, 0, time.Minute},                     // capped
		{200, 0, time.Minute},                   // no overflow past the cap
		{1, 10 * time.Second, 10 * time.Second}, // a longer carrier hint wins
		{1, time.Second, 4 * time.Second},       // a shorter one does not
	} {
		if got := w.backoff(tc.attempts, tc.hint); got != tc.want {
			t.Errorf("backoff(%d, %v) = %v, want %v", tc.attempts, tc.hint, got, tc.want)
		}
	}
}

// The carrier's answers decide the sender's status; temporary failures wait
// for their backoff by the injected clock and run out after MaxAttempts.
func TestCarrierOutcomes(t *testing.T) {
	temporary := answer{err: &carrier.TemporaryError{Reason: "unavailable"}}
	accepted := answer{res: carrier.Result{Accepted: true, CarrierID: "c-1"}}
	for _, tc := range []struct {
		name        string
		answers     []answer
		advances    []time.Duration // clock moves before each further run
		wantCalls   int
		wantStatus  switchboard.MessageStatus
		wantError   string
		wantAttempt int
	}{
		{"accepted", []answer{accepted}, nil, 1, switchboard.StatusSent, "", 1},
		{"refused for good", []answer{{res: carrier.Result{ErrorCode: "SMS-CAR-411"}}}, nil, 1, switchboard.StatusSendingFailed, "SMS-CAR-411", 1},
		{"invalid submission", []answer{{err: carrier.ErrInvalid}}, nil, 1, switchboard.StatusSendingFailed, "SMS-UP-500", 1},
		{"retry not yet due", []answer{temporary, accepted}, []time.Duration{500 * time.Millisecond}, 1, switchboard.StatusQueued, "", 1},
		{"retry after backoff", []answer{temporary, accepted}, []time.Duration{time.Second}, 2, switchboard.StatusSent, "", 2},
		{"second backoff doubles", []answer{temporary, temporary, accepted}, []time.Duration{time.Second, time.Second}, 2, switchboard.StatusQueued, "", 2},
		{"second retry after it", []answer{temporary, temporary, accepted}, []time.Duration{time.Second, 2 * time.Second}, 3, switchboard.StatusSent, "", 3},
		{"out of tries", []answer{temporary}, []time.Duration{time.Second, 2 * time.Second, time.Hour}, 3, switchboard.StatusSendingFailed, "SMS-UP-500", 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.answers...)
			m := e.send(t, outsideNumber, false)
			e.run(t)
			for _, d := range tc.advances {
				e.clock.Advance(d)
				e.run(t)
			}
			got := e.sent(t, m)
			if calls := e.carrier.submissions(); calls != tc.wantCalls {
				t.Errorf("carrier saw %d submissions, want %d", calls, tc.wantCalls)
			}
			if got.MessageStatus != tc.wantStatus || got.DeliveryErrorCode != tc.wantError || got.SMSSendingAttempts != tc.wantAttempt {
				t.Errorf("status %s, error %q, attempts %d; want %s, %q, %d",
					got.MessageStatus, got.DeliveryErrorCode, got.SMSSendingAttempts, tc.wantStatus, tc.wantError, tc.wantAttempt)
			}
		})
	}
}

// Receipts move an accepted SMS to Delivered or DeliveryFailed when they are
// due, and are acknowledged only after they were applied.
func TestReceipts(t *testing.T) {
	for _, tc := range []struct {
		name      string
		delivered bool
		code      string
		want      switchboard.MessageStatus
	}{
		{"delivered", true, "", switchboard.StatusDelivered},
		{"delivery failed", false, "SMS-CAR-430", switchboard.StatusDeliveryFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, answer{res: carrier.Result{Accepted: true, CarrierID: "c-1"}})
			m := e.send(t, outsideNumber, false)
			e.run(t)
			at := base.Add(5 * time.Second)
			e.carrier.receipts = []carrier.Receipt{{MessageID: m.ID, Recipient: outsideNumber, CarrierID: "c-1", Delivered: tc.delivered, ErrorCode: tc.code, At: at}}
			e.run(t)
			if got := e.sent(t, m); got.MessageStatus != switchboard.StatusSent || len(e.carrier.acked) != 0 {
				t.Fatalf("before the receipt is due: %s, %d acked", got.MessageStatus, len(e.carrier.acked))
			}
			e.clock.Advance(5 * time.Second)
			e.run(t)
			got := e.sent(t, m)
			if got.MessageStatus != tc.want || got.DeliveryErrorCode != tc.code || len(e.carrier.acked) != 1 {
				t.Fatalf("after the receipt: %s %q, %d acked", got.MessageStatus, got.DeliveryErrorCode, len(e.carrier.acked))
			}
			if tc.delivered && !got.SMSDeliveryTime.Equal(at) {
				t.Fatalf("smsDeliveryTime %v, want %v", got.SMSDeliveryTime, at)
			}
		})
	}
}

// A receipt that names its delivery only by the carrier's id (the carrier
// restarted since the submit) is applied to the delivery with that id; one
// for an id no delivery has is acknowledged and dropped after a grace
// period.
func TestReceiptByCarrierID(t *testing.T) {
	e := newEnv(t, answer{res: carrier.Result{Accepted: true, CarrierID: "smsc-9"}})
	m := e.send(t, outsideNumber, false)
	e.run(t)
	e.carrier.receipts = []carrier.Receipt{
		{CarrierID: "smsc-404", Delivered: true, At: base},
		{CarrierID: "smsc-9", Delivered: false, ErrorCode: "SMS-CAR-411", At: base},
	}
	e.run(t)
	got := e.sent(t, m)
	if got.MessageStatus != switchboard.StatusDeliveryFailed || got.DeliveryErrorCode != "SMS-CAR-411" {
		t.Fatalf("after the receipt: %s %q", got.MessageStatus, got.DeliveryErrorCode)
	}
	// The unknown one is kept a while: another node may still record it.
	if len(e.carrier.acked) != 1 || len(e.carrier.receipts) != 1 {
		t.Fatalf("acked %+v, left %+v", e.carrier.acked, e.carrier.receipts)
	}
	e.clock.Advance(2 * time.Minute)
	e.run(t)
	if len(e.carrier.acked) != 2 || len(e.carrier.receipts) != 0 {
		t.Fatalf("acked %+v, left %+v", e.carrier.acked, e.carrier.receipts)
	}
}

// A carrier that is not connected (NotSent) costs no attempt: the message
// stays Queued through more tries than MaxAttempts, and goes out when the
// carrier is back.
func TestNotSent(t *testing.T) {
	down := answer{err: &carrier.TemporaryError{Reason: "not bound", RetryAfter: 3 * time.Second, NotSent: true}}
	e := newEnv(t, down, down, down, down, down, answer{res: carrier.Result{Accepted: true, CarrierID: "c-1"}})
	m := e.send(t, outsideNumber, false)
	for i := range 5 {
		e.run(t)
		if got := e.sent(t, m); got.MessageStatus != switchboard.StatusQueued || got.SMSSendingAttempts != 0 {
			t.Fatalf("try %d: %s after %d attempts", i, got.MessageStatus, got.SMSSendingAttempts)
		}
		if n := e.run(t); n != 0 {
			t.Fatalf("try %d: claimed again before the carrier's hint", i)
		}
		e.clock.Advance(3 * time.Second)
	}
	e.run(t)
	if got := e.sent(t, m); got.MessageStatus != switchboard.StatusSent || e.carrier.submissions() != 6 {
		t.Fatalf("once connected: %s after %d submissions", got.MessageStatus, e.carrier.submissions())
	}
}

// With NoResubmit (SMPP) an accepted delivery is never submitted again,
// however late its receipt.
func TestNoResubmit(t *testing.T) {
	e := newEnv(t, answer{res: carrier.Result{Accepted: true, CarrierID: "c-1"}})
	e.worker = NewWorker(e.store, e.carrier, e.clock, Config{Owner: "test", ReceiptTimeout: time.Minute, NoResubmit: true},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	m := e.send(t, outsideNumber, false)
	e.run(t)
	for range 3 {
		e.clock.Advance(2 * time.Minute)
		e.run(t)
	}
	if n := e.carrier.submissions(); n != 1 {
		t.Fatalf("%d submissions, want 1", n)
	}
	if got := e.sent(t, m); got.MessageStatus != switchboard.StatusSent {
		t.Fatalf("status %s", got.MessageStatus)
	}
}

// An internal recipient gets exactly one inbound copy, however often the
// worker runs; a recipient mailbox removed before delivery fails the send.
func TestInternalDelivery(t *testing.T) {
	e := newEnv(t, answer{err: errors.New("an internal delivery must not reach the carrier")})
	m := e.send(t, recipientNumber, true)
	if n := e.run(t); n != 1 {
		t.Fatalf("processed %d deliveries", n)
	}
	e.run(t)
	inbox := e.inbox(t)
	if len(inbox) != 1 {
		t.Fatalf("%d inbound copies", len(inbox))
	}
	in := inbox[0]
	if in.Direction != switchboard.Inbound || in.MessageStatus != switchboard.StatusReceived || in.ReadStatus != switchboard.Unread ||
		in.ConversationID != m.ConversationID || in.Subject != "hello" || len(in.Attachments) != 1 {
		t.Fatalf("inbound copy %+v", in)
	}
	if got := e.sent(t, m); got.MessageStatus != switchboard.StatusDelivered || e.carrier.submissions() != 0 {
		t.Fatalf("sender %s, carrier calls %d", got.MessageStatus, e.carrier.submissions())
	}

	// The recipient's extension is removed between the send and its delivery.
	gone := e.send(t, "+16505550177", true)
	e.run(t)
	if got := e.sent(t, gone); got.MessageStatus != switchboard.StatusSendingFailed || got.DeliveryErrorCode != "SMS-RC-410" {
		t.Fatalf("send to a released number: %s %q", got.MessageStatus, got.DeliveryErrorCode)
	}
}

// Resubmit hands the carrier every accepted delivery still waiting for its
// receipt, as it does after a restart, and nothing else.
func TestResubmit(t *testing.T) {
	e := newEnv(t, answer{res: carrier.Result{Accepted: true, CarrierID: "c-1"}})
	waiting := e.send(t, outsideNumber, false)
	e.run(t)
	e.send(t, recipientNumber, true) // internal: never resubmitted
	e.run(t)
	e.clock.Advance(time.Second) // the restart comes after the submit
	if err := e.worker.Resubmit(e.ctx); err != nil {
		t.Fatal(err)
	}
	calls := e.carrier.calls
	if len(calls) != 2 || calls[1].MessageID != waiting.ID || calls[1].Recipient != outsideNumber || calls[1].Text != "hello" {
		t.Fatalf("submissions %+v", calls)
	}
}

// A receipt that does not come within ReceiptTimeout (its carrier forgot it,
// or the node whose simulator held it died) is asked for again by a resubmit
// from whichever worker claims it first, once per period.
func TestOverdueReceipts(t *testing.T) {
	e := newEnv(t, answer{res: carrier.Result{Accepted: true, CarrierID: "c-1"}})
	other := NewWorker(e.store, e.carrier, e.clock, Config{Owner: "other node", ReceiptTimeout: time.Minute},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	m := e.send(t, outsideNumber, false)
	e.run(t)
	if e.carrier.submissions() != 1 {
		t.Fatalf("%d submissions", e.carrier.submissions())
	}
	for _, step := range []struct {
		advance time.Duration
		want    int // submissions so far
	}{
		{30 * time.Second, 1}, // not overdue yet
		{31 * time.Second, 2}, // overdue: resubmitted once, by one of the two workers
		{10 * time.Second, 2}, // claimed for this period
		{60 * time.Second, 3}, // still no receipt: once more
	} {
		e.clock.Advance(step.advance)
		e.run(t)
		if _, err := other.RunOnce(e.ctx); err != nil {
			t.Fatal(err)
		}
		if got := e.carrier.submissions(); got != step.want {
			t.Fatalf("after %v more: %d submissions, want %d", step.advance, got, step.want)
		}
	}
	// Its receipt arrives: no more resubmits.
	e.carrier.receipts = []carrier.Receipt{{MessageID: m.ID, Recipient: outsideNumber, CarrierID: "c-1", Delivered: true, At: e.clock.Now()}}
	e.run(t)
	e.clock.Advance(5 * time.Minute)
	e.run(t)
	if got := e.carrier.submissions(); got != 3 || e.sent(t, m).MessageStatus != switchboard.StatusDelivered {
		t.Fatalf("after the receipt: %d submissions, status %s", got, e.sent(t, m).MessageStatus)
	}
}

// A resubmit the carrier refuses outright is logged, and the rest of the
// claimed batch is still resubmitted rather than left for another timeout.
func TestResubmitGoesOnAfterARefusal(t *testing.T) {
	accepted := answer{res: carrier.Result{Accepted: true, CarrierID: "c"}}
	e := newEnv(t, accepted, accepted, answer{err: carrier.ErrInvalid}, accepted)
	e.send(t, outsideNumber, false)
	e.send(t, "+14155550198", false)
	e.run(t)
	e.clock.Advance(time.Second)
	if err := e.worker.Resubmit(e.ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.carrier.submissions(); got != 4 {
		t.Fatalf("%d submissions, want 2 submits and 2 resubmits", got)
	}
}

// failingBatch is a store whose DeliverDueInternal fails.
type failingBatch struct{ *sqlstore.DB }

func (failingBatch) DeliverDueInternal(context.Context, int) (switchboard.InternalOutcome, error) {
	return switchboard.InternalOutcome{}, errors.New("the batch cannot be stored")
}

// When the one-transaction internal delivery fails, the worker claims the
// internal deliveries with a lease and delivers them the other way: none
// is stranded, and none is delivered twice.
func TestInternalDeliveryFallsBackToTheClaim(t *testing.T) {
	e := newEnv(t, answer{err: errors.New("an internal delivery must not reach the carrier")})
	e.worker = NewWorker(failingBatch{e.store}, e.carrier, e.clock, Config{Owner: "test"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	m := e.send(t, recipientNumber, true)
	if n := e.run(t); n != 1 {
		t.Fatalf("processed %d deliveries", n)
	}
	e.run(t)
	if inbox := e.inbox(t); len(inbox) != 1 {
		t.Fatalf("%d inbound copies", len(inbox))
	}
	if got := e.sent(t, m); got.MessageStatus != switchboard.StatusDelivered {
		t.Fatalf("sender %s", got.MessageStatus)
	}
}
