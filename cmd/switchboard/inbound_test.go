package main

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net"
	"net/smtp"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// freeAddr is a loopback address nobody listens on (just now).
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestServeInbound: serve with the SMTP listener and a transcriber takes a
// voicemail by email and transcribes it.
func TestServeInbound(t *testing.T) {
	dir := t.TempDir()
	stt := filepath.Join(dir, "stt.sh")
	if err := os.WriteFile(stt, []byte("#!/bin/sh\ncat >/dev/null\necho 'Call me.'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	smtpAddr := freeAddr(t)
	data := filepath.Join(dir, "data")
	demo, out, stop := runServer(t, data, "--smtp-listen", smtpAddr, "--smtp-domain", "vm.test", "--transcribe-command", stt)
	defer stop()
	e101 := demo.Extensions[0]

	// 2 s of 8 kHz 8-bit mu-law.
	wav := make([]byte, 44+16000)
	copy(wav, "RIFF")
	binary.LittleEndian.PutUint32(wav[4:], uint32(len(wav)-8))
	copy(wav[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(wav[16:], 16)
	binary.LittleEndian.PutUint16(wav[20:], 7)
	binary.LittleEndian.PutUint16(wav[22:], 1)
	binary.LittleEndian.PutUint32(wav[24:], 8000)
	binary.LittleEndian.PutUint32(wav[28:], 8000)
	binary.LittleEndian.PutUint16(wav[32:], 1)
	binary.LittleEndian.PutUint16(wav[34:], 8)
	copy(wav[36:], "data")
	binary.LittleEndian.PutUint32(wav[40:], 16000)
	msg := fmt.Sprintf("From: pbx@pbx.test\r\nTo: %[1]s@vm.test\r\nSubject: Voicemail from +14155550142\r\nMIME-Version: 1.0\r\n"+
		"Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\nNew message.\r\n"+
		"--XX\r\nContent-Type: audio/wav\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=vm.wav\r\n\r\n%[2]s\r\n--XX--\r\n",
		strings.TrimPrefix(e101.PhoneNumber, "+"), wrap(base64.StdEncoding.EncodeToString(wav)))
	if err := smtp.SendMail(smtpAddr, nil, "pbx@pbx.test", []string{strings.TrimPrefix(e101.PhoneNumber, "+") + "@vm.test"}, []byte(msg)); err != nil {
		t.Fatalf("SendMail: %v\n%s", err, out.String())
	}
	if err := smtp.SendMail(smtpAddr, nil, "pbx@pbx.test", []string{"19999999999@vm.test"}, []byte(msg)); err == nil || !strings.Contains(err.Error(), "550") {
		t.Fatalf("mail to an unknown number: %v", err)
	}

	tok := login(t, demo, e101.JWT)
	var vm map[string]any
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		status, list := get(t, demo.Server+"/restapi/v1.0/account/~/extension/~/message-store?messageType=VoiceMail", tok)
		if status != 200 {
			t.Fatalf("list: %d %v", status, list)
		}
		if recs := list["records"].([]any); len(recs) == 1 {
			vm = recs[0].(map[string]any)
			if vm["vmTranscriptionStatus"] != "InProgress" {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no transcribed voicemail: %v\n%s", vm, out.String())
		}
	}
	atts := vm["attachments"].([]any)
	if vm["vmTranscriptionStatus"] != "Completed" || vm["from"].(map[string]any)["phoneNumber"] != "+14155550142" || len(atts) != 2 ||
		atts[0].(map[string]any)["vmDuration"] != float64(2) || atts[1].(map[string]any)["type"] != "AudioTranscription" {
		t.Fatalf("voicemail %v", vm)
	}
	m := scrape(t, demo.Server)
	if total(m, "switchboard_transcription_jobs_total", `result="Completed"`) != 1 ||
		total(m, "switchboard_messages_created_total", `type="VoiceMail"`, `direction="Inbound"`) != 1 {
		t.Errorf("transcription and voicemail metrics did not move")
	}
}

// TestServeSMTPAddressTaken: a listener that cannot start stops serve with
// a message naming the flag.
func TestServeSMTPAddressTaken(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	out := &syncBuffer{}
	err = run(context.Background(), []string{"serve", "--listen", "127.0.0.1:0", "--data", t.TempDir(),
		"--smtp-listen", l.Addr().String()}, out, out)
	if err == nil || !strings.Contains(err.Error(), "--smtp-listen") {
		t.Fatalf("serve = %v, want an error naming --smtp-listen", err)
	}
}

// wrap breaks base64 into the 76-character lines of MIME (SMTP lines are
// limited to 1000 octets).
func wrap(s string) string {
	var b strings.Builder
	for len(s) > 76 {
		b.WriteString(s[:76] + "\r\n")
		s = s[76:]
	}
	b.WriteString(s)
	return b.String()
}
