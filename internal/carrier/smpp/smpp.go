// Package smpp is a carrier.Carrier that sends and receives SMS through an
// SMSC over SMPP 3.4 (Kannel, Jasmin, an aggregator's gateway), built on
// github.com/linxGnu/gosmpp for the PDUs and the session.
//
// Outbound, Submit sends one submit_sm per part (GSM 03.38 text as
// data_coding 0, anything else as UCS-2, data_coding 8; long texts as
// concatenated parts with one UDH reference per message, or one submit_sm
// with message_payload) with registered_delivery set, and waits for each
// submit_sm_resp: the SMSC's message id of the first part is the
// submission's CarrierID. ESME_RTHROTTLED, ESME_RMSGQFUL and other
// temporary statuses, a lost connection and an SMSC that does not answer
// are carrier.ErrTemporary; other statuses refuse the message for good.
//
// Delivery receipts (deliver_sm with the receipt bit of esm_class) are
// buffered and handed out by Receipts; their deliver_sm_resp goes back when
// the delivery worker has recorded them (Ack), so a receipt is never lost
// with the process: the SMSC delivers it again. A concatenated message is
// Delivered when every part is, DeliveryFailed at the first failed part. A
// receipt for an id this process did not submit (it restarted since) is
// handed out with only its CarrierID; the worker finds the delivery by it.
//
// Inbound, a mobile-originated deliver_sm to one of the server's numbers is
// handed to the InboundReceiver (concatenated parts are put together
// first) and acknowledged when it is stored, or when the receiver refuses
// it for good (an unknown number, which the receiver logs); any other
// failure answers ESME_RX_T_APPN so the SMSC delivers it again.
//
// Exactly once: SMPP has no idempotency key. Within a process Submit
// answers a (MessageID, Recipient) it has answered before without sending
// it again, and a retried long message resends only the parts the SMSC
// did not accept. A crash after the SMSC accepted a submit_sm and before
// the outbox recorded it sends that message again after the restart; the
// window is one submit_sm round trip plus one outbox write.
package smpp

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/linxGnu/gosmpp"
	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/carrier"
	"github.com/switchboardhq/switchboard/internal/config"
)

// Metrics receives a count of each thing the carrier does, for the
// server's metrics. Events: submit_accepted, submit_refused,
// submit_temporary, receipt_delivered, receipt_failed, inbound_received,
// inbound_refused, bind_failed, connection_lost. It must not block.
type Metrics interface {
	Count(event string)
}

// Bind states reported by Status.
const (
	StateConnecting = "connecting"
	StateBound      = "bound"
	StateDown       = "down" // the last bind failed; retrying after a backoff
)

// Status is the carrier's connection as the health check reports it.
type Status struct {
	Carrier   string           `json:"carrier"` // "smpp"
	SMSC      string           `json:"smsc"`    // host:port, no credentials
	State     string           `json:"state"`
	Since     time.Time        `json:"since"`
	LastError string           `json:"lastError,omitempty"`
	Counts    map[string]int64 `json:"counts"`
}

// Carrier is an SMPP carrier. Run keeps it bound; Submit, Receipts, Ack and
// Listen implement carrier.Carrier.
type Carrier struct {
	cfg       config.SMPP
	clock     switchboard.Clock
	logger    *slog.Logger
	metrics   Metrics
	dial      gosmpp.Dialer
	tlsConfig *tls.Config   // with tls=true: the system's roots verify the SMSC
	window    chan struct{} // one slot per submit_sm awaiting its response
	pace      pacer
	mo        chan inbound

	mu      sync.Mutex
	conn    *conn // nil while not bound
	state   string
	since   time.Time
	lastErr string
	retryAt time.Time
	subs    map[subKey]*submission
	parts   map[string]partRef         // SMSC message id of each part of a submission not settled
	pending map[string]*pendingReceipt // receipts handed out until acknowledged, by CarrierID
	order   []string                   // pending's keys, oldest first
	nextRef uint32
	swept   time.Time
	counts  sync.Map // event -> *atomic.Int64
}

type subKey struct {
	messageID int64
	recipient string
}

