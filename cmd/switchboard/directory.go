package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/auth"
	"github.com/switchboardhq/switchboard/internal/config"
)

// cliEnv is what every directory command gets: the store, the auth service
// and where to print.
type cliEnv struct {
	ctx   context.Context
	store switchboard.Store
	// auth is the auth service with the server's JWT signing keys, read
	// (or, before the first start, created) only by the commands that sign.
	auth func() (*auth.Service, error)
	out  io.Writer
}

type subcommand struct {
	name, summary string
	flags         func(fs *flag.FlagSet) func(e *cliEnv) error
}

// directoryCommands are the "switchboard <noun> <verb>" commands that manage
// what a real installation needs: accounts, extensions, numbers, apps and
// credentials. They open the database directly, so they also work while the
// server runs (SQLite allows one writer at a time and waits for it).
var directoryCommands = map[string][]subcommand{
	"account": {
		{"create", "create an account", accountCreate},
		{"list", "list accounts", accountList},
		{"disable", "disable an account: its users can no longer log in", accountStatus(switchboard.StatusDisabled)},
		{"enable", "enable a disabled account", accountStatus(switchboard.StatusEnabled)},
		{"set-retention", "override the server's delete period, purge period and mailbox cap for an account", accountRetention},
	},
	"extension": {
		{"create", "create an extension (user, department or fax line)", extensionCreate},
		{"list", "list the extensions of an account", extensionList},
		{"disable", "disable an extension: it can no longer log in", extensionStatus(switchboard.StatusDisabled)},
		{"enable", "enable a disabled extension", extensionStatus(switchboard.StatusEnabled)},
		{"set-password", "set a user's password (printed once if generated)", extensionPassword},
	},
	"number": {
		{"add", "add a phone number to an account, optionally assigned to an extension", numberAdd},
		{"list", "list the phone numbers of an account", numberList},
		{"disable", "disable a phone number", numberDisable},
	},
	"app": {
		{"create", "create an OAuth app; prints its client id and secret once", appCreate},
		{"list", "list apps", appList},
		{"redirect-uris", "set the redirect URIs an app may receive authorization codes at", appRedirects},
		{"disable", "disable an app: its tokens stop being issued", appStatus(switchboard.StatusDisabled)},
		{"enable", "enable a disabled app", appStatus(switchboard.StatusEnabled)},
	},
	"jwt": {
		{"create", "create a JWT credential for a user; prints the JWT once", jwtCreate},
		{"list", "list the JWT credentials of an account", jwtList},
		{"disable", "disable a JWT credential: it can no longer log in", jwtDisable},
	},
	"admin-token": {
		{"create", "create a credential for the admin API; prints it once", adminTokenCreate},
		{"list", "list admin API credentials", adminTokenList},
		{"disable", "disable an admin API credential", adminTokenDisable},
	},
}

func directoryCommand(ctx context.Context, noun string, args []string, stdout, stderr io.Writer) error {
	subs := directoryCommands[noun]
	help := func() {
		fmt.Fprintf(stderr, "Usage: switchboard %s <command> [flags]\n\nCommands:\n", noun)
		for _, s := range subs {
			fmt.Fprintf(stderr, "  %-13s %s\n", s.name, s.summary)
		}
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		help()
		if len(args) == 0 {
			return fmt.Errorf("%s: no command given", noun)
		}
		return flag.ErrHelp
	}
	for _, s := range subs {
		if s.name != args[0] {
			continue
		}
		fs := flag.NewFlagSet(noun+" "+s.name, flag.ContinueOnError)
		fs.SetOutput(stderr)
		data := fs.String("data", envOr("SWITCHBOARD_DATA", "./switchboard-data"), "data directory (env SWITCHBOARD_DATA)")
		database := fs.String("database", envOr("SWITCHBOARD_DATABASE", ""), "database URL, as for serve (env SWITCHBOARD_DATABASE; default: SQLite in the data directory)")
		keyFile := fs.String("key-file", envOr(keyFileEnv, ""), "JWT key file, as for serve (env "+keyFileEnv+"; default <data>/"+keyFileName+")")
		runFn := s.flags(fs)
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		store, err := openDatabase(ctx, dbSettings{database: *database, dataDir: *data, sqliteSync: "FULL", maxConns: 2}, switchboard.SystemClock{})
		if err != nil {
			return err
		}
		defer store.Close()
		e := &cliEnv{ctx: ctx, store: store, out: stdout, auth: func() (*auth.Service, error) {
			// JWT credentials are signed with the server's keys.
			ring, err := loadKeys(ctx, store, keyFilePath(*keyFile, *data), os.Getenv(keysEnv), time.Now(), slog.New(slog.NewTextHandler(stderr, nil)))
			if err != nil {
				return nil, fmt.Errorf("JWT signing keys: %w", err)
			}
			return auth.NewService(store, switchboard.SystemClock{}, auth.Config{Keys: ring}), nil
		}}
		err = checkAccountFlag(e, fs)
		if err == nil {
			err = runFn(e)
		}
		if err != nil {
			return fmt.Errorf("%s %s: %w", noun, s.name, explain(err))
		}
		return nil
	}
	help()
	return fmt.Errorf("%s: unknown command %q", noun, args[0])
}

