package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
)

// tokenPair is what one issue stores: an access token and its refresh
// token, sharing a session.
func (e *env) tokenPair(name, session string, created time.Time) (access, refresh *switchboard.Token) {
	base := switchboard.Token{SessionID: session, AccountID: e.acc1.ID, ExtensionID: e.ext1.ID, AppID: 7,
		Scopes: []string{"ReadMessages", "SMS"}, EndpointID: "ep-" + session, Created: created}
	a, r := base, base
	a.Hash, a.Kind, a.Expires = "access-"+name, switchboard.TokenAccess, created.Add(time.Hour)
	r.Hash, r.Kind, r.Expires = "refresh-"+name, switchboard.TokenRefresh, created.Add(7*24*time.Hour)
	return &a, &r
}

func (e *env) tokenExists(t *testing.T, hash string, now time.Time) bool {
	t.Helper()
	_, err := e.store.Token(e.ctx, hash, now)
	if err != nil && !isNotFound(err) {
		t.Fatalf("Token: %v", err)
	}
	return err == nil
}

func testTokens(t *testing.T, e *env) {
	s := e.store
	a1, r1 := e.tokenPair("1", "s1", Base)
	noErr(t, s.CreateTokens(e.ctx, a1, r1))
	wantEqual(t, must(s.Token(e.ctx, a1.Hash, Base))(t), a1, "access token")
	wantEqual(t, must(s.Token(e.ctx, r1.Hash, Base))(t), r1, "refresh token")

	t.Run("expiry", func(t *testing.T) {
		if !e.tokenExists(t, a1.Hash, a1.Expires.Add(-time.Millisecond)) {
			t.Fatal("token missing a millisecond before it expires")
		}
		if e.tokenExists(t, a1.Hash, a1.Expires) {
			t.Fatal("token still valid at its expiry instant")
		}
		if e.tokenExists(t, "access-unknown", Base) {
			t.Fatal("unknown token found")
		}
	})

	t.Run("create is atomic", func(t *testing.T) {
		fresh, _ := e.tokenPair("fresh", "s9", Base)
		dup := *a1
		err := s.CreateTokens(e.ctx, fresh, &dup)
		wantIs(t, err, switchboard.ErrConflict, "duplicate hash")
		if e.tokenExists(t, fresh.Hash, Base) {
			t.Fatal("the first token of a failed batch was stored")
		}
	})

	a2, r2 := e.tokenPair("2", "s1", Base.Add(time.Minute))
	t.Run("rotate", func(t *testing.T) {
		now := Base.Add(time.Minute)
		noErr(t, s.RotateRefreshToken(e.ctx, r1.Hash, now, a2, r2))
		if e.tokenExists(t, r1.Hash, now) {
			t.Fatal("the rotated refresh token still works")
		}
		for _, tok := range []*switchboard.Token{a2, r2} {
			wantEqual(t, must(s.Token(e.ctx, tok.Hash, now))(t), tok, "new token")
		}
		if !e.tokenExists(t, a1.Hash, now) {
			t.Fatal("rotation removed the old access token; it should expire on its own")
		}

		// A refresh token works once.
		a3, r3 := e.tokenPair("3", "s1", now)
		wantIs(t, s.RotateRefreshToken(e.ctx, r1.Hash, now, a3, r3), switchboard.ErrNotFound, "second rotation")
		if e.tokenExists(t, a3.Hash, now) || e.tokenExists(t, r3.Hash, now) {
			t.Fatal("a refused rotation stored its tokens")
		}
		// Only refresh tokens rotate.
		wantIs(t, s.RotateRefreshToken(e.ctx, a2.Hash, now, a3, r3), switchboard.ErrNotFound, "rotating an access token")
		if !e.tokenExists(t, a2.Hash, now) {
			t.Fatal("a refused rotation consumed the access token")
		}
		// An expired refresh token does not rotate.
		wantIs(t, s.RotateRefreshToken(e.ctx, r2.Hash, r2.Expires, a3, r3), switchboard.ErrNotFound, "rotating an expired token")
		if !e.tokenExists(t, r2.Hash, now) {
			t.Fatal("a refused rotation consumed the refresh token")
		}
	})

	t.Run("revoke session", func(t *testing.T) {
		a4, r4 := e.tokenPair("4", "s2", Base)
		noErr(t, s.CreateTokens(e.ctx, a4, r4))
		noErr(t, s.RevokeSession(e.ctx, "s1"))
		for _, h := range []string{a1.Hash, a2.Hash, r2.Hash} {
			if e.tokenExists(t, h, Base) {
				t.Fatalf("token %s of the revoked session survives", h)
			}
		}
		if !e.tokenExists(t, a4.Hash, Base) || !e.tokenExists(t, r4.Hash, Base) {
			t.Fatal("revoking s1 removed tokens of s2")
		}
		noErr(t, s.RevokeSession(e.ctx, "s1")) // already gone: still fine
	})

	t.Run("delete expired", func(t *testing.T) {
		noErr(t, s.RevokeSession(e.ctx, "s2"))
		mk := func(hash string, expires time.Time) *switchboard.Token {
			return &switchboard.Token{Hash: hash, Kind: switchboard.TokenAccess, SessionID: "s5", AccountID: e.acc1.ID,
				ExtensionID: e.ext1.ID, Created: Base.Add(-2 * time.Hour), Expires: expires}
		}
		noErr(t, s.CreateTokens(e.ctx,
			mk("past", Base.Add(-time.Hour)), mk("now", Base), mk("future", Base.Add(time.Millisecond))))
		if n := must(s.DeleteExpiredTokens(e.ctx, Base))(t); n != 2 {
			t.Fatalf("DeleteExpiredTokens = %d, want 2 (expired before and at now)", n)
		}
		if !e.tokenExists(t, "future", Base) {
			t.Fatal("an unexpired token was deleted")
		}
		if n := must(s.DeleteExpiredTokens(e.ctx, Base))(t); n != 0 {
			t.Fatalf("second DeleteExpiredTokens = %d, want 0", n)
		}
	})
}

