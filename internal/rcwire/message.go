package rcwire

// The RingCentral wire format of a message: one definition that every face
// of the server renders with (the REST API, push notifications over
// WebHook and WebSocket, message-store exports).

import (
	"fmt"
	"strconv"
	"time"

	"github.com/switchboardhq/switchboard"
)

// Time formats a time as RingCentral does: UTC with milliseconds.
func Time(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// URI is a link as RingCentral nests one.
type URI struct {
	URI string `json:"uri"`
}

// Conversation is a message's conversation reference.
type Conversation struct {
	ID  string `json:"id"`
	URI string `json:"uri"`
}

// Attachment is MessageAttachmentInfo.
type Attachment struct {
	ID          int64  `json:"id"`
	URI         string `json:"uri"`
	Type        string `json:"type"`
	ContentType string `json:"contentType"`
	FileName    string `json:"fileName,omitempty"`
	Size        int64  `json:"size"`
	VMDuration  *int   `json:"vmDuration,omitempty"`
	Height      int    `json:"height,omitempty"`
	Width       int    `json:"width,omitempty"`
}

// Message is GetMessageInfoResponse. Type-prefixed fields (sms*, fax*,
// vm*, pg*) are set only on messages of that type, as RingCentral does.
type Message struct {
	URI                   string              `json:"uri"`
	ID                    int64               `json:"id"`
	ExtensionID           string              `json:"extensionId"`
	To                    []switchboard.Party `json:"to"`
	From                  *switchboard.Party  `json:"from,omitempty"`
	Type                  string              `json:"type"`
	CreationTime          string              `json:"creationTime"`
	ReadStatus            string              `json:"readStatus"`
	Priority              string              `json:"priority"`
	Attachments           []Attachment        `json:"attachments"`
	Direction             string              `json:"direction"`
	Availability          string              `json:"availability"`
	Subject               string              `json:"subject,omitempty"`
	MessageStatus         string              `json:"messageStatus"`
	ConversationID        int64               `json:"conversationId,omitempty"`
	Conversation          *Conversation       `json:"conversation,omitempty"`
	LastModifiedTime      string              `json:"lastModifiedTime"`
	DeliveryErrorCode     string              `json:"deliveryErrorCode,omitempty"`
	SegmentCount          *int                `json:"segmentCount,omitempty"`
	SMSDeliveryTime       string              `json:"smsDeliveryTime,omitempty"`
	SMSSendingAttempts    *int                `json:"smsSendingAttemptsCount,omitempty"`
	FaxPageCount          *int                `json:"faxPageCount,omitempty"`
	FaxResolution         string              `json:"faxResolution,omitempty"`
	CoverIndex            *int                `json:"coverIndex,omitempty"`
	CoverPageText         string              `json:"coverPageText,omitempty"`
	VMTranscriptionStatus string              `json:"vmTranscriptionStatus,omitempty"`
	PgToDepartment        *bool               `json:"pgToDepartment,omitempty"`
}

// MessageURI is the absolute uri of a message of a mailbox.
func MessageURI(base string, accountID, extensionID, id int64) string {
	return fmt.Sprintf("%s/restapi/v1.0/account/%d/extension/%d/message-store/%d", base, accountID, extensionID, id)
}

// NewMessage is m as the API and its notifications show it, its uris
// absolute under base (the server's public URL, no trailing slash).
func NewMessage(base string, m *switchboard.Message) Message {
	uri := MessageURI(base, m.AccountID, m.ExtensionID, m.ID)
	out := Message{
		URI: uri, ID: m.ID, ExtensionID: strconv.FormatInt(m.ExtensionID, 10),
		To: m.To, Type: string(m.Type), CreationTime: Time(m.Created),
		ReadStatus: string(m.ReadStatus), Priority: m.Priority, Attachments: []Attachment{},
		Direction: string(m.Direction), Availability: string(m.Availability), Subject: m.Subject,
		MessageStatus: string(m.MessageStatus), LastModifiedTime: Time(m.LastModified),
	}
	if out.To == nil {
		out.To = []switchboard.Party{}
	}
	if m.From != (switchboard.Party{}) {
		from := m.From
		out.From = &from
	}
	for _, a := range m.Attachments {
		aj := Attachment{ID: a.ID, URI: fmt.Sprintf("%s/content/%d", uri, a.ID), Type: string(a.Type),
			ContentType: a.ContentType, FileName: a.FileName, Size: a.Size, Height: a.Height, Width: a.Width}
		if a.Type == switchboard.AttachmentAudioRecording {
			d := a.VMDuration
			aj.VMDuration = &d
		}
		out.Attachments = append(out.Attachments, aj)
	}
	if m.ConversationID != 0 {
		id := strconv.FormatInt(m.ConversationID, 10)
		out.ConversationID = m.ConversationID
		out.Conversation = &Conversation{ID: id, URI: base + "/restapi/v1.0/conversation/" + id}
	}
	switch m.Type {
	case switchboard.TypeSMS:
		out.DeliveryErrorCode = m.DeliveryErrorCode
		if m.SegmentCount > 0 {
			n := m.SegmentCount
			out.SegmentCount = &n
		}
		if !m.SMSDeliveryTime.IsZero() {
			out.SMSDeliveryTime = Time(m.SMSDeliveryTime)
		}
		if m.Direction == switchboard.Outbound {
			n := m.SMSSendingAttempts
			out.SMSSendingAttempts = &n
		}
	case switchboard.TypeFax:
		pages, cover := m.FaxPageCount, m.CoverIndex
		if pages > 0 { // an outbound fax has none until it is rendered
			out.FaxPageCount = &pages
		}
		out.FaxResolution = m.FaxResolution
		if m.Direction == switchboard.Outbound {
			out.CoverIndex = &cover
			out.CoverPageText = m.CoverPageText
		}
	case switchboard.TypeVoiceMail:
		out.VMTranscriptionStatus = m.VMTranscriptionStatus
		if out.VMTranscriptionStatus == "" {
			out.VMTranscriptionStatus = "NotAvailable"
		}
	case switchboard.TypePager:
		b := m.PgToDepartment
		out.PgToDepartment = &b
	}
	return out
}
