package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
)

// BenchmarkSendSMS posts internal SMS from parallel clients over loopback
// while the delivery worker runs: the CPU cost of one send end to end.
//
//	go test ./internal/httpapi -run '^$' -bench SendSMS -cpu 2 -cpuprofile /tmp/send.prof
func BenchmarkSendSMS(b *testing.B) {
	e := newTestEnv(b)
	tok := e.token(e.bob)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go e.sender.Run(ctx)
	body, _ := json.Marshal(smsBody("+16505550102", "benchmark message", "+16505550101"))
	var n atomic.Int64
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("POST", e.srv.URL+"/restapi/v1.0/account/~/extension/~/sms", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil || resp.StatusCode != 200 {
				b.Error(err, resp.StatusCode)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			n.Add(1)
		}
	})
	b.ReportMetric(float64(n.Load())/b.Elapsed().Seconds(), "sends/s")
}
