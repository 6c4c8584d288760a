package switchboard

import "testing"

// Validate fills defaults and normalises numbers in its own copy: the
// caller's parties and attachments, which concurrent callers may share,
// are left as they were.
func TestValidateLeavesSharedValuesAlone(t *testing.T) {
	att := &Attachment{Type: AttachmentText, ContentType: "text/plain", Content: []byte("hi")}
	to := []Party{{PhoneNumber: "+1 (650) 555-0101"}}
	c := MessageCreate{AccountID: 1, ExtensionID: 2, Type: TypeSMS, Direction: Inbound,
		From: Party{PhoneNumber: "+14155550100"}, To: to, Attachments: []*Attachment{att}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.To[0].PhoneNumber != "+16505550101" || c.Attachments[0].Size != 2 {
		t.Fatalf("validated copy: %+v, size %d", c.To, c.Attachments[0].Size)
	}
	if to[0].PhoneNumber != "+1 (650) 555-0101" || att.Size != 0 {
		t.Fatalf("the caller's values changed: %+v, size %d", to, att.Size)
	}
}
