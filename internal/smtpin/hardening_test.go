package smtpin_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/smtp"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/internal/certs"
	"github.com/switchboardhq/switchboard/internal/certs/certstest"
	"github.com/switchboardhq/switchboard/internal/smtpin"
)

const smtpPassword = "admin-token-for-the-pbx"

// secured is a listener with STARTTLS (a self-signed certificate the
// client trusts) and AUTH required.
func secured(t *testing.T) (*env, *tls.Config) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	certstest.Write(t, certFile, keyFile, "mail.vm.test")
	files, err := certs.Load(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	pem, _ := os.ReadFile(certFile)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	e := newEnv(t, func(c *smtpin.Config) {
		c.TLS = files.Config()
		c.Authenticate = func(_ context.Context, _, password string) error {
			if password != smtpPassword {
				return errors.New("wrong password")
			}
			return nil
		}
	})
	return e, &tls.Config{RootCAs: roots, ServerName: "mail.vm.test"}
}

func smtpCode(err error) int {
	var pe *textproto.Error
	if asProto(err, &pe) {
		return pe.Code
	}
	return 0
}

// authRequired: go-smtp answers MAIL before AUTH with 502 5.7.0 itself;
// the session's own check answers 530 5.7.0.
func authRequired(err error) bool {
	code := smtpCode(err)
	return (code == 502 || code == 530) && strings.Contains(err.Error(), "5.7.0")
}

// TestSTARTTLSAndAuth: AUTH is offered only after STARTTLS, MAIL needs it,
// a wrong password is 535, and PLAIN and LOGIN both work over TLS.
func TestSTARTTLSAndAuth(t *testing.T) {
	e, clientTLS := secured(t)
	msg := email("vm from +14155550142", nil, attachment{"a.wav", "audio/wav", wav(1000)})

	c, err := smtp.Dial(e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("pbx.example"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := c.Extension("STARTTLS"); !ok {
		t.Fatal("STARTTLS not offered")
	}
	if ok, _ := c.Extension("AUTH"); ok {
		t.Fatal("AUTH offered on a clear-text connection")
	}
	// AUTH in clear text is refused even when not advertised.
	id, _ := c.Text.Cmd("AUTH PLAIN %s", "AGFkbWluAGFkbWluLXRva2VuLWZvci10aGUtcGJ4")
	c.Text.StartResponse(id)
	code, _, _ := c.Text.ReadResponse(0)
	c.Text.EndResponse(id)
	if code == 235 {
		t.Fatal("AUTH accepted in clear text")
	}
	if err := c.Mail("pbx@pbx.example"); !authRequired(err) {
		t.Fatalf("MAIL without AUTH: %v, want 530/502 5.7.0", err)
	}
	if err := c.StartTLS(clientTLS); err != nil {
		t.Fatal(err)
	}
	if ok, mechs := c.Extension("AUTH"); !ok || !strings.Contains(mechs, "PLAIN") || !strings.Contains(mechs, "LOGIN") {
		t.Fatalf("AUTH over TLS: %v %q", ok, mechs)
	}
	if err := c.Auth(smtp.PlainAuth("", "pbx", "wrong", "127.0.0.1")); smtpCode(err) != 535 {
		t.Fatalf("wrong password: %v, want 535", err)
	}
	// (net/smtp hangs up after a failed AUTH.)
	c1, err := smtp.Dial(e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	if err := c1.StartTLS(clientTLS); err != nil {
		t.Fatal(err)
	}
	if err := c1.Auth(smtp.PlainAuth("", "pbx", smtpPassword, "127.0.0.1")); err != nil {
		t.Fatal(err)
	}
	sendOn(t, c1, "16505550101@"+domain, msg)

	// LOGIN, as older PBXs speak it.
	c3, err := smtp.Dial(e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Close()
	if err := c3.StartTLS(clientTLS); err != nil {
		t.Fatal(err)
	}
	if err := c3.Auth(loginAuth{"pbx", "wrong"}); smtpCode(err) != 535 {
		t.Fatalf("LOGIN with a wrong password: %v, want 535", err)
	}
	c2, err := smtp.Dial(e.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if err := c2.StartTLS(clientTLS); err != nil {
		t.Fatal(err)
	}
	if err := c2.Auth(loginAuth{"pbx", smtpPassword}); err != nil {
		t.Fatal(err)
	}
	sendOn(t, c2, "16505550101@"+domain, msg)
	if n := len(e.messages(e.ann)); n != 2 {
		t.Fatalf("%d voicemails, want 2", n)
	}
}

func sendOn(t *testing.T, c *smtp.Client, to string, msg []byte) {
	t.Helper()
	if err := c.Mail("pbx@pbx.example"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt(to); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(msg); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// loginAuth is the client side of AUTH LOGIN (net/smtp has only PLAIN and
// CRAM-MD5).
type loginAuth struct{ user, password string }

func (a loginAuth) Start(*smtp.ServerInfo) (string, []byte, error) { return "LOGIN", nil, nil }

func (a loginAuth) Next(challenge []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	switch string(challenge) {
	case "Username:":
		return []byte(a.user), nil
	case "Password:":
		return []byte(a.password), nil
	}
	return nil, fmt.Errorf("unexpected LOGIN challenge %q", challenge)
}

// TestAcceptAnyRecipient: RCPT answers the same for mailboxes that exist
// and ones that do not; the difference comes after DATA: a message for
// nobody is refused with 550, one for somebody is stored there only.
func TestAcceptAnyRecipient(t *testing.T) {
	e := newEnv(t, func(c *smtpin.Config) { c.AcceptAnyRecipient = true })
	msg := email("vm", nil, attachment{"a.wav", "audio/wav", wav(1000)})
	rcpt := func(to string) error {
		c, err := smtp.Dial(e.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Mail("pbx@pbx.example"); err != nil {
			t.Fatal(err)
		}
		return c.Rcpt(to)
	}
	for _, to := range []string{"16505550101@" + domain, "16505559999@" + domain, fmt.Sprintf("109@%d.%s", e.acc.ID, domain), "voicemail@" + domain} {
		if err := rcpt(to); err != nil {
			t.Fatalf("RCPT %s: %v (want 250 whether the mailbox exists or not)", to, err)
		}
	}
	if err := rcpt("16505550101@example.com"); smtpCode(err) != 550 {
		t.Fatalf("another domain: %v, want 550 (no relaying)", err)
	}
	if err := e.send([]string{"16505559999@" + domain, "voicemail@" + domain}, msg); smtpCode(err) != 550 {
		t.Fatalf("a message for no mailbox: %v, want 550 after DATA", err)
	}
	if err := e.send([]string{"16505559999@" + domain, "16505550101@" + domain}, msg); err != nil {
		t.Fatalf("a message for one known and one unknown recipient: %v", err)
	}
	if n := len(e.messages(e.ann)); n != 1 {
		t.Fatalf("%d voicemails, want 1", n)
	}
}
