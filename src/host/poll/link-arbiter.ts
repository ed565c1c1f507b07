/**
 * Serves the devices of one link (a serial bus, a TCP connection to a serial device server, a Modbus
 * TCP connection): it owns the transport, opens it once for all of them with one back-off, and grants
 * the link to one transaction at a time, in the order devices asked (so a device with many requests
 * takes turns with the others instead of holding the bus). Between transactions it keeps the link's
 * silence (RTU: 3.5 characters) and the turnaround the last device asked for. It measures how busy the
 * link is: time granted over wall time.
 *
 * A link that more than one device shares is never closed because one device misbehaved: after a
 * timeout or a bad frame the arbiter drains the line until it is quiet, so a dead or babbling slave
 * costs the others only its own timeouts. Closing is for a lost link or for an unshared TCP connection
 * (there a late answer would otherwise be taken for the next request's).
 */
import type { Clock } from '../../hal/clock.js';
import { monotonicTimeout } from '../../hal/timer.js';
import type { Transport, TransportCounters } from '../../hal/transport.js';
import { isWgError, type WgError } from '../errors.js';
import type { Framing } from '../config/resolved.js';
import type { TransactionDemux } from './transaction-demux.js';

export interface ArbitratedLink {
  name: string;
  kind: string;
  framing: Framing;
  silenceMs: number;
  /** Transactions granted at once: 1 on a bus; Modbus TCP `in_flight`. */
  inFlight: number;
  backoff: { minMs: number; maxMs: number };
  /** Devices served; with one, the link is that device's own. */
  devices: readonly number[];
}

export interface LinkStatus extends TransportCounters {
  link: string;
  kind: string;
  connected: boolean;
  devices: number;
  transactions: number;
  /** Most transactions that held the link at once (1 on a bus). */
  peakInFlight: number;
  /** Time the link was granted to at least one transaction, ms (silences kept between them excluded). */
  busyMs: number;
  /** busyMs over the wall time since the arbiter started, 0 to 1. */
  utilisation: number;
  /** Bytes found waiting on the line before a request or after a failure, and thrown away. */
  staleBytes: number;
  /** With several transactions in flight: answers whose transaction id no request waited for (late). */
  unmatchedAnswers: number;
  /** A datagram link's datagrams that were not one whole frame, dropped (the link stays up). */
  malformedDatagrams: number;
  /** Drains after a timeout or a bad frame (shared links), and reopenings. */
  drains: number;
  opens: number;
  lastError?: string;
}

/** The link is the holder's until `release`; `release(turnaroundMs)` asks for quiet after it. */
export interface LinkGrant {
  release(turnaroundMs?: number): void;
}

/** Longest the arbiter waits for a line to fall quiet after a failure before it gives up draining. */
const MAX_DRAIN_MS = 500;
/** Quiet time that ends a drain when the link's silence is shorter (TCP links have none). */
const MIN_DRAIN_QUIET_MS = 20;

export class LinkArbiter {
  readonly link: ArbitratedLink;
  readonly transport: Transport;
  readonly #clock: Clock;
  /** Each wakes its transaction: with the link, or with `false`, without it (dismissGuests). */
  readonly #waiters: ((granted?: boolean) => void)[] = [];
  /** Waiting transactions of a visitor (a probe or scan through the daemon): they alternate with the rest. */
  readonly #guests: ((granted?: boolean) => void)[] = [];
  #guestTurn = false;
  /** Devices served, over every pipeline that joined the link (shared-links.ts). */
  #devices: number;
  #holders = 0;
  #quietUntil = 0;
  #grantedAt = 0;
  /** Transactions holding the link right now (past their silence). */
  #active = 0;
  #peakActive = 0;
  /** Set when several transactions may be in flight: it matches answers to requests. */
  demux?: TransactionDemux;
  readonly #startedAt: number;
  #busyMs = 0;
  #transactions = 0;
  #staleBytes = 0;
  #drains = 0;
  #opens = 0;
  #opening?: Promise<WgError | undefined>;
  #reopenAt = 0;
  #backoffMs: number;
  #lastError?: string;
  #closed = false;
  #seq = 0;
  /** Wakes the quiet waits in progress: shutdown must not wait out a long turnaround. */
  readonly #sleepers = new Set<() => void>();

