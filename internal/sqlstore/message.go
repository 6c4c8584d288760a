package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard"
)

// Every method here is scoped by account_id AND extension_id: a message of
// another mailbox is not found, never "forbidden", so ids of other tenants
// cannot be probed.

const messageColumns = `m.id, m.account_id, m.extension_id, m.type, m.direction, m.availability,
	m.message_status, m.read_status, m.priority, m.subject, m.from_party, m.to_parties,
	m.conversation_id, m.created_at, m.modified_at, m.delivery_error_code, m.segment_count,
	m.sms_delivery_time, m.sms_sending_attempts, m.fax_page_count, m.fax_resolution,
	m.cover_index, m.cover_page_text, m.vm_transcription, m.pg_to_department,
	m.text_attachment_id, m.text_attachment_size`

// scanMessage reads messageColumns. A message whose text attachment is kept
// on its row (text_attachment_id, see inlineText) gets that attachment's
// metadata here; its other attachments, if any, are loadAttachments' work.
func scanMessage(s scanner) (*switchboard.Message, error) {
	var m switchboard.Message
	var from, to string
	var created, modified, smsDelivery, textID, textSize int64
	if err := s.Scan(&m.ID, &m.AccountID, &m.ExtensionID, &m.Type, &m.Direction, &m.Availability,
		&m.MessageStatus, &m.ReadStatus, &m.Priority, &m.Subject, &from, &to,
		&m.ConversationID, &created, &modified, &m.DeliveryErrorCode, &m.SegmentCount,
		&smsDelivery, &m.SMSSendingAttempts, &m.FaxPageCount, &m.FaxResolution,
		&m.CoverIndex, &m.CoverPageText, &m.VMTranscriptionStatus, &m.PgToDepartment,
		&textID, &textSize); err != nil {
		return nil, err
	}
	if textID != 0 {
		m.Attachments = []*switchboard.Attachment{inlineTextAttachment(textID, m.ID, textSize)}
	}
	var err error
	if m.From, err = decodeParty(from); err != nil {
		return nil, fmt.Errorf("decode sender of message %d: %w", m.ID, err)
	}
	if m.To, err = decodeParties(to); err != nil {
		return nil, fmt.Errorf("decode recipients of message %d: %w", m.ID, err)
	}
	m.Created = fromMillis(created)
	m.LastModified = fromMillis(modified)
	m.SMSDeliveryTime = fromMillis(smsDelivery)
	return &m, nil
}

const attachmentColumns = `a.id, a.message_id, a.type, a.content_type, a.file_name, a.size, a.vm_duration, a.height, a.width`

func scanAttachment(s scanner) (*switchboard.Attachment, error) {
	var a switchboard.Attachment
	err := s.Scan(&a.ID, &a.MessageID, &a.Type, &a.ContentType, &a.FileName, &a.Size, &a.VMDuration, &a.Height, &a.Width)
	return &a, err
}

// ---- create

// CreateMessage stores one message with its parties, attachments and a
// "created" change, in one transaction.
func (db *DB) CreateMessage(ctx context.Context, c switchboard.MessageCreate) (*switchboard.Message, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	m, err := messageCreates.write(ctx, db, c.SourceID, &c)
	return m, db.wrap(err, "create message in mailbox %d/%d", c.AccountID, c.ExtensionID)
}

// messageCreates stores messages (received ones, above all); the
// concurrent CreateMessages of a group commit together.
var messageCreates = newMessageStore(func(ctx context.Context, t *tx, cs []*switchboard.MessageCreate) ([]*switchboard.Message, error) {
	ms, _, err := insertMessagesOnce(ctx, t, cs)
	return ms, err
})

// writeSourced is writeCombined for a write that stores messages with a
// source id. Two nodes (or two writes of a combined run) storing the same
// one at once both find it absent; the unique index fails the later one,
// and its second run finds the message the first stored.
func (db *DB) writeSourced(ctx context.Context, sourceID string, c *combiner, item any, fn func(context.Context, *tx) error) error {
	err := db.writeCombined(ctx, c, item, fn)
	if sourceID != "" && errors.Is(db.formatError(err), switchboard.ErrConflict) {
		err = db.writeCombined(ctx, c, item, fn)
	}
	return err
}

// insertMessageOnce is insertMessagesOnce of one message.
func insertMessageOnce(ctx context.Context, tx *tx, c *switchboard.MessageCreate) (*switchboard.Message, bool, error) {
	ms, stored, err := insertMessagesOnce(ctx, tx, []*switchboard.MessageCreate{c})
	if err != nil {
		return nil, false, err
	}
	return ms[0], stored[0], nil
}

