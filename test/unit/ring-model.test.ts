/**
 * Random sequences of ring operations (reserve of any size, commit, acquire with limits, partial and
 * whole releases, next) checked against a plain FIFO array: the reader must see exactly the committed
 * payloads, in order, once each; a refusal must only happen when the ring is short of room.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { HEAD, HEADER_INTS, IN_FLIGHT_END, TAIL } from '../../src/host/ring/layout.js';
import { createRing } from '../../src/host/ring/ring.js';
import { RingReader } from '../../src/host/ring/reader.js';
import { RingWriter } from '../../src/host/ring/writer.js';

type Op =
  | { kind: 'write'; size: number }
  | { kind: 'commit' }
  | { kind: 'acquire'; maxBytes: number; maxRecords: number; release: 'all' | 'none' | 'oldest' }
  | { kind: 'next' };
// 'oldest' releases only the oldest batch still held, leaving later ones in flight.

const CAPACITY = 128;

const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('write' as const), size: fc.integer({ min: 0, max: CAPACITY / 2 - 4 }) }), weight: 5 },
  { arbitrary: fc.constant({ kind: 'commit' as const }), weight: 2 },
  {
    arbitrary: fc.record({
      kind: fc.constant('acquire' as const),
      maxBytes: fc.integer({ min: 1, max: CAPACITY }),
      maxRecords: fc.integer({ min: 1, max: 6 }),
      release: fc.constantFrom('all' as const, 'none' as const, 'oldest' as const),
    }),
    weight: 3,
  },
  { arbitrary: fc.constant({ kind: 'next' as const }), weight: 1 },
);

/** Reads the `[u32 len][payload][pad]` records of a span, independently of the reader. */
function payloadsOf(span: Uint8Array): number[][] {
  const out: number[][] = [];
  const view = new DataView(span.buffer, span.byteOffset, span.byteLength);
  for (let at = 0; at < span.length; ) {
    const length = view.getUint32(at, true);
    out.push([...span.subarray(at + 4, at + 4 + length)]);
    at += 4 + Math.ceil(length / 4) * 4;
  }
  return out;
}

test('random operation sequences agree with a FIFO model', () => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 300, size: 'max' }), fc.integer({ min: 0, max: 2 ** 32 - 1 }), (ops, start) => {
      const ring = createRing(CAPACITY);
      const header = new Int32Array(ring, 0, HEADER_INTS);
      const position = start & ~3; // as if that many bytes had passed through already
      header[HEAD] = header[TAIL] = header[IN_FLIGHT_END] = position;
      const writer = new RingWriter(ring);
      const reader = new RingReader(ring);
      const reserved: number[][] = []; // written, not committed
      const committed: number[][] = []; // committed, not handed out
      const unreleased: number[] = []; // ends of batches handed out and not released, oldest first
      let tag = 0;
      for (const o of ops) {
        if (o.kind === 'write') {
          const body = Array.from({ length: o.size }, (_, i) => (tag * 7 + i) & 0xff);
          const record = 4 + Math.ceil(o.size / 4) * 4;
          const emptyBefore = writer.freeBytes() === CAPACITY;
          if (writer.write(Uint8Array.from(body))) {
            reserved.push(body);
            tag++;
          } else {
            assert.equal(emptyBefore, false, 'an empty ring refused a record of at most half its size');
            // Wrap-around wastes less than one record, so a refusal means less than 2 records of room.
            assert.ok(writer.freeBytes() < 2 * record, `refused ${record} bytes with ${writer.freeBytes()} free`);
          }
        } else if (o.kind === 'commit') {
          writer.commit();
          committed.push(...reserved.splice(0));
        } else if (o.kind === 'acquire') {
          const batch = reader.acquire(o.maxBytes, o.maxRecords);
          if (batch === null) {
            assert.equal(committed.length, 0);
            continue;
          }
          assert.ok(batch.records <= o.maxRecords);
          assert.ok(batch.records === 1 || batch.bytes <= o.maxBytes);
          const got = batch.spans.flatMap(payloadsOf);
          assert.equal(got.length, batch.records);
          assert.deepEqual(got, committed.splice(0, batch.records));
          unreleased.push(batch.end);
          if (o.release === 'all') reader.release(unreleased.splice(0).pop()!);
          if (o.release === 'oldest') reader.release(unreleased.shift()!);
        } else {
          const next = reader.next();
          unreleased.length = 0;
          if (next === null) assert.equal(committed.length, 0);
          else assert.deepEqual([...next], committed.shift());
        }
      }
      const stats = reader.stats();
      assert.ok(stats.recordsRead <= stats.recordsWritten);
      assert.equal(stats.recordsWritten, tag - reserved.length);
    }),
    { numRuns: 300 },
  );
});