// checkAccountFlag refuses an --account that names no account, before the
// command runs, with the ids that exist (rather than a store error).
func checkAccountFlag(e *cliEnv, fs *flag.FlagSet) error {
	f := fs.Lookup("account")
	if f == nil || f.Value.String() == "0" {
		return nil
	}
	acc, _ := strconv.ParseInt(f.Value.String(), 10, 64)
	_, err := e.store.Account(e.ctx, acc)
	if !errors.Is(err, switchboard.ErrNotFound) {
		return err
	}
	accs, err := e.store.Accounts(e.ctx)
	if err != nil {
		return err
	}
	ids := make([]string, len(accs))
	for i, a := range accs {
		ids[i] = id(a.ID)
	}
	if len(ids) == 0 {
		return fmt.Errorf("there is no account %d (there are no accounts yet: create one with `switchboard account create`)", acc)
	}
	return fmt.Errorf("there is no account %d: --account takes the id `account create` printed (accounts: %s)", acc, strings.Join(ids, ", "))
}

// extensionFlag is an --extension flag: an extension number of the account
// (101) or an extension id (200000002), as the other commands print them.
func extensionFlag(fs *flag.FlagSet, usage string) *string {
	return fs.String("extension", "", usage+": its extension number (such as 101) or id")
}

// resolveExtension finds the extension an --extension flag names.
func resolveExtension(e *cliEnv, accountID int64, ref string) (*switchboard.Extension, error) {
	x, err := e.store.ExtensionByNumber(e.ctx, accountID, ref)
	if errors.Is(err, switchboard.ErrNotFound) {
		if n, perr := strconv.ParseInt(ref, 10, 64); perr == nil {
			x, err = e.store.Extension(e.ctx, accountID, n)
		}
	}
	if errors.Is(err, switchboard.ErrNotFound) {
		return nil, fmt.Errorf("account %d has no extension with number or id %q: see `switchboard extension list --account %d`", accountID, ref, accountID)
	}
	return x, err
}

// explain turns store errors into advice.
func explain(err error) error {
	switch {
	case errors.Is(err, switchboard.ErrNotFound):
		return fmt.Errorf("%s: check the id with the matching list command", upTo(err, switchboard.ErrNotFound))
	case errors.Is(err, switchboard.ErrConflict):
		return fmt.Errorf("%s: that number, name or address is taken; list to see what exists", upTo(err, switchboard.ErrConflict))
	}
	return err
}

// upTo is err's text up to the sentinel's, leaving out the database's own
// wording (constraint names, SQL) that follows it.
func upTo(err, sentinel error) string {
	msg := err.Error()
	if i := strings.Index(msg, sentinel.Error()); i >= 0 {
		return msg[:i+len(sentinel.Error())]
	}
	return msg
}

func envOr(key, def string) string {
	if v := config.Getenv(key); v != "" {
		return v
	}
	return def
}

func required(name string, v any) error {
	switch x := v.(type) {
	case string:
		if x == "" {
			return fmt.Errorf("flag --%s is required", name)
		}
	case int64:
		if x == 0 {
			return fmt.Errorf("flag --%s is required", name)
		}
	}
	return nil
}

func table(w io.Writer, header string, rows [][]string) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
	if len(rows) == 0 {
		fmt.Fprintln(w, "(none)")
	}
}

func id(n int64) string { return strconv.FormatInt(n, 10) }

func day(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04")
}

func accountCreate(fs *flag.FlagSet) func(*cliEnv) error {
	name := fs.String("name", "", "account name (required)")
	main := fs.String("main-number", "", "main company number, E.164 (optional)")
	return func(e *cliEnv) error {
		if err := required("name", *name); err != nil {
			return err
		}
		a, err := e.store.CreateAccount(e.ctx, switchboard.AccountCreate{Name: *name, MainNumber: *main})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.out, "created account %d %q\n", a.ID, a.Name)
		return nil
	}
}

