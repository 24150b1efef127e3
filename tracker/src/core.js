// Pure parts of the tracker: no window, document or storage access, so node's test runner can check them.

/** A random UUID v4: crypto.randomUUID where the context allows it (secure origins), else getRandomValues,
 * else Math.random (very old browsers only; the server dedups on it, so collisions would merge events). */
export function uuid(cryptoApi) {
  if (cryptoApi && cryptoApi.randomUUID) return cryptoApi.randomUUID();
  const bytes = new Uint8Array(16);
  if (cryptoApi && cryptoApi.getRandomValues) cryptoApi.getRandomValues(bytes);
  else for (let i = 0; i < 16; i++) bytes[i] = (Math.random() * 256) | 0;
  bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
  bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
  let hex = '';
  for (let i = 0; i < 16; i++) {
    hex += (bytes[i] + 0x100).toString(16).slice(1);
    if (i === 3 || i === 5 || i === 7 || i === 9) hex += '-';
  }
  return hex;
}

const UTM_FIELDS = {
  utm_source: 'source',
  utm_medium: 'medium',
  utm_campaign: 'name',
  utm_term: 'term',
  utm_content: 'content',
};

/** The Segment `context.campaign` object from a query string (`?utm_source=...`), or null without UTM
 * parameters. Only non-empty values are kept; the first occurrence of a repeated parameter wins. */
export function campaignFrom(search) {
  let campaign = null;
  const query = (search || '').replace(/^\?/, '');
  if (!query) return null;
  for (const pair of query.split('&')) {
    const at = pair.indexOf('=');
    const key = decodeSafely(at < 0 ? pair : pair.slice(0, at)).toLowerCase();
    const field = UTM_FIELDS[key];
    if (!field || at < 0) continue;
    const value = decodeSafely(pair.slice(at + 1)).trim();
    if (!value) continue;
    campaign = campaign || {};
    if (!(field in campaign)) campaign[field] = value;
  }
  return campaign;
}

function decodeSafely(text) {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch (e) {
    return text;
  }
}

/** Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"):
 * a uniform delay in [0, min(maxDelay, baseDelay * 2^attempt)) milliseconds; attempt counts from 0. */
export function retryDelay(attempt, baseDelay, maxDelay, random) {
  const ceiling = Math.min(maxDelay, baseDelay * Math.pow(2, Math.min(attempt, 30)));
  return Math.floor((random || Math.random)() * ceiling);
}

/** Milliseconds to wait from a Retry-After header (delta seconds or an HTTP date), or null when absent or
 * unreadable (a cross-origin response hides it unless the server exposes it). Capped at maxDelay. */
export function retryAfterMs(header, now, maxDelay) {
  if (header == null || header === '') return null;
  let wait;
  if (/^\s*\d+\s*$/.test(header)) wait = parseInt(header, 10) * 1000;
  else {
    const at = Date.parse(header);
    if (isNaN(at)) return null;
    wait = at - now;
  }
  return Math.min(Math.max(wait, 0), maxDelay);
}

/** Whether the browser asks not to be tracked: Do-Not-Track ("1"/"yes", in its historical locations) or
 * Global Privacy Control. */
export function doNotTrack(nav, win) {
  nav = nav || {};
  win = win || {};
  const flag = String(nav.doNotTrack || win.doNotTrack || nav.msDoNotTrack || '');
  return flag === '1' || flag === 'yes' || nav.globalPrivacyControl === true;
}

/** Which HTTP outcome the sender is looking at: 'ok' (drop from the queue), 'retry' (429, 408, 5xx) or
 * 'drop' (any other client error: resending the same batch would fail the same way). */
export function classifyStatus(status) {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 429 || status === 408 || status >= 500) return 'retry';
  return 'drop';
}

/** The queue bounded to `max` events, oldest dropped first; returns [kept, droppedCount]. */
export function bounded(queue, max) {
  const excess = queue.length - max;
  return excess > 0 ? [queue.slice(excess), excess] : [queue, 0];
}

/** The next batch: queued events not already in flight, oldest first, at most `maxEvents` and, after the
 * first event, at most `maxBytes` of JSON. */
export function nextBatch(queue, inFlight, maxEvents, maxBytes) {
  const batch = [];
  let bytes = 0;
  for (const event of queue) {
    if (inFlight[event.messageId]) continue;
    const size = JSON.stringify(event).length + 1;
    if (batch.length && (batch.length >= maxEvents || bytes + size > maxBytes)) break;
    batch.push(event);
    bytes += size;
  }
  return batch;
}
