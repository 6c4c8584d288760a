package storetest

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
)

// mailbox names one extension's message store.
type mailbox struct{ acc, ext int64 }

func mb(x *switchboard.Extension) mailbox { return mailbox{x.AccountID, x.ID} }

// sms builds an SMS with a text attachment that carries the text, as the
// HTTP layer stores one.
func sms(box mailbox, dir switchboard.Direction, from string, to []string, text string) switchboard.MessageCreate {
	c := switchboard.MessageCreate{AccountID: box.acc, ExtensionID: box.ext, Type: switchboard.TypeSMS, Direction: dir,
		Subject: text, From: switchboard.Party{PhoneNumber: from}}
	for _, n := range to {
		c.To = append(c.To, switchboard.Party{PhoneNumber: n})
	}
	c.Attachments = []*switchboard.Attachment{{Type: switchboard.AttachmentText, ContentType: "text/plain", Content: []byte(text)}}
	return c
}

func (e *env) create(t *testing.T, c switchboard.MessageCreate) *switchboard.Message {
	t.Helper()
	return must(e.store.CreateMessage(e.ctx, c))(t)
}

func (e *env) get(t *testing.T, box mailbox, id int64) *switchboard.Message {
	t.Helper()
	return must(e.store.Message(e.ctx, box.acc, box.ext, id))(t)
}

func (e *env) changes(t *testing.T, box mailbox) []*switchboard.Change {
	t.Helper()
	return must(e.store.Changes(e.ctx, box.acc, box.ext, 0, 0))(t)
}

func (e *env) content(t *testing.T, box mailbox, m *switchboard.Message, i int) ([]byte, error) {
	t.Helper()
	if len(m.Attachments) <= i {
		t.Fatalf("message %d has %d attachments, want more than %d", m.ID, len(m.Attachments), i)
	}
	a, err := e.store.Attachment(e.ctx, box.acc, box.ext, m.ID, m.Attachments[i].ID)
	if err != nil {
		return nil, err
	}
	return a.Content, nil
}

func testMessageRoundTrip(t *testing.T, e *env) {
	box := mb(e.ext1)
	details := switchboard.TypeDetails{DeliveryErrorCode: "SMS-CAR-411", SegmentCount: 3, SMSDeliveryTime: Base.Add(-time.Hour),
		SMSSendingAttempts: 2, FaxPageCount: 4, FaxResolution: "High", CoverIndex: 1, CoverPageText: "Hi",
		VMTranscriptionStatus: "NotAvailable", PgToDepartment: true}
	c := switchboard.MessageCreate{
		AccountID: box.acc, ExtensionID: box.ext, Type: switchboard.TypeFax, Direction: switchboard.Outbound,
		MessageStatus: switchboard.StatusQueued, ReadStatus: switchboard.Unread, Priority: "High",
		Subject: "Quarterly report ✓", From: switchboard.Party{PhoneNumber: own1, ExtensionNumber: "101", Name: "Ext 101"},
		To: []switchboard.Party{
			{PhoneNumber: "+1 (415) 555-0001", Name: "Peer", Location: "San Francisco, CA", MessageStatus: switchboard.StatusQueued},
			{PhoneNumber: p2, Target: true, FaxErrorCode: "LineBusy"},
		},
		Created:     Base.Add(-90 * time.Minute).Add(1234567 * time.Nanosecond), // sub-millisecond part is dropped
		TypeDetails: details,
		Attachments: []*switchboard.Attachment{
			{Type: switchboard.AttachmentRenderedDocument, ContentType: "application/pdf", FileName: "report.pdf", Content: []byte("%PDF-1.7 pages")},
			{Type: switchboard.AttachmentMms, ContentType: "image/png", FileName: "cover.png", Height: 600, Width: 800, Content: []byte{0x89, 'P', 'N', 'G', 0}},
			{Type: switchboard.AttachmentText, ContentType: "text/plain"}, // empty content
		},
	}
	created := e.create(t, c)
	want := &switchboard.Message{
		ID: created.ID, AccountID: box.acc, ExtensionID: box.ext, Type: switchboard.TypeFax, Direction: switchboard.Outbound,
		Availability: switchboard.Alive, MessageStatus: switchboard.StatusQueued, ReadStatus: switchboard.Unread,
		Priority: "High", Subject: "Quarterly report ✓", From: c.From,
		To: []switchboard.Party{
			{PhoneNumber: p1, Name: "Peer", Location: "San Francisco, CA", MessageStatus: switchboard.StatusQueued},
			{PhoneNumber: p2, Target: true, FaxErrorCode: "LineBusy"},
		},
		Created: Base.Add(-90 * time.Minute).Add(time.Millisecond), LastModified: Base,
		TypeDetails: details,
	}
	if created.ID == 0 || len(created.Attachments) != 3 {
		t.Fatalf("created message: id %d, %d attachments", created.ID, len(created.Attachments))
	}
	for i, a := range created.Attachments {
		in := c.Attachments[i]
		want.Attachments = append(want.Attachments, &switchboard.Attachment{ID: a.ID, MessageID: created.ID,
			Type: in.Type, ContentType: in.ContentType, FileName: in.FileName, Size: int64(len(in.Content)),
			Height: in.Height, Width: in.Width})
	}
	wantEqual(t, created, want, "CreateMessage result")
	wantEqual(t, e.get(t, box, created.ID), want, "Message")
	page := must(e.store.ListMessages(e.ctx, switchboard.MessageFilter{AccountID: box.acc, ExtensionID: box.ext, Limit: 10}))(t)
	if len(page.Messages) != 1 || page.More {
		t.Fatalf("list: %d messages, more %v", len(page.Messages), page.More)
	}
	wantEqual(t, page.Messages[0], want, "ListMessages item")

	for i, in := range c.Attachments {
		a := must(e.store.Attachment(e.ctx, box.acc, box.ext, created.ID, created.Attachments[i].ID))(t)
		wantContent := in.Content
		if wantContent == nil {
			wantContent = []byte{}
		}
		w := *want.Attachments[i]
		w.Content = wantContent
		wantEqual(t, a, &w, fmt.Sprintf("attachment %d", i))
	}

	// Defaults come from Validate: an inbound SMS is Received, Unread, Alive,
	// Normal, in the conversation of its parties, created now.
	e.clock.Advance(time.Minute)
	in := e.create(t, sms(box, switchboard.Inbound, p1, []string{own1}, "hello"))
	if in.MessageStatus != switchboard.StatusReceived || in.ReadStatus != switchboard.Unread ||
		in.Availability != switchboard.Alive || in.Priority != "Normal" ||
		in.ConversationID != switchboard.ConversationIDFor([]string{own1, p1}) {
		t.Fatalf("defaults of an inbound SMS: %+v", in)
	}
	wantTime(t, in.Created, Base.Add(time.Minute), "default creation time")
	wantTime(t, in.LastModified, Base.Add(time.Minute), "lastModified of a new message")
	if in.To[0].PhoneNumber != own1 || in.Attachments[0].Size != 5 {
		t.Fatalf("inbound SMS: %+v", in)
	}

	// An SMS's text attachment, as stored (the store may keep it with the
	// message's row), reads back like any other, under an id of its own.
	text := must(e.store.Attachment(e.ctx, box.acc, box.ext, in.ID, in.Attachments[0].ID))(t)
	wantEqual(t, text, &switchboard.Attachment{ID: in.Attachments[0].ID, MessageID: in.ID, Type: switchboard.AttachmentText,
		ContentType: "text/plain", Size: 5, Content: []byte("hello")}, "text attachment of an SMS")
	wantEqual(t, e.get(t, box, in.ID), in, "Message of an SMS")
	seen := map[int64]bool{in.ID: true, created.ID: true}
	for _, a := range append(created.Attachments, in.Attachments...) {
		if seen[a.ID] {
			t.Fatalf("attachment id %d is taken twice", a.ID)
		}
		seen[a.ID] = true
	}
	mms := sms(box, switchboard.Inbound, p1, []string{own1}, "")
	mms.Attachments = []*switchboard.Attachment{{Type: switchboard.AttachmentMms, ContentType: "image/png", Content: []byte("png")}}
	if a := e.create(t, mms).Attachments[0]; seen[a.ID] {
		t.Fatalf("attachment id %d is taken twice", a.ID)
	}
}

