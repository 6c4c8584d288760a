package carrier

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
)

func TestParseRulesErrors(t *testing.T) {
	tests := []struct {
		name, json string
		code       string // RingCentral error code
		param      string // parameter at fault, for CMN-101
		msg        string // part of the message
	}{
		{"bad json", `{"rules": [`, switchboard.CodeInvalidJSON, "", "not valid JSON"},
		{"unknown field", `{"rules": [{"code": "SMS-CAR-411", "stage": "submit"}]}`, switchboard.CodeInvalidJSON, "", "unknown field"},
		{"trailing data", `{} {}`, switchboard.CodeInvalidJSON, "", "after the object"},
		{"wrong type", `{"deliveryDelaySeconds": "2"}`, switchboard.CodeInvalidJSON, "", "deliveryDelaySeconds"},
		{"negative delay", `{"deliveryDelaySeconds": -1}`, switchboard.CodeInvalidParameter, "deliveryDelaySeconds", "between 0 and 86400"},
		{"delay too long", `{"deliveryDelaySeconds": 86401}`, switchboard.CodeInvalidParameter, "deliveryDelaySeconds", "between 0 and 86400"},
		{"bad regexp", `{"rules": [{"match": "^\\+1(555", "stage": "submit", "errorCode": "SMS-CAR-411"}]}`, switchboard.CodeInvalidParameter, "rules[0].match", "not a regular expression"},
		{"percent below 0", `{"rules": [{"percent": -1, "stage": "submit", "errorCode": "SMS-CAR-411"}]}`, switchboard.CodeInvalidParameter, "rules[0].percent", "between 0 and 100"},
		{"percent above 100", `{"rules": [{"stage": "submit", "errorCode": "SMS-CAR-411"}, {"percent": 100.5, "stage": "submit", "errorCode": "SMS-CAR-411"}]}`, switchboard.CodeInvalidParameter, "rules[1].percent", "between 0 and 100"},
		{"unknown stage", `{"rules": [{"stage": "deliver", "errorCode": "SMS-CAR-411"}]}`, switchboard.CodeInvalidParameter, "rules[0].stage", "submit or delivery"},
		{"missing stage", `{"rules": [{"errorCode": "SMS-CAR-411"}]}`, switchboard.CodeInvalidParameter, "rules[0].stage", "required"},
		{"empty error code", `{"rules": [{"stage": "submit", "errorCode": ""}]}`, switchboard.CodeInvalidParameter, "rules[0].errorCode", "required"},
		{"missing error code", `{"rules": [{"stage": "submit"}]}`, switchboard.CodeInvalidParameter, "rules[0].errorCode", "required"},
		{"error code without prefix", `{"rules": [{"stage": "submit", "errorCode": "CAR-411"}]}`, switchboard.CodeInvalidParameter, "rules[0].errorCode", "SMS-CAR-nnn"},
		{"error code short", `{"rules": [{"stage": "submit", "errorCode": "SMS-CAR-41"}]}`, switchboard.CodeInvalidParameter, "rules[0].errorCode", "faxErrorCode"},
		{"unknown source", `{"rules": [{"stage": "submit", "errorCode": "SMS-XX-411"}]}`, switchboard.CodeInvalidParameter, "rules[0].errorCode", ""},
		{"fax code case", `{"rules": [{"stage": "submit", "errorCode": "linebusy"}]}`, switchboard.CodeInvalidParameter, "rules[0].errorCode", ""},
		{"fax code for SMS", `{"rules": [{"stage": "submit", "errorCode": "LineBusy", "types": ["SMS"]}]}`, switchboard.CodeInvalidParameter, "rules[0].types[0]", "fax error code"},
		{"SMS code for fax", `{"rules": [{"stage": "submit", "errorCode": "SMS-CAR-411", "types": ["SMS", "Fax"]}]}`, switchboard.CodeInvalidParameter, "rules[0].types[1]", "SMS error code"},
		{"unknown type", `{"rules": [{"stage": "submit", "errorCode": "SMS-CAR-411", "types": ["Pager"]}]}`, switchboard.CodeInvalidParameter, "rules[0].types[0]", "SMS, MMS or Fax"},
		{"until before from", `{"outages": [{"from": "2026-11-27T10:05:00Z", "until": "2026-11-27T10:00:00Z"}]}`, switchboard.CodeInvalidParameter, "outages[0].until", "after from"},
		{"until and forSeconds", `{"outages": [{"until": "2026-11-27T10:05:00Z", "forSeconds": 60}]}`, switchboard.CodeInvalidParameter, "outages[0]", "not both"},
		{"negative forSeconds", `{"outages": [{"forSeconds": -5}]}`, switchboard.CodeInvalidParameter, "outages[0].forSeconds", "positive"},
		{"bad time", `{"outages": [{"from": "tomorrow"}]}`, switchboard.CodeInvalidJSON, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseRules([]byte(tt.json))
			e := switchboard.AsError(err)
			if e == nil {
				t.Fatalf("ParseRules = %v, want a *switchboard.Error", err)
			}
			if e.Code != tt.code || e.Kind() != switchboard.KindInvalid {
				t.Errorf("code %s kind %d, want %s, invalid (%v)", e.Code, e.Kind(), tt.code, err)
			}
			if tt.param != "" && (len(e.Params) != 1 || e.Params[0].Name != tt.param) {
				t.Errorf("params %+v, want %s", e.Params, tt.param)
			}
			if !strings.Contains(e.Message, tt.msg) {
				t.Errorf("message %q does not contain %q", e.Message, tt.msg)
			}
		})
	}
}

