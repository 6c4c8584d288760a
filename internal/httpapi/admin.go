package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/rcwire"
)

// maxImportMessages bounds one import request.
const maxImportMessages = 1000

type importAttachment struct {
	Type        switchboard.AttachmentType `json:"type"`
	ContentType string                     `json:"contentType"`
	FileName    string                     `json:"fileName"`
	Content     []byte                     `json:"content"` // base64 in JSON
	VMDuration  int                        `json:"vmDuration"`
}

type importMessage struct {
	AccountID             string                    `json:"accountId"`
	ExtensionID           string                    `json:"extensionId"`
	Type                  switchboard.MessageType   `json:"type"`
	Direction             switchboard.Direction     `json:"direction"`
	MessageStatus         switchboard.MessageStatus `json:"messageStatus"`
	ReadStatus            switchboard.ReadStatus    `json:"readStatus"`
	Availability          switchboard.Availability  `json:"availability"`
	Priority              string                    `json:"priority"`
	Subject               string                    `json:"subject"`
	From                  switchboard.Party         `json:"from"`
	To                    []switchboard.Party       `json:"to"`
	CreationTime          string                    `json:"creationTime"`
	Attachments           []importAttachment        `json:"attachments"`
	FaxPageCount          int                       `json:"faxPageCount"`
	FaxResolution         string                    `json:"faxResolution"`
	VMTranscriptionStatus string                    `json:"vmTranscriptionStatus"`
	SegmentCount          int                       `json:"segmentCount"`
	DeliveryErrorCode     string                    `json:"deliveryErrorCode"`
}

// handleImportMessages stores messages as they are given, into any mailbox:
// the way to seed a mailbox for tests and to bring history over from
// another system. It is all or nothing: one transaction.
func (s *Server) handleImportMessages(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Messages []importMessage `json:"messages"`
	}
	sent, err := s.decodeJSON(w, r, s.config.MaxImportBytes, &req)
	if err == nil && (!sent || len(req.Messages) == 0) {
		err = switchboard.InvalidParam("messages", "", "Body must carry a non-empty messages array")
	}
	if err == nil && len(req.Messages) > maxImportMessages {
		err = switchboard.InvalidParam("messages", "", "At most %d messages per import", maxImportMessages)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	creates := make([]switchboard.MessageCreate, 0, len(req.Messages))
	for i, m := range req.Messages {
		c, err := s.importCreate(r, m)
		if err != nil {
			if e := switchboard.AsError(err); e != nil {
				for j := range e.Params {
					e.Params[j].Name = fmt.Sprintf("messages[%d].%s", i, e.Params[j].Name)
				}
			}
			s.writeError(w, r, err)
			return
		}
		creates = append(creates, c)
	}
	msgs, err := s.store.CreateMessages(r.Context(), creates)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	base := s.baseURL(r)
	out := struct {
		Records []rcwire.Message `json:"records"`
	}{Records: make([]rcwire.Message, len(msgs))}
	for i, m := range msgs {
		out.Records[i] = rcwire.NewMessage(base, m)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) importCreate(r *http.Request, m importMessage) (switchboard.MessageCreate, error) {
	accountID, err := parseID("accountId", m.AccountID)
	if err != nil {
		return switchboard.MessageCreate{}, err
	}
	extensionID, err := parseID("extensionId", m.ExtensionID)
	if err != nil {
		return switchboard.MessageCreate{}, err
	}
	if _, err := s.store.Extension(r.Context(), accountID, extensionID); err != nil {
		if errors.Is(err, switchboard.ErrNotFound) {
			return switchboard.MessageCreate{}, switchboard.NotFound("extensionId", strconv.FormatInt(extensionID, 10))
		}
		return switchboard.MessageCreate{}, err
	}
	c := switchboard.MessageCreate{
		AccountID: accountID, ExtensionID: extensionID, Type: m.Type, Direction: m.Direction,
		MessageStatus: m.MessageStatus, ReadStatus: m.ReadStatus, Availability: m.Availability,
		Priority: m.Priority, Subject: m.Subject, From: m.From, To: m.To,
		TypeDetails: switchboard.TypeDetails{FaxPageCount: m.FaxPageCount, FaxResolution: m.FaxResolution,
			VMTranscriptionStatus: m.VMTranscriptionStatus, SegmentCount: m.SegmentCount, DeliveryErrorCode: m.DeliveryErrorCode},
	}
	if m.CreationTime != "" {
		if c.Created, err = parseTime("creationTime", m.CreationTime); err != nil {
			return c, err
		}
	}
	for _, a := range m.Attachments {
		c.Attachments = append(c.Attachments, &switchboard.Attachment{Type: a.Type, ContentType: a.ContentType,
			FileName: a.FileName, Content: a.Content, VMDuration: a.VMDuration})
	}
	if err := c.Validate(); err != nil {
		return c, err
	}
	return c, nil
}
