// Command mailpitbench runs the same message-store work against Mailpit
// (the email testing server Switchboard is modelled on) and Switchboard,
// in one run, so that the shared machine's noise hits both alike:
//
//   - ingest: -messages messages by -clients clients, one per request
//     (Mailpit over SMTP, one message per MAIL/RCPT/DATA on a kept
//     connection; Switchboard over POST /switchboard/v1/inbound/sms);
//   - list: the first and the last page of -per-page (Mailpit's
//     GET /api/v1/messages?start=…&limit=…; Switchboard's message-store
//     page=N&perPage=M), the last page once by jumping to it and once after
//     a walk through every page (as navigation.nextPage does);
//   - mark read: one id per request (Mailpit's PUT /api/v1/messages
//     {"IDs":[id],"Read":true}; Switchboard's PUT …/message-store/{id}
//     {"readStatus":"Read"});
//   - delete: one id per request (DELETE /api/v1/messages {"IDs":[id]};
//     DELETE …/message-store/{id}).
//
// Mailpit is not built here: give its binary with -mailpit (see
// docs/performance.md for how it was built). Mailpit runs SQLite at
// synchronous=NORMAL (its own setting); Switchboard at -sync (FULL, its
// default, unless told), and with -postgres also on PostgreSQL. The raw
// single-row commit rate of SQLite at FULL on this disk is measured in the
// same run, for scale.
//
//	go run ./internal/bench/mailpitbench -mailpit /tmp/mailpit/mailpit
package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/smtp"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // benchkit.CreateDatabase
	_ "modernc.org/sqlite"             // the raw commit baseline

	"github.com/switchboardhq/switchboard/internal/bench/benchkit"
)

func main() {
	mailpit := flag.String("mailpit", "", `path to a built Mailpit binary (required; "none" runs Switchboard alone, e.g. for a profile)`)
	prebuilt := flag.String("bin", "", "a built switchboard binary to run instead of building one")
	messages := flag.Int("messages", 20_000, "messages ingested, then marked read and deleted one by one")
	clients := flag.Int("clients", 8, "concurrent clients")
	perPage := flag.Int("per-page", 50, "page size of the list")
	listSamples := flag.Int("list-samples", 200, "requests per list case")
	syncModes := flag.String("sync", "FULL", "Switchboard's --sqlite-sync modes to run, comma-separated (FULL, NORMAL)")
	rounds := flag.Int("rounds", 1, "rounds of Mailpit then Switchboard")
	postgres := flag.String("postgres", "", "also run Switchboard on PostgreSQL: a server URL whose user may create databases (a fresh one per round, dropped after)")
	flag.Parse()
	if *mailpit == "" {
		log.Fatal("-mailpit is required: the path of a built Mailpit binary")
	}
	tmp, err := os.MkdirTemp("", "mailpitbench")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	bin, err := benchkit.Binary(tmp, *prebuilt)
	if err != nil {
		log.Fatal(err)
	}
	w := work{messages: *messages, clients: *clients, perPage: *perPage, samples: *listSamples}
	fmt.Printf("%d messages, %d clients, perPage %d, %d samples per list case\n\n", w.messages, w.clients, w.perPage, w.samples)
	fmt.Println("| round | server | phase | rate (/s) or p50 | p99 | server CPU (cores) | ÷ Mailpit |")
	fmt.Println("|---|---|---|---|---|---|---|")
	for round := 1; round <= *rounds; round++ {
		raw, err := rawCommits(filepath.Join(tmp, "raw.db"), w.clients, 3*time.Second)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("| %d | raw SQLite FULL, %d goroutines on 1 conn, 1 row per tx | commits | %.0f |  |  |  |\n", round, w.clients, raw)
		var mp results
		if *mailpit != "none" {
			if mp, err = w.runMailpit(*mailpit, filepath.Join(tmp, fmt.Sprint("mailpit-", round))); err != nil {
				log.Fatal(err)
			}
			mp.print(round, "Mailpit (SQLite NORMAL)", nil)
		}
		for _, mode := range strings.Split(*syncModes, ",") {
			sb, err := w.runSwitchboard(bin, filepath.Join(tmp, fmt.Sprintf("switchboard-%d-%s", round, mode)), mode)
			if err != nil {
				log.Fatal(err)
			}
			sb.print(round, "Switchboard "+mode, mp)
		}
		if *postgres != "" {
			dbURL, drop, err := benchkit.CreateDatabase(*postgres)
			if err != nil {
				log.Fatal(err)
			}
			pg, err := w.runSwitchboard(bin, filepath.Join(tmp, fmt.Sprint("switchboard-pg-", round)), "FULL", "--database", dbURL)
			if dropErr := drop(); err == nil {
				err = dropErr
			}
			if err != nil {
				log.Fatal(err)
			}
			pg.print(round, "Switchboard PostgreSQL", mp)
		}
	}
}

