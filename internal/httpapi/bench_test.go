package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
)

// BenchmarkListLayers splits the cost of one list page (100 SMS of a
// 5,000-message mailbox) into its layers: the store call, the handler
// without a network (auth, tenancy, JSON), and a request over loopback.
//
//	go test ./internal/httpapi -run '^$' -bench ListLayers -benchtime 2000x
func BenchmarkListLayers(b *testing.B) {
	e := newTestEnv(b)
	tok := e.token(e.bob)
	ctx := context.Background()
	var creates []switchboard.MessageCreate
	for i := range 5000 {
		text := fmt.Sprintf("message %d: the quick brown fox jumps over the lazy dog", i)
		creates = append(creates, switchboard.MessageCreate{AccountID: e.acc1.ID, ExtensionID: e.bob.ID, Type: switchboard.TypeSMS,
			Direction: switchboard.Inbound, Subject: text, From: switchboard.Party{PhoneNumber: fmt.Sprintf("+1555%07d", i%50)},
			To: []switchboard.Party{{PhoneNumber: "+16505550102"}}, Created: baseTime.Add(-time.Duration(i+1) * time.Second),
			Attachments: []*switchboard.Attachment{{Type: switchboard.AttachmentText, ContentType: "text/plain", Content: []byte(text)}}})
	}
	if _, err := e.store.CreateMessages(ctx, creates); err != nil {
		b.Fatal(err)
	}
	path := "/restapi/v1.0/account/~/extension/~/message-store?perPage=100"
	f := switchboard.MessageFilter{AccountID: e.acc1.ID, ExtensionID: e.bob.ID, Availability: []switchboard.Availability{switchboard.Alive},
		DateFrom: baseTime.Add(-24 * time.Hour), DateTo: baseTime, Limit: 100}
	handler := e.srv.Config.Handler

	b.Run("store", func(b *testing.B) {
		for b.Loop() {
			if _, err := e.store.ListMessages(ctx, f); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("handler", func(b *testing.B) {
		for b.Loop() {
			req := httptest.NewRequest("GET", e.srv.URL+path, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			w := httptest.NewRecorder()
			handler.ServeHTTP(w, req)
			if w.Code != 200 {
				b.Fatal(w.Code)
			}
		}
	})
	b.Run("loopback", func(b *testing.B) {
		for b.Loop() {
			req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := http.DefaultClient.Do(req)
			if err != nil || resp.StatusCode != 200 {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}
