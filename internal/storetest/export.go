package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
)

// testExports: tasks per account (at most MaxActiveExports running), claims
// under a lease, chunks written only by the lease holder, an expired lease
// restarting the archive, and the archive readable once Completed, by its
// account only.
func testExports(t *testing.T, e *env) {
	task := func(id string, acc *switchboard.Account) *switchboard.ExportTask {
		return &switchboard.ExportTask{ID: id, AccountID: acc.ID, ExtensionID: e.ext1.ID, DateFrom: Base.Add(-24 * time.Hour), DateTo: Base,
			Types: []switchboard.MessageType{switchboard.TypeFax, switchboard.TypeSMS}, Created: e.clock.Now()}
	}
	first := task("exp-1", e.acc1)
	first.Extensions = []int64{e.ext2.ID, e.ext1.ID}
	noErr(t, e.store.CreateExport(e.ctx, first))
	e.clock.Advance(time.Millisecond)
	noErr(t, e.store.CreateExport(e.ctx, task("exp-2", e.acc1)))
	wantCode(t, e.store.CreateExport(e.ctx, task("exp-3", e.acc1)), switchboard.CodeExportLimit, "third running export")
	noErr(t, e.store.CreateExport(e.ctx, task("exp-other", e.acc2)))

	got := must(e.store.Export(e.ctx, e.acc1.ID, "exp-1"))(t)
	wantEqual(t, got.Status, switchboard.ExportAccepted, "new task")
	wantEqual(t, fmt.Sprint(got.Types), "[Fax SMS]", "types")
	wantEqual(t, fmt.Sprint(got.Extensions), fmt.Sprint([]int64{e.ext2.ID, e.ext1.ID}), "extensions")
	wantIs(t, errOf(e.store.Export(e.ctx, e.acc2.ID, "exp-1")), switchboard.ErrNotFound, "another account's task")

	// Claims go oldest first; a leased task is not claimed twice.
	a := must(e.store.ClaimExport(e.ctx, "a", time.Minute))(t)
	wantEqual(t, a.ID, "exp-1", "first claim")
	wantEqual(t, a.Status, switchboard.ExportInProgress, "claimed status")
	b := must(e.store.ClaimExport(e.ctx, "b", time.Minute))(t)
	wantEqual(t, b.ID, "exp-2", "second claim")
	c := must(e.store.ClaimExport(e.ctx, "c", time.Minute))(t)
	wantEqual(t, c.ID, "exp-other", "third claim")
	wantIs(t, errOf(e.store.ClaimExport(e.ctx, "d", time.Minute)), switchboard.ErrNotFound, "nothing due")
	noErr(t, e.store.FinishExport(e.ctx, "exp-2", "b", switchboard.ExportFailed, 0, "disk full"))
	wantEqual(t, must(e.store.Export(e.ctx, e.acc1.ID, "exp-2"))(t).Error, "disk full", "the reason of a failure")

	noErr(t, e.store.WriteExportChunk(e.ctx, "exp-1", "a", 0, []byte("PK first"), time.Minute))
	wantIs(t, e.store.WriteExportChunk(e.ctx, "exp-1", "b", 1, []byte("x"), time.Minute), switchboard.ErrLeaseLost, "chunk by another worker")
	// a dies; after its lease, d takes the task over and starts the archive again.
	e.clock.Advance(2 * time.Minute)
	d := must(e.store.ClaimExport(e.ctx, "d", time.Minute))(t)
	wantEqual(t, d.ID, "exp-1", "claim after the lease ran out")
	wantEqual(t, d.Attempts, 2, "attempts")
	wantIs(t, e.store.WriteExportChunk(e.ctx, "exp-1", "a", 1, []byte("late"), time.Minute), switchboard.ErrLeaseLost, "the dead worker's chunk")
	noErr(t, e.store.WriteExportChunk(e.ctx, "exp-1", "d", 0, []byte("PK "), time.Minute))
	noErr(t, e.store.WriteExportChunk(e.ctx, "exp-1", "d", 1, []byte("again"), time.Minute))
	wantIs(t, errOf(e.store.ExportChunk(e.ctx, e.acc1.ID, "exp-1", 0)), switchboard.ErrNotFound, "chunk before Completed")
	noErr(t, e.store.FinishExport(e.ctx, "exp-1", "d", switchboard.ExportCompleted, 8, ""))
	wantIs(t, e.store.FinishExport(e.ctx, "exp-1", "d", switchboard.ExportCompleted, 8, ""), switchboard.ErrLeaseLost, "finish twice")
	done := must(e.store.Export(e.ctx, e.acc1.ID, "exp-1"))(t)
	wantEqual(t, done.Status, switchboard.ExportCompleted, "finished status")
	wantEqual(t, done.Size, int64(8), "size")
	var archive []byte
	for seq := 0; ; seq++ {
		chunk, err := e.store.ExportChunk(e.ctx, e.acc1.ID, "exp-1", seq)
		if err != nil {
			wantIs(t, err, switchboard.ErrNotFound, "past the last chunk")
			break
		}
		archive = append(archive, chunk...)
	}
	wantEqual(t, string(archive), "PK again", "the archive is the second attempt's")
	wantIs(t, errOf(e.store.ExportChunk(e.ctx, e.acc2.ID, "exp-1", 0)), switchboard.ErrNotFound, "another account's archive")

	// A finished task frees its account's slot; a failing one ends Failed
	// after MaxExportAttempts claims.
	noErr(t, e.store.CreateExport(e.ctx, task("exp-3", e.acc1)))
	// exp-other's lease (c) ran out with a's: it is claimed again, and done.
	wantEqual(t, must(e.store.ClaimExport(e.ctx, "c", time.Minute))(t).ID, "exp-other", "the other account's task, again")
	noErr(t, e.store.FinishExport(e.ctx, "exp-other", "c", switchboard.ExportCompleted, 0, ""))
	for i := 0; i < switchboard.MaxExportAttempts; i++ {
		wantEqual(t, must(e.store.ClaimExport(e.ctx, "w", time.Minute))(t).ID, "exp-3", "claim of the task that keeps dying")
		e.clock.Advance(2 * time.Minute)
	}
	wantIs(t, errOf(e.store.ClaimExport(e.ctx, "w", time.Minute)), switchboard.ErrNotFound, "nothing left once exp-3 failed")
	failed := must(e.store.Export(e.ctx, e.acc1.ID, "exp-3"))(t)
	wantEqual(t, failed.Status, switchboard.ExportFailed, "a task started too often")
}
