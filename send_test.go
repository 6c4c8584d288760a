package switchboard

import (
	"context"
	"reflect"
	"testing"
)

// TestRouteNumber: a number of this server goes to its owner's mailbox
// (none when the owner sends), every other one to the carrier.
func TestRouteNumber(t *testing.T) {
	owned := &PhoneNumber{AccountID: 1, ExtensionID: 7, PhoneNumber: "+16505550107", Status: StatusEnabled}
	company := &PhoneNumber{AccountID: 1, PhoneNumber: "+16505550100", Status: StatusEnabled} // no extension
	disabled := &PhoneNumber{AccountID: 1, ExtensionID: 8, PhoneNumber: "+16505550108", Status: StatusDisabled}
	tests := []struct {
		name   string
		pn     *PhoneNumber
		sender int64
		want   DeliveryTarget
	}{
		{"unknown number: the carrier", nil, 9, DeliveryTarget{Recipient: "+15550001111"}},
		{"another extension's number: its mailbox", owned, 9,
			DeliveryTarget{Recipient: "+15550001111", Internal: true, Mailboxes: []Mailbox{{AccountID: 1, ExtensionID: 7}}}},
		{"the sender's own number: no copy", owned, 7, DeliveryTarget{Recipient: "+15550001111", Internal: true}},
		{"a number of no extension: the carrier", company, 9, DeliveryTarget{Recipient: "+15550001111"}},
		{"a disabled number: the carrier", disabled, 9, DeliveryTarget{Recipient: "+15550001111"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := routeNumber("+15550001111", tt.pn, tt.sender); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("routeNumber = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// numbers is a NumbersDirectory of fixed entries.
type numbers map[string]*PhoneNumber

func (n numbers) PhoneNumbersByNumber(_ context.Context, ns []string) (map[string]*PhoneNumber, error) {
	out := map[string]*PhoneNumber{}
	for _, k := range ns {
		if pn := n[k]; pn != nil {
			out[k] = pn
		}
	}
	return out, nil
}

func TestRouteAll(t *testing.T) {
	owned := &PhoneNumber{AccountID: 1, ExtensionID: 7, PhoneNumber: "+16505550107", Status: StatusEnabled}
	got, err := RouteAll(context.Background(), numbers{"+16505550107": owned}, []string{"+16505550107", "+15550001111"}, 9)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]DeliveryTarget{
		"+16505550107": routeNumber("+16505550107", owned, 9),
		"+15550001111": routeNumber("+15550001111", nil, 9),
	}
	if !reflect.DeepEqual(got, want) || !got["+16505550107"].Internal {
		t.Fatalf("RouteAll = %+v, want %+v", got, want)
	}
}
