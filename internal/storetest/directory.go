package storetest

import (
	"bytes"
	"crypto/rand"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
)

func testAccounts(t *testing.T, e *env) {
	s := e.store
	e.clock.Advance(time.Minute)
	acc := must(s.CreateAccount(e.ctx, switchboard.AccountCreate{Name: "  Acme  ", MainNumber: "+1 (212) 555-0100"}))(t)
	want := &switchboard.Account{ID: acc.ID, Name: "Acme", MainNumber: "+12125550100",
		Status: switchboard.StatusEnabled, Created: Base.Add(time.Minute)}
	wantEqual(t, acc, want, "created account")
	wantEqual(t, must(s.Account(e.ctx, acc.ID))(t), want, "read account")
	wantEqual(t, must(s.AccountByMainNumber(e.ctx, "+12125550100"))(t), want, "account by main number")
	wantEqual(t, must(s.AccountByMainNumber(e.ctx, "+1 212-555-0100"))(t), want, "account by typed main number")

	noMain := must(s.CreateAccount(e.ctx, switchboard.AccountCreate{Name: "No number"}))(t)
	// Accounts without a main number do not collide with each other.
	must(s.CreateAccount(e.ctx, switchboard.AccountCreate{Name: "No number either"}))(t)
	if noMain.MainNumber != "" {
		t.Fatalf("main number %q, want empty", noMain.MainNumber)
	}

	all := must(s.Accounts(e.ctx))(t)
	if len(all) != 5 || all[0].ID != e.acc1.ID || all[2].ID != acc.ID || all[3].ID != noMain.ID {
		t.Fatalf("Accounts = %d accounts %v, want 5 oldest first", len(all), all)
	}

	t.Run("errors", func(t *testing.T) {
		_, err := s.CreateAccount(e.ctx, switchboard.AccountCreate{Name: "Dup", MainNumber: "+12125550100"})
		wantIs(t, err, switchboard.ErrConflict, "duplicate main number")
		_, err = s.CreateAccount(e.ctx, switchboard.AccountCreate{Name: " "})
		wantCode(t, err, switchboard.CodeInvalidParameter, "empty name")
		_, err = s.Account(e.ctx, 1<<40)
		wantIs(t, err, switchboard.ErrNotFound, "missing account")
		_, err = s.AccountByMainNumber(e.ctx, "+19995550100")
		wantIs(t, err, switchboard.ErrNotFound, "unknown main number")
		wantIs(t, s.SetAccountStatus(e.ctx, 1<<40, switchboard.StatusDisabled), switchboard.ErrNotFound, "status of missing account")
	})

	noErr(t, s.SetAccountStatus(e.ctx, acc.ID, switchboard.StatusDisabled))
	if got := must(s.Account(e.ctx, acc.ID))(t).Status; got != switchboard.StatusDisabled {
		t.Fatalf("status after disable = %s", got)
	}
	if got := must(s.Account(e.ctx, e.acc1.ID))(t).Status; got != switchboard.StatusEnabled {
		t.Fatalf("another account's status changed to %s", got)
	}
}

