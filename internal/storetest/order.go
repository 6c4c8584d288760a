package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/switchboardhq/switchboard"
)

// testChangeOrder: readers that follow a mailbox's change log while many
// writers append to it see every seq exactly once and in increasing
// order, and message-sync followers end with every message in its final
// state. This is what makes a sync token (a seq) safe: a reader that has
// passed seq N must never later find a smaller seq committed behind it. On
// a backend where sequence order is not commit order (PostgreSQL without
// the change-log lock) readers miss changes here.
func testChangeOrder(t *testing.T, e *env) {
	box := mb(e.ext1)
	const writers, perWriter = 6, 20
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()

	var writing sync.WaitGroup
	fail := make(chan error, 64)
	report := func(err error) {
		select {
		case fail <- err:
		default:
		}
		cancel()
	}
	for w := range writers {
		writing.Add(1)
		go func() {
			defer writing.Done()
			for i := range perWriter {
				var err error
				switch i % 3 {
				case 0: // a plain write transaction
					_, err = e.store.CreateMessage(ctx, sms(box, switchboard.Inbound, p1, []string{own1}, fmt.Sprintf("w%d-%d", w, i)))
				case 1: // a grouped write (shared commit)
					_, err = e.store.CreateOutbound(ctx, e.outbound(switchboard.TypeSMS, p2))
				case 2: // a change of an existing message
					var m *switchboard.Message
					m, err = e.store.CreateMessage(ctx, sms(box, switchboard.Inbound, p3, []string{own1}, fmt.Sprintf("w%d-%d", w, i)))
					if err == nil {
						_, err = e.store.UpdateMessage(ctx, box.acc, box.ext, m.ID, switchboard.MessageUpdate{ReadStatus: ptr(switchboard.Read)})
					}
				}
				if err != nil {
					report(fmt.Errorf("writer %d, write %d: %w", w, i, err))
					return
				}
			}
		}()
	}
	writersDone := make(chan struct{})
	go func() { writing.Wait(); close(writersDone) }()

	// follow calls step until it makes no progress after the writers are
	// done (so it has read everything committed).
	follow := func(step func() (progressed bool, err error)) error {
		for {
			finished := false
			select {
			case <-writersDone:
				finished = true
			default:
			}
			progressed, err := step()
			if err != nil {
				return err
			}
			if finished && !progressed {
				return nil
			}
		}
	}

	const logReaders, syncReaders = 3, 2
	seen := make([][]int64, logReaders)
	synced := make([]map[int64]*switchboard.Message, syncReaders)
	var reading sync.WaitGroup
	for r := range logReaders {
		reading.Add(1)
		go func() {
			defer reading.Done()
			var last int64
			err := follow(func() (bool, error) {
				cs, err := e.store.Changes(ctx, box.acc, box.ext, last, 7)
				if err != nil {
					return false, err
				}
				for _, c := range cs {
					if c.Seq <= last {
						return false, fmt.Errorf("change log reader %d: seq %d after %d", r, c.Seq, last)
					}
					last = c.Seq
					seen[r] = append(seen[r], c.Seq)
				}
				return len(cs) > 0, nil
			})
			if err != nil {
				report(err)
			}
		}()
	}
	for r := range syncReaders {
		reading.Add(1)
		synced[r] = map[int64]*switchboard.Message{}
		go func() {
			defer reading.Done()
			var pos int64
			err := follow(func() (bool, error) {
				d, err := e.store.SyncChanges(ctx, box.acc, box.ext, pos, 5)
				if err != nil {
					return false, err
				}
				if d.Seq < pos {
					return false, fmt.Errorf("sync reader %d: position went back from %d to %d", r, pos, d.Seq)
				}
				for _, m := range d.Messages {
					synced[r][m.ID] = m
				}
				progressed := d.Seq > pos
				pos = d.Seq
				return progressed, nil
			})
			if err != nil {
				report(err)
			}
		}()
	}
	writing.Wait()
	reading.Wait()
	close(fail)
	for err := range fail {
		t.Fatal(err)
	}

	all := e.changes(t, box)
	want := make([]int64, len(all))
	for i, c := range all {
		want[i] = c.Seq
	}
	// Every write logs at least one change.
	if len(want) < writers*perWriter {
		t.Fatalf("change log has %d entries, want at least %d", len(want), writers*perWriter)
	}
	for r, got := range seen {
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("change log reader %d saw %d changes, the log has %d: a change committed behind a position already read (first difference at %d)",
				r, len(got), len(want), firstDiff(got, want))
		}
	}
	page := must(e.store.ListMessages(e.ctx, switchboard.MessageFilter{AccountID: box.acc, ExtensionID: box.ext}))(t)
	for r, got := range synced {
		if len(got) != len(page.Messages) {
			t.Fatalf("sync reader %d saw %d messages, the mailbox has %d", r, len(got), len(page.Messages))
		}
		for _, m := range page.Messages {
			s := got[m.ID]
			if s == nil {
				t.Fatalf("sync reader %d never saw message %d", r, m.ID)
			}
			if s.ReadStatus != m.ReadStatus || s.MessageStatus != m.MessageStatus {
				t.Fatalf("sync reader %d: message %d last synced as %s/%s, is %s/%s: a change was missed",
					r, m.ID, s.ReadStatus, s.MessageStatus, m.ReadStatus, m.MessageStatus)
			}
		}
	}
}

func firstDiff(a, b []int64) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
