package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard"
)

const exportColumns = `id, account_id, extension_id, extensions, status, date_from, date_to, types,
	created_at, started_at, finished_at, attempts, size, error`

func scanExport(s scanner) (*switchboard.ExportTask, error) {
	var t switchboard.ExportTask
	var from, to, created, started, finished int64
	var types, exts string
	if err := s.Scan(&t.ID, &t.AccountID, &t.ExtensionID, &exts, &t.Status, &from, &to, &types,
		&created, &started, &finished, &t.Attempts, &t.Size, &t.Error); err != nil {
		return nil, err
	}
	t.DateFrom, t.DateTo, t.Created = fromMillis(from), fromMillis(to), fromMillis(created)
	t.Started, t.Finished = fromMillis(started), fromMillis(finished)
	for _, x := range splitFields(types) {
		t.Types = append(t.Types, switchboard.MessageType(x))
	}
	for _, x := range splitFields(exts) {
		id, err := strconv.ParseInt(x, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("export %s: extension id %q: %w", t.ID, x, err)
		}
		t.Extensions = append(t.Extensions, id)
	}
	return &t, nil
}

// CreateExport implements switchboard.ExportStore.
func (db *DB) CreateExport(ctx context.Context, t *switchboard.ExportTask) error {
	if t.ID == "" || t.AccountID == 0 || t.Created.IsZero() || !t.DateFrom.Before(t.DateTo) {
		return fmt.Errorf("sqlstore: create export: id, account, creation time and a date range are required")
	}
	t.Status = switchboard.ExportAccepted
	types := make([]string, len(t.Types))
	for i, x := range t.Types {
		types[i] = string(x)
	}
	exts := make([]string, len(t.Extensions))
	for i, x := range t.Extensions {
		exts[i] = strconv.FormatInt(x, 10)
	}
	err := db.write(ctx, func(tx *tx) error {
		var active int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM export_tasks WHERE account_id = $1 AND status IN ('Accepted', 'InProgress')`,
			t.AccountID).Scan(&active); err != nil {
			return err
		}
		if active >= switchboard.MaxActiveExports {
			return switchboard.Errorf(switchboard.CodeExportLimit,
				"At most %d message store reports of an account run at once: wait for one to finish", switchboard.MaxActiveExports)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO export_tasks (id, account_id, extension_id, extensions, status,
			date_from, date_to, types, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			t.ID, t.AccountID, t.ExtensionID, strings.Join(exts, " "), t.Status, toMillis(t.DateFrom), toMillis(t.DateTo),
			strings.Join(types, " "), toMillis(t.Created))
		return err
	})
	return db.wrap(err, "create export %s", t.ID)
}

// Export implements switchboard.ExportStore.
func (db *DB) Export(ctx context.Context, accountID int64, id string) (*switchboard.ExportTask, error) {
	var t *switchboard.ExportTask
	err := db.read(ctx, func(tx *tx) error {
		var err error
		t, err = scanExport(tx.QueryRowContext(ctx, `SELECT `+exportColumns+` FROM export_tasks WHERE id = $1 AND account_id = $2`, id, accountID))
		return err
	})
	return t, db.wrap(err, "get export %s", id)
}

// ClaimExport implements switchboard.ExportStore.
func (db *DB) ClaimExport(ctx context.Context, owner string, lease time.Duration) (*switchboard.ExportTask, error) {
	if owner == "" || lease <= 0 {
		return nil, fmt.Errorf("sqlstore: claim export: owner %q and lease %v must be set", owner, lease)
	}
	var t *switchboard.ExportTask
	failed := false // the candidate was marked Failed: look for another
	err := db.write(ctx, func(tx *tx) error {
		now := toMillis(tx.now)
		var id string
		var attempts int
		err := tx.QueryRowContext(ctx, `SELECT id, attempts FROM export_tasks
			WHERE status IN ('Accepted', 'InProgress') AND lease_until <= $1
			ORDER BY created_at, id LIMIT 1 `+db.dialect.claimLock, now).Scan(&id, &attempts)
		if err != nil {
			return err
		}
		// What an earlier attempt wrote is dropped: the archive starts again.
		if _, err := tx.ExecContext(ctx, `DELETE FROM export_chunks WHERE task_id = $1`, id); err != nil {
			return err
		}
		if attempts >= switchboard.MaxExportAttempts {
			_, err := tx.ExecContext(ctx, `UPDATE export_tasks SET status = 'Failed', finished_at = $1, lease_owner = '', lease_until = 0,
				error = $2 WHERE id = $3`, now, fmt.Sprintf("the export was started %d times without finishing", attempts), id)
			failed = err == nil
			return err
		}
		t, err = scanExport(tx.QueryRowContext(ctx, `UPDATE export_tasks SET status = 'InProgress', lease_owner = $1, lease_until = $2,
			started_at = $3, attempts = attempts + 1 WHERE id = $4 AND lease_until <= $3
			RETURNING `+exportColumns, owner, now+lease.Milliseconds(), now, id))
		return err
	})
	if failed {
		return db.ClaimExport(ctx, owner, lease)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil, switchboard.ErrNotFound
	}
	return t, db.wrap(err, "claim an export for %s", owner)
}

// WriteExportChunk implements switchboard.ExportStore.
func (db *DB) WriteExportChunk(ctx context.Context, id, owner string, seq int, data []byte, lease time.Duration) error {
	err := db.write(ctx, func(tx *tx) error {
		now := toMillis(tx.now)
		res, err := tx.ExecContext(ctx, `UPDATE export_tasks SET lease_until = $1
			WHERE id = $2 AND lease_owner = $3 AND lease_until > $4 AND status = 'InProgress'`, now+lease.Milliseconds(), id, owner, now)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, switchboard.ErrLeaseLost)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO export_chunks (task_id, seq, data) VALUES ($1, $2, $3)`, id, seq, data)
		return err
	})
	return db.wrapDelivery(err, "write chunk %d of export %s", seq, id)
}

// FinishExport implements switchboard.ExportStore.
func (db *DB) FinishExport(ctx context.Context, id, owner string, status switchboard.ExportStatus, size int64, reason string) error {
	if status != switchboard.ExportCompleted && status != switchboard.ExportFailed {
		return fmt.Errorf("sqlstore: finish export %s: %q is not a final status", id, status)
	}
	err := db.write(ctx, func(tx *tx) error {
		now := toMillis(tx.now)
		res, err := tx.ExecContext(ctx, `UPDATE export_tasks SET status = $1, size = $2, error = $3, finished_at = $4,
			lease_owner = '', lease_until = 0 WHERE id = $5 AND lease_owner = $6 AND lease_until > $4 AND status = 'InProgress'`,
			status, size, reason, now, id, owner)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, switchboard.ErrLeaseLost)
		}
		if status == switchboard.ExportFailed {
			_, err = tx.ExecContext(ctx, `DELETE FROM export_chunks WHERE task_id = $1`, id)
		}
		return err
	})
	return db.wrapDelivery(err, "finish export %s", id)
}

// ExportChunk implements switchboard.ExportStore.
func (db *DB) ExportChunk(ctx context.Context, accountID int64, id string, seq int) ([]byte, error) {
	var data []byte
	err := db.read(ctx, func(tx *tx) error {
		return tx.QueryRowContext(ctx, `SELECT c.data FROM export_chunks c JOIN export_tasks t ON t.id = c.task_id
			WHERE c.task_id = $1 AND c.seq = $2 AND t.account_id = $3 AND t.status = 'Completed'`, id, seq, accountID).Scan(&data)
	})
	return data, db.wrap(err, "read chunk %d of export %s", seq, id)
}
