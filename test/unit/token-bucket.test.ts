/**
 * The token bucket that paces a live_first replay (src/host/outbox/token-bucket.ts), on a clock given
 * by the test: expected counts are rate × elapsed time, worked out by hand.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenBucket } from '../../src/host/outbox/token-bucket.js';

test('starts full, then gives rate x elapsed, never more than its capacity', () => {
  const bucket = new TokenBucket(100, 10, 0); // 100/s = 0.1 per ms
  assert.equal(bucket.take(50, 0), 10, 'the full bucket');
  assert.equal(bucket.take(50, 0), 0, 'empty at once after');
  assert.equal(bucket.take(50, 55), 5, '55 ms x 0.1/ms = 5.5: five whole tokens');
  assert.equal(bucket.take(50, 60), 1, 'the half left plus 5 ms x 0.1 = 1');
  assert.equal(bucket.take(50, 10_000), 10, 'ten seconds later: capped at 10');
});

test('takes no more than asked', () => {
  const bucket = new TokenBucket(100, 10, 0);
  assert.equal(bucket.take(3, 0), 3);
  assert.equal(bucket.take(100, 0), 7);
});

test('says how long until the next whole token', () => {
  const bucket = new TokenBucket(20, 1, 0); // one token per 50 ms
  assert.equal(bucket.msUntilToken(0), 0);
  bucket.take(1, 0);
  assert.equal(bucket.msUntilToken(0), 50);
  assert.equal(bucket.msUntilToken(30), 20);
  assert.equal(bucket.take(1, 49), 0);
  assert.equal(bucket.take(1, 50), 1);
});

test('a rate of 0 or a capacity below 1 is refused', () => {
  assert.throws(() => new TokenBucket(0, 1), RangeError);
  assert.throws(() => new TokenBucket(10, 0.5), RangeError);
});