// testRotateConcurrently races several rotations of one refresh token:
// exactly one may win, and only the winner's tokens may be stored.
func testRotateConcurrently(t *testing.T, e *env) {
	s := e.store
	a, r := e.tokenPair("0", "s1", Base)
	noErr(t, s.CreateTokens(e.ctx, a, r))
	const n = 8
	errs := make([]error, n)
	news := make([][2]*switchboard.Token, n)
	for i := range n {
		na, nr := e.tokenPair(fmt.Sprint("new", i), "s1", Base)
		news[i] = [2]*switchboard.Token{na, nr}
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = s.RotateRefreshToken(e.ctx, r.Hash, Base, news[i][0], news[i][1])
		})
	}
	close(start)
	wg.Wait()
	winners := 0
	for i := range n {
		stored := e.tokenExists(t, news[i][0].Hash, Base)
		if stored != e.tokenExists(t, news[i][1].Hash, Base) {
			t.Fatalf("rotation %d stored half its tokens", i)
		}
		switch {
		case errs[i] == nil:
			winners++
			if !stored {
				t.Fatalf("rotation %d succeeded but its tokens are missing", i)
			}
		case isNotFound(errs[i]):
			if stored {
				t.Fatalf("rotation %d failed but its tokens are stored", i)
			}
		default:
			t.Fatalf("rotation %d: %v", i, errs[i])
		}
	}
	if winners != 1 {
		t.Fatalf("%d rotations of one refresh token succeeded, want exactly 1", winners)
	}
}

func testAccessPrincipal(t *testing.T, e *env) {
	s := e.store
	a, r := e.tokenPair("p", "sp", Base)
	noErr(t, s.CreateTokens(e.ctx, a, r))
	p := must(s.AccessPrincipal(e.ctx, a.Hash, switchboard.TokenAccess, Base))(t)
	want := &switchboard.Principal{AccountID: e.acc1.ID, ExtensionID: e.ext1.ID, AppID: 7, SessionID: "sp",
		Scopes: []string{"ReadMessages", "SMS"}, Admin: e.ext1.Admin}
	wantEqual(t, p, want, "principal")

	for _, tc := range []struct {
		name string
		hash string
		now  time.Time
	}{
		{"refresh token", r.Hash, Base},
		{"unknown", "nope", Base},
		{"expired", a.Hash, a.Expires},
	} {
		_, err := s.AccessPrincipal(e.ctx, tc.hash, switchboard.TokenAccess, tc.now)
		wantIs(t, err, switchboard.ErrNotFound, tc.name)
	}
	// A token answers only for its own kind.
	_, err := s.AccessPrincipal(e.ctx, a.Hash, switchboard.TokenWebSocket, Base)
	wantIs(t, err, switchboard.ErrNotFound, "access token asked for as a WebSocket token")
	noErr(t, s.SetExtensionStatus(e.ctx, e.acc1.ID, e.ext1.ID, switchboard.StatusDisabled))
	_, err = s.AccessPrincipal(e.ctx, a.Hash, switchboard.TokenAccess, Base)
	wantIs(t, err, switchboard.ErrNotFound, "disabled extension")
	noErr(t, s.SetExtensionStatus(e.ctx, e.acc1.ID, e.ext1.ID, switchboard.StatusEnabled))
	must(s.AccessPrincipal(e.ctx, a.Hash, switchboard.TokenAccess, Base))(t)
	noErr(t, s.SetAccountStatus(e.ctx, e.acc1.ID, switchboard.StatusDisabled))
	_, err = s.AccessPrincipal(e.ctx, a.Hash, switchboard.TokenAccess, Base)
	wantIs(t, err, switchboard.ErrNotFound, "disabled account")
	noErr(t, s.SetAccountStatus(e.ctx, e.acc1.ID, switchboard.StatusEnabled))

	// A token that just authenticated (and may be remembered) is refused
	// by the very next lookup once its session is revoked.
	ws := &switchboard.Token{Hash: "p-ws", Kind: switchboard.TokenWebSocket, SessionID: "sp", AccountID: e.acc1.ID,
		ExtensionID: e.ext1.ID, Expires: Base.Add(time.Minute)}
	noErr(t, s.CreateTokens(e.ctx, ws))
	must(s.AccessPrincipal(e.ctx, a.Hash, switchboard.TokenAccess, Base))(t)
	must(s.AccessPrincipal(e.ctx, ws.Hash, switchboard.TokenWebSocket, Base))(t)
	noErr(t, s.RevokeSession(e.ctx, "sp"))
	_, err = s.AccessPrincipal(e.ctx, a.Hash, switchboard.TokenAccess, Base)
	wantIs(t, err, switchboard.ErrNotFound, "revoked access token")
	_, err = s.AccessPrincipal(e.ctx, ws.Hash, switchboard.TokenWebSocket, Base)
	wantIs(t, err, switchboard.ErrNotFound, "revoked WebSocket token")
}

