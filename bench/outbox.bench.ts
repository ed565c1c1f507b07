/**
 * The durable outbox (src/host/outbox/sqlite-outbox.ts), the store side only: no uplink, no broker.
 * Run: `npx tsc -p tsconfig.json && node dist/bench/outbox.bench.js [messages]`
 *
 * Figures, on a file in the OS temp directory (the machine's disk):
 * - durable append, messages/s, batches of 256 messages of 100 bytes (plus a 20-byte topic), one
 *   transaction each, with synchronous=FULL (what the outbox runs with: a power cut loses nothing
 *   accepted) and, for what FULL costs, NORMAL on a fresh file; then FULL with larger batches, since
 *   a FULL commit waits for the disk's sync whatever its size, and a caller that appends what has
 *   accumulated meanwhile (the egress ring's content) gets larger batches exactly when syncs are slow;
 * - bytes written to storage per message, from /proc/self/io `write_bytes` (what this process sent to
 *   the block layer: WAL frames, checkpoints into the database file, the syncs' metadata), from the
 *   first append to the close that checkpoints the last of it, and again for the replay (acks delete,
 *   and a delete is a write too); the file sizes (database + WAL) are printed beside it;
 * - RSS with 1 M messages on disk, sampled every 250 k appended: it must stay flat, since the store
 *   holds no backlog in memory (SQLite's page cache is bounded, 2 MB by default);
 * - open with the 1 M backlog (the quick_check that guards against a damaged file reads every page);
 * - replay, messages/s: `pending` 256 at a time then `ack` of those 256, until the backlog is gone;
 *   and as the sender reads when its window frees one place at a time: `pending` of 1 after the last
 *   seq handed over, `ack` every 256 (bench/outbox-replay.bench.ts has the replay to a real broker);
 * - the memory store's cost per message beyond what its caps count (for sizing the fallback's bound).
 */
import { mkdtempSync, readFileSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteOutbox, type SyncMode } from '../src/host/outbox/sqlite-outbox.js';
import type { NewMessage, OutboxCapsTable } from '../src/host/outbox/outbox-store.js';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MemoryOutbox } from '../src/host/outbox/memory-outbox.js';
import { emitResult, printMachine } from './machine.js';

const BATCH = 256;
/** A whole number of batches, so that every figure divides by what was written. */
const MESSAGES = Math.ceil(Number(process.argv[2] ?? 1_000_000) / BATCH) * BATCH;
const PAYLOAD_BYTES = 100;
const UPLINK = 'cloud';
const caps: OutboxCapsTable = { default: { maxBytes: 2 ** 40, maxAgeMs: 86_400_000 * 365, maxDeadLetters: 1000 } };

function writeBytes(): number {
  const line = readFileSync('/proc/self/io', 'utf8').split('\n').find((l) => l.startsWith('write_bytes:'));
  return Number(line?.split(/\s+/)[1] ?? NaN);
}

function rssMb(): number {
  return process.memoryUsage().rss / 2 ** 20;
}

function fileBytes(file: string): number {
  return [file, `${file}-wal`].reduce((sum, f) => sum + (existsSync(f) ? statSync(f).size : 0), 0);
}

/** A batch as a pipeline would hand it over: fresh payloads, one topic per point. */
function batch(first: number, size: number): NewMessage[] {
  const now = Date.now();
  return Array.from({ length: size }, (_, i) => {
    const payload = new Uint8Array(PAYLOAD_BYTES);
    new DataView(payload.buffer).setUint32(0, first + i, true);
    return { uplink: UPLINK, topic: `plant/line-1/point-${(first + i) % 100}`, payload, qos: 1, retain: false, createdAtMs: now };
  });
}

/** Appends `count` messages; returns messages/s, and the RSS samples every quarter. */
function appendAll(store: SqliteOutbox, count: number, batchSize = BATCH): { rate: number; rss: number[] } {
  const rss: number[] = [];
  const quarter = Math.floor(count / 4 / batchSize) * batchSize;
  const start = performance.now();
  for (let done = 0; done < count; done += batchSize) {
    store.append(batch(done + 1, batchSize));
    if (quarter > 0 && (done + batchSize) % quarter === 0) rss.push(rssMb());
  }
  return { rate: count / ((performance.now() - start) / 1000), rss };
}

