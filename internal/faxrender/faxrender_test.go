package faxrender_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/go-pdf/fpdf"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/fax"
	"github.com/switchboardhq/switchboard/internal/faxrender"
	"github.com/switchboardhq/switchboard/internal/sqlstore"
)

type env struct {
	ctx      context.Context
	store    *sqlstore.DB
	acc      *switchboard.Account
	ann, bob *switchboard.Extension
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := t.Context()
	store, err := sqlstore.OpenSQLite(ctx, filepath.Join(t.TempDir(), "t.db"), switchboard.SystemClock{}, sqlstore.SQLiteOptions{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	e := &env{ctx: ctx, store: store}
	e.acc = must(store.CreateAccount(ctx, switchboard.AccountCreate{Name: "A", MainNumber: "+16505550100"}))(t)
	e.ann = must(store.CreateExtension(ctx, switchboard.ExtensionCreate{AccountID: e.acc.ID, ExtensionNumber: "101", Name: "Ann"}))(t)
	e.bob = must(store.CreateExtension(ctx, switchboard.ExtensionCreate{AccountID: e.acc.ID, ExtensionNumber: "102", Name: "Bob"}))(t)
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

func pdf(t *testing.T, pages int) []byte {
	t.Helper()
	p := fpdf.New("P", "pt", "Letter", "")
	p.SetFont("Helvetica", "", 14)
	for i := 1; i <= pages; i++ {
		p.AddPage()
		p.Cell(0, 20, fmt.Sprintf("page %d of %d", i, pages))
		p.Rect(72, 144, 200, 100, "F")
	}
	var b bytes.Buffer
	if err := p.Output(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// queue stores an outbound fax of from with one document, to be rendered.
func (e *env) queue(t *testing.T, from *switchboard.Extension, doc []byte, opts fax.Options) *switchboard.Message {
	t.Helper()
	render, err := fax.EncodeJob(opts)
	if err != nil {
		t.Fatal(err)
	}
	to := "+14155550001"
	return must(e.store.CreateOutbound(e.ctx, switchboard.OutboundCreate{Render: render, Recipients: []switchboard.DeliveryTarget{{Recipient: to}},
		Message: switchboard.MessageCreate{AccountID: from.AccountID, ExtensionID: from.ID, Type: switchboard.TypeFax,
			Direction: switchboard.Outbound, ReadStatus: switchboard.Read, From: switchboard.Party{PhoneNumber: "+16505550101"},
			To: []switchboard.Party{{PhoneNumber: to}}, Attachments: []*switchboard.Attachment{{Type: switchboard.AttachmentSourceDocument,
				ContentType: fax.TypePDF, FileName: "doc.pdf", Content: doc}}}}))(t)
}

func (e *env) get(t *testing.T, m *switchboard.Message) *switchboard.Message {
	t.Helper()
	return must(e.store.Message(e.ctx, m.AccountID, m.ExtensionID, m.ID))(t)
}

func rendered(m *switchboard.Message) bool {
	for _, a := range m.Attachments {
		if a.Type == switchboard.AttachmentRenderedDocument {
			return true
		}
	}
	return false
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestMain gives the process two PDFium instances before any test renders:
// the pool is sized once, at the first render, and the fairness test needs
// two workers rendering at once.
func TestMain(m *testing.M) {
	fax.SetConcurrency(2)
	os.Exit(m.Run())
}

// TestRender: a queued fax is rendered with its cover page, its page count
// set and its delivery made due; one over the page limit fails with
// TooManyPages.
func TestRender(t *testing.T) {
	e := newEnv(t)
	ok := e.queue(t, e.ann, pdf(t, 2), fax.Options{Resolution: fax.Low, Cover: &fax.Cover{Index: 1, Text: "hello"}})
	long := e.queue(t, e.ann, pdf(t, 4), fax.Options{})
	if got := must(e.store.ClaimDeliveries(e.ctx, "d", time.Minute, 10))(t); len(got) != 0 {
		t.Fatalf("%d deliveries claimable before rendering", len(got))
	}
	w := faxrender.New(e.store, faxrender.Config{Owner: "w", MaxPages: 3}, quiet())
	released := 0
	w.Released = func() { released++ }
	for range 2 {
		if n := must(w.RunOnce(e.ctx))(t); n != 1 {
			t.Fatalf("rendered %d", n)
		}
	}
	if m := e.get(t, ok); !rendered(m) || m.FaxPageCount != 3 || m.MessageStatus != switchboard.StatusQueued {
		t.Fatalf("rendered fax: pages %d, status %s, attachments %+v", m.FaxPageCount, m.MessageStatus, m.Attachments)
	}
	if m := e.get(t, long); rendered(m) || m.MessageStatus != switchboard.StatusSendingFailed || m.To[0].FaxErrorCode != "TooManyPages" {
		t.Fatalf("fax over the page limit: %s %+v", m.MessageStatus, m.To)
	}
	if released != 1 {
		t.Fatalf("delivery worker woken %d times, want 1", released)
	}
	if got := must(e.store.ClaimDeliveries(e.ctx, "d", time.Minute, 10))(t); len(got) != 1 || got[0].MessageID != ok.ID {
		t.Fatalf("deliveries due after rendering: %+v", got)
	}
}

// TestFairBetweenSenders: with two workers, Ann's three large faxes queued
// first do not keep Bob's one-page fax waiting: Bob's is rendered while
// Ann's first one is, not after all three.
func TestFairBetweenSenders(t *testing.T) {
	if testing.Short() {
		t.Skip("renders large PDFs")
	}
	e := newEnv(t)
	// Both PDFium instances (TestMain) exist before the race starts: what
	// is measured is which fax a free worker takes, not how long a cold
	// instance takes to start on a loaded machine.
	one := pdf(t, 1)
	var warm sync.WaitGroup
	for range 2 {
		warm.Add(1)
		go func() {
			defer warm.Done()
			if _, err := fax.Render(e.ctx, []fax.Document{{FileName: "warm.pdf", ContentType: fax.TypePDF, Data: one}}, fax.Options{}); err != nil {
				t.Error(err)
			}
		}()
	}
	warm.Wait()
	big := pdf(t, 30)
	var anns []*switchboard.Message
	for range 3 {
		anns = append(anns, e.queue(t, e.ann, big, fax.Options{}))
	}
	bobs := e.queue(t, e.bob, one, fax.Options{})
	w := faxrender.New(e.store, faxrender.Config{Owner: "w", Workers: 2, Poll: 10 * time.Millisecond}, quiet())
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	for deadline := time.Now().Add(2 * time.Minute); !rendered(e.get(t, bobs)); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the one-page fax was not rendered")
		}
	}
	annDone := 0
	for _, m := range anns {
		if rendered(e.get(t, m)) {
			annDone++
		}
	}
	if annDone > 1 {
		t.Fatalf("the other sender's fax waited for %d of the first sender's large faxes", annDone)
	}
	for deadline := time.Now().Add(5 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
		all := true
		for _, m := range anns {
			all = all && rendered(e.get(t, m))
		}
		if all {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the large faxes were not all rendered")
		}
	}
}
