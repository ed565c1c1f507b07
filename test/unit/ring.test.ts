/**
 * Single-thread semantics of the shared-memory ring: record format, wrap-around at every offset and
 * across the 2^32 cursor wrap, full and back-pressure counting, batch spans, release rules, waits.
 * Expected layouts are worked out by hand from the format (u32 LE length, payload, zero pad to 4).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isWgError } from '../../src/host/errors.js';
import { HEAD, HEADER_BYTES, HEADER_INTS, IN_FLIGHT_END, READER_WAITING, TAIL, WRITER_WAITING } from '../../src/host/ring/layout.js';
import { createRing, openRing, recordBytes } from '../../src/host/ring/ring.js';
import { RingReader } from '../../src/host/ring/reader.js';
import { RingWriter } from '../../src/host/ring/writer.js';

/** Puts an empty ring's cursors at `position`, as if that many bytes had already passed through. */
function startAt(buffer: SharedArrayBuffer, position: number): void {
  const header = new Int32Array(buffer, 0, HEADER_INTS);
  header[HEAD] = header[TAIL] = header[IN_FLIGHT_END] = position | 0;
}

/** A payload whose bytes say which record it is. */
function payload(length: number, tag: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (tag * 31 + i + 1) & 0xff);
}

/** The bytes a record must occupy, built straight from the format description. */
function recordImage(body: Uint8Array): number[] {
  const padded = Math.ceil(body.length / 4) * 4;
  const len = body.length;
  return [len & 0xff, (len >>> 8) & 0xff, (len >>> 16) & 0xff, len >>> 24, ...body, ...new Array(padded - len).fill(0)];
}

const concat = (spans: Uint8Array[]): number[] => spans.flatMap((s) => [...s]);

test('createRing accepts powers of two from 64 bytes to 1 GiB and refuses the rest', () => {
  for (const bad of [0, 32, 100, 65, 1.5, -64, 2 ** 31, Number.NaN]) {
    assert.throws(() => createRing(bad), (e) => isWgError(e, 'WG_ERR_RING_CAPACITY'), String(bad));
  }
  const ring = createRing(64);
  assert.equal(ring.byteLength, HEADER_BYTES + 64);
  assert.equal(new RingWriter(ring).stats().capacity, 64);
});

test('a buffer that is not a ring is refused when opened', () => {
  const notRing = (e: unknown) => isWgError(e, 'WG_ERR_RING_NOT_A_RING');
  assert.throws(() => openRing(new SharedArrayBuffer(HEADER_BYTES + 64)), notRing);
  assert.throws(() => openRing(new ArrayBuffer(HEADER_BYTES + 64) as unknown as SharedArrayBuffer), notRing);
  assert.throws(() => openRing(new SharedArrayBuffer(16)), notRing);
  const ring = createRing(64);
  const bigger = new SharedArrayBuffer(HEADER_BYTES + 128);
  new Uint8Array(bigger).set(new Uint8Array(ring));
  assert.throws(() => new RingReader(bigger), notRing);
});

test('a record is a u32 little-endian length, the payload and zero padding to 4 bytes', () => {
  const ring = createRing(64);
  const writer = new RingWriter(ring);
  writer.bytes.fill(0xaa); // what an earlier lap would have left behind
  assert.equal(writer.write(Uint8Array.of(1, 2, 3)), true);
  assert.equal(writer.write(new Uint8Array(0)), true);
  assert.deepEqual([...writer.bytes.subarray(0, 12)], [3, 0, 0, 0, 1, 2, 3, 0, 0, 0, 0, 0]);
  // reserve writes the prefix and zeroes the padding; the caller writes the payload (bytes 16..21)
  assert.equal(writer.reserve(5), 16);
  assert.deepEqual([...writer.bytes.subarray(12, 16)], [5, 0, 0, 0]);
  assert.deepEqual([...writer.bytes.subarray(21, 24)], [0, 0, 0]);
  assert.equal(recordBytes(3), 8);
  assert.equal(recordBytes(0), 4);
  assert.equal(recordBytes(5), 12);
});

