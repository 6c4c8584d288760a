// @ringcentral/sdk (the official JS SDK, unchanged) against a real Switchboard:
// the account endpoints and the whole message store of extension 101.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import {
  ISO_MS,
  assertRcError,
  bytesOf,
  importMessages,
  inboundSms,
  newSdk,
  outboundSms,
  sdkFailure,
  serverLogOnFailure,
  startServer,
  timeWindow,
  withServerLog,
} from './harness.mjs';

const STORE = '/restapi/v1.0/account/~/extension/~/message-store';
const MISSING_ID = '999999999999';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe('@ringcentral/sdk: account endpoints and message store', () => {
  serverLogOnFailure();
  let srv;
  let sdk;
  let platform;
  let e101;

  before(
    withServerLog(async () => {
      srv = await startServer();
      e101 = srv.e101;
      sdk = await newSdk(srv);
      platform = sdk.platform();
      await platform.login({ jwt: e101.jwt });
    }),
  );

  after(async () => {
    if (srv) await srv.stopAndCheck();
  });

  const getJson = async (url, query, options) => (await platform.get(url, query, options)).json();
  const list = (query) => getJson(STORE, query);
  const ids = (records) => records.map((r) => String(r.id));
  const messageUri = (id) =>
    `${srv.server}/restapi/v1.0/account/${e101.accountId}/extension/${e101.id}/message-store/${id}`;

  it('login with a JWT gives a token the SDK can use', async () => {
    const data = await platform.auth().data();
    assert.equal(typeof data.access_token, 'string');
    assert.ok(data.access_token.length > 0);
    assert.equal(String(data.token_type).toLowerCase(), 'bearer');
    assert.equal(typeof data.expires_in, 'number', 'expires_in must be a JSON number');
    assert.ok(data.expires_in > 60, `expires_in must exceed 60 s, got ${data.expires_in}`);
    assert.equal(typeof data.refresh_token, 'string');
    assert.equal(typeof data.refresh_token_expires_in, 'number', 'refresh_token_expires_in must be a JSON number');
    assert.equal(String(data.owner_id), e101.id, 'owner_id is the extension id');
    assert.equal(await platform.loggedIn(), true);
  });

  it('GET extension/~ is extension 101', async () => {
    const ext = await getJson('/restapi/v1.0/account/~/extension/~');
    assert.equal(String(ext.id), e101.id);
    assert.equal(ext.extensionNumber, '101');
    assert.equal(ext.type, 'User');
    assert.equal(ext.name, e101.name);
    assert.ok(ext.account, `extension has account: ${JSON.stringify(ext)}`);
    assert.equal(String(ext.account.id), e101.accountId);
    assert.equal(ext.uri, `${srv.server}/restapi/v1.0/account/${e101.accountId}/extension/${e101.id}`);

    const byId = await getJson(`/restapi/v1.0/account/${e101.accountId}/extension/${e101.id}`);
    assert.equal(String(byId.id), e101.id, 'explicit ids work like ~');
  });

  it('GET extension/~/phone-number lists the SmsSender number', async () => {
    const body = await getJson('/restapi/v1.0/account/~/extension/~/phone-number');
    assert.ok(Array.isArray(body.records), JSON.stringify(body));
    const n = body.records.find((r) => r.phoneNumber === e101.phoneNumber);
    assert.ok(n, `phone number ${e101.phoneNumber} listed: ${JSON.stringify(body.records)}`);
    assert.ok(Array.isArray(n.features), JSON.stringify(n));
    assert.ok(n.features.includes('SmsSender'), `SmsSender feature: ${JSON.stringify(n)}`);
  });

  it('GET account/~/extension lists the extensions of account 1 only', async () => {
    const body = await getJson('/restapi/v1.0/account/~/extension');
    assert.ok(Array.isArray(body.records), JSON.stringify(body));
    const got = body.records.map((r) => String(r.id));
    for (const e of [srv.e101, srv.e102, srv.e103]) {
      assert.ok(got.includes(e.id), `extension ${e.extensionNumber} (${e.id}) listed: ${got}`);
    }
    assert.ok(!got.includes(srv.other.id), 'a user of the second account must not be listed');
    const dep = body.records.find((r) => String(r.id) === srv.e103.id);
    assert.equal(dep.type, 'Department');
    assert.equal(dep.extensionNumber, '103');
  });

  it('an imported message is stored exactly as GET shows it', async () => {
    const w = timeWindow();
    const [rec] = await importMessages(srv, [inboundSms(e101, { subject: 'stored as shown', creationTime: w.at(3) })]);
    assert.equal(typeof rec.id, 'number', 'message ids are JSON numbers');
    assert.equal(rec.type, 'SMS');
    assert.equal(rec.direction, 'Inbound');
    assert.equal(rec.readStatus, 'Unread');
    assert.equal(rec.messageStatus, 'Received');
    assert.equal(rec.availability, 'Alive');
    assert.equal(rec.subject, 'stored as shown');
    assert.equal(rec.creationTime, w.at(3));
    assert.match(rec.lastModifiedTime, ISO_MS);
    assert.equal(rec.from.phoneNumber, '+15551230000');
    assert.deepEqual(rec.to.map((t) => t.phoneNumber), [e101.phoneNumber]);
    assert.equal(rec.uri, messageUri(rec.id));

    const got = await getJson(`${STORE}/${rec.id}`);
    assert.deepEqual(got, rec);
  });

  it('list filters by messageType, direction and readStatus, newest first', async () => {
    const w = timeWindow();
    const e102 = srv.e102;
    const recs = await importMessages(srv, [
      inboundSms(e101, { subject: 'sms in', creationTime: w.at(0) }),
      outboundSms(e101, { subject: 'sms out', creationTime: w.at(1) }),
      {
        ...inboundSms(e101, { creationTime: w.at(2) }),
        type: 'Pager',
        from: { phoneNumber: e102.phoneNumber },
        subject: 'pager in',
      },
      {
        ...inboundSms(e101, { creationTime: w.at(3) }),
        type: 'Fax',
        readStatus: 'Read',
        subject: undefined,
        attachments: [
          {
            type: 'RenderedDocument',
            contentType: 'application/pdf',
            fileName: 'fax.pdf',
            content: Buffer.from('%PDF-1.4\n%switchboard e2e\n').toString('base64'),
          },
        ],
      },
      {
        ...inboundSms(e101, { creationTime: w.at(4) }),
        type: 'VoiceMail',
        subject: undefined,
        attachments: [
          {
            type: 'AudioRecording',
            contentType: 'audio/mpeg',
            fileName: 'vm.mp3',
            content: bytesOf(256, 7).toString('base64'),
          },
        ],
      },
    ]);
    const [smsIn, smsOut, pager, fax, vm] = recs.map((r) => String(r.id));
    const win = { dateFrom: w.dateFrom, dateTo: w.dateTo };

    const all = await list(win);
    assert.deepEqual(ids(all.records), [vm, fax, pager, smsOut, smsIn], 'all five, newest first');
    for (const r of all.records) {
      assert.equal(r.availability, 'Alive');
      assert.equal(r.uri, messageUri(r.id));
      assert.match(r.creationTime, ISO_MS);
    }
    assert.deepEqual(
      all.records.map((r) => [r.type, r.direction, r.readStatus]),
      [
        ['VoiceMail', 'Inbound', 'Unread'],
        ['Fax', 'Inbound', 'Read'],
        ['Pager', 'Inbound', 'Unread'],
        ['SMS', 'Outbound', 'Read'],
        ['SMS', 'Inbound', 'Unread'],
      ],
    );
    assert.ok(all.paging && all.navigation, 'list has paging and navigation');
    assert.ok(all.uri.startsWith(`${srv.server}/restapi/v1.0/account/`), `absolute list uri: ${all.uri}`);

    const cases = [
      [{ messageType: 'SMS' }, [smsOut, smsIn]],
      [{ messageType: ['SMS', 'Pager'] }, [pager, smsOut, smsIn]],
      [{ messageType: 'Fax' }, [fax]],
      [{ direction: 'Outbound' }, [smsOut]],
      [{ direction: 'Inbound' }, [vm, fax, pager, smsIn]],
      [{ readStatus: 'Unread' }, [vm, pager, smsIn]],
      [{ readStatus: 'Read' }, [fax, smsOut]],
      [{ messageType: 'SMS', direction: 'Inbound' }, [smsIn]],
      [{ messageType: ['VoiceMail', 'Fax'], readStatus: 'Unread' }, [vm]],
      [{ messageType: 'SMS', direction: 'Outbound', readStatus: 'Unread' }, []],
    ];
    for (const [filter, want] of cases) {
      const got = await list({ ...win, ...filter });
      assert.deepEqual(ids(got.records), want, `filter ${JSON.stringify(filter)}`);
    }
  });

  it('without dateFrom/dateTo the list covers the last 24 hours', async () => {
    const [recent, old] = await importMessages(srv, [
      inboundSms(e101, { subject: 'creationTime defaults to now' }),
      inboundSms(e101, { subject: 'too old', creationTime: new Date(Date.now() - 25 * 3600_000).toISOString() }),
    ]);
    assert.match(recent.creationTime, ISO_MS);
    assert.ok(
      Math.abs(Date.parse(recent.creationTime) - Date.now()) < 60_000,
      `creationTime defaults to now: ${recent.creationTime}`,
    );
    const got = ids((await list({ perPage: 1000 })).records);
    assert.ok(got.includes(String(recent.id)), 'a message from now is listed by default');
    assert.ok(!got.includes(String(old.id)), 'a message 25 hours old is not (dateFrom defaults to dateTo - 24 h)');
    const since = new Date(Date.now() - 26 * 3600_000).toISOString();
    assert.ok(ids((await list({ dateFrom: since, perPage: 1000 })).records).includes(String(old.id)), 'with dateFrom');
  });

  it('paging: perPage=2 and following navigation.nextPage.uri visits every message once', async () => {
    const w = timeWindow();
    const msgs = [0, 1, 2, 3, 4].map((k) => inboundSms(e101, { subject: `page ${k}`, creationTime: w.at(k) }));
    const recs = await importMessages(srv, msgs);
    const want = recs.map((r) => String(r.id)).reverse();

    let res = await list({ dateFrom: w.dateFrom, dateTo: w.dateTo, perPage: 2 });
    const seen = [];
    const pages = [];
    for (let i = 0; i < 10; i++) {
      pages.push(res);
      assert.equal(res.paging.perPage, 2, `page ${i + 1} paging.perPage`);
      assert.equal(res.paging.page, i + 1, `page ${i + 1} paging.page`);
      assert.ok(res.records.length <= 2, `page ${i + 1} holds at most perPage records`);
      seen.push(...ids(res.records));
      const next = res.navigation && res.navigation.nextPage && res.navigation.nextPage.uri;
      if (!next) break;
      assert.match(next, /^https?:\/\//, 'nextPage.uri is an absolute URL');
      assert.ok(next.startsWith(srv.server), `nextPage.uri on this server: ${next}`);
      res = await getJson(next);
    }
    assert.deepEqual(seen, want, 'pages in order, no message twice or missing');
    assert.equal(pages.length, 3, 'five messages at two per page are three pages');
    assert.deepEqual(
      pages.map((p) => p.records.length),
      [2, 2, 1],
    );
    assert.equal(pages[1].paging.pageStart, 2, 'pageStart is the 0-based index of the first record');
    assert.equal(pages[1].paging.pageEnd, 3, 'pageEnd is the 0-based index of the last record');
  });

  it('perPage over 1000 is clamped to 1000; perPage=0 is an empty page', async () => {
    const w = timeWindow();
    await importMessages(srv, [inboundSms(e101, { creationTime: w.at(0) })]);
    const big = await list({ dateFrom: w.dateFrom, dateTo: w.dateTo, perPage: 5000 });
    assert.equal(big.paging.perPage, 1000, `perPage clamped: ${JSON.stringify(big.paging)}`);
    assert.equal(big.records.length, 1);
    const empty = await list({ dateFrom: w.dateFrom, dateTo: w.dateTo, perPage: 0 });
    assert.deepEqual(empty.records, []);
  });

  it('GET several ids: 207 multipart/mixed that the SDK multipart helper parses (200, 200, 404)', async () => {
    const w = timeWindow();
    const [a, b] = await importMessages(srv, [
      inboundSms(e101, { subject: 'batch a', creationTime: w.at(0) }),
      inboundSms(e101, { subject: 'batch b', creationTime: w.at(1) }),
    ]);
    const res = await platform.get(`${STORE}/${a.id},${MISSING_ID},${b.id}`);
    assert.equal(res.status, 207);
    const ct = res.headers.get('content-type') || '';
    assert.ok(sdk.client().isMultipart(res), `multipart/mixed expected, got ${ct}`);
    assert.doesNotMatch(ct, /boundary="/, 'the JS SDK needs an unquoted boundary');

    const parts = await sdk.client().multipart(res);
    assert.equal(parts.length, 3, 'one part per requested id');
    assert.deepEqual(
      parts.map((p) => p.status),
      [200, 404, 200],
    );
    const pa = await parts[0].json();
    const pm = await parts[1].json();
    const pb = await parts[2].json();
    assert.equal(String(pa.id), String(a.id));
    assert.equal(pa.subject, 'batch a');
    assert.deepEqual(pa, a, 'the part is the message as GET shows it');
    assert.equal(String(pb.id), String(b.id));
    assert.equal(pb.subject, 'batch b');
    assertRcError(pm, { errorCode: 'CMN-102' }, 'missing id part');
  });

  it('GET several ids with Accept: application/vnd.ringcentral.multipart+json', async () => {
    const w = timeWindow();
    const [a, b] = await importMessages(srv, [
      inboundSms(e101, { creationTime: w.at(0) }),
      inboundSms(e101, { creationTime: w.at(1) }),
    ]);
    const res = await platform.get(`${STORE}/${a.id},${b.id},${MISSING_ID}`, undefined, {
      headers: { Accept: 'application/vnd.ringcentral.multipart+json' },
    });
    assert.equal(res.status, 207);
    const body = await res.json();
    assert.ok(Array.isArray(body), `a JSON array: ${JSON.stringify(body)}`);
    assert.deepEqual(
      body.map((x) => [String(x.resourceId), x.status]),
      [
        [String(a.id), 200],
        [String(b.id), 200],
        [MISSING_ID, 404],
      ],
    );
    assert.equal(String(body[0].body.id), String(a.id));
    assertRcError(body[2].body, { errorCode: 'CMN-102' }, 'missing id entry');
  });

  it('a missing message id is 404 CMN-102', async () => {
    const f = await sdkFailure(platform.get(`${STORE}/${MISSING_ID}`), 'GET missing message');
    assert.equal(f.status, 404);
    assertRcError(f.body, { errorCode: 'CMN-102' });
  });

  describe('attachments', () => {
    const png = bytesOf(5000, 42);
    let msg;
    let pic;
    let txt;

    before(async () => {
      const w = timeWindow();
      [msg] = await importMessages(srv, [
        inboundSms(e101, {
          subject: 'look at this',
          creationTime: w.at(0),
          attachments: [
            {
              type: 'Text',
              contentType: 'text/plain',
              fileName: 'text.txt',
              content: Buffer.from('look at this').toString('base64'),
            },
            { type: 'MmsAttachment', contentType: 'image/png', fileName: 'pic.png', content: png.toString('base64') },
          ],
        }),
      ]);
      pic = msg.attachments.find((a) => a.type === 'MmsAttachment');
      txt = msg.attachments.find((a) => a.type === 'Text');
    });

    it('are described on the message', async () => {
      assert.equal(msg.attachments.length, 2, JSON.stringify(msg.attachments));
      assert.ok(pic, JSON.stringify(msg.attachments));
      assert.ok(txt, JSON.stringify(msg.attachments));
      assert.equal(pic.contentType, 'image/png');
      assert.equal(pic.size, png.length);
      assert.equal(pic.fileName, 'pic.png');
      assert.equal(pic.uri, `${messageUri(msg.id)}/content/${pic.id}`);
      assert.equal(txt.contentType, 'text/plain');
    });

    it('download returns the same bytes with the stored Content-Type', async () => {
      const res = await platform.get(pic.uri);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') || '', /^image\/png/);
      const got = Buffer.from(await res.arrayBuffer());
      assert.equal(got.length, png.length);
      assert.ok(got.equals(png), 'downloaded bytes equal the imported bytes');

      const t = await platform.get(txt.uri);
      assert.match(t.headers.get('content-type') || '', /^text\/plain/);
      assert.equal(await t.text(), 'look at this');
    });

    it('Range: bytes=100-199 answers 206 with that slice', async () => {
      const res = await platform.get(pic.uri, undefined, { headers: { Range: 'bytes=100-199' } });
      assert.equal(res.status, 206);
      assert.equal(res.headers.get('content-range'), `bytes 100-199/${png.length}`);
      const got = Buffer.from(await res.arrayBuffer());
      assert.ok(got.equals(png.subarray(100, 200)), `the slice 100..199 (got ${got.length} bytes)`);

      const tail = await platform.get(pic.uri, undefined, { headers: { Range: 'bytes=4990-' } });
      assert.equal(tail.status, 206);
      assert.ok(Buffer.from(await tail.arrayBuffer()).equals(png.subarray(4990)), 'open-ended range');
    });

    it('an unsatisfiable Range is 416 CMN-107', async () => {
      const f = await sdkFailure(
        platform.get(pic.uri, undefined, { headers: { Range: 'bytes=6000-7000' } }),
        'unsatisfiable range',
      );
      assert.equal(f.status, 416);
      assertRcError(f.body, { errorCode: 'CMN-107' });
    });

    it('a missing attachment id is 404', async () => {
      const f = await sdkFailure(platform.get(`${messageUri(msg.id)}/content/${MISSING_ID}`), 'missing attachment');
      assert.equal(f.status, 404);
      assertRcError(f.body);
    });
  });

  it('PUT readStatus Read (and back to Unread)', async () => {
    const w = timeWindow();
    const [m] = await importMessages(srv, [inboundSms(e101, { creationTime: w.at(0) })]);
    await sleep(5);
    const put = await (await platform.put(`${STORE}/${m.id}`, { readStatus: 'Read' })).json();
    assert.equal(String(put.id), String(m.id));
    assert.equal(put.readStatus, 'Read');
    assert.ok(
      Date.parse(put.lastModifiedTime) > Date.parse(m.lastModifiedTime),
      `lastModifiedTime advances: ${m.lastModifiedTime} -> ${put.lastModifiedTime}`,
    );
    assert.equal((await getJson(`${STORE}/${m.id}`)).readStatus, 'Read', 'GET shows the change');
    const read = await list({ dateFrom: w.dateFrom, dateTo: w.dateTo, readStatus: 'Read' });
    assert.deepEqual(ids(read.records), [String(m.id)]);

    const back = await (await platform.put(`${STORE}/${m.id}`, { readStatus: 'Unread' })).json();
    assert.equal(back.readStatus, 'Unread');
  });

  it('PUT with an invalid readStatus is 400 CMN-101', async () => {
    const w = timeWindow();
    const [m] = await importMessages(srv, [inboundSms(e101, { creationTime: w.at(0) })]);
    const f = await sdkFailure(platform.put(`${STORE}/${m.id}`, { readStatus: 'Sideways' }), 'bad readStatus');
    assert.equal(f.status, 400);
    assertRcError(f.body, { errorCode: 'CMN-101' });
  });

  it('PATCH availability Deleted hides the message; Alive restores it', async () => {
    const w = timeWindow();
    const [m] = await importMessages(srv, [inboundSms(e101, { creationTime: w.at(0) })]);
    const win = { dateFrom: w.dateFrom, dateTo: w.dateTo };

    const del = await (await platform.patch(`${STORE}/${m.id}`, { availability: 'Deleted' })).json();
    assert.equal(del.availability, 'Deleted');
    assert.deepEqual(ids((await list(win)).records), [], 'the default list shows Alive messages only');
    const deleted = await list({ ...win, availability: 'Deleted' });
    assert.deepEqual(ids(deleted.records), [String(m.id)]);
    assert.equal(deleted.records[0].availability, 'Deleted');

    const alive = await (await platform.patch(`${STORE}/${m.id}`, { availability: 'Alive' })).json();
    assert.equal(alive.availability, 'Alive');
    assert.deepEqual(ids((await list(win)).records), [String(m.id)], 'restored');

    const read = await (await platform.patch(`${STORE}/${m.id}`, { readStatus: 'Read' })).json();
    assert.equal(read.readStatus, 'Read');
    assert.equal(read.availability, 'Alive');
  });

  it('DELETE makes a message Deleted; a second DELETE purges it', async () => {
    const w = timeWindow();
    const [m] = await importMessages(srv, [inboundSms(e101, { creationTime: w.at(0) })]);
    const win = { dateFrom: w.dateFrom, dateTo: w.dateTo };

    const res = await platform.delete(`${STORE}/${m.id}`);
    assert.equal(res.status, 204);
    const got = await getJson(`${STORE}/${m.id}`);
    assert.equal(got.availability, 'Deleted');
    assert.deepEqual(ids((await list(win)).records), []);
    assert.deepEqual(ids((await list({ ...win, availability: 'Deleted' })).records), [String(m.id)]);

    const again = await platform.delete(`${STORE}/${m.id}`);
    assert.equal(again.status, 204);
    assert.deepEqual(ids((await list({ ...win, availability: 'Deleted' })).records), []);
    const purged = await list({ ...win, availability: 'Purged' });
    assert.deepEqual(ids(purged.records), [String(m.id)]);
    assert.equal(purged.records[0].availability, 'Purged');
  });

  it('DELETE ?purge=true purges at once: the content is gone (404)', async () => {
    const w = timeWindow();
    const audio = bytesOf(2048, 9);
    const [m] = await importMessages(srv, [
      {
        ...inboundSms(e101, { creationTime: w.at(0) }),
        type: 'VoiceMail',
        subject: undefined,
        attachments: [
          { type: 'AudioRecording', contentType: 'audio/mpeg', fileName: 'vm.mp3', content: audio.toString('base64') },
        ],
      },
    ]);
    const att = m.attachments[0];
    const pre = await platform.get(att.uri);
    assert.ok(Buffer.from(await pre.arrayBuffer()).equals(audio), 'content readable before the purge');

    const res = await platform.delete(`${STORE}/${m.id}`, undefined, { purge: true });
    assert.equal(res.status, 204);
    const f = await sdkFailure(platform.get(att.uri), 'content of a purged message');
    assert.equal(f.status, 404);
    assertRcError(f.body);

    const win = { dateFrom: w.dateFrom, dateTo: w.dateTo };
    assert.deepEqual(ids((await list({ ...win, availability: 'Deleted' })).records), [], 'not merely Deleted');
    const purged = await list({ ...win, availability: 'Purged' });
    assert.deepEqual(ids(purged.records), [String(m.id)]);

    const restore = await sdkFailure(
      platform.patch(`${STORE}/${m.id}`, { availability: 'Alive' }),
      'restoring a purged message',
    );
    assert.ok(restore.status >= 400 && restore.status < 500, `a Purged message cannot be restored: ${restore.status}`);
    assertRcError(restore.body);
  });
});
