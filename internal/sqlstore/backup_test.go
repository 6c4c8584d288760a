package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"net/url"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestBackupSQLiteConsistentUnderWrites: a backup copied in many small
// steps while another connection keeps committing finishes (writes between
// steps do not restart it) and holds one snapshot: two tables written in
// the same transactions have equal row counts in the copy.
func TestBackupSQLiteConsistentUnderWrites(t *testing.T) {
	old := backupStepPages
	backupStepPages = 8
	t.Cleanup(func() { backupStepPages = old })
	ctx := context.Background()
	dir := t.TempDir()
	src := filepath.Join(dir, "src.db")
	db := mustOpen(t, src, testClock(), SQLiteOptions{})
	defer db.Close()
	for _, q := range []string{`CREATE TABLE left_rows (i INTEGER, pad BLOB)`, `CREATE TABLE right_rows (i INTEGER)`} {
		if _, err := db.writer.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	write := func(i int) error {
		tx, err := db.writer.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(`INSERT INTO left_rows VALUES ($1, $2)`, i, bytes.Repeat([]byte{byte(i)}, 4000)); err != nil {
			tx.Rollback()
			return err
		}
		if _, err := tx.Exec(`INSERT INTO right_rows VALUES ($1)`, i); err != nil {
			tx.Rollback()
			return err
		}
		return tx.Commit()
	}
	for i := range 300 { // about 300 pages: dozens of steps
		if err := write(i); err != nil {
			t.Fatal(err)
		}
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	var during atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 300; !stop.Load(); i++ {
			if err := write(i); err != nil {
				t.Error(err)
				return
			}
			during.Add(1)
		}
	}()
	steps := 0
	dst := filepath.Join(dir, "copy.db")
	err := BackupSQLite(ctx, src, dst, func(copied, total int) {
		// Let a write commit between this step and the next.
		steps++
		seen := during.Load()
		for deadline := time.Now().Add(time.Second); during.Load() == seen && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
	})
	stop.Store(true)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if steps < 10 || during.Load() < int64(steps)/2 {
		t.Fatalf("%d steps with %d writes meanwhile: the test did not exercise writes between steps", steps, during.Load())
	}
	cp, err := sql.Open("sqlite", sqliteDSN(dst, url.Values{"mode": {"ro"}}))
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	var left, right int
	if err := cp.QueryRow(`SELECT (SELECT count(*) FROM left_rows), (SELECT count(*) FROM right_rows)`).Scan(&left, &right); err != nil {
		t.Fatal(err)
	}
	if left != right || left < 300 {
		t.Fatalf("copy has %d and %d rows: not one snapshot", left, right)
	}
	t.Logf("%d steps, %d writes committed during the backup, %d rows in the copy", steps, during.Load(), left)

	if err := BackupSQLite(ctx, src, dst, nil); err == nil {
		t.Fatal("a backup over an existing file succeeded")
	}
	if err := RestoreSQLite(ctx, dst, filepath.Join(dir, "new", "switchboard.db")); err != nil {
		t.Fatal(err)
	}
	if err := RestoreSQLite(ctx, filepath.Join(dir, "missing.db"), filepath.Join(dir, "new2", "switchboard.db")); err == nil {
		t.Fatal("a restore from a missing file succeeded")
	}
}
