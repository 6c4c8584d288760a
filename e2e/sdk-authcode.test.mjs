// @ringcentral/sdk's browser sign-in against a real Switchboard: the OAuth
// authorization-code flow with PKCE, as a web app runs it. loginUrl({usePKCE})
// builds the link, the server's sign-in page takes the user's credentials and
// redirects back with a code, and login({code}) redeems it. The redirect is
// read from the Location header (a browser would follow it); the page itself
// is exercised in a real browser by webui.test.mjs.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import RingCentral from '@rc-ex/core';

import { assertOAuthError, basicAuth, http, newSdk, sdkFailure, serverLogOnFailure, show, startServer } from './harness.mjs';

const ME = '/restapi/v1.0/account/~/extension/~';
// Nothing listens there: the test reads the redirect instead of following it.
const REDIRECT = 'http://127.0.0.1:53682/callback';

/** The hidden fields and action of the sign-in form in page html. */
function formOf(html) {
  const fields = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    fields[m[1]] = m[2].replace(/&amp;/g, '&').replace(/&#43;/g, '+').replace(/&#34;/g, '"').replace(/&#39;/g, "'");
  }
  return fields;
}

/** Open the login URL, sign in as user, and return the redirect's URL. */
async function signIn(loginUrl, user, password = user.password) {
  const page = await fetch(loginUrl);
  const html = await page.text();
  assert.equal(page.status, 200, `GET ${loginUrl} -> ${page.status}: ${html.slice(0, 400)}`);
  assert.match(page.headers.get('content-type'), /^text\/html/);
  assert.match(html, /<form method="post" action="\/restapi\/oauth\/authorize"/);
  const body = new URLSearchParams({ ...formOf(html), username: user.username, password });
  const res = await fetch(new URL('/restapi/oauth/authorize', loginUrl), {
    method: 'POST',
    body,
    redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  });
  return { status: res.status, location: res.headers.get('location'), text: await res.text() };
}

