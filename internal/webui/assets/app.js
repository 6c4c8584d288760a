// Switchboard web UI. Plain JavaScript, no build step: the page talks to the
// public RingCentral API and the admin API with the session cookie and its
// CSRF token, exactly as any client would with a bearer token.
'use strict';

const $ = (sel, root = document) => root.querySelector(sel);
const el = (tag, attrs = {}, ...children) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c !== undefined && c !== null && c !== false) e.append(c instanceof Node ? c : String(c));
  }
  return e;
};

const PER_PAGE = 50;
// The API lists the last 24 hours unless dateFrom says otherwise; the inbox
// shows everything.
const ALL_TIME = '1970-01-01T00:00:00.000Z';
const RC = '/restapi/v1.0';
const state = {
  session: null, // {kind, accountId, extensionId, admin, csrf, emulator}
  me: null, // the signed-in extension
  mailbox: '~', // extension id whose mailbox is shown
  numbers: [],
  cursors: [null], // keyset paging: dateTo of each page shown (null: newest)
  seenOnPage: new Set(),
  list: [],
  selected: null,
  events: null,
};

class ApiError extends Error {
  constructor(status, body, fallback) {
    const msg = (body && (body.message || body.error_description || (body.errors && body.errors[0] && body.errors[0].message))) || fallback;
    super(msg);
    this.status = status;
    this.body = body;
  }
}

/** Calls the API with the session cookie; returns parsed JSON (or null). */
async function api(method, path, { json, form, raw, retried } = {}) {
  // The admin API takes the console's own session when the console has
  // opened a mailbox beside it.
  const s = state.session;
  const consolePath = path.startsWith('/switchboard/') || path.startsWith('/ui/session/mailbox');
  const csrf = s ? (consolePath && s.adminCsrf ? s.adminCsrf : s.csrf) : '';
  const headers = { 'X-Switchboard-CSRF': csrf };
  let body;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (form) {
    body = form;
  }
  let res;
  try {
    res = await fetch(path, { method, headers, body, credentials: 'same-origin' });
  } catch (e) {
    throw new ApiError(0, null, 'The server cannot be reached. Check that it is running.');
  }
  if (raw && res.ok) return res;
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    if (res.status === 401 && state.session && path !== '/ui/session') {
      // The access token expired: /ui/session renews it with the refresh
      // token, and the call is made once more. Otherwise the session ended
      // (revoked, or signed out elsewhere) and the sign-in form returns.
      const s = retried ? null : await fetch('/ui/session', { credentials: 'same-origin' }).then((r) => r.json()).catch(() => null);
      if (s && s.kind && s.kind === state.session.kind) {
        state.session = s;
        return api(method, path, { json, form, raw, retried: true });
      }
      await boot();
    }
    throw new ApiError(res.status, data, `${method} ${path} failed with HTTP ${res.status}`);
  }
  return data;
}

const mailboxPath = () => `${RC}/account/~/extension/${state.mailbox}`;
const attachmentURL = (uri) => {
  const u = new URL(uri, location.href);
  u.searchParams.set('csrf', state.session.csrf);
  return u.pathname + u.search;
};

function toast(text) {
  const t = $('#toast');
  t.textContent = text;
  t.classList.add('show');
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => t.classList.remove('show'), 2500);
}

function showError(box, e) {
  const b = typeof box === 'string' ? $(box) : box;
  b.textContent = e instanceof Error ? e.message : String(e);
  b.hidden = false;
  b.scrollIntoView({ block: 'nearest' });
}

function showView(name) {
  for (const v of ['signin', 'inbox', 'compose', 'admin']) $(`#view-${v}`).hidden = v !== name;
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.view === name);
}

// ---- session

async function boot() {
  closeEvents();
  $('#toast').classList.remove('show');
  let s;
  try {
    s = await api('GET', '/ui/session');
  } catch (e) {
    state.session = null;
    showView('signin');
    showError('#signin-error', e);
    return;
  }
  state.session = s.kind ? s : null;
  $('#nav').hidden = !state.session;
  $('#signout').hidden = !state.session;
  $('#nav-admin').hidden = !(s.kind === 'admin' || s.console);
  for (const a of document.querySelectorAll('#nav a[data-view=inbox], #nav a[data-view=compose]')) a.hidden = s.kind !== 'user';
  if (!state.session) {
    $('#whoami').textContent = '';
    $('#mailbox').hidden = true;
    $('#live').hidden = true;
    showView('signin');
    $('#username').focus();
    return;
  }
  if (s.kind === 'admin') {
    $('#whoami').textContent = 'Admin';
    location.hash = '#/admin';
    route();
    return;
  }
  state.me = await api('GET', `${RC}/account/~/extension/~`);
  $('#whoami').textContent = `${s.console ? 'Admin, in the mailbox of ' : ''}${state.me.name} (${state.me.extensionNumber})`;
  state.numbers = [];
  state.cursors = [null];
  state.selected = null;
  state.mailbox = String(state.me.id);
  await loadMailboxes();
  if (!location.hash || location.hash === '#/admin') location.hash = '#/inbox';
  route();
}