func testCreateMessagesValidation(t *testing.T, e *env) {
	box := mb(e.ext1)
	good := sms(box, switchboard.Inbound, p1, []string{own1}, "ok")
	for _, tc := range []struct {
		name string
		c    switchboard.MessageCreate
		is   error
		code string
	}{
		{"bad type", switchboard.MessageCreate{AccountID: box.acc, ExtensionID: box.ext, Type: "Email", Direction: switchboard.Inbound}, nil, switchboard.CodeInvalidParameter},
		{"bad number", sms(box, switchboard.Inbound, "12345", []string{own1}, "x"), nil, switchboard.CodeInvalidParameter},
		{"missing mailbox", sms(mailbox{box.acc, 1 << 40}, switchboard.Inbound, p1, []string{own1}, "x"), switchboard.ErrNotFound, ""},
		{"extension of another account", sms(mailbox{e.acc2.ID, e.ext1.ID}, switchboard.Inbound, p1, []string{own1}, "x"), switchboard.ErrNotFound, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.store.CreateMessage(e.ctx, tc.c)
			if tc.code != "" {
				wantCode(t, err, tc.code, "CreateMessage")
			} else {
				wantIs(t, err, tc.is, "CreateMessage")
			}
			// A bad message fails its whole batch.
			_, err = e.store.CreateMessages(e.ctx, []switchboard.MessageCreate{good, tc.c})
			if err == nil {
				t.Fatal("CreateMessages accepted a batch with a bad message")
			}
		})
	}
	if page := must(e.store.ListMessages(e.ctx, switchboard.MessageFilter{AccountID: box.acc, ExtensionID: box.ext}))(t); len(page.Messages) != 0 {
		t.Fatalf("failed creates stored %d messages", len(page.Messages))
	}
	if cs := e.changes(t, box); len(cs) != 0 {
		t.Fatalf("failed creates wrote %d changes", len(cs))
	}
	ms := must(e.store.CreateMessages(e.ctx, []switchboard.MessageCreate{good, good}))(t)
	if len(ms) != 2 || ms[0].ID == ms[1].ID || ms[0].ID == 0 {
		t.Fatalf("CreateMessages returned %+v", ms)
	}
	if n := len(must(e.store.CreateMessages(e.ctx, nil))(t)); n != 0 {
		t.Fatalf("CreateMessages(nil) = %d messages", n)
	}
}

// listSeed is the mailbox the list tests read: ten messages whose
// attributes are spread so that every filter selects a different subset.
// Messages 5 and 6 are created at the same instant, so ties by id show.
var listSeed = []struct {
	typ   switchboard.MessageType
	dir   switchboard.Direction
	read  switchboard.ReadStatus
	avail switchboard.Availability
	from  string
	to    []string
	at    time.Duration // before Base
}{
	0: {switchboard.TypeSMS, switchboard.Inbound, switchboard.Unread, switchboard.Alive, p1, []string{own1}, 10 * time.Hour},
	1: {switchboard.TypeSMS, switchboard.Outbound, switchboard.Read, switchboard.Alive, own1, []string{p1}, 9 * time.Hour},
	2: {switchboard.TypeSMS, switchboard.Inbound, switchboard.Read, switchboard.Alive, p2, []string{own1}, 8 * time.Hour},
	3: {switchboard.TypeFax, switchboard.Outbound, switchboard.Read, switchboard.Alive, own1, []string{p3}, 7 * time.Hour},
	4: {switchboard.TypeVoiceMail, switchboard.Inbound, switchboard.Unread, switchboard.Alive, p3, []string{own1}, 6 * time.Hour},
	5: {switchboard.TypeSMS, switchboard.Inbound, switchboard.Unread, switchboard.Deleted, p1, []string{own1}, 5 * time.Hour},
	6: {switchboard.TypePager, switchboard.Inbound, switchboard.Unread, switchboard.Alive, "", nil, 5 * time.Hour},
	7: {switchboard.TypeSMS, switchboard.Outbound, switchboard.Read, switchboard.Alive, own1, []string{p1, p2}, 4 * time.Hour},
	8: {switchboard.TypeFax, switchboard.Inbound, switchboard.Unread, switchboard.Deleted, p2, []string{own1}, 3 * time.Hour},
	9: {switchboard.TypeSMS, switchboard.Inbound, switchboard.Unread, switchboard.Alive, p2, []string{own1}, 2 * time.Hour},
}