func accountList(fs *flag.FlagSet) func(*cliEnv) error {
	return func(e *cliEnv) error {
		// The server's defaults as serve would take them from the environment.
		defaults := config.Default()
		if cfg, err := config.Load(flag.NewFlagSet("env", flag.ContinueOnError), nil, config.Getenv); err == nil {
			defaults = cfg
		}
		def := defaults.Retention()
		accs, err := e.store.Accounts(e.ctx)
		if err != nil {
			return err
		}
		var rows [][]string
		for _, a := range accs {
			eff := a.Retention.Apply(def)
			cap := "none"
			if eff.MailboxCap > 0 {
				cap = strconv.Itoa(eff.MailboxCap)
			}
			rows = append(rows, []string{id(a.ID), a.Name, a.MainNumber, a.Status,
				marked(eff.DeletePeriod.String(), a.Retention.DeletePeriod != 0),
				marked(eff.PurgePeriod.String(), a.Retention.PurgePeriod != 0),
				marked(cap, a.Retention.MailboxCap != 0), day(a.Created)})
		}
		table(e.out, "ID\tNAME\tMAIN NUMBER\tSTATUS\tDELETE PERIOD\tPURGE PERIOD\tMAILBOX CAP\tCREATED", rows)
		fmt.Fprintln(e.out, "(* the account's own setting; the others are the server's, from SWITCHBOARD_* env or defaults)")
		return nil
	}
}

func accountStatus(status string) func(fs *flag.FlagSet) func(*cliEnv) error {
	return func(fs *flag.FlagSet) func(*cliEnv) error {
		acc := fs.Int64("id", 0, "account id (required)")
		return func(e *cliEnv) error {
			if err := required("id", *acc); err != nil {
				return err
			}
			if err := e.store.SetAccountStatus(e.ctx, *acc, status); err != nil {
				return err
			}
			fmt.Fprintf(e.out, "account %d is now %s\n", *acc, status)
			return nil
		}
	}
}

func marked(v string, own bool) string {
	if own {
		return v + "*"
	}
	return v
}

func period(d time.Duration) string {
	if d == 0 {
		return "default"
	}
	return d.String()
}

func accountRetention(fs *flag.FlagSet) func(*cliEnv) error {
	acc := fs.Int64("id", 0, "account id (required)")
	del := fs.Duration("delete-period", 0, "how long Deleted messages stay restorable, e.g. 240h (0: server default)")
	purge := fs.Duration("purge-period", 0, "how long Purged records stay, e.g. 120h (0: server default)")
	cap := fs.Int("mailbox-cap", 0, "most Alive messages per mailbox (0: server default, -1: no cap)")
	return func(e *cliEnv) error {
		if err := required("id", *acc); err != nil {
			return err
		}
		a, err := e.store.Account(e.ctx, *acc)
		if err != nil {
			return err
		}
		// retentionPeriod (message-store-configuration) is kept as it is.
		r := switchboard.AccountRetention{DeletePeriod: *del, PurgePeriod: *purge, MailboxCap: *cap, MessagePeriod: a.Retention.MessagePeriod}
		if err := e.store.SetAccountRetention(e.ctx, *acc, r); err != nil {
			return err
		}
		fmt.Fprintf(e.out, "account %d: delete period %s, purge period %s, mailbox cap %d (0 = server default, -1 = none)\n",
			*acc, period(r.DeletePeriod), period(r.PurgePeriod), r.MailboxCap)
		return nil
	}
}

func extensionCreate(fs *flag.FlagSet) func(*cliEnv) error {
	acc := fs.Int64("account", 0, "account id (required)")
	number := fs.String("number", "", "extension number, digits (required)")
	name := fs.String("name", "", "name (required)")
	typ := fs.String("type", switchboard.ExtensionTypeUser, "User, Department or FaxUser")
	email := fs.String("email", "", "email, also a login name (optional)")
	password := fs.Bool("password", false, "generate a password and print it once (User only)")
	admin := fs.Bool("admin", false, "account administrator: may read and change every mailbox of the account")
	return func(e *cliEnv) error {
		if err := errors.Join(required("account", *acc), required("number", *number), required("name", *name)); err != nil {
			return err
		}
		c := switchboard.ExtensionCreate{AccountID: *acc, ExtensionNumber: *number, Name: *name, Type: *typ, Email: *email, Admin: *admin}
		var pw string
		if *password {
			pw = rand.Text()[:16]
			var err error
			if c.PasswordHash, err = auth.HashPassword(pw); err != nil {
				return err
			}
		}
		x, err := e.store.CreateExtension(e.ctx, c)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.out, "created extension %s (id %d) in account %d\n", x.ExtensionNumber, x.ID, x.AccountID)
		if pw != "" {
			fmt.Fprintf(e.out, "password: %s\n(shown once; log in with the extension's phone number or email)\n", pw)
		}
		return nil
	}
}

