/**
 * What a CoAP server remembers of the messages it received, so that a retransmission (the same
 * sender and message id, RFC 7252 4.5) gets the same answer and is never taken for a second reading:
 * - a request whose body waits for the ring is pending: a retransmission of it is ignored (the answer
 *   goes out once the body is committed). Pending requests are as many as the push gate lets wait.
 * - an answered one keeps its answer for EXCHANGE_LIFETIME (247 s), at most `max` of them: the oldest
 *   go first. node-coap's server keeps up to 32 MiB of answers instead; here the bound is a count,
 *   each answer a few dozen bytes.
 */
/** RFC 7252, 4.8.2: how long a sender may retransmit one message id. */
export const EXCHANGE_LIFETIME_MS = 247_000;

export class CoapExchanges {
  readonly #max: number;
  readonly #pending = new Set<string>();
  readonly #answered = new Map<string, { answer: Uint8Array; until: number }>();
  evicted = 0;

  constructor(max: number) {
    this.#max = max;
  }

  /** `pending`, the remembered answer, or undefined for a message not seen (or forgotten). */
  seen(key: string, now: number): 'pending' | Uint8Array | undefined {
    if (this.#pending.has(key)) return 'pending';
    const entry = this.#answered.get(key);
    if (entry === undefined) return undefined;
    if (entry.until <= now) {
      this.#answered.delete(key);
      return undefined;
    }
    return entry.answer;
  }

  pend(key: string): void {
    this.#pending.add(key);
  }

  answer(key: string, answer: Uint8Array, now: number): void {
    this.#pending.delete(key);
    this.#answered.delete(key);
    // A Map iterates in insertion order: the first entries are the oldest, expired or not.
    for (const [oldest, entry] of this.#answered) {
      if (this.#answered.size < this.#max && entry.until > now) break;
      this.#answered.delete(oldest);
      if (entry.until > now) this.evicted++;
    }
    this.#answered.set(key, { answer, until: now + EXCHANGE_LIFETIME_MS });
  }

  get size(): number {
    return this.#answered.size + this.#pending.size;
  }
}
