/**
 * Polls one device: on its interval, sends each of its requests in plan order over its transport, reads
 * the response the protocol plugin frames, and writes request + response (or the failure) into the
 * ingress ring. The host only schedules, sends and receives; the plugin builds frames, finds frame
 * boundaries and decodes.
 *
 * Failures never stop the poller. A request that times out is retried up to `retries` times on a fresh
 * connection (a late answer on the old one would be taken for the next request's). A request that still
 * fails is recorded with status timeout; a lost or refused link records every request of the cycle as
 * link-lost, so the decoder marks those points no-comm in the data stream. Reconnects back off from
 * `backoff.minMs` to `backoff.maxMs`.
 *
 * The protocol calls (request frames, frame boundaries) are plugin code and run in the pipeline worker
 * under its watchdog (poll-channel.ts); this thread only moves bytes. When such a call fails (the
 * decoder trapped, or its worker was killed or is restarting), the exchange is recorded as link-lost so
 * its points show no-comm, and the link is closed if bytes were in flight, since their framing is lost.
 */
import { WgError, isWgError } from '../errors.js';
import { FrameStatus } from '../engine/abi.js';
import type { DeviceProtocol } from '../pipeline/poll-channel.js';
import type { Clock } from '../../hal/clock.js';
import { monotonicTimeout, type MonotonicTimeout } from '../../hal/timer.js';
import type { Transport, TransportCounters } from '../../hal/transport.js';
import type { FrameIngress } from './frame-ingress.js';
import { DeviceEpisodes } from './device-episodes.js';

export interface PolledDevice {
  index: number;
  name: string;
  intervalMs: number;
  timeoutMs: number;
  retries: number;
  backoff: { minMs: number; maxMs: number };
  /** Where the device is and which unit answers there: only for what the operator reads in errors. */
  host?: string;
  port?: number;
  unitId?: number;
}

export interface DevicePollerOptions {
  device: PolledDevice;
  transport: Transport;
  /** The decoder's polling group, run where a deadline can stop it. */
  protocol: DeviceProtocol;
  /** Indexes of this device's requests in the plugin's plan, in order. */
  requests: number[];
  ingress: FrameIngress;
  clock: Clock;
  log(level: number, message: string, context: Record<string, unknown>): void;
  /**
   * Most bytes one response may take (the protocol's largest frame). A decoder that keeps saying
   * "more" while a device keeps sending must not grow the buffer for a whole timeout.
   */
  maxFrameBytes?: number;
}

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
}

export interface DeviceStatus extends DeviceCounters, TransportCounters {
  device: string;
  connected: boolean;
  lastError?: string;
  /** Round trip of the last answered request, ms. */
  lastRttMs?: number;
}

export class DevicePoller {
  readonly counters: DeviceCounters = { polls: 0, requests: 0, responses: 0, timeouts: 0, retries: 0, linkErrors: 0, framingErrors: 0, reconnects: 0, overruns: 0, pluginErrors: 0, cyclesSkipped: 0 };
  #o: DevicePollerOptions;
  #seq = 0;
  #running = false;
  #loop?: Promise<void>;
  #wake?: () => void;
  #timer?: MonotonicTimeout;
  #reconnectAt = 0;
  #backoffMs: number;
  #lastError?: string;
  #lastRttMs?: number;
  /** The last frame built for each request: failures are recorded with it, without calling the plugin. */
  #frames = new Map<number, Uint8Array>();
  readonly #episodes: DeviceEpisodes;

