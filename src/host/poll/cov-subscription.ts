/**
 * A BACnet device's COV subscriptions (ASHRAE 135, 13.14 SubscribeCOV): one per object its points
 * read, sent when the pipeline starts, renewed at half their lifetime, cancelled when it stops. While
 * the device holds them its values come as COV notifications (unsolicited frames, decoded in the
 * worker like any frame) and its poller stays idle, or polls every `refresh` when that is set. A device
 * that refuses one (an Error, a Reject, an Abort) or does not answer it within its timeout and retries
 * is polled at its interval instead, with the reason logged once (`device.cov_fallback`) and shown in
 * status; it is asked again at every renewal time, so a device that comes back or is reconfigured to
 * serve COV is subscribed to again.
 *
 * The decoder builds every frame and reads every answer (ABI 1.6 subscription group, in the pipeline
 * worker); this only schedules, sends and receives, over the device's link between its other
 * transactions. Answers are matched by invoke id (the link's demux), like a poll's.
 */
import type { Clock } from '../../hal/clock.js';
import { monotonicTimeout, type MonotonicTimeout } from '../../hal/timer.js';
import type { ResolvedCov } from '../config/resolved.js';
import { isWgError } from '../errors.js';
import type { SubscribeVerdict } from '../engine/plugin-instance.js';
import type { LevelLog } from '../log-events.js';
import type { LinkArbiter } from './link-arbiter.js';
import type { PollPacing } from './device-poller.js';

/** The decoder's subscription group, as the poll channel offers it. */
export interface SubscribeProtocol {
  subscribeFrame(index: number, seq: number, cancel: boolean): Promise<Uint8Array>;
  checkSubscribe(index: number, request: Uint8Array, response: Uint8Array): Promise<SubscribeVerdict | 'not-an-answer'>;
}

export interface CovSubscriptionOptions {
  device: { index: number; name: string; intervalMs: number; timeoutMs: number; retries: number; turnaroundMs?: number };
  cov: ResolvedCov;
  link: LinkArbiter;
  protocol: SubscribeProtocol;
  /** Indexes of this device's subscriptions in the decoder's subscription plan. */
  subscriptions: number[];
  clock: Clock;
  log: LevelLog;
}

/** subscribing: the first round is out; subscribed: the device holds every subscription; polling: it refused one. */
export type CovState = 'subscribing' | 'subscribed' | 'polling';

export interface CovStatus {
  state: CovState;
  /** Why the device is polled (state polling). */
  reason?: string;
  subscriptions: number;
  /** Rounds in which the device accepted every subscription (the first one and each renewal). */
  rounds: number;
  /** Rounds refused or unanswered. */
  refusedRounds: number;
}

type Outcome = { ok: true } | { ok: false; reason: string };

export class CovSubscription implements PollPacing {
  readonly #o: CovSubscriptionOptions;
  #state: CovState = 'subscribing';
  #reason: string | undefined;
  #rounds = 0;
  #refusedRounds = 0;
  /** Subscriptions the device accepted at least once: what a stop cancels. */
  readonly #held = new Set<number>();
  #running = false;
  #round?: Promise<void>;
  #timer?: MonotonicTimeout;
  #settle!: () => void;
  readonly settled: Promise<void>;
  /** Told when the poller's pace changes (subscribed, or fallen back to polling). */
  onChange?: () => void;

