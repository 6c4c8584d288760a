package carrier

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
)

var t0 = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

// newSim returns a simulator with seed 1 over a ManualClock at t0, with the
// rules in JSON (none: the defaults).
func newSim(t *testing.T, rules string) (*Simulator, *switchboard.ManualClock) {
	t.Helper()
	clock := switchboard.NewManualClock(func() time.Time { return t0 })
	s := NewSimulator(clock, 1)
	if rules != "" {
		r, err := ParseRules([]byte(rules))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetRules(r); err != nil {
			t.Fatal(err)
		}
	}
	return s, clock
}

func sms(id int64, to string) Submission {
	return Submission{MessageID: id, Recipient: to, From: "+16505550100", Type: switchboard.TypeSMS, Text: "hi"}
}

func mms(id int64, to string) Submission {
	s := sms(id, to)
	s.Media = []Media{{ContentType: "image/png", Size: 2048}}
	return s
}

func fax(id int64, to string) Submission {
	return Submission{MessageID: id, Recipient: to, From: "+16505550100", Type: switchboard.TypeFax, Pages: 3}
}

func mustSubmit(t *testing.T, s *Simulator, sub Submission) Result {
	t.Helper()
	r, err := s.Submit(context.Background(), sub)
	if err != nil {
		t.Fatalf("Submit(%d, %s): %v", sub.MessageID, sub.Recipient, err)
	}
	return r
}

