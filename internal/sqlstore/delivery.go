package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard"
)

// The outbox. A delivery moves Pending → (Submitted →) Done or Failed; every
// move checks, in the same transaction, that the worker still holds the
// lease, and recomputes the sender's message from all its deliveries
// (updateSender). A Failed delivery with receipt_at set failed by a carrier
// report after the carrier had accepted it (DeliveryFailed for SMS); one
// without failed before that (SendingFailed).

const deliveryColumns = `id, message_id, account_id, extension_id, type, recipient, internal, state,
	attempts, next_attempt_at, carrier_id, error_code, mailboxes`

func scanDelivery(s scanner) (*switchboard.Delivery, error) {
	var d switchboard.Delivery
	var next int64
	var mailboxes string
	err := s.Scan(&d.ID, &d.MessageID, &d.AccountID, &d.ExtensionID, &d.Type, &d.Recipient, &d.Internal,
		&d.State, &d.Attempts, &next, &d.CarrierID, &d.ErrorCode, &mailboxes)
	if err != nil {
		return nil, err
	}
	d.NextAttempt = fromMillis(next)
	d.Mailboxes, err = decodeMailboxes(mailboxes)
	return &d, err
}

// encodeMailboxes is deliveries.mailboxes: "account:extension", comma-separated.
func encodeMailboxes(ms []switchboard.Mailbox) string {
	var b strings.Builder
	for i, m := range ms {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(m.AccountID, 10))
		b.WriteByte(':')
		b.WriteString(strconv.FormatInt(m.ExtensionID, 10))
	}
	return b.String()
}

func decodeMailboxes(s string) ([]switchboard.Mailbox, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	out := make([]switchboard.Mailbox, len(parts))
	for i, p := range parts {
		acc, ext, ok := strings.Cut(p, ":")
		a, err1 := strconv.ParseInt(acc, 10, 64)
		x, err2 := strconv.ParseInt(ext, 10, 64)
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("delivery mailboxes %q: malformed", s)
		}
		out[i] = switchboard.Mailbox{AccountID: a, ExtensionID: x}
	}
	return out, nil
}

// CreateOutbound stores the sender's message and one delivery per
// recipient, routed as given, in one transaction (insertOutbound), and
// returns the message as accepted.
func (db *DB) CreateOutbound(ctx context.Context, c switchboard.OutboundCreate) (*switchboard.Message, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.Render != nil && c.Message.Type != switchboard.TypeFax {
		return nil, fmt.Errorf("sqlstore: create outbound %s: only a fax is rendered", c.Message.Type)
	}
	m, err := outboundSends.write(ctx, db, "", &c)
	if err != nil {
		return nil, db.wrap(err, "create outbound message in mailbox %d/%d", c.Message.AccountID, c.Message.ExtensionID)
	}
	return m, nil
}

// outboundSends stores sends; the concurrent sends of a group commit
// together.
var outboundSends = newMessageStore(insertOutbound)

// deliveryInsertSQL begins the multi-row insert of deliveries.
const deliveryInsertSQL = `INSERT INTO deliveries (message_id, account_id, extension_id, type,
	recipient, internal, state, error_code, receipt_at, next_attempt_at, created_at, updated_at, mailboxes) VALUES `

// insertOutbound stores outbound messages (validated), in order: one
// message, the concurrent sends of a group commit, or a chunk of an A2P
// batch; and one delivery per recipient, routed as each says. A delivery
// that CompletesOnAccept is completed here: its copies are stored with the
// others of the batch and it is Done (Failed if a mailbox is gone), the
// sender's message stored as it leaves it, with one "updated" change
// after its "created", as a worker's completion would log. The others are
// Pending, due at SendAt or now. It returns the messages as accepted.
func insertOutbound(ctx context.Context, tx *tx, cs []*switchboard.OutboundCreate) ([]*switchboard.Message, error) {
	if err := checkMailboxes(ctx, tx, copiedOnAccept(cs, tx.now)); err != nil {
		return nil, err
	}
	now := toMillis(tx.now)
	outcomes := make([][]switchboard.DeliveryOutcome, len(cs))
	creates := make([]*switchboard.MessageCreate, len(cs))
	completes := make([]bool, len(cs))
	for i, c := range cs {
		creates[i], outcomes[i], completes[i] = accept(tx, c)
	}
	ms, err := insertMessages(ctx, tx, creates)
	if err != nil {
		return nil, err
	}
	var rows []any
	var copies []*switchboard.MessageCreate
	for i, c := range cs {
		m := ms[i]
		due := now
		if c.SendAt.After(tx.now) {
			due = toMillis(c.SendAt)
		}
		if c.Render != nil {
			if err := insertFaxRender(ctx, tx, m, c.Render, due); err != nil {
				return nil, err
			}
			due = heldDelivery // until the fax is rendered
		}
		// The copies' source: the message as stored, with its attachments'
		// content (the stored message holds their metadata only).
		src := *m
		src.Attachments = c.Message.Attachments
		for j, t := range c.Recipients {
			o := outcomes[i][j]
			rows = append(rows, m.ID, m.AccountID, m.ExtensionID, string(m.Type), t.Recipient, flag(t.Internal),
				string(o.State), o.ErrorCode, o.ReceiptAt, due, now, now, encodeMailboxes(t.Mailboxes))
			if o.State == switchboard.DeliveryDone {
				for _, mb := range t.Mailboxes {
					cp := switchboard.InboundCopy(&src, mb)
					copies = append(copies, &cp)
				}
			}
		}
		if completes[i] {
			tx.logChange(switchboard.ChangeUpdated, changeRow{m.AccountID, m.ExtensionID, m.ID, m.Type, m.Direction})
			ms[i] = asAccepted(m, &c.Message)
		}
	}
	if _, err := insertMessages(ctx, tx, copies); err != nil {
		return nil, fmt.Errorf("inbound copies: %w", err)
	}
	if err := execRows(ctx, tx, deliveryInsertSQL, tuple(13), "", rows); err != nil {
		return nil, err
	}
	return ms, nil
}

