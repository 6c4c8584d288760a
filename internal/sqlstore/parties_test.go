package sqlstore

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/switchboardhq/switchboard"
)

// TestDecodeParties: whatever json.Marshal writes of parties decodes to
// what encoding/json decodes, by the fast path or the fallback; text the
// fast path does not know goes to encoding/json, errors included.
func TestDecodeParties(t *testing.T) {
	parties := []switchboard.Party{
		{},
		{PhoneNumber: "+16505550101"},
		{PhoneNumber: "+16505550101", Name: "Alice Liddell", Location: "San Mateo, CA", MessageStatus: switchboard.StatusDelivered, Target: true},
		{ExtensionNumber: "101", ExtensionID: "200000001", Name: "Front desk"},
		{PhoneNumber: "+16505550102", MessageStatus: switchboard.StatusDeliveryFailed, FaxErrorCode: "SMS-CAR-411"},
		{Name: `Bob "the builder" \ O'Neil`},       // escaped quote and backslash: the fallback
		{Name: "Zoë 張 😀 <a&b> \u2028 line\nbreak"}, // escapes json.Marshal writes
	}
	var lists [][]switchboard.Party
	for i := range parties {
		lists = append(lists, parties[:i], parties[i:i+1])
	}
	for _, want := range lists {
		b, err := json.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeParties(string(b))
		if err != nil {
			t.Fatalf("decodeParties(%s): %v", b, err)
		}
		if len(want) == 0 {
			want = nil
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("decodeParties(%s) = %+v, want %+v", b, got, want)
		}
	}
	for _, want := range parties {
		b, _ := json.Marshal(want)
		got, err := decodeParty(string(b))
		if err != nil || got != want {
			t.Errorf("decodeParty(%s) = %+v, %v; want %+v", b, got, err, want)
		}
	}
	// Not json.Marshal's form: decoded as encoding/json decodes it.
	for _, s := range []string{`{ "phoneNumber": "+1" }`, `{"phoneNumber":"+1","unknown":3}`, `{"target":false,"name":"x"}`} {
		var want switchboard.Party
		wantErr := json.Unmarshal([]byte(s), &want)
		got, err := decodeParty(s)
		if (err != nil) != (wantErr != nil) || got != want {
			t.Errorf("decodeParty(%s) = %+v, %v; want %+v, %v", s, got, err, want, wantErr)
		}
	}
	for _, s := range []string{``, `{`, `{"name":"x"`, `[{"name":"x"}`, `[{"name":"x"},]`, `{"name":"x"}}`, `[{"name":"x"}]x`, `{"name":1}`} {
		_, errList := decodeParties(s)
		_, errOne := decodeParty(s)
		if errList == nil && errOne == nil {
			t.Errorf("%q decoded without an error", s)
		}
	}
}