async function loadMailboxes() {
  const sel = $('#mailbox');
  sel.replaceChildren();
  if (!state.session.admin) {
    sel.hidden = true;
    return;
  }
  // An account administrator may open every mailbox of the account.
  const list = await api('GET', `${RC}/account/~/extension?perPage=1000`);
  for (const x of list.records || []) {
    sel.append(el('option', { value: String(x.id), selected: String(x.id) === state.mailbox }, `${x.extensionNumber} · ${x.name}`));
  }
  sel.hidden = false;
}

async function signIn(body) {
  const err = $('#signin-error');
  err.hidden = true;
  try {
    const res = await fetch('/ui/session', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      credentials: 'same-origin',
    });
    const data = await res.json().catch(() => null);
    if (!res.ok) throw new ApiError(res.status, data, `Sign-in failed (HTTP ${res.status})`);
    $('#password').value = '';
    $('#admin-token').value = '';
    await boot();
  } catch (e) {
    showError(err, e);
  }
}

async function signOut() {
  closeEvents();
  await fetch('/ui/session', { method: 'DELETE', credentials: 'same-origin' });
  state.session = null;
  location.hash = '';
  await boot();
}

// ---- live updates

function closeEvents() {
  if (state.events) state.events.close();
  state.events = null;
}

function openEvents() {
  closeEvents();
  const live = $('#live');
  const es = new EventSource(`/ui/events?csrf=${encodeURIComponent(state.session.csrf)}&extensionId=${state.mailbox}`);
  state.events = es;
  live.hidden = false;
  es.addEventListener('ready', () => {
    live.classList.remove('off');
    live.textContent = '● live';
  });
  es.addEventListener('change', (ev) => {
    const { messageIds } = JSON.parse(ev.data);
    onChanged(messageIds);
  });
  es.addEventListener('reset', () => refreshList());
  es.onerror = () => {
    live.classList.add('off');
    live.textContent = '● reconnecting';
  };
}

let refreshTimer = null;
function onChanged(ids) {
  // Coalesce bursts into one list read.
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(async () => {
    const before = new Set(state.list.map((m) => String(m.id)));
    await refreshList();
    const fresh = ids.filter((id) => !before.has(id) && state.list.some((m) => String(m.id) === id));
    if (fresh.length) toast(fresh.length === 1 ? 'New message' : `${fresh.length} new messages`);
    if (state.selected && ids.includes(String(state.selected.id))) await updateSelected();
  }, 100);
}

// ---- inbox

function filterQuery() {
  const f = new FormData($('#filters'));
  const q = new URLSearchParams();
  for (const k of ['messageType', 'direction', 'readStatus', 'availability', 'phoneNumber', 'conversationId']) {
    const v = (f.get(k) || '').trim();
    if (v) q.set(k, v);
  }
  const from = f.get('dateFrom');
  q.set('dateFrom', from ? new Date(`${from}T00:00:00`).toISOString() : ALL_TIME);
  const to = f.get('dateTo');
  // The "to" day is included: the API's dateTo is exclusive.
  if (to) q.set('dateTo', new Date(new Date(`${to}T00:00:00`).getTime() + 86400000).toISOString());
  return q;
}

// The inbox pages by keyset on creation time, fast at any depth unlike
// offsets: dateTo is exclusive, so a page starts at the last instant the
// previous one showed and skips the ids it already showed at that instant.
// Grouped by conversation, a page is PER_PAGE conversations (each at its
// newest message), read in chunks until it has them; a conversation shown
// on an earlier page is not shown again further down.
const GROUP_CHUNK = 200;
const GROUP_MAX_CHUNKS = 5; // a page reads at most this many chunks, whatever the mailbox holds

const grouping = () => new FormData($('#filters')).get('group') === 'on';
const createdMs = (m) => new Date(m.creationTime).getTime();

function conversationKey(m) {
  const conv = m.conversationId || (m.conversation && m.conversation.id);
  return conv && (m.type === 'SMS' || m.type === 'Pager') ? `${m.type}:${conv}` : null;
}

// cursorAfter is the keyset position after the messages consumed since
// cursor (oldest last).
function cursorAfter(consumed, cursor) {
  const t = createdMs(consumed[consumed.length - 1]);
  const dateTo = new Date(t + 1).toISOString();
  const skip = new Set(consumed.filter((m) => createdMs(m) === t).map((m) => String(m.id)));
  if (cursor && cursor.dateTo === dateTo) for (const id of cursor.skip) skip.add(id); // one instant across pages
  return { dateTo, skip };
}

