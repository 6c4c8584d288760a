package switchboard

import (
	"context"
	"time"
)

// InboundMessage is a message arriving from outside Switchboard: an SMS or MMS or
// a fax from a carrier, or a voicemail from the phone system, addressed to
// a number (or extension) of this server.
type InboundMessage struct {
	Type MessageType // SMS (MMS when Files are given), Fax or VoiceMail
	// From is the sender's number (E.164). Optional for faxes and
	// voicemail, where caller id may be withheld.
	From string
	// To is the E.164 number the message was sent to. For a voicemail it
	// may instead be an extension number, in AccountID's account (or, with
	// AccountID 0, the only account that has such an extension).
	To        string
	AccountID int64
	Text      string        // SMS text
	Files     []InboundFile // MMS media, fax documents, the voicemail audio
	// Received is when the carrier or phone system got the message; zero:
	// now. Used as the message's creation time.
	Received time.Time
	// SourceID is the sender's id of the message (a carrier's message id,
	// an email's Message-ID), optional: the same message handed over again
	// with the same SourceID is not stored twice (MessageCreate.SourceID).
	SourceID string
}

// InboundFile is one file of an inbound message.
type InboundFile struct {
	FileName    string
	ContentType string // as declared; files are checked by content
	Data        []byte
}

// InboundReceiver stores inbound messages: carriers, the admin API and the
// SMTP listener hand each one to it. It returns the stored message (the one
// stored before, for a SourceID already received), or a
// *Error saying why the message was refused (an unknown number is 404
// CMN-102 naming "to"); a refused message stores nothing.
type InboundReceiver interface {
	Receive(ctx context.Context, in InboundMessage) (*Message, error)
}

// Voicemail transcription statuses (RingCentral's vmTranscriptionStatus).
const (
	TranscriptionNotAvailable = "NotAvailable"
	TranscriptionInProgress   = "InProgress"
	TranscriptionCompleted    = "Completed"
	TranscriptionFailed       = "Failed"
	TranscriptionTimedOut     = "TimedOut"
)

// Transcription is a pending job: transcribe the audio attachment of a
// voicemail. It is written with the voicemail in one transaction and
// claimed by workers with a lease, like deliveries, so a job survives a
// restart and runs on one node at a time.
type Transcription struct {
	MessageID    int64
	AccountID    int64
	ExtensionID  int64
	AttachmentID int64 // the AudioRecording
	Attempts     int   // claims so far, this one included
}

// TranscriptionStore keeps voicemails and their transcription jobs.
type TranscriptionStore interface {
	// CreateVoiceMail stores a voicemail (VMTranscriptionStatus InProgress
	// when transcribe is set) and, when transcribe is set, its
	// transcription job, in one transaction.
	CreateVoiceMail(ctx context.Context, c MessageCreate, transcribe bool) (*Message, error)
	// ClaimTranscriptions leases up to limit jobs to owner until now+lease:
	// new ones, and ones whose lease has expired (their worker died).
	ClaimTranscriptions(ctx context.Context, owner string, lease time.Duration, limit int) ([]*Transcription, error)
	// CompleteTranscription ends a job held by owner: the voicemail's
	// vmTranscriptionStatus becomes status and, when text is not empty, an
	// AudioTranscription (text/plain) attachment is added; the job is
	// removed; a change is logged. A job not held by owner any more is
	// ErrLeaseLost and changes nothing. A job whose voicemail has been
	// purged or removed meanwhile is just removed.
	CompleteTranscription(ctx context.Context, owner string, messageID int64, status, text string) error
}
