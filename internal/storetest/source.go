package storetest

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
)

// testSourceID: a message handed over again with the same source id (a
// carrier redelivery, a mail server retry) is stored once per mailbox, also
// when the two arrive at once, and a voicemail received again gets no
// second transcription job.
func testSourceID(t *testing.T, e *env) {
	box := mb(e.ext1)
	in := sms(box, switchboard.Inbound, p1, []string{own1}, "redelivered")
	in.SourceID = "carrier-msg-1"
	first := e.create(t, in)
	again := e.create(t, in)
	wantEqual(t, again.ID, first.ID, "the same message again")
	wantEqual(t, again.Subject, first.Subject, "subject")
	wantEqual(t, len(e.changes(t, box)), 1, "changes logged")

	// Another mailbox, or another source id, is another message.
	other := sms(mb(e.ext2), switchboard.Inbound, p1, []string{own2}, "redelivered")
	other.SourceID = "carrier-msg-1"
	if m := e.create(t, other); m.ID == first.ID {
		t.Fatal("a second mailbox's message with the same source id was not stored")
	}
	in.SourceID = "carrier-msg-2"
	if m := e.create(t, in); m.ID == first.ID {
		t.Fatal("a second source id was not stored")
	}
	// In a batch too.
	in.SourceID = "carrier-msg-1"
	ms := must(e.store.CreateMessages(e.ctx, []switchboard.MessageCreate{in}))(t)
	wantEqual(t, ms[0].ID, first.ID, "the same message in a batch")
	// A source id twice in one batch is one message.
	twice := in
	twice.SourceID = "carrier-msg-4"
	ms = must(e.store.CreateMessages(e.ctx, []switchboard.MessageCreate{twice, in, twice}))(t)
	if ms[0].ID == first.ID || ms[2].ID != ms[0].ID || ms[1].ID != first.ID {
		t.Fatalf("a batch of a new source id twice and an old one: ids %d %d %d (the old one's %d)", ms[0].ID, ms[1].ID, ms[2].ID, first.ID)
	}

	long := in
	long.SourceID = strings.Repeat("x", switchboard.MaxSourceIDLength+1)
	_, err := e.store.CreateMessage(e.ctx, long)
	wantCode(t, err, switchboard.CodeInvalidParameter, "source id too long")

	// At once, from several goroutines (several nodes): one message.
	race := sms(box, switchboard.Inbound, p2, []string{own1}, "at once")
	race.SourceID = "carrier-msg-3"
	ids := make([]int64, 8)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m, err := e.store.CreateMessage(e.ctx, race)
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = m.ID
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("concurrent deliveries of one source id stored %v", ids)
		}
	}

	// A voicemail received again: one message, one transcription job.
	vm := voiceMail(e, e.ext1)
	vm.SourceID = "pbx-vm-7"
	a := must(e.store.CreateVoiceMail(e.ctx, vm, true))(t)
	b := must(e.store.CreateVoiceMail(e.ctx, vm, true))(t)
	wantEqual(t, b.ID, a.ID, "the same voicemail again")
	wantEqual(t, len(must(e.store.ClaimTranscriptions(e.ctx, "w", time.Minute, 10))(t)), 1, "transcription jobs")
}
