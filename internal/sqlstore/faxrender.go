package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/switchboardhq/switchboard"
)

// Outbound fax rendering jobs (switchboard.FaxRenderStore). CreateOutbound
// writes the job with the fax and holds its deliveries: their
// next_attempt_at is heldDelivery, which no claim reaches, until the job
// completes (due at send_at) or fails (Failed with the fax error code).

// heldDelivery is the next_attempt_at of a delivery waiting for its fax to
// be rendered: later than any due time.
const heldDelivery int64 = math.MaxInt64

// insertFaxRender writes a fax's rendering job; its deliveries were
// inserted held.
func insertFaxRender(ctx context.Context, tx *tx, m *switchboard.Message, options []byte, sendAt int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO fax_renders (message_id, account_id, extension_id, options, send_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, m.ID, m.AccountID, m.ExtensionID, string(options), sendAt, toMillis(tx.now))
	return err
}

// ClaimFaxRenders implements switchboard.FaxRenderStore. The turn of each
// sender is its count of renders in progress (live leases); on PostgreSQL
// two nodes claiming at the same moment may each give a sender one more
// than perSender, which only bounds the fairness, not correctness.
func (db *DB) ClaimFaxRenders(ctx context.Context, owner string, lease time.Duration, limit, perSender int) ([]*switchboard.FaxRender, error) {
	if owner == "" || lease <= 0 || limit <= 0 || perSender <= 0 {
		return nil, fmt.Errorf("sqlstore: claim fax renders: owner %q, lease %v, limit %d and perSender %d must be set", owner, lease, limit, perSender)
	}
	var out []*switchboard.FaxRender
	err := db.write(ctx, func(tx *tx) error {
		now := toMillis(tx.now)
		const inProgress = `(SELECT COUNT(*) FROM fax_renders b WHERE b.extension_id = r.extension_id AND b.lease_until > $1)`
		ids, err := queryAll(ctx, tx, scanID, `SELECT r.message_id FROM fax_renders r
			WHERE r.lease_until <= $1 AND `+inProgress+` < $3
			ORDER BY `+inProgress+`, r.created_at, r.message_id LIMIT $2 `+db.dialect.claimLock, now, limit, perSender)
		if err != nil || len(ids) == 0 {
			return err
		}
		a := args{owner, now + lease.Milliseconds(), now}
		out, err = queryAll(ctx, tx, func(s scanner) (*switchboard.FaxRender, error) {
			var r switchboard.FaxRender
			var options string
			err := s.Scan(&r.MessageID, &r.AccountID, &r.ExtensionID, &options, &r.Attempts)
			r.Options = []byte(options)
			return &r, err
		}, `UPDATE fax_renders SET lease_owner = $1, lease_until = $2, attempts = attempts + 1
			WHERE message_id IN (`+inList(&a, ids)+`) AND lease_until <= $3
			RETURNING message_id, account_id, extension_id, options, attempts`, a...)
		return err
	})
	if err != nil {
		return nil, db.wrap(err, "claim fax renders for %s", owner)
	}
	return out, nil
}

// endFaxRender removes a job held by owner and returns its fax's mailbox
// and send time; ErrLeaseLost when owner does not hold it. One statement
// checks the lease and ends the job, so a concurrent claim (PostgreSQL)
// either sees the job gone or makes this fail.
func endFaxRender(ctx context.Context, tx *tx, owner string, messageID int64) (accountID, extensionID, sendAt int64, err error) {
	err = tx.QueryRowContext(ctx, `DELETE FROM fax_renders
		WHERE message_id = $1 AND lease_owner = $2 AND lease_until > $3
		RETURNING account_id, extension_id, send_at`, messageID, owner, toMillis(tx.now)).
		Scan(&accountID, &extensionID, &sendAt)
	if errors.Is(err, sql.ErrNoRows) {
		err = switchboard.ErrLeaseLost
	}
	return accountID, extensionID, sendAt, err
}

// CompleteFaxRender implements switchboard.FaxRenderStore.
func (db *DB) CompleteFaxRender(ctx context.Context, owner string, messageID int64, rendered *switchboard.Attachment, pages int) error {
	if rendered == nil || len(rendered.Content) == 0 || pages <= 0 {
		return fmt.Errorf("sqlstore: complete fax render %d: a rendered document and its page count are required", messageID)
	}
	err := db.writeGrouped(ctx, func(ctx context.Context, tx *tx) error {
		accountID, extensionID, sendAt, err := endFaxRender(ctx, tx, owner, messageID)
		if err != nil {
			return err
		}
		st, err := getState(ctx, tx, accountID, extensionID, messageID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // removed meanwhile: its deliveries went with it
		}
		if err != nil {
			return err
		}
		now := toMillis(tx.now)
		if _, err := tx.ExecContext(ctx, `INSERT INTO attachments (message_id, type, content_type, file_name, size, content)
			VALUES ($1, $2, $3, $4, $5, $6)`, messageID, switchboard.AttachmentRenderedDocument,
			rendered.ContentType, rendered.FileName, len(rendered.Content), rendered.Content); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE messages SET fax_page_count = $1, modified_at = $2 WHERE id = $3`,
			pages, now, messageID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET next_attempt_at = $1, updated_at = $2
			WHERE message_id = $3 AND state = 'Pending' AND next_attempt_at = $4`,
			max(sendAt, now), now, messageID, heldDelivery); err != nil {
			return err
		}
		tx.logChange(switchboard.ChangeUpdated, changeRow{accountID: accountID, extensionID: extensionID,
			messageID: messageID, typ: st.typ, direction: st.direction})
		return nil
	})
	return db.wrapDelivery(err, "complete the rendering of fax %d", messageID)
}

// FailFaxRender implements switchboard.FaxRenderStore.
func (db *DB) FailFaxRender(ctx context.Context, owner string, messageID int64, errorCode string) error {
	if errorCode == "" {
		return fmt.Errorf("sqlstore: fail fax render %d: an error code is required", messageID)
	}
	err := db.writeGrouped(ctx, func(ctx context.Context, tx *tx) error {
		if _, _, _, err := endFaxRender(ctx, tx, owner, messageID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE deliveries SET state = $1, error_code = $2, updated_at = $3
			WHERE message_id = $4 AND state = 'Pending'`, switchboard.DeliveryFailed, errorCode, toMillis(tx.now), messageID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // removed meanwhile
		}
		return updateSender(ctx, tx, messageID, 0)
	})
	return db.wrapDelivery(err, "fail the rendering of fax %d", messageID)
}
