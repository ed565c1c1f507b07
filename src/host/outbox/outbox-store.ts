/**
 * The outbox: where a message waits between the pipelines' egress and an uplink (MQTT, CoAP) until the
 * uplink has delivered it. This file is the contract both stores meet, the memory one
 * (`memory-outbox.ts`) and the durable one (`sqlite-outbox.ts`); `test/unit/outbox-contract.ts` is the
 * one suite run against both.
 *
 * What the contract promises:
 * - `append` assigns each message the gateway's next sequence number: one counter for the whole
 *   gateway (every uplink), increasing by one per message, never reused (not after an ack of
 *   everything, not after a restart of a durable store). A drop or an ack leaves a gap in what is
 *   pending; the numbers were still handed out without a gap, so a consumer that sees a gap knows a
 *   message is missing and the drop counters say why.
 * - A message is *accepted* when `append` has returned: the durable store has committed its batch by
 *   then. A batch is one transaction (all or nothing, at most one sync), never one sync per message.
 * - `pending` serves an uplink's messages oldest first (by seq), which is the order of `append`.
 * - A message leaves the outbox only by `ack` (the uplink delivered it), `deadLetter` (the uplink refused
 *   it for good), or a cap (dropped oldest first, counted).
 * - Caps hold per uplink, on bytes and on age; when a cap is exceeded the oldest messages go first, and
 *   every one is counted. The counters are cumulative for the life of the store (the durable store
 *   keeps them across restarts), so an uplink publishes the running total and a reader takes
 *   differences; a report lost on the way loses no count.
 * - Every method is synchronous: a store never holds a message in a promise, and a caller's batch is
 *   accepted or refused (a `WgError`) before the call returns.
 */
import type { WgError } from '../errors.js';

export type OutboxQos = 0 | 1;

/** A message as the pipeline hands it to the outbox. */
export interface NewMessage {
  /** Name of the uplink (from the gateway file) that is to deliver it. */
  readonly uplink: string;
  readonly topic: string;
  /** Copied by the store: the caller may reuse the buffer (a ring's view) once `append` returns. */
  readonly payload: Uint8Array;
  readonly qos: OutboxQos;
  readonly retain: boolean;
  /** Wall time the message was made (ms since the epoch), kept as given: it travels with the message. */
  readonly createdAtMs: number;
  /**
   * Set only by a store in front of this one that numbered the message earlier with this store's
   * `assign` (deferred-outbox.ts): `append` keeps it instead of handing out a new one. Such seqs come
   * in increasing order, above every seq the store holds.
   */
  readonly seq?: number;
}

/** A message the outbox accepted. */
export interface StoredMessage extends NewMessage {
  /** The gateway's sequence number, from 1. */
  readonly seq: number;
}

/** A message an uplink refused for good, kept for an operator and never retried. */
export interface DeadLetter extends StoredMessage {
  readonly reason: string;
  /** Wall time it was dead-lettered. */
  readonly deadAtMs: number;
}

/** The limits of one uplink's share of the outbox. */
export interface OutboxCaps {
  /** Most bytes (see `messageBytes`) pending at once; past it the oldest are dropped. */
  readonly maxBytes: number;
  /** Oldest a pending message may be, by its `createdAtMs` against the store's wall clock. */
  readonly maxAgeMs: number;
  /**
   * Most dead letters kept for listing; past it the oldest kept one is forgotten (it stays counted in
   * `deadLetters`). Dead letters sit on the same disk as the backlog, so they need a bound too.
   */
  readonly maxDeadLetters: number;
}

/** Caps for every uplink: `uplinks` by name, `default` for the rest. */
export interface OutboxCapsTable {
  readonly default: OutboxCaps;
  readonly uplinks?: Readonly<Record<string, OutboxCaps>>;
}

export function capsOf(table: OutboxCapsTable, uplink: string): OutboxCaps {
  return table.uplinks?.[uplink] ?? table.default;
}

