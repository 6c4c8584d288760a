package switchboard

import (
	"testing"
	"unicode/utf8"
)

func TestParseEventFilter(t *testing.T) {
	p := &Principal{AccountID: 7, ExtensionID: 9}
	for _, tc := range []struct {
		in   string
		path string // "" = refused
		kind EventKind
	}{
		{"/restapi/v1.0/account/~/extension/~/message-store", "/restapi/v1.0/account/7/extension/9/message-store", EventMessageStore},
		{"/account/~/extension/~/message-store", "/restapi/v1.0/account/7/extension/9/message-store", EventMessageStore},
		{"/restapi/v1.0/account/~/extension/12/message-store?direction=Inbound&type=Fax", "/restapi/v1.0/account/7/extension/12/message-store?type=Fax&direction=Inbound", EventMessageStore},
		{"/restapi/v1.0/account/~/extension/~/message-store?type=Voicemail", "/restapi/v1.0/account/7/extension/9/message-store?type=VoiceMail", EventMessageStore},
		{"/restapi/v1.0/account/~/extension/~/message-store/instant?type=SMS", "/restapi/v1.0/account/7/extension/9/message-store/instant?type=SMS", EventInstantSMS},
		{"/restapi/v1.0/account/~/extension/~/fax?direction=Inbound", "/restapi/v1.0/account/7/extension/9/fax?direction=Inbound", EventInboundFax},
		{"/restapi/v1.0/account/~/extension/~/voicemail", "/restapi/v1.0/account/7/extension/9/voicemail", EventVoicemail},
		{"/restapi/v1.0/account/~/extension/~/message-store/instant", "", 0},
		{"/restapi/v1.0/account/~/extension/~/message-store/instant?type=Fax", "", 0},
		{"/restapi/v1.0/account/~/extension/~/fax", "", 0},
		{"/restapi/v1.0/account/~/extension/~/message-store?type=Email", "", 0},
		{"/restapi/v1.0/account/~/extension/~/message-store?foo=1", "", 0},
		{"/restapi/v1.0/account/~/extension/~/message-store?type=SMS&type=Fax", "", 0},
		{"/restapi/v1.0/account/~/extension/~/presence", "", 0},
		{"/restapi/v1.0/account/x/extension/~/message-store", "", 0},
		{"/restapi/v1.0/account/~/extension/-1/message-store", "", 0},
		{"/restapi/v1.0/glip/posts", "", 0},
		{"", "", 0},
	} {
		f, err := ParseEventFilter(tc.in, p)
		if tc.path == "" {
			if e := AsError(err); e == nil || e.Code != CodeInvalidEventFilter || e.Kind() != KindInvalid {
				t.Errorf("%q: got %v, want SUB-508", tc.in, err)
			}
			continue
		}
		if err != nil || f.Path != tc.path || f.Kind != tc.kind {
			t.Errorf("%q: got %+v %v, want %s", tc.in, f, err, tc.path)
		}
	}
}

func TestResolveEventFiltersTenancy(t *testing.T) {
	user := &Principal{AccountID: 7, ExtensionID: 9}
	admin := &Principal{AccountID: 7, ExtensionID: 10, Admin: true}
	other := "/restapi/v1.0/account/7/extension/11/message-store"
	foreign := "/restapi/v1.0/account/8/extension/9/message-store"
	for _, tc := range []struct {
		p       *Principal
		filters []string
		code    string
	}{
		{user, []string{"/restapi/v1.0/account/~/extension/~/message-store"}, ""},
		{user, []string{other}, CodeSubscriptionDenied},
		{user, []string{foreign}, CodeSubscriptionDenied},
		{admin, []string{other}, ""},
		{admin, []string{foreign}, CodeSubscriptionDenied},
		{user, nil, CodeInvalidParameter},
	} {
		_, err := ResolveEventFilters(tc.filters, tc.p)
		if tc.code == "" && err != nil || tc.code != "" && (AsError(err) == nil || AsError(err).Code != tc.code) {
			t.Errorf("%+v %v: got %v, want %q", tc.p, tc.filters, err, tc.code)
		}
	}
	fs, err := ResolveEventFilters([]string{"/restapi/v1.0/account/~/extension/~/message-store", "/restapi/v1.0/account/7/extension/9/message-store"}, user)
	if err != nil || len(fs) != 1 {
		t.Fatalf("duplicates: %v %v", fs, err)
	}
}

func TestEventFilterMatches(t *testing.T) {
	c := func(kind string, typ MessageType, dir Direction) *Change {
		return &Change{AccountID: 7, ExtensionID: 9, Kind: kind, Type: typ, Direction: dir}
	}
	mustParse := func(s string) EventFilter {
		f, err := ParseEventFilter(s, &Principal{AccountID: 7, ExtensionID: 9})
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	store, fax := mustParse("/account/~/extension/~/message-store"), mustParse("/account/~/extension/~/message-store?type=Fax&direction=Outbound")
	instant, vm := mustParse("/account/~/extension/~/message-store/instant?type=SMS"), mustParse("/account/~/extension/~/voicemail")
	for _, tc := range []struct {
		f    EventFilter
		c    *Change
		want bool
	}{
		{store, c(ChangeUpdated, TypePager, Outbound), true},
		{fax, c(ChangeCreated, TypeFax, Outbound), true},
		{fax, c(ChangeCreated, TypeFax, Inbound), false},
		{instant, c(ChangeCreated, TypeSMS, Inbound), true},
		{instant, c(ChangeUpdated, TypeSMS, Inbound), false},
		{instant, c(ChangeCreated, TypeSMS, Outbound), false},
		{vm, c(ChangeCreated, TypeVoiceMail, Inbound), true},
		{store, &Change{AccountID: 7, ExtensionID: 10, Kind: ChangeCreated, Type: TypeSMS}, false},
	} {
		if got := tc.f.Matches(tc.c); got != tc.want {
			t.Errorf("%s matches %+v: %v, want %v", tc.f.Path, tc.c, got, tc.want)
		}
	}
}

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"abcdef", 3, "abc"},
		{"añb", 2, "a"}, // ñ is two bytes: not cut in half
		{"añb", 3, "añ"},
		{"日本", 4, "日"},
		{"日本", 0, ""},
	} {
		if got := Truncate(tc.s, tc.n); got != tc.want || !utf8.ValidString(got) {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
}
