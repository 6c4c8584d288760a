// Sending through the official SDKs, as an app developer writes it:
// @ringcentral/sdk (platform.post of JSON, and of a FormData for MMS, the
// SDK README's recipe) and @rc-ex/core (sms().post, which always sends
// multipart with a request.json part; companyPager().post; fax().post with
// attachments). Each message is followed to its final status through the
// delivery worker and the carrier simulator, and into the recipient's mailbox.

import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { after, before, describe, it } from 'node:test';

import RingCentral from '@rc-ex/core';
import RestException from '@rc-ex/core/RestException';
import NodeFormData from 'form-data';

import {
  ISO_MS,
  assertRcError,
  http,
  newSdk,
  sdkFailure,
  serverLogOnFailure,
  show,
  startServer,
  withServerLog,
} from './harness.mjs';

const EXT = '/restapi/v1.0/account/~/extension/~';
const STORE = `${EXT}/message-store`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// External numbers (not on this server): the carrier simulator takes them.
const EXTERNAL_OK = '+15559990002';
const EXTERNAL_REFUSED = '+15559990001';
const DELIVERY_DELAY_SECONDS = 2;

let seq = 0;
/** A text no other test sends, so a mailbox search finds exactly one message. */
const unique = (what) => `${what} [${process.pid}-${++seq}-${Date.now()}]`;

// ---- a tiny real PNG (1×1, RGB), built byte by byte

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

function tinyPng([r, g, b]) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(1, 0); // width
  ihdr.writeUInt32BE(1, 4); // height
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: truecolour
  ihdr[10] = 0; // compression
  ihdr[11] = 0; // filter
  ihdr[12] = 0; // interlace
  const raw = Buffer.from([0, r, g, b]); // filter byte 0, one RGB pixel
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', zlib.deflateSync(raw)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Await an @rc-ex/core call that must throw a RestException; returns its axios response. */
async function restFailure(promise, what) {
  let r;
  try {
    r = await promise;
  } catch (e) {
    assert.ok(e instanceof RestException, `${what}: expected a RestException, got ${e && e.stack}`);
    return e.response;
  }
  assert.fail(`${what}: expected a RestException, got ${JSON.stringify(r).slice(0, 500)}`);
}