// insertMessagesOnce inserts cs (insertMessages), but for each whose
// mailbox already holds the message of its SourceID, stored before or by
// an earlier create of cs: that message is returned for it instead, with
// stored false.
func insertMessagesOnce(ctx context.Context, tx *tx, cs []*switchboard.MessageCreate) ([]*switchboard.Message, []bool, error) {
	type source struct {
		acc, ext int64
		id       string
	}
	out, stored := make([]*switchboard.Message, len(cs)), make([]bool, len(cs))
	first := map[source]int{} // a source id's first create in cs
	var fresh []*switchboard.MessageCreate
	var freshAt []int
	for i, c := range cs {
		if c.SourceID != "" {
			k := source{c.AccountID, c.ExtensionID, c.SourceID}
			if _, repeat := first[k]; repeat {
				continue
			}
			first[k] = i
			var id int64
			err := tx.QueryRowContext(ctx, `SELECT id FROM messages WHERE extension_id = $1 AND account_id = $2 AND source_id = $3`,
				c.ExtensionID, c.AccountID, c.SourceID).Scan(&id)
			switch {
			case err == nil:
				if out[i], err = getMessage(ctx, tx, c.AccountID, c.ExtensionID, id); err != nil {
					return nil, nil, err
				}
				continue
			case !errors.Is(err, sql.ErrNoRows):
				return nil, nil, err
			}
		}
		fresh, freshAt = append(fresh, c), append(freshAt, i)
	}
	ms, err := insertMessages(ctx, tx, fresh)
	if err != nil {
		return nil, nil, err
	}
	for j, m := range ms {
		out[freshAt[j]], stored[freshAt[j]] = m, true
	}
	for i, c := range cs {
		if out[i] == nil { // a repeat of an earlier create's source id
			out[i] = out[first[source{c.AccountID, c.ExtensionID, c.SourceID}]]
		}
	}
	return out, stored, nil
}

// CreateMessages stores several messages in one transaction: all or none.
// It is also the bulk path (imports, seeding benchmarks).
func (db *DB) CreateMessages(ctx context.Context, cs []switchboard.MessageCreate) ([]*switchboard.Message, error) {
	cs = slices.Clone(cs) // Validate fills defaults; leave the caller's slice alone
	for i := range cs {
		if err := cs[i].Validate(); err != nil {
			return nil, fmt.Errorf("sqlstore: create messages: message %d: %w", i, err)
		}
	}
	var sourced string // any source id: the whole batch is retried on a conflict
	creates := make([]*switchboard.MessageCreate, len(cs))
	for i := range cs {
		creates[i] = &cs[i]
		if cs[i].SourceID != "" {
			sourced = cs[i].SourceID
		}
	}
	var out []*switchboard.Message
	err := db.writeSourced(ctx, sourced, nil, nil, func(ctx context.Context, tx *tx) error {
		var err error
		out, _, err = insertMessagesOnce(ctx, tx, creates)
		return err
	})
	if err != nil {
		return nil, db.wrap(err, "create %d messages", len(cs))
	}
	return out, nil
}

// insertMessages stores validated MessageCreates, in order, with their
// parties and attachments, in multi-row statements (multirow.go), and
// returns the messages as a later read would return them.
func insertMessages(ctx context.Context, tx *tx, cs []*switchboard.MessageCreate) ([]*switchboard.Message, error) {
	out := make([]*switchboard.Message, len(cs))
	rows := make([]any, 0, len(cs)*len(messageInsertColumns))
	for i, c := range cs {
		// Messages carry no foreign key to extensions (they outlive
		// directory changes), so check here that the mailbox exists and
		// belongs to the account: a mismatched row would be invisible to
		// its real owner.
		key := [2]int64{c.AccountID, c.ExtensionID}
		if !tx.mailboxes[key] {
			if _, err := getExtension(ctx, tx, c.AccountID, c.ExtensionID); err != nil {
				return nil, fmt.Errorf("mailbox %d/%d: %w", c.AccountID, c.ExtensionID, err)
			}
			tx.checkedMailbox(key)
		}
		m, args, err := messageRow(c, tx.now)
		if err != nil {
			return nil, err
		}
		out[i] = m
		rows = append(rows, args...)
	}
	if err := inlineTexts(ctx, tx, out, cs, rows); err != nil {
		return nil, err
	}
	ids, err := insertRows(ctx, tx, messageInsertSQL, messageTuple, rows)
	if err != nil {
		return nil, err
	}
	for i, id := range ids {
		out[i].ID = id
		for _, a := range out[i].Attachments {
			a.MessageID = id
		}
	}
	if err := insertParties(ctx, tx, out); err != nil {
		return nil, err
	}
	if err := insertAttachments(ctx, tx, out, cs); err != nil {
		return nil, err
	}
	for _, m := range out {
		tx.logChange(switchboard.ChangeCreated, changeRow{m.AccountID, m.ExtensionID, m.ID, m.Type, m.Direction})
		if m.Availability == switchboard.Alive {
			tx.addAlive(m.AccountID, m.ExtensionID, 1)
		}
	}
	return out, nil
}

