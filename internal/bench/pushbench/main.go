// Command pushbench measures push notification latency: SMS from extension
// 101 to 102's number are sent through the HTTP API of the server binary
// (started with --demo on loopback in a fresh data directory) at a fixed
// rate, and 102 is subscribed twice to its instant SMS events: by WebHook
// (a receiver in this process) and over the WebSocket gateway (a client
// speaking RingCentral's protocol, as @rc-ex/ws does). For each message it
// records the time from the start of the send request to the arrival of
// its event at each transport.
//
// The baseline, measured in the same run on the same messages, is the send
// request's own latency (POST .../sms until its 200 answer): a notification
// can only be compared with the write that causes it.
//
//	go run ./internal/bench/pushbench -rate 100 -duration 10s
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/switchboardhq/switchboard/internal/bench/benchkit"

	"github.com/coder/websocket"
)

func main() {
	rate := flag.Int("rate", 100, "messages per second")
	duration := flag.Duration("duration", 10*time.Second, "how long to send")
	syncMode := flag.String("sync", "FULL", "SQLite synchronous mode of the server: FULL or NORMAL")
	flag.Parse()
	if err := run(*rate, *duration, strings.ToUpper(*syncMode)); err != nil {
		log.Fatal(err)
	}
}

// arrivals records when each message's event arrived, by message subject.
type arrivals struct {
	mu sync.Mutex
	at map[string]time.Time
}

func (a *arrivals) add(subject string, t time.Time) {
	a.mu.Lock()
	if _, ok := a.at[subject]; !ok {
		a.at[subject] = t
	}
	a.mu.Unlock()
}

func (a *arrivals) get(subject string) (time.Time, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	t, ok := a.at[subject]
	return t, ok
}

func (a *arrivals) len() int { a.mu.Lock(); defer a.mu.Unlock(); return len(a.at) }

type envelope struct {
	Body struct {
		Subject string `json:"subject"`
	} `json:"body"`
}

