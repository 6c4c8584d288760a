package main

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestCrashDuringA2PBatch kills the server (SIGKILL) while it works
// through a high-volume batch, restarts it on the same data directory and
// checks that the batch completes with every recipient sent exactly once:
// one message per requested recipient (none lost, none twice, each with
// its own text), all sent, and exactly one inbound copy for each message
// to a number of this server.
func TestCrashDuringA2PBatch(t *testing.T) {
	ctx := processTestContext(t, 4*time.Minute)
	bin := buildBinary(t, ctx)
	dir := t.TempDir()
	srv := startProcess(t, bin, dir)
	demo := srv.demo
	alice, bob := demo.Extensions[0], demo.Extensions[1]
	tokA := login(t, demo, alice.JWT)
	client := &http.Client{Timeout: 30 * time.Second}

	const n, internalEvery = 5_000, 50
	run := strings.ToLower(rand.Text()[:8])
	want := map[string]string{} // text → recipient
	type item struct {
		To   []string `json:"to"`
		Text string   `json:"text"`
	}
	items := make([]item, n)
	for i := range items {
		to := fmt.Sprintf("+1555%07d", i)
		if i%internalEvery == 0 {
			to = bob.PhoneNumber
		}
		items[i] = item{To: []string{to}, Text: fmt.Sprintf("a2p-%s-%d", run, i)}
		want[items[i].Text] = to
	}
	body, _ := json.Marshal(map[string]any{"from": alice.PhoneNumber, "text": "unused", "messages": items})
	status, b := call(t, client, "POST", demo.Server+"/restapi/v1.0/account/~/a2p-sms/batches", tokA, body)
	var batch struct {
		ID        string `json:"id"`
		BatchSize int    `json:"batchSize"`
	}
	if status != http.StatusCreated || json.Unmarshal(b, &batch) != nil || batch.BatchSize != n {
		t.Fatalf("create batch: %d %s", status, b)
	}
	batchURL := demo.Server + "/restapi/v1.0/account/~/a2p-sms/batches/" + batch.ID

	// SIGKILL once part of the batch is processed. (Generous deadlines:
	// the machines this runs on may be busy.)
	var before float64
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
		_, m := get(t, batchURL, tokA)
		before, _ = m["processedCount"].(float64)
		if before >= n/20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("batch not processing after 2 min: %v\n%s", m, srv.log.String())
		}
	}
	srv.kill(t)
	if before >= n {
		t.Fatalf("the whole batch was processed before the kill (%v): nothing left to resume", before)
	}

	srv2 := startProcess(t, bin, dir)
	defer srv2.stop(t)
	demo2 := srv2.demo
	tokA, tokB := login(t, demo2, alice.JWT), login(t, demo2, bob.JWT)
	batchURL = demo2.Server + "/restapi/v1.0/account/~/a2p-sms/batches/" + batch.ID
	// The killed node's leases (the batch's and its claimed deliveries')
	// run 30 s; move the emulator's clock past them rather than wait.
	advanceClock(t, client, demo2, 31)
	var after map[string]any
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		_, after = get(t, batchURL, tokA)
		if after["status"] == "Completed" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("batch not Completed 3 min after the restart: %v\n%s", after, srv2.log.String())
		}
	}
	t.Logf("killed with %.0f of %d processed; Completed after the restart: %v", before, n, after)

	// Every recipient has exactly one message, with its text, sent.
	seen := map[string]bool{}
	statuses := map[string]int{}
	q := url.Values{"batchId": {batch.ID}, "view": {"Detailed"}, "perPage": {"1000"}}
	for page := 0; ; page++ {
		var list struct {
			Records []struct {
				To            []string `json:"to"`
				Text          string   `json:"text"`
				MessageStatus string   `json:"messageStatus"`
			} `json:"records"`
			Paging struct {
				NextPageToken string `json:"nextPageToken"`
			} `json:"paging"`
		}
		status, b := call(t, client, "GET", demo2.Server+"/restapi/v1.0/account/~/a2p-sms/messages?"+q.Encode(), tokA, nil)
		if status != 200 || json.Unmarshal(b, &list) != nil {
			t.Fatalf("list messages: %d %s", status, b)
		}
		for _, r := range list.Records {
			if seen[r.Text] {
				t.Errorf("message %q stored twice", r.Text)
			}
			seen[r.Text] = true
			if to, ok := want[r.Text]; !ok || len(r.To) != 1 || r.To[0] != to {
				t.Errorf("message %q to %v, want %q", r.Text, r.To, to)
			}
			statuses[r.MessageStatus]++
		}
		if list.Paging.NextPageToken == "" {
			break
		}
		q.Set("pageToken", list.Paging.NextPageToken)
	}
	if len(seen) != n {
		t.Errorf("%d messages for %d recipients", len(seen), n)
	}
	if statuses["Queued"]+statuses["SendingFailed"]+statuses["DeliveryFailed"] > 0 {
		t.Errorf("statuses %v: every message should be sent", statuses)
	}
	// One inbound copy per internal message.
	copies := map[string]int{}
	inURL := demo2.Server + "/restapi/v1.0/account/~/extension/~/message-store?direction=Inbound&perPage=1000&phoneNumber=" + url.QueryEscape(alice.PhoneNumber)
	for page := 1; ; page++ {
		var list struct {
			Records []struct {
				Subject string `json:"subject"`
			} `json:"records"`
			Navigation struct {
				NextPage *struct{} `json:"nextPage"`
			} `json:"navigation"`
		}
		status, b := call(t, client, "GET", fmt.Sprintf("%s&page=%d", inURL, page), tokB, nil)
		if status != 200 || json.Unmarshal(b, &list) != nil {
			t.Fatalf("bob's inbox: %d %s", status, b)
		}
		for _, r := range list.Records {
			if strings.HasPrefix(r.Subject, "a2p-"+run+"-") {
				copies[r.Subject]++
			}
		}
		if list.Navigation.NextPage == nil {
			break
		}
	}
	for text, c := range copies {
		if c != 1 || want[text] != bob.PhoneNumber {
			t.Errorf("%q: %d copies in 102's mailbox", text, c)
		}
	}
	if len(copies) != n/internalEvery {
		t.Errorf("%d internal messages arrived, want %d", len(copies), n/internalEvery)
	}
	t.Logf("%d messages, statuses %v, %d inbound copies in 102's mailbox", len(seen), statuses, len(copies))
}
