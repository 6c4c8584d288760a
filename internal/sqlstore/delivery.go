package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
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
	attempts, next_attempt_at, carrier_id, error_code`

func scanDelivery(s scanner) (*switchboard.Delivery, error) {
	var d switchboard.Delivery
	var next int64
	err := s.Scan(&d.ID, &d.MessageID, &d.AccountID, &d.ExtensionID, &d.Type, &d.Recipient, &d.Internal,
		&d.State, &d.Attempts, &next, &d.CarrierID, &d.ErrorCode)
	d.NextAttempt = fromMillis(next)
	return &d, err
}

// normalizeRecipient returns the stored form of a recipient: E.164 for
// every type but Pager, whose recipients are extension numbers.
func normalizeRecipient(typ switchboard.MessageType, r string) (string, error) {
	if typ == switchboard.TypePager {
		if r == "" {
			return "", switchboard.InvalidParam("to", r, "A recipient needs an extension number")
		}
		return r, nil
	}
	n, err := switchboard.NormalizeE164(r)
	if err != nil {
		return "", switchboard.InvalidParam("to", r, "%v", err)
	}
	return n, nil
}

// CreateOutbound stores the sender's message (Queued) and one Pending
// delivery per recipient, due now, in one transaction.
func (db *DB) CreateOutbound(ctx context.Context, c switchboard.OutboundCreate) (*switchboard.Message, error) {
	mc := c.Message // Validate (below) normalises into its own copies
	if mc.Direction != switchboard.Outbound {
		return nil, switchboard.InvalidParam("direction", string(mc.Direction), "An outbound message must have direction Outbound")
	}
	// Every delivery starts Pending, so the message is Queued.
	mc.MessageStatus = switchboard.StatusQueued
	if err := mc.Validate(); err != nil {
		return nil, err
	}
	if len(c.Recipients) == 0 {
		return nil, switchboard.InvalidParam("to", "", "A message needs at least one recipient")
	}
	if c.Render != nil && mc.Type != switchboard.TypeFax {
		return nil, fmt.Errorf("sqlstore: create outbound %s: only a fax is rendered", mc.Type)
	}
	if len(c.Recipients) > switchboard.MaxRecipients {
		return nil, switchboard.InvalidParam("to", "", "A message has at most %d recipients", switchboard.MaxRecipients)
	}
	targets := make([]switchboard.DeliveryTarget, len(c.Recipients))
	seen := map[string]bool{}
	for i, r := range c.Recipients {
		n, err := normalizeRecipient(mc.Type, r.Recipient)
		if err != nil {
			return nil, err
		}
		if seen[n] {
			return nil, switchboard.InvalidParam("to", r.Recipient, "Recipient %s is given more than once", n)
		}
		seen[n] = true
		targets[i] = switchboard.DeliveryTarget{Recipient: n, Internal: r.Internal}
	}
	for i := range mc.To {
		if seen[partyKey(mc.Type, mc.To[i])] {
			mc.To[i].MessageStatus = switchboard.StatusQueued
		}
	}
	var m *switchboard.Message
	err := db.writeGrouped(ctx, func(ctx context.Context, tx *tx) error {
		ins, err := newMessageInserter(ctx, tx)
		if err != nil {
			return err
		}
		defer ins.close()
		if m, err = ins.insert(ctx, &mc); err != nil {
			return err
		}
		now := toMillis(tx.now)
		due := now
		if c.SendAt.After(tx.now) {
			due = toMillis(c.SendAt)
		}
		if c.Render != nil {
			if err := insertFaxRender(ctx, tx, m, c.Render, due); err != nil {
				return err
			}
			due = heldDelivery // until the fax is rendered
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO deliveries (message_id, account_id, extension_id, type,
			recipient, internal, state, next_attempt_at, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, t := range targets {
			if _, err := stmt.ExecContext(ctx, m.ID, m.AccountID, m.ExtensionID, m.Type, t.Recipient, flag(t.Internal),
				switchboard.DeliveryPending, due, now, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, db.wrap(err, "create outbound message in mailbox %d/%d", mc.AccountID, mc.ExtensionID)
	}
	return m, nil
}

// partyKey is what a delivery's recipient is matched against in to[]: the
// extension number for Pager, the phone number otherwise.
func partyKey(typ switchboard.MessageType, p switchboard.Party) string {
	if typ == switchboard.TypePager {
		return p.ExtensionNumber
	}
	return p.PhoneNumber
}

// ClaimDeliveries leases up to limit due Pending deliveries to owner until
// now+lease, oldest due first. A lease that has run out can be taken over.
func (db *DB) ClaimDeliveries(ctx context.Context, owner string, lease time.Duration, limit int) ([]*switchboard.Delivery, error) {
	if owner == "" {
		return nil, errors.New("sqlstore: claim deliveries: empty owner")
	}
	if lease <= 0 || limit <= 0 {
		return nil, fmt.Errorf("sqlstore: claim deliveries: lease %v and limit %d must be positive", lease, limit)
	}
	var out []*switchboard.Delivery
	err := db.write(ctx, func(tx *tx) error {
		now := toMillis(tx.now)
		rows, err := queryAll(ctx, tx, func(s scanner) (int64, error) {
			var id int64
			return id, s.Scan(&id)
		}, `SELECT id FROM deliveries
			WHERE state = 'Pending' AND next_attempt_at <= $1 AND lease_until <= $1
			ORDER BY next_attempt_at, id LIMIT $2 `+db.dialect.claimLock, now, limit)
		if err != nil || len(rows) == 0 {
			return err
		}
		a := args{owner, now + lease.Milliseconds(), now}
		out, err = queryAll(ctx, tx, scanDelivery, `UPDATE deliveries
			SET lease_owner = $1, lease_until = $2, updated_at = $3
			WHERE id IN (`+inList(&a, rows)+`) AND state = 'Pending' AND lease_until <= $3
			RETURNING `+deliveryColumns, a...)
		return err
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

// reachesCarrier reports whether an attempt of d counts as an SMS sending
// attempt of the sender's message.
func reachesCarrier(d *switchboard.Delivery) int {
	if d.Type == switchboard.TypeSMS && !d.Internal {
		return 1
	}
	return 0
}

// DeliverInternal stores the inbound copies and marks the delivery Done, if
// owner still holds it; otherwise it stores nothing and returns
// ErrLeaseLost.
func (db *DB) DeliverInternal(ctx context.Context, owner string, deliveryID int64, copies []switchboard.MessageCreate) error {
	copies = slices.Clone(copies)
	for i := range copies {
		if err := copies[i].Validate(); err != nil {
			return fmt.Errorf("sqlstore: deliver %d: copy %d: %w", deliveryID, i, err)
		}
	}
	err := db.writeGrouped(ctx, func(ctx context.Context, tx *tx) error {
		d, err := leased(ctx, tx, owner, deliveryID)
		if err != nil {
			return err
		}
		if len(copies) > 0 {
			ins, err := newMessageInserter(ctx, tx)
			if err != nil {
				return err
			}
			defer ins.close()
			for i := range copies {
				if _, err := ins.insert(ctx, &copies[i]); err != nil {
					return fmt.Errorf("copy %d: %w", i, err)
				}
			}
		}
		if err := finish(ctx, tx, d.ID, switchboard.DeliveryDone, "", ""); err != nil {
			return err
		}
		// Storing the copy is the delivery: its time is the receipt time
		// (smsDeliveryTime) and it was one sending attempt.
		if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET receipt_at = $1 WHERE id = $2`, toMillis(tx.now), d.ID); err != nil {
			return err
		}
		attempts := 0
		if d.Type == switchboard.TypeSMS {
			attempts = 1
		}
		return updateSender(ctx, tx, d.MessageID, attempts)
	})
	return db.wrapDelivery(err, "deliver %d internally", deliveryID)
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
	err := db.writeGrouped(ctx, func(ctx context.Context, tx *tx) error {
		d, err := leased(ctx, tx, owner, deliveryID)
		if err != nil {
			return err
		}
		if accepted {
			err = finish(ctx, tx, d.ID, switchboard.DeliverySubmitted, carrierID, "")
		} else {
			err = finish(ctx, tx, d.ID, switchboard.DeliveryFailed, "", errorCode)
		}
		if err != nil {
			return err
		}
		return updateSender(ctx, tx, d.MessageID, reachesCarrier(d))
	})
	return db.wrapDelivery(err, "record submit of delivery %d", deliveryID)
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
	err := db.writeGrouped(ctx, func(ctx context.Context, tx *tx) error {
		keys := []string{recipient}
		if n, err := switchboard.NormalizeE164(recipient); err == nil && n != recipient {
			keys = append(keys, n)
		}
		var id int64
		var state switchboard.DeliveryState
		for _, k := range keys {
			err := tx.QueryRowContext(ctx, `SELECT id, state FROM deliveries
				WHERE message_id = $1 AND recipient = $2 `+tx.rowLock, messageID, k).Scan(&id, &state)
			if err == nil {
				break
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		switch {
		case id != 0 && state == switchboard.DeliveryPending:
			// The carrier's answer to the submit is not recorded yet (the
			// worker's lease ran out in between): keep the receipt for later.
			return switchboard.ErrDeliveryPending
		case id == 0 || state != switchboard.DeliverySubmitted:
			return nil // unknown, or already final: receipts come at least once
		}
		if at.IsZero() {
			at = tx.now
		}
		code := ""
		state = switchboard.DeliveryDone
		if !delivered {
			state, code = switchboard.DeliveryFailed, errorCode
		}
		if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET state = $1, error_code = $2, receipt_at = $3, updated_at = $4
			WHERE id = $5`, state, code, max(toMillis(at), 1), toMillis(tx.now), id); err != nil {
			return err
		}
		return updateSender(ctx, tx, messageID, 0)
	})
	return db.wrap(err, "apply receipt for message %d to %s", messageID, recipient)
}

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

type deliveryOutcome struct {
	recipient string
	state     switchboard.DeliveryState
	errorCode string
	receiptAt int64
}

// receiptFailed reports whether a Failed delivery failed by a carrier
// report, after the carrier had accepted it.
func (o deliveryOutcome) receiptFailed() bool {
	return o.state == switchboard.DeliveryFailed && o.receiptAt != 0
}

// partyStatus is the to[].messageStatus of one recipient.
func partyStatus(typ switchboard.MessageType, o deliveryOutcome) switchboard.MessageStatus {
	switch o.state {
	case switchboard.DeliveryPending:
		return switchboard.StatusQueued
	case switchboard.DeliverySubmitted:
		return switchboard.StatusSent
	case switchboard.DeliveryDone:
		if typ == switchboard.TypeSMS {
			return switchboard.StatusDelivered
		}
		return switchboard.StatusSent
	}
	if typ == switchboard.TypeSMS && o.receiptFailed() {
		return switchboard.StatusDeliveryFailed
	}
	return switchboard.StatusSendingFailed
}

// aggregateStatus is the sender's messageStatus over all its deliveries:
// any Pending → Queued; else any Failed → SendingFailed, or DeliveryFailed
// for SMS when every failure came from a carrier report; else, for SMS with
// every delivery Done (internal ones, or a delivered receipt), Delivered;
// else Sent.
func aggregateStatus(typ switchboard.MessageType, os []deliveryOutcome) switchboard.MessageStatus {
	var pending, failed, sendingFailed, notDone bool
	for _, o := range os {
		switch o.state {
		case switchboard.DeliveryPending:
			pending = true
		case switchboard.DeliveryFailed:
			failed = true
			if !o.receiptFailed() {
				sendingFailed = true
			}
		}
		if o.state != switchboard.DeliveryDone {
			notDone = true
		}
	}
	switch {
	case pending:
		return switchboard.StatusQueued
	case failed && (sendingFailed || typ != switchboard.TypeSMS):
		return switchboard.StatusSendingFailed
	case failed:
		return switchboard.StatusDeliveryFailed
	case typ == switchboard.TypeSMS && !notDone:
		return switchboard.StatusDelivered
	}
	return switchboard.StatusSent
}

// updateSender recomputes the sender's message from all its deliveries
// (status, to[] statuses and fax error codes, SMS error code and delivery
// time) and adds attempts to smsSendingAttemptsCount. If anything visible
// changed it sets lastModified and logs one "updated" change; otherwise it
// writes nothing. It locks the message first (PostgreSQL), so deliveries of
// one message finishing in concurrent transactions are summed one after
// the other, each seeing the others' outcomes.
func updateSender(ctx context.Context, tx *tx, messageID int64, attempts int) error {
	var acc, ext int64
	var typ switchboard.MessageType
	var dir switchboard.Direction
	var status switchboard.MessageStatus
	var toJSON, errCode string
	var deliveryTime int64
	var sendAttempts int
	if err := tx.QueryRowContext(ctx, `SELECT account_id, extension_id, type, direction, message_status, to_parties,
		delivery_error_code, sms_delivery_time, sms_sending_attempts FROM messages WHERE id = $1 `+tx.rowLock, messageID).
		Scan(&acc, &ext, &typ, &dir, &status, &toJSON, &errCode, &deliveryTime, &sendAttempts); err != nil {
		return fmt.Errorf("sender message %d: %w", messageID, err)
	}
	var to []switchboard.Party
	if err := json.Unmarshal([]byte(toJSON), &to); err != nil {
		return fmt.Errorf("decode recipients of message %d: %w", messageID, err)
	}
	outcomes, err := queryAll(ctx, tx, func(s scanner) (deliveryOutcome, error) {
		var o deliveryOutcome
		return o, s.Scan(&o.recipient, &o.state, &o.errorCode, &o.receiptAt)
	}, `SELECT recipient, state, error_code, receipt_at FROM deliveries WHERE message_id = $1 ORDER BY id`, messageID)
	if err != nil {
		return err
	}

	newStatus := aggregateStatus(typ, outcomes)
	newTo := slices.Clone(to)
	newCode, newTime := errCode, deliveryTime
	var latest int64
	codeSet := false
	for _, o := range outcomes {
		for i := range newTo {
			if partyKey(typ, newTo[i]) != o.recipient {
				continue
			}
			newTo[i].MessageStatus = partyStatus(typ, o)
			if typ == switchboard.TypeFax && o.state == switchboard.DeliveryFailed {
				newTo[i].FaxErrorCode = o.errorCode
			}
		}
		if o.state == switchboard.DeliveryFailed && typ == switchboard.TypeSMS && !codeSet && o.errorCode != "" {
			newCode, codeSet = o.errorCode, true // the first failure's code (by delivery id)
		}
		if o.state == switchboard.DeliveryDone && o.receiptAt > latest {
			latest = o.receiptAt
		}
	}
	if typ == switchboard.TypeSMS && latest != 0 {
		newTime = latest
	}
	if newStatus == status && slices.Equal(newTo, to) && newCode == errCode && newTime == deliveryTime && attempts == 0 {
		return nil
	}
	toOut, err := json.Marshal(newTo)
	if err != nil {
		return err
	}
	if newTo == nil {
		toOut = []byte("[]")
	}
	now := toMillis(tx.now)
	if _, err := tx.ExecContext(ctx, `UPDATE messages SET message_status = $1, to_parties = $2, delivery_error_code = $3,
		sms_delivery_time = $4, sms_sending_attempts = sms_sending_attempts + $5, modified_at = $6 WHERE id = $7`,
		newStatus, string(toOut), newCode, newTime, attempts, now, messageID); err != nil {
		return err
	}
	tx.logChange(switchboard.ChangeUpdated, changeRow{acc, ext, messageID, typ, dir})
	return nil
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