// submission is what the carrier remembers of one (MessageID, Recipient):
// the parts the SMSC accepted and, once decided, its answer; after that,
// the receipts of its parts.
type submission struct {
	key       subKey
	ref       byte     // the UDH reference of its parts
	ids       []string // the SMSC's id of each part; "" until accepted
	busy      bool     // a Submit of it is running
	result    *carrier.Result
	delivered []bool    // per part, from receipts
	reported  bool      // its receipt is pending or acknowledged
	settled   time.Time // when answered; before that, when first tried
}

type partRef struct {
	sub  *submission
	part int
}

type pendingReceipt struct {
	r   carrier.Receipt
	ack func() // sends the deliver_sm_resp on the connection the receipt came on
	sub *submission
}

// inbound is a mobile-originated deliver_sm and the connection to answer on.
type inbound struct {
	p  *pdu.DeliverSM
	cn *conn
}

// New returns an SMPP carrier over cfg. It does nothing until Run. metrics
// may be nil.
func New(cfg config.SMPP, clock switchboard.Clock, logger *slog.Logger, metrics Metrics) *Carrier {
	c := &Carrier{cfg: cfg, clock: clock, logger: logger, metrics: metrics,
		window: make(chan struct{}, cfg.Window), mo: make(chan inbound, 256),
		state: StateConnecting, since: clock.Now(),
		subs: map[subKey]*submission{}, parts: map[string]partRef{}, pending: map[string]*pendingReceipt{}}
	if cfg.Rate > 0 {
		c.pace.gap = time.Duration(float64(time.Second) / cfg.Rate)
	}
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	c.dial = func(addr string) (net.Conn, error) { return dialer.Dial("tcp", addr) }
	if cfg.TLS {
		host, _, _ := net.SplitHostPort(cfg.Addr)
		c.tlsConfig = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
		c.dial = func(addr string) (net.Conn, error) {
			return tls.DialWithDialer(dialer, "tcp", addr, c.tlsConfig)
		}
	}
	return c
}

var _ carrier.Carrier = (*Carrier)(nil)

