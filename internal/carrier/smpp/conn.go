package smpp

import (
	"sync"

	"github.com/linxGnu/gosmpp"
	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"

	"github.com/switchboardhq/switchboard/internal/config"
)

// conn is one bind: a transceiver session, or a transmitter and a
// receiver session. It matches submit_sm_resp to the waiting Submit by
// sequence number and routes what the SMSC sends (receipts, MO messages).
type conn struct {
	c        *Carrier
	tx       *gosmpp.Session // submits go here
	sessions []*gosmpp.Session

	mu      sync.Mutex
	waiting map[int32]waiter
	done    bool
	closed  chan struct{} // closed when a session of the bind closes
}

type waiter struct {
	ch  chan pdu.PDU
	ref partRef
}

// connect binds as configured. Sessions do not rebind by themselves: Run
// owns reconnecting, with its backoff and state.
func (c *Carrier) connect() (*conn, error) {
	cn := &conn{c: c, waiting: map[int32]waiter{}, closed: make(chan struct{})}
	auth := gosmpp.Auth{SMSC: c.cfg.Addr, SystemID: c.cfg.SystemID, Password: c.cfg.Password, SystemType: c.cfg.SystemType}
	open := func(connector gosmpp.Connector) (*gosmpp.Session, error) {
		var s *gosmpp.Session
		settings := gosmpp.Settings{
			// The SMSC answers enquire_link: silence longer than this
			// means the connection is dead.
			ReadTimeout:  3 * c.cfg.EnquireLink,
			WriteTimeout: c.cfg.SubmitTimeout,
			EnquireLink:  c.cfg.EnquireLink,
			OnAllPDU: func(p pdu.PDU) (pdu.PDU, bool) {
				return cn.onPDU(p)
			},
			OnClosed: func(gosmpp.State) { cn.markClosed() },
		}
		s, err := gosmpp.NewSession(connector, settings, -1)
		return s, err
	}
	var connectors []gosmpp.Connector
	if c.cfg.Bind == config.BindTransmitterReceiver {
		connectors = []gosmpp.Connector{gosmpp.TXConnector(c.dial, auth), gosmpp.RXConnector(c.dial, auth)}
	} else {
		connectors = []gosmpp.Connector{gosmpp.TRXConnector(c.dial, auth)}
	}
	for _, connector := range connectors {
		s, err := open(connector)
		if err != nil {
			cn.close()
			return nil, err
		}
		cn.sessions = append(cn.sessions, s)
	}
	cn.tx = cn.sessions[0]
	return cn, nil
}

// onPDU handles what the SMSC sends, on the session's reader. Its answer,
// when not nil, goes back at once; deliver_sm are answered later.
func (cn *conn) onPDU(p pdu.PDU) (pdu.PDU, bool) {
	switch p := p.(type) {
	case *pdu.SubmitSMResp:
		cn.answered(p.GetSequenceNumber(), p, p.MessageID)
	case *pdu.GenericNack:
		cn.answered(p.GetSequenceNumber(), p, "")
	case *pdu.EnquireLink:
		return p.GetResponse(), false
	case *pdu.Unbind:
		return p.GetResponse(), true
	case *pdu.DeliverSM:
		if p.EsmClass&data.SM_SMSC_DLV_RCPT_TYPE != 0 {
			cn.c.receipt(cn, p)
			return nil, false
		}
		cn.c.mo <- inbound{p: p, cn: cn}
	case *pdu.EnquireLinkResp, *pdu.UnbindResp:
	default:
		if p.CanResponse() {
			resp := pdu.NewGenericNack().(*pdu.GenericNack)
			resp.SetSequenceNumber(p.GetSequenceNumber())
			resp.CommandStatus = data.ESME_RINVCMDID
			return resp, false
		}
	}
	return nil, false
}

// answered hands a response to its Submit. The id of an accepted part is
// recorded here, on the reader, so a receipt read next finds it.
func (cn *conn) answered(seq int32, p pdu.PDU, messageID string) {
	cn.mu.Lock()
	w, ok := cn.waiting[seq]
	delete(cn.waiting, seq)
	cn.mu.Unlock()
	if !ok {
		return // its Submit gave up waiting
	}
	if p.GetHeader().CommandStatus == data.ESME_ROK && messageID != "" {
		c := cn.c
		c.mu.Lock()
		w.ref.sub.ids[w.ref.part] = messageID
		c.parts[messageID] = w.ref
		c.mu.Unlock()
	}
	w.ch <- p
}

// await registers a Submit waiting for the response to seq; false when
// the bind is gone.
func (cn *conn) await(seq int32, w waiter) bool {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	if cn.done {
		return false
	}
	cn.waiting[seq] = w
	return true
}

func (cn *conn) forget(seq int32) {
	cn.mu.Lock()
	delete(cn.waiting, seq)
	cn.mu.Unlock()
}

// respond sends a response on this bind. On a bind that has closed it is
// dropped: the SMSC delivers the request again on the next one.
func (cn *conn) respond(p pdu.PDU) {
	cn.mu.Lock()
	done := cn.done
	cn.mu.Unlock()
	if done {
		return
	}
	s := cn.sessions[len(cn.sessions)-1] // the receiving session: receiver or transceiver
	_ = s.Transceiver().Submit(p)
}

// markClosed ends the bind: waiting Submits learn the connection is gone.
func (cn *conn) markClosed() {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	if cn.done {
		return
	}
	cn.done = true
	for seq, w := range cn.waiting {
		close(w.ch)
		delete(cn.waiting, seq)
	}
	close(cn.closed)
}

func (cn *conn) close() {
	cn.markClosed()
	for _, s := range cn.sessions {
		_ = s.Close()
	}
}
