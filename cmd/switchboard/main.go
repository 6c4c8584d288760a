// Command switchboard is the Switchboard unified messaging server and its
// administration tool.
//
//	switchboard serve [--demo] [--listen ADDR] [--data DIR]   run the server
//	switchboard account|extension|number|app|jwt|admin-token ...  manage the directory
//	switchboard version
//
// This is the only package that knows every concrete adapter and wires them
// together.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/switchboardhq/switchboard/internal/config"
)

const usage = `Switchboard: a self-hosted unified messaging server with a RingCentral-compatible API.

Usage:
  switchboard serve [flags]            run the server (--demo for a ready-to-use demo account)
  switchboard config [flags]           print the configuration serve would run with (flags and SWITCHBOARD_* env)
  switchboard account <command>        accounts (tenants): create, list, disable, enable
  switchboard extension <command>      extensions (users, departments): create, list, disable, enable, set-password
  switchboard number <command>         phone numbers: add, list, disable
  switchboard app <command>            OAuth apps (client id and secret): create, list, disable, enable
  switchboard jwt <command>            JWT login credentials of users: create, list, disable
  switchboard admin-token <command>    credentials for the admin API: create, list, disable
  switchboard keys rotate|generate     JWT signing keys: rotate the key file, or print a key for SWITCHBOARD_JWT_KEYS
  switchboard migrate-data --from sqlite://PATH --to postgres://URL
                                       copy a SQLite installation into an empty PostgreSQL database
  switchboard backup --data DIR --to FILE
                                       copy a running SQLite installation into one file (online, consistent)
  switchboard restore --from FILE --data NEWDIR
                                       make a new data directory from a backup
  switchboard health [--url URL]       exit 0 when the server answers its health check (container health checks)
  switchboard version                  print the version, commit and build date

Run 'switchboard <command> -h' for the flags of a command. Every command takes
--data DIR (env SWITCHBOARD_DATA, default ./switchboard-data) and --database URL
(env SWITCHBOARD_DATABASE: sqlite://PATH or postgres://...; default SQLite in DIR).
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "switchboard:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return serve(ctx, rest, stdout, stderr)
	case "config":
		fs := flag.NewFlagSet("config", flag.ContinueOnError)
		fs.SetOutput(stderr)
		cfg, err := config.Load(fs, rest, config.Getenv)
		if err != nil {
			return err
		}
		cfg.Print(stdout)
		return nil
	case "account", "extension", "number", "app", "jwt", "admin-token":
		return directoryCommand(ctx, cmd, rest, stdout, stderr)
	case "keys":
		return keysCommand(ctx, rest, stdout, stderr)
	case "migrate-data":
		return migrateData(ctx, rest, stdout, stderr)
	case "backup":
		return backup(ctx, rest, stdout, stderr)
	case "restore":
		return restore(ctx, rest, stdout, stderr)
	case "health":
		return health(ctx, rest, stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, buildVersion())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}