func (c *Carrier) count(event string) {
	v, _ := c.counts.LoadOrStore(event, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
	if c.metrics != nil {
		c.metrics.Count(event)
	}
}

// Status reports the bind state and the counts so far.
func (c *Carrier) Status() Status {
	c.mu.Lock()
	s := Status{Carrier: "smpp", SMSC: c.cfg.Addr, State: c.state, Since: c.since, LastError: c.lastErr, Counts: map[string]int64{}}
	c.mu.Unlock()
	c.counts.Range(func(k, v any) bool {
		s.Counts[k.(string)] = v.(*atomic.Int64).Load()
		return true
	})
	return s
}

func (c *Carrier) setState(state, lastErr string, cn *conn, retryAt time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != state {
		c.state, c.since = state, c.clock.Now()
	}
	c.conn, c.retryAt = cn, retryAt
	if lastErr != "" || state == StateBound {
		c.lastErr = lastErr
	}
}

// Run binds to the SMSC and keeps the bind until ctx ends: a refused bind,
// a lost connection or an SMSC restart is retried after a backoff that
// doubles from ReconnectMin to ReconnectMax. Messages sent meanwhile wait
// in the outbox (Submit answers ErrTemporary while unbound).
func (c *Carrier) Run(ctx context.Context) {
	backoff := c.cfg.ReconnectMin
	for ctx.Err() == nil {
		cn, err := c.connect()
		if err != nil {
			c.count("bind_failed")
			msg := bindErrorText(err)
			c.logger.Warn("SMPP bind failed; retrying", "smsc", c.cfg.Addr, "system_id", c.cfg.SystemID, "err", msg, "retry_in", backoff)
			c.setState(StateDown, msg, nil, time.Now().Add(backoff))
			if !sleep(ctx, backoff) {
				break
			}
			backoff = min(2*backoff, c.cfg.ReconnectMax)
			continue
		}
		backoff = c.cfg.ReconnectMin
		c.setState(StateBound, "", cn, time.Time{})
		c.logger.Info("SMPP bound", "smsc", c.cfg.Addr, "system_id", c.cfg.SystemID, "bind", c.cfg.Bind, "tls", c.cfg.TLS, "window", c.cfg.Window)
		select {
		case <-cn.closed:
			c.count("connection_lost")
			c.logger.Warn("SMPP connection lost; reconnecting", "smsc", c.cfg.Addr, "retry_in", backoff)
			c.setState(StateConnecting, "connection lost", nil, time.Now().Add(backoff))
			cn.close()
			if !sleep(ctx, backoff) {
				return
			}
		case <-ctx.Done():
			c.setState(StateConnecting, "", nil, time.Time{})
			cn.close()
			return
		}
	}
}

// bindErrorText says what a failed bind means and what to check.
func bindErrorText(err error) string {
	var be gosmpp.BindError
	if errors.As(err, &be) {
		switch be.CommandStatus {
		case data.ESME_RINVPASWD, data.ESME_RINVSYSID, data.ESME_RBINDFAIL:
			return fmt.Sprintf("the SMSC refused the bind (%s): check system_id and password in --carrier", be.CommandStatus.Desc())
		}
		return fmt.Sprintf("the SMSC refused the bind (%s)", be.CommandStatus.Desc())
	}
	return fmt.Sprintf("cannot reach the SMSC (%v): check its host and port, and tls=", err)
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// ---- outbound

// Submit implements carrier.Carrier.
func (c *Carrier) Submit(ctx context.Context, s carrier.Submission) (carrier.Result, error) {
	if s.MessageID == 0 || s.Recipient == "" {
		return carrier.Result{}, fmt.Errorf("%w: message %d to %q", carrier.ErrInvalid, s.MessageID, s.Recipient)
	}
	if s.Type != switchboard.TypeSMS || len(s.Media) > 0 {
		return carrier.Result{}, fmt.Errorf("%w: SMPP carries SMS text, not %s with %d attachments", carrier.ErrInvalid, s.Type, len(s.Media))
	}
	c.sweep()
	key := subKey{s.MessageID, s.Recipient}
	c.mu.Lock()
	sub := c.subs[key]
	if sub != nil && sub.result != nil {
		r := *sub.result
		c.mu.Unlock()
		return r, nil
	}
	if sub != nil && sub.busy {
		c.mu.Unlock()
		return carrier.Result{}, &carrier.TemporaryError{Reason: "a submit of this message is in progress"}
	}
	cn, retryAt := c.conn, c.retryAt
	if cn == nil {
		c.mu.Unlock()
		c.count("submit_temporary")
		return carrier.Result{}, &carrier.TemporaryError{Reason: "not bound to the SMSC", RetryAfter: max(time.Until(retryAt), 0), NotSent: true}
	}
	if sub == nil {
		c.nextRef++
		sub = &submission{key: key, ref: byte(c.nextRef), settled: c.clock.Now()}
		c.subs[key] = sub
	}
	sub.busy = true
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		sub.busy = false
		c.mu.Unlock()
	}()

	pdus, err := c.build(s, sub.ref)
	if err != nil {
		c.mu.Lock()
		delete(c.subs, key)
		c.mu.Unlock()
		return carrier.Result{}, fmt.Errorf("%w: %v", carrier.ErrInvalid, err)
	}
	c.mu.Lock()
	if len(sub.ids) != len(pdus) {
		sub.ids, sub.delivered = make([]string, len(pdus)), make([]bool, len(pdus))
	}
	c.mu.Unlock()
	for i, p := range pdus {
		c.mu.Lock()
		done := sub.ids[i] != ""
		c.mu.Unlock()
		if done {
			continue // accepted on an earlier try: send only what is missing
		}
		status, err := c.exchange(ctx, cn, p, partRef{sub, i})
		if err != nil {
			if ctx.Err() == nil {
				c.count("submit_temporary")
			}
			return carrier.Result{}, err
		}
		if status == data.ESME_ROK {
			continue
		}
		if temporaryStatus(status) {
			c.count("submit_temporary")
			return carrier.Result{}, &carrier.TemporaryError{Reason: "the SMSC answered " + status.String() + " (" + status.Desc() + ")"}
		}
		code := refusalCode(status)
		c.logger.Warn("SMSC refused a message", "message", s.MessageID, "status", status.String(), "error_code", code)
		c.count("submit_refused")
		return c.settle(sub, carrier.Result{Accepted: false, ErrorCode: code}), nil
	}
	c.count("submit_accepted")
	c.mu.Lock()
	id := sub.ids[0]
	c.mu.Unlock()
	return c.settle(sub, carrier.Result{Accepted: true, CarrierID: id}), nil
}

// settle records a submission's answer, which later Submits repeat.
func (c *Carrier) settle(sub *submission, r carrier.Result) carrier.Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	sub.result, sub.settled = &r, c.clock.Now()
	return r
}