async function fetchChunk(base, cursor, n) {
  const q = new URLSearchParams(base);
  if (cursor) q.set('dateTo', cursor.dateTo);
  q.set('perPage', String(n + (cursor ? cursor.skip.size : 0)));
  const data = await api('GET', `${mailboxPath()}/message-store?${q}`);
  let records = data.records || [];
  if (cursor) records = records.filter((m) => !cursor.skip.has(String(m.id)));
  return { records: records.slice(0, n), more: records.length > n || Boolean(data.navigation && data.navigation.nextPage) };
}

// listGeneration numbers the list's refreshes: only the latest may draw,
// so an older one answering late (the mailbox or the filters changed
// meanwhile) cannot show another mailbox's messages under this one.
let listGeneration = 0;

async function refreshList() {
  const generation = ++listGeneration;
  const listBox = $('#messages');
  const base = filterQuery();
  const cursor = state.cursors[state.cursors.length - 1];
  const group = grouping();
  const seen = (cursor && cursor.seen) || new Set();
  const rows = [];
  const byKey = new Map();
  const consumed = [];
  let more = true;
  try {
    for (let chunk = 0; more && rows.length < PER_PAGE && chunk < (group ? GROUP_MAX_CHUNKS : 1); chunk++) {
      const from = consumed.length ? cursorAfter(consumed, cursor) : cursor;
      const got = await fetchChunk(base, from, group ? GROUP_CHUNK : PER_PAGE);
      more = got.more;
      for (const m of got.records) {
        const key = group ? conversationKey(m) : null;
        if (key && (seen.has(key) || byKey.has(key))) {
          if (byKey.has(key)) byKey.get(key).count++;
          consumed.push(m);
          continue;
        }
        if (rows.length === PER_PAGE) {
          more = true;
          break;
        }
        const row = { m, count: 1 };
        if (key) byKey.set(key, row);
        rows.push(row);
        consumed.push(m);
      }
    }
  } catch (e) {
    if (generation === listGeneration) listBox.replaceChildren(el('li', { class: 'alert', role: 'alert' }, e.message));
    return;
  }
  if (generation !== listGeneration) return;
  state.rows = rows;
  state.list = rows.map((r) => r.m);
  state.next = more && consumed.length ? { ...cursorAfter(consumed, cursor), seen: new Set([...seen, ...byKey.keys()]) } : null;
  renderList();
  refreshCounts();
}

function partyName(p) {
  if (!p) return '';
  return p.name || p.phoneNumber || (p.extensionNumber ? `ext. ${p.extensionNumber}` : '');
}

function peerOf(m) {
  if (m.direction === 'Inbound') return partyName(m.from);
  return (m.to || []).map(partyName).join(', ');
}

function snippet(m) {
  switch (m.type) {
    case 'Fax':
      return `Fax, ${m.faxPageCount || 0} page(s)`;
    case 'VoiceMail': {
      const a = (m.attachments || []).find((x) => x.type === 'AudioRecording');
      return `Voicemail${a && a.vmDuration ? `, ${a.vmDuration} s` : ''}`;
    }
    default:
      return m.subject || '';
  }
}

const fmtTime = (iso) => {
  const d = new Date(iso);
  const today = new Date();
  return d.toDateString() === today.toDateString()
    ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
    : d.toLocaleDateString([], { month: 'short', day: 'numeric', year: d.getFullYear() === today.getFullYear() ? undefined : 'numeric' });
};

function renderList() {
  const rows = state.rows || [];
  const items = rows.map(({ m, count }) =>
    el('li', { class: m.readStatus === 'Unread' ? 'unread' : '', 'data-id': String(m.id) },
      el('a', { class: 'row', href: `#/inbox/${m.id}`, 'aria-current': state.selected && String(state.selected.id) === String(m.id) ? 'true' : null },
        el('span', { class: 'type' }, m.type === 'VoiceMail' ? 'Voice' : m.type),
        el('span', { class: 'who' }, m.direction === 'Outbound' ? '→ ' : '', peerOf(m)),
        el('span', { class: 'when' }, fmtTime(m.creationTime),
          el('span', { class: `badge status-${m.messageStatus}` }, m.messageStatus),
          m.availability !== 'Alive' ? el('span', { class: `badge avail-${m.availability}` }, m.availability) : null),
        el('span', { class: 'snippet' },
          count > 1 ? el('span', { class: 'badge count', title: `${count} messages of this conversation from here to the end of this page` }, `${count} msgs`) : null,
          snippet(m) || '\u00a0'))));
  const box = $('#messages');
  box.replaceChildren(...(items.length ? items : [el('li', { class: 'muted', style: 'padding:1em' }, 'No messages match.')]));
  $('#newer').disabled = state.cursors.length <= 1;
  $('#older').disabled = !state.next;
  $('#pageinfo').textContent = `Page ${state.cursors.length}`;
}

