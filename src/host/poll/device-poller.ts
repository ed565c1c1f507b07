/**
 * Polls one device: on its interval, sends each of its requests in plan order over its link, reads the
 * response the protocol frames, and writes request + response (or the failure) into the ingress ring.
 * The link is not the device's: its arbiter (link-arbiter.ts) grants it one transaction at a time, so
 * devices sharing a bus take turns. The host only schedules, sends and receives; the plugin builds
 * frames, finds frame boundaries and decodes.
 *
 * Failures never stop the poller. A request that times out is retried up to `retries` times: on an
 * unshared TCP connection on a fresh connection (a late answer on the old one would be taken for the
 * next request's), on a shared link after draining the line. A request that still fails is recorded
 * with status timeout; a lost or refused link records every request of the cycle as link-lost, so the
 * decoder marks those points no-comm in the data stream. A device that keeps failing is quarantined
 * (device-quarantine.ts). Reopening the link backs off from `backoff.minMs` to `backoff.maxMs`.
 *
 * The protocol calls (request frames, frame boundaries) are plugin code and run in the pipeline worker
 * under its watchdog (poll-channel.ts); this thread only moves bytes. When such a call fails (the
 * decoder trapped, or its worker was killed or is restarting), the exchange is recorded as link-lost so
 * its points show no-comm, and the link is closed if bytes were in flight, since their framing is lost.
 */
import { LatencyHistogram, type LatencySnapshot } from '../metrics/latency-histogram.js';
import { WgError, isWgError } from '../errors.js';
import { FrameStatus } from '../engine/abi.js';
import type { DeviceProtocol } from '../pipeline/poll-channel.js';
import type { Clock } from '../../hal/clock.js';
import { monotonicTimeout, type MonotonicTimeout } from '../../hal/timer.js';
import type { TransportCounters } from '../../hal/transport.js';
import type { LinkArbiter } from './link-arbiter.js';
import { DeviceQuarantine } from './device-quarantine.js';
import type { FrameIngress } from './frame-ingress.js';
import { DeviceEpisodes } from './device-episodes.js';
import { readFrame } from './frame-reader.js';
import type { LevelLog } from '../log-events.js';
import type { CovStatus } from './cov-subscription.js';

export interface PolledDevice {
  index: number;
  name: string;
  intervalMs: number;
  timeoutMs: number;
  retries: number;
  /** Quiet time the link keeps after a transaction with this device, ms. */
  turnaroundMs?: number;
  /** Failed cycles in a row before quarantine (device-quarantine.ts); default 3. */
  quarantineAfter?: number;
  /** Where the device is and which unit answers there: only for what the operator reads in errors. */
  host?: string;
  port?: number;
  path?: string;
  unitId?: number;
}

/**
 * What paces a device's polls when something else brings its values (BACnet COV subscriptions,
 * cov-subscription.ts): the poller waits for `settled` before its first poll, then polls every
 * `intervalMs()` (none while it says undefined), and starts over when told through `repace()`.
 */
export interface PollPacing {
  readonly settled: Promise<void>;
  intervalMs(): number | undefined;
  /** How long after `settled` or a `repace()` the first poll goes out. */
  firstPollDelayMs(): number;
  status(): CovStatus;
}

export interface DevicePollerOptions {
  device: PolledDevice;
  /** The arbiter of the link the device is reached over, shared with the link's other devices. */
  link: LinkArbiter;
  /** The decoder's polling group, run where a deadline can stop it. */
  protocol: DeviceProtocol;
  /** Indexes of this device's requests in the plugin's plan, in order. */
  requests: number[];
  ingress: FrameIngress;
  clock: Clock;
  log: LevelLog;
  /**
   * Most bytes one response may take (the protocol's largest frame). A decoder that keeps saying
   * "more" while a device keeps sending must not grow the buffer for a whole timeout.
   */
  maxFrameBytes?: number;
  /** A visitor's device (a probe or scan through the daemon): its transactions alternate with the link's own (link-arbiter.ts). */
  guest?: boolean;
  /** How long after `start` the first poll goes out (poll-phase.ts); default 0. */
  phaseMs?: number;
  /** Polls paced by something else (COV subscriptions); default: every `device.intervalMs`. */
  pacing?: PollPacing;
}

/** How long a paced poller with no polls to make sleeps before it looks again (a repace() wakes it sooner). */
const IDLE_WAIT_MS = 3_600_000;

