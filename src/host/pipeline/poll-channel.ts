/**
 * The main thread's side of the poll channel: what a DevicePoller calls to build a request frame and
 * to find where a response ends. The calls run in the pipeline worker (poll-service.ts), under its
 * watchdog; here they are promises. While no worker is up (being restarted after a kill) calls fail at
 * once, and `whenAvailable` lets a poller wait for the next worker up to a deadline of its own.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { WgError, type ErrorCode } from '../errors.js';
import type { PollCall, PollReply } from './poll-protocol.js';

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
}

interface Pending {
  resolve(value: number | Uint8Array): void;
  reject(error: WgError): void;
}

type CallBody = { op: 'request'; index: number; seq: number } | { op: 'frame'; bytes: Uint8Array };

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

  #call(body: CallBody): Promise<number | Uint8Array> {
    const port = this.#port;
    if (!port || !this.#ready) {
      return Promise.reject(new WgError('WG_ERR_WORKER_UNAVAILABLE', { pipeline: this.#pipeline, detail: 'it is being restarted' }));
    }
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      port.postMessage({ ...body, id } satisfies PollCall);
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