  constructor(options: CovSubscriptionOptions) {
    this.#o = options;
    this.settled = new Promise((resolve) => (this.#settle = resolve));
  }

  get state(): CovState {
    return this.#state;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#round = this.#subscribeRound();
  }

  /** No polls while subscribed unless `refresh` says; at the device's interval otherwise. */
  intervalMs(): number | undefined {
    if (this.#state !== 'subscribed') return this.#o.device.intervalMs;
    return this.#o.cov.refreshMs ?? undefined;
  }

  /** Subscribed: the notification right after the subscription (13.1.2) has the values, so the first refresh waits its interval. */
  firstPollDelayMs(): number {
    return this.#state === 'subscribed' ? this.#o.cov.refreshMs ?? 0 : 0;
  }

  status(): CovStatus {
    return {
      state: this.#state,
      ...(this.#reason !== undefined ? { reason: this.#reason } : {}),
      subscriptions: this.#o.subscriptions.length,
      rounds: this.#rounds,
      refusedRounds: this.#refusedRounds,
    };
  }

  /**
   * Stops renewing; once the round on the wire is over, cancels what the device holds (13.14.1.1.4:
   * neither confirmed-notifications nor lifetime), one attempt each: a device that misses it drops the
   * subscription when its lifetime ends. The caller closes the link after.
   */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.#timer?.cancel();
    this.#settle();
    await this.#round;
    for (const index of this.#held) await this.#exchange(index, true, 0);
  }

  async #subscribeRound(): Promise<void> {
    let refused: string | undefined;
    for (const index of this.#o.subscriptions) {
      const outcome = await this.#exchange(index, false, this.#o.device.retries);
      if (outcome.ok) this.#held.add(index);
      if (!outcome.ok) {
        refused = outcome.reason;
        break;
      }
    }
    if (!this.#running) return;
    this.#settleRound(refused);
    // Renewed (or asked again) at half the lifetime: the other half is room for the renewal's retries.
    this.#timer = monotonicTimeout(this.#o.clock, (this.#o.cov.lifetimeS * 1000) / 2, () => {
      if (this.#running) this.#round = this.#subscribeRound();
    });
  }

  #settleRound(refused: string | undefined): void {
    const { device, log } = this.#o;
    const before = this.#state;
    if (refused === undefined) {
      this.#rounds++;
      this.#state = 'subscribed';
      this.#reason = undefined;
      if (before !== 'subscribed') {
        const { lifetimeS, confirmed, refreshMs } = this.#o.cov;
        log(30, `device ${device.name} accepted ${this.#o.subscriptions.length} COV subscriptions (lifetime ${lifetimeS} s, ${confirmed ? 'confirmed' : 'unconfirmed'} notifications); ${refreshMs === null ? 'not polled while subscribed' : `polled every ${refreshMs} ms as well`}`, { event: 'device.cov_subscribed', device: device.name, subscriptions: this.#o.subscriptions.length, lifetimeS, confirmed });
      }
    } else {
      this.#refusedRounds++;
      this.#state = 'polling';
      const changed = this.#reason !== refused;
      this.#reason = refused;
      if (before !== 'polling' || changed) {
        log(40, `device ${device.name} is polled every ${device.intervalMs} ms instead of subscribed to: ${refused}`, { event: 'device.cov_fallback', device: device.name, reason: refused });
      }
    }
    this.#settle();
    if (before !== this.#state) this.onChange?.();
  }

  /** One SubscribeCOV (or its cancellation) with its retries: accepted, or why not. */
  async #exchange(index: number, cancel: boolean, retries: number): Promise<Outcome> {
    const { device, link, protocol } = this.#o;
    let lastFailure = '';
    for (let attempt = 0; attempt <= retries; attempt++) {
      const seq = link.nextSeq();
      let frame: Uint8Array;
      try {
        frame = await protocol.subscribeFrame(index, seq, cancel);
      } catch (err) {
        if (!isWgError(err)) throw err;
        return { ok: false, reason: `the decoder could not build the subscription: ${err.message}` };
      }
      const grant = await link.acquire();
      let response: Uint8Array;
      try {
        const opened = await link.open();
        if (opened !== undefined) return { ok: false, reason: opened === 'backing-off' ? `link ${link.link.name} is down` : opened.message };
        if (!link.demux) return { ok: false, reason: 'its link cannot match answers to requests' };
        response = await link.demux.exchange(frame, seq, device.timeoutMs, device.name);
      } catch (err) {
        if (!isWgError(err)) throw err;
        if (err.code === 'WG_ERR_HAL_CLOSED') return { ok: false, reason: 'stopped' };
        lastFailure = err.code === 'WG_ERR_HAL_TIMEOUT' ? `no answer to SubscribeCOV within ${device.timeoutMs} ms${retries > 0 ? ` and ${retries} retries` : ''}` : err.message;
        if (err.code === 'WG_ERR_HAL_TIMEOUT' && (cancel || this.#running)) continue;
        return { ok: false, reason: lastFailure };
      } finally {
        grant.release(device.turnaroundMs);
      }
      let verdict: SubscribeVerdict | 'not-an-answer';
      try {
        verdict = await protocol.checkSubscribe(index, frame, response);
      } catch (err) {
        if (!isWgError(err)) throw err;
        return { ok: false, reason: `the decoder could not read the answer: ${err.message}` };
      }
      if (verdict === 'not-an-answer') return { ok: false, reason: 'its answer to SubscribeCOV is not one (wrong service or PDU)' };
      return verdict.ok ? verdict : { ok: false, reason: `SubscribeCOV refused: ${verdict.reason}` };
    }
    return { ok: false, reason: lastFailure };
  }
}