// accept is what accepting c does to its deliveries: each one's outcome
// (Pending, unless it CompletesOnAccept: Done, or Failed for a mailbox
// found gone by checkMailboxes) and, when any completes, the sender's
// message as they leave it (else c's own).
func accept(tx *tx, c *switchboard.OutboundCreate) (*switchboard.MessageCreate, []switchboard.DeliveryOutcome, bool) {
	outcomes := make([]switchboard.DeliveryOutcome, len(c.Recipients))
	attempts, completes := 0, false
	for i, t := range c.Recipients {
		o := switchboard.DeliveryOutcome{Recipient: t.Recipient, State: switchboard.DeliveryPending}
		if c.CompletesOnAccept(t, tx.now) {
			completes = true
			if tx.hasMailboxes(t.Mailboxes) {
				o.State, o.ReceiptAt = switchboard.DeliveryDone, toMillis(tx.now)
				attempts += reachesInternally(c.Message.Type)
				tx.completed.Delivered++
			} else {
				o.State, o.ErrorCode = switchboard.DeliveryFailed, switchboard.RecipientGoneCode(c.Message.Type)
				tx.completed.Failed++
			}
		}
		outcomes[i] = o
	}
	if !completes {
		return &c.Message, outcomes, false
	}
	m := c.Message
	st := senderStateOf(&m).after(m.Type, outcomes)
	m.MessageStatus, m.To, m.DeliveryErrorCode = st.status, st.to, st.errCode
	m.SMSDeliveryTime = fromMillis(st.deliveryTime)
	m.SMSSendingAttempts += attempts
	return &m, outcomes, true
}

// copiedOnAccept is every mailbox that a delivery of cs that
// CompletesOnAccept at now copies to.
func copiedOnAccept(cs []*switchboard.OutboundCreate, now time.Time) []switchboard.Mailbox {
	var out []switchboard.Mailbox
	for _, c := range cs {
		for _, t := range c.Recipients {
			if c.CompletesOnAccept(t, now) {
				out = append(out, t.Mailboxes...)
			}
		}
	}
	return out
}

// asAccepted is m, stored with deliveries completed on accept, as it was
// when accepted (c): the fields a delivery changes taken from c.
func asAccepted(m *switchboard.Message, c *switchboard.MessageCreate) *switchboard.Message {
	a := *m
	a.MessageStatus, a.To = c.MessageStatus, slices.Clone(c.To)
	a.DeliveryErrorCode, a.SMSSendingAttempts = c.DeliveryErrorCode, c.SMSSendingAttempts
	a.SMSDeliveryTime = fromMillis(toMillis(c.SMSDeliveryTime))
	return &a
}

// checkMailboxes reads which of mbs exist, in one query for those the
// transaction has not checked yet, and marks those checked (tx.hasMailboxes).
func checkMailboxes(ctx context.Context, tx *tx, mbs []switchboard.Mailbox) error {
	var exts []int64
	for _, mb := range mbs {
		if !tx.mailboxes[[2]int64{mb.AccountID, mb.ExtensionID}] {
			exts = append(exts, mb.ExtensionID)
		}
	}
	if len(exts) == 0 {
		return nil
	}
	a := args{}
	boxes, err := queryAll(ctx, tx, func(s scanner) ([2]int64, error) {
		var key [2]int64
		return key, s.Scan(&key[0], &key[1])
	}, `SELECT account_id, id FROM extensions WHERE id IN (`+inListPadded(&a, exts)+`)`, a...)
	if err != nil {
		return err
	}
	for _, key := range boxes {
		tx.checkedMailbox(key)
	}
	return nil
}

// ClaimDeliveries leases up to limit due Pending deliveries to owner until
// now+lease, oldest due first. A lease that has run out can be taken over.
func (db *DB) ClaimDeliveries(ctx context.Context, owner string, lease time.Duration, limit int) ([]*switchboard.Delivery, error) {
	return db.claimDeliveries(ctx, owner, lease, limit, "")
}

// ClaimCarrierDeliveries is ClaimDeliveries of deliveries to the carrier
// only: DeliverDueInternal takes the internal ones.
func (db *DB) ClaimCarrierDeliveries(ctx context.Context, owner string, lease time.Duration, limit int) ([]*switchboard.Delivery, error) {
	return db.claimDeliveries(ctx, owner, lease, limit, `AND internal = 0`)
}

