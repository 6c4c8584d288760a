package switchboard

import (
	"context"
	"errors"
	"time"
)

// DeliveryState is where one recipient of an outbound message is.
type DeliveryState string

const (
	// DeliveryPending: waiting for a worker (first try or a retry).
	DeliveryPending DeliveryState = "Pending"
	// DeliverySubmitted: a carrier accepted it; its receipt has not come.
	DeliverySubmitted DeliveryState = "Submitted"
	// DeliveryDone: delivered (internal copy stored, or carrier receipt).
	DeliveryDone DeliveryState = "Done"
	// DeliveryFailed: failed for good (permanent error, or out of tries).
	DeliveryFailed DeliveryState = "Failed"
)

// Delivery is one recipient of an outbound message: mailboxes on this server
// (Internal) or a number at a carrier. Deliveries are the durable outbox:
// written with the message in one transaction, claimed by workers with a
// lease, so a crashed worker's work is resumed from the database alone.
type Delivery struct {
	ID          int64
	MessageID   int64 // the sender's outbound message
	AccountID   int64 // the sender's mailbox
	ExtensionID int64
	Type        MessageType
	// Recipient is the E.164 number, or for Pager the extension number.
	Recipient string
	Internal  bool
	State     DeliveryState
	Attempts  int
	// NextAttempt is when a Pending delivery is due.
	NextAttempt time.Time
	CarrierID   string
	ErrorCode   string
	// Mailboxes are the mailboxes of an Internal delivery, decided when
	// the message was sent: each gets an inbound copy.
	Mailboxes []Mailbox
	// Message is the sender's message with its attachments, as
	// ClaimDeliveries claims it alongside the delivery (the attachments'
	// content only for a message with an internal delivery, which copies
	// it); nil when the message was removed before delivery, and on other
	// reads.
	Message *Message
}

// DeliveryTarget is a recipient of a new outbound message, routed when it
// is sent: Internal with the Mailboxes that get a copy (none: a department
// without other members), or to the carrier.
type DeliveryTarget struct {
	Recipient string
	Internal  bool
	Mailboxes []Mailbox
}

// InternalDelivery completes one internal delivery: the inbound copies to
// store (InboundCopy of the sender's message, one per mailbox).
type InternalDelivery struct {
	DeliveryID int64
	Copies     []MessageCreate
}

// InternalDeliveryOf is the completion of the internal delivery d, claimed
// with its sender's message: an inbound copy of it (InboundCopy) for each
// mailbox the send routed d to.
func InternalDeliveryOf(d *Delivery) InternalDelivery {
	out := InternalDelivery{DeliveryID: d.ID}
	for _, mb := range d.Mailboxes {
		out.Copies = append(out.Copies, InboundCopy(d.Message, mb))
	}
	return out
}

// InternalOutcome counts what DeliverDueInternal did.
type InternalOutcome struct {
	Delivered int // copies stored, deliveries Done
	Failed    int // recipient mailbox or sender's message gone
}

// SubmitOutcome is a carrier's answer to the submit of one leased delivery:
// accepted (Submitted under CarrierID) or refused for good (Failed with
// ErrorCode).
type SubmitOutcome struct {
	DeliveryID int64
	Accepted   bool
	CarrierID  string
	ErrorCode  string
}

// DeliveryReport is a carrier's delivery report (receipt) for one
// recipient of a message: delivered at At, or failed with ErrorCode.
type DeliveryReport struct {
	MessageID int64
	Recipient string
	Delivered bool
	ErrorCode string
	At        time.Time // zero: when it is recorded
}

// OutboundCreate is a message to send: the sender's copy and its recipients.
type OutboundCreate struct {
	// Message is the sender's copy: Outbound, MessageStatus Queued.
	Message    MessageCreate
	Recipients []DeliveryTarget
	// SendAt is when delivery may start (a scheduled fax); zero: now.
	SendAt time.Time
	// Render, when set, is a fax's renderer settings: the fax is stored
	// without its RenderedDocument, with a FaxRender job, and its
	// deliveries are held until the job ends (FaxRenderStore).
	Render []byte
}

