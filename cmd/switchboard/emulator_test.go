package main

import (
	"net/http"
	"testing"
)

// TestEmulatorClock: moving the clock days ahead keeps OAuth sessions (they
// run on real time), and a restart keeps the moved time, so messages
// created meanwhile are not in the future.
func TestEmulatorClock(t *testing.T) {
	dir := t.TempDir()
	demo, _, stop := runServer(t, dir)
	bob := demo.Extensions[1]
	tok := login(t, demo, bob.JWT)
	advanceClock(t, http.DefaultClient, demo, 5*24*3600)
	if status, body := get(t, demo.Server+"/restapi/v1.0/account/~/extension/~", tok); status != 200 {
		t.Fatalf("token after moving the clock five days: %d %v", status, body)
	}
	status, sent := call(t, http.DefaultClient, "POST", demo.Server+"/restapi/v1.0/account/~/extension/~/sms", tok,
		smsBody(bob.PhoneNumber, "+15551230000", "sent five days ahead"))
	if status != 200 {
		t.Fatalf("send: %d %s", status, sent)
	}
	stop()

	demo2, _, stop2 := runServer(t, dir)
	defer stop2()
	status, list := get(t, demo2.Server+"/restapi/v1.0/account/~/extension/~/message-store", tok)
	if status != 200 {
		t.Fatalf("list after the restart: %d %v", status, list)
	}
	if recs := list["records"].([]any); len(recs) != 1 || recs[0].(map[string]any)["subject"] != "sent five days ahead" {
		t.Fatalf("after a restart the message sent at the moved time is not listed: %v", recs)
	}
}
