package switchboard

import (
	"context"
	"errors"
	"strconv"
)

// The rules of sending that more than one adapter needs: which recipients a
// message has, what a recipient's copy looks like, what the sender's status
// is while its deliveries progress, and the failure codes a delivery ends
// with. internal/outbound decides a send with them, internal/delivery and
// internal/sqlstore carry it out with them; none of them re-decides.

// NormalizeRecipients is the one rule for the recipients of an outbound
// message: at least one and at most limit; E.164 numbers (extension
// numbers for Pager); a recipient named twice (in any spelling of the
// number) is one recipient, as RingCentral sends one message per distinct
// number. The result is in the order given.
func NormalizeRecipients(typ MessageType, raw []string, limit int) ([]string, error) {
	if len(raw) == 0 {
		return nil, InvalidParam("to", "", "Parameter [to] needs at least one recipient")
	}
	if limit <= 0 || limit > MaxRecipients {
		limit = MaxRecipients
	}
	seen := make(map[string]bool, len(raw))
	out := make([]string, 0, len(raw))
	for _, r := range raw {
		n, err := normalizeRecipient(typ, r)
		if err != nil {
			return nil, err
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	if len(out) > limit {
		return nil, InvalidParam("to", strconv.Itoa(len(out)), "At most %d recipients per message", limit)
	}
	return out, nil
}

func normalizeRecipient(typ MessageType, r string) (string, error) {
	if typ == TypePager {
		if r == "" {
			return "", InvalidParam("to.extensionNumber", r, "A recipient needs an extension number")
		}
		return r, nil
	}
	n, err := NormalizeE164(r)
	if err != nil {
		return "", InvalidParam("to.phoneNumber", r, "Recipient %q: %v", r, err)
	}
	return n, nil
}

// RecipientKey is what a delivery's recipient is matched against in a
// message's to[]: the extension number for Pager, the phone number
// otherwise.
func RecipientKey(typ MessageType, p Party) string {
	if typ == TypePager {
		return p.ExtensionNumber
	}
	return p.PhoneNumber
}

// Validate checks an outbound message before it is stored: an Outbound
// message, Queued (every delivery starts Pending), whose recipients follow
// NormalizeRecipients and are normalised in place. It fills the message's
// defaults as MessageCreate.Validate does.
func (c *OutboundCreate) Validate() error {
	if c.Message.Direction != Outbound {
		return InvalidParam("direction", string(c.Message.Direction), "An outbound message must have direction Outbound")
	}
	c.Message.MessageStatus = StatusQueued
	if err := c.Message.Validate(); err != nil {
		return err
	}
	raw := make([]string, len(c.Recipients))
	for i, r := range c.Recipients {
		raw[i] = r.Recipient
	}
	norm, err := NormalizeRecipients(c.Message.Type, raw, MaxRecipients)
	if err != nil {
		return err
	}
	targets := make([]DeliveryTarget, 0, len(norm))
	at := map[string]int{}
	for i, r := range c.Recipients {
		n := raw[i]
		if nn, err := normalizeRecipient(c.Message.Type, n); err == nil {
			n = nn
		}
		if j, dup := at[n]; dup {
			// The same recipient twice: one delivery, internal if either said so.
			targets[j].Internal = targets[j].Internal || r.Internal
			continue
		}
		at[n] = len(targets)
		r.Recipient = n
		targets = append(targets, r)
	}
	c.Recipients = targets
	for i := range c.Message.To {
		if _, ok := at[RecipientKey(c.Message.Type, c.Message.To[i])]; ok {
			c.Message.To[i].MessageStatus = StatusQueued
		}
	}
	return nil
}

// DeliveryOutcome is where one delivery of a message stands, as the
// sender's status is computed from it.
type DeliveryOutcome struct {
	Recipient string
	State     DeliveryState
	ErrorCode string
	// ReceiptAt is when the delivery was confirmed (stored internally or a
	// carrier's receipt); zero before. A Failed delivery with a receipt
	// failed by a carrier report after the carrier had accepted it.
	ReceiptAt int64
}

// ReceiptFailed reports whether a Failed delivery failed by a carrier
// report, after the carrier had accepted it.
func (o DeliveryOutcome) ReceiptFailed() bool {
	return o.State == DeliveryFailed && o.ReceiptAt != 0
}

// PartyStatus is the to[].messageStatus of one recipient of the sender's
// message.
func PartyStatus(typ MessageType, o DeliveryOutcome) MessageStatus {
	switch o.State {
	case DeliveryPending:
		return StatusQueued
	case DeliverySubmitted:
		return StatusSent
	case DeliveryDone:
		if typ == TypeSMS {
			return StatusDelivered
		}
		return StatusSent
	}
	if typ == TypeSMS && o.ReceiptFailed() {
		return StatusDeliveryFailed
	}
	return StatusSendingFailed
}

// AggregateStatus is the sender's messageStatus over all its deliveries:
// any Pending → Queued; else any Failed → SendingFailed, or DeliveryFailed
// for SMS when every failure came from a carrier report; else, for SMS with
// every delivery Done (internal ones, or a delivered receipt), Delivered;
// else Sent.
func AggregateStatus(typ MessageType, os []DeliveryOutcome) MessageStatus {
	var pending, failed, sendingFailed, notDone bool
	for _, o := range os {
		switch o.State {
		case DeliveryPending:
			pending = true
		case DeliveryFailed:
			failed = true
			if !o.ReceiptFailed() {
				sendingFailed = true
			}
		}
		if o.State != DeliveryDone {
			notDone = true
		}
	}
	switch {
	case pending:
		return StatusQueued
	case failed && (sendingFailed || typ != TypeSMS):
		return StatusSendingFailed
	case failed:
		return StatusDeliveryFailed
	case typ == TypeSMS && !notDone:
		return StatusDelivered
	}
	return StatusSent
}

// Failure codes a delivery ends with when the carrier is not the one
// giving it (RingCentral's: SMS errorCode, fax faxErrorCode, pager).
const (
	// FailureSenderGone: the sender's message was removed before delivery.
	FailureSenderGone = "InternalError"
)

// CarrierFailureCode is the error of a delivery the carrier refused as
// invalid, or kept failing temporarily until it ran out of tries.
func CarrierFailureCode(t MessageType) string {
	if t == TypeFax {
		return "CallFailed"
	}
	return "SMS-UP-500"
}

// RecipientGoneCode is the error of an internal delivery whose recipient
// no longer exists (the number was reassigned or the extension deleted or
// disabled since the send).
func RecipientGoneCode(t MessageType) string {
	switch t {
	case TypeFax:
		return "UserNotFound"
	case TypePager:
		return "MSG-324"
	}
	return "SMS-RC-410"
}

// InboundCopy is the message a recipient mailbox gets for a stored
// outbound message: Inbound, Unread and Received, the sender's parties
// without the sender's per-recipient delivery state (the sender's to
// follow), the same conversation and pager department mark, and the
// attachments a recipient sees (a fax's rendered document, not the
// sender's sources). Built from a stored (validated) message it is valid
// as it is. The attachments' bytes are shared with sent's.
func InboundCopy(sent *Message, to Mailbox) MessageCreate {
	c := MessageCreate{
		AccountID: to.AccountID, ExtensionID: to.ExtensionID, Type: sent.Type, Direction: Inbound,
		Availability: Alive, MessageStatus: StatusReceived, ReadStatus: Unread, Priority: sent.Priority,
		Subject: sent.Subject, From: sent.From, ConversationID: sent.ConversationID,
		TypeDetails: TypeDetails{SegmentCount: sent.SegmentCount, FaxPageCount: sent.FaxPageCount,
			FaxResolution: sent.FaxResolution, PgToDepartment: sent.PgToDepartment},
	}
	c.To = make([]Party, len(sent.To))
	for i, p := range sent.To {
		p.MessageStatus, p.FaxErrorCode = "", ""
		c.To[i] = p
	}
	for _, a := range sent.Attachments {
		if sent.Type == TypeFax && a.Type == AttachmentSourceDocument {
			continue
		}
		cp := *a
		cp.ID, cp.MessageID = 0, 0
		c.Attachments = append(c.Attachments, &cp)
	}
	return c
}

// NumberDirectory finds the extension of this server that has a phone
// number, if any (ErrNotFound when none has).
type NumberDirectory interface {
	PhoneNumberByNumber(ctx context.Context, number string) (*PhoneNumber, error)
}

// Route is where a message from the extension senderID to number goes:
// to the mailbox of the extension of this server that owns the number
// when it reaches one (none when that is the sender itself, which keeps
// only its outbound copy), else to the carrier. Every way of sending
// routes by this one rule, at send time.
func Route(ctx context.Context, dir NumberDirectory, number string, senderID int64) (DeliveryTarget, error) {
	pn, err := dir.PhoneNumberByNumber(ctx, number)
	if errors.Is(err, ErrNotFound) {
		return routeNumber(number, nil, senderID), nil
	}
	if err != nil {
		return DeliveryTarget{}, err
	}
	return routeNumber(number, pn, senderID), nil
}

// NumbersDirectory finds the directory entries of many numbers at once.
type NumbersDirectory interface {
	// PhoneNumbersByNumber maps each of numbers (as given) that a number
	// of this server is, in any spelling, to its entry.
	PhoneNumbersByNumber(ctx context.Context, numbers []string) (map[string]*PhoneNumber, error)
}

// RouteAll is Route for each of numbers, with one read of the directory
// for all of them (a high-volume batch routes hundreds at a time).
func RouteAll(ctx context.Context, dir NumbersDirectory, numbers []string, senderID int64) (map[string]DeliveryTarget, error) {
	pns, err := dir.PhoneNumbersByNumber(ctx, numbers)
	if err != nil {
		return nil, err
	}
	out := make(map[string]DeliveryTarget, len(numbers))
	for _, n := range numbers {
		out[n] = routeNumber(n, pns[n], senderID)
	}
	return out, nil
}

// routeNumber is Route's rule, given pn, the number's entry in the
// directory (nil when no extension of this server has it).
func routeNumber(number string, pn *PhoneNumber, senderID int64) DeliveryTarget {
	t := DeliveryTarget{Recipient: number}
	if pn == nil || !pn.ReachesMailbox() {
		return t
	}
	t.Internal = true
	if pn.ExtensionID != senderID {
		t.Mailboxes = []Mailbox{{AccountID: pn.AccountID, ExtensionID: pn.ExtensionID}}
	}
	return t
}

// OutboundSMS is the sender's copy of an SMS from the mailbox (accountID,
// extensionID) to the routed recipients, as the outbox takes it: Queued,
// the text as its subject and Text attachment, and, with media, an MMS
// (no segment count). Every way of sending text builds it here: the API,
// A2P batches and the network's keyword replies.
func OutboundSMS(accountID, extensionID int64, from Party, to []DeliveryTarget, text string, media []*Attachment) OutboundCreate {
	c := OutboundCreate{Message: MessageCreate{
		AccountID: accountID, ExtensionID: extensionID, Type: TypeSMS, Direction: Outbound,
		MessageStatus: StatusQueued, ReadStatus: Read, Subject: text, From: from,
	}, Recipients: to}
	if text != "" {
		c.Message.Attachments = append(c.Message.Attachments, &Attachment{Type: AttachmentText, ContentType: "text/plain", Content: []byte(text)})
	}
	c.Message.Attachments = append(c.Message.Attachments, media...)
	if len(media) == 0 {
		c.Message.SegmentCount = SMSSegments(text)
	}
	for _, t := range to {
		c.Message.To = append(c.Message.To, Party{PhoneNumber: t.Recipient, MessageStatus: StatusQueued})
	}
	return c
}