func extensionList(fs *flag.FlagSet) func(*cliEnv) error {
	acc := fs.Int64("account", 0, "account id (required)")
	return func(e *cliEnv) error {
		if err := required("account", *acc); err != nil {
			return err
		}
		exts, err := e.store.Extensions(e.ctx, switchboard.ExtensionFilter{AccountID: *acc})
		if err != nil {
			return err
		}
		var rows [][]string
		for _, x := range exts {
			rows = append(rows, []string{id(x.ID), x.ExtensionNumber, x.Name, x.Type, x.Status, x.Email, strconv.FormatBool(x.Admin)})
		}
		table(e.out, "ID\tNUMBER\tNAME\tTYPE\tSTATUS\tEMAIL\tADMIN", rows)
		return nil
	}
}

func extensionStatus(status string) func(fs *flag.FlagSet) func(*cliEnv) error {
	return func(fs *flag.FlagSet) func(*cliEnv) error {
		acc := fs.Int64("account", 0, "account id (required)")
		ext := fs.Int64("id", 0, "extension id (required)")
		return func(e *cliEnv) error {
			if err := errors.Join(required("account", *acc), required("id", *ext)); err != nil {
				return err
			}
			if err := e.store.SetExtensionStatus(e.ctx, *acc, *ext, status); err != nil {
				return err
			}
			fmt.Fprintf(e.out, "extension %d is now %s\n", *ext, status)
			return nil
		}
	}
}

func extensionPassword(fs *flag.FlagSet) func(*cliEnv) error {
	acc := fs.Int64("account", 0, "account id (required)")
	ext := fs.Int64("id", 0, "extension id (required)")
	return func(e *cliEnv) error {
		if err := errors.Join(required("account", *acc), required("id", *ext)); err != nil {
			return err
		}
		pw := rand.Text()[:16]
		hash, err := auth.HashPassword(pw)
		if err != nil {
			return err
		}
		if err := e.store.SetExtensionPassword(e.ctx, *acc, *ext, hash); err != nil {
			return err
		}
		fmt.Fprintf(e.out, "new password of extension %d: %s\n(shown once)\n", *ext, pw)
		return nil
	}
}

func numberAdd(fs *flag.FlagSet) func(*cliEnv) error {
	acc := fs.Int64("account", 0, "account id (required)")
	ext := extensionFlag(fs, "the extension to assign the number to (optional)")
	number := fs.String("number", "", "phone number, E.164 such as +16505550123 (required)")
	features := fs.String("features", "SmsSender,MmsSender,CallerId", "comma-separated features: SmsSender, MmsSender, CallerId, A2PSmsSender (high-volume SMS), InternationalSmsSender")
	typ := fs.String("type", "VoiceFax", "VoiceFax, VoiceOnly or FaxOnly")
	return func(e *cliEnv) error {
		if err := errors.Join(required("account", *acc), required("number", *number)); err != nil {
			return err
		}
		var extID int64
		if *ext != "" {
			x, err := resolveExtension(e, *acc, *ext)
			if err != nil {
				return err
			}
			extID = x.ID
		}
		var fl []string
		for _, f := range strings.Split(*features, ",") {
			if f = strings.TrimSpace(f); f != "" {
				fl = append(fl, f)
			}
		}
		n, err := e.store.CreatePhoneNumber(e.ctx, switchboard.PhoneNumberCreate{AccountID: *acc, ExtensionID: extID, PhoneNumber: *number, Type: *typ, Features: fl})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.out, "added %s to account %d (features: %s)\n", n.PhoneNumber, n.AccountID, strings.Join(n.Features, ", "))
		return nil
	}
}