func (db *DB) claimDeliveries(ctx context.Context, owner string, lease time.Duration, limit int, only string) ([]*switchboard.Delivery, error) {
	if owner == "" {
		return nil, errors.New("sqlstore: claim deliveries: empty owner")
	}
	if lease <= 0 || limit <= 0 {
		return nil, fmt.Errorf("sqlstore: claim deliveries: lease %v and limit %d must be positive", lease, limit)
	}
	var out []*switchboard.Delivery
	err := db.writeGrouped(ctx, func(ctx context.Context, tx *tx) error {
		now := toMillis(tx.now)
		rows, err := queryAll(ctx, tx, scanID, `SELECT id FROM deliveries
			WHERE state = 'Pending' AND next_attempt_at <= $1 AND lease_until <= $1 `+only+`
			ORDER BY next_attempt_at, id LIMIT $2 `+db.dialect.claimLock, now, limit)
		if err != nil || len(rows) == 0 {
			return err
		}
		a := args{owner, now + lease.Milliseconds(), now}
		out, err = queryAll(ctx, tx, scanDelivery, `UPDATE deliveries
			SET lease_owner = $1, lease_until = $2, updated_at = $3
			WHERE id IN (`+inListPadded(&a, rows)+`) AND state = 'Pending' AND lease_until <= $3
			RETURNING `+deliveryColumns, a...)
		if err != nil {
			return err
		}
		return attachMessages(ctx, tx, out)
	})
	if err != nil {
		return nil, db.wrap(err, "claim deliveries for %s", owner)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].NextAttempt.Equal(out[j].NextAttempt) {
			return out[i].NextAttempt.Before(out[j].NextAttempt)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// leased returns the delivery if it is Pending under owner's lease, or
// ErrLeaseLost.
func leased(ctx context.Context, tx *tx, owner string, id int64) (*switchboard.Delivery, error) {
	d, err := scanDelivery(tx.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries
		WHERE id = $1 AND state = 'Pending' AND lease_owner = $2 AND lease_until > $3 `+tx.rowLock, id, owner, toMillis(tx.now)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, switchboard.ErrLeaseLost
	}
	return d, err
}

// finish moves a leased delivery to its next state and releases the lease.
func finish(ctx context.Context, tx *tx, id int64, state switchboard.DeliveryState, carrierID, errorCode string) error {
	_, err := tx.ExecContext(ctx, `UPDATE deliveries
		SET state = $1, carrier_id = $2, error_code = $3, lease_owner = '', lease_until = 0, updated_at = $4
		WHERE id = $5`, state, carrierID, errorCode, toMillis(tx.now), id)
	return err
}

// reachesInternally is the SMS sending attempt an internal delivery of a
// message of type typ counts.
func reachesInternally(typ switchboard.MessageType) int {
	if typ == switchboard.TypeSMS {
		return 1
	}
	return 0
}

// reachesCarrier reports whether an attempt of d counts as an SMS sending
// attempt of the sender's message.
func reachesCarrier(d *switchboard.Delivery) int {
	if d.Type == switchboard.TypeSMS && !d.Internal {
		return 1
	}
	return 0
}

// attachMessages reads the sender's message of each delivery with its
// attachments, in one query for the messages and one for the attachments
// of each kind of delivery: content only where an internal delivery will
// copy it (a carrier submission needs the attachments' types and sizes),
// so a batch of faxes to carriers does not hold their documents in memory.
func attachMessages(ctx context.Context, tx *tx, ds []*switchboard.Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	var ids, copied, described []int64
	internal := map[int64]bool{}
	for _, d := range ds {
		if _, seen := internal[d.MessageID]; !seen {
			ids = append(ids, d.MessageID)
		}
		internal[d.MessageID] = internal[d.MessageID] || d.Internal
	}
	for _, id := range ids {
		if internal[id] {
			copied = append(copied, id)
		} else {
			described = append(described, id)
		}
	}
	a := args{}
	msgs, err := queryAll(ctx, tx, scanMessage, `SELECT `+messageColumns+` FROM messages m WHERE m.id IN (`+inListPadded(&a, ids)+`)`, a...)
	if err != nil {
		return err
	}
	byID := make(map[int64]*switchboard.Message, len(msgs))
	for _, m := range msgs {
		byID[m.ID] = m
	}
	// A text kept on the message's row (inlineText) is its only
	// attachment, and its content the subject.
	tabled := func(ids []int64) []int64 {
		var out []int64
		for _, id := range ids {
			if m := byID[id]; m != nil && len(m.Attachments) == 0 {
				out = append(out, id)
			}
		}
		return out
	}
	for _, id := range copied {
		if m := byID[id]; m != nil && len(m.Attachments) == 1 {
			m.Attachments[0].Content = []byte(m.Subject)
		}
	}
	copied, described = tabled(copied), tabled(described)
	for _, group := range []struct {
		ids     []int64
		content string
	}{{copied, "a.content"}, {described, "NULL"}} {
		if len(group.ids) == 0 {
			continue
		}
		a := args{}
		atts, err := queryAll(ctx, tx, func(s scanner) (*switchboard.Attachment, error) {
			var at switchboard.Attachment
			return &at, s.Scan(&at.ID, &at.MessageID, &at.Type, &at.ContentType, &at.FileName, &at.Size,
				&at.VMDuration, &at.Height, &at.Width, &at.Content)
		}, `SELECT `+attachmentColumns+`, `+group.content+` FROM attachments a WHERE a.message_id IN (`+inListPadded(&a, group.ids)+`) ORDER BY a.id`, a...)
		if err != nil {
			return err
		}
		for _, at := range atts {
			if m := byID[at.MessageID]; m != nil {
				m.Attachments = append(m.Attachments, at)
			}
		}
	}
	for _, d := range ds {
		d.Message = byID[d.MessageID]
	}
	return nil
}

// DeliverInternal implements switchboard.DeliveryStore: the whole batch is
// one grouped write, so one commit (one fsync), shared with the sends
// arriving meanwhile, covers many deliveries.
func (db *DB) DeliverInternal(ctx context.Context, owner string, batch []switchboard.InternalDelivery) ([]error, error) {
	results := make([]error, len(batch))
	if len(batch) == 0 {
		return results, nil
	}
	err := db.writeGrouped(ctx, func(ctx context.Context, tx *tx) error {
		clear(results)
		a := args{owner, toMillis(tx.now)}
		ids := make([]int64, len(batch))
		for i, b := range batch {
			ids[i] = b.DeliveryID
		}
		held, err := queryAll(ctx, tx, scanDelivery, `SELECT `+deliveryColumns+` FROM deliveries
			WHERE id IN (`+inListPadded(&a, ids)+`) AND state = 'Pending' AND lease_owner = $1 AND lease_until > $2 `+tx.rowLock, a...)
		if err != nil {
			return err
		}
		byID := make(map[int64]*switchboard.Delivery, len(held))
		for _, d := range held {
			byID[d.ID] = d
		}
		ds := make([]*switchboard.Delivery, len(batch))
		for i, b := range batch {
			if ds[i] = byID[b.DeliveryID]; ds[i] == nil {
				results[i] = switchboard.ErrLeaseLost
			}
		}
		return completeInternal(ctx, tx, ds, batch, results)
	})
	if err != nil {
		return nil, db.wrap(err, "deliver %d internal deliveries", len(batch))
	}
	return results, nil
}

// dueInternalSQL selects up to $2 internal deliveries due at $1 that no
// worker holds, through deliveries_pending_internal (TestDeliveryQueryPlans).
const dueInternalSQL = `SELECT ` + deliveryColumns + ` FROM deliveries
	WHERE state = 'Pending' AND internal = 1 AND next_attempt_at <= $1 AND lease_until <= $1
	ORDER BY next_attempt_at, id LIMIT $2 `

// DeliverDueInternal implements switchboard.DeliveryStore: it selects up
// to limit due internal deliveries that no worker holds, with their
// senders' messages, and completes them, all in one grouped write. With
// nothing leaving the transaction there is no lease to take: the claim
// and its second transaction that DeliverInternal needs are saved.
func (db *DB) DeliverDueInternal(ctx context.Context, limit int) (switchboard.InternalOutcome, error) {
	if limit <= 0 {
		return switchboard.InternalOutcome{}, fmt.Errorf("sqlstore: deliver due internal deliveries: limit %d must be positive", limit)
	}
	var out switchboard.InternalOutcome
	err := db.writeGrouped(ctx, func(ctx context.Context, tx *tx) error {
		out = switchboard.InternalOutcome{}
		now := toMillis(tx.now)
		ds, err := queryAll(ctx, tx, scanDelivery, dueInternalSQL+db.dialect.claimLock, now, limit)
		if err != nil || len(ds) == 0 {
			return err
		}
		if err := attachMessages(ctx, tx, ds); err != nil {
			return err
		}
		batch := make([]switchboard.InternalDelivery, len(ds))
		var senderGone []int64
		for i, d := range ds {
			if d.Message == nil {
				// The sender's message was removed before delivery.
				senderGone = append(senderGone, d.ID)
				ds[i] = nil
				continue
			}
			batch[i] = switchboard.InternalDeliveryOf(d)
		}
		for _, id := range senderGone {
			if err := finish(ctx, tx, id, switchboard.DeliveryFailed, "", switchboard.FailureSenderGone); err != nil {
				return err
			}
		}
		results := make([]error, len(batch))
		if err := completeInternal(ctx, tx, ds, batch, results); err != nil {
			return err
		}
		out.Failed = len(senderGone)
		for i, r := range results {
			switch {
			case ds[i] == nil:
			case r == nil:
				out.Delivered++
			default: // ErrRecipientGone, recorded
				out.Failed++
			}
		}
		return nil
	})
	if err != nil {
		return switchboard.InternalOutcome{}, db.wrap(err, "deliver due internal deliveries")
	}
	return out, nil
}

// completeInternal completes internal deliveries ds[i] (nil: not to be
// completed, its result already set) with the copies of batch[i]: a
// delivery whose recipient mailbox is gone fails (ErrRecipientGone in
// results[i]); the others get their copies, stored together, and become
// Done; each sender's message is recomputed once.
func completeInternal(ctx context.Context, tx *tx, ds []*switchboard.Delivery, batch []switchboard.InternalDelivery, results []error) error {
	now := toMillis(tx.now)
	var mbs []switchboard.Mailbox
	for i, b := range batch {
		if ds[i] != nil {
			mbs = append(mbs, mailboxesOf(b.Copies)...)
		}
	}
	if err := checkMailboxes(ctx, tx, mbs); err != nil {
		return err
	}
	var done []int64
	var gone []*switchboard.Delivery
	var copies []*switchboard.MessageCreate
	senders := map[int64]int{} // message → SMS sending attempts to add
	for i, b := range batch {
		d := ds[i]
		if d == nil {
			continue
		}
		if !tx.hasMailboxes(mailboxesOf(b.Copies)) {
			results[i] = switchboard.ErrRecipientGone
			gone = append(gone, d)
			senders[d.MessageID] += 0 // recomputed; no attempt counted
			continue
		}
		for j := range b.Copies {
			copies = append(copies, &b.Copies[j])
		}
		done = append(done, d.ID)
		// Storing the copy is the delivery and, for SMS, one sending attempt.
		senders[d.MessageID] += reachesInternally(d.Type)
	}
	if _, err := insertMessages(ctx, tx, copies); err != nil {
		return fmt.Errorf("inbound copies: %w", err)
	}
	if len(done) > 0 {
		// Storing the copy is the delivery: its time is the receipt time
		// (smsDeliveryTime).
		a := args{now}
		if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET state = 'Done', receipt_at = $1, lease_owner = '', lease_until = 0,
			updated_at = $1 WHERE id IN (`+inListPadded(&a, done)+`)`, a...); err != nil {
			return err
		}
	}
	for _, d := range gone {
		if err := finish(ctx, tx, d.ID, switchboard.DeliveryFailed, "", switchboard.RecipientGoneCode(d.Type)); err != nil {
			return err
		}
	}
	if len(senders) == 0 {
		return nil
	}
	return updateSenders(ctx, tx, senders)
}

// mailboxesOf is the mailboxes the copies go to.
func mailboxesOf(copies []switchboard.MessageCreate) []switchboard.Mailbox {
	out := make([]switchboard.Mailbox, len(copies))
	for i, c := range copies {
		out[i] = switchboard.Mailbox{AccountID: c.AccountID, ExtensionID: c.ExtensionID}
	}
	return out
}

// wrapDelivery is wrap, with ErrLeaseLost passed as is.
func (db *DB) wrapDelivery(err error, format string, args ...any) error {
	if errors.Is(err, switchboard.ErrLeaseLost) {
		return switchboard.ErrLeaseLost
	}
	return db.wrap(err, format, args...)
}

// RecordSubmit records a carrier's answer to a submit of a leased delivery.
func (db *DB) RecordSubmit(ctx context.Context, owner string, deliveryID int64, accepted bool, carrierID, errorCode string) error {
	errs, _, err := db.RecordCarrier(ctx, owner,
		[]switchboard.SubmitOutcome{{DeliveryID: deliveryID, Accepted: accepted, CarrierID: carrierID, ErrorCode: errorCode}}, nil)
	if err != nil {
		return err
	}
	return errs[0]
}

// Reschedule counts a temporarily failed attempt and makes the delivery due
// again at `at`, or fails it with errorCode once it has had maxAttempts.
func (db *DB) Reschedule(ctx context.Context, owner string, deliveryID int64, at time.Time, maxAttempts int, errorCode string) error {
	err := db.writeGrouped(ctx, func(ctx context.Context, tx *tx) error {
		d, err := leased(ctx, tx, owner, deliveryID)
		if err != nil {
			return err
		}
		state := switchboard.DeliveryPending
		code := d.ErrorCode
		if d.Attempts+1 >= maxAttempts {
			state, code = switchboard.DeliveryFailed, errorCode
		}
		if _, err := tx.ExecContext(ctx, `UPDATE deliveries
			SET state = $1, attempts = attempts + 1, next_attempt_at = $2, error_code = $3,
				lease_owner = '', lease_until = 0, updated_at = $4
			WHERE id = $5`, state, toMillis(at), code, toMillis(tx.now), d.ID); err != nil {
			return err
		}
		return updateSender(ctx, tx, d.MessageID, reachesCarrier(d))
	})
	return db.wrapDelivery(err, "reschedule delivery %d", deliveryID)
}

// Postpone implements switchboard.DeliveryStore.
func (db *DB) Postpone(ctx context.Context, owner string, deliveryID int64, at time.Time) error {
	err := db.writeGrouped(ctx, func(ctx context.Context, tx *tx) error {
		d, err := leased(ctx, tx, owner, deliveryID)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE deliveries SET next_attempt_at = $1, lease_owner = '', lease_until = 0, updated_at = $2
			WHERE id = $3`, toMillis(at), toMillis(tx.now), d.ID)
		return err
	})
	return db.wrapDelivery(err, "postpone delivery %d", deliveryID)
}

// ApplyReceipt records a carrier's delivery report for a Submitted
// delivery. Reports for unknown or already final deliveries are ignored.
func (db *DB) ApplyReceipt(ctx context.Context, messageID int64, recipient string, delivered bool, errorCode string, at time.Time) error {
	_, errs, err := db.RecordCarrier(ctx, "", nil,
		[]switchboard.DeliveryReport{{MessageID: messageID, Recipient: recipient, Delivered: delivered, ErrorCode: errorCode, At: at}})
	if err != nil {
		return err
	}
	return errs[0]
}

// RecordCarrier implements switchboard.DeliveryStore: a worker's pass over
// the carrier (its submits' answers and the receipts due) is one grouped
// write, in which each delivery row is written once, however many of the
// pass's answers concern it, and each sender's message is read and
// recomputed once (updateSenders), where a write per answer would cost
// each its own reads, message update and change row.
func (db *DB) RecordCarrier(ctx context.Context, owner string, submits []switchboard.SubmitOutcome, reports []switchboard.DeliveryReport) ([]error, []error, error) {
	submitErrs, reportErrs := make([]error, len(submits)), make([]error, len(reports))
	if len(submits)+len(reports) == 0 {
		return submitErrs, reportErrs, nil
	}
	err := db.writeGrouped(ctx, func(ctx context.Context, tx *tx) error {
		clear(submitErrs)
		clear(reportErrs)
		p := carrierPass{tx: tx, changed: map[int64]*deliveryChange{}, senders: map[int64]int{}}
		if err := p.submits(ctx, owner, submits, submitErrs); err != nil {
			return err
		}
		if err := p.reports(ctx, reports, reportErrs); err != nil {
			return err
		}
		return p.write(ctx)
	})
	if err != nil {
		return nil, nil, db.wrapDelivery(err, "record %d carrier answers and %d receipts", len(submits), len(reports))
	}
	return submitErrs, reportErrs, nil
}

// carrierPass is RecordCarrier's transaction: the deliveries' new states,
// gathered before anything is written.
type carrierPass struct {
	tx      *tx
	changed map[int64]*deliveryChange // by delivery id
	senders map[int64]int             // message → SMS sending attempts to add
}

// deliveryChange is a delivery's row as the pass leaves it.
type deliveryChange struct {
	id               int64
	state            switchboard.DeliveryState
	carrierID, code  string
	receiptAt        int64 // 0: no report (the receipt time is not written)
	submitted, final bool  // a submit answered (the lease released); a report applied
}

// submits moves each delivery still Pending under owner's lease to
// Submitted or Failed; one no longer held is ErrLeaseLost in errs.
func (p *carrierPass) submits(ctx context.Context, owner string, submits []switchboard.SubmitOutcome, errs []error) error {
	if len(submits) == 0 {
		return nil
	}
	ids := make([]int64, len(submits))
	for i, s := range submits {
		ids[i] = s.DeliveryID
	}
	held := map[int64]*switchboard.Delivery{}
	err := inChunks(ids, func(ids []int64) error {
		a := args{owner, toMillis(p.tx.now)}
		ds, err := queryAll(ctx, p.tx, scanDelivery, `SELECT `+deliveryColumns+` FROM deliveries
			WHERE id IN (`+inListPadded(&a, ids)+`) AND state = 'Pending' AND lease_owner = $1 AND lease_until > $2 `+p.tx.rowLock, a...)
		for _, d := range ds {
			held[d.ID] = d
		}
		return err
	})
	if err != nil {
		return err
	}
	for i, s := range submits {
		d := held[s.DeliveryID]
		if d == nil || p.changed[d.ID] != nil {
			errs[i] = switchboard.ErrLeaseLost
			continue
		}
		c := &deliveryChange{id: d.ID, submitted: true, state: switchboard.DeliverySubmitted, carrierID: s.CarrierID}
		if !s.Accepted {
			c.state, c.carrierID, c.code = switchboard.DeliveryFailed, "", s.ErrorCode
		}
		p.changed[d.ID] = c
		p.senders[d.MessageID] += reachesCarrier(d)
	}
	return nil
}

// reportedDelivery is what a report needs of its delivery.
type reportedDelivery struct {
	id, messageID        int64
	recipient, carrierID string
	state                switchboard.DeliveryState
}

// reports applies delivery reports to Submitted deliveries (including
// those the pass's submits just moved there). A report for a delivery
// still Pending is ErrDeliveryPending in errs; one for an unknown or
// already final delivery is ignored: receipts come at least once.
func (p *carrierPass) reports(ctx context.Context, reports []switchboard.DeliveryReport, errs []error) error {
	if len(reports) == 0 {
		return nil
	}
	var messages []int64
	seen := map[int64]bool{}
	for _, r := range reports {
		if !seen[r.MessageID] {
			seen[r.MessageID] = true
			messages = append(messages, r.MessageID)
		}
	}
	type key struct {
		message   int64
		recipient string
	}
	byKey := map[key]*reportedDelivery{}
	err := inChunks(messages, func(ids []int64) error {
		a := args{}
		ds, err := queryAll(ctx, p.tx, func(s scanner) (*reportedDelivery, error) {
			var d reportedDelivery
			return &d, s.Scan(&d.id, &d.messageID, &d.recipient, &d.carrierID, &d.state)
		}, `SELECT id, message_id, recipient, carrier_id, state FROM deliveries
			WHERE message_id IN (`+inListPadded(&a, ids)+`) ORDER BY id `+p.tx.rowLock, a...)
		for _, d := range ds {
			if k := (key{d.messageID, d.recipient}); byKey[k] == nil {
				byKey[k] = d
			}
		}
		return err
	})
	if err != nil {
		return err
	}
	for i, r := range reports {
		d := byKey[key{r.MessageID, r.Recipient}]
		if n, err := switchboard.NormalizeE164(r.Recipient); d == nil && err == nil {
			d = byKey[key{r.MessageID, n}]
		}
		if d == nil {
			continue // unknown
		}
		c := p.changed[d.id]
		if c == nil {
			c = &deliveryChange{id: d.id, state: d.state, carrierID: d.carrierID}
		}
		switch {
		case c.state == switchboard.DeliveryPending:
			// The carrier's answer to the submit is not recorded yet (the
			// worker's lease ran out in between): keep the receipt for later.
			errs[i] = switchboard.ErrDeliveryPending
			continue
		case c.state != switchboard.DeliverySubmitted:
			continue // already final
		}
		at := r.At
		if at.IsZero() {
			at = p.tx.now
		}
		c.state, c.code, c.receiptAt, c.final = switchboard.DeliveryDone, "", max(toMillis(at), 1), true
		if !r.Delivered {
			c.state, c.code = switchboard.DeliveryFailed, r.ErrorCode
		}
		p.changed[d.id] = c
		p.senders[d.messageID] += 0 // recomputed; no attempt counted
	}
	return nil
}

// write stores the changed deliveries, many in one statement, and
// recomputes their senders' messages. The pass's reads locked every row it
// changes (PostgreSQL), so the update takes no lock of its own.
func (p *carrierPass) write(ctx context.Context) error {
	ids := make([]int64, 0, len(p.changed))
	for id := range p.changed {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	rows := make([]any, 0, len(ids)*6)
	for _, id := range ids {
		c := p.changed[id]
		// A report sets the receipt time; a submit answered in the same
		// pass releases its lease here too (a Submitted delivery holds none).
		rows = append(rows, id, string(c.state), c.carrierID, c.code, c.receiptAt, flag(c.final))
	}
	if err := execRows(ctx, p.tx, carrierUpdateHead, carrierUpdateTuple, carrierUpdateTail, rows, toMillis(p.tx.now)); err != nil {
		return err
	}
	if len(p.senders) == 0 {
		return nil
	}
	return updateSenders(ctx, p.tx, p.senders)
}

// carrierUpdate… store a carrier pass's deliveries (write) in one
// statement per chunk of rows, as senderUpdate… do the senders' messages.
const (
	carrierUpdateHead  = `WITH v (id, state, carrier_id, error_code, receipt_at, final) AS (VALUES `
	carrierUpdateTuple = `(CAST(? AS BIGINT), ?, ?, ?, CAST(? AS BIGINT), CAST(? AS BIGINT))`
	carrierUpdateTail  = `) UPDATE deliveries SET state = v.state, carrier_id = v.carrier_id, error_code = v.error_code,
		receipt_at = CASE WHEN v.final = 1 THEN v.receipt_at ELSE deliveries.receipt_at END,
		lease_owner = '', lease_until = 0, updated_at = CAST(? AS BIGINT)
		FROM v WHERE deliveries.id = v.id`
)

// ClaimUnreceipted implements switchboard.DeliveryStore. A Submitted
// delivery's updated_at is when it was (re)submitted: the claim moves it to
// now, so a concurrent claim on another node no longer matches it.
func (db *DB) ClaimUnreceipted(ctx context.Context, cutoff time.Time, limit int) ([]*switchboard.Delivery, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("sqlstore: claim unreceipted deliveries: limit %d must be positive", limit)
	}
	var out []*switchboard.Delivery
	err := db.write(ctx, func(tx *tx) error {
		ids, err := queryAll(ctx, tx, scanID, `SELECT id FROM deliveries
			WHERE state = 'Submitted' AND updated_at < $1
			ORDER BY updated_at, id LIMIT $2 `+db.dialect.claimLock, toMillis(cutoff), limit)
		if err != nil || len(ids) == 0 {
			return err
		}
		a := args{toMillis(tx.now), toMillis(cutoff)}
		out, err = queryAll(ctx, tx, scanDelivery, `UPDATE deliveries SET updated_at = $1
			WHERE id IN (`+inList(&a, ids)+`) AND state = 'Submitted' AND updated_at < $2
			RETURNING `+deliveryColumns, a...)
		return err
	})
	if err != nil {
		return nil, db.wrap(err, "claim unreceipted deliveries")
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// ---- the sender's message

// updateSender recomputes the sender's message from all its deliveries
// (status, to[] statuses and fax error codes, SMS error code and delivery
// time) and adds attempts to smsSendingAttemptsCount. If anything visible
// changed it sets lastModified and logs one "updated" change; otherwise it
// writes nothing. It locks the message first (PostgreSQL), so deliveries of
// one message finishing in concurrent transactions are summed one after
// the other, each seeing the others' outcomes.
func updateSender(ctx context.Context, tx *tx, messageID int64, attempts int) error {
	return updateSenders(ctx, tx, map[int64]int{messageID: attempts})
}

// senderRow is what updateSenders reads of a sender's message.
type senderRow struct {
	id, acc, ext    int64
	typ             switchboard.MessageType
	dir             switchboard.Direction
	status          switchboard.MessageStatus
	toJSON, errCode string
	deliveryTime    int64
	sendAttempts    int
	outcomes        []switchboard.DeliveryOutcome
}

// updateSenders is updateSender for several messages (id → attempts to
// add) with two reads for all of them; messages are locked in id order.
func updateSenders(ctx context.Context, tx *tx, attempts map[int64]int) error {
	ids := make([]int64, 0, len(attempts))
	for id := range attempts {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	a := args{}
	rows, err := queryAll(ctx, tx, func(s scanner) (*senderRow, error) {
		var r senderRow
		return &r, s.Scan(&r.id, &r.acc, &r.ext, &r.typ, &r.dir, &r.status, &r.toJSON, &r.errCode, &r.deliveryTime, &r.sendAttempts)
	}, `SELECT id, account_id, extension_id, type, direction, message_status, to_parties,
		delivery_error_code, sms_delivery_time, sms_sending_attempts FROM messages WHERE id IN (`+inListPadded(&a, ids)+`) ORDER BY id `+tx.rowLock, a...)
	if err != nil {
		return err
	}
	byID := make(map[int64]*senderRow, len(rows))
	for _, r := range rows {
		byID[r.id] = r
	}
	for _, id := range ids {
		if byID[id] == nil {
			return fmt.Errorf("sender message %d: %w", id, sql.ErrNoRows)
		}
	}
	a = args{}
	dq, err := tx.QueryContext(ctx, `SELECT message_id, recipient, state, error_code, receipt_at FROM deliveries
		WHERE message_id IN (`+inListPadded(&a, ids)+`) ORDER BY message_id, id`, a...)
	if err != nil {
		return err
	}
	for dq.Next() {
		var id int64
		var o switchboard.DeliveryOutcome
		if err := dq.Scan(&id, &o.Recipient, &o.State, &o.ErrorCode, &o.ReceiptAt); err != nil {
			dq.Close()
			return err
		}
		byID[id].outcomes = append(byID[id].outcomes, o)
	}
	if err := dq.Close(); err != nil {
		return err
	}
	if err := dq.Err(); err != nil {
		return err
	}
	var updates []any // a senderUpdateTuple per changed message
	for _, id := range ids {
		row, err := senderUpdate(byID[id], attempts[id])
		if err != nil {
			return err
		}
		if row != nil {
			r := byID[id]
			updates = append(updates, row...)
			tx.logChange(switchboard.ChangeUpdated, changeRow{r.acc, r.ext, r.id, r.typ, r.dir})
		}
	}
	return execRows(ctx, tx, senderUpdateHead, senderUpdateTuple, senderUpdateTail, updates, toMillis(tx.now))
}

// senderUpdate… update the senders' messages of many rows (senderUpdate)
// in one statement, then set their modified_at: one statement for many (a
// round trip each on PostgreSQL). The casts type the VALUES for
// PostgreSQL; SQLite takes them as they are.
const (
	senderUpdateHead  = `WITH v (id, status, to_parties, error_code, delivery_time, attempts) AS (VALUES `
	senderUpdateTuple = `(CAST(? AS BIGINT), ?, ?, ?, CAST(? AS BIGINT), CAST(? AS BIGINT))`
	senderUpdateTail  = `) UPDATE messages SET message_status = v.status, to_parties = v.to_parties,
		delivery_error_code = v.error_code, sms_delivery_time = v.delivery_time,
		sms_sending_attempts = messages.sms_sending_attempts + v.attempts, modified_at = CAST(? AS BIGINT)
		FROM v WHERE messages.id = v.id`
)

// senderState is what a sender's message shows of its deliveries: its
// status, its recipients' statuses (and fax error codes), its SMS error
// code and delivery time (Unix ms).
type senderState struct {
	status       switchboard.MessageStatus
	to           []switchboard.Party
	errCode      string
	deliveryTime int64
}

func senderStateOf(c *switchboard.MessageCreate) senderState {
	return senderState{c.MessageStatus, c.To, c.DeliveryErrorCode, toMillis(c.SMSDeliveryTime)}
}

// after is s brought up to date with the outcomes of all of a message's
// deliveries, in delivery order.
func (s senderState) after(typ switchboard.MessageType, outcomes []switchboard.DeliveryOutcome) senderState {
	out := senderState{status: switchboard.AggregateStatus(typ, outcomes), to: slices.Clone(s.to),
		errCode: s.errCode, deliveryTime: s.deliveryTime}
	var latest int64
	codeSet := false
	for _, o := range outcomes {
		for i := range out.to {
			if switchboard.RecipientKey(typ, out.to[i]) != o.Recipient {
				continue
			}
			out.to[i].MessageStatus = switchboard.PartyStatus(typ, o)
			if typ == switchboard.TypeFax && o.State == switchboard.DeliveryFailed {
				out.to[i].FaxErrorCode = o.ErrorCode
			}
		}
		if o.State == switchboard.DeliveryFailed && typ == switchboard.TypeSMS && !codeSet && o.ErrorCode != "" {
			out.errCode, codeSet = o.ErrorCode, true // the first failure's code (by delivery id)
		}
		if o.State == switchboard.DeliveryDone && o.ReceiptAt > latest {
			latest = o.ReceiptAt
		}
	}
	if typ == switchboard.TypeSMS && latest != 0 {
		out.deliveryTime = latest
	}
	return out
}

func (s senderState) equal(o senderState) bool {
	return s.status == o.status && slices.Equal(s.to, o.to) && s.errCode == o.errCode && s.deliveryTime == o.deliveryTime
}

// senderUpdate is the row of senderUpdateTuple that brings r up to date with
// its deliveries' outcomes and attempts more sending attempts, or nil
// when nothing changes.
func senderUpdate(r *senderRow, attempts int) ([]any, error) {
	to, err := decodeParties(r.toJSON)
	if err != nil {
		return nil, fmt.Errorf("decode recipients of message %d: %w", r.id, err)
	}
	was := senderState{r.status, to, r.errCode, r.deliveryTime}
	now := was.after(r.typ, r.outcomes)
	if now.equal(was) && attempts == 0 {
		return nil, nil
	}
	toOut := []byte("[]")
	if now.to != nil {
		if toOut, err = json.Marshal(now.to); err != nil {
			return nil, err
		}
	}
	return []any{r.id, string(now.status), string(toOut), now.errCode, now.deliveryTime, int64(attempts)}, nil
}

// ---- departments

// AddDepartmentMember makes a User extension a member of a Department
// extension of the same account. Adding a member twice is not an error.
func (db *DB) AddDepartmentMember(ctx context.Context, accountID, departmentID, extensionID int64) error {
	err := db.write(ctx, func(tx *tx) error {
		if err := checkDepartment(ctx, tx, accountID, departmentID); err != nil {
			return err
		}
		x, err := getExtension(ctx, tx, accountID, extensionID)
		if err != nil {
			return fmt.Errorf("member %d: %w", extensionID, err)
		}
		if x.Type != switchboard.ExtensionTypeUser {
			return switchboard.InvalidParam("extensionId", fmt.Sprint(extensionID), "Only User extensions can be department members")
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO department_members (department_id, extension_id) VALUES ($1, $2)
			ON CONFLICT (department_id, extension_id) DO NOTHING`, departmentID, extensionID)
		return err
	})
	return db.wrap(err, "add member %d to department %d of account %d", extensionID, departmentID, accountID)
}

