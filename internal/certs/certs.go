// Package certs holds a TLS certificate read from PEM files and read again
// on demand (SIGHUP), so a renewed certificate is served without a restart
// and without dropping connections.
package certs

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"sync/atomic"
)

// Files is a certificate and key read from files.
type Files struct {
	certFile, keyFile string
	current           atomic.Pointer[tls.Certificate]
}

// Load reads the pair once; an error says which file to fix.
func Load(certFile, keyFile string) (*Files, error) {
	f := &Files{certFile: certFile, keyFile: keyFile}
	if err := f.Reload(); err != nil {
		return nil, err
	}
	return f, nil
}

// Reload reads the files again. On an error the certificate served so far
// stays, so a half-written renewal does not take the server down.
func (f *Files) Reload() error {
	c, err := tls.LoadX509KeyPair(f.certFile, f.keyFile)
	if err != nil {
		return fmt.Errorf("TLS certificate %s and key %s: %w (check both are PEM files and the key matches the certificate)", f.certFile, f.keyFile, err)
	}
	if c.Leaf == nil {
		if c.Leaf, err = x509.ParseCertificate(c.Certificate[0]); err != nil {
			return fmt.Errorf("TLS certificate %s: %w", f.certFile, err)
		}
	}
	f.current.Store(&c)
	return nil
}

// Leaf is the certificate served now (for logs: subject, expiry).
func (f *Files) Leaf() *x509.Certificate { return f.current.Load().Leaf }

// Config is a server TLS configuration serving the current certificate:
// TLS 1.2 at least, Go's default cipher suites.
func (f *Files) Config() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return f.current.Load(), nil
		},
	}
}
