// Command overloadbench offers the server more than it can take, with
// RingCentral's rate limits enforced, and checks that it sheds the excess
// as it should: with 429 answers rather than timeouts, its health check
// answering throughout, its memory bounded, and every send it accepted
// delivered, once, afterwards.
//
// It starts the server binary (serve --demo, fresh data directory), and:
//
//  1. measures capacity C: the accepted SMS sends per second of -clients
//     closed-loop clients for -capacity-for, limits not enforced (the
//     baseline, same run);
//
//  2. enforces the limits, with the Medium group (SMS) set so that the
//     demo's users together may send -allowed-share of C per minute;
//
//  3. offers -factor times C sends per second, open loop (a request every
//     1/(factor*C) s, whatever the answers), for -duration, while a probe
//     calls /switchboard/v1/health every 250 ms and the server's RSS is
//     sampled every 500 ms;
//
//  4. lifts enforcement and waits until every accepted message is
//     Delivered and its recipient holds exactly one copy.
//
//     go run ./internal/bench/overloadbench -duration 30s
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboardhq/switchboard/internal/bench/benchkit"
)

func main() {
	duration := flag.Duration("duration", 30*time.Second, "how long the overload is offered")
	factor := flag.Float64("factor", 3, "offered load as a multiple of the measured capacity")
	capacityFor := flag.Duration("capacity-for", 5*time.Second, "how long capacity is measured")
	clients := flag.Int("clients", 16, "closed-loop clients measuring capacity")
	share := flag.Float64("allowed-share", 0.5, "share of the capacity the rate limits allow per minute, all users together")
	timeout := flag.Duration("timeout", 10*time.Second, "a request not answered in this long counts as a timeout")
	keep := flag.Bool("keep", false, "keep the temporary directory")
	flag.Parse()

	tmp, err := os.MkdirTemp("", "switchboard-overloadbench-")
	if err != nil {
		log.Fatal(err)
	}
	if !*keep {
		defer os.RemoveAll(tmp)
	}
	bin := filepath.Join(tmp, "switchboard")
	if err := benchkit.Build(bin); err != nil {
		log.Fatal(err)
	}
	srv, demo, err := benchkit.Start(bin, filepath.Join(tmp, "data"))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Stop()
	pid := srv.PID()
	// The PDF renderer compiles in the background at start and takes
	// memory and CPU meanwhile: wait for it, so it is in no figure.
	for deadline := time.Now().Add(3 * time.Minute); !strings.Contains(srv.Log(), "PDF renderer"); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			log.Fatal("the PDF renderer did not get ready in 3 minutes")
		}
	}

	transport := &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 0}
	client := &http.Client{Transport: transport, Timeout: *timeout}
	var users []user
	for _, x := range demo.Extensions {
		if x.JWT == "" || x.PhoneNumber == "" {
			continue
		}
		tok, err := demo.Login(client, x.JWT)
		if err != nil {
			log.Fatal(err)
		}
		users = append(users, user{number: x.PhoneNumber, token: tok})
	}
	if len(users) < 2 {
		log.Fatalf("the demo has %d users with a number; want 2", len(users))
	}
	for i := range users {
		users[i].to = users[(i+1)%len(users)].number
	}
	admin := func(body string) {
		st, b, err := put(client, demo.Server+"/switchboard/v1/rate-limits", demo.AdminToken, body)
		if err != nil || st != 200 {
			log.Fatalf("PUT rate-limits %s: %d %s %v", body, st, b, err)
		}
	}
	r := &run{server: demo.Server, client: client, users: users}

	// 1. Capacity, limits counted but not enforced.
	admin(`{"enforce": false}`)
	rss0 := rssMiB(pid)
	start := time.Now()
	var wg sync.WaitGroup
	var accepted0 atomic.Int64
	for c := 0; c < *clients; c++ {
		wg.Go(func() {
			for time.Since(start) < *capacityFor {
				if st, _ := r.send(c % len(users)); st == 200 {
					accepted0.Add(1)
				}
			}
		})
	}
	wg.Wait()
	capacity := float64(accepted0.Load()) / time.Since(start).Seconds()
	perUser := max(1, int(capacity*60**share/float64(len(users))))
	fmt.Printf("capacity (baseline, %d closed-loop clients, limits not enforced): %.0f sends/s; RSS %.0f MiB\n", *clients, capacity, rss0)

	// 2. Limits enforced: Medium allows the users together share*C a minute.
	// Phase 1 went past the default limits (counted, not enforced), and
	// every counted call past them restarted the penalty: the emulator's
	// clock, which the limiter reads, moves past it.
	if st, _, err := post(client, demo.Server+"/switchboard/v1/clock/advance", demo.AdminToken, `{"seconds": 180}`); err != nil || st != 200 {
		log.Fatalf("clock advance: %d %v", st, err)
	}
	admin(fmt.Sprintf(`{"enforce": true, "groups": {"Medium": {"limit": %d, "windowSeconds": 60}}}`, perUser))
	offered := capacity * *factor
	fmt.Printf("limits enforced: Medium %d requests/min per user (%d users); offering %.0f sends/s (%.1fx) for %s\n",
		perUser, len(users), offered, *factor, *duration)

	// 3. Overload, open loop, with the health probe and RSS sampler.
	stop := make(chan struct{})
	var probes, probeFails atomic.Int64
	var probeMax atomic.Int64
	var samplers sync.WaitGroup
	samplers.Go(func() {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			began := time.Now()
			resp, err := client.Get(demo.Server + "/switchboard/v1/health")
			took := time.Since(began)
			probes.Add(1)
			if err != nil || resp.StatusCode != 200 {
				probeFails.Add(1)
			}
			if resp != nil {
				resp.Body.Close()
			}
			for old := probeMax.Load(); int64(took) > old && !probeMax.CompareAndSwap(old, int64(took)); old = probeMax.Load() {
			}
		}
	})
	var rssMax atomic.Int64
	samplers.Go(func() {
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if v := int64(rssMiB(pid)); v > rssMax.Load() {
					rssMax.Store(v)
				}
			}
		}
	})
	var (
		mu       sync.Mutex
		statuses = map[int]int{}
		lat      = map[string][]time.Duration{}
		inflight sync.WaitGroup
	)
	cpu0 := srv.CPUSeconds()
	interval := time.Duration(float64(time.Second) / offered)
	began := time.Now()
	for i := 0; time.Since(began) < *duration; i++ {
		if d := time.Until(began.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		inflight.Go(func() {
			t0 := time.Now()
			st, _ := r.send(i % len(users))
			took := time.Since(t0)
			key := strconv.Itoa(st)
			if st == 0 {
				key = "timeout/error"
			}
			mu.Lock()
			statuses[st]++
			lat[key] = append(lat[key], took)
			mu.Unlock()
		})
	}
	inflight.Wait()
	elapsed := time.Since(began)
	cpu := srv.CPUSeconds() - cpu0
	close(stop)
	samplers.Wait()

	total := 0
	for _, n := range statuses {
		total += n
	}
	fmt.Printf("offered %d sends in %s (%.0f/s); server CPU %.1f s\n", total, elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds(), cpu)
	for _, key := range []string{"200", "429", "503", "timeout/error"} {
		st, _ := strconv.Atoi(key)
		n := statuses[st]
		if key == "timeout/error" {
			n = statuses[0]
		}
		p50, p99 := benchkit.P50P99(lat[key])
		fmt.Printf("  %-14s %7d (%5.1f%%)  p50 %s  p99 %s\n", key, n, 100*float64(n)/float64(max(total, 1)), benchkit.Millis(p50, 1), benchkit.Millis(p99, 1))
	}
	for st, n := range statuses {
		if st != 0 && st != 200 && st != 429 && st != 503 {
			fmt.Printf("  %-14d %7d  (unexpected)\n", st, n)
		}
	}
	fmt.Printf("health: %d probes, %d failed, slowest %s\n", probes.Load(), probeFails.Load(), benchkit.Millis(time.Duration(probeMax.Load()), 1))
	fmt.Printf("RSS: %.0f MiB before, %d MiB at most during the overload, %.0f MiB after\n", rss0, rssMax.Load(), rssMiB(pid))

	// 4. Every accepted send delivered, once.
	admin(`{"enforce": false}`)
	want := r.acceptedSnapshot()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		missing, dup, undelivered, err := r.check(want)
		if err != nil {
			log.Fatal(err)
		}
		if missing == 0 && dup == 0 && undelivered == 0 {
			fmt.Printf("delivery: all %d accepted sends Delivered, each stored once at its recipient\n", len(want))
			break
		}
		if time.Now().After(deadline) || dup > 0 {
			fmt.Printf("delivery: of %d accepted: %d not Delivered, %d missing at the recipient, %d stored twice\n", len(want), undelivered, missing, dup)
			os.Exit(1)
		}
		time.Sleep(time.Second)
	}
	if statuses[0] > 0 || probeFails.Load() > 0 {
		os.Exit(1)
	}
}

