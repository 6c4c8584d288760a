// Command retentionbench measures the retention worker at scale: in a
// database of -messages messages, one mailbox of (messages-mailbox)/8
// messages is deleted, time moves past the delete period, and the worker
// purges them (then, past the purge period, removes them) while a client
// lists another mailbox. It reports how long each run took and the list
// latency before and during it.
//
//	go run ./internal/bench/retentionbench -messages 1000000 -mailbox 200000
package main

import (
	"context"
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
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/auth"
	"github.com/switchboardhq/switchboard/internal/bench/benchdata"
	"github.com/switchboardhq/switchboard/internal/bench/benchkit"
	"github.com/switchboardhq/switchboard/internal/httpapi"
	"github.com/switchboardhq/switchboard/internal/retention"
	"github.com/switchboardhq/switchboard/internal/sqlstore"
)

func main() {
	total := flag.Int("messages", 1_000_000, "messages in the database")
	mailbox := flag.Int("mailbox", 200_000, "messages in the listed mailbox")
	samples := flag.Int("samples", 500, "list requests measured before each run")
	dataDir := flag.String("data", filepath.Join(os.TempDir(), "switchboard-retentionbench"), "where the seeded database is kept")
	flag.Parse()
	if err := run(*total, *mailbox, *samples, *dataDir); err != nil {
		log.Fatal(err)
	}
}

func run(total, mailbox, samples int, dataDir string) error {
	ctx := context.Background()
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return err
	}
	// Seed a pristine database once; every run works on a copy of it.
	pristine := filepath.Join(dataDir, fmt.Sprintf("pristine-%d-%d.db", total, mailbox))
	_, statErr := os.Stat(pristine)
	seedClock := switchboard.NewManualClock(func() time.Time { return benchdata.Base })
	store, err := sqlstore.OpenSQLite(ctx, pristine, seedClock, sqlstore.SQLiteOptions{Synchronous: "NORMAL"})
	if err != nil {
		return err
	}
	if _, err := benchdata.Seed(ctx, store, auth.NewService(store, seedClock, auth.Config{}), total, mailbox, os.IsNotExist(statErr)); err != nil {
		return err
	}
	if err := store.Compact(ctx); err != nil {
		return err
	}
	store.Close()
	work := filepath.Join(dataDir, "work.db")
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(work + suffix)
	}
	if err := copyFile(pristine, work); err != nil {
		return err
	}

	clock := switchboard.NewManualClock(func() time.Time { return benchdata.Base })
	if store, err = sqlstore.OpenSQLite(ctx, work, clock, sqlstore.SQLiteOptions{}); err != nil {
		return err
	}
	defer store.Close()
	authService := auth.NewService(store, clock, auth.Config{})
	target, err := benchdata.Seed(ctx, store, authService, total, mailbox, false)
	if err != nil {
		return err
	}
	doomed := target.Extensions[1]
	start := time.Now()
	due, err := store.DeleteMessages(ctx, switchboard.MessageDeleteFilter{AccountID: doomed.AccountID, ExtensionID: doomed.ID, DateTo: benchdata.Base})
	if err != nil {
		return err
	}
	fmt.Printf("database: %d messages (synchronous=FULL); deleted all %d messages of one mailbox in %s\n\n", total, due, time.Since(start).Round(time.Millisecond))

	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	policy := switchboard.DefaultRetention()
	policy.MailboxCap = 0 // the seeded mailboxes are larger than the default cap; measure purge and removal only
	worker := retention.NewWorker(store, clock, retention.Config{Defaults: policy}, logger)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: httpapi.New(httpapi.Deps{Store: store, Auth: authService, Clock: clock, Logger: logger}, httpapi.Config{Retention: policy})}
	go srv.Serve(ln)
	defer srv.Close()
	serverURL := "http://" + ln.Addr().String()

	fmt.Println("| run | work done | run time | list p50 before | list p99 before | list p50 during | list p99 during | lists during |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for _, phase := range []struct {
		name    string
		advance time.Duration
	}{
		{"purge (Deleted -> Purged, content erased)", policy.DeletePeriod + time.Second},
		{"remove (Purged records deleted)", policy.PurgePeriod + time.Second},
	} {
		clock.Advance(phase.advance)
		token, err := benchdata.Login(serverURL, target) // tokens expire as time moves
		if err != nil {
			return err
		}
		list := func() (time.Duration, error) { return listOnce(serverURL, token) }
		var before []time.Duration
		for range samples {
			d, err := list()
			if err != nil {
				return err
			}
			before = append(before, d)
		}
		type outcome struct {
			res switchboard.RetentionResult
			err error
			dur time.Duration
		}
		done := make(chan outcome, 1)
		go func() {
			start := time.Now()
			res, err := worker.RunOnce(ctx)
			done <- outcome{res, err, time.Since(start)}
		}()
		var during []time.Duration
		var out outcome
	loop:
		for {
			select {
			case out = <-done:
				break loop
			default:
			}
			d, err := list()
			if err != nil {
				return err
			}
			during = append(during, d)
		}
		if out.err != nil {
			return out.err
		}
		b50, b99 := benchkit.P50P99(before)
		d50, d99 := benchkit.P50P99(during)
		fmt.Printf("| %s | %d purged, %d removed | %s | %s | %s | %s | %s | %d |\n", phase.name, out.res.Purged, out.res.Removed,
			out.dur.Round(time.Millisecond), ms(b50), ms(b99), ms(d50), ms(d99), len(during))
	}
	return nil
}

func listOnce(serverURL, token string) (time.Duration, error) {
	u := serverURL + "/restapi/v1.0/account/~/extension/~/message-store?perPage=100&dateFrom=" +
		url.QueryEscape(benchdata.Base.Add(-366*24*time.Hour).Format(time.RFC3339))
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var body struct {
		Records []json.RawMessage `json:"records"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 || len(body.Records) != 100 {
		return 0, fmt.Errorf("list: status %d, %d records, %v", resp.StatusCode, len(body.Records), err)
	}
	return time.Since(start), nil
}

func ms(d time.Duration) string { return benchkit.Millis(d, 2) }

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