func receipts(t *testing.T, s *Simulator) []Receipt {
	t.Helper()
	rs, err := s.Receipts(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestAcceptThenReceiptAfterDelay(t *testing.T) {
	s, clock := newSim(t, "")
	ctx := context.Background()
	r := mustSubmit(t, s, sms(1, "+14155550100"))
	if !r.Accepted || r.CarrierID == "" || r.ErrorCode != "" {
		t.Fatalf("result %+v, want accepted with a carrier id", r)
	}
	if rs := receipts(t, s); len(rs) != 0 {
		t.Fatalf("receipt before the delay: %+v", rs)
	}
	clock.Advance(DefaultDeliveryDelay - time.Millisecond)
	if rs := receipts(t, s); len(rs) != 0 {
		t.Fatalf("receipt before the delay: %+v", rs)
	}
	// An explicit now is honoured too.
	if rs, _ := s.Receipts(ctx, t0.Add(DefaultDeliveryDelay)); len(rs) != 1 {
		t.Fatalf("receipts at the delay: %+v", rs)
	}
	clock.Advance(time.Millisecond)
	want := Receipt{MessageID: 1, Recipient: "+14155550100", CarrierID: r.CarrierID, Delivered: true, At: t0.Add(DefaultDeliveryDelay)}
	rs := receipts(t, s)
	if len(rs) != 1 || rs[0] != want {
		t.Fatalf("receipts %+v, want %+v", rs, want)
	}
	// Unacknowledged receipts come again.
	if again := receipts(t, s); len(again) != 1 {
		t.Fatalf("receipt not redelivered: %+v", again)
	}
	if err := s.Ack(ctx, rs[0]); err != nil {
		t.Fatal(err)
	}
	if err := s.Ack(ctx, rs[0]); err != nil {
		t.Fatalf("second Ack: %v", err)
	}
	if again := receipts(t, s); len(again) != 0 {
		t.Fatalf("acknowledged receipt redelivered: %+v", again)
	}
}

func TestReceiptsOrderAndDelay(t *testing.T) {
	s, clock := newSim(t, `{"deliveryDelaySeconds": 0.5}`)
	mustSubmit(t, s, sms(3, "+14155550100"))
	clock.Advance(100 * time.Millisecond)
	mustSubmit(t, s, sms(2, "+14155550102"))
	mustSubmit(t, s, sms(2, "+14155550101"))
	clock.Advance(500 * time.Millisecond)
	var got []string
	for _, r := range receipts(t, s) {
		got = append(got, fmt.Sprintf("%d %s %s", r.MessageID, r.Recipient, r.At.Sub(t0)))
	}
	want := []string{"3 +14155550100 500ms", "2 +14155550101 600ms", "2 +14155550102 600ms"}
	if !slices.Equal(got, want) {
		t.Errorf("receipts %q, want %q", got, want)
	}
}

func TestRuleOutcomes(t *testing.T) {
	const rules = `{"rules": [
		{"match": "^\\+1555000", "stage": "submit", "errorCode": "SMS-UP-410", "types": ["SMS"]},
		{"match": "^\\+1555001", "stage": "delivery", "errorCode": "SMS-CAR-411"},
		{"match": "^\\+1555001", "stage": "delivery", "errorCode": "SMS-CAR-104"},
		{"match": "^\\+44", "stage": "delivery", "errorCode": "SMS-CAR-434", "types": ["MMS"]},
		{"match": "^\\+1555002", "stage": "submit", "errorCode": "NoFaxMachine"},
		{"match": "^\\+1555003", "stage": "delivery", "errorCode": "LineBusy"},
		{"match": "^\\+1555004", "percent": 0, "stage": "submit", "errorCode": "SMS-RC-430"},
		{"match": "^\\+1555005", "percent": 100, "stage": "submit", "errorCode": "SMS-RC-403"}
	]}`
	tests := []struct {
		name       string
		sub        Submission
		submitCode string // "": accepted
		deliver    string // receipt error code; "": delivered
	}{
		{"no rule matches", sms(1, "+14155550100"), "", ""},
		{"pattern at submit", sms(2, "+15550001234"), "SMS-UP-410", ""},
		{"pattern at submit, MMS is SMS", mms(3, "+15550001234"), "SMS-UP-410", ""},
		{"SMS rule does not fail a fax", fax(4, "+15550001234"), "", ""},
		{"pattern at delivery, first rule wins", sms(5, "+15550011234"), "", "SMS-CAR-411"},
		{"MMS rule fails MMS", mms(6, "+447700900123"), "", "SMS-CAR-434"},
		{"MMS rule spares plain SMS", sms(7, "+447700900123"), "", ""},
		{"fax rule at submit", fax(8, "+15550021234"), "NoFaxMachine", ""},
		{"fax rule spares SMS", sms(9, "+15550021234"), "", ""},
		{"fax rule at delivery", fax(10, "+15550031234"), "", "LineBusy"},
		{"percent 0 never fails", sms(11, "+15550041234"), "", ""},
		{"percent 100 always fails", sms(12, "+15550051234"), "SMS-RC-403", ""},
		{"match is unanchored only when written so", sms(13, "+11555000123"), "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, clock := newSim(t, rules)
			r := mustSubmit(t, s, tt.sub)
			if r.Accepted != (tt.submitCode == "") || r.ErrorCode != tt.submitCode {
				t.Fatalf("result %+v, want error code %q", r, tt.submitCode)
			}
			clock.Advance(time.Hour)
			rs := receipts(t, s)
			if tt.submitCode != "" {
				if len(rs) != 0 {
					t.Fatalf("refused submission has receipts %+v", rs)
				}
				return
			}
			if len(rs) != 1 || rs[0].Delivered != (tt.deliver == "") || rs[0].ErrorCode != tt.deliver || rs[0].CarrierID != r.CarrierID {
				t.Fatalf("receipts %+v, want error code %q", rs, tt.deliver)
			}
		})
	}
}

// failures submits n SMS in the given order and returns the ids whose
// receipt failed.
func failures(t *testing.T, s *Simulator, clock *switchboard.ManualClock, ids []int64) []int64 {
	t.Helper()
	for _, id := range ids {
		mustSubmit(t, s, sms(id, fmt.Sprintf("+1415555%04d", id)))
	}
	clock.Advance(time.Minute)
	var failed []int64
	for _, r := range receipts(t, s) {
		if !r.Delivered {
			if r.ErrorCode != "SMS-CAR-104" {
				t.Fatalf("receipt %+v", r)
			}
			failed = append(failed, r.MessageID)
		}
	}
	slices.Sort(failed)
	return failed
}

func TestPercentIsDeterministic(t *testing.T) {
	const rule = `{"rules": [{"percent": 10, "seed": %d, "stage": "delivery", "errorCode": "SMS-CAR-104"}]}`
	ids := make([]int64, 1000)
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	reversed := slices.Clone(ids)
	slices.Reverse(reversed)

	s, clock := newSim(t, fmt.Sprintf(rule, 42))
	first := failures(t, s, clock, ids)
	t.Logf("%d of 1000 failed", len(first))
	if n := len(first); n < 70 || n > 130 {
		t.Errorf("%d of 1000 failed, want about 100", n)
	}
	s, clock = newSim(t, fmt.Sprintf(rule, 42))
	if again := failures(t, s, clock, reversed); !slices.Equal(first, again) {
		t.Errorf("another run failed other messages:\n%v\n%v", first, again)
	}
	s, clock = newSim(t, fmt.Sprintf(rule, 43))
	if other := failures(t, s, clock, ids); slices.Equal(first, other) {
		t.Error("seeds 42 and 43 fail the same messages")
	}

	// Without a seed in the rule, the simulator's seed decides.
	const noSeed = `{"rules": [{"percent": 30, "stage": "delivery", "errorCode": "SMS-CAR-104"}]}`
	run := func(seed int64) []int64 {
		clock := switchboard.NewManualClock(func() time.Time { return t0 })
		s := NewSimulator(clock, seed)
		r, _ := ParseRules([]byte(noSeed))
		if err := s.SetRules(r); err != nil {
			t.Fatal(err)
		}
		return failures(t, s, clock, ids[:200])
	}
	if a, b := run(7), run(7); !slices.Equal(a, b) {
		t.Error("the same simulator seed failed other messages")
	}
	if a, b := run(7), run(8); slices.Equal(a, b) {
		t.Error("simulator seeds 7 and 8 fail the same messages")
	}
}

func TestOutage(t *testing.T) {
	ctx := context.Background()
	type step struct {
		advance   time.Duration
		wantRetry time.Duration // 0: accepted
	}
	tests := []struct {
		name    string
		outages string
		steps   []step
	}{
		{"absolute window", `[{"from": "2026-11-27T10:00:00Z", "until": "2026-11-27T10:05:00Z"}]`,
			[]step{{0, 5 * time.Minute}, {2 * time.Minute, 3 * time.Minute}, {3 * time.Minute, 0}}},
		{"future window", `[{"from": "2026-11-27T10:01:00Z", "until": "2026-11-27T10:02:00Z"}]`,
			[]step{{0, 0}, {time.Minute, time.Minute}, {time.Minute, 0}}},
		{"relative to when set", `[{"forSeconds": 90}]`,
			[]step{{0, 90 * time.Second}, {89 * time.Second, time.Second}, {time.Second, 0}}},
		{"adjacent and overlapping windows merge", `[{"forSeconds": 60}, {"from": "2026-11-27T10:03:00Z", "forSeconds": 60}, {"from": "2026-11-27T10:01:00Z", "until": "2026-11-27T10:03:30Z"}]`,
			[]step{{0, 4 * time.Minute}, {4 * time.Minute, 0}}},
		{"open ended", `[{}]`,
			[]step{{0, DefaultOutageRetryAfter}, {24 * time.Hour, DefaultOutageRetryAfter}}},
		{"open ended later", `[{"from": "2026-11-27T10:00:30Z", "until": "2026-11-27T10:01:00Z"}, {"from": "2026-11-27T10:01:00Z"}]`,
			[]step{{0, 0}, {30 * time.Second, DefaultOutageRetryAfter}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, clock := newSim(t, `{"outages": `+tt.outages+`}`)
			for i, st := range tt.steps {
				clock.Advance(st.advance)
				sub := sms(int64(i+1), "+14155550100")
				r, err := s.Submit(ctx, sub)
				if st.wantRetry == 0 {
					if err != nil || !r.Accepted {
						t.Fatalf("step %d: %+v, %v; want accepted", i, r, err)
					}
					continue
				}
				if !errors.Is(err, ErrTemporary) || RetryAfter(err) != st.wantRetry {
					t.Fatalf("step %d: %+v, %v (retry after %s); want a temporary error, retry after %s", i, r, err, RetryAfter(err), st.wantRetry)
				}
				// Nothing is remembered of a temporary failure.
				rs, _ := s.Receipts(ctx, clock.Now().Add(48*time.Hour))
				if slices.ContainsFunc(rs, func(r Receipt) bool { return r.MessageID == sub.MessageID }) {
					t.Fatalf("step %d: receipt after a temporary failure: %+v", i, rs)
				}
			}
		})
	}
}

func TestOutageKeepsScheduledReceipts(t *testing.T) {
	s, clock := newSim(t, "")
	mustSubmit(t, s, sms(1, "+14155550100"))
	r, _ := ParseRules([]byte(`{"outages": [{}]}`))
	if err := s.SetRules(r); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	if rs := receipts(t, s); len(rs) != 1 || !rs[0].Delivered {
		t.Fatalf("receipts during outage %+v", rs)
	}
	// An answered submission is answered again, even during the outage.
	if r := mustSubmit(t, s, sms(1, "+14155550100")); !r.Accepted {
		t.Fatalf("resubmit during outage: %+v", r)
	}
	if err := s.SetRules(DefaultRules()); err != nil {
		t.Fatal(err)
	}
	if r := mustSubmit(t, s, sms(2, "+14155550100")); !r.Accepted {
		t.Fatalf("after the outage: %+v", r)
	}
}

func TestIdempotentSubmit(t *testing.T) {
	ctx := context.Background()
	const failing = `{"rules": [{"match": "^\\+1555", "stage": "delivery", "errorCode": "SMS-CAR-411"},
		{"match": "^\\+1666", "stage": "submit", "errorCode": "SMS-UP-410"}]}`
	s, clock := newSim(t, failing)
	a := mustSubmit(t, s, sms(1, "+15550001111"))
	clock.Advance(time.Second)
	if again := mustSubmit(t, s, sms(1, "+15550001111")); again != a {
		t.Fatalf("resubmit %+v, want %+v", again, a)
	}
	b := mustSubmit(t, s, sms(1, "+15550002222"))
	if b.CarrierID == a.CarrierID {
		t.Fatal("two recipients share a carrier id")
	}
	refused := mustSubmit(t, s, sms(2, "+16660001111"))

	// New rules change nothing already decided.
	if err := s.SetRules(Rules{DeliveryDelaySeconds: 60}); err != nil {
		t.Fatal(err)
	}
	if r := mustSubmit(t, s, sms(2, "+16660001111")); r != refused || r.Accepted {
		t.Fatalf("refused resubmit after rule change: %+v, want %+v", r, refused)
	}
	clock.Advance(2 * time.Second)
	rs := receipts(t, s)
	if len(rs) != 2 {
		t.Fatalf("receipts %+v, want one per recipient", rs)
	}
	submitted := map[string]time.Time{"+15550001111": t0, "+15550002222": t0.Add(time.Second)}
	for _, r := range rs {
		if r.MessageID != 1 || r.Delivered || r.ErrorCode != "SMS-CAR-411" || !r.At.Equal(submitted[r.Recipient].Add(2*time.Second)) {
			t.Errorf("receipt %+v lost its schedule or outcome", r)
		}
		if err := s.Ack(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	// Resubmitting an acknowledged submission schedules nothing.
	if again := mustSubmit(t, s, sms(1, "+15550001111")); again != a {
		t.Fatalf("resubmit after ack %+v, want %+v", again, a)
	}
	clock.Advance(time.Hour)
	if rs := receipts(t, s); len(rs) != 0 {
		t.Fatalf("second receipt %+v", rs)
	}

	// After a crash, a new simulator gives the same carrier id and creates
	// the receipt again.
	s2, clock2 := newSim(t, "")
	if r := mustSubmit(t, s2, sms(1, "+15550001111")); r.CarrierID != a.CarrierID {
		t.Fatalf("carrier id after restart %s, want %s", r.CarrierID, a.CarrierID)
	}
	clock2.Advance(time.Minute)
	if rs := receipts(t, s2); len(rs) != 1 || rs[0].CarrierID != a.CarrierID {
		t.Fatalf("receipts after restart %+v", rs)
	}

	// Settled submissions are forgotten after SettledRetention.
	clock.Advance(SettledRetention)
	if r := mustSubmit(t, s, sms(2, "+16660001111")); !r.Accepted || r.CarrierID != refused.CarrierID {
		t.Fatalf("forgotten submission: %+v", r)
	}
	if len(s.subs) != 1 || len(s.settled) != 0 {
		t.Errorf("remembered %d submissions, %d settled; want 1, 0", len(s.subs), len(s.settled))
	}
}

func TestSubmitInvalid(t *testing.T) {
	s, _ := newSim(t, "")
	for _, sub := range []Submission{
		sms(0, "+14155550100"),
		sms(1, ""),
		{MessageID: 1, Recipient: "+14155550100", Type: switchboard.TypePager},
	} {
		if _, err := s.Submit(context.Background(), sub); !errors.Is(err, ErrInvalid) || errors.Is(err, ErrTemporary) {
			t.Errorf("Submit(%+v) = %v, want ErrInvalid", sub, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Submit(ctx, sms(1, "+14155550100")); !errors.Is(err, context.Canceled) {
		t.Errorf("Submit with a canceled context: %v", err)
	}
	if _, err := s.Receipts(ctx, t0); !errors.Is(err, context.Canceled) {
		t.Errorf("Receipts with a canceled context: %v", err)
	}
	if err := s.Ack(ctx, Receipt{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Ack with a canceled context: %v", err)
	}
	if rs := receipts(t, s); len(rs) != 0 {
		t.Errorf("receipts %+v", rs)
	}
}

func TestTemporaryError(t *testing.T) {
	err := fmt.Errorf("sending: %w", &TemporaryError{Reason: "throttled", RetryAfter: 30 * time.Second})
	if !errors.Is(err, ErrTemporary) || RetryAfter(err) != 30*time.Second {
		t.Errorf("%v: not temporary or no retry hint", err)
	}
	if errors.Is(errors.New("x"), ErrTemporary) || RetryAfter(ErrTemporary) != 0 {
		t.Error("plain errors look temporary")
	}
	if got := (&TemporaryError{Reason: "down"}).Error(); got != "carrier: temporary failure: down" {
		t.Errorf("Error() = %q", got)
	}
}

func TestConcurrent(t *testing.T) {
	s, clock := newSim(t, `{"deliveryDelaySeconds": 0.01}`)
	ctx := context.Background()
	const workers, perWorker = 8, 200
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				// Every message is submitted by two workers.
				id := int64((w/2)*perWorker + i + 1)
				if _, err := s.Submit(ctx, sms(id, "+14155550100")); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	acked := map[int64]int{}
	var mu sync.Mutex
	for range 2 {
		wg.Go(func() {
			for range 300 {
				clock.Advance(time.Millisecond)
				rs, err := s.Receipts(ctx, time.Time{})
				if err != nil {
					t.Error(err)
					return
				}
				for _, r := range rs {
					if s.Ack(ctx, r) == nil {
						mu.Lock()
						acked[r.MessageID]++
						mu.Unlock()
					}
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 100 {
			r := s.Rules()
			r.Rules = []Rule{{Stage: StageDelivery, ErrorCode: "SMS-CAR-104", Percent: new(float64(i % 100))}}
			if err := s.SetRules(r); err != nil {
				t.Error(err)
				return
			}
		}
	})
	wg.Wait()
	clock.Advance(time.Second)
	for _, r := range receipts(t, s) {
		if err := s.Ack(ctx, r); err != nil {
			t.Fatal(err)
		}
		acked[r.MessageID]++
	}
	if len(acked) != workers/2*perWorker {
		t.Errorf("%d messages got receipts, want %d", len(acked), workers/2*perWorker)
	}
	// Two pollers may both see a receipt before either acknowledges it (at
	// least once), but never more than twice here.
	for id, n := range acked {
		if n > 2 {
			t.Errorf("message %d: %d receipts", id, n)
		}
	}
}
