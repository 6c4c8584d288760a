package push

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard"
)

// userAgent is what RingCentral's WebHook calls carry.
const userAgent = "RingCentral-Webhook/8.3 (Switchboard)"

// validationTimeout is RingCentral's documented limit for the receiver's
// answer to the validation request.
const validationTimeout = 3 * time.Second

// CheckAddress checks a WebHook URL's form (absolute http or https, no
// credentials, bounded) before anything is called.
func CheckAddress(address string) error {
	bad := func(why string) error {
		return switchboard.InvalidParam("deliveryMode.address", address, "Parameter [deliveryMode.address] is invalid: %s", why)
	}
	if address == "" {
		return bad("it is required for the WebHook transport")
	}
	if len(address) > switchboard.MaxWebHookAddress {
		return bad("too long")
	}
	u, err := url.Parse(address)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return bad("want an absolute http or https URL")
	}
	if u.User != nil {
		return bad("credentials in the URL are not allowed")
	}
	return nil
}

// ValidateWebHook runs RingCentral's handshake: a POST carrying a random
// Validation-Token that the receiver must answer with 200 and the same
// header, within 3 seconds. Anything else is SUB-525 (or SUB-522 when the
// address policy refuses the target).
func (d *Dispatcher) ValidateWebHook(ctx context.Context, address string) error {
	if err := CheckAddress(address); err != nil {
		return err
	}
	token := rand.Text()
	ctx, cancel := context.WithTimeout(ctx, validationTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, address, strings.NewReader("{}"))
	if err != nil {
		return d.invalidWebHook(address, err.Error())
	}
	req.Header.Set("Content-Type", "application/json; charset=UTF-8")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Validation-Token", token)
	resp, err := d.client.Do(req)
	if err != nil {
		if dialDenied(err) {
			return switchboard.Errorf(switchboard.CodeWebHookAddressDenied,
				"WebHook address %q is not allowed: it resolves to a private, loopback or reserved address", address)
		}
		return d.invalidWebHook(address, err.Error())
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return d.invalidWebHook(address, fmt.Sprintf("it answered HTTP %d", resp.StatusCode))
	}
	if resp.Header.Get("Validation-Token") != token {
		return d.invalidWebHook(address, "it did not echo the Validation-Token header")
	}
	return nil
}

// invalidWebHook is the one answer to every failed handshake. What the
// address answered (a status, a refused port, a timeout) stays in the log:
// told to the caller, it would make the server a scanner of whatever
// network it can reach.
func (d *Dispatcher) invalidWebHook(address, why string) error {
	host := address // the path or query may carry a receiver's secret: log the host only
	if u, err := url.Parse(address); err == nil {
		host = u.Host
	}
	d.logger.Info("WebHook validation failed", "host", host, "why", why)
	return switchboard.Errorf(switchboard.CodeWebHookInvalid,
		"WebHook server response is invalid: the address is not reachable or did not complete the validation request")
}

// post delivers one notification and says what the receiver answered (its
// HTTP status; 0 when it gave none). Any 2xx is success; the answer's body
// is read (bounded) so the connection can be reused.
func (d *Dispatcher) post(ctx context.Context, sub *switchboard.Subscription, body []byte) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, d.config.WebHookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.Address, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json; charset=UTF-8")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	if sub.VerificationToken != "" {
		req.Header.Set("Verification-Token", sub.VerificationToken)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return resp.StatusCode, nil
}

// backoff is the wait after the n-th failed attempt in a row (n ≥ 1):
// RetryBase doubling, capped at RetryMax.
func (c Config) backoff(n int) time.Duration {
	d := c.RetryBase
	for i := 1; i < n && d < c.RetryMax; i++ {
		d *= 2
	}
	return min(d, c.RetryMax)
}

// newUUID returns a random RFC 4122 version 4 UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// NewUUID is a subscription id.
func NewUUID() string { return newUUID() }
