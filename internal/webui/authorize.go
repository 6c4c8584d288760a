package webui

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/switchboardhq/switchboard"
	"github.com/switchboardhq/switchboard/internal/auth"
)

// authorizePage is what the sign-in page of the authorization-code flow
// shows.
type authorizePage struct {
	AppName  string
	Request  auth.AuthorizeRequest
	Username string
	Error    string // shown above the form
	Fatal    string // the request itself is wrong: no form
}

// handleAuthorize is RingCentral's authorization endpoint: GET shows the
// sign-in form for the app, POST checks the credentials and sends the
// browser back to the app's redirect URI with a code and the app's state.
// Errors follow RFC 6749 §4.1.2.1: sent to the redirect URI once it is known
// to be the app's, shown on the page before that. prompt, ui_options and
// the other display parameters are accepted and ignored.
func (u *UI) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxSignInBytes)
	if err := r.ParseForm(); err != nil {
		u.render(w, http.StatusBadRequest, "authorize.html", authorizePage{Fatal: "The request could not be read: " + err.Error()})
		return
	}
	req := auth.AuthorizeRequest{
		ResponseType: r.Form.Get("response_type"), ClientID: r.Form.Get("client_id"),
		RedirectURI: r.Form.Get("redirect_uri"), State: r.Form.Get("state"),
		CodeChallenge: r.Form.Get("code_challenge"), CodeChallengeMethod: r.Form.Get("code_challenge_method"),
	}
	ctx := r.Context()
	app, redirect, err := u.auth.CheckAuthorize(ctx, req)
	if err != nil {
		u.authorizeError(w, r, req, redirect, err)
		return
	}
	page := authorizePage{AppName: app.Name, Request: req, Username: r.PostForm.Get("username")}
	if r.Method == http.MethodGet {
		w.Header().Set("Cache-Control", "no-store")
		u.render(w, http.StatusOK, "authorize.html", page)
		return
	}
	if !sameOrigin(r) {
		page.Error = "Sign in from this page: the form was sent from another site."
		u.render(w, http.StatusForbidden, "authorize.html", page)
		return
	}
	code, redirect, err := u.auth.Authorize(ctx, req, r.PostForm.Get("username"), r.PostForm.Get("password"))
	var oe *auth.OAuthError
	if errors.As(err, &oe) {
		// Wrong credentials stay on the page: the app learns nothing.
		page.Error = oe.Description
		if oe.Err == "invalid_grant" && oe.Code == "OAU-140" {
			page.Error = "Wrong user name or password."
		}
		u.render(w, http.StatusUnauthorized, "authorize.html", page)
		return
	}
	if err != nil {
		u.authorizeError(w, r, req, redirect, err)
		return
	}
	to := withQuery(redirect, url.Values{"code": {code}, "state": nonEmpty(req.State)})
	http.Redirect(w, r, to, http.StatusFound)
}

func (u *UI) authorizeError(w http.ResponseWriter, r *http.Request, req auth.AuthorizeRequest, redirect string, err error) {
	var ae *auth.AuthorizeError
	switch {
	case errors.As(err, &ae) && ae.Redirect && redirect != "":
		to := withQuery(redirect, url.Values{"error": {ae.Err}, "error_description": {ae.Description}, "state": nonEmpty(req.State)})
		http.Redirect(w, r, to, http.StatusFound)
	case errors.As(err, &ae):
		u.render(w, http.StatusBadRequest, "authorize.html", authorizePage{Fatal: ae.Description + " (" + ae.Err + ")"})
	case errors.Is(err, switchboard.ErrUnavailable):
		w.Header().Set("Retry-After", "1")
		u.render(w, http.StatusServiceUnavailable, "authorize.html", authorizePage{Fatal: "The service is temporarily unavailable. Try again in a moment."})
	default:
		u.logger.ErrorContext(r.Context(), "authorize", "err", err)
		u.render(w, http.StatusInternalServerError, "authorize.html", authorizePage{Fatal: "Internal error; the server log has the details."})
	}
}

// withQuery adds parameters to a redirect URI, keeping the ones it has.
func withQuery(uri string, add url.Values) string {
	u, err := url.Parse(uri)
	if err != nil {
		return uri // registered URIs were validated; not reached
	}
	q := u.Query()
	for k, vs := range add {
		for _, v := range vs {
			q.Add(k, v)
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}