// messageInsertColumns are the columns messageRow gives values for.
var messageInsertColumns = []string{"account_id", "extension_id", "type", "direction", "availability",
	"message_status", "read_status", "priority", "subject", "from_party", "to_parties", "conversation_id",
	"created_at", "modified_at", "deleted_at", "purged_at", "delivery_error_code", "segment_count",
	"sms_delivery_time", "sms_sending_attempts", "fax_page_count", "fax_resolution", "cover_index",
	"cover_page_text", "vm_transcription", "pg_to_department", "source_id", "a2p_batch_id", "a2p_index",
	"text_attachment_id", "text_attachment_size"}

var (
	messageInsertSQL = `INSERT INTO messages (` + strings.Join(messageInsertColumns, ", ") + `) VALUES `
	messageTuple     = tuple(len(messageInsertColumns))
)

// messageRow is the message c becomes when stored at now (without its id
// and attachments) and its row's values, in messageInsertColumns' order.
func messageRow(c *switchboard.MessageCreate, now time.Time) (*switchboard.Message, []any, error) {
	m := &switchboard.Message{
		AccountID: c.AccountID, ExtensionID: c.ExtensionID, Type: c.Type, Direction: c.Direction,
		Availability: c.Availability, MessageStatus: c.MessageStatus, ReadStatus: c.ReadStatus,
		Priority: c.Priority, Subject: c.Subject, From: c.From, ConversationID: c.ConversationID,
		Created: c.Created, LastModified: now, TypeDetails: c.TypeDetails,
	}
	m.SMSDeliveryTime = fromMillis(toMillis(c.SMSDeliveryTime)) // as stored: milliseconds
	if len(c.To) > 0 {
		m.To = append([]switchboard.Party(nil), c.To...)
	}
	if m.Created.IsZero() {
		m.Created = now
	}
	m.Created = fromMillis(toMillis(m.Created))
	from, err := json.Marshal(m.From)
	if err != nil {
		return nil, nil, err
	}
	to := []byte("[]")
	if m.To != nil {
		if to, err = json.Marshal(m.To); err != nil {
			return nil, nil, err
		}
	}
	var deletedAt, purgedAt int64
	switch m.Availability {
	case switchboard.Deleted:
		deletedAt = toMillis(now)
	case switchboard.Purged:
		purgedAt = toMillis(now)
	}
	return m, []any{
		m.AccountID, m.ExtensionID, string(m.Type), string(m.Direction), string(m.Availability),
		string(m.MessageStatus), string(m.ReadStatus), string(m.Priority), m.Subject, string(from), string(to), m.ConversationID,
		toMillis(m.Created), toMillis(now), deletedAt, purgedAt, m.DeliveryErrorCode, int64(m.SegmentCount),
		toMillis(m.SMSDeliveryTime), int64(m.SMSSendingAttempts), int64(m.FaxPageCount), string(m.FaxResolution), int64(m.CoverIndex),
		m.CoverPageText, string(m.VMTranscriptionStatus), flag(m.PgToDepartment), c.SourceID,
		nullID(c.A2PBatchID), a2pIndex(c), int64(0), int64(0), // text_attachment_id and _size: set by inlineTexts
	}, nil
}

// a2pIndex is the a2p_index of c's row: NULL when it is of no batch.
func a2pIndex(c *switchboard.MessageCreate) any {
	if c.A2PBatchID == 0 {
		return nil
	}
	return int64(c.A2PIndex)
}

// attachmentInsertSQL begins the multi-row insert of attachments.
const attachmentInsertSQL = `INSERT INTO attachments (message_id, type, content_type, file_name, size,
	vm_duration, height, width, content) VALUES `

// insertAttachments stores the attachments of each stored message ms[i]
// (cs[i]'s) and lists their metadata on the message.
func insertAttachments(ctx context.Context, tx *tx, ms []*switchboard.Message, cs []*switchboard.MessageCreate) error {
	var rows []any
	var metas []*switchboard.Attachment
	for i, m := range ms {
		if m.Attachments != nil {
			continue // kept on the message's row (inlineTexts)
		}
		for _, a := range cs[i].Attachments {
			content := a.Content
			if content == nil {
				content = []byte{} // NULL is reserved for "erased by purge"
			}
			if m.Availability == switchboard.Purged {
				content = nil
			}
			meta := *a
			meta.MessageID, meta.Content = m.ID, nil
			m.Attachments = append(m.Attachments, &meta)
			metas = append(metas, &meta)
			rows = append(rows, m.ID, string(a.Type), a.ContentType, a.FileName, a.Size,
				int64(a.VMDuration), int64(a.Height), int64(a.Width), content)
		}
	}
	ids, err := insertRows(ctx, tx, attachmentInsertSQL, tuple(9), rows)
	for i, id := range ids {
		metas[i].ID = id
	}
	return err
}

