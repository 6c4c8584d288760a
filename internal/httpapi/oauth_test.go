package httpapi_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/auth"
)

func TestTokenGrants(t *testing.T) {
	e := newTestEnv(t)
	tests := []struct {
		name     string
		form     url.Values
		status   int
		oauthErr string
	}{
		{"jwt", url.Values{"grant_type": {auth.GrantJWTBearer}, "assertion": {e.jwts[e.alice.ID]}}, 200, ""},
		{"password by phone number", url.Values{"grant_type": {"password"}, "username": {"+16505550102"}, "password": {e.passwords[e.bob.ID]}}, 200, ""},
		{"password JS SDK style number*ext", url.Values{"grant_type": {"password"}, "username": {"+16505550100*102"}, "password": {e.passwords[e.bob.ID]}}, 200, ""},
		{"password Go SDK style, empty extension", url.Values{"grant_type": {"password"}, "username": {"bob@one.example"}, "extension": {""}, "password": {e.passwords[e.bob.ID]}}, 200, ""},
		{"password main number with extension field", url.Values{"grant_type": {"password"}, "username": {"16505550100"}, "extension": {"102"}, "password": {e.passwords[e.bob.ID]}}, 200, ""},
		{"wrong password", url.Values{"grant_type": {"password"}, "username": {"+16505550102"}, "password": {"nope-nope"}}, 400, "invalid_grant"},
		{"unknown user", url.Values{"grant_type": {"password"}, "username": {"+19995550102"}, "password": {"x"}}, 400, "invalid_grant"},
		{"extension mismatch", url.Values{"grant_type": {"password"}, "username": {"+16505550102"}, "extension": {"101"}, "password": {e.passwords[e.bob.ID]}}, 400, "invalid_grant"},
		{"forged jwt", url.Values{"grant_type": {auth.GrantJWTBearer}, "assertion": {e.jwts[e.alice.ID][:len(e.jwts[e.alice.ID])-4] + "AAAA"}}, 400, "invalid_grant"},
		{"garbage jwt", url.Values{"grant_type": {auth.GrantJWTBearer}, "assertion": {"abc"}}, 400, "invalid_grant"},
		{"missing assertion", url.Values{"grant_type": {auth.GrantJWTBearer}}, 400, "invalid_request"},
		{"unsupported grant", url.Values{"grant_type": {"client_credentials"}}, 400, "unsupported_grant_type"},
		{"missing grant", url.Values{}, 400, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.tokenRequest(tt.form)
			if r.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", r.StatusCode, tt.status, r.body)
			}
			body := r.object(t)
			if tt.oauthErr != "" {
				errs, _ := body["errors"].([]any)
				if body["error"] != tt.oauthErr || body["error_description"] == "" || len(errs) == 0 {
					t.Fatalf("error body %s, want error %q with description and errors[]", r.body, tt.oauthErr)
				}
				return
			}
			e.validate(r)
			// The JS SDK needs integer lifetimes above its 60 s margin and a
			// lower-case bearer type.
			if body["token_type"] != "bearer" || body["expires_in"] != float64(3600) || body["refresh_token_expires_in"] != float64(604800) {
				t.Fatalf("token response %s", r.body)
			}
			if body["owner_id"] == "" || body["access_token"] == "" || body["refresh_token"] == "" || !strings.Contains(body["scope"].(string), "ReadMessages") {
				t.Fatalf("token response lacks fields: %s", r.body)
			}
		})
	}
}

func TestClientAuthentication(t *testing.T) {
	e := newTestEnv(t)
	form := url.Values{"grant_type": {auth.GrantJWTBearer}, "assertion": {e.jwts[e.alice.ID]}}
	post := func(user, pass string, useBasic bool, extra url.Values) *response {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		for k, v := range extra {
			f[k] = v
		}
		req, _ := http.NewRequest("POST", e.srv.URL+"/restapi/oauth/token", strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if useBasic {
			req.SetBasicAuth(user, pass)
		}
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		defer resp.Body.Close()
		return &response{resp, nil}
	}
	tests := []struct {
		name   string
		r      func() *response
		status int
	}{
		{"basic", func() *response { return post(e.clientID, e.clientSecret, true, nil) }, 200},
		{"basic plus matching client_id (rc-ex)", func() *response { return post(e.clientID, e.clientSecret, true, url.Values{"client_id": {e.clientID}}) }, 200},
		{"basic plus other client_id", func() *response { return post(e.clientID, e.clientSecret, true, url.Values{"client_id": {"other"}}) }, 401},
		{"wrong secret", func() *response { return post(e.clientID, "wrong", true, nil) }, 401},
		{"unknown client", func() *response { return post("nobody", e.clientSecret, true, nil) }, 401},
		{"no client auth", func() *response { return post("", "", false, nil) }, 401},
		{"confidential client without secret", func() *response { return post("", "", false, url.Values{"client_id": {e.clientID}}) }, 401},
		{"secret in body", func() *response {
			return post("", "", false, url.Values{"client_id": {e.clientID}, "client_secret": {e.clientSecret}})
		}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r := tt.r(); r.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", r.StatusCode, tt.status)
			}
		})
	}
}