async function refreshCounts() {
  try {
    const data = await api('GET', `${mailboxPath()}/message-store?readStatus=Unread&perPage=1000&dateFrom=${ALL_TIME}`);
    const recs = data.records || [];
    const by = {};
    for (const m of recs) by[m.type] = (by[m.type] || 0) + 1;
    const n = recs.length + (data.navigation && data.navigation.nextPage ? '+' : '');
    const parts = Object.entries(by).map(([t, c]) => `${t} ${c}`);
    $('#counts').textContent = `Unread: ${n}${parts.length ? ` (${parts.join(', ')})` : ''}`;
  } catch {
    $('#counts').textContent = '';
  }
}

function older() {
  if (!state.next) return;
  state.cursors.push(state.next);
  refreshList();
}

function newer() {
  if (state.cursors.length > 1) state.cursors.pop();
  refreshList();
}

// ---- message view

async function content(a) {
  const res = await api('GET', attachmentURL(a.uri), { raw: true });
  return res.text();
}

async function showMessage(id, { markRead = true } = {}) {
  const box = $('#detail');
  $('#view-inbox').classList.add('showing');
  let m;
  try {
    m = await api('GET', `${mailboxPath()}/message-store/${id}`);
  } catch (e) {
    box.replaceChildren(el('div', { class: 'alert', role: 'alert' }, e.message));
    return;
  }
  if (markRead && m.readStatus === 'Unread' && m.availability === 'Alive') {
    // Opening a message reads it, as the API's clients do.
    try {
      m = await api('PUT', `${mailboxPath()}/message-store/${id}`, { json: { readStatus: 'Read' } });
    } catch (e) {
      toast(e.message);
    }
  }
  state.selected = m;
  for (const a of document.querySelectorAll('#messages a.row')) {
    a.setAttribute('aria-current', a.closest('li').dataset.id === String(m.id) ? 'true' : 'false');
  }
  const li = document.querySelector(`#messages li[data-id="${m.id}"]`);
  if (li) li.classList.toggle('unread', m.readStatus === 'Unread');

  const body = [];
  const atts = m.attachments || [];
  if (m.type === 'SMS' || m.type === 'Pager') {
    body.push(el('div', { class: 'text', id: 'message-text' }, m.subject || ''));
    for (const a of atts.filter((x) => x.type === 'MmsAttachment')) {
      if ((a.contentType || '').startsWith('image/')) body.push(el('img', { class: 'mms', src: attachmentURL(a.uri), alt: a.fileName || 'MMS image' }));
      else body.push(el('a', { href: attachmentURL(a.uri), download: a.fileName || '' }, `Attachment (${a.contentType})`));
    }
  }
  if (m.type === 'Fax') {
    const doc = atts.find((x) => x.type === 'RenderedDocument') || atts[0];
    if (doc) {
      body.push(el('iframe', { class: 'fax', src: attachmentURL(doc.uri), title: `Fax document, ${m.faxPageCount || 0} page(s)` }));
      body.push(el('p', {}, el('a', { href: attachmentURL(doc.uri), download: doc.fileName || `fax-${m.id}.pdf`, id: 'fax-download' }, 'Download the fax (PDF)')));
    } else {
      body.push(el('p', { class: 'muted' }, 'No document (purged).'));
    }
  }
  if (m.type === 'VoiceMail') {
    const rec = atts.find((x) => x.type === 'AudioRecording');
    if (rec) body.push(el('audio', { controls: true, preload: 'metadata', src: attachmentURL(rec.uri), 'aria-label': 'Voicemail recording' }));
    const tr = atts.find((x) => x.type === 'AudioTranscription');
    const trBox = el('div', { class: 'text', id: 'transcription' }, tr ? 'Loading the transcription…' : `Transcription: ${m.vmTranscriptionStatus || 'NotAvailable'}`);
    body.push(trBox);
    if (tr) content(tr).then((t) => (trBox.textContent = t), (e) => (trBox.textContent = e.message));
  }

  const thread = el('ul', { class: 'thread', 'aria-label': 'Conversation' });
  const conv = m.conversationId || (m.conversation && m.conversation.id);
  if (conv && (m.type === 'SMS' || m.type === 'Pager')) {
    api('GET', `${mailboxPath()}/message-store?conversationId=${conv}&perPage=30&dateFrom=${ALL_TIME}`).then((d) => {
      const recs = (d.records || []).slice().reverse();
      if (recs.length > 1) {
        thread.replaceChildren(...recs.map((x) => el('li', { class: x.direction === 'Outbound' ? 'out' : 'in', title: new Date(x.creationTime).toLocaleString() }, x.subject || '')));
      }
    }, () => {});
  }

  const act = (label, fn, cls) => el('button', { type: 'button', class: cls, onclick: async (ev) => {
    ev.target.disabled = true;
    try {
      await fn();
    } catch (e) {
      toast(e.message);
    } finally {
      ev.target.disabled = false;
    }
  } }, label);
  const path = `${mailboxPath()}/message-store/${m.id}`;
  const actions = [];
  if (m.availability === 'Alive') {
    actions.push(m.readStatus === 'Read'
      ? act('Mark unread', async () => { await api('PUT', path, { json: { readStatus: 'Unread' } }); toast('Marked unread'); await showMessage(m.id, { markRead: false }); })
      : act('Mark read', async () => { await api('PUT', path, { json: { readStatus: 'Read' } }); toast('Marked read'); await showMessage(m.id, { markRead: false }); }));
    actions.push(act('Delete', async () => { await api('DELETE', path); toast('Deleted'); await showMessage(m.id, { markRead: false }); }, 'danger'));
  }
  if (m.availability === 'Deleted') {
    actions.push(act('Restore', async () => { await api('PATCH', path, { json: { availability: 'Alive' } }); toast('Restored'); await showMessage(m.id, { markRead: false }); }));
    actions.push(act('Purge', async () => {
      if (!confirm('Purge this message for good? Its content is erased.')) return;
      await api('DELETE', `${path}?purge=true`);
      toast('Purged');
      await showMessage(m.id, { markRead: false });
    }, 'danger'));
  }
  if (m.direction === 'Inbound' && m.type === 'SMS' && m.from && m.from.phoneNumber) {
    actions.push(act('Reply', async () => {
      location.hash = '#/compose';
      $('#compose-to').value = m.from.phoneNumber;
      $('#compose-text').focus();
    }));
  }
  actions.push(el('button', { type: 'button', class: 'back', onclick: () => { location.hash = '#/inbox'; } }, 'Back to the list'));

  box.replaceChildren(
    el('h2', {}, `${m.type === 'VoiceMail' ? 'Voicemail' : m.type} ${m.direction === 'Inbound' ? 'from' : 'to'} ${peerOf(m)}`),
    el('div', { class: 'meta' }, new Date(m.creationTime).toLocaleString(), ' ',
      el('span', { class: `badge status-${m.messageStatus}`, id: 'message-status' }, m.messageStatus),
      el('span', { class: 'badge', id: 'message-read' }, m.readStatus),
      el('span', { class: `badge avail-${m.availability}`, id: 'message-availability' }, m.availability)),
    ...body,
    thread,
    el('div', { class: 'actions' }, actions),
    el('dl', {},
      el('dt', {}, 'From'), el('dd', {}, partyName(m.from) || '—', m.from && m.from.phoneNumber && m.from.name ? ` (${m.from.phoneNumber})` : ''),
      el('dt', {}, 'To'), el('dd', { id: 'message-to' }, recipients(m)),
      el('dt', {}, 'Id'), el('dd', {}, String(m.id)),
      conv ? [el('dt', {}, 'Conversation'), el('dd', {}, String(conv))] : null),
    el('details', {}, el('summary', {}, 'RingCentral JSON'), el('pre', { class: 'json' }, JSON.stringify(m, null, 2))));
}

