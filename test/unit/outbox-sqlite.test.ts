/**
 * The SQLite outbox against the outbox contract (outbox-contract.ts), each test on a fresh file in a
 * temporary directory on the real disk, and what only a durable store promises: seqs, counters and
 * dead letters survive a reopen.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteOutbox } from '../../src/host/outbox/sqlite-outbox.js';
import type { OutboxCapsTable } from '../../src/host/outbox/outbox-store.js';
import { describeOutboxContract, message, ROOMY, SteppedClock } from './outbox-contract.js';

const dir = mkdtempSync(join(tmpdir(), 'wasmgate-outbox-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshFile = () => join(dir, `outbox-${++files}.db`);

describeOutboxContract('sqlite', { open: (caps, clock) => new SqliteOutbox({ file: freshFile(), caps, clock }) });

describe('sqlite outbox across a reopen', () => {
  const caps: OutboxCapsTable = { default: ROOMY };

  test('seq continues after the highest ever handed out, also when everything was acked', () => {
    const file = freshFile();
    const clock = new SteppedClock();
    let store = new SqliteOutbox({ file, caps, clock });
    store.append([message('a', 1, clock.nowMs), message('b', 2, clock.nowMs), message('a', 3, clock.nowMs)]);
    store.close();
    store = new SqliteOutbox({ file, caps, clock });
    assert.equal(store.lastSeq(), 3);
    assert.deepEqual(store.pending('a', 10).map((m) => m.seq), [1, 3]);
    assert.equal(store.ack('a', [1, 3]), 2);
    assert.equal(store.ack('b', [2]), 1);
    store.close();
    store = new SqliteOutbox({ file, caps, clock });
    assert.equal(store.lastSeq(), 3);
    assert.deepEqual(store.append([message('b', 4, clock.nowMs)]).map((m) => m.seq), [4]);
    store.close();
  });

  test('a seq floor from continueAfter survives a reopen', () => {
    const file = freshFile();
    let store = new SqliteOutbox({ file, caps });
    store.continueAfter(1000);
    store.close();
    store = new SqliteOutbox({ file, caps });
    assert.equal(store.lastSeq(), 1000);
    assert.deepEqual(store.append([message('a', 1, Date.now())]).map((m) => m.seq), [1001]);
    store.close();
  });

  test('drop counters, depth and dead letters survive a reopen', () => {
    const file = freshFile();
    const clock = new SteppedClock();
    const capped: OutboxCapsTable = { default: { ...ROOMY, maxBytes: 24, maxAgeMs: 1000 } };
    let store = new SqliteOutbox({ file, caps: capped, clock });
    const t = clock.nowMs;
    // 12 bytes each: 24 keeps two. Seq 1 goes to the bytes cap, seq 2 to a dead letter, seq 3 to age.
    store.append([message('a', 1, t), message('a', 2, t), message('a', 3, t - 900)]);
    assert.equal(store.deadLetter('a', 2, 'refused'), true);
    clock.nowMs = t + 200;
    store.append([message('a', 4, clock.nowMs)]);
    const before = store.stats('a');
    assert.deepEqual([before.messages, before.bytes, before.droppedByBytes, before.droppedByAge, before.deadLetters], [1, 12, 1, 1, 1]);
    store.close();
    store = new SqliteOutbox({ file, caps: capped, clock });
    assert.deepEqual(store.stats('a'), before);
    assert.deepEqual(store.pending('a', 10).map((m) => m.seq), [4]);
    assert.deepEqual(store.deadLetters('a', 10).map((m) => [m.seq, m.reason]), [[2, 'refused']]);
    store.close();
  });
});
