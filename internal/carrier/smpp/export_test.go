package smpp

import "crypto/x509"

// SetRootCAs makes a tls=true carrier trust pool instead of the system's
// roots, for a test SMSC with its own certificate.
func SetRootCAs(c *Carrier, pool *x509.CertPool) { c.tlsConfig.RootCAs = pool }
