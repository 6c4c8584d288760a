// The web UI in a real browser: Debian's Chromium (/usr/bin/chromium, headless)
// driven by playwright-core against a real `serve --demo`. A person signs in,
// watches an SMS sent through the API appear live, opens it (and the API then
// says Read), plays a voicemail, views a fax, deletes and restores, sends from
// the compose form and watches its status move; the admin console and the
// authorization-code flow run in the same browser.
//
// SWITCHBOARD_SCREENSHOTS=docs/screenshots writes the screenshots of the
// main views that the docs show.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createServer } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { http, importMessages, inboundSms, newSdk, serverLogOnFailure, show, startServer, withServerLog } from './harness.mjs';

const CHROMIUM = '/usr/bin/chromium';
const STORE = '/restapi/v1.0/account/~/extension/~/message-store';
const PEER = '+14155550123';
const shots = process.env.SWITCHBOARD_SCREENSHOTS ? path.resolve(process.env.SWITCHBOARD_SCREENSHOTS) : null;

// Without Chromium the browser tests fail in CI (which installs it from
// .ci/apt-packages) and are skipped elsewhere.
const missing = !fs.existsSync(CHROMIUM) ? `${CHROMIUM} is missing: apt-get install chromium` : null;
if (missing && process.env.CI) throw new Error(missing);

/** A WAV file: 8 kHz, 16-bit mono PCM, a 440 Hz tone of the given length. */
function toneWav(seconds) {
  const rate = 8000;
  const n = rate * seconds;
  const b = Buffer.alloc(44 + 2 * n);
  b.write('RIFF', 0);
  b.writeUInt32LE(36 + 2 * n, 4);
  b.write('WAVEfmt ', 8);
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(1, 22);
  b.writeUInt32LE(rate, 24);
  b.writeUInt32LE(rate * 2, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36);
  b.writeUInt32LE(2 * n, 40);
  for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate)), 44 + 2 * i);
  return b;
}

async function postInbound(srv, kind, fields, file) {
  const fd = new FormData();
  for (const [k, v] of Object.entries(fields)) fd.append(k, v);
  fd.append(file.field, new Blob([file.data], { type: file.type }), file.name);
  const res = await fetch(`${srv.server}/switchboard/v1/inbound/${kind}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${srv.demo.adminToken}` },
    body: fd,
  });
  const text = await res.text();
  assert.equal(res.status, 200, `inbound ${kind}: ${res.status} ${text}`);
  return JSON.parse(text);
}

