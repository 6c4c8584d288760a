// message-sync (FSync/ISync) with @ringcentral/sdk and @rc-ex/core, and the
// message lifecycle driven through the emulator controls the way a developer's
// own test would: move the server's clock, run retention on demand, watch a
// message go Deleted -> Purged -> gone, and the SDK's tokens expire on the way.
//
// The tests of this file share one server and run in order: the lifecycle test
// counts what a retention run does on the whole server, so the tests before it
// leave no message Deleted, and the mailbox-cap test comes last (it runs with
// the clock already ten days ahead). The server runs its background retention
// worker only once a day, so every run the tests count is their own.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import RingCentral from '@rc-ex/core';

import {
  ISO_MS,
  assertRcError,
  bytesOf,
  http,
  importMessages,
  inboundSms,
  newSdk,
  sdkFailure,
  serverLogOnFailure,
  show,
  startServer,
  timeWindow,
  withServerLog,
} from './harness.mjs';

const STORE = '/restapi/v1.0/account/~/extension/~/message-store';
const SYNC = '/restapi/v1.0/account/~/extension/~/message-sync';
const DELETE_PERIOD_S = 5 * 24 * 3600; // server default (--delete-period 120h)
const PURGE_PERIOD_S = 5 * 24 * 3600; // server default (--purge-period 120h)
const DEFAULT_CAP = 20_000; // server default (--mailbox-cap)
const PAST_PERIOD_S = 432001; // one second more than five days
const ids = (records) => records.map((r) => String(r.id));
const sorted = (a) => [...a].sort();

