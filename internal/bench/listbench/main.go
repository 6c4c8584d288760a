// Command listbench measures message-store list latency at scale: the first
// page and page 50 of a large mailbox inside a much larger database, through
// the raw SQL query, the store, and the HTTP API over loopback, interleaved in
// one run so the machine's noise hits all three alike.
//
//	go run ./internal/bench/listbench -messages 1000000 -mailbox 200000
//	go run ./internal/bench/listbench -postgres postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
//
// The seeded database is kept in -data and reused by later runs with the
// same sizes.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/auth"
	"github.com/switchboardhq/switchboard/internal/bench/benchdata"
	"github.com/switchboardhq/switchboard/internal/bench/benchkit"
	"github.com/switchboardhq/switchboard/internal/httpapi"
	"github.com/switchboardhq/switchboard/internal/sqlstore"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver for the raw query on PostgreSQL
)

func main() {
	total := flag.Int("messages", 1_000_000, "messages in the database")
	mailbox := flag.Int("mailbox", 200_000, "messages in the measured mailbox")
	iterations := flag.Int("iterations", 500, "measured requests per case and layer")
	perPage := flag.Int("per-page", 100, "page size")
	dataDir := flag.String("data", filepath.Join(os.TempDir(), "switchboard-listbench"), "where the seeded database is kept")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the measured part to this file")
	flag.BoolVar(&walkCheck, "walk-check", true, "compare every page of the walk with the raw OFFSET query (false: time the walk alone; the jump and the last page are still checked)")
	flag.BoolVar(&walk, "walk", true, "after the cases, walk every page of the mailbox through navigation.nextPage, each page checked against the raw OFFSET query, and jump to page 1000 (or the middle) without a walk")
	flag.StringVar(&postgresURL, "postgres", "", "run on PostgreSQL: a server URL whose user may create databases; the seeded database switchboard_listbench_<messages>_<mailbox> is kept and reused")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		profileTo = f
	}
	if err := run(*total, *mailbox, *iterations, *perPage, *dataDir); err != nil {
		log.Fatal(err)
	}
}

// walk and walkCheck are -walk and -walk-check.
var walk, walkCheck bool

// profileTo receives the CPU profile when -cpuprofile is set.
var profileTo *os.File

// postgresURL is -postgres.
var postgresURL string

// base is the clock of the seeded data.
var base = benchdata.Base