  /** How long one byte takes on the wire of a serial link, ms; 0 for TCP (frame-reader.ts says why). */
  readonly byteTimeMs: number;

  constructor(link: ArbitratedLink, transport: Transport, clock: Clock, byteTimeMs = 0) {
    this.link = link;
    this.byteTimeMs = byteTimeMs;
    this.transport = transport;
    this.#clock = clock;
    this.#startedAt = clock.monotonicMs();
    this.#backoffMs = link.backoff.minMs;
    this.#devices = link.devices.length;
  }

  /** With more than one device on it, the link is never closed because one device misbehaved. */
  get shared(): boolean {
    return this.#devices > 1;
  }

  /** Another pipeline's devices join the link (or, with a negative count, leave it). */
  serve(devices: number): void {
    this.#devices += devices;
  }

  /**
   * Waits for the link (one of its `inFlight` places), then for its silence; resolves with the grant.
   * A place is handed straight to the longest waiter, so nobody overtakes it. A `guest` (a probe or a
   * scan through the running daemon) queues apart and takes every other turn while the link is busy:
   * a scan that asks 247 unit ids cannot hold the daemon's own devices back by more than one
   * transaction each.
   */
  async acquire(guest = false): Promise<LinkGrant> {
    if (this.#holders >= this.#places()) {
      const granted = await new Promise<boolean | undefined>((resolve) => (guest ? this.#guests : this.#waiters).push(resolve));
      // Dismissed: the link was never handed over, so there is nothing to release.
      if (granted === false) return { release: () => undefined };
    } else this.#holders++;
    const wait = this.#quietUntil - this.#clock.monotonicMs();
    if (wait > 0) await this.#sleep(wait);
    // Busy time counts while at least one transaction holds the link.
    if (this.#active++ === 0) this.#grantedAt = this.#clock.monotonicMs();
    this.#peakActive = Math.max(this.#peakActive, this.#active);
    this.#transactions++;
    let released = false;
    return {
      release: (turnaroundMs = 0) => {
        if (released) return;
        released = true;
        const now = this.#clock.monotonicMs();
        if (--this.#active === 0) this.#busyMs += now - this.#grantedAt;
        this.#quietUntil = Math.max(this.#quietUntil, now + Math.max(this.link.silenceMs, turnaroundMs));
        this.#handOver();
      },
    };
  }

  /** Without a demux, answers cannot be told apart: one transaction at a time, whatever in_flight says. */
  #places(): number {
    return this.demux ? this.link.inFlight : 1;
  }

  #handOver(): void {
    const guest = this.#guests.length > 0 && (this.#waiters.length === 0 || this.#guestTurn);
    const next = guest ? this.#guests.shift() : this.#waiters.shift();
    if (!next) {
      this.#holders--;
      return;
    }
    this.#guestTurn = !guest;
    next();
  }

  /**
   * Wakes the guest transactions still waiting, without the link: their visitor stopped (its pollers
   * are halted and only need to end). Otherwise each would wait for its turn, every other one behind
   * the daemon's devices, only to give it back: 200 halted pollers of an abandoned scan held its
   * stop for seconds. There is one visitor at a time (daemon-read.ts), so these are all its own.
   */
  dismissGuests(): void {
    for (const wake of this.#guests.splice(0)) wake(false);
  }

  /**
   * Opens the transport unless it is open or backing off. Devices asking at once share one attempt.
   * Resolves with the error that kept it closed, or undefined when it is open.
   */
  async open(): Promise<WgError | undefined | 'backing-off'> {
    if (this.transport.isOpen) return undefined;
    if (this.#closed) return 'backing-off';
    if (this.#opening) return this.#opening;
    if (this.#clock.monotonicMs() < this.#reopenAt) return 'backing-off';
    this.#opening = this.#tryOpen();
    try {
      return await this.#opening;
    } finally {
      this.#opening = undefined;
    }
  }

  async #tryOpen(): Promise<WgError | undefined> {
    try {
      await this.transport.open();
      this.#opens++;
      this.#backoffMs = this.link.backoff.minMs;
      return undefined;
    } catch (err) {
      if (!isWgError(err)) throw err;
      this.#lastError = err.message;
      this.backOff();
      return err;
    }
  }

  /** No reopening before the current back-off has passed; the next one is twice as long. */
  backOff(): void {
    this.#reopenAt = this.#clock.monotonicMs() + this.#backoffMs;
    this.#backoffMs = Math.min(this.#backoffMs * 2, this.link.backoff.maxMs);
  }

  /** Bytes waiting from before this request (a late answer, noise) are not its answer: drop them. */
  async discardStale(): Promise<void> {
    while (this.transport.isOpen && this.transport.queuedBytes > 0) {
      const bytes = await this.transport.read(0).catch(() => new Uint8Array(0));
      this.#staleBytes += bytes.byteLength;
      if (bytes.byteLength === 0) return;
    }
  }

  /**
   * After a timeout or a bad frame on a shared link: waits until the line has been quiet for its
   * silence (or MIN_DRAIN_QUIET_MS), dropping what arrives, so the next device's answer starts clean.
   */
  async drain(): Promise<void> {
    this.#drains++;
    const quiet = Math.max(this.link.silenceMs, MIN_DRAIN_QUIET_MS);
    const giveUpAt = this.#clock.monotonicMs() + MAX_DRAIN_MS;
    while (this.transport.isOpen && this.#clock.monotonicMs() < giveUpAt) {
      try {
        const bytes = await this.transport.read(quiet);
        this.#staleBytes += bytes.byteLength;
      } catch (err) {
        if (isWgError(err) && err.code === 'WG_ERR_HAL_TIMEOUT') return;
        return;
      }
    }
  }

  /**
   * The next sequence number (the Modbus TCP transaction id) on this link: numbered per link, not per
   * device, so that devices sharing a connection never have two transactions with one id in flight.
   */
  nextSeq(): number {
    this.#seq = (this.#seq + 1) & 0xffff;
    return this.#seq;
  }

  noteError(err: WgError): void {
    this.#lastError = err.message;
  }

  async close(): Promise<void> {
    await this.transport.close();
  }

  /** Ends the link for good (the pipeline stops): no more opening. */
  async shutdown(): Promise<void> {
    this.#closed = true;
    for (const wake of [...this.#waiters.splice(0), ...this.#guests.splice(0)]) wake();
    for (const wake of [...this.#sleepers]) wake();
    await this.transport.close();
  }

  status(): LinkStatus {
    const now = this.#clock.monotonicMs();
    const inGrant = this.#active > 0 ? now - this.#grantedAt : 0;
    const wall = Math.max(now - this.#startedAt, 1);
    return {
      link: this.link.name,
      kind: this.link.kind,
      connected: this.transport.isOpen,
      devices: this.#devices,
      transactions: this.#transactions,
      peakInFlight: this.#peakActive,
      busyMs: Math.round(this.#busyMs + inGrant),
      utilisation: Math.min(1, (this.#busyMs + inGrant) / wall),
      staleBytes: this.#staleBytes,
      unmatchedAnswers: this.demux?.unmatched ?? 0,
      malformedDatagrams: this.demux?.malformed ?? 0,
      drains: this.#drains,
      opens: this.#opens,
      ...this.transport.counters(),
      ...(this.#lastError ? { lastError: this.#lastError } : {}),
    };
  }

  /** Ends at `ms` or at shutdown, whichever is first (a holder checks the link is still open after it). */
  #sleep(ms: number): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        this.#sleepers.delete(wake);
        timer.cancel();
        resolve();
      };
      const timer = monotonicTimeout(this.#clock, ms, wake);
      this.#sleepers.add(wake);
    });
  }
}