func TestParseRulesValid(t *testing.T) {
	r, err := ParseRules([]byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if r.DeliveryDelaySeconds != 2 {
		t.Errorf("default delay %v, want 2", r.DeliveryDelaySeconds)
	}
	r, err = ParseRules([]byte(`{"deliveryDelaySeconds": 0, "rules": [
		{"stage": "delivery", "errorCode": "NoAnswer"},
		{"percent": 0, "stage": "submit", "errorCode": "SMS-RC-413", "types": ["MMS"]},
		{"seed": -7, "match": "^\\+44", "stage": "delivery", "errorCode": "SMS-CAR-451"}],
		"outages": [{}, {"from": "2026-11-27T10:00:00Z"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if r.DeliveryDelaySeconds != 0 || len(r.Rules) != 3 || len(r.Outages) != 2 {
		t.Errorf("rules %+v", r)
	}
	if err := (Rules{Rules: make([]Rule, MaxRules+1)}).Validate(); err == nil {
		t.Error("too many rules are valid")
	}
}

func TestLoadRules(t *testing.T) {
	r, err := LoadRules("testdata/example.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Rules) != 5 || len(r.Outages) != 2 || *r.Rules[3].Percent != 10 || *r.Rules[3].Seed != 42 {
		t.Errorf("example: %+v", r)
	}
	if _, err := LoadRules("testdata/missing.json"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"rules": [{"percent": 200, "stage": "submit", "errorCode": "SMS-CAR-411"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = LoadRules(bad)
	if e := switchboard.AsError(err); e == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "rules[0].percent") {
		t.Errorf("bad file: %v", err)
	}
}

func TestRulesRoundTrip(t *testing.T) {
	s, clock := newSim(t, `{"rules": [{"percent": 5, "seed": 3, "stage": "delivery", "errorCode": "SMS-CAR-104", "types": ["SMS"]}],
		"outages": [{"forSeconds": 300}, {"from": "2026-11-27T11:00:00Z"}]}`)
	clock.Advance(time.Minute)
	got := s.Rules()
	if got.DeliveryDelaySeconds != 2 {
		t.Errorf("delay %v", got.DeliveryDelaySeconds)
	}
	want := []Outage{{From: t0, Until: t0.Add(5 * time.Minute)}, {From: t0.Add(time.Hour)}}
	if len(got.Outages) != 2 || got.Outages[0] != want[0] || !got.Outages[1].From.Equal(want[1].From) || !got.Outages[1].Until.IsZero() {
		t.Errorf("outages %+v, want %+v", got.Outages, want)
	}
	// The copy is the caller's: changing it changes nothing in force.
	*got.Rules[0].Percent = 100
	got.Rules[0].Types[0] = switchboard.TypeFax
	if again := s.Rules(); *again.Rules[0].Percent != 5 || again.Rules[0].Types[0] != switchboard.TypeSMS {
		t.Errorf("Rules() shares memory: %+v", again.Rules[0])
	}
	// Writing back what was read keeps the outage where it was.
	if err := s.SetRules(s.Rules()); err != nil {
		t.Fatal(err)
	}
	if o := s.Rules().Outages[0]; !o.From.Equal(t0) || !o.Until.Equal(t0.Add(5*time.Minute)) {
		t.Errorf("outage moved to %+v", o)
	}
	// So does writing back its JSON.
	data, err := json.Marshal(s.Rules())
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := ParseRules(data)
	if err != nil {
		t.Fatalf("%s: %v", data, err)
	}
	clock.Advance(time.Minute)
	if err := s.SetRules(parsed); err != nil {
		t.Fatal(err)
	}
	if again, _ := json.Marshal(s.Rules()); string(again) != string(data) {
		t.Errorf("JSON round trip:\n%s\n%s", data, again)
	}
	// Invalid rules leave the rules in force alone.
	if err := s.SetRules(Rules{DeliveryDelaySeconds: -1}); err == nil {
		t.Error("SetRules accepted a negative delay")
	}
	if again, _ := json.Marshal(s.Rules()); string(again) != string(data) {
		t.Errorf("rules changed by an invalid SetRules:\n%s\n%s", data, again)
	}
	// No rules and no outages are empty lists.
	if data, _ := json.Marshal(NewSimulator(clock, 0).Rules()); string(data) != `{"deliveryDelaySeconds":2,"rules":[],"outages":[]}` {
		t.Errorf("default rules %s", data)
	}
}
