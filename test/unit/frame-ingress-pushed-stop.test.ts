// ABI 1.5: writePushed resolves true only when its own record was committed. A pushed body that waits
// for room when the pipeline stops is given up (FrameIngress.close); if another writer (a poller, a
// smaller pushed body) committed a record meanwhile, the body given up must still read as not written,
// or its sender is acknowledged (CoAP 2.04, an MQTT PUBACK) for a reading that is nowhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRing } from '../../src/host/ring/ring.js';
import { RingReader } from '../../src/host/ring/reader.js';
import { RingWriter } from '../../src/host/ring/writer.js';
import { FrameIngress } from '../../src/host/poll/frame-ingress.js';
import type { PushedFrame } from '../../src/host/sources/push-source.js';

const pushed = (bytes: number): PushedFrame => ({ device: 0, sender: '127.0.0.1:5683', resource: '/t', mediaType: '', body: new Uint8Array(bytes), ts: 0 });

test('a pushed body given up at stop reads false even when another record was committed while it waited', async () => {
  const ring = createRing(4096);
  const writer = new RingWriter(ring);
  const ingress = new FrameIngress(writer);
  // The largest record is half the ring: one of them and 1000 bytes more leave too little for a second.
  const big = ingress.maxPushedBody(64);
  assert.equal(await ingress.writePushed(pushed(big)), true);
  assert.equal(await ingress.writePushed(pushed(1000)), true);
  const waiting = ingress.writePushed(pushed(big));
  // A small record still fits beside the first and is committed while the large one waits.
  assert.equal(await ingress.writePushed(pushed(8)), true);
  ingress.close();
  // The wait for room (Atomics.waitAsync, at most a second) holds no handle of its own: keep the loop alive for it.
  const alive = setInterval(() => {}, 50);
  try {
    assert.equal(await waiting, false, 'the body that never reached the ring is not written');
  } finally {
    clearInterval(alive);
  }
  const reader = new RingReader(ring);
  const lengths: number[] = [];
  for (let r = reader.next(); r; r = reader.next()) lengths.push(r.byteLength);
  assert.equal(lengths.length, 3, 'three records in the ring: the first large body and the two smaller ones');
  assert.deepEqual([ingress.pushedWritten, ingress.framesDroppedAtStop], [3, 1]);
});