func seedCreate(box mailbox, i int) switchboard.MessageCreate {
	s := listSeed[i]
	c := switchboard.MessageCreate{AccountID: box.acc, ExtensionID: box.ext, Type: s.typ, Direction: s.dir,
		ReadStatus: s.read, Availability: s.avail, Subject: fmt.Sprint("seed ", i), Created: Base.Add(-s.at),
		From: switchboard.Party{PhoneNumber: s.from}}
	if s.typ == switchboard.TypePager {
		c.From = switchboard.Party{ExtensionNumber: "102"}
		c.To = []switchboard.Party{{ExtensionNumber: "101"}}
	}
	for _, n := range s.to {
		c.To = append(c.To, switchboard.Party{PhoneNumber: n})
	}
	c.Attachments = []*switchboard.Attachment{{Type: switchboard.AttachmentText, ContentType: "text/plain", Content: []byte(c.Subject)}}
	if s.typ == switchboard.TypeFax {
		c.Attachments = append(c.Attachments, &switchboard.Attachment{Type: switchboard.AttachmentRenderedDocument,
			ContentType: "application/pdf", Content: []byte(fmt.Sprint("%PDF seed ", i))})
	}
	return c
}

func testListMessages(t *testing.T, e *env) {
	box := mb(e.ext1)
	// Neighbours with the same numbers and times, which must never show.
	for _, other := range []mailbox{mb(e.ext2), mb(e.ext3)} {
		for _, i := range []int{0, 5, 9} {
			e.create(t, seedCreate(other, i))
		}
	}
	// Half one by one and half in one batch, so both paths are listed.
	var seeded []*switchboard.Message
	for i := range 5 {
		seeded = append(seeded, e.create(t, seedCreate(box, i)))
	}
	var batch []switchboard.MessageCreate
	for i := 5; i < len(listSeed); i++ {
		batch = append(batch, seedCreate(box, i))
	}
	seeded = append(seeded, must(e.store.CreateMessages(e.ctx, batch))(t)...)

	convP1 := seeded[0].ConversationID
	if convP1 == 0 || seeded[1].ConversationID != convP1 || seeded[5].ConversationID != convP1 ||
		seeded[2].ConversationID == convP1 || seeded[3].ConversationID != 0 || seeded[6].ConversationID != 0 {
		t.Fatalf("conversation ids of the seed are not as designed: %d %d %d %d %d %d", seeded[0].ConversationID,
			seeded[1].ConversationID, seeded[5].ConversationID, seeded[2].ConversationID, seeded[3].ConversationID, seeded[6].ConversationID)
	}
	at := func(d time.Duration) time.Time { return Base.Add(-d) }
	type f = switchboard.MessageFilter
	all := []int{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}
	for _, tc := range []struct {
		name string
		f    f
		want []int // seed indexes, in the expected order
		more bool
	}{
		{"no filter", f{}, all, false},
		{"availability Alive", f{Availability: []switchboard.Availability{switchboard.Alive}}, []int{9, 7, 6, 4, 3, 2, 1, 0}, false},
		{"availability Deleted", f{Availability: []switchboard.Availability{switchboard.Deleted}}, []int{8, 5}, false},
		{"availability Alive or Deleted", f{Availability: []switchboard.Availability{switchboard.Alive, switchboard.Deleted}}, all, false},
		{"availability Purged", f{Availability: []switchboard.Availability{switchboard.Purged}}, []int{}, false},
		{"direction Inbound", f{Direction: []switchboard.Direction{switchboard.Inbound}}, []int{9, 8, 6, 5, 4, 2, 0}, false},
		{"direction Outbound", f{Direction: []switchboard.Direction{switchboard.Outbound}}, []int{7, 3, 1}, false},
		{"type SMS", f{Types: []switchboard.MessageType{switchboard.TypeSMS}}, []int{9, 7, 5, 2, 1, 0}, false},
		{"types Fax or VoiceMail", f{Types: []switchboard.MessageType{switchboard.TypeFax, switchboard.TypeVoiceMail}}, []int{8, 4, 3}, false},
		{"type Text", f{Types: []switchboard.MessageType{switchboard.TypeText}}, []int{}, false},
		{"readStatus Unread", f{ReadStatus: []switchboard.ReadStatus{switchboard.Unread}}, []int{9, 8, 6, 5, 4, 0}, false},
		{"readStatus Read", f{ReadStatus: []switchboard.ReadStatus{switchboard.Read}}, []int{7, 3, 2, 1}, false},
		{"conversation", f{ConversationID: convP1}, []int{5, 1, 0}, false},
		{"conversation unknown", f{ConversationID: 12345}, []int{}, false},
		{"phoneNumber p1", f{PhoneNumber: p1}, []int{7, 5, 1, 0}, false},
		{"phoneNumber p2 as typed", f{PhoneNumber: "+1 (415) 555-0002"}, []int{9, 8, 7, 2}, false},
		{"phoneNumber own", f{PhoneNumber: own1}, []int{9, 8, 7, 5, 4, 3, 2, 1, 0}, false},
		{"phoneNumber of a neighbour", f{PhoneNumber: own3}, []int{}, false},
		{"dateFrom is inclusive", f{DateFrom: at(5 * time.Hour)}, []int{9, 8, 7, 6, 5}, false},
		{"dateTo is exclusive", f{DateTo: at(5 * time.Hour)}, []int{4, 3, 2, 1, 0}, false},
		{"date range", f{DateFrom: at(8 * time.Hour), DateTo: at(4 * time.Hour)}, []int{6, 5, 4, 3, 2}, false},
		{"date range one millisecond wide", f{DateFrom: at(8 * time.Hour), DateTo: at(8 * time.Hour).Add(time.Millisecond)}, []int{2}, false},
		{"empty date range", f{DateFrom: at(8 * time.Hour), DateTo: at(8 * time.Hour)}, []int{}, false},
		{"Inbound SMS Unread Alive", f{Availability: []switchboard.Availability{switchboard.Alive}, Direction: []switchboard.Direction{switchboard.Inbound},
			Types: []switchboard.MessageType{switchboard.TypeSMS}, ReadStatus: []switchboard.ReadStatus{switchboard.Unread}}, []int{9, 0}, false},
		{"p2 Alive since -8h", f{PhoneNumber: p2, Availability: []switchboard.Availability{switchboard.Alive}, DateFrom: at(8 * time.Hour)}, []int{9, 7, 2}, false},
		{"conversation and Read", f{ConversationID: convP1, ReadStatus: []switchboard.ReadStatus{switchboard.Read}}, []int{1}, false},
		// Distinct: the newest matching message of each conversation; a
		// message without a conversation is its own.
		{"distinct", f{DistinctConversations: true}, []int{9, 8, 7, 6, 5, 4, 3}, false},
		{"distinct Alive picks the newest Alive message", f{DistinctConversations: true, Availability: []switchboard.Availability{switchboard.Alive}},
			[]int{9, 7, 6, 4, 3, 1}, false},
		{"distinct SMS before -4h", f{DistinctConversations: true, Types: []switchboard.MessageType{switchboard.TypeSMS}, DateTo: at(4 * time.Hour)},
			[]int{5, 2}, false},
		{"distinct paged", f{DistinctConversations: true, Offset: 2, Limit: 3}, []int{7, 6, 5}, true},
		{"distinct last page", f{DistinctConversations: true, Offset: 4, Limit: 3}, []int{5, 4, 3}, false},
		// Paging: More is exact at the boundaries.
		{"first page", f{Limit: 3}, []int{9, 8, 7}, true},
		{"middle page", f{Offset: 3, Limit: 3}, []int{6, 5, 4}, true},
		{"page ending one before the last", f{Offset: 6, Limit: 3}, []int{3, 2, 1}, true},
		{"page ending on the last", f{Offset: 7, Limit: 3}, []int{2, 1, 0}, false},
		{"short last page", f{Offset: 9, Limit: 3}, []int{0}, false},
		{"page past the end", f{Offset: 10, Limit: 3}, []int{}, false},
		{"limit equal to the count", f{Limit: 10}, all, false},
		{"limit one less than the count", f{Limit: 9}, all[:9], true},
		{"offset without limit", f{Offset: 8}, []int{1, 0}, false},
		{"filtered page", f{Direction: []switchboard.Direction{switchboard.Inbound}, Offset: 1, Limit: 2}, []int{8, 6}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.f.AccountID, tc.f.ExtensionID = box.acc, box.ext
			page := must(e.store.ListMessages(e.ctx, tc.f))(t)
			got := []int{}
			for _, m := range page.Messages {
				i := slices.IndexFunc(seeded, func(s *switchboard.Message) bool { return s.ID == m.ID })
				if i < 0 {
					t.Fatalf("listed message %d (mailbox %d/%d) is not in the mailbox", m.ID, m.AccountID, m.ExtensionID)
				}
				got = append(got, i)
				wantEqual(t, m, seeded[i], fmt.Sprintf("listed seed %d", i))
			}
			wantEqual(t, got, tc.want, "seed indexes")
			if page.More != tc.more {
				t.Fatalf("More = %v, want %v", page.More, tc.more)
			}
		})
	}

	t.Run("other mailboxes", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			box  mailbox
			want int
		}{
			{"ext1 through acc2", mailbox{e.acc2.ID, e.ext1.ID}, 0},
			{"ext2", mb(e.ext2), 3},
			{"ext3", mb(e.ext3), 3},
		} {
			t.Run(tc.name, func(t *testing.T) {
				page := must(e.store.ListMessages(e.ctx, switchboard.MessageFilter{AccountID: tc.box.acc, ExtensionID: tc.box.ext}))(t)
				if len(page.Messages) != tc.want {
					t.Fatalf("%d messages, want %d", len(page.Messages), tc.want)
				}
				for _, m := range page.Messages {
					if m.AccountID != tc.box.acc || m.ExtensionID != tc.box.ext || slices.ContainsFunc(seeded, func(s *switchboard.Message) bool { return s.ID == m.ID }) {
						t.Fatalf("listed a message of another mailbox: %+v", m)
					}
				}
			})
		}
	})
}

