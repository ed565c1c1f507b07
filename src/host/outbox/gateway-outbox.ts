/**
 * The gateway's outbox in use: the pipelines hand it their messages, it appends what came in during
 * one turn of the event loop as one batch, and one UplinkSender per uplink moves them on to its sink.
 * The store written behind (deferred-outbox.ts) commits what is still undelivered after the commit
 * delay; with `outbox_commit_delay: 0s` each batch is one transaction and one sync (group commit). A
 * message survives a crash once it is delivered or committed.
 *
 * Polling does not wait for the uplink any more: an uplink that is away costs disk, within its caps
 * (the oldest dropped and counted), not readings.
 */
import { WgError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Sink } from '../sinks/sink.js';
import type { NewMessage, OutboxQos, OutboxStats, OutboxStore, StoredMessage } from './outbox-store.js';
import { UplinkSender, type ReplayPacing, type UplinkSenderCounters } from './uplink-sender.js';
import { DropReport } from './drop-report.js';
import { LatencyHistogram, type LatencySnapshot } from '../metrics/latency-histogram.js';
import type { CommitListener } from './deferred-outbox.js';

/** What the outbox needs of each uplink's settings (config.md, `outbox:`). */
export interface UplinkOutboxSettings {
  readonly replay: ReplayPacing;
  /** Where the drop report goes when the link comes up; null: none. */
  readonly reportTopic: string | null;
}

export interface GatewayOutboxOptions {
  /**
   * `durable`, where the store has it (fallback-outbox.ts), says whether new messages reach the disk
   * now, and `fallback` the WG_ERR_OUTBOX_MEMORY_FALLBACK of the episode under way.
   */
  store: GatewayStore;
  sinks: ReadonlyMap<string, Sink>;
  logger: Logger;
  gatewayId: string;
  /** Per uplink; an uplink not named gets in_order replay and no drop report. */
  uplinks?: ReadonlyMap<string, UplinkOutboxSettings>;
  /** Messages handed to a sink and not yet delivered, per uplink. */
  window?: number;
  retryMs?: number;
}

/**
 * The store as the gateway uses it: `durable` and `fallback` where it has them (fallback-outbox.ts);
 * `onCommit` and `unwritten` where it commits behind (deferred-outbox.ts).
 */
export type GatewayStore = OutboxStore & {
  readonly durable?: boolean;
  readonly fallback?: WgError;
  onCommit?(listener: CommitListener): void;
  unwritten?(uplink: string): number;
};

export interface OutboxStatus extends OutboxStats, UplinkSenderCounters {
  /** Messages the store refused (a batch that could not be appended, memory fallback full). */
  refused: number;
  /** Drop reports handed to the outbox this run. */
  reports: number;
  /** False while the disk cannot be written and new messages are held in memory (WG_ERR_OUTBOX_MEMORY_FALLBACK). */
  durable: boolean;
  /** While `durable` is false: WG_ERR_OUTBOX_MEMORY_FALLBACK, with the durable store's error code as `cause`. */
  storageProblem?: { code: string; message: string; cause?: string };
  /** From a message's making to its delivery, this run. */
  deliveryLatency: LatencySnapshot;
  /** Delivered before their commit and so never written to disk, this run (`outbox_commit_delay`). */
  unwritten: number;
}

const NO_SENDS: UplinkSenderCounters = { sent: 0, delivered: 0, deadLettered: 0, failed: 0 };

const DEFAULT_WINDOW = 256;
const DEFAULT_RETRY_MS = 1_000;

export class GatewayOutbox {
  readonly #store: GatewayStore;
  readonly #log: Logger;
  readonly #senders = new Map<string, UplinkSender>();
  readonly #sinks: ReadonlyMap<string, Sink>;
  readonly #reports = new Map<string, DropReport>();
  #batch: NewMessage[] = [];
  #flush?: NodeJS.Immediate;
  #refused = 0;
  #closed = false;
  #final?: Map<string, OutboxStatus>;

