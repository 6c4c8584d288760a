package sqlstore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/storetest"
)

// seedMessages fills a mailbox with n messages spread over the year before
// end: SMS in 500 conversations with a text attachment, every 10th a
// voicemail, a third outbound, a fifth read, a twentieth deleted. It goes
// through CreateMessages in large batches, the bulk path of the store.
func seedMessages(ctx context.Context, db *DB, accountID, extensionID int64, n int, end time.Time) error {
	const batch = 5000
	own := "+16505550101"
	span := 365 * 24 * time.Hour
	for done := 0; done < n; {
		cs := make([]switchboard.MessageCreate, 0, min(batch, n-done))
		for ; len(cs) < batch && done < n; done++ {
			peer := fmt.Sprintf("+1555%07d", done%500)
			c := switchboard.MessageCreate{AccountID: accountID, ExtensionID: extensionID,
				Type: switchboard.TypeSMS, Direction: switchboard.Inbound,
				Subject: fmt.Sprintf("message %d: the quick brown fox jumps over the lazy dog", done),
				From:    switchboard.Party{PhoneNumber: peer}, To: []switchboard.Party{{PhoneNumber: own}},
				Created: end.Add(-time.Duration(n-done) * span / time.Duration(n)),
			}
			if done%3 == 0 {
				c.Direction, c.From, c.To = switchboard.Outbound, c.To[0], []switchboard.Party{c.From}
			}
			if done%10 == 0 {
				c.Type = switchboard.TypeVoiceMail
			}
			if done%5 == 0 {
				c.ReadStatus = switchboard.Read
			}
			if done%20 == 0 {
				c.Availability = switchboard.Deleted
			}
			c.Attachments = []*switchboard.Attachment{{Type: switchboard.AttachmentText, ContentType: "text/plain", Content: []byte(c.Subject)}}
			cs = append(cs, c)
		}
		if _, err := db.CreateMessages(ctx, cs); err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkListMessages measures list queries over one mailbox of
// SWITCHBOARD_BENCH_MESSAGES messages (default 20000) with a quarter as
// many in a neighbouring mailbox. It is a quick check; the full-size
// benchmark lives in internal/bench.
func BenchmarkListMessages(b *testing.B) {
	n := 20000
	if v := os.Getenv("SWITCHBOARD_BENCH_MESSAGES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			b.Fatalf("SWITCHBOARD_BENCH_MESSAGES=%q: want a positive number", v)
		}
	}
	ctx := context.Background()
	db := mustOpen(b, filepath.Join(b.TempDir(), "bench.db"), testClock(), SQLiteOptions{Synchronous: "NORMAL"})
	acc, ext := seedMailbox(b, db)
	neighbour, err := db.CreateExtension(ctx, switchboard.ExtensionCreate{AccountID: acc, ExtensionNumber: "102", Name: "Neighbour"})
	if err != nil {
		b.Fatal(err)
	}
	if err := seedMessages(ctx, db, acc, ext, n, storetest.Base); err != nil {
		b.Fatal(err)
	}
	if err := seedMessages(ctx, db, acc, neighbour.ID, n/4, storetest.Base); err != nil {
		b.Fatal(err)
	}

	base := switchboard.MessageFilter{AccountID: acc, ExtensionID: ext, Limit: 100,
		Availability: []switchboard.Availability{switchboard.Alive}}
	with := func(fn func(*switchboard.MessageFilter)) switchboard.MessageFilter {
		f := base
		fn(&f)
		return f
	}
	if plan := explain(b, db, base, nil); strings.Contains(plan, "TEMP B-TREE") || !strings.Contains(plan, "messages_mailbox_time") {
		b.Fatalf("list plan does not walk messages_mailbox_time:\n%s", plan)
	}
	for _, bc := range []struct {
		name string
		f    switchboard.MessageFilter
	}{
		{"first page", base},
		{"page 10", with(func(f *switchboard.MessageFilter) { f.Offset = 900 })},
		{"inbound unread SMS", with(func(f *switchboard.MessageFilter) {
			f.Direction = []switchboard.Direction{switchboard.Inbound}
			f.ReadStatus = []switchboard.ReadStatus{switchboard.Unread}
			f.Types = []switchboard.MessageType{switchboard.TypeSMS}
		})},
		{"voicemail", with(func(f *switchboard.MessageFilter) { f.Types = []switchboard.MessageType{switchboard.TypeVoiceMail} })},
		{"last month", with(func(f *switchboard.MessageFilter) { f.DateFrom = storetest.Base.Add(-30 * 24 * time.Hour) })},
		{"phone number", with(func(f *switchboard.MessageFilter) { f.PhoneNumber = "+15550000007" })},
		{"conversation", with(func(f *switchboard.MessageFilter) {
			f.ConversationID = switchboard.ConversationIDFor([]string{"+16505550101", "+15550000007"})
		})},
		{"distinct conversations", with(func(f *switchboard.MessageFilter) { f.DistinctConversations = true })},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				page, err := db.ListMessages(ctx, bc.f)
				if err != nil {
					b.Fatal(err)
				}
				if len(page.Messages) == 0 {
					b.Fatal("empty page")
				}
			}
		})
	}
}

