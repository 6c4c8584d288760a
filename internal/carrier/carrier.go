package carrier

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/switchboardhq/switchboard"
)

// Submission is one message to one recipient. A message to several external
// numbers is several submissions with the same MessageID.
type Submission struct {
	MessageID int64
	Recipient string // E.164
	From      string // E.164
	Type      switchboard.MessageType
	Text      string  // SMS text
	Media     []Media // MMS attachments (Type SMS)
	Pages     int     // Fax page count
}

// Media describes one MMS attachment. The carrier sees sizes and types, not
// bytes: a real gateway that needs the content gets it from the blob store.
type Media struct {
	ContentType string
	Size        int64
}

// Result is the carrier's answer to a submission: accepted, with the id the
// carrier gave it, or refused for good with a RingCentral error code. A
// temporary failure is not a Result but an error (see ErrTemporary).
type Result struct {
	CarrierID string // set when Accepted; may be set on a refusal too
	Accepted  bool
	// ErrorCode is the permanent failure when !Accepted: a deliveryErrorCode
	// such as SMS-CAR-411 for SMS, a faxErrorCode such as LineBusy for faxes.
	ErrorCode string
}

// Receipt is the delivery report of an accepted submission. It arrives later
// and stays pending (Receipts returns it again) until it is acknowledged.
// A carrier whose gateway resends receipts across restarts (SMPP) may no
// longer know which submission one belongs to: MessageID is then 0 and
// CarrierID, the id it accepted the submission under, names the delivery.
type Receipt struct {
	MessageID int64
	Recipient string
	CarrierID string
	Delivered bool
	ErrorCode string    // why delivery failed, when !Delivered
	At        time.Time // when the carrier reported it (smsDeliveryTime)
}

// Carrier sends messages to numbers that do not belong to this server.
//
// Submit is idempotent per (MessageID, Recipient): submitting again returns
// the first answer and never sends a second time. It returns:
//   - (Result{Accepted: true}, nil): accepted; a Receipt will follow;
//   - (Result{Accepted: false, ErrorCode: c}, nil): refused for good;
//   - an error wrapping ErrTemporary: retry later, after RetryAfter(err)
//     when it is not 0;
//   - ctx.Err() when the context ends: nothing was decided, retry later;
//   - any other error: the submission is unusable (see ErrInvalid) and
//     retrying will not help.
//
// Receipts returns the delivery reports due by now that are not yet
// acknowledged, oldest first; a report is returned on every call until Ack
// is called with it, so reports are delivered at least once. Ack of a report
// that is unknown or already acknowledged is not an error.
//
// Listen is the inbound direction: it hands every message the carrier
// receives for this server's numbers (SMS, MMS, fax) to r, one at a time,
// until ctx ends, and then returns ctx.Err(). A message is acknowledged
// upstream only after r.Receive returned: on success; or as rejected for
// good when r answers a *switchboard.Error with a 4xx status (an unknown
// number, an unusable file), which r has logged and not stored; any other
// error leaves it unacknowledged, for the gateway to deliver again. r
// stores each message in one transaction; a carrier sets the message's
// SourceID to its own message id, so that a redelivery after a crash
// between storing and acknowledging is recognised and not stored twice.
type Carrier interface {
	Submit(ctx context.Context, s Submission) (Result, error)
	Receipts(ctx context.Context, now time.Time) ([]Receipt, error)
	Ack(ctx context.Context, r Receipt) error
	Listen(ctx context.Context, r switchboard.InboundReceiver) error
}

// ErrTemporary is in the chain of every error worth retrying: the carrier is
// down, throttling or did not answer. Test with errors.Is.
var ErrTemporary = errors.New("carrier: temporary failure")

// ErrInvalid is in the chain of the error for a submission the carrier
// cannot take at all (no message id, no recipient, a type it does not
// carry). It is a bug in the caller; retrying will not help.
var ErrInvalid = errors.New("carrier: invalid submission")

// TemporaryError is a temporary failure with an optional hint of when to
// retry. errors.Is(err, ErrTemporary) is true for it.
type TemporaryError struct {
	Reason     string
	RetryAfter time.Duration // 0: no hint, use the caller's backoff
	// NotSent means nothing reached the carrier (it is not connected):
	// the try does not count against the delivery's attempts, so messages
	// wait for the carrier to be back however long that takes.
	NotSent bool
}

func (e *TemporaryError) Error() string {
	if e.RetryAfter > 0 {
		return fmt.Sprintf("carrier: temporary failure: %s (retry after %s)", e.Reason, e.RetryAfter)
	}
	return "carrier: temporary failure: " + e.Reason
}

// Is makes errors.Is(err, ErrTemporary) true.
func (e *TemporaryError) Is(target error) bool { return target == ErrTemporary }

// RetryAfter returns the retry hint of a temporary error, or 0 when err has
// none.
func RetryAfter(err error) time.Duration {
	var t *TemporaryError
	if errors.As(err, &t) {
		return t.RetryAfter
	}
	return 0
}