func checkDepartment(ctx context.Context, tx *tx, accountID, departmentID int64) error {
	d, err := getExtension(ctx, tx, accountID, departmentID)
	if err != nil {
		return fmt.Errorf("department %d: %w", departmentID, err)
	}
	if d.Type != switchboard.ExtensionTypeDepartment {
		return switchboard.InvalidParam("departmentId", fmt.Sprint(departmentID), "Extension %s is not a Department", d.ExtensionNumber)
	}
	return nil
}

// DepartmentMembers lists the User members of a department, by extension
// number (numerically for digit strings: shorter first).
func (db *DB) DepartmentMembers(ctx context.Context, accountID, departmentID int64) ([]*switchboard.Extension, error) {
	var xs []*switchboard.Extension
	err := db.read(ctx, func(tx *tx) error {
		if err := checkDepartment(ctx, tx, accountID, departmentID); err != nil {
			return err
		}
		var err error
		xs, err = queryAll(ctx, tx, scanExtension, `SELECT `+extensionColumns+` FROM extensions
			WHERE account_id = $1 AND type = $2
			AND id IN (SELECT extension_id FROM department_members WHERE department_id = $3)
			ORDER BY LENGTH(extension_number), extension_number, id`, accountID, switchboard.ExtensionTypeUser, departmentID)
		return err
	})
	return xs, db.wrap(err, "list members of department %d of account %d", departmentID, accountID)
}

