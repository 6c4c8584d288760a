package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
)

// testDeepPages: a page reached right after its predecessor (as a client
// following navigation.nextPage does) may be computed from where that
// page ended rather than by OFFSET; either way it must be the page the
// whole list, cut at the page's offset, holds now. Walked forward (each
// page after its predecessor) and backward (no page after its
// predecessor), with ties in creation time, under several filters, and
// with the mailbox changing between two pages.
func testDeepPages(t *testing.T, e *env) {
	box := mb(e.ext1)
	// 230 messages in batches of 7, so that each batch shares its creation
	// time (ties broken by id); half of them one conversation, the others
	// 60 more; every third one read.
	var cs []switchboard.MessageCreate
	for i := range 230 {
		peer := p2
		if i%2 == 0 {
			peer = fmt.Sprintf("+1415555%04d", i%120)
		}
		c := sms(box, switchboard.Inbound, peer, []string{own1}, fmt.Sprint("deep ", i))
		c.Created = Base.Add(-time.Duration(230-(i-i%7)) * time.Minute)
		if i%3 == 0 {
			c.ReadStatus = switchboard.Read
		}
		cs = append(cs, c)
		if len(cs) == 7 || i == 229 {
			must(e.store.CreateMessages(e.ctx, cs))(t)
			cs = nil
		}
	}
	// A neighbour's messages at the same instants must never show.
	e.create(t, sms(mb(e.ext2), switchboard.Inbound, p1, []string{own2}, "neighbour"))

	filters := map[string]switchboard.MessageFilter{
		"all":      {},
		"unread":   {ReadStatus: []switchboard.ReadStatus{switchboard.Unread}},
		"distinct": {DistinctConversations: true},
		"dates":    {DateFrom: Base.Add(-200 * time.Minute), DateTo: Base.Add(-10 * time.Minute)},
		"phone":    {PhoneNumber: p2},
	}
	for name, f := range filters {
		f.AccountID, f.ExtensionID = box.acc, box.ext
		for _, perPage := range []int{1, 13, 50} {
			t.Run(fmt.Sprintf("%s perPage %d", name, perPage), func(t *testing.T) {
				want := e.pages(t, f, perPage)
				for p := len(want) - 1; p >= 0; p-- { // backward: every page by offset
					e.wantPage(t, f, perPage, p, want)
				}
				for p := range want { // forward: each page after its predecessor
					e.wantPage(t, f, perPage, p, want)
				}
			})
		}
	}

	f := switchboard.MessageFilter{AccountID: box.acc, ExtensionID: box.ext, Availability: []switchboard.Availability{switchboard.Alive}}
	const perPage = 20
	step := func(t *testing.T, change func(first []*switchboard.Message)) {
		t.Helper()
		e.wantPage(t, f, perPage, 0, e.pages(t, f, perPage))
		first := must(e.store.ListMessages(e.ctx, withPage(f, perPage, 0)))(t).Messages
		e.wantPage(t, f, perPage, 1, e.pages(t, f, perPage))
		change(first)
		e.wantPage(t, f, perPage, 2, e.pages(t, f, perPage)) // after its predecessor, the mailbox changed
	}
	t.Run("deleted between pages", func(t *testing.T) {
		step(t, func(first []*switchboard.Message) {
			noErr(t, e.store.DeleteMessage(e.ctx, box.acc, box.ext, first[3].ID, false))
		})
	})
	t.Run("restored between pages", func(t *testing.T) {
		step(t, func(first []*switchboard.Message) {
			deleted := must(e.store.ListMessages(e.ctx, switchboard.MessageFilter{AccountID: box.acc, ExtensionID: box.ext,
				Availability: []switchboard.Availability{switchboard.Deleted}}))(t).Messages
			_ = must(e.store.UpdateMessage(e.ctx, box.acc, box.ext, deleted[0].ID,
				switchboard.MessageUpdate{Availability: ptr(switchboard.Alive)}))(t)
		})
	})
	t.Run("inserted between pages", func(t *testing.T) {
		step(t, func([]*switchboard.Message) {
			e.create(t, sms(box, switchboard.Inbound, p3, []string{own1}, "newer"))
		})
	})
	t.Run("dateTo moved over a message", func(t *testing.T) {
		// A message from the future exists all along; the walk's dateTo
		// ("now") moves past it between two pages without any write.
		future := sms(box, switchboard.Inbound, p3, []string{own1}, "future")
		future.Created = Base.Add(time.Hour)
		e.create(t, future)
		g := f
		g.DateTo = Base.Add(30 * time.Minute)
		e.wantPage(t, g, perPage, 0, e.pages(t, g, perPage))
		e.wantPage(t, g, perPage, 1, e.pages(t, g, perPage))
		g.DateTo = Base.Add(2 * time.Hour)
		e.wantPage(t, g, perPage, 2, e.pages(t, g, perPage))
	})
}

func withPage(f switchboard.MessageFilter, perPage, page int) switchboard.MessageFilter {
	f.Offset, f.Limit = page*perPage, perPage
	return f
}

// pages cuts the whole list of f (one read, no paging) into pages.
func (e *env) pages(t *testing.T, f switchboard.MessageFilter, perPage int) [][]int64 {
	t.Helper()
	f.Offset, f.Limit = 0, 0
	all := ids(must(e.store.ListMessages(e.ctx, f))(t).Messages)
	var out [][]int64
	for len(all) > 0 {
		n := min(perPage, len(all))
		out = append(out, all[:n])
		all = all[n:]
	}
	if len(out) < 2 {
		t.Fatalf("filter %+v has %d pages of %d; the test needs several", f, len(out), perPage)
	}
	return out
}

func (e *env) wantPage(t *testing.T, f switchboard.MessageFilter, perPage, p int, want [][]int64) {
	t.Helper()
	got := must(e.store.ListMessages(e.ctx, withPage(f, perPage, p)))(t)
	wantEqual(t, ids(got.Messages), want[p], fmt.Sprintf("page %d (perPage %d)", p+1, perPage))
	wantEqual(t, got.More, p < len(want)-1, fmt.Sprintf("more after page %d", p+1))
}
