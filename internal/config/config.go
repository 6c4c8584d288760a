// Package config holds the settings of `switchboard serve`: one struct,
// filled from SWITCHBOARD_* environment variables first, then from command
// line flags, which win.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/switchboardhq/switchboard"
)

// Config is the server's configuration.
type Config struct {
	Listen          string        // address to listen on
	DataDir         string        // directory of the SQLite database and demo.json
	Demo            bool          // create a demo account on first start and write demo.json
	Emulator        bool          // emulator controls: movable clock, retention on demand (implied by Demo)
	PublicURL       string        // base of uris in responses; empty: from each request
	SQLiteSync      string        // FULL (survives power loss) or NORMAL (survives a crash)
	AccessTokenTTL  time.Duration // default access token lifetime
	RefreshTokenTTL time.Duration // default refresh token lifetime
	LogFormat       string        // text or json
	LogLevel        string        // debug, info, warn or error
	MaxBodyBytes    int64         // bound of JSON and form request bodies
	DebugListen     string        // address of the Go profiler (net/http/pprof); empty: off

	DeletePeriod      time.Duration // Deleted -> Purged after this long
	PurgePeriod       time.Duration // Purged -> removed after this long
	MailboxCap        int           // most Alive messages per mailbox; 0 no cap
	ChangeLogPeriod   time.Duration // change-log rows (sync positions) kept this long
	RetentionInterval time.Duration // how often the retention worker runs

	Carrier        string        // "simulator" or smpp://SYSTEM_ID:PASSWORD@HOST:PORT?options (carrier.go)
	CarrierRules   string        // file of carrier simulator rules (JSON); empty: accept and deliver everything
	ReceiptTimeout time.Duration // an accepted delivery without a receipt this long is submitted again

	Send SendLimits // bounds of sending (SMS, MMS, pager, fax)
	// High-volume (A2P) batch requests (DefaultA2PMaxBytes).
	A2PMaxBytes    int64 // one a2p-sms/batches request
	A2PMaxMessages int   // messages of one batch

	// Database and nodes (PostgreSQL, several nodes).
	Database           string        // "" or sqlite://PATH: SQLite (default <data>/switchboard.db); postgres://...: PostgreSQL
	Role               string        // all, api (no workers) or worker (workers and health only)
	DBMaxConns         int           // PostgreSQL pool size
	DBStatementTimeout time.Duration // PostgreSQL statement_timeout
	Inbound            Inbound       // voicemail, transcription, SMTP (inbound.go)
	Edge               Edge          // rate limits, login limits, browsers (edge.go)
	Security           Security      // connection and upload limits, HTTPS, secrets (security.go)
	Fax                Fax           // background rendering of outbound faxes (fax.go)
	// Push notifications (internal/push).
	WebHookAllowPrivate bool          // WebHooks may target loopback/private/reserved addresses (default: only with --demo/--emulator)
	WebHookSuspendAfter time.Duration // a WebHook failing this long is Blacklisted
	WebHookHistory      int           // a WebHook's most recent POSTs kept for the admin console
	// Web UI (internal/webui).
	WebUI         bool   // serve the web UI at / and the authorization endpoint's sign-in page
	WebUIClientID string // client id of the public app the UI signs users in as (created at start)

	webHookAllowPrivateSet bool // given by flag or environment; otherwise it follows Demo/Emulator
}

// Default returns the defaults.
func Default() Config {
	return Config{
		Listen:          "127.0.0.1:8080",
		DataDir:         "./switchboard-data",
		SQLiteSync:      "FULL",
		AccessTokenTTL:  time.Hour,
		RefreshTokenTTL: 7 * 24 * time.Hour,
		LogFormat:       "text",
		LogLevel:        "info",
		MaxBodyBytes:    1 << 20,

		DeletePeriod:      switchboard.DefaultDeletePeriod,
		PurgePeriod:       switchboard.DefaultPurgePeriod,
		MailboxCap:        switchboard.DefaultMailboxCap,
		ChangeLogPeriod:   switchboard.DefaultChangeLogPeriod,
		RetentionInterval: time.Minute,
		ReceiptTimeout:    10 * time.Minute,
		Carrier:           CarrierSimulator,

		Send: DefaultSendLimits(),

		A2PMaxBytes:    DefaultA2PMaxBytes,
		A2PMaxMessages: DefaultA2PMaxMessages,

		Role:                RoleAll,
		DBMaxConns:          16,
		DBStatementTimeout:  30 * time.Second,
		Inbound:             defaultInbound(),
		Edge:                defaultEdge(),
		Security:            defaultSecurity(),
		Fax:                 defaultFax(),
		WebHookSuspendAfter: 24 * time.Hour,
		WebHookHistory:      50,
		WebUI:               true,
		WebUIClientID:       "switchboard-web",
	}
}

