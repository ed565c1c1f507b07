/**
 * Telling "another client took our session" from an ordinary lost connection. Two gateways configured
 * with the same client id knock each other off the broker: each connect makes the broker close the
 * other. MQTT 5 brokers may say so (DISCONNECT, reason 0x8E, which the sink shows as its last error);
 * with MQTT 3.1.1 the broker just closes the connection, so the pattern is what tells (over either):
 *
 * - the broker closed a connection it had accepted, with no error on our side (no reset, no keepalive
 *   failure), and
 * - the very next connection attempt was accepted at once (the broker is up and reachable: not a
 *   restart, not the network),
 *
 * three times in a row. A broker restart or a network outage breaks the streak (the reconnect fails),
 * and so does a connection that stays up longer than the other side's longest back-off.
 */

/** Clean closes in a row, each followed by an immediate accept, that make a takeover. */
export const TAKEOVER_STREAK = 3;

export type TakeoverEvent = 'none' | 'detected' | 'over';

export class SessionTakeoverWatch {
  #streak = 0;
  #episode = false;
  #errorSinceConnect = false;
  #lastCloseClean = false;
  #failedSinceClose = false;

  /** In a takeover episode: reported, and not over until a connection proves stable. */
  get inEpisode(): boolean {
    return this.#episode;
  }

  /** Clean closes followed by an immediate accept, in a row so far. */
  get streak(): number {
    return this.#streak;
  }

  /** The broker accepted a connection. Says `detected` once per episode. */
  connected(): TakeoverEvent {
    this.#streak = this.#lastCloseClean && !this.#failedSinceClose ? this.#streak + 1 : 0;
    this.#errorSinceConnect = false;
    this.#lastCloseClean = false;
    this.#failedSinceClose = false;
    if (this.#streak >= TAKEOVER_STREAK && !this.#episode) {
      this.#episode = true;
      return 'detected';
    }
    return 'none';
  }

  /** An error from the client: while connected it spoils that connection's close; otherwise an attempt failed. */
  error(connected: boolean): void {
    if (connected) this.#errorSinceConnect = true;
    else this.#failedSinceClose = true;
  }

  /** A connection that had been accepted is gone. */
  closed(): void {
    this.#lastCloseClean = !this.#errorSinceConnect;
  }

  /** The connection stayed up long enough that nobody is taking it over. Says `over` if an episode ends. */
  stable(): TakeoverEvent {
    this.#streak = 0;
    if (!this.#episode) return 'none';
    this.#episode = false;
    return 'over';
  }
}