type work struct {
	messages, clients, perPage, samples int
}

// phase is one measured part of a run.
type phase struct {
	name     string
	rate     float64 // requests per second (0 for a latency-only case)
	p50, p99 time.Duration
	cores    float64
}

type results []phase

func (rs results) print(round int, server string, base results) {
	for i, p := range rs {
		ratio := ""
		if base != nil && i < len(base) {
			if p.rate > 0 && base[i].rate > 0 {
				ratio = fmt.Sprintf("%.2f", p.rate/base[i].rate)
			} else if p.rate == 0 && p.p50 > 0 {
				ratio = fmt.Sprintf("%.2f (time)", float64(p.p50)/float64(base[i].p50))
			}
		}
		main := benchkit.Millis(p.p50, 2)
		if p.rate > 0 {
			main = fmt.Sprintf("%.0f/s (p50 %s)", p.rate, benchkit.Millis(p.p50, 2))
		}
		cores := ""
		if p.cores > 0 {
			cores = fmt.Sprintf("%.2f", p.cores)
		}
		fmt.Printf("| %d | %s | %s | %s | %s | %s | %s |\n", round, server, p.name, main, benchkit.Millis(p.p99, 2), cores, ratio)
	}
}

// load runs n jobs over the clients, job i by fn(client, i), and measures
// the rate, the latencies and the server's CPU.
func (w work) load(name string, pid int, n int, fn func(client, i int) error) (phase, error) {
	var next atomic.Int64
	lat := make([][]time.Duration, w.clients)
	errs := make([]error, w.clients)
	cpu0 := benchkit.CPUSeconds(pid)
	start := time.Now()
	var wg sync.WaitGroup
	for c := range w.clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t := time.Now()
				if err := fn(c, i); err != nil {
					errs[c] = fmt.Errorf("%s %d: %w", name, i, err)
					return
				}
				lat[c] = append(lat[c], time.Since(t))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := errors.Join(errs...); err != nil {
		return phase{}, err
	}
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	p := phase{name: name, cores: (benchkit.CPUSeconds(pid) - cpu0) / elapsed.Seconds()}
	p.p50, p.p99 = benchkit.P50P99(all)
	p.rate = float64(n) / elapsed.Seconds()
	return p, nil
}

// latency measures fn alone, w.samples times, after a tenth as warm-up.
func (w work) latency(name string, fn func() error) (phase, error) {
	var s []time.Duration
	for i := -w.samples / 10; i < w.samples; i++ {
		t := time.Now()
		if err := fn(); err != nil {
			return phase{}, fmt.Errorf("%s: %w", name, err)
		}
		if i >= 0 {
			s = append(s, time.Since(t))
		}
	}
	p := phase{name: name}
	p.p50, p.p99 = benchkit.P50P99(s)
	return p, nil
}

// ---- Mailpit

