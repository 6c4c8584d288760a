package config

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

func TestParseCarrier(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		check   func(*SMPP) bool
		wantErr string
	}{
		{name: "simulator", in: "simulator", check: func(c *SMPP) bool { return c == nil }},
		{name: "empty is the simulator", in: "", check: func(c *SMPP) bool { return c == nil }},
		{name: "defaults", in: "smpp://sb:secret@smsc.example.com:2775", check: func(c *SMPP) bool {
			return c.Addr == "smsc.example.com:2775" && c.SystemID == "sb" && c.Password == "secret" && c.Bind == BindTransceiver &&
				c.SourceTON == 1 && c.DestNPI == 1 && c.Window == 10 && c.Rate == 0 && !c.TLS && c.EnquireLink == 30*time.Second
		}},
		{name: "options", in: "smpp://sb:s@h:1?bind=transmitter,receiver&system_type=VMA&tls=true&source_ton=5&source_npi=0&window=50&rate=12.5&enquire_link=10s&payload=true&reconnect_min=200ms&reconnect_max=5s",
			check: func(c *SMPP) bool {
				return c.Bind == BindTransmitterReceiver && c.SystemType == "VMA" && c.TLS && c.SourceTON == 5 && c.SourceNPI == 0 &&
					c.Window == 50 && c.Rate == 12.5 && c.EnquireLink == 10*time.Second && c.Payload && c.ReconnectMin == 200*time.Millisecond && c.ReconnectMax == 5*time.Second
			}},
		{name: "other scheme", in: "http://sb:secret@h:1", wantErr: "want simulator or smpp://"},
		{name: "no port", in: "smpp://sb:secret@h", wantErr: "HOST:PORT"},
		{name: "no system id", in: "smpp://h:2775", wantErr: "system_id"},
		{name: "bad bind", in: "smpp://sb@h:1?bind=both", wantErr: "transceiver or transmitter,receiver"},
		{name: "window too big", in: "smpp://sb@h:1?window=300", wantErr: "window"},
		{name: "unknown option", in: "smpp://sb@h:1?windw=3", wantErr: `unknown option "windw"`},
		{name: "backoff upside down", in: "smpp://sb@h:1?reconnect_min=10s&reconnect_max=1s", wantErr: "reconnect_max"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCarrier(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Fatalf("error shows the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(c) {
				t.Fatalf("unexpected settings %+v", c)
			}
		})
	}
}

// TestCarrierPasswordHidden: neither the printed configuration nor a
// refusal shows the SMSC password.
func TestCarrierPasswordHidden(t *testing.T) {
	c, ok := loadCase(t, nil, map[string]string{"SWITCHBOARD_CARRIER": "smpp://sb:hunter2@smsc:2775?window=5"}, "")
	if !ok {
		return
	}
	var b strings.Builder
	c.Print(&b)
	if strings.Contains(b.String(), "hunter2") || !strings.Contains(b.String(), "smpp://sb:xxxxx@smsc:2775?window=5") {
		t.Fatalf("printed configuration:\n%s", b.String())
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	for _, bad := range []string{"smpp://sb:hunter2@smsc:2775?window=0", "smpp://sb:hunter2@smsc:2775/%zz"} {
		_, err := Load(fs, []string{"--carrier", bad}, func(string) string { return "" })
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Fatalf("%s: error %v: want a refusal without the password", bad, err)
		}
		fs = flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
	}
}