func testExtensions(t *testing.T, e *env) {
	s := e.store
	alice := must(s.CreateExtension(e.ctx, switchboard.ExtensionCreate{AccountID: e.acc1.ID, ExtensionNumber: "110",
		Name: " Alice ", Email: "Alice@Example.com", PasswordHash: "$argon2id$x", Admin: true}))(t)
	want := &switchboard.Extension{ID: alice.ID, AccountID: e.acc1.ID, ExtensionNumber: "110", Name: "Alice",
		Type: switchboard.ExtensionTypeUser, Status: switchboard.StatusEnabled, Email: "alice@example.com",
		PasswordHash: "$argon2id$x", Admin: true, Created: Base}
	wantEqual(t, alice, want, "created extension")
	wantEqual(t, must(s.Extension(e.ctx, e.acc1.ID, alice.ID))(t), want, "read extension")
	wantEqual(t, must(s.ExtensionByNumber(e.ctx, e.acc1.ID, "110"))(t), want, "extension by number")
	wantEqual(t, must(s.ExtensionByEmail(e.ctx, "ALICE@example.COM"))(t), want, "extension by email in another case")

	dept := must(s.CreateExtension(e.ctx, switchboard.ExtensionCreate{AccountID: e.acc1.ID, ExtensionNumber: "120",
		Name: "Support", Type: switchboard.ExtensionTypeDepartment}))(t)
	// The same number in another account is a different extension.
	other := must(s.CreateExtension(e.ctx, switchboard.ExtensionCreate{AccountID: e.acc2.ID, ExtensionNumber: "110", Name: "Other"}))(t)
	if got := must(s.ExtensionByNumber(e.ctx, e.acc2.ID, "110"))(t); got.ID != other.ID {
		t.Fatalf("ExtensionByNumber(acc2, 110) = %d, want %d", got.ID, other.ID)
	}

	t.Run("conflicts", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			c    switchboard.ExtensionCreate
		}{
			{"extension number", switchboard.ExtensionCreate{AccountID: e.acc1.ID, ExtensionNumber: "110", Name: "Dup"}},
			{"email in another case and account", switchboard.ExtensionCreate{AccountID: e.acc2.ID, ExtensionNumber: "130", Name: "Dup", Email: "ALICE@example.com"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := s.CreateExtension(e.ctx, tc.c)
				wantIs(t, err, switchboard.ErrConflict, "create")
			})
		}
	})

	t.Run("not found", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			err  error
		}{
			{"extension of another account", second(s.Extension(e.ctx, e.acc2.ID, alice.ID))},
			{"missing extension", second(s.Extension(e.ctx, e.acc1.ID, 1<<40))},
			{"number in another account", second(s.ExtensionByNumber(e.ctx, e.acc2.ID, "120"))},
			{"unknown email", second(s.ExtensionByEmail(e.ctx, "nobody@example.com"))},
			{"empty email", second(s.ExtensionByEmail(e.ctx, ""))},
			{"status of another account's extension", s.SetExtensionStatus(e.ctx, e.acc2.ID, alice.ID, switchboard.StatusDisabled)},
			{"status of missing extension", s.SetExtensionStatus(e.ctx, e.acc1.ID, 1<<40, switchboard.StatusDisabled)},
			{"password of another account's extension", s.SetExtensionPassword(e.ctx, e.acc2.ID, alice.ID, "x")},
			{"extension of missing account", second(s.CreateExtension(e.ctx, switchboard.ExtensionCreate{AccountID: 1 << 40, ExtensionNumber: "1", Name: "x"}))},
		} {
			t.Run(tc.name, func(t *testing.T) { wantIs(t, tc.err, switchboard.ErrNotFound, tc.name) })
		}
		// The failed attempts changed nothing.
		wantEqual(t, must(s.Extension(e.ctx, e.acc1.ID, alice.ID))(t), want, "extension after foreign attempts")
	})

	t.Run("invalid", func(t *testing.T) {
		_, err := s.CreateExtension(e.ctx, switchboard.ExtensionCreate{AccountID: e.acc1.ID, ExtensionNumber: "12a", Name: "x"})
		wantCode(t, err, switchboard.CodeInvalidParameter, "bad extension number")
	})

	noErr(t, s.SetExtensionStatus(e.ctx, e.acc1.ID, dept.ID, switchboard.StatusDisabled))
	noErr(t, s.SetExtensionPassword(e.ctx, e.acc1.ID, alice.ID, "$argon2id$y"))
	if got := must(s.Extension(e.ctx, e.acc1.ID, alice.ID))(t).PasswordHash; got != "$argon2id$y" {
		t.Fatalf("password hash = %q", got)
	}

	// acc1 holds, in creation order: ext1 (101), ext2 (102), alice (110), dept (120).
	ids := func(xs []*switchboard.Extension) []int64 {
		out := []int64{}
		for _, x := range xs {
			out = append(out, x.ID)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    switchboard.ExtensionFilter
		want []int64
	}{
		{"all", switchboard.ExtensionFilter{}, []int64{e.ext1.ID, e.ext2.ID, alice.ID, dept.ID}},
		{"number", switchboard.ExtensionFilter{ExtensionNumber: "110"}, []int64{alice.ID}},
		{"types", switchboard.ExtensionFilter{Types: []string{switchboard.ExtensionTypeDepartment, switchboard.ExtensionTypeFaxUser}}, []int64{dept.ID}},
		{"statuses", switchboard.ExtensionFilter{Statuses: []string{switchboard.StatusEnabled}}, []int64{e.ext1.ID, e.ext2.ID, alice.ID}},
		{"offset and limit", switchboard.ExtensionFilter{Offset: 1, Limit: 2}, []int64{e.ext2.ID, alice.ID}},
		{"offset past the end", switchboard.ExtensionFilter{Offset: 4}, []int64{}},
	} {
		t.Run("filter "+tc.name, func(t *testing.T) {
			tc.f.AccountID = e.acc1.ID
			wantEqual(t, ids(must(s.Extensions(e.ctx, tc.f))(t)), tc.want, "ids")
		})
	}
}