/** A frame record's response length is 16 bits: no response can be longer than this. */
const MAX_FRAME_BYTES = 65535;

export interface DeviceCounters {
  polls: number;
  requests: number;
  responses: number;
  timeouts: number;
  retries: number;
  linkErrors: number;
  framingErrors: number;
  reconnects: number;
  /** Poll cycles that started late because the previous one (or back-pressure) ran over. */
  overruns: number;
  /** Protocol calls that failed because the decoder trapped or its worker was down. */
  pluginErrors: number;
  /** Poll cycles not started because the decoder's worker was not up within the device timeout. */
  cyclesSkipped: number;
  /** Poll cycles that did not use the link because the device was quarantined (its points no-comm). */
  quarantinedCycles: number;
  /** Requests sent to a quarantined device to see whether it answers again. */
  probes: number;
}

export interface DeviceStatus extends DeviceCounters, TransportCounters {
  device: string;
  /** The link it is reached over (link-arbiter.ts), and whether that is open. */
  link: string;
  connected: boolean;
  quarantined: boolean;
  lastError?: string;
  /** Round trip of the last answered request, ms. */
  lastRttMs?: number;
  /** Round trips of every answered request (metrics). */
  rtt: LatencySnapshot;
  /** A BACnet device's COV subscriptions (cov-subscription.ts), when it has them. */
  cov?: CovStatus;
}

export class DevicePoller {
  readonly counters: DeviceCounters = { polls: 0, requests: 0, responses: 0, timeouts: 0, retries: 0, linkErrors: 0, framingErrors: 0, reconnects: 0, overruns: 0, pluginErrors: 0, cyclesSkipped: 0, quarantinedCycles: 0, probes: 0 };
  #o: DevicePollerOptions;
  #running = false;
  #loop?: Promise<void>;
  #wake?: () => void;
  #timer?: MonotonicTimeout;
  #lastError?: string;
  #lastRttMs?: number;
  readonly #rtt = new LatencyHistogram();
  /** The last frame built for each request: failures are recorded with it, without calling the plugin. */
  #frames = new Map<number, Uint8Array>();
  readonly #episodes: DeviceEpisodes;
  readonly #quarantine: DeviceQuarantine;
  /** Set by repace(): the pace changed, the schedule starts over. */
  #repaced = false;

  constructor(options: DevicePollerOptions) {
    this.#o = options;
    this.#episodes = new DeviceEpisodes(options.device, options.log);
    const { name, intervalMs, quarantineAfter } = options.device;
    this.#quarantine = new DeviceQuarantine({ name, intervalMs, quarantineAfter: quarantineAfter ?? 3 }, options.log);
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#guardedRun();
  }

  /**
   * The poll loop, restarted after an error nothing below expected: a bug must cost this device a poll
   * interval, not end the daemon with an unhandled rejection.
   */
  async #guardedRun(): Promise<void> {
    while (this.#running) {
      try {
        await this.#run();
      } catch (err) {
        const message = (err as Error)?.message ?? String(err);
        this.#o.log(50, `poller of device ${this.#o.device.name} failed: ${message}; polling again after one interval`, { event: 'device.poller_failed', code: 'WG_ERR_DEVICE_POLLER', device: this.#o.device.name });
        await this.#o.link.close().catch(() => undefined);
        if (this.#running) await this.#sleep(this.#o.device.intervalMs);
      }
    }
  }

  /** Stops polling. The link is the arbiter's: the pipeline shuts it down, which ends a pending read. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#timer?.cancel();
    this.#wake?.();
    await this.#loop;
  }

  /** Marks the poller stopping without waiting, so that a link shut down under it is not reopened. */
  halt(): void {
    this.#running = false;
    this.#timer?.cancel();
    this.#wake?.();
  }

  /** The pacing changed (a device subscribed to, or fallen back to polling): the schedule starts over now. */
  repace(): void {
    this.#repaced = true;
    this.#timer?.cancel();
    this.#wake?.();
  }

