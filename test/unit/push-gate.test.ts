// The push gate (sources/push-gate.ts): a token bucket of `burst` bodies refilled at `rate` a second,
// and a limit on bodies waiting for the ring. Driven by a hand-stepped clock, so the arithmetic is
// checked exactly: a burst of 3 and a rate of 2/s admit 3 at once, then one more per 500 ms.
import test from 'node:test';
import assert from 'node:assert/strict';
import { PushGate } from '../../src/host/sources/push-gate.js';
import type { PushedFrame } from '../../src/host/sources/push-source.js';

function gate(limits: { ratePerSecond: number; burst: number; maxWaiting: number }, push: (f: PushedFrame) => Promise<boolean> = () => Promise.resolve(true)) {
  let now = 0;
  const lines: Array<{ message: string; context: Record<string, unknown> }> = [];
  const g = new PushGate({ name: 'coap', kind: 'coap_server', endpoint: 'udp 127.0.0.1:5683' }, limits, {
    ingress: { push, maxBodyBytes: 1000 },
    clock: { wallMs: () => 1e12 + now, monotonicMs: () => now },
    log: (_level, message, context) => lines.push({ message, context }),
  });
  return { g, lines, advance: (ms: number) => { now += ms; } };
}

const frame: PushedFrame = { device: 0, sender: '127.0.0.1:1', resource: '/t', mediaType: '', body: new Uint8Array(3), ts: 0 };

test('the bucket admits its burst at once, then one body per 1/rate seconds; refusals counted as rate', async () => {
  const { g, advance } = gate({ ratePerSecond: 2, burst: 3, maxWaiting: 100 });
  const admitted = () => { const r = g.admit('127.0.0.1:1', '/t'); if (r === undefined) g.release(); return r; };
  assert.deepEqual([admitted(), admitted(), admitted(), admitted()], [undefined, undefined, undefined, 'rate']);
  advance(499);
  assert.equal(admitted(), 'rate');
  advance(1);
  assert.deepEqual([admitted(), admitted()], [undefined, 'rate']);
  advance(10_000);
  assert.deepEqual([admitted(), admitted(), admitted(), admitted()], [undefined, undefined, undefined, 'rate'], 'refilled to the burst, never past it');
  assert.equal(g.status().refused.rate, 4);
});

test('bodies waiting for the ring are limited; each commit frees its place and counts what was accepted', async () => {
  const waits: Array<() => void> = [];
  const { g } = gate({ ratePerSecond: 1000, burst: 1000, maxWaiting: 2 }, () => new Promise((resolve) => waits.push(() => resolve(true))));
  assert.equal(g.admit('a:1', '/t'), undefined);
  const first = g.commit(frame);
  assert.equal(g.admit('a:1', '/t'), undefined);
  const second = g.commit(frame);
  assert.equal(g.admit('b:2', '/t'), 'queue');
  assert.deepEqual([g.status().waiting, g.status().waitingPeak], [2, 2]);
  waits.shift()!();
  assert.equal(await first, true);
  assert.equal(g.admit('a:1', '/t'), undefined, 'a place is free again');
  g.release();
  waits.shift()!();
  await second;
  const s = g.status();
  assert.deepEqual([s.accepted, s.acceptedBytes, s.waiting, s.refused.queue], [2, 6, 0, 1]);
});

test('a refusal is logged as push.refused with its sender; repeats of a reason are held back, not one line each', () => {
  const { g, lines } = gate({ ratePerSecond: 1, burst: 1, maxWaiting: 1 });
  g.refuse('unknown_resource', '192.0.2.1:5683', '/nope');
  for (let i = 0; i < 1000; i++) g.refuse('unknown_resource', `192.0.2.${i % 250}:1`, '/nope');
  g.refuse('method', '192.0.2.9:7', '/t', 'GET');
  assert.equal(lines.length, 2);
  assert.deepEqual(lines[0]!.context, { event: 'push.refused', link: 'coap', reason: 'unknown_resource', sender: '192.0.2.1:5683', resource: '/nope' });
  assert.match(lines[1]!.message, /192\.0\.2\.9:7 sent to \/t: the resource takes only POST and PUT \(GET\)/);
  assert.deepEqual([g.status().refused.unknown_resource, g.status().refused.method], [1001, 1]);
});

test('after stop() every body is refused as stopping', () => {
  const { g } = gate({ ratePerSecond: 1, burst: 5, maxWaiting: 5 });
  g.stop();
  assert.equal(g.admit('a:1', '/t'), 'stopping');
  assert.equal(g.status().refused.stopping, 1);
});
