package config

import (
	"flag"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
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
		{name: "statement timeout too short", args: []string{"--db-statement-timeout", "1ms"}, wantErr: "db-statement-timeout"},
		{name: "webhook history", env: map[string]string{"SWITCHBOARD_WEBHOOK_HISTORY": "0"},
			check: func(c Config) bool { return c.WebHookHistory == 0 }},
		{name: "negative webhook history", args: []string{"--webhook-history", "-1"}, wantErr: "webhook-history"},
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