/** What an uplink's share of the outbox looks like now. Counters are cumulative (see the header). */
export interface OutboxStats {
  readonly uplink: string;
  /** Messages pending (not acknowledged, not dropped, not dead-lettered). */
  readonly messages: number;
  /** Their size, as `messageBytes` counts it. */
  readonly bytes: number;
  /** How long ago (wall time) the oldest pending message was made; 0 when nothing is pending. */
  readonly oldestAgeMs: number;
  /** Messages dropped, oldest first, because the uplink's bytes were over `maxBytes`. */
  readonly droppedByBytes: number;
  /** Messages dropped because they were older than `maxAgeMs`. */
  readonly droppedByAge: number;
  /** Messages dead-lettered, ever. */
  readonly deadLetters: number;
  /** Dead letters still kept for listing (at most `maxDeadLetters`). */
  readonly deadLettersKept: number;
}

/**
 * Called by `append` at most once, when the batch is written and before it is synced, with the
 * messages it holds (not those dropped at once for their size), in seq order. What it is for: the
 * uplinks send them while the sync runs, so a message's way out does not wait for the disk. It must
 * not call the store. Should the append fail after it, no seq it saw is handed out again (those
 * messages may have gone out; the append's failure or a fallback store decides what becomes of them).
 * The messages it is shown own their payloads (copies of the caller's, which may be views of a ring
 * the pipeline reuses), so a sender may keep them until they are delivered.
 */
export type BeforeSync = (stored: readonly StoredMessage[]) => void;

export interface OutboxStore {
  /**
   * Accepts a batch, in order: one transaction, at most one sync to disk. Returns the messages with
   * their seq, in the order given. Caps are applied in the same transaction, so a message of the
   * batch may already have been dropped (counted) when this returns. Throws a `WgError` (and accepts
   * nothing of the batch) when the store cannot take it: `WG_ERR_OUTBOX_DISK_FULL`,
   * `WG_ERR_OUTBOX_READ_ONLY`, `WG_ERR_OUTBOX_STORAGE`, `WG_ERR_OUTBOX_CORRUPT`, `WG_ERR_OUTBOX_CLOSED`.
   */
  append(messages: readonly NewMessage[], beforeSync?: BeforeSync): StoredMessage[];
  /**
   * Up to `limit` of the uplink's pending messages with a seq above `afterSeq` (default 0), oldest
   * first. An uplink with messages in flight passes the last seq it sent, so it gets what comes next.
   */
  pending(uplink: string, limit: number, afterSeq?: number): StoredMessage[];
  /** Removes the uplink's messages with these seqs (delivered); returns how many were pending. */
  ack(uplink: string, seqs: readonly number[]): number;
  /** Moves one pending message to the dead letters with a reason; false when it is not pending. */
  deadLetter(uplink: string, seq: number, reason: string): boolean;
  /** The dead letters kept for the uplink, oldest first, at most `limit`. */
  deadLetters(uplink: string, limit: number): DeadLetter[];
  stats(uplink: string): OutboxStats;
  /** The highest seq this store has handed out (0 before the first). */
  lastSeq(): number;
  /**
   * Hands out `count` seqs (returns the first) without storing anything, for messages appended later
   * with them (`NewMessage.seq`), or never, when they were delivered before: a seq handed out here is
   * never handed out again, as if `append` had done it (the durable store reserves it on disk first).
   */
  assign(count: number): number;
  /**
   * Makes the store's next seq greater than `seq` (never lowers it). A composed store that took
   * messages elsewhere (the memory fallback while the disk was full) uses it so that numbers are
   * never handed out twice.
   */
  continueAfter(seq: number): void;
  close(): void;
}

/** What a store reports without failing a call: a file moved aside, a fallback taken or left. */
export type OutboxProblemListener = (problem: WgError) => void;

/**
 * A message's size as the caps count it: its payload and its topic (UTF-8). Per-message bookkeeping is
 * left out on purpose, so that a figure means the same in both stores; what the memory store costs
 * per message on top is printed by bench/outbox.bench.ts.
 */
export function messageBytes(topic: string, payload: Uint8Array): number {
  return Buffer.byteLength(topic) + payload.byteLength;
}