func (w work) runMailpit(bin, dir string) (results, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	httpAddr, smtpAddr := freeAddr(), freeAddr()
	cmd := exec.Command(bin, "--database", filepath.Join(dir, "mailpit.db"), "--listen", httpAddr, "--smtp", smtpAddr,
		"--max", "0", "--quiet", "--disable-version-check")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	api := "http://" + httpAddr + "/api/v1/messages"
	if err := waitFor(func() error { return getJSON(api+"?limit=1", "", nil) }); err != nil {
		return nil, fmt.Errorf("mailpit did not start: %v\n%s", err, out.String())
	}
	pid := cmd.Process.Pid
	settle(pid)
	var rs results

	conns := make([]*smtp.Client, w.clients)
	for c := range conns {
		sc, err := smtp.Dial(smtpAddr)
		if err != nil {
			return nil, err
		}
		defer sc.Close()
		conns[c] = sc
	}
	p, err := w.load("ingest (SMTP)", pid, w.messages, func(c, i int) error {
		sc := conns[c]
		if err := sc.Mail("sender@example.com"); err != nil {
			return err
		}
		if err := sc.Rcpt("mailbox@example.com"); err != nil {
			return err
		}
		wc, err := sc.Data()
		if err != nil {
			return err
		}
		fmt.Fprintf(wc, "From: sender@example.com\r\nTo: mailbox@example.com\r\nSubject: message %d\r\n"+
			"Message-ID: <%d.%d@mailpitbench>\r\n\r\nmessage %d: the quick brown fox jumps over the lazy dog\r\n", i, i, time.Now().UnixNano(), i)
		return wc.Close() // returns once the server answered 250 to DATA
	})
	if err != nil {
		return nil, err
	}
	rs = append(rs, p)

	var ids []string
	for start := 0; start < w.messages; start += 1000 {
		var page struct {
			Messages []struct{ ID string } `json:"messages"`
		}
		if err := getJSON(fmt.Sprintf("%s?start=%d&limit=1000", api, start), "", &page); err != nil {
			return nil, err
		}
		for _, m := range page.Messages {
			ids = append(ids, m.ID)
		}
	}
	if len(ids) != w.messages {
		return nil, fmt.Errorf("mailpit lists %d messages, want %d", len(ids), w.messages)
	}
	last := (w.messages - 1) / w.perPage * w.perPage
	list := func(start int) func() error {
		u := fmt.Sprintf("%s?start=%d&limit=%d", api, start, w.perPage)
		return func() error { return getJSON(u, "", nil) }
	}
	for _, c := range []struct {
		name  string
		start int
	}{{"list first page", 0}, {"list last page (jump)", last}, {"list last page (after a walk)", last}} {
		p, err := w.latency(c.name, list(c.start))
		if err != nil {
			return nil, err
		}
		rs = append(rs, p)
	}

	client := httpClient(w.clients)
	p, err = w.load("mark read", pid, len(ids), func(_, i int) error {
		return send(client, "PUT", api, "", map[string]any{"IDs": []string{ids[i]}, "Read": true})
	})
	if err != nil {
		return nil, err
	}
	rs = append(rs, p)
	p, err = w.load("delete", pid, len(ids), func(_, i int) error {
		return send(client, "DELETE", api, "", map[string]any{"IDs": []string{ids[i]}})
	})
	if err != nil {
		return nil, err
	}
	return append(rs, p), nil
}

// ---- Switchboard

