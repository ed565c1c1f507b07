/**
 * Write-behind in front of the durable outbox: a message is numbered and handed to its uplink as it
 * comes, and written to disk only if it is still undelivered `delayMs` after it came (or when the
 * tail grows to `maxMessages`, or at close, or before a dead letter). With the broker up, a QoS 1 acknowledgement takes a few
 * milliseconds, so nearly every message is delivered before its commit and never written: no SQLite
 * row, no sync, no wear on the SD card for the normal case, and the disk takes only what an outage or
 * a slow link leaves waiting. Committing every turn instead cost one synced transaction per poll, and
 * more CPU per point than the whole plugin chain (bench/harness-load.bench.ts, bench/outbox.bench.ts).
 *
 * What it costs, and why it is acceptable: a message is accepted (survives kill -9 and a power cut)
 * once it is delivered or committed, whichever comes first, so a crash loses what was not delivered
 * in the last `delayMs` (50 ms by default). Readings are in memory for that long on their way in
 * anyway (the poll, the rings, the chain); the delay is a bound, not a new kind of loss, and
 * `outbox_commit_delay: 0s` commits every turn as before (docs/delivery.md).
 *
 * Seqs are handed out by the store behind (`assign`), which reserves them on disk first and marks
 * that it did, so a crash never lets a number that went out on the wire be handed out again.
 * The tail is kept in seq order above everything the store holds: `pending` serves the store's
 * messages, then the tail's; an ack of a tail message removes it from memory only.
 */
import { systemClock, type Clock } from '../../hal/clock.js';
import type { WgError } from '../errors.js';
import { messageBytes, type BeforeSync, type DeadLetter, type NewMessage, type OutboxStats, type OutboxStore, type StoredMessage } from './outbox-store.js';

export interface DeferredOutboxOptions {
  readonly store: OutboxStore & { readonly durable?: boolean; readonly fallback?: WgError };
  /** The longest an undelivered message waits for its commit. */
  readonly delayMs: number;
  /** A tail this long is committed at once; default 4096. */
  readonly maxMessages?: number;
  /**
   * Whether the store would keep the message at all (its size within the uplink's bytes cap). A batch
   * with one it would not is appended at once, for the store to drop and count it.
   */
  readonly keeps?: (message: NewMessage) => boolean;
  readonly clock?: Clock;
}

const DEFAULT_MAX_MESSAGES = 4096;

/**
 * Told after each commit: `wasDurable` is the store's `durable` before it (the commit may have taken
 * it from memory back to disk); `refused` when it refused the batch (not a storage failure, which the
 * fallback store takes to memory): those messages are lost.
 */
export type CommitListener = (commit: { readonly wasDurable: boolean; readonly refused?: { readonly error: unknown; readonly messages: number } }) => void;

export class DeferredOutbox implements OutboxStore {
  readonly #o: DeferredOutboxOptions;
  readonly #store: DeferredOutboxOptions['store'];
  readonly #clock: Clock;
  /** Numbered, not written, not delivered: in seq order (a Map keeps insertion order). */
  readonly #tail = new Map<number, StoredMessage>();
  /** Per uplink: messages delivered before their commit, never written (this run). */
  readonly #unwritten = new Map<string, number>();
  readonly #commitListeners = new Set<CommitListener>();
  /**
   * Per appended batch, in seq order: its last seq and when it is due for its commit (monotonic ms).
   * The timer writes only what is due: a message appended a moment before it fires would otherwise be
   * written (and synced, blocking the main thread for the disk) a few milliseconds before its PUBACK.
   */
  #due: Array<{ readonly upTo: number; readonly atMs: number }> = [];
  #timer?: NodeJS.Timeout;

  constructor(options: DeferredOutboxOptions) {
    this.#o = options;
    this.#store = options.store;
    this.#clock = options.clock ?? systemClock;
  }

  get durable(): boolean {
    return this.#store.durable ?? true;
  }

  get fallback(): WgError | undefined {
    return this.#store.fallback;
  }

  /** Messages of the uplink delivered before their commit and so never written, this run. */
  unwritten(uplink: string): number {
    return this.#unwritten.get(uplink) ?? 0;
  }

  onCommit(listener: CommitListener): void {
    this.#commitListeners.add(listener);
  }

