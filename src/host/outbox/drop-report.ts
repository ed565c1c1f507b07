/**
 * The drop report: when an uplink's link comes up and its outbox has dropped or dead-lettered messages
 * since the last report of this run (or ever, at the first connection of a run), one message goes to
 * the report topic through the outbox itself, so it is as durable as a reading, carries a seq, and
 * reaches the consumer that has to account for the gap. The counts are the outbox's cumulative totals
 * (they survive restarts): a consumer takes differences, and a report lost on the way loses no count.
 *
 * Payload (JSON): {"report":"outbox","gateway":…,"uplink":…,"dropped_by_bytes":N,"dropped_by_age":N,
 * "dead_letters":N,"pending":N,"ts":epoch ms}.
 */
import type { Sink } from '../sinks/sink.js';
import type { OutboxStats } from './outbox-store.js';

export interface DropReportOptions {
  gatewayId: string;
  uplink: string;
  topic: string;
  sink: Sink;
  stats: () => OutboxStats;
  /** Hands the report to the outbox (QoS 1, not retained). */
  enqueue: (topic: string, payload: Uint8Array) => void;
}

export class DropReport {
  readonly #o: DropReportOptions;
  /** The totals last reported in this run, as one string to compare. */
  #reported: string | undefined;
  #stop?: () => void;
  /** Reports handed to the outbox, for status and tests. */
  sent = 0;

  constructor(options: DropReportOptions) {
    this.#o = options;
  }

  start(): void {
    this.#stop = this.#o.sink.onStateChange((state) => {
      if (state === 'connected') this.#maybeReport();
    });
    if (this.#o.sink.state === 'connected') this.#maybeReport();
  }

  stop(): void {
    this.#stop?.();
  }

  #maybeReport(): void {
    const stats = this.#o.stats();
    const totals = `${stats.droppedByBytes}/${stats.droppedByAge}/${stats.deadLetters}`;
    if (totals === '0/0/0' || totals === this.#reported) return;
    this.#reported = totals;
    const report = {
      report: 'outbox', gateway: this.#o.gatewayId, uplink: this.#o.uplink,
      dropped_by_bytes: stats.droppedByBytes, dropped_by_age: stats.droppedByAge, dead_letters: stats.deadLetters,
      pending: stats.messages, ts: Date.now(),
    };
    this.#o.enqueue(this.#o.topic, Buffer.from(JSON.stringify(report)));
    this.sent++;
  }
}