// testListMessagesTies: messages of one batch share their creation time;
// the newest id comes first.
func testListMessagesTies(t *testing.T, e *env) {
	box := mb(e.ext1)
	var cs []switchboard.MessageCreate
	for i := range 4 {
		cs = append(cs, sms(box, switchboard.Inbound, p1, []string{own1}, fmt.Sprint("tie ", i)))
	}
	ms := must(e.store.CreateMessages(e.ctx, cs))(t)
	page := must(e.store.ListMessages(e.ctx, switchboard.MessageFilter{AccountID: box.acc, ExtensionID: box.ext, Limit: 2}))(t)
	if len(page.Messages) != 2 || page.Messages[0].ID != ms[3].ID || page.Messages[1].ID != ms[2].ID || !page.More {
		t.Fatalf("first page of ties: %v more %v", ids(page.Messages), page.More)
	}
	page = must(e.store.ListMessages(e.ctx, switchboard.MessageFilter{AccountID: box.acc, ExtensionID: box.ext, Offset: 2, Limit: 2}))(t)
	if len(page.Messages) != 2 || page.Messages[0].ID != ms[1].ID || page.Messages[1].ID != ms[0].ID || page.More {
		t.Fatalf("second page of ties: %v more %v", ids(page.Messages), page.More)
	}
	page = must(e.store.ListMessages(e.ctx, switchboard.MessageFilter{AccountID: box.acc, ExtensionID: box.ext, DistinctConversations: true}))(t)
	if len(page.Messages) != 1 || page.Messages[0].ID != ms[3].ID {
		t.Fatalf("distinct of tied messages: %v, want [%d]", ids(page.Messages), ms[3].ID)
	}
}

