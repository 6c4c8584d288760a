package storetest

import (
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
)

// renderedFax is an outbound fax of from's mailbox whose documents are to
// be rendered in the background: only its SourceDocument is stored.
func (e *env) renderedFax(from *switchboard.Extension, number string, options string, recipients ...string) switchboard.OutboundCreate {
	c := e.outbound(switchboard.TypeFax, recipients...)
	c.Message.AccountID, c.Message.ExtensionID = from.AccountID, from.ID
	c.Message.From = switchboard.Party{PhoneNumber: number}
	c.Message.FaxPageCount = 0
	c.Message.Attachments = []*switchboard.Attachment{{Type: switchboard.AttachmentSourceDocument, ContentType: "application/pdf",
		FileName: "doc.pdf", Content: []byte("%PDF-1.4 source")}}
	c.Render = []byte(options)
	return c
}

func testFaxRenders(t *testing.T, e *env) {
	c := e.renderedFax(e.ext1, own1, `{"resolution":"High"}`, p1, own2)
	m := e.send(t, c)
	wantStatus(t, e.sent(t, m), switchboard.StatusQueued, switchboard.StatusQueued, switchboard.StatusQueued)
	// Held: no delivery of a fax that is not rendered is claimable.
	wantEqual(t, len(e.claimAll(t, "w")), 0, "deliveries claimable before rendering")

	jobs := must(e.store.ClaimFaxRenders(e.ctx, "a", time.Minute, 10, 10))(t)
	wantEqual(t, len(jobs), 1, "jobs claimed")
	wantEqual(t, *jobs[0], switchboard.FaxRender{MessageID: m.ID, AccountID: e.acc1.ID, ExtensionID: e.ext1.ID,
		Options: []byte(`{"resolution":"High"}`), Attempts: 1}, "job")
	wantEqual(t, len(must(e.store.ClaimFaxRenders(e.ctx, "b", time.Minute, 10, 10))(t)), 0, "claim while leased")
	e.clock.Advance(2 * time.Minute)
	jobs = must(e.store.ClaimFaxRenders(e.ctx, "b", time.Minute, 10, 10))(t)
	wantEqual(t, [2]int{len(jobs), jobs[0].Attempts}, [2]int{1, 2}, "claim after the lease expired")
	pdf := &switchboard.Attachment{Type: switchboard.AttachmentRenderedDocument, ContentType: "application/pdf", FileName: "fax.pdf", Content: []byte("%PDF-1.4 rendered")}
	wantIs(t, e.store.CompleteFaxRender(e.ctx, "a", m.ID, pdf, 3), switchboard.ErrLeaseLost, "complete by the lost owner")
	wantEqual(t, len(e.claimAll(t, "w")), 0, "deliveries after a refused completion")

	before := must(e.store.Changes(e.ctx, e.acc1.ID, e.ext1.ID, 0, 0))(t)
	noErr(t, e.store.CompleteFaxRender(e.ctx, "b", m.ID, pdf, 3))
	got := e.sent(t, m)
	wantEqual(t, got.FaxPageCount, 3, "faxPageCount")
	wantEqual(t, len(got.Attachments), 2, "attachments")
	wantEqual(t, [2]any{got.Attachments[1].Type, got.Attachments[1].FileName}, [2]any{switchboard.AttachmentRenderedDocument, any("fax.pdf")}, "rendered attachment")
	full := must(e.store.Attachment(e.ctx, e.acc1.ID, e.ext1.ID, m.ID, got.Attachments[1].ID))(t)
	wantEqual(t, string(full.Content), "%PDF-1.4 rendered", "rendered content")
	after := must(e.store.Changes(e.ctx, e.acc1.ID, e.ext1.ID, 0, 0))(t)
	wantEqual(t, len(after)-len(before), 1, "changes logged by completion")
	ds := e.claimAll(t, "w")
	wantEqual(t, [2]bool{ds[p1] != nil, ds[own2] != nil}, [2]bool{true, true}, "deliveries due once rendered")
	wantIs(t, e.store.CompleteFaxRender(e.ctx, "b", m.ID, pdf, 3), switchboard.ErrLeaseLost, "complete twice")

	// A scheduled fax rendered early is due at its sendTime, not before.
	later := e.renderedFax(e.ext1, own1, `{}`, p2)
	later.SendAt = e.clock.Now().Add(time.Hour)
	sl := e.send(t, later)
	jobs = must(e.store.ClaimFaxRenders(e.ctx, "a", time.Minute, 10, 10))(t)
	wantEqual(t, len(jobs), 1, "scheduled job")
	noErr(t, e.store.CompleteFaxRender(e.ctx, "a", sl.ID, pdf, 1))
	wantEqual(t, len(e.claimAll(t, "w")), 0, "scheduled deliveries before sendTime")
	e.clock.Advance(61 * time.Minute)
	wantEqual(t, e.claimAll(t, "w")[p2] != nil, true, "scheduled delivery at sendTime")

	// A document that cannot be rendered fails every recipient with the code.
	bad := e.send(t, e.renderedFax(e.ext1, own1, `{}`, p1, p2))
	jobs = must(e.store.ClaimFaxRenders(e.ctx, "a", time.Minute, 10, 10))(t)
	wantEqual(t, len(jobs), 1, "failing job")
	wantIs(t, e.store.FailFaxRender(e.ctx, "z", bad.ID, "RenderingFailed"), switchboard.ErrLeaseLost, "fail by a non-owner")
	noErr(t, e.store.FailFaxRender(e.ctx, "a", bad.ID, "RenderingFailed"))
	got = e.sent(t, bad)
	wantStatus(t, got, switchboard.StatusSendingFailed, switchboard.StatusSendingFailed, switchboard.StatusSendingFailed)
	wantEqual(t, [2]string{got.To[0].FaxErrorCode, got.To[1].FaxErrorCode}, [2]string{"RenderingFailed", "RenderingFailed"}, "faxErrorCode")
	wantEqual(t, len(e.claimAll(t, "w")), 0, "deliveries of a failed render")
	e.clock.Advance(2 * time.Minute)
	wantEqual(t, len(must(e.store.ClaimFaxRenders(e.ctx, "a", time.Minute, 10, 10))(t)), 0, "jobs left")
}

