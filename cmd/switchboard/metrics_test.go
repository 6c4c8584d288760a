package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// scrape reads /metrics into series ("name{labels}" as exposed) → value.
func scrape(t *testing.T, server string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(server + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// total adds the series of a metric whose labels contain every one of want
// (each written as name="value").
func total(series map[string]float64, name string, want ...string) float64 {
	sum := 0.0
	for k, v := range series {
		metric, labels, _ := strings.Cut(k, "{")
		if metric != name {
			continue
		}
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(labels, w)
		}
		if ok {
			sum += v
		}
	}
	return sum
}

// TestMetricsAndAccessLog drives real traffic through a server (an internal
// SMS with a WebHook subscriber, an SMS out through the carrier, a
// retention run) and checks that the series move and that the access log
// has one line per request without tokens or message text.
func TestMetricsAndAccessLog(t *testing.T) {
	demo, out, stop := runServer(t, t.TempDir())
	defer stop()
	alice, bob := demo.Extensions[0], demo.Extensions[1]
	aliceTok, bobTok := login(t, demo, alice.JWT), login(t, demo, bob.JWT)
	before := scrape(t, demo.Server)
	for _, name := range []string{"switchboard_outbox_deliveries", "switchboard_db_connections_open", "switchboard_build_info", "switchboard_webhook_lag_changes"} {
		if total(before, name) == 0 && name != "switchboard_outbox_deliveries" && name != "switchboard_webhook_lag_changes" {
			t.Errorf("%s missing before traffic", name)
		}
		if _, ok := firstSeries(before, name); !ok {
			t.Errorf("%s not exported", name)
		}
	}

	var hooks atomic.Int32
	subscribeWebHook(t, demo.Server, bobTok, func(json.Number) { hooks.Add(1) })
	const secret = "the secret text of this message"
	if status, b := post(t, demo.Server+"/restapi/v1.0/account/~/extension/~/sms", aliceTok, smsBody(alice.PhoneNumber, bob.PhoneNumber, secret)); status != 200 {
		t.Fatalf("internal sms: %d %s", status, b)
	}
	if status, b := post(t, demo.Server+"/restapi/v1.0/account/~/extension/~/sms", aliceTok, smsBody(alice.PhoneNumber, "+15005550006", secret)); status != 200 {
		t.Fatalf("external sms: %d %s", status, b)
	}
	if status, b := post(t, demo.Server+"/switchboard/v1/retention/run", demo.AdminToken, nil); status != 200 {
		t.Fatalf("retention run: %d %s", status, b)
	}
	get(t, demo.Server+"/restapi/v1.0/account/~/extension/~/message-store/123", aliceTok) // a 404

	var after map[string]float64
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		after = scrape(t, demo.Server)
		// The receiver sees a WebHook before the dispatcher counts it: wait
		// for the count, not only the call.
		if hooks.Load() > 0 && total(after, "switchboard_webhook_deliveries_total", `result="ok"`) > total(before, "switchboard_webhook_deliveries_total", `result="ok"`) &&
			total(after, "switchboard_delivery_attempts_total", `outcome="accepted"`) >= 1 &&
			// The worker counts an accepted submit's attempt, then its Sent:
			// wait for the second, which a scrape can fall between.
			total(after, "switchboard_message_status_transitions_total", `status="Sent"`) > total(before, "switchboard_message_status_transitions_total", `status="Sent"`) &&
			total(after, "switchboard_delivery_attempts_total", `outcome="internal"`) >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries did not show: hooks %d\n%v", hooks.Load(), after)
		}
	}
	moved := []struct {
		name   string
		labels []string
		by     float64
	}{
		{"switchboard_http_requests_total", []string{`route="POST /restapi/v1.0/account/{accountId}/extension/{extensionId}/sms"`, `status="200"`, `method="POST"`}, 2},
		{"switchboard_http_requests_total", []string{`route="GET /restapi/v1.0/account/{accountId}/extension/{extensionId}/message-store/{messageId}"`, `status="404"`}, 1},
		{"switchboard_http_request_duration_seconds_count", []string{`route="POST /restapi/oauth/token"`}, 0}, // logins came before the first scrape
		{"switchboard_messages_created_total", []string{`type="SMS"`, `direction="Outbound"`}, 2},
		{"switchboard_messages_created_total", []string{`type="SMS"`, `direction="Inbound"`}, 1},
		{"switchboard_message_status_transitions_total", []string{`status="Sent"`}, 1},
		{"switchboard_message_status_transitions_total", []string{`status="Delivered"`}, 1},
		{"switchboard_delivery_attempts_total", []string{`outcome="internal"`}, 1},
		{"switchboard_webhook_deliveries_total", []string{`result="ok"`}, 1},
		{"switchboard_retention_runs_total", []string{`result="ok"`}, 1},
	}
	for _, m := range moved {
		if d := total(after, m.name, m.labels...) - total(before, m.name, m.labels...); d < m.by || (m.by == 0 && total(after, m.name, m.labels...) == 0) {
			t.Errorf("%s%v moved by %v, want at least %v", m.name, m.labels, d, m.by)
		}
	}
	if _, ok := firstSeries(after, "switchboard_http_request_duration_seconds_bucket"); !ok {
		t.Error("no latency histogram")
	}
	ws := dialWS(t, demo, bobTok)
	if n := total(scrape(t, demo.Server), "switchboard_websocket_sessions"); n != 1 {
		t.Errorf("websocket sessions with one open: %v", n)
	}
	ws.c.CloseNow()
	for deadline := time.Now().Add(5 * time.Second); total(scrape(t, demo.Server), "switchboard_websocket_sessions") != 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the closed WebSocket is still counted")
		}
	}

	// The access log: one line per request with its route and extension,
	// never a token or the text. (The demo's banner on stdout shows its
	// credentials on purpose; only log lines are checked.)
	var lines []string
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(l, "time=") {
			lines = append(lines, l)
		}
	}
	log := strings.Join(lines, "\n")
	if !strings.Contains(log, `route="POST /restapi/v1.0/account/{accountId}/extension/{extensionId}/sms" method=POST status=200`) ||
		!strings.Contains(log, "extension_id="+alice.ID) {
		t.Errorf("no access log line for the send:\n%s", log)
	}
	for _, leak := range []string{aliceTok, bobTok, secret, alice.JWT, demo.ClientSecret} {
		if strings.Contains(log, leak) {
			t.Errorf("the log holds a secret or message text %q", leak)
		}
	}
	if strings.Contains(log, "route=\"GET /metrics\"") {
		t.Error("scrapes are logged at info level (they belong at debug)")
	}
}

func firstSeries(series map[string]float64, name string) (float64, bool) {
	for k, v := range series {
		if m, _, _ := strings.Cut(k, "{"); m == name {
			return v, true
		}
	}
	return 0, false
}
