package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/carrier/smpp/smsctest"
)

const outside = "+14155550123"

// awaitStatus waits until the message's messageStatus is want and returns
// the record.
func awaitStatus(t *testing.T, d demoInfo, token, id, want string) map[string]any {
	t.Helper()
	var m map[string]any
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var status int
		status, m = get(t, d.Server+"/restapi/v1.0/account/~/extension/~/message-store/"+id, token)
		if status == 200 && m["messageStatus"] == want {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("message %s: %d %v, want messageStatus %s", id, status, m, want)
		}
	}
}

// inboundSMS lists the extension's inbound SMS from a number.
func inboundSMS(t *testing.T, d demoInfo, token, from string) []map[string]any {
	t.Helper()
	status, page := get(t, d.Server+"/restapi/v1.0/account/~/extension/~/message-store?direction=Inbound&messageType=SMS&phoneNumber="+url.QueryEscape(from), token)
	if status != 200 {
		t.Fatalf("list: %d %v", status, page)
	}
	var out []map[string]any
	for _, r := range page["records"].([]any) {
		out = append(out, r.(map[string]any))
	}
	return out
}

// TestServeSMPP runs the server with --carrier pointing at the test SMSC
// (Net::SMPP) and checks, through the API, what a user sees: sends
// Delivered or DeliveryFailed by the SMSC's receipts, long texts in the
// parts segmentCount says, mobile-originated SMS in the right mailbox.
func TestServeSMPP(t *testing.T) {
	smsc := smsctest.Start(t, "--fail-dest", "1415666")
	d, out, stop := runServer(t, t.TempDir(), "--carrier", smsc.URL("window=5&enquire_link=5s"))
	defer stop()
	me := d.Extensions[0]
	token := login(t, d, me.JWT)

	t.Run("delivered", func(t *testing.T) {
		id := sendSMS(t, d.Server, token, me.PhoneNumber, outside, "Hello from Switchboard")
		m := awaitStatus(t, d, token, id, "Delivered")
		got := smsc.Wait("message", 1, 5*time.Second)[0]
		if got.Str("text") != "Hello from Switchboard" || "+"+got.Str("src") != me.PhoneNumber || "+"+got.Str("dst") != outside {
			t.Fatalf("the SMSC got %v", got)
		}
		if m["smsDeliveryTime"] == nil {
			t.Fatalf("no smsDeliveryTime: %v", m)
		}
	})

	t.Run("delivery failed", func(t *testing.T) {
		id := sendSMS(t, d.Server, token, me.PhoneNumber, "+14156660001", "This one fails")
		m := awaitStatus(t, d, token, id, "DeliveryFailed")
		if m["deliveryErrorCode"] != "SMS-CAR-411" {
			t.Fatalf("deliveryErrorCode %v", m["deliveryErrorCode"])
		}
	})

	t.Run("long UCS-2 text in parts", func(t *testing.T) {
		text := strings.Repeat("Привет из Switchboard! ", 8)
		n := len(smsc.Events("message"))
		id := sendSMS(t, d.Server, token, me.PhoneNumber, outside, text)
		m := awaitStatus(t, d, token, id, "Delivered")
		got := smsc.Wait("message", n+1, 5*time.Second)[n]
		if got.Str("text") != text || got.Str("data_coding") != "8" || got.Str("parts") != fmt.Sprint(m["segmentCount"]) {
			t.Fatalf("the SMSC got %v; segmentCount %v", got, m["segmentCount"])
		}
	})

	t.Run("inbound", func(t *testing.T) {
		sender := "+14155550999"
		smsc.MO(sender, me.PhoneNumber, 7, "Hi there, Switchboard", 1)
		smsc.MO(sender, me.PhoneNumber, 7, "Hi there, Switchboard", 1) // redelivered
		long := strings.Repeat("A long reply from a phone. ", 12)
		smsc.MO(sender, me.PhoneNumber, 8, long, 3)
		ucs2 := "Привет 👋 from a phone"
		smsc.MO(sender, me.PhoneNumber, 9, ucs2, 1)
		smsc.Wait("mo_acked", 6, 10*time.Second)
		var got []map[string]any
		for deadline := time.Now().Add(10 * time.Second); len(got) < 3 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			got = inboundSMS(t, d, token, sender)
		}
		if len(got) != 3 {
			t.Fatalf("inbound SMS from %s: %v, want 3 (a redelivery is stored once)", sender, got)
		}
		texts := map[string]bool{}
		for _, m := range got {
			texts[m["subject"].(string)] = true
			if m["to"].([]any)[0].(map[string]any)["phoneNumber"] != me.PhoneNumber {
				t.Fatalf("inbound to %v", m["to"])
			}
		}
		if !texts["Hi there, Switchboard"] || !texts[long] || !texts[ucs2] {
			t.Fatalf("inbound texts %v", texts)
		}
		// Another extension does not see them.
		other := login(t, d, d.Extensions[1].JWT)
		if n := len(inboundSMS(t, d, other, sender)); n != 0 {
			t.Fatalf("another extension sees %d of them", n)
		}
	})

	t.Run("inbound to an unknown number", func(t *testing.T) {
		n := len(smsc.Events("mo_acked"))
		smsc.MO("+14155550999", "+19995550000", 9, "Anyone there?", 1)
		acked := smsc.Wait("mo_acked", n+1, 10*time.Second)[n]
		if acked.Str("status") != "0" {
			t.Fatalf("deliver_sm_resp %v: want acknowledged", acked)
		}
		for deadline := time.Now().Add(5 * time.Second); !strings.Contains(out.String(), "+19995550000"); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the refusal is not logged:\n%s", out.String())
			}
		}
	})

	t.Run("health reports the bind", func(t *testing.T) {
		status, h := get(t, d.Server+"/switchboard/v1/health", "")
		c, _ := h["carrier"].(map[string]any)
		if status != 200 || c["state"] != "bound" || c["smsc"] != smsc.Addr() {
			t.Fatalf("health %d %v", status, h)
		}
	})

	t.Run("metrics count the carrier's events", func(t *testing.T) {
		resp, err := http.Get(d.Server + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		for _, event := range []string{"submit_accepted", "receipt_delivered", "receipt_failed", "inbound_received", "inbound_refused"} {
			if !strings.Contains(string(body), `switchboard_carrier_events_total{event="`+event+`"}`) {
				t.Errorf("/metrics has no %s count", event)
			}
		}
	})

	if strings.Contains(out.String(), smsc.Password) {
		t.Fatalf("the log shows the SMSC password:\n%s", out.String())
	}
}

