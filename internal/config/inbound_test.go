package config

import (
	"testing"
	"time"
)

func TestLoadInbound(t *testing.T) {
	for _, tt := range []struct {
		name    string
		env     map[string]string
		args    []string
		check   func(Inbound) bool
		wantErr string
	}{
		{name: "defaults: no transcriber, no SMTP", check: func(c Inbound) bool {
			return c.MaxAudioBytes == 20<<20 && c.TranscribeCommand == "" && c.TranscribeURL == "" && c.SMTPListen == "" &&
				c.TranscribeTimeout == 2*time.Minute && c.SMTPDomain == "localhost"
		}},
		{name: "env and flags", env: map[string]string{"SWITCHBOARD_SMTP_LISTEN": "127.0.0.1:2525", "SWITCHBOARD_SMTP_DOMAIN": "VM.Example.com"},
			args: []string{"--transcribe-command", "/usr/bin/stt --lang en", "--transcribe-timeout", "30s", "--max-audio-bytes", "5000000"},
			check: func(c Inbound) bool {
				return c.SMTPListen == "127.0.0.1:2525" && c.SMTPDomain == "vm.example.com" && c.TranscribeCommand == "/usr/bin/stt --lang en" &&
					c.TranscribeTimeout == 30*time.Second && c.MaxAudioBytes == 5000000
			}},
		{name: "two transcribers", args: []string{"--transcribe-command", "stt", "--transcribe-url", "http://127.0.0.1:9000/"}, wantErr: "not both"},
		{name: "bad transcriber URL", args: []string{"--transcribe-url", "stt.example.com"}, wantErr: "transcribe-url"},
		{name: "short timeout", args: []string{"--transcribe-timeout", "10ms"}, wantErr: "transcribe-timeout"},
		{name: "bad SMTP address", args: []string{"--smtp-listen", "2525"}, wantErr: "smtp-listen"},
		{name: "bad SMTP domain", args: []string{"--smtp-listen", ":2525", "--smtp-domain", "a@b"}, wantErr: "smtp-domain"},
		{name: "tiny audio limit", args: []string{"--max-audio-bytes", "10"}, wantErr: "max-audio-bytes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, ok := loadCase(t, tt.args, tt.env, tt.wantErr)
			if !ok {
				return
			}
			if !tt.check(c.Inbound) {
				t.Fatalf("unexpected config %+v", c.Inbound)
			}
		})
	}
}
