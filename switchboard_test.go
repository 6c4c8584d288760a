package switchboard

import (
	"errors"
	"testing"
	"time"
)

func TestNormalizeE164(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"+16505550101", "+16505550101", true},
		{" +1 (650) 555-0101 ", "+16505550101", true},
		{"+44.20.7946.0018", "+442079460018", true},
		{"16505550101", "", false},       // no +
		{"+1650555x101", "", false},      // letters
		{"+1234567", "", false},          // 7 digits: too short
		{"+1234567890123456", "", false}, // 16 digits: too long
		{"+06505550101", "", false},      // country codes do not start with 0
		{"+", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, err := NormalizeE164(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("NormalizeE164(%q) = %q, %v; want %q, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestConversationIDFor(t *testing.T) {
	a := ConversationIDFor([]string{"+16505550101", "+15550000001"})
	b := ConversationIDFor([]string{"+15550000001", "+16505550101"})
	c := ConversationIDFor([]string{"+15550000001", "+16505550102"})
	if a != b {
		t.Fatalf("order of parties changed the conversation: %d vs %d", a, b)
	}
	if a == c {
		t.Fatal("different parties share a conversation")
	}
	if a <= 0 || a >= 1<<53 {
		t.Fatalf("conversation id %d is not a positive integer below 2^53", a)
	}
	if ConversationIDFor(nil) != 0 {
		t.Fatal("no parties must give no conversation")
	}
}

func TestLifecycle(t *testing.T) {
	deletes := []struct {
		cur   Availability
		purge bool
		want  Availability
	}{
		{Alive, false, Deleted},
		{Alive, true, Purged},
		{Deleted, false, Purged},
		{Deleted, true, Purged},
		{Purged, false, Purged},
	}
	for _, tt := range deletes {
		if got := ApplyDelete(tt.cur, tt.purge); got != tt.want {
			t.Errorf("ApplyDelete(%s, purge=%v) = %s, want %s", tt.cur, tt.purge, got, tt.want)
		}
	}
	changes := []struct {
		cur, next Availability
		code      string // "" allowed
	}{
		{Alive, Deleted, ""},
		{Deleted, Alive, ""},
		{Alive, Purged, ""},
		{Deleted, Purged, ""},
		{Purged, Purged, ""},
		{Purged, Alive, CodeNotRestorable},
		{Purged, Deleted, CodeNotRestorable},
	}
	for _, tt := range changes {
		err := CheckAvailabilityChange(tt.cur, tt.next)
		code := ""
		if e := AsError(err); e != nil {
			code = e.Code
		}
		if code != tt.code {
			t.Errorf("%s -> %s: %v, want code %q", tt.cur, tt.next, err, tt.code)
		}
	}
}

func TestMessageCreateValidate(t *testing.T) {
	valid := func() MessageCreate {
		return MessageCreate{AccountID: 1, ExtensionID: 2, Type: TypeSMS, Direction: Inbound,
			From: Party{PhoneNumber: "+1 555 000 0001"}, To: []Party{{PhoneNumber: "+16505550101"}}}
	}
	c := valid()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.MessageStatus != StatusReceived || c.ReadStatus != Unread || c.Availability != Alive || c.Priority != "Normal" {
		t.Fatalf("inbound defaults: %+v", c)
	}
	if c.From.PhoneNumber != "+15550000001" || c.ConversationID == 0 {
		t.Fatalf("normalization: %+v", c)
	}
	out := valid()
	out.Direction = Outbound
	if err := out.Validate(); err != nil || out.MessageStatus != StatusSent || out.ReadStatus != Read {
		t.Fatalf("outbound defaults: %+v %v", out, err)
	}

	bad := []struct {
		name, param string
		mutate      func(*MessageCreate)
	}{
		{"no mailbox", "extensionId", func(c *MessageCreate) { c.ExtensionID = 0 }},
		{"type", "type", func(c *MessageCreate) { c.Type = "Email" }},
		{"direction", "direction", func(c *MessageCreate) { c.Direction = "Up" }},
		{"status", "messageStatus", func(c *MessageCreate) { c.MessageStatus = "Lost" }},
		{"read status", "readStatus", func(c *MessageCreate) { c.ReadStatus = "Skimmed" }},
		{"availability", "availability", func(c *MessageCreate) { c.Availability = "Gone" }},
		{"priority", "priority", func(c *MessageCreate) { c.Priority = "Urgent" }},
		{"from", "from.phoneNumber", func(c *MessageCreate) { c.From.PhoneNumber = "555" }},
		{"to", "to.phoneNumber", func(c *MessageCreate) { c.To[0].PhoneNumber = "abc" }},
		{"too many recipients", "to", func(c *MessageCreate) { c.To = make([]Party, MaxRecipients+1) }},
		{"attachment type", "attachments.type", func(c *MessageCreate) {
			c.Attachments = []*Attachment{{Type: "Zip", ContentType: "application/zip"}}
		}},
		{"attachment content type", "attachments.contentType", func(c *MessageCreate) {
			c.Attachments = []*Attachment{{Type: AttachmentText}}
		}},
	}
	for _, tt := range bad {
		c := valid()
		tt.mutate(&c)
		e := AsError(c.Validate())
		if e == nil || e.Code != CodeInvalidParameter || len(e.Params) == 0 || e.Params[0].Name != tt.param {
			t.Errorf("%s: got %v, want CMN-101 on %s", tt.name, e, tt.param)
		}
	}
}

func TestPrincipalMailboxAccess(t *testing.T) {
	user := &Principal{AccountID: 1, ExtensionID: 10}
	admin := &Principal{AccountID: 1, ExtensionID: 11, Admin: true}
	tests := []struct {
		p        *Principal
		acc, ext int64
		want     bool
	}{
		{user, 1, 10, true},
		{user, 1, 12, false},
		{user, 2, 10, false},
		{admin, 1, 12, true},
		{admin, 2, 12, false}, // never another account
	}
	for _, tt := range tests {
		if got := tt.p.CanAccessMailbox(tt.acc, tt.ext); got != tt.want {
			t.Errorf("%+v on %d/%d = %v, want %v", tt.p, tt.acc, tt.ext, got, tt.want)
		}
	}
}

func TestManualClock(t *testing.T) {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := NewManualClock(func() time.Time { return base })
	if !c.Now().Equal(base) {
		t.Fatal("clock does not start at its base")
	}
	if got := c.Advance(90 * time.Second); !got.Equal(base.Add(90 * time.Second)) {
		t.Fatalf("after Advance: %v", got)
	}
	if got := c.Advance(-time.Hour); !got.Equal(base.Add(90 * time.Second)) {
		t.Fatalf("time ran backwards: %v", got)
	}
}

func TestParseEnum(t *testing.T) {
	if v, err := ParseEnum("messageType", "Fax", MessageTypes); err != nil || v != TypeFax {
		t.Fatalf("Fax: %v %v", v, err)
	}
	_, err := ParseEnum("messageType", "fax", MessageTypes)
	if e := AsError(err); e == nil || e.Params[0].Name != "messageType" || e.Params[0].Value != "fax" {
		t.Fatalf("enums are case-sensitive as RingCentral's are: %v", err)
	}
	if errors.Is(err, ErrNotFound) {
		t.Fatal("a bad enum is not a missing resource")
	}
}

func TestAppAllowsRedirect(t *testing.T) {
	registered := &App{RedirectURIs: []string{"https://app.example/cb"}}
	loopback := &App{RedirectURIs: []string{"https://app.example/cb"}, LoopbackRedirects: true}
	tests := []struct {
		app  *App
		uri  string
		want bool
	}{
		{registered, "https://app.example/cb", true},
		{registered, "https://app.example/cb?x=1", false}, // exact match only
		{registered, "https://app.example/cb/", false},
		{registered, "http://127.0.0.1:5000/cb", false},
		{loopback, "http://127.0.0.1:5000/cb", true},
		{loopback, "http://localhost:3000/", true},
		{loopback, "http://[::1]:8080/callback", true},
		{loopback, "http://127.0.0.1/cb", true},
		{loopback, "https://127.0.0.1:5000/cb", false}, // RFC 8252: http loopback
		{loopback, "http://127.0.0.1.attacker.example/cb", false},
		{loopback, "http://localhost.attacker.example:80/cb", false},
		{loopback, "http://user@127.0.0.1:5000/cb", false},
		{loopback, "http://127.0.0.1:5000/cb#frag", false},
		{loopback, "https://app.example/cb", true},
	}
	for _, tc := range tests {
		if got := tc.app.AllowsRedirect(tc.uri); got != tc.want {
			t.Errorf("AllowsRedirect(%q) with loopback=%v = %v, want %v", tc.uri, tc.app.LoopbackRedirects, got, tc.want)
		}
	}
}
