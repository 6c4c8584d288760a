// Command smppbench measures SMS sends to outside numbers per second
// through the carrier: the server binary started with --demo on loopback,
// once with the carrier simulator (receipts at once) and once per window
// size with the SMPP carrier bound to the test SMSC (Debian's Net::SMPP,
// internal/carrier/smpp/testdata/smsc.pl). Clients POST .../sms from
// extension 101 to outside numbers for -duration; the end-to-end rate
// counts until every accepted message is Delivered (the receipt recorded),
// read back through the API.
//
//	go run ./internal/bench/smppbench
//
// The machine is shared: keep the whole run short (the defaults take
// about 30 s).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
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
	"github.com/switchboardhq/switchboard/internal/carrier/smpp/smsctest"
)

func main() {
	duration := flag.Duration("duration", 3*time.Second, "how long the clients send, per case")
	clients := flag.Int("clients", 16, "concurrent clients")
	windows := flag.String("windows", "1,10", "comma-separated SMPP window sizes, one case each")
	flag.Parse()
	tmp, err := os.MkdirTemp("", "switchboard-smppbench-")
	if err != nil {
		log.Fatal(err)
	}
	env := &benchT{dir: tmp}
	defer env.cleanup()
	bin := filepath.Join(tmp, "switchboard")
	if err := benchkit.Build(bin); err != nil {
		env.Fatalf("%v", err)
	}
	rules := filepath.Join(tmp, "rules.json")
	if err := os.WriteFile(rules, []byte(`{"deliveryDelaySeconds": 0}`), 0o600); err != nil {
		env.Fatalf("%v", err)
	}
	fmt.Printf("%d clients, %v of sends per case, SQLite synchronous=FULL\n\n", *clients, *duration)
	fmt.Println("| carrier | accepted | accepted/s | p50 | p99 | delivered end to end/s | drain after the load | server CPU (cores) |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	report := func(name string, r result) {
		fmt.Printf("| %s | %d | %.0f | %s | %s | %.0f | %.2f s | %.2f |\n", name, r.accepted, r.acceptedRate,
			benchkit.Millis(r.p50, 1), benchkit.Millis(r.p99, 1), r.e2eRate, r.drain.Seconds(), r.cores)
	}
	report("simulator (receipt at once)", env.run(bin, "sim", *clients, *duration, "--carrier-rules", rules))
	for _, w := range strings.Split(*windows, ",") {
		if _, err := strconv.Atoi(w); err != nil {
			env.Fatalf("-windows: %q is not a number", w)
		}
		smsc := smsctest.Run(env)
		r := env.run(bin, "smpp-"+w, *clients, *duration, "--carrier", smsc.URL("window="+w))
		if got := len(smsc.Events("submit")); got != r.accepted {
			env.Fatalf("window %s: the SMSC got %d submit_sm for %d accepted sends", w, got, r.accepted)
		}
		report("SMPP to Net::SMPP, window "+w, r)
		smsc.Kill()
	}
}

type result struct {
	accepted              int
	acceptedRate, e2eRate float64
	p50, p99, drain       time.Duration
	cores                 float64
}

// run starts a server with extra flags, sends for d from c clients, waits
// until everything accepted is Delivered, and stops the server.
func (b *benchT) run(bin, name string, c int, d time.Duration, extra ...string) result {
	srv, demo, err := benchkit.Start(bin, filepath.Join(b.dir, name), extra...)
	if err != nil {
		b.Fatalf("%s: %v", name, err)
	}
	defer func() { _ = srv.Stop() }()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c}}
	token, err := demo.Login(client, demo.Extensions[0].JWT)
	if err != nil {
		b.Fatalf("%s: %v", name, err)
	}
	from := demo.Extensions[0].PhoneNumber
	sendURL := demo.Server + "/restapi/v1.0/account/~/extension/~/sms"

	var (
		mu        sync.Mutex
		ids       []string
		latencies []time.Duration
		seq       atomic.Int64
		wg        sync.WaitGroup
	)
	cpu0 := srv.CPUSeconds()
	start := time.Now()
	end := start.Add(d)
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) {
				n := seq.Add(1)
				t0 := time.Now()
				status, body, err := benchkit.PostJSON(client, sendURL, token,
					benchkit.SMSBody(from, fmt.Sprintf("+1415%07d", n), fmt.Sprintf("benchmark message %d", n)))
				if err != nil || status != 200 {
					b.Fatalf("%s: send: %d %v %s", name, status, err, body)
				}
				var m struct {
					ID json.Number `json:"id"`
				}
				_ = json.Unmarshal(body, &m)
				mu.Lock()
				ids = append(ids, m.ID.String())
				latencies = append(latencies, time.Since(t0))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	loadEnd := time.Now()
	cores := (srv.CPUSeconds() - cpu0) / loadEnd.Sub(start).Seconds()
	// Delivered end to end: each message read back until its receipt is
	// recorded (they finish roughly in order, so this is about one GET
	// each).
	for _, id := range ids {
		for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			var m struct {
				MessageStatus string `json:"messageStatus"`
			}
			if err := benchkit.GetJSON(client, demo.Server+"/restapi/v1.0/account/~/extension/~/message-store/"+id, token, &m); err != nil {
				b.Fatalf("%s: %v", name, err)
			}
			if m.MessageStatus == "Delivered" {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("%s: message %s still %s a minute after the load\n%s", name, id, m.MessageStatus, srv.Log())
			}
		}
	}
	done := time.Now()
	p50, p99 := benchkit.P50P99(latencies)
	return result{accepted: len(ids), acceptedRate: float64(len(ids)) / loadEnd.Sub(start).Seconds(),
		e2eRate: float64(len(ids)) / done.Sub(start).Seconds(), p50: p50, p99: p99, drain: done.Sub(loadEnd), cores: cores}
}

// benchT gives smsctest what it needs of a test: a directory, cleanups,
// and a fatal error that cleans up first.
type benchT struct {
	dir      string
	mu       sync.Mutex
	cleanups []func()
}

func (b *benchT) Helper() {}

// TempDir is a new directory under the run's, on every call.
func (b *benchT) TempDir() string {
	d, err := os.MkdirTemp(b.dir, "smsc-")
	if err != nil {
		b.Fatalf("%v", err)
	}
	return d
}
func (b *benchT) Cleanup(f func()) { b.mu.Lock(); b.cleanups = append(b.cleanups, f); b.mu.Unlock() }

func (b *benchT) cleanup() {
	b.mu.Lock()
	fs := b.cleanups
	b.cleanups = nil
	b.mu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
	_ = os.RemoveAll(b.dir)
}

func (b *benchT) Fatalf(format string, args ...any) {
	b.cleanup()
	log.Fatalf(format, args...)
}
