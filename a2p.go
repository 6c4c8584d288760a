package switchboard

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// High-volume (A2P) SMS, RingCentral's `a2p-sms` API: one request carries a
// batch of messages from one number with the A2PSmsSender feature; the batch
// is stored whole before the answer and expanded into the outbox by a
// worker, each message then sent as an ordinary SMS from the sender's
// mailbox (same deliveries, carrier, receipts and retries).

// ScopeA2PSMS is RingCentral's app permission of the a2p-sms endpoints.
const ScopeA2PSMS = "A2PSMS"

// A2PBatchStatus is a batch's status as RingCentral spells it.
type A2PBatchStatus string

const (
	// A2PQueued is a filter value of RingCentral's batch list; a batch
	// answers Processing from its creation on, as RingCentral's does.
	A2PQueued A2PBatchStatus = "Queued"
	// A2PProcessing: stored, being expanded, or some message is still Queued.
	A2PProcessing A2PBatchStatus = "Processing"
	// A2PSent is in RingCentral's enum; Switchboard goes from Processing
	// straight to Completed.
	A2PSent A2PBatchStatus = "Sent"
	// A2PCompleted: every message has left Queued (sent, delivered or failed).
	A2PCompleted A2PBatchStatus = "Completed"
)

// Error codes of A2P recipients, RingCentral's.
const (
	// CodeInvalidRecipient: a recipient number that is not a phone number.
	CodeInvalidRecipient = "CMN-100"
	// CodeOptedOut is the error of a message to a recipient who opted out
	// of the sender number (RingCentral's SMS-RC-413).
	CodeOptedOut = "SMS-RC-413"
)

// A2PItem is one message of a batch request: a recipient and, when it
// overrides the batch's, its text.
type A2PItem struct {
	To   string
	Text string // empty: the batch's text
}

// A2PBatchCreate is a batch to store: the sender (checked by the caller:
// its own number with A2PSmsSender) and the accepted messages, recipients
// normalised.
type A2PBatchCreate struct {
	AccountID, ExtensionID int64
	From                   string
	SenderName             string
	Text                   string
	Items                  []A2PItem
}

// A2PRejected is a message of a batch request that was not accepted.
type A2PRejected struct {
	Index       int
	To          []string
	ErrorCode   string
	Description string
}

// A2PBatch is a stored batch.
type A2PBatch struct {
	ID                     int64
	AccountID, ExtensionID int64
	From                   string
	SenderName             string
	Text                   string
	BatchSize              int
	// Expanded is how many of its messages are in the outbox (items
	// 0..Expanded-1).
	Expanded       int
	ProcessedCount int // messages no longer Queued
	Status         A2PBatchStatus
	Created        time.Time
	LastModified   time.Time
}

// A2PBatchFilter selects an account's batches, newest first.
type A2PBatchFilter struct {
	AccountID        int64
	ExtensionID      int64 // the sender's mailbox; 0: every mailbox of the account
	From             string
	Statuses         []A2PBatchStatus
	DateFrom, DateTo time.Time // zero: unbounded
	BeforeID         int64     // paging: only batches with a smaller id; 0: from the newest
	Limit            int
}

// A2PMessage is a message of a batch: the sender's copy in its mailbox.
type A2PMessage struct {
	*Message
	BatchID int64
}

// A2PMessageFilter selects an account's A2P messages, newest first.
type A2PMessageFilter struct {
	AccountID        int64
	ExtensionID      int64 // the sender's mailbox; 0: every mailbox of the account
	BatchID          int64 // 0: any
	Directions       []Direction
	PhoneNumbers     []string // from or to one of them
	DateFrom, DateTo time.Time
	BeforeID         int64
	Limit            int
}

// A2PStatusCount is how many messages have a status and error code.
type A2PStatusCount struct {
	Status    MessageStatus
	ErrorCode string
	Count     int
}

// OptOutStatus is whether a recipient takes messages from a sender number.
type OptOutStatus string

const (
	OptOut OptOutStatus = "OptOut"
	OptIn  OptOutStatus = "OptIn"
)

// OptOutSource says who set an opt-out record, as RingCentral names it.
type OptOutSource string

const (
	OptOutByRecipient OptOutSource = "Recipient" // an inbound keyword
	OptOutByAccount   OptOutSource = "Account"   // bulk-assign through the API
)

// OptOutRecord is the latest word of a recipient about a sender number.
type OptOutRecord struct {
	From, To  string
	AccountID int64
	Status    OptOutStatus
	Source    OptOutSource
	Updated   time.Time
}