// SendLimits bound what one message may be, the same for every way a
// message is sent (and, for MMS media, received).
type SendLimits struct {
	MaxRequestBytes int64 // one send request: JSON and files (a fax's documents)
	MaxRecipients   int   // recipients of one SMS, MMS, pager message or fax
	MaxMMSFiles     int   // attachments of one MMS
	MaxMMSBytes     int   // attachments of one MMS together
}

// Default bounds of one high-volume batch request (a2p-max-bytes and
// a2p-max-messages): RingCentral takes bodies up to 50 MB and sets no
// count; the count bounds the memory a request takes here.
const (
	DefaultA2PMaxBytes    = 50 << 20
	DefaultA2PMaxMessages = 200_000
)

// DirectoryCacheEntries bounds the directory lookups a process keeps in
// memory (internal/dircache): extensions, their numbers, numbers' owners;
// a few hundred bytes each. Past it the cache starts again empty.
const DirectoryCacheEntries = 100_000

// DefaultSendLimits are RingCentral's: MMS of up to 10 attachments of 1.5
// MB together, 50 recipients, and requests that carry a fax's 50 MB of
// documents with room for the multipart encoding.
func DefaultSendLimits() SendLimits {
	return SendLimits{MaxRequestBytes: 60 << 20, MaxRecipients: 50, MaxMMSFiles: 10, MaxMMSBytes: 1_500_000}
}

// Node roles.
const (
	RoleAll    = "all"    // API and workers
	RoleAPI    = "api"    // API only: no delivery or retention workers
	RoleWorker = "worker" // workers, and only the health endpoint over HTTP
)

// IsPostgres reports whether the database setting names PostgreSQL.
func IsPostgres(database string) bool {
	return strings.HasPrefix(database, "postgres://") || strings.HasPrefix(database, "postgresql://")
}

// envVar describes one setting: its environment variable, flag and usage.
type envVar struct {
	env, flag, usage string
	set              func(c *Config, v string) error
	get              func(c *Config) string
}