// insertParties writes the messages' phone numbers (message_parties).
func insertParties(ctx context.Context, tx *tx, ms []*switchboard.Message) error {
	var rows []any
	for _, m := range ms {
		for _, p := range m.Parties() {
			rows = append(rows, m.ID, p)
		}
	}
	return execRows(ctx, tx, `INSERT INTO message_parties (message_id, phone_number) VALUES `, "(?, ?)", "", rows)
}

// addAliveSQL adds $3 to the Alive count of mailbox $1 (of account $2).
// mailbox_stats.alive is the number of Alive messages of the mailbox; every
// write that moves a message into or out of Alive applies it in the same
// transaction.
const addAliveSQL = `INSERT INTO mailbox_stats (extension_id, account_id, alive) VALUES ($1, $2, $3)
	ON CONFLICT (extension_id) DO UPDATE SET alive = mailbox_stats.alive + excluded.alive`

// aliveDelta is how a move from cur to next changes the Alive count.
func aliveDelta(cur, next switchboard.Availability) int {
	switch {
	case cur == next:
		return 0
	case next == switchboard.Alive:
		return 1
	case cur == switchboard.Alive:
		return -1
	}
	return 0
}

// ---- read

// Message returns one message of a mailbox with its attachments' metadata.
func (db *DB) Message(ctx context.Context, accountID, extensionID, id int64) (*switchboard.Message, error) {
	var m *switchboard.Message
	err := db.read(ctx, func(tx *tx) error {
		var err error
		m, err = getMessage(ctx, tx, accountID, extensionID, id)
		return err
	})
	return m, db.wrap(err, "get message %d of mailbox %d/%d", id, accountID, extensionID)
}

func getMessage(ctx context.Context, tx *tx, accountID, extensionID, id int64) (*switchboard.Message, error) {
	m, err := scanMessage(tx.QueryRowContext(ctx, `SELECT `+messageColumns+` FROM messages m
		WHERE m.id = $1 AND m.extension_id = $2 AND m.account_id = $3`, id, extensionID, accountID))
	if err != nil {
		return nil, err
	}
	if err := loadAttachments(ctx, tx, []*switchboard.Message{m}); err != nil {
		return nil, err
	}
	return m, nil
}

// loadAttachments fills the attachment metadata of a page of messages with
// one query per chunk of ids rather than one per message, skipping those
// whose text attachment is on their row: they have no other (inlineText).
func loadAttachments(ctx context.Context, q queryer, ms []*switchboard.Message) error {
	byID := make(map[int64]*switchboard.Message, len(ms))
	ids := make([]int64, 0, len(ms))
	for _, m := range ms {
		if len(m.Attachments) == 0 {
			byID[m.ID] = m
			ids = append(ids, m.ID)
		}
	}
	return inChunks(ids, func(ids []int64) error {
		var a args
		query := `SELECT ` + attachmentColumns + ` FROM attachments a
			WHERE a.message_id IN (` + inList(&a, ids) + `) ORDER BY a.message_id, a.id`
		atts, err := queryAll(ctx, q, scanAttachment, query, a...)
		if err != nil {
			return err
		}
		for _, at := range atts {
			m := byID[at.MessageID]
			m.Attachments = append(m.Attachments, at)
		}
		return nil
	})
}

// ListMessages returns one page of a mailbox, newest first (ties by id).
// More is learnt by reading one row past the page, never by counting.
func (db *DB) ListMessages(ctx context.Context, f switchboard.MessageFilter) (*switchboard.MessagePage, error) {
	page := &switchboard.MessagePage{}
	key := cursorFilter(f)
	err := db.read(ctx, func(tx *tx) error {
		pos, seq, known, err := db.pageStart(ctx, tx, f, key)
		if err != nil {
			return err
		}
		var after *pagePos
		if known {
			after = &pos
		}
		q, a := listQuery(f, after)
		ms, err := queryAll(ctx, tx, scanMessage, q, a...)
		if err != nil {
			return err
		}
		if f.Limit > 0 && len(ms) > f.Limit {
			ms, page.More = ms[:f.Limit], true
			if err := db.rememberPageEnd(ctx, tx, f, key, seq, known, ms); err != nil {
				return err
			}
		}
		page.Messages = ms
		return loadAttachments(ctx, tx, ms)
	})
	if err != nil {
		return nil, db.wrap(err, "list messages of mailbox %d/%d", f.AccountID, f.ExtensionID)
	}
	return page, nil
}

