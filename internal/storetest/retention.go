package storetest

import (
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
)

// newMailbox creates an account of its own with one extension, for tests
// whose account-wide steps (the mailbox cap) must not touch anything else.
func (e *env) newMailbox(t *testing.T, name string) mailbox {
	t.Helper()
	acc := must(e.store.CreateAccount(e.ctx, switchboard.AccountCreate{Name: name}))(t)
	return mb(e.newExtension(t, acc, "101", ""))
}

// msgAt is an inbound SMS of box from peer created at Base+at, with a text
// attachment carrying its text.
func msgAt(box mailbox, peer string, at time.Duration, text string) switchboard.MessageCreate {
	c := sms(box, switchboard.Inbound, peer, []string{own1}, text)
	c.Created = Base.Add(at)
	return c
}

// availability returns a message's availability, or "" once it is gone.
func (e *env) availability(t *testing.T, box mailbox, id int64) switchboard.Availability {
	t.Helper()
	m, err := e.store.Message(e.ctx, box.acc, box.ext, id)
	if isNotFound(err) {
		return ""
	}
	noErr(t, err)
	return m.Availability
}

// changesSince is the change log of a mailbox after seq.
func (e *env) changesSince(t *testing.T, box mailbox, seq int64) []*switchboard.Change {
	t.Helper()
	return must(e.store.Changes(e.ctx, box.acc, box.ext, seq, 0))(t)
}

func (e *env) position(t *testing.T) int64 {
	t.Helper()
	return must(e.store.SyncPosition(e.ctx))(t)
}

// wantLogged fails unless changes holds exactly one change of kind per
// message of want, at at, and nothing else.
func wantLogged(t *testing.T, changes []*switchboard.Change, kind string, at time.Time, want []int64) {
	t.Helper()
	var got []int64
	for _, c := range changes {
		if c.Kind != kind || !c.At.Equal(at) {
			t.Fatalf("change %+v, want kind %s at %v", c, kind, at)
		}
		got = append(got, c.MessageID)
	}
	slices.Sort(got)
	want = slices.Sorted(slices.Values(want))
	wantEqual(t, got, want, "messages in the change log")
}

func testAccountRetention(t *testing.T, e *env) {
	if r := must(e.store.Account(e.ctx, e.acc1.ID))(t).Retention; r != (switchboard.AccountRetention{}) {
		t.Fatalf("new account has retention %+v, want the server defaults (zero)", r)
	}
	for _, tc := range []struct {
		name string
		r    switchboard.AccountRetention
	}{
		{"periods and cap", switchboard.AccountRetention{DeletePeriod: 36 * time.Hour, PurgePeriod: 90 * time.Second, MailboxCap: 250}},
		{"no cap", switchboard.AccountRetention{DeletePeriod: time.Millisecond, MailboxCap: switchboard.NoMailboxCap}},
		{"retention period", switchboard.AccountRetention{MessagePeriod: 30 * 24 * time.Hour}},
		{"back to defaults", switchboard.AccountRetention{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			noErr(t, e.store.SetAccountRetention(e.ctx, e.acc1.ID, tc.r))
			wantEqual(t, must(e.store.Account(e.ctx, e.acc1.ID))(t).Retention, tc.r, "Account")
			all := must(e.store.Accounts(e.ctx))(t)
			wantEqual(t, all[0].Retention, tc.r, "Accounts")
			if all[1].Retention != (switchboard.AccountRetention{}) {
				t.Fatalf("the other account changed too: %+v", all[1].Retention)
			}
		})
	}
	t.Run("errors", func(t *testing.T) {
		wantIs(t, e.store.SetAccountRetention(e.ctx, 1<<40, switchboard.AccountRetention{MailboxCap: 5}), switchboard.ErrNotFound, "missing account")
		for _, r := range []switchboard.AccountRetention{{DeletePeriod: -time.Hour}, {PurgePeriod: 11 * 365 * 24 * time.Hour}, {MailboxCap: -2},
			{MessagePeriod: 6 * 24 * time.Hour}, {MessagePeriod: 91 * 24 * time.Hour}} {
			wantCode(t, e.store.SetAccountRetention(e.ctx, e.acc1.ID, r), switchboard.CodeInvalidParameter, fmt.Sprintf("%+v", r))
		}
	})
}