func run(total, mailbox, iterations, perPage int, dataDir string) error {
	if mailbox > total || mailbox <= 0 {
		return fmt.Errorf("-mailbox must be between 1 and -messages")
	}
	ctx := context.Background()
	clock := switchboard.NewManualClock(func() time.Time { return base })
	path := filepath.Join(dataDir, fmt.Sprintf("list-%d-%d.db", total, mailbox))
	var store *sqlstore.DB
	var raw *sql.DB
	var fresh bool
	if postgresURL != "" {
		dbURL, created, err := postgresDatabase(postgresURL, fmt.Sprintf("switchboard_listbench_%d_%d", total, mailbox))
		if err != nil {
			return err
		}
		fresh, path = created, sqlstore.RedactURL(dbURL)
		if store, err = sqlstore.OpenPostgres(ctx, dbURL, clock, sqlstore.PostgresOptions{}); err != nil {
			return err
		}
		if raw, err = sql.Open("pgx", dbURL); err != nil {
			return err
		}
	} else {
		if err := os.MkdirAll(dataDir, 0o755); err != nil {
			return err
		}
		_, statErr := os.Stat(path)
		fresh = os.IsNotExist(statErr)
		var err error
		if store, err = sqlstore.OpenSQLite(ctx, path, clock, sqlstore.SQLiteOptions{Synchronous: "NORMAL"}); err != nil {
			return err
		}
		if raw, err = sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=query_only(1)"); err != nil {
			return err
		}
	}
	defer store.Close()
	defer raw.Close()
	authService := auth.NewService(store, clock, auth.Config{})
	target, err := benchdata.Seed(ctx, store, authService, total, mailbox, fresh)
	if err != nil {
		return err
	}
	if postgresURL != "" && fresh {
		// Statistics for the planner, as autovacuum would gather them
		// some time after a bulk load.
		if _, err := raw.Exec(`ANALYZE`); err != nil {
			return err
		}
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	api := httpapi.New(httpapi.Deps{Store: store, Auth: authService, Clock: clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, httpapi.Config{})
	srv := &http.Server{Handler: api}
	go srv.Serve(ln)
	defer srv.Close()
	serverURL := "http://" + ln.Addr().String()
	token, err := benchdata.Login(serverURL, target)
	if err != nil {
		return err
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}

	dateFrom := base.Add(-366 * 24 * time.Hour)
	fmt.Printf("database: %s (%d messages; mailbox %d holds %d)\n", path, total, target.ExtensionID, mailbox)
	fmt.Printf("%d iterations per case, perPage=%d, cases interleaved\n\n", iterations, perPage)
	if profileTo != nil {
		if err := pprof.StartCPUProfile(profileTo); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	// The web UI pages by creation time (keyset: dateTo = the last instant
	// shown); the middle of the mailbox by that and by offset shows the
	// difference.
	middle := mailbox / 2 / perPage * perPage
	mid, err := store.ListMessages(ctx, switchboard.MessageFilter{AccountID: target.AccountID, ExtensionID: target.ExtensionID,
		Availability: []switchboard.Availability{switchboard.Alive}, DateFrom: dateFrom, DateTo: base, Offset: middle, Limit: 1})
	if err != nil || len(mid.Messages) == 0 {
		return fmt.Errorf("find the middle of the mailbox: %v", err)
	}
	keysetTo := mid.Messages[0].Created.Add(time.Millisecond)
	type listCase struct {
		name   string
		dateTo time.Time
		page   int
	}
	cases := []listCase{{"page 1", base, 1}, {"page 50", base, 50},
		{fmt.Sprintf("offset %d (page %d)", middle, middle/perPage+1), base, middle/perPage + 1},
		{fmt.Sprintf("keyset at message %d (dateTo)", middle), keysetTo, 1}}

	fmt.Println("| case | layer | p50 | p99 | mean |")
	fmt.Println("|---|---|---|---|---|")
	for _, c := range cases {
		page := c.page
		offset := (page - 1) * perPage
		f := switchboard.MessageFilter{AccountID: target.AccountID, ExtensionID: target.ExtensionID,
			Availability: []switchboard.Availability{switchboard.Alive}, DateFrom: dateFrom, DateTo: c.dateTo,
			Offset: offset, Limit: perPage}
		u := fmt.Sprintf("%s/restapi/v1.0/account/~/extension/~/message-store?dateFrom=%s&dateTo=%s&page=%d&perPage=%d",
			serverURL, url.QueryEscape(dateFrom.Format(time.RFC3339)), url.QueryEscape(c.dateTo.Format("2006-01-02T15:04:05.000Z07:00")), page, perPage)
		layers := []struct {
			name string
			fn   func() error
		}{
			{"raw SQL (list query, all columns scanned)", func() error { return rawQuery(raw, f) }},
			{"store.ListMessages (query + attachments + decode)", func() error {
				p, err := store.ListMessages(ctx, f)
				if err == nil && len(p.Messages) != perPage {
					err = fmt.Errorf("store returned %d messages", len(p.Messages))
				}
				return err
			}},
			{"HTTP API (auth, tenancy, JSON, loopback)", func() error { return httpList(client, u, token, perPage, verify) }},
		}
		samples := make([][]time.Duration, len(layers))
		for i := -iterations / 10; i < iterations; i++ { // the first tenth warms caches
			// Warm-up requests check the answer in full; measured ones only
			// read it, so the figure is the server's and not the client's JSON parser.
			verify = i < 0
			for l, layer := range layers {
				start := time.Now()
				if err := layer.fn(); err != nil {
					return fmt.Errorf("%s: %w", layer.name, err)
				}
				if i >= 0 {
					samples[l] = append(samples[l], time.Since(start))
				}
			}
		}
		for l, layer := range layers {
			p50, p99, mean := stats(samples[l])
			fmt.Printf("| %s | %s | %s | %s | %s |\n", c.name, layer.name, ms(p50), ms(p99), ms(mean))
		}
	}
	if !walk {
		return nil
	}
	f := switchboard.MessageFilter{AccountID: target.AccountID, ExtensionID: target.ExtensionID,
		Availability: []switchboard.Availability{switchboard.Alive}, DateFrom: dateFrom, DateTo: base, Limit: perPage}
	pageURL := func(page int) string {
		return fmt.Sprintf("%s/restapi/v1.0/account/~/extension/~/message-store?dateFrom=%s&dateTo=%s&page=%d&perPage=%d",
			serverURL, url.QueryEscape(dateFrom.Format(time.RFC3339)), url.QueryEscape(base.Format(time.RFC3339)), page, perPage)
	}
	return walkPages(client, raw, f, token, pageURL, mailbox, perPage, iterations)
}

// walkPages measures deep pages: a jump to page 1000 (or the middle of a
// smaller mailbox) without a walk, which the store answers by OFFSET; then
// every page in turn through navigation.nextPage, as the SDKs walk, which
// the store answers from the previous page's keyset position; then the
// first and the last page, interleaved, the last right after its
// predecessor. Every page served is compared with the raw OFFSET query's.
func walkPages(client *http.Client, raw *sql.DB, f switchboard.MessageFilter, token string, pageURL func(int) string, mailbox, perPage, iterations int) error {
	pages := (mailbox + perPage - 1) / perPage
	jump := min(1000, pages/2+1)
	check := func(page int, got []int64) error {
		g := f
		g.Offset = (page - 1) * perPage
		want, err := rawIDs(raw, g)
		if err != nil {
			return err
		}
		if !slices.Equal(got, want) {
			return fmt.Errorf("page %d differs from the OFFSET query: got %d ids %v…, want %d ids %v…", page, len(got), got[:min(3, len(got))], len(want), want[:min(3, len(want))])
		}
		return nil
	}
	get := func(u string) (ids []int64, next string, d time.Duration, err error) {
		start := time.Now()
		var body struct {
			Records []struct {
				ID int64 `json:"id"`
			} `json:"records"`
			Navigation struct {
				NextPage *struct {
					URI string `json:"uri"`
				} `json:"nextPage"`
			} `json:"navigation"`
		}
		if err := benchkit.GetJSON(client, u, token, &body); err != nil {
			return nil, "", 0, err
		}
		d = time.Since(start)
		for _, r := range body.Records {
			ids = append(ids, r.ID)
		}
		if body.Navigation.NextPage != nil {
			next = body.Navigation.NextPage.URI
		}
		return ids, next, d, nil
	}
	samples := func(page int, n int) ([]time.Duration, error) {
		var s []time.Duration
		for range n {
			ids, _, d, err := get(pageURL(page))
			if err != nil {
				return nil, err
			}
			if len(s) == 0 {
				if err := check(page, ids); err != nil {
					return nil, err
				}
			}
			s = append(s, d)
		}
		return s, nil
	}
	fmt.Printf("\nDeep pages: %d pages of %d (HTTP API, the client decodes every answer)\n\n", pages, perPage)
	fmt.Println("| case | p50 | p99 | requests |")
	fmt.Println("|---|---|---|---|")
	row := func(name string, s []time.Duration) {
		p50, p99, _ := stats(s)
		fmt.Printf("| %s | %s | %s | %d |\n", name, ms(p50), ms(p99), len(s))
	}
	n := max(iterations/5, 20)
	first, err := samples(1, n)
	if err != nil {
		return err
	}
	jumped, err := samples(jump, n)
	if err != nil {
		return err
	}
	row("page 1", first)
	row(fmt.Sprintf("page %d, jumped to (OFFSET %d)", jump, (jump-1)*perPage), jumped)

	var walkTimes []time.Duration
	u, page := pageURL(1), 1
	walkStart := time.Now()
	for ; u != ""; page++ {
		ids, next, d, err := get(u)
		if err != nil {
			return err
		}
		if walkCheck {
			if err := check(page, ids); err != nil {
				return fmt.Errorf("walk: %w", err)
			}
		}
		walkTimes = append(walkTimes, d)
		u = next
	}
	if page-1 != pages {
		return fmt.Errorf("the walk took %d pages, want %d", page-1, pages)
	}
	fmt.Fprintf(os.Stderr, "walked %d pages in %s (each checked against the OFFSET query: %v)\n", pages, time.Since(walkStart).Round(time.Second), walkCheck)
	k := min(20, pages/2)
	row(fmt.Sprintf("walk: first %d pages", k), slices.Clone(walkTimes[:k]))
	row(fmt.Sprintf("walk: last %d pages", k), slices.Clone(walkTimes[len(walkTimes)-k:]))
	row("walk: every page", slices.Clone(walkTimes))
	// The first and the last page, interleaved; the last page's
	// predecessor was served by the walk.
	var firstAgain, last []time.Duration
	for range n {
		s, err := samples(1, 1)
		if err != nil {
			return err
		}
		firstAgain = append(firstAgain, s...)
		if s, err = samples(pages, 1); err != nil {
			return err
		}
		last = append(last, s...)
	}
	row("page 1, after the walk", firstAgain)
	row(fmt.Sprintf("page %d (the last), after the walk", pages), last)
	p1, _, _ := stats(firstAgain)
	pl, _, _ := stats(last)
	fmt.Printf("\nlast page p50 ÷ first page p50: %.2f\n", float64(pl)/float64(p1))
	return nil
}

// rawIDs is the ids of the page of f by the raw list query with OFFSET.
func rawIDs(db *sql.DB, f switchboard.MessageFilter) ([]int64, error) {
	rows, err := db.Query(`SELECT id FROM messages
		WHERE account_id = $1 AND extension_id = $2 AND availability IN ('Alive')
		  AND created_at >= $3 AND created_at < $4
		ORDER BY created_at DESC, id DESC LIMIT $5 OFFSET $6`,
		f.AccountID, f.ExtensionID, f.DateFrom.UnixMilli(), f.DateTo.UnixMilli(), f.Limit, f.Offset)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// postgresDatabase returns the URL of the named database on the server,
// creating it when missing (created reports that).
func postgresDatabase(serverURL, name string) (dbURL string, created bool, err error) {
	admin, err := sql.Open("pgx", serverURL)
	if err != nil {
		return "", false, err
	}
	defer admin.Close()
	var exists bool
	if err := admin.QueryRow(`SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", false, err
	}
	if !exists {
		if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
			return "", false, err
		}
	}
	dbURL, err = benchkit.DatabaseURL(serverURL, name)
	return dbURL, !exists, err
}

func ms(d time.Duration) string { return benchkit.Millis(d, 3) }

func stats(s []time.Duration) (p50, p99, mean time.Duration) {
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	p50, p99 = benchkit.P50P99(s)
	return p50, p99, sum / time.Duration(len(s))
}

// rawQuery is the list query the store runs, without the store around it.
func rawQuery(db *sql.DB, f switchboard.MessageFilter) error {
	rows, err := db.Query(`SELECT id, account_id, extension_id, type, direction, availability, message_status,
		read_status, priority, subject, from_party, to_parties, conversation_id, created_at, modified_at,
		delivery_error_code, segment_count, sms_delivery_time, sms_sending_attempts, fax_page_count,
		fax_resolution, cover_index, cover_page_text, vm_transcription, pg_to_department
		FROM messages
		WHERE account_id = $1 AND extension_id = $2 AND availability IN ('Alive')
		  AND created_at >= $3 AND created_at < $4
		ORDER BY created_at DESC, id DESC LIMIT $5 OFFSET $6`,
		f.AccountID, f.ExtensionID, f.DateFrom.UnixMilli(), f.DateTo.UnixMilli(), f.Limit+1, f.Offset)
	if err != nil {
		return err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var (
			id, acc, ext, conv, created, modified, smsTime               int64
			typ, dir, avail, status, read, prio, subj, from, to, dec, fr string
			cpt, vm                                                      string
			seg, attempts, pages, cover, pg                              int
		)
		if err := rows.Scan(&id, &acc, &ext, &typ, &dir, &avail, &status, &read, &prio, &subj, &from, &to, &conv,
			&created, &modified, &dec, &seg, &smsTime, &attempts, &pages, &fr, &cover, &cpt, &vm, &pg); err != nil {
			return err
		}
		n++
	}
	if n != f.Limit+1 {
		return fmt.Errorf("raw query returned %d rows", n)
	}
	return rows.Err()
}

// verify makes httpList decode and count the records.
var verify bool

func httpList(client *http.Client, u, token string, perPage int, verify bool) error {
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if !verify {
		_, err := io.Copy(io.Discard, resp.Body)
		if err == nil && resp.StatusCode != 200 {
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		return err
	}
	var body struct {
		Records []json.RawMessage `json:"records"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 {
		return fmt.Errorf("status %d: %v", resp.StatusCode, err)
	}
	if len(body.Records) != perPage {
		return fmt.Errorf("API returned %d records", len(body.Records))
	}
	return nil
}
