package httpapi_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/switchboardhq/switchboard"
)

// BenchmarkMessageWrites runs the message store's single-message writes
// from 8 parallel clients over loopback: inbound SMS (admin API), mark read
// (PUT readStatus) and delete (DELETE), one message per request. It is the
// in-process form of internal/bench/mailpitbench, for profiles:
//
//	go test ./internal/httpapi -run '^$' -bench MessageWrites -benchtime 5000x -cpuprofile /tmp/writes.prof
func BenchmarkMessageWrites(b *testing.B) {
	e := newTestEnv(b)
	tok := e.token(e.bob)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	do := func(method, path, token string, body []byte) error {
		req, _ := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
		}
		return nil
	}
	store := "/restapi/v1.0/account/~/extension/~/message-store/"
	var ids []int64
	var next atomic.Int64
	run := func(b *testing.B, fn func(i int) error) {
		next.Store(0)
		b.SetParallelism(4) // 8 clients on 2 cores
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := fn(int(next.Add(1) - 1)); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "requests/s")
	}
	b.Run("inbound SMS", func(b *testing.B) {
		run(b, func(i int) error {
			return do("POST", "/switchboard/v1/inbound/sms", e.adminToken,
				[]byte(`{"from":"+14155550123","to":"+16505550102","text":"message `+strconv.Itoa(i)+`"}`))
		})
	})
	page, err := e.store.ListMessages(b.Context(), switchboard.MessageFilter{AccountID: e.acc1.ID, ExtensionID: e.bob.ID})
	if err != nil {
		b.Fatal(err)
	}
	for _, m := range page.Messages {
		ids = append(ids, m.ID)
	}
	id := func(i int) string { return strconv.FormatInt(ids[i%len(ids)], 10) }
	b.Run("mark read", func(b *testing.B) {
		run(b, func(i int) error {
			status := "Read"
			if i/len(ids)%2 == 1 {
				status = "Unread" // each pass changes every message
			}
			return do("PUT", store+id(i), tok, []byte(`{"readStatus":"`+status+`"}`))
		})
	})
	b.Run("delete", func(b *testing.B) {
		run(b, func(i int) error { return do("DELETE", store+id(i), tok, nil) })
	})
}
