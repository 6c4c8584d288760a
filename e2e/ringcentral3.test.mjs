// The old official JS SDK, `ringcentral` 3.3.0 (appKey/appSecret, password
// login, ApiResponse), unchanged apart from the server URL and credentials.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import SDK from 'ringcentral';

import { http, importMessages, inboundSms, serverLogOnFailure, startServer, timeWindow, withServerLog } from './harness.mjs';

/** Await a call that must fail; returns the SDK's error (with apiResponse). */
async function failure(promise, what) {
  try {
    const r = await promise;
    assert.fail(`${what}: expected an error, got ${r && r.response && r.response().status}`);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    assert.ok(e.apiResponse, `${what}: the error carries no apiResponse: ${e && e.stack}`);
    return e.apiResponse;
  }
}

describe('ringcentral 3.3.0', () => {
  serverLogOnFailure();
  let srv;
  let sdk;
  let platform;

  before(
    withServerLog(async () => {
      srv = await startServer();
      sdk = new SDK({ server: srv.server, appKey: srv.demo.clientId, appSecret: srv.demo.clientSecret, cachePrefix: 'rc3-' });
      platform = sdk.platform();
    }),
  );

  after(async () => {
    if (srv) await srv.stopAndCheck();
  });

  it('login() with username and password', async () => {
    const res = await platform.login({ username: srv.e101.username, password: srv.e101.password, extension: '' });
    const token = res.json();
    assert.equal(typeof token.access_token, 'string');
    assert.equal(String(token.owner_id), srv.e101.id);
    assert.equal(await platform.loggedIn(), true);
  });

  it('get() the extension and a filtered message list', async () => {
    const ext = (await platform.get('/account/~/extension/~')).json();
    assert.equal(String(ext.id), srv.e101.id);
    assert.equal(ext.extensionNumber, '101');

    const w = timeWindow();
    const [a] = await importMessages(srv, [inboundSms(srv.e101, { subject: 'for the old sdk', creationTime: w.at(1) })]);
    const list = (
      await platform.get('/account/~/extension/~/message-store', {
        messageType: ['SMS'],
        dateFrom: w.dateFrom,
        dateTo: w.dateTo,
      })
    ).json();
    assert.deepEqual(
      list.records.map((r) => String(r.id)),
      [String(a.id)],
    );
    assert.equal(list.records[0].subject, 'for the old sdk');
  });

  it('post() an SMS and put() a readStatus', async () => {
    const sent = (
      await platform.post('/account/~/extension/~/sms', {
        from: { phoneNumber: srv.e101.phoneNumber },
        to: [{ phoneNumber: srv.e102.phoneNumber }],
        text: 'from ringcentral 3.3.0',
      })
    ).json();
    assert.equal(sent.messageStatus, 'Queued');
    assert.equal(sent.direction, 'Outbound');
    const read = (await platform.put(`/account/~/extension/~/message-store/${sent.id}`, { readStatus: 'Unread' })).json();
    assert.equal(read.readStatus, 'Unread');
  });

  it('a bad parameter rejects with the RingCentral error body', async () => {
    const res = await failure(platform.get('/account/~/extension/~/message-store', { messageType: 'Email' }), 'messageType=Email');
    assert.equal(res.response().status, 400);
    const body = res.json();
    assert.equal(body.errorCode, 'CMN-101');
    assert.equal(body.errors[0].parameterName, 'messageType');
  });

  it('another account is 404', async () => {
    const res = await failure(platform.get(`/account/${srv.other.accountId}`), 'another account');
    assert.equal(res.response().status, 404);
  });

  it('refresh() rotates the token; logout() revokes the session', async () => {
    const before = platform.auth().data().access_token;
    await platform.refresh();
    const after = platform.auth().data().access_token;
    assert.notEqual(after, before);
    assert.equal(String((await platform.get('/account/~/extension/~')).json().id), srv.e101.id);

    const res = await platform.logout();
    assert.ok(res.response().status >= 200 && res.response().status < 300, `logout answered ${res.response().status}`);
    const revoked = await http(srv.server, '/restapi/v1.0/account/~/extension/~', { token: after });
    assert.equal(revoked.status, 401);
  });
});
