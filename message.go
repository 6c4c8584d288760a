package switchboard

import (
	"context"
	"hash/fnv"
	"io"
	"slices"
	"sort"
	"strings"
	"time"
)

// MessageType is RingCentral's message type. MMS is SMS with MmsAttachment
// attachments.
type MessageType string

const (
	TypeSMS       MessageType = "SMS"
	TypeFax       MessageType = "Fax"
	TypePager     MessageType = "Pager"
	TypeVoiceMail MessageType = "VoiceMail"
	TypeText      MessageType = "Text"
)

// Direction of a message relative to the mailbox owner.
type Direction string

const (
	Inbound  Direction = "Inbound"
	Outbound Direction = "Outbound"
)

// Availability is where a message is in its lifecycle.
type Availability string

const (
	Alive   Availability = "Alive"
	Deleted Availability = "Deleted"
	Purged  Availability = "Purged"
)

// ReadStatus of a message.
type ReadStatus string

const (
	Read   ReadStatus = "Read"
	Unread ReadStatus = "Unread"
)

// MessageStatus is the delivery state of a message.
type MessageStatus string

const (
	StatusQueued         MessageStatus = "Queued"
	StatusSent           MessageStatus = "Sent"
	StatusDelivered      MessageStatus = "Delivered"
	StatusDeliveryFailed MessageStatus = "DeliveryFailed"
	StatusSendingFailed  MessageStatus = "SendingFailed"
	StatusReceived       MessageStatus = "Received"
)

// AttachmentType is RingCentral's attachment type.
type AttachmentType string

const (
	AttachmentText               AttachmentType = "Text"
	AttachmentMms                AttachmentType = "MmsAttachment"
	AttachmentSourceDocument     AttachmentType = "SourceDocument"
	AttachmentRenderedDocument   AttachmentType = "RenderedDocument"
	AttachmentAudioRecording     AttachmentType = "AudioRecording"
	AttachmentAudioTranscription AttachmentType = "AudioTranscription"
)

// Enumerations as sets, for parsing and validation.
var (
	MessageTypes    = []MessageType{TypeSMS, TypeFax, TypePager, TypeVoiceMail, TypeText}
	Directions      = []Direction{Inbound, Outbound}
	Availabilities  = []Availability{Alive, Deleted, Purged}
	ReadStatuses    = []ReadStatus{Read, Unread}
	MessageStatuses = []MessageStatus{StatusQueued, StatusSent, StatusDelivered, StatusDeliveryFailed, StatusSendingFailed, StatusReceived}
	AttachmentTypes = []AttachmentType{AttachmentText, AttachmentMms, AttachmentSourceDocument, AttachmentRenderedDocument, AttachmentAudioRecording, AttachmentAudioTranscription}
)

// Party is the sender or one recipient of a message.
type Party struct {
	PhoneNumber     string        `json:"phoneNumber,omitempty"`
	ExtensionNumber string        `json:"extensionNumber,omitempty"`
	ExtensionID     string        `json:"extensionId,omitempty"`
	Name            string        `json:"name,omitempty"`
	Location        string        `json:"location,omitempty"`
	Target          bool          `json:"target,omitempty"`
	MessageStatus   MessageStatus `json:"messageStatus,omitempty"`
	FaxErrorCode    string        `json:"faxErrorCode,omitempty"`
}

// Attachment is one part of a message's content. Content is nil when the
// attachment is read as metadata only.
type Attachment struct {
	ID          int64
	MessageID   int64
	Type        AttachmentType
	ContentType string
	FileName    string
	Size        int64
	VMDuration  int // seconds, voicemail audio only
	Height      int
	Width       int
	Content     []byte
}

// Message is one record of a mailbox (the unified message store of one
// extension).
type Message struct {
	ID             int64
	AccountID      int64
	ExtensionID    int64 // the mailbox owner
	Type           MessageType
	Direction      Direction
	Availability   Availability
	MessageStatus  MessageStatus
	ReadStatus     ReadStatus
	Priority       string // Normal or High
	Subject        string
	From           Party
	To             []Party
	ConversationID int64 // 0: none
	Created        time.Time
	LastModified   time.Time
	Attachments    []*Attachment // metadata only
	TypeDetails
}

