package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/auth"
)

const demoFile = "demo.json"

// demoInfo is <data>/demo.json: everything a script or test needs to log in
// to the demo without parsing the server's output.
type demoInfo struct {
	Server       string          `json:"server"`
	ClientID     string          `json:"clientId"`
	ClientSecret string          `json:"clientSecret"`
	AdminToken   string          `json:"adminToken"`
	Extensions   []demoExtension `json:"extensions"`
	// issued: the credentials were made by this start (a new demo, or a
	// recovered one); only then are they printed.
	issued bool
}

type demoExtension struct {
	AccountID       string `json:"accountId"`
	ID              string `json:"id"`
	ExtensionNumber string `json:"extensionNumber"`
	Name            string `json:"name"`
	Type            string `json:"type"`
	PhoneNumber     string `json:"phoneNumber"`
	JWT             string `json:"jwt"`
	Username        string `json:"username"`
	Password        string `json:"password"`
}

type demoExt struct {
	number, name, typ, email, phone string
	admin                           bool
}

// demoDirectory is what the demo creates: two accounts, so tenancy can be
// tried at once. Numbers are in the fictional 555-01xx range.
var demoDirectory = []struct {
	name, mainNumber string
	extensions       []demoExt
}{
	{"Demo Company", "+16505550100", []demoExt{
		{"101", "Alice Admin", switchboard.ExtensionTypeUser, "alice@demo.example", "+16505550101", true},
		{"102", "Bob User", switchboard.ExtensionTypeUser, "bob@demo.example", "+16505550102", false},
		{"103", "Support", switchboard.ExtensionTypeDepartment, "", "+16505550103", false},
	}},
	{"Other Company", "+14155550100", []demoExt{
		{"101", "Carol Other", switchboard.ExtensionTypeUser, "carol@other.example", "+14155550101", true},
	}},
}

// ensureDemo creates the demo in a new data directory, or loads the
// demo.json of an earlier start, and (re)writes demo.json with the server's
// current URL.
func ensureDemo(ctx context.Context, store switchboard.Store, authService *auth.Service, dataDir, serverURL string, logger *slog.Logger) (*demoInfo, error) {
	path := filepath.Join(dataDir, demoFile)
	accounts, err := store.Accounts(ctx)
	if err != nil {
		return nil, err
	}
	var info *demoInfo
	switch b, err := os.ReadFile(path); {
	case err == nil:
		info = new(demoInfo)
		if err := json.Unmarshal(b, info); err != nil {
			return nil, fmt.Errorf("read %s: %w (delete the data directory to start afresh)", path, err)
		}
	case !errors.Is(err, os.ErrNotExist):
		return nil, err
	case len(accounts) > 0 && !isDemoDirectory(accounts):
		logger.Warn("data directory has accounts but no demo.json; not creating a demo (use a new --data directory for one)", "data", dataDir)
		return nil, nil
	case len(accounts) > 0:
		// The demo's accounts without its demo.json: an earlier start
		// created them and could not write the file (or it was deleted).
		// Its secrets are stored hashed, so new ones are issued.
		if info, err = recoverDemo(ctx, store, authService, accounts); err != nil {
			return nil, fmt.Errorf("recover the demo's credentials: %w", err)
		}
		logger.Warn("demo accounts found without demo.json: issued new demo credentials (an app, an admin token, JWTs; passwords unchanged: switchboard extension set-password makes new ones)", "file", path)
		info.issued = true
	default:
		if info, err = createDemo(ctx, store, authService); err != nil {
			return nil, err
		}
		logger.Info("created demo accounts", "file", path)
		info.issued = true
	}
	info.Server = serverURL
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return nil, err
	}
	// Write then rename, so a reader polling for demo.json never sees half a file.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return nil, err
	}
	return info, os.Rename(tmp, path)
}

// isDemoDirectory reports whether the accounts are exactly the demo's.
func isDemoDirectory(accounts []*switchboard.Account) bool {
	if len(accounts) != len(demoDirectory) {
		return false
	}
	for i, a := range accounts {
		if a.Name != demoDirectory[i].name || a.MainNumber != demoDirectory[i].mainNumber {
			return false
		}
	}
	return true
}

// recoverDemo issues new credentials for the demo's existing accounts: an
// app, an admin token and a JWT for each user. Nothing existing is
// revoked or changed, so other nodes' demo.json stay valid; the users'
// passwords, stored only hashed, are not in the new demo.json.
func recoverDemo(ctx context.Context, store switchboard.Store, authService *auth.Service, accounts []*switchboard.Account) (*demoInfo, error) {
	info, err := newDemoApp(ctx, store)
	if err != nil {
		return nil, err
	}
	for i, acc := range accounts {
		exts, err := store.Extensions(ctx, switchboard.ExtensionFilter{AccountID: acc.ID})
		if err != nil {
			return nil, err
		}
		for _, e := range demoDirectory[i].extensions {
			var ext *switchboard.Extension
			for _, x := range exts {
				if x.ExtensionNumber == e.number {
					ext = x
				}
			}
			if ext == nil {
				return nil, fmt.Errorf("account %d has no extension %s: start with a new --data directory and database", acc.ID, e.number)
			}
			de := demoExtension{AccountID: strconv.FormatInt(acc.ID, 10), ID: strconv.FormatInt(ext.ID, 10), ExtensionNumber: e.number,
				Name: e.name, Type: e.typ, PhoneNumber: e.phone}
			// Passwords are left as they are (another node's demo.json may
			// hold them); a JWT is issued beside the existing ones.
			if e.typ == switchboard.ExtensionTypeUser {
				if _, de.JWT, err = authService.IssueJWTCredential(ctx, acc.ID, ext.ID, "demo", 0); err != nil {
					return nil, err
				}
			}
			info.Extensions = append(info.Extensions, de)
		}
	}
	return info, nil
}

