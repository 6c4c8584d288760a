// @rc-ex/core with @rc-ex/ws and restOverWebSocket: every REST call goes
// over the WebSocket as a ClientRequest frame, and a subscription made the
// same way delivers notifications on it.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import RingCentral from '@rc-ex/core';
import RestException from '@rc-ex/core/RestException';
import WebSocketExtension from '@rc-ex/ws';

import { importMessages, inboundSms, serverLogOnFailure, startServer, timeWindow, withServerLog } from './harness.mjs';

describe('@rc-ex/ws restOverWebSocket', () => {
  serverLogOnFailure();
  let srv;
  let rc;
  let wsExt;
  const sentOverSocket = []; // "METHOD path" of every ClientRequest frame

  before(
    withServerLog(async () => {
      srv = await startServer();
      rc = new RingCentral({ server: srv.server, clientId: srv.demo.clientId, clientSecret: srv.demo.clientSecret });
      await rc.authorize({ jwt: srv.e101.jwt });
      wsExt = new WebSocketExtension({ restOverWebSocket: true, autoRecover: { enabled: false } });
      await rc.installExtension(wsExt);
      const send = wsExt.ws.send.bind(wsExt.ws);
      wsExt.ws.send = (data, ...rest) => {
        const [meta] = JSON.parse(data);
        if (meta.type === 'ClientRequest') sentOverSocket.push(`${meta.method} ${meta.path}`);
        return send(data, ...rest);
      };
    }),
  );

  after(async () => {
    if (wsExt) await wsExt.revoke();
    if (rc) await rc.revoke().catch(() => {});
    if (srv) await srv.stopAndCheck();
  });

  /** Runs fn and checks that it made exactly the expected socket requests. */
  async function overSocket(expected, fn) {
    const from = sentOverSocket.length;
    const out = await fn();
    assert.deepEqual(sentOverSocket.slice(from), expected);
    return out;
  }

  it('GET the extension over the socket', async () => {
    const ext = await overSocket(['GET /restapi/v1.0/account/~/extension/~'], () => rc.restapi().account().extension().get());
    assert.equal(String(ext.id), srv.e101.id);
    assert.equal(ext.extensionNumber, '101');
  });

  it('list the message store with repeated parameters over the socket', async () => {
    const w = timeWindow();
    const recs = await importMessages(srv, [
      inboundSms(srv.e101, { subject: 'ws one', creationTime: w.at(1) }),
      inboundSms(srv.e101, { subject: 'ws two', creationTime: w.at(2), type: 'Pager', to: [{ extensionNumber: '101' }] }),
    ]);
    const list = await overSocket(['GET /restapi/v1.0/account/~/extension/~/message-store'], () =>
      rc.restapi().account().extension().messageStore().list({ messageType: ['SMS', 'Pager'], dateFrom: w.dateFrom, dateTo: w.dateTo }),
    );
    assert.deepEqual(
      list.records.map((r) => String(r.id)),
      [String(recs[1].id), String(recs[0].id)],
    );
  });

  // Sends are plain JSON posts: rc-ex's typed sms().post() builds its own
  // FormData, which @rc-ex/ws 1.4.2 does not recognise as multipart and
  // would serialise as {"files": …} (a client-side mismatch of the two
  // packages; RingCentral's gateway would refuse it too).
  it('send an SMS and a pager message (by extensionId) over the socket', async () => {
    const sms = await overSocket(['POST /restapi/v1.0/account/~/extension/~/sms'], async () =>
      (
        await rc.post('/restapi/v1.0/account/~/extension/~/sms', {
          from: { phoneNumber: srv.e101.phoneNumber },
          to: [{ phoneNumber: srv.e102.phoneNumber }],
          text: 'over the socket',
        })
      ).data,
    );
    assert.equal(sms.messageStatus, 'Queued');
    assert.equal(sms.subject, 'over the socket');
    const pager = await overSocket(['POST /restapi/v1.0/account/~/extension/~/company-pager'], () =>
      rc.restapi().account().extension().companyPager().post({ to: [{ extensionId: srv.e102.id }], text: 'pager over the socket' }),
    );
    assert.equal(pager.type, 'Pager');
    assert.equal(String(pager.to[0].extensionId), srv.e102.id);
    assert.equal(pager.to[0].extensionNumber, '102');
  });

  it('errors come back as RestException with the RingCentral body', async () => {
    try {
      await rc.restapi().account().extension().messageStore().list({ messageType: ['Email'] });
      assert.fail('messageType=Email was accepted');
    } catch (e) {
      if (e instanceof assert.AssertionError) throw e;
      assert.ok(e instanceof RestException, String(e && e.stack));
      assert.equal(e.response.status, 400);
      assert.equal(e.response.data.errorCode, 'CMN-101');
    }
    try {
      await rc.restapi().account(srv.other.accountId).get();
      assert.fail('another account answered');
    } catch (e) {
      if (e instanceof assert.AssertionError) throw e;
      assert.equal(e.response.status, 404);
    }
  });

  it('a subscription made over the socket delivers on it', async () => {
    const got = [];
    let notify;
    const arrived = new Promise((resolve) => {
      notify = resolve;
    });
    await wsExt.subscribe(['/restapi/v1.0/account/~/extension/~/message-store/instant?type=SMS'], (event) => {
      got.push(event);
      notify();
    });
    const [m] = await importMessages(srv, [inboundSms(srv.e101, { subject: 'notified over the socket' })]);
    await Promise.race([arrived, new Promise((_, reject) => setTimeout(() => reject(new Error('no notification in 10 s')), 10_000))]);
    assert.equal(String(got[0].body.id), String(m.id));
    assert.equal(got[0].body.subject, 'notified over the socket');
  });
});