func TestRefreshRotatesAndRevoke(t *testing.T) {
	e := newTestEnv(t)
	var first, second auth.TokenResponse
	e.expect(e.tokenRequest(url.Values{"grant_type": {auth.GrantJWTBearer}, "assertion": {e.jwts[e.bob.ID]}}), 200).json(t, &first)

	// The JS SDK echoes the previous lifetimes on refresh.
	e.expect(e.tokenRequest(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first.RefreshToken},
		"access_token_ttl": {"3600"}, "refresh_token_ttl": {"604800"}}), 200).json(t, &second)
	if second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken || second.OwnerID != first.OwnerID {
		t.Fatalf("refresh did not rotate: %+v", second)
	}
	// An access token is not a refresh token.
	if r := e.tokenRequest(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {second.AccessToken}}); r.StatusCode != 400 {
		t.Fatalf("access token used as refresh token: %d", r.StatusCode)
	}
	e.expect(e.request("GET", "/restapi/v1.0/account/~/extension/~", second.AccessToken, nil), 200)
	// A used refresh token is dead, and presenting it again ends the whole
	// family: a copy was stolen, and the server cannot tell who holds it.
	if r := e.tokenRequest(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first.RefreshToken}}); r.StatusCode != 400 || r.object(t)["error"] != "invalid_grant" {
		t.Fatalf("reused refresh token: %d %s", r.StatusCode, r.body)
	}
	if r := e.request("GET", "/restapi/v1.0/account/~/extension/~", second.AccessToken, nil); r.StatusCode != 401 {
		t.Fatalf("access token of a family whose old refresh token was reused: %d, want 401", r.StatusCode)
	}
	if r := e.tokenRequest(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {second.RefreshToken}}); r.StatusCode != 400 {
		t.Fatalf("current refresh token of a reused family: %d, want 400", r.StatusCode)
	}
	e.expect(e.tokenRequest(url.Values{"grant_type": {auth.GrantJWTBearer}, "assertion": {e.jwts[e.bob.ID]}}), 200).json(t, &second)

	// Revoke needs the client's credentials, as RingCentral's does.
	revoke := func(form url.Values) *response { return e.clientPost("/restapi/oauth/revoke", form.Encode()) }
	for name, r := range map[string]*response{
		"no client":    e.request("POST", "/restapi/oauth/revoke", "", url.Values{"token": {second.AccessToken}}),
		"wrong secret": e.request("POST", "/restapi/oauth/revoke", "", url.Values{"token": {second.AccessToken}}, "Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(e.clientID+":nope"))),
		"no secret":    e.request("POST", "/restapi/oauth/revoke", "", url.Values{"token": {second.AccessToken}, "client_id": {e.clientID}}),
	} {
		if r.StatusCode != 401 || r.object(t)["error"] != "invalid_client" {
			t.Errorf("revoke with %s: %d %s; want 401 invalid_client", name, r.StatusCode, r.body)
		}
	}
	e.expect(e.request("GET", "/restapi/v1.0/account/~/extension/~", second.AccessToken, nil), 200)

	// Revoke ends the whole session: both tokens of the pair.
	r := revoke(url.Values{"token": {second.AccessToken}})
	if r.StatusCode != 200 {
		t.Fatalf("revoke: %d %s", r.StatusCode, r.body)
	}
	r = e.request("GET", "/restapi/v1.0/account/~/extension/~", second.AccessToken, nil)
	if code, _ := errorOf(t, r); r.StatusCode != 401 || code == "" {
		t.Fatalf("revoked token: %d %s", r.StatusCode, r.body)
	}
	if r := e.tokenRequest(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {second.RefreshToken}}); r.StatusCode != 400 {
		t.Fatalf("refresh after revoke: %d", r.StatusCode)
	}
	// Revoking an unknown token is fine (RFC 7009).
	if r := revoke(url.Values{"token": {"unknown"}}); r.StatusCode != 200 {
		t.Fatalf("revoke unknown: %d", r.StatusCode)
	}
	// Without a token, or with a body that is not a form (the Go SDK's
	// Revoke), nothing can be revoked: RFC 7009's invalid_request.
	for _, body := range []string{"", `{"token": "x"`} {
		r := e.clientPost("/restapi/oauth/revoke", body)
		var oe struct {
			Error  string `json:"error"`
			Errors []struct {
				ErrorCode string `json:"errorCode"`
			} `json:"errors"`
		}
		r.json(t, &oe)
		if r.StatusCode != 400 || oe.Error != "invalid_request" || len(oe.Errors) != 1 || oe.Errors[0].ErrorCode != "OAU-101" {
			t.Fatalf("revoke %v: %d %s", body, r.StatusCode, r.body)
		}
	}
}

