package delivery

import (
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/carrier"
	"github.com/switchboardhq/switchboard/internal/sqlstore"
)

// BenchmarkDeliverInternal measures the worker alone: b.N internal SMS are
// queued first, then the worker delivers them all (the recipient's copy
// stored, the sender's message Delivered), at synchronous=FULL.
//
//	go test ./internal/delivery -run '^$' -bench DeliverInternal -benchtime 5000x
func BenchmarkDeliverInternal(b *testing.B) {
	benchmarkDeliver(b, nil, recipientNumber, true)
}

// BenchmarkDeliverCarrier is BenchmarkDeliverInternal to outside numbers
// through the carrier simulator, whose receipts are due at once: each SMS
// submitted, its answer and its receipt recorded (Delivered).
//
//	go test ./internal/delivery -run '^$' -bench DeliverCarrier -benchtime 5000x
func BenchmarkDeliverCarrier(b *testing.B) {
	clock := switchboard.NewManualClock(func() time.Time { return base })
	sim := carrier.NewSimulator(clock, 1)
	if err := sim.SetRules(carrier.Rules{}); err != nil { // no delivery delay
		b.Fatal(err)
	}
	benchmarkDeliver(b, sim, "+14155550123", false)
}

func benchmarkDeliver(b *testing.B, sim *carrier.Simulator, to string, internal bool) {
	ctx := b.Context()
	clock := switchboard.NewManualClock(func() time.Time { return base })
	store, err := sqlstore.OpenSQLite(ctx, filepath.Join(b.TempDir(), "bench.db"), clock, sqlstore.SQLiteOptions{Synchronous: "FULL"})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	e := &env{ctx: ctx, clock: clock, store: store, carrier: &fakeCarrier{}}
	acc, err := store.CreateAccount(ctx, switchboard.AccountCreate{Name: "Acme", MainNumber: "+16505550100"})
	if err != nil {
		b.Fatal(err)
	}
	e.sender = e.extension(b, acc, "101", senderNumber)
	e.receiver = e.extension(b, acc, "102", recipientNumber)
	var c carrier.Carrier = e.carrier
	if sim != nil {
		c = sim
	}
	w := NewWorker(store, c, clock, Config{Owner: "bench"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	batch := make([]switchboard.OutboundCreate, 0, 64)
	flush := func() {
		for _, c := range batch {
			if _, err := store.CreateOutbound(ctx, c); err != nil {
				b.Fatal(err)
			}
		}
		batch = batch[:0]
	}
	for range b.N {
		batch = append(batch, e.outbound(to, internal))
		if len(batch) == cap(batch) {
			flush()
		}
	}
	flush()
	b.ResetTimer()
	done := 0
	for done < b.N {
		n, err := w.RunOnce(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			b.Fatalf("worker idle after %d of %d deliveries", done, b.N)
		}
		done += n
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
}
