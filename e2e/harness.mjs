// Shared harness for the end-to-end tests: builds and starts a real Switchboard
// server (`serve --demo` on a free loopback port, fresh SQLite data directory),
// reads its demo.json, and offers small helpers for raw HTTP calls, the admin
// import API and RingCentral error bodies.
//
// Environment:
//   SWITCHBOARD_BIN   path of a built switchboard binary (otherwise `go build` here)
//   SWITCHBOARD_DEMO  path of the demo.json of an already running server: the tests
//                     then use that server instead of starting their own
//   SWITCHBOARD_E2E_KEEP=1     keep the temporary data directories
//   SWITCHBOARD_E2E_VERBOSE=1  copy the server's log to stderr as it runs

import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach } from 'node:test';

const execFileP = promisify(execFile);

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;
const LOG_LINES_KEPT = 4000;

/** A demo.json path from SWITCHBOARD_DEMO, or null when we start our own server. */
function externalDemoPath() {
  const v = process.env.SWITCHBOARD_DEMO;
  if (!v || /^(true|false|1|0|yes|no)$/i.test(v)) return null;
  return v;
}

let builtBinary = null;

/** The switchboard binary: SWITCHBOARD_BIN, or built once per test file into a temp dir. */
export async function switchboardBinary() {
  if (process.env.SWITCHBOARD_BIN) {
    const bin = path.resolve(process.env.SWITCHBOARD_BIN);
    if (!fs.existsSync(bin)) throw new Error(`SWITCHBOARD_BIN=${bin} does not exist`);
    return bin;
  }
  if (!builtBinary) {
    builtBinary = (async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-e2e-bin-'));
      const bin = path.join(dir, 'switchboard');
      try {
        await execFileP('go', ['build', '-o', bin, './cmd/switchboard'], {
          cwd: repoRoot,
          maxBuffer: 64 << 20,
        });
      } catch (e) {
        throw new Error(`go build ./cmd/switchboard failed:\n${e.stderr || e.message}`);
      }
      process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
      return bin;
    })();
  }
  return builtBinary;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The child's environment: ours without SWITCHBOARD_* (the server reads those as config). */
function serverEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('SWITCHBOARD_')) env[k] = v;
  }
  return env;
}

function readDemo(file) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  try {
    const demo = JSON.parse(text);
    return demo && typeof demo.server === 'string' && demo.server ? demo : null;
  } catch {
    return null; // being written
  }
}

function checkDemoShape(demo, file) {
  const where = `demo.json (${file})`;
  for (const k of ['server', 'clientId', 'clientSecret', 'adminToken']) {
    assert.equal(typeof demo[k], 'string', `${where}: "${k}" must be a string`);
    assert.ok(demo[k].length > 0, `${where}: "${k}" must not be empty`);
  }
  assert.ok(Array.isArray(demo.extensions), `${where}: "extensions" must be an array`);
  assert.ok(demo.extensions.length >= 4, `${where}: expected 101, 102, 103 and a user of a second account`);
  const [e101, e102, e103] = demo.extensions;
  const other = demo.extensions[demo.extensions.length - 1];
  assert.equal(e101.extensionNumber, '101', `${where}: first extension must be 101`);
  assert.equal(e102.extensionNumber, '102', `${where}: second extension must be 102`);
  assert.equal(e103.extensionNumber, '103', `${where}: third extension must be 103`);
  assert.equal(e103.type, 'Department', `${where}: 103 must be a Department`);
  for (const u of [e101, e102, other]) {
    assert.equal(u.type, 'User', `${where}: ${u.extensionNumber} must be a User`);
    for (const k of ['accountId', 'id', 'phoneNumber', 'jwt', 'username', 'password']) {
      assert.ok(typeof u[k] === 'string' && u[k].length > 0, `${where}: extension ${u.extensionNumber} needs "${k}"`);
    }
  }
  assert.equal(e101.accountId, e102.accountId, `${where}: 101 and 102 share an account`);
  assert.equal(e101.accountId, e103.accountId, `${where}: 101 and 103 share an account`);
  assert.notEqual(other.accountId, e101.accountId, `${where}: the last extension must belong to a second account`);
}