  status(): DeviceStatus {
    return {
      device: this.#o.device.name,
      link: this.#o.link.link.name,
      connected: this.#o.link.transport.isOpen,
      quarantined: this.#quarantine.active,
      ...this.counters,
      quarantinedCycles: this.#quarantine.skipped,
      probes: this.#quarantine.probes,
      ...this.#o.link.transport.counters(),
      ...(this.#lastError ? { lastError: this.#lastError } : {}),
      ...(this.#lastRttMs !== undefined ? { lastRttMs: this.#lastRttMs } : {}),
      rtt: this.#rtt.snapshot(),
      ...(this.#o.pacing ? { cov: this.#o.pacing.status() } : {}),
    };
  }

  async #run(): Promise<void> {
    if (this.#o.pacing) return this.#runPaced(this.#o.pacing);
    const { clock, device } = this.#o;
    if (this.#o.phaseMs && this.counters.polls === 0) await this.#sleep(this.#o.phaseMs);
    let next = clock.monotonicMs();
    while (this.#running) {
      const startedAt = clock.monotonicMs();
      await this.#cycle();
      this.#reviewCycle();
      next += device.intervalMs;
      const now = clock.monotonicMs();
      let missed = 0;
      if (now > next) {
        // Missed slots are skipped, not caught up: a burst of back-to-back polls helps nobody.
        missed = Math.ceil((now - next) / device.intervalMs);
        this.counters.overruns += missed;
        next += missed * device.intervalMs;
      }
      if (this.#running) this.#episodes.reviewTiming(missed, now - startedAt, this.counters.overruns);
      await this.#sleep(next - now);
    }
  }

  /**
   * The poll loop of a paced device: the same cycles, at the pace's interval, none while it has none,
   * and the schedule started over when the pace changes (repace()).
   */
  async #runPaced(pacing: PollPacing): Promise<void> {
    const { clock } = this.#o;
    // The first round of subscriptions decides whether the device is polled at all.
    await Promise.race([pacing.settled, new Promise<void>((resolve) => (this.#wake = resolve))]);
    this.#repaced = false;
    let next = clock.monotonicMs() + pacing.firstPollDelayMs();
    while (this.#running) {
      if (this.#repaced) {
        this.#repaced = false;
        next = clock.monotonicMs() + pacing.firstPollDelayMs();
      }
      const interval = pacing.intervalMs();
      const now = clock.monotonicMs();
      if (interval === undefined || now < next) {
        await this.#sleep(interval === undefined ? IDLE_WAIT_MS : next - now);
        continue;
      }
      const startedAt = now;
      await this.#cycle();
      this.#reviewCycle();
      next += interval;
      const after = clock.monotonicMs();
      let missed = 0;
      if (after > next) {
        missed = Math.ceil((after - next) / interval);
        this.counters.overruns += missed;
        next += missed * interval;
      }
      if (this.#running) this.#episodes.reviewTiming(missed, after - startedAt, this.counters.overruns);
    }
  }

  /** Waits on the monotonic clock, however long: an `interval` of weeks is a chain of timers. */
  #sleep(ms: number): Promise<void> {
    // Halted while it waited for the link (another pipeline or a visitor holds it open): the stop
    // already woke what it could, so a sleep begun after it would hold the stop for a whole interval.
    if (!this.#running) return Promise.resolve();
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#timer = monotonicTimeout(this.#o.clock, ms, resolve);
    });
  }

  /** After each cycle: episodes are told once (device-episodes.ts); a flooding device is reconnected with back-off. */
  #reviewCycle(): void {
    if (this.#episodes.review(this.counters, this.#o.link.transport.counters())) this.#o.link.backOff();
  }

  async #cycle(): Promise<void> {
    this.counters.polls++;
    const { clock, requests } = this.#o;
    // Quarantine protects the other devices of a shared link; a device alone on its link keeps trying.
    const kind = this.#o.link.shared ? this.#quarantine.cycle(clock.monotonicMs()) : 'full';
    if (kind === 'skip') {
      await this.#recordAll(requests, FrameStatus.timeout);
      return;
    }
    if (!(await this.#o.protocol.whenAvailable(this.#o.device.timeoutMs))) {
      this.counters.cyclesSkipped++;
      return;
    }
    if (!this.#o.link.transport.isOpen && !(await this.#connect())) return;
    const responses = this.counters.responses;
    const failures = this.counters.timeouts + this.counters.framingErrors;
    // A quarantined device gets one request, without retries; its other points stay no-comm.
    const sent = kind === 'probe' ? requests.slice(0, 1) : requests;
    const retries = kind === 'probe' ? 0 : this.#o.device.retries;
    // Up to the link's in-flight limit at once when answers are matched by transaction id; else in order.
    const lanes = this.#o.link.demux ? Math.min(this.#o.link.link.inFlight, sent.length) : 1;
    let next = 0;
    let down = false;
    const lane = async (): Promise<void> => {
      while (!down && this.#running && next < sent.length) {
        if (!(await this.#exchange(sent[next++]!, retries))) down = true;
      }
    };
    await Promise.all(Array.from({ length: lanes }, lane));
    if (down) {
      // Requests never sent because the link went down are lost readings; requests never sent because
      // we are stopping are not readings at all, and must not show as no-comm.
      if (this.#running) await this.#recordAll(sent.slice(next), FrameStatus.linkLost);
      return;
    }
    if (kind === 'probe' && this.#running) await this.#recordAll(requests.slice(1), FrameStatus.timeout);
    // A cycle fails on silence or on bytes no frame can be made of (a babbling slave, which costs the
    // bus a drain each time); a frame the decoder refuses (bad CRC) is an answer, quick and over.
    this.#quarantine.review(clock.monotonicMs(), this.counters.responses > responses, this.counters.timeouts + this.counters.framingErrors > failures);
  }

  /** Opens the link unless it is backing off; on failure records the whole cycle as link-lost. */
  async #connect(): Promise<boolean> {
    // stop() may have closed the link while this cycle waited for the protocol: never reopen after it.
    if (!this.#running) return false;
    const outcome = await this.#o.link.open();
    if (outcome === undefined) return true;
    if (outcome === 'backing-off' || outcome.code === 'WG_ERR_HAL_CLOSED') return false;
    this.counters.linkErrors++;
    this.#noteError(outcome);
    await this.#recordAll(this.#o.requests, FrameStatus.linkLost);
    return false;
  }

  /** One request with its retries. Returns false when the link is down. */
  async #exchange(request: number, retries: number): Promise<boolean> {
    const { device, link, protocol, ingress, clock } = this.#o;
    const record = (status: number, seq: number, frame: Uint8Array, response?: Uint8Array) =>
      ingress.write({ device: device.index, request, status, seq, ts: clock.wallMs() }, frame, response);
    for (let attempt = 0; ; attempt++) {
      const seq = this.#nextSeq();
      let frame: Uint8Array;
      try {
        frame = await protocol.request(request, seq);
      } catch (err) {
        if (!isPluginFailure(err)) throw err;
        // Nothing was sent: the link is fine, this one reading is lost to the plugin.
        this.#notePluginError(err as WgError);
        await record(FrameStatus.linkLost, seq, this.#frameOf(request));
        return true;
      }
      this.#frames.set(request, frame);
      const grant = await link.acquire(this.#o.guest);
      if (!this.#running || !link.transport.isOpen) {
        grant.release();
        if (this.#running) await record(FrameStatus.linkLost, seq, frame);
        return false;
      }
      this.counters.requests++;
      const sentAt = clock.monotonicMs();
      let failure: WgError;
      try {
        let response: Uint8Array;
        if (link.demux) {
          response = await link.demux.exchange(frame, seq, device.timeoutMs, device.name);
        } else {
          await link.discardStale();
          await link.transport.write(frame);
          response = await this.#readFrame(device.timeoutMs, frame.byteLength);
        }
        this.counters.responses++;
        this.#lastRttMs = clock.monotonicMs() - sentAt;
        this.#rtt.observe(this.#lastRttMs);
        grant.release(device.turnaroundMs);
        await record(FrameStatus.ok, seq, frame, response);
        return true;
      } catch (err) {
        if (!isWgError(err)) {
          grant.release();
          throw err;
        }
        failure = err;
      }
      if (!this.#running) {
        // Stopping (the stop lets the transaction on the wire finish): only an answer is a reading.
        // One that failed or timed out in that grace records nothing, retries nothing: a restart must
        // not look like a lost device. The pipeline closes the link next.
        grant.release();
        return false;
      }
      const outcome = await this.#recover(failure, attempt < retries);
      grant.release(device.turnaroundMs);
      if (outcome === 'retry') {
        this.counters.retries++;
        continue;
      }
      if (outcome !== 'stopped') await record(outcome === 'timeout' ? FrameStatus.timeout : FrameStatus.linkLost, seq, frame);
      return outcome === 'timeout' || outcome === 'next';
    }
  }

  /**
   * What a failed exchange leaves, decided while the link is still ours: 'retry' the request, record it
   * as a 'timeout', record it and go on with the 'next' request (the link is fine), record it as
   * link-lost with the link 'down', or nothing at all ('stopped').
   */
  async #recover(err: WgError, mayRetry: boolean): Promise<'retry' | 'timeout' | 'next' | 'down' | 'stopped'> {
    const { link } = this.#o;
    if (err.code === 'WG_ERR_HAL_CLOSED') return 'stopped';
    // A shared link or a bus is never closed for one device: the line is drained, the others go on.
    const drainInstead = link.shared || link.link.framing === 'rtu';
    if (isPluginFailure(err)) {
      this.#notePluginError(err);
      if (drainInstead) {
        await link.drain();
        return 'next';
      }
      await link.close();
      return 'down';
    }
    this.#noteError(err);
    if (err.code === 'WG_ERR_HAL_TIMEOUT') {
      this.counters.timeouts++;
      // Answers are matched by transaction id: a late one is dropped when it comes, nothing to clear.
      if (link.demux) return mayRetry && link.transport.isOpen ? 'retry' : link.transport.isOpen ? 'timeout' : 'down';
      if (drainInstead) {
        await link.drain();
        return mayRetry && link.transport.isOpen ? 'retry' : link.transport.isOpen ? 'timeout' : 'down';
      }
      // A late answer would be read as the next request's: start the next attempt on a fresh link.
      await link.close();
      const reopened = await this.#reopen();
      if (mayRetry && reopened) return 'retry';
      return reopened ? 'timeout' : 'down';
    }
    if (err.code === 'WG_ERR_DEVICE_FRAMING') {
      this.counters.framingErrors++;
      if (drainInstead && link.transport.isOpen) {
        await link.drain();
        return mayRetry ? 'retry' : 'next';
      }
    } else {
      this.counters.linkErrors++;
    }
    await link.close();
    link.backOff();
    return 'down';
  }

  async #reopen(): Promise<boolean> {
    if (!this.#running) return false;
    try {
      await this.#o.link.transport.open();
      this.counters.reconnects++;
      return true;
    } catch (err) {
      if (!isWgError(err)) throw err;
      this.counters.linkErrors++;
      this.#noteError(err);
      this.#o.link.backOff();
      return false;
    }
  }

  #readFrame(timeoutMs: number, requestBytes: number): Promise<Uint8Array> {
    const { link, protocol, clock, device } = this.#o;
    return readFrame({
      transport: link.transport, frameLength: (b) => protocol.frameLength(b), clock, device: device.name,
      maxFrameBytes: this.#o.maxFrameBytes ?? MAX_FRAME_BYTES, byteTimeMs: link.byteTimeMs, requestBytes,
    }, timeoutMs);
  }

  async #recordAll(requests: number[], status: number): Promise<void> {
    const { device, ingress, clock } = this.#o;
    for (const request of requests) {
      await ingress.write({ device: device.index, request, status, seq: this.#nextSeq(), ts: clock.wallMs() }, this.#frameOf(request));
    }
  }

  /** The request as last sent (empty before the first): a failure record needs only its index. */
  #frameOf(request: number): Uint8Array {
    return this.#frames.get(request) ?? new Uint8Array(0);
  }

  #notePluginError(err: WgError): void {
    this.counters.pluginErrors++;
    // The pipeline logs the trap or the kill itself, with the plugin's name; here only what it cost.
    this.#lastError = err.message;
  }

  #nextSeq(): number {
    return this.#o.link.nextSeq();
  }

  #noteError(err: WgError): void {
    const changed = this.#lastError !== err.message;
    this.#lastError = err.message;
    // A device that does not answer is reported once per episode, with its address, by DeviceEpisodes.
    if (err.code === 'WG_ERR_HAL_TIMEOUT') return;
    // Log transitions, not every repetition of the same failure at the poll rate.
    if (changed) this.#o.log(40, err.message, { event: 'device.problem', code: err.code, device: this.#o.device.name, ...this.#episodes.location() });
  }
}

function isPluginFailure(err: unknown): boolean {
  return isWgError(err) && (err.code === 'WG_ERR_PLUGIN_TRAP' || err.code === 'WG_ERR_PLUGIN_STATUS' || err.code === 'WG_ERR_WORKER_UNAVAILABLE');
}
