package push

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// ErrAddressDenied is returned when a WebHook target resolves to an
// address the server's policy refuses.
var ErrAddressDenied = errors.New("webhook address refused by the server's policy")

// deniedPrefixes are the ranges a production server must not call on a
// subscriber's behalf: loopback, private, link-local (cloud metadata),
// carrier-grade NAT, unique-local, and the unspecified/multicast ranges.
var deniedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("224.0.0.0/4"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("::/128"),
	netip.MustParsePrefix("::1/128"),
	netip.MustParsePrefix("fc00::/7"),
	netip.MustParsePrefix("fe80::/10"),
	netip.MustParsePrefix("ff00::/8"),
}

// allowedAddress reports whether ip may be dialled under the policy.
func allowedAddress(ip netip.Addr, allowPrivate bool) bool {
	if allowPrivate {
		return true
	}
	ip = ip.Unmap()
	for _, p := range deniedPrefixes {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// newClient returns the HTTP client WebHook calls go through. The address
// check runs in the dialer's Control hook, on the IP actually being
// connected to after DNS resolution, so a name that resolves (or
// re-resolves) to a refused address cannot slip past it. Proxies from the
// environment are not used (they would hide the target) and redirects are
// not followed (a redirect is a non-2xx answer).
func newClient(allowPrivate bool, timeout time.Duration) *http.Client {
	dialer := &net.Dialer{
		Timeout: 5 * time.Second,
		Control: func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: %s", ErrAddressDenied, address)
			}
			if !allowedAddress(ap.Addr(), allowPrivate) {
				return fmt.Errorf("%w: %s is a private, loopback or reserved address", ErrAddressDenied, ap.Addr())
			}
			return nil
		},
	}
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: timeout,
	}
	return &http.Client{
		Transport: transport,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// dialDenied reports whether err came from the address policy.
func dialDenied(err error) bool { return errors.Is(err, ErrAddressDenied) }
