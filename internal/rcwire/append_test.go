package rcwire

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
)

// TestAppendMessage: AppendMessage writes what encoding/json writes of
// NewMessage, byte for byte, for every type and direction, empty and full
// fields, and text that needs escaping.
func TestAppendMessage(t *testing.T) {
	at := time.Date(2026, 12, 3, 14, 5, 6, 789_000_000, time.UTC)
	awkward := "Zoë \"quoted\" \\ back\x01slash <a&b> \u2028 \u2029 \n\r\t\b\f 張 😀 \xff bad"
	full := switchboard.Party{PhoneNumber: "+16505550101", ExtensionNumber: "101", ExtensionID: "200000001", Name: awkward,
		Location: "San Mateo, CA", Target: true, MessageStatus: switchboard.StatusDelivered, FaxErrorCode: "F-1"}
	var cases []*switchboard.Message
	for _, typ := range []switchboard.MessageType{switchboard.TypeSMS, switchboard.TypeFax, switchboard.TypeVoiceMail, switchboard.TypePager, "Other"} {
		for _, dir := range []switchboard.Direction{switchboard.Inbound, switchboard.Outbound} {
			cases = append(cases,
				&switchboard.Message{ID: 1, AccountID: 2, ExtensionID: 3, Type: typ, Direction: dir, Created: at, LastModified: at},
				&switchboard.Message{ID: 400000123, AccountID: 100000001, ExtensionID: 200000002, Type: typ, Direction: dir,
					Availability: switchboard.Alive, MessageStatus: switchboard.StatusSendingFailed, ReadStatus: switchboard.Unread,
					Priority: "High", Subject: awkward, From: full, To: []switchboard.Party{full, {PhoneNumber: "+1"}, {}},
					ConversationID: 9007199254740991, Created: at, LastModified: at.Add(time.Hour),
					TypeDetails: switchboard.TypeDetails{DeliveryErrorCode: "SMS-CAR-411", SMSDeliveryTime: at.Add(time.Minute), SegmentCount: 3, SMSSendingAttempts: 2, FaxPageCount: 4, FaxResolution: "High",
						CoverIndex: 7, CoverPageText: awkward, VMTranscriptionStatus: "Completed", PgToDepartment: true},
					Attachments: []*switchboard.Attachment{
						{ID: 500000001, Type: switchboard.AttachmentText, ContentType: "text/plain", Size: 12},
						{ID: 500000002, Type: switchboard.AttachmentAudioRecording, ContentType: "audio/mpeg", FileName: awkward, Size: 1 << 40, VMDuration: 0},
						{ID: 500000003, Type: switchboard.AttachmentMms, ContentType: "image/png", Height: 480, Width: 640, VMDuration: 9},
					}})
		}
	}
	for _, base := range []string{"http://127.0.0.1:8080", "https://sms.example.com/a b\"c"} {
		for i, m := range cases {
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(NewMessage(base, m)); err != nil {
				t.Fatal(err)
			}
			got := AppendMessage(nil, base, m)
			if !bytes.Equal(got, bytes.TrimSuffix(want.Bytes(), []byte("\n"))) {
				t.Errorf("case %d (%s %s, base %q):\n got %s\nwant %s", i, m.Type, m.Direction, base, got, want.Bytes())
			}
		}
	}
}