describe('sending through the SDKs: SMS, MMS, pager, fax', () => {
  serverLogOnFailure();
  let srv;
  let e101;
  let e102;
  let p101; // @ringcentral/sdk platform logged in as 101 (the recipient)
  let p102; // @ringcentral/sdk platform logged in as 102 (the sender)
  let rc102; // @rc-ex/core logged in as 102

  before(
    withServerLog(async () => {
      srv = await startServer();
      ({ e101, e102 } = srv);
      const sdk101 = await newSdk(srv);
      const sdk102 = await newSdk(srv);
      p101 = sdk101.platform();
      p102 = sdk102.platform();
      await p101.login({ jwt: e101.jwt });
      await p102.login({ jwt: e102.jwt });
      rc102 = new RingCentral({ server: srv.server, clientId: srv.demo.clientId, clientSecret: srv.demo.clientSecret });
      await rc102.authorize({ jwt: e102.jwt });

      const rules = {
        deliveryDelaySeconds: DELIVERY_DELAY_SECONDS,
        rules: [{ match: `^\\${EXTERNAL_REFUSED}$`, stage: 'submit', errorCode: 'SMS-CAR-411' }],
      };
      const res = await http(srv.server, '/switchboard/v1/carrier/rules', {
        method: 'PUT',
        token: srv.demo.adminToken,
        body: rules,
      });
      assert.equal(res.status, 200, `set carrier rules: ${show(res)}`);
      assert.equal(res.json.deliveryDelaySeconds, DELIVERY_DELAY_SECONDS, show(res));
      assert.equal(res.json.rules.length, 1, show(res));
    }),
  );

  after(async () => {
    if (srv) await srv.stopAndCheck();
  });

  const getJson = async (platform, url, query) => (await platform.get(url, query)).json();

  /**
   * Poll `read` until `done(value)` holds (or timeoutMs passes: fail, showing
   * the last value). Returns { value, seen } where seen lists each distinct
   * `trace(value)` observed, in order.
   */
  async function waitFor(read, done, what, { timeoutMs = 15_000, trace = (v) => v.messageStatus } = {}) {
    const deadline = Date.now() + timeoutMs;
    const seen = [];
    for (;;) {
      const value = await read();
      const t = trace(value);
      if (seen[seen.length - 1] !== t) seen.push(t);
      if (done(value)) return { value, seen };
      if (Date.now() > deadline) {
        assert.fail(`${what}: not reached after ${timeoutMs} ms; seen ${JSON.stringify(seen)}; last: ${JSON.stringify(value)}`);
      }
      await sleep(50);
    }
  }

  /** The sender's (102's) copy of a message, through the JS SDK. */
  const senderCopy = (id) => getJson(p102, `${STORE}/${id}`);

  /** Wait until the sender's copy reaches `status`; returns { value, seen }. */
  const senderReaches = (id, status, timeoutMs) =>
    waitFor(() => senderCopy(id), (m) => m.messageStatus === status, `message ${id} becomes ${status}`, { timeoutMs });

  /** Messages of `platform`'s mailbox (the last 24 hours) of a type and direction whose subject is `text`. */
  async function findBySubject(platform, messageType, direction, text) {
    const list = await getJson(platform, STORE, { messageType, direction, perPage: 1000 });
    assert.ok(Array.isArray(list.records), JSON.stringify(list));
    return list.records.filter((m) => m.subject === text);
  }

  /** Wait until exactly one such message is in the mailbox; returns it. */
  async function inboundCopy(platform, messageType, text, who = '101') {
    const { value } = await waitFor(
      () => findBySubject(platform, messageType, 'Inbound', text),
      (found) => found.length > 0,
      `${who} receives the ${messageType} "${text}"`,
      { trace: (found) => found.length },
    );
    assert.equal(value.length, 1, `exactly one inbound copy: ${JSON.stringify(value)}`);
    return value[0];
  }

  const download = async (platform, uri) => {
    const res = await platform.get(uri);
    assert.equal(res.status, 200);
    return { bytes: Buffer.from(await res.arrayBuffer()), contentType: res.headers.get('content-type') || '' };
  };

  /** Checks common to every freshly accepted outbound message of 102. */
  function assertQueuedFrom102(msg, type, what) {
    const ctx = `${what}: ${JSON.stringify(msg)}`;
    assert.equal(typeof msg.id, 'number', `id is a JSON number (${ctx})`);
    assert.equal(msg.type, type, ctx);
    assert.equal(msg.direction, 'Outbound', ctx);
    assert.equal(msg.messageStatus, 'Queued', ctx);
    assert.equal(msg.readStatus, 'Read', ctx);
    assert.equal(msg.availability, 'Alive', ctx);
    assert.equal(String(msg.extensionId), e102.id, ctx);
    assert.match(msg.creationTime, ISO_MS, ctx);
    assert.equal(
      msg.uri,
      `${srv.server}/restapi/v1.0/account/${e102.accountId}/extension/${e102.id}/message-store/${msg.id}`,
      ctx,
    );
  }

  // ---- 1. SMS through @ringcentral/sdk

  it('JS SDK: POST sms (JSON) is Queued with segmentCount, becomes Delivered; 101 gets it Unread in the same conversation', async () => {
    const text = unique('hello 101 from 102');
    const res = await p102.post(`${EXT}/sms`, {
      from: { phoneNumber: e102.phoneNumber },
      to: [{ phoneNumber: e101.phoneNumber }],
      text,
    });
    assert.equal(res.status, 200);
    const sent = await res.json();
    assertQueuedFrom102(sent, 'SMS', 'POST sms');
    assert.equal(sent.subject, text);
    assert.equal(sent.segmentCount, 1, `a short GSM-7 text is one segment: ${JSON.stringify(sent)}`);
    assert.equal(sent.from.phoneNumber, e102.phoneNumber);
    assert.deepEqual(
      sent.to.map((t) => t.phoneNumber),
      [e101.phoneNumber],
    );
    assert.ok(sent.conversationId, `an outbound SMS has a conversationId: ${JSON.stringify(sent)}`);
    assert.equal(sent.conversation && String(sent.conversation.id), String(sent.conversationId));
    const senderText = sent.attachments.find((a) => a.type === 'Text');
    assert.ok(senderText, `the text is a Text attachment: ${JSON.stringify(sent.attachments)}`);

    const { value: done } = await senderReaches(sent.id, 'Delivered');
    assert.equal(done.to[0].messageStatus, 'Delivered', `to[0] of an internal SMS: ${JSON.stringify(done.to)}`);
    assert.ok(Date.parse(done.lastModifiedTime) >= Date.parse(sent.lastModifiedTime), 'lastModifiedTime does not go back');

    const inbound = await inboundCopy(p101, 'SMS', text);
    assert.equal(inbound.direction, 'Inbound');
    assert.equal(inbound.readStatus, 'Unread');
    assert.equal(inbound.messageStatus, 'Received');
    assert.equal(String(inbound.extensionId), e101.id);
    assert.equal(inbound.from.phoneNumber, e102.phoneNumber);
    assert.deepEqual(
      inbound.to.map((t) => t.phoneNumber),
      [e101.phoneNumber],
    );
    assert.equal(String(inbound.conversationId), String(sent.conversationId), 'one conversation on both sides');
    assert.equal(inbound.segmentCount, 1);
    assert.notEqual(String(inbound.id), String(sent.id), 'the inbound copy is a message of its own');

    const att = inbound.attachments.find((a) => a.type === 'Text');
    assert.ok(att, `the inbound copy has the Text attachment: ${JSON.stringify(inbound.attachments)}`);
    assert.ok(att.uri.startsWith(`${srv.server}/restapi/v1.0/account/${e101.accountId}/extension/${e101.id}/`), att.uri);
    const got = await download(p101, att.uri);
    assert.match(got.contentType, /^text\/plain/);
    assert.equal(got.bytes.toString('utf8'), text);

    // The sender reads its own Text attachment too.
    const mine = await download(p102, senderText.uri);
    assert.equal(mine.bytes.toString('utf8'), text);
  });

  it('JS SDK: segmentCount follows GSM-7 (160/153) and UCS-2 (70/67) segmentation', async () => {
    const cases = [
      ['a'.repeat(160), 1],
      ['a'.repeat(161), 2],
      ['a'.repeat(306), 2],
      ['a'.repeat(307), 3],
      ['Ж'.repeat(70), 1],
      ['Ж'.repeat(71), 2],
    ];
    for (const [text, want] of cases) {
      const sent = await (
        await p102.post(`${EXT}/sms`, {
          from: { phoneNumber: e102.phoneNumber },
          to: [{ phoneNumber: e101.phoneNumber }],
          text,
        })
      ).json();
      assert.equal(sent.segmentCount, want, `${text.length} × ${JSON.stringify(text[0])} is ${want} segment(s)`);
    }
  });

  // ---- 2. MMS through @ringcentral/sdk: the SDK README's multipart recipes

  /**
   * Post `form` (a JSON part + one PNG named pixel.png whose JSON has `text`)
   * to /sms with `platform` as 102 and check the MMS end to end: the sender's
   * copy, Delivered, and 101 downloading identical bytes.
   */
  async function checkMms(platform, form, png, text) {
    const res = await platform.post(`${EXT}/sms`, form);
    assert.equal(res.status, 200);
    const sent = await res.json();
    assertQueuedFrom102(sent, 'SMS', 'POST sms multipart');
    assert.equal(sent.subject, text);
    const pic = sent.attachments.find((a) => a.type === 'MmsAttachment');
    assert.ok(pic, `an MmsAttachment: ${JSON.stringify(sent.attachments)}`);
    assert.equal(pic.contentType, 'image/png');
    assert.equal(pic.fileName, 'pixel.png');
    assert.equal(pic.size, png.length);
    assert.ok(
      sent.attachments.some((a) => a.type === 'Text'),
      `the text of an MMS is a Text attachment: ${JSON.stringify(sent.attachments)}`,
    );
    const mine = await download(p102, pic.uri);
    assert.ok(mine.bytes.equals(png), 'the sender reads back the bytes it sent');

    await senderReaches(sent.id, 'Delivered');

    const inbound = await inboundCopy(p101, 'SMS', text);
    assert.equal(inbound.readStatus, 'Unread');
    assert.equal(inbound.from.phoneNumber, e102.phoneNumber);
    assert.equal(String(inbound.conversationId), String(sent.conversationId));
    const got = inbound.attachments.find((a) => a.type === 'MmsAttachment');
    assert.ok(got, `the inbound MMS has the picture: ${JSON.stringify(inbound.attachments)}`);
    assert.equal(got.contentType, 'image/png');
    assert.equal(got.fileName, 'pixel.png');
    assert.equal(got.size, png.length);
    const dl = await download(p101, got.uri);
    assert.match(dl.contentType, /^image\/png/);
    assert.equal(dl.bytes.length, png.length);
    assert.ok(dl.bytes.equals(png), 'the recipient downloads the very bytes that were sent');
  }

  it('JS SDK (README Node recipe, form-data package): JSON part + PNG posted to /sms is an MMS; 101 downloads identical bytes', async () => {
    // In Node the SDK sends through node-fetch 2, which encodes `form-data`
    // objects (the README's Node.js recipe), not the global FormData.
    const png = tinyPng([0x12, 0x9a, 0xfe]);
    const text = unique('a picture (form-data)');
    const body = { from: { phoneNumber: e102.phoneNumber }, to: [{ phoneNumber: e101.phoneNumber }], text };
    const form = new NodeFormData();
    form.append('json', Buffer.from(JSON.stringify(body)), { filename: 'request.json', contentType: 'application/json' });
    form.append('attachment', png, { filename: 'pixel.png', contentType: 'image/png' });
    await checkMms(p102, form, png, text);
  });

  it('JS SDK on the native fetch (README browser recipe, global FormData + File): PNG posted to /sms is an MMS', async () => {
    const sdk = await newSdk(srv, {
      fetch: globalThis.fetch,
      Request: globalThis.Request,
      Response: globalThis.Response,
      Headers: globalThis.Headers,
    });
    const platform = sdk.platform();
    await platform.login({ jwt: e102.jwt });
    const png = tinyPng([0xfe, 0x01, 0x7c]);
    const text = unique('a picture (global FormData)');
    const body = { from: { phoneNumber: e102.phoneNumber }, to: [{ phoneNumber: e101.phoneNumber }], text };
    const form = new FormData();
    form.append('json', new File([JSON.stringify(body)], 'request.json', { type: 'application/json' }));
    form.append('attachment', new File([png], 'pixel.png', { type: 'image/png' }));
    await checkMms(platform, form, png, text);
  });

  // ---- 3. @rc-ex/core: sms (multipart with request.json only) and company pager

  it('rc-ex: sms().post() (multipart, request.json only) is Queued then Delivered; 101 receives it', async () => {
    const text = unique('rc-ex says hi');
    const sent = await rc102.restapi().account().extension().sms().post({
      from: { phoneNumber: e102.phoneNumber },
      to: [{ phoneNumber: e101.phoneNumber }],
      text,
    });
    assertQueuedFrom102(sent, 'SMS', 'rc-ex sms().post');
    assert.equal(sent.subject, text);
    assert.equal(sent.segmentCount, 1);
    assert.ok(
      !sent.attachments.some((a) => a.type === 'MmsAttachment'),
      `no files: an SMS, not an MMS: ${JSON.stringify(sent.attachments)}`,
    );

    const { value } = await waitFor(
      () => rc102.restapi().account().extension().messageStore(String(sent.id)).get(),
      (m) => m.messageStatus === 'Delivered',
      'rc-ex SMS becomes Delivered',
    );
    assert.equal(value.to[0].messageStatus, 'Delivered');

    const inbound = await inboundCopy(p101, 'SMS', text);
    assert.equal(inbound.readStatus, 'Unread');
    assert.equal(String(inbound.conversationId), String(sent.conversationId));
  });

  it('rc-ex: sms to an external number goes Sent, then Delivered by the carrier with smsDeliveryTime', async () => {
    const text = unique('to the outside');
    const t0 = Date.now();
    const sent = await rc102.restapi().account().extension().sms().post({
      from: { phoneNumber: e102.phoneNumber },
      to: [{ phoneNumber: EXTERNAL_OK }],
      text,
    });
    assertQueuedFrom102(sent, 'SMS', 'sms to an external number');

    const { value, seen } = await senderReaches(sent.id, 'Delivered');
    assert.deepEqual(
      seen.filter((s) => s !== 'Queued'),
      ['Sent', 'Delivered'],
      `Sent while the carrier holds it, then Delivered (seen ${JSON.stringify(seen)})`,
    );
    const took = Date.now() - t0;
    assert.ok(
      took >= DELIVERY_DELAY_SECONDS * 1000 - 250,
      `Delivered only after the carrier's ${DELIVERY_DELAY_SECONDS} s delay (took ${took} ms)`,
    );
    assert.equal(value.to[0].phoneNumber, EXTERNAL_OK);
    assert.equal(value.to[0].messageStatus, 'Delivered');
    assert.match(value.smsDeliveryTime || '', ISO_MS, `smsDeliveryTime: ${JSON.stringify(value)}`);
    assert.equal(value.deliveryErrorCode, undefined, 'no error code on a delivered SMS');
    assert.equal(value.smsSendingAttemptsCount, 1, JSON.stringify(value));
  });

  it('rc-ex: sms to a number the carrier refuses at submit is SendingFailed with deliveryErrorCode SMS-CAR-411', async () => {
    const text = unique('refused');
    const sent = await rc102.restapi().account().extension().sms().post({
      from: { phoneNumber: e102.phoneNumber },
      to: [{ phoneNumber: EXTERNAL_REFUSED }],
      text,
    });
    assertQueuedFrom102(sent, 'SMS', 'sms to a refused number');
    const { value } = await senderReaches(sent.id, 'SendingFailed');
    assert.equal(value.deliveryErrorCode, 'SMS-CAR-411', JSON.stringify(value));
    assert.equal(value.to[0].phoneNumber, EXTERNAL_REFUSED);
    assert.equal(value.to[0].messageStatus, 'SendingFailed', JSON.stringify(value.to));
    assert.equal(value.smsDeliveryTime, undefined, 'never delivered');

    // It stays failed: no receipt turns it into Delivered later.
    await sleep(DELIVERY_DELAY_SECONDS * 1000 + 300);
    const later = await senderCopy(sent.id);
    assert.equal(later.messageStatus, 'SendingFailed', JSON.stringify(later));
    assert.equal(later.deliveryErrorCode, 'SMS-CAR-411');
  });

  it('rc-ex: companyPager().post() to extension 101 gives 101 an inbound Pager', async () => {
    const text = unique('pager for 101');
    const sent = await rc102.restapi().account().extension().companyPager().post({
      to: [{ extensionNumber: '101' }],
      text,
    });
    assertQueuedFrom102(sent, 'Pager', 'companyPager().post');
    assert.equal(sent.subject, text);
    assert.equal(sent.from.extensionNumber, '102', JSON.stringify(sent.from));
    assert.deepEqual(
      sent.to.map((t) => t.extensionNumber),
      ['101'],
    );
    assert.equal(sent.pgToDepartment, false);

    await senderReaches(sent.id, 'Sent');

    const inbound = await inboundCopy(p101, 'Pager', text);
    assert.equal(inbound.direction, 'Inbound');
    assert.equal(inbound.readStatus, 'Unread');
    assert.equal(inbound.messageStatus, 'Received');
    assert.equal(inbound.from.extensionNumber, '102');
    assert.equal(inbound.pgToDepartment, false);
    assert.equal(String(inbound.conversationId), String(sent.conversationId));
    const att = inbound.attachments.find((a) => a.type === 'Text');
    assert.ok(att, JSON.stringify(inbound.attachments));
    assert.equal((await download(p101, att.uri)).bytes.toString('utf8'), text);
  });

  it('rc-ex: a pager to department 103 reaches its other member (101) with pgToDepartment, not the sender', async () => {
    const text = unique('pager for the department');
    const sent = await rc102.restapi().account().extension().companyPager().post({
      to: [{ extensionNumber: '103' }],
      text,
    });
    assertQueuedFrom102(sent, 'Pager', 'pager to 103');
    assert.equal(sent.pgToDepartment, true, JSON.stringify(sent));

    await senderReaches(sent.id, 'Sent');

    const inbound = await inboundCopy(p101, 'Pager', text);
    assert.equal(inbound.pgToDepartment, true, JSON.stringify(inbound));
    assert.equal(inbound.from.extensionNumber, '102');
    assert.deepEqual(
      inbound.to.map((t) => t.extensionNumber),
      ['103'],
    );

    // 102 is a member of 103 too, but it sent the message: only its outbound copy.
    const own = await findBySubject(p102, 'Pager', 'Inbound', text);
    assert.deepEqual(own, [], 'the sender gets no inbound copy of its own department pager');
    const out = await findBySubject(p102, 'Pager', 'Outbound', text);
    assert.equal(out.length, 1);
  });

  // ---- 4. Fax through @rc-ex/core (feature-detected)

  it('rc-ex: fax().post() with a text attachment is Queued then Sent; 101 gets a PDF fax', async (t) => {
    let sent;
    try {
      sent = await rc102.restapi().account().extension().fax().post({
        to: [{ phoneNumber: e101.phoneNumber }],
        faxResolution: 'High',
        attachments: [{ filename: 'note.txt', content: 'hello fax', contentType: 'text/plain' }],
      });
    } catch (e) {
      const r = e instanceof RestException ? e.response : null;
      if (r && r.status === 404 && r.data && r.data.errorCode === 'CMN-120') {
        t.skip('fax endpoint not available: POST …/extension/~/fax answered 404 CMN-120');
        return;
      }
      throw e;
    }
    assertQueuedFrom102(sent, 'Fax', 'fax().post');
    assert.equal(sent.faxResolution, 'High', JSON.stringify(sent));

    const { value } = await waitFor(
      () => rc102.restapi().account().extension().messageStore(String(sent.id)).get(),
      (m) => m.messageStatus === 'Sent',
      'the fax becomes Sent',
    );
    assert.equal(value.to[0].phoneNumber, e101.phoneNumber);
    assert.ok(value.faxPageCount >= 1, `faxPageCount: ${JSON.stringify(value)}`);

    const { value: faxes } = await waitFor(
      () => getJson(p101, STORE, { messageType: 'Fax', direction: 'Inbound', perPage: 1000 }),
      (l) => l.records.length > 0,
      '101 receives the fax',
      { trace: (l) => l.records.length },
    );
    assert.equal(faxes.records.length, 1, JSON.stringify(faxes.records));
    const fax = faxes.records[0];
    assert.equal(fax.type, 'Fax');
    assert.equal(fax.readStatus, 'Unread');
    assert.equal(fax.messageStatus, 'Received');
    assert.equal(fax.faxResolution, 'High');
    assert.ok(fax.faxPageCount >= 1, `faxPageCount ≥ 1: ${JSON.stringify(fax)}`);
    assert.deepEqual(
      fax.to.map((x) => x.phoneNumber),
      [e101.phoneNumber],
    );
    const doc = fax.attachments.find((a) => a.type === 'RenderedDocument');
    assert.ok(doc, `a RenderedDocument: ${JSON.stringify(fax.attachments)}`);
    const dl = await download(p101, doc.uri);
    assert.match(dl.contentType, /^application\/pdf/);
    assert.equal(dl.bytes.subarray(0, 5).toString('latin1'), '%PDF-', 'the rendered fax is a PDF');
    assert.ok(
      !fax.attachments.some((a) => a.type === 'SourceDocument'),
      `the recipient gets the rendered fax, not the sender's sources: ${JSON.stringify(fax.attachments)}`,
    );
  });

  // ---- 5. Errors through the SDKs

  it('JS SDK: empty text is 400 CMN-101 naming parameter text', async () => {
    for (const text of ['', '   ']) {
      const f = await sdkFailure(
        p102.post(`${EXT}/sms`, { from: { phoneNumber: e102.phoneNumber }, to: [{ phoneNumber: e101.phoneNumber }], text }),
        `sms with text ${JSON.stringify(text)}`,
      );
      assert.equal(f.status, 400, f.text);
      assertRcError(f.body, { errorCode: 'CMN-101', parameterName: 'text' }, `text ${JSON.stringify(text)}`);
    }
    const pager = await sdkFailure(
      p102.post(`${EXT}/company-pager`, { to: [{ extensionNumber: '101' }], text: '' }),
      'pager with empty text',
    );
    assert.equal(pager.status, 400, pager.text);
    assertRcError(pager.body, { errorCode: 'CMN-101', parameterName: 'text' }, 'pager');
  });

  it('JS SDK and rc-ex: a from number the user does not own is 403 MSG-304', async () => {
    const body = { from: { phoneNumber: e101.phoneNumber }, to: [{ phoneNumber: EXTERNAL_OK }], text: 'not my number' };
    const f = await sdkFailure(p102.post(`${EXT}/sms`, body), 'sms from 101 number as 102');
    assert.equal(f.status, 403, f.text);
    assertRcError(f.body, { errorCode: 'MSG-304', parameterName: 'from.phoneNumber' });

    const r = await restFailure(rc102.restapi().account().extension().sms().post(body), 'rc-ex sms from a foreign number');
    assert.equal(r.status, 403);
    assertRcError(r.data, { errorCode: 'MSG-304' }, 'rc-ex');

    // Nothing was stored for the refused sends.
    const out = await findBySubject(p102, 'SMS', 'Outbound', 'not my number');
    assert.deepEqual(out, []);
  });
});
