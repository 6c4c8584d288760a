package httpapi

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/switchboardhq/switchboard/internal/auth"
)

// maxFormBytes bounds token and revoke request bodies.
const maxFormBytes = 64 << 10

// parseForm reads an x-www-form-urlencoded body (and the query string).
// Anything that is not a form yields no fields rather than an error, so the
// missing parameter is what is reported (RingCentral's Go SDK posts revoke
// as invalid JSON).
func parseForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		if _, ok := err.(*http.MaxBytesError); ok {
			return nil, errBodyTooLarge
		}
		return r.URL.Query(), nil
	}
	return r.Form, nil
}

// clientCredentials takes the client id and secret from HTTP Basic or, for
// public clients and rc-ex (which sends client_id in the body too), from the
// form.
func clientCredentials(r *http.Request, form url.Values) (id, secret string, secretGiven bool) {
	if id, secret, ok := r.BasicAuth(); ok {
		return id, secret, true
	}
	id = form.Get("client_id")
	secret, secretGiven = form.Get("client_secret"), form.Has("client_secret")
	return id, secret, secretGiven
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	form, err := parseForm(w, r)
	if err != nil {
		s.writeOAuthError(w, r, err)
		return
	}
	id, secret, given := clientCredentials(r, form)
	if bodyID := form.Get("client_id"); bodyID != "" && bodyID != id {
		s.writeOAuthError(w, r, &auth.OAuthError{Status: http.StatusUnauthorized, Err: "invalid_client", Code: "OAU-153",
			Description: "client_id in the body does not match the authenticated client"})
		return
	}
	if !s.limitAuth(w, r, id, loginName(form)) {
		return
	}
	atoi := func(k string) int { n, _ := strconv.Atoi(form.Get(k)); return n }
	resp, err := s.auth.Token(r.Context(), auth.TokenRequest{
		ClientID: id, ClientSecret: secret, ClientSecretGiven: given,
		GrantType: form.Get("grant_type"), Assertion: form.Get("assertion"),
		Username: form.Get("username"), Password: form.Get("password"), Extension: form.Get("extension"),
		RefreshToken: form.Get("refresh_token"), EndpointID: form.Get("endpoint_id"),
		Code: form.Get("code"), RedirectURI: form.Get("redirect_uri"), CodeVerifier: form.Get("code_verifier"),
		AccessTokenTTL: atoi("access_token_ttl"), RefreshTokenTTL: atoi("refresh_token_ttl"),
	})
	if err != nil {
		s.writeOAuthError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, resp)
}

// loginName is who a token request is counted for in group Auth: the user
// name of a password grant, the credential of a JWT grant (a hash: the JWT
// itself is a secret), else nobody (the client's address is counted).
func loginName(form url.Values) string {
	if u := form.Get("username"); u != "" {
		return u
	}
	if a := form.Get("assertion"); a != "" {
		return "jwt:" + auth.HashSecret(a)[:16]
	}
	return ""
}

// handleRevoke ends the session of the given token for the client that
// authenticates (as RingCentral requires). It answers 200 for unknown
// tokens and 400 without a token (RFC 7009).
func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	form, err := parseForm(w, r)
	if err != nil {
		s.writeOAuthError(w, r, err)
		return
	}
	id, secret, given := clientCredentials(r, form)
	if !s.limitAuth(w, r, id, "") {
		return
	}
	if err := s.auth.RevokeAsClient(r.Context(), auth.ClientRevoke{ClientID: id, ClientSecret: secret,
		ClientSecretGiven: given, Token: form.Get("token")}); err != nil {
		s.writeOAuthError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}