func ids(ms []*switchboard.Message) []int64 {
	out := []int64{}
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

func testMailboxIsolation(t *testing.T, e *env) {
	box := mb(e.ext1)
	m := e.create(t, sms(box, switchboard.Inbound, p1, []string{own1}, "private"))
	// ext2 holds its own copy of the same conversation.
	e.create(t, sms(mb(e.ext2), switchboard.Inbound, p1, []string{own1}, "neighbour"))
	// DeleteMessages without dateTo takes what was created before now.
	e.clock.Advance(time.Second)
	for _, tc := range []struct {
		name string
		box  mailbox
	}{
		{"same account, other extension", mb(e.ext2)},
		{"other account, same extension id", mailbox{e.acc2.ID, e.ext1.ID}},
		{"other account and extension", mb(e.ext3)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.store.Message(e.ctx, tc.box.acc, tc.box.ext, m.ID)
			wantIs(t, err, switchboard.ErrNotFound, "Message")
			_, err = e.store.UpdateMessage(e.ctx, tc.box.acc, tc.box.ext, m.ID, switchboard.MessageUpdate{ReadStatus: ptr(switchboard.Read)})
			wantIs(t, err, switchboard.ErrNotFound, "UpdateMessage")
			wantIs(t, e.store.DeleteMessage(e.ctx, tc.box.acc, tc.box.ext, m.ID, true), switchboard.ErrNotFound, "DeleteMessage")
			_, err = e.store.Attachment(e.ctx, tc.box.acc, tc.box.ext, m.ID, m.Attachments[0].ID)
			wantIs(t, err, switchboard.ErrNotFound, "Attachment")
			n := must(e.store.DeleteMessages(e.ctx, switchboard.MessageDeleteFilter{AccountID: tc.box.acc, ExtensionID: tc.box.ext,
				ConversationIDs: []int64{m.ConversationID}}))(t)
			wantN := 0
			if tc.box == mb(e.ext2) {
				wantN = 1 // its own copy of the conversation, not ours
			}
			if n != wantN {
				t.Fatalf("DeleteMessages = %d, want %d", n, wantN)
			}
			page := must(e.store.ListMessages(e.ctx, switchboard.MessageFilter{AccountID: tc.box.acc, ExtensionID: tc.box.ext}))(t)
			if slices.Contains(ids(page.Messages), m.ID) {
				t.Fatal("ListMessages shows a message of another mailbox")
			}
			if cs := must(e.store.Changes(e.ctx, tc.box.acc, tc.box.ext, 0, 0))(t); slices.ContainsFunc(cs, func(c *switchboard.Change) bool { return c.MessageID == m.ID }) {
				t.Fatal("Changes shows a change of another mailbox")
			}
		})
	}
	t.Run("attachment of another message", func(t *testing.T) {
		mine := e.create(t, sms(box, switchboard.Inbound, p2, []string{own1}, "second"))
		_, err := e.store.Attachment(e.ctx, box.acc, box.ext, mine.ID, m.Attachments[0].ID)
		wantIs(t, err, switchboard.ErrNotFound, "attachment through the wrong message")
		_, err = e.store.Attachment(e.ctx, box.acc, box.ext, m.ID, 1<<40)
		wantIs(t, err, switchboard.ErrNotFound, "missing attachment")
	})
	// Nothing the neighbours tried reached the message.
	got := e.get(t, box, m.ID)
	wantEqual(t, got, m, "message after foreign attempts")
	if cs := e.changes(t, box); len(cs) != 2 || cs[0].MessageID != m.ID || cs[0].Kind != switchboard.ChangeCreated {
		t.Fatalf("changes of the mailbox after foreign attempts: %d", len(cs))
	}
}

// testDeleteLifecycle walks DeleteMessage through every starting state.
func testDeleteLifecycle(t *testing.T, e *env) {
	box := mb(e.ext1)
	for _, tc := range []struct {
		start switchboard.Availability
		purge bool
		want  switchboard.Availability
	}{
		{switchboard.Alive, false, switchboard.Deleted},
		{switchboard.Alive, true, switchboard.Purged},
		{switchboard.Deleted, false, switchboard.Purged},
		{switchboard.Deleted, true, switchboard.Purged},
		{switchboard.Purged, false, switchboard.Purged},
		{switchboard.Purged, true, switchboard.Purged},
	} {
		t.Run(fmt.Sprintf("%s purge=%v", tc.start, tc.purge), func(t *testing.T) {
			c := sms(box, switchboard.Inbound, p1, []string{own1}, "lifecycle")
			c.Availability = tc.start
			m := e.create(t, c)
			before := len(e.changes(t, box))
			then := e.clock.Advance(time.Minute)
			noErr(t, e.store.DeleteMessage(e.ctx, box.acc, box.ext, m.ID, tc.purge))
			got := e.get(t, box, m.ID)
			if got.Availability != tc.want {
				t.Fatalf("availability = %s, want %s", got.Availability, tc.want)
			}
			changed := tc.start != tc.want
			wantChanges := before
			wantModified := m.LastModified
			if changed {
				wantChanges++
				wantModified = then
			}
			if n := len(e.changes(t, box)); n != wantChanges {
				t.Fatalf("%d changes, want %d", n, wantChanges)
			}
			wantTime(t, got.LastModified, wantModified, "lastModified")
			content, err := e.content(t, box, got, 0)
			if tc.want == switchboard.Purged {
				wantIs(t, err, switchboard.ErrNotFound, "attachment of a Purged message")
			} else if err != nil || string(content) != "lifecycle" {
				t.Fatalf("attachment of a %s message: %q, %v", tc.want, content, err)
			}
		})
	}
	t.Run("delete, delete again", func(t *testing.T) {
		m := e.create(t, sms(box, switchboard.Inbound, p1, []string{own1}, "twice"))
		noErr(t, e.store.DeleteMessage(e.ctx, box.acc, box.ext, m.ID, false))
		if got := e.get(t, box, m.ID).Availability; got != switchboard.Deleted {
			t.Fatalf("after one delete: %s", got)
		}
		noErr(t, e.store.DeleteMessage(e.ctx, box.acc, box.ext, m.ID, false))
		if got := e.get(t, box, m.ID).Availability; got != switchboard.Purged {
			t.Fatalf("after two deletes: %s", got)
		}
		noErr(t, e.store.DeleteMessage(e.ctx, box.acc, box.ext, m.ID, false))
	})
	t.Run("missing message", func(t *testing.T) {
		wantIs(t, e.store.DeleteMessage(e.ctx, box.acc, box.ext, 1<<40, false), switchboard.ErrNotFound, "DeleteMessage")
	})
}

