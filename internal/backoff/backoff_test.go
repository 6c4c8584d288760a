package backoff

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestFailures(t *testing.T) {
	var log bytes.Buffer
	f := New("test worker", 100*time.Millisecond, time.Second, slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelInfo})))
	ctx := context.Background()
	down := errors.New("database down")
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, w := range want {
		if got := f.Fail(ctx, down); got != w*time.Millisecond {
			t.Fatalf("failure %d: wait %v, want %v", i+1, got, w*time.Millisecond)
		}
	}
	for range remindEvery - len(want) {
		f.Fail(ctx, down)
	}
	if !f.Failing() {
		t.Fatal("not failing after failures")
	}
	f.Succeed(ctx)
	if f.Failing() || f.Wait() != 0 {
		t.Fatal("a success did not reset the failures")
	}
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	// One ERROR for the outage, one reminder at the 20th failure, one
	// recovery line: not one line per failure.
	if len(lines) != 3 || !strings.Contains(lines[0], "level=ERROR") || !strings.Contains(lines[1], "level=WARN") ||
		!strings.Contains(lines[1], "failures=20") || !strings.Contains(lines[2], "recovered") {
		t.Fatalf("log:\n%s", log.String())
	}
}

func TestSleepEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if Sleep(ctx, time.Hour) {
		t.Fatal("Sleep outlived its context")
	}
	if !Sleep(context.Background(), time.Millisecond) {
		t.Fatal("Sleep reported a live context as ended")
	}
}
