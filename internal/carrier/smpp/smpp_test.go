package smpp_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/carrier"
	"github.com/switchboardhq/switchboard/internal/carrier/smpp"
	"github.com/switchboardhq/switchboard/internal/carrier/smpp/smsctest"
	"github.com/switchboardhq/switchboard/internal/config"
)

const (
	from = "+16505550101"
	to   = "+14155550123"
)

// start runs the carrier against smsc with the given URL options until the
// test ends.
func start(t *testing.T, smsc *smsctest.SMSC, options string) *smpp.Carrier {
	t.Helper()
	cfg, err := config.ParseCarrier(smsc.URL(options))
	if err != nil {
		t.Fatal(err)
	}
	c := smpp.New(*cfg, switchboard.SystemClock{}, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); c.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return c
}

func waitState(t *testing.T, c *smpp.Carrier, state string) smpp.Status {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if s := c.Status(); s.State == state {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("carrier state %+v, want %s", c.Status(), state)
		}
	}
}

func sms(id int64, recipient, text string) carrier.Submission {
	return carrier.Submission{MessageID: id, Recipient: recipient, From: from, Type: switchboard.TypeSMS, Text: text}
}

// receipts polls the carrier until it holds n receipts.
func receipts(t *testing.T, c *smpp.Carrier, n int) []carrier.Receipt {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		rs, err := c.Receipts(context.Background(), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) >= n {
			return rs
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d receipts, want %d: %+v", len(rs), n, rs)
		}
	}
}

func TestBind(t *testing.T) {
	smsc := smsctest.Start(t)
	for _, tc := range []struct {
		name, password, state, err string
	}{
		{"good credentials", smsc.Password, smpp.StateBound, ""},
		{"bad password", "wrong", smpp.StateDown, "check system_id and password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _ := config.ParseCarrier(smsc.URL("system_type=VMA&reconnect_min=5s&reconnect_max=5s"))
			cfg.Password = tc.password
			c := smpp.New(*cfg, switchboard.SystemClock{}, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { defer close(done); c.Run(ctx) }()
			defer func() { cancel(); <-done }()
			st := waitState(t, c, tc.state)
			if !strings.Contains(st.LastError, tc.err) || strings.Contains(st.LastError, tc.password) && tc.err != "" {
				t.Fatalf("last error %q, want %q without the password", st.LastError, tc.err)
			}
			var binds []smsctest.Event
			for _, e := range smsc.Events("bind") {
				if e.Str("ok") == map[bool]string{true: "true", false: "false"}[tc.err == ""] {
					binds = append(binds, e)
				}
			}
			if len(binds) == 0 || binds[0].Str("system_id") != "switchboard" || binds[0].Str("system_type") != "VMA" || binds[0].Str("mode") != "transceiver" {
				t.Fatalf("binds the SMSC saw: %v", smsc.Events("bind"))
			}
			if tc.err != "" {
				_, err := c.Submit(ctx, sms(1, to, "hi"))
				if !errors.Is(err, carrier.ErrTemporary) {
					t.Fatalf("Submit while not bound: %v, want a temporary error", err)
				}
			}
		})
	}
}