// build makes the submit_sm PDUs of a submission: one per part of
// switchboard.SMSParts (the parts the API counted as segmentCount), with a
// concatenation UDH when there are several, or one with message_payload.
func (c *Carrier) build(s carrier.Submission, ref byte) ([]*pdu.SubmitSM, error) {
	parts, gsm := switchboard.SMSParts(s.Text)
	enc := data.UCS2
	if gsm {
		enc = data.GSM7BIT
	}
	payload := c.cfg.Payload && len(parts) > 1
	if payload {
		parts = []string{s.Text}
	}
	out := make([]*pdu.SubmitSM, 0, len(parts))
	for i, part := range parts {
		p := pdu.NewSubmitSM().(*pdu.SubmitSM)
		p.SourceAddr = pdu.NewAddressWithTonNpi(c.cfg.SourceTON, c.cfg.SourceNPI)
		p.DestAddr = pdu.NewAddressWithTonNpi(c.cfg.DestTON, c.cfg.DestNPI)
		if err := p.SourceAddr.SetAddress(strings.TrimPrefix(s.From, "+")); err != nil {
			return nil, fmt.Errorf("source address %q: %v", s.From, err)
		}
		if err := p.DestAddr.SetAddress(strings.TrimPrefix(s.Recipient, "+")); err != nil {
			return nil, fmt.Errorf("destination address %q: %v", s.Recipient, err)
		}
		p.RegisteredDelivery = data.SM_SMSC_RECEIPT_REQUESTED
		encoded, err := enc.Encode(part)
		if err != nil {
			return nil, fmt.Errorf("encode text: %v", err)
		}
		if payload {
			// message_payload: the whole text in a TLV, short_message empty.
			if err := p.Message.SetMessageDataWithEncoding(nil, enc); err != nil {
				return nil, err
			}
			p.RegisterOptionalParam(pdu.Field{Tag: pdu.TagMessagePayload, Data: encoded})
		} else {
			if err := p.Message.SetMessageDataWithEncoding(encoded, enc); err != nil {
				return nil, err
			}
			if len(parts) > 1 {
				p.Message.SetUDH(pdu.UDH{pdu.NewIEConcatMessage(uint8(len(parts)), uint8(i+1), ref)})
				p.EsmClass |= data.SM_UDH_GSM
			}
		}
		out = append(out, p)
	}
	return out, nil
}

