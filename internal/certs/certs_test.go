package certs

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"testing"

	"github.com/switchboardhq/switchboard/internal/certs/certstest"
)

func TestReload(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	first := certstest.Write(t, certFile, keyFile, "first.example")
	f, err := Load(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", f.Config())
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _ = c.(*tls.Conn).Handshake(); c.Close() }()
		}
	}()
	served := func() string {
		t.Helper()
		c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].SerialNumber.String()
	}
	if got := served(); got != first {
		t.Fatalf("served %s, want %s", got, first)
	}
	second := certstest.Write(t, certFile, keyFile, "second.example")
	if got := served(); got != first {
		t.Fatalf("changed before Reload: %s", got)
	}
	if err := f.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := served(); got != second {
		t.Fatalf("after Reload served %s, want %s", got, second)
	}
	// A broken file keeps the certificate served.
	if err := os.WriteFile(keyFile, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := f.Reload(); err == nil {
		t.Fatal("a broken key was accepted")
	}
	if got := served(); got != second {
		t.Fatalf("after a failed Reload served %s, want %s", got, second)
	}
	if _, err := Load(filepath.Join(dir, "missing.pem"), keyFile); err == nil {
		t.Fatal("a missing certificate was accepted")
	}
}
