package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/config"
	"github.com/switchboardhq/switchboard/internal/sqlstore"
)

// printFirstSteps tells the operator of a server without any account what
// to do next, with commands that work as printed (the ids they need are in
// the output of the commands before them). It prints nothing once an
// account exists.
func printFirstSteps(ctx context.Context, w io.Writer, store switchboard.DirectoryStore, cfg config.Config, serverURL string) error {
	accounts, err := store.Accounts(ctx)
	if err != nil || len(accounts) > 0 {
		return err
	}
	where := "--data " + shellQuote(cfg.DataDir)
	if cfg.Database != "" {
		where = "--database " + shellQuote(sqlstore.RedactURL(cfg.Database))
	}
	fmt.Fprintf(w, `
Switchboard is running at %[1]s with an empty directory: no account can log in yet.
Create an account, a user with a phone number, an app and credentials (the server keeps
running; each command prints the id or the secret the next ones need):

  switchboard account create %[2]s --name "Acme" --main-number +16505550100
  switchboard extension create %[2]s --account ACCOUNT_ID --number 101 --name "Ann" --email ann@acme.example --password --admin
  switchboard number add %[2]s --account ACCOUNT_ID --extension EXTENSION_ID --number +16505550101
  switchboard app create %[2]s --name "My app"         # client id and secret, shown once
  switchboard jwt create %[2]s --account ACCOUNT_ID --extension EXTENSION_ID   # a JWT to log in with
  switchboard admin-token create %[2]s --name ops      # for the /switchboard/v1 admin API

Or try everything with ready-made accounts first: switchboard serve --demo --data ./demo-data

`, serverURL, where)
	return nil
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@+=,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
