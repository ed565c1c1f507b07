/**
 * Tells a message the broker will not take from a broker that is merely away. Some brokers refuse a
 * message by closing the connection rather than with a reason code: a packet over the broker's size
 * limit (mosquitto's max_packet_size), a topic the client may not publish to (AWS IoT over MQTT 3.1.1).
 * MQTT.js sends the unacknowledged message again on every reconnect, and the broker closes again:
 * without this, one message would hold the uplink in a reconnect loop for good.
 *
 * The pattern: a connection that closes soon after it came up (`soonMs`), with the same message the
 * oldest unacknowledged one, nothing acknowledged on it, `streak` times in a row. A broker going
 * down, a network stall or a keep-alive timeout do not fit it: the first takes the connection away
 * for longer than a reconnect, the others close it late. A session takeover (session-takeover.ts)
 * closes soon too, but only after the other client's reconnect delay, by when what was in flight has
 * long been acknowledged; so a suspect close is not counted as a takeover's either.
 */
export class PoisonWatch<M> {
  readonly #soonMs: number;
  readonly #streak: number;
  #suspect: M | undefined;
  #count = 0;
  #connectedAt = 0;
  #ackedOnConnection = 0;

  constructor(options: { soonMs: number; streak: number }) {
    this.#soonMs = options.soonMs;
    this.#streak = options.streak;
  }

  connected(now = performance.now()): void {
    this.#connectedAt = now;
    this.#ackedOnConnection = 0;
  }

  acked(): void {
    this.#ackedOnConnection++;
    this.#suspect = undefined;
    this.#count = 0;
  }

  /**
   * The connection closed with `oldest` the oldest message unacknowledged (undefined: none).
   * `suspect`: the close fits the pattern; `refuse`: the message to refuse, once the pattern is complete.
   */
  closed(oldest: M | undefined, now = performance.now()): { suspect: boolean; refuse?: M } {
    const soon = now - this.#connectedAt <= this.#soonMs;
    if (oldest === undefined || this.#ackedOnConnection > 0 || !soon) {
      this.#suspect = undefined;
      this.#count = 0;
      return { suspect: false };
    }
    this.#count = oldest === this.#suspect ? this.#count + 1 : 1;
    this.#suspect = oldest;
    if (this.#count < this.#streak) return { suspect: true };
    this.#suspect = undefined;
    this.#count = 0;
    return { suspect: true, refuse: oldest };
  }
}