// DeliveryByCarrierID implements switchboard.DeliveryStore, on the partial
// index deliveries_carrier_id.
func (db *DB) DeliveryByCarrierID(ctx context.Context, carrierID string) (int64, string, error) {
	if carrierID == "" {
		return 0, "", switchboard.ErrNotFound
	}
	var messageID int64
	var recipient string
	err := db.read(ctx, func(tx *tx) error {
		return tx.QueryRowContext(ctx, `SELECT message_id, recipient FROM deliveries
			WHERE carrier_id = $1 AND carrier_id <> '' AND internal = 0 ORDER BY id DESC LIMIT 1`, carrierID).Scan(&messageID, &recipient)
	})
	return messageID, recipient, db.wrap(err, "find delivery by carrier id %q", carrierID)
}

// ListDeliveries returns up to limit deliveries in state, newest first. The
// Pending and Submitted states have partial indexes of their own, Failed
// one from migration 00008; Done is the bulk of the table and is read
// newest first by primary key.
func (db *DB) ListDeliveries(ctx context.Context, state switchboard.DeliveryState, limit int) ([]*switchboard.Delivery, error) {
	var out []*switchboard.Delivery
	err := db.read(ctx, func(tx *tx) error {
		var err error
		out, err = queryAll(ctx, tx, scanDelivery, `SELECT `+deliveryColumns+` FROM deliveries
			WHERE state = $1 ORDER BY id DESC LIMIT $2`, string(state), limit)
		return err
	})
	return out, db.wrap(err, "list %s deliveries", state)
}