// testPurgeDeleted runs PurgeDeleted step by step over messages deleted at
// known times in two mailboxes of one account, next to another account's.
func testPurgeDeleted(t *testing.T, e *env) {
	box1, box2, other := mb(e.ext1), mb(e.ext2), mb(e.ext3)
	type seed struct {
		box     mailbox
		deleted time.Duration // when it is deleted, from Base; 0: stays Alive
		purge   bool          // purged directly at that time
	}
	seeds := map[string]seed{
		"m0":    {box1, time.Minute, false},
		"n0":    {box2, 90 * time.Second, false},
		"m1":    {box1, 2 * time.Minute, false},
		"m2":    {box1, 3 * time.Minute, false},
		"alive": {box1, 0, false},
		"gone":  {box1, 3 * time.Minute, true},   // Purged already
		"x0":    {other, time.Minute, false},     // another account
		"x1":    {other, time.Minute / 2, false}, // another account
	}
	names := slices.Sorted(maps.Keys(seeds))
	ms := map[string]*switchboard.Message{}
	for i, n := range names {
		s := seeds[n]
		c := msgAt(s.box, fmt.Sprintf("+1415555%04d", 200+i), -time.Hour, PurgeMarker+" "+n)
		c.Attachments = append(c.Attachments, &switchboard.Attachment{Type: switchboard.AttachmentMms, ContentType: "image/png", Content: []byte("png " + n)})
		ms[n] = e.create(t, c)
	}
	// Delete in time order.
	for step := time.Duration(0); step <= 3*time.Minute; step += 30 * time.Second {
		for _, n := range names {
			if s := seeds[n]; s.deleted == step && step != 0 {
				e.clock.Advance(Base.Add(step).Sub(e.clock.Now()))
				noErr(t, e.store.DeleteMessage(e.ctx, s.box.acc, s.box.ext, ms[n].ID, s.purge))
			}
		}
	}
	gone := e.get(t, box1, ms["gone"].ID)

	purged := map[string]time.Time{}
	for _, tc := range []struct {
		name   string
		cutoff time.Duration // from Base
		limit  int
		want   []string
	}{
		{"cutoff is exclusive", time.Minute, 10, nil},
		{"limit takes the oldest", 2*time.Minute + time.Millisecond, 1, []string{"m0"}},
		{"up to the cutoff", 2*time.Minute + time.Millisecond, 10, []string{"n0", "m1"}},
		{"second run does nothing", 2*time.Minute + time.Millisecond, 10, nil},
		{"no limit", time.Hour, 0, []string{"m2"}},
		{"nothing left", 24 * time.Hour, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pos := map[mailbox]int64{box1: e.position(t), box2: e.position(t), other: e.position(t)}
			now := e.clock.Advance(time.Minute)
			n := must(e.store.PurgeDeleted(e.ctx, box1.acc, Base.Add(tc.cutoff), tc.limit))(t)
			if n != len(tc.want) {
				t.Fatalf("PurgeDeleted = %d, want %d", n, len(tc.want))
			}
			logged := map[mailbox][]int64{}
			for _, w := range tc.want {
				purged[w] = now
				logged[seeds[w].box] = append(logged[seeds[w].box], ms[w].ID)
			}
			for box, seq := range pos {
				wantLogged(t, e.changesSince(t, box, seq), switchboard.ChangeUpdated, now, logged[box])
			}
			for _, n := range names {
				s := seeds[n]
				got := e.get(t, s.box, ms[n].ID)
				at, isPurged := purged[n]
				switch {
				case isPurged:
					if got.Availability != switchboard.Purged || got.Subject != "" || len(got.Attachments) != 2 {
						t.Fatalf("%s: %s, subject %q, %d attachments; want Purged, erased, metadata kept", n, got.Availability, got.Subject, len(got.Attachments))
					}
					wantTime(t, got.LastModified, at, n+" lastModified")
					for i := range got.Attachments {
						_, err := e.content(t, s.box, got, i)
						wantIs(t, err, switchboard.ErrNotFound, fmt.Sprintf("%s attachment %d", n, i))
					}
				case n == "gone":
					wantEqual(t, got, gone, "message Purged before")
				default:
					want := switchboard.Deleted
					if s.deleted == 0 {
						want = switchboard.Alive
					}
					if got.Availability != want || got.Subject != PurgeMarker+" "+n {
						t.Fatalf("%s: %s %q, want %s untouched", n, got.Availability, got.Subject, want)
					}
					for i := range got.Attachments {
						if content, err := e.content(t, s.box, got, i); err != nil || len(content) == 0 {
							t.Fatalf("%s attachment %d: %q, %v", n, i, content, err)
						}
					}
				}
			}
		})
	}
	t.Run("other account", func(t *testing.T) {
		now := e.clock.Advance(time.Minute)
		wantEqual(t, must(e.store.PurgeDeleted(e.ctx, other.acc, now, 0))(t), 2, "PurgeDeleted of account 2")
		if a := e.availability(t, other, ms["x0"].ID); a != switchboard.Purged {
			t.Fatalf("x0 is %s", a)
		}
	})
}