// testFaxRenderFairness: a sender with renders in progress waits behind
// another sender's fax, however many it queued first, and gets no more
// than perSender at once.
func testFaxRenderFairness(t *testing.T, e *env) {
	var big []int64
	for range 3 {
		big = append(big, e.send(t, e.renderedFax(e.ext1, own1, `{}`, p1)).ID)
		e.clock.Advance(time.Second)
	}
	small := e.send(t, e.renderedFax(e.ext2, own2, `{}`, p2)).ID

	first := must(e.store.ClaimFaxRenders(e.ctx, "w1", time.Minute, 1, 1))(t)
	wantEqual(t, first[0].MessageID, big[0], "the oldest job first")
	// ext1 has one in progress: ext2's later fax comes before ext1's others.
	second := must(e.store.ClaimFaxRenders(e.ctx, "w2", time.Minute, 1, 1))(t)
	wantEqual(t, second[0].MessageID, small, "the other sender's fax next")
	// perSender 1: ext1 gets nothing more while its render runs.
	wantEqual(t, len(must(e.store.ClaimFaxRenders(e.ctx, "w3", time.Minute, 5, 1))(t)), 0, "a sender at its limit")
	// With room for two per sender, ext1's next one.
	third := must(e.store.ClaimFaxRenders(e.ctx, "w3", time.Minute, 1, 2))(t)
	wantEqual(t, len(third), 1, "jobs with perSender 2")
	wantEqual(t, third[0].MessageID, big[1], "the sender's next job")
}