test('records are invisible to the reader until commit, which publishes them all at once', () => {
  const ring = createRing(256);
  const writer = new RingWriter(ring);
  const reader = new RingReader(ring);
  writer.write(payload(3, 1));
  writer.write(payload(9, 2));
  assert.equal(reader.acquire(), null);
  assert.equal(reader.next(), null);
  assert.equal(writer.stats().recordsWritten, 0);
  writer.commit();
  const batch = reader.acquire();
  assert.ok(batch);
  assert.equal(batch.records, 2);
  assert.deepEqual(concat(batch.spans), [...recordImage(payload(3, 1)), ...recordImage(payload(9, 2))]);
  assert.equal(writer.stats().recordsWritten, 2);
});

test('wrap-around at every offset, for every payload size, also across the 2^32 cursor wrap', () => {
  const capacity = 64;
  for (const base of [0, 2 ** 32 - capacity]) {
    for (let offset = 0; offset < capacity; offset += 4) {
      for (let size = 0; size <= capacity / 2 - 4; size++) {
        const ring = createRing(capacity);
        startAt(ring, base + offset);
        const writer = new RingWriter(ring);
        const reader = new RingReader(ring);
        writer.bytes.fill(0xaa);
        let position = base + offset; // the model, in plain arithmetic
        for (let lap = 0; lap < 3; lap++) {
          const index = position % capacity;
          const record = 4 + Math.ceil(size / 4) * 4;
          const wraps = index + record > capacity;
          const at = wraps ? 0 : index;
          const body = payload(size, lap);
          const where = `base ${base} offset ${offset} size ${size} lap ${lap}`;
          const payloadAt = writer.reserve(size);
          assert.equal(payloadAt, at + 4, where);
          writer.bytes.set(body, payloadAt);
          writer.commit();
          if (wraps) assert.deepEqual([...writer.bytes.subarray(index, index + 4)], [255, 255, 255, 255], where);
          position += (wraps ? capacity - index : 0) + record;
          const batch = reader.acquire();
          assert.ok(batch, where);
          assert.equal(batch.records, 1, where);
          assert.equal(batch.spans.length, 1, where);
          assert.deepEqual([...batch.spans[0]!], recordImage(body), where);
          assert.equal(batch.end >>> 0, position % 2 ** 32, where);
          assert.equal(reader.release(batch.end), 1, where);
          assert.equal(reader.stats().usedBytes, 0, where);
        }
      }
    }
  }
});

test('a full ring refuses reserve with -1, counts each refusal, and accepts again once released', () => {
  const ring = createRing(64);
  const writer = new RingWriter(ring);
  const reader = new RingReader(ring);
  for (let i = 0; i < 4; i++) assert.equal(writer.write(payload(12, i)), true); // 4 × 16 bytes: exactly full
  assert.equal(writer.freeBytes(), 0);
  assert.equal(writer.reserve(0), -1);
  assert.equal(writer.write(payload(12, 9)), false);
  assert.equal(writer.stats().fullEvents, 2);
  writer.commit();
  const batch = reader.acquire();
  assert.ok(batch);
  assert.equal(batch.records, 4);
  assert.deepEqual(batch.spans.map((s) => s.length), [64]);
  assert.equal(batch.bytes, 64);
  reader.release(batch.end);
  assert.equal(writer.freeBytes(), 64);
  assert.equal(writer.write(payload(12, 5)), true);
  assert.equal(writer.stats().fullEvents, 2);
});

test('the bytes skipped at the end count against space: a record can be refused with enough free bytes', () => {
  const ring = createRing(64);
  const writer = new RingWriter(ring);
  const reader = new RingReader(ring);
  writer.write(payload(20, 1)); // 0..24
  writer.write(payload(28, 2)); // 24..56
  writer.commit();
  reader.release(reader.acquire(64, 1)!.end); // tail 24, head 56: 32 bytes free, 8 of them at the end
  assert.equal(writer.freeBytes(), 32);
  assert.equal(writer.fits(24), false); // 28-byte record: 8 skipped + 28 > 32
  assert.equal(writer.reserve(24), -1);
  assert.equal(writer.reserve(20), 4); // 24-byte record: marker at 56, record at 0..24, ring exactly full
  assert.equal(writer.freeBytes(), 0);
  assert.equal(writer.stats().fullEvents, 1);
});