func second[T any](_ T, err error) error { return err }

func testPhoneNumbers(t *testing.T, e *env) {
	s := e.store
	// newEnv gave ext1, ext2 and ext3 one number each.
	company := must(s.CreatePhoneNumber(e.ctx, switchboard.PhoneNumberCreate{AccountID: e.acc1.ID,
		PhoneNumber: "+1 650 555 0199", Features: []string{switchboard.FeatureCallerID, switchboard.FeatureSmsSender}}))(t)
	want := &switchboard.PhoneNumber{ID: company.ID, AccountID: e.acc1.ID, PhoneNumber: "+16505550199",
		Type: "VoiceFax", UsageType: "CompanyNumber",
		Features: []string{switchboard.FeatureCallerID, switchboard.FeatureSmsSender}, Status: "Normal", Created: Base}
	wantEqual(t, company, want, "created company number")
	wantEqual(t, must(s.PhoneNumberByNumber(e.ctx, "+16505550199"))(t), want, "number by number")
	wantEqual(t, must(s.PhoneNumberByNumber(e.ctx, "+1 (650) 555-0199"))(t), want, "number by typed number")
	many := must(s.PhoneNumbersByNumber(e.ctx, []string{"+16505550199", "+1 (650) 555-0199", own1, "+14085550155"}))(t)
	if len(many) != 3 || many[own1] == nil || many[own1].ExtensionID != e.ext1.ID || many["+14085550155"] != nil {
		t.Fatalf("numbers by number: %+v", many)
	}
	wantEqual(t, many["+16505550199"], want, "numbers by number")
	wantEqual(t, many["+1 (650) 555-0199"], want, "numbers by typed number")

	direct := must(s.PhoneNumberByNumber(e.ctx, own1))(t)
	if direct.ExtensionID != e.ext1.ID || direct.AccountID != e.acc1.ID || direct.UsageType != "DirectNumber" {
		t.Fatalf("direct number = %+v", direct)
	}
	bare := must(s.CreatePhoneNumber(e.ctx, switchboard.PhoneNumberCreate{AccountID: e.acc2.ID, PhoneNumber: "+14085550177"}))(t)
	if bare.Features != nil {
		t.Fatalf("features of a number created without any = %#v, want nil", bare.Features)
	}

	numbers := func(ns []*switchboard.PhoneNumber) []string {
		out := []string{}
		for _, n := range ns {
			out = append(out, n.PhoneNumber)
		}
		return out
	}
	wantEqual(t, numbers(must(s.PhoneNumbers(e.ctx, e.acc1.ID, 0))(t)), []string{own1, own2, "+16505550199"}, "numbers of acc1")
	wantEqual(t, numbers(must(s.PhoneNumbers(e.ctx, e.acc1.ID, e.ext2.ID))(t)), []string{own2}, "numbers of ext2")
	wantEqual(t, numbers(must(s.PhoneNumbers(e.ctx, e.acc2.ID, e.ext1.ID))(t)), []string{}, "numbers of ext1 through acc2")

	_, err := s.CreatePhoneNumber(e.ctx, switchboard.PhoneNumberCreate{AccountID: e.acc2.ID, PhoneNumber: own1})
	wantIs(t, err, switchboard.ErrConflict, "number taken by another account")
	_, err = s.CreatePhoneNumber(e.ctx, switchboard.PhoneNumberCreate{AccountID: e.acc2.ID, ExtensionID: e.ext1.ID, PhoneNumber: "+14085550155"})
	wantIs(t, err, switchboard.ErrNotFound, "number for another account's extension")
	_, err = s.CreatePhoneNumber(e.ctx, switchboard.PhoneNumberCreate{AccountID: 1 << 40, PhoneNumber: "+14085550156"})
	wantIs(t, err, switchboard.ErrNotFound, "number for a missing account")
	_, err = s.PhoneNumberByNumber(e.ctx, "+14085550155")
	wantIs(t, err, switchboard.ErrNotFound, "the refused number")
	_, err = s.CreatePhoneNumber(e.ctx, switchboard.PhoneNumberCreate{AccountID: e.acc1.ID, PhoneNumber: "555-0100"})
	wantCode(t, err, switchboard.CodeInvalidParameter, "number not in E.164")

	noErr(t, s.SetPhoneNumberStatus(e.ctx, e.acc1.ID, "+16505550199", "Disabled"))
	if got := must(s.PhoneNumberByNumber(e.ctx, "+16505550199"))(t).Status; got != "Disabled" {
		t.Fatalf("status = %s", got)
	}
	wantIs(t, s.SetPhoneNumberStatus(e.ctx, e.acc2.ID, own1, "Disabled"), switchboard.ErrNotFound, "status through another account")
	if got := must(s.PhoneNumberByNumber(e.ctx, own1))(t).Status; got != "Normal" {
		t.Fatalf("status changed through another account: %s", got)
	}
}

