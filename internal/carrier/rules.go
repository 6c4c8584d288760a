package carrier

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/switchboardhq/switchboard"
)

// Stage is when a rule fails a message.
type Stage string

const (
	// StageSubmit refuses the submission: Submit returns a Result that is
	// not Accepted (the message becomes SendingFailed).
	StageSubmit Stage = "submit"
	// StageDelivery accepts the submission and reports a failed delivery in
	// its receipt (SMS: DeliveryFailed; fax: SendingFailed).
	StageDelivery Stage = "delivery"
)

// TypeMMS is the rule type that selects SMS submissions with media. Type SMS
// selects every SMS, with media or not.
const TypeMMS switchboard.MessageType = "MMS"

// Defaults and bounds of Rules.
const (
	DefaultDeliveryDelay    = 2 * time.Second
	MaxDeliveryDelaySeconds = 24 * 60 * 60
	MaxRules                = 100
	MaxOutages              = 100
	MaxMatchLength          = 1000
	// DefaultOutageRetryAfter is the retry hint during an outage without an end.
	DefaultOutageRetryAfter = 60 * time.Second
)

// Rules is how the simulator behaves: its JSON form is the config file and
// the admin API body. See the package documentation for the format.
type Rules struct {
	// DeliveryDelaySeconds is the time from acceptance to the receipt.
	// ParseRules sets it to 2 when the JSON omits it.
	DeliveryDelaySeconds float64  `json:"deliveryDelaySeconds"`
	Rules                []Rule   `json:"rules"`
	Outages              []Outage `json:"outages"`
}

// Rule fails the messages it matches with ErrorCode at Stage. A message is
// matched when its type is one of Types, its recipient matches Match and it
// falls in Percent; an empty field does not filter. The first matching rule
// of a stage wins.
type Rule struct {
	// Match is a regular expression (RE2 syntax) on the recipient's E.164
	// number; unanchored, so use ^ and $.
	Match string `json:"match,omitempty"`
	// Percent is the share (0 to 100) of matching messages that fail,
	// chosen by a hash of Seed, message id and recipient: the same messages
	// fail on every run. Omitted: all of them.
	Percent *float64 `json:"percent,omitempty"`
	// Seed of the Percent draw. Omitted: the simulator's seed. Rules with
	// the same seed draw the same number for a message.
	Seed *int64 `json:"seed,omitempty"`
	// Stage is submit or delivery (required).
	Stage Stage `json:"stage"`
	// ErrorCode is SMS-RC-nnn, SMS-UP-nnn or SMS-CAR-nnn for SMS and MMS, a
	// faxErrorCode (LineBusy, NoAnswer...) for faxes. The code also limits
	// the rule to the types it fits.
	ErrorCode string `json:"errorCode"`
	// Types narrows the rule to SMS, MMS (SMS with media) or Fax; it must
	// fit ErrorCode. Omitted: every type the code fits.
	Types []switchboard.MessageType `json:"types,omitempty"`
}

// Outage is a window during which Submit fails with a temporary error.
// Either From and Until (RFC 3339), or ForSeconds from when the rules are
// set; From defaults to when the rules are set, and an outage without Until
// or ForSeconds lasts until the rules change. Rules() reports outages with
// absolute From and Until.
type Outage struct {
	From       time.Time `json:"from,omitzero"`
	Until      time.Time `json:"until,omitzero"`
	ForSeconds float64   `json:"forSeconds,omitzero"`
}

// DefaultRules is the simulator's behaviour until told otherwise: every
// message is accepted and delivered after DefaultDeliveryDelay.
func DefaultRules() Rules {
	return Rules{DeliveryDelaySeconds: DefaultDeliveryDelay.Seconds()}
}

// ParseRules decodes and validates rules in their JSON form. Unknown fields
// are errors (a misspelt field would otherwise be silently ignored) and an
// omitted deliveryDelaySeconds is DefaultDeliveryDelay. Errors are
// *switchboard.Error: CMN-103 for bad JSON, CMN-101 naming the bad field.
func ParseRules(data []byte) (Rules, error) {
	r := DefaultRules()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return Rules{}, switchboard.Errorf(switchboard.CodeInvalidJSON, "Carrier rules are not valid JSON: %v", err)
	}
	if dec.More() {
		return Rules{}, switchboard.Errorf(switchboard.CodeInvalidJSON, "Carrier rules are not valid JSON: data after the object")
	}
	if err := r.Validate(); err != nil {
		return Rules{}, err
	}
	return r, nil
}