// testUpdateLifecycle walks UpdateMessage's availability moves.
func testUpdateLifecycle(t *testing.T, e *env) {
	box := mb(e.ext1)
	for _, tc := range []struct {
		start, to switchboard.Availability
		code      string // a refused move
	}{
		{switchboard.Alive, switchboard.Alive, ""},
		{switchboard.Alive, switchboard.Deleted, ""},
		{switchboard.Alive, switchboard.Purged, ""},
		{switchboard.Deleted, switchboard.Alive, ""},
		{switchboard.Deleted, switchboard.Purged, ""},
		{switchboard.Purged, switchboard.Purged, ""},
		{switchboard.Purged, switchboard.Alive, switchboard.CodeNotRestorable},
		{switchboard.Purged, switchboard.Deleted, switchboard.CodeNotRestorable},
	} {
		t.Run(fmt.Sprintf("%s to %s", tc.start, tc.to), func(t *testing.T) {
			c := sms(box, switchboard.Inbound, p1, []string{own1}, "update")
			c.Availability = tc.start
			m := e.create(t, c)
			before := len(e.changes(t, box))
			then := e.clock.Advance(time.Minute)
			got, err := e.store.UpdateMessage(e.ctx, box.acc, box.ext, m.ID, switchboard.MessageUpdate{Availability: ptr(tc.to)})
			want := tc.to
			if tc.code != "" {
				wantCode(t, err, tc.code, "UpdateMessage")
				want = tc.start
				got = e.get(t, box, m.ID)
			} else {
				noErr(t, err)
				wantEqual(t, got, e.get(t, box, m.ID), "returned message")
			}
			if got.Availability != want {
				t.Fatalf("availability = %s, want %s", got.Availability, want)
			}
			changed := tc.code == "" && tc.start != tc.to
			wantChanges, wantModified := before, m.LastModified
			if changed {
				wantChanges, wantModified = before+1, then
			}
			if n := len(e.changes(t, box)); n != wantChanges {
				t.Fatalf("%d changes, want %d", n, wantChanges)
			}
			wantTime(t, got.LastModified, wantModified, "lastModified")
			_, err = e.content(t, box, got, 0)
			if want == switchboard.Purged {
				wantIs(t, err, switchboard.ErrNotFound, "attachment of a Purged message")
			} else {
				noErr(t, err)
			}
		})
	}
	t.Run("readStatus", func(t *testing.T) {
		m := e.create(t, sms(box, switchboard.Inbound, p1, []string{own1}, "read me"))
		got := must(e.store.UpdateMessage(e.ctx, box.acc, box.ext, m.ID, switchboard.MessageUpdate{ReadStatus: ptr(switchboard.Read)}))(t)
		if got.ReadStatus != switchboard.Read || got.Availability != switchboard.Alive {
			t.Fatalf("after marking read: %s %s", got.ReadStatus, got.Availability)
		}
		got = must(e.store.UpdateMessage(e.ctx, box.acc, box.ext, m.ID, switchboard.MessageUpdate{
			ReadStatus: ptr(switchboard.Unread), Availability: ptr(switchboard.Deleted)}))(t)
		if got.ReadStatus != switchboard.Unread || got.Availability != switchboard.Deleted {
			t.Fatalf("after a combined update: %s %s", got.ReadStatus, got.Availability)
		}
		_, err := e.store.UpdateMessage(e.ctx, box.acc, box.ext, m.ID, switchboard.MessageUpdate{ReadStatus: ptr(switchboard.ReadStatus("Seen"))})
		wantCode(t, err, switchboard.CodeInvalidParameter, "unknown read status")
		_, err = e.store.UpdateMessage(e.ctx, box.acc, box.ext, 1<<40, switchboard.MessageUpdate{ReadStatus: ptr(switchboard.Read)})
		wantIs(t, err, switchboard.ErrNotFound, "missing message")
	})
}

// PurgeMarker is unlikely to occur anywhere in a database by chance; the
// SQLite test looks for it in the raw file after a purge.
const PurgeMarker = "SWITCHBOARD-PURGE-MARKER-7f3c9a"

func testPurgeErasesContent(t *testing.T, e *env) {
	box := mb(e.ext1)
	for i, tc := range []struct {
		name  string
		purge func(m *switchboard.Message) error
	}{
		{"DeleteMessage purge", func(m *switchboard.Message) error {
			return e.store.DeleteMessage(e.ctx, box.acc, box.ext, m.ID, true)
		}},
		{"UpdateMessage to Purged", func(m *switchboard.Message) error {
			_, err := e.store.UpdateMessage(e.ctx, box.acc, box.ext, m.ID, switchboard.MessageUpdate{Availability: ptr(switchboard.Purged)})
			return err
		}},
		{"DeleteMessages purge", func(m *switchboard.Message) error {
			_, err := e.store.DeleteMessages(e.ctx, switchboard.MessageDeleteFilter{AccountID: box.acc, ExtensionID: box.ext,
				ConversationIDs: []int64{m.ConversationID}, Purge: true})
			return err
		}},
		{"DeleteMessages twice", func(m *switchboard.Message) error {
			f := switchboard.MessageDeleteFilter{AccountID: box.acc, ExtensionID: box.ext, ConversationIDs: []int64{m.ConversationID}}
			if _, err := e.store.DeleteMessages(e.ctx, f); err != nil {
				return err
			}
			_, err := e.store.DeleteMessages(e.ctx, f)
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			secret := []byte(PurgeMarker + " " + tc.name)
			peer := fmt.Sprintf("+1415555%04d", 100+i) // a conversation of its own
			c := sms(box, switchboard.Inbound, peer, []string{own1}, "mms")
			c.Attachments = append(c.Attachments, &switchboard.Attachment{Type: switchboard.AttachmentMms,
				ContentType: "image/jpeg", FileName: "photo.jpg", Content: bytes.Repeat(secret, 300)})
			m := e.create(t, c)
			if content, err := e.content(t, box, m, 1); err != nil || !bytes.Contains(content, secret) {
				t.Fatalf("content before purge: %v", err)
			}
			e.clock.Advance(time.Second) // DeleteMessages takes what was created before now
			noErr(t, tc.purge(m))
			got := e.get(t, box, m.ID)
			if got.Availability != switchboard.Purged || len(got.Attachments) != 2 {
				t.Fatalf("after purge: %s with %d attachments", got.Availability, len(got.Attachments))
			}
			if got.Subject != "" {
				t.Fatalf("purged message keeps its text in subject: %q", got.Subject)
			}
			for i, a := range got.Attachments {
				if a.Content != nil {
					t.Fatalf("metadata of attachment %d carries content", i)
				}
				_, err := e.content(t, box, got, i)
				wantIs(t, err, switchboard.ErrNotFound, fmt.Sprintf("attachment %d after purge", i))
			}
		})
	}
}

// deleteSeed is the mailbox each DeleteMessages case starts from.
var deleteSeed = []struct {
	typ   switchboard.MessageType
	avail switchboard.Availability
	peer  string        // conversation A is p1, B is p2; "" none
	at    time.Duration // from Base; the clock stays at Base
}{
	0: {switchboard.TypeSMS, switchboard.Alive, p1, -5 * time.Hour},
	1: {switchboard.TypeSMS, switchboard.Alive, p1, -4 * time.Hour},
	2: {switchboard.TypeSMS, switchboard.Deleted, p2, -3 * time.Hour},
	3: {switchboard.TypeFax, switchboard.Alive, "", -2 * time.Hour},
	4: {switchboard.TypeVoiceMail, switchboard.Purged, "", -1 * time.Hour},
	5: {switchboard.TypeSMS, switchboard.Alive, p2, time.Hour}, // dated in the future
}