// listQuery builds the list query. It walks the index messages_mailbox_time
// (extension_id, created_at, id, availability, type, direction,
// read_status, account_id) backwards: the ORDER BY needs no sort, LIMIT
// stops the walk early, and the mailbox and enum filters are checked in the
// index before a row is read.
//
// With after set (pagecursor.go), the page starts below that keyset
// position instead of at f.Offset: one index range read at any depth.
func listQuery(f switchboard.MessageFilter, after *pagePos) (string, args) {
	var a args
	ext := a.add(f.ExtensionID)
	acc := a.add(f.AccountID)
	// Filters are written once with {t} for the table alias, so that the
	// distinct form can apply the same ones (same $N) to its inner query.
	var filters []string
	if len(f.Availability) > 0 {
		filters = append(filters, `{t}.availability IN (`+inList(&a, f.Availability)+`)`)
	}
	if len(f.Direction) > 0 {
		filters = append(filters, `{t}.direction IN (`+inList(&a, f.Direction)+`)`)
	}
	if len(f.Types) > 0 {
		filters = append(filters, `{t}.type IN (`+inList(&a, f.Types)+`)`)
	}
	if len(f.ReadStatus) > 0 {
		filters = append(filters, `{t}.read_status IN (`+inList(&a, f.ReadStatus)+`)`)
	}
	if f.ConversationID != 0 {
		filters = append(filters, `{t}.conversation_id = `+a.add(f.ConversationID))
	}
	if f.PhoneNumber != "" {
		filters = append(filters, `EXISTS (SELECT 1 FROM message_parties p
			WHERE p.message_id = {t}.id AND p.phone_number = `+a.add(normalizeNumber(f.PhoneNumber))+`)`)
	}
	if !f.DateFrom.IsZero() {
		filters = append(filters, `{t}.created_at >= `+a.add(toMillis(f.DateFrom)))
	}
	// A keyset position is below dateTo (pageStart checks), and SQLite
	// bounds an index range by one upper bound only: the outer query takes
	// the position's, the conversation probe keeps dateTo. (Added only
	// where used: PostgreSQL cannot type an unused $N.)
	dateToAt := -1
	if !f.DateTo.IsZero() && (after == nil || f.DistinctConversations) {
		dateToAt = len(filters)
		filters = append(filters, `{t}.created_at < `+a.add(toMillis(f.DateTo)))
	}
	on := func(alias string) string {
		var b strings.Builder
		for i, p := range filters {
			if after != nil && alias == "m" && i == dateToAt {
				continue
			}
			b.WriteString(` AND `)
			b.WriteString(strings.ReplaceAll(p, "{t}", alias))
		}
		return b.String()
	}

	q := `SELECT ` + messageColumns + ` FROM messages m
		WHERE m.extension_id = ` + ext + ` AND m.account_id = ` + acc + on("m")
	if f.DistinctConversations {
		// Keep a message only if no newer message of its conversation
		// matches the same filters. Walking newest first, this costs one
		// probe of messages_mailbox_conversation per row and stops at the
		// page's end, where a window function would rank the whole
		// mailbox first. A message without a conversation (id 0) is a
		// conversation of its own. The probe skips the account check: a
		// mailbox's rows all carry its account (CreateMessages checks).
		q += ` AND (m.conversation_id = 0 OR NOT EXISTS (SELECT 1 FROM messages n
			WHERE n.extension_id = ` + ext + ` AND n.conversation_id = m.conversation_id
			AND n.created_at >= m.created_at AND (n.created_at > m.created_at OR n.id > m.id)` + on("n") + `))`
	}
	limit := limitArg(f.Limit)
	if f.Limit > 0 {
		limit++ // one past the page tells whether there is more
	}
	offset := max(f.Offset, 0)
	if after != nil {
		// created_at alone bounds the index range; the id breaks ties.
		c := a.add(after.created)
		q += ` AND m.created_at <= ` + c + ` AND (m.created_at < ` + c + ` OR m.id < ` + a.add(after.id) + `)`
		offset = 0
	}
	q += ` ORDER BY m.created_at DESC, m.id DESC LIMIT ` + a.add(limit) + ` OFFSET ` + a.add(offset)
	return q, a
}

// ---- update and delete

