package config

import (
	"flag"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/ratelimit"
)

func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		check   func(Config) bool
		wantErr string
	}{
		{name: "defaults", check: func(c Config) bool {
			return c.Listen == "127.0.0.1:8080" && c.DataDir == "./switchboard-data" && !c.Demo && c.SQLiteSync == "FULL" && c.AccessTokenTTL == time.Hour
		}},
		{name: "env", env: map[string]string{"SWITCHBOARD_LISTEN": "0.0.0.0:9000", "SWITCHBOARD_DEMO": "true", "SWITCHBOARD_SQLITE_SYNC": "normal"},
			check: func(c Config) bool { return c.Listen == "0.0.0.0:9000" && c.Demo && c.SQLiteSync == "NORMAL" }},
		{name: "flags win over env", env: map[string]string{"SWITCHBOARD_DATA": "/env"}, args: []string{"--data", "/flag", "--demo"},
			check: func(c Config) bool { return c.DataDir == "/flag" && c.Demo }},
		{name: "demo=false flag", env: map[string]string{"SWITCHBOARD_DEMO": "1"}, args: []string{"--demo=false"},
			check: func(c Config) bool { return !c.Demo }},
		{name: "bad listen", args: []string{"--listen", "8080"}, wantErr: "want host:port"},
		{name: "bad env bool", env: map[string]string{"SWITCHBOARD_DEMO": "maybe"}, wantErr: "SWITCHBOARD_DEMO"},
		{name: "bad sync", args: []string{"--sqlite-sync", "OFF"}, wantErr: "want FULL or NORMAL"},
		{name: "ttl too short", args: []string{"--access-token-ttl", "30s"}, wantErr: "access-token-ttl"},
		{name: "bad public url", args: []string{"--public-url", "example.com"}, wantErr: "public URL"},
		{name: "bad log format", env: map[string]string{"SWITCHBOARD_LOG_FORMAT": "xml"}, wantErr: "log-format"},
		{name: "log level", env: map[string]string{"SWITCHBOARD_LOG_LEVEL": "WARN"}, args: []string{"--log-level", "debug"},
			check: func(c Config) bool { l, err := c.SlogLevel(); return err == nil && l == slog.LevelDebug }},
		{name: "bad log level", args: []string{"--log-level", "verbose"}, wantErr: "log-level"},
		{name: "retention flags", args: []string{"--delete-period", "1h", "--purge-period", "2h", "--mailbox-cap", "0", "--emulator"},
			check: func(c Config) bool {
				return c.DeletePeriod == time.Hour && c.PurgePeriod == 2*time.Hour && c.MailboxCap == 0 && c.Emulator
			}},
		{name: "negative cap", args: []string{"--mailbox-cap", "-3"}, wantErr: "mailbox-cap"},
		{name: "zero delete period", env: map[string]string{"SWITCHBOARD_DELETE_PERIOD": "0s"}, wantErr: "delete-period"},
		{name: "unknown flag", args: []string{"--nope"}, wantErr: "flag provided but not defined"},
		{name: "postgres from env, role flag", env: map[string]string{"SWITCHBOARD_DATABASE": "postgres://u:p@db:5432/sb"}, args: []string{"--role", "WORKER"},
			check: func(c Config) bool { return IsPostgres(c.Database) && c.Role == RoleWorker && c.DBMaxConns == 16 }},
		{name: "sqlite url", args: []string{"--database", "sqlite:///var/lib/sb.db"}, check: func(c Config) bool { return !IsPostgres(c.Database) }},
		{name: "bad database", args: []string{"--database", "mysql://u:secret@db/sb"}, wantErr: "want sqlite://PATH or postgres://"},
		{name: "empty sqlite url", args: []string{"--database", "sqlite://"}, wantErr: "want sqlite://PATH"},
		{name: "more recipients than a message holds", args: []string{"--max-recipients", "101"}, wantErr: "max-recipients"},
		{name: "bad role", env: map[string]string{"SWITCHBOARD_ROLE": "leader"}, wantErr: "want all, api or worker"},
		{name: "webhooks refuse private addresses by default", check: func(c Config) bool { return !c.WebHookAllowPrivate }},
		{name: "demo allows private webhooks", args: []string{"--demo"}, check: func(c Config) bool { return c.WebHookAllowPrivate }},
		{name: "emulator allows private webhooks", env: map[string]string{"SWITCHBOARD_EMULATOR": "1"}, check: func(c Config) bool { return c.WebHookAllowPrivate }},
		{name: "demo with private webhooks off", args: []string{"--demo", "--webhook-allow-private=false"}, check: func(c Config) bool { return !c.WebHookAllowPrivate }},
		{name: "private webhooks on in production", env: map[string]string{"SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE": "true"}, check: func(c Config) bool { return c.WebHookAllowPrivate }},
		{name: "server limits", args: []string{"--max-connections", "100", "--max-uploads", "2", "--upload-min-rate", "500", "--body-read-grace", "2s"},
			check: func(c Config) bool {
				return c.Security.MaxConnections == 100 && c.Security.MaxUploads == 2 && c.Security.UploadMinRate == 500 && c.Security.BodyReadGrace == 2*time.Second
			}},
		{name: "connection cap too small", args: []string{"--max-connections", "3"}, wantErr: "max-connections"},
		{name: "no upload rate", env: map[string]string{"SWITCHBOARD_UPLOAD_MIN_RATE": "0"}, wantErr: "upload-min-rate"},
		{name: "certificate without key", args: []string{"--tls-cert", "/etc/cert.pem"}, wantErr: "set both"},
		{name: "smtp auth without tls", args: []string{"--smtp-listen", "127.0.0.1:2525", "--smtp-auth=true"}, wantErr: "only over TLS"},
		{name: "smtp hardening", args: []string{"--smtp-tls-cert", "c.pem", "--smtp-tls-key", "k.pem", "--smtp-auth=true", "--smtp-accept-any-rcpt=true"},
			check: func(c Config) bool {
				return c.Inbound.SMTPAuth && c.Inbound.SMTPAcceptAnyRcpt && c.Inbound.SMTPTLSKey == "k.pem"
			}},
		{name: "statement timeout too short", args: []string{"--db-statement-timeout", "1ms"}, wantErr: "db-statement-timeout"},
		{name: "webhook history", env: map[string]string{"SWITCHBOARD_WEBHOOK_HISTORY": "0"},
			check: func(c Config) bool { return c.WebHookHistory == 0 }},
		{name: "negative webhook history", args: []string{"--webhook-history", "-1"}, wantErr: "webhook-history"},
		{name: "profiler off by default", check: func(c Config) bool { return c.DebugListen == "" }},
		{name: "profiler address", env: map[string]string{"SWITCHBOARD_DEBUG_LISTEN": "127.0.0.1:6060"}, check: func(c Config) bool { return c.DebugListen == "127.0.0.1:6060" }},
		{name: "bad profiler address", args: []string{"--debug-listen", "6060"}, wantErr: "debug listen address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ok := loadCase(t, tt.args, tt.env, tt.wantErr)
			if !ok {
				return
			}
			if !tt.check(c) {
				t.Fatalf("unexpected config %+v", c)
			}
		})
	}
}