// Parties returns the normalized phone numbers of everyone on the message,
// sorted and without repeats.
func (m *Message) Parties() []string {
	seen := map[string]bool{}
	var out []string
	add := func(p Party) {
		if p.PhoneNumber != "" && !seen[p.PhoneNumber] {
			seen[p.PhoneNumber] = true
			out = append(out, p.PhoneNumber)
		}
	}
	add(m.From)
	for _, p := range m.To {
		add(p)
	}
	sort.Strings(out)
	return out
}

// ConversationIDFor derives the conversation of a set of parties: the same
// parties give the same id on every node and in every mailbox, so the
// sender's and the recipients' copies share a conversation without any
// coordination. Ids stay below 2^53 so JavaScript clients keep them exact.
func ConversationIDFor(parties []string) int64 {
	if len(parties) == 0 {
		return 0
	}
	sorted := append([]string(nil), parties...)
	sort.Strings(sorted)
	h := fnv.New64a()
	_, _ = io.WriteString(h, strings.Join(sorted, ","))
	id := int64(h.Sum64() & (1<<53 - 1))
	if id == 0 {
		id = 1
	}
	return id
}

// TypeDetails are RingCentral's type-prefixed message fields: each applies
// only to messages of its type (sms*, fax*, vm*, pg*), and the API shows it
// only there.
type TypeDetails struct {
	DeliveryErrorCode     string    // SMS: why delivery failed
	SegmentCount          int       // SMS
	SMSDeliveryTime       time.Time // SMS: when the carrier reported delivery
	SMSSendingAttempts    int       // outbound SMS
	FaxPageCount          int       // Fax
	FaxResolution         string    // Fax: High or Low
	CoverIndex            int       // outbound Fax; 0: no cover page
	CoverPageText         string    // outbound Fax
	VMTranscriptionStatus string    // VoiceMail
	PgToDepartment        bool      // Pager: a recipient is a Department
}

// MessageCreate is the input to store a new message. The store fills ids,
// times and the change log.
type MessageCreate struct {
	AccountID     int64
	ExtensionID   int64
	Type          MessageType
	Direction     Direction
	MessageStatus MessageStatus // default: Received inbound, Sent outbound
	ReadStatus    ReadStatus    // default: Unread inbound, Read outbound
	Availability  Availability  // default Alive
	Priority      string
	Subject       string
	From          Party
	To            []Party
	// ConversationID is derived from the parties for SMS and Pager when 0.
	ConversationID int64
	// Created is the creation time; the zero value means the store's now.
	Created     time.Time
	Attachments []*Attachment
	TypeDetails
	// SourceID is the sender's own id of an inbound message (a carrier's
	// message id, an email's Message-ID), so that a message handed over
	// again (a carrier redelivering after a lost acknowledgement, a mail
	// server retrying) is stored once: a mailbox holds at most one message
	// per SourceID. Empty: no such guard.
	SourceID string
	// A2PBatchID and A2PIndex place a message of a high-volume (A2P) batch
	// in it; 0: not of a batch.
	A2PBatchID int64
	A2PIndex   int
}

// Limits on stored messages that do not depend on configuration.
const (
	MaxSubjectLength     = 10000
	MaxRecipients        = 100
	MaxAttachments       = 100
	MaxFileNameLength    = 255
	MaxSourceIDLength    = 255
	MaxContentTypeLength = 255
)

