// @rc-ex/core (RingCentral Extensible, the generated TypeScript client) against a
// real Switchboard: JWT authorize, typed message-store calls, RestException.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import RingCentral from '@rc-ex/core';
import RestException from '@rc-ex/core/RestException';

import {
  ISO_MS,
  bytesOf,
  importMessages,
  inboundSms,
  outboundSms,
  serverLogOnFailure,
  startServer,
  timeWindow,
  withServerLog,
} from './harness.mjs';

const MISSING_ID = '999999999999';

/** Await a call that must throw a RestException; returns its axios response. */
async function restFailure(promise, what) {
  try {
    const r = await promise;
    assert.fail(`${what}: expected a RestException, got ${JSON.stringify(r).slice(0, 500)}`);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    assert.ok(e instanceof RestException, `${what}: expected a RestException, got ${e && e.stack}`);
    return e.response;
  }
}

describe('@rc-ex/core', () => {
  serverLogOnFailure();
  let srv;
  let rc;
  let e101;

  const ms = () => rc.restapi().account().extension().messageStore();
  const ids = (records) => records.map((r) => String(r.id));

  before(
    withServerLog(async () => {
      srv = await startServer();
      e101 = srv.e101;
      rc = new RingCentral({ server: srv.server, clientId: srv.demo.clientId, clientSecret: srv.demo.clientSecret });
    }),
  );

  after(async () => {
    if (srv) await srv.stopAndCheck();
  });

  it('authorize({ jwt }) returns a TokenInfo', async () => {
    const token = await rc.authorize({ jwt: e101.jwt });
    assert.equal(typeof token.access_token, 'string');
    assert.ok(token.access_token.length > 0);
    assert.equal(String(token.token_type).toLowerCase(), 'bearer');
    assert.equal(typeof token.expires_in, 'number');
    assert.ok(token.expires_in > 60);
    assert.equal(typeof token.refresh_token, 'string');
    assert.equal(typeof token.refresh_token_expires_in, 'number');
    assert.equal(String(token.owner_id), e101.id);
    assert.equal(rc.token.access_token, token.access_token);
  });

  it('extension().get() and phoneNumber().get()', async () => {
    const ext = await rc.restapi().account().extension().get();
    assert.equal(String(ext.id), e101.id);
    assert.equal(ext.extensionNumber, '101');
    const numbers = await rc.restapi().account().extension().phoneNumber().get();
    const n = numbers.records.find((r) => r.phoneNumber === e101.phoneNumber);
    assert.ok(n && n.features.includes('SmsSender'), JSON.stringify(numbers.records));
  });

  it('messageStore().list() with filters, repeated array parameters and paging', async () => {
    const w = timeWindow();
    const recs = await importMessages(srv, [
      inboundSms(e101, { subject: 'rcex sms in', creationTime: w.at(0) }),
      outboundSms(e101, { subject: 'rcex sms out', creationTime: w.at(1) }),
      { ...inboundSms(e101, { creationTime: w.at(2) }), type: 'Pager', subject: 'rcex pager' },
      { ...inboundSms(e101, { creationTime: w.at(3) }), type: 'VoiceMail', subject: undefined },
    ]);
    const [smsIn, smsOut, pager, vm] = recs.map((r) => String(r.id));
    const win = { dateFrom: w.dateFrom, dateTo: w.dateTo };

    const all = await ms().list(win);
    assert.deepEqual(ids(all.records), [vm, pager, smsOut, smsIn]);
    for (const r of all.records) assert.match(r.creationTime, ISO_MS);

    assert.deepEqual(ids((await ms().list({ ...win, messageType: ['SMS'] })).records), [smsOut, smsIn]);
    assert.deepEqual(ids((await ms().list({ ...win, messageType: ['SMS', 'Pager'] })).records), [pager, smsOut, smsIn]);
    assert.deepEqual(ids((await ms().list({ ...win, direction: ['Outbound'] })).records), [smsOut]);
    assert.deepEqual(ids((await ms().list({ ...win, readStatus: ['Unread'] })).records), [vm, pager, smsIn]);

    const p1 = await ms().list({ ...win, perPage: 3 });
    assert.deepEqual(ids(p1.records), [vm, pager, smsOut]);
    assert.ok(p1.navigation.nextPage && p1.navigation.nextPage.uri, 'a next page');
    const p2 = await ms().list({ ...win, perPage: 3, page: 2 });
    assert.deepEqual(ids(p2.records), [smsIn]);
    assert.equal(p2.paging.page, 2);
    const next = (await rc.get(p1.navigation.nextPage.uri)).data;
    assert.deepEqual(ids(next.records), [smsIn], 'nextPage.uri gives page 2');
  });

  it('messageStore(id).get(), put(), patch() and delete()', async () => {
    const w = timeWindow();
    const [m] = await importMessages(srv, [inboundSms(e101, { subject: 'rcex one', creationTime: w.at(0) })]);

    const got = await rc.restapi().account().extension().messageStore(String(m.id)).get();
    assert.equal(String(got.id), String(m.id));
    assert.equal(got.subject, 'rcex one');
    assert.deepEqual(got, m);

    const one = () => rc.restapi().account().extension().messageStore(String(m.id));
    assert.equal((await one().put({ readStatus: 'Read' })).readStatus, 'Read');
    assert.equal((await one().patch({ readStatus: 'Unread' })).readStatus, 'Unread');
    await one().delete();
    assert.equal((await one().get()).availability, 'Deleted');
    assert.equal((await one().patch({ availability: 'Alive' })).availability, 'Alive');
  });

  it('a missing message id throws RestException with status 404', async () => {
    const r = await restFailure(
      rc.restapi().account().extension().messageStore(MISSING_ID).get(),
      'GET missing message',
    );
    assert.equal(r.status, 404);
    assert.equal(r.data.errorCode, 'CMN-102', JSON.stringify(r.data));
    assert.ok(Array.isArray(r.data.errors), JSON.stringify(r.data));
  });

  it('a bad messageType throws RestException with status 400 CMN-101', async () => {
    const r = await restFailure(ms().list({ messageType: ['Email'] }), 'list messageType=Email');
    assert.equal(r.status, 400);
    assert.equal(r.data.errorCode, 'CMN-101');
    assert.ok(
      r.data.errors.some((e) => e.parameterName === 'messageType'),
      `parameterName messageType: ${JSON.stringify(r.data)}`,
    );
  });

  it('attachment bytes through rc.get(uri, { responseType: "arraybuffer" })', async () => {
    const w = timeWindow();
    const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), bytesOf(3000, 3)]);
    const [m] = await importMessages(srv, [
      {
        ...inboundSms(e101, { creationTime: w.at(0) }),
        type: 'Fax',
        subject: undefined,
        attachments: [
          { type: 'RenderedDocument', contentType: 'application/pdf', fileName: 'f.pdf', content: pdf.toString('base64') },
        ],
      },
    ]);
    const att = m.attachments[0];
    const r = await rc.get(att.uri, undefined, { responseType: 'arraybuffer' });
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^application\/pdf/);
    assert.ok(Buffer.from(r.data).equals(pdf), 'same bytes');

    const typed = await rc.restapi().account().extension().messageStore(String(m.id)).content(String(att.id)).get();
    assert.ok(Buffer.from(typed).equals(pdf), 'same bytes through the typed content() call');
  });

  it('messageStore().deleteAll({ conversationId }) (DELETE with a {} JSON body) deletes one conversation', async () => {
    const w = timeWindow();
    const peer = '+15557770001';
    const [a, b, other] = await importMessages(srv, [
      inboundSms(e101, { from: { phoneNumber: peer }, subject: 'conv 1', creationTime: w.at(0) }),
      outboundSms(e101, { to: [{ phoneNumber: peer }], subject: 'conv 2', creationTime: w.at(1) }),
      inboundSms(e101, { from: { phoneNumber: '+15557770002' }, subject: 'other conv', creationTime: w.at(2) }),
    ]);
    assert.ok(a.conversationId !== undefined && a.conversationId !== null, `conversationId: ${JSON.stringify(a)}`);
    assert.equal(String(b.conversationId), String(a.conversationId), 'the same parties are one conversation');
    assert.notEqual(String(other.conversationId), String(a.conversationId), 'other parties, other conversation');

    await ms().deleteAll({ conversationId: [String(a.conversationId)] });

    const win = { dateFrom: w.dateFrom, dateTo: w.dateTo };
    assert.deepEqual(ids((await ms().list(win)).records), [String(other.id)], 'the other conversation stays');
    assert.deepEqual(
      ids((await ms().list({ ...win, availability: ['Deleted'] })).records),
      [String(b.id), String(a.id)],
    );
  });

  it('refresh() rotates the token; revoke() makes calls fail with 401', async () => {
    const prev = rc.token;
    const next = await rc.refresh();
    assert.notEqual(next.access_token, prev.access_token);
    assert.notEqual(next.refresh_token, prev.refresh_token);
    assert.equal((await rc.restapi().account().extension().get()).extensionNumber, '101');

    const stale = await restFailure(rc.refresh(prev.refresh_token), 'refresh with the rotated-out token');
    assert.ok(stale.status === 400 || stale.status === 401, `status ${stale.status}`);
    assert.equal(typeof stale.data.error, 'string', JSON.stringify(stale.data));

    const token = rc.token;
    await rc.revoke();
    rc.token = token; // keep using the revoked token
    const r = await restFailure(rc.restapi().account().extension().get(), 'call with a revoked token');
    assert.equal(r.status, 401);
  });
});