// Servers still running: killed when this test process exits or is interrupted.
const liveChildren = new Set();
let exitHooksInstalled = false;
function installExitHooks() {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.on('exit', () => {
    for (const c of liveChildren) c.kill('SIGKILL');
  });
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.once(sig, () => {
      for (const c of liveChildren) c.kill('SIGKILL');
      process.exit(130);
    });
  }
}

const mtimeOf = (file) => {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return null;
  }
};

/**
 * Start a server (or attach to SWITCHBOARD_DEMO's) and return a handle:
 * { demo, server, e101, e102, e103, other, dataDir, log(), logTail(n), stop(), stopAndCheck(), external }.
 * With { dataDir } it restarts on an existing data directory and waits for the
 * server to rewrite demo.json. With { args } those flags are added to the
 * `serve` command line (e.g. ['--retention-interval', '24h']); an external
 * server (SWITCHBOARD_DEMO) ignores them.
 */
export async function startServer({ dataDir: reuseDir, args: extraArgs = [] } = {}) {
  const ext = externalDemoPath();
  if (ext) {
    const demo = readDemo(ext);
    if (!demo) throw new Error(`SWITCHBOARD_DEMO=${ext}: cannot read a demo.json with a "server" there`);
    checkDemoShape(demo, ext);
    return handle(demo, {
      external: true,
      log: () => `(external server from SWITCHBOARD_DEMO=${ext}; its log is not captured)`,
      stop: async () => ({ code: null, signal: null, external: true }),
    });
  }

  const bin = await switchboardBinary();
  const dataDir = reuseDir || fs.mkdtempSync(path.join(os.tmpdir(), 'switchboard-e2e-data-'));
  const demoFile = path.join(dataDir, 'demo.json');
  const oldDemoMtime = reuseDir ? mtimeOf(demoFile) : null;
  const args = ['serve', '--demo', '--listen', '127.0.0.1:0', '--data', dataDir, ...extraArgs];
  const lines = [];
  let dropped = 0;
  const verbose = process.env.SWITCHBOARD_E2E_VERBOSE === '1';
  const child = spawn(bin, args, { env: serverEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  const collect = (stream, tag) => {
    let buf = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      if (verbose) process.stderr.write(chunk);
      buf += chunk;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        lines.push(`[${tag}] ${buf.slice(0, i)}`);
        buf = buf.slice(i + 1);
        if (lines.length > LOG_LINES_KEPT) {
          lines.shift();
          dropped++;
        }
      }
    });
    stream.on('end', () => buf && lines.push(`[${tag}] ${buf}`));
  };
  collect(child.stdout, 'out');
  collect(child.stderr, 'err');

  let exit = null;
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    });
  });
  let spawnError = null;
  child.on('error', (e) => {
    spawnError = e;
  });
  installExitHooks();
  liveChildren.add(child);
  child.on('exit', () => liveChildren.delete(child));

  const log = () =>
    `$ ${bin} ${args.join(' ')}\n` + (dropped ? `(${dropped} earlier lines dropped)\n` : '') + lines.join('\n');

  const deadline = Date.now() + START_TIMEOUT_MS;
  let demo = null;
  for (;;) {
    if (spawnError) throw new Error(`cannot start ${bin}: ${spawnError.message}`);
    if (exit) {
      await sleep(50); // let the pipes drain
      throw new Error(`the server exited (${JSON.stringify(exit)}) before writing demo.json\n--- server log ---\n${log()}`);
    }
    const m = mtimeOf(demoFile);
    demo = m !== null && m !== oldDemoMtime ? readDemo(demoFile) : null;
    if (demo) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      const what = reuseDir ? 'demo.json was not rewritten' : 'no demo.json';
      throw new Error(`${what} in ${dataDir} after ${START_TIMEOUT_MS} ms\n--- server log ---\n${log()}`);
    }
    await sleep(50);
  }
  try {
    checkDemoShape(demo, demoFile);
  } catch (e) {
    child.kill('SIGKILL');
    e.message += `\n--- demo.json ---\n${JSON.stringify(demo, null, 2)}\n--- server log ---\n${log()}`;
    throw e;
  }

  let stopped = null;
  const stop = ({ keepData = false } = {}) => {
    if (!stopped) {
      stopped = (async () => {
        let forced = false;
        if (!exit) {
          child.kill('SIGTERM');
          const t = setTimeout(() => {
            forced = true;
            child.kill('SIGKILL');
          }, STOP_TIMEOUT_MS);
          await exited;
          clearTimeout(t);
        }
        if (!keepData && process.env.SWITCHBOARD_E2E_KEEP !== '1') {
          fs.rmSync(dataDir, { recursive: true, force: true });
        }
        return { ...exit, forced };
      })();
    }
    return stopped;
  };

  const logLength = () => dropped + lines.length;
  const logSince = (n, max = 200) => {
    const from = Math.max(0, n - dropped, lines.length - max);
    return lines.slice(from).join('\n');
  };
  return handle(demo, { external: false, log, logLength, logSince, stop, dataDir, exited: () => exit });
}

