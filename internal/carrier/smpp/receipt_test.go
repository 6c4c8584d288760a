package smpp

import (
	"testing"

	"github.com/linxGnu/gosmpp/data"
	"github.com/linxGnu/gosmpp/pdu"
)

func TestParseReceipt(t *testing.T) {
	tests := []struct {
		name             string
		text             string
		tlvID            string
		tlvState         byte
		id, state, err   string
		delivered, final bool
		code             string
	}{
		{name: "appendix B text", text: "id:0123456789 sub:001 dlvrd:001 submit date:2612021830 done date:2612021831 stat:DELIVRD err:000 text:Hello",
			id: "0123456789", state: "DELIVRD", err: "000", delivered: true, final: true},
		{name: "lower case, failed", text: "id:abc sub:001 dlvrd:000 submit date:2612021830 done date:2612021831 stat:undeliv err:034 Text:x",
			id: "abc", state: "UNDELIV", err: "034", final: true, code: "SMS-CAR-411"},
		{name: "rejected", text: "id:r1 stat:REJECTD err:001", id: "r1", state: "REJECTD", err: "001", final: true, code: "SMS-CAR-430"},
		{name: "expired", text: "id:e1 stat:EXPIRED err:000", id: "e1", state: "EXPIRED", err: "000", final: true, code: "SMS-CAR-104"},
		{name: "intermediate", text: "id:q1 stat:ENROUTE err:000", id: "q1", state: "ENROUTE", err: "000"},
		{name: "TLVs win over the text", text: "id:text-id stat:DELIVRD", tlvID: "tlv-id", tlvState: 5,
			id: "tlv-id", state: "UNDELIV", final: true, code: "SMS-CAR-411"},
		{name: "the text's word text: does not confuse", text: "id:x1 stat:DELIVRD err:000 text:id:evil stat:UNDELIV", id: "x1", state: "DELIVRD", err: "000", delivered: true, final: true},
		{name: "no text", text: "", id: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := pdu.NewDeliverSM().(*pdu.DeliverSM)
			p.EsmClass = data.SM_SMSC_DLV_RCPT_TYPE
			if err := p.Message.SetMessageDataWithEncoding([]byte(tt.text), data.GSM7BIT); err != nil {
				t.Fatal(err)
			}
			if tt.tlvID != "" {
				p.RegisterOptionalParam(pdu.Field{Tag: pdu.TagReceiptedMessageID, Data: append([]byte(tt.tlvID), 0)})
				p.RegisterOptionalParam(pdu.Field{Tag: pdu.TagMessageStateOption, Data: []byte{tt.tlvState}})
			}
			id, state, errText := parseReceipt(p)
			delivered, final := receiptOutcome(state)
			if id != tt.id || state != tt.state || errText != tt.err || delivered != tt.delivered || final != tt.final {
				t.Fatalf("got id %q state %q err %q delivered %v final %v", id, state, errText, delivered, final)
			}
			if final && !delivered && receiptCode(state) != tt.code {
				t.Fatalf("code %s, want %s", receiptCode(state), tt.code)
			}
		})
	}
}
