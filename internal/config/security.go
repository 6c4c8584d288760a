package config

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// Security is what bounds the cost of one client and protects what the
// server holds: connection and upload limits, HTTPS, the key file.
type Security struct {
	// MaxConnections caps open client connections (HTTP and WebSocket);
	// past it a new connection is closed at once.
	MaxConnections int
	// MaxUploads caps requests whose body is multipart or larger than
	// MaxBodyBytes being received at once; past it 503 with Retry-After.
	MaxUploads int
	// UploadMinRate (bytes per second, averaged from the first byte) and
	// BodyReadGrace bound how long a body may take: a request body must
	// have delivered UploadMinRate × (elapsed − grace) bytes at every
	// moment, so the read deadline grows with what arrived, up to the
	// allowed size / rate + grace.
	UploadMinRate int64
	BodyReadGrace time.Duration

	// TLSCert and TLSKey (PEM files) make the listener serve HTTPS; both
	// are read again on SIGHUP.
	TLSCert, TLSKey string

	// KeyFile holds the JWT signing keys outside the database (default
	// <data>/jwt-keys.json); JWTKeys, when set, holds them instead
	// (id:base64 pairs, the signing key first).
	KeyFile string
	JWTKeys string
}

func defaultSecurity() Security {
	return Security{MaxConnections: 4096, MaxUploads: 16, UploadMinRate: 10 << 10, BodyReadGrace: 10 * time.Second}
}

func init() {
	vars = append(vars,
		envVar{"SWITCHBOARD_MAX_CONNECTIONS", "max-connections", "most open client connections (HTTP and WebSocket); a connection past it is closed at once",
			func(c *Config, v string) (err error) { c.Security.MaxConnections, err = strconv.Atoi(v); return err },
			func(c *Config) string { return strconv.Itoa(c.Security.MaxConnections) }},
		envVar{"SWITCHBOARD_MAX_UPLOADS", "max-uploads", "most uploads (multipart bodies or bodies over max-body-bytes) received at once; past it 503 with Retry-After",
			func(c *Config, v string) (err error) { c.Security.MaxUploads, err = strconv.Atoi(v); return err },
			func(c *Config) string { return strconv.Itoa(c.Security.MaxUploads) }},
		envVar{"SWITCHBOARD_UPLOAD_MIN_RATE", "upload-min-rate", "slowest request body accepted, in bytes per second averaged over the request after body-read-grace; a slower client is cut off",
			func(c *Config, v string) (err error) {
				c.Security.UploadMinRate, err = strconv.ParseInt(v, 10, 64)
				return err
			},
			func(c *Config) string { return strconv.FormatInt(c.Security.UploadMinRate, 10) }},
		envVar{"SWITCHBOARD_BODY_READ_GRACE", "body-read-grace", "time a request body may take beyond what upload-min-rate allows (slow starts, small bodies)",
			func(c *Config, v string) (err error) {
				c.Security.BodyReadGrace, err = time.ParseDuration(v)
				return err
			},
			func(c *Config) string { return c.Security.BodyReadGrace.String() }},
		envVar{"SWITCHBOARD_TLS_CERT", "tls-cert", "PEM certificate (chain) file: serve HTTPS on --listen; read again on SIGHUP",
			func(c *Config, v string) error { c.Security.TLSCert = v; return nil },
			func(c *Config) string { return c.Security.TLSCert }},
		envVar{"SWITCHBOARD_KEY_FILE", "key-file", "file of the JWT signing keys, kept out of the database (default <data>/jwt-keys.json; created, or moved out of an older database, at start)",
			func(c *Config, v string) error { c.Security.KeyFile = v; return nil },
			func(c *Config) string { return c.Security.KeyFile }},
		envVar{"SWITCHBOARD_JWT_KEYS", "jwt-keys", "the JWT signing keys instead of a key file: id:base64 pairs separated by commas, the signing key first (switchboard keys generate prints one); prefer the environment to the command line",
			func(c *Config, v string) error { c.Security.JWTKeys = v; return nil },
			func(c *Config) string {
				if c.Security.JWTKeys == "" {
					return ""
				}
				return "(set)"
			}},
		envVar{"SWITCHBOARD_TLS_KEY", "tls-key", "PEM private key file of --tls-cert; read again on SIGHUP",
			func(c *Config, v string) error { c.Security.TLSKey = v; return nil },
			func(c *Config) string { return c.Security.TLSKey }},
	)
}

func (c *Security) validate() []error {
	var errs []error
	if c.MaxConnections < 16 {
		errs = append(errs, fmt.Errorf("max-connections %d: want at least 16", c.MaxConnections))
	}
	if c.MaxUploads < 1 {
		errs = append(errs, fmt.Errorf("max-uploads %d: want at least 1", c.MaxUploads))
	}
	if c.UploadMinRate < 1 {
		errs = append(errs, fmt.Errorf("upload-min-rate %d: want at least 1 byte per second", c.UploadMinRate))
	}
	if c.BodyReadGrace < 100*time.Millisecond {
		errs = append(errs, fmt.Errorf("body-read-grace %s: want at least 100ms", c.BodyReadGrace))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("tls-cert and tls-key: set both (HTTPS) or neither (HTTP)"))
	}
	return errs
}
