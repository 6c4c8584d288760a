package webui_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/auth"
	"github.com/switchboardhq/switchboard/internal/httpapi"
	"github.com/switchboardhq/switchboard/internal/sqlstore"
	"github.com/switchboardhq/switchboard/internal/webui"
)

// env is the real API with the UI mounted, over a SQLite file, on loopback.
type env struct {
	t          *testing.T
	srv        *httptest.Server
	store      *sqlstore.DB
	ui         *webui.UI
	clock      *switchboard.ManualClock
	adminToken string
	acc1, acc2 *switchboard.Account
	alice, bob *switchboard.Extension // acc1: administrator, user
	carol      *switchboard.Extension // acc2
}

const password = "correct-horse-battery"

func newEnv(t *testing.T) *env {
	ctx := context.Background()
	clock := switchboard.NewManualClock(func() time.Time { return time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC) })
	store, err := sqlstore.OpenSQLite(ctx, filepath.Join(t.TempDir(), "ui.db"), clock, sqlstore.SQLiteOptions{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	authService := auth.NewService(store, clock, auth.Config{})
	if err := webui.EnsureApp(ctx, store, "switchboard-web"); err != nil {
		t.Fatal(err)
	}
	if err := webui.EnsureApp(ctx, store, "switchboard-web"); err != nil {
		t.Fatalf("EnsureApp is not idempotent: %v", err)
	}
	ui := webui.New(store, authService, clock, logger, webui.Config{ClientID: "switchboard-web", EventsBackstop: 50 * time.Millisecond})
	e := &env{t: t, store: store, clock: clock, ui: ui}
	e.srv = httptest.NewServer(httpapi.New(httpapi.Deps{Store: store, Auth: authService, Clock: clock, Logger: logger, UI: ui}, httpapi.Config{}))
	t.Cleanup(e.srv.Close)

	text, hash := auth.NewOpaqueToken()
	check(t, store.CreateAdminToken(ctx, &switchboard.AdminToken{Name: "t", Hash: hash, Status: switchboard.StatusEnabled}))
	e.adminToken = text
	e.acc1 = val(store.CreateAccount(ctx, switchboard.AccountCreate{Name: "One", MainNumber: "+16505550100"}))(t)
	e.acc2 = val(store.CreateAccount(ctx, switchboard.AccountCreate{Name: "Two", MainNumber: "+14155550100"}))(t)
	e.alice = e.user(e.acc1, "101", "+16505550101", true)
	e.bob = e.user(e.acc1, "102", "+16505550102", false)
	e.carol = e.user(e.acc2, "101", "+14155550101", true)
	return e
}

func (e *env) user(acc *switchboard.Account, number, phone string, admin bool) *switchboard.Extension {
	ctx := context.Background()
	hash, err := auth.HashPassword(password)
	check(e.t, err)
	x := val(e.store.CreateExtension(ctx, switchboard.ExtensionCreate{AccountID: acc.ID, ExtensionNumber: number,
		Name: "User " + number, PasswordHash: hash, Admin: admin}))(e.t)
	val(e.store.CreatePhoneNumber(ctx, switchboard.PhoneNumberCreate{AccountID: acc.ID, ExtensionID: x.ID, PhoneNumber: phone,
		Features: []string{switchboard.FeatureSmsSender}}))(e.t)
	return x
}

func check(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func val[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		check(t, err)
		return v
	}
}

// browser is a client with a cookie jar, as a browser tab.
type browser struct {
	e    *env
	c    *http.Client
	csrf string
}

func (e *env) browser() *browser {
	jar, err := cookiejar.New(nil)
	check(e.t, err)
	return &browser{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("not JSON (%d): %s", r.status, r.body)
	}
	return m
}

func (b *browser) do(method, path, body string, header ...string) reply {
	b.e.t.Helper()
	req, err := http.NewRequest(method, b.e.srv.URL+path, strings.NewReader(body))
	check(b.e.t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := b.c.Do(req)
	check(b.e.t, err)
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	check(b.e.t, err)
	return reply{res.StatusCode, res.Header, data}
}

func (b *browser) signIn(username string) reply {
	b.e.t.Helper()
	r := b.do("POST", "/ui/session", `{"username":"`+username+`","password":"`+password+`"}`)
	if r.status == http.StatusOK {
		b.csrf = r.json(b.e.t)["csrf"].(string)
	}
	return r
}

func TestSessionIsAnOrdinaryTokenWithCSRF(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	r := b.signIn("+16505550102")
	if r.status != http.StatusOK {
		t.Fatalf("sign-in: %d %s", r.status, r.body)
	}
	var session *http.Cookie
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == auth.SessionCookie {
			session = c
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Path != "/" {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/", session)
	}
	if strings.Contains(string(r.body), session.Value) {
		t.Fatal("the sign-in answer shows the token to the page")
	}

	const me = "/restapi/v1.0/account/~/extension/~"
	tests := []struct {
		name   string
		path   string
		header []string
		want   int
	}{
		{"cookie without CSRF token", me, nil, http.StatusUnauthorized},
		{"cookie with a wrong CSRF token", me, []string{auth.CSRFHeader, "forged"}, http.StatusUnauthorized},
		{"cookie with the CSRF header", me, []string{auth.CSRFHeader, b.csrf}, http.StatusOK},
		{"cookie with the csrf parameter (media links)", me + "?csrf=" + url.QueryEscape(b.csrf), nil, http.StatusOK},
		{"another extension's mailbox", "/restapi/v1.0/account/~/extension/" + strconv.FormatInt(e.alice.ID, 10) + "/message-store", []string{auth.CSRFHeader, b.csrf}, http.StatusForbidden},
		{"another account", "/restapi/v1.0/account/" + strconv.FormatInt(e.acc2.ID, 10), []string{auth.CSRFHeader, b.csrf}, http.StatusNotFound},
		{"the admin API", "/switchboard/v1/apps", []string{auth.CSRFHeader, b.csrf}, http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := b.do("GET", tc.path, "", tc.header...); got.status != tc.want {
				t.Fatalf("GET %s = %d, want %d: %s", tc.path, got.status, tc.want, got.body)
			}
		})
	}

	// Another origin cannot learn the CSRF token: /ui/session answers it
	// nothing, and the UI's answers carry no CORS permission.
	for _, origin := range []string{"http://evil.example", "http://127.0.0.1:1"} {
		r := b.do("GET", "/ui/session", "", "Origin", origin)
		if r.status != http.StatusForbidden || strings.Contains(string(r.body), b.csrf) || r.header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("GET /ui/session from %s: %d %v %s", origin, r.status, r.header, r.body)
		}
	}
	if r := b.do("GET", "/ui/session", "", "Sec-Fetch-Site", "cross-site"); r.status != http.StatusForbidden {
		t.Fatalf("GET /ui/session cross-site: %d", r.status)
	}

	// Another origin's script cannot send the CSRF header: CORS does not
	// allow it, so the browser refuses before the request is made.
	pre := b.do("OPTIONS", me, "", "Origin", "http://evil.example", "Access-Control-Request-Method", "GET",
		"Access-Control-Request-Headers", strings.ToLower(auth.CSRFHeader))
	if strings.Contains(strings.ToLower(pre.header.Get("Access-Control-Allow-Headers")), strings.ToLower(auth.CSRFHeader)) {
		t.Fatalf("CORS lets other origins send %s: %v", auth.CSRFHeader, pre.header)
	}

	// Sign-out revokes the token itself, not just the cookie.
	if r := b.do("DELETE", "/ui/session", ""); r.status != http.StatusNoContent {
		t.Fatalf("sign-out: %d %s", r.status, r.body)
	}
	stolen := e.browser()
	if r := stolen.do("GET", me, "", "Authorization", "Bearer "+session.Value); r.status != http.StatusUnauthorized {
		t.Fatalf("the token of an ended session still works: %d", r.status)
	}
	if got := b.do("GET", "/ui/session", "").json(t)["kind"]; got != "" && got != nil {
		t.Fatalf("after sign-out the session is %v", got)
	}
}

func TestSignInErrors(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name   string
		body   string
		header []string
		want   int
		msg    string
	}{
		{"wrong password", `{"username":"+16505550101","password":"nope-nope-nope"}`, nil, http.StatusBadRequest, "Wrong user name or password"},
		{"unknown user", `{"username":"+19995550000","password":"nope-nope-nope"}`, nil, http.StatusBadRequest, "Wrong user name or password"},
		{"not JSON", `username=a`, nil, http.StatusBadRequest, "as JSON"},
		{"wrong admin token", `{"adminToken":"nope"}`, nil, http.StatusUnauthorized, "admin token"},
		{"from another site", `{"username":"+16505550101","password":"` + password + `"}`, []string{"Origin", "http://evil.example"}, http.StatusForbidden, "own page"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.browser().do("POST", "/ui/session", tc.body, tc.header...)
			if r.status != tc.want {
				t.Fatalf("status %d, want %d: %s", r.status, tc.want, r.body)
			}
			if m := r.json(t); !strings.Contains(m["message"].(string), tc.msg) || m["errorCode"] == "" {
				t.Fatalf("body %s: want errorCode and a message with %q", r.body, tc.msg)
			}
			if r.header.Get("Set-Cookie") != "" {
				t.Fatal("a failed sign-in set a cookie")
			}
		})
	}
}

