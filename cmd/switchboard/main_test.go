package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

func TestServeDemo(t *testing.T) {
	dir := t.TempDir()
	demo, out, stop := runServer(t, dir)

	if len(demo.Extensions) != 4 || demo.ClientID == "" || demo.ClientSecret == "" || demo.AdminToken == "" {
		t.Fatalf("demo.json %+v", demo)
	}
	want := []struct{ number, typ string }{{"101", "User"}, {"102", "User"}, {"103", "Department"}, {"101", "User"}}
	for i, w := range want {
		x := demo.Extensions[i]
		if x.ExtensionNumber != w.number || x.Type != w.typ || x.ID == "" || x.PhoneNumber == "" {
			t.Fatalf("extension %d: %+v", i, x)
		}
		if (x.Type == "User") != (x.JWT != "" && x.Password != "" && x.Username != "") {
			t.Fatalf("extension %d credentials: %+v", i, x)
		}
	}
	if demo.Extensions[3].AccountID == demo.Extensions[0].AccountID {
		t.Fatal("the last extension must belong to a second account")
	}
	if !strings.Contains(out.String(), demo.ClientID) || !strings.Contains(out.String(), "demo.json") {
		t.Fatalf("serve did not print how to log in:\n%s", out.String())
	}

	tok := login(t, demo, demo.Extensions[1].JWT)
	status, ext := get(t, demo.Server+"/restapi/v1.0/account/~/extension/~", tok)
	if status != 200 || ext["extensionNumber"] != "102" {
		t.Fatalf("extension: %d %v", status, ext)
	}
	status, nums := get(t, demo.Server+"/restapi/v1.0/account/~/extension/~/phone-number", tok)
	if status != 200 || !strings.Contains(toJSON(nums), "SmsSender") || !strings.Contains(toJSON(nums), "MmsSender") {
		t.Fatalf("phone numbers: %d %v", status, nums)
	}
	status, fsync := get(t, demo.Server+"/restapi/v1.0/account/~/extension/~/message-sync?syncType=FSync", tok)
	if status != 200 {
		t.Fatalf("FSync: %d %v", status, fsync)
	}
	syncToken := fsync["syncInfo"].(map[string]any)["syncToken"].(string)
	stop()

	// A restart keeps everything: the same credentials still log in, and a
	// token issued before the restart still works, as does a sync token.
	demo2, _, stop2 := runServer(t, dir)
	defer stop2()
	if demo2.ClientID != demo.ClientID || demo2.Extensions[0].ID != demo.Extensions[0].ID {
		t.Fatal("restart created a new demo instead of keeping the data")
	}
	if status, _ := get(t, demo2.Server+"/restapi/v1.0/account/~/extension/~", tok); status != 200 {
		t.Fatalf("token issued before the restart: %d", status)
	}
	if status, body := get(t, demo2.Server+"/restapi/v1.0/account/~/extension/~/message-sync?syncType=ISync&syncToken="+url.QueryEscape(syncToken), tok); status != 200 {
		t.Fatalf("sync token issued before the restart: %d %v", status, body)
	}
	login(t, demo2, demo2.Extensions[0].JWT)
}

func TestConfigCommand(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"config", "--mailbox-cap", "7", "--demo"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range [][]string{{"--mailbox-cap", "7", "SWITCHBOARD_MAILBOX_CAP"}, {"--demo", "true"}, {"--delete-period", "120h0m0s"}} {
		found := false
		for _, line := range strings.Split(out.String(), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == want[0] && f[1] == want[1] {
				found = true
			}
		}
		if !found {
			t.Fatalf("config output lacks %v:\n%s", want, out.String())
		}
	}
	out.Reset()
	if err := run(context.Background(), []string{"config", "--listen", "nowhere"}, &out, &out); err == nil || !strings.Contains(err.Error(), "host:port") {
		t.Fatalf("bad listen: %v", err)
	}
}

func toJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestDirectoryCommands(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	cli := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, append(args, "--data", dir), &out, &out)
		return out.String(), err
	}
	mustCLI := func(args ...string) string {
		t.Helper()
		out, err := cli(args...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		return out
	}
	out := mustCLI("account", "create", "--name", "Acme", "--main-number", "+1 650 555 0000")
	var acc string
	if _, err := fmt.Sscanf(out, "created account %s", &acc); err != nil {
		t.Fatalf("account create: %q", out)
	}
	if out := mustCLI("account", "list"); !strings.Contains(out, "Acme") || !strings.Contains(out, "+16505550000") || !strings.Contains(out, acc) {
		t.Fatalf("account list: %s", out)
	}
	if out := mustCLI("account", "list"); !strings.Contains(out, "120h0m0s") || !strings.Contains(out, "20000") {
		t.Fatalf("account list does not show the default retention: %s", out)
	}
	mustCLI("account", "set-retention", "--id", acc, "--delete-period", "240h", "--mailbox-cap", "-1")
	if out := mustCLI("account", "list"); !strings.Contains(out, "240h0m0s*") || !strings.Contains(out, "none*") || !strings.Contains(out, "120h0m0s") {
		t.Fatalf("account list after set-retention: %s", out)
	}
	out = mustCLI("extension", "create", "--account", acc, "--number", "101", "--name", "Ann", "--password")
	var ext string
	if _, err := fmt.Sscanf(out, "created extension 101 (id %s", &ext); err != nil || !strings.Contains(out, "password: ") {
		t.Fatalf("extension create: %q", out)
	}
	ext = strings.TrimSuffix(ext, ")")
	out = mustCLI("extension", "list", "--account", acc)
	if !strings.Contains(out, "Ann") || !strings.Contains(out, "Enabled") || !strings.Contains(out, ext) {
		t.Fatalf("extension list: %s", out)
	}
	mustCLI("number", "add", "--account", acc, "--extension", ext, "--number", "+16505550001")
	if out := mustCLI("number", "list", "--account", acc); !strings.Contains(out, "+16505550001") || !strings.Contains(out, "SmsSender") || !strings.Contains(out, ext) {
		t.Fatalf("number list: %s", out)
	}
	if out := mustCLI("app", "create", "--name", "CRM"); !strings.Contains(out, "client secret:") {
		t.Fatalf("app create: %s", out)
	}
	if out := mustCLI("app", "list"); !strings.Contains(out, "CRM") || !strings.Contains(out, "confidential") {
		t.Fatalf("app list: %s", out)
	}
	out = mustCLI("app", "create", "--name", "Web", "--public", "--redirect-uris", "https://web.example/cb")
	var webID string
	if _, err := fmt.Sscanf(out[strings.Index(out, "client id:"):], "client id: %s", &webID); err != nil {
		t.Fatalf("app create --public: %q", out)
	}
	if out := mustCLI("app", "list"); !strings.Contains(out, "https://web.example/cb") {
		t.Fatalf("app list shows no redirect URI: %s", out)
	}
	mustCLI("app", "redirect-uris", "--client-id", webID, "--set", "https://web.example/a,https://web.example/b", "--loopback-redirects")
	if out := mustCLI("app", "list"); !strings.Contains(out, "https://web.example/a,https://web.example/b,loopback") {
		t.Fatalf("app list after redirect-uris: %s", out)
	}
	if out := mustCLI("jwt", "create", "--account", acc, "--extension", ext); !strings.Contains(out, "eyJ") {
		t.Fatalf("jwt create: %s", out)
	}
	// --extension takes the extension number too, as the README uses it.
	if out := mustCLI("jwt", "create", "--account", acc, "--extension", "101"); !strings.Contains(out, "eyJ") || !strings.Contains(out, ext) {
		t.Fatalf("jwt create --extension 101: %s", out)
	}
	mustCLI("number", "add", "--account", acc, "--extension", "101", "--number", "+16505550002")
	if out := mustCLI("jwt", "list", "--account", acc); !strings.Contains(out, ext) || !strings.Contains(out, "Enabled") {
		t.Fatalf("jwt list: %s", out)
	}
	mustCLI("admin-token", "create", "--name", "ops")
	if out := mustCLI("admin-token", "list"); !strings.Contains(out, "ops") {
		t.Fatalf("admin-token list: %s", out)
	}
	mustCLI("extension", "disable", "--account", acc, "--id", ext)
	if out := mustCLI("extension", "list", "--account", acc); !strings.Contains(out, "Disabled") {
		t.Fatalf("after disable: %s", out)
	}

	// Errors say what is wrong and what to do.
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"account", "create"}, "--name is required"},
		{[]string{"extension", "create", "--account", acc, "--number", "101", "--name", "Dup"}, "taken"},
		{[]string{"extension", "disable", "--account", acc, "--id", "77"}, "list command"},
		{[]string{"number", "add", "--account", acc, "--number", "555"}, "E.164"},
		{[]string{"account", "frobnicate"}, "unknown command"},
		{[]string{"account", "set-retention", "--id", acc, "--mailbox-cap", "-5"}, "mailboxCap"},
		{[]string{"frobnicate"}, "unknown command"},
		// An account or extension that does not exist: no SQL, the ids that do.
		{[]string{"extension", "create", "--account", "1", "--number", "102", "--name", "X"}, "there is no account 1: --account takes the id `account create` printed (accounts: " + acc + ")"},
		{[]string{"number", "add", "--account", acc, "--extension", "2", "--number", "+16505550003"}, "extension list --account " + acc},
		{[]string{"jwt", "create", "--account", acc, "--extension", "999"}, "no extension with number or id"},
	} {
		if out, err := cli(tt.args...); err != nil && strings.Contains(err.Error()+out, "constraint") {
			t.Errorf("%v: the error shows SQL: %v", tt.args, err)
		}
		out, err := cli(tt.args...)
		if err == nil || !strings.Contains(err.Error()+out, tt.want) {
			t.Errorf("%v: err %v, want mention of %q\n%s", tt.args, err, tt.want, out)
		}
	}
}