// CompletesOnAccept reports whether the delivery to t is completed in the
// transaction that accepts c rather than by a worker: an internal
// recipient of a message due now that needs no rendering. Such a delivery
// only stores the recipients' copies, which the accepting transaction can
// do as well as a worker's after one more commit. The answer to the send
// is still the message as accepted (Queued), as RingCentral answers.
func (c *OutboundCreate) CompletesOnAccept(t DeliveryTarget, now time.Time) bool {
	return t.Internal && c.Render == nil && !c.SendAt.After(now)
}

// LeavesDeliveries reports whether accepting c at now leaves deliveries to
// a worker (any recipient whose delivery does not complete on accept).
func (c *OutboundCreate) LeavesDeliveries(now time.Time) bool {
	for _, t := range c.Recipients {
		if !c.CompletesOnAccept(t, now) {
			return true
		}
	}
	return false
}

// DeliveryStore is the outbox. Every method that changes a delivery also
// updates the sender's message (its aggregate messageStatus, the
// recipient's to[].messageStatus, smsSendingAttemptsCount, delivery time or
// error code) and writes a change-log row, in the same transaction.
//
// The sender's messageStatus aggregates its deliveries as RingCentral does:
// any Pending → Queued; else any Failed → SendingFailed (SMS with a failed
// receipt: DeliveryFailed); else all receipts in → Delivered (SMS); else Sent.
type DeliveryStore interface {
	// CreateOutbound stores the sender's message and one delivery per
	// recipient in one transaction, and returns the message as accepted
	// (Queued). A delivery that CompletesOnAccept is completed in that
	// transaction (the copies stored, Done; or Failed if a recipient's
	// mailbox is gone), the sender's message stored as it leaves it; the
	// others are Pending, due at SendAt or now.
	CreateOutbound(ctx context.Context, c OutboundCreate) (*Message, error)
	// ClaimDeliveries leases up to limit Pending deliveries that are due to
	// owner until now+lease, each with its sender's Message read in the
	// same transaction (see Delivery.Message). A delivery
	// whose lease has expired (its worker died) can be claimed again.
	ClaimDeliveries(ctx context.Context, owner string, lease time.Duration, limit int) ([]*Delivery, error)
	// ClaimCarrierDeliveries is ClaimDeliveries of the deliveries to the
	// carrier only (the internal ones go by DeliverDueInternal).
	ClaimCarrierDeliveries(ctx context.Context, owner string, lease time.Duration, limit int) ([]*Delivery, error)
	// DeliverInternal completes a batch of internal deliveries in one
	// transaction: each still Pending under owner's lease gets its copies
	// stored and becomes Done; one whose lease was lost stores nothing
	// (ErrLeaseLost in its place of the result: every inbound copy exists
	// exactly once); one whose recipient mailbox no longer exists is failed
	// with RecipientGoneCode (ErrRecipientGone in its place). The copies are stored as given (built by
	// InboundCopy from a stored message, they are not validated again).
	// The error is the transaction's: then nothing of the batch is stored.
	DeliverInternal(ctx context.Context, owner string, batch []InternalDelivery) ([]error, error)
	// DeliverDueInternal completes up to limit due internal deliveries
	// that no worker holds as DeliverInternal does, building their copies
	// with InboundCopy, but selects them in the same transaction: no lease,
	// one transaction for the claim and the delivery. A delivery whose
	// sender's message is gone fails with FailureSenderGone. The error is
	// the transaction's (nothing stored); the deliveries are then left for
	// ClaimDeliveries and DeliverInternal, which take them one by one.
	DeliverDueInternal(ctx context.Context, limit int) (InternalOutcome, error)
	// RecordCarrier records in one transaction what a carrier answered:
	// first the submits of deliveries leased to owner (each as RecordSubmit),
	// then delivery reports (each as ApplyReceipt; a report may be for a
	// delivery submitted in the same call), each sender's message
	// recomputed once for all of them. The results are per submit
	// (ErrLeaseLost) and per report (ErrDeliveryPending), in their order;
	// the error is the transaction's: then nothing of it is recorded.
	RecordCarrier(ctx context.Context, owner string, submits []SubmitOutcome, reports []DeliveryReport) (submitErrs, reportErrs []error, err error)
	// RecordSubmit records a carrier's answer to a submit: accepted
	// (Submitted with the carrier id) or refused for good (Failed with the
	// error code). ErrLeaseLost as above.
	RecordSubmit(ctx context.Context, owner string, deliveryID int64, accepted bool, carrierID, errorCode string) error
	// Reschedule gives a delivery back for another try at `at` after a
	// temporary failure, counting the attempt; past maxAttempts it fails it
	// with errorCode instead. ErrLeaseLost as above.
	Reschedule(ctx context.Context, owner string, deliveryID int64, at time.Time, maxAttempts int, errorCode string) error
	// Postpone gives a delivery back, due at `at`, without counting an
	// attempt: nothing reached the carrier (it is not connected), so the
	// message waits for it however long that takes. Nothing visible
	// changes. ErrLeaseLost as above.
	Postpone(ctx context.Context, owner string, deliveryID int64, at time.Time) error
	// ApplyReceipt records a carrier's delivery report for a Submitted
	// delivery: Done (delivered at `at`) or Failed (errorCode). Reports for
	// deliveries already final, or unknown, are ignored: receipts come at
	// least once. A report for a delivery still Pending (the carrier's
	// answer to the submit is not recorded yet) is ErrDeliveryPending: keep
	// it and apply it later.
	ApplyReceipt(ctx context.Context, messageID int64, recipient string, delivered bool, errorCode string, at time.Time) error
	// ClaimUnreceipted returns up to limit Submitted deliveries whose
	// submit (or last resubmit) was before cutoff and marks them resubmitted
	// now, so that of several workers exactly one resubmits each. It is how
	// a receipt lost with a carrier's memory (a node that died with the
	// simulator's pending receipts, a gateway that forgot) is asked for again.
	ClaimUnreceipted(ctx context.Context, cutoff time.Time, limit int) ([]*Delivery, error)
	// DeliveryByCarrierID returns the message and recipient of the
	// external delivery a carrier accepted under carrierID (the newest, if
	// a carrier reused an id), or ErrNotFound. It is how a receipt that
	// outlived the carrier's memory (an SMSC resending it after a restart)
	// finds its delivery.
	DeliveryByCarrierID(ctx context.Context, carrierID string) (messageID int64, recipient string, err error)
	// ListDeliveries returns up to limit deliveries in state, newest first:
	// the delivery queue as the admin console shows it.
	ListDeliveries(ctx context.Context, state DeliveryState, limit int) ([]*Delivery, error)
}

// ErrLeaseLost is returned when a worker completes a delivery it no longer
// holds: its lease expired and another worker took it, or it is done.
var ErrLeaseLost = errors.New("delivery lease lost")

// ErrRecipientGone is DeliverInternal's result for a delivery whose
// recipient mailbox no longer exists: the delivery has been failed with
// RecipientGoneCode (it is recorded, not to be retried).
var ErrRecipientGone = errors.New("the recipient's mailbox no longer exists")

// ErrDeliveryPending is returned for a receipt that arrived before the
// submit it reports on was recorded.
var ErrDeliveryPending = errors.New("delivery receipt before its submit was recorded")

// DepartmentStore keeps the members of Department extensions, whom a pager
// message to the department reaches.
type DepartmentStore interface {
	AddDepartmentMember(ctx context.Context, accountID, departmentID, extensionID int64) error
	DepartmentMembers(ctx context.Context, accountID, departmentID int64) ([]*Extension, error)
}
