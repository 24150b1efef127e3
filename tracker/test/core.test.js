// Unit tests for the tracker's pure parts: node --test test/
import assert from 'node:assert/strict';
import { webcrypto } from 'node:crypto';
import { test } from 'node:test';
import {
  bounded,
  campaignFrom,
  classifyStatus,
  doNotTrack,
  nextBatch,
  retryAfterMs,
  retryDelay,
  uuid,
} from '../src/core.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('uuid uses crypto.randomUUID when present', () => {
  assert.equal(uuid({ randomUUID: () => 'from-crypto' }), 'from-crypto');
});

test('uuid falls back to getRandomValues, then Math.random, with v4 version and variant bits', () => {
  const fallbacks = [{ getRandomValues: (bytes) => webcrypto.getRandomValues(bytes) }, undefined];
  for (const cryptoApi of fallbacks) {
    const seen = new Set();
    for (let i = 0; i < 500; i++) {
      const id = uuid(cryptoApi);
      assert.match(id, UUID_V4);
      seen.add(id);
    }
    assert.equal(seen.size, 500);
  }
});

test('uuid sets the version and variant bits whatever the random bytes are', () => {
  assert.equal(uuid({ getRandomValues: (bytes) => bytes.fill(0xff) }), 'ffffffff-ffff-4fff-bfff-ffffffffffff');
  assert.equal(uuid({ getRandomValues: (bytes) => bytes.fill(0) }), '00000000-0000-4000-8000-000000000000');
});

test('campaignFrom maps the five UTM parameters to Segment campaign fields', () => {
  const search =
    '?utm_source=google&utm_medium=cpc&utm_campaign=black+friday&utm_term=dentista%20sp&utm_content=ad-2&x=1';
  assert.deepEqual(campaignFrom(search), {
    source: 'google',
    medium: 'cpc',
    name: 'black friday',
    term: 'dentista sp',
    content: 'ad-2',
  });
});

test('campaignFrom: no UTM parameters, empty values, repeats, odd casing and bad escapes', () => {
  assert.equal(campaignFrom(''), null);
  assert.equal(campaignFrom('?q=1&page=2'), null);
  assert.equal(campaignFrom('?utm_source=&utm_medium'), null);
  assert.deepEqual(campaignFrom('utm_source=a&utm_source=b'), { source: 'a' });
  assert.deepEqual(campaignFrom('?UTM_Source=news'), { source: 'news' });
  assert.deepEqual(campaignFrom('?utm_campaign=50%off'), { name: '50%off' });
});

test('retryDelay is full jitter: uniform below min(cap, base * 2^attempt)', () => {
  const top = () => 0.999999;
  assert.equal(retryDelay(0, 1000, 60000, () => 0), 0);
  assert.equal(retryDelay(0, 1000, 60000, top), 999);
  assert.equal(retryDelay(3, 1000, 60000, top), 7999);
  assert.equal(retryDelay(10, 1000, 60000, top), 59999);
  assert.equal(retryDelay(1000, 1000, 60000, top), 59999);
  for (let i = 0; i < 200; i++) {
    const delay = retryDelay(4, 1000, 60000);
    assert.ok(delay >= 0 && delay < 16000, String(delay));
  }
});

test('retryAfterMs reads delta seconds and HTTP dates, capped; null when missing or unreadable', () => {
  const now = Date.parse('2026-11-22T12:00:00Z');
  assert.equal(retryAfterMs('7', now, 60000), 7000);
  assert.equal(retryAfterMs('0', now, 60000), 0);
  assert.equal(retryAfterMs('3600', now, 60000), 60000);
  assert.equal(retryAfterMs('Sun, 22 Nov 2026 12:00:30 GMT', now, 60000), 30000);
  assert.equal(retryAfterMs('Sun, 22 Nov 2026 11:00:00 GMT', now, 60000), 0);
  assert.equal(retryAfterMs(null, now, 60000), null);
  assert.equal(retryAfterMs('soon', now, 60000), null);
});

test('classifyStatus: acknowledge 2xx, retry 408/429/5xx, drop other client errors', () => {
  assert.deepEqual(
    [200, 204, 400, 401, 408, 413, 429, 500, 503].map(classifyStatus),
    ['ok', 'ok', 'drop', 'drop', 'retry', 'drop', 'retry', 'retry', 'retry'],
  );
});

test('doNotTrack reads DNT in its historical places and Global Privacy Control', () => {
  assert.equal(doNotTrack({}, {}), false);
  assert.equal(doNotTrack({ doNotTrack: '1' }, {}), true);
  assert.equal(doNotTrack({ doNotTrack: '0' }, {}), false);
  assert.equal(doNotTrack({ doNotTrack: 'unspecified' }, {}), false);
  assert.equal(doNotTrack({}, { doNotTrack: '1' }), true);
  assert.equal(doNotTrack({ msDoNotTrack: '1' }, {}), true);
  assert.equal(doNotTrack({ doNotTrack: 'yes' }, {}), true);
  assert.equal(doNotTrack({ globalPrivacyControl: true }, {}), true);
});

test('bounded keeps the newest events and reports how many it dropped', () => {
  assert.deepEqual(bounded([1, 2, 3], 5), [[1, 2, 3], 0]);
  assert.deepEqual(bounded([1, 2, 3, 4, 5, 6], 4), [[3, 4, 5, 6], 2]);
});

test('nextBatch skips events in flight and respects the count and size limits', () => {
  const queue = ['a', 'b', 'c', 'd', 'e'].map((id) => ({ messageId: id, pad: 'x'.repeat(80) }));
  const ids = (batch) => batch.map((event) => event.messageId);
  assert.deepEqual(ids(nextBatch(queue, { a: 1, c: 1 }, 10, 1e6)), ['b', 'd', 'e']);
  assert.deepEqual(ids(nextBatch(queue, {}, 2, 1e6)), ['a', 'b']);
  assert.deepEqual(ids(nextBatch(queue, {}, 10, 250)), ['a', 'b']);
  // An event larger than the byte limit still goes out alone rather than blocking the queue.
  assert.deepEqual(ids(nextBatch(queue, {}, 10, 10)), ['a']);
  assert.deepEqual(nextBatch([], {}, 10, 1e6), []);
});