test('a batch across the end comes as two spans, without the wrap marker', () => {
  const ring = createRing(64);
  startAt(ring, 40);
  const writer = new RingWriter(ring);
  const reader = new RingReader(ring);
  writer.write(payload(12, 1)); // 40..56
  writer.write(payload(12, 2)); // 8 bytes left: marker at 56, record at 0..16
  writer.commit();
  assert.equal(writer.stats().usedBytes, 40);
  const batch = reader.acquire();
  assert.ok(batch);
  assert.equal(batch.records, 2);
  assert.equal(batch.bytes, 32);
  assert.equal(batch.end, 80);
  assert.deepEqual(batch.spans.map((s) => [s.byteOffset - HEADER_BYTES, s.length]), [[40, 16], [0, 16]]);
  assert.deepEqual([...batch.spans[0]!], recordImage(payload(12, 1)));
  assert.deepEqual([...batch.spans[1]!], recordImage(payload(12, 2)));
});

test('a batch that ends exactly at the end of the data area, then continues at 0, has two spans', () => {
  const ring = createRing(64);
  startAt(ring, 48);
  const writer = new RingWriter(ring);
  for (let i = 0; i < 4; i++) assert.equal(writer.write(payload(12, i)), true); // 48..64, 0..48
  assert.equal(writer.freeBytes(), 0);
  writer.commit();
  const batch = new RingReader(ring).acquire();
  assert.ok(batch);
  assert.deepEqual(batch.spans.map((s) => [s.byteOffset - HEADER_BYTES, s.length]), [[48, 16], [0, 48]]);
  assert.equal(batch.records, 4);
});

test('acquire stops at maxBytes or maxRecords, but always hands out at least one record', () => {
  const ring = createRing(256);
  const writer = new RingWriter(ring);
  const reader = new RingReader(ring);
  for (let i = 0; i < 6; i++) writer.write(payload(4, i)); // 8 bytes each
  writer.commit();
  assert.equal(reader.acquire(20)?.records, 2);
  assert.equal(reader.acquire(undefined, 3)?.records, 3);
  assert.equal(reader.acquire(1)?.records, 1);
  assert.equal(reader.acquire(), null);
});

test('release frees everything before the position it is given, including several batches', () => {
  const ring = createRing(256);
  const writer = new RingWriter(ring);
  const reader = new RingReader(ring);
  for (let i = 0; i < 6; i++) writer.write(payload(4, i));
  writer.commit();
  const first = reader.acquire(undefined, 2)!;
  reader.acquire(undefined, 1);
  const third = reader.acquire(undefined, 3)!;
  assert.equal(reader.release(first.end), 2);
  assert.equal(reader.stats().usedBytes, 32);
  assert.equal(reader.acquire(), null, 'a partial release does not hand out the later batches again');
  assert.equal(reader.release(third.end), 4);
  assert.equal(reader.release(third.end), 0);
  assert.deepEqual({ ...reader.stats(), capacity: 0 }, { capacity: 0, usedBytes: 0, fullEvents: 0, recordsWritten: 6, recordsRead: 6 });
});

test('another reader, as the watchdog after a consumer died, can skip the batch in flight', () => {
  const ring = createRing(256);
  const writer = new RingWriter(ring);
  for (let i = 0; i < 5; i++) writer.write(payload(4 + i, i));
  writer.commit();
  const dead = new RingReader(ring);
  const poisoned = dead.acquire(undefined, 2)!;
  const watchdog = new RingReader(ring);
  assert.equal(watchdog.inFlightEnd(), poisoned.end);
  assert.equal(watchdog.release(watchdog.inFlightEnd()), 2);
  assert.equal(watchdog.stats().recordsRead, 2);
  const fresh = new RingReader(ring);
  assert.deepEqual([...fresh.next()!], [...payload(6, 2)]);
});

test('release refuses a position that is not a record boundary between the tail and the head', () => {
  const ring = createRing(256);
  const writer = new RingWriter(ring);
  const reader = new RingReader(ring);
  writer.write(payload(8, 1)); // 0..12
  writer.write(payload(8, 2)); // 12..24
  writer.commit();
  const badRelease = (e: unknown) => isWgError(e, 'WG_ERR_RING_BAD_RELEASE');
  assert.throws(() => reader.release(4), badRelease); // inside the first record
  assert.throws(() => reader.release(28), badRelease); // past the head
  assert.throws(() => reader.release(-4), badRelease); // behind the tail
  assert.equal(reader.release(12), 1);
  assert.equal(reader.stats().usedBytes, 12);
});