// exchange sends one submit_sm within the window and the rate, and waits
// for its response. The SMSC's id of an accepted part is recorded by the
// reader as the response arrives (onPDU), before any receipt for it.
func (c *Carrier) exchange(ctx context.Context, cn *conn, p *pdu.SubmitSM, ref partRef) (data.CommandStatusType, error) {
	select {
	case c.window <- struct{}{}:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	defer func() { <-c.window }()
	if err := c.pace.wait(ctx); err != nil {
		return 0, err
	}
	seq := p.GetSequenceNumber()
	ch := make(chan pdu.PDU, 1)
	if !cn.await(seq, waiter{ch: ch, ref: ref}) {
		return 0, &carrier.TemporaryError{Reason: "the SMSC connection closed"}
	}
	defer cn.forget(seq)
	if err := cn.tx.Transceiver().Submit(p); err != nil {
		return 0, &carrier.TemporaryError{Reason: "send submit_sm: " + err.Error()}
	}
	t := time.NewTimer(c.cfg.SubmitTimeout)
	defer t.Stop()
	select {
	case resp := <-ch:
		if resp == nil {
			return 0, &carrier.TemporaryError{Reason: "the SMSC connection closed before the SMSC answered"}
		}
		return resp.GetHeader().CommandStatus, nil
	case <-t.C:
		return 0, &carrier.TemporaryError{Reason: fmt.Sprintf("no submit_sm_resp within %s", c.cfg.SubmitTimeout)}
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// temporaryStatus reports whether a refusal is worth retrying later.
func temporaryStatus(s data.CommandStatusType) bool {
	switch s {
	case data.ESME_RTHROTTLED, data.ESME_RMSGQFUL, data.ESME_RSYSERR, data.ESME_RX_T_APPN, data.ESME_RINVBNDSTS:
		return true
	}
	return false
}

// refusalCode is the deliveryErrorCode of a submit the SMSC refused for
// good: RingCentral's upstream-gateway codes.
func refusalCode(s data.CommandStatusType) string {
	switch s {
	case data.ESME_RINVDSTADR, data.ESME_RINVDSTTON, data.ESME_RINVDSTNPI:
		return "SMS-UP-410" // invalid destination
	case data.ESME_RINVMSGLEN:
		return "SMS-UP-432" // content too long
	}
	return "SMS-UP-500"
}

// pacer spaces submit_sm by a fixed gap (the rate option). It paces on
// the wall clock: it shapes traffic, it decides nothing that is recorded.
type pacer struct {
	mu   sync.Mutex
	gap  time.Duration
	next time.Time
}

func (p *pacer) wait(ctx context.Context) error {
	if p.gap <= 0 {
		return nil
	}
	p.mu.Lock()
	now := time.Now()
	at := p.next
	if at.Before(now) {
		at = now
	}
	p.next = at.Add(p.gap)
	p.mu.Unlock()
	if d := time.Until(at); d > 0 && !sleep(ctx, d) {
		return ctx.Err()
	}
	return nil
}

// ---- receipts

// Receipts implements carrier.Carrier: the delivery receipts received and
// not yet acknowledged, oldest first.
func (c *Carrier) Receipts(ctx context.Context, now time.Time) ([]carrier.Receipt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]carrier.Receipt, 0, len(c.order))
	for _, k := range c.order {
		out = append(out, c.pending[k].r)
	}
	return out, nil
}

// Ack implements carrier.Carrier: the receipt is recorded, so its
// deliver_sm is answered and the submission forgotten.
func (c *Carrier) Ack(ctx context.Context, r carrier.Receipt) error {
	c.mu.Lock()
	p := c.pending[r.CarrierID]
	if p == nil {
		c.mu.Unlock()
		return nil
	}
	delete(c.pending, r.CarrierID)
	for i, k := range c.order {
		if k == r.CarrierID {
			c.order = append(c.order[:i], c.order[i+1:]...)
			break
		}
	}
	if p.sub != nil {
		c.forgetLocked(p.sub)
	}
	c.mu.Unlock()
	p.ack()
	return nil
}

func (c *Carrier) forgetLocked(sub *submission) {
	for _, id := range sub.ids {
		if id != "" {
			delete(c.parts, id)
		}
	}
	delete(c.subs, sub.key)
}

// Memory bounds: answers to refused submissions are kept for repeats this
// long, and accepted ones whose receipt never came are dropped after the
// longest validity period SMSCs commonly apply.
const (
	refusedKept  = time.Hour
	acceptedKept = 72 * time.Hour
)

// sweep drops what the carrier no longer needs to remember, once a minute.
func (c *Carrier) sweep() {
	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if now.Sub(c.swept) < time.Minute {
		return
	}
	c.swept = now
	for _, sub := range c.subs {
		if sub.busy || sub.reported {
			continue
		}
		// settled is when the answer was decided or, before that, when the
		// first try began: a message never answered (its delivery gave up)
		// goes after acceptedKept too.
		refused := sub.result != nil && !sub.result.Accepted
		if (refused && now.Sub(sub.settled) > refusedKept) || now.Sub(sub.settled) > acceptedKept {
			c.forgetLocked(sub)
		}
	}
}

// receipt handles a delivery receipt: it records the part's outcome and,
// when the submission's outcome is known, makes a Receipt pending until
// Ack. Receipts not needed (an intermediate state, a part of a message
// still waiting for others, one already reported) are answered at once.
func (c *Carrier) receipt(cn *conn, p *pdu.DeliverSM) {
	id, state, errText := parseReceipt(p)
	ack := func() { cn.respond(p.GetResponse()) }
	delivered, final := receiptOutcome(state)
	if id == "" || !final {
		ack()
		return
	}
	code := ""
	if !delivered {
		code = receiptCode(state)
		c.logger.Info("SMSC reports a failed delivery", "carrier_id", id, "stat", state, "err", errText, "error_code", code)
	}
	c.mu.Lock()
	ref, known := c.parts[id]
	key, sub := id, (*submission)(nil)
	r := carrier.Receipt{CarrierID: id, Delivered: delivered, ErrorCode: code, At: c.clock.Now()}
	if known {
		sub = ref.sub
		key = sub.ids[0]
		r.MessageID, r.Recipient, r.CarrierID = sub.key.messageID, sub.key.recipient, key
		if p := c.pending[key]; p != nil {
			// Delivered again (the SMSC did not get our answer in time, or
			// the connection was replaced): answer this copy on Ack instead.
			p.ack = ack
			c.mu.Unlock()
			return
		}
		if sub.reported {
			c.mu.Unlock()
			ack()
			return
		}
		if delivered {
			sub.delivered[ref.part] = true
			for _, d := range sub.delivered {
				if !d {
					c.mu.Unlock()
					ack() // the others' receipts decide
					return
				}
			}
		}
		sub.reported = true
	} else if p := c.pending[key]; p != nil {
		p.ack = ack
		c.mu.Unlock()
		return
	}
	c.pending[key] = &pendingReceipt{r: r, ack: ack, sub: sub}
	c.order = append(c.order, key)
	c.mu.Unlock()
	if delivered {
		c.count("receipt_delivered")
	} else {
		c.count("receipt_failed")
	}
}

// parseReceipt reads a receipt's message id, final state and error: from
// the receipted_message_id and message_state TLVs when the SMSC sends
// them, otherwise from the text "id:… sub:… dlvrd:… submit date:… done
// date:… stat:… err:…" of SMPP 3.4's appendix B.
func parseReceipt(p *pdu.DeliverSM) (id, state, errText string) {
	text, _ := p.Message.GetMessage()
	fields := receiptFields(text)
	id, state, errText = fields["id"], strings.ToUpper(fields["stat"]), fields["err"]
	if f, ok := p.OptionalParameters[pdu.TagReceiptedMessageID]; ok {
		id = f.String()
	}
	if f, ok := p.OptionalParameters[pdu.TagMessageStateOption]; ok && len(f.Data) == 1 {
		if s, ok := messageStates[f.Data[0]]; ok {
			state = s
		}
	}
	return id, state, errText
}

// messageStates are the message_state TLV's values as the receipt text
// spells them.
var messageStates = map[byte]string{1: "ENROUTE", 2: "DELIVRD", 3: "EXPIRED", 4: "DELETED", 5: "UNDELIV", 6: "ACCEPTD", 7: "UNKNOWN", 8: "REJECTD"}

func receiptFields(text string) map[string]string {
	out := map[string]string{}
	// "submit date" and "done date" hold a space; nothing else does.
	text = strings.NewReplacer("submit date:", "submit_date:", "done date:", "done_date:").Replace(text)
	for _, f := range strings.Fields(text) {
		k, v, ok := strings.Cut(f, ":")
		if ok {
			if _, seen := out[strings.ToLower(k)]; !seen {
				out[strings.ToLower(k)] = v
			}
		}
	}
	return out
}

// receiptOutcome maps a receipt state to delivered, and final (the
// message will not change state again).
func receiptOutcome(state string) (delivered, final bool) {
	switch state {
	case "DELIVRD":
		return true, true
	case "EXPIRED", "DELETED", "UNDELIV", "REJECTD", "UNKNOWN":
		return false, true
	}
	return false, false // ENROUTE, ACCEPTD, anything else: wait for the next
}

// receiptCode is the deliveryErrorCode of a failed delivery: RingCentral's
// recipient-carrier codes.
func receiptCode(state string) string {
	switch state {
	case "REJECTD":
		return "SMS-CAR-430" // refused by the recipient's carrier (spam filter)
	case "EXPIRED", "UNKNOWN":
		return "SMS-CAR-104" // no final status in time
	}
	return "SMS-CAR-411" // undeliverable
}

// ---- inbound

// Listen implements carrier.Carrier: mobile-originated SMS are handed to r
// until ctx ends.
func (c *Carrier) Listen(ctx context.Context, r switchboard.InboundReceiver) error {
	parts := map[string]*concat{}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case in := <-c.mo:
			c.deliver(ctx, r, in, parts)
		}
	}
}