func TestAdminSession(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	r := b.do("POST", "/ui/session", `{"adminToken":"`+e.adminToken+`"}`)
	if r.status != http.StatusOK || r.json(t)["kind"] != "admin" {
		t.Fatalf("admin sign-in: %d %s", r.status, r.body)
	}
	b.csrf = r.json(t)["csrf"].(string)
	if r := b.do("GET", "/switchboard/v1/apps", "", auth.CSRFHeader, b.csrf); r.status != http.StatusOK {
		t.Fatalf("admin API with the console session: %d %s", r.status, r.body)
	}
	if r := b.do("GET", "/switchboard/v1/apps", ""); r.status != http.StatusUnauthorized {
		t.Fatalf("admin API without the CSRF token: %d", r.status)
	}
	// The admin token is no user token: it opens no mailbox of the RingCentral API.
	if r := b.do("GET", "/restapi/v1.0/account/~/extension/~/message-store", "", auth.CSRFHeader, b.csrf); r.status != http.StatusUnauthorized {
		t.Fatalf("message-store with an admin session: %d", r.status)
	}
}

// event reads one server-sent event.
func event(t *testing.T, rd *bufio.Reader) (name, data string) {
	t.Helper()
	for {
		line, err := rd.ReadString('\n')
		if err != nil {
			t.Fatalf("reading events: %v", err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "" && name != "":
			return name, data
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = strings.TrimPrefix(line, "data: ")
		}
	}
}

func TestEventsFollowTheChangeLog(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn("+16505550102") // bob
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.srv.URL+"/ui/events?csrf="+url.QueryEscape(b.csrf), nil)
	res, err := b.c.Do(req)
	check(t, err)
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream" {
		body, _ := io.ReadAll(res.Body)
		t.Fatalf("events: %d %s", res.StatusCode, body)
	}
	rd := bufio.NewReader(res.Body)
	if name, _ := event(t, rd); name != "ready" {
		t.Fatalf("first event %q, want ready", name)
	}

	// A message for alice is not bob's business; one for bob is.
	for _, x := range []*switchboard.Extension{e.alice, e.bob} {
		_, err := e.store.CreateMessages(context.Background(), []switchboard.MessageCreate{{AccountID: e.acc1.ID, ExtensionID: x.ID,
			Type: switchboard.TypeSMS, Direction: switchboard.Inbound, Subject: "hi",
			From: switchboard.Party{PhoneNumber: "+14155550001"}, To: []switchboard.Party{{PhoneNumber: "+16505550102"}}}})
		check(t, err)
	}
	name, data := event(t, rd)
	if name != "change" {
		t.Fatalf("event %q, want change", name)
	}
	var got struct{ MessageIDs []string }
	check(t, json.Unmarshal([]byte(data), &got))
	list := val(e.store.ListMessages(context.Background(), switchboard.MessageFilter{AccountID: e.acc1.ID, ExtensionID: e.bob.ID, Limit: 10}))(t)
	if len(got.MessageIDs) != 1 || len(list.Messages) != 1 || got.MessageIDs[0] != strconv.FormatInt(list.Messages[0].ID, 10) {
		t.Fatalf("change event %s, want bob's one message %+v", data, list.Messages)
	}

	// Bob may not follow alice's mailbox; without the CSRF token, nobody's.
	if r := b.do("GET", "/ui/events?csrf="+url.QueryEscape(b.csrf)+"&extensionId="+strconv.FormatInt(e.alice.ID, 10), ""); r.status != http.StatusForbidden {
		t.Fatalf("bob following alice: %d %s", r.status, r.body)
	}
	if r := b.do("GET", "/ui/events", ""); r.status != http.StatusUnauthorized {
		t.Fatalf("events without the CSRF token: %d %s", r.status, r.body)
	}
}

