/**
 * The outbox when its storage fails: a full disk and a read-only file system, each on a real file
 * system of its own (a small tmpfs, test/support/small-file-system.ts), and the memory fallback
 * (fallback-outbox.ts) that keeps the gateway going meanwhile.
 *
 * Stand-ins, said here and in the test's diagnostics when taken: where a tmpfs cannot be mounted, a
 * full disk is SQLite's `max_page_count` (the file may not grow past it, and SQLite answers
 * SQLITE_FULL as for ENOSPC), and a read-only directory is `chmod 0555` for a user that is not root
 * (root passes permission bits, so `chmod` proves nothing for it). A file system that turns read-only
 * under an open outbox cannot be made here: Linux refuses to remount read-only while a file is open
 * for writing ("mount point is busy"), so the read-only cases are at open.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isWgError, type WgError } from '../../src/host/errors.js';
import { DeferredOutbox } from '../../src/host/outbox/deferred-outbox.js';
import { FallbackOutbox } from '../../src/host/outbox/fallback-outbox.js';
import type { NewMessage, OutboxCapsTable, OutboxStore } from '../../src/host/outbox/outbox-store.js';
import { SqliteOutbox } from '../../src/host/outbox/sqlite-outbox.js';
import { readReservedSeq, SEQ_BLOCK } from '../../src/host/outbox/seq-reservation.js';
import { mountSmallFileSystem } from '../support/small-file-system.js';
import { SteppedClock } from '../unit/outbox-contract.js';

const caps: OutboxCapsTable = { default: { maxBytes: 1 << 30, maxAgeMs: 86_400_000, maxDeadLetters: 10 } };
const FS_BYTES = 1 << 20;

function batch(count: number): NewMessage[] {
  return Array.from({ length: count }, () => ({ uplink: 'cloud', topic: 'plant/line', payload: new Uint8Array(100).fill(0x5a), qos: 1, retain: false, createdAtMs: Date.now() }));
}

/** Every pending seq of the cloud uplink, in the order served. */
function pendingSeqs(store: OutboxStore): number[] {
  return store.pending('cloud', 1_000_000).map((m) => m.seq);
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/**
 * A directory whose file system is full once the outbox has grown a little. `free()` makes room
 * again. On a tmpfs, a ballast file takes most of it; otherwise the outbox is held to a page limit.
 */
function fullingDirectory(t: TestContext): { dir: string; pageLimit?: number; free(): void; done(): void } {
  const fs = mountSmallFileSystem(FS_BYTES);
  if (typeof fs === 'string') {
    t.diagnostic(`${fs}; a full disk is simulated with SQLite's max_page_count instead`);
    const dir = mkdtempSync(join(tmpdir(), 'wasmgate-outbox-full-'));
    const limit = { dir, pageLimit: 64, free: () => (limit.pageLimit = 1 << 20), done: () => rmSync(dir, { recursive: true, force: true }) };
    return limit;
  }
  const ballast = join(fs.path, 'ballast');
  writeFileSync(ballast, Buffer.alloc(FS_BYTES - 256 * 1024));
  return { dir: fs.path, free: () => rmSync(ballast), done: () => fs.unmount() };
}

test('disk full: the batch that does not fit is refused whole with WG_ERR_OUTBOX_DISK_FULL, what was accepted stays, and appends go on once there is room', (t) => {
  const place = fullingDirectory(t);
  const file = join(place.dir, 'outbox.db');
  try {
    const open = () => new SqliteOutbox({ file, caps, ...(place.pageLimit === undefined ? {} : { maxPageCount: place.pageLimit }) });
    const store = open();
    let accepted = 0;
    let refusal: unknown;
    for (let i = 0; i < 10_000 && refusal === undefined; i++) {
      try {
        accepted += store.append(batch(64)).length;
      } catch (error) {
        refusal = error;
      }
    }
    assert.ok(isWgError(refusal, 'WG_ERR_OUTBOX_DISK_FULL'), `refused with the disk-full code: ${String(refusal)}`);
    assert.ok(accepted > 0, 'some batches fitted first');
    assert.equal(store.lastSeq(), accepted, 'the refused batch took no seq');
    assert.deepEqual(pendingSeqs(store), range(1, accepted), 'every accepted message is pending, in order');
    store.close();

    place.free();
    const again = open();
    try {
      assert.deepEqual(again.append(batch(2)).map((m) => m.seq), [accepted + 1, accepted + 2], 'seqs go on after the refused batch, without a gap');
      assert.equal(pendingSeqs(again).length, accepted + 2);
    } finally {
      again.close();
    }
  } finally {
    place.done();
  }
});

// Issue 13: the senders get a batch before its sync (BeforeSync), so it may be on the wire when the
// commit fails. Its seqs must then never be handed out again, or the broker's late PUBACK for the
// lost message would remove the next one with the same seq from the outbox, undelivered.
test('disk full after a batch was shown to the senders: its seqs are never handed out again, by the store or its fallback', (t) => {
  const place = fullingDirectory(t);
  const file = join(place.dir, 'outbox.db');
  try {
    const open = () => new SqliteOutbox({ file, caps, ...(place.pageLimit === undefined ? {} : { maxPageCount: place.pageLimit }) });
    const store = open();
    let shown: number[] = [];
    let refusal: unknown;
    for (let i = 0; i < 10_000 && refusal === undefined; i++) {
      shown = [];
      try {
        store.append(batch(64), (written) => (shown = written.map((m) => m.seq)));
      } catch (error) {
        refusal = error;
      }
    }
    assert.ok(isWgError(refusal, 'WG_ERR_OUTBOX_DISK_FULL'), `refused with the disk-full code: ${String(refusal)}`);
    const highestShown = shown.at(-1);
    t.diagnostic(highestShown === undefined ? 'the refused batch failed before it was shown' : `the refused batch was shown up to seq ${highestShown}, then its commit failed`);
    const floor = store.lastSeq();
    if (highestShown !== undefined) assert.ok(floor >= highestShown, `lastSeq ${floor} stays at or past the shown seqs`);
    // Through the fallback, memory takes the next batches after the store's last seq.
    const outbox = new FallbackOutbox({ openDurable: () => store, memoryCaps: caps, retryMs: 0 });
    let calls = 0;
    const taken = outbox.append(batch(2), () => calls++);
    assert.ok(taken.every((m) => m.seq > floor), `memory's seqs ${taken.map((m) => m.seq).join(',')} come after ${floor}`);
    assert.equal(calls, 1, 'shown once, whichever store took it');

    // Room again: the durable store takes back, after memory's seqs, and records how far they went.
    if (place.pageLimit !== undefined) {
      t.diagnostic('page-limit stand-in: the durable store cannot grow again without a reopen, so the return is not checked here');
      outbox.close();
      return;
    }
    place.free();
    const back = outbox.append(batch(1));
    assert.equal(outbox.durable, true);
    assert.ok(back[0]!.seq > taken.at(-1)!.seq);
    outbox.close();
    const reopened = open();
    try {
      assert.ok(reopened.lastSeq() >= back[0]!.seq, 'the floor past every shown seq is on disk');
    } finally {
      reopened.close();
    }
  } finally {
    place.done();
  }
});

test('disk full, through the fallback: memory takes over within its bound, said once per episode, and the durable store takes back when there is room', (t) => {
  const place = fullingDirectory(t);
  const file = join(place.dir, 'outbox.db');
  const clock = new SteppedClock();
  const problems: WgError[] = [];
  try {
    let pageLimit = place.pageLimit;
    const outbox = new FallbackOutbox({
      openDurable: () => new SqliteOutbox({ file, caps, clock, ...(pageLimit === undefined ? {} : { maxPageCount: pageLimit }) }),
      memoryCaps: { default: { maxBytes: 64 * 1024 * 1024, maxAgeMs: 86_400_000, maxDeadLetters: 10 } },
      clock,
      retryMs: 1000,
      onProblem: (p) => problems.push(p),
    });
    let appended = 0;
    while (outbox.durable && appended < 640_000) appended += outbox.append(batch(64)).length;
    assert.equal(outbox.durable, false, 'the disk filled up');
    // Ten more batches in the episode, one of them past the retry time: still said once.
    for (let i = 0; i < 10; i++) {
      if (i === 5) clock.nowMs += 1000;
      appended += outbox.append(batch(64)).length;
    }
    assert.deepEqual(problems.map((p) => p.code), ['WG_ERR_OUTBOX_MEMORY_FALLBACK']);
    assert.ok(isWgError(problems[0]!.cause, 'WG_ERR_OUTBOX_DISK_FULL'), 'the cause is the durable store\'s own error');
    assert.equal(outbox.fallback, problems[0], 'the episode\'s problem, for status, while it lasts');
    assert.deepEqual(pendingSeqs(outbox), range(1, appended), 'disk and memory serve one gapless sequence, in order');

    if (place.pageLimit !== undefined) pageLimit = undefined;
    place.free();
    if (place.pageLimit !== undefined) {
      // The page limit belongs to the open connection: the durable store must be reopened to lose it.
      t.diagnostic('page-limit stand-in: the durable store cannot grow again without a reopen, so the return is not checked here');
      outbox.close();
      return;
    }
    clock.nowMs += 1000;
    const back = outbox.append(batch(3));
    assert.deepEqual(back.map((m) => m.seq), range(appended + 1, appended + 3), 'the durable store continues after the seqs memory handed out');
    assert.deepEqual(problems.map((p) => p.code), ['WG_ERR_OUTBOX_MEMORY_FALLBACK', 'WG_ERR_OUTBOX_DURABLE_AGAIN']);
    assert.equal(outbox.durable, true);
    assert.equal(outbox.fallback, undefined);
    const all = pendingSeqs(outbox);
    assert.deepEqual(all, range(1, appended + 3));
    assert.equal(outbox.ack('cloud', all), appended + 3, 'acks reach both stores');
    assert.deepEqual(pendingSeqs(outbox), []);
    outbox.close();
    // What the durable store recorded: its own messages, gone by ack, and the seqs memory handed out.
    const reopened = new SqliteOutbox({ file, caps });
    assert.equal(reopened.lastSeq(), appended + 3);
    reopened.close();
  } finally {
    place.done();
  }
});

test('read-only file system: an outbox on it, and a new one in it, are refused with WG_ERR_OUTBOX_READ_ONLY; the fallback goes on in memory and takes the backlog back when it is writable', (t) => {
  const fs = mountSmallFileSystem(4 * FS_BYTES);
  if (typeof fs === 'string') {
    if (process.getuid?.() === 0) {
      t.skip(`${fs}; and chmod 0555 cannot stand in for a read-only directory for root`);
      return;
    }
    t.diagnostic(`${fs}; a read-only directory is chmod 0555 instead (not root)`);
  }
  const dir = typeof fs === 'string' ? mkdtempSync(join(tmpdir(), 'wasmgate-outbox-ro-')) : fs.path;
  const makeReadOnly = () => (typeof fs === 'string' ? chmodSync(dir, 0o555) : fs.remount('ro'));
  const makeWritable = () => (typeof fs === 'string' ? chmodSync(dir, 0o755) : fs.remount('rw'));
  const file = join(dir, 'outbox.db');
  try {
    const before = new SqliteOutbox({ file, caps });
    before.append(batch(5));
    before.close();
    makeReadOnly();

    assert.throws(() => new SqliteOutbox({ file, caps }), (e: unknown) => isWgError(e, 'WG_ERR_OUTBOX_READ_ONLY'), 'an outbox on a read-only file system');
    assert.throws(() => new SqliteOutbox({ file: join(dir, 'new.db'), caps }), (e: unknown) => isWgError(e, 'WG_ERR_OUTBOX_READ_ONLY'), 'a new outbox in a read-only directory');

    const clock = new SteppedClock();
    const problems: WgError[] = [];
    const outbox = new FallbackOutbox({
      openDurable: () => new SqliteOutbox({ file, caps, clock }),
      reservedSeq: () => readReservedSeq(file),
      memoryCaps: { default: { maxBytes: 1 << 20, maxAgeMs: 86_400_000, maxDeadLetters: 10 } },
      clock,
      retryMs: 1000,
      onProblem: (p) => problems.push(p),
    });
    try {
      assert.equal(outbox.durable, false);
      // The first batch of 5 reserved 5 + SEQ_BLOCK seqs; memory continues after them, so no number
      // of the unreadable backlog is handed out again.
      const reserved = 5 + SEQ_BLOCK;
      assert.deepEqual(outbox.append(batch(2)).map((m) => m.seq), [reserved + 1, reserved + 2]);
      assert.deepEqual(problems.map((p) => p.code), ['WG_ERR_OUTBOX_MEMORY_FALLBACK']);
      assert.ok(isWgError(problems[0]!.cause, 'WG_ERR_OUTBOX_READ_ONLY'));

      makeWritable();
      clock.nowMs += 1000;
      // The durable store opens with seqs 1..5 and continues after memory's.
      assert.deepEqual(outbox.append(batch(1)).map((m) => m.seq), [reserved + 3]);
      assert.deepEqual(problems.map((p) => p.code), ['WG_ERR_OUTBOX_MEMORY_FALLBACK', 'WG_ERR_OUTBOX_DURABLE_AGAIN']);
      assert.deepEqual(pendingSeqs(outbox), [1, 2, 3, 4, 5, reserved + 1, reserved + 2, reserved + 3], 'the backlog on disk is back, next to what memory took, by seq');
    } finally {
      outbox.close();
    }
  } finally {
    if (typeof fs === 'string') rmSync(dir, { recursive: true, force: true });
    else fs.unmount();
  }
});

test('a clean stop during a disk-full episode, once there is room again: the next start hands out none of the seqs memory gave out, written behind or not', (t) => {
  for (const delayMs of [0, 50]) {
    const place = fullingDirectory(t);
    if (place.pageLimit !== undefined) {
      t.diagnostic('page-limit stand-in: room cannot come back without a reopen, so the stop with room is not checked here');
      place.done();
      return;
    }
    const file = join(place.dir, 'outbox.db');
    const clock = new SteppedClock();
    try {
      const fallback = new FallbackOutbox({
        openDurable: () => new SqliteOutbox({ file, caps, clock }),
        memoryCaps: { default: { maxBytes: 64 * 1024 * 1024, maxAgeMs: 86_400_000, maxDeadLetters: 10 } },
        clock,
        retryMs: 60_000,
      });
      // The gateway's front: written behind by the commit delay, or every batch at once (0 s).
      const outbox = delayMs > 0 ? new DeferredOutbox({ store: fallback, delayMs, clock }) : fallback;
      const commit = () => (outbox instanceof DeferredOutbox ? outbox.commit() : undefined);
      let highest = 0;
      for (let i = 0; i < 100_000 && fallback.durable; i++) {
        highest = outbox.append(batch(64)).at(-1)!.seq;
        commit();
      }
      assert.equal(fallback.durable, false, 'the disk filled up');
      // In the episode, before its retry: memory numbers these.
      for (let i = 0; i < 5; i++) {
        highest = outbox.append(batch(64)).at(-1)!.seq;
        commit();
      }
      place.free();
      outbox.close();
      const next = new SqliteOutbox({ file, caps, clock });
      try {
        const seq = next.append(batch(1))[0]!.seq;
        assert.ok(seq > highest, `delay ${delayMs} ms: the first seq after the stop, ${seq}, comes after the ${highest} handed out before it`);
      } finally {
        next.close();
      }
    } finally {
      place.done();
    }
  }
});