  append(messages: readonly NewMessage[], beforeSync?: BeforeSync): StoredMessage[] {
    if (messages.length === 0) return [];
    const keeps = this.#o.keeps;
    if (keeps && !messages.every(keeps)) {
      // Rare (a message over its cap): in order behind the tail, through the store as it is.
      this.commit();
      return this.#store.append(messages, beforeSync);
    }
    const first = this.#store.assign(messages.length);
    const stored = messages.map((m, i): StoredMessage => ({
      // A copy: the payload may be a view of a ring the pipeline reuses once this returns. Buffer.from
      // copies a small payload into Node's shared 8 KiB pool, where slice() made an ArrayBuffer each:
      // fine for a message held milliseconds, until its PUBACK.
      seq: first + i, uplink: m.uplink, topic: m.topic, payload: Buffer.from(m.payload), qos: m.qos, retain: m.retain, createdAtMs: m.createdAtMs,
    }));
    for (const m of stored) this.#tail.set(m.seq, m);
    this.#due.push({ upTo: first + messages.length - 1, atMs: this.#clock.monotonicMs() + this.#o.delayMs });
    beforeSync?.(stored);
    if (this.#tail.size >= (this.#o.maxMessages ?? DEFAULT_MAX_MESSAGES)) this.commit();
    else this.#arm(this.#o.delayMs);
    return stored;
  }

  /** Writes what is still undelivered in the tail, as one batch. */
  commit(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#due = [];
    if (this.#tail.size === 0) return;
    const batch = [...this.#tail.values()];
    this.#tail.clear();
    this.#write(batch);
  }

  // Unref'd: the commit is owed to a running gateway, which close() settles; it keeps no process alive.
  #arm(inMs: number): void {
    this.#timer ??= setTimeout(() => this.#commitDue(), Math.max(0, inMs)).unref();
  }

  /** The timer: writes what waited its whole delay undelivered, and waits for the rest. */
  #commitDue(): void {
    this.#timer = undefined;
    // While the disk is away the store behind is memory: a commit costs no sync there, and each one
    // is the store's chance to try the disk again (fallback-outbox.ts), so the whole tail goes.
    if (!this.durable) {
      this.commit();
      return;
    }
    const now = this.#clock.monotonicMs();
    let dueUpTo = 0;
    let kept = 0;
    while (kept < this.#due.length && this.#due[kept]!.atMs <= now) dueUpTo = this.#due[kept++]!.upTo;
    this.#due = this.#due.slice(kept);
    const batch: StoredMessage[] = [];
    for (const [seq, m] of this.#tail) {
      if (seq > dueUpTo) break; // the tail is in seq order
      batch.push(m);
    }
    for (const m of batch) this.#tail.delete(m.seq);
    if (this.#tail.size === 0) this.#due = [];
    if (this.#due.length > 0) this.#arm(this.#due[0]!.atMs - now);
    if (batch.length > 0) this.#write(batch);
  }

  #write(batch: StoredMessage[]): void {
    const wasDurable = this.durable;
    let refused: { error: unknown; messages: number } | undefined;
    try {
      this.#store.append(batch);
    } catch (error) {
      refused = { error, messages: batch.length };
    }
    for (const listener of this.#commitListeners) listener(refused ? { wasDurable, refused } : { wasDurable });
  }

  pending(uplink: string, limit: number, afterSeq = 0): StoredMessage[] {
    const out = this.#store.pending(uplink, limit, afterSeq);
    if (out.length >= limit) return out;
    for (const m of this.#tail.values()) {
      if (m.uplink !== uplink || m.seq <= afterSeq) continue;
      out.push(m);
      if (out.length >= limit) break;
    }
    return out;
  }

  ack(uplink: string, seqs: readonly number[]): number {
    let removed = 0;
    const written: number[] = [];
    for (const seq of seqs) {
      if (this.#tail.get(seq)?.uplink === uplink) {
        this.#tail.delete(seq);
        removed++;
      } else {
        written.push(seq);
      }
    }
    if (removed > 0) this.#unwritten.set(uplink, this.unwritten(uplink) + removed);
    if (this.#tail.size === 0 && this.#timer && this.durable) {
      // Everything delivered: nothing is owed to the disk until the next append. (Not while the disk
      // is away: the timer's commits are the fallback store's chances to try it again.)
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#due = [];
    }
    return removed + (written.length > 0 ? this.#store.ack(uplink, written) : 0);
  }

  deadLetter(uplink: string, seq: number, reason: string): boolean {
    // Dead letters are the store's: the message is written first, with the rest of the tail.
    if (this.#tail.has(seq)) this.commit();
    return this.#store.deadLetter(uplink, seq, reason);
  }

  deadLetters(uplink: string, limit: number): DeadLetter[] {
    return this.#store.deadLetters(uplink, limit);
  }

  stats(uplink: string): OutboxStats {
    const stats = this.#store.stats(uplink);
    let messages = 0;
    let bytes = 0;
    let oldest = Infinity;
    for (const m of this.#tail.values()) {
      if (m.uplink !== uplink) continue;
      messages++;
      bytes += messageBytes(m.topic, m.payload);
      oldest = Math.min(oldest, m.createdAtMs);
    }
    if (messages === 0) return stats;
    const tailAge = Math.max(0, this.#clock.wallMs() - oldest);
    return { ...stats, messages: stats.messages + messages, bytes: stats.bytes + bytes, oldestAgeMs: Math.max(stats.oldestAgeMs, tailAge) };
  }

  lastSeq(): number {
    return this.#store.lastSeq();
  }

  assign(count: number): number {
    return this.#store.assign(count);
  }

  continueAfter(seq: number): void {
    this.#store.continueAfter(seq);
  }

  close(): void {
    this.commit();
    this.#store.close();
  }
}