func testDeleteMessages(t *testing.T, e *env) {
	const (
		A = 1 << iota
		B
	)
	// Every seed message's availability before any case.
	initial := []switchboard.Availability{}
	for _, s := range deleteSeed {
		initial = append(initial, s.avail)
	}
	al, de, pu := switchboard.Alive, switchboard.Deleted, switchboard.Purged
	for _, tc := range []struct {
		name  string
		convs int // A|B
		types []switchboard.MessageType
		to    time.Duration // DateTo from Base; 0: zero (now)
		purge bool
		want  []switchboard.Availability
		again int // count of a second, identical call
	}{
		{name: "everything before now", want: []switchboard.Availability{de, de, pu, de, pu, al}, again: 3},
		{name: "everything, purge", purge: true, want: []switchboard.Availability{pu, pu, pu, pu, pu, al}, again: 0},
		{name: "conversation A", convs: A, want: []switchboard.Availability{de, de, de, al, pu, al}, again: 2},
		{name: "conversations A and B", convs: A | B, want: []switchboard.Availability{de, de, pu, al, pu, al}, again: 2},
		{name: "Fax and VoiceMail", types: []switchboard.MessageType{switchboard.TypeFax, switchboard.TypeVoiceMail},
			want: []switchboard.Availability{al, al, de, de, pu, al}, again: 1},
		{name: "dateTo is exclusive", to: -3 * time.Hour, want: []switchboard.Availability{de, de, de, al, pu, al}, again: 2},
		{name: "dateTo in the future", to: 2 * time.Hour, want: []switchboard.Availability{de, de, pu, de, pu, de}, again: 4},
		{name: "SMS of B, purge", convs: B, types: []switchboard.MessageType{switchboard.TypeSMS}, purge: true,
			want: []switchboard.Availability{al, al, pu, al, pu, al}, again: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := e.newExtension(t, e.acc1, "", "")
			box := mb(x)
			var ms []*switchboard.Message
			for i, s := range deleteSeed {
				c := sms(box, switchboard.Inbound, s.peer, []string{own1}, fmt.Sprint("delete seed ", i))
				c.Type, c.Availability, c.Created = s.typ, s.avail, Base.Add(s.at)
				if s.peer == "" {
					c.From = switchboard.Party{PhoneNumber: p3}
				}
				ms = append(ms, e.create(t, c))
			}
			convA, convB := ms[0].ConversationID, ms[2].ConversationID
			if convA == convB || convA == 0 || ms[3].ConversationID != 0 {
				t.Fatalf("conversations of the seed are not as designed")
			}
			// A neighbour with the same conversations stays untouched.
			neighbour := e.create(t, sms(mb(e.ext2), switchboard.Inbound, p1, []string{own1}, "neighbour"))

			f := switchboard.MessageDeleteFilter{AccountID: box.acc, ExtensionID: box.ext, Types: tc.types, Purge: tc.purge}
			if tc.convs&A != 0 {
				f.ConversationIDs = append(f.ConversationIDs, convA)
			}
			if tc.convs&B != 0 {
				f.ConversationIDs = append(f.ConversationIDs, convB)
			}
			if tc.to != 0 {
				f.DateTo = Base.Add(tc.to)
			}
			before := e.changes(t, box)
			then := e.clock.Advance(time.Minute)
			n := must(e.store.DeleteMessages(e.ctx, f))(t)

			var changed []int64
			for i, m := range ms {
				if tc.want[i] != initial[i] {
					changed = append(changed, m.ID)
				}
			}
			if n != len(changed) {
				t.Fatalf("DeleteMessages = %d, want %d", n, len(changed))
			}
			for i, m := range ms {
				got := e.get(t, box, m.ID)
				if got.Availability != tc.want[i] {
					t.Fatalf("seed %d: %s, want %s", i, got.Availability, tc.want[i])
				}
				wantModified := m.LastModified
				if slices.Contains(changed, m.ID) {
					wantModified = then
				}
				wantTime(t, got.LastModified, wantModified, fmt.Sprintf("lastModified of seed %d", i))
				_, err := e.content(t, box, got, 0)
				if got.Availability == switchboard.Purged {
					wantIs(t, err, switchboard.ErrNotFound, fmt.Sprintf("attachment of purged seed %d", i))
				} else {
					noErr(t, err)
				}
			}
			after := e.changes(t, box)[len(before):]
			var logged []int64
			for _, c := range after {
				if c.Kind != switchboard.ChangeUpdated || !c.At.Equal(then) {
					t.Fatalf("change %+v, want kind updated at %v", c, then)
				}
				logged = append(logged, c.MessageID)
			}
			slices.Sort(logged)
			wantEqual(t, logged, changed, "messages in the change log")
			if got := e.get(t, mb(e.ext2), neighbour.ID); got.Availability != switchboard.Alive {
				t.Fatalf("neighbour's message is %s", got.Availability)
			}

			if n := must(e.store.DeleteMessages(e.ctx, f))(t); n != tc.again {
				t.Fatalf("second DeleteMessages = %d, want %d", n, tc.again)
			}
		})
	}
}