func testApps(t *testing.T, e *env) {
	s := e.store
	a := &switchboard.App{ClientID: "client-1", SecretHash: "abc", Name: "One", Scopes: []string{"ReadMessages", "SMS"}}
	noErr(t, s.CreateApp(e.ctx, a))
	if a.ID == 0 || a.Status != switchboard.StatusEnabled || !a.Created.Equal(Base) {
		t.Fatalf("CreateApp did not fill ID, Status and Created: %+v", a)
	}
	wantEqual(t, must(s.AppByClientID(e.ctx, "client-1"))(t), a, "app by client id")
	e.clock.Advance(time.Second)
	pub := &switchboard.App{ClientID: "client-2", Name: "Public", Status: switchboard.StatusDisabled}
	noErr(t, s.CreateApp(e.ctx, pub))
	if got := must(s.AppByClientID(e.ctx, "client-2"))(t); got.Scopes != nil || got.SecretHash != "" || got.Status != switchboard.StatusDisabled {
		t.Fatalf("public app = %+v", got)
	}
	wantEqual(t, must(s.Apps(e.ctx))(t), []*switchboard.App{a, pub}, "apps")

	wantIs(t, s.CreateApp(e.ctx, &switchboard.App{ClientID: "client-1", Name: "Dup"}), switchboard.ErrConflict, "duplicate client id")
	_, err := s.AppByClientID(e.ctx, "client-3")
	wantIs(t, err, switchboard.ErrNotFound, "unknown client id")
	wantIs(t, s.SetAppStatus(e.ctx, "client-3", switchboard.StatusDisabled), switchboard.ErrNotFound, "status of unknown app")
	noErr(t, s.SetAppStatus(e.ctx, "client-1", switchboard.StatusDisabled))
	if got := must(s.AppByClientID(e.ctx, "client-1"))(t).Status; got != switchboard.StatusDisabled {
		t.Fatalf("status = %s", got)
	}
}