  constructor(options: GatewayOutboxOptions) {
    this.#store = options.store;
    this.#log = options.logger;
    this.#sinks = options.sinks;
    this.#store.onCommit?.((commit) => {
      if (commit.refused) this.#refuse(commit.refused.error, commit.refused.messages);
      this.#rewindIfBack(commit.wasDurable);
    });
    for (const [uplink, sink] of options.sinks) {
      const settings = options.uplinks?.get(uplink);
      this.#senders.set(uplink, new UplinkSender({
        uplink, store: options.store, sink, window: options.window ?? DEFAULT_WINDOW, retryMs: options.retryMs ?? DEFAULT_RETRY_MS, logger: options.logger,
        ...(settings ? { replay: settings.replay } : {}),
      }));
      if (settings?.reportTopic) {
        this.#reports.set(uplink, new DropReport({
          gatewayId: options.gatewayId, uplink, topic: settings.reportTopic, sink,
          stats: () => this.#store.stats(uplink),
          enqueue: (topic, payload) => this.enqueue(uplink, topic, payload, 1, false),
        }));
      }
    }
  }

  /** Starts the senders (what a previous run left in the outbox goes out first) and the drop reports. */
  start(): void {
    for (const sender of this.#senders.values()) sender.start();
    for (const report of this.#reports.values()) report.start();
  }

  /** Takes one message of a pipeline; it is appended with the others of this turn. */
  enqueue(uplink: string, topic: string, payload: Uint8Array, qos: OutboxQos, retain: boolean): void {
    if (this.#closed) {
      this.#refused++;
      return;
    }
    // The payload may be a view the caller reuses; the store copies it at append, within this turn.
    this.#batch.push({ uplink, topic, payload, qos, retain, createdAtMs: Date.now() });
    this.#flush ??= setImmediate(() => this.flush());
  }

  /** Messages taken and not yet appended (at most one turn's worth). */
  get unflushed(): number {
    return this.#batch.length;
  }

  /** Appends what was taken as one batch and tells the senders. */
  flush(): void {
    if (this.#flush) clearImmediate(this.#flush);
    this.#flush = undefined;
    if (this.#batch.length === 0) return;
    const batch = this.#batch;
    this.#batch = [];
    const wasDurable = this.#store.durable ?? true;
    const offered = new Set<string>();
    let shown: readonly StoredMessage[] | undefined;
    let stored: StoredMessage[];
    try {
      stored = this.#store.append(batch, (written) => {
        shown = written;
        this.#offer(written, offered);
      });
    } catch (err) {
      this.#refuse(err, batch.length);
      if (shown !== undefined) for (const sender of this.#senders.values()) sender.wake();
      return;
    }
    const first = shown?.[0]?.seq;
    if (first !== undefined && !stored.some((m) => m.seq === first)) {
      // Shown by the durable store, then taken by memory under other seqs (fallback-outbox.ts).
      for (const sender of this.#senders.values()) sender.wake();
      return;
    }
    if (this.#rewindIfBack(wasDurable)) return;
    const uplinks = new Set(batch.map((m) => m.uplink));
    for (const uplink of uplinks) if (!offered.has(uplink)) this.#senders.get(uplink)?.wake();
  }

  #refuse(err: unknown, messages: number): void {
    this.#refused += messages;
    const code = err instanceof WgError ? err.code : undefined;
    this.#log.error({ event: 'outbox.refused', err, code, messages }, 'the outbox refused a batch of messages: they are lost');
  }

  /**
   * True when the disk is back since `wasDurable` was read (before an append), and with it what it held before (a backlog it
   * could not be read for, from below every sender's position): every uplink reads its outbox again
   * from the oldest.
   */
  #rewindIfBack(wasDurable: boolean): boolean {
    const back = !wasDurable && (this.#store.durable ?? true);
    if (back) for (const sender of this.#senders.values()) sender.rewind();
    return back;
  }

  /**
   * Offers each uplink its share of a batch written and not yet synced; `offered` collects the
   * uplinks whose sender took all of it. Runs inside the store's transaction: nothing here may
   * throw into it or call the store.
   */
  #offer(written: readonly StoredMessage[], offered: Set<string>): void {
    const byUplink = new Map<string, StoredMessage[]>();
    for (const m of written) {
      let share = byUplink.get(m.uplink);
      if (share === undefined) byUplink.set(m.uplink, (share = []));
      share.push(m);
    }
    for (const [uplink, share] of byUplink) {
      try {
        if (this.#senders.get(uplink)?.offer(share)) offered.add(uplink);
        // On the wire before the sync blocks this turn, not after it.
        this.#sinks.get(uplink)?.flushWrites?.();
      } catch {
        // Not taken: the wake after the append reads it from the store.
      }
    }
  }

  /**
   * Stop, first half: appends what is left and lets the senders see what they handed over delivered
   * (up to `timeoutMs`). What is not delivered by then stays in the outbox for the next start.
   */
  async drain(timeoutMs: number): Promise<void> {
    this.flush();
    this.#closed = true;
    for (const report of this.#reports.values()) report.stop();
    await Promise.all([...this.#senders.values()].map((s) => s.stop(timeoutMs)));
  }

  /** Stop, second half, once the sinks are closed: closes the store. */
  close(): void {
    if (this.#final) return;
    this.#closed = true;
    // A status asked after the stop (the last log line, a test) shows the outbox as it was left.
    this.#final = new Map([...this.#senders.keys()].map((uplink) => [uplink, this.status(uplink)]));
    this.#store.close();
  }

  status(uplink: string): OutboxStatus {
    const left = this.#final?.get(uplink);
    if (left) return left;
    const sender = this.#senders.get(uplink);
    const problem = this.#store.fallback;
    const cause = problem?.cause instanceof WgError ? problem.cause.code : undefined;
    return { ...this.#store.stats(uplink), ...(sender?.counters ?? NO_SENDS), refused: this.#refused, reports: this.#reports.get(uplink)?.sent ?? 0, durable: this.#store.durable ?? true,
      deliveryLatency: (sender?.deliveryLatency ?? new LatencyHistogram()).snapshot(),
      unwritten: this.#store.unwritten?.(uplink) ?? 0,
      ...(problem && { storageProblem: { code: problem.code, message: problem.message, ...(cause && { cause }) } }),
    };
  }
}
