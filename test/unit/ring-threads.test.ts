/**
 * The ring across real threads: a worker_threads producer or consumer on one side, the main thread
 * (which only ever waits asynchronously) on the other. Every record carries its sequence number and
 * a checksum of pseudo-random bytes (ring-fixtures/records.ts), so loss, duplication, reordering and
 * torn records all show up as a named record.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { HEADER_INTS, READER_WAITING } from '../../src/host/ring/layout.js';
import { createRing } from '../../src/host/ring/ring.js';
import { RingReader } from '../../src/host/ring/reader.js';
import { RingWriter } from '../../src/host/ring/writer.js';
import type { ConsumerData, ConsumerResult } from './ring-fixtures/consumer.js';
import type { ProducerData, ProducerResult } from './ring-fixtures/producer.js';
import { fillPayload, payloadLength, StreamCheck } from './ring-fixtures/records.js';

const TIMEOUT = { timeout: 120_000 };

/**
 * Starts a fixture worker; resolves with its one report, rejects if it dies first. The worker is
 * terminated when the test ends, so a failed test does not leave it asleep on the ring.
 */
function runWorker<T>(t: TestContext, name: 'producer' | 'consumer', data: ProducerData | ConsumerData): Promise<T> {
  const worker = new Worker(new URL(`./ring-fixtures/${name}.js`, import.meta.url), { workerData: data });
  t.after(() => worker.terminate());
  const report = new Promise<T>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`${name} worker exited with ${code} before reporting`)));
  });
  report.catch(() => {}); // a test that failed before awaiting the report has already said why
  return report;
}

/** Main-thread producer: like ring-fixtures/producer.ts, but waiting for space asynchronously. */
async function produce(writer: RingWriter, count: number, batch: number, maxExtra: number): Promise<number> {
  let waits = 0;
  for (let seq = 0; seq < count; seq++) {
    const length = payloadLength(seq, maxExtra);
    let offset = writer.reserve(length);
    while (offset < 0) {
      waits++;
      await writer.waitForSpace(length);
      offset = writer.reserve(length);
    }
    fillPayload(writer.bytes, writer.view, offset, seq, length);
    if ((seq + 1) % batch === 0) writer.commit();
  }
  writer.commit();
  return waits;
}

test('worker producer to main-thread consumer: millions of records, in order, none lost or torn', TIMEOUT, async (t) => {
  const count = 3_000_000;
  const maxExtra = 57;
  const buffer = createRing(1 << 16);
  const producer = runWorker<ProducerResult>(t, 'producer', { buffer, count, batch: 1000, maxExtra });
  const reader = new RingReader(buffer);
  const check = new StreamCheck(maxExtra);
  let records = 0;
  while (records < count && check.error === undefined) {
    const batch = reader.acquire(8192);
    if (batch === null) {
      await reader.waitForDataAsync();
      continue;
    }
    for (const span of batch.spans) check.span(span);
    records += batch.records;
    reader.release(batch.end);
  }
  assert.equal(check.error, undefined);
  assert.equal(records, count);
  assert.equal((await producer).written, count);
  assert.equal(reader.acquire(), null, 'nothing after the last record');
  const stats = reader.stats();
  assert.deepEqual([stats.recordsWritten, stats.recordsRead, stats.usedBytes], [count, count, 0]);
});

test('main-thread producer to worker consumer: the reverse direction', TIMEOUT, async (t) => {
  const count = 2_000_000;
  const maxExtra = 120;
  const buffer = createRing(1 << 15);
  const consumer = runWorker<ConsumerResult>(t, 'consumer', { buffer, count, maxExtra, maxBytes: 4096 });
  await produce(new RingWriter(buffer), count, 500, maxExtra);
  const result = await consumer;
  assert.equal(result.error, undefined);
  assert.equal(result.records, count);
  const stats = new RingReader(buffer).stats();
  assert.deepEqual([stats.recordsWritten, stats.recordsRead, stats.usedBytes], [count, count, 0]);
});

test('a blocked consumer is woken, and a producer that hits full waits: back-pressure counted, nothing lost', TIMEOUT, async (t) => {
  const count = 200_000;
  const maxExtra = 40;
  const buffer = createRing(256); // a few records: both sides wait over and over
  const consumer = runWorker<ConsumerResult>(t, 'consumer', { buffer, count, maxExtra, maxBytes: 256 });

  // Wait until the consumer sleeps on the empty ring (an event, polled with a deadline).
  const header = new Int32Array(buffer, 0, HEADER_INTS);
  const deadline = Date.now() + 30_000;
  while (Atomics.load(header, READER_WAITING) === 0) {
    assert.ok(Date.now() < deadline, 'consumer never started waiting');
    await new Promise((resolve) => setImmediate(resolve));
  }

  // Fill the ring without committing: the consumer cannot take anything, so the ring must refuse.
  const writer = new RingWriter(buffer);
  let seq = 0;
  for (;;) {
    const length = payloadLength(seq, maxExtra);
    const offset = writer.reserve(length);
    if (offset < 0) break;
    fillPayload(writer.bytes, writer.view, offset, seq++, length);
  }
  assert.equal(writer.stats().fullEvents, 1);

  // Carry on from `seq` through the normal path: waitForSpace commits, then sleeps until released.
  for (; seq < count; seq++) {
    const length = payloadLength(seq, maxExtra);
    let offset = writer.reserve(length);
    while (offset < 0) {
      await writer.waitForSpace(length);
      offset = writer.reserve(length);
    }
    fillPayload(writer.bytes, writer.view, offset, seq, length);
    if (seq % 7 === 0) writer.commit();
  }
  writer.commit();

  const result = await consumer;
  assert.equal(result.error, undefined);
  assert.equal(result.records, count);
  assert.ok(result.waits > 0, 'the consumer slept at least once');
  const stats = writer.stats();
  assert.ok(stats.fullEvents >= 1, `full events: ${stats.fullEvents}`);
  assert.deepEqual([stats.recordsWritten, stats.recordsRead], [count, count]);
});
