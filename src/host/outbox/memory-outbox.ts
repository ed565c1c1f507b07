/**
 * The outbox in memory: the same contract as the durable store (outbox-store.ts), gone with the
 * process. Used where no data directory is configured, and as the bounded fallback while the durable
 * store cannot be written (fallback-outbox.ts).
 *
 * Each uplink's messages sit in a `Map` keyed by seq. A Map iterates in insertion order, and seqs are
 * inserted increasing, so its first entry is the oldest: dropping the oldest, acking any seq and
 * dead-lettering one are O(1), and `pending` walks from the head past the seqs in flight (an uplink's
 * window, not its backlog).
 */
import { systemClock, type Clock } from '../../hal/clock.js';
import { WgError } from '../errors.js';
import {
  capsOf,
  messageBytes,
  type BeforeSync,
  type DeadLetter,
  type NewMessage,
  type OutboxCapsTable,
  type OutboxStats,
  type OutboxStore,
  type StoredMessage,
} from './outbox-store.js';

export interface MemoryOutboxOptions {
  readonly caps: OutboxCapsTable;
  /** Wall time for the age cap; a test hands in a clock it steps. */
  readonly clock?: Clock;
  /** The last seq already handed out elsewhere: this store's first is the one after it. */
  readonly lastSeq?: number;
}

interface Entry {
  readonly message: StoredMessage;
  readonly bytes: number;
}

interface UplinkShare {
  readonly uplink: string;
  readonly messages: Map<number, Entry>;
  bytes: number;
  droppedByBytes: number;
  droppedByAge: number;
  deadLetters: number;
  readonly kept: DeadLetter[];
}

export class MemoryOutbox implements OutboxStore {
  readonly #caps: OutboxCapsTable;
  readonly #clock: Clock;
  readonly #shares = new Map<string, UplinkShare>();
  #lastSeq: number;
  #closed = false;

  constructor(options: MemoryOutboxOptions) {
    this.#caps = options.caps;
    this.#clock = options.clock ?? systemClock;
    this.#lastSeq = options.lastSeq ?? 0;
  }