/** The server of this test file, for the server log on failures. */
let currentServer = null;

function appendToError(e, extra) {
  if (e && typeof e === 'object') {
    try {
      e.message = `${e.message}${extra}`;
      if (typeof e.stack === 'string') e.stack = `${e.stack}${extra}`;
    } catch {
      /* read-only properties */
    }
    return e;
  }
  return new Error(`${String(e)}${extra}`);
}

/** Wrap a hook body so that a failure carries the tail of the server log. */
export function withServerLog(fn) {
  return async (t) => {
    try {
      await fn(t);
    } catch (e) {
      if (!currentServer || currentServer.external) throw e;
      throw appendToError(e, `\n--- server log (tail) ---\n${currentServer.logTail()}\n--- end of server log ---`);
    }
  };
}

/**
 * Register beforeEach/afterEach hooks (call inside a describe) that print what
 * the server logged during each failed test, under that test in the report.
 */
export function serverLogOnFailure() {
  let mark = 0;
  beforeEach(() => {
    mark = currentServer && currentServer.logLength ? currentServer.logLength() : 0;
  });
  afterEach((t) => {
    if (t.passed || !currentServer || currentServer.external) return;
    const since = currentServer.logSince ? currentServer.logSince(mark) : '';
    const text = since
      ? `server log during this test:\n${since}`
      : `the server logged nothing during this test; its log ends with:\n${currentServer.logTail(40)}`;
    t.diagnostic(`${text}\n--- end of server log ---`);
  });
}

function handle(demo, extra) {
  const exts = demo.extensions;
  const h = {
    demo,
    server: demo.server.replace(/\/+$/, ''),
    e101: exts[0],
    e102: exts[1],
    e103: exts[2],
    other: exts[exts.length - 1],
    ...extra,
    /**
     * Stop the server and fail if it did not exit cleanly on SIGTERM, or if its
     * log shows a panic or a data race (race-enabled builds under `go test -race`).
     */
    async stopAndCheck(options) {
      const r = await h.stop(options);
      if (h.external) return r;
      const log = h.log();
      const problems = [];
      if (r.forced) problems.push('did not exit within the timeout after SIGTERM (killed)');
      else if (r.signal) problems.push(`exited by signal ${r.signal}`);
      else if (r.code !== 0) problems.push(`exit code ${r.code} after SIGTERM`);
      if (/WARNING: DATA RACE/.test(log)) problems.push('a data race was reported');
      if (/^\[(?:err|out)\] (?:panic: |fatal error: )|http: panic serving|\bmsg="?panic\b|"msg":"panic"/m.test(log)) {
        problems.push('a panic was logged');
      }
      if (problems.length) {
        throw new Error(`server: ${problems.join('; ')}\n--- server log ---\n${log}\n--- end of server log ---`);
      }
      return r;
    },
    logTail(n = 80) {
      const all = h.log().split('\n');
      return all.slice(Math.max(0, all.length - n)).join('\n');
    },
  };
  currentServer = h;
  return h;
}

