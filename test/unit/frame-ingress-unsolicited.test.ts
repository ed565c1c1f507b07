// ABI 1.4: a frame nobody asked for is a record of its own in the ingress ring (status 3, request index
// 0xffff, the sender's address as the request bytes), written only when the decoder declares 1.4.
// The field offsets are docs/plugin-abi.md's table, read here by hand, not through our own codec.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRing } from '../../src/host/ring/ring.js';
import { RingReader } from '../../src/host/ring/reader.js';
import { RingWriter } from '../../src/host/ring/writer.js';
import { FrameIngress } from '../../src/host/poll/frame-ingress.js';

const iAm = Uint8Array.from([0x81, 0x0b, 0x00, 0x14, 0x01, 0x20, 0xff, 0xff, 0x00, 0xff, 0x10, 0x00, 0xc4, 0x02, 0x00, 0x00, 0x03, 0x22, 0x05, 0xc4]);

test('an unsolicited frame is recorded with status 3, request 0xffff, seq 0, its sender as text and the frame as the response', async () => {
  const ring = createRing(4096);
  const ingress = new FrameIngress(new RingWriter(ring), { takesUnsolicited: true });
  assert.equal(await ingress.writeUnsolicited(2, '127.0.0.1:47808', iAm, 1_700_000_000_123.5), true);
  const payload = new RingReader(ring).next();
  assert.ok(payload, 'one record in the ring');
  // The ring's payload starts after the record's u32 length, so each offset of the table is minus 4.
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const sender = new TextEncoder().encode('127.0.0.1:47808');
  assert.equal(payload.byteLength, 28 + sender.length + iAm.length, 'len = 28 + reqLen + respLen');
  assert.equal(view.getUint16(0, true), 2, 'device index');
  assert.equal(view.getUint16(2, true), 0xffff, 'request index: none');
  assert.equal(view.getUint16(4, true), 3, 'status: unsolicited');
  assert.equal(view.getUint16(6, true), 0, 'seq');
  assert.equal(view.getFloat64(12, true), 1_700_000_000_123.5, 'timestamp');
  assert.equal(view.getUint16(20, true), sender.length, 'reqLen');
  assert.equal(view.getUint16(22, true), iAm.length, 'respLen');
  assert.equal(new TextDecoder().decode(payload.subarray(28, 28 + sender.length)), '127.0.0.1:47808');
  assert.deepEqual(payload.subarray(28 + sender.length), iAm);
  assert.equal(ingress.unsolicitedWritten, 1);
});

test('a decoder of ABI 1.0 to 1.3 is never handed an unsolicited frame: kept back and counted, the ring untouched', async () => {
  const ring = createRing(4096);
  const ingress = new FrameIngress(new RingWriter(ring));
  assert.equal(await ingress.writeUnsolicited(0, '127.0.0.1:47808', iAm, Date.now()), false);
  assert.equal(new RingReader(ring).next(), null);
  assert.deepEqual([ingress.unsolicitedKeptBack, ingress.unsolicitedWritten, ingress.framesWritten], [1, 0, 0]);
});

test('a pushed body (ABI 1.5) is recorded with status 4, request 0xffff, the point at offset 12, "sender LF resource LF media type" and the body', async () => {
  const ring = createRing(4096);
  const ingress = new FrameIngress(new RingWriter(ring));
  const body = new TextEncoder().encode('{"value":21.5}');
  assert.equal(await ingress.writePushed({ device: 1, point: 7, sender: '127.0.0.1:40001', resource: '/sensors/t', mediaType: 'application/json', body, ts: 1_700_000_000_250 }), true);
  assert.equal(await ingress.writePushed({ device: 0, sender: '[::1]:5', resource: '/d', mediaType: '', body, ts: 1 }), true);
  const reader = new RingReader(ring);
  const first = reader.next()!;
  const view = new DataView(first.buffer, first.byteOffset, first.byteLength);
  const request = '127.0.0.1:40001\n/sensors/t\napplication/json';
  assert.equal(view.getUint16(0, true), 1, 'device index');
  assert.equal(view.getUint16(2, true), 0xffff, 'request index: none');
  assert.equal(view.getUint16(4, true), 4, 'status: pushed');
  assert.equal(view.getUint16(6, true), 0, 'seq');
  assert.equal(view.getUint32(8, true), 7, 'point id (offset 12 of the record, 8 of the ring payload)');
  assert.equal(view.getFloat64(12, true), 1_700_000_000_250, 'timestamp');
  assert.equal(view.getUint16(20, true), request.length, 'reqLen');
  assert.equal(view.getUint16(22, true), body.length, 'respLen');
  assert.equal(new TextDecoder().decode(first.subarray(28, 28 + request.length)), request);
  assert.deepEqual(first.subarray(28 + request.length), body);
  const second = reader.next()!;
  assert.equal(new DataView(second.buffer, second.byteOffset).getUint32(8, true), 0xffffffff, 'no point: the whole device');
  assert.equal(ingress.pushedWritten, 2);
});

test('a pushed body larger than the ring\'s record limit is not written', async () => {
  const ring = createRing(4096);
  const ingress = new FrameIngress(new RingWriter(ring));
  const max = ingress.maxPushedBody(20);
  assert.ok(max > 0 && max < 4096);
  assert.equal(await ingress.writePushed({ device: 0, sender: 'a', resource: 'b', mediaType: '', body: new Uint8Array(4096), ts: 1 }), false);
  assert.equal(new RingReader(ring).next(), null);
});