// LoadRules reads and validates rules from a JSON file.
func LoadRules(path string) (Rules, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Rules{}, fmt.Errorf("carrier rules: %w", err)
	}
	r, err := ParseRules(data)
	if err != nil {
		return Rules{}, fmt.Errorf("carrier rules %s: %w", path, err)
	}
	return r, nil
}

// Validate checks the rules. The error is a *switchboard.Error (CMN-101)
// whose parameter names the field at fault, such as rules[1].percent.
func (r Rules) Validate() error {
	_, err := compile(r, time.Time{}, 0)
	return err
}

func invalid(name, value, format string, args ...any) error {
	return switchboard.InvalidParam(name, value, "%s: %s", name, fmt.Sprintf(format, args...))
}

var smsCode = regexp.MustCompile(`^SMS-(RC|UP|CAR)-[0-9]{3}$`)

// FaxErrorCodes is RingCentral's faxErrorCode enumeration.
var FaxErrorCodes = []string{
	"AllLinesInUse", "Undefined", "NoFaxSendPermission", "NoInternationalPermission", "NoFaxMachine",
	"NoAnswer", "LineBusy", "CallerHungUp", "NotEnoughCredits", "SentPartially", "InternationalCallingDisabled",
	"DestinationCountryDisabled", "UnknownCountryCode", "NotAccepted", "InvalidNumber", "CallDeclined",
	"TooManyCallsPerLine", "CallFailed", "RenderingFailed", "TooManyPages", "ReturnToDBQueue", "NoCallTime",
	"WrongNumber", "ProhibitedNumber", "InternalError", "FaxSendingProhibited", "ThePhoneIsBlacklisted",
	"UserNotFound", "ConvertError", "DBGeneralError", "SkypeBillingFailed", "AccountSuspended",
	"ProhibitedDestination", "InternationalDisabled",
}

// compiled is Rules ready to apply; outages are absolute.
type compiled struct {
	rules   Rules // normalized copy, what Rules() returns
	delay   time.Duration
	submit  []matcher
	deliver []matcher
	outages []window
}

type matcher struct {
	re        *regexp.Regexp // nil: any recipient
	percent   float64        // < 0: all
	seed      int64
	errorCode string
	sms, mms  bool // SMS without media, SMS with media
	fax       bool
}

type window struct {
	from, until time.Time // zero until: no end
}

// compile validates r and resolves it against now (relative outages) and
// the simulator's default seed. It never modifies r.
func compile(r Rules, now time.Time, seed int64) (*compiled, error) {
	c := &compiled{}
	d := r.DeliveryDelaySeconds
	if !(d >= 0 && d <= MaxDeliveryDelaySeconds) {
		return nil, invalid("deliveryDelaySeconds", strconv.FormatFloat(d, 'g', -1, 64), "must be between 0 and %d", MaxDeliveryDelaySeconds)
	}
	c.delay = time.Duration(d * float64(time.Second))
	c.rules.DeliveryDelaySeconds = d
	if len(r.Rules) > MaxRules {
		return nil, invalid("rules", "", "at most %d rules", MaxRules)
	}
	if len(r.Outages) > MaxOutages {
		return nil, invalid("outages", "", "at most %d outages", MaxOutages)
	}
	for i, rule := range r.Rules {
		m, err := compileRule(fmt.Sprintf("rules[%d]", i), rule, seed)
		if err != nil {
			return nil, err
		}
		if rule.Stage == StageSubmit {
			c.submit = append(c.submit, m)
		} else {
			c.deliver = append(c.deliver, m)
		}
		c.rules.Rules = append(c.rules.Rules, cloneRule(rule))
	}
	for i, o := range r.Outages {
		name := fmt.Sprintf("outages[%d]", i)
		w := window{from: o.From, until: o.Until}
		if w.from.IsZero() {
			w.from = now
		}
		switch {
		case !(o.ForSeconds >= 0):
			return nil, invalid(name+".forSeconds", strconv.FormatFloat(o.ForSeconds, 'g', -1, 64), "must be positive")
		case o.ForSeconds > 0 && !o.Until.IsZero():
			return nil, invalid(name, "", "give until or forSeconds, not both")
		case o.ForSeconds > 0:
			w.until = w.from.Add(time.Duration(o.ForSeconds * float64(time.Second)))
		case !o.Until.IsZero() && !o.Until.After(w.from):
			return nil, invalid(name+".until", o.Until.Format(time.RFC3339), "must be after from")
		}
		c.outages = append(c.outages, w)
		c.rules.Outages = append(c.rules.Outages, Outage{From: w.from, Until: w.until})
	}
	return c, nil
}

