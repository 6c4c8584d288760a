package sqlstore

import (
	"context"

	"github.com/switchboardhq/switchboard"
)

// A message whose only attachment is the text its subject repeats (SMS and
// pager messages, sent or received: most messages) keeps that attachment
// on its own row: text_attachment_id and text_attachment_size, the content
// being the subject. That spares the writer a row, an index entry and a
// foreign-key probe per message, and a read of such messages (a list page,
// a PUT's answer) the attachments query. Its id comes from the attachments'
// sequence, so an attachment id names one attachment wherever it is kept.
// Messages stored before (migration 00016) keep their attachments rows;
// both are read.

// inlineText reports whether c's attachment is kept on its row.
func inlineText(c *switchboard.MessageCreate) bool {
	if len(c.Attachments) != 1 {
		return false
	}
	a := c.Attachments[0]
	return a.Type == switchboard.AttachmentText && a.ContentType == "text/plain" && a.FileName == "" &&
		a.VMDuration == 0 && a.Height == 0 && a.Width == 0 &&
		a.Size == int64(len(a.Content)) && string(a.Content) == c.Subject
}

// inlineTextAttachment is the metadata of a text attachment kept on the
// row of message messageID.
func inlineTextAttachment(id, messageID, size int64) *switchboard.Attachment {
	return &switchboard.Attachment{ID: id, MessageID: messageID, Type: switchboard.AttachmentText,
		ContentType: "text/plain", Size: size}
}

// inlineTexts gives each message ms[i] whose attachment is kept on its row
// (inlineText of cs[i]) an attachment id, in its row's values (rows, in
// messageInsertColumns' order) and in its metadata.
func inlineTexts(ctx context.Context, tx *tx, ms []*switchboard.Message, cs []*switchboard.MessageCreate, rows []any) error {
	var inline []int
	for i, c := range cs {
		if inlineText(c) {
			inline = append(inline, i)
		}
	}
	if len(inline) == 0 {
		return nil
	}
	ids, err := tx.dialect.reserveAttachmentIDs(ctx, tx, len(inline))
	if err != nil {
		return err
	}
	cols := len(messageInsertColumns)
	for k, i := range inline {
		size := cs[i].Attachments[0].Size
		row := rows[i*cols : (i+1)*cols]
		row[cols-2], row[cols-1] = ids[k], size // text_attachment_id, text_attachment_size
		ms[i].Attachments = []*switchboard.Attachment{inlineTextAttachment(ids[k], 0, size)}
	}
	return nil
}
