// Command sendbench measures sending throughput: SMS from extension 101 to
// 102's number (internal, so every send is stored twice: the sender's
// message and, by the delivery worker, 102's inbound copy) through the
// HTTP API of the server binary, started with --demo on loopback in a fresh
// data directory per case. For 16 and 64 concurrent clients it reports the
// accepted sends per second, their latency, and the end-to-end rate: until
// every accepted message is Delivered and its inbound copy stored.
//
// In the same run, before each case, it measures the baseline: the raw
// SQLite rate of single-row INSERT transactions on a scratch table at the
// same synchronous setting, in WAL mode, through database/sql and
// modernc.org/sqlite: from one goroutine, and from 16 goroutines sharing one
// connection (as the server's writer does); and, for reference, 64 rows per
// transaction.
//
//	go run ./internal/bench/sendbench -duration 10s
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboardhq/switchboard/internal/bench/benchkit"

	_ "modernc.org/sqlite"
)

func main() {
	duration := flag.Duration("duration", 10*time.Second, "how long the clients send, per case")
	baseline := flag.Duration("baseline", 3*time.Second, "how long each raw SQLite baseline runs, per case")
	clients := flag.String("clients", "16,64", "comma-separated numbers of concurrent clients, one case each")
	syncMode := flag.String("sync", "FULL", "SQLite synchronous mode of the server and the baseline: FULL or NORMAL")
	keep := flag.Bool("keep", false, "keep the temporary directory")
	prebuilt := flag.String("bin", "", "a built switchboard binary to run instead of building one (to compare two builds in turn)")
	postgres := flag.String("postgres", "", "run on PostgreSQL: a server URL whose user may create databases (a fresh one per case); the baseline is then raw PostgreSQL inserts")
	nodeCounts := flag.String("nodes", "1,3", "with -postgres: comma-separated numbers of server processes over the one database, one case each")
	listFor := flag.Duration("list", 5*time.Second, "with -postgres: how long the clients then list 102's mailbox, per case")
	flag.Parse()
	levels := positiveCounts("-clients", *clients)
	tmp, err := os.MkdirTemp("", "switchboard-sendbench-")
	if err != nil {
		log.Fatal(err)
	}
	if *keep {
		fmt.Println("temporary directory:", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	if *postgres != "" {
		err = runPostgres(tmp, *prebuilt, *postgres, levels, positiveCounts("-nodes", *nodeCounts), *duration, *baseline, *listFor)
	} else {
		mode := strings.ToUpper(*syncMode)
		if mode != "FULL" && mode != "NORMAL" {
			log.Fatalf("-sync: want FULL or NORMAL, not %q", *syncMode)
		}
		err = run(tmp, *prebuilt, levels, *duration, *baseline, mode)
	}
	if err != nil {
		if !*keep {
			os.RemoveAll(tmp) // log.Fatal skips the deferred removal
		}
		log.Fatal(err)
	}
}

// positiveCounts parses a comma-separated list of positive numbers (one
// case each), exiting with the flag's name when one is not.
func positiveCounts(flagName, list string) []int {
	var counts []int
	for _, f := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			log.Fatalf("%s: %q is not a positive number", flagName, f)
		}
		counts = append(counts, n)
	}
	return counts
}

type row struct{ cells []string }