// TestServeSMPPRestart: the SMSC dies mid-stream (right after answering
// the 5th submit_sm, with more in flight) and comes back; sends made
// meanwhile wait in the outbox. Every message is then Delivered, and the
// SMSC received each exactly once.
func TestServeSMPPRestart(t *testing.T) {
	smsc := smsctest.Start(t, "--exit-after", "5")
	d, _, stop := runServer(t, t.TempDir(), "--carrier", smsc.URL("window=10&reconnect_min=100ms&reconnect_max=500ms"))
	defer stop()
	me := d.Extensions[0]
	token := login(t, d, me.JWT)

	texts := map[string]string{} // id -> text
	for i := range 20 {
		text := fmt.Sprintf("message %d before the crash", i)
		texts[sendSMS(t, d.Server, token, me.PhoneNumber, outside, text)] = text
	}
	select {
	case <-smsc.Exited():
	case <-time.After(20 * time.Second):
		t.Fatal("the SMSC did not exit after 5 messages")
	}
	for i := range 5 {
		text := fmt.Sprintf("message %d while the SMSC is down", i)
		texts[sendSMS(t, d.Server, token, me.PhoneNumber, outside, text)] = text
	}
	smsc.Restart()
	for id := range texts {
		awaitStatus(t, d, token, id, "Delivered")
	}
	seen := map[string]int{}
	retried := 0 // sent before the crash, accepted by the restarted SMSC
	crashed := false
	for _, e := range smsc.Events("") {
		crashed = crashed || e.Str("event") == "exiting"
		if crashed && e.Str("event") == "submit" && strings.HasSuffix(e.Str("text"), "before the crash") {
			retried++
		}
	}
	if retried != 15 {
		t.Errorf("%d messages sent before the crash went to the restarted SMSC, want 15", retried)
	}
	// Every text is one part: each submit_sm the SMSC accepted is a message
	// (the last one before the crash was answered but never announced).
	for _, m := range smsc.Events("submit") {
		seen[m.Str("text")]++
	}
	for _, text := range texts {
		if seen[text] != 1 {
			t.Errorf("the SMSC received %q %d times, want once", text, seen[text])
		}
	}
	if len(seen) != len(texts) {
		t.Errorf("the SMSC received %d texts, want %d", len(seen), len(texts))
	}
}