var vars = []envVar{
	{"SWITCHBOARD_LISTEN", "listen", "address to listen on (host:port; port 0 picks a free one)",
		func(c *Config, v string) error { c.Listen = v; return nil },
		func(c *Config) string { return c.Listen }},
	{"SWITCHBOARD_DEBUG_LISTEN", "debug-listen", "address of the Go profiler, /debug/pprof/ (host:port, keep it on loopback; default off)",
		func(c *Config, v string) error { c.DebugListen = v; return nil },
		func(c *Config) string { return c.DebugListen }},
	{"SWITCHBOARD_DATA", "data", "data directory (SQLite database, demo.json)",
		func(c *Config, v string) error { c.DataDir = v; return nil },
		func(c *Config) string { return c.DataDir }},
	{"SWITCHBOARD_DEMO", "demo", "create a demo account in a new data directory and write <data>/demo.json",
		func(c *Config, v string) (err error) { c.Demo, err = strconv.ParseBool(v); return err },
		func(c *Config) string { return strconv.FormatBool(c.Demo) }},
	{"SWITCHBOARD_EMULATOR", "emulator", "emulator controls for tests: POST /switchboard/v1/clock/advance and /switchboard/v1/retention/run (on with --demo)",
		func(c *Config, v string) (err error) { c.Emulator, err = strconv.ParseBool(v); return err },
		func(c *Config) string { return strconv.FormatBool(c.Emulator) }},
	{"SWITCHBOARD_PUBLIC_URL", "public-url", "public base URL used in returned uris (default: taken from each request's Host)",
		func(c *Config, v string) error { c.PublicURL = v; return nil },
		func(c *Config) string { return c.PublicURL }},
	{"SWITCHBOARD_SQLITE_SYNC", "sqlite-sync", "SQLite synchronous mode: FULL (durable across power loss) or NORMAL (durable across process crashes only)",
		func(c *Config, v string) error { c.SQLiteSync = strings.ToUpper(v); return nil },
		func(c *Config) string { return c.SQLiteSync }},
	{"SWITCHBOARD_ACCESS_TOKEN_TTL", "access-token-ttl", "default access token lifetime (2m to 1h)",
		func(c *Config, v string) (err error) { c.AccessTokenTTL, err = time.ParseDuration(v); return err },
		func(c *Config) string { return c.AccessTokenTTL.String() }},
	{"SWITCHBOARD_REFRESH_TOKEN_TTL", "refresh-token-ttl", "default refresh token lifetime (2m to 720h)",
		func(c *Config, v string) (err error) { c.RefreshTokenTTL, err = time.ParseDuration(v); return err },
		func(c *Config) string { return c.RefreshTokenTTL.String() }},
	{"SWITCHBOARD_LOG_FORMAT", "log-format", "log format: text or json",
		func(c *Config, v string) error { c.LogFormat = v; return nil },
		func(c *Config) string { return c.LogFormat }},
	{"SWITCHBOARD_LOG_LEVEL", "log-level", "least severe log lines written: debug (health checks and scrapes too), info (one line per request), warn or error",
		func(c *Config, v string) error { c.LogLevel = strings.ToLower(v); return nil },
		func(c *Config) string { return c.LogLevel }},
	{"SWITCHBOARD_MAX_BODY_BYTES", "max-body-bytes", "largest JSON or form request body accepted, in bytes",
		func(c *Config, v string) (err error) { c.MaxBodyBytes, err = strconv.ParseInt(v, 10, 64); return err },
		func(c *Config) string { return strconv.FormatInt(c.MaxBodyBytes, 10) }},
	{"SWITCHBOARD_DELETE_PERIOD", "delete-period", "how long a Deleted message stays restorable before its content is erased (Purged)",
		func(c *Config, v string) (err error) { c.DeletePeriod, err = time.ParseDuration(v); return err },
		func(c *Config) string { return c.DeletePeriod.String() }},
	{"SWITCHBOARD_PURGE_PERIOD", "purge-period", "how long a Purged message's record stays before it is removed",
		func(c *Config, v string) (err error) { c.PurgePeriod, err = time.ParseDuration(v); return err },
		func(c *Config) string { return c.PurgePeriod.String() }},
	{"SWITCHBOARD_MAILBOX_CAP", "mailbox-cap", "most Alive messages a mailbox keeps; past it the oldest become Deleted (0: no cap)",
		func(c *Config, v string) (err error) { c.MailboxCap, err = strconv.Atoi(v); return err },
		func(c *Config) string { return strconv.Itoa(c.MailboxCap) }},
	{"SWITCHBOARD_CHANGE_LOG_PERIOD", "change-log-period", "how long changes stay in the log; older message-sync tokens must run a full sync",
		func(c *Config, v string) (err error) { c.ChangeLogPeriod, err = time.ParseDuration(v); return err },
		func(c *Config) string { return c.ChangeLogPeriod.String() }},
	{"SWITCHBOARD_RETENTION_INTERVAL", "retention-interval", "how often the retention worker runs",
		func(c *Config, v string) (err error) { c.RetentionInterval, err = time.ParseDuration(v); return err },
		func(c *Config) string { return c.RetentionInterval.String() }},
	{"SWITCHBOARD_CARRIER", "carrier", "where SMS to outside numbers go: simulator, or an SMSC as smpp://SYSTEM_ID:PASSWORD@HOST:PORT?bind=transceiver&tls=false&window=10&rate=0 (see README)",
		func(c *Config, v string) error { c.Carrier = v; return nil },
		func(c *Config) string { return RedactCarrier(c.Carrier) }},
	{"SWITCHBOARD_CARRIER_RULES", "carrier-rules", "JSON file of carrier simulator rules (failures, delays, outages); see internal/carrier",
		func(c *Config, v string) error { c.CarrierRules = v; return nil },
		func(c *Config) string { return c.CarrierRules }},
	{"SWITCHBOARD_RECEIPT_TIMEOUT", "receipt-timeout", "how long a message accepted by the carrier may wait for its delivery receipt before it is submitted again (carriers answer resubmits idempotently)",
		func(c *Config, v string) (err error) { c.ReceiptTimeout, err = time.ParseDuration(v); return err },
		func(c *Config) string { return c.ReceiptTimeout.String() }},
	{"SWITCHBOARD_MAX_RECIPIENTS", "max-recipients", "most recipients of one SMS, MMS, pager message or fax",
		func(c *Config, v string) (err error) { c.Send.MaxRecipients, err = strconv.Atoi(v); return err },
		func(c *Config) string { return strconv.Itoa(c.Send.MaxRecipients) }},
	{"SWITCHBOARD_MAX_MMS_BYTES", "max-mms-bytes", "most bytes of the attachments of one MMS together",
		func(c *Config, v string) (err error) { c.Send.MaxMMSBytes, err = strconv.Atoi(v); return err },
		func(c *Config) string { return strconv.Itoa(c.Send.MaxMMSBytes) }},
	{"SWITCHBOARD_MAX_SEND_BYTES", "max-send-bytes", "largest send request (JSON and files; a fax's documents)",
		func(c *Config, v string) (err error) {
			c.Send.MaxRequestBytes, err = strconv.ParseInt(v, 10, 64)
			return err
		},
		func(c *Config) string { return strconv.FormatInt(c.Send.MaxRequestBytes, 10) }},
	{"SWITCHBOARD_A2P_MAX_BYTES", "a2p-max-bytes", "largest high-volume SMS batch request (a2p-sms/batches), in bytes",
		func(c *Config, v string) (err error) { c.A2PMaxBytes, err = strconv.ParseInt(v, 10, 64); return err },
		func(c *Config) string { return strconv.FormatInt(c.A2PMaxBytes, 10) }},
	{"SWITCHBOARD_A2P_MAX_MESSAGES", "a2p-max-messages", "most messages of one high-volume SMS batch",
		func(c *Config, v string) (err error) { c.A2PMaxMessages, err = strconv.Atoi(v); return err },
		func(c *Config) string { return strconv.Itoa(c.A2PMaxMessages) }},

	// Database and nodes.
	{"SWITCHBOARD_DATABASE", "database", "database: sqlite://PATH, or postgres://user:pass@host:5432/db?sslmode=disable for PostgreSQL (several nodes may share it); empty: SQLite in the data directory",
		func(c *Config, v string) error { c.Database = v; return nil },
		func(c *Config) string { return redact(c.Database) }},
	{"SWITCHBOARD_ROLE", "role", "what this node runs: all, api (HTTP API, no workers) or worker (delivery and retention workers, only the health endpoint)",
		func(c *Config, v string) error { c.Role = strings.ToLower(v); return nil },
		func(c *Config) string { return c.Role }},
	{"SWITCHBOARD_DB_MAX_CONNS", "db-max-conns", "PostgreSQL connections per node",
		func(c *Config, v string) (err error) { c.DBMaxConns, err = strconv.Atoi(v); return err },
		func(c *Config) string { return strconv.Itoa(c.DBMaxConns) }},
	{"SWITCHBOARD_DB_STATEMENT_TIMEOUT", "db-statement-timeout", "PostgreSQL statement timeout",
		func(c *Config, v string) (err error) { c.DBStatementTimeout, err = time.ParseDuration(v); return err },
		func(c *Config) string { return c.DBStatementTimeout.String() }},
	{"SWITCHBOARD_WEBHOOK_ALLOW_PRIVATE", "webhook-allow-private", "let WebHook subscriptions call loopback, private and reserved addresses (checked on the resolved IP when connecting); default true with --demo or --emulator, false otherwise",
		func(c *Config, v string) (err error) {
			c.WebHookAllowPrivate, err = strconv.ParseBool(v)
			c.webHookAllowPrivateSet = err == nil
			return err
		},
		func(c *Config) string { return strconv.FormatBool(c.WebHookAllowPrivate) }},
	{"SWITCHBOARD_WEBHOOK_SUSPEND_AFTER", "webhook-suspend-after", "a WebHook whose deliveries keep failing this long is Blacklisted (retries back off from 2s to 10m meanwhile)",
		func(c *Config, v string) (err error) { c.WebHookSuspendAfter, err = time.ParseDuration(v); return err },
		func(c *Config) string { return c.WebHookSuspendAfter.String() }},
	{"SWITCHBOARD_WEBHOOK_HISTORY", "webhook-history", "how many of each WebHook subscription's most recent deliveries (time, event, the receiver's answer) are kept for the admin console; 0 keeps none",
		func(c *Config, v string) (err error) { c.WebHookHistory, err = strconv.Atoi(v); return err },
		func(c *Config) string { return strconv.Itoa(c.WebHookHistory) }},
	{"SWITCHBOARD_WEB_UI", "web-ui", "serve the web UI at / and the sign-in page of the OAuth authorization-code flow (/restapi/oauth/authorize)",
		func(c *Config, v string) (err error) { c.WebUI, err = strconv.ParseBool(v); return err },
		func(c *Config) string { return strconv.FormatBool(c.WebUI) }},
	{"SWITCHBOARD_WEB_UI_CLIENT_ID", "web-ui-client-id", "client id of the public app the web UI signs users in as; created at start when missing",
		func(c *Config, v string) error { c.WebUIClientID = v; return nil },
		func(c *Config) string { return c.WebUIClientID }},
}

