package rcwire

import (
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/switchboardhq/switchboard"
)

// AppendMessage appends to dst the JSON of NewMessage(base, m) exactly as
// encoding/json writes it without HTML escaping, without building the
// Message or reflecting on it: a page of a hundred messages spent a fifth
// of its time in NewMessage and encoding/json when measured. The Message
// type stays the definition (tests hold the two equal); lists use this.
func AppendMessage(dst []byte, base string, m *switchboard.Message) []byte {
	uriStart := len(dst) + len(`{"uri":"`)
	dst = append(dst, `{"uri":`...)
	dst = appendMessageURI(dst, base, m)
	uri := dst[uriStart : len(dst)-1] // the escaped uri, reused for the attachments'
	dst = append(dst, `,"id":`...)
	dst = strconv.AppendInt(dst, m.ID, 10)
	dst = append(dst, `,"extensionId":"`...)
	dst = strconv.AppendInt(dst, m.ExtensionID, 10)
	dst = append(dst, `","to":[`...)
	for i := range m.To {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendParty(dst, &m.To[i])
	}
	dst = append(dst, ']')
	if m.From != (switchboard.Party{}) {
		dst = append(dst, `,"from":`...)
		dst = appendParty(dst, &m.From)
	}
	dst = appendField(dst, "type", string(m.Type))
	dst = appendTimeField(dst, "creationTime", m.Created)
	dst = appendField(dst, "readStatus", string(m.ReadStatus))
	dst = appendField(dst, "priority", m.Priority)
	dst = append(dst, `,"attachments":[`...)
	for i, a := range m.Attachments {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendAttachment(dst, uri, a)
	}
	dst = append(dst, ']')
	dst = appendField(dst, "direction", string(m.Direction))
	dst = appendField(dst, "availability", string(m.Availability))
	dst = appendNonEmpty(dst, "subject", m.Subject)
	dst = appendField(dst, "messageStatus", string(m.MessageStatus))
	if m.ConversationID != 0 {
		dst = append(dst, `,"conversationId":`...)
		dst = strconv.AppendInt(dst, m.ConversationID, 10)
		dst = append(dst, `,"conversation":{"id":"`...)
		dst = strconv.AppendInt(dst, m.ConversationID, 10)
		dst = append(dst, `","uri":`...)
		dst = AppendString(dst, base+"/restapi/v1.0/conversation/"+strconv.FormatInt(m.ConversationID, 10))
		dst = append(dst, '}')
	}
	dst = appendTimeField(dst, "lastModifiedTime", m.LastModified)
	switch m.Type {
	case switchboard.TypeSMS:
		dst = appendNonEmpty(dst, "deliveryErrorCode", m.DeliveryErrorCode)
		if m.SegmentCount > 0 {
			dst = appendIntField(dst, "segmentCount", m.SegmentCount)
		}
		if !m.SMSDeliveryTime.IsZero() {
			dst = appendTimeField(dst, "smsDeliveryTime", m.SMSDeliveryTime)
		}
		if m.Direction == switchboard.Outbound {
			dst = appendIntField(dst, "smsSendingAttemptsCount", m.SMSSendingAttempts)
		}
	case switchboard.TypeFax:
		if m.FaxPageCount > 0 {
			dst = appendIntField(dst, "faxPageCount", m.FaxPageCount)
		}
		dst = appendNonEmpty(dst, "faxResolution", m.FaxResolution)
		if m.Direction == switchboard.Outbound {
			dst = appendIntField(dst, "coverIndex", m.CoverIndex)
			dst = appendNonEmpty(dst, "coverPageText", m.CoverPageText)
		}
	case switchboard.TypeVoiceMail:
		status := m.VMTranscriptionStatus
		if status == "" {
			status = "NotAvailable"
		}
		dst = appendField(dst, "vmTranscriptionStatus", status)
	case switchboard.TypePager:
		dst = append(dst, `,"pgToDepartment":`...)
		dst = strconv.AppendBool(dst, m.PgToDepartment)
	}
	return append(dst, '}')
}

