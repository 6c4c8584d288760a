package transcribe_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/sqlstore"
	"github.com/switchboardhq/switchboard/internal/transcribe"
)

type env struct {
	t     *testing.T
	store *sqlstore.DB
	clock *switchboard.ManualClock
	ext   *switchboard.Extension
}

func newEnv(t *testing.T) *env {
	t.Helper()
	clock := switchboard.NewManualClock(func() time.Time { return time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC) })
	store, err := sqlstore.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "t.db"), clock, sqlstore.SQLiteOptions{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	acc, err := store.CreateAccount(t.Context(), switchboard.AccountCreate{Name: "A"})
	if err != nil {
		t.Fatal(err)
	}
	ext, err := store.CreateExtension(t.Context(), switchboard.ExtensionCreate{AccountID: acc.ID, ExtensionNumber: "101", Name: "Ann"})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, store: store, clock: clock, ext: ext}
}

// voiceMail stores a voicemail waiting for its transcription.
func (e *env) voiceMail(audio string) *switchboard.Message {
	e.t.Helper()
	m, err := e.store.CreateVoiceMail(e.t.Context(), switchboard.MessageCreate{AccountID: e.ext.AccountID, ExtensionID: e.ext.ID,
		Type: switchboard.TypeVoiceMail, Direction: switchboard.Inbound, From: switchboard.Party{PhoneNumber: "+15550001111"},
		Attachments: []*switchboard.Attachment{{Type: switchboard.AttachmentAudioRecording, ContentType: "audio/wav",
			FileName: "vm.wav", Content: []byte(audio), VMDuration: 1}}}, true)
	if err != nil {
		e.t.Fatal(err)
	}
	if m.VMTranscriptionStatus != switchboard.TranscriptionInProgress {
		e.t.Fatalf("new voicemail is %s, want InProgress", m.VMTranscriptionStatus)
	}
	return m
}

