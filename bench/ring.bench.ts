/**
 * Ring buffer across threads. Run: `npx tsc -p tsconfig.json && node dist/bench/ring.bench.js`
 *
 * One side runs in a worker (this same file, started with a role), the other on the main thread,
 * which only ever waits asynchronously, as the gateway's I/O thread does. The producer writes each
 * record in place (reserve + DataView stores) and commits every 1000 records. The consumer takes
 * batches of up to 32 KiB and copies each one into a separate buffer, as the pipeline worker copies a
 * batch into a plugin's memory, then releases it. It checks the first sequence number of every batch
 * and the total, so a lost or repeated record fails the run instead of flattering it.
 */
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { createRing } from '../src/host/ring/ring.js';
import { RingReader } from '../src/host/ring/reader.js';
import { RingWriter } from '../src/host/ring/writer.js';
import { emitResult, printMachine } from './machine.js';

interface Run {
  role: 'producer' | 'consumer';
  buffer: SharedArrayBuffer;
  records: number;
  payload: number;
}

const COMMIT_EVERY = 1000;
const BATCH_BYTES = 32 * 1024;
const RING_BYTES = 256 * 1024;

/** Writes records until `records` are written or the ring is full; returns the next seq. */
function produceSome(writer: RingWriter, seq: number, records: number, payload: number): number {
  const view = writer.view;
  while (seq < records) {
    const at = writer.reserve(payload);
    if (at < 0) return seq;
    view.setUint32(at, seq, true);
    for (let i = 4; i + 4 <= payload; i += 4) view.setUint32(at + i, seq ^ i, true);
    if (++seq % COMMIT_EVERY === 0) writer.commit();
  }
  writer.commit();
  return seq;
}

/** Takes batches until the ring is empty; returns the number of records consumed so far. */
function consumeSome(reader: RingReader, seen: number, into: Uint8Array): number {
  for (;;) {
    const batch = reader.acquire(BATCH_BYTES);
    if (batch === null) return seen;
    const first = batch.spans[0]!;
    const seq = reader.view.getUint32(first.byteOffset - reader.bytes.byteOffset + 4, true);
    if (seq !== seen) throw new Error(`expected record ${seen}, got ${seq}`);
    let at = 0;
    for (const span of batch.spans) {
      into.set(span, at);
      at += span.length;
    }
    seen += batch.records;
    reader.release(batch.end);
  }
}

function produceBlocking({ buffer, records, payload }: Run): void {
  const writer = new RingWriter(buffer);
  let seq = 0;
  while ((seq = produceSome(writer, seq, records, payload)) < records) writer.waitForSpaceSync(payload);
}

function consumeBlocking({ buffer, records }: Run): void {
  const reader = new RingReader(buffer);
  const into = new Uint8Array(BATCH_BYTES * 2);
  let seen = 0;
  while ((seen = consumeSome(reader, seen, into)) < records) reader.waitForData();
}

async function produceAsync({ buffer, records, payload }: Run): Promise<void> {
  const writer = new RingWriter(buffer);
  let seq = 0;
  while ((seq = produceSome(writer, seq, records, payload)) < records) await writer.waitForSpace(payload);
}

async function consumeAsync({ buffer, records }: Run): Promise<void> {
  const reader = new RingReader(buffer);
  const into = new Uint8Array(BATCH_BYTES * 2);
  let seen = 0;
  while ((seen = consumeSome(reader, seen, into)) < records) await reader.waitForDataAsync();
}

/** One timed run: the worker takes `workerRole`, the main thread the other. Returns seconds. */
async function timeRun(workerRole: Run['role'], records: number, payload: number): Promise<number> {
  const run: Run = { role: workerRole, buffer: createRing(RING_BYTES), records, payload };
  const worker = new Worker(new URL(import.meta.url), { workerData: run });
  const done = new Promise<void>((resolve, reject) => {
    worker.on('message', (m) => m === 'done' && resolve());
    worker.once('error', reject);
  });
  await new Promise((resolve) => worker.once('message', resolve)); // 'ready'
  const start = performance.now();
  worker.postMessage('go');
  if (workerRole === 'producer') await consumeAsync(run);
  else await produceAsync(run);
  await done;
  const seconds = (performance.now() - start) / 1000;
  await worker.terminate();
  return seconds;
}

/** Median of `repeat` runs after one warm-up run. */
async function measure(workerRole: Run['role'], records: number, payload: number, repeat = 5): Promise<number> {
  await timeRun(workerRole, Math.min(records, 5_000_000), payload);
  const times: number[] = [];
  for (let i = 0; i < repeat; i++) times.push(await timeRun(workerRole, records, payload));
  times.sort((a, b) => a - b);
  return times[Math.floor(repeat / 2)]!;
}

async function main(): Promise<void> {
  printMachine();
  console.log(`ring ${RING_BYTES / 1024} KiB, commit every ${COMMIT_EVERY} records, batches of ${BATCH_BYTES / 1024} KiB copied out\n`);
  const small = 50_000_000;
  for (const role of ['producer', 'consumer'] as const) {
    const direction = role === 'producer' ? 'worker -> main' : 'main -> worker';
    const seconds = await measure(role, small, 16);
    emitResult(`ring 16 B records, ${direction}`, small / seconds / 1e6, 'M records/s', '>= 50 M records/s');
  }
  const large = 5_000_000;
  for (const role of ['producer', 'consumer'] as const) {
    const direction = role === 'producer' ? 'worker -> main' : 'main -> worker';
    const seconds = await measure(role, large, 256);
    emitResult(`ring 256 B records, ${direction}`, (large * 256) / seconds / 1e6, 'MB/s of payload');
  }
}

if (isMainThread) {
  await main();
} else {
  const run = workerData as Run;
  parentPort!.once('message', () => {
    if (run.role === 'producer') produceBlocking(run);
    else consumeBlocking(run);
    parentPort!.postMessage('done');
  });
  parentPort!.postMessage('ready');
}