// OptOutFilter selects an account's opt-out records.
type OptOutFilter struct {
	AccountID int64
	From, To  string       // empty: any
	Status    OptOutStatus // empty: both
	// After pages: records after (From, To) in that order.
	AfterFrom, AfterTo string
	Limit              int
}

// A2PStore keeps batches, their expansion into the outbox and opt-outs.
type A2PStore interface {
	// CreateA2PBatch stores a Processing batch and its items in one
	// transaction.
	CreateA2PBatch(ctx context.Context, c A2PBatchCreate) (*A2PBatch, error)
	// A2PBatch returns a batch of the account (ErrNotFound otherwise).
	A2PBatch(ctx context.Context, accountID, id int64) (*A2PBatch, error)
	// ListA2PBatches returns up to f.Limit batches, newest first, and
	// whether more follow.
	ListA2PBatches(ctx context.Context, f A2PBatchFilter) ([]*A2PBatch, bool, error)
	// ClaimA2PBatch leases to owner the oldest batch that still has items
	// to expand and whose lease has run out; ErrNotFound when none.
	ClaimA2PBatch(ctx context.Context, owner string, lease time.Duration) (*A2PBatch, error)
	// A2PItems returns up to limit items of a batch from index from on.
	A2PItems(ctx context.Context, batchID int64, from, limit int) ([]A2PItem, error)
	// ExpandA2P puts items from..from+len(msgs)-1 of a batch into the
	// outbox as CreateOutbound would (each message tagged with its batch
	// and index; a message with no recipients is stored SendingFailed with
	// its DeliveryErrorCode), moves the batch's cursor and extends owner's
	// lease, in one transaction. ErrLeaseLost when owner no longer holds
	// the batch or the cursor is not at from (another worker did it).
	ExpandA2P(ctx context.Context, owner string, batchID int64, from int, msgs []OutboundCreate, lease time.Duration) error
	// CompleteA2PBatches marks Completed every expanded batch none of whose
	// messages is still Queued, and returns them.
	CompleteA2PBatches(ctx context.Context) ([]*A2PBatch, error)
	// A2PMessages returns up to f.Limit messages, newest first, and
	// whether more follow.
	A2PMessages(ctx context.Context, f A2PMessageFilter) ([]*A2PMessage, bool, error)
	// A2PMessage returns one A2P message of the account.
	A2PMessage(ctx context.Context, accountID, id int64) (*A2PMessage, error)
	// A2PStatuses counts the messages f selects (Limit and paging ignored)
	// by status and error code.
	A2PStatuses(ctx context.Context, f A2PMessageFilter) ([]A2PStatusCount, error)
	// SetOptOuts records status of each recipient for the sender number
	// (of account accountID), replacing what was there.
	SetOptOuts(ctx context.Context, accountID int64, from string, to []string, status OptOutStatus, source OptOutSource) error
	// OptedOut returns which of the recipients opted out of from.
	OptedOut(ctx context.Context, from string, to []string) (map[string]bool, error)
	// OptOuts lists the records f selects, ordered by (From, To), and
	// whether more follow.
	OptOuts(ctx context.Context, f OptOutFilter) ([]*OptOutRecord, bool, error)
}

// Keywords a recipient texts to a sender number, as carriers and
// RingCentral honour them (case and surrounding space ignored).
var (
	optOutWords = map[string]bool{"STOP": true, "STOPALL": true, "UNSUBSCRIBE": true, "CANCEL": true, "END": true, "QUIT": true}
	optInWords  = map[string]bool{"START": true, "UNSTOP": true, "YES": true}
)

// Keyword is what an inbound text asks of a sender number.
type Keyword int

const (
	KeywordNone Keyword = iota
	KeywordOptOut
	KeywordOptIn
	KeywordHelp
)

// ParseKeyword reads an inbound SMS text as an opt-out, opt-in or help
// keyword: the whole text, one word.
func ParseKeyword(text string) Keyword {
	w := strings.ToUpper(strings.Trim(strings.TrimSpace(text), ".!"))
	switch {
	case optOutWords[w]:
		return KeywordOptOut
	case optInWords[w]:
		return KeywordOptIn
	case w == "HELP" || w == "INFO":
		return KeywordHelp
	}
	return KeywordNone
}

// NormalizeA2PNumber reads a recipient of an A2P request: E.164, where
// RingCentral's own examples also leave out the "+".
func NormalizeA2PNumber(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s != "" && s[0] >= '0' && s[0] <= '9' {
		s = "+" + s
	}
	return NormalizeE164(s)
}

