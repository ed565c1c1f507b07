/**
 * The outbox the gateway runs on: durable while it can be, memory with a bound when it cannot. The
 * issue asks that a full disk or a read-only file system be reported and the gateway go on from
 * memory; this composes the two stores (outbox-store.ts) so that neither has to know about the other,
 * and the pipelines and uplinks see one store throughout.
 *
 * - A failure of the durable store that is the storage's (WG_ERR_OUTBOX_DISK_FULL, _READ_ONLY,
 *   _STORAGE), at open or at an append, opens an episode: said once (WG_ERR_OUTBOX_MEMORY_FALLBACK,
 *   with the durable store's error as its cause), and new batches go to memory within the memory
 *   caps. The batch that failed is taken by memory, so the caller loses nothing to the switch.
 * - During an episode the durable store is tried again at most every `retryMs` (monotonic clock): a
 *   batch is appended to it, or it is reopened if it never opened. The first success ends the episode
 *   (WG_ERR_OUTBOX_DURABLE_AGAIN, with how many messages memory took).
 * - What is pending is the union of both stores, served by seq. Seqs stay one sequence: memory
 *   continues after the durable store's last seq, and the durable store after memory's when it
 *   returns (continueAfter); when the durable store never opened, memory continues after its
 *   reservation (`reservedSeq`). What memory holds is lost by a crash, and so is the record of the
 *   seqs it handed out if the durable store could not be written since: the one place a number may
 *   be handed out twice (docs/errors.md, WG_ERR_OUTBOX_MEMORY_FALLBACK).
 */
import { systemClock, type Clock } from '../../hal/clock.js';
import { isWgError, WgError } from '../errors.js';
import { MemoryOutbox } from './memory-outbox.js';
import type { BeforeSync, DeadLetter, NewMessage, OutboxCapsTable, OutboxProblemListener, OutboxStats, OutboxStore, StoredMessage } from './outbox-store.js';

export interface FallbackOutboxOptions {
  /** Opens the durable store (a `SqliteOutbox`); called at start, and again during an episode if it failed. */
  readonly openDurable: () => OutboxStore;
  /**
   * The highest seq the durable store may have handed out, readable when the store itself is not
   * (`readReservedSeq` of seq-reservation.ts): memory continues after it while the durable store
   * never opened, so the numbers of an unreadable backlog are not handed out again.
   */
  readonly reservedSeq?: () => number;
  /** The bound on memory while the durable store is away. */
  readonly memoryCaps: OutboxCapsTable;
  readonly clock?: Clock;
  /** How often (ms, monotonic) an episode tries the durable store again; default 30 s. */
  readonly retryMs?: number;
  readonly onProblem?: OutboxProblemListener;
}

const DEFAULT_RETRY_MS = 30_000;

/** The durable store's failures that memory can stand in for; anything else is a bug to surface. */
function isStorageFailure(error: unknown): error is WgError {
  return isWgError(error, 'WG_ERR_OUTBOX_DISK_FULL') || isWgError(error, 'WG_ERR_OUTBOX_READ_ONLY') || isWgError(error, 'WG_ERR_OUTBOX_STORAGE');
}

export class FallbackOutbox implements OutboxStore {
  readonly #options: FallbackOutboxOptions;
  readonly #clock: Clock;
  readonly #memory: MemoryOutbox;
  #durable: OutboxStore | undefined;
  /** Set during an episode: when to try the durable store next, and what memory took meanwhile. */
  #episode: { retryAtMs: number; messages: number; problem: WgError } | undefined;

  constructor(options: FallbackOutboxOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#memory = new MemoryOutbox({ caps: options.memoryCaps, clock: this.#clock });
    try {
      this.#durable = options.openDurable();
    } catch (error) {
      if (!isStorageFailure(error)) throw error;
      this.#memory.continueAfter(options.reservedSeq?.() ?? 0);
      this.#fallBack(error);
    }
  }

  /** Whether new messages are durable now (false during an episode). */
  get durable(): boolean {
    return this.#episode === undefined;
  }

  /** During an episode, the WG_ERR_OUTBOX_MEMORY_FALLBACK that opened it (its cause the durable store's error); for status. */
  get fallback(): WgError | undefined {
    return this.#episode?.problem;
  }

  append(messages: readonly NewMessage[], beforeSync?: BeforeSync): StoredMessage[] {
    // Shown once: when the durable store failed after showing the batch, memory takes it under new
    // seqs (after the shown ones) without showing it again; the senders read it from there.
    let shown = false;
    const showOnce: BeforeSync | undefined = beforeSync && ((stored) => {
      shown = true;
      beforeSync(stored);
    });
    if (this.#episode === undefined || this.#clock.monotonicMs() >= this.#episode.retryAtMs) {
      const stored = this.#tryDurable(messages, showOnce);
      if (stored !== undefined) return stored;
    }
    this.#memory.continueAfter(this.#durable?.lastSeq() ?? 0);
    const stored = this.#memory.append(messages, shown ? undefined : showOnce);
    this.#episode!.messages += stored.length;
    return stored;
  }