describe('web UI in Chromium', { skip: missing || false }, () => {
  serverLogOnFailure();
  let srv;
  let context;
  let page;
  let alice; // the API as alice (101), to check what the UI did
  let bob; // the API as bob (102), to send to alice
  let userDataDir;

  const shot = async (name, { fullPage = false } = {}) => {
    if (shots) {
      fs.mkdirSync(shots, { recursive: true });
      await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage });
    }
  };
  const apiMessage = async (id) => (await alice.get(`${STORE}/${id}`)).json();
  const row = (id) => page.locator(`#messages li[data-id="${id}"]`);

  before(
    withServerLog(async () => {
      srv = await startServer();
      const { chromium } = await import('playwright-core');
      userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-chromium-'));
      context = await chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM,
        headless: true,
        viewport: { width: 1280, height: 820 },
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--autoplay-policy=no-user-gesture-required',
        ],
      });
      page = context.pages()[0] || (await context.newPage());
      page.setDefaultTimeout(15_000);
      alice = (await newSdk(srv)).platform();
      await alice.login({ jwt: srv.e101.jwt });
      bob = (await newSdk(srv)).platform();
      await bob.login({ jwt: srv.e102.jwt });
    }),
  );

  after(async () => {
    if (context) await context.close();
    if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
    if (srv) await srv.stopAndCheck();
  });

  it('GET / is the sign-in page; a wrong password says so in the page', async () => {
    await page.goto(srv.server);
    await page.locator('#username').waitFor();
    await shot('signin');
    await page.fill('#username', srv.e101.username);
    await page.fill('#password', 'not-the-password');
    await page.press('#password', 'Enter');
    await page.locator('#signin-error').waitFor();
    assert.match(await page.textContent('#signin-error'), /Wrong user name or password/);
  });

  it('signs in with Enter and shows the inbox', async () => {
    await page.fill('#password', srv.e101.password);
    await page.press('#password', 'Enter');
    await page.locator('#view-inbox').waitFor();
    assert.match(await page.textContent('#whoami'), /Alice Admin \(101\)/);
    // The session cookie is HTTP-only: script on the page cannot read it.
    assert.equal(await page.evaluate(() => document.cookie), '');
    const cookie = (await context.cookies()).find((c) => c.name === 'switchboard_session');
    assert.ok(cookie && cookie.httpOnly && cookie.sameSite === 'Strict', JSON.stringify(cookie));
    await page.locator('#live:not(.off)').waitFor();
  });

  let smsId;
  it('an SMS sent through the API appears live and opening it marks it Read', async () => {
    const sent = await (
      await bob.post('/restapi/v1.0/account/~/extension/~/sms', {
        from: { phoneNumber: srv.e102.phoneNumber },
        to: [{ phoneNumber: srv.e101.phoneNumber }],
        text: 'Lunch at noon? (sent through the API)',
      })
    ).json();
    assert.equal(sent.messageStatus, 'Queued');
    // Alice's inbound copy is made by the delivery worker; the page learns
    // of it from the change log without a reload.
    const item = page.locator('#messages li.unread', { hasText: 'Lunch at noon?' });
    await item.waitFor();
    smsId = await item.getAttribute('data-id');
    assert.equal((await apiMessage(smsId)).readStatus, 'Unread');
    await shot('inbox');

    await item.locator('a').click();
    await page.locator('#message-text', { hasText: 'Lunch at noon?' }).waitFor();
    await page.locator('#message-read', { hasText: 'Read' }).waitFor();
    assert.equal((await apiMessage(smsId)).readStatus, 'Read', 'opening the message marks it Read in the API');
    assert.ok(!(await row(smsId).getAttribute('class')).includes('unread'));
    await shot('message');
  });

  it('marks unread, deletes and restores through the API', async () => {
    await page.click('button:has-text("Mark unread")');
    await page.locator('#message-read', { hasText: 'Unread' }).waitFor();
    assert.equal((await apiMessage(smsId)).readStatus, 'Unread');

    await page.click('button:has-text("Delete")');
    await page.locator('#message-availability', { hasText: 'Deleted' }).waitFor();
    assert.equal((await apiMessage(smsId)).availability, 'Deleted');

    await page.click('button:has-text("Restore")');
    await page.locator('#message-availability', { hasText: 'Alive' }).waitFor();
    assert.equal((await apiMessage(smsId)).availability, 'Alive');
  });

  it('purges a deleted message after asking', async () => {
    const [doomed] = await importMessages(srv, [inboundSms(srv.e101, { subject: 'Purge me' })]);
    await row(doomed.id).waitFor(); // live, from the change log
    await row(doomed.id).locator('a').click();
    await page.click('button:has-text("Delete")');
    await page.locator('#message-availability', { hasText: 'Deleted' }).waitFor();
    page.once('dialog', (d) => d.accept());
    await page.click('button:has-text("Purge")');
    await page.locator('#message-availability', { hasText: 'Purged' }).waitFor();
    assert.equal((await apiMessage(doomed.id)).availability, 'Purged');
  });

  it('plays a voicemail (seekable) and shows its transcription state', async () => {
    const vm = await postInbound(srv, 'voicemail', { from: PEER, to: srv.e101.phoneNumber }, { field: 'audio', name: 'vm.wav', type: 'audio/wav', data: toneWav(4) });
    await row(vm.id).waitFor();
    await row(vm.id).locator('a').click();
    const audio = page.locator('#detail audio');
    await audio.waitFor();
    const state = await audio.evaluate(async (a) => {
      if (a.readyState < 1) await new Promise((ok, bad) => { a.onloadedmetadata = ok; a.onerror = () => bad(new Error(`audio error ${a.error && a.error.code}`)); });
      await a.play();
      const t0 = performance.now();
      while (a.currentTime === 0 && performance.now() - t0 < 10000) await new Promise((r) => setTimeout(r, 50));
      const playing = { paused: a.paused, t: a.currentTime, ended: a.ended, ready: a.readyState, err: a.error && a.error.code };
      a.currentTime = 2.5; // seeking needs Range support from the server
      await new Promise((r) => (a.seeking ? (a.onseeked = r) : r()));
      return { duration: a.duration, playing, at: a.currentTime, seekable: a.seekable.length ? a.seekable.end(0) : 0 };
    });
    assert.ok(Math.abs(state.duration - 4) < 0.2, JSON.stringify(state));
    assert.ok(!state.playing.paused && state.playing.t > 0, `did not play: ${JSON.stringify(state)}`);
    assert.ok(state.at >= 2.4, `did not seek: ${JSON.stringify(state)}`);
    assert.ok(state.seekable >= 3.9, `not seekable: ${JSON.stringify(state)}`);
    await audio.evaluate((a) => a.pause());
    await page.locator('#transcription').waitFor();
    await shot('voicemail');
  });

  it('views a fax in the page and offers it for download', async () => {
    const fax = await postInbound(srv, 'fax', { from: PEER, to: srv.e101.phoneNumber },
      { field: 'attachment', name: 'order.txt', type: 'text/plain', data: Buffer.from('Purchase order 4711\n\n12 boxes of paper\n') });
    await row(fax.id).waitFor();
    await row(fax.id).locator('a').click();
    const frame = page.locator('#detail iframe.fax');
    await frame.waitFor();
    const src = await frame.getAttribute('src');
    // The page's own fetch of the frame's document (same cookie, CSRF parameter).
    const doc = await page.evaluate(async (u) => {
      const r = await fetch(u);
      const b = new Uint8Array(await r.arrayBuffer());
      return { status: r.status, type: r.headers.get('content-type'), magic: String.fromCharCode(...b.slice(0, 5)) };
    }, src);
    assert.deepEqual(doc, { status: 200, type: 'application/pdf', magic: '%PDF-' });
    assert.equal(await page.getAttribute('#fax-download', 'href'), src);
    if (shots) await page.waitForTimeout(2000); // let the PDF viewer draw the page
    await shot('fax');
  });

  it('sends an SMS from the compose form and its status changes in place', async () => {
    await page.click('#nav a[data-view=compose]');
    await page.locator('#compose-to').waitFor();
    await page.fill('#compose-to', srv.e102.phoneNumber);
    await page.fill('#compose-text', 'Sent from the web UI');
    await shot('compose');
    await page.click('#compose button[type=submit]');
    await page.locator('#message-text', { hasText: 'Sent from the web UI' }).waitFor();
    const id = new URL(page.url()).hash.split('/')[2];
    // Queued when accepted; the delivery worker moves it on and the page follows.
    await page.locator('#message-status', { hasText: /^(Sent|Delivered)$/ }).waitFor();
    const m = await apiMessage(id);
    assert.equal(m.direction, 'Outbound');
    assert.ok(['Sent', 'Delivered'].includes(m.messageStatus), m.messageStatus);
    // And bob got it.
    const got = await (await bob.get(STORE, { direction: 'Inbound', messageType: 'SMS' })).json();
    assert.ok(got.records.some((r) => r.subject === 'Sent from the web UI'));
  });

  it('sends a pager message to an extension and an MMS with an image', async () => {
    await page.click('#nav a[data-view=compose]');
    await page.check('#compose input[name=kind][value=pager]');
    await page.fill('#compose-to', '102');
    await page.fill('#compose-text', 'Pager from the web UI');
    await page.click('#compose button[type=submit]');
    await page.locator('#message-text', { hasText: 'Pager from the web UI' }).waitFor();
    assert.match(await page.textContent('#detail h2'), /^Pager to/);

    await page.click('#nav a[data-view=compose]');
    await page.check('#compose input[name=kind][value=sms]');
    await page.fill('#compose-to', srv.e102.phoneNumber);
    await page.fill('#compose-text', 'A picture');
    // A 1x1 PNG.
    const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYPj/HwADAgH/eL9GtQAAAABJRU5ErkJggg==', 'base64');
    await page.setInputFiles('#compose-files', { name: 'dot.png', mimeType: 'image/png', buffer: png });
    await page.click('#compose button[type=submit]');
    const img = page.locator('#detail img.mms');
    await img.waitFor();
    assert.equal(await img.evaluate((i) => (i.complete ? i.naturalWidth : new Promise((r) => (i.onload = () => r(i.naturalWidth))))), 1);
  });

  it('sends a fax with a cover page from an uploaded document', async () => {
    await page.click('#nav a[data-view=compose]');
    await page.check('#compose input[name=kind][value=fax]');
    await page.locator('#compose-cover option').nth(1).waitFor({ state: 'attached' });
    await page.selectOption('#compose-cover', { index: 1 });
    await page.fill('#compose-covertext', 'Please sign and return');
    await page.fill('#compose-to', '+14155550199');
    await page.fill('#compose-text', '');
    await page.setInputFiles('#compose-files', { name: 'contract.txt', mimeType: 'text/plain', buffer: Buffer.from('Contract\n\nSigned: ______\n') });
    await page.click('#compose button[type=submit]');
    await page.locator('#detail h2', { hasText: 'Fax to' }).waitFor();
    const id = new URL(page.url()).hash.split('/')[2];
    // The fax is rendered in the background: its page count comes then.
    let m = await apiMessage(id);
    for (let i = 0; i < 150 && !m.faxPageCount; i++) {
      await new Promise((r) => setTimeout(r, 100));
      m = await apiMessage(id);
    }
    assert.equal(m.type, 'Fax');
    assert.ok(m.faxPageCount >= 2, `a cover page and the document: ${m.faxPageCount} pages`);
    await page.locator('#detail iframe.fax').waitFor();
  });

  it('pages through a long mailbox without gaps or repeats (keyset paging)', async () => {
    // 130 messages a second apart, but 30 of them (the 41st to the 70th
    // newest) at one instant, across the boundary of the first page of 50.
    const base = Date.parse('2026-01-05T10:00:00.000Z');
    const msgs = [];
    for (let i = 0; i < 130; i++) {
      const t = i >= 40 && i < 70 ? base - 40_000 : base - i * 1000;
      msgs.push(inboundSms(srv.e103, { subject: `bulk ${i}`, creationTime: new Date(t).toISOString() }));
    }
    for (let i = 0; i < msgs.length; i += 50) await importMessages(srv, msgs.slice(i, i + 50));
    // The department's mailbox, opened by the account administrator.
    await page.goto(`${srv.server}/#/inbox`);
    await page.selectOption('#mailbox', srv.e103.id);
    await page.uncheck('#filters input[name=group]');
    await page.click('#filters button[type=submit]');
    await page.locator('#messages li[data-id] .snippet', { hasText: /^bulk 0$/ }).waitFor();
    const seen = [];
    for (let pageNo = 1; pageNo <= 5; pageNo++) {
      await page.locator('#pageinfo', { hasText: `Page ${pageNo}` }).waitFor();
      await page.locator('#messages li[data-id]').first().waitFor();
      seen.push(...(await page.locator('#messages li[data-id] .snippet').allTextContents()));
      if (await page.isDisabled('#older')) break;
      const last = await page.locator('#messages li[data-id]').last().getAttribute('data-id');
      await page.click('#older');
      // Wait for the next page's rows, not just its number.
      await page.waitForFunction((id) => !document.querySelector(`#messages li[data-id="${id}"]`), last);
    }
    const bulk = seen.filter((s) => s.startsWith('bulk '));
    assert.equal(bulk.length, 130, `saw ${bulk.length} bulk messages over the pages`);
    assert.equal(new Set(bulk).size, 130, 'a message was shown twice');
    await page.click('#newer');
    await page.locator('#pageinfo', { hasText: 'Page 2' }).waitFor();
    await page.check('#filters input[name=group]');
    await page.selectOption('#mailbox', srv.e101.id);
    await page.waitForFunction(() => ![...document.querySelectorAll('#messages li[data-id] .snippet')].some((e) => e.textContent.includes('bulk ')));
  });

  it('groups by conversation across pages: each conversation once, at its newest message', async () => {
    // 60 conversations of 3 messages each, interleaved in time, so every
    // conversation has messages on several API pages: grouped, page 1 shows
    // 50 conversations and page 2 the other 10, none twice.
    const base = Date.parse('2026-01-04T10:00:00.000Z');
    const peer = (c) => `+1555124${String(c).padStart(4, '0')}`;
    const msgs = [];
    for (let round = 0; round < 3; round++) {
      for (let c = 0; c < 60; c++) {
        const t = base - (round * 60 + c) * 1000;
        msgs.push(inboundSms(srv.e103, { from: { phoneNumber: peer(c) }, subject: `conv ${c} msg ${round}`, creationTime: new Date(t).toISOString() }));
      }
    }
    for (let i = 0; i < msgs.length; i += 60) await importMessages(srv, msgs.slice(i, i + 60));
    await page.goto(`${srv.server}/#/inbox`);
    await page.selectOption('#mailbox', srv.e103.id);
    await page.check('#filters input[name=group]');
    await page.fill('#filters input[name=phoneNumber]', '');
    await page.fill('#filters input[name=dateFrom]', '2026-01-04');
    await page.fill('#filters input[name=dateTo]', '2026-01-04');
    await page.click('#filters button[type=submit]');
    await page.locator('#messages li[data-id] .snippet', { hasText: 'conv 0 msg 0' }).waitFor();
    const pages = [];
    for (let pageNo = 1; pageNo <= 3; pageNo++) {
      await page.locator('#pageinfo', { hasText: `Page ${pageNo}` }).waitFor();
      await page.locator('#messages li[data-id]').first().waitFor();
      pages.push(await page.locator('#messages li[data-id] .snippet').allTextContents());
      if (await page.isDisabled('#older')) break;
      const last = await page.locator('#messages li[data-id]').last().getAttribute('data-id');
      await page.click('#older');
      await page.waitForFunction((id) => !document.querySelector(`#messages li[data-id="${id}"]`), last);
    }
    assert.deepEqual(pages.map((p) => p.length), [50, 10], 'conversations per page');
    const convs = pages.flat().map((t) => t.match(/conv (\d+) msg (\d+)/));
    assert.ok(convs.every((m) => m && m[2] === '0'), `each row is its conversation's newest message: ${pages.flat()}`);
    assert.equal(new Set(convs.map((m) => m[1])).size, 60, 'every conversation once');
    // A row counts its conversation's messages from there to the end of its
    // page: page 2 reads on to the oldest, so each of its rows counts three.
    assert.ok(pages[1].every((t) => t.startsWith('3 msgs')), `page 2 counts: ${pages[1]}`);
    await page.click('#filters button[type=reset]');
    await page.selectOption('#mailbox', srv.e101.id);
    // The list is redrawn when the API answers: wait until 103's rows are
    // gone, or the next test could open one of them as 101's (a 404).
    await page.waitForFunction(() => ![...document.querySelectorAll('#messages li[data-id] .snippet')].some((e) => e.textContent.includes('conv ')));
  });

  it('shows an error in the page for bad input', async () => {
    await page.click('#nav a[data-view=compose]');
    await page.fill('#compose-to', 'not-a-number');
    await page.fill('#compose-text', 'x');
    await page.click('#compose button[type=submit]');
    await page.locator('#compose-error').waitFor();
    assert.match(await page.textContent('#compose-error'), /phone|number|to/i);
  });

  it('works from the keyboard, and every control has an accessible name', async () => {
    await page.goto(`${srv.server}/#/inbox`);
    await page.locator('#messages li[data-id] a').first().waitFor();
    // Tab from the last filter button to the first message and open it with Enter.
    await page.focus('#filters button[type=reset]');
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => document.activeElement.closest('#messages') !== null);
    assert.ok(focused, 'Tab after the filters lands on the message list');
    await page.keyboard.press('Enter');
    await page.locator('#detail h2').waitFor();
    for (const view of ['#/inbox', '#/compose']) {
      await page.goto(`${srv.server}/${view}`);
      await page.waitForTimeout(200);
      const unnamed = await page.evaluate(() =>
        [...document.querySelectorAll('main:not([hidden]) input, main:not([hidden]) select, main:not([hidden]) textarea, main:not([hidden]) button, header select:not([hidden])')]
          .filter((e) => e.type !== 'hidden' && e.offsetParent !== null)
          .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !(e.textContent || '').trim())
          .map((e) => e.outerHTML.slice(0, 80)));
      assert.deepEqual(unnamed, [], `controls without an accessible name on ${view}`);
    }
  });

  it('filters like the API and fits a phone-sized screen', async () => {
    await page.goto(`${srv.server}/#/inbox`);
    await page.selectOption('#filters select[name=messageType]', 'VoiceMail');
    await page.click('#filters button[type=submit]');
    // The list is redrawn when the API answers: wait for the filtered one.
    await page.waitForFunction(() => {
      const types = [...document.querySelectorAll('#messages li[data-id] .type')].map((e) => e.textContent);
      return types.length > 0 && types.every((t) => t === 'Voice');
    });
    await page.click('#filters button[type=reset]');
    await page.setViewportSize({ width: 390, height: 800 });
    await page.reload();
    await page.locator('#messages li[data-id]').nth(1).waitFor();
    assert.equal(await page.evaluate(() => document.querySelector('#filters-box').open), false, 'filters start folded on a phone');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px on a phone`);
    await shot('inbox-phone');
    await page.setViewportSize({ width: 1280, height: 820 });
    await page.reload();
    await page.locator('#messages li[data-id]').first().waitFor();
  });

  it('signs out: the session ends on the server too', async () => {
    const cookie = (await context.cookies()).find((c) => c.name === 'switchboard_session');
    await page.click('#signout');
    await page.locator('#view-signin').waitFor();
    const res = await http(srv.server, STORE, { token: cookie.value });
    assert.equal(res.status, 401, show(res));
  });

  it('the admin console: apps, inbound traffic, the emulator clock', async () => {
    await page.click('#tab-admin');
    await page.fill('#admin-token', srv.demo.adminToken);
    await page.press('#admin-token', 'Enter');
    await page.locator('#view-admin').waitFor();
    await page.locator('#apps tbody tr', { hasText: 'Switchboard Demo' }).waitFor();
    assert.match(await page.textContent('#apps tbody'), /any loopback/);
    await page.locator('#extensions tbody tr', { hasText: 'Alice Admin' }).waitFor();
    assert.match(await page.textContent('#numbers tbody'), new RegExp(`\\${srv.e101.phoneNumber}`));
    // The delivery queue answers by state (the sends above are done by now).
    await page.click('#queue-tabs button[data-state=Failed]');
    await page.locator('#queue tbody tr').first().waitFor();
    await page.selectOption('#inject-kind', 'voicemail');
    await page.fill('#inject-to', srv.e102.phoneNumber);
    await page.click('#inject button[type=submit]');
    await page.locator('#admin-error', { hasText: 'Choose a file' }).waitFor();
    await page.selectOption('#inject-kind', 'sms');
    await page.fill('#inject-text', 'Injected from the console');
    await page.click('#inject button[type=submit]');
    await page.locator('#admin-result', { hasText: 'Injected from the console' }).waitFor();
    const got = await (await bob.get(STORE, { messageType: 'SMS', direction: 'Inbound' })).json();
    assert.ok(got.records.some((r) => r.subject === 'Injected from the console'));
    await page.click('#retention-run');
    await page.locator('#admin-result', { hasText: 'purged' }).waitFor();
    // Carrier rules: a bad edit is refused in the page, a good one is saved.
    await page.fill('#rules', '{"rules": [');
    await page.click('#rules-save');
    await page.locator('#admin-error', { hasText: 'not valid JSON' }).waitFor();
    await page.fill('#rules', '{"deliveryDelaySeconds": 1, "rules": [{"match": "^[+]1555000", "stage": "submit", "errorCode": "SMS-UP-410"}]}');
    await page.click('#rules-save');
    await page.locator('#admin-result', { hasText: 'saved' }).waitFor();
    const rules = await http(srv.server, '/switchboard/v1/carrier/rules', { token: srv.demo.adminToken });
    assert.equal(rules.json.rules[0].errorCode, 'SMS-UP-410', show(rules));
    await page.fill('#clock-by', '1h');
    await page.click('#clock button[type=submit]');
    await page.locator('#admin-result', { hasText: '"now"' }).waitFor();
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot('admin', { fullPage: true });
    await page.fill('#clock-by', 'soon');
    await page.click('#clock button[type=submit]');
    await page.locator('#admin-error', { hasText: 'duration' }).waitFor();

    // The admin token opens any mailbox, here one of the other account,
    // through an ordinary session of that user.
    await page.selectOption('#account', srv.other.accountId);
    await page.click(`#extensions button[data-open="${srv.other.id}"]`);
    await page.locator('#view-inbox').waitFor();
    assert.match(await page.textContent('#whoami'), /in the mailbox of Carol Other/);
    const carolToken = (await context.cookies()).find((c) => c.name === 'switchboard_session').value;
    const who = await http(srv.server, '/restapi/v1.0/account/~/extension/~', { token: carolToken });
    assert.equal(String(who.json.id), srv.other.id, 'the session is an ordinary token of that user');
    const alicesBox = await http(srv.server, `/restapi/v1.0/account/${srv.e101.accountId}/extension/${srv.e101.id}/message-store`, { token: carolToken });
    assert.equal(alicesBox.status, 404, 'and carries that user\'s tenancy, not the admin token\'s');
    // Back to the console, still signed in there.
    await page.click('#nav-admin');
    await page.locator('#view-admin').waitFor();
    await page.locator('#apps tbody tr').first().waitFor();
    await page.click('#signout');
    await page.locator('#view-signin').waitFor();
  });

  it('the admin console shows a WebHook\'s recent deliveries and what its receiver answered', async () => {
    let answer = 200;
    const hook = createServer((req, res) => {
      const v = req.headers['validation-token'];
      if (v) res.setHeader('Validation-Token', v);
      res.statusCode = v ? 200 : answer;
      req.resume();
      res.end();
    });
    await new Promise((r) => hook.listen(0, '127.0.0.1', r));
    const admin = { token: srv.demo.adminToken };
    let id;
    try {
      const sub = await (await alice.post('/restapi/v1.0/subscription', {
        eventFilters: ['/restapi/v1.0/account/~/extension/~/message-store/instant?type=SMS'],
        deliveryMode: { transportType: 'WebHook', address: `http://127.0.0.1:${hook.address().port}/hook` },
      })).json();
      id = sub.id;
      const history = `/switchboard/v1/subscriptions/${id}/deliveries`;
      const until = async (what, ok) => {
        for (let i = 0; i < 100; i++) {
          const res = await http(srv.server, history, admin);
          assert.equal(res.status, 200, show(res));
          if (ok(res.json.records)) return res.json.records;
          await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error(`no ${what} in the history of ${id}`);
      };
      await importMessages(srv, [inboundSms(srv.e101, { subject: 'for the hook' })]);
      await until('accepted delivery', (rs) => rs.some((a) => a.ok && a.httpStatus === 200));
      answer = 503;
      await importMessages(srv, [inboundSms(srv.e101, { subject: 'refused by the hook' })]);
      const rs = await until('refused delivery', (xs) => xs.some((a) => !a.ok));
      assert.equal(rs[0].httpStatus, 503, 'newest first');

      await page.click('#tab-admin');
      await page.fill('#admin-token', srv.demo.adminToken);
      await page.press('#admin-token', 'Enter');
      await page.locator('#view-admin').waitFor();
      await page.click(`#subscriptions button[data-deliveries="${id}"]`);
      await page.locator('#sub-deliveries tbody tr.failed', { hasText: 'HTTP 503' }).waitFor();
      await page.locator('#sub-deliveries tbody tr', { hasText: '200 OK' }).waitFor();
      assert.match(await page.textContent('#h-sub-deliveries'), new RegExp(id));
      assert.match(await page.textContent('#sub-deliveries tbody'), /message-store\/instant\?type=SMS/);
      await page.locator('#sub-deliveries').scrollIntoViewIfNeeded();
      await shot('admin-webhook-deliveries');
      await page.click('#signout');
      await page.locator('#view-signin').waitFor();
    } finally {
      if (id) await alice.delete(`/restapi/v1.0/subscription/${id}`);
      hook.close();
    }
  });

  it('authorization code with PKCE through the browser, redeemed by the SDK', async () => {
    // The app's redirect target: a loopback server, as a local web app has.
    let resolveHit;
    const hit = new Promise((r) => (resolveHit = r));
    const app = createServer((req, res) => {
      resolveHit(new URL(req.url, 'http://127.0.0.1'));
      res.end('signed in');
    });
    await new Promise((r) => app.listen(0, '127.0.0.1', r));
    try {
      const redirectUri = `http://127.0.0.1:${app.address().port}/callback`;
      const p = (await newSdk(srv, { redirectUri })).platform();
      await page.goto(p.loginUrl({ usePKCE: true, state: 'browser-state' }));
      await page.locator('input[name=username]').waitFor();
      assert.match(await page.textContent('main'), /Switchboard Demo/);
      await shot('authorize');
      await page.fill('input[name=username]', srv.e102.username);
      await page.fill('input[name=password]', srv.e102.password);
      await page.press('input[name=password]', 'Enter');
      const back = await hit;
      assert.equal(back.searchParams.get('state'), 'browser-state');
      await p.login({ code: back.searchParams.get('code') });
      const me = await (await p.get('/restapi/v1.0/account/~/extension/~')).json();
      assert.equal(String(me.id), srv.e102.id);
    } finally {
      app.close();
    }
  });
  it('the server stops cleanly (SIGTERM) while a page holds a live stream', async () => {
    await page.goto(srv.server);
    await page.fill('#username', srv.e101.username);
    await page.fill('#password', srv.e101.password);
    await page.press('#password', 'Enter');
    await page.locator('#live:not(.off)').waitFor();
    const started = Date.now();
    await srv.stopAndCheck(); // fails on a forced kill or a non-zero exit
    assert.ok(Date.now() - started < 8000, `shutdown took ${Date.now() - started} ms`);
    await page.locator('#live.off').waitFor();
  });
});
