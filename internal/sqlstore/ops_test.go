package sqlstore

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/metrics"
	"github.com/switchboardhq/switchboard/internal/pgtest"
)

// TestReleaseLeases: a node that shuts down gives its leased deliveries
// back, so another node claims them at once instead of after the lease;
// leases of other owners stay. On both backends.
func TestReleaseLeases(t *testing.T) {
	backends := map[string]func(t *testing.T) *DB{
		"sqlite": func(t *testing.T) *DB {
			return mustOpen(t, filepath.Join(t.TempDir(), "l.db"), testClock(), SQLiteOptions{})
		},
		"postgres": func(t *testing.T) *DB {
			pgtest.ServerURL(t)
			return mustOpenPostgres(t, pgtest.NewDatabase(t), testClock())
		},
	}
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := open(t)
			db.Instrument(metrics.New())
			acc, ext := seedMailbox(t, db)
			send := func(to string) {
				if _, err := db.CreateOutbound(ctx, switchboard.OutboundCreate{Message: switchboard.MessageCreate{AccountID: acc, ExtensionID: ext,
					Type: switchboard.TypeSMS, Direction: switchboard.Outbound, Subject: "out", From: switchboard.Party{PhoneNumber: "+16505550101"},
					To: []switchboard.Party{{PhoneNumber: to}}}, Recipients: []switchboard.DeliveryTarget{{Recipient: to}}}); err != nil {
					t.Fatal(err)
				}
			}
			send("+14155550001")
			send("+14155550002")
			claim := func(owner string, limit int) int {
				ds, err := db.ClaimDeliveries(ctx, owner, time.Hour, limit)
				if err != nil {
					t.Fatal(err)
				}
				return len(ds)
			}
			if n := claim("node-a", 1); n != 1 {
				t.Fatalf("node-a claimed %d", n)
			}
			if n := claim("node-c", 1); n != 1 {
				t.Fatalf("node-c claimed %d", n)
			}
			if n := claim("node-b", 10); n != 0 {
				t.Fatalf("node-b claimed %d leased deliveries", n)
			}
			backlog, _, err := db.Backlog(ctx)
			if err != nil || backlog.OutboxPending != 2 || backlog.OldestDue.IsZero() {
				t.Fatalf("backlog %+v %v", backlog, err)
			}
			// An export task node-a is writing: given back too, without
			// counting the interrupted attempt against the task.
			if err := db.CreateExport(ctx, &switchboard.ExportTask{ID: "exp-release", AccountID: acc, ExtensionID: ext,
				DateTo: time.Now(), Types: []switchboard.MessageType{switchboard.TypeSMS}, Created: time.Now()}); err != nil {
				t.Fatal(err)
			}
			if _, err := db.ClaimExport(ctx, "node-a", time.Hour); err != nil {
				t.Fatal(err)
			}
			if _, err := db.ClaimExport(ctx, "node-b", time.Hour); !errors.Is(err, switchboard.ErrNotFound) {
				t.Fatalf("node-b claimed node-a's leased export: %v", err)
			}
			released, err := db.ReleaseLeases(ctx, "node-a")
			if err != nil || released != 2 {
				t.Fatalf("released %d, %v", released, err)
			}
			if n := claim("node-b", 10); n != 1 {
				t.Fatalf("after node-a released its lease node-b claimed %d, want its 1 (node-c's stays leased)", n)
			}
			if task, err := db.ClaimExport(ctx, "node-b", time.Hour); err != nil || task.ID != "exp-release" || task.Attempts != 1 {
				t.Fatalf("after node-a released it node-b claimed export %+v, %v; want exp-release at its first attempt", task, err)
			}
		})
	}
}