// concat collects the parts of a concatenated MO message.
type concat struct {
	texts []string
	have  int
	first time.Time
}

// concatKept bounds how long the first parts of a concatenated message
// wait for the rest.
const concatKept = time.Hour

func (c *Carrier) deliver(ctx context.Context, r switchboard.InboundReceiver, in inbound, parts map[string]*concat) {
	p := in.p
	text, err := moText(p)
	if err != nil {
		c.logger.Warn("SMPP inbound: undecodable text, refused", "from", p.SourceAddr.Address(), "to", p.DestAddr.Address(), "err", err)
		in.cn.respond(refuse(p, data.ESME_RINVMSGLEN))
		return
	}
	from, to := e164(p.SourceAddr), e164(p.DestAddr)
	idText := text
	if total, n, ref, ok := p.Message.UDH().GetConcatInfo(); ok && total > 1 && n >= 1 && n <= total {
		key := fmt.Sprintf("%s|%s|%d|%d", from, to, ref, total)
		now := c.clock.Now()
		for k, m := range parts {
			if now.Sub(m.first) > concatKept {
				c.logger.Warn("SMPP inbound: parts of a concatenated message never completed, dropped", "from", from, "to", to, "parts", m.have)
				delete(parts, k)
			}
		}
		m := parts[key]
		if m == nil {
			m = &concat{texts: make([]string, total), first: now}
			parts[key] = m
		}
		if m.texts[n-1] == "" {
			m.have++
		}
		m.texts[n-1] = text
		if m.have < int(total) {
			// Answered at once: an SMSC may wait for it before sending the
			// next part. The parts live in memory until the last arrives.
			in.cn.respond(p.GetResponse())
			return
		}
		delete(parts, key)
		text = strings.Join(m.texts, "")
		idText = fmt.Sprintf("%s|ref %d", text, ref)
	}
	msg := switchboard.InboundMessage{Type: switchboard.TypeSMS, From: from, To: to, Text: text,
		Received: c.clock.Now(), SourceID: moSourceID(p, from, to, idText)}
	_, err = r.Receive(ctx, msg)
	if e := switchboard.AsError(err); err != nil && (e == nil || e.Kind().Temporary()) {
		// Not stored: the SMSC delivers it again.
		c.logger.Error("SMPP inbound: not stored, the SMSC will deliver it again", "from", from, "to", to, "err", err)
		in.cn.respond(refuse(p, data.ESME_RX_T_APPN))
		return
	}
	if err != nil {
		c.count("inbound_refused") // logged by the receiver (an unknown number)
	} else {
		c.count("inbound_received")
	}
	in.cn.respond(p.GetResponse())
}