func testJWTCredentials(t *testing.T, e *env) {
	s := e.store
	forever := &switchboard.JWTCredential{ID: "jti-1", AccountID: e.acc1.ID, ExtensionID: e.ext1.ID, Name: "ci"}
	noErr(t, s.CreateJWTCredential(e.ctx, forever))
	if forever.Status != switchboard.StatusEnabled || !forever.Created.Equal(Base) || !forever.Expires.IsZero() {
		t.Fatalf("CreateJWTCredential did not fill defaults: %+v", forever)
	}
	wantEqual(t, must(s.JWTCredential(e.ctx, "jti-1"))(t), forever, "credential without expiry")

	e.clock.Advance(time.Hour)
	expiring := &switchboard.JWTCredential{ID: "jti-2", AccountID: e.acc1.ID, ExtensionID: e.ext2.ID, Name: "laptop",
		Expires: Base.Add(365 * 24 * time.Hour)}
	noErr(t, s.CreateJWTCredential(e.ctx, expiring))
	foreign := &switchboard.JWTCredential{ID: "jti-3", AccountID: e.acc2.ID, ExtensionID: e.ext3.ID, Name: "other"}
	noErr(t, s.CreateJWTCredential(e.ctx, foreign))
	wantEqual(t, must(s.JWTCredential(e.ctx, "jti-2"))(t), expiring, "credential with expiry")
	wantEqual(t, must(s.JWTCredentials(e.ctx, e.acc1.ID))(t), []*switchboard.JWTCredential{forever, expiring}, "credentials of acc1")

	wantIs(t, s.CreateJWTCredential(e.ctx, &switchboard.JWTCredential{ID: "jti-1", AccountID: e.acc1.ID, ExtensionID: e.ext1.ID}),
		switchboard.ErrConflict, "duplicate id")
	wantIs(t, s.CreateJWTCredential(e.ctx, &switchboard.JWTCredential{ID: "jti-4", AccountID: e.acc2.ID, ExtensionID: e.ext1.ID}),
		switchboard.ErrNotFound, "credential for another account's extension")
	_, err := s.JWTCredential(e.ctx, "jti-4")
	wantIs(t, err, switchboard.ErrNotFound, "unknown credential")
	wantIs(t, s.SetJWTCredentialStatus(e.ctx, "jti-4", switchboard.StatusDisabled), switchboard.ErrNotFound, "status of unknown credential")
	noErr(t, s.SetJWTCredentialStatus(e.ctx, "jti-1", switchboard.StatusDisabled))
	if got := must(s.JWTCredential(e.ctx, "jti-1"))(t).Status; got != switchboard.StatusDisabled {
		t.Fatalf("status = %s", got)
	}
}

func testAdminTokens(t *testing.T, e *env) {
	s := e.store
	a := &switchboard.AdminToken{Name: "ops", Hash: "hash-1"}
	noErr(t, s.CreateAdminToken(e.ctx, a))
	if a.ID == 0 || a.Status != switchboard.StatusEnabled || !a.Created.Equal(Base) {
		t.Fatalf("CreateAdminToken did not fill ID, Status and Created: %+v", a)
	}
	b := &switchboard.AdminToken{Name: "ci", Hash: "hash-2", Status: switchboard.StatusEnabled}
	noErr(t, s.CreateAdminToken(e.ctx, b))
	wantEqual(t, must(s.AdminTokenByHash(e.ctx, "hash-2"))(t), b, "token by hash")
	wantEqual(t, must(s.AdminTokens(e.ctx))(t), []*switchboard.AdminToken{a, b}, "tokens")
	wantIs(t, s.CreateAdminToken(e.ctx, &switchboard.AdminToken{Name: "dup", Hash: "hash-1"}), switchboard.ErrConflict, "duplicate hash")
	_, err := s.AdminTokenByHash(e.ctx, "hash-3")
	wantIs(t, err, switchboard.ErrNotFound, "unknown hash")
	wantIs(t, s.SetAdminTokenStatus(e.ctx, 1<<40, switchboard.StatusDisabled), switchboard.ErrNotFound, "status of unknown token")
	must(s.AdminTokenByHash(e.ctx, "hash-1"))(t) // looked up (and perhaps remembered) before it is disabled
	noErr(t, s.SetAdminTokenStatus(e.ctx, a.ID, switchboard.StatusDisabled))
	if got := must(s.AdminTokenByHash(e.ctx, "hash-1"))(t).Status; got != switchboard.StatusDisabled {
		t.Fatalf("status = %s", got)
	}
}