describe('@ringcentral/sdk: authorization code with PKCE', () => {
  serverLogOnFailure();
  let srv;

  before(async () => {
    srv = await startServer();
  });

  after(async () => {
    if (srv) await srv.stopAndCheck();
  });

  it('loginUrl({usePKCE}) -> sign in -> login({code}) gives a working session', async () => {
    const sdk = await newSdk(srv, { redirectUri: REDIRECT });
    const p = sdk.platform();
    const url = p.loginUrl({ usePKCE: true, state: 'state-123' });
    const u = new URL(url);
    assert.equal(u.pathname, '/restapi/oauth/authorize');
    assert.equal(u.searchParams.get('code_challenge_method'), 'S256');

    const r = await signIn(url, srv.e101);
    assert.equal(r.status, 302, r.text);
    const back = new URL(r.location);
    assert.equal(`${back.origin}${back.pathname}`, REDIRECT);
    assert.equal(back.searchParams.get('state'), 'state-123');
    const code = back.searchParams.get('code');
    assert.ok(code, `no code in ${r.location}`);

    await p.login({ code });
    const me = await (await p.get(ME)).json();
    assert.equal(String(me.id), srv.e101.id);
    const data = await p.auth().data();
    assert.equal(String(data.owner_id), srv.e101.id);
    assert.ok(data.refresh_token, 'a refresh token is issued as for the other grants');

    // The session refreshes like any other.
    await p.refresh();
    assert.equal(String((await (await p.get(ME)).json()).id), srv.e101.id);

    // A code works once: the same code again is invalid_grant.
    const again = await http(srv.server, '/restapi/oauth/token', {
      method: 'POST',
      headers: { Authorization: basicAuth(srv.demo) },
      form: { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: data.code_verifier || 'x'.repeat(43) },
    });
    assert.equal(again.status, 400, show(again));
    assert.equal(assertOAuthError(again.json).error, 'invalid_grant');
  });

  it('a PKCE-only public client (no client secret) redeems its code', async () => {
    const sdk = await newSdk(srv, { redirectUri: REDIRECT, clientSecret: '' });
    const p = sdk.platform();
    const r = await signIn(p.loginUrl({ usePKCE: true, state: 's' }), srv.e102);
    const code = new URL(r.location).searchParams.get('code');
    await p.login({ code });
    assert.equal(String((await (await p.get(ME)).json()).id), srv.e102.id);
  });

  it('without PKCE the code needs the client secret', async () => {
    const p = (await newSdk(srv, { redirectUri: REDIRECT, clientSecret: '' })).platform();
    const r = await signIn(p.loginUrl({ state: 's' }), srv.e102);
    const code = new URL(r.location).searchParams.get('code');
    const f = await sdkFailure(p.login({ code }), 'code without PKCE and without secret');
    assert.equal(f.status, 401);
    assert.equal(assertOAuthError(f.body).error, 'invalid_client');

    // With the secret, a code without PKCE is fine (a server-side web app).
    const p2 = (await newSdk(srv, { redirectUri: REDIRECT })).platform();
    const r2 = await signIn(p2.loginUrl({ state: 's' }), srv.e102);
    await p2.login({ code: new URL(r2.location).searchParams.get('code') });
    assert.equal(String((await (await p2.get(ME)).json()).id), srv.e102.id);
  });

  it('a wrong verifier or redirect URI spends the code', async () => {
    const p = (await newSdk(srv, { redirectUri: REDIRECT })).platform();
    const r = await signIn(p.loginUrl({ usePKCE: true }), srv.e101);
    const code = new URL(r.location).searchParams.get('code');
    const bad = await sdkFailure(p.login({ code, code_verifier: 'A'.repeat(43) }), 'wrong verifier');
    assert.equal(bad.status, 400);
    assert.equal(assertOAuthError(bad.body).error, 'invalid_grant');
    // The right verifier now is too late: the code was spent.
    const late = await sdkFailure(p.login({ code }), 'spent code');
    assert.equal(assertOAuthError(late.body).error, 'invalid_grant');

    const p2 = (await newSdk(srv, { redirectUri: REDIRECT })).platform();
    const r2 = await signIn(p2.loginUrl({ usePKCE: true }), srv.e101);
    const code2 = new URL(r2.location).searchParams.get('code');
    const other = await sdkFailure(p2.login({ code: code2, redirect_uri: 'http://127.0.0.1:1/elsewhere' }), 'other redirect URI');
    assert.equal(assertOAuthError(other.body).error, 'invalid_grant');
  });

  it('wrong credentials stay on the page; the app is not told', async () => {
    const p = (await newSdk(srv, { redirectUri: REDIRECT })).platform();
    const r = await signIn(p.loginUrl({ usePKCE: true }), srv.e101, 'not-the-password');
    assert.equal(r.status, 401);
    assert.equal(r.location, null);
    assert.match(r.text, /Wrong user name or password/);
  });

  it('errors: redirected per RFC 6749 once the redirect URI is trusted, shown on the page before', async () => {
    const q = (o) => `${srv.server}/restapi/oauth/authorize?${new URLSearchParams(o)}`;
    const base = { response_type: 'code', client_id: srv.demo.clientId, redirect_uri: REDIRECT, state: 'st' };

    let res = await fetch(q({ ...base, response_type: 'token' }), { redirect: 'manual' });
    assert.equal(res.status, 302);
    let loc = new URL(res.headers.get('location'));
    assert.equal(loc.searchParams.get('error'), 'unsupported_response_type');
    assert.equal(loc.searchParams.get('state'), 'st');

    res = await fetch(q({ ...base, code_challenge: 'x'.repeat(43), code_challenge_method: 'S512' }), { redirect: 'manual' });
    loc = new URL(res.headers.get('location'));
    assert.equal(loc.searchParams.get('error'), 'invalid_request');

    for (const [what, o] of [
      ['unregistered redirect URI', { ...base, redirect_uri: 'https://attacker.example/cb' }],
      ['unknown client', { ...base, client_id: 'nope' }],
      ['no client', { ...base, client_id: '' }],
    ]) {
      res = await fetch(q(o), { redirect: 'manual' });
      const text = await res.text();
      assert.equal(res.status, 400, `${what}: ${text.slice(0, 300)}`);
      assert.equal(res.headers.get('location'), null, `${what}: must not redirect`);
      assert.match(text, /role="alert"/, what);
    }
  });

  it('@rc-ex/core: authorize({code, redirect_uri, code_verifier}) as a PKCE client without a secret', async () => {
    // The authorization URI as @rc-ex/authorize-uri builds it (that package
    // does not load beside @rc-ex/core 1.8: it requires the old lib/ layout).
    const b64url = (b) => b.toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=/g, '');
    const verifier = b64url(randomBytes(32));
    const url = `${srv.server}/restapi/oauth/authorize?${new URLSearchParams({
      response_type: 'code', client_id: srv.demo.clientId, redirect_uri: REDIRECT, state: 'rcex',
      code_challenge_method: 'S256', code_challenge: b64url(createHash('sha256').update(verifier).digest()) })}`;
    const r = await signIn(url, srv.e102);
    assert.equal(r.status, 302, r.text);
    const rc = new RingCentral({ server: srv.server, clientId: srv.demo.clientId });
    await rc.authorize({ code: new URL(r.location).searchParams.get('code'), redirect_uri: REDIRECT, code_verifier: verifier });
    const me = await rc.restapi().account().extension().get();
    assert.equal(String(me.id), srv.e102.id);
  });

  it('a plain challenge (for clients that cannot hash) is redeemed with the same string', async () => {
    const verifier = 'plain-verifier-'.padEnd(50, 'x');
    const url = `${srv.server}/restapi/oauth/authorize?${new URLSearchParams({
      response_type: 'code', client_id: srv.demo.clientId, redirect_uri: REDIRECT, code_challenge: verifier })}`; // method omitted: plain
    const r = await signIn(url, srv.e101);
    const code = new URL(r.location).searchParams.get('code');
    const redeem = (v) => http(srv.server, '/restapi/oauth/token', {
      method: 'POST', form: { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: v, client_id: srv.demo.clientId } });
    const ok = await redeem(verifier);
    assert.equal(ok.status, 200, show(ok));
    assert.equal(String(ok.json.owner_id), srv.e101.id);
  });

  it('registered redirect URIs through the admin API', async () => {
    const put = (body) =>
      http(srv.server, `/switchboard/v1/apps/${srv.demo.clientId}/redirect-uris`, { method: 'PUT', token: srv.demo.adminToken, body });
    const target = 'https://app.example/oauth/callback';
    let res = await put({ redirectUris: [target], loopbackRedirects: true });
    assert.equal(res.status, 200, show(res));
    assert.deepEqual(res.json.redirectUris, [target]);

    const p = (await newSdk(srv, { redirectUri: target })).platform();
    const r = await signIn(p.loginUrl({ usePKCE: true, state: 'reg' }), srv.e101);
    assert.equal(r.status, 302, r.text);
    assert.ok(r.location.startsWith(`${target}?`), r.location);

    res = await put({ redirectUris: ['not a uri'] });
    assert.equal(res.status, 400, show(res));
    assert.equal(res.json.errors[0].parameterName, 'redirectUris');
    res = await http(srv.server, `/switchboard/v1/apps/${srv.demo.clientId}/redirect-uris`, { method: 'PUT', body: { redirectUris: [] } });
    assert.equal(res.status, 401, 'the admin API needs the admin token');
    const list = await http(srv.server, '/switchboard/v1/apps', { token: srv.demo.adminToken });
    assert.equal(list.status, 200, show(list));
    assert.ok(list.json.records.some((a) => a.clientId === srv.demo.clientId && a.loopbackRedirects));
  });
});