// TestDatabasePasswordHidden: neither a validation error nor the printed
// configuration shows a database password.
func TestDatabasePasswordHidden(t *testing.T) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	_, err := Load(fs, []string{"--database", "mysql://u:hunter2@db/sb"}, func(string) string { return "" })
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error %v: want a refusal without the password", err)
	}
	fs = flag.NewFlagSet("serve", flag.ContinueOnError)
	c, err := Load(fs, []string{"--database", "postgres://u:hunter2@db/sb"}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	c.Print(&b)
	if strings.Contains(b.String(), "hunter2") || !strings.Contains(b.String(), "postgres://u:xxxxx@db/sb") {
		t.Fatalf("printed configuration:\n%s", b.String())
	}
}

// loadCase loads the configuration from args and env as serve does. With
// wantErr set it checks that loading fails with an error containing it and
// reports false; otherwise it fails the test on any error.
func loadCase(t *testing.T, args []string, env map[string]string, wantErr string) (Config, bool) {
	t.Helper()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c, err := Load(fs, args, func(k string) string { return env[k] })
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("err = %v, want containing %q", err, wantErr)
		}
		return c, false
	}
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c, true
}

func TestEdgeSettings(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		enforce bool
		medium  ratelimit.Rule
		wantErr string
	}{
		{"defaults: RingCentral's, enforced", nil, true, ratelimit.Rule{Limit: 40, Window: time.Minute}, ""},
		{"demo counts only", []string{"--demo"}, false, ratelimit.Rule{Limit: 40, Window: time.Minute}, ""},
		{"emulator counts only", []string{"--emulator"}, false, ratelimit.Rule{Limit: 40, Window: time.Minute}, ""},
		{"demo enforced on request", []string{"--demo", "--rate-limit-enforce", "true"}, true, ratelimit.Rule{Limit: 40, Window: time.Minute}, ""},
		{"one group changed", []string{"--rate-limits", "medium=7/10s"}, true, ratelimit.Rule{Limit: 7, Window: 10 * time.Second}, ""},
		{"unknown group", []string{"--rate-limits", "Huge=1/1s"}, true, ratelimit.Rule{}, "GROUP=LIMIT/WINDOW"},
		{"zero limit", []string{"--rate-limits", "Light=0/1s"}, true, ratelimit.Rule{}, "rate-limits"},
		{"bad origin", []string{"--cors-origins", "https://a.example/path"}, true, ratelimit.Rule{}, "cors-origins"},
		{"lockout too short", []string{"--login-max-lockout", "10ms"}, true, ratelimit.Rule{}, "login-max-lockout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(flag.NewFlagSet("t", flag.ContinueOnError), tc.args, func(string) string { return "" })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v; want one mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			st := c.RateLimitSettings()
			if st.Enforce != tc.enforce || st.Groups[ratelimit.Medium] != tc.medium || st.Groups[ratelimit.Auth].Limit != 5 {
				t.Fatalf("settings %+v; want enforce %v, Medium %+v, Auth kept", st, tc.enforce, tc.medium)
			}
		})
	}
	c := Default()
	if got := formatRateLimits(c.Edge.RateLimits); got != "Light=50/60s,Medium=40/60s,Heavy=10/60s,Auth=5/60s" {
		t.Errorf("printed %q", got)
	}
}