// msgState is what a lifecycle change reads and writes.
type msgState struct {
	id                  int64
	accountID, extID    int64
	typ                 switchboard.MessageType
	direction           switchboard.Direction
	availability        switchboard.Availability
	readStatus          switchboard.ReadStatus
	deletedAt, purgedAt int64
}

func getState(ctx context.Context, tx *tx, accountID, extensionID, id int64) (msgState, error) {
	s := msgState{id: id, accountID: accountID, extID: extensionID}
	err := tx.QueryRowContext(ctx, `SELECT type, direction, availability, read_status, deleted_at, purged_at
		FROM messages WHERE id = $1 AND extension_id = $2 AND account_id = $3 `+tx.rowLock, id, extensionID, accountID).
		Scan(&s.typ, &s.direction, &s.availability, &s.readStatus, &s.deletedAt, &s.purgedAt)
	return s, err
}

// UpdateMessage changes the read status and/or availability of a message.
// A change that changes nothing writes nothing, not even lastModified.
func (db *DB) UpdateMessage(ctx context.Context, accountID, extensionID, id int64, u switchboard.MessageUpdate) (*switchboard.Message, error) {
	if u.ReadStatus != nil {
		if _, err := switchboard.ParseEnum("readStatus", string(*u.ReadStatus), switchboard.ReadStatuses); err != nil {
			return nil, err
		}
	}
	if u.Availability != nil {
		if _, err := switchboard.ParseEnum("availability", string(*u.Availability), switchboard.Availabilities); err != nil {
			return nil, err
		}
	}
	var m *switchboard.Message
	err := db.writeGrouped(ctx, func(ctx context.Context, tx *tx) error {
		// The whole row is read (not only its state), so the answer needs
		// no second read in the writer.
		var cur msgState
		var err error
		m, err = scanMessage(withExtra{tx.QueryRowContext(ctx, `SELECT `+messageColumns+`, m.deleted_at, m.purged_at FROM messages m
			WHERE m.id = $1 AND m.extension_id = $2 AND m.account_id = $3 `+tx.rowLock, id, extensionID, accountID),
			[]any{&cur.deletedAt, &cur.purgedAt}})
		if err != nil {
			return err
		}
		cur.id, cur.accountID, cur.extID, cur.typ, cur.direction = m.ID, m.AccountID, m.ExtensionID, m.Type, m.Direction
		cur.availability, cur.readStatus = m.Availability, m.ReadStatus
		next := cur
		if u.ReadStatus != nil {
			next.readStatus = *u.ReadStatus
		}
		if u.Availability != nil {
			if err := switchboard.CheckAvailabilityChange(cur.availability, *u.Availability); err != nil {
				return err
			}
			next.availability = *u.Availability
		}
		if err := transition(ctx, tx, cur, next); err != nil {
			return err
		}
		if cur != next {
			m.ReadStatus, m.Availability, m.LastModified = next.readStatus, next.availability, tx.now
			if next.availability == switchboard.Purged && cur.availability != switchboard.Purged {
				m.Subject, m.CoverPageText = "", "" // as eraseContent left the row
			}
		}
		return nil
	})
	if err == nil {
		// Attachment metadata never changes, so it is read after the
		// commit, on the reader pool, where it does not hold up the
		// writes grouped with this one, in one statement.
		err = db.readOne(ctx, func(q *tx) error { return loadAttachments(ctx, q, []*switchboard.Message{m}) })
	}
	return m, db.wrap(err, "update message %d of mailbox %d/%d", id, accountID, extensionID)
}

// withExtra scans a row's further columns into extra after the ones the
// scanner is asked for.
type withExtra struct {
	s     scanner
	extra []any
}

func (w withExtra) Scan(dest ...any) error { return w.s.Scan(append(dest, w.extra...)...) }

// DeleteMessage moves a message one step along the lifecycle (see
// switchboard.ApplyDelete). Deleting a Purged message succeeds and does
// nothing, so retried deletes are harmless.
func (db *DB) DeleteMessage(ctx context.Context, accountID, extensionID, id int64, purge bool) error {
	err := db.writeGrouped(ctx, func(ctx context.Context, tx *tx) error {
		cur, err := getState(ctx, tx, accountID, extensionID, id)
		if err != nil {
			return err
		}
		if cur.availability == switchboard.Purged {
			return nil
		}
		next := cur
		next.availability = switchboard.ApplyDelete(cur.availability, purge)
		return transition(ctx, tx, cur, next)
	})
	return db.wrap(err, "delete message %d of mailbox %d/%d", id, accountID, extensionID)
}

