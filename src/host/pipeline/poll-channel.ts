/**
 * The main thread's side of the poll channel: what a DevicePoller calls to build a request frame and
 * to find where a response ends, and what a write (ABI 1.2) calls to encode its frame and to check
 * the device's answer. The calls run in the pipeline worker (poll-service.ts), under its
 * watchdog; here they are promises. While no worker is up (being restarted after a kill) calls fail at
 * once, and `whenAvailable` lets a poller wait for the next worker up to a deadline of its own.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { WgError, type ErrorCode } from '../errors.js';
import type { PollCall, PollReply, PollValue, SubscribeVerdict, WriteVerdict } from './poll-protocol.js';

/** What a poller needs of its protocol: request frames and frame boundaries. */
export interface DeviceProtocol {
  /** The frame for request `index` built with sequence number `seq`. */
  request(index: number, seq: number): Promise<Uint8Array>;
  /** 0: need more bytes; n > 0: the first n bytes are a frame; negative: not a valid frame start. */
  frameLength(received: Uint8Array): Promise<number>;
  /** Resolves true once the protocol can answer, false if it cannot within `timeoutMs`. */
  whenAvailable(timeoutMs: number): Promise<boolean>;
  /**
   * The sequence number a response carries, for matching answers when several requests are in flight;
   * absent when responses cannot be told apart without a call into the plugin.
   */
  seqOf?(frame: Uint8Array): number | undefined;
  /** Whether an unsolicited frame may want a reply (wg_reply, ABI 1.6); absent: any may. */
  wantsReply?(frame: Uint8Array): boolean;
  /** The part of a sequence number frames carry (0xff for a one-byte field); absent: all of it. */
  readonly seqMask?: number | undefined;
}

type Answer = PollValue;

interface Pending {
  resolve(value: Answer): void;
  reject(error: WgError): void;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type CallBody = DistributiveOmit<PollCall, 'id'>;

export class PollChannel implements DeviceProtocol {
  readonly #pipeline: string;
  #port: MessagePort | undefined;
  #pending = new Map<number, Pending>();
  #nextId = 1;
  #ready = false;
  /** Callers of whenAvailable() waiting for a worker. */
  #waiting: Array<() => void> = [];

  constructor(pipeline: string) {
    this.#pipeline = pipeline;
  }

  /** A new channel for a worker about to start: returns the end to transfer to it. */
  open(): MessagePort {
    this.close(new WgError('WG_ERR_WORKER_UNAVAILABLE', { pipeline: this.#pipeline, detail: 'replaced by a new worker' }));
    const { port1, port2 } = new MessageChannel();
    port1.on('message', (reply: PollReply) => this.#settle(reply));
    // An idle channel must not keep a stopping process alive on its own.
    port1.unref();
    this.#port = port1;
    return port2;
  }

  /** The worker is configured and serving: pollers that waited for it go on now. */
  markReady(): void {
    this.#ready = true;
    for (const wake of this.#waiting.splice(0)) wake();
  }

  /** The worker is gone: every call in flight fails with `error`. */
  close(error: WgError): void {
    this.#port?.close();
    this.#port = undefined;
    this.#ready = false;
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }

  whenAvailable(timeoutMs: number): Promise<boolean> {
    if (this.#port && this.#ready) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.#waiting = this.#waiting.filter((w) => w !== wake);
        resolve(false);
      }, timeoutMs);
      this.#waiting.push(wake);
    });
  }

  async request(index: number, seq: number): Promise<Uint8Array> {
    return (await this.#call({ op: 'request', index, seq })) as Uint8Array;
  }

  async frameLength(received: Uint8Array): Promise<number> {
    return (await this.#call({ op: 'frame', bytes: received })) as number;
  }

  /**
   * The frame writing `value` to point `point` of device `device`, built with sequence number `seq`
   * (ABI 1.2 wg_write). Rejects with WG_ERR_WRITE_REFUSED (and the plugin's reason) for a write the
   * point cannot take exactly: a read-only point, a value out of the type's range, not finite.
   */
  async writeFrame(device: number, point: number, value: number, seq: number): Promise<Uint8Array> {
    return (await this.#call({ op: 'writeFrame', device, point, value, seq })) as Uint8Array;
  }

  /**
   * Whether `response` confirms the write `request` of point `point` (ABI 1.2 wg_write_check):
   * `{ ok: true }`, or `{ ok: false, code, detail }` with WG_ERR_DEVICE_EXCEPTION (the device's
   * exception code in `exception`, its meaning in `detail`) or WG_ERR_WRITE_UNCONFIRMED (what did not
   * match). Rejects only when the call itself failed (worker gone, plugin trap).
   */
  async checkWrite(point: number, request: Uint8Array, response: Uint8Array): Promise<WriteVerdict> {
    return (await this.#call({ op: 'checkWrite', point, request, response })) as WriteVerdict;
  }

  /** The decoder's subscription plan (ABI 1.6 wg_subscriptions): one device index per subscription; empty without the group. */
  async subscriptions(): Promise<Uint32Array> {
    return (await this.#call({ op: 'subscriptions' })) as Uint32Array;
  }

  /** The frame of subscription `index`, or of its cancellation, built with sequence number `seq` (ABI 1.6 wg_subscribe). */
  async subscribeFrame(index: number, seq: number, cancel: boolean): Promise<Uint8Array> {
    return (await this.#call({ op: 'subscribeFrame', index, seq, cancel })) as Uint8Array;
  }

  /**
   * Whether `response` accepts the subscription request `request` (ABI 1.6 wg_subscribe_check):
   * `{ ok: true }`, `{ ok: false, reason }` when the device refused it, or 'not-an-answer'.
   */
  async checkSubscribe(index: number, request: Uint8Array, response: Uint8Array): Promise<SubscribeVerdict | 'not-an-answer'> {
    return (await this.#call({ op: 'checkSubscribe', index, request, response })) as SubscribeVerdict | 'not-an-answer';
  }

  /** The frame to send back for an unsolicited frame (ABI 1.6 wg_reply), or null for none. */
  async reply(frame: Uint8Array): Promise<Uint8Array | null> {
    return (await this.#call({ op: 'reply', frame })) as Uint8Array | null;
  }

  #call(body: CallBody): Promise<Answer> {
    const port = this.#port;
    if (!port || !this.#ready) {
      return Promise.reject(new WgError('WG_ERR_WORKER_UNAVAILABLE', { pipeline: this.#pipeline, detail: 'it is being restarted' }));
    }
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      port.postMessage({ ...body, id } as PollCall);
    });
  }

  #settle(reply: PollReply): void {
    const pending = this.#pending.get(reply.id);
    if (!pending) return;
    this.#pending.delete(reply.id);
    if (reply.ok) pending.resolve(reply.value);
    else pending.reject(new WgError(reply.code as ErrorCode, { ...reply.context, pipeline: this.#pipeline }));
  }
}