// testRemovePurged runs RemovePurged step by step over messages purged at
// known times by each way to purge.
func testRemovePurged(t *testing.T, e *env) {
	box1, box2, other := mb(e.ext1), mb(e.ext2), mb(e.ext3)
	mk := func(box mailbox, i int) *switchboard.Message {
		c := msgAt(box, fmt.Sprintf("+1415555%04d", 300+i), -time.Hour, fmt.Sprint("remove ", i))
		c.Type = []switchboard.MessageType{switchboard.TypeSMS, switchboard.TypeFax, switchboard.TypeVoiceMail}[i%3]
		if i%2 == 1 {
			c.Direction = switchboard.Outbound
		}
		return e.create(t, c)
	}
	p0, p1, p2, p3 := mk(box1, 0), mk(box2, 1), mk(box1, 2), mk(box1, 3)
	deleted, alive, x0 := mk(box1, 4), mk(box1, 5), mk(other, 6)
	e.clock.Advance(time.Minute) // Base+1m
	noErr(t, e.store.DeleteMessage(e.ctx, box1.acc, box1.ext, p0.ID, true))
	noErr(t, e.store.DeleteMessage(e.ctx, other.acc, other.ext, x0.ID, true))
	noErr(t, e.store.DeleteMessage(e.ctx, box2.acc, box2.ext, p1.ID, false))
	noErr(t, e.store.DeleteMessage(e.ctx, box1.acc, box1.ext, p2.ID, false))
	noErr(t, e.store.DeleteMessage(e.ctx, box1.acc, box1.ext, deleted.ID, false))
	e.clock.Advance(time.Minute) // Base+2m
	must(e.store.DeleteMessages(e.ctx, switchboard.MessageDeleteFilter{AccountID: box2.acc, ExtensionID: box2.ext, Purge: true}))(t)
	e.clock.Advance(time.Minute) // Base+3m: p2 (deleted before 4, lower id) is the oldest Deleted
	wantEqual(t, must(e.store.PurgeDeleted(e.ctx, box1.acc, Base.Add(time.Minute+time.Millisecond), 1))(t), 1, "PurgeDeleted")
	e.clock.Advance(time.Minute) // Base+4m
	must(e.store.UpdateMessage(e.ctx, box1.acc, box1.ext, p3.ID, switchboard.MessageUpdate{Availability: ptr(switchboard.Purged)}))(t)
	for _, m := range []*switchboard.Message{p0, p1, p2, p3} {
		if a := e.availability(t, mailbox{m.AccountID, m.ExtensionID}, m.ID); a != switchboard.Purged {
			t.Fatalf("seed %d is %s, want Purged", m.ID, a)
		}
	}
	if e.availability(t, box1, deleted.ID) != switchboard.Deleted {
		t.Fatal("seed deleted is not Deleted")
	}

	removed := map[int64]bool{}
	all := []*switchboard.Message{p0, p1, p2, p3, deleted, alive}
	for _, tc := range []struct {
		name   string
		cutoff time.Duration
		limit  int
		want   []*switchboard.Message
	}{
		{"cutoff is exclusive", time.Minute, 0, nil},
		{"limit takes the oldest", 3 * time.Minute, 1, []*switchboard.Message{p0}},
		{"up to the cutoff", 3*time.Minute + time.Millisecond, 5, []*switchboard.Message{p1, p2}},
		{"second run does nothing", 3*time.Minute + time.Millisecond, 5, nil},
		{"no limit", time.Hour, 0, []*switchboard.Message{p3}},
		{"nothing left", 24 * time.Hour, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pos := e.position(t)
			now := e.clock.Advance(time.Minute)
			n := must(e.store.RemovePurged(e.ctx, box1.acc, Base.Add(tc.cutoff), tc.limit))(t)
			if n != len(tc.want) {
				t.Fatalf("RemovePurged = %d, want %d", n, len(tc.want))
			}
			var want1, want2 []int64
			for _, m := range tc.want {
				removed[m.ID] = true
				if m.ExtensionID == box1.ext {
					want1 = append(want1, m.ID)
				} else {
					want2 = append(want2, m.ID)
				}
			}
			wantLogged(t, e.changesSince(t, box1, pos), switchboard.ChangeRemoved, now, want1)
			wantLogged(t, e.changesSince(t, box2, pos), switchboard.ChangeRemoved, now, want2)
			for _, c := range e.changesSince(t, box1, pos) {
				m := all[slices.IndexFunc(all, func(m *switchboard.Message) bool { return m.ID == c.MessageID })]
				wantEqual(t, *c, switchboard.Change{Seq: c.Seq, AccountID: box1.acc, ExtensionID: box1.ext, MessageID: m.ID,
					Kind: switchboard.ChangeRemoved, Type: m.Type, Direction: m.Direction, At: now}, "removed change")
			}
			for _, m := range all {
				box := mailbox{m.AccountID, m.ExtensionID}
				got, err := e.store.Message(e.ctx, box.acc, box.ext, m.ID)
				if !removed[m.ID] {
					noErr(t, err)
					continue
				}
				wantIs(t, err, switchboard.ErrNotFound, "Message of a removed message")
				_, err = e.store.Attachment(e.ctx, box.acc, box.ext, m.ID, m.Attachments[0].ID)
				wantIs(t, err, switchboard.ErrNotFound, "Attachment of a removed message")
				wantIs(t, e.store.DeleteMessage(e.ctx, box.acc, box.ext, m.ID, true), switchboard.ErrNotFound, "DeleteMessage of a removed message")
				page := must(e.store.ListMessages(e.ctx, switchboard.MessageFilter{AccountID: box.acc, ExtensionID: box.ext,
					PhoneNumber: m.From.PhoneNumber}))(t)
				if len(page.Messages) != 0 || got != nil {
					t.Fatalf("a removed message is still listed")
				}
			}
			if e.availability(t, other, x0.ID) != switchboard.Purged {
				t.Fatal("another account's Purged message was removed")
			}
		})
	}
	if e.availability(t, box1, alive.ID) != switchboard.Alive || e.availability(t, box1, deleted.ID) != switchboard.Deleted {
		t.Fatal("RemovePurged touched a message that is not Purged")
	}
}

// capCase is a mailbox built through one write path, with the number of
// Alive messages it must hold afterwards. Every message is created at a
// distinct time, ms[i] at Base-(len-i)h, unless the case sets times itself.
type capCase struct {
	name  string
	build func(t *testing.T, e *env, box mailbox) []*switchboard.Message
	alive int
}