func (w work) runSwitchboard(bin, dir, mode string, extra ...string) (results, error) {
	srv, demo, err := benchkit.Start(bin, dir, append([]string{"--sqlite-sync", mode}, extra...)...)
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	pid := srv.PID()
	settle(pid) // the server warms its fax renderer at start
	client := httpClient(w.clients)
	ext := demo.Extensions[0]
	token, err := demo.Login(client, ext.JWT)
	if err != nil {
		return nil, err
	}
	var rs results
	ids := make([]string, w.messages)
	p, err := w.load("ingest (inbound SMS)", pid, w.messages, func(_, i int) error {
		var m struct{ ID int64 }
		if err := sendJSON(client, "POST", demo.Server+"/switchboard/v1/inbound/sms", demo.AdminToken,
			map[string]string{"from": fmt.Sprintf("+1555%07d", i%5000), "to": ext.PhoneNumber,
				"text": fmt.Sprintf("message %d: the quick brown fox jumps over the lazy dog", i)}, &m); err != nil {
			return err
		}
		ids[i] = strconv.FormatInt(m.ID, 10)
		return nil
	})
	if err != nil {
		return nil, err
	}
	rs = append(rs, p)

	store := demo.Server + "/restapi/v1.0/account/~/extension/~/message-store"
	pages := (w.messages + w.perPage - 1) / w.perPage
	pageURL := func(page int) string { return fmt.Sprintf("%s?page=%d&perPage=%d", store, page, w.perPage) }
	list := func(u string, want int) func() error {
		return func() error {
			var body struct {
				Records []json.RawMessage `json:"records"`
			}
			if err := getJSON(u, token, &body); err != nil {
				return err
			}
			if len(body.Records) != want {
				return fmt.Errorf("%s: %d records, want %d", u, len(body.Records), want)
			}
			return nil
		}
	}
	lastLen := w.messages - (pages-1)*w.perPage
	first, err := w.latency("list first page", list(pageURL(1), min(w.perPage, w.messages)))
	if err != nil {
		return nil, err
	}
	jump, err := w.latency("list last page (jump)", list(pageURL(pages), lastLen))
	if err != nil {
		return nil, err
	}
	// The walk: every page through navigation.nextPage, as the SDKs do.
	u, seen := pageURL(1), 0
	for u != "" {
		var body struct {
			Records    []json.RawMessage `json:"records"`
			Navigation struct {
				NextPage *struct{ URI string } `json:"nextPage"`
			} `json:"navigation"`
		}
		if err := getJSON(u, token, &body); err != nil {
			return nil, err
		}
		seen += len(body.Records)
		u = ""
		if body.Navigation.NextPage != nil {
			u = body.Navigation.NextPage.URI
		}
	}
	if seen != w.messages {
		return nil, fmt.Errorf("the walk saw %d messages, want %d", seen, w.messages)
	}
	walked, err := w.latency("list last page (after a walk)", list(pageURL(pages), lastLen))
	if err != nil {
		return nil, err
	}
	rs = append(rs, first, jump, walked)

	p, err = w.load("mark read", pid, len(ids), func(_, i int) error {
		return sendJSON(client, "PUT", store+"/"+ids[i], token, map[string]string{"readStatus": "Read"}, nil)
	})
	if err != nil {
		return nil, err
	}
	rs = append(rs, p)
	p, err = w.load("delete", pid, len(ids), func(_, i int) error {
		return sendJSON(client, "DELETE", store+"/"+ids[i], token, nil, nil)
	})
	if err != nil {
		return nil, err
	}
	return append(rs, p), nil
}

// ---- helpers

func httpClient(conns int) *http.Client {
	return &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conns}, Timeout: time.Minute}
}

var plain = httpClient(2)

func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// settle waits (up to a minute) until the process is idle: what a server
// does at start (Switchboard compiles its fax renderer) is not the load's.
func settle(pid int) {
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
		before := benchkit.CPUSeconds(pid)
		time.Sleep(time.Second)
		if benchkit.CPUSeconds(pid)-before < 0.05 {
			return
		}
	}
}

func waitFor(fn func() error) error {
	var err error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if err = fn(); err == nil {
			return nil
		}
	}
	return err
}

func getJSON(u, token string, v any) error {
	return sendJSON(plain, "GET", u, token, nil, v)
}

func send(client *http.Client, method, u, token string, body any) error {
	return sendJSON(client, method, u, token, body, nil)
}

// sendJSON sends body as JSON (none when nil) and decodes a 2xx answer
// into v (when not nil); other answers are errors.
func sendJSON(client *http.Client, method, u, token string, body, v any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, u, r)
	if err != nil {
		return err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %d %s", method, u, resp.StatusCode, b)
	}
	if v != nil {
		return json.Unmarshal(b, v)
	}
	return nil
}

// rawCommits is the scale: single-row INSERT transactions on a scratch
// SQLite file in WAL mode at synchronous=FULL, from goroutines sharing one
// connection as Switchboard's writer does, for d; commits per second.
func rawCommits(path string, goroutines int, d time.Duration) (float64, error) {
	q := url.Values{"_pragma": {"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(FULL)"}, "_txlock": {"immediate"}}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return 0, err
	}
	defer os.Remove(path)
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE IF NOT EXISTS scratch (id INTEGER PRIMARY KEY, body TEXT NOT NULL)`); err != nil {
		return 0, err
	}
	var n atomic.Int64
	errs := make([]error, goroutines)
	end := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) {
				if _, err := db.Exec(`INSERT INTO scratch (body) VALUES ($1)`, strconv.Itoa(g)); err != nil {
					errs[g] = err
					return
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds(), errors.Join(errs...)
}
