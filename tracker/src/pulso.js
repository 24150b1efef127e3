// pulso.js: Pulso's browser tracker. Segment-spec events, batched to {host}/v1/batch, persisted in
// localStorage until the collector acknowledges them (the collector dedups on messageId, so a resend is safe).
import {
  bounded,
  campaignFrom,
  classifyStatus,
  doNotTrack,
  nextBatch,
  retryAfterMs,
  retryDelay,
  uuid,
} from './core.js';

const VERSION = __PULSO_VERSION__; // replaced at build time from package.json
const MAX_QUEUE = 1000;
const MAX_BATCH_EVENTS = 100;
const MAX_BATCH_BYTES = 256 * 1024;
const BEACON_BYTES = 60 * 1024; // browsers allow 64 KiB of beacon and keepalive bodies in flight
const REQUEST_TIMEOUT = 15000;
const BASE_RETRY_DELAY = 1000;
const MAX_RETRY_AFTER = 600000; // a server's Retry-After is honoured up to ten minutes

const win = window;
const doc = document;
const nav = navigator;
const loc = win.location;
// Default collector: wherever this script was loaded from. currentScript exists only while it first runs.
const scriptSrc = doc.currentScript && doc.currentScript.src;

function storageOf(name) {
  try {
    const storage = win[name];
    storage.setItem('pulso:probe', '1');
    storage.removeItem('pulso:probe');
    return storage;
  } catch (e) {
    return null; // disabled storage, Safari's old private mode, sandboxed frames
  }
}
const local = storageOf('localStorage');
const session = storageOf('sessionStorage');

function read(storage, key) {
  try {
    return storage ? storage.getItem(key) : null;
  } catch (e) {
    return null;
  }
}

function write(storage, key, value) {
  try {
    if (!storage) return false;
    if (value == null) storage.removeItem(key);
    else storage.setItem(key, value);
    return true;
  } catch (e) {
    return false; // quota exceeded
  }
}

// Identifiers live in localStorage and in a first-party cookie, so either one surviving is enough.
const memory = {};
function getId(name) {
  const cookie = doc.cookie.match(new RegExp('(?:^|; )pulso_' + name + '=([^;]*)'));
  return read(local, 'pulso:' + name) || (cookie && decodeURIComponent(cookie[1])) || memory[name] || null;
}

function setId(name, value) {
  memory[name] = value;
  write(local, 'pulso:' + name, value);
  doc.cookie =
    'pulso_' + name + '=' + encodeURIComponent(value || '') + '; max-age=' + (value ? 31536000 : 0) +
    '; path=/; SameSite=Lax' + (loc.protocol === 'https:' ? '; Secure' : '');
}

function anonymousId() {
  let id = getId('aid');
  if (!id) setId('aid', (id = uuid(win.crypto)));
  return id;
}

let writeKey = null;
let host = '';
let flushInterval = 3000;
let flushAt = 20;
let maxRetryDelay = 60000;
let disabled = false;
let queueKey = '';
let persistent = true; // false once localStorage refused a write: the queue then lives in memory
let memoryQueue = [];
let landing = {};
const early = []; // calls made before init
const inFlight = {}; // messageId -> 1 while a request carrying it is unanswered
let sending = false;
let attempt = 0;
let flushTimer = null;
let retryTimer = null;

function loadQueue() {
  if (!local || !persistent) return memoryQueue;
  try {
    const queue = JSON.parse(read(local, queueKey));
    return Array.isArray(queue) ? queue : [];
  } catch (e) {
    return [];
  }
}

function saveQueue(queue) {
  memoryQueue = queue;
  if (local && persistent && !write(local, queueKey, JSON.stringify(queue))) {
    persistent = false;
    console.warn('pulso: localStorage is full; queued events are kept in memory only');
  }
}

function pendingCount() {
  return loadQueue().filter((event) => !inFlight[event.messageId]).length;
}

