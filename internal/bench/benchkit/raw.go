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

// RawSQLiteCommits is the raw baseline of a run: single-row INSERT
// transactions for d on a scratch SQLite file in WAL mode at the given
// synchronous setting, from `goroutines` goroutines sharing one connection
// (as the server's writer does). It returns commits per second.
func RawSQLiteCommits(path, mode string, goroutines int, d time.Duration) (float64, error) {
	q := url.Values{"_pragma": {"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(" + mode + ")"}, "_txlock": {"immediate"}}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return 0, err
	}
	defer os.Remove(path)
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE scratch (id INTEGER PRIMARY KEY, created_at INTEGER NOT NULL, body TEXT NOT NULL)`); err != nil {
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
				if _, err := db.Exec(`INSERT INTO scratch (created_at, body) VALUES ($1, $2)`, time.Now().UnixMilli(), body); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	if err, ok := firstErr.Load().(error); ok {
		return 0, err
	}
	return float64(n.Load()) / time.Since(start).Seconds(), nil
}
