/**
 * The pattern by which the MQTT sink tells a message the broker refuses by disconnecting
 * (src/host/sinks/poison-watch.ts), on a clock given by the test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PoisonWatch } from '../../src/host/sinks/poison-watch.js';

const watch = () => new PoisonWatch<string>({ soonMs: 5_000, streak: 3 });

test('three soon closes around the same unacknowledged message refuse it, at the third', () => {
  const w = watch();
  for (const [at, expected] of [[0, undefined], [100, undefined], [200, 'big']] as const) {
    w.connected(at);
    const verdict = w.closed('big', at + 10);
    assert.equal(verdict.suspect, true);
    assert.equal(verdict.refuse, expected);
  }
  // Counting starts again after a refusal.
  w.connected(1_000);
  assert.equal(w.closed('next', 1_010).refuse, undefined);
});

test('an acknowledgement on the connection, a late close, or another message breaks the streak', () => {
  const acked = watch();
  acked.connected(0); acked.closed('m', 10);
  acked.connected(20); acked.acked(); assert.deepEqual(acked.closed('m', 30), { suspect: false });
  acked.connected(40); acked.closed('m', 50);
  acked.connected(60); assert.equal(acked.closed('m', 70).refuse, undefined, 'two since the ack, not three');

  const late = watch();
  late.connected(0); late.closed('m', 10);
  late.connected(20); late.closed('m', 30);
  late.connected(40); assert.deepEqual(late.closed('m', 40 + 5_001), { suspect: false }, 'a keep-alive timeout, not a refusal');

  const other = watch();
  other.connected(0); other.closed('a', 10);
  other.connected(20); other.closed('a', 30);
  other.connected(40); assert.deepEqual(other.closed('b', 50), { suspect: true }, 'b starts its own count');
});

test('a close with nothing unacknowledged is no suspect', () => {
  const w = watch();
  w.connected(0);
  assert.deepEqual(w.closed(undefined, 10), { suspect: false });
});
