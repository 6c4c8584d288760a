package auth

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/sqlstore"
)

// TestPasswordLoginAlwaysHashes: every failed password login runs one
// argon2id verification, so its timing does not tell whether the user name
// exists or the extension has a password at all (it had answered in 0.46 ms
// instead of 39 ms for extensions without one).
func TestPasswordLoginAlwaysHashes(t *testing.T) {
	ctx := context.Background()
	clock := switchboard.NewManualClock(nil)
	store, err := sqlstore.OpenSQLite(ctx, filepath.Join(t.TempDir(), "t.db"), clock, sqlstore.SQLiteOptions{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	acc, err := store.CreateAccount(ctx, switchboard.AccountCreate{Name: "A", MainNumber: "+16505550100"})
	if err != nil {
		t.Fatal(err)
	}
	hash, _ := HashPassword("right-password")
	for _, x := range []switchboard.ExtensionCreate{
		{AccountID: acc.ID, ExtensionNumber: "101", Name: "With", Email: "with@a.example", PasswordHash: hash},
		{AccountID: acc.ID, ExtensionNumber: "102", Name: "Without", Email: "without@a.example"},
	} {
		if _, err := store.CreateExtension(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	s := NewService(store, clock, Config{})
	var calls []string
	verifyPassword = func(h, p string) bool { calls = append(calls, h); return VerifyPassword(h, p) }
	t.Cleanup(func() { verifyPassword = VerifyPassword })
	for _, tc := range []struct{ user, wantHash string }{
		{"with@a.example", hash},
		{"without@a.example", dummyHash},
		{"nobody@a.example", dummyHash},
		{"+16505550100*102", dummyHash},
	} {
		calls = nil
		if _, err := s.extensionForPassword(ctx, tc.user, "", "wrong-password"); err == nil {
			t.Fatalf("%s logged in with a wrong password", tc.user)
		}
		if len(calls) != 1 || calls[0] != tc.wantHash {
			t.Errorf("%s: %d verifications %v; want one against %s", tc.user, len(calls), calls, map[bool]string{true: "the dummy", false: "its hash"}[tc.wantHash == dummyHash])
		}
	}
}

func TestLoginGuard(t *testing.T) {
	clock := switchboard.NewManualClock(func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) })
	g := newLoginGuard(LoginLimits{MaxFailures: 2, MaxClientFailures: 3, MaxLockout: time.Minute}, clock)
	u, c := userKey("Alice@Example.com*101"), clientKey("app")
	if u != userKey("alice@example.com") {
		t.Fatal("user names are not counted case-blind without the extension")
	}
	g.fail(u, c)
	g.fail(u, c)
	if g.check(u, c) != nil {
		t.Fatal("locked out at the threshold")
	}
	g.fail(u, c) // user: 1 over; client: at its threshold
	if err := g.check(u, c); err == nil || err.(*OAuthError).RetryAfter != 1 {
		t.Fatalf("check = %v; want locked for 1 s", err)
	}
	if g.check(userKey("bob"), c) != nil {
		t.Fatal("another user locked before the client's threshold")
	}
	g.fail(userKey("bob"), c) // client: 1 over
	if g.check(userKey("carol"), c) == nil {
		t.Fatal("a client past its threshold is not locked out")
	}
	for i := 0; i < 40; i++ {
		g.fail(u, "")
	}
	if err := g.check(u); err.(*OAuthError).RetryAfter != 60 {
		t.Fatalf("lockout %d s; want capped at MaxLockout", err.(*OAuthError).RetryAfter)
	}
	clock.Advance(2 * time.Minute)
	g.fail("x", "") // sweeps
	if len(g.failures) != 1 {
		t.Fatalf("%d entries after a quiet MaxLockout; want only the new one", len(g.failures))
	}
}
