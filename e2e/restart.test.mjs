// A restart on the same data directory keeps everything: messages and their
// bytes, the demo credentials (demo.json is rewritten with the new URL), and
// the tokens the SDK already holds.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, describe, it } from 'node:test';

import {
  bytesOf,
  importMessages,
  inboundSms,
  newSdk,
  serverLogOnFailure,
  startServer,
} from './harness.mjs';

const ME = '/restapi/v1.0/account/~/extension/~';
const STORE = `${ME}/message-store`;

describe('restart on the same data directory', () => {
  serverLogOnFailure();
  let first;
  let second;

  after(async () => {
    if (second) {
      await second.stopAndCheck();
    } else if (first) {
      await first.stopAndCheck();
      if (first.dataDir && process.env.SWITCHBOARD_E2E_KEEP !== '1') {
        fs.rmSync(first.dataDir, { recursive: true, force: true });
      }
    }
  });

  it('keeps messages, attachment bytes, credentials and issued tokens', async (t) => {
    first = await startServer();
    if (first.external) {
      t.skip('external server (SWITCHBOARD_DEMO)');
      return;
    }
    const p1 = (await newSdk(first)).platform();
    await p1.login({ jwt: first.e101.jwt });
    const tokens = { ...(await p1.auth().data()) };

    const audio = bytesOf(3000, 11);
    const [m] = await importMessages(first, [
      {
        ...inboundSms(first.e101),
        type: 'VoiceMail',
        subject: undefined,
        attachments: [
          { type: 'AudioRecording', contentType: 'audio/mpeg', fileName: 'vm.mp3', content: audio.toString('base64') },
        ],
      },
    ]);
    await p1.put(`${STORE}/${m.id}`, { readStatus: 'Read' });
    const was = await (await p1.get(`${STORE}/${m.id}`)).json();

    await first.stopAndCheck({ keepData: true });
    second = await startServer({ dataDir: first.dataDir });

    const { server: s1, ...rest1 } = first.demo;
    const { server: s2, ...rest2 } = second.demo;
    assert.match(s2, /^http:\/\/127\.0\.0\.1:\d+$/, 'demo.json names the new URL');
    assert.deepEqual(rest2, rest1, 'demo.json keeps the same app, admin token, extensions and credentials');

    // The token pair issued before the restart still works.
    const p2 = (await newSdk(second)).platform();
    await p2.auth().setData(tokens);
    const me = await (await p2.get(ME)).json();
    assert.equal(String(me.id), second.e101.id);

    const now = await (await p2.get(`${STORE}/${m.id}`)).json();
    const rebased = JSON.parse(JSON.stringify(was).replaceAll(s1, s2));
    assert.deepEqual(now, rebased, 'the message is unchanged (apart from the server URL in its uris)');
    assert.equal(now.readStatus, 'Read', 'the change made before the restart is kept');
    const content = await p2.get(now.attachments[0].uri);
    assert.ok(Buffer.from(await content.arrayBuffer()).equals(audio), 'the attachment bytes are kept');

    await p2.refresh();
    assert.equal((await (await p2.get(ME)).json()).extensionNumber, '101', 'the refresh token issued before works');

    const p3 = (await newSdk(second)).platform();
    await p3.login({ jwt: second.e101.jwt });
    assert.equal((await (await p3.get(ME)).json()).extensionNumber, '101', 'the JWT credential still works');
    await p3.login({ username: second.e102.username, password: second.e102.password });
    assert.equal((await (await p3.get(ME)).json()).extensionNumber, '102', 'the password still works');
  });
});