// A2POutbound is one message of a batch as it enters the outbox: an SMS
// from the batch's number in the sender's mailbox, as `…/sms` stores one.
// An opted-out recipient gets the message stored SendingFailed with
// CodeOptedOut and no delivery, so it is never sent.
func A2POutbound(b *A2PBatch, it A2PItem, to DeliveryTarget, optedOut bool) OutboundCreate {
	text := it.Text
	if text == "" {
		text = b.Text
	}
	c := OutboundSMS(b.AccountID, b.ExtensionID, Party{PhoneNumber: b.From, Name: b.SenderName}, []DeliveryTarget{to}, text, nil)
	if optedOut {
		c.Message.MessageStatus = StatusSendingFailed
		c.Message.To[0].MessageStatus = StatusSendingFailed
		c.Message.DeliveryErrorCode = CodeOptedOut
		c.Recipients = nil
	}
	return c
}

// A2PMessageRequest is one message of a batch request as sent: its
// recipients and, when given, its own text.
type A2PMessageRequest struct {
	To   []string
	Text *string
}

// NewA2PBatch checks a batch request's messages and returns the batch to
// store (c with its Items set) and the messages rejected: a recipient
// count other than one or a malformed number (CodeInvalidRecipient), no
// text or one over MaxSMSText (CodeInvalidParameter), a recipient that
// optedOut reports for c.From (CodeOptedOut). The request itself is
// refused, naming the field, when it has no message, more than
// maxMessages, a batch text over the limit, or no message left to send.
func NewA2PBatch(c A2PBatchCreate, msgs []A2PMessageRequest, maxMessages int, optedOut func(to []string) (map[string]bool, error)) (A2PBatchCreate, []A2PRejected, error) {
	if len(msgs) == 0 {
		return c, nil, InvalidParam("messages", "", "Parameter [messages] needs at least one message")
	}
	if len(msgs) > maxMessages {
		return c, nil, InvalidParam("messages", strconv.Itoa(len(msgs)), "A batch has at most %d messages; split it into several batches", maxMessages)
	}
	if n := UTF16Len(c.Text); n > MaxSMSText {
		return c, nil, InvalidParam("text", "", "Parameter [text] is %d characters long; the limit is %d (UTF-16 code units)", n, MaxSMSText)
	}
	var rejected []A2PRejected
	reject := func(i int, to []string, code, format string, args ...any) {
		if to == nil {
			to = []string{}
		}
		rejected = append(rejected, A2PRejected{Index: i, To: to, ErrorCode: code, Description: fmt.Sprintf(format, args...)})
	}
	c.Items = make([]A2PItem, 0, len(msgs))
	index := make([]int, 0, len(msgs)) // request index of each item
	for i, m := range msgs {
		if len(m.To) != 1 {
			reject(i, m.To, CodeInvalidRecipient, "A message has exactly one recipient in [to]; it has %d", len(m.To))
			continue
		}
		n, err := NormalizeA2PNumber(m.To[0])
		if err != nil {
			reject(i, m.To, CodeInvalidRecipient, "The recipient is invalid: %v", err)
			continue
		}
		text := c.Text
		if m.Text != nil {
			text = *m.Text
		}
		if strings.TrimSpace(text) == "" {
			reject(i, m.To, CodeInvalidParameter, "The message has no text: give [text] in the message or the batch")
			continue
		}
		if l := UTF16Len(text); l > MaxSMSText {
			reject(i, m.To, CodeInvalidParameter, "The text is %d characters long; the limit is %d (UTF-16 code units)", l, MaxSMSText)
			continue
		}
		it := A2PItem{To: n}
		if text != c.Text {
			it.Text = text
		}
		c.Items = append(c.Items, it)
		index = append(index, i)
	}
	if len(c.Items) > 0 {
		to := make([]string, len(c.Items))
		for i, it := range c.Items {
			to[i] = it.To
		}
		out, err := optedOut(to)
		if err != nil {
			return c, nil, err
		}
		kept := c.Items[:0]
		for i, it := range c.Items {
			if out[it.To] {
				reject(index[i], []string{it.To}, CodeOptedOut, "The recipient has opted out of messages from %s", c.From)
				continue
			}
			kept = append(kept, it)
		}
		c.Items = kept
	}
	slices.SortStableFunc(rejected, func(a, b A2PRejected) int { return a.Index - b.Index })
	if len(c.Items) == 0 {
		e := InvalidParam("messages", "", "No message of the batch can be sent: every recipient was rejected")
		for _, rj := range rejected[:min(len(rejected), 10)] {
			e.Params = append(e.Params, ParamError{Code: rj.ErrorCode, Name: fmt.Sprintf("messages[%d].to", rj.Index),
				Value: strings.Join(rj.To, ","), Message: rj.Description})
		}
		return c, nil, e
	}
	return c, rejected, nil
}