// updateSelected follows a change of the open message. A status change
// (Queued -> Sent -> Delivered) is written into the view in place, so a
// playing voicemail or a scrolled fax is left alone; a change that alters
// what the view offers (read state, availability, transcription) redraws it.
async function updateSelected() {
  const old = state.selected;
  let m;
  try {
    m = await api('GET', `${mailboxPath()}/message-store/${old.id}`);
  } catch {
    return showMessage(old.id, { markRead: false }); // gone: the view says so
  }
  const same = (k) => m[k] === old[k];
  if (!same('readStatus') || !same('availability') || !same('vmTranscriptionStatus') || (m.attachments || []).length !== (old.attachments || []).length) {
    return showMessage(m.id, { markRead: false });
  }
  state.selected = m;
  const badge = $('#message-status');
  if (badge) {
    badge.textContent = m.messageStatus;
    badge.className = `badge status-${m.messageStatus}`;
  }
  const to = $('#message-to');
  if (to) to.textContent = recipients(m);
}

// recipients lists the "to" parties; an outbound message shows each
// recipient's delivery status and the carrier's error code.
function recipients(m) {
  const status = (p) => (m.direction === 'Outbound' && p.messageStatus ? ` [${p.messageStatus}${p.errorCode ? `: ${p.errorCode}` : ''}]` : '');
  return (m.to || []).map((p) => `${partyName(p)}${status(p)}`).join(', ') || '—';
}

// ---- compose

