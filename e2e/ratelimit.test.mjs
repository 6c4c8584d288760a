// RingCentral's rate limits as the official SDKs meet them: the
// X-Rate-Limit-* headers on every answer, 429 with Retry-After and CMN-301
// past the limit, @ringcentral/sdk's rateLimitError and its handleRateLimit
// retry, and @rc-ex/core's RestException.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import RingCentral from '@rc-ex/core';

import { assertRcError, http, newSdk, sdkFailure, serverLogOnFailure, show, startServer } from './harness.mjs';

const ME = '/restapi/v1.0/account/~/extension/~';

describe('rate limits through the SDKs', () => {
  serverLogOnFailure();
  let srv;

  before(async () => {
    srv = await startServer();
  });

  after(async () => {
    if (srv) await srv.stopAndCheck();
  });

  const limits = async (body) => {
    const res = await http(srv.server, '/switchboard/v1/rate-limits', { method: 'PUT', token: srv.demo.adminToken, body });
    assert.equal(res.status, 200, show(res));
    return res.json;
  };

  it('headers on every answer; 429 CMN-301 with Retry-After past the limit; rateLimitError', async () => {
    const sdk = await newSdk(srv);
    const p = sdk.platform();
    await p.login({ jwt: srv.e102.jwt });
    // The demo counts without refusing until enforcement is switched on.
    const counted = await p.get(ME);
    assert.equal(counted.headers.get('x-rate-limit-group'), 'Light');
    assert.equal(counted.headers.get('x-rate-limit-limit'), '50');
    assert.equal(counted.headers.get('x-rate-limit-window'), '60');
    assert.equal(counted.headers.get('x-rate-limit-remaining'), '49');

    await limits({ enforce: true, groups: { Medium: { limit: 2, windowSeconds: 60 } } });
    const errors = [];
    p.on(p.events.rateLimitError, (e) => errors.push(e));
    for (let i = 0; i < 2; i++) await p.get('/restapi/v1.0/account/~/extension'); // Medium
    const refused = await sdkFailure(p.get('/restapi/v1.0/account/~/extension'), 'third Medium call');
    assert.equal(refused.status, 429);
    assertRcError(refused.body, { errorCode: 'CMN-301' }, refused.text);
    assert.match(refused.body.message, /Request rate exceeded/);
    assert.equal(refused.headers.get('retry-after'), '60');
    assert.equal(refused.headers.get('x-rate-limit-remaining'), '0');
    assert.equal(errors.length, 1, 'the SDK emitted rateLimitError');
    assert.equal(errors[0].retryAfter, 60000, 'the SDK read Retry-After');
    // Light is another bucket.
    assert.equal((await (await p.get(ME)).json()).extensionNumber, '102');
    await limits({ enforce: false, groups: { Medium: { limit: 40, windowSeconds: 60 } } });
  });

  it('handleRateLimit: the SDK waits Retry-After and its retry is served', async () => {
    const sdk = await newSdk(srv, { handleRateLimit: true });
    const p = sdk.platform();
    await p.login({ jwt: srv.e101.jwt });
    await limits({ enforce: true, groups: { Heavy: { limit: 1, windowSeconds: 2 } } });
    const started = Date.now();
    // message-store-report creation is Heavy. Windows are fixed (the
    // clock truncated to 2 s), so two calls may fall on either side of a
    // boundary; of three made at once, at least two share a window, and
    // the later of those waits out the 2 s penalty before it is served.
    const report = { dateFrom: new Date(Date.now() - 3600_000).toISOString() };
    for (let i = 0; i < 3; i++) {
      const r = await p.post('/restapi/v1.0/account/~/message-store-report', report);
      assert.equal(r.status, 200);
    }
    assert.ok(Date.now() - started >= 2000, `the retry came after Retry-After (${Date.now() - started} ms)`);
    await limits({ enforce: false, groups: { Heavy: { limit: 10, windowSeconds: 60 } } });
  });

  it('@rc-ex/core: a refused call is a RestException with status 429 and the RingCentral body', async () => {
    const rc = new RingCentral({ server: srv.server, clientId: srv.demo.clientId, clientSecret: srv.demo.clientSecret });
    await rc.authorize({ jwt: srv.e101.jwt });
    await limits({ enforce: true, groups: { Light: { limit: 1, windowSeconds: 60 } } });
    await rc.restapi().account().extension().get();
    let failure;
    try {
      await rc.restapi().account().extension().get();
    } catch (e) {
      failure = e;
    }
    assert.ok(failure && failure.response, `expected a RestException, got ${failure}`);
    assert.equal(failure.response.status, 429);
    assert.equal(failure.response.data.errorCode, 'CMN-301');
    assert.equal(failure.response.headers['retry-after'], '60');
    await limits({ enforce: false, groups: { Light: { limit: 50, windowSeconds: 60 } } });
  });
});