// create n messages of box, oldest first; avail overrides the availability
// of some.
func createN(t *testing.T, e *env, box mailbox, n int, avail map[int]switchboard.Availability) []*switchboard.Message {
	t.Helper()
	var ms []*switchboard.Message
	for i := range n {
		c := msgAt(box, fmt.Sprintf("+1415555%04d", 400+i), -time.Duration(n-i)*time.Hour, fmt.Sprint("cap ", i))
		c.Availability = avail[i]
		ms = append(ms, e.create(t, c))
	}
	return ms
}

func createBatch(t *testing.T, e *env, box mailbox, n int, avail map[int]switchboard.Availability) []*switchboard.Message {
	t.Helper()
	var cs []switchboard.MessageCreate
	for i := range n {
		c := msgAt(box, fmt.Sprintf("+1415555%04d", 400+i), -time.Duration(n-i)*time.Hour, fmt.Sprint("cap ", i))
		c.Availability = avail[i]
		cs = append(cs, c)
	}
	return must(e.store.CreateMessages(e.ctx, cs))(t)
}

var capCases = []capCase{
	{"CreateMessage", func(t *testing.T, e *env, box mailbox) []*switchboard.Message {
		return createN(t, e, box, 7, map[int]switchboard.Availability{0: switchboard.Deleted, 3: switchboard.Purged})
	}, 5},
	{"CreateMessages", func(t *testing.T, e *env, box mailbox) []*switchboard.Message {
		return createBatch(t, e, box, 8, map[int]switchboard.Availability{1: switchboard.Deleted, 2: switchboard.Purged, 5: switchboard.Deleted})
	}, 5},
	{"DeleteMessage", func(t *testing.T, e *env, box mailbox) []*switchboard.Message {
		ms := createN(t, e, box, 8, nil)
		del := func(i int, purge bool) { noErr(t, e.store.DeleteMessage(e.ctx, box.acc, box.ext, ms[i].ID, purge)) }
		del(0, false) // Alive -> Deleted
		del(2, false) // Alive -> Deleted -> Purged
		del(2, false)
		del(2, false) // Purged: no-op
		del(4, true)  // Alive -> Purged
		return ms
	}, 5},
	{"UpdateMessage", func(t *testing.T, e *env, box mailbox) []*switchboard.Message {
		ms := createN(t, e, box, 9, map[int]switchboard.Availability{8: switchboard.Deleted})
		set := func(i int, a switchboard.Availability) {
			must(e.store.UpdateMessage(e.ctx, box.acc, box.ext, ms[i].ID, switchboard.MessageUpdate{Availability: &a}))(t)
		}
		set(0, switchboard.Deleted)
		set(1, switchboard.Deleted)
		set(1, switchboard.Alive) // restored
		set(1, switchboard.Alive) // no-op
		set(3, switchboard.Purged)
		set(0, switchboard.Purged) // Deleted -> Purged
		set(8, switchboard.Alive)  // created Deleted, restored
		must(e.store.UpdateMessage(e.ctx, box.acc, box.ext, ms[5].ID, switchboard.MessageUpdate{ReadStatus: ptr(switchboard.Read)}))(t)
		return ms
	}, 7},
	{"DeleteMessages", func(t *testing.T, e *env, box mailbox) []*switchboard.Message {
		ms := createN(t, e, box, 9, map[int]switchboard.Availability{1: switchboard.Deleted, 2: switchboard.Purged})
		del := func(f switchboard.MessageDeleteFilter) {
			f.AccountID, f.ExtensionID = box.acc, box.ext
			must(e.store.DeleteMessages(e.ctx, f))(t)
		}
		// Conversations of 0, 1, 2, 3: Alive, Deleted, Purged, Alive.
		del(switchboard.MessageDeleteFilter{ConversationIDs: []int64{ms[0].ConversationID, ms[1].ConversationID, ms[2].ConversationID, ms[3].ConversationID}})
		// 0 and 3 are Deleted now, 1 Purged; purge 3, 4 (Alive) and 5 (Alive).
		del(switchboard.MessageDeleteFilter{ConversationIDs: []int64{ms[3].ConversationID, ms[4].ConversationID, ms[5].ConversationID}, Purge: true})
		return ms
	}, 3},
	{"restore after DeleteMessages", func(t *testing.T, e *env, box mailbox) []*switchboard.Message {
		ms := createN(t, e, box, 6, nil)
		must(e.store.DeleteMessages(e.ctx, switchboard.MessageDeleteFilter{AccountID: box.acc, ExtensionID: box.ext,
			DateTo: Base.Add(-2 * time.Hour)}))(t) // 0..3
		for _, i := range []int{0, 2, 3} {
			must(e.store.UpdateMessage(e.ctx, box.acc, box.ext, ms[i].ID, switchboard.MessageUpdate{Availability: ptr(switchboard.Alive)}))(t)
		}
		return ms
	}, 5},
	{"PurgeDeleted and RemovePurged", func(t *testing.T, e *env, box mailbox) []*switchboard.Message {
		ms := createN(t, e, box, 7, map[int]switchboard.Availability{1: switchboard.Deleted, 2: switchboard.Purged})
		noErr(t, e.store.DeleteMessage(e.ctx, box.acc, box.ext, ms[0].ID, false))
		now := e.clock.Advance(time.Minute)
		if n := must(e.store.PurgeDeleted(e.ctx, box.acc, now, 0))(t); n != 2 {
			t.Fatalf("PurgeDeleted = %d, want 2", n)
		}
		now = e.clock.Advance(time.Minute)
		if n := must(e.store.RemovePurged(e.ctx, box.acc, now, 0))(t); n != 3 {
			t.Fatalf("RemovePurged = %d, want 3", n)
		}
		return ms
	}, 4},
	{"ties by id", func(t *testing.T, e *env, box mailbox) []*switchboard.Message {
		var ms []*switchboard.Message
		for i := range 5 {
			ms = append(ms, e.create(t, msgAt(box, p1, -time.Hour, fmt.Sprint("tie ", i))))
		}
		return ms
	}, 5},
}

