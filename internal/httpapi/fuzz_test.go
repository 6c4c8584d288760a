package httpapi

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
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
