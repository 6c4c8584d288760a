// Push notifications through the official SDKs, unchanged: a WebSocket
// subscription made with @ringcentral/subscriptions (which drives
// @rc-ex/ws: POST /restapi/oauth/wstoken, the socket, ConnectionDetails, the
// subscription created over the socket, ServerNotifications), and a WebHook
// subscription made with @ringcentral/sdk whose receiver, started here,
// passes the validation handshake and then gets a message-store event.

import assert from 'node:assert/strict';
import nodeHttp from 'node:http';
import { after, before, describe, it } from 'node:test';

import { Subscriptions } from '@ringcentral/subscriptions';

import { importMessages, inboundSms, newSdk, sdkFailure, serverLogOnFailure, startServer, withServerLog } from './harness.mjs';

const EXT = '/restapi/v1.0/account/~/extension/~';

/** Resolves with the first value `pick` returns non-null for, from events pushed to `list`. */
function waitForEvent(list, pick, what, timeoutMs = 15_000) {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + timeoutMs;
    const check = () => {
      for (const ev of list) {
        const v = pick(ev);
        if (v) return resolve(v);
      }
      if (Date.now() > deadline) return reject(new Error(`${what}: nothing after ${timeoutMs} ms; got ${JSON.stringify(list).slice(0, 2000)}`));
      setTimeout(check, 20);
    };
    check();
  });
}

/** A WebHook receiver on loopback; echo=false fails the validation handshake. */
async function startReceiver({ echo = true } = {}) {
  const r = { validations: 0, notifications: [] };
  r.server = nodeHttp.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const token = req.headers['validation-token'];
      if (token) {
        r.validations++;
        if (echo) res.setHeader('Validation-Token', token);
        res.end();
        return;
      }
      r.notifications.push({ headers: req.headers, body: JSON.parse(body) });
      res.end();
    });
  });
  await new Promise((resolve) => r.server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${r.server.address().port}/hook`;
  r.close = () => new Promise((resolve) => r.server.close(resolve));
  return r;
}

describe('push notifications through the SDKs', () => {
  serverLogOnFailure();
  let srv;
  let p101;
  let p102;
  let sdk101;

  before(
    withServerLog(async () => {
      srv = await startServer();
      sdk101 = await newSdk(srv);
      const sdk102 = await newSdk(srv);
      p101 = sdk101.platform();
      p102 = sdk102.platform();
      await p101.login({ jwt: srv.e101.jwt });
      await p102.login({ jwt: srv.e102.jwt });
    }),
  );

  after(async () => {
    if (srv) await srv.stopAndCheck();
  });

  it('a WebSocket subscription of @ringcentral/subscriptions receives an instant SMS event', async () => {
    const subscriptions = new Subscriptions({ sdk: sdk101 });
    const subscription = subscriptions.createSubscription();
    const events = [];
    subscription.on(subscription.events.notification, (ev) => events.push(ev));
    const wsSub = await subscription.setEventFilters([`${EXT}/message-store/instant?type=SMS`]).register();
    try {
      const info = wsSub.subscriptionInfo;
      assert.equal(info.status, 'Active', JSON.stringify(info));
      assert.equal(info.deliveryMode.transportType, 'WebSocket', JSON.stringify(info));
      assert.deepEqual(info.eventFilters, [
        `/restapi/v1.0/account/${srv.e101.accountId}/extension/${srv.e101.id}/message-store/instant?type=SMS`,
      ]);

      // 102 texts 101: the delivery worker stores 101's inbound copy, whose
      // change-log row the dispatcher turns into the instant event.
      const text = `over the socket ${Date.now()}`;
      await p102.post(`${EXT}/sms`, {
        from: { phoneNumber: srv.e102.phoneNumber },
        to: [{ phoneNumber: srv.e101.phoneNumber }],
        text,
      });
      const ev = await waitForEvent(events, (e) => (e.body && e.body.subject === text ? e : null), 'instant SMS event');
      assert.equal(ev.subscriptionId, info.id);
      assert.equal(ev.event, info.eventFilters[0]);
      assert.equal(ev.ownerId, String(srv.e101.id));
      assert.match(ev.uuid, /^[0-9a-f-]{36}$/);
      assert.equal(ev.body.direction, 'Inbound');
      assert.equal(ev.body.type, 'SMS');
      assert.equal(ev.body.from.phoneNumber, srv.e102.phoneNumber);
      // The same message, read back through the REST API.
      const msg = await (await p101.get(`${EXT}/message-store/${ev.body.id}`)).json();
      assert.equal(msg.subject, text);
    } finally {
      await wsSub.wse.revoke(); // deletes the subscription over the socket and closes it
    }
  });

  it('a WebHook receiver passes validation and gets a message-store event', async () => {
    const receiver = await startReceiver();
    try {
      const sub = await (
        await p101.post('/restapi/v1.0/subscription', {
          eventFilters: [`${EXT}/message-store`],
          deliveryMode: { transportType: 'WebHook', address: receiver.url, verificationToken: 'e2e-verification' },
        })
      ).json();
      assert.equal(receiver.validations, 1, 'one validation request before the answer');
      assert.equal(sub.status, 'Active', JSON.stringify(sub));
      assert.equal(sub.deliveryMode.address, receiver.url);

      const [rec] = await importMessages(srv, [inboundSms(srv.e101, { subject: 'for the hook' })]);
      const n = await waitForEvent(
        receiver.notifications,
        (x) => (x.body.body.changes.some((c) => (c.newMessageIds || []).includes(Number(rec.id))) ? x : null),
        'message-store event',
      );
      assert.equal(n.headers['verification-token'], 'e2e-verification');
      assert.equal(n.body.subscriptionId, sub.id);
      assert.equal(n.body.event, `/restapi/v1.0/account/${srv.e101.accountId}/extension/${srv.e101.id}/message-store`);
      const change = n.body.body.changes.find((c) => c.type === 'SMS');
      assert.ok(change && change.newCount >= 1, JSON.stringify(n.body));

      const listed = await (await p101.get('/restapi/v1.0/subscription')).json();
      assert.ok(listed.records.some((r) => r.id === sub.id), JSON.stringify(listed));
      await p101.delete(`/restapi/v1.0/subscription/${sub.id}`);
      const e = await sdkFailure(p101.get(`/restapi/v1.0/subscription/${sub.id}`), 'deleted subscription');
      assert.equal(e.status, 404);
    } finally {
      await receiver.close();
    }
  });

  it('a receiver that does not echo Validation-Token is refused with SUB-525', async () => {
    const receiver = await startReceiver({ echo: false });
    try {
      const e = await sdkFailure(
        p101.post('/restapi/v1.0/subscription', {
          eventFilters: [`${EXT}/message-store`],
          deliveryMode: { transportType: 'WebHook', address: receiver.url },
        }),
        'subscription to a receiver that fails validation',
      );
      assert.equal(e.status, 400);
      assert.equal(e.body.errorCode, 'SUB-525', JSON.stringify(e.body));
      assert.equal(receiver.validations, 1);
    } finally {
      await receiver.close();
    }
  });
});
