package push

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestAllowedAddress(t *testing.T) {
	for _, tc := range []struct {
		ip         string
		production bool // allowed with private targets refused
	}{
		{"127.0.0.1", false}, {"127.8.9.10", false}, {"::1", false}, {"10.1.2.3", false}, {"172.16.0.1", false},
		{"172.31.255.255", false}, {"192.168.1.1", false}, {"169.254.169.254", false}, {"100.64.0.1", false},
		{"0.0.0.0", false}, {"::", false}, {"fd00::1", false}, {"fe80::1", false}, {"::ffff:127.0.0.1", false},
		{"224.0.0.1", false}, {"8.8.8.8", true}, {"172.32.0.1", true}, {"2606:4700::1111", true}, {"::ffff:8.8.8.8", true},
	} {
		ip := netip.MustParseAddr(tc.ip)
		if got := allowedAddress(ip, false); got != tc.production {
			t.Errorf("%s in production: allowed %v, want %v", tc.ip, got, tc.production)
		}
		if !allowedAddress(ip, true) {
			t.Errorf("%s in development: refused", tc.ip)
		}
	}
}

// TestClientRefusesAtDialTime: the guard runs on the address being
// connected to, so a name resolving to loopback is refused as the IP is.
func TestClientRefusesAtDialTime(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":"):]
	strict, open := newClient(false, 2*time.Second), newClient(true, 2*time.Second)
	for _, u := range []string{srv.URL, "http://localhost" + port} {
		req, _ := http.NewRequestWithContext(context.Background(), "GET", u, nil)
		if _, err := strict.Do(req); !errors.Is(err, ErrAddressDenied) {
			t.Errorf("%s with private targets refused: %v", u, err)
		}
		resp, err := open.Do(req)
		if err != nil {
			t.Errorf("%s in development: %v", u, err)
			continue
		}
		resp.Body.Close()
	}
}

func TestBackoff(t *testing.T) {
	c := Config{RetryBase: 2 * time.Second, RetryMax: 10 * time.Minute}
	for n, want := range map[int]time.Duration{1: 2 * time.Second, 2: 4 * time.Second, 3: 8 * time.Second, 9: 512 * time.Second, 10: 10 * time.Minute, 50: 10 * time.Minute} {
		if got := c.backoff(n); got != want {
			t.Errorf("backoff(%d) = %v, want %v", n, got, want)
		}
	}
}

func TestNewUUID(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		u := newUUID()
		if len(u) != 36 || u[14] != '4' || strings.Count(u, "-") != 4 || seen[u] {
			t.Fatalf("uuid %q", u)
		}
		seen[u] = true
	}
}
