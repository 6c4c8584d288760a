package config

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// CarrierSimulator is the default carrier: the in-process simulator.
const CarrierSimulator = "simulator"

// SMPP is an SMPP 3.4 carrier's settings, parsed from
// smpp://SYSTEM_ID:PASSWORD@HOST:PORT?options (ParseCarrier).
type SMPP struct {
	Addr       string // host:port of the SMSC
	SystemID   string
	Password   string
	SystemType string
	// Bind is BindTransceiver (one connection both ways) or
	// BindTransmitterReceiver (one connection each way).
	Bind        string
	TLS         bool  // SMPP over TLS
	SourceTON   uint8 // type of number of source addresses (1: international)
	SourceNPI   uint8 // numbering plan of source addresses (1: ISDN/E.164)
	DestTON     uint8
	DestNPI     uint8
	Window      int           // submit_sm awaiting their response at once
	Rate        float64       // submit_sm per second; 0: as fast as the window allows
	Payload     bool          // long texts as one submit_sm with message_payload instead of UDH parts
	EnquireLink time.Duration // keep-alive interval
	// SubmitTimeout is how long a submit_sm may wait for its response
	// before the submission counts as a temporary failure.
	SubmitTimeout time.Duration
	ReconnectMin  time.Duration // first reconnect delay after a lost or refused bind; doubles
	ReconnectMax  time.Duration
}

// SMPP bind modes.
const (
	BindTransceiver         = "transceiver"
	BindTransmitterReceiver = "transmitter,receiver"
)

// defaultSMPP holds the defaults of the options a carrier URL may leave out.
func defaultSMPP() SMPP {
	return SMPP{Bind: BindTransceiver, SourceTON: 1, SourceNPI: 1, DestTON: 1, DestNPI: 1,
		Window: 10, EnquireLink: 30 * time.Second, SubmitTimeout: 30 * time.Second,
		ReconnectMin: time.Second, ReconnectMax: time.Minute}
}

// ParseCarrier reads the --carrier setting: "simulator" (or empty) gives
// nil, an smpp:// URL its settings. Errors say what to change.
func ParseCarrier(s string) (*SMPP, error) {
	if s == "" || s == CarrierSimulator {
		return nil, nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "smpp" {
		return nil, fmt.Errorf("carrier %q: want simulator or smpp://SYSTEM_ID:PASSWORD@HOST:PORT", RedactCarrier(s))
	}
	c := defaultSMPP()
	if _, _, err := net.SplitHostPort(u.Host); err != nil {
		return nil, fmt.Errorf("carrier %q: want the SMSC as HOST:PORT, for example smpp://ME:SECRET@smsc.example.com:2775", RedactCarrier(s))
	}
	c.Addr = u.Host
	if u.User != nil {
		c.SystemID = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	if c.SystemID == "" {
		return nil, fmt.Errorf("carrier %q: the system_id (the user part of the URL) is empty", RedactCarrier(s))
	}
	q := u.Query()
	var errs []string
	bad := func(name, want string) { errs = append(errs, fmt.Sprintf("%s=%q: want %s", name, q.Get(name), want)) }
	for name := range q {
		v := q.Get(name)
		switch name {
		case "bind":
			switch v {
			case BindTransceiver, BindTransmitterReceiver:
				c.Bind = v
			default:
				bad(name, "transceiver or transmitter,receiver")
			}
		case "system_type":
			c.SystemType = v
		case "tls":
			if c.TLS, err = strconv.ParseBool(v); err != nil {
				bad(name, "true or false")
			}
		case "payload":
			if c.Payload, err = strconv.ParseBool(v); err != nil {
				bad(name, "true or false")
			}
		case "source_ton", "source_npi", "dest_ton", "dest_npi":
			n, err := strconv.ParseUint(v, 10, 8)
			if err != nil {
				bad(name, "a number 0 to 255")
				continue
			}
			*map[string]*uint8{"source_ton": &c.SourceTON, "source_npi": &c.SourceNPI, "dest_ton": &c.DestTON, "dest_npi": &c.DestNPI}[name] = uint8(n)
		case "window":
			if c.Window, err = strconv.Atoi(v); err != nil || c.Window < 1 || c.Window > 255 {
				bad(name, "1 to 255 submit_sm in flight")
			}
		case "rate":
			if c.Rate, err = strconv.ParseFloat(v, 64); err != nil || c.Rate < 0 {
				bad(name, "submit_sm per second (0: no limit)")
			}
		case "enquire_link", "submit_timeout", "reconnect_min", "reconnect_max":
			d, err := time.ParseDuration(v)
			if err != nil || d < 100*time.Millisecond {
				bad(name, "a duration of at least 100ms, such as 30s")
				continue
			}
			*map[string]*time.Duration{"enquire_link": &c.EnquireLink, "submit_timeout": &c.SubmitTimeout,
				"reconnect_min": &c.ReconnectMin, "reconnect_max": &c.ReconnectMax}[name] = d
		default:
			errs = append(errs, fmt.Sprintf("unknown option %q (known: bind, system_type, tls, payload, source_ton, source_npi, dest_ton, dest_npi, window, rate, enquire_link, submit_timeout, reconnect_min, reconnect_max)", name))
		}
	}
	if c.ReconnectMax < c.ReconnectMin {
		errs = append(errs, fmt.Sprintf("reconnect_max %s is below reconnect_min %s", c.ReconnectMax, c.ReconnectMin))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("carrier %q: %s", RedactCarrier(s), strings.Join(errs, "; "))
	}
	return &c, nil
}

// RedactCarrier hides the password of a carrier URL, for logs and
// `switchboard config`.
func RedactCarrier(s string) string {
	if _, err := url.Parse(s); err != nil && strings.Contains(s, "@") {
		return "(a carrier URL that does not parse)"
	}
	return redact(s)
}