func numberList(fs *flag.FlagSet) func(*cliEnv) error {
	acc := fs.Int64("account", 0, "account id (required)")
	return func(e *cliEnv) error {
		if err := required("account", *acc); err != nil {
			return err
		}
		nums, err := e.store.PhoneNumbers(e.ctx, *acc, 0)
		if err != nil {
			return err
		}
		var rows [][]string
		for _, n := range nums {
			ext := "-"
			if n.ExtensionID != 0 {
				ext = id(n.ExtensionID)
			}
			rows = append(rows, []string{n.PhoneNumber, ext, n.Type, n.UsageType, strings.Join(n.Features, ","), n.Status})
		}
		table(e.out, "NUMBER\tEXTENSION ID\tTYPE\tUSAGE\tFEATURES\tSTATUS", rows)
		return nil
	}
}

func numberDisable(fs *flag.FlagSet) func(*cliEnv) error {
	acc := fs.Int64("account", 0, "account id (required)")
	number := fs.String("number", "", "phone number (required)")
	return func(e *cliEnv) error {
		if err := errors.Join(required("account", *acc), required("number", *number)); err != nil {
			return err
		}
		n, err := switchboard.NormalizeE164(*number)
		if err != nil {
			return err
		}
		if err := e.store.SetPhoneNumberStatus(e.ctx, *acc, n, switchboard.StatusDisabled); err != nil {
			return err
		}
		fmt.Fprintf(e.out, "%s is now disabled\n", n)
		return nil
	}
}

func appCreate(fs *flag.FlagSet) func(*cliEnv) error {
	name := fs.String("name", "", "app name (required)")
	public := fs.Bool("public", false, "public client (browser or mobile): no client secret")
	scopes := fs.String("scopes", strings.Join(switchboard.DefaultAppScopes, ","), "comma-separated app permissions (add "+switchboard.ScopeA2PSMS+" for high-volume SMS)")
	redirects := fs.String("redirect-uris", "", "comma-separated redirect URIs of the authorization-code flow")
	loopback := fs.Bool("loopback-redirects", false, "also accept any http://127.0.0.1:PORT, http://[::1]:PORT or http://localhost:PORT redirect URI (RFC 8252)")
	return func(e *cliEnv) error {
		if err := required("name", *name); err != nil {
			return err
		}
		app := &switchboard.App{ClientID: rand.Text(), Name: *name, Status: switchboard.StatusEnabled,
			RedirectURIs: splitList(*redirects), LoopbackRedirects: *loopback}
		for _, s := range strings.Split(*scopes, ",") {
			if s = strings.TrimSpace(s); s != "" {
				app.Scopes = append(app.Scopes, s)
			}
		}
		secret := ""
		if !*public {
			secret = rand.Text()
			app.SecretHash = auth.HashSecret(secret)
		}
		if err := e.store.CreateApp(e.ctx, app); err != nil {
			return err
		}
		fmt.Fprintf(e.out, "created app %q\nclient id:     %s\n", app.Name, app.ClientID)
		if secret != "" {
			fmt.Fprintf(e.out, "client secret: %s\n(the secret is shown once; only its hash is stored)\n", secret)
		}
		return nil
	}
}

func appList(fs *flag.FlagSet) func(*cliEnv) error {
	return func(e *cliEnv) error {
		apps, err := e.store.Apps(e.ctx)
		if err != nil {
			return err
		}
		var rows [][]string
		for _, a := range apps {
			kind := "confidential"
			if a.SecretHash == "" {
				kind = "public"
			}
			redirects := strings.Join(a.RedirectURIs, ",")
			if a.LoopbackRedirects {
				redirects = strings.TrimPrefix(redirects+",loopback", ",")
			}
			rows = append(rows, []string{a.ClientID, a.Name, kind, a.Status, strings.Join(a.Scopes, ","), redirects})
		}
		table(e.out, "CLIENT ID\tNAME\tKIND\tSTATUS\tSCOPES\tREDIRECT URIS", rows)
		return nil
	}
}