// testMailboxCap checks the Alive count through every write path: with cap
// equal to the count nothing moves, with cap two less exactly the two
// oldest Alive messages move, and again nothing.
func testMailboxCap(t *testing.T, e *env) {
	for _, tc := range capCases {
		t.Run(tc.name, func(t *testing.T) {
			box := e.newMailbox(t, tc.name)
			ms := tc.build(t, e, box)
			// A second mailbox of the account, under the cap, and another
			// account over it: neither moves.
			other := mb(e.newExtension(t, must(e.store.Account(e.ctx, box.acc))(t), "102", ""))
			createN(t, e, other, tc.alive-2, nil)
			far := e.newMailbox(t, tc.name+" neighbour")
			createN(t, e, far, tc.alive+3, nil)

			before := map[int64]switchboard.Availability{}
			var alive []*switchboard.Message
			for _, m := range ms {
				a := e.availability(t, box, m.ID)
				before[m.ID] = a
				if a == switchboard.Alive {
					alive = append(alive, m)
				}
			}
			if len(alive) != tc.alive {
				t.Fatalf("%d Alive messages after the build, the case says %d", len(alive), tc.alive)
			}
			wantEqual(t, must(e.store.EnforceMailboxCap(e.ctx, box.acc, 0))(t), 0, "cap 0")
			wantEqual(t, must(e.store.EnforceMailboxCap(e.ctx, box.acc, tc.alive))(t), 0, "cap = Alive count")
			pos := e.position(t)
			now := e.clock.Advance(time.Minute)
			wantEqual(t, must(e.store.EnforceMailboxCap(e.ctx, box.acc, tc.alive-2))(t), 2, "cap = Alive count - 2")
			// ms is oldest first (created at increasing times, or equal
			// times and increasing ids).
			oldest := []int64{alive[0].ID, alive[1].ID}
			wantLogged(t, e.changesSince(t, box, pos), switchboard.ChangeUpdated, now, oldest)
			for _, m := range ms {
				got, err := e.store.Message(e.ctx, box.acc, box.ext, m.ID)
				if before[m.ID] == "" {
					wantIs(t, err, switchboard.ErrNotFound, "removed message")
					continue
				}
				noErr(t, err)
				if slices.Contains(oldest, m.ID) {
					if got.Availability != switchboard.Deleted {
						t.Fatalf("capped message %d is %s", m.ID, got.Availability)
					}
					wantTime(t, got.LastModified, now, "lastModified of a capped message")
				} else if got.Availability != before[m.ID] {
					t.Fatalf("message %d went from %s to %s", m.ID, before[m.ID], got.Availability)
				}
			}
			if cs := e.changesSince(t, other, pos); len(cs) != 0 {
				t.Fatalf("the mailbox under the cap changed: %v", cs)
			}
			if cs := e.changesSince(t, far, pos); len(cs) != 0 {
				t.Fatalf("another account's mailbox changed: %v", cs)
			}
			wantEqual(t, must(e.store.EnforceMailboxCap(e.ctx, box.acc, tc.alive-2))(t), 0, "second run")
			// Restoring a capped message counts it again.
			must(e.store.UpdateMessage(e.ctx, box.acc, box.ext, oldest[1], switchboard.MessageUpdate{Availability: ptr(switchboard.Alive)}))(t)
			wantEqual(t, must(e.store.EnforceMailboxCap(e.ctx, box.acc, tc.alive-2))(t), 1, "after a restore")
			if a := e.availability(t, box, oldest[1]); a != switchboard.Deleted {
				t.Fatalf("the restored message, the oldest Alive, is %s", a)
			}
		})
	}
	// A store may move a mailbox's excess in several transactions; this is
	// more than the SQLite store's batch (1000).
	const capBatchForTests = 1000
	t.Run("several mailboxes and batches", func(t *testing.T) {
		box := e.newMailbox(t, "big")
		acc := must(e.store.Account(e.ctx, box.acc))(t)
		small := mb(e.newExtension(t, acc, "102", ""))
		createBatch(t, e, small, 30, nil)
		const n, limit = capBatchForTests + 100, 20
		var cs []switchboard.MessageCreate
		for i := range n {
			cs = append(cs, msgAt(box, p1, -time.Duration(n-i)*time.Minute, "bulk"))
		}
		ms := must(e.store.CreateMessages(e.ctx, cs))(t)
		pos := e.position(t)
		wantEqual(t, must(e.store.EnforceMailboxCap(e.ctx, box.acc, limit))(t), n-limit+30-limit, "moved")
		page := must(e.store.ListMessages(e.ctx, switchboard.MessageFilter{AccountID: box.acc, ExtensionID: box.ext,
			Availability: []switchboard.Availability{switchboard.Alive}}))(t)
		newest := slices.Clone(ms[n-limit:])
		slices.Reverse(newest)
		wantEqual(t, ids(page.Messages), ids(newest), "the newest stay Alive")
		if got := len(e.changesSince(t, box, pos)); got != n-limit {
			t.Fatalf("%d changes, want %d", got, n-limit)
		}
		wantEqual(t, must(e.store.EnforceMailboxCap(e.ctx, box.acc, limit))(t), 0, "second run")
	})
}

