// High-volume (A2P) SMS with @rc-ex/core's typed a2pSms() calls against a
// real Switchboard: a batch accepted at once and processed to Completed,
// per-message and aggregated statuses, rejected recipients, opt-out by an
// inbound STOP and the refusal that follows, opting back in, bulk-assign,
// bad input and tenancy.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import RingCentral from '@rc-ex/core';
import RestException from '@rc-ex/core/RestException';

import { ISO_MS, assertRcError, http, serverLogOnFailure, show, startServer, withServerLog } from './harness.mjs';

const MAX_MESSAGES = 40; // --a2p-max-messages of this server
const PEER1 = '+15557010001';
const PEER2 = '+15557010002';
const PEER3 = '+15557010003';
const REFUSED = '+15557010099'; // the carrier simulator refuses it

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

describe('@rc-ex/core a2pSms()', () => {
  serverLogOnFailure();
  let srv;
  let rc; // 101, an administrator
  let rc102; // same account, not an administrator
  let rcOther; // another account

  const a2p = (client = rc) => client.restapi().account().a2pSms();

  before(
    withServerLog(async () => {
      srv = await startServer({ args: ['--a2p-max-messages', String(MAX_MESSAGES)] });
      const login = async (ext) => {
        const c = new RingCentral({ server: srv.server, clientId: srv.demo.clientId, clientSecret: srv.demo.clientSecret });
        await c.authorize({ jwt: ext.jwt });
        return c;
      };
      rc = await login(srv.e101);
      rc102 = await login(srv.e102);
      rcOther = await login(srv.other);
      const res = await http(srv.server, '/switchboard/v1/carrier/rules', {
        method: 'PUT',
        token: srv.demo.adminToken,
        body: { rules: [{ match: `^\\${REFUSED}$`, stage: 'submit', errorCode: 'SMS-CAR-411' }] },
      });
      assert.equal(res.status, 200, `set carrier rules: ${show(res)}`);
    }),
  );

  after(async () => {
    if (srv) await srv.stopAndCheck();
  });

  async function completed(id) {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const b = await a2p().batches(id).get();
      if (b.status === 'Completed') return b;
      assert.ok(['Queued', 'Processing'].includes(b.status), JSON.stringify(b));
      assert.ok(Date.now() < deadline, `batch ${id} not Completed after 20 s: ${JSON.stringify(b)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const inboundSms = async (from, text) => {
    const res = await http(srv.server, '/switchboard/v1/inbound/sms', {
      method: 'POST',
      token: srv.demo.adminToken,
      body: { from, to: srv.e101.phoneNumber, text },
    });
    assert.equal(res.status, 200, show(res));
  };

  let batch;

  it('batches().post() answers at once with the batch and its rejected recipients', async () => {
    batch = await a2p().batches().post({
      from: srv.e101.phoneNumber,
      text: 'Sale starts today',
      messages: [
        { to: [PEER1] },
        { to: [PEER2], text: 'Your own text' },
        { to: ['not a number'] },
        { to: [srv.e102.phoneNumber] },
        { to: [REFUSED.slice(1)] }, // RingCentral's examples leave out the +
        { to: [PEER3, PEER1] },
      ],
    });
    assert.equal(typeof batch.id, 'string');
    assert.equal(batch.from, srv.e101.phoneNumber);
    assert.equal(batch.batchSize, 4);
    assert.ok(['Queued', 'Processing'].includes(batch.status), batch.status);
    assert.match(batch.creationTime, ISO_MS);
    assert.deepEqual(
      batch.rejected.map((r) => [r.index, r.errorCode, r.to]),
      [
        [2, 'CMN-100', ['not a number']],
        [5, 'CMN-100', [PEER3, PEER1]],
      ],
    );
    assert.ok(batch.rejected.every((r) => r.description.length > 0));
  });

  it('the batch is processed to Completed, and its messages have their statuses', async () => {
    const done = await completed(batch.id);
    assert.equal(done.processedCount, 4);
    assert.equal(done.batchSize, 4);

    const list = await a2p().messages().list({ batchId: batch.id, view: 'Detailed' });
    assert.equal(list.records.length, 4, JSON.stringify(list));
    const byTo = Object.fromEntries(list.records.map((m) => [m.to[0], m]));
    assert.equal(byTo[PEER1].text, 'Sale starts today');
    assert.equal(byTo[PEER2].text, 'Your own text');
    assert.equal(byTo[REFUSED].messageStatus, 'SendingFailed');
    assert.equal(byTo[REFUSED].errorCode, 'SMS-CAR-411');
    for (const m of list.records) {
      assert.equal(m.batchId, batch.id);
      assert.equal(m.from, srv.e101.phoneNumber);
      assert.equal(m.direction, 'Outbound');
      assert.notEqual(m.messageStatus, 'Queued');
    }
    const simple = await a2p().messages().list({ batchId: batch.id });
    assert.equal(simple.records[0].text, undefined, 'text only with view=Detailed');

    const one = await a2p().messages(String(byTo[PEER2].id)).get();
    assert.equal(one.id, String(byTo[PEER2].id));
    assert.equal(one.text, 'Your own text');
    assert.equal(one.batchId, batch.id);

    // The messages are SMS of 101's mailbox, as RingCentral keeps them.
    const stored = await rc.restapi().account().extension().messageStore(String(byTo[PEER2].id)).get();
    assert.equal(stored.type, 'SMS');
    assert.equal(stored.subject, 'Your own text');
    // 102's number is a mailbox here: it got the message.
    const inbox = await rc102.restapi().account().extension().messageStore().list({ direction: ['Inbound'], phoneNumber: srv.e101.phoneNumber });
    assert.ok(inbox.records.some((m) => m.subject === 'Sale starts today'), JSON.stringify(inbox.records));
  });

  it('statuses().get() counts the messages by status and error code', async () => {
    const s = await a2p().statuses().get({ batchId: batch.id });
    const total = ['queued', 'sent', 'delivered', 'sendingFailed', 'deliveryFailed'].reduce((n, k) => n + s[k].count, 0);
    assert.equal(total, 4, JSON.stringify(s));
    assert.equal(s.queued.count, 0);
    assert.equal(s.sendingFailed.count, 1);
    assert.deepEqual(s.sendingFailed.errorCodeCounts, { 'SMS-CAR-411': 1 });
  });

  it('batches().list() pages with pageToken and filters by status', async () => {
    const second = await a2p().batches().post({ from: srv.e101.phoneNumber, text: 'again', messages: [{ to: [PEER2] }] });
    await completed(second.id);
    const page1 = await a2p().batches().list({ perPage: 1 });
    assert.equal(page1.records.length, 1);
    assert.equal(page1.records[0].id, second.id);
    assert.ok(page1.paging.nextPageToken, JSON.stringify(page1.paging));
    const page2 = await a2p().batches().list({ perPage: 1, pageToken: page1.paging.nextPageToken });
    assert.equal(page2.records[0].id, batch.id);
    const processing = await a2p().batches().list({ status: ['Processing', 'Queued'] });
    assert.equal(processing.records.length, 0);
  });

  it('an inbound STOP opts the sender out: later batches reject it with SMS-RC-413; START opts back in', async () => {
    await inboundSms(PEER1, ' stop ');
    const outs = await rc.get('/restapi/v1.0/account/~/a2p-sms/opt-outs', { from: srv.e101.phoneNumber });
    assert.deepEqual(
      outs.data.records.map((r) => [r.from, r.to, r.status, r.source]),
      [[srv.e101.phoneNumber, PEER1, 'OptOut', 'Recipient']],
    );
    // The network's answer went back to the recipient from the number.
    const sent = await rc.restapi().account().extension().messageStore().list({ direction: ['Outbound'], phoneNumber: PEER1 });
    assert.ok(sent.records.some((m) => /STOP/.test(m.subject) && /START/.test(m.subject)), JSON.stringify(sent.records.map((m) => m.subject)));

    const b = await a2p().batches().post({ from: srv.e101.phoneNumber, text: 'hi', messages: [{ to: [PEER1] }, { to: [PEER3] }] });
    assert.equal(b.batchSize, 1);
    assert.deepEqual(
      b.rejected.map((r) => [r.index, r.errorCode, r.to]),
      [[0, 'SMS-RC-413', [PEER1]]],
    );
    await completed(b.id);
    const msgs = await a2p().messages().list({ batchId: b.id });
    assert.deepEqual(msgs.records.map((m) => m.to[0]), [PEER3], 'nothing is sent to the opted-out recipient');

    const only = await restFailure(
      a2p().batches().post({ from: srv.e101.phoneNumber, text: 'hi', messages: [{ to: [PEER1] }] }),
      'a batch of opted-out recipients only',
    );
    assert.equal(only.status, 400);
    assertRcError(only.data, { errorCode: 'CMN-101', parameterName: 'messages' });
    assert.ok(only.data.errors.some((e) => e.errorCode === 'SMS-RC-413'), JSON.stringify(only.data));

    await inboundSms(PEER1, 'START');
    const after = await rc.get('/restapi/v1.0/account/~/a2p-sms/opt-outs', { from: srv.e101.phoneNumber });
    assert.deepEqual(after.data.records, []);
    const optins = await rc.get('/restapi/v1.0/account/~/a2p-sms/opt-outs', { status: 'optin' });
    assert.deepEqual(optins.data.records.map((r) => [r.to, r.status]), [[PEER1, 'OptIn']]);
    const back = await a2p().batches().post({ from: srv.e101.phoneNumber, text: 'welcome back', messages: [{ to: [PEER1] }] });
    assert.equal(back.batchSize, 1);
    assert.deepEqual(back.rejected, []);
    await completed(back.id);
  });

  it('opt-outs/bulk-assign opts numbers out and in; a malformed number fails alone', async () => {
    const res = await rc.patch('/restapi/v1.0/account/~/a2p-sms/opt-outs/bulk-assign', {
      from: srv.e101.phoneNumber,
      optOuts: [PEER2, 'bogus'],
      optIns: [PEER3],
    });
    assert.deepEqual(res.data.optOuts.successful, [PEER2]);
    assert.equal(res.data.optOuts.failed.length, 1);
    assert.equal(res.data.optOuts.failed[0].to, 'bogus');
    assert.deepEqual(res.data.optIns.successful, [PEER3]);
    const outs = await rc.get('/restapi/v1.0/account/~/a2p-sms/opt-outs', { to: PEER2 });
    assert.deepEqual(outs.data.records.map((r) => [r.to, r.status, r.source]), [[PEER2, 'OptOut', 'Account']]);
  });

  it('bad input is a RingCentral error naming the field, and stores nothing', async () => {
    const before = (await a2p().batches().list({})).records.length;
    const cases = [
      ['no messages', { from: srv.e101.phoneNumber, text: 'x', messages: [] }, 400, 'messages'],
      ['over the limit', { from: srv.e101.phoneNumber, text: 'x', messages: Array.from({ length: MAX_MESSAGES + 1 }, (_, i) => ({ to: [`+1555702${String(i).padStart(4, '0')}`] })) }, 400, 'messages'],
      ['malformed from', { from: 'abc', text: 'x', messages: [{ to: [PEER3] }] }, 400, 'from'],
      ['no from', { text: 'x', messages: [{ to: [PEER3] }] }, 400, 'from'],
      ['a number of another extension', { from: srv.e102.phoneNumber, text: 'x', messages: [{ to: [PEER3] }] }, 400, 'from'],
      ['an unknown number', { from: '+15559990000', text: 'x', messages: [{ to: [PEER3] }] }, 400, 'from'],
      ['text over 1000', { from: srv.e101.phoneNumber, text: 'x'.repeat(1001), messages: [{ to: [PEER3] }] }, 400, 'text'],
      ['malformed recipients only', { from: srv.e101.phoneNumber, text: 'x', messages: [{ to: ['12'] }] }, 400, 'messages'],
    ];
    for (const [what, body, status, param] of cases) {
      const r = await restFailure(a2p().batches().post(body), what);
      assert.equal(r.status, status, `${what}: ${JSON.stringify(r.data)}`);
      assertRcError(r.data, { parameterName: param }, what);
    }
    assert.equal((await a2p().batches().list({})).records.length, before, 'nothing was stored');
  });

  it('another extension and another account do not see the batch', async () => {
    for (const [who, client] of [
      ['102 (not an administrator)', rc102],
      ['another account', rcOther],
    ]) {
      const r = await restFailure(a2p(client).batches(batch.id).get(), who);
      assert.equal(r.status, 404, `${who}: ${JSON.stringify(r.data)}`);
      const list = await a2p(client).messages().list({ batchId: batch.id });
      assert.deepEqual(list.records, [], who);
    }
    const cross = await restFailure(
      rcOther.get(`/restapi/v1.0/account/${srv.e101.accountId}/a2p-sms/batches/${batch.id}`),
      'another account by id',
    );
    assert.equal(cross.status, 404);
  });
});
