/**
 * How a side of the ring sleeps and when the other side wakes it. Nothing else lives here.
 *
 * - A side that finds nothing to do adds itself to its waiter count (READER_WAITING or
 *   WRITER_WAITING), then re-reads the other side's cursor before sleeping on it. The other side
 *   stores its cursor first and reads the waiter count second. With sequentially consistent Atomics,
 *   at least one of the two sees the other's store, so a wake-up is never lost: either the sleeper
 *   sees the new cursor and does not sleep, or the mover sees the count and notifies.
 * - The mover calls `Atomics.notify` only when the count is non-zero: a notify costs a trip into the
 *   runtime's waiter list, and in steady state nobody is waiting.
 * - Workers sleep with `Atomics.wait`. The main thread runs the I/O event loop and must never block:
 *   it sleeps with `Atomics.waitAsync`, and the blocking variant refuses to run there.
 */
import { isMainThread } from 'node:worker_threads';
import { WgError } from '../errors.js';

type WaitAsyncResult =
  | { async: false; value: 'not-equal' | 'timed-out' }
  | { async: true; value: Promise<'ok' | 'timed-out'> };

// Atomics.waitAsync is in Node 20 (V8 ≥ 8.7) but in TypeScript's lib only from ES2024.
const waitAsync = (
  Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number, t: number): WaitAsyncResult }
).waitAsync.bind(Atomics);

/**
 * Blocks the calling worker until `ready()` is true or `timeoutMs` has passed (Infinity: no limit).
 * `cursor` is the header slot the other side moves (HEAD for the reader, TAIL for the writer) and
 * `waiters` the slot that tells it someone sleeps on that cursor.
 * @returns whether `ready()` became true.
 * @throws WgError WG_ERR_RING_MAIN_THREAD_WAIT on the main thread, whose event loop must not block.
 */
export function waitUntil(
  header: Int32Array,
  waiters: number,
  cursor: number,
  ready: () => boolean,
  timeoutMs: number,
): boolean {
  if (isMainThread) throw new WgError('WG_ERR_RING_MAIN_THREAD_WAIT', { detail: 'waitUntil' });
  if (ready()) return true;
  const deadline = performance.now() + timeoutMs;
  Atomics.add(header, waiters, 1);
  try {
    for (;;) {
      // Read the cursor before testing readiness: if it moves in between, wait() returns at once.
      const seen = Atomics.load(header, cursor);
      if (ready()) return true;
      const remaining = deadline - performance.now();
      if (remaining <= 0) return false;
      Atomics.wait(header, cursor, seen, remaining);
    }
  } finally {
    Atomics.sub(header, waiters, 1);
  }
}

/**
 * The same as `waitUntil` without blocking the thread: for the main thread (and any thread that has
 * other work on its event loop). Resolves with whether `ready()` became true before the timeout.
 */
export async function waitUntilAsync(
  header: Int32Array,
  waiters: number,
  cursor: number,
  ready: () => boolean,
  timeoutMs: number,
): Promise<boolean> {
  if (ready()) return true;
  const deadline = performance.now() + timeoutMs;
  Atomics.add(header, waiters, 1);
  try {
    for (;;) {
      const seen = Atomics.load(header, cursor);
      if (ready()) return true;
      const remaining = deadline - performance.now();
      if (remaining <= 0) return false;
      const result = waitAsync(header, cursor, seen, remaining);
      if (result.async) await result.value;
    }
  } finally {
    Atomics.sub(header, waiters, 1);
  }
}

/** Called by a side right after it stored `cursor`: wakes the other side if it sleeps on it. */
export function wakeIfWaiting(header: Int32Array, waiters: number, cursor: number): void {
  if (Atomics.load(header, waiters) !== 0) Atomics.notify(header, cursor);
}