// refuse is the deliver_sm_resp that refuses p with status.
func refuse(p *pdu.DeliverSM, status data.CommandStatusType) pdu.PDU {
	resp := p.GetResponse().(*pdu.DeliverSMResp)
	resp.CommandStatus = status
	return resp
}

// moText decodes a deliver_sm's text by its data_coding, from
// short_message or, when that is empty, message_payload.
func moText(p *pdu.DeliverSM) (string, error) {
	enc := p.Message.Encoding()
	if enc == nil {
		enc = data.GSM7BIT
	}
	raw, _ := p.Message.GetMessageData()
	if f, ok := p.OptionalParameters[pdu.TagMessagePayload]; ok && len(raw) == 0 {
		raw = f.Data
	}
	if len(raw) == 0 {
		return "", nil
	}
	return enc.Decode(raw)
}

// e164 writes an international number with its +; other numbers (short
// codes, alphanumeric senders) as they are.
func e164(a pdu.Address) string {
	s := a.Address()
	if a.Ton() == data.GSM_TON_INTERNATIONAL && !strings.HasPrefix(s, "+") {
		return "+" + s
	}
	if _, err := strconv.ParseUint(s, 10, 64); err == nil && len(s) > 8 {
		return "+" + s
	}
	return s
}

// moSourceID identifies an MO message so that a redelivery (the SMSC did
// not get our answer) is stored once. SMPP 3.4 gives MO messages no id;
// the handset's message reference, when the SMSC passes it as
// user_message_reference, with sender, recipient and a hash of the text,
// tells a redelivery from a new message. Without it nothing tells them
// apart, and no SourceID is set: a second identical text is a new message.
func moSourceID(p *pdu.DeliverSM, from, to, text string) string {
	f, ok := p.OptionalParameters[pdu.TagUserMessageReference]
	if !ok || len(f.Data) == 0 {
		return ""
	}
	h := sha256.Sum256([]byte(text))
	return fmt.Sprintf("smpp:%s:%s:%s:%s", from, to, hex.EncodeToString(f.Data), hex.EncodeToString(h[:8]))
}