func compileRule(name string, r Rule, seed int64) (matcher, error) {
	m := matcher{percent: -1, seed: seed, errorCode: r.ErrorCode}
	switch r.Stage {
	case StageSubmit, StageDelivery:
	case "":
		return m, invalid(name+".stage", "", "is required: submit or delivery")
	default:
		return m, invalid(name+".stage", string(r.Stage), "must be submit or delivery")
	}
	if len(r.Match) > MaxMatchLength {
		return m, invalid(name+".match", "", "is longer than %d characters", MaxMatchLength)
	}
	if r.Match != "" {
		re, err := regexp.Compile(r.Match)
		if err != nil {
			return m, invalid(name+".match", r.Match, "is not a regular expression: %v", err)
		}
		m.re = re
	}
	if r.Percent != nil {
		p := *r.Percent
		if !(p >= 0 && p <= 100) {
			return m, invalid(name+".percent", strconv.FormatFloat(p, 'g', -1, 64), "must be between 0 and 100")
		}
		m.percent = p
	}
	if r.Seed != nil {
		m.seed = *r.Seed
	}
	isSMS := smsCode.MatchString(r.ErrorCode)
	isFax := slices.Contains(FaxErrorCodes, r.ErrorCode)
	switch {
	case r.ErrorCode == "":
		return m, invalid(name+".errorCode", "", "is required (SMS-CAR-411 for SMS, LineBusy for faxes...)")
	case !isSMS && !isFax:
		return m, invalid(name+".errorCode", r.ErrorCode, "must be SMS-RC-nnn, SMS-UP-nnn or SMS-CAR-nnn for SMS, or a faxErrorCode such as LineBusy for faxes")
	}
	if len(r.Types) == 0 {
		m.sms, m.mms, m.fax = isSMS, isSMS, isFax
	}
	for j, t := range r.Types {
		tn := fmt.Sprintf("%s.types[%d]", name, j)
		switch t {
		case switchboard.TypeSMS, TypeMMS:
			if !isSMS {
				return m, invalid(tn, string(t), "does not fit fax error code %s", r.ErrorCode)
			}
			m.mms = true
			m.sms = m.sms || t == switchboard.TypeSMS
		case switchboard.TypeFax:
			if !isFax {
				return m, invalid(tn, string(t), "does not fit SMS error code %s", r.ErrorCode)
			}
			m.fax = true
		default:
			return m, invalid(tn, string(t), "must be SMS, MMS or Fax")
		}
	}
	return m, nil
}

func cloneRule(r Rule) Rule {
	if r.Percent != nil {
		p := *r.Percent
		r.Percent = &p
	}
	if r.Seed != nil {
		s := *r.Seed
		r.Seed = &s
	}
	r.Types = slices.Clone(r.Types)
	return r
}

func (c *compiled) clone() Rules {
	// Empty lists are [] in JSON, not null.
	r := Rules{DeliveryDelaySeconds: c.rules.DeliveryDelaySeconds, Rules: []Rule{}, Outages: append([]Outage{}, c.rules.Outages...)}
	for _, rule := range c.rules.Rules {
		r.Rules = append(r.Rules, cloneRule(rule))
	}
	return r
}

// matches reports whether m fails s.
func (m *matcher) matches(s *Submission) bool {
	switch {
	case s.Type == switchboard.TypeFax && !m.fax,
		s.Type == switchboard.TypeSMS && len(s.Media) == 0 && !m.sms,
		s.Type == switchboard.TypeSMS && len(s.Media) > 0 && !m.mms:
		return false
	}
	if m.re != nil && !m.re.MatchString(s.Recipient) {
		return false
	}
	return m.percent < 0 || draw(m.seed, s.MessageID, s.Recipient)*100 < m.percent
}

// outage returns whether t is in an outage and, if so, when the outage
// (with any outages it runs into) ends; zero when it has no end.
func (c *compiled) outage(t time.Time) (bool, time.Time) {
	in, end := false, t
	for changed := true; changed; {
		changed = false
		for _, w := range c.outages {
			if w.from.After(end) || (!w.until.IsZero() && !w.until.After(end)) {
				continue
			}
			in = true
			if w.until.IsZero() {
				return true, time.Time{}
			}
			end, changed = w.until, true
		}
	}
	return in, end
}
