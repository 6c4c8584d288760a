package metrics

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func TestBacklog(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		b    Backlog
		err  error
		want []string
	}{
		{"due for 90s", Backlog{OutboxPending: 3, OutboxSubmitted: 2, OldestDue: now.Add(-90 * time.Second), WebHookLag: 7}, nil, []string{
			`switchboard_outbox_deliveries{state="pending"} 3`, `switchboard_outbox_deliveries{state="submitted"} 2`,
			"switchboard_outbox_oldest_due_age_seconds 90", "switchboard_webhook_lag_changes 7", "switchboard_backlog_scrape_errors_total 0"}},
		{"due later", Backlog{OutboxPending: 1, OldestDue: now.Add(time.Minute)}, nil, []string{"switchboard_outbox_oldest_due_age_seconds 0"}},
		{"empty", Backlog{}, nil, []string{"switchboard_outbox_oldest_due_age_seconds 0", `switchboard_outbox_deliveries{state="pending"} 0`}},
		{"database down", Backlog{}, errors.New("down"), []string{"switchboard_backlog_scrape_errors_total 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New()
			m.RegisterBacklog(func(context.Context) (Backlog, time.Time, error) { return tt.b, now, tt.err }, time.Second)
			out := scrape(t, m)
			for _, w := range tt.want {
				if !strings.Contains(out, w+"\n") {
					t.Errorf("no %q in\n%s", w, out)
				}
			}
			if tt.err != nil && strings.Contains(out, "switchboard_outbox_deliveries{") {
				t.Error("a failed read exported stale figures")
			}
		})
	}
}

// TestRegistersAreSeparate: two servers in one process (tests) do not
// share or clash over series.
func TestRegistersAreSeparate(t *testing.T) {
	a, b := New(), New()
	a.HTTPRequests.WithLabelValues("GET /x", "GET", "200").Inc()
	if strings.Contains(scrape(t, b), `route="GET /x"`) {
		t.Fatal("a series of one registry shows in another")
	}
	if !strings.Contains(scrape(t, a), `switchboard_http_requests_total{method="GET",route="GET /x",status="200"} 1`) {
		t.Fatalf("missing series:\n%s", scrape(t, a))
	}
}
