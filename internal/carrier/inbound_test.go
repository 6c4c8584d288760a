package carrier

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
)

// recorder is an InboundReceiver that keeps what it is given.
type recorder struct {
	mu  sync.Mutex
	got []switchboard.InboundMessage
	err error
}

func (r *recorder) Receive(_ context.Context, in switchboard.InboundMessage) (*switchboard.Message, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return nil, r.err
	}
	r.got = append(r.got, in)
	return &switchboard.Message{ID: int64(len(r.got)), Type: in.Type, Subject: in.Text}, nil
}

func TestSimulatorInbound(t *testing.T) {
	at := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	sim := NewSimulator(switchboard.NewManualClock(func() time.Time { return at }), 1)
	rec := &recorder{}
	sms := switchboard.InboundMessage{Type: switchboard.TypeSMS, From: "+15550001111", To: "+16505550101", Text: "hi"}

	// Before Listen, Receive waits (a server still starting); it gives up
	// when its context ends.
	short, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := sim.Receive(short, sms); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Receive without a listener: %v, want a context error", err)
	}
	// A Receive already waiting is served as soon as Listen starts.
	done := make(chan error, 1)
	go func() {
		m, err := sim.Receive(t.Context(), sms)
		if err == nil && m.Subject != "hi" {
			err = errors.New("wrong message answered")
		}
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	lctx, stop := context.WithCancel(t.Context())
	listened := make(chan error, 1)
	go func() { listened <- sim.Listen(lctx, rec) }()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(rec.got) != 1 || !rec.got[0].Received.Equal(at) || rec.got[0].To != "+16505550101" {
		t.Fatalf("receiver got %+v", rec.got)
	}
	// A refusal by the receiver is the caller's answer.
	rec.err = switchboard.NotFound("to", "+16505559999")
	if _, err := sim.Receive(t.Context(), sms); switchboard.AsError(err) == nil {
		t.Fatalf("refusal: %v", err)
	}
	rec.err = nil
	// Voicemail does not come through a carrier.
	if _, err := sim.Receive(t.Context(), switchboard.InboundMessage{Type: switchboard.TypeVoiceMail, To: "+16505550101"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("voicemail through the carrier: %v", err)
	}
	stop()
	if err := <-listened; !errors.Is(err, context.Canceled) {
		t.Fatalf("Listen returned %v", err)
	}
	// Stopped listening: Receive waits again.
	short2, cancel2 := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel2()
	if _, err := sim.Receive(short2, sms); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Receive after Listen ended: %v", err)
	}
	if len(rec.got) != 1 {
		t.Fatalf("receiver got %d messages, want 1", len(rec.got))
	}
}