printMachine();
const dir = mkdtempSync(join(tmpdir(), 'wasmgate-outbox-bench-'));
try {
  const file = join(dir, 'outbox.db');
  const rssBefore = rssMb();
  const writtenBefore = writeBytes();
  let store = new SqliteOutbox({ file, caps, synchronous: 'FULL' });
  const full = appendAll(store, MESSAGES);
  const sizeOnDisk = fileBytes(file);
  store.close();
  const appendWritten = writeBytes() - writtenBefore;
  emitResult(`durable append, synchronous=FULL, batches of ${BATCH} x ${PAYLOAD_BYTES} B`, full.rate, 'msgs/s', '>= 200 k msgs/s');
  emitResult('bytes written to storage per message appended (/proc/self/io write_bytes, incl. checkpoints and close)', appendWritten / MESSAGES, 'B/msg');
  console.log(`  files (database + WAL) before the close: ${(sizeOnDisk / 2 ** 20).toFixed(1)} MiB, ${(sizeOnDisk / MESSAGES).toFixed(0)} B/msg`);
  console.log(`  RSS every 25 % of ${MESSAGES} appended: ${full.rss.map((r) => r.toFixed(1)).join(', ')} MB (before: ${rssBefore.toFixed(1)} MB)`);
  emitResult(`RSS with ${MESSAGES / 1e6} M messages on disk`, full.rss.at(-1) ?? rssMb(), 'MB');
  // From half to all of it: the first quarter includes the heap and SQLite's page cache warming up.
  emitResult('RSS growth from 50 % to 100 % of the backlog appended', (full.rss.at(-1) ?? 0) - (full.rss[1] ?? 0), 'MB', 'flat');

  const openStart = performance.now();
  store = new SqliteOutbox({ file, caps });
  emitResult(`open with ${MESSAGES / 1e6} M messages (quick_check)`, performance.now() - openStart, 'ms');
  const replayWrittenBefore = writeBytes();
  const replayStart = performance.now();
  let replayed = 0;
  let rssReplayMax = 0;
  for (;;) {
    const page = store.pending(UPLINK, BATCH);
    if (page.length === 0) break;
    replayed += store.ack(UPLINK, page.map((m) => m.seq));
    if (replayed % (BATCH * 1000) === 0) rssReplayMax = Math.max(rssReplayMax, rssMb());
  }
  const replaySeconds = (performance.now() - replayStart) / 1000;
  store.close();
  if (replayed !== MESSAGES) throw new Error(`replayed ${replayed} of ${MESSAGES}`);
  emitResult(`replay (pending ${BATCH} + ack ${BATCH}), store side`, replayed / replaySeconds, 'msgs/s', '>= 50 k msgs/s');
  emitResult('bytes written to storage per message replayed (acks)', (writeBytes() - replayWrittenBefore) / MESSAGES, 'B/msg');
  console.log(`  RSS during replay at most ${rssReplayMax.toFixed(1)} MB`);

  // The sender's way (uplink-sender.ts): as each delivery frees a place in its window it reads one
  // more message after the last it handed over, and acks once per turn. Per message, this is a read
  // from the middle of a chunk, which must not cost a decode of the chunk's head.
  {
    const count = 200 * BATCH;
    const other = join(dir, 'outbox-sender-way.db');
    const s = new SqliteOutbox({ file: other, caps });
    appendAll(s, count);
    const start = performance.now();
    let after = 0;
    let acks: number[] = [];
    for (;;) {
      const [next] = s.pending(UPLINK, 1, after);
      if (next === undefined) break;
      after = next.seq;
      acks.push(next.seq);
      if (acks.length === BATCH) {
        s.ack(UPLINK, acks);
        acks = [];
      }
    }
    s.ack(UPLINK, acks);
    const rate = count / ((performance.now() - start) / 1000);
    s.close();
    emitResult(`replay the sender's way (pending 1 after the last handed over, ack ${BATCH}), store side`, rate, 'msgs/s');
  }

  // What FULL costs, and what a larger group commit buys back: fresh files, a quarter of the messages.
  const compare = Math.ceil(MESSAGES / 4 / 4096) * 4096;
  const variants: Array<{ mode: SyncMode; batchSize: number; label: string }> = [
    { mode: 'NORMAL', batchSize: BATCH, label: `synchronous=NORMAL, batches of ${BATCH} (for comparison: a power cut may lose the last commits)` },
    { mode: 'FULL', batchSize: 1024, label: 'synchronous=FULL, batches of 1024 (a larger group commit)' },
    { mode: 'FULL', batchSize: 4096, label: 'synchronous=FULL, batches of 4096' },
  ];
  for (const { mode, batchSize, label } of variants) {
    const other = join(dir, `outbox-${mode}-${batchSize}.db`);
    const s = new SqliteOutbox({ file: other, caps, synchronous: mode });
    const { rate } = appendAll(s, compare, batchSize);
    s.close();
    emitResult(`durable append, ${label}`, rate, 'msgs/s');
  }
  memoryStoreOverhead();
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * What the memory store (the fallback's bound is in its bytes: topic + payload) costs in memory per
 * message on top of those bytes, with a forced collection before and after 100 k messages.
 */
function memoryStoreOverhead(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const count = 100 * BATCH * 4;
  const used = () => {
    gc();
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const before = used();
  const store = new MemoryOutbox({ caps });
  for (let done = 0; done < count; done += BATCH) store.append(batch(done + 1, BATCH));
  const bytes = store.stats(UPLINK).bytes;
  const overhead = (used() - before - bytes) / count;
  emitResult('memory outbox: memory per message beyond its topic and payload', overhead, 'B/msg');
  store.close();
}
