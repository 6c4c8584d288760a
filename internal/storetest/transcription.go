package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
)

func voiceMail(e *env, ext *switchboard.Extension) switchboard.MessageCreate {
	return switchboard.MessageCreate{AccountID: ext.AccountID, ExtensionID: ext.ID, Type: switchboard.TypeVoiceMail,
		Direction: switchboard.Inbound, From: switchboard.Party{PhoneNumber: p1}, To: []switchboard.Party{{PhoneNumber: own1}},
		Attachments: []*switchboard.Attachment{{Type: switchboard.AttachmentAudioRecording, ContentType: "audio/wav",
			FileName: "vm.wav", Content: []byte("RIFF....WAVE"), VMDuration: 7}}}
}

func testTranscriptions(t *testing.T, e *env) {
	// Without a transcriber: NotAvailable, and no job.
	plain := must(e.store.CreateVoiceMail(e.ctx, voiceMail(e, e.ext1), false))(t)
	wantEqual(t, plain.VMTranscriptionStatus, switchboard.TranscriptionNotAvailable, "status without transcriber")
	wantEqual(t, plain.ReadStatus, switchboard.Unread, "read status")
	wantEqual(t, plain.MessageStatus, switchboard.StatusReceived, "message status")
	wantEqual(t, plain.Attachments[0].VMDuration, 7, "vmDuration")

	vm := must(e.store.CreateVoiceMail(e.ctx, voiceMail(e, e.ext1), true))(t)
	wantEqual(t, vm.VMTranscriptionStatus, switchboard.TranscriptionInProgress, "status with transcriber")
	got := must(e.store.Message(e.ctx, e.acc1.ID, e.ext1.ID, vm.ID))(t)
	wantEqual(t, got.VMTranscriptionStatus, switchboard.TranscriptionInProgress, "stored status")

	jobs := must(e.store.ClaimTranscriptions(e.ctx, "a", time.Minute, 10))(t)
	wantEqual(t, len(jobs), 1, "jobs claimed")
	wantEqual(t, *jobs[0], switchboard.Transcription{MessageID: vm.ID, AccountID: e.acc1.ID, ExtensionID: e.ext1.ID,
		AttachmentID: vm.Attachments[0].ID, Attempts: 1}, "job")
	// Leased: nobody else gets it until the lease expires (a crashed node).
	wantEqual(t, len(must(e.store.ClaimTranscriptions(e.ctx, "b", time.Minute, 10))(t)), 0, "claim while leased")
	e.clock.Advance(2 * time.Minute)
	jobs = must(e.store.ClaimTranscriptions(e.ctx, "b", time.Minute, 10))(t)
	wantEqual(t, len(jobs), 1, "claim after expiry")
	wantEqual(t, jobs[0].Attempts, 2, "attempts after a second claim")
	// The first worker lost its lease: its result is refused.
	wantIs(t, e.store.CompleteTranscription(e.ctx, "a", vm.ID, switchboard.TranscriptionCompleted, "late"), switchboard.ErrLeaseLost, "complete by lost owner")

	before := must(e.store.Changes(e.ctx, e.acc1.ID, e.ext1.ID, 0, 0))(t)
	noErr(t, e.store.CompleteTranscription(e.ctx, "b", vm.ID, switchboard.TranscriptionCompleted, "Hello, call me back."))
	got = must(e.store.Message(e.ctx, e.acc1.ID, e.ext1.ID, vm.ID))(t)
	wantEqual(t, got.VMTranscriptionStatus, switchboard.TranscriptionCompleted, "status after completion")
	wantEqual(t, len(got.Attachments), 2, "attachments after completion")
	tr := got.Attachments[1]
	wantEqual(t, [2]any{tr.Type, tr.ContentType}, [2]any{switchboard.AttachmentAudioTranscription, any("text/plain")}, "transcript attachment")
	full := must(e.store.Attachment(e.ctx, e.acc1.ID, e.ext1.ID, vm.ID, tr.ID))(t)
	wantEqual(t, string(full.Content), "Hello, call me back.", "transcript text")
	wantEqual(t, full.Size, int64(len("Hello, call me back.")), "transcript size")
	after := must(e.store.Changes(e.ctx, e.acc1.ID, e.ext1.ID, 0, 0))(t)
	wantEqual(t, len(after)-len(before), 1, "changes logged by completion")
	last := after[len(after)-1]
	wantEqual(t, [2]any{last.MessageID, last.Kind}, [2]any{vm.ID, any(switchboard.ChangeUpdated)}, "change")
	// Done: the job is gone; completing again is a lost lease.
	e.clock.Advance(2 * time.Minute)
	wantEqual(t, len(must(e.store.ClaimTranscriptions(e.ctx, "c", time.Minute, 10))(t)), 0, "jobs after completion")
	wantIs(t, e.store.CompleteTranscription(e.ctx, "b", vm.ID, switchboard.TranscriptionFailed, ""), switchboard.ErrLeaseLost, "complete twice")

	// A failure keeps the voicemail and its audio, without a transcript.
	vm2 := must(e.store.CreateVoiceMail(e.ctx, voiceMail(e, e.ext2), true))(t)
	jobs = must(e.store.ClaimTranscriptions(e.ctx, "a", time.Minute, 10))(t)
	wantEqual(t, len(jobs), 1, "second job")
	noErr(t, e.store.CompleteTranscription(e.ctx, "a", vm2.ID, switchboard.TranscriptionTimedOut, ""))
	got = must(e.store.Message(e.ctx, e.acc1.ID, e.ext2.ID, vm2.ID))(t)
	wantEqual(t, got.VMTranscriptionStatus, switchboard.TranscriptionTimedOut, "status after time-out")
	wantEqual(t, len(got.Attachments), 1, "attachments after time-out")
	must(e.store.Attachment(e.ctx, e.acc1.ID, e.ext2.ID, vm2.ID, got.Attachments[0].ID))(t)

	// A voicemail purged while its job waited: the job just ends.
	vm3 := must(e.store.CreateVoiceMail(e.ctx, voiceMail(e, e.ext3), true))(t)
	noErr(t, e.store.DeleteMessage(e.ctx, e.acc2.ID, e.ext3.ID, vm3.ID, true))
	jobs = must(e.store.ClaimTranscriptions(e.ctx, "a", time.Minute, 10))(t)
	wantEqual(t, len(jobs), 1, "job of purged voicemail")
	noErr(t, e.store.CompleteTranscription(e.ctx, "a", vm3.ID, switchboard.TranscriptionCompleted, "gone"))
	got = must(e.store.Message(e.ctx, e.acc2.ID, e.ext3.ID, vm3.ID))(t)
	wantEqual(t, [2]any{got.Availability, len(got.Attachments)}, [2]any{switchboard.Purged, 1}, "purged voicemail untouched")

	// Bad input stores nothing.
	bad := voiceMail(e, e.ext1)
	bad.Attachments = nil
	wantCode(t, must2(e.store.CreateVoiceMail(e.ctx, bad, true)), switchboard.CodeInvalidParameter, "voicemail without audio")
	wantEqual(t, len(must(e.store.ClaimTranscriptions(e.ctx, "a", time.Minute, 10))(t)), 0, "jobs after refused create")
	if err := e.store.CompleteTranscription(e.ctx, "a", vm.ID, "InProgress", ""); err == nil {
		t.Fatal("InProgress accepted as a final status")
	}
}

func must2[T any](_ T, err error) error { return err }

// testClaimTranscriptionsConcurrently: several workers claiming at once
// never get the same job.
func testClaimTranscriptionsConcurrently(t *testing.T, e *env) {
	const n = 30
	for i := 0; i < n; i++ {
		must(e.store.CreateVoiceMail(e.ctx, voiceMail(e, e.ext1), true))(t)
	}
	var mu sync.Mutex
	seen := map[int64]string{}
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		owner := string(rune('a' + w))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				jobs, err := e.store.ClaimTranscriptions(e.ctx, owner, time.Hour, 3)
				if err != nil {
					t.Error(err)
					return
				}
				if len(jobs) == 0 {
					return
				}
				mu.Lock()
				for _, j := range jobs {
					if prev, ok := seen[j.MessageID]; ok {
						t.Errorf("job %d claimed by %s and %s", j.MessageID, prev, owner)
					}
					seen[j.MessageID] = owner
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	wantEqual(t, len(seen), n, "jobs claimed")
}