func TestPagesAndBadInput(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	r := b.do("GET", "/", "")
	if r.status != http.StatusOK || !strings.Contains(string(r.body), `<script src="/ui/assets/app.js"`) {
		t.Fatalf("GET / = %d %s", r.status, r.body)
	}
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Fatalf("CSP %q", csp)
	}
	for _, asset := range []string{"/ui/assets/app.js", "/ui/assets/app.css"} {
		if r := b.do("GET", asset, ""); r.status != http.StatusOK || len(r.body) < 1000 {
			t.Fatalf("GET %s = %d (%d bytes)", asset, r.status, len(r.body))
		}
	}
	// A wrong authorization request is a page that says what is wrong.
	for _, q := range []string{"", "client_id=nope&redirect_uri=http://127.0.0.1:1/cb", "client_id=switchboard-web&redirect_uri=%zz"} {
		r := b.do("GET", "/restapi/oauth/authorize?"+q, "")
		if r.status != http.StatusBadRequest || !strings.Contains(r.header.Get("Content-Type"), "text/html") || !strings.Contains(string(r.body), `role="alert"`) {
			t.Fatalf("authorize?%s = %d %s", q, r.status, r.body)
		}
	}
	if r := b.do("GET", "/ui/nope", ""); r.status != http.StatusNotFound || r.json(t)["errorCode"] != "CMN-120" {
		t.Fatalf("GET /ui/nope = %d %s", r.status, r.body)
	}
	if r := b.do("GET", "/nope", ""); r.status != http.StatusNotFound {
		t.Fatalf("GET /nope = %d", r.status)
	}
}

