package carrier

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"sync"
	"time"

	"github.com/switchboardhq/switchboard"
)

// SettledRetention is how long the simulator remembers a submission after it
// is settled (its receipt acknowledged, or it was refused). A resubmit within
// it returns the first answer; after it, the submission is new again. The
// delivery worker never resubmits a settled message, so this only bounds
// memory.
const SettledRetention = 24 * time.Hour

// Simulator is the default Carrier: an in-memory carrier that fails by
// rules. It is deterministic: with the same clock readings, seed and rules
// it gives the same answers. It is safe for concurrent use.
type Simulator struct {
	clock switchboard.Clock
	seed  int64

	mu      sync.Mutex
	c       *compiled
	subs    map[key]*entry
	pending map[key]*entry // accepted, receipt not yet acknowledged
	settled []settledKey   // in settling order, for forgetting

	receiver  switchboard.InboundReceiver // while Listen runs
	listening chan struct{}               // closed when Listen starts
}

type key struct {
	id        int64
	recipient string
}

type entry struct {
	result  Result
	receipt Receipt // when result.Accepted
}

type settledKey struct {
	k  key
	at time.Time
}

var _ Carrier = (*Simulator)(nil)

// NewSimulator returns a simulator with DefaultRules, reading time from
// clock; seed is the default seed of percentage rules.
func NewSimulator(clock switchboard.Clock, seed int64) *Simulator {
	c, err := compile(DefaultRules(), clock.Now(), seed)
	if err != nil {
		panic(err) // the defaults are valid
	}
	return &Simulator{clock: clock, seed: seed, c: c, subs: map[key]*entry{}, pending: map[key]*entry{},
		listening: make(chan struct{})}
}

// SetRules validates r and, when valid, replaces the rules. Relative outages
// (forSeconds) start now. Submissions already accepted keep their receipt's
// time and outcome; already answered ones keep their answer.
func (s *Simulator) SetRules(r Rules) error {
	c, err := compile(r, s.clock.Now(), s.seed)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.c = c
	s.mu.Unlock()
	return nil
}

// Rules returns the rules in force, with outages as absolute windows.
func (s *Simulator) Rules() Rules {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.c.clone()
}

// Submit implements Carrier.
func (s *Simulator) Submit(ctx context.Context, sub Submission) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	switch {
	case sub.MessageID <= 0:
		return Result{}, fmt.Errorf("%w: message id %d", ErrInvalid, sub.MessageID)
	case sub.Recipient == "":
		return Result{}, fmt.Errorf("%w: no recipient", ErrInvalid)
	case sub.Type != switchboard.TypeSMS && sub.Type != switchboard.TypeFax:
		return Result{}, fmt.Errorf("%w: type %q does not go through a carrier", ErrInvalid, sub.Type)
	}
	now := s.clock.Now()
	k := key{sub.MessageID, sub.Recipient}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.forget(now)
	if e, ok := s.subs[k]; ok {
		return e.result, nil
	}
	if in, end := s.c.outage(now); in {
		retry := DefaultOutageRetryAfter
		if !end.IsZero() {
			retry = end.Sub(now)
		}
		return Result{}, &TemporaryError{Reason: "carrier unavailable (simulated outage)", RetryAfter: retry}
	}
	e := &entry{result: Result{CarrierID: carrierID(k)}}
	s.subs[k] = e
	for i := range s.c.submit {
		if m := &s.c.submit[i]; m.matches(&sub) {
			e.result.ErrorCode = m.errorCode
			s.settled = append(s.settled, settledKey{k, now})
			return e.result, nil
		}
	}
	e.result.Accepted = true
	e.receipt = Receipt{MessageID: k.id, Recipient: k.recipient, CarrierID: e.result.CarrierID, Delivered: true, At: now.Add(s.c.delay)}
	for i := range s.c.deliver {
		if m := &s.c.deliver[i]; m.matches(&sub) {
			e.receipt.Delivered, e.receipt.ErrorCode = false, m.errorCode
			break
		}
	}
	s.pending[k] = e
	return e.result, nil
}

// Receipts implements Carrier. A zero now means the clock's now.
func (s *Simulator) Receipts(ctx context.Context, now time.Time) ([]Receipt, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if now.IsZero() {
		now = s.clock.Now()
	}
	s.mu.Lock()
	var out []Receipt
	for _, e := range s.pending {
		if !e.receipt.At.After(now) {
			out = append(out, e.receipt)
		}
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b Receipt) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.MessageID, b.MessageID), cmp.Compare(a.Recipient, b.Recipient))
	})
	return out, nil
}

// Ack implements Carrier.
func (s *Simulator) Ack(ctx context.Context, r Receipt) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	k := key{r.MessageID, r.Recipient}
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.pending[k]; ok {
		delete(s.pending, k)
		s.settled = append(s.settled, settledKey{k, now})
	}
	s.forget(now)
	return nil
}

// forget drops submissions settled more than SettledRetention ago. The
// caller holds s.mu.
func (s *Simulator) forget(now time.Time) {
	n := 0
	for n < len(s.settled) && now.Sub(s.settled[n].at) > SettledRetention {
		delete(s.subs, s.settled[n].k)
		n++
	}
	if n > 0 {
		s.settled = slices.Delete(s.settled, 0, n)
	}
}

// carrierID is the simulator's id of a submission. It depends only on the
// message and recipient, so a resubmit after a restart gets the same id.
func carrierID(k key) string {
	h := fnv.New64a()
	_ = binary.Write(h, binary.BigEndian, k.id)
	_, _ = h.Write([]byte(k.recipient))
	return fmt.Sprintf("SIM-%016x", mix(h.Sum64()))
}

// draw is a uniform number in [0, 1) fixed by seed, message and recipient.
func draw(seed, id int64, recipient string) float64 {
	h := fnv.New64a()
	_ = binary.Write(h, binary.BigEndian, seed)
	_ = binary.Write(h, binary.BigEndian, id)
	_, _ = h.Write([]byte(recipient))
	return float64(mix(h.Sum64())>>11) / (1 << 53)
}

// mix is the SplitMix64 finalizer: it spreads FNV's weak low bits.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// RulesJSON returns the rules as JSON, for the admin API.
func (s *Simulator) RulesJSON() ([]byte, error) { return json.Marshal(s.Rules()) }

// SetRulesJSON parses and validates JSON rules and applies them.
func (s *Simulator) SetRulesJSON(b []byte) error {
	rules, err := ParseRules(b)
	if err != nil {
		return err
	}
	return s.SetRules(rules)
}