  constructor(options: DevicePollerOptions) {
    this.#o = options;
    this.#episodes = new DeviceEpisodes(options.device, options.log);
    this.#backoffMs = options.device.backoff.minMs;
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
        this.#o.log(50, `poller of device ${this.#o.device.name} failed: ${message}; polling again after one interval`, { code: 'WG_ERR_DEVICE_POLLER', device: this.#o.device.name });
        await this.#o.transport.close().catch(() => undefined);
        if (this.#running) await this.#sleep(this.#o.device.intervalMs);
      }
    }
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#timer?.cancel();
    this.#wake?.();
    await this.#o.transport.close();
    await this.#loop;
  }

  status(): DeviceStatus {
    return {
      device: this.#o.device.name,
      connected: this.#o.transport.isOpen,
      ...this.counters,
      ...this.#o.transport.counters(),
      ...(this.#lastError ? { lastError: this.#lastError } : {}),
      ...(this.#lastRttMs !== undefined ? { lastRttMs: this.#lastRttMs } : {}),
    };
  }

  async #run(): Promise<void> {
    const { clock, device } = this.#o;
    let next = clock.monotonicMs();
    while (this.#running) {
      await this.#cycle();
      this.#reviewCycle();
      next += device.intervalMs;
      const now = clock.monotonicMs();
      if (now > next) {
        // Missed slots are skipped, not caught up: a burst of back-to-back polls helps nobody.
        const missed = Math.ceil((now - next) / device.intervalMs);
        this.counters.overruns += missed;
        next += missed * device.intervalMs;
      }
      await this.#sleep(next - now);
    }
  }

  /** Waits on the monotonic clock, however long: an `interval` of weeks is a chain of timers. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#timer = monotonicTimeout(this.#o.clock, ms, resolve);
    });
  }

  /** After each cycle: episodes are told once (device-episodes.ts); a flooding device is reconnected with back-off. */
  #reviewCycle(): void {
    if (this.#episodes.review(this.counters, this.#o.transport.counters())) {
      this.#reconnectAt = Math.max(this.#reconnectAt, this.#o.clock.monotonicMs() + this.#backoffMs);
    }
  }

  async #cycle(): Promise<void> {
    this.counters.polls++;
    if (!(await this.#o.protocol.whenAvailable(this.#o.device.timeoutMs))) {
      this.counters.cyclesSkipped++;
      return;
    }
    if (!this.#o.transport.isOpen && !(await this.#connect())) return;
    for (let i = 0; i < this.#o.requests.length && this.#running; i++) {
      const linkUp = await this.#exchange(this.#o.requests[i]!);
      if (!linkUp) {
        // Requests never sent because the link went down are lost readings; requests never sent because
        // we are stopping are not readings at all, and must not show as no-comm.
        if (this.#running) await this.#recordAll(this.#o.requests.slice(i + 1), FrameStatus.linkLost);
        return;
      }
    }
  }

  /** Opens the transport unless we are backing off; on failure records the whole cycle as link-lost. */
  async #connect(): Promise<boolean> {
    // stop() may have closed the link while this cycle waited for the protocol: never reopen after it.
    if (!this.#running) return false;
    const now = this.#o.clock.monotonicMs();
    if (now < this.#reconnectAt) return false;
    try {
      await this.#o.transport.open();
      this.#backoffMs = this.#o.device.backoff.minMs;
      return true;
    } catch (err) {
      if (!isWgError(err) || err.code === 'WG_ERR_HAL_CLOSED') return false;
      this.counters.linkErrors++;
      this.#noteError(err);
      this.#reconnectAt = now + this.#backoffMs;
      this.#backoffMs = Math.min(this.#backoffMs * 2, this.#o.device.backoff.maxMs);
      await this.#recordAll(this.#o.requests, FrameStatus.linkLost);
      return false;
    }
  }

  /** One request with its retries. Returns false when the link is down. */
  async #exchange(request: number): Promise<boolean> {
    const { device, transport, protocol, ingress, clock } = this.#o;
    for (let attempt = 0; ; attempt++) {
      const seq = this.#nextSeq();
      let frame: Uint8Array;
      try {
        frame = await protocol.request(request, seq);
      } catch (err) {
        if (!isPluginFailure(err)) throw err;
        // Nothing was sent: the link is fine, this one reading is lost to the plugin.
        this.#notePluginError(err as WgError);
        await ingress.write({ device: device.index, request, status: FrameStatus.linkLost, seq, ts: clock.wallMs() }, this.#frameOf(request));
        return true;
      }
      this.#frames.set(request, frame);
      this.counters.requests++;
      const sentAt = clock.monotonicMs();
      try {
        await transport.write(frame);
        const response = await this.#readFrame(device.timeoutMs);
        this.counters.responses++;
        this.#lastRttMs = clock.monotonicMs() - sentAt;
        await ingress.write({ device: device.index, request, status: FrameStatus.ok, seq, ts: clock.wallMs() }, frame, response);
        return true;
      } catch (err) {
        if (!isWgError(err)) throw err;
        if (err.code === 'WG_ERR_HAL_CLOSED') return false;
        if (isPluginFailure(err)) {
          this.#notePluginError(err);
          await transport.close();
          await ingress.write({ device: device.index, request, status: FrameStatus.linkLost, seq, ts: clock.wallMs() }, frame);
          return false;
        }
        this.#noteError(err);
        if (err.code === 'WG_ERR_HAL_TIMEOUT') {
          this.counters.timeouts++;
          // A late answer would be read as the next request's: start the next attempt on a fresh link.
          await transport.close();
          const reopened = await this.#reopen();
          if (attempt < device.retries && reopened) {
            this.counters.retries++;
            continue;
          }
          await ingress.write({ device: device.index, request, status: FrameStatus.timeout, seq, ts: clock.wallMs() }, frame);
          return reopened;
        }
        if (err.code === 'WG_ERR_DEVICE_FRAMING') this.counters.framingErrors++;
        else this.counters.linkErrors++;
        await transport.close();
        this.#reconnectAt = clock.monotonicMs() + this.#backoffMs;
        await ingress.write({ device: device.index, request, status: FrameStatus.linkLost, seq, ts: clock.wallMs() }, frame);
        return false;
      }
    }
  }

  async #reopen(): Promise<boolean> {
    if (!this.#running) return false;
    try {
      await this.#o.transport.open();
      this.counters.reconnects++;
      return true;
    } catch (err) {
      if (!isWgError(err)) throw err;
      this.counters.linkErrors++;
      this.#noteError(err);
      this.#reconnectAt = this.#o.clock.monotonicMs() + this.#backoffMs;
      return false;
    }
  }

  /** Reads until the protocol plugin says a whole frame is there. */
  async #readFrame(timeoutMs: number): Promise<Uint8Array> {
    const { transport, protocol, clock, device } = this.#o;
    const deadline = clock.monotonicMs() + timeoutMs;
    let received: Uint8Array = new Uint8Array(0);
    while (true) {
      const remaining = deadline - clock.monotonicMs();
      if (remaining <= 0) throw new WgError('WG_ERR_HAL_TIMEOUT', { device: device.name, detail: `${timeoutMs} ms` });
      const chunk = await transport.read(remaining);
      received = received.byteLength === 0 ? chunk : concat(received, chunk);
      const most = this.#o.maxFrameBytes ?? MAX_FRAME_BYTES;
      if (received.byteLength > most) {
        throw new WgError('WG_ERR_DEVICE_FRAMING', { device: device.name, detail: `${received.byteLength} bytes and still no whole frame; a frame has at most ${most}` });
      }
      const length = await protocol.frameLength(received);
      if (length < 0) {
        throw new WgError('WG_ERR_DEVICE_FRAMING', { device: device.name, detail: `${received.byteLength} bytes starting ${Buffer.from(received.subarray(0, 8)).toString('hex')}` });
      }
      if (length > 0 && received.byteLength >= length) {
        if (received.byteLength > length) {
          throw new WgError('WG_ERR_DEVICE_FRAMING', { device: device.name, detail: `${received.byteLength - length} unexpected bytes after a ${length}-byte frame` });
        }
        return received;
      }
    }
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
    this.#seq = (this.#seq + 1) & 0xffff;
    return this.#seq;
  }

  #noteError(err: WgError): void {
    const changed = this.#lastError !== err.message;
    this.#lastError = err.message;
    // A device that does not answer is reported once per episode, with its address, by DeviceEpisodes.
    if (err.code === 'WG_ERR_HAL_TIMEOUT') return;
    // Log transitions, not every repetition of the same failure at the poll rate.
    if (changed) this.#o.log(40, err.message, { code: err.code, device: this.#o.device.name, ...this.#episodes.location() });
  }
}

function isPluginFailure(err: unknown): boolean {
  return isWgError(err) && (err.code === 'WG_ERR_PLUGIN_TRAP' || err.code === 'WG_ERR_PLUGIN_STATUS' || err.code === 'WG_ERR_WORKER_UNAVAILABLE');
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a, 0);
  out.set(b, a.byteLength);
  return out;
}
