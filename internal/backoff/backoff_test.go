package backoff

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
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

// TestLoop: a busy run is followed by another at once, a failed one by the
// backoff's wait, an idle one by a wake-up (the poll here is an hour).
func TestLoop(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wake := make(chan struct{}, 1)
	var calls []string
	script := []struct {
		busy bool
		err  error
	}{{true, nil}, {true, nil}, {false, errors.New("database down")}, {false, nil}, {false, nil}}
	idle := make(chan struct{}, len(script))
	f := New("test worker", time.Millisecond, time.Millisecond, slog.New(slog.NewTextHandler(io.Discard, nil)))
	done := make(chan struct{})
	go func() {
		defer close(done)
		Loop(ctx, f, time.Hour, wake, func(context.Context) (bool, error) {
			i := len(calls)
			if i >= len(script) {
				cancel()
				return false, nil
			}
			calls = append(calls, fmt.Sprint(script[i].busy, script[i].err != nil))
			if !script[i].busy && script[i].err == nil {
				idle <- struct{}{}
			}
			return script[i].busy, script[i].err
		})
	}()
	// Runs 1-4 need no wake-up: busy, busy, failed (then the 1 ms wait),
	// idle. Run 5 waits for one, and so does the run that ends the test.
	<-idle
	wake <- struct{}{}
	<-idle
	wake <- struct{}{}
	<-done
	if want := "[true false true false false true false false false false]"; fmt.Sprint(calls) != want {
		t.Fatalf("runs %v, want %s", calls, want)
	}
	if f.Failing() {
		t.Fatal("still failing after a successful run")
	}
}
