/**
 * Several transactions in flight on one connection (Modbus TCP `in_flight` > 1): requests go out as
 * they come, and one reader cuts the byte stream into frames and hands each to the request whose
 * sequence number (the Modbus transaction id) it carries. An answer nobody waits for any more (its
 * request timed out) is dropped and counted, so a late answer never needs a reconnect.
 *
 * Only for protocols whose frames carry the sequence number where the framing rule says (rule-protocol.ts);
 * others keep one transaction at a time.
 */
import type { Clock } from '../../hal/clock.js';
import { monotonicTimeout, type MonotonicTimeout } from '../../hal/timer.js';
import type { Transport } from '../../hal/transport.js';
import { isWgError, WgError } from '../errors.js';

export interface DemuxFraming {
  frameLength(received: Uint8Array): Promise<number>;
  /** The sequence number a response carries. */
  seqOf(frame: Uint8Array): number;
  /** The part of a request's sequence number its answer carries (a one-byte invoke id: 0xff); default all. */
  seqMask?: number;
  maxFrameBytes: number;
  /**
   * A datagram link (UDP): every read is one whole frame. One that is not a frame (its length says
   * otherwise) is dropped and counted in `malformed`, never joined to the next, and the link stays.
   */
  datagrams?: boolean;
  /**
   * A frame no waiting request matches: on a datagram link, what a device sends unasked (an I-Am, a
   * COV notification) as well as a late answer. Without it, such frames are only counted.
   */
  onUnmatched?: (frame: Uint8Array) => void;
}

interface Waiting {
  resolve(frame: Uint8Array): void;
  reject(err: WgError): void;
  timer: MonotonicTimeout;
}

export class TransactionDemux {
  readonly #transport: Transport;
  readonly #framing: DemuxFraming;
  readonly #clock: Clock;
  readonly #link: string;
  readonly #waiting = new Map<number, Waiting>();
  #reader?: Promise<void>;
  /** Answers that arrived for no waiting request (late, or never asked). */
  unmatched = 0;
  /** Datagrams that were not one whole frame (datagram links only). */
  malformed = 0;

  constructor(transport: Transport, framing: DemuxFraming, clock: Clock, link: string) {
    this.#transport = transport;
    this.#framing = framing;
    this.#clock = clock;
    this.#link = link;
  }

  /** Sends `frame` and resolves with the response carrying `seq`; WG_ERR_HAL_TIMEOUT after `timeoutMs`. */
  exchange(frame: Uint8Array, fullSeq: number, timeoutMs: number, device: string): Promise<Uint8Array> {
    const seq = fullSeq & (this.#framing.seqMask ?? 0xffffffff);
    const answer = new Promise<Uint8Array>((resolve, reject) => {
      const timer = monotonicTimeout(this.#clock, timeoutMs, () => {
        this.#waiting.delete(seq);
        reject(new WgError('WG_ERR_HAL_TIMEOUT', { device, detail: `${timeoutMs} ms` }));
      });
      this.#waiting.get(seq)?.timer.cancel();
      this.#waiting.set(seq, { resolve, reject, timer });
    });
    this.#reader ??= this.#read().finally(() => (this.#reader = undefined));
    this.#transport.write(frame).catch((err: unknown) => this.#fail(seq, err));
    return answer;
  }

  async #read(): Promise<void> {
    let received: Uint8Array = new Uint8Array(0);
    try {
      while (this.#transport.isOpen) {
        const chunk = await this.#transport.read(Infinity);
        if (this.#framing.datagrams) {
          await this.#datagram(chunk);
          continue;
        }
        received = received.byteLength === 0 ? chunk : concat(received, chunk);
        for (;;) {
          if (received.byteLength === 0) break;
          const length = await this.#framing.frameLength(received);
          if (length < 0 || received.byteLength > this.#framing.maxFrameBytes * 2) {
            throw new WgError('WG_ERR_DEVICE_FRAMING', { device: this.#link, detail: `${received.byteLength} bytes starting ${Buffer.from(received.subarray(0, 8)).toString('hex')}` });
          }
          if (length === 0 || received.byteLength < length) break;
          this.#deliver(received.slice(0, length));
          received = received.slice(length);
        }
      }
    } catch (err) {
      // The stream cannot be cut into frames any more, or the link ended: every waiting request fails.
      const failure = isWgError(err) ? err : new WgError('WG_ERR_HAL_LINK_LOST', { device: this.#link, detail: String(err) });
      if (failure.code === 'WG_ERR_DEVICE_FRAMING') await this.#transport.close();
      for (const seq of [...this.#waiting.keys()]) this.#fail(seq, failure);
    }
  }

  /** One datagram: a frame when its length says it is one, else dropped (a datagram cannot continue in the next). */
  async #datagram(datagram: Uint8Array): Promise<void> {
    const length = await this.#framing.frameLength(datagram);
    if (length !== datagram.byteLength) {
      this.malformed++;
      return;
    }
    this.#deliver(datagram);
  }

  #deliver(frame: Uint8Array): void {
    const seq = this.#framing.seqOf(frame);
    const waiting = this.#waiting.get(seq);
    if (!waiting) {
      this.unmatched++;
      this.#framing.onUnmatched?.(frame);
      return;
    }
    this.#waiting.delete(seq);
    waiting.timer.cancel();
    waiting.resolve(frame);
  }

  #fail(seq: number, err: unknown): void {
    const waiting = this.#waiting.get(seq);
    if (!waiting) return;
    this.#waiting.delete(seq);
    waiting.timer.cancel();
    waiting.reject(isWgError(err) ? err : new WgError('WG_ERR_HAL_LINK_LOST', { device: this.#link, detail: String(err) }));
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a, 0);
  out.set(b, a.byteLength);
  return out;
}