test('next() returns one payload at a time and releases the previous one on each call', () => {
  const ring = createRing(64);
  startAt(ring, 32);
  const writer = new RingWriter(ring);
  const reader = new RingReader(ring);
  const bodies = [payload(10, 1), payload(0, 2), payload(16, 3)]; // 32..48, 48..52, marker, 0..20
  for (const body of bodies) writer.write(body);
  writer.commit();
  assert.deepEqual([...reader.next()!], [...bodies[0]!]);
  assert.equal(reader.stats().usedBytes, 64 - 32 + 20, 'the record returned is still held');
  assert.deepEqual([...reader.next()!], [...bodies[1]!]);
  assert.deepEqual([...reader.next()!], [...bodies[2]!]);
  assert.equal(reader.next(), null);
  assert.deepEqual({ ...reader.stats(), capacity: 0 }, { capacity: 0, usedBytes: 0, fullEvents: 0, recordsWritten: 3, recordsRead: 3 });
});

test('a payload over half the ring is refused with WG_ERR_RING_RECORD_TOO_LARGE', () => {
  const writer = new RingWriter(createRing(64));
  assert.equal(writer.maxPayload, 28);
  for (const bad of [29, 1000, -1, 2.5]) {
    assert.throws(() => writer.reserve(bad), (e) => isWgError(e, 'WG_ERR_RING_RECORD_TOO_LARGE'), String(bad));
  }
  assert.equal(writer.reserve(28), 4);
});

test('the main thread may not block: sync waits throw, async waits resolve', async () => {
  const ring = createRing(64);
  const writer = new RingWriter(ring);
  const reader = new RingReader(ring);
  const header = new Int32Array(ring, 0, HEADER_INTS);
  assert.throws(() => reader.waitForData(0), (e) => isWgError(e, 'WG_ERR_RING_MAIN_THREAD_WAIT'));
  assert.throws(() => writer.waitForSpaceSync(4, 0), (e) => isWgError(e, 'WG_ERR_RING_MAIN_THREAD_WAIT'));
  assert.equal(await reader.waitForDataAsync(1), false);

  const data = reader.waitForDataAsync();
  assert.equal(header[READER_WAITING], 1);
  writer.write(payload(4, 1));
  setImmediate(() => writer.commit());
  assert.equal(await data, true);
  assert.equal(header[READER_WAITING], 0);

  while (writer.write(payload(12, 2)));
  const space = writer.waitForSpace(12); // commits what it holds first
  assert.equal(header[WRITER_WAITING], 1);
  const batch = reader.acquire(undefined, 2)!;
  setImmediate(() => reader.release(batch.end));
  assert.equal(await space, true);
  assert.equal(header[WRITER_WAITING], 0);
  assert.equal(writer.write(payload(12, 3)), true);
});

test('waitedMs: how long the oldest unread record waited, from the commit that found the ring read to the reading', () => {
  const ring = createRing(1024);
  const writer = new RingWriter(ring);
  const reader = new RingReader(ring);
  const sleep = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  const slack = 0.002; // the stamp is rounded to the microsecond

  // A, then B while A is unread: the batch's oldest record is A, so the wait counts from A's commit.
  writer.write(payload(8, 1));
  writer.commit();
  const afterA = performance.now();
  sleep(30);
  writer.write(payload(8, 2));
  writer.commit();
  const beforeRead = performance.now();
  assert.equal(reader.acquire()!.records, 2);
  assert.ok(reader.waitedMs() + slack >= beforeRead - afterA, `waited ${reader.waitedMs()} ms, at least ${beforeRead - afterA}`);
  reader.release(reader.inFlightEnd());

  // Everything read, a pause, then C: C's wait starts at its own commit, not at A's or B's.
  sleep(30);
  const beforeC = performance.now();
  writer.write(payload(8, 3));
  writer.commit();
  assert.ok(reader.next());
  const waited = reader.waitedMs();
  const afterRead = performance.now();
  assert.ok(waited <= afterRead - beforeC + slack, `waited ${waited} ms, at most ${afterRead - beforeC}`);
});