// outcome is the voicemail's status and transcript after the worker ran.
func (e *env) outcome(m *switchboard.Message) (string, string) {
	e.t.Helper()
	got, err := e.store.Message(e.t.Context(), m.AccountID, m.ExtensionID, m.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	if got.Attachments[0].Type != switchboard.AttachmentAudioRecording {
		e.t.Fatalf("the recording is gone: %+v", got.Attachments)
	}
	if _, err := e.store.Attachment(e.t.Context(), m.AccountID, m.ExtensionID, m.ID, got.Attachments[0].ID); err != nil {
		e.t.Fatalf("the recording cannot be read: %v", err)
	}
	text := ""
	for _, a := range got.Attachments[1:] {
		if a.Type != switchboard.AttachmentAudioTranscription || a.ContentType != "text/plain" {
			e.t.Fatalf("unexpected attachment %+v", a)
		}
		full, err := e.store.Attachment(e.t.Context(), m.AccountID, m.ExtensionID, m.ID, a.ID)
		if err != nil {
			e.t.Fatal(err)
		}
		text = string(full.Content)
	}
	return got.VMTranscriptionStatus, text
}

func (e *env) worker(t transcribe.Transcriber, owner string, timeout time.Duration) *transcribe.Worker {
	return transcribe.NewWorker(e.store, t, transcribe.Config{Owner: owner, Timeout: timeout},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func script(t *testing.T, body string) *transcribe.Command {
	t.Helper()
	p := filepath.Join(t.TempDir(), "stt.sh")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	c, err := transcribe.NewCommand(p + " --lang en")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestWorkerOutcomes(t *testing.T) {
	stt := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		switch string(b) {
		case "json":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"text": "from JSON (%s)"}`, r.Header.Get("Content-Type"))
		case "broken":
			http.Error(w, "model not loaded", http.StatusServiceUnavailable)
		case "slow":
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		default:
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			fmt.Fprintf(w, "  heard %d bytes of %s\n", len(b), r.Header.Get("Content-Type"))
		}
	}))
	defer stt.Close()
	httpT := &transcribe.HTTP{URL: stt.URL}

	for _, tc := range []struct {
		name       string
		t          transcribe.Transcriber
		audio      string
		wantStatus string
		wantText   string
	}{
		{"command", script(t, `n=$(wc -c); echo "Hi, it's $1 $2: $n bytes of $SWITCHBOARD_AUDIO_CONTENT_TYPE"`), "hello",
			switchboard.TranscriptionCompleted, "Hi, it's --lang en: 5 bytes of audio/wav"},
		{"command that fails", script(t, `cat >/dev/null; echo "no model" >&2; exit 3`), "x", switchboard.TranscriptionFailed, ""},
		{"command that hangs", script(t, `exec sleep 10`), "x", switchboard.TranscriptionTimedOut, ""},
		{"command that prints nothing", script(t, `cat >/dev/null`), "silence", switchboard.TranscriptionCompleted, ""},
		{"command that prints binary", script(t, `cat >/dev/null; printf '\377\376'`), "x", switchboard.TranscriptionFailed, ""},
		{"missing command", &transcribe.Command{Path: filepath.Join(t.TempDir(), "nope")}, "x", switchboard.TranscriptionFailed, ""},
		{"HTTP text", httpT, "hello", switchboard.TranscriptionCompleted, "heard 5 bytes of audio/wav"},
		{"HTTP JSON", httpT, "json", switchboard.TranscriptionCompleted, "from JSON (audio/wav)"},
		{"HTTP error", httpT, "broken", switchboard.TranscriptionFailed, ""},
		{"HTTP too slow", httpT, "slow", switchboard.TranscriptionTimedOut, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			m := e.voiceMail(tc.audio)
			n, err := e.worker(tc.t, "w1", 500*time.Millisecond).RunOnce(t.Context())
			if err != nil || n != 1 {
				t.Fatalf("RunOnce = %d, %v", n, err)
			}
			status, text := e.outcome(m)
			if status != tc.wantStatus || text != tc.wantText {
				t.Fatalf("got %s %q, want %s %q", status, text, tc.wantStatus, tc.wantText)
			}
		})
	}
}

// TestResumeAfterCrash: a job whose worker died is run by another once its
// lease expires, and only then.
func TestResumeAfterCrash(t *testing.T) {
	e := newEnv(t)
	m := e.voiceMail("hello")
	// Node A claims the job and dies without finishing.
	if jobs, err := e.store.ClaimTranscriptions(t.Context(), "node-a", time.Minute, 10); err != nil || len(jobs) != 1 {
		t.Fatalf("claim: %v, %v", jobs, err)
	}
	b := e.worker(script(t, `cat >/dev/null; echo resumed`), "node-b", time.Second)
	if n, err := b.RunOnce(t.Context()); err != nil || n != 0 {
		t.Fatalf("node B ran %d jobs (%v) while A's lease held", n, err)
	}
	if status, _ := e.outcome(m); status != switchboard.TranscriptionInProgress {
		t.Fatalf("status %s while the job waits", status)
	}
	e.clock.Advance(2 * time.Minute)
	if n, err := b.RunOnce(t.Context()); err != nil || n != 1 {
		t.Fatalf("node B after the lease expired: %d, %v", n, err)
	}
	if status, text := e.outcome(m); status != switchboard.TranscriptionCompleted || text != "resumed" {
		t.Fatalf("got %s %q", status, text)
	}
}

// TestAbandonAfterAttempts: a recording whose workers keep dying is Failed
// rather than tried for ever.
func TestAbandonAfterAttempts(t *testing.T) {
	e := newEnv(t)
	m := e.voiceMail("hello")
	for i := 0; i < 3; i++ {
		if _, err := e.store.ClaimTranscriptions(t.Context(), fmt.Sprint("dead-", i), time.Minute, 10); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(2 * time.Minute)
	}
	ran := false
	w := e.worker(transcriberFunc(func(context.Context, []byte, string) (string, error) { ran = true; return "x", nil }), "w", time.Second)
	if n, err := w.RunOnce(t.Context()); err != nil || n != 1 {
		t.Fatalf("RunOnce: %d, %v", n, err)
	}
	if status, _ := e.outcome(m); status != switchboard.TranscriptionFailed || ran {
		t.Fatalf("status %s, transcriber ran: %v", status, ran)
	}
}

// TestShutdownLeavesJob: a worker stopped mid-run records nothing; the job
// stays for the next one.
func TestShutdownLeavesJob(t *testing.T) {
	e := newEnv(t)
	m := e.voiceMail("hello")
	ctx, cancel := context.WithCancel(t.Context())
	w := e.worker(transcriberFunc(func(ctx context.Context, _ []byte, _ string) (string, error) {
		cancel()
		<-ctx.Done()
		return "", ctx.Err()
	}), "w", time.Minute)
	if _, err := w.RunOnce(ctx); err == nil {
		t.Fatal("RunOnce after shutdown reported success")
	}
	if status, _ := e.outcome(m); status != switchboard.TranscriptionInProgress {
		t.Fatalf("status %s after shutdown, want InProgress", status)
	}
	e.clock.Advance(3 * time.Minute)
	jobs, err := e.store.ClaimTranscriptions(t.Context(), "next", time.Minute, 10)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("job after shutdown: %v, %v", jobs, err)
	}
}

type transcriberFunc func(ctx context.Context, audio []byte, contentType string) (string, error)

func (f transcriberFunc) Transcribe(ctx context.Context, a []byte, ct string) (string, error) {
	return f(ctx, a, ct)
}

func TestNewCommand(t *testing.T) {
	c, err := transcribe.NewCommand("  /usr/bin/stt  --model base.en ")
	if err != nil || c.Path != "/usr/bin/stt" || strings.Join(c.Args, "|") != "--model|base.en" {
		t.Fatalf("%+v, %v", c, err)
	}
	if _, err := transcribe.NewCommand("   "); err == nil {
		t.Fatal("blank command accepted")
	}
}