async function initCompose() {
  const from = $('#compose-from');
  if (!state.numbers.length) {
    const d = await api('GET', `${RC}/account/~/extension/~/phone-number?perPage=100`);
    state.numbers = (d.records || []).filter((n) => (n.features || []).includes('SmsSender') || n.type === 'VoiceFax');
  }
  from.replaceChildren(...state.numbers.map((n) => el('option', { value: n.phoneNumber }, n.phoneNumber)));
  const cover = $('#compose-cover');
  if (cover.options.length <= 1) {
    try {
      const d = await api('GET', `${RC}/dictionary/fax-cover-page`);
      for (const c of (d.records || []).filter((x) => String(x.id) !== '0')) cover.append(el('option', { value: String(c.id) }, c.name));
    } catch {
      /* cover pages are optional */
    }
  }
  syncComposeKind();
}

function syncComposeKind() {
  const kind = new FormData($('#compose')).get('kind');
  $('#view-compose').classList.toggle('fax', kind === 'fax');
  $('#compose-from').disabled = kind === 'pager';
}

async function send(ev) {
  ev.preventDefault();
  const f = new FormData(ev.target);
  const err = $('#compose-error');
  err.hidden = true;
  const kind = f.get('kind');
  const to = String(f.get('to') || '').split(',').map((s) => s.trim()).filter(Boolean);
  const text = String(f.get('text') || '');
  const files = ($('#compose-files').files && [...$('#compose-files').files]) || [];
  const base = `${RC}/account/~/extension/~`;
  const btn = ev.target.querySelector('button[type=submit]');
  btn.disabled = true;
  try {
    let m;
    if (kind === 'pager') {
      m = await api('POST', `${base}/company-pager`, { json: { to: to.map((x) => ({ extensionNumber: x })), text } });
    } else if (kind === 'fax') {
      const fd = new FormData();
      const env = { to: to.map((x) => ({ phoneNumber: x })), faxResolution: 'High' };
      const cover = Number(f.get('coverIndex') || 0);
      if (cover) env.coverIndex = cover;
      if (f.get('coverPageText')) env.coverPageText = f.get('coverPageText');
      fd.append('json', new Blob([JSON.stringify(env)], { type: 'application/json' }), 'request.json');
      if (text) fd.append('attachment', new Blob([text], { type: 'text/plain' }), 'message.txt');
      for (const file of files) fd.append('attachment', file, file.name);
      m = await api('POST', `${base}/fax`, { form: fd });
    } else if (files.length) {
      const fd = new FormData();
      fd.append('json', new Blob([JSON.stringify({ from: { phoneNumber: f.get('from') }, to: to.map((x) => ({ phoneNumber: x })), text: text || undefined })], { type: 'application/json' }), 'request.json');
      for (const file of files) fd.append('attachment', file, file.name);
      m = await api('POST', `${base}/mms`, { form: fd });
    } else {
      m = await api('POST', `${base}/sms`, { json: { from: { phoneNumber: f.get('from') }, to: to.map((x) => ({ phoneNumber: x })), text } });
    }
    toast(`${m.type} ${m.messageStatus}`);
    ev.target.reset();
    syncComposeKind();
    state.mailbox = String(state.me.id);
    location.hash = `#/inbox/${m.id}`;
  } catch (e) {
    showError(err, e);
  } finally {
    btn.disabled = false;
  }
}

// ---- admin console

function parseDuration(s) {
  const re = /(\d+(?:\.\d+)?)\s*(d|h|m|s)/g;
  const unit = { d: 86400, h: 3600, m: 60, s: 1 };
  let total = 0;
  let matched = '';
  for (const x of s.matchAll(re)) {
    total += Number(x[1]) * unit[x[2]];
    matched += x[0];
  }
  if (!matched || matched.replace(/\s/g, '') !== s.replace(/\s/g, '')) throw new Error('Write the duration like 90s, 15m, 24h or 7d');
  return total;
}

async function initAdmin() {
  $('#view-admin').classList.toggle('emulator', Boolean(state.session.emulator));
  const out = $('#admin-result');
  const err = $('#admin-error');
  err.hidden = true;
  try {
    const accounts = await api('GET', '/switchboard/v1/accounts');
    const sel = $('#account');
    const keep = sel.value;
    sel.replaceChildren(...accounts.records.map((a) => el('option', { value: a.id, selected: a.id === keep }, `${a.name} (${a.id})`)));
    await Promise.all([loadDirectory(), loadQueue(), loadSubscriptions()]);
  } catch (e) {
    showError(err, e);
  }
  try {
    const apps = await api('GET', '/switchboard/v1/apps');
    $('#apps tbody').replaceChildren(...(apps.records || []).map((a) => el('tr', {},
      el('td', {}, a.name), el('td', {}, a.clientId), el('td', {}, a.public ? 'public' : 'confidential'), el('td', {}, a.status),
      el('td', {}, [...(a.redirectUris || []), a.loopbackRedirects ? 'any loopback (RFC 8252)' : null].filter(Boolean).join(' ') || '—'))));
  } catch (e) {
    showError(err, e);
  }
  try {
    const rules = await api('GET', '/switchboard/v1/carrier/rules');
    $('#rules').value = JSON.stringify(rules, null, 2);
  } catch (e) {
    $('#rules').value = '';
    $('#rules').placeholder = e.message;
  }
  out.textContent = '';
}

