// Command a2pbench measures high-volume (A2P) SMS end to end: one batch of
// -n recipients (default 100,000) from extension 101's number, a share of
// them (-internal) to 102's number (delivered internally: an inbound copy
// stored) and the rest to outside numbers (the carrier simulator), posted in
// one request to the server binary, started with --demo on loopback in a
// fresh data directory at --sqlite-sync FULL (or -sync NORMAL).
//
// It reports the request's size and latency, the time until the batch is
// Completed (every message has left Queued: copy stored or accepted by the
// carrier) and until every message is Delivered (carrier receipts
// applied), the messages per second of each, and the server's CPU time and
// peak resident memory. In the same run, before the batch, it
// measures the baseline: the raw rate of single-row INSERT transactions on
// a scratch SQLite file at the same synchronous setting, from 1 goroutine
// and from 16 sharing one connection (as the server's writer does).
//
//	go run ./internal/bench/a2pbench -n 100000
package main

import (
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
	"sync/atomic"
	"time"

	"github.com/switchboardhq/switchboard/internal/bench/benchkit"
)

func main() {
	n := flag.Int("n", 100_000, "recipients of the batch")
	internalEvery := flag.Int("internal", 100, "every this many recipients is 102's number (internal); 0: none")
	syncMode := flag.String("sync", "FULL", "SQLite synchronous mode of the server and the baseline: FULL or NORMAL")
	baseline := flag.Duration("baseline", 3*time.Second, "how long each raw SQLite baseline runs")
	timeout := flag.Duration("timeout", 10*time.Minute, "give up when the batch is not delivered by then")
	poll := flag.Duration("poll", 500*time.Millisecond, "how often the batch's progress is read (the figures are as late as one poll)")
	prebuilt := flag.String("bin", "", "a built switchboard binary to run instead of building one (to compare two builds in turn)")
	flag.Parse()
	mode := strings.ToUpper(*syncMode)
	if mode != "FULL" && mode != "NORMAL" {
		log.Fatalf("-sync: want FULL or NORMAL, not %q", *syncMode)
	}
	tmp, err := os.MkdirTemp("", "switchboard-a2pbench-")
	if err != nil {
		log.Fatal(err)
	}
	err = run(tmp, *prebuilt, *n, *internalEvery, mode, *baseline, *timeout, *poll)
	os.RemoveAll(tmp)
	if err != nil {
		log.Fatal(err)
	}
}

