package benchkit

import (
	"database/sql"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // the raw baseline's driver, the server's own
)

// The raw baselines of a run: what the database does with nothing of the
// server around it, measured in the same run as the server so figures are
// ratios on a shared, noisy machine.

// RawSQLiteInserts is the raw baseline on a scratch SQLite file in WAL
// mode at the server's synchronous setting, its goroutines sharing one
// connection as the server's writer does.
func RawSQLiteInserts(path, mode string, goroutines, rowsPerTx int, d time.Duration) (float64, error) {
	q := url.Values{"_pragma": {"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(" + mode + ")"}, "_txlock": {"immediate"}}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return 0, err
	}
	defer db.Close()
	defer os.Remove(path)
	db.SetMaxOpenConns(1)
	return RawInserts(db, `CREATE TABLE scratch (id INTEGER PRIMARY KEY, created_at INTEGER NOT NULL, body TEXT NOT NULL)`, goroutines, rowsPerTx, d)
}

// RawInserts creates the scratch table (createTable, in the database's
// dialect), runs INSERT transactions of rowsPerTx rows each on it for d
// from `goroutines` goroutines over db's connection pool, and returns rows
// per second.
func RawInserts(db *sql.DB, createTable string, goroutines, rowsPerTx int, d time.Duration) (float64, error) {
	if _, err := db.Exec(createTable); err != nil {
		return 0, err
	}
	body := strings.Repeat("x", 160)
	var n atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	end := start.Add(d)
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) {
				tx, err := db.Begin()
				if err == nil {
					for range rowsPerTx {
						if _, err = tx.Exec(`INSERT INTO scratch (created_at, body) VALUES ($1, $2)`, time.Now().UnixMilli(), body); err != nil {
							break
						}
					}
					if err == nil {
						err = tx.Commit()
					} else {
						_ = tx.Rollback()
					}
				}
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				n.Add(int64(rowsPerTx))
			}
		}()
	}
	wg.Wait()
	if err, ok := firstErr.Load().(error); ok {
		return 0, err
	}
	return float64(n.Load()) / time.Since(start).Seconds(), nil
}

// RawSQLiteCommits is RawSQLiteInserts of one row per transaction, in
// commits per second.
func RawSQLiteCommits(path, mode string, goroutines int, d time.Duration) (float64, error) {
	return RawSQLiteInserts(path, mode, goroutines, 1, d)
}