// BenchmarkCreateOutbound measures the send path's store work: 64
// goroutines each sending SMS between two extensions, every delivery
// completed on accept (the recipient's copy stored, the sender's message
// Delivered), at synchronous=FULL. Besides the wall time per send, which
// the disk's flushes and a shared machine's other loads move, it reports
// the process's CPU time per send (cpu-µs/op), the steadier figure to
// compare two builds by.
//
//	go test ./internal/sqlstore -run '^$' -bench CreateOutbound -benchtime 20000x -count 6
func BenchmarkCreateOutbound(b *testing.B) {
	ctx := b.Context()
	db, err := OpenSQLite(ctx, filepath.Join(b.TempDir(), "bench.db"), switchboard.SystemClock{}, SQLiteOptions{Synchronous: "FULL"})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	acc, err := db.CreateAccount(ctx, switchboard.AccountCreate{Name: "Acme", MainNumber: "+16505550100"})
	if err != nil {
		b.Fatal(err)
	}
	var exts [2]*switchboard.Extension
	for i := range exts {
		if exts[i], err = db.CreateExtension(ctx, switchboard.ExtensionCreate{AccountID: acc.ID, ExtensionNumber: strconv.Itoa(101 + i), Name: "x"}); err != nil {
			b.Fatal(err)
		}
	}
	const from, to = "+16505550101", "+16505550102"
	send := func() switchboard.OutboundCreate {
		return switchboard.OutboundCreate{
			Message: switchboard.MessageCreate{AccountID: acc.ID, ExtensionID: exts[0].ID, Type: switchboard.TypeSMS,
				Direction: switchboard.Outbound, MessageStatus: switchboard.StatusQueued, ReadStatus: switchboard.Read,
				Subject: "the quick brown fox", From: switchboard.Party{PhoneNumber: from}, To: []switchboard.Party{{PhoneNumber: to}},
				Attachments: []*switchboard.Attachment{{Type: switchboard.AttachmentText, ContentType: "text/plain", Content: []byte("the quick brown fox")}}},
			Recipients: []switchboard.DeliveryTarget{{Recipient: to, Internal: true,
				Mailboxes: []switchboard.Mailbox{{AccountID: acc.ID, ExtensionID: exts[1].ID}}}},
		}
	}
	b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
	cpu0 := processCPU(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := db.CreateOutbound(ctx, send()); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64((processCPU(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sends/s")
}

// processCPU is the CPU time (user and system) this process has used.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRecordCarrier measures the carrier side of the outbox per
// delivery: claimed in batches of 256, the carrier's answers recorded
// (Submitted), then its receipts (Delivered), as the delivery worker does.
// One goroutine, so the instructions are repeatable under callgrind.
func BenchmarkRecordCarrier(b *testing.B) {
	ctx := b.Context()
	db, err := OpenSQLite(ctx, filepath.Join(b.TempDir(), "bench.db"), switchboard.SystemClock{}, SQLiteOptions{Synchronous: "NORMAL"})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	acc, ext := seedMailbox(b, db)
	for i := range b.N {
		to := fmt.Sprintf("+1415%07d", i)
		c := switchboard.OutboundCreate{Message: switchboard.MessageCreate{AccountID: acc, ExtensionID: ext, Type: switchboard.TypeSMS,
			Direction: switchboard.Outbound, MessageStatus: switchboard.StatusQueued, ReadStatus: switchboard.Read, Subject: "hi",
			From: switchboard.Party{PhoneNumber: "+16505550101"}, To: []switchboard.Party{{PhoneNumber: to}},
			Attachments: []*switchboard.Attachment{{Type: switchboard.AttachmentText, ContentType: "text/plain", Content: []byte("hi")}}},
			Recipients: []switchboard.DeliveryTarget{{Recipient: to}}}
		if _, err := db.CreateOutbound(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
	cpu0 := processCPU(b)
	b.ResetTimer()
	for done := 0; done < b.N; {
		ds, err := db.ClaimCarrierDeliveries(ctx, "bench", time.Minute, 256)
		if err != nil || len(ds) == 0 {
			b.Fatalf("claimed %d after %d: %v", len(ds), done, err)
		}
		submits := make([]switchboard.SubmitOutcome, len(ds))
		reports := make([]switchboard.DeliveryReport, len(ds))
		for i, d := range ds {
			submits[i] = switchboard.SubmitOutcome{DeliveryID: d.ID, Accepted: true, CarrierID: strconv.FormatInt(d.ID, 10)}
			reports[i] = switchboard.DeliveryReport{MessageID: d.MessageID, Recipient: d.Recipient, Delivered: true}
		}
		if _, _, err := db.RecordCarrier(ctx, "bench", submits, nil); err != nil {
			b.Fatal(err)
		}
		if _, _, err := db.RecordCarrier(ctx, "bench", nil, reports); err != nil {
			b.Fatal(err)
		}
		done += len(ds)
	}
	b.StopTimer()
	b.ReportMetric(float64((processCPU(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
}