const cell = (v) => el('td', {}, v === undefined || v === null || v === '' ? '—' : String(v));
const when = (iso) => (iso ? new Date(iso).toLocaleString() : '');

async function loadDirectory() {
  const id = $('#account').value;
  if (!id) return;
  const [xs, ns] = await Promise.all([
    api('GET', `/switchboard/v1/accounts/${id}/extensions`),
    api('GET', `/switchboard/v1/accounts/${id}/phone-numbers`),
  ]);
  $('#extensions tbody').replaceChildren(...xs.records.map((x) => el('tr', {},
    cell(x.extensionNumber), cell(x.name), cell(x.type), cell(x.status), cell(x.email), cell(x.admin ? 'administrator' : ''),
    el('td', {}, el('button', { type: 'button', 'data-open': x.id, onclick: () => openMailbox(id, x.id) }, 'Open mailbox')))));
  $('#numbers tbody').replaceChildren(...ns.records.map((n) => el('tr', {},
    cell(n.phoneNumber), cell(n.extensionId), cell(n.usageType), cell(n.features.join(', ')), cell(n.status))));
}

// openMailbox: the admin token opens any mailbox. The server issues an
// ordinary session for the extension, and the page works in it as its user
// would; the console stays signed in beside it.
async function openMailbox(accountId, extensionId) {
  await adminAction(async () => {
    await api('POST', '/ui/session/mailbox', { json: { accountId, extensionId } });
    location.hash = '#/inbox';
    route.listed = false;
    await boot();
    return { opened: extensionId };
  });
}

async function loadQueue() {
  const tab = document.querySelector('#queue-tabs [aria-selected=true]');
  const d = await api('GET', `/switchboard/v1/deliveries?state=${tab.dataset.state}&limit=100`);
  const rows = d.records.map((q) => el('tr', {}, cell(q.messageId), cell(q.type), cell(`${q.recipient}${q.internal ? ' (internal)' : ''}`),
    cell(q.attempts), cell(when(q.nextAttemptTime)), cell(q.errorCode)));
  $('#queue tbody').replaceChildren(...(rows.length ? rows : [el('tr', {}, el('td', { colspan: 6, class: 'muted' }, 'Nothing in this state.'))]));
}

async function loadSubscriptions() {
  const d = await api('GET', '/switchboard/v1/subscriptions?limit=100');
  const rows = d.records.map((x) => el('tr', {}, cell(x.id), cell(`${x.accountId}/${x.extensionId}`),
    cell(`${x.transportType}${x.address ? ` ${x.address}` : ''}`), cell(x.status), cell(when(x.failingSince)),
    cell(x.lastError), cell(when(x.expirationTime)),
    el('td', {}, x.transportType === 'WebHook'
      ? el('button', { type: 'button', 'data-deliveries': x.id, 'aria-label': `Recent deliveries of subscription ${x.id}`,
        onclick: () => loadSubscriptionDeliveries(x.id).catch((e) => showError('#admin-error', e)) }, 'Deliveries')
      : null)));
  $('#subscriptions tbody').replaceChildren(...(rows.length ? rows : [el('tr', {}, el('td', { colspan: 8, class: 'muted' }, 'No subscriptions.'))]));
}

// A WebHook's most recent POSTs, newest first, with what its receiver
// answered: why a subscription is failing, not only that it is.
async function loadSubscriptionDeliveries(id) {
  const d = await api('GET', `/switchboard/v1/subscriptions/${encodeURIComponent(id)}/deliveries?limit=50`);
  const box = $('#sub-deliveries');
  $('#h-sub-deliveries').textContent = `Recent deliveries of ${id}`;
  const answer = (a) => (a.ok ? `${a.httpStatus} OK` : a.error || `HTTP ${a.httpStatus}`);
  const rows = d.records.map((a) => el('tr', { class: a.ok ? '' : 'failed' },
    cell(when(a.time)), cell(a.event), cell(answer(a)), cell(`${a.durationMs} ms`), cell(a.uuid)));
  box.querySelector('tbody').replaceChildren(...(rows.length ? rows : [el('tr', {}, el('td', { colspan: 5, class: 'muted' }, 'Nothing delivered yet.'))]));
  box.hidden = false;
}