  append(messages: readonly NewMessage[], beforeSync?: BeforeSync): StoredMessage[] {
    this.#open();
    const stored: StoredMessage[] = [];
    const kept: StoredMessage[] = [];
    const touched = new Set<UplinkShare>();
    for (const m of messages) {
      const share = this.#share(m.uplink, true)!;
      const bytes = messageBytes(m.topic, m.payload);
      if (bytes > capsOf(this.#caps, m.uplink).maxBytes) {
        // Can never fit: dropped alone (counted), rather than evicting the whole backlog first.
        share.droppedByBytes++;
        stored.push({ ...m, seq: this.#nextSeq(m) });
        continue;
      }
      // slice(): the caller's payload may be a view into a ring that is reused once we return.
      const message: StoredMessage = { seq: this.#nextSeq(m), uplink: m.uplink, topic: m.topic, payload: m.payload.slice(), qos: m.qos, retain: m.retain, createdAtMs: m.createdAtMs };
      share.messages.set(message.seq, { message, bytes });
      share.bytes += bytes;
      touched.add(share);
      stored.push(message);
      kept.push(message);
    }
    for (const share of touched) this.#applyCaps(share);
    beforeSync?.(kept);
    return stored;
  }

  pending(uplink: string, limit: number, afterSeq = 0): StoredMessage[] {
    this.#open();
    const share = this.#share(uplink, false);
    if (share === undefined) return [];
    this.#dropExpired(share);
    const out: StoredMessage[] = [];
    for (const { message } of share.messages.values()) {
      if (out.length >= limit) break;
      if (message.seq > afterSeq) out.push(message);
    }
    return out;
  }

  ack(uplink: string, seqs: readonly number[]): number {
    this.#open();
    const share = this.#share(uplink, false);
    if (share === undefined) return 0;
    let removed = 0;
    for (const seq of seqs) {
      const entry = share.messages.get(seq);
      if (entry === undefined) continue;
      share.messages.delete(seq);
      share.bytes -= entry.bytes;
      removed++;
    }
    return removed;
  }

  deadLetter(uplink: string, seq: number, reason: string): boolean {
    this.#open();
    const share = this.#share(uplink, false);
    const entry = share?.messages.get(seq);
    if (share === undefined || entry === undefined) return false;
    share.messages.delete(seq);
    share.bytes -= entry.bytes;
    share.deadLetters++;
    share.kept.push({ ...entry.message, reason, deadAtMs: this.#clock.wallMs() });
    const over = share.kept.length - capsOf(this.#caps, uplink).maxDeadLetters;
    if (over > 0) share.kept.splice(0, over);
    return true;
  }

  deadLetters(uplink: string, limit: number): DeadLetter[] {
    this.#open();
    return this.#share(uplink, false)?.kept.slice(0, limit) ?? [];
  }

  stats(uplink: string): OutboxStats {
    this.#open();
    const share = this.#share(uplink, false);
    if (share === undefined) return { uplink, messages: 0, bytes: 0, oldestAgeMs: 0, droppedByBytes: 0, droppedByAge: 0, deadLetters: 0, deadLettersKept: 0 };
    this.#dropExpired(share);
    const oldest = share.messages.values().next();
    return {
      uplink,
      messages: share.messages.size,
      bytes: share.bytes,
      oldestAgeMs: oldest.done ? 0 : Math.max(0, this.#clock.wallMs() - oldest.value.message.createdAtMs),
      droppedByBytes: share.droppedByBytes,
      droppedByAge: share.droppedByAge,
      deadLetters: share.deadLetters,
      deadLettersKept: share.kept.length,
    };
  }

  lastSeq(): number {
    return this.#lastSeq;
  }

  continueAfter(seq: number): void {
    this.#lastSeq = Math.max(this.#lastSeq, seq);
  }

  assign(count: number): number {
    this.#open();
    const first = this.#lastSeq + 1;
    this.#lastSeq += count;
    return first;
  }

  /** The message's seq: the one assigned to it earlier (`assign`), or the next. */
  #nextSeq(m: NewMessage): number {
    const seq = m.seq ?? this.#lastSeq + 1;
    if (seq > this.#lastSeq) this.#lastSeq = seq;
    return seq;
  }

  close(): void {
    this.#closed = true;
    this.#shares.clear();
  }

  #open(): void {
    if (this.#closed) throw new WgError('WG_ERR_OUTBOX_CLOSED', { detail: 'in memory' });
  }

  #share(uplink: string, create: boolean): UplinkShare | undefined {
    let share = this.#shares.get(uplink);
    if (share === undefined && create) {
      share = { uplink, messages: new Map(), bytes: 0, droppedByBytes: 0, droppedByAge: 0, deadLetters: 0, kept: [] };
      this.#shares.set(uplink, share);
    }
    return share;
  }

  #applyCaps(share: UplinkShare): void {
    this.#dropExpired(share);
    const { maxBytes } = capsOf(this.#caps, share.uplink);
    for (const [seq, entry] of share.messages) {
      if (share.bytes <= maxBytes) break;
      share.messages.delete(seq);
      share.bytes -= entry.bytes;
      share.droppedByBytes++;
    }
  }

  /**
   * Drops from the head while the head is older than the age cap. The head is the lowest seq; a
   * message stamped earlier than one appended before it (a clock step back) waits until it is at the
   * head, so the age cap never reorders what is pending.
   */
  #dropExpired(share: UplinkShare): void {
    if (share.messages.size === 0) return;
    const oldestKept = this.#clock.wallMs() - capsOf(this.#caps, share.uplink).maxAgeMs;
    for (const [seq, entry] of share.messages) {
      if (entry.message.createdAtMs >= oldestKept) break;
      share.messages.delete(seq);
      share.bytes -= entry.bytes;
      share.droppedByAge++;
    }
  }
}