func run(tmp, bin string, n, internalEvery int, mode string, baseline, timeout, poll time.Duration) error {
	bin, err := benchkit.Binary(tmp, bin)
	if err != nil {
		return err
	}
	raw1, err := benchkit.RawSQLiteCommits(filepath.Join(tmp, "raw-1.db"), mode, 1, baseline)
	if err != nil {
		return err
	}
	raw16, err := benchkit.RawSQLiteCommits(filepath.Join(tmp, "raw-16.db"), mode, 16, baseline)
	if err != nil {
		return err
	}
	dir := filepath.Join(tmp, "data")
	srv, demo, err := benchkit.Start(bin, dir, "--sqlite-sync", mode, "--a2p-max-messages", strconv.Itoa(max(n, 1)))
	if err != nil {
		return err
	}
	defer srv.Stop()
	client := &http.Client{Timeout: 5 * time.Minute}
	alice, bob := demo.Extensions[0], demo.Extensions[1]
	token, err := demo.Login(client, alice.JWT)
	if err != nil {
		return err
	}

	type item struct {
		To   []string `json:"to"`
		Text string   `json:"text,omitempty"`
	}
	items := make([]item, n)
	internal := 0
	for i := range items {
		items[i].To = []string{fmt.Sprintf("+1555%07d", i)}
		if internalEvery > 0 && i%internalEvery == 0 {
			items[i].To[0] = bob.PhoneNumber
			internal++
		}
		if i%10 == 0 {
			items[i].Text = fmt.Sprintf("Your code is %06d", i)
		}
	}
	body, err := json.Marshal(map[string]any{"from": alice.PhoneNumber, "text": "Our sale starts today: 20% off everything in store.", "messages": items})
	if err != nil {
		return err
	}
	// The PDF renderer's one-off compilation at start takes memory of its
	// own: measure from after it.
	for deadline := time.Now().Add(time.Minute); !strings.Contains(srv.Log(), "PDF renderer") && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
	}
	rss0, heap0 := benchkit.RSSBytes(srv.PID()), heapInUse(client, demo.Server)
	// Sampled from before the request on: decoding it is part of the peak.
	// The resident size comes from /proc, free for the server, every 20 ms;
	// the Go heap only from /metrics, whose scrape runs the server's
	// backlog queries (counting the outbox), so once a second: a scrape
	// every 20 ms took half the server's CPU, which no Prometheus does.
	var peakRSS, peakHeap atomic.Uint64
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		raise := func(peak *atomic.Uint64, v float64) {
			if uint64(v) > peak.Load() {
				peak.Store(uint64(v))
			}
		}
		for tick := 0; ; tick++ {
			raise(&peakRSS, benchkit.RSSBytes(srv.PID()))
			if tick%50 == 0 {
				raise(&peakHeap, heapInUse(client, demo.Server))
			}
			select {
			case <-stopSampling:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	cpu0 := srv.CPUSeconds()
	start := time.Now()
	status, answer, err := benchkit.PostJSON(client, demo.Server+"/restapi/v1.0/account/~/a2p-sms/batches", token, body)
	accepted := time.Since(start)
	if err != nil || status != http.StatusCreated {
		return fmt.Errorf("create batch: %d %s %v", status, firstBytes(answer), err)
	}
	var batch struct {
		ID        string `json:"id"`
		BatchSize int    `json:"batchSize"`
	}
	if err := json.Unmarshal(answer, &batch); err != nil || batch.BatchSize != n {
		return fmt.Errorf("create batch: %s %v", firstBytes(answer), err)
	}

	var queued, completed time.Duration
	var statuses map[string]struct {
		Count int `json:"count"`
	}
	// Polled twice a second: each statuses read counts the batch's
	// messages (up to -n rows), and ten a second took a quarter of the
	// server's CPU away from the batch it measures.
	for deadline := start.Add(timeout); ; time.Sleep(poll) {
		if time.Now().After(deadline) {
			return fmt.Errorf("batch not delivered after %v: completed after %v, statuses %v", timeout, completed, statuses)
		}
		if queued == 0 {
			if err := benchkit.GetJSON(client, demo.Server+"/restapi/v1.0/account/~/a2p-sms/statuses?batchId="+batch.ID, token, &statuses); err != nil {
				return err
			}
			total := 0
			for _, s := range statuses {
				total += s.Count
			}
			if total < n {
				continue
			}
			queued = time.Since(start)
		}
		if completed == 0 {
			var b struct {
				Status string `json:"status"`
			}
			if err := benchkit.GetJSON(client, demo.Server+"/restapi/v1.0/account/~/a2p-sms/batches/"+batch.ID, token, &b); err != nil {
				return err
			}
			if b.Status != "Completed" {
				continue
			}
			completed = time.Since(start)
		}
		if err := benchkit.GetJSON(client, demo.Server+"/restapi/v1.0/account/~/a2p-sms/statuses?batchId="+batch.ID, token, &statuses); err != nil {
			return err
		}
		if statuses["delivered"].Count+statuses["deliveryFailed"].Count+statuses["sendingFailed"].Count == n {
			break
		}
	}
	delivered := time.Since(start)
	cpu := srv.CPUSeconds() - cpu0
	close(stopSampling)
	<-sampled
	rate := func(d time.Duration) string { return fmt.Sprintf("%.0f", float64(n)/d.Seconds()) }
	fmt.Printf("sync=%s, batch of %d recipients (%d internal, %d to the carrier simulator), request body %.1f MB\n\n", mode, n, internal, n-internal, float64(len(body))/(1<<20))
	fmt.Println("| measure | value | ÷ raw 16-goroutine commits/s |")
	fmt.Println("|---|---|---|")
	fmt.Printf("| raw SQLite, 1 goroutine, 1 row per commit | %.0f rows/s | %.2f |\n", raw1, raw1/raw16)
	fmt.Printf("| raw SQLite, 16 goroutines on 1 conn, 1 row per commit | %.0f rows/s | 1.00 |\n", raw16)
	fmt.Printf("| batch request answered (stored whole) | %s | |\n", benchkit.Millis(accepted, 0))
	fmt.Printf("| every message in the outbox (batch expanded) | %s: %s msgs/s | %.2f |\n", benchkit.Millis(queued, 0), rate(queued), float64(n)/queued.Seconds()/raw16)
	fmt.Printf("| batch Completed (every message out of the outbox) | %s: %s msgs/s | %.2f |\n", benchkit.Millis(completed, 0), rate(completed), float64(n)/completed.Seconds()/raw16)
	fmt.Printf("| every message Delivered (receipts applied) | %s: %s msgs/s | %.2f |\n", benchkit.Millis(delivered, 0), rate(delivered), float64(n)/delivered.Seconds()/raw16)
	fmt.Printf("| server CPU from the request to the last receipt | %.1f s (%.2f cores) | |\n", cpu, cpu/delivered.Seconds())
	fmt.Printf("| server resident memory before the request → peak during the batch | %.0f → %.0f MB | |\n", rss0/(1<<20), float64(peakRSS.Load())/(1<<20))
	fmt.Printf("| server Go heap in use before the request → peak during the batch | %.0f → %.0f MB | |\n", heap0/(1<<20), float64(peakHeap.Load())/(1<<20))
	fmt.Printf("\nstatuses at the end: %v\n", statuses)
	return nil
}

func firstBytes(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

// heapInUse reads the server's Go heap in use from its /metrics (0 when
// it does not answer).
func heapInUse(client *http.Client, server string) float64 {
	resp, err := client.Get(server + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if value, ok := strings.CutPrefix(line, "go_memstats_heap_inuse_bytes "); ok {
			v, _ := strconv.ParseFloat(strings.TrimSpace(value), 64)
			return v
		}
	}
	return 0
}
