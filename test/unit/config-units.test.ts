import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration, parseSize } from '../../src/host/config/index.js';

test('durations convert to whole milliseconds', () => {
  // Expected values by hand: 1.5 s = 1500 ms, 2 min = 120 000 ms, 1 h = 3 600 000 ms.
  assert.deepEqual(parseDuration('250ms'), { ok: true, value: 250 });
  assert.deepEqual(parseDuration('1s'), { ok: true, value: 1000 });
  assert.deepEqual(parseDuration('1.5s'), { ok: true, value: 1500 });
  assert.deepEqual(parseDuration('2m'), { ok: true, value: 120_000 });
  assert.deepEqual(parseDuration('1h'), { ok: true, value: 3_600_000 });
  assert.deepEqual(parseDuration(40), { ok: true, value: 40 });
  assert.deepEqual(parseDuration('0ms'), { ok: true, value: 0 });
});

test('durations that are not whole milliseconds or not durations are refused, never rounded', () => {
  for (const text of ['0.5ms', '1.0005s', '5 sec', '1d', 's', '-1s', '']) {
    assert.equal(parseDuration(text).ok, false, text);
  }
  assert.equal(parseDuration(2.5).ok, false);
  assert.equal(parseDuration(-1).ok, false);
});

test('sizes convert to bytes with binary units only', () => {
  assert.deepEqual(parseSize('512B'), { ok: true, value: 512 });
  assert.deepEqual(parseSize('256KiB'), { ok: true, value: 262_144 });
  assert.deepEqual(parseSize('1MiB'), { ok: true, value: 1_048_576 });
  assert.deepEqual(parseSize('1.5MiB'), { ok: true, value: 1_572_864 });
  assert.deepEqual(parseSize('1GiB'), { ok: true, value: 1_073_741_824 });
  assert.deepEqual(parseSize(4096), { ok: true, value: 4096 });
  for (const text of ['1MB', '1kb', '1 MiB', '0.3B', 'big']) assert.equal(parseSize(text).ok, false, text);
});