// appendMessageURI appends MessageURI(base, …) as a JSON string.
func appendMessageURI(dst []byte, base string, m *switchboard.Message) []byte {
	dst = AppendString(dst, base)
	dst = dst[:len(dst)-1] // reopen the string: the rest needs no escaping
	dst = append(dst, "/restapi/v1.0/account/"...)
	dst = strconv.AppendInt(dst, m.AccountID, 10)
	dst = append(dst, "/extension/"...)
	dst = strconv.AppendInt(dst, m.ExtensionID, 10)
	dst = append(dst, "/message-store/"...)
	dst = strconv.AppendInt(dst, m.ID, 10)
	return append(dst, '"')
}

// appendAttachment appends an Attachment; uri is its message's uri,
// already escaped.
func appendAttachment(dst, uri []byte, a *switchboard.Attachment) []byte {
	dst = append(dst, `{"id":`...)
	dst = strconv.AppendInt(dst, a.ID, 10)
	dst = append(dst, `,"uri":"`...)
	dst = append(dst, uri...)
	dst = append(dst, "/content/"...)
	dst = strconv.AppendInt(dst, a.ID, 10)
	dst = append(dst, '"')
	dst = appendField(dst, "type", string(a.Type))
	dst = appendField(dst, "contentType", a.ContentType)
	dst = appendNonEmpty(dst, "fileName", a.FileName)
	dst = append(dst, `,"size":`...)
	dst = strconv.AppendInt(dst, a.Size, 10)
	if a.Type == switchboard.AttachmentAudioRecording {
		dst = appendIntField(dst, "vmDuration", a.VMDuration)
	}
	if a.Height != 0 {
		dst = appendIntField(dst, "height", a.Height)
	}
	if a.Width != 0 {
		dst = appendIntField(dst, "width", a.Width)
	}
	return append(dst, '}')
}

// appendParty appends a Party as its struct tags say (every field
// omitempty).
func appendParty(dst []byte, p *switchboard.Party) []byte {
	dst = append(dst, '{')
	start := len(dst)
	dst = appendNonEmpty(dst, "phoneNumber", p.PhoneNumber)
	dst = appendNonEmpty(dst, "extensionNumber", p.ExtensionNumber)
	dst = appendNonEmpty(dst, "extensionId", p.ExtensionID)
	dst = appendNonEmpty(dst, "name", p.Name)
	dst = appendNonEmpty(dst, "location", p.Location)
	if p.Target {
		dst = append(dst, `,"target":true`...)
	}
	dst = appendNonEmpty(dst, "messageStatus", string(p.MessageStatus))
	dst = appendNonEmpty(dst, "faxErrorCode", p.FaxErrorCode)
	if len(dst) > start {
		// Every field above starts with a comma: drop the first.
		copy(dst[start:], dst[start+1:])
		dst = dst[:len(dst)-1]
	}
	return append(dst, '}')
}

// appendField appends ,"name":"value".
func appendField(dst []byte, name, value string) []byte {
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	dst = append(dst, '"', ':')
	return AppendString(dst, value)
}

func appendNonEmpty(dst []byte, name, value string) []byte {
	if value == "" {
		return dst
	}
	return appendField(dst, name, value)
}

func appendIntField(dst []byte, name string, v int) []byte {
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	dst = append(dst, '"', ':')
	return strconv.AppendInt(dst, int64(v), 10)
}

func appendTimeField(dst []byte, name string, t time.Time) []byte {
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	dst = append(dst, `":"`...)
	dst = t.UTC().AppendFormat(dst, "2006-01-02T15:04:05.000Z")
	return append(dst, '"')
}

const hex = "0123456789abcdef"

// AppendString appends s as a JSON string as encoding/json writes it with
// HTML escaping off: quote, backslash and control characters escaped,
// invalid UTF-8 as U+FFFD, U+2028 and U+2029 escaped.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
