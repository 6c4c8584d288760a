package sqlstore

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/pgtest"
	"github.com/switchboardhq/switchboard/internal/storetest"
)

// TestAuthRevocationAcrossProcesses: two stores over one SQLite file stand
// for the server and the CLI beside it.
func TestAuthRevocationAcrossProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "switchboard.db")
	a := mustOpen(t, path, testClock(), SQLiteOptions{})
	b := mustOpen(t, path, testClock(), SQLiteOptions{})
	testAuthRevocationAcross(t, a, b)
}

// TestPostgresAuthRevocationAcrossNodes: two stores over one database stand
// for two nodes.
func TestPostgresAuthRevocationAcrossNodes(t *testing.T) {
	url := pgtest.NewDatabase(t)
	a := mustOpenPostgres(t, url, testClock())
	b := mustOpenPostgres(t, url, testClock())
	testAuthRevocationAcross(t, a, b)
}

// testAuthRevocationAcross authenticates on node b (which may then answer
// from its cache), changes something on node a, and expects b's very next
// lookup to see it: no waiting, no notification to wait for.
func testAuthRevocationAcross(t *testing.T, a, b *DB) {
	ctx := t.Context()
	accID, extID := seedMailbox(t, a)
	now := storetest.Base
	token := func(hash, session string) {
		t.Helper()
		if err := a.CreateTokens(ctx, &switchboard.Token{Hash: hash, Kind: switchboard.TokenAccess, SessionID: session,
			AccountID: accID, ExtensionID: extID, Expires: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	accepted := func(hash string) {
		t.Helper()
		for range 2 { // the second from the cache, if any
			if _, err := b.AccessPrincipal(ctx, hash, switchboard.TokenAccess, now); err != nil {
				t.Fatalf("token %s refused: %v", hash, err)
			}
		}
	}
	refused := func(hash, why string) {
		t.Helper()
		if _, err := b.AccessPrincipal(ctx, hash, switchboard.TokenAccess, now); !errors.Is(err, switchboard.ErrNotFound) {
			t.Fatalf("%s: token %s: err %v, want ErrNotFound", why, hash, err)
		}
	}

	token("h1", "s1")
	token("h2", "s2")
	accepted("h1")
	accepted("h2")
	if err := a.RevokeSession(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	refused("h1", "session revoked on the other node")
	accepted("h2")

	if err := a.SetExtensionStatus(ctx, accID, extID, switchboard.StatusDisabled); err != nil {
		t.Fatal(err)
	}
	refused("h2", "extension disabled on the other node")
	if err := a.SetExtensionStatus(ctx, accID, extID, switchboard.StatusEnabled); err != nil {
		t.Fatal(err)
	}
	accepted("h2")
	if err := a.SetAccountStatus(ctx, accID, switchboard.StatusDisabled); err != nil {
		t.Fatal(err)
	}
	refused("h2", "account disabled on the other node")

	admin := &switchboard.AdminToken{Name: "ops", Hash: "admin-1"}
	if err := a.CreateAdminToken(ctx, admin); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if got, err := b.AdminTokenByHash(ctx, "admin-1"); err != nil || got.Status != switchboard.StatusEnabled {
			t.Fatalf("admin token before: %+v, %v", got, err)
		}
	}
	if err := a.SetAdminTokenStatus(ctx, admin.ID, switchboard.StatusDisabled); err != nil {
		t.Fatal(err)
	}
	if got, err := b.AdminTokenByHash(ctx, "admin-1"); err != nil || got.Status != switchboard.StatusDisabled {
		t.Fatalf("admin token disabled on the other node: %+v, %v", got, err)
	}
}
