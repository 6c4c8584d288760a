package httpapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/auth"
	"github.com/switchboardhq/switchboard/internal/carrier"
	"github.com/switchboardhq/switchboard/internal/delivery"
	"github.com/switchboardhq/switchboard/internal/faxrender"
	"github.com/switchboardhq/switchboard/internal/httpapi"
	"github.com/switchboardhq/switchboard/internal/inbound"
	"github.com/switchboardhq/switchboard/internal/push"
	"github.com/switchboardhq/switchboard/internal/ratelimit"
	"github.com/switchboardhq/switchboard/internal/retention"
	"github.com/switchboardhq/switchboard/internal/sqlstore"
)

// baseTime is the tests' fixed "now": the ManualClock starts here.
var baseTime = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

// testEnv is a real server: a SQLite file in a temp dir, the real API on a
// loopback port, and a directory of two accounts.
type testEnv struct {
	t                      testing.TB
	srv                    *httptest.Server
	store                  *sqlstore.DB
	clock                  *switchboard.ManualClock
	auth                   *auth.Service
	retention              *retention.Worker
	sim                    *carrier.Simulator
	sender                 *delivery.Worker
	renders                *faxrender.Worker
	push                   *push.Dispatcher
	clientID, clientSecret string
	adminToken             string
	acc1, acc2             *switchboard.Account
	alice, bob, dept       *switchboard.Extension // account 1: admin user, user, department
	carol                  *switchboard.Extension // account 2
	jwts                   map[int64]string
	passwords              map[int64]string
	router                 routers.Router
	limiter                *ratelimit.Limiter
}

func newTestEnv(t testing.TB) *testEnv {
	t.Helper()
	return newTestEnvConfig(t, httpapi.Config{})
}