func run(tmp, bin string, levels []int, duration, baseline time.Duration, mode string) error {
	bin, err := benchkit.Binary(tmp, bin)
	if err != nil {
		return err
	}
	fmt.Printf("sync=%s, %v of sends per case, %v per baseline, cases %v, GOMAXPROCS of the server: default\n\n", mode, duration, baseline, levels)

	var rows []row
	for i, c := range levels {
		raw1, err := benchkit.RawSQLiteInserts(filepath.Join(tmp, fmt.Sprintf("raw-%d-1.db", i)), mode, 1, 1, baseline)
		if err != nil {
			return err
		}
		raw16, err := benchkit.RawSQLiteInserts(filepath.Join(tmp, fmt.Sprintf("raw-%d-16.db", i)), mode, 16, 1, baseline)
		if err != nil {
			return err
		}
		rawBatch, err := benchkit.RawSQLiteInserts(filepath.Join(tmp, fmt.Sprintf("raw-%d-b.db", i)), mode, 1, 64, baseline)
		if err != nil {
			return err
		}
		r, err := sendCase(bin, filepath.Join(tmp, fmt.Sprintf("data-%d", c)), mode, c, duration)
		if err != nil {
			return fmt.Errorf("%d clients: %w", c, err)
		}
		rows = append(rows,
			row{[]string{"raw SQLite, 1 goroutine, 1 row per tx", "", rate(raw1), "", "", "", "", ratio(raw1, raw16)}},
			row{[]string{"raw SQLite, 16 goroutines on 1 conn, 1 row per tx", "", rate(raw16), "", "", "", "", "1.00"}},
			row{[]string{"raw SQLite, 1 goroutine, 64 rows per tx (reference)", "", rate(rawBatch), "", "", "", "", ratio(rawBatch, raw16)}},
			row{[]string{fmt.Sprintf("POST sms 101 → 102, %d clients", c), fmt.Sprintf("%d", r.accepted),
				rate(r.acceptedRate), ms(r.p50), ms(r.p99), rate(r.e2eRate), fmt.Sprintf("%d left, delivered in %.2f s (%.0f/s); CPU: server %.2f, client %.2f cores", r.backlog, r.drain.Seconds(), r.drainRate, r.serverCores, r.clientCores),
				fmt.Sprintf("%s / %s", ratio(r.acceptedRate, raw16), ratio(r.e2eRate, raw16))}},
		)
	}
	fmt.Println("| case | accepted | accepted/s (raw: rows/s) | p50 | p99 | end to end msgs/s | backlog at the end of the load, drain (CPU during load) | ÷ raw 16-goroutine rate (accepted / end to end) |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Println("| " + strings.Join(r.cells, " | ") + " |")
	}
	return nil
}

func rate(r float64) string { return fmt.Sprintf("%.0f", r) }
func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", a/b)
}
func ms(d time.Duration) string { return benchkit.Millis(d, 1) }

type result struct {
	accepted     int
	errors       int
	acceptedRate float64       // accepted per second of load
	p50, p99     time.Duration // request latency of accepted sends
	drain        time.Duration // from the end of the load until every accepted message is delivered
	e2eRate      float64       // accepted ÷ (load + drain)
	serverCores  float64       // server CPU seconds per second of load
	clientCores  float64       // this process's CPU seconds per second of load
	backlog      int           // accepted but not yet delivered when the load ended
	drainRate    float64       // backlog ÷ drain: the worker alone
}

func sendCase(bin, dir, mode string, clients int, duration time.Duration) (result, error) {
	srv, demo, err := benchkit.Start(bin, dir, "--sqlite-sync", mode)
	if err != nil {
		return result{}, err
	}
	defer srv.Stop()
	return sendLoad([]*benchkit.Server{srv}, []benchkit.Demo{demo}, clients, duration)
}