func appRedirects(fs *flag.FlagSet) func(*cliEnv) error {
	clientID := fs.String("client-id", "", "client id (required)")
	uris := fs.String("set", "", "comma-separated redirect URIs; empty clears them")
	loopback := fs.Bool("loopback-redirects", false, "also accept any http loopback redirect URI on any port (RFC 8252)")
	return func(e *cliEnv) error {
		if err := required("client-id", *clientID); err != nil {
			return err
		}
		list := splitList(*uris)
		if err := e.store.SetAppRedirects(e.ctx, *clientID, list, *loopback); err != nil {
			return err
		}
		fmt.Fprintf(e.out, "app %s: %d redirect URIs, loopback redirects %v\n", *clientID, len(list), *loopback)
		return nil
	}
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

func appStatus(status string) func(fs *flag.FlagSet) func(*cliEnv) error {
	return func(fs *flag.FlagSet) func(*cliEnv) error {
		clientID := fs.String("client-id", "", "client id (required)")
		return func(e *cliEnv) error {
			if err := required("client-id", *clientID); err != nil {
				return err
			}
			if err := e.store.SetAppStatus(e.ctx, *clientID, status); err != nil {
				return err
			}
			fmt.Fprintf(e.out, "app %s is now %s\n", *clientID, status)
			return nil
		}
	}
}

func jwtCreate(fs *flag.FlagSet) func(*cliEnv) error {
	acc := fs.Int64("account", 0, "account id (required)")
	ext := extensionFlag(fs, "a User of the account (required)")
	name := fs.String("name", "cli", "a name to recognise the credential by")
	validFor := fs.Duration("valid-for", 0, "lifetime, for example 8760h; 0 never expires")
	return func(e *cliEnv) error {
		if err := errors.Join(required("account", *acc), required("extension", *ext)); err != nil {
			return err
		}
		x, err := resolveExtension(e, *acc, *ext)
		if err != nil {
			return err
		}
		svc, err := e.auth()
		if err != nil {
			return err
		}
		cred, text, err := svc.IssueJWTCredential(e.ctx, *acc, x.ID, *name, *validFor)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.out, "created JWT credential %s for extension %s (id %d)\n%s\n(the JWT is shown once)\n", cred.ID, x.ExtensionNumber, x.ID, text)
		return nil
	}
}

func jwtList(fs *flag.FlagSet) func(*cliEnv) error {
	acc := fs.Int64("account", 0, "account id (required)")
	return func(e *cliEnv) error {
		if err := required("account", *acc); err != nil {
			return err
		}
		creds, err := e.store.JWTCredentials(e.ctx, *acc)
		if err != nil {
			return err
		}
		var rows [][]string
		for _, c := range creds {
			rows = append(rows, []string{c.ID, id(c.ExtensionID), c.Name, c.Status, day(c.Created), day(c.Expires)})
		}
		table(e.out, "ID\tEXTENSION ID\tNAME\tSTATUS\tCREATED\tEXPIRES", rows)
		return nil
	}
}

func jwtDisable(fs *flag.FlagSet) func(*cliEnv) error {
	credID := fs.String("id", "", "credential id (required)")
	return func(e *cliEnv) error {
		if err := required("id", *credID); err != nil {
			return err
		}
		if err := e.store.SetJWTCredentialStatus(e.ctx, *credID, switchboard.StatusDisabled); err != nil {
			return err
		}
		fmt.Fprintf(e.out, "JWT credential %s is now disabled\n", *credID)
		return nil
	}
}

func adminTokenCreate(fs *flag.FlagSet) func(*cliEnv) error {
	name := fs.String("name", "", "a name to recognise the credential by (required)")
	return func(e *cliEnv) error {
		if err := required("name", *name); err != nil {
			return err
		}
		text, hash := auth.NewOpaqueToken()
		t := &switchboard.AdminToken{Name: *name, Hash: hash, Status: switchboard.StatusEnabled}
		if err := e.store.CreateAdminToken(e.ctx, t); err != nil {
			return err
		}
		fmt.Fprintf(e.out, "created admin token %d %q\n%s\n(shown once; use it as a Bearer token on /switchboard/v1)\n", t.ID, t.Name, text)
		return nil
	}
}

func adminTokenList(fs *flag.FlagSet) func(*cliEnv) error {
	return func(e *cliEnv) error {
		ts, err := e.store.AdminTokens(e.ctx)
		if err != nil {
			return err
		}
		var rows [][]string
		for _, t := range ts {
			rows = append(rows, []string{id(t.ID), t.Name, t.Status, day(t.Created)})
		}
		table(e.out, "ID\tNAME\tSTATUS\tCREATED", rows)
		return nil
	}
}

func adminTokenDisable(fs *flag.FlagSet) func(*cliEnv) error {
	tid := fs.Int64("id", 0, "admin token id (required)")
	return func(e *cliEnv) error {
		if err := required("id", *tid); err != nil {
			return err
		}
		if err := e.store.SetAdminTokenStatus(e.ctx, *tid, switchboard.StatusDisabled); err != nil {
			return err
		}
		fmt.Fprintf(e.out, "admin token %d is now disabled\n", *tid)
		return nil
	}
}
