package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/switchboardhq/switchboard"
)

// Voicemail and its transcription jobs. A job row exists from the
// voicemail's creation until its transcription ends; claims lease it like a
// delivery, so a job is run by one worker at a time and resumed after a
// crash once its lease expires.

// CreateVoiceMail stores a voicemail and, when transcribe is set, its
// transcription job, in one transaction.
func (db *DB) CreateVoiceMail(ctx context.Context, c switchboard.MessageCreate, transcribe bool) (*switchboard.Message, error) {
	if c.Type != switchboard.TypeVoiceMail {
		return nil, switchboard.InvalidParam("type", string(c.Type), "A voicemail must have type VoiceMail")
	}
	c.VMTranscriptionStatus = switchboard.TranscriptionNotAvailable
	var audioIdx = -1
	for i, a := range c.Attachments {
		if a.Type == switchboard.AttachmentAudioRecording {
			audioIdx = i
			break
		}
	}
	if audioIdx < 0 {
		return nil, switchboard.InvalidParam("attachments", "", "A voicemail needs an AudioRecording attachment")
	}
	if transcribe {
		c.VMTranscriptionStatus = switchboard.TranscriptionInProgress
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	var m *switchboard.Message
	err := db.writeSourced(ctx, c.SourceID, nil, nil, func(ctx context.Context, tx *tx) error {
		var stored bool
		var err error
		if m, stored, err = insertMessageOnce(ctx, tx, &c); err != nil {
			return err
		}
		if !transcribe || !stored {
			return nil // a voicemail received again has its job already
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO transcriptions (message_id, account_id, extension_id, attachment_id, created_at)
			VALUES ($1, $2, $3, $4, $5)`, m.ID, m.AccountID, m.ExtensionID, m.Attachments[audioIdx].ID, toMillis(tx.now))
		return err
	})
	return m, db.wrap(err, "create voicemail in mailbox %d/%d", c.AccountID, c.ExtensionID)
}

// ClaimTranscriptions leases up to limit unleased (or expired) jobs,
// oldest first.
func (db *DB) ClaimTranscriptions(ctx context.Context, owner string, lease time.Duration, limit int) ([]*switchboard.Transcription, error) {
	if owner == "" || lease <= 0 || limit <= 0 {
		return nil, fmt.Errorf("sqlstore: claim transcriptions: owner %q, lease %v and limit %d must be set", owner, lease, limit)
	}
	var out []*switchboard.Transcription
	err := db.write(ctx, func(tx *tx) error {
		now := toMillis(tx.now)
		ids, err := queryAll(ctx, tx, scanID, `SELECT message_id FROM transcriptions WHERE lease_until <= $1
			ORDER BY created_at, message_id LIMIT $2 `+db.dialect.claimLock, now, limit)
		if err != nil || len(ids) == 0 {
			return err
		}
		a := args{owner, now + lease.Milliseconds(), now}
		out, err = queryAll(ctx, tx, func(s scanner) (*switchboard.Transcription, error) {
			var t switchboard.Transcription
			return &t, s.Scan(&t.MessageID, &t.AccountID, &t.ExtensionID, &t.AttachmentID, &t.Attempts)
		}, `UPDATE transcriptions SET lease_owner = $1, lease_until = $2, attempts = attempts + 1
			WHERE message_id IN (`+inList(&a, ids)+`) AND lease_until <= $3
			RETURNING message_id, account_id, extension_id, attachment_id, attempts`, a...)
		return err
	})
	if err != nil {
		return nil, db.wrap(err, "claim transcriptions for %s", owner)
	}
	return out, nil
}

// CompleteTranscription records a job's outcome on its voicemail and
// removes the job.
func (db *DB) CompleteTranscription(ctx context.Context, owner string, messageID int64, status, text string) error {
	switch status {
	case switchboard.TranscriptionCompleted, switchboard.TranscriptionFailed, switchboard.TranscriptionTimedOut:
	default:
		return fmt.Errorf("sqlstore: complete transcription %d: %q is not a final status", messageID, status)
	}
	err := db.write(ctx, func(tx *tx) error {
		// One statement checks the lease and ends the job, so a concurrent
		// claim (PostgreSQL) either sees the job gone or makes this fail.
		var accountID, extensionID int64
		err := tx.QueryRowContext(ctx, `DELETE FROM transcriptions
			WHERE message_id = $1 AND lease_owner = $2 AND lease_until > $3
			RETURNING account_id, extension_id`, messageID, owner, toMillis(tx.now)).
			Scan(&accountID, &extensionID)
		if errors.Is(err, sql.ErrNoRows) {
			return switchboard.ErrLeaseLost
		}
		if err != nil {
			return err
		}
		st, err := getState(ctx, tx, accountID, extensionID, messageID)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && st.availability == switchboard.Purged) {
			return nil // nothing left to transcribe into
		}
		if err != nil {
			return err
		}
		now := toMillis(tx.now)
		if _, err := tx.ExecContext(ctx, `UPDATE messages SET vm_transcription = $1, modified_at = $2 WHERE id = $3`,
			status, now, messageID); err != nil {
			return err
		}
		if text != "" {
			if _, err := tx.ExecContext(ctx, `INSERT INTO attachments (message_id, type, content_type, file_name, size, content)
				VALUES ($1, $2, $3, $4, $5, $6)`, messageID, switchboard.AttachmentAudioTranscription,
				"text/plain", "transcription.txt", len(text), []byte(text)); err != nil {
				return err
			}
		}
		tx.logChange(switchboard.ChangeUpdated, changeRow{accountID: accountID, extensionID: extensionID,
			messageID: messageID, typ: st.typ, direction: st.direction})
		return nil
	})
	return db.wrap(err, "complete transcription of message %d", messageID)
}