// transition writes the move from cur to next with its side effects:
// lifecycle times, erasing content on purge, lastModified and one change.
func transition(ctx context.Context, tx *tx, cur, next msgState) error {
	if cur == next {
		return nil
	}
	now := toMillis(tx.now)
	if next.availability != cur.availability {
		switch next.availability {
		case switchboard.Alive:
			next.deletedAt = 0
		case switchboard.Deleted:
			next.deletedAt = now
		case switchboard.Purged:
			next.purgedAt = now
		}
	}
	if err := updateState(ctx, tx, cur, next, now); err != nil {
		return err
	}
	if next.availability == switchboard.Purged && cur.availability != switchboard.Purged {
		if err := eraseContent(ctx, tx, []int64{cur.id}); err != nil {
			return err
		}
	}
	tx.addAlive(cur.accountID, cur.extID, aliveDelta(cur.availability, next.availability))
	tx.logChange(switchboard.ChangeUpdated, changeRow{cur.accountID, cur.extID, cur.id, cur.typ, cur.direction})
	return nil
}

// updateState writes next over cur. A read-status change sets only that
// column (and modified_at): SQLite maintains every index holding a column
// the UPDATE sets, changed or not, and the lifecycle columns are in four.
func updateState(ctx context.Context, tx *tx, cur, next msgState, now int64) error {
	if next.availability == cur.availability && next.deletedAt == cur.deletedAt && next.purgedAt == cur.purgedAt {
		_, err := tx.ExecContext(ctx, `UPDATE messages SET read_status = $1, modified_at = $2 WHERE id = $3`,
			next.readStatus, now, cur.id)
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE messages
		SET read_status = $1, availability = $2, deleted_at = $3, purged_at = $4, modified_at = $5
		WHERE id = $6`, next.readStatus, next.availability, next.deletedAt, next.purgedAt, now, cur.id)
	return err
}

// eraseContent removes what a purged message said: the attachment bytes,
// and the text that SMS and pager messages repeat in subject (and a fax's
// cover page text). Metadata (parties, times, status) stays until the
// message is removed. With secure_delete the freed bytes are overwritten.
func eraseContent(ctx context.Context, tx *tx, ids []int64) error {
	return inChunks(ids, func(ids []int64) error {
		var a args
		in := inList(&a, ids)
		if _, err := tx.ExecContext(ctx, `UPDATE attachments SET content = NULL WHERE message_id IN (`+in+`)`, a...); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE messages SET subject = '', cover_page_text = '' WHERE id IN (`+in+`)`, a...)
		return err
	})
}

// DeleteMessages applies the delete transition to every message of the
// mailbox the filter selects that is not Purged yet, and reports how many.
// The state change is one UPDATE … RETURNING, so each message moves exactly
// once even under concurrent writers (PostgreSQL).
func (db *DB) DeleteMessages(ctx context.Context, f switchboard.MessageDeleteFilter) (int, error) {
	var n int
	err := db.writeGrouped(ctx, func(ctx context.Context, tx *tx) error {
		dateTo := f.DateTo
		if dateTo.IsZero() {
			dateTo = tx.now
		}
		now := toMillis(tx.now)
		var a args
		pNow := a.add(now)
		pPurged := a.add(switchboard.Purged)
		set := `availability = ` + pPurged + `, purged_at = ` + pNow
		if !f.Purge {
			// Added only when used: PostgreSQL cannot type an unused $N.
			pAlive, pDeleted := a.add(switchboard.Alive), a.add(switchboard.Deleted)
			set = `availability = CASE WHEN availability = ` + pAlive + ` THEN ` + pDeleted + ` ELSE ` + pPurged + ` END,
				deleted_at = CASE WHEN availability = ` + pAlive + ` THEN ` + pNow + ` ELSE deleted_at END,
				purged_at = CASE WHEN availability = ` + pAlive + ` THEN purged_at ELSE ` + pNow + ` END`
		}
		q := `UPDATE messages SET ` + set + `, modified_at = ` + pNow + `
			WHERE extension_id = ` + a.add(f.ExtensionID) + ` AND account_id = ` + a.add(f.AccountID) + `
			AND created_at < ` + a.add(toMillis(dateTo)) + ` AND availability <> ` + pPurged
		if len(f.ConversationIDs) > 0 {
			q += ` AND conversation_id IN (` + inList(&a, f.ConversationIDs) + `)`
		}
		if len(f.Types) > 0 {
			q += ` AND type IN (` + inList(&a, f.Types) + `)`
		}
		q += ` RETURNING id, availability, deleted_at`
		type moved struct {
			id           int64
			availability switchboard.Availability
			deletedAt    int64
		}
		ms, err := queryAll(ctx, tx, func(s scanner) (moved, error) {
			var m moved
			return m, s.Scan(&m.id, &m.availability, &m.deletedAt)
		}, q, a...)
		if err != nil {
			return err
		}
		n = len(ms)
		var ids, purged []int64
		wasAlive := 0
		for _, m := range ms {
			ids = append(ids, m.id)
			if m.availability == switchboard.Purged {
				purged = append(purged, m.id)
			}
			// RETURNING shows the new row only. A row that was Alive is
			// now Deleted, or Purged with deleted_at still 0: an Alive
			// message always has deleted_at 0 and a Deleted one never
			// (every write into Deleted sets it, every write into Alive
			// clears it), and this UPDATE sets deleted_at only on rows
			// it makes Deleted.
			if m.availability == switchboard.Deleted || m.deletedAt == 0 {
				wasAlive++
			}
		}
		if err := eraseContent(ctx, tx, purged); err != nil {
			return err
		}
		tx.addAlive(f.AccountID, f.ExtensionID, -wasAlive)
		return logUpdated(ctx, tx, ids)
	})
	return n, db.wrap(err, "delete messages of mailbox %d/%d", f.AccountID, f.ExtensionID)
}

