/**
 * The outbox contract (src/host/outbox/outbox-store.ts) as one suite, run against every store: the
 * memory one (outbox-memory.test.ts) and the SQLite one (outbox-sqlite.test.ts). Expected values are
 * worked out by hand from the inputs (sizes, seqs, ages), never read back from a store.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isWgError } from '../../src/host/errors.js';
import type { Clock } from '../../src/hal/clock.js';
import type { NewMessage, OutboxCaps, OutboxCapsTable, OutboxStore } from '../../src/host/outbox/outbox-store.js';

/** A wall clock the test sets; monotonic time follows it. */
export class SteppedClock implements Clock {
  constructor(public nowMs = 1_700_000_000_000) {}
  wallMs(): number {
    return this.nowMs;
  }
  monotonicMs(): number {
    return this.nowMs;
  }
}

/** Caps that never bite unless a test says otherwise. */
export const ROOMY: OutboxCaps = { maxBytes: 1 << 30, maxAgeMs: 365 * 86_400_000, maxDeadLetters: 1000 };

export interface OutboxContractSetup {
  /** A fresh, empty store for one test; closed by the suite. */
  open(caps: OutboxCapsTable, clock: Clock): OutboxStore;
}

/** A message of `payloadBytes` bytes (each the low byte of `fill`) on topic `t/<uplink>`. */
export function message(uplink: string, fill: number, createdAtMs: number, payloadBytes = 9, topic = `t/${uplink}`): NewMessage {
  return { uplink, topic, payload: new Uint8Array(payloadBytes).fill(fill & 0xff), qos: 1, retain: false, createdAtMs };
}

const seqs = (messages: readonly { seq: number }[]) => messages.map((m) => m.seq);

