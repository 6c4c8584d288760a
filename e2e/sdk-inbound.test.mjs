// Inbound traffic simulated through the admin API (/switchboard/v1/inbound/…),
// as a developer testing inbound handling would, then read back through the
// official SDK as the mailbox owner sees it: an SMS from outside, in the
// conversation with its sender, and a voicemail whose recording downloads
// whole and by Range (how a browser's audio element seeks) and whose
// transcript comes from the configured transcriber.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { assertRcError, http, newSdk, serverLogOnFailure, show, startServer, withServerLog } from './harness.mjs';

const STORE = '/restapi/v1.0/account/~/extension/~/message-store';
const PEER = '+15550104242';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A 16-bit mono PCM WAV at 8 kHz, `millis` long, of a ramp (not silence). */
function wav(millis) {
  const data = 16 * millis;
  const b = Buffer.alloc(44 + data);
  b.write('RIFF', 0, 'ascii');
  b.writeUInt32LE(36 + data, 4);
  b.write('WAVEfmt ', 8, 'ascii');
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20); // PCM
  b.writeUInt16LE(1, 22); // mono
  b.writeUInt32LE(8000, 24);
  b.writeUInt32LE(16000, 28); // byte rate
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36, 'ascii');
  b.writeUInt32LE(data, 40);
  for (let i = 0; i < data; i++) b[44 + i] = (i * 7) & 0xff;
  return b;
}