// logUpdated logs one "updated" change for each message of ids, in id
// order (the mailbox, type and direction come from the rows).
func logUpdated(ctx context.Context, tx *tx, ids []int64) error {
	return inChunks(ids, func(ids []int64) error {
		var a args
		rows, err := queryAll(ctx, tx, scanChangeRow, `SELECT account_id, extension_id, id, type, direction FROM messages
			WHERE id IN (`+inList(&a, ids)+`) ORDER BY id`, a...)
		for _, r := range rows {
			tx.logChange(switchboard.ChangeUpdated, r)
		}
		return err
	})
}

// ---- attachments and the change log

// Attachment returns one attachment with its bytes. Purged messages have
// none left, so their attachments are not found.
func (db *DB) Attachment(ctx context.Context, accountID, extensionID, messageID, attachmentID int64) (*switchboard.Attachment, error) {
	var att *switchboard.Attachment
	err := db.read(ctx, func(tx *tx) error {
		var a switchboard.Attachment
		var text sql.NullString
		// The attachment is in attachments or, a text kept on its
		// message's row (inlineText), the message's subject.
		err := tx.QueryRowContext(ctx, `SELECT `+attachmentColumns+`, a.content, NULL
			FROM attachments a JOIN messages m ON m.id = a.message_id
			WHERE a.id = $1 AND a.message_id = $2 AND m.extension_id = $3 AND m.account_id = $4
			AND m.availability <> $5
			UNION ALL
			SELECT m.text_attachment_id, m.id, $6, $7, '', m.text_attachment_size, 0, 0, 0, NULL, m.subject
			FROM messages m WHERE m.text_attachment_id = $1 AND m.id = $2 AND m.extension_id = $3
			AND m.account_id = $4 AND m.availability <> $5`,
			attachmentID, messageID, extensionID, accountID, switchboard.Purged, switchboard.AttachmentText, "text/plain").
			Scan(&a.ID, &a.MessageID, &a.Type, &a.ContentType, &a.FileName, &a.Size, &a.VMDuration, &a.Height, &a.Width, &a.Content, &text)
		if err != nil {
			return err
		}
		if text.Valid {
			a.Content = []byte(text.String)
		}
		if a.Content == nil {
			a.Content = []byte{}
		}
		att = &a
		return nil
	})
	return att, db.wrap(err, "get attachment %d of message %d of mailbox %d/%d", attachmentID, messageID, accountID, extensionID)
}

// scanChange reads the columns seq, account_id, extension_id, message_id,
// kind, type, direction, at of a change-log row.
func scanChange(s scanner) (*switchboard.Change, error) {
	var c switchboard.Change
	var at int64
	err := s.Scan(&c.Seq, &c.AccountID, &c.ExtensionID, &c.MessageID, &c.Kind, &c.Type, &c.Direction, &at)
	c.At = fromMillis(at)
	return &c, err
}

// Changes returns up to limit entries of a mailbox's change log after seq,
// oldest first (limit 0: all).
func (db *DB) Changes(ctx context.Context, accountID, extensionID, afterSeq int64, limit int) ([]*switchboard.Change, error) {
	var cs []*switchboard.Change
	err := db.read(ctx, func(tx *tx) error {
		var err error
		cs, err = queryAll(ctx, tx, scanChange, `SELECT seq, account_id, extension_id, message_id, kind, type, direction, at FROM changes
			WHERE extension_id = $1 AND account_id = $2 AND seq > $3
			ORDER BY seq LIMIT $4`, extensionID, accountID, afterSeq, limitArg(limit))
		return err
	})
	return cs, db.wrap(err, "list changes of mailbox %d/%d after %d", accountID, extensionID, afterSeq)
}