type user struct{ number, to, token string }

type run struct {
	server string
	client *http.Client
	users  []user
	seq    atomic.Int64

	mu       sync.Mutex
	accepted map[string]string // message id -> text
}

// send posts one SMS from user i to the next user's number; the text is
// unique, so the recipient's copy can be counted.
func (r *run) send(i int) (int, error) {
	u := r.users[i]
	text := fmt.Sprintf("ovl-%d", r.seq.Add(1))
	st, b, err := benchkit.PostJSON(r.client, r.server+"/restapi/v1.0/account/~/extension/~/sms", u.token, benchkit.SMSBody(u.number, u.to, text))
	if err != nil {
		return 0, err
	}
	if st == 200 {
		var m struct {
			ID json.Number `json:"id"`
		}
		if json.Unmarshal(b, &m) != nil || m.ID == "" {
			return 0, fmt.Errorf("accepted without an id: %s", b)
		}
		r.mu.Lock()
		if r.accepted == nil {
			r.accepted = map[string]string{}
		}
		r.accepted[string(m.ID)] = text
		r.mu.Unlock()
	}
	return st, nil
}

func (r *run) acceptedSnapshot() map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]string, len(r.accepted))
	for k, v := range r.accepted {
		out[k] = v
	}
	return out
}

// check lists every user's mailbox: each accepted id must be an Outbound
// message Delivered, and its text in exactly one Inbound message.
func (r *run) check(want map[string]string) (missing, dup, undelivered int, err error) {
	status := map[string]string{}
	inbound := map[string]int{}
	for _, u := range r.users {
		for page := 1; ; page++ {
			var list struct {
				Records []struct {
					ID            json.Number `json:"id"`
					Direction     string      `json:"direction"`
					MessageStatus string      `json:"messageStatus"`
					Subject       string      `json:"subject"`
				} `json:"records"`
				Navigation struct {
					NextPage *struct{} `json:"nextPage"`
				} `json:"navigation"`
			}
			q := url.Values{"messageType": {"SMS"}, "perPage": {"1000"}, "page": {strconv.Itoa(page)}, "dateFrom": {"2000-01-01T00:00:00Z"}}
			if err := benchkit.GetJSON(r.client, r.server+"/restapi/v1.0/account/~/extension/~/message-store?"+q.Encode(), u.token, &list); err != nil {
				return 0, 0, 0, err
			}
			for _, m := range list.Records {
				if m.Direction == "Outbound" {
					status[string(m.ID)] = m.MessageStatus
				} else if strings.HasPrefix(m.Subject, "ovl-") {
					inbound[m.Subject]++
				}
			}
			if list.Navigation.NextPage == nil {
				break
			}
		}
	}
	for id, text := range want {
		if status[id] != "Delivered" {
			undelivered++
		}
		switch inbound[text] {
		case 0:
			missing++
		case 1:
		default:
			dup++
		}
	}
	return missing, dup, undelivered, nil
}

func put(client *http.Client, u, token, body string) (int, string, error) {
	return call(client, "PUT", u, token, body)
}

func post(client *http.Client, u, token, body string) (int, string, error) {
	return call(client, "POST", u, token, body)
}

// call sends an admin API request and returns its status line.
func call(client *http.Client, method, u, token, body string) (int, string, error) {
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	return resp.StatusCode, resp.Status, nil
}

// rssMiB is a process's resident memory in MiB, to a tenth.
func rssMiB(pid int) float64 {
	return math.Round(benchkit.RSSBytes(pid)/(1<<20)*10) / 10
}
