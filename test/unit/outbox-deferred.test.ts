/**
 * Write-behind in front of the SQLite outbox (deferred-outbox.ts), on real files: what is delivered
 * before its commit is never written, what is not is written with the seq it went out under, the
 * pending order and the counters include what waits in memory, and a crash never lets a seq that
 * was handed out be handed out again. Expected seqs, sizes and counts are worked out by hand.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeferredOutbox } from '../../src/host/outbox/deferred-outbox.js';
import { SqliteOutbox } from '../../src/host/outbox/sqlite-outbox.js';
import { messageBytes, type OutboxCapsTable } from '../../src/host/outbox/outbox-store.js';
import { SEQ_BLOCK, seqsAheadFile } from '../../src/host/outbox/seq-reservation.js';
import { message, ROOMY, SteppedClock } from './outbox-contract.js';

const dir = mkdtempSync(join(tmpdir(), 'wasmgate-outbox-deferred-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshFile = () => join(dir, `outbox-${++files}.db`);
const caps: OutboxCapsTable = { default: ROOMY };
const HOUR = 3_600_000;

function open(file: string, clock = new SteppedClock(), maxMessages?: number): { store: SqliteOutbox; front: DeferredOutbox; clock: SteppedClock } {
  const store = new SqliteOutbox({ file, caps, clock });
  // An hour: nothing is committed by the timer during a test unless it says so.
  const front = new DeferredOutbox({ store, delayMs: HOUR, clock, ...(maxMessages === undefined ? {} : { maxMessages }), keeps: (m) => messageBytes(m.topic, m.payload) <= 100 });
  return { store, front, clock };
}

test('messages delivered before their commit are never written; the rest are, under the seqs they went out with', () => {
  const file = freshFile();
  const { front, clock } = open(file);
  const shown: number[] = [];
  const stored = front.append([message('a', 1, clock.nowMs), message('a', 2, clock.nowMs), message('b', 3, clock.nowMs)], (s) => shown.push(...s.map((m) => m.seq)));
  assert.deepEqual(stored.map((m) => m.seq), [1, 2, 3]);
  assert.deepEqual(shown, [1, 2, 3], 'handed to the senders at once');
  assert.equal(front.ack('a', [1]), 1);
  assert.equal(front.ack('b', [1]), 0, 'an ack names its uplink');
  assert.equal(front.unwritten('a'), 1);
  front.close(); // commits 2 and 3
  const reopened = new SqliteOutbox({ file, caps, clock });
  assert.deepEqual(reopened.pending('a', 10).map((m) => [m.seq, m.payload[0]]), [[2, 2]]);
  assert.deepEqual(reopened.pending('b', 10).map((m) => [m.seq, m.payload[0]]), [[3, 3]]);
  assert.equal(reopened.lastSeq(), 3, 'a clean close records the last seq: no gap');
  assert.deepEqual(reopened.append([message('a', 4, clock.nowMs)]).map((m) => m.seq), [4]);
  assert.equal(existsSync(seqsAheadFile(file)), false, 'the marker is gone after a clean close');
  reopened.close();
});

test('everything delivered: nothing written, and the next run goes on after the last seq', () => {
  const file = freshFile();
  const { front, clock } = open(file);
  front.append([message('a', 1, clock.nowMs), message('a', 2, clock.nowMs)]);
  assert.equal(front.ack('a', [1, 2]), 2);
  front.commit();
  front.close();
  const reopened = new SqliteOutbox({ file, caps, clock });
  assert.deepEqual(reopened.pending('a', 10), []);
  assert.equal(reopened.stats('a').messages, 0);
  assert.equal(reopened.append([message('a', 3, clock.nowMs)])[0]!.seq, 3);
  reopened.close();
});

test('a crash after seqs went out unwritten: the next start continues after the reservation, never reusing one', () => {
  const file = freshFile();
  const { front, clock } = open(file);
  front.append([message('a', 1, clock.nowMs), message('a', 2, clock.nowMs), message('a', 3, clock.nowMs)]);
  front.ack('a', [1, 2, 3]);
  assert.equal(existsSync(seqsAheadFile(file)), true, 'the first seq handed out ahead made the marker');
  // No close: the process "dies" here. The files as they are now are what kill -9 leaves; a store on a
  // copy of them is the next start (the file itself stays held by the store that did not close).
  const crashed = `${file}.crashed`;
  for (const suffix of ['', '-wal', '.seq', '.seq-ahead']) if (existsSync(file + suffix)) copyFileSync(file + suffix, crashed + suffix);
  const next = new SqliteOutbox({ file: crashed, caps, clock });
  // The first assign reserved through 0 + 3 + SEQ_BLOCK; the next start continues after that.
  assert.equal(next.append([message('a', 4, clock.nowMs)])[0]!.seq, 3 + SEQ_BLOCK + 1);
  next.close();
});

test('pending serves the store, then the tail, by seq, within the limit and after the position', () => {
  const { store, front, clock } = open(freshFile());
  store.append([message('a', 1, clock.nowMs), message('a', 2, clock.nowMs)]); // written: 1, 2
  front.append([message('a', 3, clock.nowMs), message('b', 4, clock.nowMs), message('a', 5, clock.nowMs)]); // tail: 3, 4, 5
  assert.deepEqual(front.pending('a', 10).map((m) => m.seq), [1, 2, 3, 5]);
  assert.deepEqual(front.pending('a', 3).map((m) => m.seq), [1, 2, 3]);
  assert.deepEqual(front.pending('a', 10, 2).map((m) => m.seq), [3, 5]);
  assert.deepEqual(front.pending('b', 10).map((m) => m.seq), [4]);
  front.close();
});

test('stats count what waits in memory: 3 messages of 3 + 9 bytes, the oldest 5 s old', () => {
  const { front, clock } = open(freshFile());
  const t = clock.nowMs;
  front.append([message('a', 1, t - 5000), message('a', 2, t - 1000), message('a', 3, t)]);
  const stats = front.stats('a');
  assert.equal(stats.messages, 3);
  assert.equal(stats.bytes, 3 * (3 + 9), 'topic t/a is 3 bytes, each payload 9');
  assert.equal(stats.oldestAgeMs, 5000);
  assert.equal(front.stats('b').messages, 0);
  front.close();
});

test('a message over its cap goes to the store at once, behind the tail, to be dropped and counted there', () => {
  const { store, front, clock } = open(freshFile());
  front.append([message('a', 1, clock.nowMs)]);
  // 'keeps' above refuses over 100 bytes; the SQLite store's own cap is roomy, so it keeps it: what
  // matters here is that the tail was written first and the order held.
  const big = front.append([message('a', 2, clock.nowMs, 200)]);
  assert.equal(big[0]!.seq, 2);
  assert.deepEqual(store.pending('a', 10).map((m) => m.seq), [1, 2], 'both written, in order');
  front.close();
});

test('a dead letter of a waiting message writes it first; a full tail commits at once', () => {
  const { store, front, clock } = open(freshFile(), new SteppedClock(), 3);
  front.append([message('a', 1, clock.nowMs)]);
  assert.equal(front.deadLetter('a', 1, 'refused'), true);
  assert.deepEqual(store.deadLetters('a', 10).map((m) => m.seq), [1]);
  front.append([message('a', 2, clock.nowMs), message('a', 3, clock.nowMs)]);
  assert.deepEqual(store.pending('a', 10), [], 'two in the tail: not written yet');
  front.append([message('a', 4, clock.nowMs)]);
  assert.deepEqual(store.pending('a', 10).map((m) => m.seq), [2, 3, 4], 'the third filled the tail');
  front.close();
});

test('the timer commits what is undelivered after the delay, and tells the listeners', async () => {
  const file = freshFile();
  const clock = new SteppedClock();
  const store = new SqliteOutbox({ file, caps, clock });
  const front = new DeferredOutbox({ store, delayMs: 20, clock });
  const committed = new Promise<boolean>((resolve) => front.onCommit((c) => resolve(c.wasDurable)));
  front.append([message('a', 1, clock.nowMs)]);
  clock.nowMs += 20; // the delay passes, by the monotonic clock the outbox reads
  // The commit timer is unref'd (it keeps no process alive): this one keeps the test's loop running.
  const alive = setTimeout(() => undefined, 10_000);
  assert.equal(await committed, true);
  clearTimeout(alive);
  assert.deepEqual(store.pending('a', 10).map((m) => m.seq), [1]);
  front.close();
});

test('the timer writes only what waited its whole delay: a message that came later waits for its own, and is not written if delivered by then', async () => {
  const file = freshFile();
  const clock = new SteppedClock();
  const store = new SqliteOutbox({ file, caps, clock });
  const front = new DeferredOutbox({ store, delayMs: 20, clock });
  const commits: number[][] = [];
  front.onCommit(() => commits.push(store.pending('a', 10).map((m) => m.seq)));
  const alive = setTimeout(() => undefined, 10_000);
  front.append([message('a', 1, clock.nowMs)]); // due at +20
  clock.nowMs += 15;
  front.append([message('a', 2, clock.nowMs), message('a', 3, clock.nowMs)]); // due at +35
  clock.nowMs += 5; // +20: seq 1 is due, 2 and 3 are not
  while (commits.length === 0) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(commits, [[1]], 'only the message that waited 20 ms');
  front.ack('a', [2]); // delivered in time: never written
  clock.nowMs += 15; // +35: seq 3 is due
  while (commits.length === 1) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(commits, [[1], [1, 3]]);
  assert.equal(front.unwritten('a'), 1);
  // Everything delivered: no timer is left waiting (nothing more is written).
  front.ack('a', [1, 3]);
  front.append([message('a', 4, clock.nowMs)]);
  front.ack('a', [4]);
  clock.nowMs += 100;
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(commits.length, 2);
  clearTimeout(alive);
  front.close();
});