// testSyncChanges reads one mailbox's changes through SyncChanges while
// its neighbours change too.
func testSyncChanges(t *testing.T, e *env) {
	box := mb(e.ext1)
	wantEqual(t, e.position(t), int64(0), "position of an empty log")
	positions := []int64{0}
	step := func() {
		t.Helper()
		e.clock.Advance(time.Minute)
		p := e.position(t)
		if p < positions[len(positions)-1] {
			t.Fatalf("SyncPosition went back from %d to %d", positions[len(positions)-1], p)
		}
		positions = append(positions, p)
	}
	neighbours := func() {
		t.Helper()
		e.create(t, sms(mb(e.ext2), switchboard.Inbound, p1, []string{own2}, "neighbour"))
		e.create(t, sms(mb(e.ext3), switchboard.Inbound, p1, []string{own3}, "other account"))
	}

	// The log of box: c1 create A, c2 create B, c3 update A, c4 create C,
	// c5 update B, c6 update A; the neighbours write between each.
	a := e.create(t, sms(box, switchboard.Inbound, p1, []string{own1}, "A"))
	neighbours()
	step()
	b := e.create(t, sms(box, switchboard.Inbound, p2, []string{own1}, "B"))
	neighbours()
	step()
	must(e.store.UpdateMessage(e.ctx, box.acc, box.ext, a.ID, switchboard.MessageUpdate{ReadStatus: ptr(switchboard.Read)}))(t)
	neighbours()
	step()
	c := e.create(t, sms(box, switchboard.Inbound, p3, []string{own1}, "C"))
	step()
	noErr(t, e.store.DeleteMessage(e.ctx, box.acc, box.ext, b.ID, false))
	neighbours()
	step()
	noErr(t, e.store.DeleteMessage(e.ctx, box.acc, box.ext, a.ID, false))
	neighbours()
	step()
	log := e.changes(t, box)
	if len(log) != 6 {
		t.Fatalf("%d changes, want 6", len(log))
	}
	seq := func(i int) int64 { // c1..c6
		if i == 0 {
			return 0
		}
		return log[i-1].Seq
	}
	A, B, C := e.get(t, box, a.ID), e.get(t, box, b.ID), e.get(t, box, c.ID)
	for _, tc := range []struct {
		name  string
		after int64
		limit int
		want  []*switchboard.Message
		seq   int64
		more  bool
	}{
		{"everything", 0, 0, []*switchboard.Message{C, B, A}, seq(6), false},
		{"limit 1", 0, 1, []*switchboard.Message{A}, seq(1), true},
		{"limit 2 takes A's second change", 0, 2, []*switchboard.Message{B, A}, seq(3), true},
		{"limit 3 is all", 0, 3, []*switchboard.Message{C, B, A}, seq(6), false},
		{"limit above", 0, 10, []*switchboard.Message{C, B, A}, seq(6), false},
		{"after c3, limit 2", seq(3), 2, []*switchboard.Message{C, B}, seq(5), true},
		{"after c5", seq(5), 2, []*switchboard.Message{A}, seq(6), false},
		{"after a neighbour's change", seq(1) + 1, 1, []*switchboard.Message{B}, seq(2), true},
		{"after the last", seq(6), 5, nil, seq(6), false},
		{"after the global position", positions[len(positions)-1], 0, nil, positions[len(positions)-1], false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := must(e.store.SyncChanges(e.ctx, box.acc, box.ext, tc.after, tc.limit))(t)
			wantEqual(t, d, &switchboard.SyncDelta{Messages: tc.want, Seq: tc.seq, More: tc.more}, "delta")
		})
	}
	t.Run("other mailboxes", func(t *testing.T) {
		for _, other := range []mailbox{{e.acc2.ID, e.ext1.ID}, mb(e.ext2), mb(e.ext3)} {
			d := must(e.store.SyncChanges(e.ctx, other.acc, other.ext, 0, 0))(t)
			for _, m := range d.Messages {
				if m.ExtensionID != other.ext || m.AccountID != other.acc || m.ID == a.ID || m.ID == b.ID || m.ID == c.ID {
					t.Fatalf("mailbox %v syncs message %+v", other, m)
				}
			}
		}
	})

	// The whole lifecycle shows: restore, purge, remove.
	mark := e.position(t)
	must(e.store.UpdateMessage(e.ctx, box.acc, box.ext, b.ID, switchboard.MessageUpdate{Availability: ptr(switchboard.Alive)}))(t)
	step()
	if n := must(e.store.PurgeDeleted(e.ctx, box.acc, e.clock.Now(), 0))(t); n != 1 { // A
		t.Fatalf("PurgeDeleted = %d", n)
	}
	step()
	noErr(t, e.store.DeleteMessage(e.ctx, box.acc, box.ext, c.ID, true))
	step()
	if n := must(e.store.RemovePurged(e.ctx, box.acc, Base.Add(7*time.Minute+time.Millisecond), 0))(t); n != 1 { // A, purged at +7m
		t.Fatalf("RemovePurged = %d", n)
	}
	step()
	B, C = e.get(t, box, b.ID), e.get(t, box, c.ID)
	if B.Availability != switchboard.Alive || C.Availability != switchboard.Purged {
		t.Fatalf("B %s, C %s", B.Availability, C.Availability)
	}
	d := must(e.store.SyncChanges(e.ctx, box.acc, box.ext, mark, 0))(t)
	removedA := &switchboard.Message{ID: a.ID, AccountID: box.acc, ExtensionID: box.ext, Availability: switchboard.Purged}
	wantEqual(t, d.Messages, []*switchboard.Message{B, C, removedA}, "restore, purge and remove")
	last := e.changes(t, box)
	wantEqual(t, d.Seq, last[len(last)-1].Seq, "seq of the last change")
	if last[len(last)-1].Kind != switchboard.ChangeRemoved {
		t.Fatalf("last change is %s, want removed", last[len(last)-1].Kind)
	}

	t.Run("horizon", func(t *testing.T) {
		top := e.position(t)
		// Everything written up to Base+2m (c1, c2 and neighbours).
		pruned := must(e.store.PruneChanges(e.ctx, Base.Add(2*time.Minute)))(t)
		if pruned != 6 {
			t.Fatalf("PruneChanges = %d, want 6", pruned)
		}
		wantEqual(t, must(e.store.PruneChanges(e.ctx, Base.Add(2*time.Minute)))(t), 0, "second prune")
		wantEqual(t, must(e.store.PruneChanges(e.ctx, Base))(t), 0, "an older cutoff")
		wantEqual(t, e.position(t), top, "position after a prune")
		for _, after := range []int64{0, seq(1), seq(2) - 1} {
			_, err := e.store.SyncChanges(e.ctx, box.acc, box.ext, after, 0)
			wantIs(t, err, switchboard.ErrSyncTokenExpired, fmt.Sprint("sync after ", after))
		}
		// The newest pruned row was a neighbour's, after c2.
		horizon := seq(2) + 2
		_, err := e.store.SyncChanges(e.ctx, box.acc, box.ext, horizon-1, 0)
		wantIs(t, err, switchboard.ErrSyncTokenExpired, "sync just before the horizon")
		d := must(e.store.SyncChanges(e.ctx, box.acc, box.ext, horizon, 1))(t)
		wantEqual(t, len(d.Messages), 1, "messages after the horizon")
		wantEqual(t, d.Seq, seq(3), "seq after the horizon")
		// Pruning everything keeps the position valid.
		pruned = must(e.store.PruneChanges(e.ctx, e.clock.Advance(time.Hour)))(t)
		if pruned == 0 {
			t.Fatal("nothing pruned")
		}
		wantEqual(t, e.position(t), top, "position after pruning the whole log")
		d = must(e.store.SyncChanges(e.ctx, box.acc, box.ext, top, 0))(t)
		wantEqual(t, d, &switchboard.SyncDelta{Seq: top}, "sync at the position after pruning the whole log")
		_, err = e.store.SyncChanges(e.ctx, box.acc, box.ext, top-1, 0)
		wantIs(t, err, switchboard.ErrSyncTokenExpired, "sync before the pruned end")
		// New changes continue after it.
		e.create(t, sms(box, switchboard.Inbound, p1, []string{own1}, "new"))
		if p := e.position(t); p <= top {
			t.Fatalf("position %d after a new change, was %d", p, top)
		}
		d = must(e.store.SyncChanges(e.ctx, box.acc, box.ext, top, 0))(t)
		if len(d.Messages) != 1 || d.Messages[0].Subject != "new" || d.More {
			t.Fatalf("sync after the new change: %+v", d)
		}
	})
}

