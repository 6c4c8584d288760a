package ratelimit

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
)

func TestGroupFor(t *testing.T) {
	const ext = "/restapi/v1.0/account/~/extension/~"
	for _, tc := range []struct {
		method, path string
		want         Group
		ok           bool
	}{
		{"POST", "/restapi/oauth/token", Auth, true},
		{"POST", "/restapi/oauth/revoke", Auth, true},
		{"POST", "/restapi/oauth/wstoken", Auth, true},
		{"GET", "/restapi/v1.0/account/~", Light, true},
		{"GET", "/restapi/v1.0/account/123/extension", Medium, true},
		{"GET", ext, Light, true},
		{"GET", ext + "/message-store", Light, true},
		{"GET", ext + "/message-store/", Light, true},
		{"DELETE", ext + "/message-store", Medium, true},
		{"GET", ext + "/message-store/42", Light, true},
		{"PUT", ext + "/message-store/42", Medium, true},
		{"GET", ext + "/message-store/42/content/7", Medium, true},
		{"POST", ext + "/sms", Medium, true},
		{"POST", ext + "/fax", Heavy, true},
		{"GET", ext + "/message-sync", Light, true},
		{"POST", "/restapi/v1.0/subscription", Medium, true},
		{"GET", "/restapi/v1.0/subscription/abc", Light, true},
		{"POST", "/restapi/v1.0/subscription/abc/renew", Light, true},
		{"DELETE", "/restapi/v1.0/subscription/abc", Medium, true},
		{"GET", "/restapi/v1.0/account/~/message-store-report/t1/archive", Heavy, true},
		{"GET", "/restapi/v1.0/something-new", Medium, true}, // unknown under v1.0: counted
		{"GET", "/restapi/v1.0/account//extension", Medium, true},
		{"GET", "/switchboard/v1/health", "", false},
		{"GET", "/restapi", "", false},
	} {
		got, ok := GroupFor(tc.method, tc.path)
		if got != tc.want || ok != tc.ok {
			t.Errorf("GroupFor(%s %s) = %q, %v; want %q, %v", tc.method, tc.path, got, ok, tc.want, tc.ok)
		}
	}
}

func defaults() Settings {
	return Settings{Enforce: true, Groups: map[Group]Rule{
		Light: {50, time.Minute}, Medium: {40, time.Minute}, Heavy: {10, time.Minute}, Auth: {5, time.Minute}}}
}

func TestLimiterPenaltyRestartsWithEveryRefusal(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := switchboard.NewManualClock(func() time.Time { return start })
	l, err := New(NewMemory(), clock, defaults())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := 1; i <= 10; i++ {
		d, err := l.Allow(ctx, Heavy, "app1|ext1")
		if err != nil || d.Refused || d.Remaining != 10-i {
			t.Fatalf("request %d: %+v, %v; want allowed with %d remaining", i, d, err, 10-i)
		}
	}
	d, _ := l.Allow(ctx, Heavy, "app1|ext1")
	if !d.Refused || d.RetryAfter != time.Minute || d.Remaining != 0 {
		t.Fatalf("11th request: %+v; want refused for 60 s", d)
	}
	h := http.Header{}
	d.SetHeaders(h)
	if h.Get("Retry-After") != "60" || h.Get("X-Rate-Limit-Group") != "Heavy" || h.Get("X-Rate-Limit-Limit") != "10" ||
		h.Get("X-Rate-Limit-Remaining") != "0" || h.Get("X-Rate-Limit-Window") != "60" {
		t.Errorf("headers %v", h)
	}
	// Another caller and another group are counted apart.
	if d, _ := l.Allow(ctx, Heavy, "app1|ext2"); d.Refused {
		t.Error("another extension is refused")
	}
	if d, _ := l.Allow(ctx, Light, "app1|ext1"); d.Refused {
		t.Error("another group is refused")
	}
	// In the next window the caller is still refused: each refusal restarted
	// the penalty, as RingCentral documents.
	clock.Advance(59 * time.Second)
	if d, _ := l.Allow(ctx, Heavy, "app1|ext1"); !d.Refused || d.RetryAfter != time.Minute {
		t.Fatalf("a refused caller retrying at once: %+v; want refused for another 60 s", d)
	}
	clock.Advance(61 * time.Second)
	if d, _ := l.Allow(ctx, Heavy, "app1|ext1"); d.Refused || d.Remaining != 9 {
		t.Fatalf("after the penalty: %+v; want allowed, 9 remaining", d)
	}
}

