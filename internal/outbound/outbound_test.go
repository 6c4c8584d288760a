package outbound_test

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/config"
	"github.com/switchboardhq/switchboard/internal/outbound"
	"github.com/switchboardhq/switchboard/internal/sqlstore"
)

var base = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

const (
	aliceNumber = "+16505550101" // 101, SMS only
	bobNumber   = "+16505550102" // 102
	outside     = "+14155550199" // at the carrier
	otherAcct   = "+14085550103" // 101 of another account
)

type env struct {
	path               string // the SQLite file
	ctx                context.Context
	clock              *switchboard.ManualClock
	store              *sqlstore.DB
	svc                *outbound.Service
	woken              int
	seenDelivery       int64                  // the last delivery routes returned
	alice, bob, carol  *switchboard.Extension // carol: no phone number
	sales, other       *switchboard.Extension // sales: a department of alice and bob; other: another account
	acc, acc2          *switchboard.Account
	aliceP, bobP, othP *switchboard.Principal
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := t.Context()
	clock := switchboard.NewManualClock(func() time.Time { return base })
	path := filepath.Join(t.TempDir(), "outbound.db")
	store, err := sqlstore.OpenSQLite(ctx, path, clock, sqlstore.SQLiteOptions{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	e := &env{path: path, ctx: ctx, clock: clock, store: store}
	limits := config.DefaultSendLimits()
	limits.MaxRecipients = 4
	e.svc = outbound.New(store, clock, limits, func() { e.woken++ })
	e.acc = must(store.CreateAccount(ctx, switchboard.AccountCreate{Name: "Acme", MainNumber: "+16505550100"}))(t)
	e.acc2 = must(store.CreateAccount(ctx, switchboard.AccountCreate{Name: "Other", MainNumber: "+14085550100"}))(t)
	e.alice = e.extension(t, e.acc, "101", switchboard.ExtensionTypeUser, aliceNumber, switchboard.FeatureSmsSender)
	e.bob = e.extension(t, e.acc, "102", switchboard.ExtensionTypeUser, bobNumber, switchboard.FeatureSmsSender, switchboard.FeatureMmsSender)
	e.carol = e.extension(t, e.acc, "103", switchboard.ExtensionTypeUser, "")
	e.sales = e.extension(t, e.acc, "200", switchboard.ExtensionTypeDepartment, "")
	e.other = e.extension(t, e.acc2, "101", switchboard.ExtensionTypeUser, otherAcct, switchboard.FeatureSmsSender)
	for _, m := range []*switchboard.Extension{e.alice, e.bob} {
		if err := store.AddDepartmentMember(ctx, e.acc.ID, e.sales.ID, m.ID); err != nil {
			t.Fatal(err)
		}
	}
	e.aliceP = &switchboard.Principal{AccountID: e.acc.ID, ExtensionID: e.alice.ID}
	e.bobP = &switchboard.Principal{AccountID: e.acc.ID, ExtensionID: e.bob.ID}
	e.othP = &switchboard.Principal{AccountID: e.acc2.ID, ExtensionID: e.other.ID}
	return e
}

func must[T any](v T, err error) func(*testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func (e *env) extension(t *testing.T, acc *switchboard.Account, number, typ, phone string, features ...string) *switchboard.Extension {
	t.Helper()
	x := must(e.store.CreateExtension(e.ctx, switchboard.ExtensionCreate{AccountID: acc.ID, ExtensionNumber: number, Name: "Ext " + number, Type: typ}))(t)
	if phone != "" {
		must(e.store.CreatePhoneNumber(e.ctx, switchboard.PhoneNumberCreate{AccountID: acc.ID, ExtensionID: x.ID, PhoneNumber: phone, Features: features}))(t)
	}
	return x
}

func box(x *switchboard.Extension) switchboard.Mailbox {
	return switchboard.Mailbox{AccountID: x.AccountID, ExtensionID: x.ID}
}

// routes claims every due delivery and returns each one's routing by
// recipient.
// due claims the deliveries due to a worker, by recipient.
func (e *env) due(t *testing.T) map[string]*switchboard.Delivery {
	t.Helper()
	out := map[string]*switchboard.Delivery{}
	for _, d := range must(e.store.ClaimDeliveries(e.ctx, "test", time.Minute, 100))(t) {
		out[d.Recipient] = d
	}
	return out
}

// routes returns the deliveries stored since its last call, by recipient,
// whatever their state: those to mailboxes complete on accept.
func (e *env) routes(t *testing.T) map[string]*switchboard.Delivery {
	t.Helper()
	out := map[string]*switchboard.Delivery{}
	for _, state := range []switchboard.DeliveryState{switchboard.DeliveryPending, switchboard.DeliveryDone, switchboard.DeliveryFailed} {
		for _, d := range must(e.store.ListDeliveries(e.ctx, state, 1000))(t) {
			if d.ID > e.seenDelivery {
				out[d.Recipient] = d
			}
		}
	}
	for _, d := range out {
		e.seenDelivery = max(e.seenDelivery, d.ID)
	}
	return out
}

func sms(from string, to ...string) outbound.Request {
	r := outbound.Request{Type: switchboard.TypeSMS, From: from, Text: "hello"}
	for _, n := range to {
		r.To = append(r.To, outbound.Recipient{PhoneNumber: n})
	}
	return r
}

// Routing is decided at send time: a number of this server goes to its
// owner's mailbox (not to the sender's own: it keeps only its outbound
// copy), any other to the carrier; a number given twice is one recipient.
func TestSendRoutes(t *testing.T) {
	e := newEnv(t)
	req := sms(aliceNumber, bobNumber, outside, "+1 (650) 555-0102", aliceNumber, otherAcct)
	req.AccountID, req.ExtensionID = e.acc.ID, e.alice.ID
	m := must(e.svc.Send(e.ctx, e.aliceP, req))(t)
	if m.MessageStatus != switchboard.StatusQueued || len(m.To) != 4 || e.woken != 1 {
		t.Fatalf("sent %s to %v, worker woken %d times", m.MessageStatus, m.To, e.woken)
	}
	ds := e.routes(t)
	want := map[string]struct {
		internal bool
		boxes    []switchboard.Mailbox
	}{
		bobNumber:   {true, []switchboard.Mailbox{box(e.bob)}},
		outside:     {false, nil},
		aliceNumber: {true, nil},
		otherAcct:   {true, []switchboard.Mailbox{box(e.other)}},
	}
	if len(ds) != len(want) {
		t.Fatalf("%d deliveries, want %d: %v", len(ds), len(want), ds)
	}
	// Those to mailboxes were completed as the send was accepted; the
	// carrier's is the worker's.
	for n, d := range ds {
		if wantState := map[bool]switchboard.DeliveryState{true: switchboard.DeliveryDone, false: switchboard.DeliveryPending}[d.Internal]; d.State != wantState {
			t.Errorf("%s: delivery %s, want %s", n, d.State, wantState)
		}
	}
	// A send to mailboxes only leaves the worker nothing: it is not woken.
	req = sms(aliceNumber, bobNumber)
	req.AccountID, req.ExtensionID = e.acc.ID, e.alice.ID
	must(e.svc.Send(e.ctx, e.aliceP, req))(t)
	if e.woken != 1 {
		t.Fatalf("a send to a mailbox woke the worker: %d wakes", e.woken)
	}
	for n, w := range want {
		d := ds[n]
		if d == nil || d.Internal != w.internal || len(d.Mailboxes) != len(w.boxes) || (len(w.boxes) == 1 && d.Mailboxes[0] != w.boxes[0]) {
			t.Errorf("%s: delivery %+v, want internal %v to %v", n, d, w.internal, w.boxes)
		}
	}
}

// Every refusal stores nothing; sending from another mailbox is refused
// whoever asks, within the account or across accounts.
func TestSendRefusals(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name  string
		p     *switchboard.Principal
		req   outbound.Request
		code  string
		param string
	}{
		{"another extension's mailbox", e.bobP, sms(aliceNumber, outside), "MSG-331", ""},
		{"another account's mailbox", e.othP, sms(aliceNumber, outside), "MSG-331", ""},
		{"no principal", nil, sms(aliceNumber, outside), "MSG-331", ""},
		{"a number of someone else", e.aliceP, sms(bobNumber, outside), "MSG-304", "from.phoneNumber"},
		{"MMS from an SMS-only number", e.aliceP, func() outbound.Request {
			r := sms(aliceNumber, outside)
			r.Files = []outbound.File{{FileName: "a.png", ContentType: "image/png", Data: []byte("png")}}
			return r
		}(), "MSG-242", "from.phoneNumber"},
		{"no recipient", e.aliceP, sms(aliceNumber), switchboard.CodeInvalidParameter, "to"},
		{"over the recipient limit", e.aliceP, sms(aliceNumber, "+14155550001", "+14155550002", "+14155550003", "+14155550004", "+14155550005"), switchboard.CodeInvalidParameter, "to"},
		{"not E.164", e.aliceP, sms(aliceNumber, "4155550001"), switchboard.CodeInvalidParameter, "to.phoneNumber"},
		{"no text", e.aliceP, outbound.Request{Type: switchboard.TypeSMS, From: aliceNumber, To: []outbound.Recipient{{PhoneNumber: outside}}}, switchboard.CodeInvalidParameter, "text"},
		{"pager to another account's extension id", e.aliceP, outbound.Request{Type: switchboard.TypePager, Text: "hi",
			To: []outbound.Recipient{{ExtensionID: strconv.FormatInt(e.other.ID, 10)}}}, switchboard.CodeInvalidParameter, "to.extensionId"},
		{"pager to an unknown number", e.aliceP, outbound.Request{Type: switchboard.TypePager, Text: "hi",
			To: []outbound.Recipient{{ExtensionNumber: "999"}}}, switchboard.CodeInvalidParameter, "to.extensionNumber"},
		{"fax from an extension without a number", &switchboard.Principal{AccountID: e.acc.ID, ExtensionID: e.carol.ID},
			outbound.Request{Type: switchboard.TypeFax, To: []outbound.Recipient{{PhoneNumber: outside}},
				Files: []outbound.File{{FileName: "a.txt", ContentType: "text/plain", Data: []byte("page")}}}, "MSG-245", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.req
			req.AccountID, req.ExtensionID = e.acc.ID, e.alice.ID
			if tc.p != nil && tc.p.ExtensionID == e.carol.ID {
				req.ExtensionID = e.carol.ID
			}
			_, err := e.svc.Send(e.ctx, tc.p, req)
			se := switchboard.AsError(err)
			if se == nil || se.Code != tc.code || (tc.param != "" && (len(se.Params) == 0 || se.Params[0].Name != tc.param)) {
				t.Fatalf("error %v, want %s naming %q", err, tc.code, tc.param)
			}
		})
	}
	if ds := e.routes(t); len(ds) != 0 || e.woken != 0 {
		t.Fatalf("refused sends queued %d deliveries, woke the worker %d times", len(ds), e.woken)
	}
}

// A pager message to a department reaches its members but not the sender;
// the sender's copy is marked as sent to a department.
func TestSendPagerDepartment(t *testing.T) {
	e := newEnv(t)
	req := outbound.Request{AccountID: e.acc.ID, ExtensionID: e.alice.ID, Type: switchboard.TypePager, Text: "standup",
		To: []outbound.Recipient{{ExtensionNumber: "200"}, {ExtensionNumber: "103", ExtensionID: strconv.FormatInt(e.carol.ID, 10)}}}
	m := must(e.svc.Send(e.ctx, e.aliceP, req))(t)
	if !m.PgToDepartment || len(m.To) != 2 {
		t.Fatalf("pager message %+v", m)
	}
	ds := e.routes(t)
	if d := ds["200"]; d == nil || !d.Internal || len(d.Mailboxes) != 1 || d.Mailboxes[0] != box(e.bob) {
		t.Fatalf("department delivery %+v, want bob only", d)
	}
	if d := ds["103"]; d == nil || len(d.Mailboxes) != 1 || d.Mailboxes[0] != box(e.carol) {
		t.Fatalf("extension delivery %+v", d)
	}
}

// A fax is stored with its documents and a render job, its deliveries held
// until it is rendered and then due at its sendTime; a resend takes the
// original's documents and number and is refused for a fax that did not fail.
func TestSendFax(t *testing.T) {
	e := newEnv(t)
	at := base.Add(time.Hour)
	req := outbound.Request{AccountID: e.acc.ID, ExtensionID: e.bob.ID, Type: switchboard.TypeFax,
		To:    []outbound.Recipient{{PhoneNumber: outside, Name: "Zed"}},
		Files: []outbound.File{{FileName: "a.txt", ContentType: "text/plain", Data: []byte("page one")}},
		Fax:   outbound.FaxOptions{Resolution: "Low", SendAt: at}}
	m := must(e.svc.Send(e.ctx, e.bobP, req))(t)
	if m.FaxPageCount != 0 || m.FaxResolution != "Low" || m.From.PhoneNumber != bobNumber || len(m.Attachments) != 1 ||
		m.Attachments[0].Type != switchboard.AttachmentSourceDocument {
		t.Fatalf("fax before rendering %+v", m)
	}
	const now2 = "+14155550198"
	req.To, req.Fax.SendAt = []outbound.Recipient{{PhoneNumber: now2}}, time.Time{}
	m2 := must(e.svc.Send(e.ctx, e.bobP, req))(t)
	if ds := e.due(t); len(ds) != 0 {
		t.Fatalf("a fax not yet rendered is due: %v", ds)
	}
	jobs := must(e.store.ClaimFaxRenders(e.ctx, "r", time.Minute, 10, 10))(t)
	if len(jobs) != 2 {
		t.Fatalf("render jobs %+v", jobs)
	}
	for _, id := range []int64{m.ID, m2.ID} {
		if err := e.store.CompleteFaxRender(e.ctx, "r", id, &switchboard.Attachment{Type: switchboard.AttachmentRenderedDocument,
			ContentType: "application/pdf", FileName: "fax.pdf", Content: []byte("%PDF-rendered")}, 2); err != nil {
			t.Fatal(err)
		}
	}
	if ds := e.due(t); len(ds) != 1 || ds[now2] == nil {
		t.Fatalf("after rendering, only the fax without a sendTime is due: %v", ds)
	}
	e.clock.Advance(time.Hour)
	if ds := e.due(t); ds[outside] == nil {
		t.Fatal("the scheduled fax is not due at its sendTime")
	}
	_, err := e.svc.Send(e.ctx, e.bobP, outbound.Request{AccountID: e.acc.ID, ExtensionID: e.bob.ID, Type: switchboard.TypeFax,
		Fax: outbound.FaxOptions{ResendOf: m.ID}})
	if se := switchboard.AsError(err); se == nil || se.Code != "MSG-343" {
		t.Fatalf("resend of a fax that did not fail: %v", err)
	}
	_, err = e.svc.Send(e.ctx, e.aliceP, outbound.Request{AccountID: e.acc.ID, ExtensionID: e.alice.ID, Type: switchboard.TypeFax,
		Fax: outbound.FaxOptions{ResendOf: m.ID}})
	if se := switchboard.AsError(err); se == nil || se.Code != switchboard.CodeNotFound {
		t.Fatalf("resend of another mailbox's fax: %v", err)
	}
}

// A change of the directory is seen by the very next send, the routing
// being kept in memory between sends (dircache): a number disabled, moved
// to the carrier side or given to another extension; the sender's number disabled;
// and a change made by another process (another store on the same file,
// as the CLI is) too.
func TestSendSeesDirectoryChangesAtOnce(t *testing.T) {
	e := newEnv(t)
	send := func(p *switchboard.Principal, from string, to ...string) (*switchboard.Delivery, error) {
		t.Helper()
		req := sms(from, to...)
		req.AccountID, req.ExtensionID = p.AccountID, p.ExtensionID
		if _, err := e.svc.Send(e.ctx, p, req); err != nil {
			return nil, err
		}
		ds := e.routes(t)
		return ds[to[0]], nil
	}
	d := must(send(e.aliceP, aliceNumber, bobNumber))(t)
	if !d.Internal {
		t.Fatal("bob's number is not internal")
	}
	d = must(send(e.aliceP, aliceNumber, bobNumber))(t) // from the cache now
	if !d.Internal || d.Mailboxes[0] != box(e.bob) {
		t.Fatalf("second send: %+v", d)
	}
	if err := e.store.SetPhoneNumberStatus(e.ctx, e.acc.ID, bobNumber, switchboard.StatusDisabled); err != nil {
		t.Fatal(err)
	}
	if d = must(send(e.aliceP, aliceNumber, bobNumber))(t); d.Internal {
		t.Fatal("a disabled number still routed to its mailbox")
	}

	// Another process (here, another handle on the same file) gives an
	// outside number to carol.
	other, err := sqlstore.OpenSQLite(e.ctx, e.path, e.clock, sqlstore.SQLiteOptions{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if d = must(send(e.aliceP, aliceNumber, outside))(t); d.Internal {
		t.Fatal("outside number internal before it was added")
	}
	must(other.CreatePhoneNumber(e.ctx, switchboard.PhoneNumberCreate{AccountID: e.acc.ID, ExtensionID: e.carol.ID, PhoneNumber: outside}))(t)
	if d = must(send(e.aliceP, aliceNumber, outside))(t); !d.Internal || d.Mailboxes[0] != box(e.carol) {
		t.Fatalf("a number added by another process: %+v", d)
	}

	// The sender's number disabled by another process sends no more.
	if err := other.SetPhoneNumberStatus(e.ctx, e.acc.ID, aliceNumber, switchboard.StatusDisabled); err != nil {
		t.Fatal(err)
	}
	_, err = send(e.aliceP, aliceNumber, outside)
	if se := switchboard.AsError(err); se == nil || se.Code != "MSG-242" {
		t.Fatalf("sent from a number disabled by another process: %v", err)
	}
}