func TestAdminOpensAnyMailbox(t *testing.T) {
	e := newEnv(t)
	open := func(b *browser, csrf, acc string, ext int64, header ...string) reply {
		return b.do("POST", "/ui/session/mailbox", `{"accountId":"`+acc+`","extensionId":"`+strconv.FormatInt(ext, 10)+`"}`,
			append([]string{auth.CSRFHeader, csrf}, header...)...)
	}
	acc2 := strconv.FormatInt(e.acc2.ID, 10)

	// A user, even an account administrator, cannot: that takes the admin token.
	user := e.browser()
	user.signIn("+16505550101")
	if r := open(user, user.csrf, acc2, e.carol.ID); r.status != http.StatusUnauthorized {
		t.Fatalf("a user opened another mailbox: %d %s", r.status, r.body)
	}

	b := e.browser()
	r := b.do("POST", "/ui/session", `{"adminToken":"`+e.adminToken+`"}`)
	adminCSRF := r.json(t)["csrf"].(string)
	for _, tc := range []struct {
		name   string
		csrf   string
		acc    string
		ext    int64
		header []string
		want   int
	}{
		{"without the CSRF token", "", acc2, e.carol.ID, nil, http.StatusUnauthorized},
		{"from another site", adminCSRF, acc2, e.carol.ID, []string{"Origin", "http://evil.example"}, http.StatusForbidden},
		{"an extension of another account", adminCSRF, strconv.FormatInt(e.acc1.ID, 10), e.carol.ID, nil, http.StatusNotFound},
		{"not an id", adminCSRF, "x", e.carol.ID, nil, http.StatusBadRequest},
	} {
		if r := open(b, tc.csrf, tc.acc, tc.ext, tc.header...); r.status != tc.want {
			t.Fatalf("%s: %d, want %d: %s", tc.name, r.status, tc.want, r.body)
		}
	}
	if r := open(b, adminCSRF, acc2, e.carol.ID); r.status != http.StatusNoContent {
		t.Fatalf("open carol's mailbox: %d %s", r.status, r.body)
	}
	s := b.do("GET", "/ui/session", "").json(t)
	if s["kind"] != "user" || s["console"] != true || s["extensionId"] != strconv.FormatInt(e.carol.ID, 10) || s["adminCsrf"] != adminCSRF {
		t.Fatalf("session after opening: %v", s)
	}
	userCSRF := s["csrf"].(string)
	// The mailbox session is carol's ordinary token: her mailbox, not account 1's.
	if r := b.do("GET", "/restapi/v1.0/account/~/extension/~/message-store", "", auth.CSRFHeader, userCSRF); r.status != http.StatusOK {
		t.Fatalf("carol's mailbox: %d %s", r.status, r.body)
	}
	if r := b.do("GET", "/restapi/v1.0/account/"+strconv.FormatInt(e.acc1.ID, 10)+"/extension/~/message-store", "", auth.CSRFHeader, userCSRF); r.status != http.StatusNotFound {
		t.Fatalf("account 1 through carol's session: %d", r.status)
	}
	// The console goes on beside it, with its own CSRF token.
	if r := b.do("GET", "/switchboard/v1/accounts", "", auth.CSRFHeader, adminCSRF); r.status != http.StatusOK {
		t.Fatalf("console beside the mailbox: %d %s", r.status, r.body)
	}
	if r := b.do("DELETE", "/ui/session/mailbox", ""); r.status != http.StatusNoContent {
		t.Fatalf("close the mailbox: %d", r.status)
	}
	if s := b.do("GET", "/ui/session", "").json(t); s["kind"] != "admin" {
		t.Fatalf("after closing the mailbox: %v", s)
	}
}

