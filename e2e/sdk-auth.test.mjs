// @ringcentral/sdk against a real Switchboard: OAuth grants as the SDK sends
// them (JWT, password with and without the `extension` option), refresh with
// rotation, logout, and 401 for missing or bad tokens.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import {
  assertOAuthError,
  assertRcError,
  basicAuth,
  http,
  inboundSms,
  newSdk,
  sdkFailure,
  serverLogOnFailure,
  show,
  startServer,
} from './harness.mjs';

const ME = '/restapi/v1.0/account/~/extension/~';

describe('@ringcentral/sdk: OAuth', () => {
  serverLogOnFailure();
  let srv;

  before(async () => {
    srv = await startServer();
  });

  after(async () => {
    if (srv) await srv.stopAndCheck();
  });

  /** A raw POST to the token endpoint with the app's Basic credentials. */
  const token = (form, headers = {}) =>
    http(srv.server, '/restapi/oauth/token', {
      method: 'POST',
      form,
      headers: { Authorization: basicAuth(srv.demo), ...headers },
    });

  const me = async (platform) => (await platform.get(ME)).json();

  it('password login with username and password (102)', async () => {
    const sdk = await newSdk(srv);
    const p = sdk.platform();
    await p.login({ username: srv.e102.username, password: srv.e102.password });
    const ext = await me(p);
    assert.equal(String(ext.id), srv.e102.id);
    assert.equal(ext.extensionNumber, '102');
    const data = await p.auth().data();
    assert.equal(String(data.owner_id), srv.e102.id);
    assert.ok(data.expires_in > 60);
  });

  it('password login with the `extension` option (username*extension on the wire)', async () => {
    const sdk = await newSdk(srv);
    const p = sdk.platform();
    await p.login({ username: srv.e102.username, extension: '102', password: srv.e102.password });
    assert.equal((await me(p)).extensionNumber, '102');
  });

  it('password grant with a separate extension field, empty or set (Go SDK form)', async () => {
    for (const extension of ['', '102']) {
      const res = await token({
        grant_type: 'password',
        username: srv.e102.username,
        password: srv.e102.password,
        extension,
      });
      assert.equal(res.status, 200, `extension=${JSON.stringify(extension)}: ${show(res)}`);
      assert.equal(String(res.json.owner_id), srv.e102.id);
      assert.equal(typeof res.json.expires_in, 'number');
      assert.equal(typeof res.json.refresh_token_expires_in, 'number');
      const who = await http(srv.server, ME, { token: res.json.access_token });
      assert.equal(who.status, 200, show(who));
      assert.equal(who.json.extensionNumber, '102');
    }
  });

  it('a wrong password is an OAuth error, not a token', async () => {
    const sdk = await newSdk(srv);
    const f = await sdkFailure(
      sdk.platform().login({ username: srv.e102.username, password: `${srv.e102.password}-wrong` }),
      'login with a wrong password',
    );
    assert.ok(f.status === 400 || f.status === 401, `400/401, got ${f.status}: ${f.text}`);
    assertOAuthError(f.body);
    assert.equal(await sdk.platform().loggedIn(), false);
  });

  it("102's password does not log in as extension 101", async () => {
    const res = await token({
      grant_type: 'password',
      username: `${srv.e102.username}*101`,
      password: srv.e102.password,
    });
    assert.ok(res.status === 400 || res.status === 401, `400/401 expected: ${show(res)}`);
    assertOAuthError(res.json, show(res));
  });

  it('a bad JWT assertion or bad client credentials are OAuth errors', async () => {
    const badJwt = await token({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: 'not.a.jwt' });
    assert.ok(badJwt.status === 400 || badJwt.status === 401, show(badJwt));
    assertOAuthError(badJwt.json, show(badJwt));

    const badClient = await token(
      { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: srv.e101.jwt },
      { Authorization: `Basic ${Buffer.from(`${srv.demo.clientId}:wrong-secret`).toString('base64')}` },
    );
    assert.ok(badClient.status === 400 || badClient.status === 401, show(badClient));
    assertOAuthError(badClient.json, show(badClient));
  });

  it('refresh() rotates the pair; the old refresh token presented again ends the whole session', async () => {
    const sdk = await newSdk(srv);
    const p = sdk.platform();
    await p.login({ jwt: srv.e101.jwt });
    const old = { ...(await p.auth().data()) };

    const res = await p.refresh();
    assert.equal(res.status, 200);
    const fresh = { ...(await p.auth().data()) };
    assert.notEqual(fresh.access_token, old.access_token, 'a new access token');
    assert.notEqual(fresh.refresh_token, old.refresh_token, 'a new refresh token');
    assert.equal(typeof fresh.expires_in, 'number');
    assert.equal(typeof fresh.refresh_token_expires_in, 'number');
    assert.ok(fresh.expires_in > 60, `expires_in ${fresh.expires_in} > 60 (the SDK sent it back as access_token_ttl)`);
    assert.equal(String(fresh.owner_id), srv.e101.id);
    assert.equal((await me(p)).extensionNumber, '101', 'the new access token works');

    const reuse = await token({ grant_type: 'refresh_token', refresh_token: old.refresh_token });
    assert.ok(reuse.status === 400 || reuse.status === 401, `old refresh token must be rejected: ${show(reuse)}`);
    assertOAuthError(reuse.json, show(reuse));

    // A rotated refresh token presented again means a copy was stolen: the
    // whole family goes (RFC 6819 5.2.2.3), the current pair included.
    const after = await http(srv.server, ME, { token: fresh.access_token });
    assert.equal(after.status, 401, `the current access token after a reuse: ${show(after)}`);
    const again = await token({ grant_type: 'refresh_token', refresh_token: fresh.refresh_token });
    assert.ok(again.status === 400 || again.status === 401, `the current refresh token after a reuse: ${show(again)}`);
    assertOAuthError(again.json, show(again));
  });

  it('logout() revokes the session: the access token gets 401, the refresh token is dead', async () => {
    const sdk = await newSdk(srv);
    const p = sdk.platform();
    await p.login({ jwt: srv.e102.jwt });
    const data = { ...(await p.auth().data()) };
    assert.equal((await me(p)).extensionNumber, '102');

    const out = await p.logout();
    assert.ok(out && out.status >= 200 && out.status < 300, `revoke answered ${out && out.status}`);
    assert.equal(await p.loggedIn(), false);

    const revoked = await http(srv.server, ME, { token: data.access_token });
    assert.equal(revoked.status, 401, `a revoked token gets 401: ${show(revoked)}`);
    assertRcError(revoked.json, {}, show(revoked));

    const list = await http(srv.server, `${ME}/message-store`, { token: data.access_token });
    assert.equal(list.status, 401, show(list));

    const refresh = await token({ grant_type: 'refresh_token', refresh_token: data.refresh_token });
    assert.ok(refresh.status === 400 || refresh.status === 401, `refresh after logout: ${show(refresh)}`);
    assertOAuthError(refresh.json, show(refresh));
  });

  it('no token, a bad token or a bad scheme is 401 in RingCentral error shape', async () => {
    const none = await http(srv.server, ME);
    assert.equal(none.status, 401, show(none));
    assertRcError(none.json, {}, show(none));

    const bad = await http(srv.server, `${ME}/message-store`, { token: 'definitely-not-a-token' });
    assert.equal(bad.status, 401, show(bad));
    assertRcError(bad.json, {}, show(bad));

    const sdk = await newSdk(srv);
    await sdk.platform().login({ jwt: srv.e101.jwt });
    const { access_token: at } = await sdk.platform().auth().data();
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
      const ok = await http(srv.server, ME, { headers: { Authorization: `${scheme} ${at}` } });
      assert.equal(ok.status, 200, `scheme ${scheme}: ${show(ok)}`);
    }
    const basic = await http(srv.server, ME, { headers: { Authorization: basicAuth(srv.demo) } });
    assert.equal(basic.status, 401, `Basic is not an API credential: ${show(basic)}`);
  });

  it('the admin API needs the admin token', async () => {
    const msg = inboundSms(srv.e101);
    const none = await http(srv.server, '/switchboard/v1/messages', { method: 'POST', body: { messages: [msg] } });
    assert.equal(none.status, 401, show(none));

    const sdk = await newSdk(srv);
    await sdk.platform().login({ jwt: srv.e101.jwt });
    const { access_token: at } = await sdk.platform().auth().data();
    const user = await http(srv.server, '/switchboard/v1/messages', {
      method: 'POST',
      token: at,
      body: { messages: [msg] },
    });
    assert.ok(user.status === 401 || user.status === 403, `a user token is not an admin token: ${show(user)}`);
  });

  it('the server exits cleanly on SIGTERM', async (t) => {
    if (srv.external) {
      t.skip('external server (SWITCHBOARD_DEMO)');
      return;
    }
    const r = await srv.stopAndCheck(); // fails on a forced kill, a signal, a panic or a race
    assert.equal(r.code, 0);
  });
});