describe('message-sync and the message lifecycle (emulator controls)', () => {
  serverLogOnFailure();
  let srv;
  let e101;
  let e102;
  let sdk102;
  let p102; // @ringcentral/sdk platform logged in as 102 (JWT)

  before(
    withServerLog(async () => {
      // Retention runs only when a test asks for it (the worker still runs once
      // at startup, before any message exists).
      srv = await startServer({ args: ['--retention-interval', '24h'] });
      e101 = srv.e101;
      e102 = srv.e102;
      sdk102 = await newSdk(srv);
      p102 = sdk102.platform();
      await p102.login({ jwt: e102.jwt });
    }),
  );

  after(async () => {
    if (srv) await srv.stopAndCheck();
  });

  const json = async (promise) => (await promise).json();
  const admin = (method, url, body) => http(srv.server, url, { method, token: srv.demo.adminToken, body });
  /** POST /switchboard/v1/clock/advance; returns the server's new now (ms). */
  const advance = async (seconds) => {
    const res = await admin('POST', '/switchboard/v1/clock/advance', { seconds });
    assert.equal(res.status, 200, show(res));
    assert.deepEqual(Object.keys(res.json), ['now'], show(res));
    assert.equal(typeof res.json.now, 'string', show(res));
    assert.match(res.json.now, ISO_MS, show(res));
    return Date.parse(res.json.now);
  };
  const runRetention = async () => {
    const res = await admin('POST', '/switchboard/v1/retention/run');
    assert.equal(res.status, 200, show(res));
    for (const k of ['purged', 'removed', 'capped', 'changesPruned']) {
      assert.equal(typeof res.json[k], 'number', `retention/run "${k}": ${show(res)}`);
    }
    return res.json;
  };
  const needsOwnServer = (t) => {
    if (!srv.external) return false;
    t.skip('moves the server clock and counts retention on the whole server: needs its own server');
    return true;
  };

  describe('message-sync with @ringcentral/sdk', () => {
    let w;
    let a;
    let b;
    let c;
    let d;
    let lastToken;

    const sync = (query) => json(p102.get(SYNC, query));

    before(
      withServerLog(async () => {
        w = timeWindow();
        [a, b, c] = await importMessages(srv, [
          inboundSms(e102, { subject: 'sync a', creationTime: w.at(0) }),
          inboundSms(e102, { subject: 'sync b', creationTime: w.at(1) }),
          inboundSms(e102, { subject: 'sync c', creationTime: w.at(2) }),
        ]);
      }),
    );

    let fsync;

    it('FSync returns the messages (newest first) and syncInfo', async () => {
      fsync = await sync({ syncType: 'FSync', dateFrom: w.dateFrom, dateTo: w.dateTo });
      assert.deepEqual(ids(fsync.records), [c.id, b.id, a.id].map(String), 'newest first');
      assert.deepEqual(fsync.records, [c, b, a], 'each record is the message as GET shows it');
      const si = fsync.syncInfo;
      assert.ok(si && typeof si === 'object', `syncInfo: ${JSON.stringify(fsync)}`);
      assert.equal(si.syncType, 'FSync');
      assert.equal(typeof si.syncToken, 'string');
      assert.ok(si.syncToken.length > 0, 'syncToken is not empty');
      assert.equal(typeof si.syncTime, 'string');
      assert.match(si.syncTime, ISO_MS);
      if (!srv.external) {
        assert.ok(Math.abs(Date.parse(si.syncTime) - Date.now()) < 60_000, `syncTime is the server's now: ${si.syncTime}`);
      }
      assert.equal(si.olderRecordsExist, false);
      assert.equal(
        fsync.uri.split('?')[0],
        `${srv.server}/restapi/v1.0/account/${e102.accountId}/extension/${e102.id}/message-sync`,
        `absolute uri: ${fsync.uri}`,
      );
    });

    it('ISync with the token returns exactly the read, the deleted and the new message', async () => {
      assert.ok(fsync, 'needs the FSync of the previous test');
      const put = await json(p102.put(`${STORE}/${a.id}`, { readStatus: 'Read' }));
      assert.equal(put.readStatus, 'Read');
      const del = await p102.delete(`${STORE}/${b.id}`);
      assert.equal(del.status, 204);
      [d] = await importMessages(srv, [inboundSms(e102, { subject: 'sync d', creationTime: w.at(3) })]);

      const isync = await sync({ syncType: 'ISync', syncToken: fsync.syncInfo.syncToken });
      assert.deepEqual(sorted(ids(isync.records)), sorted([a.id, b.id, d.id].map(String)), JSON.stringify(isync.records));
      const byId = new Map(isync.records.map((r) => [String(r.id), r]));

      const ra = byId.get(String(a.id));
      assert.equal(ra.readStatus, 'Read', 'the read message in full, as it is now');
      assert.equal(ra.availability, 'Alive');
      assert.equal(ra.subject, 'sync a');
      assert.deepEqual(ra, await json(p102.get(`${STORE}/${a.id}`)), 'the record is the message as GET shows it');

      const rb = byId.get(String(b.id));
      assert.equal(String(rb.id), String(b.id));
      assert.equal(rb.availability, 'Deleted', `the deleted message: ${JSON.stringify(rb)}`);

      const rd = byId.get(String(d.id));
      assert.deepEqual(rd, d, 'the new message in full');

      const si = isync.syncInfo;
      assert.equal(si.syncType, 'ISync');
      assert.equal(typeof si.syncToken, 'string');
      assert.ok(si.syncToken.length > 0);
      assert.notEqual(si.syncToken, fsync.syncInfo.syncToken, 'the token moves on');
      assert.match(si.syncTime, ISO_MS);
      assert.equal(si.olderRecordsExist, false);

      const again = await sync({ syncType: 'ISync', syncToken: si.syncToken });
      assert.deepEqual(again.records, [], `nothing changed since: ${JSON.stringify(again.records)}`);
      assert.equal(again.syncInfo.syncType, 'ISync');
      assert.equal(again.syncInfo.olderRecordsExist, false);
      assert.equal(typeof again.syncInfo.syncToken, 'string');
      lastToken = again.syncInfo.syncToken;
    });

    it('a garbage syncToken is 400 MSG-333 (full synchronization is required)', async () => {
      for (const token of ['garbage', 'not a token!', 'eyJ2IjoxfQ']) {
        const f = await sdkFailure(p102.get(SYNC, { syncType: 'ISync', syncToken: token }), `syncToken ${token}`);
        assert.equal(f.status, 400, `syncToken ${JSON.stringify(token)}`);
        assertRcError(f.body, { errorCode: 'MSG-333' }, `syncToken ${JSON.stringify(token)}`);
      }
    });

    it('FSync with recordCount=1 returns the newest message and olderRecordsExist true', async () => {
      const one = await sync({ syncType: 'FSync', dateFrom: w.dateFrom, dateTo: w.dateTo, recordCount: 1 });
      assert.deepEqual(ids(one.records), [String(d.id)], 'the newest Alive message of the window');
      assert.equal(one.syncInfo.syncType, 'FSync');
      assert.equal(one.syncInfo.olderRecordsExist, true);
      const all = await sync({ syncType: 'FSync', dateFrom: w.dateFrom, dateTo: w.dateTo, recordCount: 3 });
      assert.deepEqual(ids(all.records), [d, c, a].map((m) => String(m.id)), 'Deleted b is not in a full sync');
      assert.equal(all.syncInfo.olderRecordsExist, false, 'three Alive messages fit in recordCount=3');
    });

    it('restoring the deleted message is reported by the next ISync (and leaves nothing Deleted)', async () => {
      assert.ok(lastToken, 'needs the token of the ISync test');
      const alive = await json(p102.patch(`${STORE}/${b.id}`, { availability: 'Alive' }));
      assert.equal(alive.availability, 'Alive');
      const isync = await sync({ syncType: 'ISync', syncToken: lastToken });
      assert.deepEqual(ids(isync.records), [String(b.id)]);
      assert.equal(isync.records[0].availability, 'Alive');
      assert.equal(isync.records[0].subject, 'sync b', 'a restored message comes back in full');
    });
  });

  describe('message-sync with @rc-ex/core', () => {
    let rc;
    before(
      withServerLog(async () => {
        rc = new RingCentral({ server: srv.server, clientId: srv.demo.clientId, clientSecret: srv.demo.clientSecret });
        await rc.authorize({ jwt: e102.jwt });
      }),
    );
    after(async () => {
      if (rc) await rc.revoke().catch(() => {});
    });

    it('messageSync().get() FSync and ISync return what the raw calls return', async () => {
      const w = timeWindow();
      const [m1, m2] = await importMessages(srv, [
        inboundSms(e102, { subject: 'rc-ex 1', creationTime: w.at(0) }),
        inboundSms(e102, { subject: 'rc-ex 2', creationTime: w.at(1) }),
      ]);
      const ms = () => rc.restapi().account().extension().messageSync();
      const frame = { dateFrom: w.dateFrom, dateTo: w.dateTo };

      const typed = await ms().get({ syncType: 'FSync', ...frame });
      const raw = await json(p102.get(SYNC, { syncType: 'FSync', ...frame }));
      assert.deepEqual(ids(typed.records), [m2.id, m1.id].map(String));
      assert.deepEqual(ids(typed.records), ids(raw.records), 'typed and raw FSync list the same ids');
      assert.deepEqual(typed.records, raw.records);
      assert.equal(typed.syncInfo.syncType, 'FSync');
      assert.equal(typeof typed.syncInfo.syncToken, 'string');
      assert.equal(typed.syncInfo.olderRecordsExist, false);

      const [m3] = await importMessages(srv, [inboundSms(e102, { subject: 'rc-ex 3', creationTime: w.at(2) })]);
      const read = await rc.restapi().account().extension().messageStore(String(m1.id)).put({ readStatus: 'Read' });
      assert.equal(read.readStatus, 'Read');

      const token = typed.syncInfo.syncToken;
      const typedI = await ms().get({ syncType: 'ISync', syncToken: token });
      const rawI = await json(p102.get(SYNC, { syncType: 'ISync', syncToken: token }));
      assert.deepEqual(sorted(ids(typedI.records)), sorted([m1.id, m3.id].map(String)), JSON.stringify(typedI.records));
      assert.deepEqual(sorted(ids(typedI.records)), sorted(ids(rawI.records)), 'typed and raw ISync list the same ids');
      assert.equal(typedI.syncInfo.syncType, 'ISync');
      assert.equal(typedI.records.find((r) => String(r.id) === String(m1.id)).readStatus, 'Read');

      const next = await ms().get({ syncType: 'ISync', syncToken: typedI.syncInfo.syncToken });
      assert.deepEqual(next.records, []);
    });
  });

  describe('lifecycle through the emulator controls', () => {
    it('the admin endpoints need the admin token: none, a user token or a wrong one is 401', async (t) => {
      if (needsOwnServer(t)) return;
      const userToken = (await p102.auth().data()).access_token;
      assert.ok(userToken, 'a user access token');
      const clockBefore = await advance(0);
      const endpoints = [
        ['POST', '/switchboard/v1/clock/advance', { seconds: 86400 }],
        ['POST', '/switchboard/v1/retention/run', undefined],
        ['GET', `/switchboard/v1/accounts/${e101.accountId}/retention`, undefined],
        [
          'PUT',
          `/switchboard/v1/accounts/${e101.accountId}/retention`,
          { deletePeriodSeconds: 1, purgePeriodSeconds: 1, mailboxCap: 1 },
        ],
        ['POST', '/switchboard/v1/messages', { messages: [inboundSms(e102, { subject: 'not imported' })] }],
      ];
      for (const [method, url, body] of endpoints) {
        for (const [who, token] of [
          ['no token', undefined],
          ["102's access token", userToken],
          ['a wrong admin token', `${srv.demo.adminToken}x`],
        ]) {
          const res = await http(srv.server, url, { method, token, body });
          assert.equal(res.status, 401, `${method} ${url} with ${who}: ${show(res)}`);
          assertRcError(res.json, {}, `${method} ${url} with ${who}`);
        }
      }
      const clockAfter = await advance(0);
      assert.ok(
        clockAfter - clockBefore < 60_000,
        `the refused clock/advance did not move the clock: ${clockBefore} -> ${clockAfter}`,
      );
      const rt = await admin('GET', `/switchboard/v1/accounts/${e101.accountId}/retention`);
      assert.equal(rt.status, 200, show(rt));
      assert.equal(rt.json.mailboxCap, 0, `the refused PUT changed nothing: ${show(rt)}`);
      const list = await json(p102.get(STORE, { perPage: 1000 }));
      assert.ok(!list.records.some((r) => r.subject === 'not imported'), 'the refused import stored nothing');
    });

    it('Deleted -> (5 days) Purged -> (5 days) removed; SDK sessions keep real time', async (t) => {
      if (needsOwnServer(t)) return;
      // The emulator clock moves mailboxes and retention, not OAuth: A (used
      // throughout) and B (idle until day 10, past a refresh token's 7 days)
      // keep their sessions without a refresh.
      const sdkA = await newSdk(srv);
      const pA = sdkA.platform();
      await pA.login({ jwt: e102.jwt });
      const sdkB = await newSdk(srv);
      const pB = sdkB.platform();
      await pB.login({ jwt: e102.jwt });
      const refreshes = { A: 0, B: 0, errA: 0, errB: 0 };
      pA.on(pA.events.refreshSuccess, () => refreshes.A++);
      pA.on(pA.events.refreshError, () => refreshes.errA++);
      pB.on(pB.events.refreshSuccess, () => refreshes.B++);
      pB.on(pB.events.refreshError, () => refreshes.errB++);
      const login = await pA.auth().data();
      assert.equal(Number(login.expires_in), 3600, 'access token: 1 h');
      assert.equal(Number(login.refresh_token_expires_in), 7 * 24 * 3600, 'refresh token: 7 days');

      const w = timeWindow();
      const audio = bytesOf(3000, 7);
      const [m] = await importMessages(srv, [
        {
          ...inboundSms(e102, { creationTime: w.at(0) }),
          type: 'VoiceMail',
          subject: undefined,
          attachments: [
            { type: 'AudioRecording', contentType: 'audio/mpeg', fileName: 'vm.mp3', content: audio.toString('base64') },
          ],
        },
      ]);
      const one = `${STORE}/${m.id}`;
      const att = m.attachments[0];
      assert.ok(Buffer.from(await (await pA.get(att.uri)).arrayBuffer()).equals(audio), 'content before');

      const del = await pA.delete(one);
      assert.equal(del.status, 204);
      assert.equal((await json(pA.get(one))).availability, 'Deleted');

      // Day 5 + 1 s.
      const t0 = await advance(0);
      const t1 = await advance(PAST_PERIOD_S);
      const iso = (ms) => new Date(ms).toISOString();
      assert.ok(t1 - t0 >= PAST_PERIOD_S * 1000, `the clock moved forward: ${iso(t0)} -> ${iso(t1)}`);
      assert.ok(t1 - t0 < (PAST_PERIOD_S + 60) * 1000, `by about the seconds asked: ${t1 - t0} ms`);

      const old = await http(srv.server, one, { token: login.access_token });
      assert.equal(old.status, 200, `the 1 h access token still works five emulated days later: ${show(old)}`);

      const got = await pA.get(one);
      assert.equal(got.status, 200);
      assert.equal((await got.json()).availability, 'Deleted', 'still Deleted: retention has not run');
      assert.equal(refreshes.A, 0, 'no refresh was needed');
      assert.equal(refreshes.errA, 0);

      const r1 = await runRetention();
      assert.equal(r1.purged, 1, `the Deleted message is purged: ${JSON.stringify(r1)}`);
      assert.equal(r1.removed, 0, JSON.stringify(r1));
      assert.equal(r1.capped, 0, JSON.stringify(r1));

      const purged = await json(pA.get(one));
      assert.equal(String(purged.id), String(m.id));
      assert.equal(purged.availability, 'Purged');
      const content = await sdkFailure(pA.get(att.uri), 'content of a purged message');
      assert.equal(content.status, 404);
      assertRcError(content.body);
      const restore = await sdkFailure(pA.patch(one, { availability: 'Alive' }), 'restore a purged message');
      assert.equal(restore.status, 400);
      assertRcError(restore.body, { errorCode: 'MSG-342' });
      const r1again = await runRetention();
      assert.deepEqual(
        [r1again.purged, r1again.removed, r1again.capped],
        [0, 0, 0],
        `a second run finds nothing to do: ${JSON.stringify(r1again)}`,
      );

      const fs = await json(pA.get(SYNC, { syncType: 'FSync', dateFrom: w.dateFrom, dateTo: w.dateTo }));
      assert.deepEqual(fs.records, [], 'a Purged message is not in a full sync');

      // Day 10 + 2 s.
      const t2 = await advance(PAST_PERIOD_S);
      assert.ok(t2 - t1 >= PAST_PERIOD_S * 1000, `the clock moved forward again: ${iso(t1)} -> ${iso(t2)}`);

      // B, idle since day 0, past its refresh token's 7 emulated days: its
      // session runs on real time and still works, without a refresh.
      assert.equal((await json(pB.get(one))).availability, 'Purged', 'B works ten emulated days later');
      assert.equal(refreshes.B + refreshes.errB, 0, 'B did not need to refresh');
      assert.equal((await pA.get(one)).status, 200, 'A too');
      assert.equal(refreshes.A + refreshes.errA, 0);

      const r2 = await runRetention();
      assert.equal(r2.removed, 1, `the Purged record is removed: ${JSON.stringify(r2)}`);
      assert.equal(r2.purged, 0, JSON.stringify(r2));
      assert.equal(r2.capped, 0, JSON.stringify(r2));

      for (const [name, p] of [
        ['A', pA],
        ['B', pB],
      ]) {
        const gone = await sdkFailure(p.get(one), `${name}: GET a removed message`);
        assert.equal(gone.status, 404);
        assertRcError(gone.body, { errorCode: 'CMN-102' });
      }
      const isync = await json(pA.get(SYNC, { syncType: 'ISync', syncToken: fs.syncInfo.syncToken }));
      assert.deepEqual(
        ids(isync.records),
        [String(m.id)],
        `message-sync reports the removal: ${JSON.stringify(isync.records)}`,
      );
      assert.equal(isync.records[0].availability, 'Purged');

      await Promise.all([pA.logout(), pB.logout()]);
    });
  });

  describe('account retention override through the admin API', () => {
    const retentionUrl = () => `/switchboard/v1/accounts/${e101.accountId}/retention`;

    it('mailboxCap 2: a retention run keeps the 2 newest Alive messages of each mailbox', async (t) => {
      if (needsOwnServer(t)) return;
      const sdk101 = await newSdk(srv);
      const p101 = sdk101.platform();
      await p101.login({ jwt: e101.jwt });
      // p102 logged in on day 0 and has been idle since day 5: its refresh
      // token is past its 7 days, so it logs in again.
      await p102.login({ jwt: e102.jwt });

      // 102's mailbox (same account) holds the Alive messages of the tests above.
      const wide = { dateFrom: new Date(Date.now() - 30 * 24 * 3600_000).toISOString(), perPage: 1000 };
      const alive102 = (await json(p102.get(STORE, wide))).records;

      const put = await admin('PUT', retentionUrl(), { deletePeriodSeconds: 0, purgePeriodSeconds: 0, mailboxCap: 2 });
      try {
        assert.equal(put.status, 200, show(put));
        const want = {
          deletePeriodSeconds: 0,
          purgePeriodSeconds: 0,
          mailboxCap: 2,
          effective: { deletePeriodSeconds: DELETE_PERIOD_S, purgePeriodSeconds: PURGE_PERIOD_S, mailboxCap: 2 },
        };
        assert.deepEqual(put.json, want, show(put));
        const got = await admin('GET', retentionUrl());
        assert.equal(got.status, 200, show(got));
        assert.deepEqual(got.json, want, `GET shows the override and the effective values: ${show(got)}`);
        const other = await admin('GET', `/switchboard/v1/accounts/${srv.other.accountId}/retention`);
        assert.equal(other.status, 200, show(other));
        assert.equal(other.json.effective.mailboxCap, DEFAULT_CAP, `the other account keeps the default: ${show(other)}`);

        const w = timeWindow();
        const [m0, m1, m2] = await importMessages(srv, [
          inboundSms(e101, { subject: 'cap 0', creationTime: w.at(0) }),
          inboundSms(e101, { subject: 'cap 1', creationTime: w.at(1) }),
          inboundSms(e101, { subject: 'cap 2', creationTime: w.at(2) }),
        ]);
        const win = { dateFrom: w.dateFrom, dateTo: w.dateTo };
        assert.equal((await json(p101.get(STORE, win))).records.length, 3, 'over the cap until retention runs');

        const r = await runRetention();
        assert.ok(r.capped >= 1, `capped: ${JSON.stringify(r)}`);
        const want102 = Math.max(0, alive102.length - 2);
        assert.equal(r.capped, 1 + want102, `101 loses 1, 102 all but its 2 newest: ${JSON.stringify(r)}`);
        assert.equal(r.purged, 0, `capped messages are Deleted, not purged yet: ${JSON.stringify(r)}`);

        const list = await json(p101.get(STORE, win));
        assert.deepEqual(ids(list.records), [m2.id, m1.id].map(String), 'the 2 newest are kept');
        const deleted = await json(p101.get(STORE, { ...win, availability: 'Deleted' }));
        assert.deepEqual(ids(deleted.records), [String(m0.id)], 'the oldest became Deleted');
        const kept102 = (await json(p102.get(STORE, wide))).records;
        assert.deepEqual(ids(kept102), ids(alive102.slice(0, 2)), "102's 2 newest are kept");

        const again = await runRetention();
        assert.equal(again.capped, 0, `at the cap: nothing more to do: ${JSON.stringify(again)}`);
      } finally {
        const restore = await admin('PUT', retentionUrl(), {
          deletePeriodSeconds: 0,
          purgePeriodSeconds: 0,
          mailboxCap: 0,
        });
        assert.equal(restore.status, 200, `restore the cap: ${show(restore)}`);
      }
      const back = await admin('GET', retentionUrl());
      assert.deepEqual(
        back.json,
        {
          deletePeriodSeconds: 0,
          purgePeriodSeconds: 0,
          mailboxCap: 0,
          effective: { deletePeriodSeconds: DELETE_PERIOD_S, purgePeriodSeconds: PURGE_PERIOD_S, mailboxCap: DEFAULT_CAP },
        },
        `mailboxCap 0 is the server default again: ${show(back)}`,
      );
      await p101.logout();
    });
  });
});