// The campaign and referrer of the visit's landing page, kept for the browser session so that later pages'
// events carry them. A new set of UTM parameters mid-session starts a new campaign.
function rememberLanding() {
  let saved = null;
  try {
    saved = JSON.parse(read(session, 'pulso:landing'));
  } catch (e) {}
  const campaign = campaignFrom(loc.search);
  if (saved && !campaign) return saved;
  const referrer = doc.referrer && doc.referrer.indexOf(loc.origin + '/') !== 0 ? doc.referrer : '';
  const fresh = { campaign: campaign || (saved && saved.campaign) || null, referrer };
  write(session, 'pulso:landing', JSON.stringify(fresh));
  return fresh;
}

function pageInfo() {
  return {
    url: loc.href.split('#')[0],
    path: loc.pathname,
    referrer: doc.referrer,
    title: doc.title,
    search: loc.search,
  };
}

function context() {
  const result = {
    library: { name: 'pulso.js', version: VERSION },
    page: pageInfo(),
    userAgent: nav.userAgent,
    locale: nav.language,
  };
  try {
    result.timezone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (e) {}
  if (landing.campaign) result.campaign = landing.campaign;
  if (landing.referrer) result.referrer = { url: landing.referrer };
  return result;
}

function objectOr(value) {
  return value && typeof value === 'object' && !Array.isArray(value) ? value : {};
}

function enqueue(type, fields) {
  if (disabled) return;
  const event = Object.assign({ type, messageId: uuid(win.crypto), anonymousId: anonymousId() }, fields);
  const userId = getId('uid');
  if (userId) event.userId = userId;
  event.context = context();
  event.timestamp = new Date().toISOString();
  const queue = loadQueue();
  queue.push(event);
  const [kept, dropped] = bounded(queue, MAX_QUEUE);
  if (dropped) console.warn('pulso: the queue is full (' + MAX_QUEUE + ' events); dropped the ' + dropped + ' oldest');
  saveQueue(kept);
  schedule();
}

function schedule() {
  const count = pendingCount();
  if (!count) return;
  if (count >= flushAt) flush();
  else if (!flushTimer) flushTimer = setTimeout(flush, flushInterval);
}

function acknowledge(batch) {
  const sent = {};
  batch.forEach((event) => (sent[event.messageId] = 1));
  saveQueue(loadQueue().filter((event) => !sent[event.messageId]));
}

function body(batch) {
  return JSON.stringify({ batch, sentAt: new Date().toISOString(), writeKey });
}

/** Send what is queued now (one request at a time; during a retry wait this does nothing). */
function flush() {
  clearTimeout(flushTimer);
  flushTimer = null;
  if (!writeKey || disabled || sending || retryTimer) return;
  const batch = nextBatch(loadQueue(), inFlight, MAX_BATCH_EVENTS, MAX_BATCH_BYTES);
  if (!batch.length) return;
  sending = true;
  batch.forEach((event) => (inFlight[event.messageId] = 1));
  const payload = body(batch);
  const abort = win.AbortController ? new AbortController() : null;
  const timeout = setTimeout(() => abort && abort.abort(), REQUEST_TIMEOUT);
  const finish = (response) => {
    clearTimeout(timeout);
    sending = false;
    batch.forEach((event) => delete inFlight[event.messageId]);
    const outcome = response ? classifyStatus(response.status) : 'retry';
    if (outcome === 'retry') {
      // Retry-After is readable cross-origin only if the collector exposes it; otherwise back off.
      let wait = null;
      if (response && response.status === 429) {
        wait = retryAfterMs(response.headers.get('Retry-After'), Date.now(), MAX_RETRY_AFTER);
      }
      if (wait == null) wait = retryDelay(attempt, BASE_RETRY_DELAY, maxRetryDelay);
      attempt++;
      retryTimer = setTimeout(() => {
        retryTimer = null;
        flush();
      }, wait);
      return;
    }
    if (outcome === 'drop') {
      const refused = batch.length + ' event(s) (HTTP ' + response.status + ')';
      console.warn('pulso: the collector refused ' + refused + '; dropped');
    }
    attempt = 0;
    acknowledge(batch);
    schedule();
  };
  fetch(host + '/v1/batch', {
    method: 'POST',
    headers: { 'Content-Type': 'text/plain' }, // a CORS "simple" request: no preflight
    body: payload,
    credentials: 'omit',
    keepalive: payload.length < BEACON_BYTES,
    signal: abort ? abort.signal : undefined,
  }).then(finish, () => finish(null));
}

// The page is going away or to the background: hand what is queued to sendBeacon, which outlives the page.
// Not while offline or backing off, where the beacon would likely be lost: those events stay persisted for
// the next page. Events in a pending fetch stay persisted too and are resent if it never completes.
function beacon() {
  if (!writeKey || disabled || !nav.sendBeacon || retryTimer || nav.onLine === false) return;
  clearTimeout(flushTimer);
  flushTimer = null;
  for (;;) {
    const batch = nextBatch(loadQueue(), inFlight, MAX_BATCH_EVENTS, BEACON_BYTES - 512);
    const payload = body(batch);
    if (!batch.length || payload.length > BEACON_BYTES || !nav.sendBeacon(host + '/v1/batch', payload)) return;
    acknowledge(batch);
  }
}

const api = {
  VERSION,

  /** Start tracking with a tenant's write key. Options: host (the collector's origin; default: where this
   * script came from), flushInterval (ms), flushAt (events), respectDoNotTrack, maxRetryDelay (ms). */
  init(key, options) {
    if (writeKey || !key) return;
    options = options || {};
    disabled = !!options.respectDoNotTrack && doNotTrack(nav, win);
    writeKey = String(key);
    host = (options.host || (scriptSrc ? new URL(scriptSrc).origin : loc.origin)).replace(/\/+$/, '');
    if (options.flushInterval >= 0) flushInterval = options.flushInterval;
    if (options.flushAt >= 1) flushAt = options.flushAt;
    if (options.maxRetryDelay >= 0) maxRetryDelay = options.maxRetryDelay;
    if (disabled) return; // nothing stored, nothing sent
    queueKey = 'pulso:queue:' + writeKey;
    landing = rememberLanding();
    doc.addEventListener('visibilitychange', () => doc.visibilityState === 'hidden' && beacon());
    win.addEventListener('pagehide', beacon);
    win.addEventListener('online', () => {
      attempt = 0;
      if (retryTimer) clearTimeout(retryTimer);
      retryTimer = null;
      flush();
    });
    early.splice(0).forEach((call) => api[call[0]].apply(api, call[1]));
    schedule(); // events left by an earlier page or an offline period
  },

  track(event, properties) {
    if (!writeKey) return early.push(['track', arguments]);
    if (!event) return console.warn('pulso: track needs an event name');
    enqueue('track', { event: String(event), properties: objectOr(properties) });
  },

  identify(userId, traits) {
    if (!writeKey) return early.push(['identify', arguments]);
    if (userId && typeof userId === 'object') {
      traits = userId;
      userId = null;
    }
    if (disabled) return;
    if (userId != null && userId !== '') setId('uid', String(userId));
    enqueue('identify', { traits: objectOr(traits) });
  },

  /** page(), page(name), page(properties) or page(name, properties). */
  page(name, properties) {
    if (!writeKey) return early.push(['page', arguments]);
    if (name && typeof name === 'object') {
      properties = name;
      name = null;
    }
    const fields = { properties: Object.assign(pageInfo(), objectOr(properties)) };
    if (name) fields.name = String(name);
    enqueue('page', fields);
  },

  /** Forget the user: a new anonymous id and no user id (at logout). */
  reset() {
    if (!writeKey) return early.push(['reset', arguments]);
    if (disabled) return;
    setId('uid', null);
    setId('aid', uuid(win.crypto));
  },

  flush,
};

// Replay what the snippet queued before this script arrived; a second copy of the script is a no-op.
const stub = win.pulso;
if (!(stub && stub.VERSION)) {
  win.pulso = api;
  if (Array.isArray(stub)) stub.forEach((call) => api[call[0]] && api[call[0]].apply(api, call.slice(1)));
}