// Validate checks a MessageCreate and fills its defaults.
func (c *MessageCreate) Validate() error {
	if c.AccountID == 0 || c.ExtensionID == 0 {
		return InvalidParam("extensionId", "", "A message needs a mailbox (account and extension)")
	}
	if !oneOf(c.Type, MessageTypes) {
		return InvalidParam("type", string(c.Type), "Message type must be one of %s", join(MessageTypes))
	}
	if !oneOf(c.Direction, Directions) {
		return InvalidParam("direction", string(c.Direction), "Direction must be Inbound or Outbound")
	}
	if c.MessageStatus == "" {
		c.MessageStatus = StatusSent
		if c.Direction == Inbound {
			c.MessageStatus = StatusReceived
		}
	} else if !oneOf(c.MessageStatus, MessageStatuses) {
		return InvalidParam("messageStatus", string(c.MessageStatus), "Message status must be one of %s", join(MessageStatuses))
	}
	if c.ReadStatus == "" {
		c.ReadStatus = Read
		if c.Direction == Inbound {
			c.ReadStatus = Unread
		}
	} else if !oneOf(c.ReadStatus, ReadStatuses) {
		return InvalidParam("readStatus", string(c.ReadStatus), "Read status must be Read or Unread")
	}
	if c.Availability == "" {
		c.Availability = Alive
	} else if !oneOf(c.Availability, Availabilities) {
		return InvalidParam("availability", string(c.Availability), "Availability must be Alive, Deleted or Purged")
	}
	switch c.Priority {
	case "":
		c.Priority = "Normal"
	case "Normal", "High":
	default:
		return InvalidParam("priority", c.Priority, "Priority must be Normal or High")
	}
	if len(c.SourceID) > MaxSourceIDLength {
		return InvalidParam("sourceId", c.SourceID, "Source id is longer than %d characters", MaxSourceIDLength)
	}
	if len(c.Subject) > MaxSubjectLength {
		return InvalidParam("subject", "", "Subject is longer than %d bytes", MaxSubjectLength)
	}
	if len(c.To) > MaxRecipients {
		return InvalidParam("to", "", "A message has at most %d recipients", MaxRecipients)
	}
	// c is usually a copy of the caller's value that shares its slices:
	// normalise into fresh ones, never through the caller's (which another
	// goroutine may be validating at the same time).
	c.To = slices.Clone(c.To)
	if err := normalizeParty(&c.From, "from"); err != nil {
		return err
	}
	for i := range c.To {
		if err := normalizeParty(&c.To[i], "to"); err != nil {
			return err
		}
	}
	if len(c.Attachments) > MaxAttachments {
		return InvalidParam("attachments", "", "A message has at most %d attachments", MaxAttachments)
	}
	atts := make([]*Attachment, len(c.Attachments))
	for i, shared := range c.Attachments {
		a := *shared // the content bytes stay shared; they are never written
		atts[i] = &a
		if !oneOf(a.Type, AttachmentTypes) {
			return InvalidParam("attachments.type", string(a.Type), "Attachment type must be one of %s", join(AttachmentTypes))
		}
		if a.ContentType == "" || len(a.ContentType) > MaxContentTypeLength {
			return InvalidParam("attachments.contentType", a.ContentType, "Attachment content type is required (at most %d characters)", MaxContentTypeLength)
		}
		if len(a.FileName) > MaxFileNameLength {
			return InvalidParam("attachments.fileName", a.FileName, "File name is longer than %d characters", MaxFileNameLength)
		}
		a.Size = int64(len(a.Content))
	}
	if len(atts) > 0 {
		c.Attachments = atts
	}
	if c.ConversationID == 0 && (c.Type == TypeSMS || c.Type == TypePager) {
		m := Message{From: c.From, To: c.To}
		c.ConversationID = ConversationIDFor(m.Parties())
	}
	return nil
}

func normalizeParty(p *Party, name string) error {
	if p.PhoneNumber == "" {
		return nil
	}
	n, err := NormalizeE164(p.PhoneNumber)
	if err != nil {
		return InvalidParam(name+".phoneNumber", p.PhoneNumber, "%v", err)
	}
	p.PhoneNumber = n
	return nil
}

// MessageFilter selects messages of one mailbox, newest first. Multi-valued
// fields are ORed within themselves and ANDed with the others; an empty
// field does not filter.
type MessageFilter struct {
	AccountID             int64
	ExtensionID           int64
	Availability          []Availability
	Direction             []Direction
	Types                 []MessageType
	ReadStatus            []ReadStatus
	ConversationID        int64 // 0: any
	PhoneNumber           string
	DateFrom, DateTo      time.Time // creation time in [DateFrom, DateTo); zero: open
	DistinctConversations bool
	Offset                int
	// Limit is how many messages to return. The store returns up to Limit
	// and reports whether more exist, so callers page without counting.
	Limit int
}

// MessagePage is one page of a list.
type MessagePage struct {
	Messages []*Message
	More     bool // more messages match after this page
}

// MessageUpdate changes a message; nil fields are left alone.
type MessageUpdate struct {
	ReadStatus   *ReadStatus
	Availability *Availability
}

