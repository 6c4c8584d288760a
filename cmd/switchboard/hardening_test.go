package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/certs/certstest"
)

// TestHTTPSLimitsAndReload runs the built binary with --tls-cert and tight
// connection and body limits: it serves HTTPS, serves a replaced
// certificate after SIGHUP, closes connections past the cap at once, and
// cuts off a request body trickled slower than the minimum rate.
func TestHTTPSLimitsAndReload(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin := buildBinary(t, ctx)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	first := certstest.Write(t, certFile, keyFile, "first.example")
	const maxConns = 20
	p := startProcess(t, bin, filepath.Join(dir, "data"), "--tls-cert", certFile, "--tls-key", keyFile,
		"--max-connections", fmt.Sprint(maxConns), "--body-read-grace", "1s", "--upload-min-rate", "1000", "--max-uploads", "1")
	defer p.stopIfRunning(t)
	u, err := url.Parse(p.demo.Server)
	if err != nil || u.Scheme != "https" {
		t.Fatalf("demo server %q: want an https URL", p.demo.Server)
	}
	addr := u.Host
	insecure := &tls.Config{InsecureSkipVerify: true}
	served := func() string {
		t.Helper()
		c, err := tls.Dial("tcp", addr, insecure)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].SerialNumber.String()
	}
	if got := served(); got != first {
		t.Fatalf("served certificate %s, want %s", got, first)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: insecure}, Timeout: 10 * time.Second}
	if status, b := call(t, client, "GET", p.demo.Server+"/switchboard/v1/health", "", nil); status != 200 {
		t.Fatalf("health over HTTPS: %d %s", status, b)
	}
	// The container's health check finds the server by its environment.
	hc := exec.CommandContext(ctx, bin, "health")
	hc.Env = append(os.Environ(), "SWITCHBOARD_LISTEN="+addr, "SWITCHBOARD_TLS_CERT="+certFile)
	if out, err := hc.CombinedOutput(); err != nil {
		t.Fatalf("switchboard health with TLS: %v %s", err, out)
	}

	t.Run("SIGHUP serves the new certificate", func(t *testing.T) {
		second := certstest.Write(t, certFile, keyFile, "second.example")
		if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(10 * time.Second); served() != second; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("still serving the old certificate 10s after SIGHUP\n%s", p.log.String())
			}
		}
	})

	t.Run("a body trickled below the minimum rate is cut off", func(t *testing.T) {
		c, err := tls.Dial("tcp", addr, insecure)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "POST /restapi/oauth/token HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 50000\r\n\r\n", addr)
		started := time.Now()
		closed := make(chan struct{})
		go func() { _, _ = io.Copy(io.Discard, c); close(closed) }()
		for {
			select {
			case <-closed:
				if d := time.Since(started); d > 8*time.Second {
					t.Fatalf("cut off after %s", d)
				}
				return
			case <-time.After(500 * time.Millisecond):
				if _, err := c.Write([]byte("a")); err != nil {
					return
				}
				if time.Since(started) > 15*time.Second {
					t.Fatal("a body trickling at 2 B/s was still read after 15s")
				}
			}
		}
	})

	t.Run("an upload past the cap is answered 503 CMN-201 with Retry-After", func(t *testing.T) {
		req, _ := http.NewRequest("POST", p.demo.Server+"/restapi/oauth/token", strings.NewReader(url.Values{
			"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {p.demo.Extensions[1].JWT}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(p.demo.ClientID, p.demo.ClientSecret)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&tok)
		resp.Body.Close()
		// One upload in progress (authorised, so its handler reads it),
		// sent fast enough to be kept.
		c, err := tls.Dial("tcp", addr, insecure)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "POST /restapi/v1.0/account/~/extension/~/fax HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: 1000000\r\n\r\n", addr, tok.AccessToken)
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			chunk := []byte(strings.Repeat("a preamble line before the first part\r\n", 100))
			for {
				select {
				case <-stop:
					return
				case <-time.After(100 * time.Millisecond):
					if _, err := c.Write(chunk); err != nil {
						return
					}
				}
			}
		}()
		time.Sleep(300 * time.Millisecond)
		req, _ = http.NewRequest("POST", p.demo.Server+"/restapi/v1.0/account/~/extension/~/fax", strings.NewReader("--y--\r\n"))
		req.Header.Set("Content-Type", "multipart/form-data; boundary=y")
		resp, err = client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		if resp.StatusCode != 503 || body["errorCode"] != "CMN-201" || resp.Header.Get("Retry-After") == "" {
			t.Fatalf("a second upload: %d %v Retry-After %q", resp.StatusCode, body, resp.Header.Get("Retry-After"))
		}
	})

	t.Run("connections past the cap are closed at once", func(t *testing.T) {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		refused := 0
		for range maxConns + 10 {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				refused++
				continue
			}
			held = append(held, c)
		}
		for _, c := range held {
			_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
			if _, err := c.Read(make([]byte, 1)); err != nil && !isTimeout(err) {
				refused++ // closed by the server
			}
		}
		if refused < 10 {
			t.Fatalf("%d of %d connections past a cap of %d were closed", refused, maxConns+10, maxConns)
		}
		for _, c := range held {
			c.Close()
		}
		held = nil
		// Once they are gone the server answers again.
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			resp, err := client.Get(p.demo.Server + "/switchboard/v1/health")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("no answer after the connections closed: %v", err)
			}
		}
		if !strings.Contains(p.log.String(), "connection cap reached") {
			t.Errorf("the cap was not logged\n%s", p.log.String())
		}
	})
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}