func testSecret(t *testing.T, e *env) {
	s := e.store
	random := func() ([]byte, error) { return []byte(rand.Text()), nil }

	first := must(s.Secret(e.ctx, "jwt", random))(t)
	var calls atomic.Int32
	again := must(s.Secret(e.ctx, "jwt", func() ([]byte, error) { calls.Add(1); return []byte("other"), nil }))(t)
	if !bytes.Equal(first, again) || len(first) == 0 {
		t.Fatalf("second call returned %q, first %q", again, first)
	}
	if calls.Load() != 0 {
		t.Fatalf("generate called %d times for an existing secret", calls.Load())
	}
	if other := must(s.Secret(e.ctx, "other", random))(t); bytes.Equal(other, first) {
		t.Fatal("two names share one secret")
	}

	boom := errors.New("no entropy")
	_, err := s.Secret(e.ctx, "failing", func() ([]byte, error) { return nil, boom })
	wantIs(t, err, boom, "generator error")
	if got := must(s.Secret(e.ctx, "failing", func() ([]byte, error) { return []byte("later"), nil }))(t); string(got) != "later" {
		t.Fatalf("a failed generation stored %q", got)
	}

	// A secret moved out of the database is deleted; the next use makes
	// a new one; deleting one that is not there is not an error.
	noErr(t, s.DeleteSecret(e.ctx, "jwt"))
	if got := must(s.Secret(e.ctx, "jwt", func() ([]byte, error) { return []byte("new"), nil }))(t); string(got) != "new" {
		t.Fatalf("after DeleteSecret: %q", got)
	}
	noErr(t, s.DeleteSecret(e.ctx, "never-made"))
	if got := must(s.Secret(e.ctx, "other", random))(t); len(got) == 0 {
		t.Fatal("deleting one secret touched another")
	}

	// Concurrent first uses: every caller generates its own candidate, but
	// all of them must come back with the one value that was stored.
	const n = 8
	got := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			got[i], errs[i] = s.Secret(e.ctx, "race", random)
		})
	}
	close(start)
	wg.Wait()
	for i := range n {
		noErr(t, errs[i])
		if !bytes.Equal(got[i], got[0]) {
			t.Fatalf("caller %d got %q, caller 0 got %q", i, got[i], got[0])
		}
	}
	if stored := must(s.Secret(e.ctx, "race", random))(t); !bytes.Equal(stored, got[0]) {
		t.Fatalf("stored %q, callers got %q", stored, got[0])
	}
}

// testDirectoryEpoch: every change of an extension, a phone number or a
// department's members changes the directory epoch, a failed change or a
// write elsewhere (messages, accounts' other data) does not, and it never
// goes back.
func testDirectoryEpoch(t *testing.T, e *env) {
	s := e.store
	last := must(s.DirectoryEpoch(e.ctx))(t)
	changes := func(what string, fn func() error) {
		t.Helper()
		noErr(t, fn())
		v := must(s.DirectoryEpoch(e.ctx))(t)
		if v <= last {
			t.Fatalf("%s: directory epoch %d, was %d", what, v, last)
		}
		last = v
	}
	same := func(what string, fn func() error) {
		t.Helper()
		_ = fn()
		if v := must(s.DirectoryEpoch(e.ctx))(t); v != last {
			t.Fatalf("%s: directory epoch %d, was %d", what, v, last)
		}
	}
	var dept *switchboard.Extension
	changes("extension created", func() error {
		var err error
		dept, err = s.CreateExtension(e.ctx, switchboard.ExtensionCreate{AccountID: e.acc1.ID, ExtensionNumber: "950", Name: "Sales", Type: switchboard.ExtensionTypeDepartment})
		return err
	})
	changes("extension disabled", func() error { return s.SetExtensionStatus(e.ctx, e.acc1.ID, dept.ID, switchboard.StatusDisabled) })
	changes("password set", func() error { return s.SetExtensionPassword(e.ctx, e.acc1.ID, e.ext2.ID, "hash") })
	changes("number added", func() error {
		_, err := s.CreatePhoneNumber(e.ctx, switchboard.PhoneNumberCreate{AccountID: e.acc1.ID, ExtensionID: e.ext2.ID, PhoneNumber: "+16505550999"})
		return err
	})
	changes("number disabled", func() error {
		return s.SetPhoneNumberStatus(e.ctx, e.acc1.ID, "+16505550999", switchboard.StatusDisabled)
	})
	changes("department member added", func() error { return s.AddDepartmentMember(e.ctx, e.acc1.ID, dept.ID, e.ext2.ID) })

	same("a message stored", func() error {
		_, err := s.CreateMessage(e.ctx, sms(mb(e.ext1), switchboard.Inbound, own2, []string{own1}, "hello"))
		return err
	})
	same("an extension number taken twice", func() error {
		_, err := s.CreateExtension(e.ctx, switchboard.ExtensionCreate{AccountID: e.acc1.ID, ExtensionNumber: "950", Name: "Again"})
		return err
	})
}
