package httpapi_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/export"
)

// TestMessageStoreReport: the account administrator creates an export
// task, a worker builds it, the task is polled and its zip listed and
// downloaded; other users and other accounts are refused.
func TestMessageStoreReport(t *testing.T) {
	e := newTestEnv(t)
	alice, bob, carol := e.token(e.alice), e.token(e.bob), e.token(e.carol)
	recs := e.importMessages(e.bob,
		sms("Inbound", "+15550000001", "+16505550102", "exported", baseTime.Add(-time.Hour)),
		sms("Inbound", "+15550000001", "+16505550102", "too old", baseTime.Add(-72*time.Hour)))
	e.importMessages(e.carol, sms("Inbound", "+15550000001", "+14155550101", "other account", baseTime.Add(-time.Hour)))
	path := "/restapi/v1.0/account/~/message-store-report"
	body := map[string]any{"dateFrom": baseTime.Add(-24 * time.Hour).Format(time.RFC3339), "messageTypes": []string{"SMS", "Fax"}}

	r := e.expect(e.request("POST", path, bob, body), 403)
	errorOf(t, r)
	for _, bad := range []map[string]any{
		{"messageTypes": []string{"Email"}},
		{"dateFrom": "yesterday"},
		{"dateFrom": baseTime.Format(time.RFC3339), "dateTo": baseTime.Add(-time.Hour).Format(time.RFC3339)},
		{"extensions": []map[string]any{{"id": "999"}}},
		{"extensions": []map[string]any{{"id": e.carol.ID}}},
	} {
		if r := e.request("POST", path, alice, bad); r.StatusCode/100 != 4 {
			t.Fatalf("POST %v: %d %s", bad, r.StatusCode, r.body)
		} else {
			errorOf(t, r)
		}
	}
	task := e.expect(e.request("POST", path, alice, body), 200).object(t)
	if task["status"] != "Accepted" || task["id"] == "" || fmt.Sprint(task["messageTypes"]) != "[SMS Fax]" {
		t.Fatalf("created %v", task)
	}
	taskPath := fmt.Sprintf("/restapi/v1.0/account/%d/message-store-report/%s", e.acc1.ID, task["id"])
	e.expect(e.request("GET", taskPath, carol, nil), 404)
	e.expect(e.request("GET", taskPath, bob, nil), 403)
	if l := e.expect(e.request("GET", taskPath+"/archive", alice, nil), 200).object(t); len(l["records"].([]any)) != 0 {
		t.Fatalf("archive before the task ran: %v", l)
	}
	e.expect(e.request("GET", taskPath+"/archive/1", alice, nil), 404)

	w := export.New(e.store, export.Config{Owner: "test", BaseURL: e.srv.URL},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if did, err := w.RunOnce(context.Background()); !did || err != nil {
		t.Fatalf("worker: %v, %v", did, err)
	}
	if got := e.expect(e.request("GET", taskPath, alice, nil), 200).object(t); got["status"] != "Completed" || got["finishTime"] == nil {
		t.Fatalf("task after the worker: %v", got)
	}
	list := e.expect(e.request("GET", taskPath+"/archive", alice, nil), 200).object(t)
	rec := list["records"].([]any)[0].(map[string]any)
	r = e.expect(e.request("GET", rec["uri"].(string), alice, nil), 200)
	if r.Header.Get("Content-Type") != "application/zip" || float64(len(r.body)) != rec["size"] {
		t.Fatalf("download: %s, %d bytes, listed %v", r.Header.Get("Content-Type"), len(r.body), rec["size"])
	}
	zr, err := zip.NewReader(bytes.NewReader(r.body), int64(len(r.body)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	want := fmt.Sprintf("102-%d/%d.json", e.bob.ID, int64(idOf(recs[0])))
	if len(names) != 2 || names[0] != want && names[1] != want {
		t.Fatalf("archive files %v, want %s and its text", names, want)
	}
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		if strings.Contains(string(b), "other account") || strings.Contains(string(b), "too old") {
			t.Fatalf("%s holds a message outside the report: %s", f.Name, b)
		}
	}
	// Another account's token cannot download it either.
	e.expect(e.request("GET", rec["uri"].(string), carol, nil), 404)

	// At most two running tasks per account.
	e.expect(e.request("POST", path, alice, body), 200)
	e.expect(e.request("POST", path, alice, body), 200)
	errorOf(t, e.expect(e.request("POST", path, alice, body), 429))
}