// TestSubmit: what the SMSC receives, decoded by Net::SMPP, is the text
// with the right addresses and coding, in the parts segmentCount counts.
func TestSubmit(t *testing.T) {
	smsc := smsctest.Start(t)
	c := start(t, smsc, "")
	waitState(t, c, smpp.StateBound)
	long := strings.Repeat("Switchboard sends long texts in parts. ", 10) // 390 GSM characters
	longUCS2 := strings.Repeat("Привет из Switchboard! ", 5)              // 115 UCS-2 units
	tests := []struct {
		name, text string
		coding     string
	}{
		{"GSM", "Hello from Switchboard, 2 + 2 = 4?", "0"},
		{"UCS-2", "Grüße 👋 привет", "8"},
		{"long GSM", long, "0"},
		{"long UCS-2", longUCS2, "8"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := int64(100 + i)
			n := len(smsc.Events("message"))
			res, err := c.Submit(context.Background(), sms(id, to, tt.text))
			if err != nil || !res.Accepted || res.CarrierID == "" {
				t.Fatalf("Submit = %+v, %v", res, err)
			}
			m := smsc.Wait("message", n+1, 5*time.Second)[n]
			parts := switchboard.SMSSegments(tt.text)
			if m.Str("text") != tt.text || m.Str("src") != "16505550101" || m.Str("dst") != "14155550123" ||
				m.Str("data_coding") != tt.coding || m.Str("parts") != strconv.Itoa(parts) {
				t.Fatalf("the SMSC got %v; want %q in %d parts, coding %s", m, tt.text, parts, tt.coding)
			}
			if ids := m["ids"].([]any); ids[0] != res.CarrierID {
				t.Fatalf("CarrierID %s, the SMSC's ids %v", res.CarrierID, ids)
			}
			var refs []string
			for _, s := range smsc.Events("submit") {
				if s.Str("dst") == "14155550123" && strings.Contains(tt.text, s.Str("text")) && s.Str("parts") == strconv.Itoa(parts) {
					if s.Str("registered_delivery") != "1" || s.Str("src_ton") != "1" || s.Str("dst_ton") != "1" {
						t.Fatalf("submit_sm %v: want registered_delivery 1, international numbers", s)
					}
					refs = append(refs, s.Str("ref"))
				}
			}
			for _, r := range refs[1:] {
				if r != refs[0] {
					t.Fatalf("parts of one message with references %v", refs)
				}
			}
			// The receipt comes once every part is delivered.
			rs := receipts(t, c, 1)
			if len(rs) != 1 || rs[0].MessageID != id || rs[0].Recipient != to || !rs[0].Delivered || rs[0].CarrierID != res.CarrierID {
				t.Fatalf("receipts %+v", rs)
			}
			acked := len(smsc.Events("receipt_acked"))
			if err := c.Ack(context.Background(), rs[0]); err != nil {
				t.Fatal(err)
			}
			smsc.Wait("receipt_acked", acked+1, 5*time.Second)
			if rs, _ := c.Receipts(context.Background(), time.Now()); len(rs) != 0 {
				t.Fatalf("receipts after Ack: %+v", rs)
			}
		})
	}

	t.Run("a repeated submit is not sent again", func(t *testing.T) {
		n := len(smsc.Events("submit"))
		first, err := c.Submit(context.Background(), sms(200, to, "once"))
		if err != nil {
			t.Fatal(err)
		}
		again, err := c.Submit(context.Background(), sms(200, to, "once"))
		if err != nil || again != first {
			t.Fatalf("second Submit = %+v, %v; want %+v", again, err, first)
		}
		time.Sleep(200 * time.Millisecond)
		if got := len(smsc.Events("submit")) - n; got != 1 {
			t.Fatalf("the SMSC got %d submit_sm, want 1", got)
		}
	})
}

// TestPayload: with payload=true a long text goes as one submit_sm with
// message_payload.
func TestPayload(t *testing.T) {
	smsc := smsctest.Start(t)
	c := start(t, smsc, "payload=true")
	waitState(t, c, smpp.StateBound)
	text := strings.Repeat("0123456789", 20) // 2 segments, 200 octets: still fits short_message, but payload=true means the TLV
	if res, err := c.Submit(context.Background(), sms(1, to, text)); err != nil || !res.Accepted {
		t.Fatalf("Submit = %+v, %v", res, err)
	}
	m := smsc.Wait("message", 1, 5*time.Second)[0]
	s := smsc.Events("submit")
	if m.Str("text") != text || m.Str("parts") != "1" || len(s) != 1 || s[0].Str("payload") != "true" {
		t.Fatalf("message %v, submits %v", m, s)
	}
}