// TestServeSMPPKilled: the SMSC is killed (SIGKILL) in the middle of a
// stream of sends and started again. Nothing acknowledged is lost: every
// message ends Delivered. A kill can destroy answers already written (the
// connection is reset), so an SMSC may see a message twice — the one
// window SMPP leaves open — but never more often than the window allows.
func TestServeSMPPKilled(t *testing.T) {
	smsc := smsctest.Start(t)
	d, _, stop := runServer(t, t.TempDir(), "--carrier", smsc.URL("window=4&reconnect_min=100ms&reconnect_max=500ms"))
	defer stop()
	me := d.Extensions[0]
	token := login(t, d, me.JWT)

	texts := map[string]string{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		smsc.Wait("submit", 5, 20*time.Second)
		smsc.Kill()
	}()
	for i := range 30 {
		text := fmt.Sprintf("message %d of a stream", i)
		texts[sendSMS(t, d.Server, token, me.PhoneNumber, outside, text)] = text
		time.Sleep(5 * time.Millisecond)
	}
	<-done
	smsc.Restart()
	for id := range texts {
		awaitStatus(t, d, token, id, "Delivered")
	}
	seen := map[string]int{}
	for _, m := range smsc.Events("submit") {
		seen[m.Str("text")]++
	}
	dups := 0
	for _, text := range texts {
		if seen[text] == 0 {
			t.Errorf("the SMSC never received %q", text)
		}
		dups += seen[text] - 1
	}
	if dups > 4 {
		t.Errorf("%d messages sent twice, more than the window (4) held in flight", dups)
	}
	t.Logf("%d messages, %d sent twice across the kill", len(texts), dups)
}

// TestServeSMPPThrottledAndRefused: ESME_RTHROTTLED is retried with the
// outbox backoff until the SMSC takes the message; a destination the SMSC
// refuses for good is SendingFailed with the upstream error code.
func TestServeSMPPThrottledAndRefused(t *testing.T) {
	smsc := smsctest.Start(t, "--throttle", "2", "--reject-dest", "1415777")
	d, _, stop := runServer(t, t.TempDir(), "--carrier", smsc.URL(""))
	defer stop()
	me := d.Extensions[0]
	token := login(t, d, me.JWT)

	ok := sendSMS(t, d.Server, token, me.PhoneNumber, outside, "Throttled, then sent")
	smsc.Wait("throttled", 1, 5*time.Second)
	refused := sendSMS(t, d.Server, token, me.PhoneNumber, "+14157770000", "Refused for good")
	m := awaitStatus(t, d, token, ok, "Delivered")
	if n := len(smsc.Events("throttled")); n != 2 || fmt.Sprint(m["smsSendingAttemptsCount"]) == "1" {
		t.Fatalf("%d throttled submits, smsSendingAttemptsCount %v: want 2 and more than one attempt", n, m["smsSendingAttemptsCount"])
	}
	if r := awaitStatus(t, d, token, refused, "SendingFailed"); r["deliveryErrorCode"] != "SMS-UP-410" {
		t.Fatalf("refused: deliveryErrorCode %v", r["deliveryErrorCode"])
	}
}
