package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Inbound is the configuration of inbound messages: voicemail audio, the
// transcriber and the optional SMTP listener.
type Inbound struct {
	MaxAudioBytes int64 // one voicemail recording

	// TranscribeCommand runs as "command args… " with the audio on stdin;
	// TranscribeURL is POSTed the audio. At most one is set; none: no
	// transcription (vmTranscriptionStatus NotAvailable).
	TranscribeCommand string
	TranscribeURL     string
	TranscribeTimeout time.Duration

	SMTPListen   string // address of the SMTP listener; empty: off
	SMTPDomain   string // mail domain of recipient addresses
	SMTPMaxBytes int64  // largest email accepted
	// SMTPTLSCert and SMTPTLSKey (PEM files) enable STARTTLS; read again
	// on SIGHUP.
	SMTPTLSCert, SMTPTLSKey string
	SMTPAuth                bool // require AUTH (over TLS) with an admin token as the password
	SMTPAcceptAnyRcpt       bool // accept every address of the domain at RCPT; refuse unknown ones after DATA
}

func defaultInbound() Inbound {
	return Inbound{MaxAudioBytes: 20 << 20, TranscribeTimeout: 2 * time.Minute, SMTPDomain: "localhost", SMTPMaxBytes: 30 << 20}
}

func init() {
	vars = append(vars,
		envVar{"SWITCHBOARD_MAX_AUDIO_BYTES", "max-audio-bytes", "largest voicemail recording accepted, in bytes",
			func(c *Config, v string) (err error) {
				c.Inbound.MaxAudioBytes, err = strconv.ParseInt(v, 10, 64)
				return err
			},
			func(c *Config) string { return strconv.FormatInt(c.Inbound.MaxAudioBytes, 10) }},
		envVar{"SWITCHBOARD_TRANSCRIBE_COMMAND", "transcribe-command", "voicemail transcriber: a command (split on spaces, no shell) that reads audio on stdin and writes the text on stdout",
			func(c *Config, v string) error { c.Inbound.TranscribeCommand = v; return nil },
			func(c *Config) string { return c.Inbound.TranscribeCommand }},
		envVar{"SWITCHBOARD_TRANSCRIBE_URL", "transcribe-url", "voicemail transcriber: an http(s) URL that is POSTed the audio and answers the text",
			func(c *Config, v string) error { c.Inbound.TranscribeURL = v; return nil },
			func(c *Config) string { return c.Inbound.TranscribeURL }},
		envVar{"SWITCHBOARD_TRANSCRIBE_TIMEOUT", "transcribe-timeout", "how long one transcription may take before it is TimedOut",
			func(c *Config, v string) (err error) {
				c.Inbound.TranscribeTimeout, err = time.ParseDuration(v)
				return err
			},
			func(c *Config) string { return c.Inbound.TranscribeTimeout.String() }},
		envVar{"SWITCHBOARD_SMTP_LISTEN", "smtp-listen", "address of the SMTP listener for voicemail-to-email and fax-to-email (empty: off)",
			func(c *Config, v string) error { c.Inbound.SMTPListen = v; return nil },
			func(c *Config) string { return c.Inbound.SMTPListen }},
		envVar{"SWITCHBOARD_SMTP_DOMAIN", "smtp-domain", "mail domain of the SMTP listener's recipient addresses",
			func(c *Config, v string) error { c.Inbound.SMTPDomain = strings.ToLower(v); return nil },
			func(c *Config) string { return c.Inbound.SMTPDomain }},
		envVar{"SWITCHBOARD_SMTP_MAX_BYTES", "smtp-max-bytes", "largest email the SMTP listener accepts, in bytes",
			func(c *Config, v string) (err error) {
				c.Inbound.SMTPMaxBytes, err = strconv.ParseInt(v, 10, 64)
				return err
			},
			func(c *Config) string { return strconv.FormatInt(c.Inbound.SMTPMaxBytes, 10) }},
		envVar{"SWITCHBOARD_SMTP_TLS_CERT", "smtp-tls-cert", "PEM certificate file the SMTP listener offers with STARTTLS; read again on SIGHUP",
			func(c *Config, v string) error { c.Inbound.SMTPTLSCert = v; return nil },
			func(c *Config) string { return c.Inbound.SMTPTLSCert }},
		envVar{"SWITCHBOARD_SMTP_TLS_KEY", "smtp-tls-key", "PEM private key file of --smtp-tls-cert",
			func(c *Config, v string) error { c.Inbound.SMTPTLSKey = v; return nil },
			func(c *Config) string { return c.Inbound.SMTPTLSKey }},
		envVar{"SWITCHBOARD_SMTP_AUTH", "smtp-auth", "require SMTP AUTH (PLAIN or LOGIN, offered only after STARTTLS) with an admin token as the password; needs --smtp-tls-cert",
			func(c *Config, v string) (err error) { c.Inbound.SMTPAuth, err = strconv.ParseBool(v); return err },
			func(c *Config) string { return strconv.FormatBool(c.Inbound.SMTPAuth) }},
		envVar{"SWITCHBOARD_SMTP_ACCEPT_ANY_RCPT", "smtp-accept-any-rcpt", "accept every recipient of the SMTP domain at RCPT and refuse unknown mailboxes only after DATA, so RCPT does not tell which mailboxes exist",
			func(c *Config, v string) (err error) {
				c.Inbound.SMTPAcceptAnyRcpt, err = strconv.ParseBool(v)
				return err
			},
			func(c *Config) string { return strconv.FormatBool(c.Inbound.SMTPAcceptAnyRcpt) }},
	)
}