func testChangeLog(t *testing.T, e *env) {
	box := mb(e.ext1)
	type entry struct {
		kind string
		msg  int // index into ms
		at   time.Duration
	}
	var ms []*switchboard.Message
	var want []entry
	step := time.Duration(0)
	advance := func() { step += time.Minute; e.clock.Advance(time.Minute) }

	ms = append(ms, e.create(t, sms(box, switchboard.Inbound, p1, []string{own1}, "one")))
	want = append(want, entry{switchboard.ChangeCreated, 0, step})
	advance()
	fax := sms(box, switchboard.Outbound, own1, []string{p3}, "two")
	fax.Type = switchboard.TypeFax
	ms = append(ms, must(e.store.CreateMessages(e.ctx, []switchboard.MessageCreate{
		fax, sms(box, switchboard.Inbound, p2, []string{own1}, "three")}))(t)...)
	want = append(want, entry{switchboard.ChangeCreated, 1, step}, entry{switchboard.ChangeCreated, 2, step})
	// A neighbour's activity never shows in this log.
	e.create(t, sms(mb(e.ext2), switchboard.Inbound, p1, []string{own2}, "elsewhere"))
	e.create(t, sms(mb(e.ext3), switchboard.Inbound, p1, []string{own3}, "elsewhere"))

	update := func(i int, u switchboard.MessageUpdate) {
		t.Helper()
		must(e.store.UpdateMessage(e.ctx, box.acc, box.ext, ms[i].ID, u))(t)
	}
	advance()
	update(0, switchboard.MessageUpdate{ReadStatus: ptr(switchboard.Read)})
	want = append(want, entry{switchboard.ChangeUpdated, 0, step})
	advance()
	update(0, switchboard.MessageUpdate{ReadStatus: ptr(switchboard.Read)})    // no-op
	update(0, switchboard.MessageUpdate{})                                     // no-op
	update(0, switchboard.MessageUpdate{Availability: ptr(switchboard.Alive)}) // no-op
	update(1, switchboard.MessageUpdate{ReadStatus: ptr(switchboard.Read)})    // outbound is Read already
	noErr(t, e.store.DeleteMessage(e.ctx, box.acc, box.ext, ms[1].ID, false))  // Alive -> Deleted
	want = append(want, entry{switchboard.ChangeUpdated, 1, step})
	advance()
	noErr(t, e.store.DeleteMessage(e.ctx, box.acc, box.ext, ms[1].ID, false)) // Deleted -> Purged
	want = append(want, entry{switchboard.ChangeUpdated, 1, step})
	advance()
	noErr(t, e.store.DeleteMessage(e.ctx, box.acc, box.ext, ms[1].ID, false)) // Purged: no-op
	_, err := e.store.UpdateMessage(e.ctx, box.acc, box.ext, ms[1].ID, switchboard.MessageUpdate{Availability: ptr(switchboard.Alive)})
	wantCode(t, err, switchboard.CodeNotRestorable, "restore Purged")
	advance()
	n := must(e.store.DeleteMessages(e.ctx, switchboard.MessageDeleteFilter{AccountID: box.acc, ExtensionID: box.ext}))(t)
	if n != 2 {
		t.Fatalf("DeleteMessages = %d, want 2", n)
	}
	want = append(want, entry{switchboard.ChangeUpdated, 0, step}, entry{switchboard.ChangeUpdated, 2, step})

	got := e.changes(t, box)
	if len(got) != len(want) {
		t.Fatalf("%d changes, want %d", len(got), len(want))
	}
	for i, c := range got {
		w := want[i]
		m := ms[w.msg]
		wantEqual(t, *c, switchboard.Change{Seq: c.Seq, AccountID: box.acc, ExtensionID: box.ext, MessageID: m.ID,
			Kind: w.kind, Type: m.Type, Direction: m.Direction, At: Base.Add(w.at)}, fmt.Sprintf("change %d", i))
		if i > 0 && c.Seq <= got[i-1].Seq {
			t.Fatalf("seq %d after %d: not increasing", c.Seq, got[i-1].Seq)
		}
	}

	t.Run("paging", func(t *testing.T) {
		for _, tc := range []struct {
			name  string
			after int64
			limit int
			want  []*switchboard.Change
		}{
			{"first two", 0, 2, got[:2]},
			{"after the second", got[1].Seq, 3, got[2:5]},
			{"rest", got[4].Seq, 0, got[5:]},
			{"after the last", got[len(got)-1].Seq, 10, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantEqual(t, must(e.store.Changes(e.ctx, box.acc, box.ext, tc.after, tc.limit))(t), tc.want, "changes")
			})
		}
	})
	t.Run("other mailboxes", func(t *testing.T) {
		if cs := must(e.store.Changes(e.ctx, e.acc2.ID, e.ext1.ID, 0, 0))(t); len(cs) != 0 {
			t.Fatalf("ext1 through acc2: %d changes", len(cs))
		}
		cs := e.changes(t, mb(e.ext2))
		if len(cs) != 1 || cs[0].ExtensionID != e.ext2.ID || cs[0].Kind != switchboard.ChangeCreated {
			t.Fatalf("ext2's log: %v", cs)
		}
	})
}

func testLastModified(t *testing.T, e *env) {
	box := mb(e.ext1)
	m := e.create(t, sms(box, switchboard.Inbound, p1, []string{own1}, "now"))
	wantTime(t, m.Created, Base, "created")
	wantTime(t, m.LastModified, Base, "lastModified")
	old := sms(box, switchboard.Inbound, p1, []string{own1}, "imported")
	old.Created = Base.Add(-24 * time.Hour)
	o := e.create(t, old)
	wantTime(t, o.Created, Base.Add(-24*time.Hour), "created of an import")
	wantTime(t, o.LastModified, Base, "lastModified of an import")

	check := func(want time.Time, what string) {
		t.Helper()
		got := e.get(t, box, m.ID)
		wantTime(t, got.LastModified, want, what)
		wantTime(t, got.Created, Base, what+": created")
		page := must(e.store.ListMessages(e.ctx, switchboard.MessageFilter{AccountID: box.acc, ExtensionID: box.ext, Limit: 1}))(t)
		wantTime(t, page.Messages[0].LastModified, want, what+" (listed)")
	}
	t1 := e.clock.Advance(time.Minute)
	must(e.store.UpdateMessage(e.ctx, box.acc, box.ext, m.ID, switchboard.MessageUpdate{ReadStatus: ptr(switchboard.Read)}))(t)
	check(t1, "after marking read")
	e.clock.Advance(time.Minute)
	must(e.store.UpdateMessage(e.ctx, box.acc, box.ext, m.ID, switchboard.MessageUpdate{ReadStatus: ptr(switchboard.Read)}))(t)
	check(t1, "after a no-op update")
	t3 := e.clock.Advance(time.Minute)
	noErr(t, e.store.DeleteMessage(e.ctx, box.acc, box.ext, m.ID, false))
	check(t3, "after delete")
	t4 := e.clock.Advance(time.Minute)
	must(e.store.UpdateMessage(e.ctx, box.acc, box.ext, m.ID, switchboard.MessageUpdate{Availability: ptr(switchboard.Alive)}))(t)
	check(t4, "after restore")
	t5 := e.clock.Advance(time.Minute)
	if n := must(e.store.DeleteMessages(e.ctx, switchboard.MessageDeleteFilter{AccountID: box.acc, ExtensionID: box.ext}))(t); n != 2 {
		t.Fatalf("DeleteMessages = %d", n)
	}
	check(t5, "after DeleteMessages")
	wantTime(t, e.get(t, box, o.ID).LastModified, t5, "import after DeleteMessages")
}