/** POST a multipart form (fields and one file) to the admin API. */
async function postForm(srv, url, fields, file) {
  const fd = new FormData();
  for (const [k, v] of Object.entries(fields)) fd.append(k, v);
  if (file) fd.append(file.field, new Blob([file.data], { type: file.type }), file.name);
  const res = await fetch(srv.server + url, {
    method: 'POST',
    headers: { Authorization: `Bearer ${srv.demo.adminToken}` },
    body: fd,
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json, method: 'POST', url: srv.server + url, headers: res.headers };
}

describe('inbound SMS and voicemail through the admin API, read with the SDK', () => {
  serverLogOnFailure();
  let srv;
  let platform; // 101, the recipient
  let dir;

  before(
    withServerLog(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-e2e-stt-'));
      const stt = path.join(dir, 'stt.sh');
      fs.writeFileSync(stt, '#!/bin/sh\nn=$(wc -c)\necho "Please call me back. ($n bytes of $SWITCHBOARD_AUDIO_CONTENT_TYPE)"\n', { mode: 0o755 });
      srv = await startServer({ args: ['--transcribe-command', stt] });
      const sdk = await newSdk(srv);
      platform = sdk.platform();
      await platform.login({ jwt: srv.e101.jwt });
    }),
  );
  after(async () => {
    await srv?.stopAndCheck();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('an inbound SMS is in the mailbox, Unread, in the conversation with its sender', async () => {
    const text = `Inbound hello ${process.pid}-${Date.now()}`;
    const res = await http(srv.server, '/switchboard/v1/inbound/sms', {
      method: 'POST',
      token: srv.demo.adminToken,
      body: { from: PEER, to: srv.e101.phoneNumber, text },
    });
    assert.equal(res.status, 200, show(res));
    const stored = res.json;
    assert.equal(stored.type, 'SMS');
    assert.equal(stored.direction, 'Inbound');

    const got = await (await platform.get(`${STORE}/${stored.id}`)).json();
    assert.equal(got.subject, text);
    assert.equal(got.direction, 'Inbound');
    assert.equal(got.messageStatus, 'Received');
    assert.equal(got.readStatus, 'Unread');
    assert.equal(got.from.phoneNumber, PEER);
    assert.equal(got.to[0].phoneNumber, srv.e101.phoneNumber);
    assert.deepEqual(got, stored, 'the admin API answers the message as the message store shows it');

    // 101's reply to the sender joins the same conversation.
    const reply = await (
      await platform.post('/restapi/v1.0/account/~/extension/~/sms', {
        from: { phoneNumber: srv.e101.phoneNumber },
        to: [{ phoneNumber: PEER }],
        text: 'Got it',
      })
    ).json();
    assert.equal(reply.conversationId, got.conversationId);
    const conv = await (await platform.get(STORE, { conversationId: got.conversationId })).json();
    assert.deepEqual(
      conv.records.map((m) => m.id).sort(),
      [got.id, reply.id].sort(),
      'the conversation holds the inbound SMS and the reply',
    );
  });

  it('an SMS to a number this server does not have is refused and not stored', async () => {
    const res = await http(srv.server, '/switchboard/v1/inbound/sms', {
      method: 'POST',
      token: srv.demo.adminToken,
      body: { from: PEER, to: '+15550109999', text: 'nobody home' },
    });
    assert.equal(res.status, 404, show(res));
    assertRcError(res.json, { errorCode: 'CMN-102', parameterName: 'to' });
    const list = await (await platform.get(STORE, { phoneNumber: '+15550109999' })).json();
    assert.equal(list.records.length, 0);
  });

  it('a voicemail: measured audio, downloadable whole and by Range, transcribed', async () => {
    const audio = wav(4200);
    const res = await postForm(
      srv,
      '/switchboard/v1/inbound/voicemail',
      { from: PEER, to: srv.e101.phoneNumber },
      { field: 'audio', name: 'greeting.wav', type: 'application/octet-stream', data: audio },
    );
    assert.equal(res.status, 200, show(res));
    const vm = res.json;
    assert.equal(vm.type, 'VoiceMail');

    // Read it with the SDK; the transcriber runs in the background.
    let got;
    for (let i = 0; i < 100; i++) {
      got = await (await platform.get(`${STORE}/${vm.id}`)).json();
      if (got.vmTranscriptionStatus !== 'InProgress') break;
      await sleep(100);
    }
    assert.equal(got.direction, 'Inbound');
    assert.equal(got.readStatus, 'Unread');
    assert.equal(got.messageStatus, 'Received');
    const rec = got.attachments.find((a) => a.type === 'AudioRecording');
    assert.ok(rec, JSON.stringify(got.attachments));
    assert.equal(rec.contentType, 'audio/wav', 'typed by content, not by the declared type');
    assert.equal(rec.size, audio.length);
    assert.equal(rec.vmDuration, 4, '4.2 s of audio');

    const whole = await platform.get(rec.uri);
    assert.equal(whole.status, 200);
    assert.match(whole.headers.get('content-type') || '', /^audio\/wav/);
    assert.ok(Buffer.from(await whole.arrayBuffer()).equals(audio), 'the recording downloads unchanged');

    const part = await platform.get(rec.uri, undefined, { headers: { Range: 'bytes=8000-8999' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 8000-8999/${audio.length}`);
    assert.ok(Buffer.from(await part.arrayBuffer()).equals(audio.subarray(8000, 9000)), 'the range is that slice');

    if (srv.external) {
      assert.ok(['NotAvailable', 'Completed', 'Failed', 'TimedOut'].includes(got.vmTranscriptionStatus), got.vmTranscriptionStatus);
      return; // an external server has its own transcriber, or none
    }
    assert.equal(got.vmTranscriptionStatus, 'Completed', JSON.stringify(got));
    const tr = got.attachments.find((a) => a.type === 'AudioTranscription');
    assert.ok(tr, JSON.stringify(got.attachments));
    assert.match(tr.contentType, /^text\/plain/);
    const text = await (await platform.get(tr.uri)).text();
    assert.equal(text, `Please call me back. (${audio.length} bytes of audio/wav)`);
  });

  it('a voicemail with malformed audio is refused with a 4xx and nothing is stored', async () => {
    const before = await (await platform.get(STORE, { messageType: 'VoiceMail', perPage: 1000 })).json();
    const res = await postForm(
      srv,
      '/switchboard/v1/inbound/voicemail',
      { from: PEER, to: srv.e101.phoneNumber },
      { field: 'audio', name: 'broken.wav', type: 'audio/wav', data: wav(1000).subarray(0, 30) },
    );
    assert.equal(res.status, 400, show(res));
    assertRcError(res.json, { errorCode: 'CMN-101', parameterName: 'audio' });
    const afterList = await (await platform.get(STORE, { messageType: 'VoiceMail', perPage: 1000 })).json();
    assert.equal(afterList.records.length, before.records.length);
  });
});

describe('a transcription pending at a restart is resumed from the database', () => {
  serverLogOnFailure();
  let first;
  let second;
  let dir;

  after(async () => {
    await (second || first)?.stopAndCheck();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    if (first?.dataDir && process.env.SWITCHBOARD_E2E_KEEP !== '1') fs.rmSync(first.dataDir, { recursive: true, force: true });
  });

  it('InProgress across the restart, then Completed by the new process', async (t) => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-e2e-stt-'));
    const hang = path.join(dir, 'hang.sh');
    fs.writeFileSync(hang, '#!/bin/sh\nexec sleep 60\n', { mode: 0o755 });
    const ok = path.join(dir, 'ok.sh');
    fs.writeFileSync(ok, '#!/bin/sh\ncat >/dev/null\necho "Transcribed after the restart."\n', { mode: 0o755 });

    first = await startServer({ args: ['--transcribe-command', hang, '--transcribe-timeout', '30s'] });
    if (first.external) {
      t.skip('external server (SWITCHBOARD_DEMO)');
      return;
    }
    const res = await postForm(
      first,
      '/switchboard/v1/inbound/voicemail',
      { from: PEER, to: first.e102.phoneNumber },
      { field: 'audio', name: 'vm.wav', type: 'audio/wav', data: wav(2000) },
    );
    assert.equal(res.status, 200, show(res));
    assert.equal(res.json.vmTranscriptionStatus, 'InProgress');
    await sleep(300); // the worker has claimed the job and is running the transcriber
    await first.stopAndCheck({ keepData: true });

    second = await startServer({ dataDir: first.dataDir, args: ['--transcribe-command', ok] });
    const p = (await newSdk(second)).platform();
    await p.login({ jwt: second.e102.jwt });
    let got = await (await p.get(`${STORE}/${res.json.id}`)).json();
    // The graceful stop released the job's lease, so the new process may
    // have taken it over already; either way the job survived the restart.
    assert.ok(['InProgress', 'Completed'].includes(got.vmTranscriptionStatus), JSON.stringify(got));

    // Had the first process died instead, its lease would run out after
    // the timeout plus a minute: moving the emulator's clock past it
    // changes nothing for a released job.
    const adv = await http(second.server, '/switchboard/v1/clock/advance', {
      method: 'POST',
      token: second.demo.adminToken,
      body: { seconds: 300 },
    });
    assert.equal(adv.status, 200, show(adv));
    for (let i = 0; i < 150 && got.vmTranscriptionStatus === 'InProgress'; i++) {
      await sleep(100);
      got = await (await p.get(`${STORE}/${res.json.id}`)).json();
    }
    assert.equal(got.vmTranscriptionStatus, 'Completed', JSON.stringify(got));
    const tr = got.attachments.find((a) => a.type === 'AudioTranscription');
    assert.equal(await (await p.get(tr.uri)).text(), 'Transcribed after the restart.');
    assert.equal(got.attachments.filter((a) => a.type === 'AudioRecording').length, 1, 'the recording is kept');
  });
});
