/**
 * How long an uplink took to deliver the backlog a connection found (uplink-sender.ts logs it): the
 * replay rate, for the log now and for the metrics.
 */

/** A replay in progress: counts what is acknowledged until nothing made before the connection is left. */
export class ReplayWatch {
  readonly #startedAt = performance.now();
  #acked = 0;

  constructor(
    readonly done: () => boolean,
    readonly report: (acked: number, ms: number) => void,
  ) {}

  acked(count: number): void {
    this.#acked += count;
    if (this.done()) this.report(this.#acked, performance.now() - this.#startedAt);
  }
}