/**
 * A raw HTTP call with fetch. Returns { status, headers, text, json, bytes }.
 * `json` is the parsed body or undefined when the body is not JSON.
 */
export async function http(base, url, { method = 'GET', token, headers = {}, body, form, query } = {}) {
  const u = new URL(/^https?:\/\//.test(url) ? url : base + url);
  if (query) {
    for (const [k, v] of Object.entries(query)) {
      for (const x of Array.isArray(v) ? v : [v]) u.searchParams.append(k, String(x));
    }
  }
  const h = { ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  let payload;
  if (form) {
    h['Content-Type'] = 'application/x-www-form-urlencoded';
    payload = new URLSearchParams(form).toString();
  } else if (body !== undefined) {
    h['Content-Type'] = 'application/json';
    payload = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const res = await fetch(u, { method, headers: h, body: payload });
  const bytes = Buffer.from(await res.arrayBuffer());
  const text = bytes.toString('utf8');
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json, bytes, url: u.toString(), method };
}

/** A one-line description of a raw response for assertion messages. */
export function show(res) {
  const body = res.text.length > 600 ? `${res.text.slice(0, 600)}…` : res.text;
  return `${res.method} ${res.url} -> ${res.status} ${res.headers.get('content-type') || ''} ${body}`;
}

/** Basic client authentication header value for the demo app. */
export function basicAuth(demo) {
  return `Basic ${Buffer.from(`${demo.clientId}:${demo.clientSecret}`).toString('base64')}`;
}

/** Import messages through the admin API; returns the stored records. */
export async function importMessages(srv, messages) {
  const res = await http(srv.server, '/switchboard/v1/messages', {
    method: 'POST',
    token: srv.demo.adminToken,
    body: { messages },
  });
  assert.equal(res.status, 200, `admin import failed: ${show(res)}`);
  assert.ok(res.json && Array.isArray(res.json.records), `admin import: no records[]: ${show(res)}`);
  assert.equal(res.json.records.length, messages.length, `admin import: one record per message: ${show(res)}`);
  return res.json.records;
}

/** An inbound SMS into `ext`'s mailbox (fields can be overridden). */
export function inboundSms(ext, over = {}) {
  return {
    accountId: ext.accountId,
    extensionId: ext.id,
    type: 'SMS',
    direction: 'Inbound',
    from: { phoneNumber: '+15551230000' },
    to: [{ phoneNumber: ext.phoneNumber }],
    subject: 'hello',
    readStatus: 'Unread',
    messageStatus: 'Received',
    ...over,
  };
}

/** An outbound SMS from `ext`'s mailbox (fields can be overridden). */
export function outboundSms(ext, over = {}) {
  return {
    accountId: ext.accountId,
    extensionId: ext.id,
    type: 'SMS',
    direction: 'Outbound',
    from: { phoneNumber: ext.phoneNumber },
    to: [{ phoneNumber: '+15551239999' }],
    subject: 'hi there',
    readStatus: 'Read',
    messageStatus: 'Sent',
    ...over,
  };
}

let windowSeq = 0;
let windowBase = null;

/**
 * A private 10-minute time window, so that a test's list queries with
 * dateFrom/dateTo see only the messages it imported. Windows lie in the two
 * days before now; against an external server (SWITCHBOARD_DEMO), shared by
 * every test file and every earlier run, they start at a random point of the
 * past year instead. at(k) is an ISO time k+1 minutes into the window (k = 0..8).
 * Call it while a test or hook runs (after startServer).
 */
export function timeWindow() {
  if (windowBase === null) {
    const slot = 600_000;
    const now = Math.floor(Date.now() / slot) * slot;
    const random = currentServer && currentServer.external ? (1 + Math.floor(Math.random() * 50_000)) * slot : 0;
    windowBase = now - 2 * 3600_000 - random;
  }
  const i = windowSeq++;
  const to = windowBase - i * 600_000;
  const from = to - 600_000;
  return {
    dateFrom: new Date(from).toISOString(),
    dateTo: new Date(to).toISOString(),
    at: (k) => {
      assert.ok(k >= 0 && k <= 8, 'timeWindow.at(k): k in 0..8');
      return new Date(from + (k + 1) * 60_000).toISOString();
    },
  };
}

/** Assert the RingCentral API error shape; returns the body. */
export function assertRcError(body, { errorCode, parameterName } = {}, context = '') {
  const where = context ? ` (${context})` : '';
  assert.ok(body && typeof body === 'object', `error body must be JSON${where}: ${JSON.stringify(body)}`);
  assert.equal(typeof body.errorCode, 'string', `error body needs errorCode${where}: ${JSON.stringify(body)}`);
  assert.equal(typeof body.message, 'string', `error body needs message${where}: ${JSON.stringify(body)}`);
  assert.ok(body.message.length > 0, `error message must not be empty${where}`);
  assert.ok(Array.isArray(body.errors) && body.errors.length > 0, `error body needs errors[]${where}: ${JSON.stringify(body)}`);
  for (const e of body.errors) {
    assert.equal(typeof e.errorCode, 'string', `errors[].errorCode${where}: ${JSON.stringify(body)}`);
    assert.equal(typeof e.message, 'string', `errors[].message${where}: ${JSON.stringify(body)}`);
  }
  if (errorCode) assert.equal(body.errorCode, errorCode, `errorCode${where}: ${JSON.stringify(body)}`);
  if (parameterName) {
    assert.ok(
      body.errors.some((e) => e.parameterName === parameterName && (!errorCode || e.errorCode === errorCode)),
      `errors[] must name parameterName "${parameterName}"${where}: ${JSON.stringify(body)}`,
    );
  }
  return body;
}

/** Assert an OAuth error body ({error, error_description}); returns it. */
export function assertOAuthError(body, context = '') {
  const where = context ? ` (${context})` : '';
  assert.ok(body && typeof body === 'object', `OAuth error body must be JSON${where}: ${JSON.stringify(body)}`);
  assert.equal(typeof body.error, 'string', `OAuth error body needs "error"${where}: ${JSON.stringify(body)}`);
  assert.ok(body.error.length > 0, `OAuth "error" must not be empty${where}`);
  return body;
}

/**
 * Await a @ringcentral/sdk call that must fail with an HTTP error.
 * Returns { status, body, headers } of the error response.
 */
export async function sdkFailure(promise, context = '') {
  let res;
  try {
    res = await promise;
  } catch (e) {
    if (!e || !e.response) throw new Error(`${context}: expected an HTTP error response, got: ${e && e.stack}`);
    const text = await e.response.text();
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    return { status: e.response.status, body, headers: e.response.headers, text };
  }
  let text = '';
  try {
    text = await res.text();
  } catch {
    /* ignore */
  }
  assert.fail(`${context}: expected an error, got ${res && res.status}: ${text.slice(0, 500)}`);
}

/** Deterministic pseudo-random bytes (so a failure is reproducible). */
export function bytesOf(n, seed = 1) {
  const b = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

let sdkSeq = 0;

// The SDK warns on every password login; the tests use that grant on purpose.
const consoleWarn = console.warn;
console.warn = (...args) => {
  if (typeof args[0] === 'string' && args[0].startsWith('Username/password authentication is deprecated')) return;
  consoleWarn(...args);
};

/**
 * A new @ringcentral/sdk instance for the server. In Node every SDK instance
 * shares one in-memory localStorage, so each gets its own cachePrefix (else a
 * second login would overwrite the first one's tokens).
 */
export async function newSdk(srv, options = {}) {
  const { SDK } = await import('@ringcentral/sdk');
  return new SDK({
    server: srv.server,
    clientId: srv.demo.clientId,
    clientSecret: srv.demo.clientSecret,
    appName: 'switchboard-e2e',
    appVersion: '1.0.0',
    cachePrefix: `sb-e2e-${process.pid}-${sdkSeq++}-`,
    refreshDelayMs: 1,
    ...options,
  });
}

export const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
