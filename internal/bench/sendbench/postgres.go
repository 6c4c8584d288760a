package main

import (
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboardhq/switchboard/internal/bench/benchkit"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver for the raw baseline
)

// runPostgres is the PostgreSQL variant: per number of clients and of
// nodes, a fresh database, the raw PostgreSQL baseline on it (single-row
// INSERT transactions from 1 and from 16 goroutines, each with its own
// connection), then the send load through every node, then a list load
// (page 1 of 102's mailbox, which now holds the delivered copies) through
// every node.
func runPostgres(tmp, bin, serverURL string, levels, nodeCounts []int, duration, baseline, listFor time.Duration) error {
	bin, err := benchkit.Binary(tmp, bin)
	if err != nil {
		return err
	}
	fmt.Printf("PostgreSQL, %v of sends and %v of lists per case, %v per baseline, clients %v, nodes %v\n\n", duration, listFor, baseline, levels, nodeCounts)
	fmt.Println("| case | accepted/s (raw: rows/s) | send p50 | send p99 | end to end msgs/s | server CPU (cores) | lists/s | list p50 | list p99 | ÷ raw 16-goroutine rate (accepted / end to end) |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
	for _, c := range levels {
		for _, n := range nodeCounts {
			dbURL, drop, err := benchkit.CreateDatabase(serverURL)
			if err != nil {
				return err
			}
			raw1, err := rawPGInserts(dbURL, 1, baseline)
			if err == nil {
				var raw16 float64
				raw16, err = rawPGInserts(dbURL, 16, baseline)
				if err == nil {
					fmt.Printf("| raw PostgreSQL, 1 goroutine, 1 row per tx | %.0f |  |  |  |  |  |  |  | %s |\n", raw1, ratio(raw1, raw16))
					fmt.Printf("| raw PostgreSQL, 16 goroutines (16 conns), 1 row per tx | %.0f |  |  |  |  |  |  |  | 1.00 |\n", raw16)
					err = pgCase(bin, tmp, dbURL, c, n, duration, listFor, raw16)
				}
			}
			if dropErr := drop(); err == nil {
				err = dropErr
			}
			if err != nil {
				return fmt.Errorf("%d clients, %d nodes: %w", c, n, err)
			}
		}
	}
	return nil
}

func pgCase(bin, tmp, dbURL string, clients, nodes int, duration, listFor time.Duration, raw16 float64) error {
	var srvs []*benchkit.Server
	var demos []benchkit.Demo
	defer func() {
		for _, s := range srvs {
			_ = s.Stop()
		}
	}()
	conns := fmt.Sprint(max(4, 32/nodes))
	for i := range nodes {
		dir := srvDir(tmp, clients, nodes, i)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		if i > 0 {
			// Reuse the first node's demo instead of creating another; the
			// nodes of one database share its JWT signing keys, as an
			// operator copies them (README, several nodes).
			for _, name := range []string{"demo.json", "jwt-keys.json"} {
				b, err := os.ReadFile(filepath.Join(srvDir(tmp, clients, nodes, 0), name))
				if err == nil {
					err = os.WriteFile(filepath.Join(dir, name), b, 0o600)
				}
				if err != nil {
					return err
				}
			}
		}
		s, d, err := benchkit.Start(bin, dir, "--sqlite-sync", "FULL", "--database", dbURL, "--db-max-conns", conns)
		if err != nil {
			return err
		}
		srvs, demos = append(srvs, s), append(demos, d)
	}
	r, err := sendLoad(srvs, demos, clients, duration)
	if err != nil {
		return err
	}
	lists, p50, p99, err := listLoad(demos, clients, listFor)
	if err != nil {
		return err
	}
	fmt.Printf("| POST sms 101 → 102, %d clients, %d node(s) | %.0f | %s | %s | %.0f | %.2f | %.0f | %s | %s | %s / %s |\n",
		clients, nodes, r.acceptedRate, ms(r.p50), ms(r.p99), r.e2eRate, r.serverCores, lists, ms(p50), ms(p99),
		ratio(r.acceptedRate, raw16), ratio(r.e2eRate, raw16))
	return nil
}

func srvDir(tmp string, clients, nodes, i int) string {
	return filepath.Join(tmp, fmt.Sprintf("pg-%d-%d-%d", clients, nodes, i))
}

// listLoad has the clients list page 1 (perPage 100) of 102's mailbox
// through the nodes, round robin, for d.
func listLoad(demos []benchkit.Demo, clients int, d time.Duration) (perSec float64, p50, p99 time.Duration, err error) {
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: clients + 4}}
	tok, err := demos[0].Login(client, demos[0].Extensions[1].JWT)
	if err != nil {
		return 0, 0, 0, err
	}
	var (
		mu       sync.Mutex
		lat      []time.Duration
		firstErr atomic.Value
		wg       sync.WaitGroup
	)
	start := time.Now()
	end := start.Add(d)
	for g := range clients {
		u := demos[g%len(demos)].Server + "/restapi/v1.0/account/~/extension/~/message-store?perPage=100"
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for time.Now().Before(end) {
				req, _ := http.NewRequest("GET", u, nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					firstErr.CompareAndSwap(nil, fmt.Errorf("list: %d", resp.StatusCode))
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if e, ok := firstErr.Load().(error); ok {
		return 0, 0, 0, e
	}
	if len(lat) == 0 {
		return 0, 0, 0, fmt.Errorf("no list completed")
	}
	perSec = float64(len(lat)) / time.Since(start).Seconds()
	p50, p99 = benchkit.P50P99(lat)
	return perSec, p50, p99, nil
}

// rawPGInserts is the raw baseline on PostgreSQL: single-row INSERT
// transactions (BEGIN, INSERT, COMMIT) from `goroutines` goroutines, one
// connection each.
func rawPGInserts(dbURL string, goroutines int, d time.Duration) (float64, error) {
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	db.SetMaxOpenConns(goroutines)
	db.SetMaxIdleConns(goroutines)
	defer db.Exec(`DROP TABLE IF EXISTS scratch`)
	return benchkit.RawInserts(db, `CREATE TABLE IF NOT EXISTS scratch (id BIGSERIAL PRIMARY KEY, created_at BIGINT NOT NULL, body TEXT NOT NULL)`, goroutines, 1, d)
}