// sendLoad runs the clients against the servers (round robin: client g
// sends through server g mod len) and waits until every accepted message
// is delivered.
func sendLoad(srvs []*benchkit.Server, demos []benchkit.Demo, clients int, duration time.Duration) (result, error) {
	var r result
	srv, demo := srvs[0], demos[0]
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: clients + 4, MaxConnsPerHost: clients + 4}}
	alice, bob := demo.Extensions[0], demo.Extensions[1]
	tokA, err := demo.Login(client, alice.JWT)
	if err != nil {
		return r, err
	}
	tokB, err := demo.Login(client, bob.JWT)
	if err != nil {
		return r, err
	}
	prefix := fmt.Sprintf("bench-%d-", clients)

	var (
		mu        sync.Mutex
		latencies []time.Duration
		maxID     int64
		errs      atomic.Int64
		firstErr  atomic.Value
		wg        sync.WaitGroup
	)
	serverCPU := func() float64 {
		var sum float64
		for _, s := range srvs {
			sum += s.CPUSeconds()
		}
		return sum
	}
	cpu0, self0 := serverCPU(), benchkit.CPUSeconds(os.Getpid())
	start := time.Now()
	end := start.Add(duration)
	for g := range clients {
		wg.Add(1)
		sendURL := demos[g%len(demos)].Server + "/restapi/v1.0/account/~/extension/~/sms"
		go func() {
			defer wg.Done()
			var lat []time.Duration
			var top int64
			for i := 0; time.Now().Before(end); i++ {
				body := benchkit.SMSBody(alice.PhoneNumber, bob.PhoneNumber, fmt.Sprintf("%sg%d-n%d", prefix, g, i))
				req, _ := http.NewRequest("POST", sendURL, bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+tokA)
				req.Header.Set("Content-Type", "application/json")
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				d := time.Since(t0)
				var m struct {
					ID json.Number `json:"id"`
				}
				if resp.StatusCode != 200 || json.Unmarshal(b, &m) != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("%d %s", resp.StatusCode, b))
					continue
				}
				id, _ := m.ID.Int64()
				top = max(top, id)
				lat = append(lat, d)
			}
			mu.Lock()
			latencies = append(latencies, lat...)
			maxID = max(maxID, top)
			mu.Unlock()
		}()
	}
	wg.Wait()
	loadEnd := time.Now()
	load := loadEnd.Sub(start)
	cpu1, self1 := serverCPU(), benchkit.CPUSeconds(os.Getpid())
	if e, ok := firstErr.Load().(string); ok {
		var logs []string
		for _, s := range srvs {
			for _, l := range strings.Split(s.Log(), "\n") {
				if strings.Contains(l, "level=ERROR") && len(logs) < 5 {
					logs = append(logs, l)
				}
			}
		}
		return r, fmt.Errorf("%d sends failed, the first: %s\n%s", errs.Load(), e, strings.Join(logs, "\n"))
	}
	r.accepted, r.errors = len(latencies), int(errs.Load())
	r.acceptedRate = float64(r.accepted) / load.Seconds()
	r.serverCores = (cpu1 - cpu0) / load.Seconds()
	r.clientCores = (self1 - self0) / load.Seconds()
	r.p50, r.p99 = benchkit.P50P99(latencies)

	// Deliveries are made oldest first: the newest accepted message
	// Delivered means all are. The time of the first status read that
	// shows it ends the run; the count of 102's inbound copies that then
	// confirms every one is there is not timed (it pages through them all).
	lastURL := fmt.Sprintf("%s/restapi/v1.0/account/~/extension/~/message-store/%d", demo.Server, maxID)
	deadline := time.Now().Add(10*time.Minute + 20*duration)
	var done time.Time
	for {
		var m struct {
			MessageStatus string `json:"messageStatus"`
		}
		if err := benchkit.GetJSON(client, lastURL, tokA, &m); err != nil {
			return r, err
		}
		seen := time.Now()
		if m.MessageStatus == "Delivered" {
			n, err := countInbound(client, demo.Server, tokB, prefix)
			if err != nil {
				return r, err
			}
			if n == r.accepted {
				done = seen
				break
			}
			if n > r.accepted {
				return r, fmt.Errorf("102 holds %d inbound copies of %d accepted sends", n, r.accepted)
			}
		} else if m.MessageStatus != "Queued" {
			return r, fmt.Errorf("message %d is %s", maxID, m.MessageStatus)
		} else if r.backlog == 0 {
			// Not all delivered at the end of the load: how many are left.
			delivered, err := countInbound(client, demo.Server, tokB, prefix)
			if err != nil {
				return r, err
			}
			r.backlog = r.accepted - delivered
		}
		if time.Now().After(deadline) {
			return r, fmt.Errorf("not all delivered after %v:\n%s", time.Since(loadEnd), srv.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
	r.drain = done.Sub(loadEnd)
	r.e2eRate = float64(r.accepted) / done.Sub(start).Seconds()
	r.drainRate = float64(r.backlog) / r.drain.Seconds()
	return r, nil
}

// countInbound counts 102's inbound copies of this case's messages, every
// page of 1000.
func countInbound(client *http.Client, server, token, prefix string) (int, error) {
	n := 0
	for page := 1; ; page++ {
		var body struct {
			Records []struct {
				Subject string `json:"subject"`
			} `json:"records"`
			Navigation struct {
				NextPage *struct{} `json:"nextPage"`
			} `json:"navigation"`
		}
		u := fmt.Sprintf("%s/restapi/v1.0/account/~/extension/~/message-store?messageType=SMS&direction=Inbound&dateFrom=2000-01-01T00:00:00Z&perPage=1000&page=%d", server, page)
		if err := benchkit.GetJSON(client, u, token, &body); err != nil {
			return 0, err
		}
		for _, m := range body.Records {
			if strings.HasPrefix(m.Subject, prefix) {
				n++
			}
		}
		if body.Navigation.NextPage == nil || len(body.Records) == 0 {
			return n, nil
		}
	}
}