func TestAccessTokenExpiresAndSurvivesAsConfigured(t *testing.T) {
	e := newTestEnv(t)
	var tok auth.TokenResponse
	e.expect(e.tokenRequest(url.Values{"grant_type": {auth.GrantJWTBearer}, "assertion": {e.jwts[e.bob.ID]},
		"access_token_ttl": {"600"}}), 200).json(t, &tok)
	if tok.ExpiresIn != 600 {
		t.Fatalf("expires_in %d, want the requested 600", tok.ExpiresIn)
	}
	e.clock.Advance(599 * time.Second)
	e.expect(e.request("GET", "/restapi/v1.0/account/~/extension/~", tok.AccessToken, nil), 200)
	e.clock.Advance(2 * time.Second)
	if r := e.request("GET", "/restapi/v1.0/account/~/extension/~", tok.AccessToken, nil); r.StatusCode != 401 {
		t.Fatalf("expired token: %d", r.StatusCode)
	}
	// The refresh token lives on and gives a fresh pair.
	e.expect(e.tokenRequest(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}), 200)
}

func TestDisabledLogins(t *testing.T) {
	ctx := t.Context()
	e := newTestEnv(t)
	tok := e.token(e.bob)
	must(t, e.store.SetExtensionStatus(ctx, e.acc1.ID, e.bob.ID, switchboard.StatusDisabled))
	if r := e.request("GET", "/restapi/v1.0/account/~/extension/~", tok, nil); r.StatusCode != 401 {
		t.Fatalf("token of a disabled extension: %d", r.StatusCode)
	}
	if r := e.tokenRequest(url.Values{"grant_type": {auth.GrantJWTBearer}, "assertion": {e.jwts[e.bob.ID]}}); r.StatusCode != 400 {
		t.Fatalf("login of a disabled extension: %d %s", r.StatusCode, r.body)
	}

	tok = e.token(e.carol)
	must(t, e.store.SetAccountStatus(ctx, e.acc2.ID, switchboard.StatusDisabled))
	if r := e.request("GET", "/restapi/v1.0/account/~/extension/~", tok, nil); r.StatusCode != 401 {
		t.Fatalf("token of a disabled account: %d", r.StatusCode)
	}

	creds, err := e.store.JWTCredentials(ctx, e.acc1.ID)
	must(t, err)
	for _, c := range creds {
		if c.ExtensionID == e.alice.ID {
			must(t, e.store.SetJWTCredentialStatus(ctx, c.ID, switchboard.StatusDisabled))
		}
	}
	if r := e.tokenRequest(url.Values{"grant_type": {auth.GrantJWTBearer}, "assertion": {e.jwts[e.alice.ID]}}); r.StatusCode != 400 {
		t.Fatalf("disabled JWT credential: %d %s", r.StatusCode, r.body)
	}
}

func TestBearerScheme(t *testing.T) {
	e := newTestEnv(t)
	tok := e.token(e.bob)
	for _, tt := range []struct {
		header string
		status int
	}{
		{"bearer " + tok, 200}, // the JS SDK's lower-case token_type
		{"Bearer " + tok, 200},
		{"BEARER " + tok, 200},
		{"Basic " + tok, 401},
		{"Bearer", 401},
		{"Bearer nonsense", 401},
		{"", 401},
	} {
		req, _ := http.NewRequest("GET", e.srv.URL+"/restapi/v1.0/account/~/extension/~", nil)
		if tt.header != "" {
			req.Header.Set("Authorization", tt.header)
		}
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("Authorization %q: %d, want %d", tt.header, resp.StatusCode, tt.status)
		}
	}
}