func run(rate int, duration time.Duration, mode string) error {
	tmp, err := os.MkdirTemp("", "switchboard-pushbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "switchboard")
	if err := benchkit.Build(bin); err != nil {
		return err
	}
	srv, demo, err := benchkit.Start(bin, filepath.Join(tmp, "data"), "--sqlite-sync", mode)
	if err != nil {
		return err
	}
	defer srv.Stop()
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	tok101, err := demo.Login(client, demo.Extensions[0].JWT)
	if err != nil {
		return err
	}
	tok102, err := demo.Login(client, demo.Extensions[1].JWT)
	if err != nil {
		return err
	}
	filter := "/restapi/v1.0/account/~/extension/~/message-store/instant?type=SMS"

	// The WebHook receiver.
	hooks := &arrivals{at: map[string]time.Time{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hookSrv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := time.Now()
		if v := r.Header.Get("Validation-Token"); v != "" {
			w.Header().Set("Validation-Token", v)
			return
		}
		var env envelope
		b, _ := io.ReadAll(r.Body)
		if json.Unmarshal(b, &env) == nil {
			hooks.add(env.Body.Subject, now)
		}
	})}
	go hookSrv.Serve(ln)
	defer hookSrv.Close()
	sub, _ := json.Marshal(map[string]any{"eventFilters": []string{filter},
		"deliveryMode": map[string]any{"transportType": "WebHook", "address": "http://" + ln.Addr().String() + "/hook"}})
	if status, body, err := benchkit.PostJSON(client, demo.Server+"/restapi/v1.0/subscription", tok102, sub); err != nil || status != 200 {
		return fmt.Errorf("webhook subscription: %d %s %v", status, body, err)
	}

	// The WebSocket client.
	sockets := &arrivals{at: map[string]time.Time{}}
	ws, err := dialWS(client, demo.Server, tok102, filter)
	if err != nil {
		return err
	}
	defer ws.CloseNow()
	go func() {
		for {
			_, data, err := ws.Read(context.Background())
			if err != nil {
				return
			}
			now := time.Now()
			var frame []json.RawMessage
			var meta struct {
				Type string `json:"type"`
			}
			if json.Unmarshal(data, &frame) != nil || len(frame) < 2 || json.Unmarshal(frame[0], &meta) != nil || meta.Type != "ServerNotification" {
				continue
			}
			var env envelope
			if json.Unmarshal(frame[1], &env) == nil {
				sockets.add(env.Body.Subject, now)
			}
		}
	}()

	// Send at the fixed rate, each send in its own goroutine so a slow
	// answer does not delay the schedule.
	n := int(duration.Seconds() * float64(rate))
	sent := make([]time.Time, n)
	acked := make([]time.Duration, n)
	subjects := make([]string, n)
	var wg sync.WaitGroup
	var sendErr error
	var errMu sync.Mutex
	start := time.Now()
	interval := time.Second / time.Duration(rate)
	for i := range n {
		time.Sleep(time.Until(start.Add(time.Duration(i) * interval)))
		subjects[i] = fmt.Sprintf("push-bench %d", i)
		body := benchkit.SMSBody(demo.Extensions[0].PhoneNumber, demo.Extensions[1].PhoneNumber, subjects[i])
		wg.Add(1)
		go func() {
			defer wg.Done()
			sent[i] = time.Now()
			status, b, err := benchkit.PostJSON(client, demo.Server+"/restapi/v1.0/account/~/extension/~/sms", tok101, body)
			acked[i] = time.Since(sent[i])
			if err != nil || status != 200 {
				errMu.Lock()
				sendErr = fmt.Errorf("send %d: %d %s %v", i, status, b, err)
				errMu.Unlock()
			}
		}()
	}
	wg.Wait()
	if sendErr != nil {
		return sendErr
	}
	sendTime := time.Since(start)
	for deadline := time.Now().Add(60 * time.Second); hooks.len() < n || sockets.len() < n; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			return fmt.Errorf("after 60 s: %d webhook and %d websocket events of %d", hooks.len(), sockets.len(), n)
		}
	}
	var hookLat, wsLat []time.Duration
	for i, s := range subjects {
		h, _ := hooks.get(s)
		w, _ := sockets.get(s)
		hookLat = append(hookLat, h.Sub(sent[i]))
		wsLat = append(wsLat, w.Sub(sent[i]))
	}
	fmt.Printf("%d SMS at %d/s (sent in %v), server --sqlite-sync %s, every event received by both transports\n\n", n, rate, sendTime.Round(time.Millisecond), mode)
	fmt.Println("| measured from the start of the send | p50 | p99 | max | p50 ÷ send answer |")
	fmt.Println("|---|---|---|---|---|")
	base := pct(acked, 50)
	for _, r := range []struct {
		name string
		d    []time.Duration
	}{{"send answered (baseline)", acked}, {"WebHook event arrived", hookLat}, {"WebSocket event arrived", wsLat}} {
		fmt.Printf("| %s | %s | %s | %s | %.1f |\n", r.name, ms(pct(r.d, 50)), ms(pct(r.d, 99)), ms(pct(r.d, 100)), float64(pct(r.d, 50))/float64(base))
	}
	return nil
}

// pct is the nearest-rank percentile (p=100 is the maximum), unlike
// benchkit.P50P99's index n*p/100: the figures in docs/performance.md were
// made with it.
func pct(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	i := (len(s)*p+99)/100 - 1
	return s[max(0, min(i, len(s)-1))]
}

func ms(d time.Duration) string { return benchkit.Millis(d, 1) }

// dialWS opens the notification WebSocket as @rc-ex/ws does and creates
// the subscription over it.
func dialWS(client *http.Client, server, token, filter string) (*websocket.Conn, error) {
	status, b, err := benchkit.PostJSON(client, server+"/restapi/oauth/wstoken", token, nil)
	if err != nil || status != 200 {
		return nil, fmt.Errorf("wstoken: %d %s %v", status, b, err)
	}
	var tok struct {
		URI   string `json:"uri"`
		Token string `json:"ws_access_token"`
	}
	if err := json.Unmarshal(b, &tok); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, tok.URI+"?access_token="+url.QueryEscape(tok.Token), nil)
	if err != nil {
		return nil, err
	}
	if _, _, err := c.Read(ctx); err != nil { // ConnectionDetails
		return nil, err
	}
	req, _ := json.Marshal([]any{map[string]any{"type": "ClientRequest", "messageId": "bench-1", "method": "POST", "path": "/restapi/v1.0/subscription"},
		map[string]any{"deliveryMode": map[string]any{"transportType": "WebSocket"}, "eventFilters": []string{filter}}})
	if err := c.Write(ctx, websocket.MessageText, req); err != nil {
		return nil, err
	}
	_, reply, err := c.Read(ctx)
	if err != nil {
		return nil, err
	}
	if !strings.Contains(string(reply), `"status":200`) {
		return nil, fmt.Errorf("websocket subscription: %s", reply)
	}
	return c, nil
}
