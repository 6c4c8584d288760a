package switchboard

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestNewA2PBatch(t *testing.T) {
	text := func(s string) *string { return &s }
	optedOut := func(to []string) (map[string]bool, error) {
		return map[string]bool{"+14155550009": true}, nil
	}
	base := A2PBatchCreate{From: "+16505550111", Text: "default"}
	cases := []struct {
		name       string
		batchText  string
		msgs       []A2PMessageRequest
		wantItems  []A2PItem
		wantReject []string // index:code
		wantParam  string   // refused: the field named
		max        int      // 0: 10
	}{
		{name: "no messages", wantParam: "messages"},
		{name: "too many", msgs: make([]A2PMessageRequest, 4), max: 3, wantParam: "messages"},
		{name: "batch text too long", batchText: strings.Repeat("x", MaxSMSText+1), msgs: []A2PMessageRequest{{To: []string{"+14155550001"}}}, wantParam: "text"},
		{name: "accepted, override and digits without +",
			msgs:      []A2PMessageRequest{{To: []string{"+1 415 555 0001"}}, {To: []string{"14155550002"}, Text: text("own")}, {To: []string{"+14155550003"}, Text: text("default")}},
			wantItems: []A2PItem{{To: "+14155550001"}, {To: "+14155550002", Text: "own"}, {To: "+14155550003"}}},
		{name: "rejections in request order",
			msgs: []A2PMessageRequest{{To: []string{"+14155550009"}}, {To: []string{"abc"}}, {To: []string{"+14155550001", "+14155550002"}},
				{To: []string{"+14155550004"}, Text: text(" ")}, {To: []string{"+14155550005"}, Text: text(strings.Repeat("é", MaxSMSText+1))}, {To: []string{"+14155550006"}}},
			wantItems:  []A2PItem{{To: "+14155550006"}},
			wantReject: []string{"0:" + CodeOptedOut, "1:" + CodeInvalidRecipient, "2:" + CodeInvalidRecipient, "3:" + CodeInvalidParameter, "4:" + CodeInvalidParameter}},
		{name: "nothing left to send", msgs: []A2PMessageRequest{{To: []string{"+14155550009"}}, {To: nil}}, wantParam: "messages"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := base
			if tc.batchText != "" {
				c.Text = tc.batchText
			}
			limit := tc.max
			if limit == 0 {
				limit = 10
			}
			got, rejected, err := NewA2PBatch(c, tc.msgs, limit, optedOut)
			if tc.wantParam != "" {
				var e *Error
				if !errors.As(err, &e) || len(e.Params) == 0 || e.Params[0].Name != tc.wantParam || e.Kind() != KindInvalid {
					t.Fatalf("err = %v, want an invalid-parameter error naming %s", err, tc.wantParam)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Items) != len(tc.wantItems) {
				t.Fatalf("items %+v, want %+v", got.Items, tc.wantItems)
			}
			for i := range got.Items {
				if got.Items[i] != tc.wantItems[i] {
					t.Fatalf("items %+v, want %+v", got.Items, tc.wantItems)
				}
			}
			var rs []string
			for _, r := range rejected {
				rs = append(rs, fmt.Sprintf("%d:%s", r.Index, r.ErrorCode))
			}
			if strings.Join(rs, " ") != strings.Join(tc.wantReject, " ") {
				t.Fatalf("rejected %v, want %v", rs, tc.wantReject)
			}
		})
	}
}

func TestParseKeyword(t *testing.T) {
	for text, want := range map[string]Keyword{"STOP": KeywordOptOut, " stop ": KeywordOptOut, "Unsubscribe": KeywordOptOut, "Stop.": KeywordOptOut,
		"START": KeywordOptIn, "unstop": KeywordOptIn, "help": KeywordHelp, "stop it": KeywordNone, "": KeywordNone, "hello": KeywordNone} {
		if got := ParseKeyword(text); got != want {
			t.Errorf("ParseKeyword(%q) = %v, want %v", text, got, want)
		}
	}
}