  pending(uplink: string, limit: number, afterSeq = 0): StoredMessage[] {
    const fromMemory = this.#memory.pending(uplink, limit, afterSeq);
    const fromDisk = this.#fromDurable((d) => d.pending(uplink, limit, afterSeq)) ?? [];
    if (fromMemory.length === 0) return fromDisk;
    return [...fromDisk, ...fromMemory].sort((a, b) => a.seq - b.seq).slice(0, limit);
  }

  ack(uplink: string, seqs: readonly number[]): number {
    // An ack the durable store cannot write leaves the message pending there: it is sent again,
    // which at-least-once allows; it is never lost.
    return this.#memory.ack(uplink, seqs) + (this.#fromDurable((d) => d.ack(uplink, seqs)) ?? 0);
  }

  deadLetter(uplink: string, seq: number, reason: string): boolean {
    return this.#memory.deadLetter(uplink, seq, reason) || (this.#fromDurable((d) => d.deadLetter(uplink, seq, reason)) ?? false);
  }

  deadLetters(uplink: string, limit: number): DeadLetter[] {
    const both = [...(this.#fromDurable((d) => d.deadLetters(uplink, limit)) ?? []), ...this.#memory.deadLetters(uplink, limit)];
    return both.sort((a, b) => a.seq - b.seq).slice(0, limit);
  }

  stats(uplink: string): OutboxStats {
    const m = this.#memory.stats(uplink);
    const d = this.#fromDurable((store) => store.stats(uplink));
    if (d === undefined) return m;
    return {
      uplink,
      messages: d.messages + m.messages,
      bytes: d.bytes + m.bytes,
      oldestAgeMs: Math.max(d.oldestAgeMs, m.oldestAgeMs),
      droppedByBytes: d.droppedByBytes + m.droppedByBytes,
      droppedByAge: d.droppedByAge + m.droppedByAge,
      deadLetters: d.deadLetters + m.deadLetters,
      deadLettersKept: d.deadLettersKept + m.deadLettersKept,
    };
  }

  lastSeq(): number {
    return Math.max(this.#durable?.lastSeq() ?? 0, this.#memory.lastSeq());
  }

  assign(count: number): number {
    // Ahead of an append to whichever store takes it then: the durable store while it can reserve
    // them (its append continues after memory's seqs, and memory's after its), memory during an episode.
    if (this.#episode === undefined) {
      const first = this.#fromDurable((d) => {
        d.continueAfter(this.#memory.lastSeq());
        return d.assign(count);
      });
      if (first !== undefined) return first;
    }
    this.#memory.continueAfter(this.#durable?.lastSeq() ?? 0);
    return this.#memory.assign(count);
  }

  continueAfter(seq: number): void {
    this.#memory.continueAfter(seq);
    this.#fromDurable((d) => d.continueAfter(seq));
  }

  close(): void {
    // A stop during an episode: memory's messages are lost, but not the record of their seqs when the
    // disk can take it now (room again since the last try); else the next start would hand them out again.
    this.#fromDurable((d) => d.continueAfter(this.#memory.lastSeq()));
    this.#memory.close();
    this.#durable?.close();
  }

  /** Appends to the durable store (opening it first if it never opened); undefined when it failed. */
  #tryDurable(messages: readonly NewMessage[], beforeSync: BeforeSync | undefined): StoredMessage[] | undefined {
    try {
      this.#durable ??= this.#options.openDurable();
      this.#durable.continueAfter(this.#memory.lastSeq());
      const stored = this.#durable.append(messages, beforeSync);
      if (this.#episode !== undefined) {
        this.#options.onProblem?.(new WgError('WG_ERR_OUTBOX_DURABLE_AGAIN', { messages: this.#episode.messages }));
        this.#episode = undefined;
      }
      return stored;
    } catch (error) {
      if (!isStorageFailure(error)) throw error;
      this.#fallBack(error);
      return undefined;
    }
  }

  /** A read or an ack of the durable store; a storage failure opens an episode and reads as nothing. */
  #fromDurable<T>(call: (durable: OutboxStore) => T): T | undefined {
    if (this.#durable === undefined) return undefined;
    try {
      return call(this.#durable);
    } catch (error) {
      if (!isStorageFailure(error)) throw error;
      this.#fallBack(error);
      return undefined;
    }
  }

  /** Starts an episode (said once), or, during one, only moves the next try on. */
  #fallBack(cause: WgError): void {
    const retryAtMs = this.#clock.monotonicMs() + (this.#options.retryMs ?? DEFAULT_RETRY_MS);
    if (this.#episode !== undefined) {
      this.#episode.retryAtMs = retryAtMs;
      return;
    }
    const perUplink = Object.values(this.#options.memoryCaps.uplinks ?? {}).map((c) => c.maxBytes);
    const maxBytes = perUplink.length > 0 ? Math.max(...perUplink) : this.#options.memoryCaps.default.maxBytes;
    const problem = new WgError('WG_ERR_OUTBOX_MEMORY_FALLBACK', { maxBytes, detail: `${cause.code}: ${cause.message}` }, { cause });
    this.#episode = { retryAtMs, messages: 0, problem };
    this.#options.onProblem?.(problem);
  }
}