// newDemoApp creates the demo's app and admin token.
func newDemoApp(ctx context.Context, store switchboard.Store) (*demoInfo, error) {
	info := &demoInfo{}
	secret := rand.Text()
	app := &switchboard.App{ClientID: rand.Text(), SecretHash: auth.HashSecret(secret), Name: "Switchboard Demo",
		Scopes: append(slices.Clone(switchboard.DefaultAppScopes), switchboard.ScopeA2PSMS), Status: switchboard.StatusEnabled,
		// Browser sign-in from any local development server (RFC 8252), so
		// the SDKs' loginUrl() then login({code}) work out of the box.
		LoopbackRedirects: true}
	if err := store.CreateApp(ctx, app); err != nil {
		return nil, err
	}
	info.ClientID, info.ClientSecret = app.ClientID, secret
	adminText, adminHash := auth.NewOpaqueToken()
	if err := store.CreateAdminToken(ctx, &switchboard.AdminToken{Name: "demo", Hash: adminHash, Status: switchboard.StatusEnabled}); err != nil {
		return nil, err
	}
	info.AdminToken = adminText
	return info, nil
}

func createDemo(ctx context.Context, store switchboard.Store, authService *auth.Service) (*demoInfo, error) {
	info, err := newDemoApp(ctx, store)
	if err != nil {
		return nil, err
	}

	for _, a := range demoDirectory {
		acc, err := store.CreateAccount(ctx, switchboard.AccountCreate{Name: a.name, MainNumber: a.mainNumber})
		if err != nil {
			return nil, err
		}
		if _, err := store.CreatePhoneNumber(ctx, switchboard.PhoneNumberCreate{AccountID: acc.ID, PhoneNumber: a.mainNumber,
			UsageType: "MainCompanyNumber", Features: []string{switchboard.FeatureCallerID}}); err != nil {
			return nil, err
		}
		for _, e := range a.extensions {
			de := demoExtension{AccountID: strconv.FormatInt(acc.ID, 10), ExtensionNumber: e.number, Name: e.name, Type: e.typ, PhoneNumber: e.phone}
			create := switchboard.ExtensionCreate{AccountID: acc.ID, ExtensionNumber: e.number, Name: e.name, Type: e.typ, Email: e.email, Admin: e.admin}
			if e.typ == switchboard.ExtensionTypeUser {
				de.Password = rand.Text()[:16]
				if create.PasswordHash, err = auth.HashPassword(de.Password); err != nil {
					return nil, err
				}
				de.Username = e.phone
			}
			ext, err := store.CreateExtension(ctx, create)
			if err != nil {
				return nil, err
			}
			de.ID = strconv.FormatInt(ext.ID, 10)
			if _, err := store.CreatePhoneNumber(ctx, switchboard.PhoneNumberCreate{AccountID: acc.ID, ExtensionID: ext.ID,
				PhoneNumber: e.phone, Features: []string{switchboard.FeatureSmsSender, switchboard.FeatureMmsSender, switchboard.FeatureA2PSms, switchboard.FeatureCallerID}}); err != nil {
				return nil, err
			}
			if e.typ == switchboard.ExtensionTypeUser {
				if _, de.JWT, err = authService.IssueJWTCredential(ctx, acc.ID, ext.ID, "demo", 0); err != nil {
					return nil, err
				}
			}
			info.Extensions = append(info.Extensions, de)
		}
		// Every user of the account is a member of its departments, so a
		// pager message to 103 reaches 101 and 102.
		var users, departments []*switchboard.Extension
		exts, err := store.Extensions(ctx, switchboard.ExtensionFilter{AccountID: acc.ID})
		if err != nil {
			return nil, err
		}
		for _, x := range exts {
			if x.Type == switchboard.ExtensionTypeDepartment {
				departments = append(departments, x)
			} else {
				users = append(users, x)
			}
		}
		for _, d := range departments {
			for _, u := range users {
				if err := store.AddDepartmentMember(ctx, acc.ID, d.ID, u.ID); err != nil {
					return nil, err
				}
			}
		}
	}
	return info, nil
}

func printDemo(w io.Writer, d *demoInfo, path string) {
	if !d.issued {
		// Printed once, when they were made: a log collected from every
		// start would otherwise hold them all.
		fmt.Fprintf(w, "\nSwitchboard demo is running at %s\nIts credentials (printed when they were created) are in %s\n\n", d.Server, path)
		return
	}
	fmt.Fprintf(w, `
Switchboard demo is running at %s
Open it in a browser and sign in with a username and password below.
All credentials are in %s

  client id:     %s
  client secret: %s
  admin token:   %s

`, d.Server, path, d.ClientID, d.ClientSecret, d.AdminToken)
	for _, e := range d.Extensions {
		login := "(no login: departments are reached through their members)"
		if e.Username != "" {
			login = fmt.Sprintf("username %s  password %s", e.Username, e.Password)
		}
		fmt.Fprintf(w, "  account %s  ext %s %-12s %-10s %s  %s\n", e.AccountID, e.ExtensionNumber, e.Name, e.Type, e.PhoneNumber, login)
	}
	if len(d.Extensions) > 0 && d.Extensions[0].JWT != "" {
		fmt.Fprintf(w, `
Log in as extension %s with its JWT and list its messages:

  TOKEN=$(curl -s -u '%s:%s' %s/restapi/oauth/token \
    -d grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer -d assertion=%s | jq -r .access_token)
  curl -s -H "Authorization: Bearer $TOKEN" %s/restapi/v1.0/account/~/extension/~/message-store

`, d.Extensions[0].ExtensionNumber, d.ClientID, d.ClientSecret, d.Server, d.Extensions[0].JWT, d.Server)
	}
}