func testAuthCodes(t *testing.T, e *env) {
	s := e.store
	app := &switchboard.App{ClientID: "code-client", Name: "Codes"}
	noErr(t, s.CreateApp(e.ctx, app))
	code := &switchboard.AuthCode{Hash: "code-1", AppID: app.ID, AccountID: e.acc1.ID, ExtensionID: e.ext1.ID,
		RedirectURI: "http://127.0.0.1:5000/cb", CodeChallenge: "challenge", CodeChallengeMethod: "S256", Expires: Base.Add(time.Minute)}
	noErr(t, s.CreateAuthCode(e.ctx, code))
	if !code.Created.Equal(Base) {
		t.Fatalf("CreateAuthCode did not fill Created: %+v", code)
	}
	wantIs(t, s.CreateAuthCode(e.ctx, &switchboard.AuthCode{Hash: "code-1", AppID: app.ID, AccountID: e.acc1.ID,
		ExtensionID: e.ext1.ID, Expires: Base.Add(time.Minute)}), switchboard.ErrConflict, "duplicate code")

	got, err := s.ConsumeAuthCode(e.ctx, "code-1", Base)
	noErr(t, err)
	wantEqual(t, got, code, "consumed code")
	_, err = s.ConsumeAuthCode(e.ctx, "code-1", Base)
	wantIs(t, err, switchboard.ErrNotFound, "a code redeemed twice")

	expiring := &switchboard.AuthCode{Hash: "code-2", AppID: app.ID, AccountID: e.acc1.ID, ExtensionID: e.ext1.ID,
		RedirectURI: "https://app.example/cb", Expires: Base.Add(time.Minute)}
	noErr(t, s.CreateAuthCode(e.ctx, expiring))
	_, err = s.ConsumeAuthCode(e.ctx, "code-2", expiring.Expires)
	wantIs(t, err, switchboard.ErrNotFound, "a code at its expiry")
	if n := must(s.DeleteExpiredTokens(e.ctx, expiring.Expires))(t); n != 1 {
		t.Fatalf("DeleteExpiredTokens = %d, want the expired code", n)
	}

	t.Run("redeemed once under concurrency", func(t *testing.T) {
		noErr(t, s.CreateAuthCode(e.ctx, &switchboard.AuthCode{Hash: "code-3", AppID: app.ID, AccountID: e.acc1.ID,
			ExtensionID: e.ext1.ID, RedirectURI: "https://app.example/cb", Expires: Base.Add(time.Minute)}))
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.ConsumeAuthCode(e.ctx, "code-3", Base)
				if err == nil {
					mu.Lock()
					wins++
					mu.Unlock()
				} else if !isNotFound(err) {
					t.Errorf("ConsumeAuthCode: %v", err)
				}
			}()
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("%d redemptions of one code succeeded, want 1", wins)
		}
	})
}

func testAppRedirects(t *testing.T, e *env) {
	s := e.store
	a := &switchboard.App{ClientID: "web", Name: "Web", RedirectURIs: []string{"https://app.example/cb"}}
	noErr(t, s.CreateApp(e.ctx, a))
	wantEqual(t, must(s.AppByClientID(e.ctx, "web"))(t), a, "app with a redirect URI")

	noErr(t, s.SetAppRedirects(e.ctx, "web", []string{"https://app.example/a", "com.example.app:/cb"}, true))
	got := must(s.AppByClientID(e.ctx, "web"))(t)
	if !got.LoopbackRedirects || len(got.RedirectURIs) != 2 || got.RedirectURIs[1] != "com.example.app:/cb" {
		t.Fatalf("after SetAppRedirects: %+v", got)
	}
	noErr(t, s.SetAppRedirects(e.ctx, "web", nil, false))
	if got := must(s.AppByClientID(e.ctx, "web"))(t); got.LoopbackRedirects || got.RedirectURIs != nil {
		t.Fatalf("after clearing: %+v", got)
	}
	wantIs(t, s.SetAppRedirects(e.ctx, "nope", nil, false), switchboard.ErrNotFound, "unknown app")
	for _, bad := range []string{"/relative", "https://app.example/cb#frag", "http:///nohost", "https://a.example/x y"} {
		err := s.SetAppRedirects(e.ctx, "web", []string{bad}, false)
		wantCode(t, err, switchboard.CodeInvalidParameter, bad)
	}
}
