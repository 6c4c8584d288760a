package carrier

import (
	"context"
	"fmt"

	"github.com/switchboardhq/switchboard"
)

// The simulator's inbound direction. A real gateway receives messages from
// its network (an SMPP deliver_sm, an HTTP callback) and hands them to the
// receiver given to Listen; the simulator has no network, so Receive plays
// the network's part: the admin API's /switchboard/v1/inbound endpoints
// call it, and the message takes the same path a real one would.

// Listen implements Carrier: while it runs, Receive hands messages to r.
func (s *Simulator) Listen(ctx context.Context, r switchboard.InboundReceiver) error {
	s.mu.Lock()
	s.receiver = r
	close(s.listening)
	s.mu.Unlock()
	<-ctx.Done()
	s.mu.Lock()
	s.receiver = nil
	s.listening = make(chan struct{})
	s.mu.Unlock()
	return ctx.Err()
}

// Receive delivers a simulated inbound SMS, MMS or fax from the network to
// the listening receiver and returns its answer. It waits for Listen to be
// running (or for ctx to end), so a server that is still starting up does
// not refuse the first message.
func (s *Simulator) Receive(ctx context.Context, in switchboard.InboundMessage) (*switchboard.Message, error) {
	if in.Type != switchboard.TypeSMS && in.Type != switchboard.TypeFax {
		return nil, fmt.Errorf("%w: a carrier carries SMS, MMS and fax, not %q", ErrInvalid, in.Type)
	}
	for {
		s.mu.Lock()
		r, ready := s.receiver, s.listening
		s.mu.Unlock()
		if r != nil {
			if in.Received.IsZero() {
				in.Received = s.clock.Now()
			}
			return r.Receive(ctx, in)
		}
		select {
		case <-ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
