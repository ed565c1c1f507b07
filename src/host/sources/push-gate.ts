/**
 * What every push source puts between the network and the ingress ring (push-source.ts): a token
 * bucket (`rate` bodies a second on average, `burst` at once), a limit on bodies accepted but still
 * waiting for room in the ring, and the counting and logging of every refusal. A flood then costs a
 * counter increment per request, never a queue entry: what the bucket or the limit refuses is
 * answered at once (CoAP 5.03) and forgotten.
 *
 * Refusals are logged as `push.refused` with the sender's address and the resource: the first of
 * each reason at once, then one line per 10 s per reason with how many more there were. The repeat
 * log is keyed by reason only, so a flood from many addresses cannot grow it either.
 */
import { RepeatLog } from '../pipeline/repeat-log.js';
import type { Clock } from '../../hal/clock.js';
import { PUSH_REFUSALS, type PushedFrame, type PushIngress, type PushListenContext, type PushRefusal, type PushSourceStatus } from './push-source.js';

export interface PushLimits {
  /** Bodies a second the bucket refills by. */
  readonly ratePerSecond: number;
  /** Bodies the bucket holds: a burst taken at once after a quiet spell. */
  readonly burst: number;
  /** Bodies accepted and waiting for room in the ring at once; past it, refused as `queue`. */
  readonly maxWaiting: number;
}

const WARN = 40;

/** How each refusal reads in the log line. */
const SAYS: Record<PushRefusal, string> = {
  unknown_resource: 'no resource of this source is configured there',
  method: 'the resource takes only POST and PUT',
  too_large: 'the body is larger than max_body',
  media_type: 'the source takes no body of this media type',
  rate: 'over the source\'s rate',
  queue: 'too many bodies already wait for room in the ingress ring',
  stopping: 'the pipeline is stopping',
  malformed: 'not a request this source can read',
};

export class PushGate {
  readonly #name: string;
  readonly #kind: string;
  readonly #endpoint: string;
  readonly #limits: PushLimits;
  readonly #ingress: PushIngress;
  readonly #clock: Clock;
  readonly #repeat: RepeatLog;
  #tokens: number;
  #refilledAt: number;
  #waiting = 0;
  #waitingPeak = 0;
  #accepted = 0;
  #acceptedBytes = 0;
  #stopping = false;
  readonly #refused = Object.fromEntries(PUSH_REFUSALS.map((r) => [r, 0])) as Record<PushRefusal, number>;
  listening = false;

  constructor(link: { name: string; kind: string; endpoint: string }, limits: PushLimits, context: PushListenContext) {
    this.#name = link.name;
    this.#kind = link.kind;
    this.#endpoint = link.endpoint;
    this.#limits = limits;
    this.#ingress = context.ingress;
    this.#clock = context.clock;
    this.#repeat = new RepeatLog(context.log, 10_000, () => context.clock.monotonicMs());
    this.#tokens = limits.burst;
    this.#refilledAt = context.clock.monotonicMs();
  }

  get maxBodyBytes(): number {
    return this.#ingress.maxBodyBytes;
  }

  /**
   * Takes one token and one waiting place for a body about to be read, or says why not (counted and
   * logged here). Each admitted body must end in `commit()` or `release()`.
   */
  admit(sender: string, resource: string): PushRefusal | undefined {
    const refusal = this.#stopping ? 'stopping' : !this.#takeToken() ? 'rate' : this.#waiting >= this.#limits.maxWaiting ? 'queue' : undefined;
    if (refusal) {
      this.refuse(refusal, sender, resource);
      return refusal;
    }
    this.#waiting++;
    if (this.#waiting > this.#waitingPeak) this.#waitingPeak = this.#waiting;
    return undefined;
  }

  /**
   * Takes one token for a message that is not a whole body yet (a Block1 block before the last), so
   * that a flood of blocks is held to the rate like whole bodies; false (counted, logged) when over it.
   */
  allow(sender: string, resource: string): boolean {
    if (!this.#stopping && this.#takeToken()) return true;
    this.refuse(this.#stopping ? 'stopping' : 'rate', sender, resource);
    return false;
  }

  /** Gives back the waiting place of an admitted body that was refused after all (too large, a bad media type). */
  release(): void {
    this.#waiting--;
  }

  /** Writes an admitted body into the ring; true once it is committed there (acknowledge it then), false when the pipeline stops. */
  async commit(frame: PushedFrame): Promise<boolean> {
    try {
      const written = await this.#ingress.push(frame);
      if (written) {
        this.#accepted++;
        this.#acceptedBytes += frame.body.byteLength;
      } else {
        this.refuse('stopping', frame.sender, frame.resource);
      }
      return written;
    } finally {
      this.#waiting--;
    }
  }

  /** Counts and logs one refusal. `detail` adds what the line should say beyond the reason (the method, the size). */
  refuse(reason: PushRefusal, sender: string, resource: string, detail?: string): void {
    this.#refused[reason]++;
    const says = detail === undefined ? SAYS[reason] : `${SAYS[reason]} (${detail})`;
    this.#repeat.report(reason, WARN, `${this.#name} refused what ${sender} sent to ${resource}: ${says}`, {
      event: 'push.refused', link: this.#name, reason, sender, resource,
    });
  }

  /** Writes the repeat log's summaries; call about once a second. */
  flush(): void {
    this.#repeat.flush();
  }

  /** From now on every body is refused as `stopping`. */
  stop(): void {
    this.#stopping = true;
  }

  status(own: Record<string, number> = {}): PushSourceStatus {
    return {
      name: this.#name, kind: this.#kind, endpoint: this.#endpoint, listening: this.listening,
      accepted: this.#accepted, acceptedBytes: this.#acceptedBytes, refused: { ...this.#refused },
      waiting: this.#waiting, waitingPeak: this.#waitingPeak, own,
    };
  }

  /**
   * Milliseconds until the bucket holds a whole token (0: it holds one), taking none: a source whose
   * protocol lets the sender hold a body (an MQTT QoS 1 message, unacknowledged) waits this long
   * instead of being refused as `rate`.
   */
  msUntilToken(): number {
    this.#refill();
    return this.#tokens >= 1 ? 0 : ((1 - this.#tokens) * 1000) / this.#limits.ratePerSecond;
  }

  #refill(): void {
    const now = this.#clock.monotonicMs();
    const { ratePerSecond, burst } = this.#limits;
    this.#tokens = Math.min(burst, this.#tokens + ((now - this.#refilledAt) * ratePerSecond) / 1000);
    this.#refilledAt = now;
  }

  #takeToken(): boolean {
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens--;
    return true;
  }
}