// newTestEnvConfig is newTestEnv with a server configuration of its own.
func newTestEnvConfig(t testing.TB, config httpapi.Config) *testEnv {
	t.Helper()
	ctx := context.Background()
	clock := switchboard.NewManualClock(func() time.Time { return baseTime })
	store, err := sqlstore.OpenSQLite(ctx, filepath.Join(t.TempDir(), "test.db"), clock, sqlstore.SQLiteOptions{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	e := &testEnv{t: t, store: store, clock: clock, jwts: map[int64]string{}, passwords: map[int64]string{}}
	e.auth = auth.NewService(store, clock, auth.Config{Login: auth.LoginLimits{MaxFailures: 5, MaxClientFailures: 50, MaxLockout: 15 * time.Minute}})
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	e.retention = retention.NewWorker(store, clock, retention.Config{Defaults: switchboard.DefaultRetention()}, logger)
	// The delivery worker is not started: tests run it step by step with
	// deliver(), so every state in between can be checked.
	e.sim = carrier.NewSimulator(clock, 1)
	e.sender = delivery.NewWorker(store, e.sim, clock, delivery.Config{Owner: "test"}, logger)
	// Outbound faxes are rendered by render(), as the worker would.
	e.renders = faxrender.New(store, faxrender.Config{Owner: "test"}, logger)
	// Inbound SMS, MMS and fax come in through the simulator's listener,
	// as in serve.
	in := inbound.New(store, logger, inbound.Config{MaxAudioBytes: testMaxAudioBytes})
	listenCtx, stopListening := context.WithCancel(ctx)
	go func() { _ = e.sim.Listen(listenCtx, in) }()
	t.Cleanup(stopListening)
	// The server's address is known before it serves: event bodies give
	// their uris under it. The dispatcher is not started either: tests
	// run it with push.RunOnce.
	e.srv = httptest.NewUnstartedServer(nil)
	e.push = push.New(store, clock, logger, push.Config{Owner: "test", AllowPrivateTargets: true, SuspendAfter: time.Hour, History: 3,
		BaseURL: "http://" + e.srv.Listener.Addr().String()})
	// RingCentral's limits, counted but not enforced (as in --emulator):
	// tests that want 429s switch enforcement on.
	e.limiter, err = ratelimit.New(ratelimit.NewMemory(), clock, ratelimit.Settings{Groups: map[ratelimit.Group]ratelimit.Rule{
		ratelimit.Light: {Limit: 50, Window: time.Minute}, ratelimit.Medium: {Limit: 40, Window: time.Minute},
		ratelimit.Heavy: {Limit: 10, Window: time.Minute}, ratelimit.Auth: {Limit: 5, Window: time.Minute}}})
	must(t, err)
	e.srv.Config.Handler = httpapi.New(httpapi.Deps{Store: store, Auth: e.auth, Clock: clock, Logger: logger,
		Retention: e.retention, Emulator: clock, Carrier: e.sim,
		Inbound: in, CarrierInbound: e.sim, Push: e.push, Limiter: e.limiter}, config)
	e.srv.Start()
	t.Cleanup(e.srv.Close)

	e.clientSecret = "test-secret"
	app := &switchboard.App{ClientID: "test-client", SecretHash: auth.HashSecret(e.clientSecret), Name: "test",
		Scopes: switchboard.DefaultAppScopes, Status: switchboard.StatusEnabled}
	must(t, store.CreateApp(ctx, app))
	e.clientID = app.ClientID
	text, hash := auth.NewOpaqueToken()
	must(t, store.CreateAdminToken(ctx, &switchboard.AdminToken{Name: "t", Hash: hash, Status: switchboard.StatusEnabled}))
	e.adminToken = text

	e.acc1 = mustV(store.CreateAccount(ctx, switchboard.AccountCreate{Name: "One", MainNumber: "+16505550100"}))(t)
	e.acc2 = mustV(store.CreateAccount(ctx, switchboard.AccountCreate{Name: "Two", MainNumber: "+14155550100"}))(t)
	e.alice = e.user(e.acc1, "101", "alice@one.example", "+16505550101", true)
	e.bob = e.user(e.acc1, "102", "bob@one.example", "+16505550102", false)
	e.dept = mustV(store.CreateExtension(ctx, switchboard.ExtensionCreate{AccountID: e.acc1.ID, ExtensionNumber: "103", Name: "Support", Type: switchboard.ExtensionTypeDepartment}))(t)
	e.carol = e.user(e.acc2, "101", "carol@two.example", "+14155550101", true)

	doc, err := openapi3.NewLoader().LoadFromFile("../../api/ringcentral-messaging.openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc.Servers = openapi3.Servers{{URL: e.srv.URL}}
	if e.router, err = legacy.NewRouter(doc); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *testEnv) user(acc *switchboard.Account, number, email, phone string, admin bool) *switchboard.Extension {
	t, ctx := e.t, context.Background()
	pw := "password-" + number + "-" + strconv.FormatInt(acc.ID, 10)
	hash, err := auth.HashPassword(pw)
	must(t, err)
	x := mustV(e.store.CreateExtension(ctx, switchboard.ExtensionCreate{AccountID: acc.ID, ExtensionNumber: number,
		Name: "User " + number, Email: email, PasswordHash: hash, Admin: admin}))(t)
	mustV(e.store.CreatePhoneNumber(ctx, switchboard.PhoneNumberCreate{AccountID: acc.ID, ExtensionID: x.ID, PhoneNumber: phone,
		Features: []string{switchboard.FeatureSmsSender, switchboard.FeatureMmsSender, switchboard.FeatureCallerID}}))(t)
	_, jwt, err := e.auth.IssueJWTCredential(ctx, acc.ID, x.ID, "test", 0)
	must(t, err)
	e.jwts[x.ID], e.passwords[x.ID] = jwt, pw
	return x
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mustV[T any](v T, err error) func(testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// response is a finished HTTP exchange.
type response struct {
	*http.Response
	body []byte
}

func (r *response) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v\n%s", r.Request.URL, err, r.body)
	}
}

func (r *response) object(t testing.TB) map[string]any {
	var m map[string]any
	r.json(t, &m)
	return m
}

// request sends a request; body is JSON-encoded unless it is a string or
// url.Values (a form).
func (e *testEnv) request(method, path, token string, body any, header ...string) *response {
	e.t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd, ct = strings.NewReader(b), "application/json"
	case url.Values:
		rd, ct = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		buf, err := json.Marshal(b)
		must(e.t, err)
		rd, ct = bytes.NewReader(buf), "application/json"
	}
	u := path
	if !strings.HasPrefix(u, "http") {
		u = e.srv.URL + path
	}
	req, err := http.NewRequest(method, u, rd)
	must(e.t, err)
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	must(e.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	must(e.t, err)
	return &response{resp, b}
}

// expect checks the status and, for RingCentral API paths, validates the
// answer against RingCentral's OpenAPI description.
func (e *testEnv) expect(r *response, status int) *response {
	e.t.Helper()
	if r.StatusCode != status {
		e.t.Fatalf("%s %s: status %d, want %d\n%s", r.Request.Method, r.Request.URL, r.StatusCode, status, r.body)
	}
	e.validate(r)
	return r
}

// validate checks a response against the OpenAPI spec when the spec
// describes the route and status.
func (e *testEnv) validate(r *response) {
	e.t.Helper()
	req := r.Request.Clone(context.Background())
	route, params, err := e.router.FindRoute(req)
	if err != nil {
		return // not a RingCentral route (admin API)
	}
	if r.StatusCode == http.StatusNoContent || r.StatusCode == http.StatusMultiStatus {
		return
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
		Status: r.StatusCode, Header: r.Header, Body: io.NopCloser(bytes.NewReader(r.body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: false, MultiError: true},
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		in.Options.ExcludeResponseBody = true
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		e.t.Errorf("%s %s: response does not match RingCentral's OpenAPI: %v\n%s", req.Method, req.URL, err, r.body)
	}
}

// token logs ext in with its JWT and returns the access token.
func (e *testEnv) token(ext *switchboard.Extension) string {
	e.t.Helper()
	var tok auth.TokenResponse
	e.expect(e.tokenRequest(url.Values{"grant_type": {auth.GrantJWTBearer}, "assertion": {e.jwts[ext.ID]}}), 200).json(e.t, &tok)
	return tok.AccessToken
}

func (e *testEnv) tokenRequest(form url.Values) *response {
	e.t.Helper()
	return e.clientPost("/restapi/oauth/token", form.Encode())
}

// clientPost posts a form body (as given: it may be malformed) to an OAuth
// endpoint with the test app's client credentials.
func (e *testEnv) clientPost(path, body string) *response {
	e.t.Helper()
	req, err := http.NewRequest("POST", e.srv.URL+path, strings.NewReader(body))
	must(e.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(e.clientID, e.clientSecret)
	resp, err := http.DefaultClient.Do(req)
	must(e.t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return &response{resp, b}
}

// msg is a message to import.
type msg map[string]any

// importMessages stores messages through the admin API and returns them
// as the message store shows them.
func (e *testEnv) importMessages(ext *switchboard.Extension, msgs ...msg) []map[string]any {
	e.t.Helper()
	for _, m := range msgs {
		m["accountId"] = strconv.FormatInt(ext.AccountID, 10)
		m["extensionId"] = strconv.FormatInt(ext.ID, 10)
	}
	var out struct {
		Records []map[string]any `json:"records"`
	}
	e.expect(e.request("POST", "/switchboard/v1/messages", e.adminToken, map[string]any{"messages": msgs}), 200).json(e.t, &out)
	return out.Records
}

func sms(direction, from, to, text string, created time.Time) msg {
	return msg{"type": "SMS", "direction": direction, "from": map[string]string{"phoneNumber": from},
		"to": []map[string]string{{"phoneNumber": to}}, "subject": text,
		"creationTime": created.Format(time.RFC3339Nano),
		"attachments":  []map[string]string{{"type": "Text", "contentType": "text/plain", "content": base64.StdEncoding.EncodeToString([]byte(text))}}}
}

func mailboxPath(ext *switchboard.Extension) string {
	return fmt.Sprintf("/restapi/v1.0/account/%d/extension/%d/message-store", ext.AccountID, ext.ID)
}

// errorOf decodes a RingCentral error body and checks its shape.
func errorOf(t testing.TB, r *response) (code, param string) {
	t.Helper()
	var body struct {
		ErrorCode string `json:"errorCode"`
		Message   string `json:"message"`
		Errors    []struct {
			ErrorCode     string `json:"errorCode"`
			Message       string `json:"message"`
			ParameterName string `json:"parameterName"`
		} `json:"errors"`
	}
	r.json(t, &body)
	if body.ErrorCode == "" || body.Message == "" || len(body.Errors) == 0 || body.Errors[0].ErrorCode == "" {
		t.Fatalf("not a RingCentral error body: %s", r.body)
	}
	return body.ErrorCode, body.Errors[0].ParameterName
}
