/**
 * The receive side every transport shares: received bytes wait here until a `read()` takes them, and
 * `read()` calls wait here, in call order, until bytes, a timeout, the end of the link or our close.
 * Keeping this in one place makes "queued in order, up to the link's limit" and the error codes of the
 * transport contract (see transport.ts) hold the same way for TCP, serial and UDP.
 */
import { HalError } from './errors.js';
import { formatDuration } from './duration.js';
import { MAX_TIMER_MS } from './timer.js';

/** `rxLimitBytes` when the transport's options do not say (see transport.ts): the largest IP datagram. */
export const DEFAULT_RX_LIMIT_BYTES = 65_536;

/** How received bytes are cut into reads: a byte stream (TCP, serial) or one datagram per read (UDP). */
export type RxFraming = 'stream' | 'datagram';

interface PendingRead {
  resolve(bytes: Uint8Array): void;
  reject(error: HalError): void;
  timer: NodeJS.Timeout | undefined;
}

export class RxQueue {
  readonly #device: string;
  readonly #framing: RxFraming;
  readonly #limitBytes: number;
  #chunks: Uint8Array[] = [];
  #queuedBytes = 0;
  #readers: PendingRead[] = [];
  /** Why reads fail once the queue is empty: a lost link, or our close. Undefined while open. */
  #terminal: HalError | undefined;

  /**
   * Starts closed: reads fail with `WG_ERR_HAL_CLOSED` until `reset()` marks the link open.
   * `limitBytes` is the most the queue holds while no read takes it (see `push`).
   */
  constructor(device: string, framing: RxFraming, limitBytes: number) {
    this.#device = device;
    this.#framing = framing;
    this.#limitBytes = limitBytes;
    this.#terminal = this.#closedError();
  }

  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** The link is (re)established: empty queue, reads wait for bytes. */
  reset(): void {
    this.#chunks = [];
    this.#queuedBytes = 0;
    this.#terminal = undefined;
  }

  /**
   * Bytes arrived from the device. Ignored once the link is over (they can belong to no read).
   * Returns false, and queues nothing, when no read is waiting and the chunk would take the queue past
   * its limit: the device sends more than any answer can be, and the caller ends the link (`overflow`).
   */
  push(chunk: Uint8Array): boolean {
    if (this.#terminal !== undefined || chunk.byteLength === 0) return true;
    const reader = this.#readers.shift();
    if (reader) {
      clearTimeout(reader.timer);
      reader.resolve(chunk);
      return true;
    }
    if (this.#queuedBytes + chunk.byteLength > this.#limitBytes) return false;
    this.#chunks.push(chunk);
    this.#queuedBytes += chunk.byteLength;
    return true;
  }

  read(timeoutMs: number): Promise<Uint8Array> {
    if (this.#chunks.length > 0) return Promise.resolve(this.#take());
    if (this.#terminal !== undefined) return Promise.reject(this.#terminal);
    return new Promise<Uint8Array>((resolve, reject) => {
      const reader: PendingRead = { resolve, reject, timer: undefined };
      if (Number.isFinite(timeoutMs)) {
        reader.timer = setTimeout(() => {
          this.#readers = this.#readers.filter((r) => r !== reader);
          reject(new HalError('WG_ERR_HAL_TIMEOUT', { device: this.#device, detail: formatDuration(timeoutMs) }));
        }, Math.min(Math.max(0, timeoutMs), MAX_TIMER_MS));
      }
      this.#readers.push(reader);
    });
  }

  /**
   * The link was lost: pending reads fail with `error` now; queued bytes stay readable, and reads
   * fail with `error` once they are gone.
   */
  lose(error: HalError): void {
    if (this.#terminal !== undefined) return;
    this.#terminal = error;
    this.#failReaders(error);
  }

  /**
   * The device sent past the limit: queued bytes are discarded (they are not an answer anyone asked
   * for), pending and later reads fail with `error`. Returns how many bytes were discarded.
   */
  overflow(error: HalError): number {
    const discarded = this.#queuedBytes;
    this.#chunks = [];
    this.#queuedBytes = 0;
    if (this.#terminal === undefined) {
      this.#terminal = error;
      this.#failReaders(error);
    }
    return discarded;
  }

  /** We closed: queued bytes are discarded, pending and later reads fail with `WG_ERR_HAL_CLOSED`. */
  cancel(): void {
    this.#chunks = [];
    this.#queuedBytes = 0;
    this.#terminal = this.#closedError();
    this.#failReaders(this.#terminal);
  }

  #take(): Uint8Array {
    if (this.#framing === 'datagram' || this.#chunks.length === 1) {
      const chunk = this.#chunks.shift() as Uint8Array;
      this.#queuedBytes -= chunk.byteLength;
      return chunk;
    }
    const all = Buffer.concat(this.#chunks, this.#queuedBytes);
    this.#chunks = [];
    this.#queuedBytes = 0;
    return all;
  }

  #failReaders(error: HalError): void {
    const readers = this.#readers;
    this.#readers = [];
    for (const reader of readers) {
      clearTimeout(reader.timer);
      reader.reject(error);
    }
  }

  #closedError(): HalError {
    return new HalError('WG_ERR_HAL_CLOSED', { device: this.#device });
  }
}