// TestOutcomes: a failure receipt (text or TLVs), a refused destination,
// throttling.
func TestOutcomes(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"receipt text", []string{"--fail-dest", "1415666"}},
		{"receipt TLVs", []string{"--fail-dest", "1415666", "--receipt-tlv"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			smsc := smsctest.Start(t, tc.args...)
			c := start(t, smsc, "")
			waitState(t, c, smpp.StateBound)
			res, err := c.Submit(context.Background(), sms(7, "+14156660000", "fail me"))
			if err != nil || !res.Accepted {
				t.Fatalf("Submit = %+v, %v", res, err)
			}
			rs := receipts(t, c, 1)
			if rs[0].Delivered || rs[0].ErrorCode != "SMS-CAR-411" || rs[0].MessageID != 7 {
				t.Fatalf("receipt %+v, want a failure SMS-CAR-411", rs[0])
			}
		})
	}

	t.Run("refused", func(t *testing.T) {
		smsc := smsctest.Start(t, "--reject-dest", "1415777")
		c := start(t, smsc, "")
		waitState(t, c, smpp.StateBound)
		res, err := c.Submit(context.Background(), sms(8, "+14157770000", "no"))
		if err != nil || res.Accepted || res.ErrorCode != "SMS-UP-410" {
			t.Fatalf("Submit = %+v, %v; want refused with SMS-UP-410", res, err)
		}
	})

	t.Run("throttled", func(t *testing.T) {
		smsc := smsctest.Start(t, "--throttle", "2")
		c := start(t, smsc, "")
		waitState(t, c, smpp.StateBound)
		for i := range 2 {
			_, err := c.Submit(context.Background(), sms(9, to, "slow down"))
			if !errors.Is(err, carrier.ErrTemporary) || !strings.Contains(err.Error(), "ESME_RTHROTTLED") {
				t.Fatalf("try %d: %v, want a temporary ESME_RTHROTTLED", i, err)
			}
		}
		res, err := c.Submit(context.Background(), sms(9, to, "slow down"))
		if err != nil || !res.Accepted {
			t.Fatalf("third try: %+v, %v", res, err)
		}
		if n := len(smsc.Wait("message", 1, 5*time.Second)); n != 1 {
			t.Fatalf("the SMSC accepted %d messages", n)
		}
	})
}

// TestTransmitterReceiver: two binds, submits on one, receipts on the other.
func TestTransmitterReceiver(t *testing.T) {
	smsc := smsctest.Start(t)
	c := start(t, smsc, "bind=transmitter,receiver")
	waitState(t, c, smpp.StateBound)
	binds := smsc.Wait("bind", 2, 5*time.Second)
	if binds[0].Str("mode") != "transmitter" || binds[1].Str("mode") != "receiver" {
		t.Fatalf("binds %v", binds)
	}
	if res, err := c.Submit(context.Background(), sms(3, to, "two binds")); err != nil || !res.Accepted {
		t.Fatalf("Submit = %+v, %v", res, err)
	}
	rs := receipts(t, c, 1)
	if err := c.Ack(context.Background(), rs[0]); err != nil {
		t.Fatal(err)
	}
	smsc.Wait("receipt_acked", 1, 5*time.Second)
}

// TestReconnect: an SMSC restart is survived; meanwhile Submit is a
// temporary failure, and the receipt still owed comes after the rebind,
// named by the SMSC's id only when the process no longer knows it.
func TestReconnect(t *testing.T) {
	smsc := smsctest.Start(t)
	c := start(t, smsc, "reconnect_min=100ms&reconnect_max=200ms")
	waitState(t, c, smpp.StateBound)
	smsc.Kill()
	waitState(t, c, smpp.StateConnecting)
	var te *carrier.TemporaryError
	if _, err := c.Submit(context.Background(), sms(5, to, "while down")); !errors.As(err, &te) || !te.NotSent {
		t.Fatalf("Submit while the SMSC is down: %v, want a temporary error, nothing sent", err)
	}
	smsc.Restart()
	waitState(t, c, smpp.StateBound)
	if res, err := c.Submit(context.Background(), sms(5, to, "while down")); err != nil || !res.Accepted {
		t.Fatalf("Submit after the restart: %+v, %v", res, err)
	}
	if s := c.Status(); s.Counts["connection_lost"] < 1 || s.Counts["submit_accepted"] != 1 {
		t.Fatalf("counts %v", s.Counts)
	}
}