// TestSessionRenewsWithItsRefreshToken: a tab left open past the access
// token's hour gets a new one from /ui/session; the old one is dead.
func TestSessionRenewsWithItsRefreshToken(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn("+16505550102")
	const me = "/restapi/v1.0/account/~/extension/~"
	if r := b.do("GET", me, "", auth.CSRFHeader, b.csrf); r.status != http.StatusOK {
		t.Fatalf("fresh session: %d", r.status)
	}
	e.clock.Advance(61 * time.Minute)
	if r := b.do("GET", me, "", auth.CSRFHeader, b.csrf); r.status != http.StatusUnauthorized {
		t.Fatalf("an access token past its hour still works: %d", r.status)
	}
	s := b.do("GET", "/ui/session", "").json(t)
	if s["kind"] != "user" || s["csrf"] == b.csrf {
		t.Fatalf("session not renewed: %v", s)
	}
	if r := b.do("GET", me, "", auth.CSRFHeader, s["csrf"].(string)); r.status != http.StatusOK {
		t.Fatalf("renewed session: %d %s", r.status, r.body)
	}
	// Past the refresh token's week, the session is over.
	e.clock.Advance(8 * 24 * time.Hour)
	if s := b.do("GET", "/ui/session", "").json(t); s["kind"] != "" && s["kind"] != nil {
		t.Fatalf("session renewed past its refresh token: %v", s)
	}
}

// TestShutdownEndsStreams: an open live-update stream does not hold up the
// server's shutdown.
func TestShutdownEndsStreams(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn("+16505550102")
	req, _ := http.NewRequest("GET", e.srv.URL+"/ui/events?csrf="+url.QueryEscape(b.csrf), nil)
	res, err := b.c.Do(req)
	check(t, err)
	defer res.Body.Close()
	rd := bufio.NewReader(res.Body)
	if name, _ := event(t, rd); name != "ready" {
		t.Fatalf("first event %q", name)
	}
	done := make(chan error, 1)
	go func() { _, err := io.ReadAll(rd); done <- err }()
	e.ui.Shutdown()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("stream ended with %v, want a clean end", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the stream is still open after Shutdown")
	}
}
