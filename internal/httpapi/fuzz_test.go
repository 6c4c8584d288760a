package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/ratelimit"
	"github.com/switchboardhq/switchboard/internal/rcwire"
)

// FuzzParseListQuery: any query string either parses into a bounded filter
// or yields a 400 with the parameter named; it never panics.
func FuzzParseListQuery(f *testing.F) {
	for _, seed := range []string{"", "perPage=5000&page=3", "messageType=SMS,Fax&direction=Inbound",
		"dateFrom=2026-01-01&dateTo=2025-01-01", "page=9999999999", "conversationId=-1", "phoneNumber=%2B1"} {
		f.Add(seed)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		lq, err := parseListQuery(q, now)
		if err != nil {
			e := switchboard.AsError(err)
			if e == nil || rcwire.ErrorStatus(e) != http.StatusBadRequest || len(e.Params) == 0 || e.Params[0].Name == "" {
				t.Fatalf("error %v is not a 400 naming its parameter", err)
			}
			return
		}
		if lq.perPage < 0 || lq.perPage > maxPerPage || lq.page < 1 || lq.filter.Offset < 0 || lq.filter.DateFrom.After(lq.filter.DateTo) {
			t.Fatalf("unbounded or inconsistent query from %q: %+v", raw, lq)
		}
	})
}

// FuzzSyncToken: any token either decodes for its own mailbox or asks for
// a full sync.
func FuzzSyncToken(f *testing.F) {
	f.Add(syncToken{V: 1, Extension: 7, Seq: 3}.encode())
	f.Add("")
	f.Add("eyJ2IjoxfQ")
	f.Fuzz(func(t *testing.T, raw string) {
		tok, err := decodeSyncToken(raw, 7)
		if err != nil {
			if e := switchboard.AsError(err); e == nil || e.Code != codeSyncRequired {
				t.Fatalf("error %v is not MSG-333", err)
			}
			return
		}
		if tok.Extension != 7 || tok.Seq < 0 {
			t.Fatalf("accepted token %+v", tok)
		}
	})
}

// FuzzJSONBody: any body either decodes into each request type or is a 4xx
// in RingCentral's terms (no Go type names); the admin API's strict mode
// accepts only a JSON object of known fields.
func FuzzJSONBody(f *testing.F) {
	for _, seed := range []string{`{}`, `null`, `[]`, `{"to": "x"}`, `{"to": [{"phoneNumber": 5}]}`, `{"text": 1e999}`,
		`{"from": {"phoneNumber": "+16505550101"}, "to": [{"phoneNumber": "+16505550102"}], "text": "hi"}`,
		`{"eventFilters": ["/restapi/v1.0/account/~/extension/~/message-store"], "deliveryMode": {"transportType": "WebSocket"}}`,
		`{"deletePeriodSeconds": -1, "extra": true}`, `{"enforce": "yes"}`, `{"groups": {"Light": {"limit": 1.5}}}`,
		`{"readStatus": "Read"} {"x": 1}`, "\xff", `{"a":`, `"string"`, `{"readStatus": null}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		strict := context.WithValue(context.Background(), strictKey{}, true)
		for _, tc := range []struct {
			ctx context.Context
			v   func() any
		}{
			{context.Background(), func() any { return &smsRequest{} }},
			{context.Background(), func() any { return &pagerRequest{} }},
			{context.Background(), func() any { return &updateRequest{} }},
			{context.Background(), func() any { return &subscriptionRequest{} }},
			{context.Background(), func() any { return &exportRequest{} }},
			{strict, func() any { return &retentionJSON{} }},
			{strict, func() any { return &rateLimitsJSON{} }},
			{strict, func() any { return &map[string]json.RawMessage{} }},
		} {
			v := tc.v()
			err := unmarshalJSON(tc.ctx, body, v)
			if err == nil {
				if strictJSON(tc.ctx) && !strings.HasPrefix(strings.TrimSpace(string(body)), "{") {
					t.Fatalf("strict decoding accepted %q", body)
				}
				continue
			}
			e := switchboard.AsError(err)
			if e == nil || rcwire.ErrorStatus(e) < 400 || rcwire.ErrorStatus(e) > 499 {
				t.Fatalf("%T from %q: %v is not a client error", v, body, err)
			}
			if msg := fmt.Sprint(e.Message, e.Params); strings.Contains(msg, "httpapi.") || strings.Contains(msg, "Go ") || strings.Contains(msg, "struct") {
				t.Fatalf("%T from %q: the error shows Go internals: %s", v, body, msg)
			}
		}
	})
}

// FuzzWebSocketFrame: any frame a client sends either parses into a
// request whose query and group are decided, or is refused; none panics,
// and a query error is a 400 naming its parameter.
func FuzzWebSocketFrame(f *testing.F) {
	for _, seed := range []string{`[{"type":"ClientRequest","messageId":"1","method":"GET","path":"/restapi/v1.0/account/~/extension/~"}]`,
		`[{"type":"ClientRequest","method":"POST","path":"/restapi/v1.0/subscription"},{"eventFilters":[]}]`,
		`[{"type":"ClientRequest","method":"GET","path":"/restapi/v1.0/account/~/extension/~/message-store?perPage=2#x","query":{"messageType":["SMS",1,true,null]}}]`,
		`[{"type":"Heartbeat"}]`, `[]`, `{}`, `[1]`, `[{"query":{"a":{"b":1}}}]`, `[{"query":[1]}]`, `[{"path":"%zz?%zz"}]`, "\x00"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		meta, _, ok := parseFrame(data)
		if !ok {
			return
		}
		path, raw, _ := strings.Cut(meta.Path, "?")
		raw, _, _ = strings.Cut(raw, "#")
		if _, err := socketQuery(meta.Query, raw); err != nil {
			if e := switchboard.AsError(err); e == nil || rcwire.ErrorStatus(e) != http.StatusBadRequest || len(e.Params) == 0 {
				t.Fatalf("frame %q: query error %v is not a 400 naming a parameter", data, err)
			}
		}
		if g, ok := ratelimit.GroupFor(strings.ToUpper(meta.Method), path); ok && g == "" {
			t.Fatalf("frame %q: counted in no group", data)
		}
	})
}