// redact hides a password in a database URL.
func redact(database string) string {
	u, err := url.Parse(database)
	if err != nil || u.User == nil {
		return database
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// Load builds the configuration: defaults, then the environment (getenv,
// usually os.Getenv), then the flags in args. It returns the remaining
// arguments.
func Load(fs *flag.FlagSet, args []string, getenv func(string) string) (Config, error) {
	c := Default()
	for _, v := range vars {
		if s := getenv(v.env); s != "" {
			if err := v.set(&c, s); err != nil {
				return c, fmt.Errorf("environment variable %s=%q: %v", v.env, s, err)
			}
		}
	}
	for _, v := range vars {
		v := v
		usage := fmt.Sprintf("%s (env %s)", v.usage, v.env)
		if v.flag == "demo" || v.flag == "emulator" {
			fs.BoolFunc(v.flag, usage, func(s string) error { return v.set(&c, s) })
			continue
		}
		fs.Func(v.flag, fmt.Sprintf("%s (default %q)", usage, v.get(&c)), func(s string) error { return v.set(&c, s) })
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	// A development server calls receivers on localhost; anything else
	// must not be turned into a proxy to the operator's private network.
	if !c.webHookAllowPrivateSet {
		c.WebHookAllowPrivate = c.Demo || c.Emulator
	}
	return c, c.Validate()
}

// Validate checks the configuration and says what to change.
func (c *Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("listen address %q: want host:port, for example 127.0.0.1:8080", c.Listen))
	}
	if c.DebugListen != "" {
		if _, _, err := net.SplitHostPort(c.DebugListen); err != nil {
			errs = append(errs, fmt.Errorf("debug listen address %q: want host:port, for example 127.0.0.1:6060", c.DebugListen))
		}
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("data directory is empty: set --data or SWITCHBOARD_DATA"))
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("public URL %q: want an absolute http(s) URL such as https://sms.example.com", c.PublicURL))
		}
	}
	if c.SQLiteSync != "FULL" && c.SQLiteSync != "NORMAL" {
		errs = append(errs, fmt.Errorf("sqlite-sync %q: want FULL or NORMAL", c.SQLiteSync))
	}
	if c.AccessTokenTTL < 2*time.Minute || c.AccessTokenTTL > time.Hour {
		errs = append(errs, fmt.Errorf("access-token-ttl %s: want 2m to 1h", c.AccessTokenTTL))
	}
	if c.RefreshTokenTTL < 2*time.Minute || c.RefreshTokenTTL > 30*24*time.Hour {
		errs = append(errs, fmt.Errorf("refresh-token-ttl %s: want 2m to 720h", c.RefreshTokenTTL))
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		errs = append(errs, fmt.Errorf("log-format %q: want text or json", c.LogFormat))
	}
	if _, err := c.SlogLevel(); err != nil {
		errs = append(errs, err)
	}
	if c.MaxBodyBytes < 1024 || c.MaxBodyBytes > 1<<30 {
		errs = append(errs, fmt.Errorf("max-body-bytes %d: want 1024 to 1073741824", c.MaxBodyBytes))
	}
	if c.DeletePeriod <= 0 || c.PurgePeriod <= 0 {
		errs = append(errs, fmt.Errorf("delete-period %s and purge-period %s: want positive durations such as 120h", c.DeletePeriod, c.PurgePeriod))
	}
	if c.MailboxCap < 0 {
		errs = append(errs, fmt.Errorf("mailbox-cap %d: want 0 (no cap) or a positive count", c.MailboxCap))
	}
	if c.ChangeLogPeriod < time.Hour {
		errs = append(errs, fmt.Errorf("change-log-period %s: want at least 1h", c.ChangeLogPeriod))
	}
	if c.Send.MaxRecipients < 1 || c.Send.MaxRecipients > switchboard.MaxRecipients {
		errs = append(errs, fmt.Errorf("max-recipients %d: want 1 to %d (the most a stored message holds)", c.Send.MaxRecipients, switchboard.MaxRecipients))
	}
	if c.Send.MaxMMSBytes < 1 || c.Send.MaxRequestBytes < 1024 || c.Send.MaxRequestBytes > 1<<30 {
		errs = append(errs, fmt.Errorf("max-mms-bytes %d and max-send-bytes %d: want positive sizes, max-send-bytes 1024 to 1073741824", c.Send.MaxMMSBytes, c.Send.MaxRequestBytes))
	}
	if c.A2PMaxBytes < 1024 || c.A2PMaxBytes > 1<<30 || c.A2PMaxMessages < 1 || c.A2PMaxMessages > 10_000_000 {
		errs = append(errs, fmt.Errorf("a2p-max-bytes %d and a2p-max-messages %d: want 1024 to 1073741824 bytes and 1 to 10000000 messages", c.A2PMaxBytes, c.A2PMaxMessages))
	}
	if c.ReceiptTimeout < time.Second {
		errs = append(errs, fmt.Errorf("receipt-timeout %s: want at least 1s", c.ReceiptTimeout))
	}
	if c.WebHookHistory < 0 || c.WebHookHistory > 10000 {
		errs = append(errs, fmt.Errorf("webhook-history %d: want 0 to 10000", c.WebHookHistory))
	}
	if c.WebHookSuspendAfter < time.Minute {
		errs = append(errs, fmt.Errorf("webhook-suspend-after %s: want at least 1m", c.WebHookSuspendAfter))
	}
	if c.RetentionInterval < time.Second {
		errs = append(errs, fmt.Errorf("retention-interval %s: want at least 1s", c.RetentionInterval))
	}
	if c.Database != "" && !IsPostgres(c.Database) && (!strings.HasPrefix(c.Database, "sqlite://") || c.Database == "sqlite://") {
		errs = append(errs, fmt.Errorf("database %q: want sqlite://PATH or postgres://user:password@host:port/dbname", redact(c.Database)))
	}
	if c.Role != RoleAll && c.Role != RoleAPI && c.Role != RoleWorker {
		errs = append(errs, fmt.Errorf("role %q: want all, api or worker", c.Role))
	}
	if c.DBMaxConns < 1 || c.DBMaxConns > 1000 {
		errs = append(errs, fmt.Errorf("db-max-conns %d: want 1 to 1000", c.DBMaxConns))
	}
	if c.DBStatementTimeout < 100*time.Millisecond {
		errs = append(errs, fmt.Errorf("db-statement-timeout %s: want at least 100ms", c.DBStatementTimeout))
	}
	if _, err := ParseCarrier(c.Carrier); err != nil {
		errs = append(errs, err)
	}
	if c.WebUI && strings.TrimSpace(c.WebUIClientID) == "" {
		errs = append(errs, errors.New("web-ui-client-id is empty: name the app the web UI signs in as, or turn the UI off with --web-ui=false"))
	}
	errs = append(errs, c.Inbound.validate()...)
	errs = append(errs, c.Edge.validate()...)
	errs = append(errs, c.Security.validate()...)
	errs = append(errs, c.Fax.validate()...)
	return errors.Join(errs...)
}

// Print writes the configuration as a table of setting, value and the
// environment variable that sets it. Nothing in it is secret.
func (c *Config) Print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FLAG\tVALUE\tENV")
	for _, v := range vars {
		fmt.Fprintf(tw, "--%s\t%s\t%s\n", v.flag, v.get(c), v.env)
	}
	tw.Flush()
}

// SlogLevel is LogLevel as a slog level.
func (c *Config) SlogLevel() (slog.Level, error) {
	switch c.LogLevel {
	case "debug":
		return slog.LevelDebug, nil
	case "info":
		return slog.LevelInfo, nil
	case "warn":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("log-level %q: want debug, info, warn or error", c.LogLevel)
}

// Retention is the server's lifecycle policy.
func (c *Config) Retention() switchboard.RetentionPolicy {
	return switchboard.RetentionPolicy{DeletePeriod: c.DeletePeriod, PurgePeriod: c.PurgePeriod, MailboxCap: c.MailboxCap}
}

// Getenv is os.Getenv, named here so callers read as config.Load(fs, args, config.Getenv).
var Getenv = os.Getenv
