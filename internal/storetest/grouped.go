package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
)

// testGroupedMessageWrites: the message store's writes (mark read and
// unread, delete, restore, purge, bulk delete, inbound and imported
// messages) run at once may share transactions; each must answer for
// itself: a failing one changes nothing and fails no other, a cancelled
// caller's write is not made, and every successful one is stored with its
// change row.
func testGroupedMessageWrites(t *testing.T, e *env) {
	box := mb(e.ext1)
	const n = 80
	var seed []switchboard.MessageCreate
	for i := range n {
		c := sms(box, switchboard.Inbound, p1, []string{own1}, fmt.Sprint("grouped ", i))
		if i%8 == 2 {
			c.Availability = switchboard.Deleted // to be restored
		}
		if i%8 == 7 {
			c.Availability = switchboard.Purged // cannot be restored
		}
		seed = append(seed, c)
	}
	ms := must(e.store.CreateMessages(e.ctx, seed))(t)
	before := len(e.changes(t, box))

	type outcome struct {
		err     error
		changes int // change rows the write adds when it succeeds
	}
	results := make([]outcome, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := e.ctx
			if i%10 == 9 {
				cancelled, cancel := context.WithCancel(e.ctx)
				cancel()
				ctx = cancelled
			}
			id := ms[i].ID
			var err error
			changes := 1
			switch i % 8 {
			case 0:
				_, err = e.store.UpdateMessage(ctx, box.acc, box.ext, id, switchboard.MessageUpdate{ReadStatus: ptr(switchboard.Read)})
			case 1:
				err = e.store.DeleteMessage(ctx, box.acc, box.ext, id, false)
			case 2:
				_, err = e.store.UpdateMessage(ctx, box.acc, box.ext, id, switchboard.MessageUpdate{Availability: ptr(switchboard.Alive)})
			case 3:
				err = e.store.DeleteMessage(ctx, box.acc, box.ext, id, true)
			case 4:
				_, err = e.store.CreateMessage(ctx, sms(box, switchboard.Inbound, p2, []string{own1}, fmt.Sprint("inbound ", i)))
			case 5:
				_, err = e.store.CreateMessages(ctx, []switchboard.MessageCreate{
					sms(box, switchboard.Inbound, p3, []string{own1}, fmt.Sprint("import a ", i)),
					sms(box, switchboard.Inbound, p3, []string{own1}, fmt.Sprint("import b ", i))})
				changes = 2
			case 6:
				// A message of no mailbox of this account: not found.
				_, err = e.store.UpdateMessage(ctx, box.acc, e.ext2.ID, id, switchboard.MessageUpdate{ReadStatus: ptr(switchboard.Read)})
			case 7:
				_, err = e.store.UpdateMessage(ctx, box.acc, box.ext, id, switchboard.MessageUpdate{Availability: ptr(switchboard.Alive)})
			}
			results[i] = outcome{err, changes}
		}()
	}
	// A bulk delete of a neighbour mailbox among them.
	other := mb(e.ext2)
	for i := range 5 {
		e.create(t, sms(other, switchboard.Inbound, p1, []string{own2}, fmt.Sprint("bulk ", i)))
	}
	otherBefore := len(e.changes(t, other))
	var bulk int
	var bulkErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		bulk, bulkErr = e.store.DeleteMessages(e.ctx, switchboard.MessageDeleteFilter{AccountID: other.acc, ExtensionID: other.ext,
			DateTo: e.clock.Now().Add(time.Minute)})
	}()
	wg.Wait()
	noErr(t, bulkErr)
	wantEqual(t, bulk, 5, "bulk delete count")
	wantEqual(t, len(e.changes(t, other)), otherBefore+5, "bulk delete change rows")

	wantChanges := before
	for i, r := range results {
		what := fmt.Sprintf("write %d (kind %d)", i, i%8)
		switch {
		case i%10 == 9:
			wantIs(t, r.err, context.Canceled, what)
		case i%8 == 6:
			wantIs(t, r.err, switchboard.ErrNotFound, what)
		case i%8 == 7:
			wantCode(t, r.err, switchboard.CodeNotRestorable, what)
		default:
			noErr(t, r.err)
			wantChanges += r.changes
		}
		m := e.get(t, box, ms[i].ID)
		done := i%10 != 9
		switch i % 8 {
		case 0:
			wantEqual(t, m.ReadStatus == switchboard.Read, done, what+": read")
		case 1:
			wantEqual(t, m.Availability == switchboard.Deleted, done, what+": deleted")
		case 2:
			wantEqual(t, m.Availability == switchboard.Alive, done, what+": restored")
		case 3:
			wantEqual(t, m.Availability == switchboard.Purged, done, what+": purged")
		case 6:
			wantEqual(t, m.ReadStatus, switchboard.Unread, what+": untouched")
		case 7:
			wantEqual(t, m.Availability, switchboard.Purged, what+": untouched")
		}
	}
	wantEqual(t, len(e.changes(t, box)), wantChanges, "change rows")
	all := must(e.store.ListMessages(e.ctx, switchboard.MessageFilter{AccountID: box.acc, ExtensionID: box.ext}))(t).Messages
	stored := map[string]int{}
	for _, m := range all {
		stored[m.Subject]++
	}
	for i := range n {
		done := i%10 != 9
		switch i % 8 {
		case 4:
			wantEqual(t, stored[fmt.Sprint("inbound ", i)], map[bool]int{true: 1}[done], fmt.Sprintf("inbound message %d", i))
		case 5:
			wantEqual(t, stored[fmt.Sprint("import b ", i)], map[bool]int{true: 1}[done], fmt.Sprintf("imported message %d", i))
		}
	}
}