// BenchmarkSubmit is the carrier alone: concurrent Submits (32 goroutines)
// to the Net::SMPP SMSC, each waiting for its submit_sm_resp, with the
// window closed (1) and open (10); and the simulator's Submit for scale.
//
//	go test ./internal/carrier/smpp -run '^$' -bench Submit -benchtime 3000x
func BenchmarkSubmit(b *testing.B) {
	for _, window := range []string{"1", "10"} {
		b.Run("smpp window "+window, func(b *testing.B) {
			smsc := smsctest.Start(b)
			cfg, err := config.ParseCarrier(smsc.URL("window=" + window))
			if err != nil {
				b.Fatal(err)
			}
			c := smpp.New(*cfg, switchboard.SystemClock{}, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go c.Run(ctx)
			for c.Status().State != smpp.StateBound {
				time.Sleep(10 * time.Millisecond)
			}
			benchSubmit(b, c)
		})
	}
	b.Run("simulator", func(b *testing.B) {
		benchSubmit(b, carrier.NewSimulator(switchboard.SystemClock{}, 1))
	})
}

func benchSubmit(b *testing.B, c carrier.Carrier) {
	var next atomic.Int64
	b.SetParallelism(16) // 16 × GOMAXPROCS goroutines, as the delivery worker's parallel submits
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := next.Add(1)
			res, err := c.Submit(context.Background(), sms(id, to, "benchmark message "+strconv.FormatInt(id, 10)))
			if err != nil || !res.Accepted {
				b.Errorf("Submit = %+v, %v", res, err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "submits/s")
}

// TestTLS: with tls=true the carrier speaks SMPP inside TLS (here a TLS
// front for the test SMSC, with its own certificate), and refuses an SMSC
// whose certificate it cannot verify.
func TestTLS(t *testing.T) {
	smsc := smsctest.Start(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test SMSC"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", smsc.Addr())
			if err != nil {
				in.Close()
				return
			}
			go func() { _, _ = io.Copy(out, in); out.Close() }()
			go func() { _, _ = io.Copy(in, out); in.Close() }()
		}
	}()
	url := "smpp://" + smsc.SystemID + ":" + smsc.Password + "@" + ln.Addr().String() + "?tls=true&reconnect_min=5s&reconnect_max=5s"
	for _, trusted := range []bool{true, false} {
		cfg, err := config.ParseCarrier(url)
		if err != nil {
			t.Fatal(err)
		}
		c := smpp.New(*cfg, switchboard.SystemClock{}, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
		if trusted {
			pool := x509.NewCertPool()
			pool.AddCert(leaf)
			smpp.SetRootCAs(c, pool)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); c.Run(ctx) }()
		if !trusted {
			st := waitState(t, c, smpp.StateDown)
			if !strings.Contains(st.LastError, "certificate") {
				t.Errorf("untrusted SMSC: last error %q", st.LastError)
			}
		} else {
			waitState(t, c, smpp.StateBound)
			if res, err := c.Submit(ctx, sms(1, to, "over TLS")); err != nil || !res.Accepted {
				t.Errorf("Submit over TLS = %+v, %v", res, err)
			} else if m := smsc.Wait("message", 1, 5*time.Second)[0]; m.Str("text") != "over TLS" {
				t.Errorf("the SMSC got %v", m)
			}
		}
		cancel()
		<-done
	}
}

// TestRate: rate=20 spaces submit_sm 50 ms apart.
func TestRate(t *testing.T) {
	smsc := smsctest.Start(t)
	c := start(t, smsc, "rate=20")
	waitState(t, c, smpp.StateBound)
	began := time.Now()
	for i := range 6 {
		if _, err := c.Submit(context.Background(), sms(int64(i+1), to, "paced")); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(began); d < 240*time.Millisecond {
		t.Fatalf("6 submits at 20/s took %s, want at least 250 ms", d)
	}
}

// TestEnquireLink: an idle bind stays up. The carrier closes a connection
// silent for three enquire_link intervals, so without its enquire_link
// (and the SMSC's answers) this bind would drop within 600 ms.
func TestEnquireLink(t *testing.T) {
	smsc := smsctest.Start(t)
	c := start(t, smsc, "enquire_link=200ms")
	waitState(t, c, smpp.StateBound)
	time.Sleep(1500 * time.Millisecond)
	if s := c.Status(); s.State != smpp.StateBound || s.Counts["connection_lost"] != 0 || len(smsc.Events("bind")) != 1 {
		t.Fatalf("after 1.5 s idle: %+v, binds %v", s, smsc.Events("bind"))
	}
}