export function describeOutboxContract(name: string, setup: OutboxContractSetup): void {
  describe(`outbox contract: ${name}`, () => {
    const withStore = (caps: OutboxCapsTable, fn: (store: OutboxStore, clock: SteppedClock) => void) => () => {
      const clock = new SteppedClock();
      const store = setup.open(caps, clock);
      try {
        fn(store, clock);
      } finally {
        store.close();
      }
    };
    const roomy: OutboxCapsTable = { default: ROOMY };

    test(
      'append hands out one gapless, increasing seq per message across uplinks, in the order given',
      withStore(roomy, (store, clock) => {
        const t = clock.nowMs;
        const first = store.append([message('a', 1, t), message('b', 2, t), message('a', 3, t)]);
        const second = store.append([message('b', 4, t)]);
        assert.deepEqual(seqs(first), [1, 2, 3]);
        assert.deepEqual(first.map((m) => m.uplink), ['a', 'b', 'a']);
        assert.deepEqual(seqs(second), [4]);
        assert.deepEqual(store.append([]), [], 'an empty batch takes no seq');
        assert.equal(store.lastSeq(), 4);
      }),
    );

    test(
      'beforeSync is called once per append, before it returns, with the messages kept in seq order (not one too big to keep)',
      withStore({ default: { ...ROOMY, maxBytes: 64 } }, (store, clock) => {
        const t = clock.nowMs;
        const calls: number[][] = [];
        const stored = store.append([message('a', 1, t), message('a', 2, t, 200), message('b', 3, t)], (written) => {
          calls.push(seqs(written));
          assert.equal(store.lastSeq(), 3, 'the whole batch has its seqs by then');
        });
        // 200 payload bytes + the topic are over the 64-byte cap: seq 2 is handed out and dropped at once.
        assert.deepEqual(calls, [[1, 3]]);
        assert.deepEqual(seqs(stored), [1, 2, 3]);
        store.append([], (written) => calls.push(seqs(written)));
        assert.ok(calls.length <= 2 && (calls[1] ?? []).length === 0, 'an empty batch shows nothing');
      }),
    );

    test(
      'read one at a time after the last seq read, as a sender does, while messages leave: each pending one once, whole, and none that left',
      withStore(roomy, (store, clock) => {
        const t = clock.nowMs;
        // Two batches, so that the reads cross from one batch (a chunk, in the durable store) to the next.
        store.append(Array.from({ length: 6 }, (_, i) => message('a', 10 + i, t)));
        store.append([message('a', 20, t), message('b', 21, t), message('a', 22, t)]);
        const read: Array<[number, number]> = [];
        let after = 0;
        for (let next = store.pending('a', 1, after)[0]; next !== undefined; next = store.pending('a', 1, after)[0]) {
          read.push([next.seq, next.payload[0]!]);
          after = next.seq;
          // Between reads, messages further on leave: 4 acked, 5 dead-lettered, 7 acked.
          if (next.seq === 2) assert.equal(store.ack('a', [1, 2, 4]), 3);
          if (next.seq === 3) assert.equal(store.deadLetter('a', 5, 'refused'), true);
          if (next.seq === 6) assert.equal(store.ack('a', [7]), 1);
        }
        assert.deepEqual(read, [[1, 10], [2, 11], [3, 12], [6, 15], [9, 22]]);
        assert.deepEqual(seqs(store.pending('a', 10)), [3, 6, 9]);
      }),
    );

    test(
      'pending serves one uplink oldest first, with a limit and after a seq, with every field kept',
      withStore(roomy, (store, clock) => {
        const t = clock.nowMs;
        store.append([message('a', 1, t - 3), message('b', 2, t - 2), message('a', 3, t - 1), { ...message('a', 4, t), topic: 'x/y', qos: 0, retain: true }]);
        assert.deepEqual(seqs(store.pending('a', 10)), [1, 3, 4]);
        assert.deepEqual(seqs(store.pending('b', 10)), [2]);
        assert.deepEqual(seqs(store.pending('a', 2)), [1, 3]);
        assert.deepEqual(seqs(store.pending('a', 10, 1)), [3, 4]);
        assert.deepEqual(seqs(store.pending('a', 10, 4)), []);
        assert.deepEqual(store.pending('nobody', 10), []);
        const last = store.pending('a', 1, 3)[0]!;
        assert.deepEqual(
          { seq: last.seq, uplink: last.uplink, topic: last.topic, payload: [...last.payload], qos: last.qos, retain: last.retain, createdAtMs: last.createdAtMs },
          { seq: 4, uplink: 'a', topic: 'x/y', payload: [4, 4, 4, 4, 4, 4, 4, 4, 4], qos: 0, retain: true, createdAtMs: t },
        );
      }),
    );

    test(
      'the payload is copied on append: the caller may reuse its buffer',
      withStore(roomy, (store, clock) => {
        const m = message('a', 7, clock.nowMs);
        store.append([m]);
        (m.payload as Uint8Array).fill(0);
        assert.deepEqual([...store.pending('a', 1)[0]!.payload], [7, 7, 7, 7, 7, 7, 7, 7, 7]);
      }),
    );

    test(
      'ack removes exactly the pending seqs named, of that uplink only, and counts them',
      withStore(roomy, (store, clock) => {
        const t = clock.nowMs;
        store.append([message('a', 1, t), message('a', 2, t), message('b', 3, t), message('a', 4, t)]);
        assert.equal(store.ack('a', [2, 4, 3, 99]), 2, 'seq 3 is b\'s and 99 was never handed out');
        assert.deepEqual(seqs(store.pending('a', 10)), [1]);
        assert.deepEqual(seqs(store.pending('b', 10)), [3]);
        assert.equal(store.ack('a', [2]), 0, 'a second ack of the same seq removes nothing');
        assert.equal(store.ack('nobody', [1]), 0);
        // 't/a' is 3 bytes, each payload 9: one message of 12 bytes left for a.
        const stats = store.stats('a');
        assert.equal(stats.messages, 1);
        assert.equal(stats.bytes, 12);
      }),
    );

    test(
      'no seq is handed out twice, not even after everything was acked',
      withStore(roomy, (store, clock) => {
        const t = clock.nowMs;
        store.append([message('a', 1, t), message('a', 2, t)]);
        assert.equal(store.ack('a', [1, 2]), 2);
        assert.deepEqual(seqs(store.append([message('a', 3, t)])), [3]);
      }),
    );

    test(
      'continueAfter moves the next seq past numbers handed out elsewhere, and never back',
      withStore(roomy, (store, clock) => {
        store.append([message('a', 1, clock.nowMs)]);
        store.continueAfter(41);
        store.continueAfter(7);
        assert.equal(store.lastSeq(), 41);
        assert.deepEqual(seqs(store.append([message('a', 2, clock.nowMs)])), [42]);
      }),
    );

    test(
      'a dead letter leaves pending for good, is kept with its reason and counted',
      withStore(roomy, (store, clock) => {
        const t = clock.nowMs;
        store.append([message('a', 1, t), message('a', 2, t), message('a', 3, t)]);
        clock.nowMs += 5;
        assert.equal(store.deadLetter('a', 2, 'payload too large for the broker'), true);
        assert.equal(store.deadLetter('a', 2, 'again'), false, 'no longer pending');
        assert.equal(store.deadLetter('a', 99, 'never handed out'), false);
        assert.equal(store.deadLetter('nobody', 1, 'no such uplink'), false);
        assert.deepEqual(seqs(store.pending('a', 10)), [1, 3]);
        const [dead] = store.deadLetters('a', 10);
        assert.equal(dead?.seq, 2);
        assert.equal(dead?.reason, 'payload too large for the broker');
        assert.equal(dead?.deadAtMs, t + 5);
        assert.equal(dead?.createdAtMs, t);
        assert.deepEqual([...dead!.payload], [2, 2, 2, 2, 2, 2, 2, 2, 2]);
        assert.equal(store.ack('a', [2]), 0, 'a dead letter cannot be acked back into the count');
        const stats = store.stats('a');
        assert.deepEqual([stats.messages, stats.bytes, stats.deadLetters, stats.deadLettersKept], [2, 24, 1, 1]);
      }),
    );

    test(
      'past maxDeadLetters the oldest kept dead letter is forgotten, and every one stays counted',
      withStore({ default: { ...ROOMY, maxDeadLetters: 2 } }, (store, clock) => {
        const t = clock.nowMs;
        store.append([1, 2, 3, 4].map((f) => message('a', f, t)));
        for (const seq of [1, 2, 3, 4]) assert.equal(store.deadLetter('a', seq, `refused ${seq}`), true);
        assert.deepEqual(seqs(store.deadLetters('a', 10)), [3, 4]);
        assert.deepEqual(seqs(store.deadLetters('a', 1)), [3]);
        const stats = store.stats('a');
        assert.deepEqual([stats.messages, stats.deadLetters, stats.deadLettersKept], [0, 4, 2]);
      }),
    );

    test(
      'over the bytes cap the oldest are dropped, in the same append, and each drop is counted',
      // Each message is 3 bytes of topic ('t/a') and 9 of payload: 12. 40 bytes hold three.
      withStore({ default: { ...ROOMY, maxBytes: 40 } }, (store, clock) => {
        const t = clock.nowMs;
        store.append([message('a', 1, t), message('a', 2, t)]);
        const stored = store.append([message('a', 3, t), message('a', 4, t), message('a', 5, t)]);
        assert.deepEqual(seqs(stored), [3, 4, 5], 'a dropped message still got its seq: the gap tells the consumer');
        assert.deepEqual(seqs(store.pending('a', 10)), [3, 4, 5]);
        const stats = store.stats('a');
        assert.deepEqual([stats.messages, stats.bytes, stats.droppedByBytes, stats.droppedByAge], [3, 36, 2, 0]);
      }),
    );

    test(
      'a message larger than the whole cap is dropped alone, counted, and evicts nothing',
      withStore({ default: { ...ROOMY, maxBytes: 40 } }, (store, clock) => {
        const t = clock.nowMs;
        store.append([message('a', 1, t)]);
        // 3 + 100 = 103 bytes can never fit 40: evicting seq 1 for it would lose two messages, not one.
        assert.deepEqual(seqs(store.append([message('a', 2, t, 100)])), [2]);
        const stats = store.stats('a');
        assert.deepEqual([stats.messages, stats.bytes, stats.droppedByBytes], [1, 12, 1]);
        assert.deepEqual(seqs(store.append([message('a', 3, t)])), [3]);
        assert.deepEqual(seqs(store.pending('a', 10)), [1, 3]);
      }),
    );

    test(
      'bytes count the topic in UTF-8 and the payload',
      withStore(roomy, (store, clock) => {
        // 'ü/€' is 2 + 1 + 3 = 6 bytes in UTF-8 (3 characters), plus 9 bytes of payload.
        store.append([message('a', 1, clock.nowMs, 9, 'ü/€')]);
        assert.equal(store.stats('a').bytes, 15);
      }),
    );

    test(
      'caps are per uplink: one uplink over its cap drops only its own',
      withStore({ default: ROOMY, uplinks: { small: { ...ROOMY, maxBytes: 16 } } }, (store, clock) => {
        const t = clock.nowMs;
        // 't/small' is 7 bytes + 9: 16 each, so small keeps one; big keeps all.
        store.append([message('small', 1, t), message('big', 2, t), message('small', 3, t), message('big', 4, t)]);
        assert.deepEqual(seqs(store.pending('small', 10)), [3]);
        assert.deepEqual(seqs(store.pending('big', 10)), [2, 4]);
        assert.equal(store.stats('small').droppedByBytes, 1);
        assert.equal(store.stats('big').droppedByBytes, 0);
      }),
    );

    test(
      'older than the age cap (by the store\'s clock) is dropped oldest first and counted; exactly the cap is kept',
      withStore({ default: { ...ROOMY, maxAgeMs: 1000 } }, (store, clock) => {
        const t = clock.nowMs;
        store.append([message('a', 1, t), message('a', 2, t + 500), message('a', 3, t + 900)]);
        clock.nowMs = t + 1500; // seq 1 is 1500 ms old, seq 2 exactly 1000
        assert.deepEqual(seqs(store.pending('a', 10)), [2, 3]);
        let stats = store.stats('a');
        assert.deepEqual([stats.messages, stats.droppedByAge, stats.droppedByBytes, stats.oldestAgeMs], [2, 1, 0, 1000]);
        clock.nowMs = t + 1901; // seq 2 is 1401 ms old, seq 3 1001 ms
        stats = store.stats('a');
        assert.deepEqual([stats.messages, stats.droppedByAge, stats.oldestAgeMs], [0, 3, 0]);
        // A new message is young by its own stamp; the clock does not retire it.
        store.append([message('a', 4, clock.nowMs - 10)]);
        assert.equal(store.stats('a').oldestAgeMs, 10);
      }),
    );

    test(
      'the age cap goes by the head: a later seq stamped earlier waits behind a young head, so order holds',
      withStore({ default: { ...ROOMY, maxAgeMs: 1000 } }, (store, clock) => {
        const t = clock.nowMs;
        store.append([message('a', 1, t), message('a', 2, t - 5000)]);
        assert.deepEqual(seqs(store.pending('a', 10)), [1, 2]);
        assert.equal(store.stats('a').droppedByAge, 0);
      }),
    );

    test(
      'stats of an uplink never seen are zeros',
      withStore(roomy, (store) => {
        assert.deepEqual(store.stats('nobody'), { uplink: 'nobody', messages: 0, bytes: 0, oldestAgeMs: 0, droppedByBytes: 0, droppedByAge: 0, deadLetters: 0, deadLettersKept: 0 });
      }),
    );

    test('a closed store refuses every call with WG_ERR_OUTBOX_CLOSED', () => {
      const store = setup.open(roomy, new SteppedClock());
      store.close();
      for (const call of [() => store.append([message('a', 1, 0)]), () => store.pending('a', 1), () => store.ack('a', [1]), () => store.stats('a')]) {
        assert.throws(call, (e: unknown) => isWgError(e, 'WG_ERR_OUTBOX_CLOSED'));
      }
    });
  });
}