func TestLimiterCountsWithoutEnforcing(t *testing.T) {
	s := defaults()
	s.Enforce = false
	l, _ := New(NewMemory(), switchboard.SystemClock{}, s)
	for i := 0; i < 7; i++ {
		d, _ := l.Allow(context.Background(), Auth, "c|u")
		if d.Refused {
			t.Fatal("refused while not enforced")
		}
		if i >= 5 && (d.Remaining != 0 || d.RetryAfter <= 0) {
			t.Fatalf("request %d past the limit: %+v; want counted (0 remaining)", i+1, d)
		}
	}
	on := true
	if _, err := l.Update(&on, nil); err != nil {
		t.Fatal(err)
	}
	if d, _ := l.Allow(context.Background(), Auth, "c|u"); !d.Refused {
		t.Fatal("not refused once enforced")
	}
}

func TestUpdate(t *testing.T) {
	l, _ := New(NewMemory(), switchboard.SystemClock{}, defaults())
	got, err := l.Update(nil, map[Group]Rule{Medium: {3, 10 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Groups[Medium] != (Rule{3, 10 * time.Second}) || got.Groups[Light] != (Rule{50, time.Minute}) || !got.Enforce {
		t.Fatalf("settings %+v: want Medium changed, the rest kept", got)
	}
	for _, bad := range []map[Group]Rule{
		{"Extreme": {1, time.Second}},
		{Light: {0, time.Minute}},
		{Light: {5, 0}},
		{Light: {5, 1500 * time.Millisecond}},
	} {
		if _, err := l.Update(nil, bad); switchboard.AsError(err) == nil || switchboard.AsError(err).Kind() != switchboard.KindInvalid {
			t.Errorf("Update(%v) = %v; want a 400", bad, err)
		}
	}
	if l.Settings().Groups[Medium].Limit != 3 {
		t.Error("a refused update changed the settings")
	}
}

func TestMemorySweep(t *testing.T) {
	m := NewMemory()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ctx := context.Background()
	m.RateLimitHit(ctx, "idle", now, now, 5, time.Minute)
	for i := 0; i < 3; i++ {
		m.RateLimitHit(ctx, "blocked", now, now, 1, time.Hour)
	}
	later := now.Add(10 * time.Minute)
	_ = m.SweepRateLimits(ctx, later.Add(-2*time.Minute), later)
	if m.Len() != 1 {
		t.Fatalf("%d counters after the sweep; want the blocked one only", m.Len())
	}
}

// TestLimiterSweeps: counters of callers gone quiet are forgotten by the
// limiter's own sweep, a minute apart.
func TestLimiterSweeps(t *testing.T) {
	clock := switchboard.NewManualClock(func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) })
	mem := NewMemory()
	l, _ := New(mem, clock, defaults())
	for i := 0; i < 100; i++ {
		_, _ = l.Allow(context.Background(), Light, "caller"+string(rune('a'+i%26))+string(rune('a'+i/26)))
	}
	for l.sweeping.Load() { // the first call's sweep, of nothing
		time.Sleep(time.Millisecond)
	}
	clock.Advance(5 * time.Minute)
	_, _ = l.Allow(context.Background(), Light, "new")
	for deadline := time.Now().Add(5 * time.Second); mem.Len() > 1; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d counters after the sweep; want the new caller's only", mem.Len())
		}
	}
}