// testRetentionConcurrently runs the retention steps from several
// goroutines at once over the same due work: together they must do it
// exactly once, with one change per transition.
func testRetentionConcurrently(t *testing.T, e *env) {
	acc := must(e.store.CreateAccount(e.ctx, switchboard.AccountCreate{Name: "Busy"}))(t)
	var boxes []mailbox
	for i := range 3 {
		boxes = append(boxes, mb(e.newExtension(t, acc, fmt.Sprint(101+i), "")))
	}
	const perBox, capN = 60, 25
	wantPurged, wantRemoved, wantCapped := 0, 0, 0
	for bi, box := range boxes {
		var cs []switchboard.MessageCreate
		alive := 0
		for i := range perBox {
			c := msgAt(box, fmt.Sprintf("+1415555%04d", i), -time.Duration(perBox-i)*time.Minute, fmt.Sprint("busy ", i))
			switch (i + bi) % 4 {
			case 1:
				c.Availability = switchboard.Deleted
				wantPurged++
			case 2:
				c.Availability = switchboard.Purged
				wantRemoved++
			default:
				alive++
			}
			cs = append(cs, c)
		}
		must(e.store.CreateMessages(e.ctx, cs))(t)
		wantCapped += max(alive-capN, 0)
	}
	pos := e.position(t)
	cutoff := e.clock.Advance(time.Millisecond) // after the seeds' deletes, before anything the run does
	e.clock.Advance(time.Minute)

	const workers = 6
	var mu sync.Mutex
	var purged, removed, capped int
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for {
				c, err := e.store.EnforceMailboxCap(e.ctx, acc.ID, capN)
				if err != nil {
					errs <- err
					return
				}
				p, err := e.store.PurgeDeleted(e.ctx, acc.ID, cutoff, 3+w)
				if err != nil {
					errs <- err
					return
				}
				r, err := e.store.RemovePurged(e.ctx, acc.ID, cutoff, 2+w)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				purged, removed, capped = purged+p, removed+r, capped+c
				mu.Unlock()
				if c+p+r == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	wantEqual(t, [3]int{purged, removed, capped}, [3]int{wantPurged, wantRemoved, wantCapped}, "purged, removed, capped")
	for _, box := range boxes {
		perMessage := map[int64][]string{}
		for _, c := range e.changesSince(t, box, pos) {
			perMessage[c.MessageID] = append(perMessage[c.MessageID], c.Kind)
		}
		for id, kinds := range perMessage {
			if len(kinds) != 1 {
				t.Fatalf("message %d has changes %v, want one", id, kinds)
			}
		}
		alive := must(e.store.ListMessages(e.ctx, switchboard.MessageFilter{AccountID: box.acc, ExtensionID: box.ext,
			Availability: []switchboard.Availability{switchboard.Alive}}))(t)
		if len(alive.Messages) != capN {
			t.Fatalf("mailbox %d keeps %d Alive messages, want %d", box.ext, len(alive.Messages), capN)
		}
	}
	// Nothing is left to do.
	for _, n := range []int{
		must(e.store.EnforceMailboxCap(e.ctx, acc.ID, capN))(t),
		must(e.store.PurgeDeleted(e.ctx, acc.ID, cutoff, 0))(t),
		must(e.store.RemovePurged(e.ctx, acc.ID, cutoff, 0))(t),
	} {
		if n != 0 {
			t.Fatalf("a step found work after the concurrent run: %d", n)
		}
	}
}

// testExpireMessages: the retention period deletes the mailbox's Alive
// messages of the given types created before the cutoff, oldest first, in
// batches, with change rows; other types, newer messages and other
// mailboxes stay.
func testExpireMessages(t *testing.T, e *env) {
	box, other := mb(e.ext1), mb(e.ext2)
	mk := func(b mailbox, typ switchboard.MessageType, age time.Duration) *switchboard.Message {
		c := sms(b, switchboard.Inbound, "+15550001111", []string{"+15550002222"}, "x")
		c.Type, c.Created = typ, Base.Add(-age)
		if typ != switchboard.TypeSMS {
			c.Subject, c.Attachments = "", nil
		}
		return e.create(t, c)
	}
	day := 24 * time.Hour
	oldFax1, oldFax2, oldVM := mk(box, switchboard.TypeFax, 40*day), mk(box, switchboard.TypeFax, 35*day), mk(box, switchboard.TypeVoiceMail, 31*day)
	oldSMS, newFax := mk(box, switchboard.TypeSMS, 60*day), mk(box, switchboard.TypeFax, 10*day)
	neighbour := mk(other, switchboard.TypeFax, 40*day)
	cutoff := Base.Add(-30 * day)
	pos := e.position(t)

	wantEqual(t, must(e.store.ExpireMessages(e.ctx, box.acc, box.ext, switchboard.RetainedTypes, cutoff, 2))(t), 2, "first batch")
	wantEqual(t, e.availability(t, box, oldFax1.ID), switchboard.Deleted, "oldest fax")
	wantEqual(t, e.availability(t, box, oldFax2.ID), switchboard.Deleted, "second oldest fax")
	wantEqual(t, e.availability(t, box, oldVM.ID), switchboard.Alive, "voicemail after the first batch")
	wantEqual(t, must(e.store.ExpireMessages(e.ctx, box.acc, box.ext, switchboard.RetainedTypes, cutoff, 2))(t), 1, "second batch")
	wantEqual(t, must(e.store.ExpireMessages(e.ctx, box.acc, box.ext, switchboard.RetainedTypes, cutoff, 2))(t), 0, "nothing left")
	wantEqual(t, e.availability(t, box, oldVM.ID), switchboard.Deleted, "old voicemail")
	wantEqual(t, e.availability(t, box, oldSMS.ID), switchboard.Alive, "SMS are kept without a time limit")
	wantEqual(t, e.availability(t, box, newFax.ID), switchboard.Alive, "a fax newer than the period")
	wantEqual(t, e.availability(t, other, neighbour.ID), switchboard.Alive, "another mailbox")
	wantEqual(t, len(e.changesSince(t, box, pos)), 3, "one change per expired message")
	// Another account's id matches nothing.
	wantEqual(t, must(e.store.ExpireMessages(e.ctx, e.acc2.ID, box.ext, switchboard.RetainedTypes, Base, 0))(t), 0, "wrong account")
	wantEqual(t, e.availability(t, box, newFax.ID), switchboard.Alive, "after the wrong account's call")
}
