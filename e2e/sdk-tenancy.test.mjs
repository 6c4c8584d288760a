// @ringcentral/sdk against a real Switchboard: who may see which mailbox
// (403/404 for other mailboxes, never 401), the account administrator's reach,
// and 400 CMN-101 for bad input.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import {
  assertRcError,
  bytesOf,
  importMessages,
  inboundSms,
  newSdk,
  sdkFailure,
  serverLogOnFailure,
  startServer,
  timeWindow,
  withServerLog,
} from './harness.mjs';

const OWN = '/restapi/v1.0/account/~/extension/~/message-store';

describe('@ringcentral/sdk: tenancy and input validation', () => {
  serverLogOnFailure();
  let srv;
  let p101;
  let p102;
  let pOther;
  let m101;
  let m102;
  let att101;
  const refreshes = { p102: 0, pOther: 0 };
  let w;
  let win;

  before(
    withServerLog(async () => {
      srv = await startServer();
      w = timeWindow();
      win = { dateFrom: w.dateFrom, dateTo: w.dateTo };
      const login = async (ext) => {
        const sdk = await newSdk(srv);
        await sdk.platform().login({ jwt: ext.jwt });
        return sdk.platform();
      };
      p101 = await login(srv.e101);
      p102 = await login(srv.e102);
      pOther = await login(srv.other);
      // A 403/404 must not look like a bad token: the SDK refreshes on 401 only.
      p102.on(p102.events.beforeRefresh, () => refreshes.p102++);
      pOther.on(pOther.events.beforeRefresh, () => refreshes.pOther++);

      [m101] = await importMessages(srv, [
        inboundSms(srv.e101, {
          subject: 'for 101 only',
          creationTime: w.at(0),
          attachments: [
            { type: 'MmsAttachment', contentType: 'image/png', fileName: 'x.png', content: bytesOf(64).toString('base64') },
          ],
        }),
      ]);
      att101 = m101.attachments[0];
      [m102] = await importMessages(srv, [inboundSms(srv.e102, { subject: 'for 102', creationTime: w.at(1) })]);
    }),
  );

  after(async () => {
    if (srv) await srv.stopAndCheck();
  });

  const mailbox = (ext, acc = '~') => `/restapi/v1.0/account/${acc}/extension/${ext.id}/message-store`;
  const denied = (f, what) => {
    assert.ok(f.status === 403 || f.status === 404, `${what}: 403 or 404 expected, got ${f.status}: ${f.text}`);
    assertRcError(f.body, {}, what);
  };

  it("102 cannot read 101's message by id through its own mailbox (403/404)", async () => {
    const f = await sdkFailure(p102.get(`${OWN}/${m101.id}`), "102 GET 101's message id");
    denied(f, "102 GET own-mailbox/<101's message id>");
  });

  it("102 cannot list or read 101's mailbox (403)", async () => {
    const list = await sdkFailure(p102.get(mailbox(srv.e101), win), "102 lists 101's mailbox");
    assert.equal(list.status, 403, `listing another user's mailbox: ${list.text}`);
    assertRcError(list.body);

    const one = await sdkFailure(p102.get(`${mailbox(srv.e101)}/${m101.id}`), "102 GET in 101's mailbox");
    assert.equal(one.status, 403, `reading in another user's mailbox: ${one.text}`);
    assertRcError(one.body);

    const dept = await sdkFailure(p102.get(mailbox(srv.e103)), "102 lists the department's mailbox");
    assert.equal(dept.status, 403, `a plain user cannot list 103: ${dept.text}`);

    const content = await sdkFailure(p102.get(att101.uri), "102 downloads 101's attachment");
    denied(content, "102 GET 101's attachment content");
  });

  it("102 cannot change or delete 101's message", async () => {
    const put = await sdkFailure(
      p102.put(`${mailbox(srv.e101)}/${m101.id}`, { readStatus: 'Read' }),
      "102 PUT 101's message",
    );
    denied(put, "102 PUT 101's message");
    const del = await sdkFailure(p102.delete(`${mailbox(srv.e101)}/${m101.id}`, undefined, { purge: true }), '102 DELETE');
    denied(del, "102 DELETE 101's message");
    const delOwn = await sdkFailure(p102.delete(`${OWN}/${m101.id}`), '102 DELETE via own mailbox');
    denied(delOwn, "102 DELETE own-mailbox/<101's message id>");

    const still = await (await p101.get(`${OWN}/${m101.id}`)).json();
    assert.equal(still.readStatus, 'Unread', 'unchanged');
    assert.equal(still.availability, 'Alive', 'not deleted');
  });

  it("102's own list does not contain 101's messages", async () => {
    const list = await (await p102.get(OWN, win)).json();
    assert.deepEqual(
      list.records.map((r) => String(r.id)),
      [String(m102.id)],
    );
  });

  it('the second account cannot see account 1 (403/404)', async () => {
    const acc1 = srv.e101.accountId;
    const cases = [
      [`/restapi/v1.0/account/${acc1}/extension/${srv.e101.id}/message-store`, 'list'],
      [`/restapi/v1.0/account/${acc1}/extension/${srv.e101.id}/message-store/${m101.id}`, 'get'],
      [`/restapi/v1.0/account/${acc1}/extension/${srv.e101.id}`, 'extension'],
      [`/restapi/v1.0/account/${acc1}/extension`, 'directory'],
      [`/restapi/v1.0/account/~/extension/${srv.e101.id}/message-store`, 'foreign extension id under ~'],
      [`${OWN}/${m101.id}`, 'foreign message id in own mailbox'],
      [att101.uri, 'foreign attachment'],
    ];
    for (const [url, what] of cases) {
      const f = await sdkFailure(pOther.get(url), `second account: ${what}`);
      denied(f, `second account: ${what} (${url})`);
    }
    const put = await sdkFailure(
      pOther.put(`/restapi/v1.0/account/${acc1}/extension/${srv.e101.id}/message-store/${m101.id}`, {
        readStatus: 'Read',
      }),
      'second account: PUT',
    );
    denied(put, 'second account: PUT');
  });

  it("the account administrator (101) can list and read 102's mailbox", async () => {
    const list = await (await p101.get(mailbox(srv.e102), win)).json();
    assert.deepEqual(
      list.records.map((r) => String(r.id)),
      [String(m102.id)],
    );
    const explicit = await (
      await p101.get(`/restapi/v1.0/account/${srv.e101.accountId}/extension/${srv.e102.id}/message-store`, win)
    ).json();
    assert.deepEqual(
      explicit.records.map((r) => String(r.id)),
      [String(m102.id)],
    );
    const one = await (await p101.get(`${mailbox(srv.e102)}/${m102.id}`)).json();
    assert.equal(one.subject, 'for 102');
    assert.ok(
      one.uri.endsWith(`/extension/${srv.e102.id}/message-store/${m102.id}`),
      `the uri names 102's mailbox: ${one.uri}`,
    );
    const dept = await p101.get(mailbox(srv.e103));
    assert.equal(dept.status, 200, "the admin can list the department's mailbox");
  });

  it('bad query parameters are 400 CMN-101 naming the parameter', async () => {
    const cases = [
      [{ messageType: 'Email' }, 'messageType'],
      [{ dateFrom: 'notadate' }, 'dateFrom'],
      [{ dateTo: 'yesterday' }, 'dateTo'],
      [{ direction: 'Sideways' }, 'direction'],
      [{ readStatus: 'Maybe' }, 'readStatus'],
      [{ availability: 'Gone' }, 'availability'],
      [{ perPage: 'many' }, 'perPage'],
      [{ page: 'first' }, 'page'],
    ];
    for (const [query, parameterName] of cases) {
      const f = await sdkFailure(p101.get(OWN, query), `list ${JSON.stringify(query)}`);
      assert.equal(f.status, 400, `${JSON.stringify(query)}: ${f.text}`);
      assertRcError(f.body, { errorCode: 'CMN-101', parameterName }, JSON.stringify(query));
    }
    const multi = await sdkFailure(p101.get(OWN, { messageType: ['SMS', 'Email'] }), 'one bad value of several');
    assert.equal(multi.status, 400, multi.text);
    assertRcError(multi.body, { errorCode: 'CMN-101', parameterName: 'messageType' });
  });

  it('denials never answer 401 (the SDK did not refresh)', () => {
    assert.equal(refreshes.p102, 0, '102 refreshed its token: some denial answered 401');
    assert.equal(refreshes.pOther, 0, 'the second account refreshed its token: some denial answered 401');
  });
});