func (c *Inbound) validate() []error {
	var errs []error
	if c.MaxAudioBytes < 1024 || c.MaxAudioBytes > 1<<30 {
		errs = append(errs, fmt.Errorf("max-audio-bytes %d: want 1024 to 1073741824", c.MaxAudioBytes))
	}
	if c.TranscribeCommand != "" && c.TranscribeURL != "" {
		errs = append(errs, errors.New("transcribe-command and transcribe-url: set one transcriber, not both"))
	}
	if strings.TrimSpace(c.TranscribeCommand) == "" && c.TranscribeCommand != "" {
		errs = append(errs, errors.New("transcribe-command is blank"))
	}
	if c.TranscribeURL != "" {
		u, err := url.Parse(c.TranscribeURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("transcribe-url %q: want an absolute http(s) URL", c.TranscribeURL))
		}
	}
	if c.TranscribeTimeout < time.Second {
		errs = append(errs, fmt.Errorf("transcribe-timeout %s: want at least 1s", c.TranscribeTimeout))
	}
	if c.SMTPListen != "" {
		if _, _, err := net.SplitHostPort(c.SMTPListen); err != nil {
			errs = append(errs, fmt.Errorf("smtp-listen %q: want host:port, for example 127.0.0.1:2525", c.SMTPListen))
		}
		if c.SMTPDomain == "" || strings.ContainsAny(c.SMTPDomain, "@ ") {
			errs = append(errs, fmt.Errorf("smtp-domain %q: want a domain name such as voicemail.example.com", c.SMTPDomain))
		}
	}
	if (c.SMTPTLSCert == "") != (c.SMTPTLSKey == "") {
		errs = append(errs, errors.New("smtp-tls-cert and smtp-tls-key: set both (STARTTLS) or neither"))
	}
	if c.SMTPAuth && c.SMTPTLSCert == "" {
		errs = append(errs, errors.New("smtp-auth needs smtp-tls-cert and smtp-tls-key: credentials are accepted only over TLS"))
	}
	if c.SMTPMaxBytes < 1024 || c.SMTPMaxBytes > 1<<30 {
		errs = append(errs, fmt.Errorf("smtp-max-bytes %d: want 1024 to 1073741824", c.SMTPMaxBytes))
	}
	return errs
}