async function inject(form) {
  const f = new FormData(form);
  const kind = f.get('kind');
  if (kind === 'sms') {
    return api('POST', '/switchboard/v1/inbound/sms', { json: { from: f.get('from'), to: f.get('to'), text: f.get('text') } });
  }
  const file = $('#inject-file').files[0];
  if (!file) throw new Error(`Choose a file: ${kind === 'voicemail' ? 'the recording' : 'the document or image'}`);
  const fd = new FormData();
  fd.append('from', f.get('from'));
  fd.append('to', f.get('to'));
  if (kind !== 'voicemail' && f.get('text')) fd.append('text', f.get('text'));
  fd.append(kind === 'voicemail' ? 'audio' : 'attachment', file, file.name);
  return api('POST', `/switchboard/v1/inbound/${kind}`, { form: fd });
}

async function adminAction(fn) {
  const err = $('#admin-error');
  err.hidden = true;
  try {
    const r = await fn();
    $('#admin-result').textContent = JSON.stringify(r, null, 2);
  } catch (e) {
    showError(err, e);
  }
}

// ---- routing

async function route() {
  if (!state.session) return showView('signin');
  const [, view, id] = location.hash.split('/');
  if (state.session.kind === 'admin') {
    showView('admin');
    return initAdmin();
  }
  switch (view) {
    case 'compose':
      showView('compose');
      return initCompose();
    case 'admin':
      if (!state.session.console) {
        location.hash = '#/inbox';
        return;
      }
      showView('admin');
      return initAdmin();
    default:
      showView('inbox');
      if (!state.events) openEvents();
      if (!route.listed) {
        route.listed = true;
        await refreshList();
      }
      if (id) return showMessage(id);
      state.selected = null;
      $('#view-inbox').classList.remove('showing');
      $('#detail').replaceChildren(el('p', { class: 'muted' }, 'Select a message.'));
  }
}

document.addEventListener('DOMContentLoaded', () => {
  // On a phone the filters start folded, so the messages come first.
  if (window.matchMedia('(max-width: 760px)').matches) $('#filters-box').open = false;
  $('#signin-user').addEventListener('submit', (ev) => {
    ev.preventDefault();
    signIn({ username: $('#username').value, password: $('#password').value });
  });
  $('#signin-admin').addEventListener('submit', (ev) => {
    ev.preventDefault();
    signIn({ adminToken: $('#admin-token').value });
  });
  for (const [tab, form] of [['#tab-user', '#signin-user'], ['#tab-admin', '#signin-admin']]) {
    $(tab).addEventListener('click', () => {
      for (const [t2, f2] of [['#tab-user', '#signin-user'], ['#tab-admin', '#signin-admin']]) {
        $(t2).setAttribute('aria-selected', String(t2 === tab));
        $(f2).hidden = f2 !== form;
      }
      $(`${form} input`).focus();
    });
  }
  $('#signout').addEventListener('click', signOut);
  $('#filters').addEventListener('submit', (ev) => {
    ev.preventDefault();
    state.cursors = [null];
    refreshList();
  });
  $('#filters').addEventListener('reset', () => setTimeout(() => { state.cursors = [null]; refreshList(); }));
  $('#filters').addEventListener('change', (ev) => {
    if (ev.target.name === 'group') {
      state.cursors = [null];
      refreshList();
    }
  });
  $('#older').addEventListener('click', older);
  $('#newer').addEventListener('click', newer);
  $('#mailbox').addEventListener('change', (ev) => {
    state.mailbox = ev.target.value;
    state.cursors = [null];
    openEvents();
    location.hash = '#/inbox';
    refreshList();
  });
  $('#compose').addEventListener('submit', send);
  $('#compose').addEventListener('change', (ev) => {
    if (ev.target.name === 'kind') syncComposeKind();
  });
  $('#inject').addEventListener('submit', (ev) => {
    ev.preventDefault();
    adminAction(async () => {
      const m = await inject(ev.target);
      loadQueue().catch(() => {});
      return m;
    });
  });
  $('#account').addEventListener('change', () => loadDirectory().catch((e) => showError('#admin-error', e)));
  for (const b of document.querySelectorAll('#queue-tabs button')) {
    b.addEventListener('click', () => {
      for (const x of document.querySelectorAll('#queue-tabs button')) x.setAttribute('aria-selected', String(x === b));
      loadQueue().catch((e) => showError('#admin-error', e));
    });
  }
  $('#clock').addEventListener('submit', (ev) => {
    ev.preventDefault();
    adminAction(() => api('POST', '/switchboard/v1/clock/advance', { json: { seconds: parseDuration($('#clock-by').value) } }));
  });
  $('#retention-run').addEventListener('click', () => adminAction(() => api('POST', '/switchboard/v1/retention/run')));
  $('#rules-save').addEventListener('click', () => adminAction(async () => {
    let rules;
    try {
      rules = JSON.parse($('#rules').value);
    } catch (e) {
      throw new Error(`The rules are not valid JSON: ${e.message}`);
    }
    await api('PUT', '/switchboard/v1/carrier/rules', { json: rules });
    return { saved: true };
  }));
  window.addEventListener('hashchange', route);
  boot();
});