// MessageDeleteFilter selects messages of one mailbox to delete in bulk.
type MessageDeleteFilter struct {
	AccountID       int64
	ExtensionID     int64
	ConversationIDs []int64       // empty: every conversation
	Types           []MessageType // empty: every type
	DateTo          time.Time     // created before; zero: now
	Purge           bool
}

// ApplyDelete returns the availability a message moves to when deleted: a
// first delete makes it Deleted; a delete of a Deleted message, or a delete
// with purge, makes it Purged.
func ApplyDelete(cur Availability, purge bool) Availability {
	if purge || cur != Alive {
		return Purged
	}
	return Deleted
}

// CheckAvailabilityChange reports whether a message may move from cur to
// next through an update: Alive and Deleted move between each other (delete
// and restore), anything may become Purged, and a Purged message stays so.
func CheckAvailabilityChange(cur, next Availability) error {
	if cur == next {
		return nil
	}
	if cur == Purged {
		return &Error{Code: CodeNotRestorable,
			Message: "A purged message cannot be restored",
			Params:  []ParamError{{Code: CodeNotRestorable, Message: "A purged message cannot be restored", Name: "availability", Value: string(next)}}}
	}
	return nil
}

// Change kinds recorded in the change log.
const (
	ChangeCreated = "created"
	ChangeUpdated = "updated"
	ChangeRemoved = "removed"
	// ChangeA2PBatch is a high-volume batch of the mailbox that was
	// created or completed: its MessageID is the batch's id. Only the
	// a2p-sms/batches notification filter reads it; message sync and the
	// message-store filters skip it.
	ChangeA2PBatch = "a2pBatch"
)

// Change is one entry of a mailbox's change log. Every change to a message
// writes one in the same transaction, so message-sync and notifications,
// which read the log, can never miss one.
type Change struct {
	Seq         int64
	AccountID   int64
	ExtensionID int64
	MessageID   int64
	Kind        string
	Type        MessageType
	Direction   Direction
	At          time.Time
}

// MessageStore keeps the mailboxes. Every method is scoped to one mailbox
// (account and extension); a message of another mailbox is ErrNotFound, as
// if it did not exist.
type MessageStore interface {
	CreateMessage(ctx context.Context, c MessageCreate) (*Message, error)
	// CreateMessages stores several messages in one transaction (imports).
	CreateMessages(ctx context.Context, cs []MessageCreate) ([]*Message, error)
	Message(ctx context.Context, accountID, extensionID, id int64) (*Message, error)
	ListMessages(ctx context.Context, f MessageFilter) (*MessagePage, error)
	// UpdateMessage applies u; moving a Purged message back is an *Error.
	UpdateMessage(ctx context.Context, accountID, extensionID, id int64, u MessageUpdate) (*Message, error)
	// DeleteMessage moves a message along the lifecycle (see ApplyDelete).
	// Purging erases the attachments' bytes.
	DeleteMessage(ctx context.Context, accountID, extensionID, id int64, purge bool) error
	// DeleteMessages deletes (or purges) every message the filter selects and
	// reports how many changed.
	DeleteMessages(ctx context.Context, f MessageDeleteFilter) (int, error)
	// Attachment returns one attachment with its content. The attachment of
	// a Purged message is ErrNotFound.
	Attachment(ctx context.Context, accountID, extensionID, messageID, attachmentID int64) (*Attachment, error)
	// Changes returns up to limit change-log entries of a mailbox after seq,
	// oldest first.
	Changes(ctx context.Context, accountID, extensionID, afterSeq int64, limit int) ([]*Change, error)
}

func oneOf[T comparable](v T, set []T) bool {
	for _, x := range set {
		if x == v {
			return true
		}
	}
	return false
}

func join[T ~string](set []T) string {
	s := make([]string, len(set))
	for i, v := range set {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}

// ParseEnum parses v as one of set, or returns a CMN-101 error naming param.
func ParseEnum[T ~string](param, v string, set []T) (T, error) {
	for _, x := range set {
		if string(x) == v {
			return x, nil
		}
	}
	return "", InvalidParam(param, v, "Parameter [%s] value %q is invalid; allowed: %s", param, v, join(set))
}
